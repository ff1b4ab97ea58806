/*
 * runs.c - the slow paths of runs (runs.h): making a run, moving one
 * between lists as its slots fill and empty, dissolving it into the back
 * end, and checking runs for HeapValidate.
 */
#include "runs.h"

/* The bits of a run's n slots in its bitmap (n at most PH__RUN_SLOTS;
 * a larger n, only in an overwritten descriptor, gives all bits). */
static uintptr_t slots_mask(unsigned n) {
  return n >= PH__RUN_SLOTS ? ~(uintptr_t)0 : ((uintptr_t)1 << n) - 1;
}

/* Busy slots of r. */
static unsigned run_busy(const struct ph__run* r) {
  return r->n - ph__popcount(ph__run_free_bits(r));
}

/* Whether every slot of r is free. */
static bool run_empty(const struct ph__run* r) {
  return ph__run_free_bits(r) == slots_mask(r->n);
}

/* Whether r, reached through h's lists (a link in a descriptor whose
 * canary checked), is a run of class c of h: its own canary. */
static bool run_ok(const struct ph__heap* h, const struct ph__run* r,
                   uint32_t c) {
  return ph__run_intact(h, r) && r->c == c;
}

/* Slots of a new run of class c made when the class's active run has
 * `after` slots (0: there is none, this is the size's first run): the
 * first spans about PH__RUN_FIRST_BYTES, each next one twice the active
 * run's slots, up to a word's (runs.h). */
static unsigned run_slots(uint32_t c, unsigned after) {
  unsigned n = PH__RUN_FIRST_BYTES / (c << PH__GRANULE_SHIFT);
  if (n < PH__RUN_FIRST_MIN)
    n = PH__RUN_FIRST_MIN;
  if (after != 0 && n < 2u * after)
    n = 2u * after;
  return n < PH__RUN_SLOTS ? n : PH__RUN_SLOTS;
}

/* A run of class c carved from h's back end, its slots all free; NULL
 * without memory.  Its slot headers are sealed here, once.  `after`: see
 * run_slots. */
static struct ph__run* run_new(struct ph__heap* h, uint32_t c,
                               unsigned after) {
  unsigned n = run_slots(c, after);
  uint32_t g = PH__RUN_HEAD_MIN + n * c;
  void* data = ph__heap_alloc_unquick(h, ph__granules_payload(g), g);
  if (data == NULL)
    return NULL;
  struct ph__block* head = ph__block_of(data);
  uint32_t head_g = head->size - n * c; /* a bigger block: the head's */
  struct ph__run* r = (struct ph__run*)((char*)head +
                                        ((size_t)head_g << PH__GRANULE_SHIFT) -
                                        PH__RUN_DESC);
  memset(r, 0, sizeof *r);
  r->canary = ph__run_canary(h, r);
  r->free = slots_mask(n);
  r->c = (uint16_t)c;
  r->head_g = (uint16_t)head_g;
  r->n = (uint16_t)n; /* left: run_activate's */
  ph__block_restate(&h->seal, head, head_g, 0, PH__STATE_RUN_HEAD);
  for (unsigned i = 0; i < n; i++)
    ph__block_set(&h->seal, ph__run_slot(r, i), ph__run_slot_size(c, i),
                  PH__STATE_RUN, i);
  return r;
}

/* Forget the slot freed last (runs.h: ph__run_pop_last_freed): before a
 * run's countdown is set anew, which its handing out would step past, or
 * a run leaves the lists or is dissolved. */
static void run_forget(struct ph__heap* h) {
  h->last_freed_w = 0;
}

/* Merge empty run r (on no list) back into h's back end: its slot
 * headers wiped (a stale pointer to a slot then checks as nothing) and
 * their free marks (a block that later starts where a slot did, its first
 * word not yet written, would carry its own free mark: a guest's free of
 * it would be refused), its head made one BUSY block of the whole run,
 * released. */
static void run_dissolve(struct ph__heap* h, struct ph__run* r) {
  unsigned n = r->n;
  struct ph__block* head = ph__run_head(r);
  uint32_t g = r->head_g + n * r->c;
  run_forget(h);
  if (!ph__block_sealed_as(&h->seal, head, PH__STATE_RUN_HEAD) ||
      head->size != r->head_g) { /* left as it is: it leaks */
    ph__corruption(h, head, "run head overwritten");
    return;
  }
  for (unsigned i = 0; i < n; i++) {
    struct ph__block* b = ph__run_slot(r, i);
    ph__block_wipe(&h->seal, b);
    if (ph__runs_marked(h))
      *(uintptr_t*)ph__block_data(b) = 0;
  }
  ph__block_restate(&h->seal, head, g, 0, PH__STATE_BUSY);
  ph__block_release(h, head);
  h->released += (size_t)g << PH__GRANULE_SHIFT;
}

static void list_unlink(struct ph__run* r) {
  r->prev->next = r->next;
  if (r->next != NULL)
    r->next->prev = r->prev;
  r->next = r->prev = NULL;
}

/* Put r on the list after active run a. */
static void list_push(struct ph__run* a, struct ph__run* r) {
  r->prev = a;
  r->next = a->next;
  if (a->next != NULL)
    a->next->prev = r;
  a->next = r;
}

/* Make r (on no list, or the first after the active run) the active run of
 * class c, taking over the list of runs with free slots and the spare.
 * Its countdown only brings it back to ph__run_moved, which sets it again:
 * emptying the active run moves nothing. */
static void run_activate(struct ph__heap* h, uint32_t c, struct ph__run* r,
                         struct ph__run* rest, struct ph__run* spare) {
  run_forget(h);
  r->left = PH__RUN_ACTIVE_LEFT;
  r->prev = NULL;
  r->next = rest;
  r->spare = spare;
  if (rest != NULL)
    rest->prev = r;
  h->run[c] = r;
}

/* Forget the runs of class c after one did not check: their slots leak
 * (none is handed out twice or at a forged address), reported. */
static void runs_abandon(struct ph__heap* h, uint32_t c, struct ph__run* r) {
  run_forget(h);
  h->run[c] = NULL;
  ph__corruption(h, r, "run descriptor overwritten");
}

/*
 * A run of class c with a free slot, made h's active run: the active run
 * itself, else the first run of its list (the full active run leaves every
 * list), else its spare, else a new one.  NULL without memory, or if a
 * run met does not check (reported).
 */
static struct ph__run* run_refill(struct ph__heap* h, uint32_t c) {
  struct ph__run* a = h->run[c];
  if (a == NULL) {
    struct ph__run* r = run_new(h, c, 0);
    if (r != NULL)
      run_activate(h, c, r, NULL, NULL);
    return r;
  }
  if (!run_ok(h, a, c)) {
    runs_abandon(h, c, a);
    return NULL;
  }
  if (ph__run_free_bits(a) != 0)
    return a;
  struct ph__run* next = a->next;
  struct ph__run* spare = a->spare;
  if ((next != NULL && !run_ok(h, next, c)) ||
      (spare != NULL && !run_ok(h, spare, c))) {
    runs_abandon(h, c, a);
    return NULL;
  }
  struct ph__run* r;
  if (next != NULL) { /* in use, a quarter free or more: fewer runs stay */
    r = next;
    run_activate(h, c, r, next->next, spare);
  } else if (spare != NULL) {
    r = spare;
    run_activate(h, c, r, NULL, NULL);
  } else {
    r = run_new(h, c, a->n);
    if (r == NULL)
      return NULL;
    run_activate(h, c, r, NULL, NULL);
  }
  a->next = a->spare = NULL; /* full: on no list */
  a->left = (uint16_t)ph__run_relist(a->n);
  return r;
}

/* `size` bytes from a run of class c of h (entered), or NULL. */
void* ph__run_alloc(struct ph__heap* h, uint32_t c, size_t size) {
  if (run_refill(h, c) == NULL)
    return NULL;
  return ph__run_pop(h, c, size, ph__runs_marked(h));
}

/*
 * A slot of run r of h was freed and r's countdown of frees (`left`)
 * reached 0: the active run's countdown starts again; any other run has
 * a quarter of its slots free (ph__run_relist) and joins its class's list
 * (or becomes the active run, if there is none), its countdown then its
 * busy slots; or it is empty, leaves the list and becomes the spare, or
 * is dissolved.
 */
void ph__run_moved(struct ph__heap* h, struct ph__run* r) {
  run_forget(h);
  if (!ph__run_intact(h, r) || r->c < PH__MIN_BLOCK ||
      r->c > PH__QUICK_EXACT) {
    ph__corruption(h, r, "run descriptor overwritten");
    return;
  }
  struct ph__run* a = h->run[r->c];
  if (r == a) {
    r->left = PH__RUN_ACTIVE_LEFT;
    return;
  }
  unsigned busy = run_busy(r);
  if (busy != 0) { /* a quarter free: back in service */
    if (a == NULL) {
      run_activate(h, r->c, r, NULL, NULL);
      return;
    }
    r->left = (uint16_t)busy;
    if (r->prev == NULL) /* (on the list already: a countdown overwritten;
                            it stays there) */
      list_push(a, r);
    return;
  }
  if (r->prev != NULL) /* empty: it joined the list on its way */
    list_unlink(r);
  if (a != NULL && a->spare == NULL)
    a->spare = r;
  else
    run_dissolve(h, r);
}

/* Free busy slot b of h (entered; its header sealed, the caller checked
 * it is a live block), counting towards h's tick: false, with nothing
 * changed, if the slot is free already (reported). */
bool ph__run_free(struct ph__heap* h, struct ph__block* b) {
  uint64_t w = ph__block_word(b);
  switch (ph__run_release(h, b, w)) {
  case PH__RELEASE_TWICE:
    ph__corruption(h, b, "run slot freed twice or run overwritten");
    return false;
  case PH__RELEASE_MOVED:
    ph__run_moved(h, ph__run_of(b, w));
    break;
  case PH__RELEASE_DONE:
    break;
  }
  if (--h->tick == 0)
    ph__heap_tick(h);
  return true;
}

/* Dissolve every empty run of h (HeapCompact, decay): the spares, and the
 * active runs that are empty (no other run is, runs.h). */
void ph__runs_flush(struct ph__heap* h) {
  if (!h->runs)
    return;
  for (uint32_t c = PH__MIN_BLOCK; c <= PH__QUICK_EXACT; c++) {
    struct ph__run* a = h->run[c];
    if (a == NULL)
      continue;
    if (!run_ok(h, a, c) || (a->spare != NULL && !run_ok(h, a->spare, c))) {
      runs_abandon(h, c, a);
      continue;
    }
    if (a->spare != NULL)
      run_dissolve(h, a->spare);
    a->spare = NULL;
    if (run_empty(a)) {
      struct ph__run* next = a->next;
      h->run[c] = NULL;
      if (next != NULL)
        run_activate(h, c, next, next->next, NULL);
      a->next = NULL;
      run_dissolve(h, a);
    }
  }
}

/* ---- validation --------------------------------------------------------- */

/*
 * The block after the run whose head is `head` in a region ending at
 * `end` (its sentinel), if the run checks: its descriptor (canary, class,
 * no free bit past its n slots, countdown), and its n slots, each a
 * sealed RUN header of size c and index i, in order.  NULL if not.
 */
struct ph__block* ph__run_check(struct ph__heap* h, struct ph__block* head,
                                const struct ph__block* end) {
  size_t span = (size_t)head->size << PH__GRANULE_SHIFT;
  if (head->size < PH__RUN_HEAD_MIN ||
      (size_t)((const char*)end - (const char*)head) < span)
    return NULL;
  struct ph__run* r =
      (struct ph__run*)((char*)head + span - PH__RUN_DESC);
  unsigned n = r->n;
  if (!ph__run_intact(h, r) || r->head_g != head->size ||
      r->c < PH__MIN_BLOCK || r->c > PH__QUICK_EXACT || n == 0 ||
      n > PH__RUN_SLOTS || (ph__run_free_bits(r) & ~slots_mask(n)) != 0 ||
      (r->left > n && h->run[r->c] != r))
    return NULL;
  for (unsigned i = 0; i < n; i++) {
    struct ph__block* b = ph__run_slot(r, i);
    if ((size_t)((const char*)end - (const char*)b) <
            ((size_t)r->c << PH__GRANULE_SHIFT) ||
        ph__block_word(b) !=
            ph__block_pack(&h->seal, b,
                           ph__block_word_of(ph__run_slot_size(r->c, i), i,
                                             PH__STATE_RUN)))
      return NULL;
  }
  return ph__run_slot(r, n);
}

/* Whether h's run lists check: each run of class c, its canary; after
 * the active run, only runs with a quarter of their slots free or more
 * and a busy one, counting down their busy slots; back links right; no
 * cycle (a step bound); the spare empty.
 * (Each run's head and slots: ph__run_check, as validation steps through
 * the regions.) */
bool ph__runs_check_lists(struct ph__heap* h) {
  if (!h->runs)
    return true;
  size_t steps = (h->committed >> PH__GRANULE_SHIFT) + 1;
  for (uint32_t c = PH__MIN_BLOCK; c <= PH__QUICK_EXACT; c++) {
    struct ph__run* prev = NULL;
    for (struct ph__run* r = h->run[c]; r != NULL; prev = r, r = r->next) {
      if (steps-- == 0 || !run_ok(h, r, c) || r->prev != prev)
        return false;
      unsigned busy = run_busy(r);
      if (prev == NULL ? r->left == 0
                       : r->n - busy < ph__run_relist(r->n) || busy == 0 ||
                             r->left != busy || r->spare != NULL)
        return false;
    }
    struct ph__run* spare = h->run[c] != NULL ? h->run[c]->spare : NULL;
    if (spare != NULL && (!run_ok(h, spare, c) || spare->next != NULL ||
                          !run_empty(spare)))
      return false;
  }
  return true;
}
