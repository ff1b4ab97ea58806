/*
 * validate.c - HeapValidate: check control data without trusting it.
 *
 * A whole-heap check walks every region block by block (headers sealed,
 * each PH__PREV_FREE true, each binned block's footer its size, no two
 * FREE neighbours, ends at the sentinel), then every
 * large block, every quick list, every bin and the victim.  A step count
 * bounds each list, so a trampled link that makes a cycle cannot hang it.
 */
#include "runs.h"
#include "small.h"

/* States a block met stepping through a region may have (a run's slots
 * are checked with their head, ph__run_check). */
static bool state_ok(unsigned s) {
  return s == PH__STATE_FREE || s == PH__STATE_QUICK || s == PH__STATE_BUSY ||
         s == PH__STATE_RUN_HEAD;
}

/* Whether header b (sealed) is right about the block p before it (NULL
 * for none): PH__PREV_FREE exactly when p is FREE, and then p's footer
 * holds p's size, unless p is the victim. */
static bool prev_ok(const struct ph__heap* h, const struct ph__block* p,
                    const struct ph__block* b) {
  bool free = p != NULL && ph__block_state(p) == PH__STATE_FREE;
  if (ph__block_prev_free(b) != free)
    return false;
  return !free || p == h->victim || ph__block_footer_before(b) == p->size;
}

static bool validate_region(struct ph__heap* h, struct ph__region* r,
                            size_t* free_blocks) {
  struct ph__block* end = ph__region_sentinel(r);
  struct ph__block* b = ph__region_first(r);
  struct ph__block* p = NULL;
  while (b < end) {
    if (!ph__block_steppable(h, b, end) || !state_ok(ph__block_state(b)) ||
        !prev_ok(h, p, b))
      return false;
    bool is_free = ph__block_state(b) == PH__STATE_FREE;
    if (is_free && ph__block_prev_free(b))
      return false; /* two FREE blocks in a row */
    *free_blocks += is_free;
    p = b;
    b = ph__block_next(b);
    if (ph__block_state(p) == PH__STATE_RUN_HEAD) {
      /* its slots, with it; p stays the head, as busy as they are for
       * prev_ok */
      b = ph__run_check(h, p, end);
      if (b == NULL)
        return false;
    }
  }
  return b == end && ph__block_sealed_as(&h->seal, end, PH__STATE_SENTINEL) &&
         prev_ok(h, p, end);
}

/* The block after FREE block b in its bin, as b's link says. */
static struct ph__block* bin_next(const struct ph__heap* h,
                                  const struct ph__block* b) {
  const struct ph__links* l = (const struct ph__links*)ph__block_data(b);
  return ph__decode(h, &l->next, l->next);
}

static bool validate_lists(struct ph__heap* h, size_t free_blocks) {
  size_t seen = 0;
  for (unsigned i = ph__quick_first(h); i < PH__QUICK_LISTS; i++) {
    for (struct ph__block* b = h->quick[i]; b != NULL;
         b = ph__quick_next(h, b)) {
      if (!ph__block_owned(h, b) ||
          !ph__block_sealed_as(&h->seal, b, PH__STATE_QUICK) ||
          !ph__quick_fits(b->size) || ph__quick_list(b->size) != i ||
          !ph__quick_link_ok(h, b) ||
          (seen += b->size) > h->quick_granules) /* no cycle either */
        return false;
    }
  }
  if (seen != h->quick_granules || !ph__runs_check_lists(h))
    return false;
  seen = 0;
  for (unsigned i = 0; i < PH__BIN_COUNT; i++) {
    bool marked = (h->bin_map[i / 64u] >> (i % 64u)) & 1u;
    if (marked != (h->bins[i] != NULL))
      return false;
    for (struct ph__block* b = h->bins[i]; b != NULL; b = bin_next(h, b)) {
      if (++seen > free_blocks || !ph__block_owned(h, b) ||
          !ph__block_sealed_as(&h->seal, b, PH__STATE_FREE))
        return false;
    }
  }
  const struct ph__block* v = h->victim; /* the one FREE block in no bin */
  if (v != NULL && (!ph__block_owned(h, v) || !ph__victim_intact(h, v)))
    return false;
  return seen + (v != NULL) == free_blocks;
}

/* Whether all of h's control data checks.  Caller holds h's lock. */
static bool validate_shard(struct ph__heap* h) {
  size_t free_blocks = 0;
  for (struct ph__region* r = &h->region0; r != NULL; r = r->next)
    if (r->heap != h || !validate_region(h, r, &free_blocks))
      return false;
  for (struct ph__region* r = h->large.first; r != NULL; r = r->next)
    if (r->heap != h || ph__map_find(r) != r ||
        !ph__heap_find_block(h, ph__block_data(ph__region_first(r)), NULL))
      return false;
  return validate_lists(h, free_blocks);
}

/* Whether all control data of h and its shards checks.  Caller holds
 * every shard (ph__heap_enter_all). */
bool ph__validate_heap(struct ph__heap* h) {
  for (struct ph__heap* s = h; s != NULL; s = ph__heap_next_shard(s))
    if (!validate_shard(s))
      return false;
  return true;
}
