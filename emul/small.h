/*
 * small.h - quick lists: the constant-time front end for small blocks.
 *
 * A freed block of at most PH__QUICK_MAX granules (512-byte payloads) goes
 * onto the LIFO list for its exact size, still marked not-free (QUICK), and
 * the next request of that size takes it back: no coalescing, no search.
 * This is the job of Windows' low-fragmentation front end.  Quick blocks
 * are merged into the bins (ph__quick_flush) before the heap grows and on
 * ph_heap_compact, which bounds the fragmentation they can cause.
 *
 * The link to the next block lives in the freed block's payload, where a
 * use-after-free write can reach it, so it is stored encoded with the heap
 * key and followed by a check word over (key, block, link): a link that
 * does not check is never followed, so an overwrite cannot steer an
 * allocation to an address of the attacker's choosing.
 */
#ifndef PH_SMALL_H
#define PH_SMALL_H

#include "engine.h"

struct ph__quick_link {
  uintptr_t next;  /* encoded pointer to the next QUICK block, or enc(NULL) */
  uintptr_t check; /* ph__quick_check(key, block, next) */
};

static inline uintptr_t ph__quick_check(uint64_t key, const void* b,
                                        uintptr_t next) {
  uint64_t x = ((uint64_t)next ^ key) * 0x9E3779B97F4A7C15ull;
  x ^= (uint64_t)(uintptr_t)b + (key >> 17);
  return (uintptr_t)(x ^ (x >> 31));
}

static inline void ph__quick_push(struct ph__heap* h, struct ph__block* b) {
  uint32_t g = b->size;
  PH_ASSERT(g <= PH__QUICK_MAX);
  ph__block_restate(h->key, b, 0, PH__STATE_QUICK);
  struct ph__quick_link* link = (struct ph__quick_link*)ph__block_data(b);
  link->next = ph__encode(h, h->quick[g]);
  link->check = ph__quick_check(h->key, b, link->next);
  h->quick[g] = b;
  h->quick_count++;
}

void ph__quick_abandon(struct ph__heap* h, uint32_t g, struct ph__block* b);

/* A block of exactly g granules from its quick list, or NULL.  The head is
 * trusted (checked when it became the head); its header and link are
 * checked before use. */
static inline struct ph__block* ph__quick_pop(struct ph__heap* h, uint32_t g) {
  struct ph__block* b = h->quick[g];
  if (b == NULL)
    return NULL;
  struct ph__quick_link* link = (struct ph__quick_link*)ph__block_data(b);
  if (PH_UNLIKELY(!ph__block_sealed(h->key, b) ||
                  b->state != PH__STATE_QUICK || b->size != g ||
                  link->check != ph__quick_check(h->key, b, link->next))) {
    ph__quick_abandon(h, g, b);
    return NULL;
  }
  h->quick[g] = ph__decode(h, link->next);
  h->quick_count--;
  return b;
}

#endif /* PH_SMALL_H */
