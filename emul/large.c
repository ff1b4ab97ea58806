/*
 * large.c - blocks above the fixed-heap block limit in a growable heap.
 *
 * Each gets a region of its own, laid out as [region header][block
 * header][data], with twice its size reserved (address space only) so that
 * it can grow in place.  Such blocks still belong to their heap: they are on
 * its `large` list, so walks, summaries and ph_heap_destroy see them.  A
 * freed large block leaves its heap at once: its region goes back to the OS,
 * or to the bounded region cache (region.c), from which the next large
 * block or heap region of a fitting size is served without page faults.
 *
 * HeapReAlloc: exactly the pages up to the block's end are committed, so
 * a shrunk block gives back its tail and one grown in place commits fresh
 * (zero) pages (not with HEAP_REALLOC_IN_PLACE_ONLY, which stays within
 * the committed pages, as Windows).  Past its reservation a block moves with its region
 * header: where the system can move pages between mappings (Linux
 * mremap, as glibc moves its mmapped chunks) to a new reservation twice
 * its size, without copying; elsewhere the heap copies it to a new block.
 *
 * This layer knows regions, not heaps: it makes, resizes and moves a large
 * block's region and reports what changed; the heap (heap.c) puts the
 * region on its list and keeps its totals.
 */
#include "engine.h"

/* Seal the header of the large block of region r (it is sealed by its
 * address: again after a move). */
static void large_seal(struct ph__region* r, const struct ph__seal_keys* seal) {
  ph__block_set(seal, ph__region_first(r), 0, PH__STATE_LARGE, 0);
}

/* Where a large block's data starts in its region: the first place past
 * the region's and the block's headers at 8 x sizeof(void *) modulo
 * 16 x sizeof(void *), as Windows' large blocks lie (64 modulo 128 on
 * x64: Wine's tests, asserted on Windows); the base is 64 KiB aligned. */
#define PH__LARGE_ALIGN (16u * (unsigned)sizeof(void*))
#define PH__LARGE_DATA                                                         \
  (((sizeof(struct ph__region) + PH__HEADER - PH__LARGE_ALIGN / 2 +            \
     PH__LARGE_ALIGN - 1) / PH__LARGE_ALIGN) * PH__LARGE_ALIGN +               \
   PH__LARGE_ALIGN / 2)

struct ph__region* ph__large_new(size_t size, const struct ph__seal_keys* seal,
                                 bool exec) {
  size_t head = PH__LARGE_DATA;
  if (size > PH_REQUEST_MAX) /* so head + size + PH__CHUNK cannot wrap */
    return NULL;
  size_t reserve = head + size <= SIZE_MAX / 2 ? 2 * (head + size) : head + size;
  struct ph__region* r = ph__region_new(reserve, head + size, PH__REGION_LARGE,
                                        exec ? PH__REGION_EXEC : 0u);
  if (r == NULL)
    return NULL;
  r->large_size = size;
  r->data_offset = head - PH__HEADER;
  large_seal(r, seal);
  return r;
}

/* Commit or give back pages of large block region r so that exactly
 * `commit` bytes are committed (a page multiple within its reservation).
 * Returns false, nothing changed, if the system refuses more pages; giving
 * back may fail, keeping the pages (commit_size says which). */
static bool large_pages(struct ph__region* r, size_t commit, bool exec) {
  if (commit > r->commit_size)
    return ph__region_commit(r, commit, exec);
  if (commit < r->commit_size)
    ph__region_decommit(r, commit);
  return true;
}

/*
 * Move large block region r, with its header, to a new reservation of
 * `reserve` bytes with `commit` committed (more than r has), the pages
 * moved by the system rather than copied (ph__prim_remap), and enter it in
 * the address map instead of r.  Returns the new region, or NULL with
 * nothing changed where the system cannot.  Caller holds the heap's lock;
 * no other thread may use the block meanwhile (it is being reallocated),
 * and lookups of any other address are unaffected.  The region's links to
 * its neighbours on the heap's list move with it; theirs are the heap's to
 * mend.
 */
static struct ph__region* large_remap(struct ph__region* r, size_t reserve,
                                      size_t commit,
                                      const struct ph__seal_keys* seal,
                                      bool exec) {
  size_t old_commit = r->commit_size, old_reserve = r->reserve_size;
  char* to = ph__prim_reserve(reserve, PH__CHUNK);
  if (to == NULL)
    return NULL;
  /* Everything that can fail, before the move: the new pages, the map's
   * tables for the new place. */
  if (ph__prim_commit(to + old_commit, commit - old_commit, exec) != 0 ||
      !ph__map_prepare(to, reserve)) {
    ph__prim_release(to, reserve);
    return NULL;
  }
  ph__map_remove(r); /* reads r: before the move */
  if (ph__prim_remap(r, old_commit, to) != 0) {
    ph__map_insert(r); /* its tables exist: cannot fail */
    ph__prim_release(to, reserve);
    return NULL;
  }
  ph__prim_release(r, old_reserve); /* what is left of the old place */
  struct ph__region* n = (struct ph__region*)to;
  n->reserve_size = reserve;
  n->commit_size = commit;
  ph__map_insert(n); /* prepared: cannot fail */
  large_seal(n, seal);
  return n;
}

/* The reservation for a large block of `size` bytes with `head` bytes
 * before its data: twice what it needs, room to grow in place; 0 if that
 * cannot be had. */
static size_t large_reserve(size_t head, size_t size) {
  if (size > PH_REQUEST_MAX)
    return 0;
  return ph__page_up(head + size <= SIZE_MAX / 2 ? 2 * (head + size)
                                                 : head + size);
}

/* The block of region r, resized to `size` bytes in its pages, which
 * changed; of its data, only the first `dirty` bytes were committed
 * before (the rest is fresh, zero).  Zeroes what it gained if `flags`
 * say so. */
static void* large_resized(struct ph__region* r, size_t size, size_t dirty,
                           uint32_t flags) {
  char* data = ph__block_data(ph__region_first(r));
  size_t old_size = r->large_size;
  r->large_size = size;
  if ((flags & PH_HEAP_ZERO_MEMORY) && size > old_size && dirty > old_size)
    memset(data + old_size, 0, (dirty < size ? dirty : size) - old_size);
  return data;
}

/*
 * Resize the large block of region *rp to `size` bytes (zeroing what it
 * gains with HEAP_ZERO_MEMORY): in its own pages while its reservation
 * holds it, shrinking gives back the pages past the new size; else, unless
 * REALLOC_IN_PLACE_ONLY, moved: its pages remapped to a new reservation,
 * twice its size, where the system can (no copy), *rp then naming the new
 * region.  Returns the block, or NULL with the block unchanged: then the
 * heap copies it (heap.c).  Either way the region's commit_size says what
 * it has committed now.
 */
void* ph__large_realloc(struct ph__region** rp, size_t size, uint32_t flags,
                        const struct ph__seal_keys* seal, bool exec) {
  struct ph__region* r = *rp;
  size_t head = r->data_offset + PH__HEADER;
  size_t dirty = r->commit_size - head;
  size_t commit = size <= PH_REQUEST_MAX ? ph__page_up(head + size) : 0;
  if (commit == 0)
    return NULL;
  /* In place only, a block grows within its committed pages: once shrunk
   * (its tail decommitted), it cannot grow back in place, as on Windows
   * (Wine's tests). */
  if ((flags & PH_HEAP_REALLOC_IN_PLACE_ONLY) && commit > r->commit_size)
    return NULL;
  if (commit <= r->reserve_size && large_pages(r, commit, exec))
    return large_resized(r, size, dirty, flags);
  if (flags & PH_HEAP_REALLOC_IN_PLACE_ONLY)
    return NULL;
  size_t reserve = large_reserve(head, size);
  struct ph__region* moved =
      reserve != 0 ? large_remap(r, reserve, commit, seal, exec) : NULL;
  if (moved == NULL)
    return NULL;
  *rp = moved;
  return large_resized(moved, size, dirty, flags);
}
