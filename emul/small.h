/*
 * small.h - quick lists: the constant-time front end for small and medium
 * blocks.
 *
 * A freed block of up to PH__QUICK_LIMIT granules goes onto the LIFO list
 * of its size, still marked not-free (QUICK), and the next request of that
 * size takes it back: no coalescing, no search, no neighbour touched.  This
 * is the job of Windows' low-fragmentation front end, and as that one, a
 * list is used only once requests of its sizes have come PH__LFH_AFTER
 * times (ph__quick_active): before, freed blocks merge.  Lists:
 *   2 .. 33 granules      one per size (payloads up to 520 bytes)
 *   34 .. 8192 granules   8 per power of two (payloads up to 128 KiB),
 *                         each holding the blocks whose size lies in its
 *                         range: a request takes the head of its own
 *                         range's list if it is big enough, else the head
 *                         of the next list (every block there is)
 * A block is carved as long as its request asks, ALIGN16(n + 8), as
 * Windows' back end spaces them.  Once its list is in use, on a heap that
 * can have the LFH, a request of up to 16 KiB (PH__LFH_LIMIT, the largest
 * the LFH serves) is rounded up to its list's size, as the LFH rounds to
 * its buckets; a larger one never is, but may get a bigger freed block
 * whole (heap.c).
 * Quick blocks are merged into the bins (ph__quick_flush) when they hold
 * an eighth of the heap and it would otherwise grow, when it cannot grow,
 * and on ph_heap_compact, which bounds the fragmentation they cause.
 *
 * The link to the next block lives in the freed block's payload, where a
 * use after free can read and write it, so it is stored encoded
 * (ph__encode, engine.h) and followed by a check word over (block, link),
 * keyed with the seal's secrets (ph__quick_check): a link that does not
 * check is never followed, so an overwrite cannot steer an allocation to
 * an address of the attacker's choosing.  Neither word, nor any XOR of
 * them with the block's address, reveals a key.
 */
#ifndef PH_SMALL_H
#define PH_SMALL_H

#include "engine.h"

struct ph__quick_link {
  uintptr_t next;  /* encoded pointer to the next QUICK block, or enc(NULL) */
  uintptr_t check; /* ph__quick_check(keys, block, next) */
};

/* Whether a block of g granules has a quick list. */
static inline bool ph__quick_fits(uint32_t g) {
  return g <= PH__QUICK_LIMIT;
}

/* The list of blocks of g granules (PH__MIN_BLOCK <= g <= PH__QUICK_LIMIT):
 * g itself up to PH__QUICK_EXACT, then 8 lists per power of two. */
static inline unsigned ph__quick_list(uint32_t g) {
  if (g <= PH__QUICK_EXACT)
    return g;
  unsigned k = ph__msb32(g); /* g in [2^k, 2^(k+1)), k >= 5 */
  unsigned j = (g >> (k - 3)) & 7u;
  return PH__QUICK_EXACT + 1 + (k - 5) * 8 + j;
}

/* The smallest block size list i holds (a list above PH__QUICK_EXACT holds
 * sizes from here up to the next list's). */
static inline uint32_t ph__quick_lo(unsigned i) {
  if (i <= PH__QUICK_EXACT)
    return i;
  unsigned t = i - PH__QUICK_EXACT - 1;
  unsigned k = 5 + t / 8;
  return ((uint32_t)1 << k) + ((t % 8) << (k - 3));
}

/* What a request of g granules (PH__QUICK_EXACT < g < PH__QUICK_LIMIT) is
 * rounded up to once its size is in demand (heap.c): the smallest size of
 * a list all of whose blocks fit it, g itself if it starts a list. */
static inline uint32_t ph__quick_round(uint32_t g) {
  unsigned i = ph__quick_list(g);
  return ph__quick_lo(i) == g ? g : ph__quick_lo(i + 1);
}

/* Whether requests of the sizes of list i have come PH__LFH_AFTER times
 * in h (ph__heap_count_class): the list is then in use, as Windows' LFH
 * serves a bucket only after as many. */
static inline bool ph__quick_active(const struct ph__heap* h, unsigned i) {
  return __atomic_load_n(&h->class_allocs[i], __ATOMIC_RELAXED) >=
         PH__LFH_AFTER; /* a top's count: other shards add to it */
}

/* Whether a block of g granules of h goes on a quick list when freed: its
 * list is in use (ph__quick_active; until then a freed block merges with
 * its free neighbours, as in Windows' back end, and a walk sees one free
 * block where it was); a fixed heap keeps only small ones there (its
 * space is counted, and its medium blocks merge at once); a heap with
 * runs (runs.h) has no exact lists: a small block from its back end goes
 * back there.  (A block rounded up to the next list's first size, heap.c,
 * counts as its own list's.) */
static inline bool ph__quick_takes(const struct ph__heap* h, uint32_t g) {
  if (g <= PH__QUICK_EXACT)
    return !h->runs && ph__quick_active(h, g);
  if (!ph__quick_fits(g) || h->maximum_size != 0)
    return false;
  unsigned i = ph__quick_list(g);
  /* The first size of list i also serves the requests of list i - 1,
   * rounded up to it (heap.c): taken once either list is in use. */
  return ph__quick_active(h, i) ||
         (i > PH__QUICK_EXACT + 1 && g == ph__quick_lo(i) &&
          ph__quick_active(h, i - 1));
}

/* The check word of link `next` (as stored, encoded) in block b:
 * ph__seal_mix(k, b, next, k->link), so that without the keys no pair
 * (link, check) can be made up; a change to the stored link, or the pair
 * copied to another block however the link is adjusted, checks but by a
 * 2^-31 chance.  k->link keeps it apart from the header seals, which share
 * k->addr. */
static inline uintptr_t ph__quick_check(const struct ph__seal_keys* k,
                                        const void* b, uintptr_t next) {
  return ph__seal_mix(k, b, next, k->link);
}

/* Put block b (BUSY, sealed, of at most PH__QUICK_LIMIT granules) on its
 * list.  Returns true every PH__TICK_FREES pushes: then the caller, still
 * in h, calls ph__heap_tick (out of its fast path). */
static inline bool ph__quick_push(struct ph__heap* h, struct ph__block* b,
                                  uint32_t g) {
  unsigned i = ph__quick_list(g);
  struct ph__seal_keys k = h->seal; /* not reread after the stores to b */
  ph__block_restate(&k, b, g, 0, PH__STATE_QUICK);
  struct ph__quick_link* link = (struct ph__quick_link*)ph__block_data(b);
  uintptr_t next = ph__encode(h, &link->next, h->quick[i]);
  link->next = next;
  link->check = ph__quick_check(&k, b, next);
  h->quick[i] = b;
  h->quick_granules += g;
  return PH_UNLIKELY(--h->tick == 0);
}

void ph__quick_abandon(struct ph__heap* h, unsigned i, struct ph__block* b);

/* Whether f, the sealed fields of a block on the exact list of c
 * granules, are those it was pushed with, but for PH__PREV_FREE, which its
 * neighbour's free may have set since.  One compare, no seal recomputed
 * (handing the block out rewrites it): an overrun from the block before
 * reaches its size first and changes the fields; a flag forged so only
 * makes the block's own free look at the footer before it, which must then
 * lead to a sealed FREE header ending right there (ph__block_free_before).
 * (Checking the seal when the flag is set, 10 % of a hot set's pops, cost
 * 1 ns a pair.) */
static inline bool ph__quick_fields_ok(uint64_t f, uint32_t c) {
  return (f & ~((uint64_t)PH__PREV_FREE << 32)) ==
         ph__block_word_of(c, 0, PH__STATE_QUICK);
}

/* Whether the link of QUICK block b checks. */
static inline bool ph__quick_link_ok(const struct ph__heap* h,
                                     const struct ph__block* b) {
  const struct ph__quick_link* link =
      (const struct ph__quick_link*)ph__block_data(b);
  return link->check == ph__quick_check(&h->seal, b, link->next);
}

/* Whether b's header is a QUICK block's of list i: for an exact list
 * ph__quick_fields_ok; any other header must check in full. */
static inline bool ph__quick_header_ok(const struct ph__heap* h,
                                       const struct ph__block* b,
                                       unsigned i) {
  uint64_t f = ph__block_word(b) & PH__FIELDS_MASK;
  if (PH_LIKELY(i <= PH__QUICK_EXACT && ph__quick_fields_ok(f, i)))
    return true;
  return ph__block_sealed_as(&h->seal, b, PH__STATE_QUICK) &&
         ph__block_slack(b) == 0 &&
         b->size >= PH__MIN_BLOCK && ph__quick_fits(b->size) &&
         ph__quick_list(b->size) == i;
}

/* Whether b, the head of list i, and its link check.  The head is trusted
 * as a pointer (its link checked when it became the head). */
static inline bool ph__quick_head_ok(const struct ph__heap* h,
                                     const struct ph__block* b, unsigned i) {
  return ph__quick_header_ok(h, b, i) && ph__quick_link_ok(h, b);
}

/* The block after b on its quick list, as b's link says (unchecked). */
static inline struct ph__block* ph__quick_next(const struct ph__heap* h,
                                               const struct ph__block* b) {
  const struct ph__quick_link* link =
      (const struct ph__quick_link*)ph__block_data(b);
  return ph__decode(h, &link->next, link->next);
}

/* Take head b (checked) of g granules off list i, noting that the list
 * served a block (info.c's decay; a flush's marks are cleared by the
 * decay step that follows it, and name emptied lists). */
static inline struct ph__block* ph__quick_unlink(struct ph__heap* h,
                                                 unsigned i,
                                                 struct ph__block* b,
                                                 uint32_t g) {
  struct ph__block* next = ph__quick_next(h, b);
  h->quick[i] = next;
  ph__heap_reused(h, i);
  PH_PREFETCH(next); /* the next request of this list reads its header */
  h->quick_granules -= g;
  return b;
}

/* The first quick list h has: on a heap with runs, the exact lists' slots
 * hold its runs. */
static inline unsigned ph__quick_first(const struct ph__heap* h) {
  return h->runs ? PH__QUICK_EXACT + 1 : PH__MIN_BLOCK;
}

/* The head of list i, checked, or NULL; a list whose head does not check
 * is abandoned (and reported). */
static inline struct ph__block* ph__quick_head(struct ph__heap* h,
                                               unsigned i) {
  struct ph__block* b = h->quick[i];
  if (b == NULL)
    return NULL;
  if (PH_UNLIKELY(!ph__quick_head_ok(h, b, i))) {
    ph__quick_abandon(h, i, b);
    return NULL;
  }
  return b;
}

/* The head of list i taken off it, or NULL. */
static inline struct ph__block* ph__quick_pop(struct ph__heap* h, unsigned i) {
  struct ph__block* b = ph__quick_head(h, i);
  return b != NULL ? ph__quick_unlink(h, i, b, b->size) : NULL;
}

/* Hand out block b, resized to g granules (taken from a list or the bins,
 * or grown), for `size` bytes. */
static inline void* ph__block_hand_out_sized(struct ph__heap* h,
                                             struct ph__block* b, uint32_t g,
                                             size_t size) {
  ph__heap_reused(h, PH__REUSED_BINS);
  size_t slack = ph__granules_payload(g) - size;
  if (PH_UNLIKELY(slack >= PH__SLACK_EXT)) {
    ph__block_slack_store(&h->seal, b, g, slack);
    slack = PH__SLACK_EXT;
  }
  ph__block_restate(&h->seal, b, g, (unsigned)slack, PH__STATE_BUSY);
  return ph__block_data(b);
}

/* The same for a block whose size is read from its header. */
static inline void* ph__block_hand_out(struct ph__heap* h,
                                       struct ph__block* b, size_t size) {
  return ph__block_hand_out_sized(h, b, b->size, size);
}

/* Count a request for a block of g granules in shard h that its quick
 * list did not serve (engine.h: Windows' LFH activation). */
static inline void ph__heap_count_class(struct ph__heap* h, uint32_t g) {
  if (!ph__quick_fits(g))
    return;
  unsigned i = ph__quick_list(g);
  if (PH_LIKELY(ph__quick_active(h, i)))
    return;
  if (ph__heap_count_list(h, i))
    ph__heap_lfh_on(h);
}

/* A QUICK block of at least g granules (g <= PH__QUICK_LIMIT), taken off
 * its list, or NULL:
 *   an exact size (g <= PH__QUICK_EXACT): its own list, else, once the
 *     heap reports its low-fragmentation front end on, one of the next two
 *     (at most 32 bytes more, handed out whole): fewer misses that go to
 *     the bins when requests of neighbouring sizes mix, as a hot working
 *     set's do.  Before that, as on every NO_SERIALIZE or fixed heap,
 *     blocks lie where Windows' back end puts them: a request that its
 *     own list cannot serve is carved or fitted at its exact size.
 *   a larger one: the head of its list if big enough, else the head of the
 *     next list, which is (the caller trims the excess) */
static inline struct ph__block* ph__quick_pop_fit(struct ph__heap* h,
                                                  uint32_t g) {
  unsigned i = ph__quick_list(g);
  struct ph__block* b = ph__quick_head(h, i);
  if (b != NULL && b->size >= g)
    return ph__quick_unlink(h, i, b, b->size);
  if (i <= PH__QUICK_EXACT &&
      atomic_load_explicit(&h->top->compat, memory_order_relaxed) != 2)
    return NULL;
  unsigned last = i <= PH__QUICK_EXACT ? i + 2 : i + 1;
  for (unsigned j = i + 1; j <= last && j < PH__QUICK_LISTS; j++)
    if (h->quick[j] != NULL)
      return ph__quick_pop(h, j);
  return NULL;
}

#endif /* PH_SMALL_H */
