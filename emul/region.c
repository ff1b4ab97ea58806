/*
 * region.c - regions: address space from prim, committed as a heap fills,
 * and the process-wide cache of regions left by destroyed heaps.
 *
 * The cache is what makes "create, fill, destroy" cheap when repeated: a
 * destroyed heap's regions keep their committed pages and wait here, up to
 * a bound on committed bytes (ph_region_cache_limit), for the next heap
 * that needs a region of at least their size.  No system call and no page
 * fault is spent on them again.  What exceeds the bound goes back to the
 * OS at once.  Executable regions are never cached; regions of freed large
 * blocks are, like those of destroyed heaps.
 */
#include "engine.h"

static ph__mutex_t cache_lock = PH__MUTEX_INIT;
static struct ph__region* cache_head; /* singly linked through next */
static size_t cache_bytes;            /* sum of cached commit_size */
static size_t cache_limit = (size_t)256 << 20;

size_t ph__page_up(size_t n) {
  size_t page = ph__prim_page_size();
  if (n > SIZE_MAX - page)
    return 0;
  return (n + page - 1) & ~(page - 1);
}

/* The smallest cached region of at least `reserve` bytes, unlinked; or NULL.
 * Caller holds cache_lock. */
static struct ph__region* cache_take(size_t reserve) {
  struct ph__region **best = NULL, **link = &cache_head;
  for (; *link != NULL; link = &(*link)->next) {
    size_t have = (*link)->reserve_size;
    if (have >= reserve && (best == NULL || have < (*best)->reserve_size))
      best = link;
  }
  if (best == NULL)
    return NULL;
  struct ph__region* r = *best;
  *best = r->next;
  cache_bytes -= r->commit_size;
  return r;
}

static struct ph__region* region_from_cache(size_t reserve) {
  ph__mutex_lock(&cache_lock);
  struct ph__region* r = cache_take(reserve);
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

/*
 * A region of at least min_reserve bytes (exactly, with PH__REGION_EXACT)
 * with at least min_commit bytes committed, entered in the address map and
 * counted in h's totals.
 * Returns NULL when the memory cannot be had.  Caller holds h's lock.
 */
struct ph__region* ph__region_new(struct ph__heap* h, size_t min_reserve,
                                  size_t min_commit, uint32_t kind,
                                  unsigned flags) {
  bool exec = (flags & PH__REGION_EXEC) != 0;
  size_t reserve = ph__page_up(min_reserve);
  size_t commit = ph__page_up(min_commit);
  if (reserve == 0 || commit == 0 || commit > reserve)
    return NULL;
  struct ph__region* r = NULL;
  if ((flags & (PH__REGION_EXEC | PH__REGION_EXACT)) == 0)
    r = region_from_cache(reserve);
  if (r != NULL && r->commit_size < commit &&
      ph__prim_commit(r, commit, false) == 0)
    r->commit_size = commit;
  if (r != NULL && r->commit_size < commit) {
    ph__prim_release(r, r->reserve_size);
    r = NULL;
  }
  if (r == NULL)
    r = region_from_os(reserve, commit, exec);
  if (r == NULL)
    return NULL;
  /* A large block keeps no more pages than it needs, even from the cache
   * (a heap region's spare pages are its own free space; a large block's
   * would be invisible). */
  if (kind == PH__REGION_LARGE && r->commit_size > commit &&
      ph__prim_decommit((char*)r + commit, r->commit_size - commit) == 0)
    r->commit_size = commit;
  r->heap = h;
  r->next = r->prev = NULL;
  r->kind = kind;
  r->large_size = 0;
  r->data_offset = sizeof(struct ph__region);
  if (!ph__map_insert(r)) {
    ph__prim_release(r, r->reserve_size);
    return NULL;
  }
  if (h != NULL) {
    r->index = atomic_fetch_add(&h->top->next_index, 1);
    h->reserved += ph__region_reserved(r);
    h->committed += r->commit_size;
  }
  return r;
}

/* Grow a region's committed part to commit_size bytes (a page multiple,
 * at most reserve_size).  Returns false if the system refuses. */
bool ph__region_commit(struct ph__region* r, size_t commit_size, bool exec) {
  PH_ASSERT(commit_size <= r->reserve_size && commit_size > r->commit_size);
  char* base = (char*)r;
  if (ph__prim_commit(base + r->commit_size, commit_size - r->commit_size,
                      exec) != 0)
    return false;
  r->heap->committed += commit_size - r->commit_size;
  if (r->kind == PH__REGION_LARGE)
    r->heap->reserved += commit_size - r->commit_size;
  r->commit_size = commit_size;
  return true;
}

/* Shrink a region's committed part to commit_size bytes. */
void ph__region_decommit(struct ph__region* r, size_t commit_size) {
  PH_ASSERT(commit_size < r->commit_size);
  char* base = (char*)r;
  if (ph__prim_decommit(base + commit_size, r->commit_size - commit_size) != 0)
    return; /* keeping the pages is always safe */
  r->heap->committed -= r->commit_size - commit_size;
  r->commit_size = commit_size;
}

/* Take a region out of its heap for good: into the cache, or to the OS.
 * The caller has unlinked it from the heap's lists and totals. */
void ph__region_retire(struct ph__region* r, bool exec) {
  ph__map_remove(r);
  r->heap = NULL;
  if (!exec) {
    ph__mutex_lock(&cache_lock);
    if (cache_bytes + r->commit_size <= cache_limit) {
      r->next = cache_head;
      cache_head = r;
      cache_bytes += r->commit_size;
      r = NULL;
    }
    ph__mutex_unlock(&cache_lock);
  }
  if (r != NULL)
    ph__prim_release(r, r->reserve_size);
}

/* Release cached regions until at most `keep` committed bytes remain. */
void ph__region_cache_trim(size_t keep) {
  for (;;) {
    ph__mutex_lock(&cache_lock);
    struct ph__region* r = NULL;
    if (cache_bytes > keep && cache_head != NULL) {
      r = cache_head;
      cache_head = r->next;
      cache_bytes -= r->commit_size;
    }
    ph__mutex_unlock(&cache_lock);
    if (r == NULL)
      return;
    ph__prim_release(r, r->reserve_size);
  }
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

/* The cache lock, for the fork handlers (lock order: after every heap). */
ph__mutex_t* ph__region_cache_lock(void) {
  return &cache_lock;
}
