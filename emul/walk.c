/*
 * walk.c - HeapWalk: the cursor is the caller's entry, nothing else.
 *
 * Order, as on Windows: for each blocks region, a REGION entry, its blocks
 * in address order (busy ones flagged BUSY, free and quick ones with flags
 * 0), then an UNCOMMITTED_RANGE entry if part of it is not committed; then
 * each large block, BUSY, without a REGION entry of its own.
 *
 * Sizes, as Windows reports them (Wine's tests, asserted on Windows; p is
 * sizeof(void *)):
 *   busy   lpData the block, cbData its requested size, cbOverhead the
 *          rest of its span (8 for a block spaced exactly: 0x28 bytes
 *          take 0x30)
 *   free   lpData 2p past the data (past the links), cbOverhead 4p, and
 *          what follows starts at lpData + cbData + 2 x cbOverhead
 *   quick  as Windows shows a free slot of its low-fragmentation heap:
 *          lpData the data, cbOverhead 2p, cbData the rest of the span
 *   run    (runs.h) its slots, busy or free as above; its head, which
 *          Windows would not show, is stepped over
 *
 * Each step re-derives its position from entry->lpData and entry->wFlags
 * and checks it (the region through the address map, the block through its
 * header and its neighbour's), so a cursor made stale by frees between
 * steps, or forged, gives ERROR_INVALID_PARAMETER, never a wild read.
 */
#include "runs.h"

#define PH__P sizeof(void*) /* Windows' sizes below count in pointers */

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

/* A region entry, as Windows gives it: cbData its control data, no
 * overhead, its first block 2p past them (Wine's tests, on Windows), where
 * Windows' 2p-byte heap entry of the first block starts (x64: 8 bytes
 * before the engine's header, which are the region's), its sizes in
 * Region. */
static void entry_region(ph_heap_entry_t* e, struct ph__region* r) {
  entry_clear(e, r);
  e->lpData = region_data(r);
  char* first = (char*)ph__region_first(r) - (2 * PH__P - PH__HEADER);
  size_t skip = (size_t)((char*)e->lpData - (char*)r);
  e->cbData = clamp32((size_t)(first - (char*)e->lpData) - 2 * PH__P);
  e->cbOverhead = 0;
  e->wFlags = PH_PROCESS_HEAP_REGION;
  e->Region.dwCommittedSize = clamp32(r->commit_size - skip);
  e->Region.dwUnCommittedSize = clamp32(r->reserve_size - r->commit_size);
  e->Region.lpFirstBlock = first;
  e->Region.lpLastBlock = (char*)r + r->reserve_size;
}

/* A busy entry for live block b of h (BUSY, or a busy run slot): the
 * size asked for, the rest of its span as overhead (if the bytes that
 * keep a large slack were overwritten, ph__live_slack, none). */
static void entry_busy(ph_heap_entry_t* e, const struct ph__heap* h,
                       const struct ph__block* b) {
  size_t slack = ph__live_slack(h, b);
  slack = slack == SIZE_MAX ? 0 : slack;
  e->cbData = clamp32(ph__block_capacity(b) - slack);
  e->cbOverhead = clamp8(PH__HEADER + slack);
  e->wFlags = PH_PROCESS_HEAP_ENTRY_BUSY;
}

static void entry_block(ph_heap_entry_t* e, struct ph__region* r,
                        struct ph__block* b) {
  entry_clear(e, r);
  size_t span = (size_t)ph__block_size(b) << PH__GRANULE_SHIFT;
  e->lpData = ph__block_data(b);
  switch (ph__block_state(b)) {
  case PH__STATE_BUSY:
    entry_busy(e, r->heap, b);
    break;
  case PH__STATE_RUN: /* a slot: busy, or free as the LFH shows it */
    if (ph__block_live(r->heap, b)) {
      entry_busy(e, r->heap, b);
      break;
    }
    /* fall through */
  case PH__STATE_QUICK:
    e->cbData = clamp32(span - 2 * PH__P);
    e->cbOverhead = (uint8_t)(2 * PH__P);
    break;
  default: /* FREE; a free block small enough for none of its bytes to
              show is reported from its data with none */
    if (span >= 10 * PH__P) {
      e->lpData = (char*)e->lpData + 2 * PH__P;
      e->cbData = clamp32(span - 10 * PH__P);
      e->cbOverhead = (uint8_t)(4 * PH__P);
    } else {
      e->cbData = 0;
      e->cbOverhead = clamp8(span - PH__HEADER);
    }
  }
}

/* Block b of a walk, or the slot after it if it is a run's head: Windows
 * shows its LFH's blocks, not the subsegment that holds them (Wine's
 * test_HeapCreate: no other busy entry), and a head is always followed by
 * its first slot. */
static struct ph__block* shown(struct ph__block* b) {
  return ph__block_state(b) == PH__STATE_RUN_HEAD ? ph__block_next(b) : b;
}

/* The block of a cursor's lpData (a free entry's is 2p past its data when
 * its cbOverhead is 4p, which no other entry of a block has). */
static struct ph__block* cursor_block(const ph_heap_entry_t* e) {
  char* data = e->lpData;
  if (e->wFlags == 0 && e->cbOverhead == 4 * PH__P)
    data -= 2 * PH__P;
  return ph__block_of(data);
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
  if (h->large.first != NULL) {
    entry_large(e, h->large.first);
    return 0;
  }
  return after_shard(h, e);
}

/*
 * Whether b, inside r's committed blocks, is a block of h now: its header
 * checks (a header that stops being one is wiped, block.h), it is a
 * block's, and if it says the block before is FREE, that block ends here.
 */
static bool block_current(struct ph__heap* h, struct ph__region* r,
                          struct ph__block* b) {
  if (((uintptr_t)b & (PH__GRANULE - 1)) != PH__HEADER ||
      (char*)b < (char*)ph__region_first(r) ||
      (char*)b >= (char*)ph__region_sentinel(r) ||
      !ph__block_sealed(&h->seal, b))
    return false;
  unsigned s = ph__block_state(b);
  if (s != PH__STATE_BUSY && s != PH__STATE_FREE && s != PH__STATE_QUICK &&
      s != PH__STATE_RUN)
    return false;
  return !ph__block_prev_free(b) || ph__block_free_before(h, b) != NULL;
}

/* The entry after the block at e->lpData in blocks region r. */
static uint32_t after_block(struct ph__heap* h, ph_heap_entry_t* e,
                            struct ph__region* r) {
  struct ph__block* b = cursor_block(e);
  if (!block_current(h, r, b))
    return PH_ERROR_INVALID_PARAMETER;
  struct ph__block* n = ph__block_next(b);
  if ((char*)n > (char*)ph__region_sentinel(r) ||
      !ph__block_sealed(&h->seal, n))
    return PH_ERROR_INVALID_PARAMETER;
  n = shown(n);
  if (ph__block_state(n) != PH__STATE_SENTINEL) {
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
    entry_block(e, r, shown(ph__region_first(r)));
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
