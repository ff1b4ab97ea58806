/*
 * heap.c - one heap: create and destroy, allocate, resize and free blocks,
 * grow by committing pages or adding regions, and keep the heap's totals
 * of its regions.  (Entering a heap, its lock and shards: lock.c.)
 *
 * Allocation order for a request of g granules (ALIGN16(n + 8) bytes, as
 * Windows spaces blocks; up to 16 KiB rounded to its quick list's size
 * once that list is in use, as Windows' LFH does: alloc_granules):
 *   0. up to PH__QUICK_EXACT granules, on a heap with runs, once requests
 *      of that size have come PH__LFH_AFTER times: a run (runs.h)
 *   1. a quick list (small.h), the excess trimmed off a bigger block
 *   2. the bins (good fit, split)
 *   3. if the quick lists hold an eighth of the heap or more, merge them
 *      into the bins and try again
 *   4. grow: commit more of the newest region, else add a region (growable
 *      heaps only; regions double from 2 MiB up to 64 MiB)
 *   5. failing that, merge the quick lists and try again
 * Requests above the fixed-heap block limit get a mapping of their own on a
 * growable heap (large.c) and fail on a fixed one; a growable heap's block
 * may still grow past that limit in place (HeapReAlloc), while its region
 * has room.
 */
#include "runs.h"
#include "small.h"
#include "track.h"

/* Lay out a region's committed part as one free block, the victim (the
 * next requests are carved from it), and the sentinel. */
static void region_format(struct ph__heap* h, struct ph__region* r) {
  struct ph__block* first = ph__region_first(r);
  struct ph__block* end = ph__region_sentinel(r);
  uint32_t g = (uint32_t)(((char*)end - (char*)first) >> PH__GRANULE_SHIFT);
  ph__block_set(&h->seal, first, g, PH__STATE_BUSY, 0);
  ph__block_set(&h->seal, end, 1, PH__STATE_SENTINEL, 0);
  ph__bins_prefer(h, ph__block_release(h, first));
}

/* Commit at least `bytes` more of region r; the new space joins the bins. */
static bool region_extend(struct ph__heap* h, struct ph__region* r,
                          size_t bytes) {
  size_t want = r->commit_size + (bytes > PH__COMMIT_STEP ? bytes
                                                          : PH__COMMIT_STEP);
  want = ph__page_up(want);
  if (want == 0 || want > r->reserve_size)
    want = r->reserve_size;
  if (want - r->commit_size < bytes)
    return false;
  struct ph__block* old_end = ph__region_sentinel(r);
  unsigned before = old_end->slack_pf & PH__PREV_FREE;
  if (!ph__heap_commit(h, r, want))
    return false;
  struct ph__block* end = ph__region_sentinel(r);
  uint32_t g = (uint32_t)(((char*)end - (char*)old_end) >> PH__GRANULE_SHIFT);
  ph__block_set(&h->seal, end, 1, PH__STATE_SENTINEL, 0);
  ph__block_set(&h->seal, old_end, g, PH__STATE_BUSY, before);
  ph__block_release(h, old_end);
  return true;
}

/* Add a blocks region able to hold a block of g granules. */
static bool heap_add_region(struct ph__heap* h, uint32_t g) {
  size_t need = ((size_t)g + 1) * PH__GRANULE + sizeof(struct ph__region);
  size_t reserve = h->last->reserve_size * 2;
  if (reserve > PH__REGION_MAX)
    reserve = PH__REGION_MAX;
  if (reserve < need)
    reserve = need;
  size_t commit = need > PH__COMMIT_STEP ? need : PH__COMMIT_STEP;
  unsigned flags = ph__heap_exec(h) ? PH__REGION_EXEC : 0u;
  struct ph__region* r =
      ph__region_new(reserve, commit, PH__REGION_BLOCKS, flags);
  if (r == NULL)
    return false;
  ph__heap_region_add(h, r);
  region_format(h, r);
  return true;
}

/* Whether fixed heap region r may commit more for a block of g granules, as
 * Windows decides: only if its uncommitted range holds the whole block,
 * in pages, though the free block before it would merge with what is
 * committed (a heap of initial 2A and maximum 5A refuses a block of 3A:
 * Wine's tests, passed on Windows).  The range is as large as Windows'
 * (fixed_geometry). */
static bool fixed_may_commit(const struct ph__region* r, uint32_t g) {
  return ph__page_up((size_t)g * PH__GRANULE) <=
         r->reserve_size - r->commit_size;
}

static bool heap_grow(struct ph__heap* h, uint32_t g) {
  struct ph__region* r = h->last; /* a fixed heap's only one */
  size_t bytes = ((size_t)g + 1) * PH__GRANULE;
  if (h->maximum_size != 0)
    return fixed_may_commit(r, g) && region_extend(h, r, bytes);
  struct ph__block* before = ph__region_last_free(h, r);
  if (before != NULL && before->size < g)
    bytes -= (size_t)before->size * PH__GRANULE; /* it merges with the new */
  if (r->commit_size < r->reserve_size && region_extend(h, r, bytes))
    return true;
  return heap_add_region(h, g);
}

/* Whether to merge the quick lists into the bins rather than grow: when
 * they hold an eighth of the committed bytes or more.  Below that, their
 * blocks are the stock that makes the next requests of their classes
 * cheap, and growing bounds the heap at about 8/7 of what it needs. */
static bool quick_worth_flushing(const struct ph__heap* h) {
  return h->quick_granules != 0 &&
         ((size_t)h->quick_granules << PH__GRANULE_SHIFT) >= h->committed / 8;
}

/* A large block of `size` bytes (large.c), on h's list. */
static void* large_alloc(struct ph__heap* h, size_t size) {
  struct ph__region* r = ph__large_new(size, &h->seal, ph__heap_exec(h));
  if (r == NULL)
    return NULL;
  ph__heap_region_add(h, r);
  return ph__block_data(ph__region_first(r));
}

void ph__heap_lfh_on(struct ph__heap* h) {
  if (h->top->sharded) /* NO_SERIALIZE and fixed heaps: never, as Windows */
    atomic_store_explicit(&h->top->compat, 2u, memory_order_relaxed);
}

bool ph__heap_count_list(struct ph__heap* h, unsigned i) {
  uint8_t* n = &h->top->class_allocs[i];
  uint8_t seen = __atomic_load_n(n, __ATOMIC_RELAXED);
  while (seen < PH__LFH_AFTER &&
         !__atomic_compare_exchange_n(n, &seen, (uint8_t)(seen + 1), true,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
  /* seen: the count before ours, or one already complete */
  if (seen + 1u >= PH__LFH_AFTER && h != h->top)
    h->class_allocs[i] = PH__LFH_AFTER;
  return seen + 1u == PH__LFH_AFTER;
}

/* A quick block (small.h) of at least g granules, or NULL if the quick
 * lists have none.  Up to 16 KiB it is cut down to g if the rest can be a
 * block: the rest goes on a quick list of its own size, so no neighbour is
 * touched and the block lies as Windows would place it.  A larger one is
 * handed out whole (its slack, up to a quarter, kept at its end): those
 * are reused across sizes, as the bins would be, without the merging and
 * splitting that cost 140 ns a pair on medium churn (64 this way). */
static struct ph__block* quick_alloc(struct ph__heap* h, uint32_t g) {
  struct ph__block* b = ph__quick_pop_fit(h, g);
  if (b == NULL || b->size - g < PH__MIN_BLOCK || g >= PH__LFH_LIMIT)
    return b;
  uint32_t rest = b->size - g;
  struct ph__block* tail =
      (struct ph__block*)((char*)b + ((size_t)g << PH__GRANULE_SHIFT));
  ph__block_set(&h->seal, tail, rest, PH__STATE_BUSY, 0); /* b is not FREE */
  /* sealed now, not only at the hand-out: the tick below may flush the
   * quick block before b, whose release reads b's header */
  ph__block_restate(&h->seal, b, g, 0, PH__STATE_BUSY);
  if (!ph__quick_takes(h, rest))
    ph__block_release(h, tail);
  else if (ph__quick_push(h, tail, rest))
    ph__heap_tick(h);
  return b;
}

/*
 * The granules to allocate for a request of g: g, as Windows' back end
 * spaces blocks, until requests of its list's sizes have come
 * PH__LFH_AFTER times on a heap that can have Windows' low-fragmentation
 * front end (a serialized growable one); from then on, a medium request
 * (up to 16 KiB, the largest the LFH serves) is rounded up to its list's
 * size (by at most 12.5 %, its slack then kept at the block's end), so
 * that freed blocks of that list always fit it, as Windows' LFH rounds to
 * its buckets.
 */
static uint32_t alloc_granules(struct ph__heap* h, uint32_t g) {
  if (g <= PH__QUICK_EXACT || g >= PH__LFH_LIMIT || !h->top->sharded ||
      !ph__quick_active(h, ph__quick_list(g)))
    return g;
  return ph__quick_round(g);
}

/* A block for `size` bytes: a quick block, else (fit_first) the good fit
 * among the free blocks, else the bins' victim first, the good fit,
 * merging the quick lists, growing (ph__heap_alloc_unquick). */
static void* heap_alloc(struct ph__heap* h, size_t size, bool fit_first) {
  if (h->maximum_size != 0 && size > h->fixed_max)
    return NULL; /* a fixed heap's blocks stop there */
  if (size > PH_FIXED_BLOCK_MAX)
    return large_alloc(h, size);
  uint32_t g = ph__size_to_granules(size);
  ph__heap_count_class(h, g);
  if (g <= PH__QUICK_EXACT && h->runs && ph__quick_active(h, g)) {
    void* p = ph__run_alloc(h, g, size);
    if (p != NULL)
      return p;
  }
  g = alloc_granules(h, g);
  struct ph__block* b = ph__quick_takes(h, g) ? quick_alloc(h, g) : NULL;
  if (b == NULL && fit_first)
    b = ph__bins_fit(h, g);
  return b != NULL ? ph__block_hand_out(h, b, size)
                   : ph__heap_alloc_unquick(h, size, g);
}

void* ph__heap_alloc(struct ph__heap* h, size_t size) {
  return heap_alloc(h, size, false);
}

/* ph__heap_alloc of g granules for `size` bytes once the quick lists had
 * none: the bins, merging a step's work of the quick lists (the next
 * such call merges the next: all at once made one HeapAlloc on a heap
 * of 500,000 quick blocks take 18 ms), growing, and where the heap cannot
 * grow, merging all of them. */
void* ph__heap_alloc_unquick(struct ph__heap* h, size_t size, uint32_t g) {
  struct ph__block* b = ph__bins_alloc(h, g);
  if (b == NULL && quick_worth_flushing(h)) {
    ph__quick_flush(h, PH__WORK_STEP);
    b = ph__bins_alloc(h, g);
  }
  if (b == NULL && heap_grow(h, g))
    b = ph__bins_alloc(h, g);
  if (b == NULL && h->quick_granules != 0) { /* cannot grow: last resort */
    ph__quick_flush(h, PH__WORK_ALL);
    b = ph__bins_alloc(h, g);
  }
  if (b == NULL)
    return NULL;
  return ph__block_hand_out(h, b, size);
}

void ph__heap_free(struct ph__heap* h, struct ph__region* r, void* data) {
  if (r->kind == PH__REGION_LARGE)
    ph__heap_region_release(h, r);
  else
    ph__heap_free_block(h, ph__block_of(data));
}

void ph__heap_free_block(struct ph__heap* h, struct ph__block* b) {
  if (ph__block_state(b) == PH__STATE_RUN)
    ph__run_free(h, b);
  else if (!ph__quick_takes(h, b->size))
    ph__block_release_freed(h, b);
  else if (ph__quick_push(h, b, b->size))
    ph__heap_tick(h);
}

/* Whether b is region r's sentinel (its header checks). */
static bool block_is_end(const struct ph__heap* h, const struct ph__region* r,
                         const struct ph__block* b) {
  return b == ph__region_sentinel(r) &&
         ph__block_sealed_as(&h->seal, b, PH__STATE_SENTINEL);
}

/* Whether merging QUICK block n, after BUSY block b of region r, into the
 * bins could give b the g granules it needs: with the FREE block after n,
 * if any, and the region's uncommitted part if they end the region. */
static bool quick_gives_room(const struct ph__heap* h,
                             const struct ph__region* r,
                             const struct ph__block* b,
                             const struct ph__block* n, uint32_t g) {
  uint64_t have = (uint64_t)b->size + n->size;
  const struct ph__block* m = ph__block_next(n); /* n checks: in r */
  if (ph__block_sealed_as(&h->seal, m, PH__STATE_FREE)) {
    have += m->size;
    m = ph__block_next(m);
  }
  if (block_is_end(h, r, m))
    have += (r->reserve_size - r->commit_size) >> PH__GRANULE_SHIFT;
  return have >= g;
}

/* The FREE block after BUSY block b of region r, checked, or NULL.  A
 * QUICK one (freed, not in a bin yet) is first merged into the bins with
 * the rest of its list, when that could give b the g granules it needs. */
static struct ph__block* block_free_next(struct ph__heap* h,
                                         const struct ph__region* r,
                                         struct ph__block* b, uint32_t g) {
  struct ph__block* n = ph__block_next(b);
  if (ph__block_sealed_as(&h->seal, n, PH__STATE_QUICK) &&
      quick_gives_room(h, r, b, n, g))
    ph__quick_flush_list(h, ph__quick_list(n->size), PH__WORK_ALL);
  return ph__block_sealed_as(&h->seal, n, PH__STATE_FREE) ? n : NULL;
}

/*
 * Make room after BUSY block b of region r for it to reach g granules: a
 * FREE next block, and if b (or that block) is the last before the
 * sentinel, more of the region committed (the new pages join the bins
 * after b).  Returns the FREE block after b, or NULL if there is not room;
 * b is unchanged either way.
 */
static struct ph__block* block_room(struct ph__heap* h, struct ph__region* r,
                                    struct ph__block* b, uint32_t g) {
  struct ph__block* n = block_free_next(h, r, b, g);
  uint64_t have = (uint64_t)b->size + (n != NULL ? n->size : 0);
  if (have >= g)
    return n;
  if (!block_is_end(h, r, n != NULL ? ph__block_next(n) : ph__block_next(b)))
    return NULL;
  if (!region_extend(h, r, (size_t)(g - have) << PH__GRANULE_SHIFT))
    return NULL;
  return block_free_next(h, r, b, g); /* the new pages, merged with n */
}

/*
 * Grow BUSY block b, to hold `size` bytes in g granules, over the front of
 * FREE block n after it (b->size < g <= b->size + n->size): the rest of n,
 * if it can be a block, stays FREE after b, the victim (ph__bins_take).
 * b's header is written once, built in registers.  Returns false, b
 * unchanged, if n's links do not check.
 */
static bool block_take(struct ph__heap* h, struct ph__block* b,
                       struct ph__block* n, uint32_t g, size_t size) {
  uint32_t more = g - b->size;
  if (more < PH__MIN_BLOCK)
    more = PH__MIN_BLOCK; /* a granule of slack more: n's links stay */
  if (!ph__bins_take(h, n, more))
    return false;
  g = b->size + n->size; /* n->size: what n gave, maybe all of it */
  ph__block_wipe(&h->seal, n); /* inside b now */
  ph__block_hand_out_sized(h, b, g, size);
  return true;
}

/* Resize BUSY block b of region r to hold `size` bytes without moving it,
 * and hand it out: shrink and release the tail, or grow into the room
 * after it (block_room).  Returns false, b unchanged, if it cannot stay
 * where it is. */
static bool block_resize(struct ph__heap* h, struct ph__region* r,
                         struct ph__block* b, size_t size) {
  uint32_t g = ph__size_to_granules(size);
  /* A fixed heap's blocks stop at its block limit; a growable heap's
   * block grows in place past it while its region has room (a growing
   * buffer is not copied into a mapping of its own at ~1 MiB). */
  if (g == 0 || (h->maximum_size != 0 && size > h->fixed_max))
    return false;
  if (g <= b->size) {
    ph__block_trim(h, b, g);
    ph__block_hand_out(h, b, size);
    return true;
  }
  uint32_t grown = ph__victim_grow(h, b, g);
  if (grown != 0) {
    ph__block_hand_out_sized(h, b, grown, size);
    return true;
  }
  struct ph__block* n = block_room(h, r, b, g);
  return n != NULL && block_take(h, b, n, g, size);
}

/* Count in h's totals that region r of h has r->commit_size bytes
 * committed where it had `before` (a large block's reserved total is its
 * committed pages). */
static void count_commit(struct ph__heap* h, const struct ph__region* r,
                         size_t before) {
  h->committed += r->commit_size - before; /* modulo: a drop counts too */
  if (r->kind == PH__REGION_LARGE)
    h->reserved += r->commit_size - before;
  if (r == &h->region0)
    ph__heap_hot_set(h);
}

/* Large block region r of h was moved with its header (large.c): its
 * neighbours on h's list, which still name its old address, name it
 * again. */
static void region_moved(struct ph__heap* h, struct ph__region* r) {
  PH_ASSERT(r->kind == PH__REGION_LARGE);
  ph__region_list_moved(&h->large, r);
}

/* ph__large_realloc of large block region r of h, with h's list and
 * totals following what it did. */
static void* large_realloc(struct ph__heap* h, struct ph__region* r,
                           size_t size, uint32_t flags) {
  size_t before = r->commit_size;
  struct ph__region* was = r;
  void* p = ph__large_realloc(&r, size, flags, &h->seal, ph__heap_exec(h));
  if (r != was)
    region_moved(h, r);
  count_commit(h, r, before);
  return p;
}

/* A large block that neither grew in place nor moved by remapping
 * (ph__large_realloc): copied to a new block of `size` bytes and freed;
 * NULL, the block unchanged, if there is no memory. */
static void* large_copy(struct ph__heap* h, struct ph__region* r,
                        size_t size, uint32_t flags) {
  char* data = ph__heap_alloc(h, size);
  if (data == NULL)
    return NULL;
  size_t old_size = r->large_size;
  memcpy(data, ph__block_data(ph__region_first(r)),
         old_size < size ? old_size : size);
  ph__heap_region_release(h, r);
  if ((flags & PH_HEAP_ZERO_MEMORY) && size > old_size)
    memset(data + old_size, 0, size - old_size);
  return data;
}

/* Resize live block b of blocks region r to `size` bytes where it lies,
 * if it can be: a run slot while `size` fits the slot (the LFH keeps a
 * block in its bucket), any other block as block_resize can. */
static bool resize_in_place(struct ph__heap* h, struct ph__region* r,
                            struct ph__block* b, size_t size) {
  uint64_t w = ph__block_word(b);
  if (ph__block_word_state(w) != PH__STATE_RUN)
    return block_resize(h, r, b, size);
  size_t cap = ph__block_capacity(b);
  if (size > cap)
    return false;
  ph__run_set_slack(h, b, w, cap - size);
  return true;
}

/* Give back live block b that realloc moved: a run slot to its run, any
 * other block merged at once (the gap for the next move). */
static void release_moved(struct ph__heap* h, struct ph__block* b) {
  if (ph__block_state(b) == PH__STATE_RUN)
    ph__run_free(h, b);
  else
    ph__block_release(h, b);
}

void* ph__heap_realloc(struct ph__heap* h, struct ph__region* r, void* data,
                       size_t size, uint32_t flags) {
  if (r->kind == PH__REGION_LARGE) {
    void* p = large_realloc(h, r, size, flags);
    if (p != NULL || (flags & PH_HEAP_REALLOC_IN_PLACE_ONLY))
      return p;
    return large_copy(h, r, size, flags);
  }
  size_t old_size = ph__heap_block_size(h, r, data);
  if (old_size == SIZE_MAX) {
    ph__corruption(h, data, "block overrun past its size");
    return NULL;
  }
  void* result = NULL;
  if (resize_in_place(h, r, ph__block_of(data), size)) {
    result = data;
  } else if (!(flags & PH_HEAP_REALLOC_IN_PLACE_ONLY)) {
    /* The new place: the good fit before the victim, so growing blocks
     * keep off the free area at the end of the heap, which the last of
     * them can then grow into in place; the old place merges at once,
     * the gap for the next move. */
    result = heap_alloc(h, size, true);
    if (result != NULL) {
      memcpy(result, data, old_size < size ? old_size : size);
      release_moved(h, ph__block_of(data));
    }
  }
  if (result != NULL && (flags & PH_HEAP_ZERO_MEMORY) && size > old_size)
    memset((char*)result + old_size, 0, size - old_size);
  return result;
}

size_t ph__heap_block_size(const struct ph__heap* h, struct ph__region* r,
                           const void* data) {
  if (r->kind == PH__REGION_LARGE)
    return r->large_size;
  const struct ph__block* b = ph__block_of(data);
  size_t slack = ph__live_slack(h, b);
  return slack == SIZE_MAX ? SIZE_MAX : ph__block_capacity(b) - slack;
}

/* ---- a heap's regions and its totals ------------------------------------
 * Regions (region.c) say what they changed; these keep h's totals:
 * committed = the regions' commit_size summed; reserved = the blocks
 * regions' reservations plus the large blocks' committed pages
 * (ph__region_reserved). */

/* The lowest iRegionIndex no blocks region of heap `top` (or of its
 * shards, which make regions under their own locks: hence the CAS) reads,
 * now taken; PH__INDEX_OVER if every one is (engine.h). */
uint32_t ph__heap_index_take(struct ph__heap* top) {
  for (uint32_t w = 0; w < PH__REGION_IDS / 64; w++) {
    uint64_t ids = atomic_load_explicit(&top->region_ids[w],
                                        memory_order_relaxed);
    while (~ids != 0) {
      uint64_t bit = ~ids & (ids + 1); /* the lowest clear bit */
      if (atomic_compare_exchange_weak_explicit(&top->region_ids[w], &ids,
                                                ids | bit,
                                                memory_order_relaxed,
                                                memory_order_relaxed))
        return w * 64 + ph__ctz64(bit);
    }
  }
  return PH__INDEX_OVER;
}

/* Give back a blocks region's index (PH__INDEX_OVER stays taken). */
static void index_give(struct ph__heap* top, uint32_t index) {
  if (index != PH__INDEX_OVER)
    atomic_fetch_and_explicit(&top->region_ids[index / 64],
                              ~((uint64_t)1 << (index % 64)),
                              memory_order_relaxed);
}

/* Make new region r (ph__region_new) one of h's: the newest blocks region,
 * or the newest large block. */
void ph__heap_region_add(struct ph__heap* h, struct ph__region* r) {
  r->heap = h;
  if (r->kind == PH__REGION_LARGE) {
    r->index = PH__LARGE_INDEX;
    ph__region_list_append(&h->large, r);
  } else {
    r->index = ph__heap_index_take(h->top);
    r->prev = h->last;
    h->last->next = r;
    h->last = r;
    ph__heap_hot_set(h);
  }
  h->reserved += ph__region_reserved(r);
  h->committed += r->commit_size;
}

/* Take region r (not the first) out of h and out of use: the one way a
 * region leaves a heap (free of a large block, compaction, destroy). */
void ph__heap_region_release(struct ph__heap* h, struct ph__region* r) {
  PH_ASSERT(r != &h->region0);
  if (r->kind == PH__REGION_LARGE) {
    ph__region_list_unlink(&h->large, r);
  } else { /* after region0, which stays first */
    r->prev->next = r->next;
    if (r->next != NULL)
      r->next->prev = r->prev;
    else
      h->last = r->prev;
    index_give(h->top, r->index);
  }
  h->reserved -= ph__region_reserved(r);
  h->committed -= r->commit_size;
  ph__heap_hot_set(h);
  ph__region_retire(r, ph__heap_exec(h), 0);
}

/* Commit region r of h up to commit_size bytes. */
bool ph__heap_commit(struct ph__heap* h, struct ph__region* r,
                     size_t commit_size) {
  size_t before = r->commit_size;
  if (!ph__region_commit(r, commit_size, ph__heap_exec(h)))
    return false;
  count_commit(h, r, before);
  return true;
}

/* Decommit region r of h down to commit_size bytes (if the OS agrees). */
void ph__heap_decommit(struct ph__heap* h, struct ph__region* r,
                       size_t commit_size) {
  size_t before = r->commit_size;
  if (ph__region_decommit(r, commit_size))
    count_commit(h, r, before);
}

/* ---- create, destroy, find ------------------------------------------- */

/* Give h secrets of its own, from the system's random source (random.c):
 * every heap and shard has its own, so what a reader learns of one heap
 * says nothing of another. */
static void heap_keys(struct ph__heap* h) {
  ph__random_fill(&h->seal, sizeof h->seal); /* straight in: no copies */
  ph__random_fill(&h->link_xor, sizeof h->link_xor);
  ph__random_fill(&h->link_add, sizeof h->link_add);
  h->seal.addr |= 1u; /* odd: ph__seal_mix's factor is never 0 */
}

/* A fixed heap's largest block, as Windows' (PH__FIXED_OVERHEAD under
 * its maximum, rounded up to pages: *reserve on entry), and the room the
 * engine's larger control data needs for that block beyond the maximum,
 * added to both *reserve and *commit: Windows keeps its control data in
 * what it commits, so the heap's committed free space and its
 * uncommitted range stay as large as Windows' (heap_grow decides on the
 * range). */
static size_t fixed_geometry(size_t header, size_t* commit, size_t* reserve) {
  size_t max = *reserve;
  size_t fixed_max = max > PH__FIXED_OVERHEAD ? max - PH__FIXED_OVERHEAD
                                              : max; /* pages under 4 KiB */
  if (fixed_max > PH_FIXED_BLOCK_MAX)
    fixed_max = PH_FIXED_BLOCK_MAX;
  size_t need = ph__page_up(header + fixed_max + 3 * PH__GRANULE);
  if (max < need) {
    *commit += need - max;
    *reserve = need;
  }
  return fixed_max;
}

/* A heap of HeapCreate's options and sizes, or NULL with *error set.
 * `destroyed`: ph__registry_destroyed() for a heap that gets a handle (its
 * first region is then, while it can be, none of a recently destroyed
 * heap's: engine.h), 0 for a shard or the process heap. */
struct ph__heap* ph__heap_new(uint32_t options, size_t initial_size,
                              size_t maximum_size, uint32_t destroyed,
                              uint32_t* error) {
  size_t header = PH__HEAP_HEADER; /* the struct and the handles' room */
  size_t commit = ph__page_up(initial_size ? initial_size : 1);
  size_t reserve = maximum_size ? ph__page_up(maximum_size) : 0;
  *error = PH_ERROR_NOT_ENOUGH_MEMORY;
  if (commit == 0 || (maximum_size && reserve == 0))
    return NULL;
  if (maximum_size != 0 && commit > reserve) {
    *error = PH_ERROR_INVALID_PARAMETER;
    return NULL;
  }
  if (commit > PH__REGION_BYTES_MAX || reserve > PH__REGION_BYTES_MAX)
    return NULL; /* sizes would not fit a block header (engine.h) */
  size_t fixed_max =
      maximum_size != 0 ? fixed_geometry(header, &commit, &reserve) : 0;
  size_t least = ph__page_up(header + 4 * PH__GRANULE);
  if (commit < least)
    commit = least;
  if (reserve < commit)
    reserve = maximum_size ? commit : PH__REGION_MIN;
  if (reserve < commit)
    reserve = commit;
  unsigned flags =
      ((options & PH_HEAP_CREATE_ENABLE_EXECUTE) ? PH__REGION_EXEC : 0u) |
      (maximum_size ? PH__REGION_EXACT : 0u);
  struct ph__region* r = ph__region_new_first(reserve, commit, flags,
                                              destroyed);
  if (r == NULL)
    return NULL;
  struct ph__heap* h = (struct ph__heap*)r;
  memset((char*)h + sizeof(struct ph__region), 0,
         sizeof(*h) - sizeof(struct ph__region));
  r->heap = h;
  r->index = 0;
  r->data_offset = header + PH__HEADER; /* a header at 8 mod 16 */
  for (unsigned w = 0; w < PH__REGION_IDS / 64; w++) /* 0 is r's */
    atomic_init(&h->region_ids[w], w == 0 ? 1u : 0u);
  atomic_fetch_or(&h->region_ids[PH__LARGE_INDEX / 64],
                  (uint64_t)1 << (PH__LARGE_INDEX % 64));
  atomic_fetch_or(&h->region_ids[PH__INDEX_OVER / 64],
                  (uint64_t)1 << (PH__INDEX_OVER % 64));
  ph__biased_init(&h->lock);
  h->top = h;
  h->sharded = (options & PH_HEAP_NO_SERIALIZE) == 0 && maximum_size == 0;
  h->runs = h->sharded ? PH__RUNS : 0; /* where Windows would have the LFH */
  atomic_init(&h->spread, false);
  atomic_init(&h->shards[0], h);
  heap_keys(h);
  h->magic = ph__heap_magic(h);
  h->options = options & (PH_HEAP_NO_SERIALIZE | PH_HEAP_GENERATE_EXCEPTIONS |
                          PH_HEAP_CREATE_ENABLE_EXECUTE);
  h->maximum_size = maximum_size ? ph__page_up(maximum_size) : 0;
  h->fixed_max = fixed_max;
  /* The floor HeapCompact keeps: what was asked for, even if the region
   * came from the cache with more committed (its spare pages are free
   * space, which compaction and decay give back). */
  h->initial_commit = commit;
  h->tick = PH__TICK_FREES;
  h->reserved = r->reserve_size;
  h->committed = r->commit_size;
  h->last = r;
  region_format(h, r);
  ph__heap_hot_set(h);
  return h;
}

/* Release every region of one heap or shard: its large blocks, its
 * further regions, then the first, which holds the struct itself. */
static void heap_release(struct ph__heap* h) {
  h->magic = 0;
  while (h->large.first != NULL)
    ph__heap_region_release(h, h->large.first);
  while (h->last != &h->region0)
    ph__heap_region_release(h, h->last);
  ph__region_retire(&h->region0, ph__heap_exec(h), h->stamp);
}

/* Destroy h with its shards.  Cost follows the regions, not the blocks. */
void ph__heap_delete(struct ph__heap* h) {
  atomic_fetch_add(&ph__heap_epoch, 1); /* forget cached lookups first */
  ph__heap_tokens_forget(h);
  for (unsigned i = 1; i < PH__SHARDS; i++) {
    struct ph__heap* s = atomic_load(&h->shards[i]);
    if (s != NULL)
      heap_release(s);
  }
  heap_release(h);
}

