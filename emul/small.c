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

/* Merge the blocks of quick list i into the bins until the list is
 * empty or `work` is spent (PH__WORK_ALL: all of them): a unit a block,
 * and one more for each 2 KiB of it (bigger blocks lie further apart: the
 * merge's look at their neighbours misses more, in cache and TLB; a block
 * took 85 ns here at 1000 bytes, 260 at 5000, 440 at 2-16 KiB written
 * in full).  Returns the work left: 0 if some may be left. */
size_t ph__quick_flush_list(struct ph__heap* h, unsigned i, size_t work) {
  struct ph__block* b;
  while (work != 0 && (b = ph__quick_pop(h, i)) != NULL) {
    ph__work_spend(&work, 1u + (b->size >> 7));
    ph__block_release(h, b);
  }
  return work;
}

/* Merge every quick block into the bins, as ph__quick_flush_list does
 * each list's, until none is left or `work` is spent; returns the work
 * left (0: h->quick_granules says whether some are left). */
size_t ph__quick_flush(struct ph__heap* h, size_t work) {
  for (unsigned i = ph__quick_first(h);
       i < PH__QUICK_LISTS && h->quick_granules; i++)
    if ((work = ph__quick_flush_list(h, i, work)) == 0)
      return 0;
  h->quick_granules = 0; /* and blocks of abandoned lists are forgotten */
  return work;
}
