/*
 * small.c - the slow paths of the quick lists (small.h): flushing them into
 * the bins, and giving up a list whose links were overwritten.
 */
#include "small.h"

/* A list whose head does not check: drop it (its blocks leak, none is
 * handed out twice or at a forged address) and report corruption. */
void ph__quick_abandon(struct ph__heap* h, uint32_t g, struct ph__block* b) {
  h->quick[g] = NULL;
  ph__corruption(h, b, "quick list link overwritten");
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
