/*
 * walk.c - HeapWalk: the cursor is the caller's entry, nothing else.
 *
 * Order, as on Windows: for each blocks region, a REGION entry, its blocks
 * in address order (busy ones flagged BUSY, free and quick ones with flags
 * 0), then an UNCOMMITTED_RANGE entry if part of it is not committed; then
 * each large block, BUSY, without a REGION entry of its own.
 *
 * Each step re-derives its position from entry->lpData and entry->wFlags
 * and checks it (the region through the address map, the block through its
 * header and its neighbour's), so a cursor made stale by frees between
 * steps, or forged, gives ERROR_INVALID_PARAMETER, never a wild read.
 */
#include "engine.h"

static uint32_t clamp32(size_t n) {
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static uint8_t clamp8(size_t n) {
  return n > UINT8_MAX ? UINT8_MAX : (uint8_t)n;
}

static void entry_clear(ph_heap_entry_t* e, struct ph__region* r) {
  memset(e, 0, sizeof *e);
  e->iRegionIndex = clamp8(r->index);
}

/* Where a region entry says the region starts: at the handle for a heap's
 * first region (lpData is the heap handle, as on Windows; the handle is
 * the base plus a salt, registry.c), else at its base.  Its sizes count
 * from there. */
static void* region_data(struct ph__region* r) {
  struct ph__heap* h = r->heap;
  return r == &h->region0 && h->top == h ? ph__heap_handle(h) : (void*)r;
}

static void entry_region(ph_heap_entry_t* e, struct ph__region* r) {
  entry_clear(e, r);
  e->lpData = region_data(r);
  size_t skip = (size_t)((char*)e->lpData - (char*)r);
  e->cbData = clamp32(r->data_offset - skip); /* the region's header, as
                                                 Windows reports it; sizes
                                                 are below */
  e->cbOverhead = 0;
  e->wFlags = PH_PROCESS_HEAP_REGION;
  e->Region.dwCommittedSize = clamp32(r->commit_size - skip);
  e->Region.dwUnCommittedSize = clamp32(r->reserve_size - r->commit_size);
  e->Region.lpFirstBlock = ph__region_first(r);
  e->Region.lpLastBlock = (char*)r + r->reserve_size;
}

static void entry_block(ph_heap_entry_t* e, struct ph__region* r,
                        struct ph__block* b) {
  entry_clear(e, r);
  e->lpData = ph__block_data(b);
  if (b->state == PH__STATE_BUSY) {
    e->cbData = clamp32(ph__block_capacity(b) - b->slack);
    e->cbOverhead = clamp8(PH__GRANULE + b->slack);
    e->wFlags = PH_PROCESS_HEAP_ENTRY_BUSY;
  } else {
    /* As Windows reports a free block: what follows it starts at lpData +
     * cbData + 2 x cbOverhead (Wine's tests, asserted on Windows and on
     * Wine). */
    e->cbData = clamp32(ph__block_capacity(b) - PH__GRANULE);
    e->cbOverhead = PH__GRANULE;
  }
}

static void entry_large(ph_heap_entry_t* e, struct ph__region* r) {
  entry_clear(e, r);
  e->lpData = ph__block_data(ph__region_first(r));
  e->cbData = clamp32(r->large_size);
  e->cbOverhead = 0; /* as Windows 10 and later report it (Wine's tests) */
  e->wFlags = PH_PROCESS_HEAP_ENTRY_BUSY;
}

/* The first entry of the shard after h (its first region), or the end. */
static uint32_t after_shard(struct ph__heap* h, ph_heap_entry_t* e) {
  struct ph__heap* next = ph__heap_next_shard(h);
  if (next == NULL)
    return PH_ERROR_NO_MORE_ITEMS;
  entry_region(e, &next->region0);
  return 0;
}

/* The entry after region r's blocks: the next region, then large blocks,
 * then the next shard's. */
static uint32_t after_region(struct ph__heap* h, ph_heap_entry_t* e,
                             struct ph__region* r) {
  if (r->next != NULL) {
    entry_region(e, r->next);
    return 0;
  }
  if (h->large != NULL) {
    entry_large(e, h->large);
    return 0;
  }
  return after_shard(h, e);
}

/*
 * Whether b, inside r's committed blocks, is a block of h now.  A sealed
 * header is not enough: a block merged into the free block before it keeps
 * its old, sealed header inside that block's payload.  So the block before
 * b must also agree on b's start (the first block has none).
 */
static bool block_current(struct ph__heap* h, struct ph__region* r,
                          struct ph__block* b) {
  struct ph__block* first = ph__region_first(r);
  if (((uintptr_t)b & (PH__GRANULE - 1)) != 0 || (char*)b < (char*)first ||
      (char*)b >= (char*)ph__region_sentinel(r) ||
      !ph__block_sealed(&h->seal, b) || b->state == PH__STATE_SENTINEL)
    return false;
  if (b->prev_size == 0)
    return b == first;
  if ((size_t)((char*)b - (char*)first) <
      (size_t)b->prev_size * PH__GRANULE)
    return false;
  struct ph__block* p = ph__block_prev(b);
  return ph__block_sealed(&h->seal, p) && p->size == b->prev_size &&
         p->state != PH__STATE_SENTINEL;
}

/* The entry after the block at e->lpData in blocks region r. */
static uint32_t after_block(struct ph__heap* h, ph_heap_entry_t* e,
                            struct ph__region* r) {
  struct ph__block* b = ph__block_of(e->lpData);
  if (!block_current(h, r, b))
    return PH_ERROR_INVALID_PARAMETER;
  struct ph__block* n = ph__block_next(b);
  if (!ph__block_sealed(&h->seal, n))
    return PH_ERROR_INVALID_PARAMETER;
  if (n->state != PH__STATE_SENTINEL) {
    entry_block(e, r, n);
    return 0;
  }
  if (r->commit_size < r->reserve_size) {
    entry_clear(e, r);
    e->lpData = (char*)r + r->commit_size;
    e->cbData = clamp32(r->reserve_size - r->commit_size);
    e->wFlags = PH_PROCESS_HEAP_UNCOMMITTED_RANGE;
    return 0;
  }
  return after_region(h, e, r);
}

/* Fill *e with the entry after it.  Returns 0, ERROR_NO_MORE_ITEMS at the
 * end, or ERROR_INVALID_PARAMETER for a cursor that is not one of h's.
 * Caller holds h's lock. */
uint32_t ph__walk_next(struct ph__heap* h, ph_heap_entry_t* e) {
  if (e->lpData == NULL) {
    entry_region(e, &h->region0);
    return 0;
  }
  struct ph__region* r = ph__map_find(e->lpData);
  if (r == NULL || r->heap == NULL || r->heap->top != h)
    return PH_ERROR_INVALID_PARAMETER;
  h = r->heap; /* the shard holding the cursor */
  if (r->kind == PH__REGION_LARGE) {
    if (e->lpData != ph__block_data(ph__region_first(r)))
      return PH_ERROR_INVALID_PARAMETER;
    if (r->next == NULL)
      return after_shard(h, e);
    entry_large(e, r->next);
    return 0;
  }
  switch (e->wFlags) {
  case PH_PROCESS_HEAP_REGION:
    if (e->lpData != region_data(r))
      return PH_ERROR_INVALID_PARAMETER;
    entry_block(e, r, ph__region_first(r));
    return 0;
  case PH_PROCESS_HEAP_UNCOMMITTED_RANGE:
    if (e->lpData != (char*)r + r->commit_size)
      return PH_ERROR_INVALID_PARAMETER;
    return after_region(h, e, r);
  case PH_PROCESS_HEAP_ENTRY_BUSY:
  case 0:
    return after_block(h, e, r);
  default:
    return PH_ERROR_INVALID_PARAMETER;
  }
}
