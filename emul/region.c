/*
 * region.c - regions: address space from prim, committed as a heap fills,
 * and the process-wide cache of regions left by destroyed heaps and freed
 * large blocks.
 *
 * Regions know nothing of heaps' totals: each call says what it changed
 * (a region's commit_size) and the heap accounts for it (heap.c).
 *
 * The cache is what makes "create, fill, destroy" cheap when repeated: a
 * region keeps its committed pages in the cache, up to a bound on the
 * committed bytes there (ph_region_cache_limit), for the next heap or large
 * block that needs a region of its size: no system call and no page fault
 * is spent on it again.  Memory nobody reuses decays: a region cached
 * longer than the decay time (ph_decay_time, 250 ms by default) goes back
 * to the OS at a later heap call (ph__region_cache_decay; no thread of our
 * own), and what exceeds the bound goes back at once.  Executable regions
 * are never cached.
 */
#include "engine.h"

static ph__mutex_t cache_lock = PH__MUTEX_INIT;
static struct ph__region_list cache;  /* newest first */
static size_t cache_bytes;            /* sum of cached commit_size */
static size_t cache_limit = (size_t)256 << 20;
static atomic_uint decay_ms = PH__DECAY_MS_DEFAULT;
static atomic_uint_fast64_t decay_next; /* ph__prim_now_ms time before
                                           which a decay pass finds nothing
                                           new to release */
static atomic_bool decay_left;          /* a decay pass left decayed
                                           regions to the next */

size_t ph__page_up(size_t n) {
  size_t page = ph__prim_page_size();
  if (n > SIZE_MAX - page)
    return 0;
  return (n + page - 1) & ~(page - 1);
}

/* Whether cached region r was the first region of one of the last
 * PH__QUARANTINE heaps destroyed, of `destroyed` so far (registry.c): its
 * base was a handle, which a new heap must not have.  Signed: a heap
 * destroyed after the caller read `destroyed` counts as recent. */
static bool cache_quarantined(const struct ph__region* r, uint32_t destroyed) {
  return r->index != 0 &&
         (int32_t)(destroyed - r->index) < (int32_t)PH__QUARANTINE;
}

/* Cache r as its newest region.  Caller holds cache_lock. */
static void cache_push(struct ph__region* r) {
  ph__region_list_prepend(&cache, r);
  cache_bytes += r->commit_size;
}

/* Take cached region r out of the cache.  Caller holds cache_lock. */
static void cache_unlink(struct ph__region* r) {
  ph__region_list_unlink(&cache, r);
  cache_bytes -= r->commit_size;
}

/* The smallest cached region of at least `reserve` bytes, unlinked; or
 * NULL.  Of those of one size, the newest (its pages are the likeliest
 * in the processor's caches); with `destroyed` (not 0: the region is for
 * a heap's first), the oldest that is not quarantined, as long as the
 * cache holds less than PH__QUARANTINE_CACHE bytes: searched from the old
 * end, where regions have left quarantine, so that heaps that come and go
 * find one at once.  Caller holds cache_lock. */
static struct ph__region* cache_take(size_t reserve, uint32_t destroyed) {
  bool avoid = destroyed != 0 && cache_bytes < PH__QUARANTINE_CACHE;
  struct ph__region* best = NULL;
  for (struct ph__region* r = avoid ? cache.last : cache.first; r != NULL;
       r = avoid ? r->prev : r->next) {
    if (r->reserve_size < reserve ||
        (best != NULL && r->reserve_size >= best->reserve_size) ||
        (avoid && cache_quarantined(r, destroyed)))
      continue;
    best = r;
    if (r->reserve_size == reserve)
      break; /* no smaller one fits */
  }
  if (best != NULL)
    cache_unlink(best);
  return best;
}

static struct ph__region* region_from_cache(size_t reserve,
                                            uint32_t destroyed) {
  ph__mutex_lock(&cache_lock);
  struct ph__region* r = cache_take(reserve, destroyed);
  ph__mutex_unlock(&cache_lock);
  return r;
}

static struct ph__region* region_from_os(size_t reserve, size_t commit,
                                         bool exec) {
  struct ph__region* r = ph__prim_reserve(reserve, PH__CHUNK);
  if (r == NULL)
    return NULL;
  if (ph__prim_commit(r, commit, exec) != 0) {
    ph__prim_release(r, reserve);
    return NULL;
  }
  r->reserve_size = reserve;
  r->commit_size = commit;
  return r;
}

/* Fit cached region r to `commit` bytes committed: commit more, or give
 * back what a large block would not see (a heap region's spare pages are
 * its own free space).  False: released, it could not be fitted. */
static bool cache_fit(struct ph__region* r, size_t commit, uint32_t kind) {
  if (r->commit_size < commit && ph__prim_commit(r, commit, false) == 0)
    r->commit_size = commit;
  if (r->commit_size < commit) {
    ph__prim_release(r, r->reserve_size);
    return false;
  }
  if (kind == PH__REGION_LARGE && r->commit_size > commit &&
      ph__prim_decommit((char*)r + commit, r->commit_size - commit) == 0)
    r->commit_size = commit;
  return true;
}

/*
 * A region of at least min_reserve bytes (exactly, with PH__REGION_EXACT)
 * with at least min_commit bytes committed (exactly, for a large block),
 * entered in the address map, owned by no heap yet (r->heap NULL, index 0):
 * the caller adds it to a heap (ph__heap_region_add).  Returns NULL when
 * the memory cannot be had.
 */
static struct ph__region* region_new(size_t min_reserve, size_t min_commit,
                                     uint32_t kind, unsigned flags,
                                     uint32_t destroyed) {
  bool exec = (flags & PH__REGION_EXEC) != 0;
  size_t reserve = ph__page_up(min_reserve);
  size_t commit = ph__page_up(min_commit);
  if (reserve == 0 || commit == 0 || commit > reserve)
    return NULL;
  struct ph__region* r = NULL;
  if ((flags & (PH__REGION_EXEC | PH__REGION_EXACT)) == 0)
    r = region_from_cache(reserve, destroyed);
  if (r != NULL && !cache_fit(r, commit, kind))
    r = NULL;
  if (r == NULL)
    r = region_from_os(reserve, commit, exec);
  if (r == NULL)
    return NULL;
  r->heap = NULL;
  r->next = r->prev = NULL;
  r->kind = kind;
  r->index = 0;
  r->large_size = 0;
  r->data_offset = sizeof(struct ph__region) + PH__HEADER; /* 8 mod 16 */
  if (!ph__map_insert(r)) {
    ph__prim_release(r, r->reserve_size);
    return NULL;
  }
  return r;
}

struct ph__region* ph__region_new(size_t min_reserve, size_t min_commit,
                                  uint32_t kind, unsigned flags) {
  return region_new(min_reserve, min_commit, kind, flags, 0);
}

/* ph__region_new for the first region of a new heap, `destroyed` heaps
 * having been destroyed (ph__registry_destroyed): not a cached region of
 * one of the last PH__QUARANTINE of them while the cache holds less than
 * PH__QUARANTINE_CACHE bytes, so that the new heap's handle, its base, is
 * none of theirs (engine.h). */
struct ph__region* ph__region_new_first(size_t min_reserve,
                                        size_t min_commit, unsigned flags,
                                        uint32_t destroyed) {
  return region_new(min_reserve, min_commit, PH__REGION_HEAP, flags,
                    destroyed);
}

/* Grow a region's committed part to commit_size bytes (a page multiple,
 * at most reserve_size).  Returns false if the system refuses. */
bool ph__region_commit(struct ph__region* r, size_t commit_size, bool exec) {
  PH_ASSERT(commit_size <= r->reserve_size && commit_size > r->commit_size);
  char* base = (char*)r;
  if (ph__prim_commit(base + r->commit_size, commit_size - r->commit_size,
                      exec) != 0)
    return false;
  ph__region_set_commit(r, commit_size);
  return true;
}

/* Shrink a region's committed part to commit_size bytes (a page multiple,
 * at least one page).  Returns false, changing nothing, if the system
 * refuses (keeping the pages is always safe). */
bool ph__region_decommit(struct ph__region* r, size_t commit_size) {
  PH_ASSERT(commit_size < r->commit_size);
  char* base = (char*)r;
  if (ph__prim_decommit(base + commit_size, r->commit_size - commit_size) != 0)
    return false;
  ph__region_set_commit(r, commit_size);
  return true;
}

/* Release cached regions (oldest last in the list) until at most `keep`
 * committed bytes remain.  Caller holds cache_lock; the regions go to
 * *out, linked through next, for the caller to release unlocked. */
static void cache_cut(size_t keep, struct ph__region** out) {
  struct ph__region* r = cache.first;
  size_t kept = 0;
  while (r != NULL && kept + r->commit_size <= keep) {
    kept += r->commit_size;
    r = r->next;
  }
  *out = r;
  if (r == NULL)
    return;
  cache.last = r->prev;
  if (r->prev != NULL)
    r->prev->next = NULL;
  else
    cache.first = NULL;
  cache_bytes = kept;
}

/* Whether cached region r lay there for `delay` ms at `now` (a region
 * another thread cached after the caller read the clock has not). */
static bool cache_decayed(const struct ph__region* r, uint64_t now,
                          uint64_t delay) {
  return (uint64_t)r->large_size + delay <= now;
}

/* Decommit cached region r (unlinked by the caller) past its first
 * `commit` bytes, then cache it again as the oldest, still decayed: the
 * system's work on a big region's pages, a part at a time. */
static void cache_shrink(struct ph__region* r, size_t commit) {
  if (ph__prim_decommit((char*)r + commit, r->commit_size - commit) == 0)
    r->commit_size = commit;
  ph__mutex_lock(&cache_lock);
  ph__region_list_append(&cache, r);
  cache_bytes += r->commit_size;
  ph__mutex_unlock(&cache_lock);
}

static void release_all(struct ph__region* r) {
  while (r != NULL) {
    struct ph__region* next = r->next;
    ph__prim_release(r, r->reserve_size);
    r = next;
  }
}

/* Take a region out of use for good: into the cache (newest first,
 * stamped with the time, and with `stamp`: its destroyed heap's, if it
 * was one's first region, else 0), or to the OS.  The caller has taken it
 * out of its heap (ph__heap_region_release). */
void ph__region_retire(struct ph__region* r, bool exec, uint32_t stamp) {
  ph__map_remove(r);
  r->heap = NULL;
  r->index = stamp;
  struct ph__region* drop = NULL;
  if (!exec) {
    ph__mutex_lock(&cache_lock);
    if (r->commit_size <= cache_limit) {
      r->large_size = (size_t)ph__prim_now_ms(); /* cached at (ms) */
      cache_push(r);
      if (cache_bytes > cache_limit)
        cache_cut(cache_limit, &drop);
      r = NULL;
    }
    ph__mutex_unlock(&cache_lock);
  }
  if (r != NULL)
    ph__prim_release(r, r->reserve_size);
  release_all(drop);
}

/* Release cached regions until at most `keep` committed bytes remain. */
void ph__region_cache_trim(size_t keep) {
  struct ph__region* drop;
  ph__mutex_lock(&cache_lock);
  cache_cut(keep, &drop);
  ph__mutex_unlock(&cache_lock);
  release_all(drop);
}

/* Release the cached regions that nobody reused for the decay time (to
 * the OS: a region kept reserved would only hoard address space), oldest
 * first, for at most `work` (ph__region_work of each; at least one
 * region's or 16 MiB of pages): a region that would take more keeps its
 * first pages and gives back `work`'s worth of its committed tail, and
 * the rest is left to the next call (ph__region_cache_decay_left).  The
 * system's work on a region's pages is about 0.08 ms a MiB here: a light
 * call that released the 100 MiB a destroyed heap left took 8.6 ms.
 * `now` is from ph__prim_now_ms.  Returns the work left. */
size_t ph__region_cache_decay(uint64_t now, size_t work) {
  uint64_t delay = atomic_load_explicit(&decay_ms, memory_order_relaxed);
  bool left = atomic_load_explicit(&decay_left, memory_order_relaxed);
  /* Callers come often (every HeapCreate and HeapDestroy): one pass per
   * quarter of the decay time, so a region leaves at most that late. */
  if (!left && now < atomic_load_explicit(&decay_next, memory_order_relaxed))
    return work;
  if (!left)
    atomic_store_explicit(&decay_next, now + delay / 4, memory_order_relaxed);
  struct ph__region *drop = NULL, *cut = NULL;
  size_t cut_to = 0;
  ph__mutex_lock(&cache_lock);
  struct ph__region* r = cache.last;
  for (; r != NULL && cache_decayed(r, now, delay); r = cache.last) {
    size_t w = ph__region_work(r->commit_size);
    if (w > work && drop != NULL)
      break;
    cache_unlink(r);
    size_t keep = w > work ? ph__region_cut(r->commit_size, work) : 0;
    if (keep != 0 && keep < r->commit_size) {
      cut = r; /* the first, and too big: its tail */
      cut_to = keep;
      break;
    }
    ph__work_spend(&work, w);
    r->next = drop;
    drop = r;
  }
  atomic_store_explicit(&decay_left,
                        r != NULL && (cut != NULL || cache_decayed(r, now, delay)),
                        memory_order_relaxed);
  ph__mutex_unlock(&cache_lock);
  release_all(drop);
  if (cut == NULL)
    return work;
  cache_shrink(cut, cut_to);
  return 0;
}

bool ph__region_cache_decay_left(void) {
  return atomic_load_explicit(&decay_left, memory_order_relaxed);
}

/* Set the cache bound; (size_t)-1 only reads it.  Returns the old bound. */
size_t ph__region_cache_set(size_t limit) {
  ph__mutex_lock(&cache_lock);
  size_t old = cache_limit;
  if (limit != (size_t)-1)
    cache_limit = limit;
  ph__mutex_unlock(&cache_lock);
  if (limit != (size_t)-1)
    ph__region_cache_trim(limit);
  return old;
}

/* Set the decay time in ms; (uint32_t)-1 only reads it.  Returns the old. */
uint32_t ph__decay_set(uint32_t ms) {
  if (ms == (uint32_t)-1)
    return atomic_load(&decay_ms);
  atomic_store(&decay_next, 0); /* the new time applies from the next pass */
  return atomic_exchange(&decay_ms, ms);
}

uint64_t ph__decay_ms(void) {
  return atomic_load_explicit(&decay_ms, memory_order_relaxed);
}

/* The cache lock, for the fork handlers (lock order: after every heap). */
ph__mutex_t* ph__region_cache_lock(void) {
  return &cache_lock;
}
