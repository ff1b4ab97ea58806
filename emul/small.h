/*
 * small.h - quick lists: the constant-time front end for small and medium
 * blocks.
 *
 * A freed block whose size is a size class goes onto the LIFO list of its
 * class, still marked not-free (QUICK), and the next request of that class
 * takes it back: no coalescing, no search, no neighbour touched.  This is
 * the job of Windows' low-fragmentation front end.  Classes:
 *   2 .. 33 granules      every size (payloads up to 512 bytes)
 *   34 .. 8192 granules   8 per power of two (payloads up to 128 KiB),
 *                         so a growable heap rounds such a request up by
 *                         at most 12.5 % to make its block reusable
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
 * them with the block's address, reveals a key (the old check, the link
 * XOR the block XOR a rotated key, did in one read).
 */
#ifndef PH_SMALL_H
#define PH_SMALL_H

#include "engine.h"

struct ph__quick_link {
  uintptr_t next;  /* encoded pointer to the next QUICK block, or enc(NULL) */
  uintptr_t check; /* ph__quick_check(keys, block, next) */
};

/* The size class of a block of g granules (g <= PH__QUICK_LIMIT): g
 * itself up to PH__QUICK_EXACT, else g rounded up to the next multiple of
 * an eighth of the power of two below it. */
static inline uint32_t ph__quick_round(uint32_t g) {
  if (g <= PH__QUICK_EXACT)
    return g;
  uint32_t step = (uint32_t)1 << (ph__msb32(g - 1) - 3);
  return (g + step - 1) & ~(step - 1);
}

/* Whether a block of g granules belongs on a quick list. */
static inline bool ph__quick_class(uint32_t g) {
  return g <= PH__QUICK_LIMIT && ph__quick_round(g) == g;
}

/* The list of class size c (ph__quick_class(c)): c itself for exact
 * classes, then 8 lists per power of two. */
static inline unsigned ph__quick_index(uint32_t c) {
  if (c <= PH__QUICK_EXACT)
    return c;
  unsigned k = ph__msb32(c - 1); /* c in (2^k, 2^(k+1)] */
  unsigned j = (c - ((uint32_t)1 << k)) >> (k - 3); /* 1 .. 8 */
  return PH__QUICK_EXACT + 1 + (k - 5) * 8 + (j - 1);
}

/* The class size of list i (inverse of ph__quick_index). */
static inline uint32_t ph__quick_size(unsigned i) {
  if (i <= PH__QUICK_EXACT)
    return i;
  unsigned k = 5 + (i - PH__QUICK_EXACT - 1) / 8;
  unsigned j = (i - PH__QUICK_EXACT - 1) % 8 + 1;
  return ((uint32_t)1 << k) + (j << (k - 3));
}

/* The check word of link `next` (as stored, encoded) in block b:
 * ph__seal_mix(k, b, next, k->link), so that without the keys no pair
 * (link, check) can be made up; a change to the stored link, or the pair
 * copied to another block however the link is adjusted, checks but by a
 * 2^-31 chance, as a header would.  k->link keeps it apart from the
 * header seals, which share k->addr. */
static inline uintptr_t ph__quick_check(const struct ph__seal_keys* k,
                                        const void* b, uintptr_t next) {
  return ph__seal_mix(k, b, next, k->link);
}

/* Put block b (BUSY, sealed, of class size c) on its list.  Returns true
 * every PH__TICK_FREES pushes: then the caller, still in h, calls
 * ph__heap_tick (out of its fast path). */
static inline bool ph__quick_push(struct ph__heap* h, struct ph__block* b,
                                  uint32_t c) {
  unsigned i = ph__quick_index(c);
  struct ph__seal_keys k = h->seal; /* not reread after the stores to b */
  ph__block_restate(&k, b, c, 0, PH__STATE_QUICK);
  struct ph__quick_link* link = (struct ph__quick_link*)ph__block_data(b);
  uintptr_t next = ph__encode(h, &link->next, h->quick[i]);
  link->next = next;
  link->check = ph__quick_check(&k, b, next);
  h->quick[i] = b;
  h->quick_granules += c;
  return PH_UNLIKELY(--h->tick == 0);
}

void ph__quick_abandon(struct ph__heap* h, unsigned i, struct ph__block* b);

/* Whether b, the head of the list of class size c, and its link check.
 * The head is trusted as a pointer (its link checked when it became the
 * head).  Its sealed fields must be exactly those of a QUICK block of
 * class c, which an overrun from the block before (it reaches size first)
 * changes; the seal itself is not recomputed, as handing the block out
 * rewrites it. */
static inline bool ph__quick_head_ok(const struct ph__heap* h,
                                     const struct ph__block* b, uint32_t c) {
  const struct ph__quick_link* link =
      (const struct ph__quick_link*)ph__block_data(b);
  return ph__block_word(b) == ph__block_word_of(c, 0, PH__STATE_QUICK) &&
         link->check == ph__quick_check(&h->seal, b, link->next);
}

/* The block after b on its quick list, as b's link says (unchecked). */
static inline struct ph__block* ph__quick_next(const struct ph__heap* h,
                                               const struct ph__block* b) {
  const struct ph__quick_link* link =
      (const struct ph__quick_link*)ph__block_data(b);
  return ph__decode(h, &link->next, link->next);
}

/* Take head b (checked) off list i of class size c. */
static inline struct ph__block* ph__quick_unlink(struct ph__heap* h,
                                                 unsigned i,
                                                 struct ph__block* b,
                                                 uint32_t c) {
  struct ph__block* next = ph__quick_next(h, b);
  h->quick[i] = next;
  PH_PREFETCH(next); /* the next request of this class reads its header */
  h->quick_granules -= c;
  return b;
}

/* A block of class size c from its quick list, or NULL; a list whose head
 * does not check is abandoned (and reported). */
static inline struct ph__block* ph__quick_pop(struct ph__heap* h, uint32_t c) {
  unsigned i = ph__quick_index(c);
  struct ph__block* b = h->quick[i];
  if (b == NULL)
    return NULL;
  if (PH_UNLIKELY(!ph__quick_head_ok(h, b, c))) {
    ph__quick_abandon(h, i, b);
    return NULL;
  }
  return ph__quick_unlink(h, i, b, c);
}

/* Hand out block b of g granules (taken from a list or the bins) for
 * `size` bytes. */
static inline void* ph__block_hand_out_sized(struct ph__heap* h,
                                             struct ph__block* b, uint32_t g,
                                             size_t size) {
  ph__block_restate(&h->seal, b, g,
                    (uint16_t)(((size_t)g << PH__GRANULE_SHIFT) - PH__GRANULE -
                               size),
                    PH__STATE_BUSY);
  return ph__block_data(b);
}

/* The same for a block whose size is read from its header. */
static inline void* ph__block_hand_out(struct ph__heap* h,
                                       struct ph__block* b, size_t size) {
  return ph__block_hand_out_sized(h, b, b->size, size);
}

/* Count a request for a block of class size g in shard h that its quick
 * list did not serve (engine.h: Windows' LFH activation). */
static inline void ph__heap_count_class(struct ph__heap* h, uint32_t g) {
  if (!ph__quick_class(g))
    return;
  unsigned i = ph__quick_index(g);
  if (PH_UNLIKELY(h->class_allocs[i] < PH__LFH_AFTER) &&
      ++h->class_allocs[i] == PH__LFH_AFTER)
    ph__heap_lfh_on(h);
}

/* A block of class size c, or on a growable heap of one of the next two
 * classes (at most 32 bytes more for a small class, 25 % for a medium
 * one; handed out whole and back on its own list when freed): fewer
 * misses that go to the bins when requests of neighbouring sizes mix, as
 * a hot working set's do.  A fixed heap takes its exact class only (its
 * space is counted). */
static inline struct ph__block* ph__quick_pop_near(struct ph__heap* h,
                                                   uint32_t c) {
  struct ph__block* b = ph__quick_pop(h, c);
  if (b != NULL || h->maximum_size != 0)
    return b;
  unsigned i = ph__quick_index(c);
  for (unsigned j = i + 1; j <= i + 2 && j < PH__QUICK_LISTS; j++)
    if (h->quick[j] != NULL)
      return ph__quick_pop(h, ph__quick_size(j));
  return NULL;
}

#endif /* PH_SMALL_H */
