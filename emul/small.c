/*
 * small.c - quick lists: the constant-time front end for small blocks.
 *
 * A freed block of at most PH__QUICK_MAX granules (512-byte payloads) goes
 * onto the LIFO list for its exact size, still marked not-free (QUICK), and
 * the next request of that size takes it back: no coalescing, no search.
 * This is the job of Windows' low-fragmentation front end.  Quick blocks
 * are merged into the bins (ph__quick_flush) before the heap grows and on
 * ph_heap_compact, which bounds the fragmentation they can cause.
 *
 * The list link lives in the block's payload, encoded with the heap key;
 * a popped block must carry a valid QUICK header of the right size, so an
 * overwritten link cannot hand out an arbitrary address.
 */
#include "engine.h"

static uintptr_t* quick_link(struct ph__block* b) {
  return (uintptr_t*)ph__block_data(b);
}

void ph__quick_push(struct ph__heap* h, struct ph__block* b) {
  uint32_t g = b->size;
  PH_ASSERT(g <= PH__QUICK_MAX);
  b->state = PH__STATE_QUICK;
  ph__block_seal(h->key, b);
  *quick_link(b) = ph__encode(h, h->quick[g]);
  h->quick[g] = b;
  h->quick_count++;
}

/* A block of exactly g granules from its quick list, or NULL. */
struct ph__block* ph__quick_pop(struct ph__heap* h, uint32_t g) {
  struct ph__block* b = h->quick[g];
  if (b == NULL)
    return NULL;
  if (!ph__block_owned(h, b) || !ph__block_sealed(h->key, b) ||
      b->state != PH__STATE_QUICK ||
      b->size != g) {
    h->quick[g] = NULL; /* abandon the list: its blocks leak */
    ph__corruption(h, b, "quick list link overwritten");
    return NULL;
  }
  h->quick[g] = ph__decode(h, *quick_link(b));
  h->quick_count--;
  return b;
}

/* Merge every quick block into the bins. */
void ph__quick_flush(struct ph__heap* h) {
  for (uint32_t g = PH__MIN_BLOCK; g <= PH__QUICK_MAX && h->quick_count; g++) {
    struct ph__block* b;
    while ((b = ph__quick_pop(h, g)) != NULL)
      ph__block_release(h, b);
  }
  h->quick_count = 0;
}
