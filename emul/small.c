/*
 * small.c - the slow paths of the quick lists (small.h): flushing them into
 * the bins, and giving up a list whose links were overwritten.
 */
#include "small.h"

/* A list whose head does not check: drop it (its blocks leak, none is
 * handed out twice or at a forged address) and report corruption. */
void ph__quick_abandon(struct ph__heap* h, unsigned i, struct ph__block* b) {
  h->quick[i] = NULL;
  ph__corruption(h, b, "quick list link overwritten");
}

/* Merge the blocks of quick list i into the bins. */
void ph__quick_flush_list(struct ph__heap* h, unsigned i) {
  struct ph__block* b;
  while ((b = ph__quick_pop(h, i)) != NULL)
    ph__block_release(h, b);
}

/* Merge every quick block into the bins. */
void ph__quick_flush(struct ph__heap* h) {
  for (unsigned i = ph__quick_first(h);
       i < PH__QUICK_LISTS && h->quick_granules; i++)
    ph__quick_flush_list(h, i);
  h->quick_granules = 0; /* and blocks of abandoned lists are forgotten */
}
