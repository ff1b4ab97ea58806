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
 */
#include "engine.h"

static size_t large_capacity(const struct ph__region* r) {
  return r->commit_size - r->data_offset - PH__GRANULE;
}

void* ph__large_alloc(struct ph__heap* h, size_t size) {
  size_t head = sizeof(struct ph__region) + PH__GRANULE;
  if (size > SIZE_MAX - head - PH__CHUNK)
    return NULL;
  unsigned flags = 0;
  if (ph__heap_exec(h))
    flags |= PH__REGION_EXEC;
  size_t reserve = head + size <= SIZE_MAX / 2 ? 2 * (head + size) : head + size;
  struct ph__region* r =
      ph__region_new(reserve, head + size, PH__REGION_LARGE, flags);
  if (r == NULL)
    return NULL;
  ph__heap_region_add(h, r);
  r->large_size = size;
  struct ph__block* b = ph__region_first(r);
  ph__block_set(&h->seal, b, 0, 0, PH__STATE_LARGE, 0);
  return ph__block_data(b);
}

void ph__large_free(struct ph__heap* h, struct ph__region* r) {
  ph__heap_region_release(h, r);
}

/* Resize a large block: in its own pages when they suffice (shrinking
 * never moves), else to a new block unless in_place_only. */
void* ph__large_realloc(struct ph__heap* h, struct ph__region* r, size_t size,
                        bool in_place_only) {
  void* data = ph__block_data(ph__region_first(r));
  size_t head = r->data_offset + PH__GRANULE;
  if (size > large_capacity(r) && size <= r->reserve_size - head) {
    size_t commit = ph__page_up(head + size);
    if (commit != 0 && commit <= r->reserve_size)
      ph__heap_commit(h, r, commit);
  }
  if (size <= large_capacity(r)) {
    r->large_size = size;
    return data;
  }
  if (in_place_only)
    return NULL;
  void* moved = ph__heap_alloc(h, size);
  if (moved == NULL)
    return NULL;
  memcpy(moved, data, r->large_size);
  ph__large_free(h, r);
  return moved;
}
