/*
 * bins.c - coalesced free blocks, segregated by size.
 *
 * Bin of a free block of g granules (two-level segregated fit):
 *   g < 64     bin g, exact size (blocks up to 1 KiB)
 *   g >= 64    bin 64 + 8 * (log2(g) - 6) + next three bits of g
 * A bit per non-empty bin lets allocation find the first bin whose every
 * block fits in a few word operations: no list is searched.
 *
 * One FREE block is in no bin: the victim, the remainder of the last split.
 * The next requests are carved from its front (ph__victim_carve) and a block
 * just before it grows over it (a growing buffer) without a list touched;
 * a block freed beside it merges into it.  When a split elsewhere makes a
 * new victim, the old one goes to its bin.
 *
 * A freed block merges with a FREE neighbour on either side, so no two FREE
 * blocks are ever adjacent (quick-list blocks are not FREE and stay apart
 * until flushed).  The one before is found through the freed block's
 * PH__PREV_FREE and the footer (block.h); every block in a bin keeps its
 * footer, the victim none.  Links are encoded, each by the address of its slot
 * (ph__encode), and checked against their neighbours before use: a
 * trampled link is reported as corruption and its bin is abandoned (its
 * blocks leak) rather than followed.
 */
#include "engine.h"

static unsigned msb64(uint64_t x) {
  return (x >> 32) ? 32u + ph__msb32((uint32_t)(x >> 32))
                   : ph__msb32((uint32_t)x);
}

/* The bin a free block of g granules lives in. */
static unsigned bin_floor(uint32_t g) {
  if (g < PH__EXACT_BINS)
    return g;
  unsigned fl = ph__msb32(g);
  return PH__EXACT_BINS + (fl - 6u) * 8u + ((g >> (fl - 3u)) & 7u);
}

/* The first bin all of whose blocks have at least g granules. */
static unsigned bin_ceil(uint32_t g) {
  if (g < PH__EXACT_BINS)
    return g;
  unsigned fl = ph__msb32(g);
  uint64_t up = (uint64_t)g + ((1u << (fl - 3u)) - 1u);
  if (up > UINT32_MAX)
    return PH__BIN_COUNT;
  return bin_floor((uint32_t)up);
}

/* The first non-empty bin at or after `bin`, or PH__BIN_COUNT. */
static unsigned bin_search(const struct ph__heap* h, unsigned bin) {
  unsigned w = bin / 64u;
  if (w >= PH__BIN_WORDS)
    return PH__BIN_COUNT;
  uint64_t bits = h->bin_map[w] & (~(uint64_t)0 << (bin % 64u));
  while (bits == 0) {
    if (++w >= PH__BIN_WORDS)
      return PH__BIN_COUNT;
    bits = h->bin_map[w];
  }
  return w * 64u + ph__ctz64(bits);
}

static struct ph__links* links_of(struct ph__block* b) {
  return (struct ph__links*)ph__block_data(b);
}

/* The links of FREE block b, decoded. */
static struct ph__block* link_next(const struct ph__heap* h,
                                   struct ph__block* b) {
  return ph__decode(h, &links_of(b)->next, links_of(b)->next);
}
static struct ph__block* link_prev(const struct ph__heap* h,
                                   struct ph__block* b) {
  return ph__decode(h, &links_of(b)->prev, links_of(b)->prev);
}

/* Store the links of FREE block b, encoded. */
static void set_next(const struct ph__heap* h, struct ph__block* b,
                     const struct ph__block* next) {
  links_of(b)->next = ph__encode(h, &links_of(b)->next, next);
}
static void set_prev(const struct ph__heap* h, struct ph__block* b,
                     const struct ph__block* prev) {
  links_of(b)->prev = ph__encode(h, &links_of(b)->prev, prev);
}

/* Tell the block after b whether b is FREE (its PH__PREV_FREE), if its
 * header checks; a trampled one is left alone and reported. */
static void mark_next(struct ph__heap* h, struct ph__block* b, bool free) {
  struct ph__block* n = ph__block_next(b);
  if (ph__block_sealed(&h->seal, n))
    ph__block_mark_prev(&h->seal, n, free);
  else
    ph__corruption(h, n, "block header overwritten");
}

struct ph__block* ph__block_free_before(const struct ph__heap* h,
                                        const struct ph__block* b) {
  if (!ph__block_prev_free(b))
    return NULL;
  struct ph__block* p = h->victim; /* keeps no footer */
  if (p == NULL || ph__block_next(p) != b) {
    uint64_t g = ph__block_footer_before(b); /* maybe trampled: checked */
    if (g < PH__MIN_BLOCK || g > ((uintptr_t)b >> PH__GRANULE_SHIFT))
      return NULL;
    p = (struct ph__block*)((char*)b - (g << PH__GRANULE_SHIFT));
    if (!ph__block_owned(h, p))
      return NULL;
  }
  return ph__block_sealed_as(&h->seal, p, PH__STATE_FREE) &&
                 ph__block_next(p) == b
             ? p
             : NULL;
}

struct ph__block* ph__region_last_free(const struct ph__heap* h,
                                       const struct ph__region* r) {
  struct ph__block* end = ph__region_sentinel(r);
  return ph__block_sealed(&h->seal, end) ? ph__block_free_before(h, end)
                                         : NULL;
}

static void bin_abandon(struct ph__heap* h, unsigned bin, const void* at) {
  h->bins[bin] = NULL;
  h->bin_map[bin / 64u] &= ~((uint64_t)1 << (bin % 64u));
  ph__corruption(h, at, "free list link overwritten");
}

/*
 * A bin is a list through the blocks' links, its head in h->bins: `next`
 * leads to the tail, where it is NULL; `prev` leads back to the head, and
 * the head's leads to the tail, or is NULL if the head is the tail (a link
 * to its own block would encode the same value in every such block,
 * giving away the link secrets).  So a block goes first or last in one
 * step (ph__bins_purge keeps purged blocks last).
 */

/* The head's prev link stored for a list whose tail is `tail`. */
static struct ph__block* tail_link(struct ph__block* head,
                                   struct ph__block* tail) {
  return tail != head ? tail : NULL;
}

/* The last block of non-empty bin `bin`. */
static struct ph__block* bin_tail(const struct ph__heap* h, unsigned bin) {
  struct ph__block* tail = link_prev(h, h->bins[bin]);
  return tail != NULL ? tail : h->bins[bin];
}

void ph__bins_insert(struct ph__heap* h, struct ph__block* b) {
  unsigned bin = bin_floor(b->size);
  ph__block_footer_set(b);
  struct ph__block* head = h->bins[bin];
  set_next(h, b, head);
  if (head != NULL) {
    set_prev(h, b, bin_tail(h, bin));
    set_prev(h, head, b);
  } else {
    set_prev(h, b, NULL);
    h->bin_map[bin / 64u] |= (uint64_t)1 << (bin % 64u);
  }
  h->bins[bin] = b;
}

/* Put FREE block b, in no bin, last in its bin. */
static void bins_append(struct ph__heap* h, struct ph__block* b) {
  unsigned bin = bin_floor(b->size);
  struct ph__block* head = h->bins[bin];
  if (head == NULL) {
    ph__bins_insert(h, b);
    return;
  }
  ph__block_footer_set(b);
  struct ph__block* tail = bin_tail(h, bin);
  set_next(h, tail, b);
  set_next(h, b, NULL);
  set_prev(h, b, tail);
  set_prev(h, head, b);
}

/* Whether the links of b, in bin `bin`, agree with its neighbours'. */
static bool links_agree(const struct ph__heap* h, unsigned bin,
                        struct ph__block* b, struct ph__block* prev,
                        struct ph__block* next) {
  struct ph__block* head = h->bins[bin];
  if (head == NULL)
    return false;
  if (next != NULL &&
      (!ph__block_owned(h, next) || link_prev(h, next) != b))
    return false;
  if (b == head) /* prev: the tail, or NULL if b is */
    return prev == NULL ? next == NULL
                        : next != NULL && ph__block_owned(h, prev) &&
                              link_next(h, prev) == NULL;
  return ph__block_owned(h, prev) && link_next(h, prev) == b &&
         (next != NULL || bin_tail(h, bin) == b);
}

/* Take FREE block b out of the bins: the victim stops being one, another
 * is unlinked.  Returns false (and abandons the bin) if its links do not
 * agree with its neighbours'. */
bool ph__bins_remove(struct ph__heap* h, struct ph__block* b) {
  if (b == h->victim) {
    h->victim = NULL;
    return true;
  }
  unsigned bin = bin_floor(b->size);
  struct ph__block* head = h->bins[bin];
  struct ph__block* next = link_next(h, b);
  struct ph__block* prev = link_prev(h, b);
  if (!links_agree(h, bin, b, prev, next)) {
    bin_abandon(h, bin, b);
    return false;
  }
  if (b == head) {
    h->bins[bin] = next;
    if (next != NULL)
      set_prev(h, next, tail_link(next, prev));
    else
      h->bin_map[bin / 64u] &= ~((uint64_t)1 << (bin % 64u));
  } else {
    set_next(h, prev, next);
    if (next != NULL)
      set_prev(h, next, prev);
    else /* prev is the tail now */
      set_prev(h, head, tail_link(head, prev));
  }
  return true;
}

/*
 * Cut a BUSY block down to g granules; the tail, if it can be a block of
 * its own, is released (merged with a free neighbour, binned).
 */
void ph__block_trim(struct ph__heap* h, struct ph__block* b, uint32_t g) {
  if (b->size - g < PH__MIN_BLOCK)
    return;
  struct ph__block* tail =
      (struct ph__block*)((char*)b + ((size_t)g << PH__GRANULE_SHIFT));
  ph__block_set(&h->seal, tail, b->size - g, PH__STATE_BUSY, 0);
  ph__block_restate(&h->seal, b, g, ph__block_slack(b), PH__STATE_BUSY);
  ph__block_release(h, tail);
}

/* Make FREE block v, in no bin, the victim; the old one goes to its bin
 * (if its header was overwritten, nowhere: it leaks, and is reported). */
static void victim_set(struct ph__heap* h, struct ph__block* v) {
  struct ph__block* old = h->victim;
  if (ph__victim_intact(h, old))
    ph__bins_insert(h, old);
  else if (old != NULL)
    ph__corruption(h, old, "block header overwritten");
  h->victim = v;
}

/* Make FREE block b the victim (a region's fresh free space, where the
 * next requests are to be carved). */
void ph__bins_prefer(struct ph__heap* h, struct ph__block* b) {
  if (b != h->victim && ph__bins_remove(h, b))
    victim_set(h, b);
}

/*
 * Take g granules from the front of FREE block b (the victim, or in a
 * bin): b keeps them (for the caller to hand out, or to merge into the
 * BUSY block before it), the rest, if it can be a block, becomes the
 * victim.  Taken from the victim, no list is touched.  g >= PH__MIN_BLOCK
 * keeps the rest's header off b's links.  Returns false (and abandons the
 * bin) if b's links do not check.
 */
bool ph__bins_take(struct ph__heap* h, struct ph__block* b, uint32_t g) {
  if (!ph__bins_remove(h, b)) /* the victim: no longer one */
    return false;
  if (b->size - g < PH__MIN_BLOCK) { /* b keeps it all */
    mark_next(h, b, false);
    return true;
  }
  victim_set(h, b);
  ph__victim_shift(h, b, g); /* the rest: the victim */
  b->size = g;
  return true;
}

/* The first of up to `limit` blocks of bin_floor(g) with >= g granules:
 * the blocks the good-fit search skips (its bin may hold smaller ones). */
static struct ph__block* bin_scan(struct ph__heap* h, uint32_t g,
                                  unsigned limit) {
  struct ph__block* b = h->bins[bin_floor(g)];
  for (; b != NULL && limit-- > 0; b = link_next(h, b)) {
    if (!ph__block_owned(h, b) || !ph__block_sealed(&h->seal, b))
      return NULL; /* ph__bins_remove reports it when it meets it */
    if (b->size >= g)
      return b;
  }
  return NULL;
}

/*
 * A block of at least g granules out of the free blocks, marked BUSY (the
 * caller sets slack and seals), or NULL if none holds one: carved from the
 * victim (ph__victim_carve), else ph__bins_fit, else the victim whole.
 */
struct ph__block* ph__bins_alloc(struct ph__heap* h, uint32_t g) {
  struct ph__block* b = ph__victim_carve(h, g);
  if (b == NULL)
    b = ph__bins_fit(h, g);
  if (b != NULL)
    return b;
  b = h->victim;
  if (!ph__victim_intact(h, b) || b->size < g)
    return NULL;
  h->victim = NULL;
  mark_next(h, b, false);
  ph__block_claim(b, b->size);
  return b;
}

/*
 * The good fit among the binned blocks (not the victim): a block of the
 * first bin whose every block has g granules (the smallest such free
 * block), then a short look through the bin of g itself, which may hold a block
 * just big enough (a freshly grown one is at its head).  Marked BUSY, or
 * NULL.
 */
struct ph__block* ph__bins_fit(struct ph__heap* h, uint32_t g) {
  for (;;) {
    unsigned bin = bin_search(h, bin_ceil(g));
    struct ph__block* b;
    if (bin < PH__BIN_COUNT) {
      b = h->bins[bin];
      if (!ph__block_owned(h, b) ||
          !ph__block_sealed_as(&h->seal, b, PH__STATE_FREE) || b->size < g) {
        bin_abandon(h, bin, b);
        continue;
      }
    } else if ((b = bin_scan(h, g, 16)) == NULL) {
      return NULL;
    }
    if (!ph__bins_take(h, b, g))
      continue;
    ph__block_claim(b, b->size);
    return b;
  }
}

/* ---- what of a free block has gone back ----------------------------------
 * A FREE block carries PH__FREE_PURGED once the pages inside it have gone
 * back to the system, PH__FREE_PARTLY while those from its end back to a
 * mark have (ph__bins_purge).  A block that changes keeps what it can of
 * that: the victim, carved from its front, and a block freed before a
 * FREE one, merged with it, keep the pages at their end that had gone
 * back, so that the next purge gives back their front only.  (Without
 * that, a run that compaction dissolved into the victim and the next call
 * carved again made each decay step purge the whole victim anew: a step's
 * work, 484 pages of a 1.9 MB victim, went on pages that were back
 * already, and 200 MB of free blocks behind it never went back.) */

/* Where FREE block f keeps, while it carries PH__FREE_PARTLY, how many
 * of its bytes, counted from its end, have gone back: the word after its
 * links, on the page that stays. */
static size_t* purge_mark(struct ph__block* f) {
  return (size_t*)((char*)ph__block_data(f) + sizeof(struct ph__links));
}

/* Bytes of FREE block f, counted from its end, whose pages have gone
 * back: all of its span, its mark's, or 0. */
static size_t purged_tail(struct ph__block* f) {
  size_t span = (size_t)f->size << PH__GRANULE_SHIFT;
  unsigned slack = ph__block_slack(f);
  if (slack & PH__FREE_PURGED)
    return span;
  if (!(slack & PH__FREE_PARTLY))
    return 0;
  size_t mark = *purge_mark(f);
  return mark < span ? mark : 0; /* a write after free: none */
}

/* FREE block f of h, its header just written (no flag), lies over the
 * last `gone` bytes of a block whose pages had gone back: it says so. */
static void keep_purged_tail(struct ph__heap* h, struct ph__block* f,
                             size_t gone) {
  size_t span = (size_t)f->size << PH__GRANULE_SHIFT;
  if (gone < ph__prim_page_size()) /* no whole page in it */
    return;
  if (gone >= span) {
    ph__block_restate(&h->seal, f, f->size, PH__FREE_PURGED, PH__STATE_FREE);
    return;
  }
  *purge_mark(f) = gone;
  ph__block_restate(&h->seal, f, f->size, PH__FREE_PARTLY, PH__STATE_FREE);
}

/* ph__victim_shift: h's victim v moved up to `tail` (its header just
 * written, no flag; v's still whole), which keeps what of v's end had
 * gone back. */
void ph__victim_keep_purged(struct ph__heap* h, struct ph__block* v,
                            struct ph__block* tail) {
  size_t gone = purged_tail(v);
  size_t rest = (size_t)tail->size << PH__GRANULE_SHIFT;
  keep_purged_tail(h, tail, gone < rest ? gone : rest);
}

/*
 * Give a block (BUSY or QUICK, header sealed) back to the bins, merged with
 * its FREE neighbours (into the victim, if one of them is).  A neighbour
 * whose header does not check is left alone and reported.  A header merged
 * away is wiped (ph__block_wipe).  Returns the free block b became part of.
 */
struct ph__block* ph__block_release(struct ph__heap* h, struct ph__block* b) {
  const struct ph__seal_keys* seal = &h->seal;
  struct ph__block* n = ph__block_next(b);
  if (!ph__block_sealed(seal, n)) {
    ph__corruption(h, n, "block header overwritten");
    ph__block_restate(seal, b, b->size, 0, PH__STATE_FREE);
    ph__bins_insert(h, b);
    return b;
  }
  const struct ph__block* victim = h->victim;
  size_t gone = 0; /* bytes at the end of the result whose pages went back */
  if (ph__block_state(n) == PH__STATE_FREE) {
    size_t n_gone = purged_tail(n);
    if (ph__bins_remove(h, n)) {
      b->size += n->size;
      ph__block_wipe(seal, n);
      gone = n_gone;
    }
  }
  struct ph__block* p = ph__block_free_before(h, b);
  if (p != NULL && ph__bins_remove(h, p)) {
    p->size += b->size;
    ph__block_wipe(seal, b);
    b = p;
  }
  ph__block_set(seal, b, b->size, PH__STATE_FREE, 0);
  keep_purged_tail(h, b, gone);
  mark_next(h, b, true);
  if (victim != NULL && h->victim == NULL)
    h->victim = b; /* merged with the victim: the victim, grown */
  else
    ph__bins_insert(h, b);
  return b;
}

/* ---- giving free pages back ------------------------------------------------ */

/* Give back the whole pages of FREE block f that lie in [lo, hi) and past
 * its links and purge mark (the header, links and mark stay; so does the
 * next block's header, before f's end).  The pages stay usable, their
 * contents lost: a free block's payload means nothing.  Returns how many
 * pages there were. */
static size_t purge_span(struct ph__block* f, const char* lo, const char* hi) {
  size_t page = ph__prim_page_size();
  const char* first = (const char*)(purge_mark(f) + 1);
  const char* end = (const char*)ph__block_next(f) - 8; /* the footer stays */
  if (lo < first)
    lo = first;
  if (hi > end)
    hi = end;
  uintptr_t a = ((uintptr_t)lo + page - 1) & ~(uintptr_t)(page - 1);
  uintptr_t b = (uintptr_t)hi & ~(uintptr_t)(page - 1);
  if (b <= a)
    return 0;
  ph__prim_purge((void*)a, b - a); /* on failure the pages just stay */
  return (b - a) / page;
}

/* Give back the pages inside FREE block f, with about *work (PH__WORK_ALL:
 * all of them), going on from where an earlier call stopped, and take
 * what it took off *work: a call to the system and each page it gave back
 * (PH__WORK_PURGE, PH__WORK_PAGE), or a unit for none.  A block whose
 * pages take more than a step (PH__WORK_STEP: 16 MiB) goes a part at a
 * time, from its end, at a region's rate (PH__WORK_MIB: one call to the
 * system for 64 MiB took 5 ms), a part taking all of *work, and carries
 * PH__FREE_PARTLY meanwhile; once all are back, PH__FREE_PURGED.  Either
 * lasts until f is rewritten (split, handed out, merged with what lies
 * before it), or is kept as above (carved from its front as the victim,
 * merged with a block freed before it).  Returns whether all are back. */
static bool block_purge(struct ph__heap* h, struct ph__block* f,
                        size_t* work) {
  const char* lo = (const char*)f;
  const char* hi = (const char*)ph__block_next(f);
  size_t size = (size_t)(hi - lo);
  size_t done = purged_tail(f); /* f is not PH__FREE_PURGED: its mark's */
  size_t keep = ph__region_work(size - done) > PH__WORK_STEP
                    ? ph__region_cut(size - done, *work)
                    : 0;
  size_t pages = purge_span(f, lo + keep, hi - done);
  if (keep != 0) {
    *purge_mark(f) = size - keep;
    ph__block_restate(&h->seal, f, f->size, PH__FREE_PARTLY, PH__STATE_FREE);
    *work = 0;
    return false;
  }
  ph__block_restate(&h->seal, f, f->size, PH__FREE_PURGED, PH__STATE_FREE);
  ph__work_spend(work, pages != 0 ? PH__WORK_PURGE + pages * PH__WORK_PAGE : 1);
  return true;
}

/* Whether FREE block b's pages went back since it last changed. */
static bool block_purged(const struct ph__block* b) {
  return (ph__block_slack(b) & PH__FREE_PURGED) != 0;
}

/* ph__block_release of a block a caller freed (HeapFree): if it spans
 * PH__PURGE_MIN bytes or more, its pages go back to the system at once
 * (Windows decommits such free ranges too); only its own span, so merging
 * it with big free neighbours costs nothing more.  A block above the
 * fixed-heap limit (a buffer grown in place, where Windows would have
 * given it a mapping of its own) is kept like a large block in the region
 * cache: until the heap decays, for the next buffer to grow into. */
void ph__block_release_freed(struct ph__heap* h, struct ph__block* b) {
  const char* lo = (const char*)b;
  const char* hi = (const char*)ph__block_next(b);
  struct ph__block* f = ph__block_release(h, b);
  size_t span = (size_t)(hi - lo);
  if (span >= PH__PURGE_MIN && span <= PH_FIXED_BLOCK_MAX + PH__GRANULE)
    purge_span(f, lo, hi); /* not all of f: it stays unpurged */
}

/* The first bin that may hold a block with a whole page inside it (past
 * its header, links, purge mark and footer): the bins below are not
 * walked. */
static unsigned bin_first_paged(void) {
  size_t g = (ph__prim_page_size() + PH__HEADER + sizeof(struct ph__links) +
              sizeof(size_t) + 8 + PH__GRANULE - 1) >> PH__GRANULE_SHIFT;
  return g < UINT32_MAX ? bin_floor((uint32_t)g) : PH__BIN_COUNT;
}

/*
 * Give back the whole pages inside the free blocks that may still hold
 * resident ones (not PH__FREE_PURGED), the victim first, until none is
 * left or `work` is spent (at least one block's worth, or a part of a
 * block too big for a step, which stays first in its bin until its last
 * part: block_purge).  Returns the work left: 0 if some may be left.
 * Each bin keeps its purged blocks last: a
 * block binned anew goes first, one purged is moved last, so the walk of
 * a bin stops at its first purged block, and a walk that ran out of work
 * goes on at the next call from where it stopped, in no more steps than
 * the blocks it purges.  Allocation takes a bin's first blocks, whose
 * pages are still there.
 */
size_t ph__bins_purge(struct ph__heap* h, size_t work) {
  struct ph__block* v = h->victim;
  if (ph__victim_intact(h, v) && !block_purged(v) &&
      !block_purge(h, v, &work))
    return 0; /* a part: the rest at the next call */
  for (unsigned bin = bin_first_paged(); bin < PH__BIN_COUNT; bin++) {
    struct ph__block* b = h->bins[bin];
    while (b != NULL && ph__block_owned(h, b) &&
           ph__block_sealed_as(&h->seal, b, PH__STATE_FREE) &&
           !block_purged(b)) {
      if (work == 0)
        return 0;
      struct ph__block* next = link_next(h, b);
      if (!block_purge(h, b, &work))
        return 0; /* a part: b stays first, for the next call */
      if (!ph__bins_remove(h, b))
        break; /* the bin abandoned, and reported */
      bins_append(h, b);
      b = next;
    }
  }
  return work != 0 ? work : 1; /* none left */
}

/* Payload bytes of the largest free block (the bins' and the victim);
 * 0 if there is none. */
size_t ph__bins_largest(const struct ph__heap* h) {
  const struct ph__block* v = h->victim;
  size_t best = ph__victim_intact(h, v) ? ph__block_capacity(v) : 0;
  for (unsigned w = PH__BIN_WORDS; w-- > 0;) {
    uint64_t bits = h->bin_map[w];
    if (bits == 0)
      continue;
    unsigned bin = w * 64u + msb64(bits);
    for (struct ph__block* b = h->bins[bin]; b != NULL;
         b = link_next(h, b)) {
      if (!ph__block_owned(h, b) || !ph__block_sealed(&h->seal, b))
        break;
      if (ph__block_capacity(b) > best)
        best = ph__block_capacity(b);
    }
    break;
  }
  return best;
}

