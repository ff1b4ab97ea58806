/*
 * test-walk.c - HeapWalk: the protocol (start with lpData NULL, pass the
 * same struct back, end with ERROR_NO_MORE_ITEMS), the REGION entries and
 * what they bracket, and that busy entries are exactly the live blocks.
 */
#include "suites.h"

#include <stdatomic.h>
#include <string.h>

/* Address comparisons that print both sides. */
#define ck_assert_addr_ge(a, b) ck_assert_uint_ge((uintptr_t)(a), (uintptr_t)(b))
#define ck_assert_addr_gt(a, b) ck_assert_uint_gt((uintptr_t)(a), (uintptr_t)(b))
#define ck_assert_addr_le(a, b) ck_assert_uint_le((uintptr_t)(a), (uintptr_t)(b))

/* A whole walk, kept: up to MAX_ENTRIES entries, and how it ended. */
enum { MAX_ENTRIES = 4096 };
struct walk {
  PROCESS_HEAP_ENTRY entry[MAX_ENTRIES];
  size_t count;
  DWORD end_error; /* last error of the final FALSE */
};
static struct walk walk;

static void walk_heap(HANDLE h) {
  PROCESS_HEAP_ENTRY e;
  memset(&e, 0, sizeof e);
  e.lpData = NULL;
  walk.count = 0;
  for (;;) {
    SetLastError(0);
    BOOL more = (BOOL)ph_le_uint(HeapWalk(h, &e));
    if (!more)
      break;
    ck_assert_uint_lt(walk.count, MAX_ENTRIES);
    walk.entry[walk.count++] = e;
  }
  walk.end_error = ph_test_error;
}

/* Whether p is one of blocks[0..n); returns its index or -1. */
static int find_block(void* const* blocks, int n, const void* p) {
  for (int i = 0; i < n; i++)
    if (blocks[i] != NULL && blocks[i] == p)
      return i;
  return -1;
}

static int busy_count(void) {
  int n = 0;
  for (size_t i = 0; i < walk.count; i++)
    n += (walk.entry[i].wFlags & PROCESS_HEAP_ENTRY_BUSY) != 0;
  return n;
}

START_TEST(walk_starts_with_a_region_entry) {
  HANDLE h = ph_test_heap;
  walk_heap(h);
  ck_assert_uint_ge(walk.count, 1);
  PROCESS_HEAP_ENTRY* r = &walk.entry[0];
  ck_assert_uint_eq(r->wFlags & PROCESS_HEAP_REGION, PROCESS_HEAP_REGION);
  ck_assert_ptr_eq(r->lpData, h);
  ck_assert_uint_gt(r->cbData, 0);
}
END_TEST

START_TEST(walk_ends_with_no_more_items) {
  HANDLE h = ph_test_heap;
  void* p = HeapAlloc(h, 0, 100);
  walk_heap(h);
  ck_assert_uint_eq(walk.end_error, ERROR_NO_MORE_ITEMS);
  ck_assert_uint_ge(walk.count, 2);
  HeapFree(h, 0, p);
}
END_TEST

/* Every REGION entry: its blocks start after its base and end at
 * lpLastBlock, within committed + uncommitted bytes of the base; the
 * entries that follow it, up to the next REGION, lie between lpFirstBlock
 * and lpLastBlock, in address order. */
START_TEST(region_entries_bracket_their_blocks) {
  HANDLE h = ph_test_heap;
  void* blocks[300];
  for (int i = 0; i < 300; i++)
    blocks[i] = HeapAlloc(h, 0, (SIZE_T)(i * 37 % 5000) + 1);
  for (int i = 0; i < 300; i += 4)
    HeapFree(h, 0, blocks[i]);
  walk_heap(h);
  ck_assert_uint_eq(walk.end_error, ERROR_NO_MORE_ITEMS);
  int regions = 0;
  const PROCESS_HEAP_ENTRY* region = NULL;
  const char* last_end = NULL;
  for (size_t i = 0; i < walk.count; i++) {
    const PROCESS_HEAP_ENTRY* e = &walk.entry[i];
    if (e->wFlags & PROCESS_HEAP_REGION) {
      regions++;
      region = e;
      const char* base = e->lpData;
      SIZE_T span = (SIZE_T)e->Region.dwCommittedSize +
                    e->Region.dwUnCommittedSize;
      ck_assert_uint_gt(e->Region.dwCommittedSize, 0);
      ck_assert_addr_gt(e->Region.lpFirstBlock, base);
      ck_assert_addr_gt(e->Region.lpLastBlock, e->Region.lpFirstBlock);
      ck_assert_addr_le(e->Region.lpLastBlock, base + span);
      last_end = e->Region.lpFirstBlock;
      continue;
    }
    if (region == NULL || (e->wFlags & PROCESS_HEAP_ENTRY_BUSY &&
                           e->cbData > (1u << 20)))
      continue; /* large blocks may sit outside any region */
    const char* p = e->lpData;
    ck_assert_addr_gt(p, region->Region.lpFirstBlock);
    ck_assert_addr_le(p + e->cbData, (const char*)region->Region.lpLastBlock);
    ck_assert_addr_ge(p, last_end);
    last_end = p + e->cbData;
  }
  ck_assert_int_ge(regions, 1);
}
END_TEST

/* A known pattern of allocations and frees: the busy entries are exactly
 * the live blocks, each with its requested size. */
START_TEST(busy_entries_are_exactly_the_live_blocks) {
  HANDLE h = ph_test_heap;
  enum { N = 400 };
  static void* blocks[N];
  static SIZE_T sizes[N];
  static bool seen[N];
  uint32_t state = ph_test_seed();
  SIZE_T live_bytes = 0;
  int live = 0;
  for (int i = 0; i < N; i++) {
    sizes[i] = ph_test_rand(&state) % (i % 10 == 0 ? 70000 : 900);
    blocks[i] = HeapAlloc(h, 0, sizes[i]);
    ck_assert_ptr_nonnull(blocks[i]);
    seen[i] = false;
  }
  for (int i = 0; i < N; i++) {
    if (i % 3 == 1 || i % 7 == 0) {
      ck_assert_int_ne(HeapFree(h, 0, blocks[i]), FALSE);
      blocks[i] = NULL;
    } else {
      live_bytes += sizes[i];
      live++;
    }
  }
  walk_heap(h);
  ck_assert_uint_eq(walk.end_error, ERROR_NO_MORE_ITEMS);
  SIZE_T busy_bytes = 0;
  for (size_t i = 0; i < walk.count; i++) {
    const PROCESS_HEAP_ENTRY* e = &walk.entry[i];
    if (!(e->wFlags & PROCESS_HEAP_ENTRY_BUSY))
      continue;
    int k = find_block(blocks, N, e->lpData);
    ck_assert_msg(k >= 0, "busy entry %p is not a live block", e->lpData);
    ck_assert_msg(!seen[k], "block %d listed twice", k);
    seen[k] = true;
    ck_assert_uint_eq(e->cbData, sizes[k]);
    busy_bytes += e->cbData;
  }
  ck_assert_int_eq(busy_count(), live);
  ck_assert_uint_eq(busy_bytes, live_bytes);
}
END_TEST

START_TEST(free_entries_have_no_flags) {
  HANDLE h = ph_test_heap;
  void* blocks[64];
  for (int i = 0; i < 64; i++)
    blocks[i] = HeapAlloc(h, 0, 2000);
  for (int i = 0; i < 64; i += 2)
    HeapFree(h, 0, blocks[i]);
  walk_heap(h);
  int free_entries = 0;
  const WORD known = PROCESS_HEAP_REGION | PROCESS_HEAP_UNCOMMITTED_RANGE |
                     PROCESS_HEAP_ENTRY_BUSY;
  for (size_t i = 0; i < walk.count; i++) {
    WORD f = walk.entry[i].wFlags;
    if ((f & known) == 0) {
      ck_assert_uint_eq(f, 0);
      free_entries++;
    }
  }
  ck_assert_int_ge(free_entries, 1);
  for (int i = 1; i < 64; i += 2)
    HeapFree(h, 0, blocks[i]);
}
END_TEST

/* A block above 1 MiB in a growable heap is listed, busy, with its size. */
START_TEST(large_blocks_are_listed) {
  HANDLE h = ph_test_heap;
  SIZE_T big = (SIZE_T)3 << 20;
  void* small = HeapAlloc(h, 0, 100);
  void* p = HeapAlloc(h, 0, big);
  ck_assert_ptr_nonnull(p);
  walk_heap(h);
  ck_assert_uint_eq(walk.end_error, ERROR_NO_MORE_ITEMS);
  int found = 0;
  for (size_t i = 0; i < walk.count; i++) {
    const PROCESS_HEAP_ENTRY* e = &walk.entry[i];
    if (e->lpData == p) {
      found++;
      ck_assert_uint_eq(e->wFlags & PROCESS_HEAP_ENTRY_BUSY,
                        PROCESS_HEAP_ENTRY_BUSY);
      ck_assert_uint_eq(e->cbData, big);
    }
  }
  ck_assert_int_eq(found, 1);
  HeapFree(h, 0, p);
  HeapFree(h, 0, small);
}
END_TEST

/* Windows walks a heap's large blocks (each its own virtual allocation)
 * oldest first, each with iRegionIndex 64, past the 64 indexes its
 * segments can have (Wine's tests, passed on Windows; Wine 8.0 agrees),
 * where Microsoft's PROCESS_HEAP_ENTRY page promises each a unique index.
 * 5 x 0x8000 pointers: 1.25 MiB (x64), 640 KiB (x86), large on both. */
START_TEST(large_blocks_walk_oldest_first_as_region_64) {
  HANDLE h = ph_test_heap;
  SIZE_T big = 5 * 0x8000 * sizeof(void*);
  void* older = HeapAlloc(h, 0, big);
  void* newer = HeapAlloc(h, 0, big);
  ck_assert_ptr_nonnull(older);
  ck_assert_ptr_nonnull(newer);
  walk_heap(h);
  const PROCESS_HEAP_ENTRY *first = NULL, *second = NULL;
  for (size_t i = 0; i < walk.count; i++) {
    const PROCESS_HEAP_ENTRY* e = &walk.entry[i];
    if (e->lpData == older || e->lpData == newer) {
      ck_assert_uint_eq(e->cbData, big);
      *(first == NULL ? &first : &second) = e;
    }
  }
  ck_assert_ptr_nonnull(second);
  ck_assert_ptr_eq(first->lpData, older);
  ck_assert_uint_eq(first->iRegionIndex, 64);
  ck_assert_uint_eq(second->iRegionIndex, 64);
  HeapFree(h, 0, newer);
  HeapFree(h, 0, older);
}
END_TEST

/* Grow h past its first region with blocks of 64 KiB (under the
 * large-block threshold), as many as its first region holds and 8 more,
 * kept in blocks[] (GROW_MAX at most); returns how many. */
enum { GROW_MAX = 1024 };
static int grow_past_first_region(HANDLE h, void** blocks) {
  walk_heap(h);
  ck_assert_uint_ge(walk.count, 1);
  const PROCESS_HEAP_ENTRY* r = &walk.entry[0];
  ck_assert_uint_eq(r->wFlags, PROCESS_HEAP_REGION);
  SIZE_T size = (SIZE_T)r->Region.dwCommittedSize + r->Region.dwUnCommittedSize;
  int n = (int)(size / 0x10000) + 8;
  ck_assert_int_le(n, GROW_MAX);
  for (int i = 0; i < n; i++) {
    blocks[i] = HeapAlloc(h, 0, 0x10000);
    ck_assert_ptr_nonnull(blocks[i]);
  }
  return n;
}

/* Each region has an index of its own (Microsoft's PROCESS_HEAP_ENTRY
 * page), which the entries of its blocks carry: a heap grown past its
 * first region. */
START_TEST(regions_have_indexes_of_their_own) {
  HANDLE h = ph_test_heap;
  static void* blocks[GROW_MAX];
  int n = grow_past_first_region(h, blocks);
  walk_heap(h);
  unsigned regions = 0;
  bool unique = true, carried = true;
  BYTE seen[256] = {0};
  const PROCESS_HEAP_ENTRY* region = NULL;
  for (size_t i = 0; i < walk.count; i++) {
    const PROCESS_HEAP_ENTRY* e = &walk.entry[i];
    if (e->wFlags & PROCESS_HEAP_REGION) {
      region = e;
      regions++;
      unique = unique && e->iRegionIndex < 64 && !seen[e->iRegionIndex];
      seen[e->iRegionIndex] = 1;
    } else if (region != NULL &&
               (char*)e->lpData < (char*)region->Region.lpLastBlock) {
      carried = carried && e->iRegionIndex == region->iRegionIndex;
    }
  }
  ck_assert_uint_ge(regions, 2);
  ck_assert(carried);
  for (int i = 0; i < n; i++)
    ck_assert_int_ne(HeapFree(h, 0, blocks[i]), FALSE);
  PH_ASSERT_DOC(unique, "Wine 8.0 gives a heap's regions one index");
}
END_TEST

/* Regions that go (released by HeapCompact once empty) give their indexes
 * back: a heap that grows and shrinks 300 times still reads indexes under
 * 64 (they were counted up, and stuck at 255). */
START_TEST(released_regions_give_their_indexes_back) {
  HANDLE h = ph_test_heap;
  static void* blocks[GROW_MAX];
  for (int round = 0; round < 300; round++) {
    int n = grow_past_first_region(h, blocks);
    if (round == 299) {
      walk_heap(h);
      unsigned regions = 0;
      for (size_t i = 0; i < walk.count; i++)
        if (walk.entry[i].wFlags & PROCESS_HEAP_REGION) {
          regions++;
          ck_assert_uint_lt(walk.entry[i].iRegionIndex, 64);
        }
      ck_assert_uint_ge(regions, 2);
    }
    for (int i = 0; i < n; i++)
      HeapFree(h, 0, blocks[i]);
    HeapCompact(h, 0);
  }
}
END_TEST

/* An uncommitted range entry, where there is one, starts where its
 * region's committed part ends and stops at the region's end. */
START_TEST(uncommitted_ranges_lie_in_their_region) {
  HANDLE h = ph_test_heap;
  walk_heap(h);
  const PROCESS_HEAP_ENTRY* region = NULL;
  int uncommitted = 0;
  for (size_t i = 0; i < walk.count; i++) {
    const PROCESS_HEAP_ENTRY* e = &walk.entry[i];
    if (e->wFlags & PROCESS_HEAP_REGION)
      region = e;
    if (!(e->wFlags & PROCESS_HEAP_UNCOMMITTED_RANGE))
      continue;
    ck_assert_ptr_nonnull(region);
    ck_assert_uint_eq(e->wFlags & PROCESS_HEAP_ENTRY_BUSY, 0);
    const char* p = e->lpData;
    const char* base = region->lpData;
    ck_assert_ptr_eq(p, base + region->Region.dwCommittedSize);
    ck_assert_ptr_eq(p + e->cbData, region->Region.lpLastBlock);
    uncommitted++;
  }
  /* (a new heap may have none: the engine may reuse a committed region) */
  ck_assert_uint_le((size_t)uncommitted, walk.count);
}
END_TEST

/* ---- a walk under HeapLock while another thread wants the heap -------- */

struct waiter {
  HANDLE heap;
  atomic_int started;
  atomic_int done;
  void* block;
};

static void waiter_main(void* arg) {
  struct waiter* w = arg;
  atomic_store(&w->started, 1);
  w->block = HeapAlloc(w->heap, 0, 48);
  atomic_store(&w->done, 1);
}

START_TEST(walk_under_lock_while_another_thread_waits) {
  static struct waiter w;
  w.heap = ph_test_heap;
  atomic_store(&w.started, 0);
  atomic_store(&w.done, 0);
  w.block = NULL;
  void* mine = HeapAlloc(w.heap, 0, 200);
  ck_assert_int_ne(HeapLock(w.heap), FALSE);
  ph_test_thread_t* t = ph_test_thread_start(waiter_main, &w);
  while (!atomic_load(&w.started))
    ; /* the thread is about to ask for the heap */
  walk_heap(w.heap);
  walk_heap(w.heap); /* twice: the thread still cannot get in */
  int done_while_locked = atomic_load(&w.done);
  ck_assert_uint_eq(walk.end_error, ERROR_NO_MORE_ITEMS);
  bool mine_listed = false;
  for (size_t i = 0; i < walk.count; i++)
    mine_listed |= walk.entry[i].lpData == mine;
  ck_assert_int_ne(HeapUnlock(w.heap), FALSE);
  ph_test_thread_join(t);
  ck_assert_int_eq(done_while_locked, 0);
  ck_assert(mine_listed);
  ck_assert_ptr_nonnull(w.block);
  ck_assert_uint_eq(HeapSize(w.heap, 0, w.block), 48);
}
END_TEST

/* Windows reports the region's control data in cbData (Wine's heap tests
 * assert at most 0x1000 on Windows, though the documentation says the
 * reserved size) and no overhead; the region's size is in
 * Region.dwCommittedSize + dwUnCommittedSize, and its first block starts
 * 2p (or on some versions 4p) past the control data. */
START_TEST(region_entry_describes_its_header_and_sizes) {
  HANDLE h = ph_test_heap;
  walk_heap(h);
  const PROCESS_HEAP_ENTRY* r = &walk.entry[0];
  ck_assert_uint_eq(r->wFlags, PROCESS_HEAP_REGION);
  ck_assert_uint_le(r->cbData, 0x1000);
  ck_assert_uint_eq(r->cbOverhead, 0);
  ck_assert_uint_ge((SIZE_T)r->Region.dwCommittedSize +
                        r->Region.dwUnCommittedSize,
                    (SIZE_T)((char*)r->Region.lpLastBlock - (char*)r->lpData));
  char* after = (char*)r->lpData + r->cbData;
  char* first = r->Region.lpFirstBlock;
  PH_ASSERT_DOC(first == after + 2 * sizeof(void*) ||
                    first == after + 4 * sizeof(void*),
                "the first block is elsewhere");
}
END_TEST

/* ---- emulated engine: cursors that are not (or no longer) valid ------- */

START_TEST(forged_cursor_fails_with_invalid_parameter) {
  HANDLE h = ph_test_heap;
  char* p = HeapAlloc(h, 0, 256);
  static char outside[64];
  PROCESS_HEAP_ENTRY e;
  void* bad[] = {p + 16, p + 8, outside, (char*)h + 1};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(&e, 0, sizeof e);
    e.lpData = bad[i];
    e.wFlags = PROCESS_HEAP_ENTRY_BUSY;
    SetLastError(0);
    ck_assert_int_eq(ph_le_uint(HeapWalk(h, &e)), FALSE);
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  }
  /* a real block, but flagged as a region */
  memset(&e, 0, sizeof e);
  e.lpData = p;
  e.wFlags = PROCESS_HEAP_REGION;
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(h, &e)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
}
END_TEST

/* A cursor on a block that was freed and merged into its free neighbour
 * no longer names a block.  The blocks are above the sizes the emulation
 * keeps on quick lists (16 KiB), which are freed without merging. */
START_TEST(stale_cursor_fails_with_invalid_parameter) {
  HANDLE h = ph_test_heap;
  void* before = HeapAlloc(h, 0, 150000);
  void* p = HeapAlloc(h, 0, 150000);
  void* after = HeapAlloc(h, 0, 150000);
  ck_assert_int_ne(HeapFree(h, 0, before), FALSE);
  PROCESS_HEAP_ENTRY e;
  ck_assert(ph_test_walk_to(h, &e, p));
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE); /* merges into `before` */
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(h, &e)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  HeapFree(h, 0, after);
}
END_TEST

START_TEST(cursor_on_a_freed_large_block_fails) {
  HANDLE h = ph_test_heap;
  void* p = HeapAlloc(h, 0, (SIZE_T)3 << 20);
  PROCESS_HEAP_ENTRY e;
  ck_assert(ph_test_walk_to(h, &e, p));
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(h, &e)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
}
END_TEST

START_TEST(cursor_of_another_heap_fails) {
  HANDLE a = ph_test_heap;
  HANDLE b = HeapCreate(0, 0, 0);
  void* p = HeapAlloc(a, 0, 64);
  PROCESS_HEAP_ENTRY e;
  ck_assert(ph_test_walk_to(a, &e, p));
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(b, &e)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  HeapDestroy(b);
}
END_TEST

START_TEST(walk_of_a_bad_heap_fails_with_invalid_handle) {
  HANDLE h = HeapCreate(0, 0, 0);
  HeapDestroy(h);
  PROCESS_HEAP_ENTRY e;
  memset(&e, 0, sizeof e);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(h, &e)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(GetProcessHeap(), NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
}
END_TEST

/* What follows a free block starts at its lpData + cbData + 2 x
 * cbOverhead: so Windows reports free blocks, and Wine too (Wine's tests
 * assert it for the free block before a region's uncommitted range, on
 * a fresh heap and after allocations of 123 and 456 bytes). */
START_TEST(free_entries_end_where_windows_says) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  static const SIZE_T sizes[] = {0, 123, 456};
  int checked = 0;
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    if (sizes[k] != 0)
      ck_assert_ptr_nonnull(HeapAlloc(h, HEAP_ZERO_MEMORY, sizes[k]));
    PROCESS_HEAP_ENTRY e = {0}, before = {0};
    while (HeapWalk(h, &e)) {
      if ((e.wFlags & PROCESS_HEAP_UNCOMMITTED_RANGE) && before.wFlags == 0 &&
          before.lpData != NULL) {
        ck_assert_ptr_eq(e.lpData, (char*)before.lpData + before.cbData +
                                       2 * before.cbOverhead);
        checked++;
      }
      before = e;
    }
  }
  HeapDestroy(h);
  ck_assert_int_ge(checked, 3);
}
END_TEST

Suite* test_walk(void) {
  Suite* s = suite_create("walk");
  TCase* tc = tcase_create("protocol");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, ph_test_heap_setup, ph_test_heap_teardown);
  tcase_add_test(tc, walk_starts_with_a_region_entry);
  tcase_add_test(tc, walk_ends_with_no_more_items);
  tcase_add_test(tc, region_entries_bracket_their_blocks);
  tcase_add_test(tc, busy_entries_are_exactly_the_live_blocks);
  tcase_add_test(tc, free_entries_have_no_flags);
  tcase_add_test(tc, large_blocks_are_listed);
  tcase_add_test(tc, large_blocks_walk_oldest_first_as_region_64);
  tcase_add_test(tc, regions_have_indexes_of_their_own);
  ph_test_add_emul(tc, released_regions_give_their_indexes_back,
                   "Windows keeps a growable heap's segments until "
                   "HeapDestroy");
  tcase_add_test(tc, uncommitted_ranges_lie_in_their_region);
  tcase_add_test(tc, free_entries_end_where_windows_says);
  tcase_add_test(tc, walk_under_lock_while_another_thread_waits);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, region_entry_describes_its_header_and_sizes);
  TCase* bad = tcase_create("misuse");
  tcase_add_checked_fixture(bad, ph_test_heap_setup, ph_test_heap_teardown);
  ph_test_add_emul(bad, forged_cursor_fails_with_invalid_parameter,
                   "a forged cursor is undefined on Windows");
  ph_test_add_emul(bad, stale_cursor_fails_with_invalid_parameter,
                   "a stale cursor is undefined on Windows");
  ph_test_add_emul(bad, cursor_on_a_freed_large_block_fails,
                   "a stale cursor is undefined on Windows");
  ph_test_add_emul(bad, cursor_of_another_heap_fails,
                   "a foreign cursor is undefined on Windows");
  ph_test_add_emul(bad, walk_of_a_bad_heap_fails_with_invalid_handle,
                   "a destroyed heap handle is undefined on Windows");
  suite_add_tcase(s, bad);
  return s;
}
