/*
 * test-geometry.c - where blocks lie and how a walk describes them, as on
 * Windows (issue 14): 8 bytes of header a block, sizes never rounded to a
 * class, data 16-byte aligned but not all 32-byte aligned, and the walk's
 * cbOverhead that follows.  Every fact asserted here is one that Wine's
 * conformance tests (dlls/kernel32/tests/heap.c, test_block_layout and
 * test_HeapCreate) assert on Windows; the comments say where Wine 8.0
 * itself departs.
 *
 * p below is sizeof(void *).  Windows spaces blocks of n bytes
 * ALIGN(max(n, 2p) + 8, 2p) apart: x64 ALIGN16(max(n, 16) + 8).  The
 * engine keeps 16-byte granules on 32-bit systems too (its blocks are
 * 16-byte aligned there, Windows' 8), so the 32-bit spacing is asserted on
 * the native backend only.
 */
#include "suites.h"

#include <string.h>

#define P ((SIZE_T)sizeof(void*))

/* The distance Windows leaves between consecutive blocks of n bytes on a
 * heap with no debug flags. */
static SIZE_T windows_spacing(SIZE_T n) {
  SIZE_T a = 2 * P;
  SIZE_T need = (n > a ? n : a) + 8;
  return (need + a - 1) & ~(a - 1);
}

/* The smaller distance between three blocks of n bytes allocated one
 * after another on h (Wine's test measures it so: one of the two may
 * straddle a region's end). */
static SIZE_T spacing_of(HANDLE h, SIZE_T n) {
  char* p[3];
  for (int i = 0; i < 3; i++) {
    p[i] = HeapAlloc(h, HEAP_ZERO_MEMORY, n);
    ck_assert_ptr_nonnull(p[i]);
  }
  SIZE_T d1 = p[1] > p[0] ? (SIZE_T)(p[1] - p[0]) : (SIZE_T)(p[0] - p[1]);
  SIZE_T d2 = p[2] > p[1] ? (SIZE_T)(p[2] - p[1]) : (SIZE_T)(p[1] - p[2]);
  for (int i = 0; i < 3; i++)
    ck_assert_int_ne(HeapFree(h, 0, p[i]), FALSE);
  return d1 < d2 ? d1 : d2;
}

/* Whether blocks of n bytes, if from <= n <= to, are spaced otherwise than
 * on Windows (printed, with what they measured). */
static bool spacing_differs(HANDLE h, SIZE_T n, SIZE_T from, SIZE_T to) {
  if (n < from || n > to)
    return false;
  SIZE_T got = spacing_of(h, n);
  if (got == windows_spacing(n))
    return false;
  printf("spacing of %#zx-byte blocks: %#zx, Windows %#zx\n", (size_t)n,
         (size_t)got, (size_t)windows_spacing(n));
  return true;
}

/* The sizes Wine's test walks (from just under the large-block threshold,
 * halving), and a few more: the edges of the minimum block, 0x28 (spaced
 * 0x30), and 0x1fa00, which a heap that rounds sizes to classes spaces
 * 0x20000 apart (Windows: 0x1fa10). */
static int spacing_mismatches(HANDLE h, SIZE_T from, SIZE_T to) {
  static const SIZE_T extra[] = {1,   8,     15,    16,     17,
                                 24,  25,    0x28,  123,    456,
                                 520, 0x3f8, 0x1000, 0x1fa00, 0x20008};
  int bad = 0;
  for (SIZE_T n = 0x20000 * P - 0x3000; n != 0; n >>= 1)
    bad += spacing_differs(h, n, from, to);
  for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
    bad += spacing_differs(h, extra[i], from, to);
  return bad;
}

/* Wine's test uses a HEAP_NO_SERIALIZE heap, which never switches to its
 * low-fragmentation front end; so do these. */
START_TEST(blocks_are_spaced_as_windows_spaces_them) {
  HANDLE h = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
  ck_assert_ptr_nonnull(h);
  int bad = spacing_mismatches(h, 4 * P - 7, ~(SIZE_T)0);
  HeapDestroy(h);
  ck_assert_int_eq(bad, 0);
}
END_TEST

/* Blocks of the smallest span, 4p bytes (up to 4p - 8 bytes asked for):
 * Wine 8.0 spaces them 6p apart, 48 bytes on x64 (later Wine's own test marks
 * sizes under 2p todo_wine). */
START_TEST(tiny_blocks_are_spaced_as_windows_spaces_them) {
  HANDLE h = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
  ck_assert_ptr_nonnull(h);
  int bad = spacing_mismatches(h, 1, 4 * P - 8);
  HeapDestroy(h);
  PH_ASSERT_DOC(bad == 0, "the smallest blocks take more room");
}
END_TEST

/* Every block is 2p-aligned, and a header of 8 bytes puts some at 2p
 * modulo 4p (Wine's test: 128 blocks of 0x8000 x p bytes). */
START_TEST(blocks_are_aligned_but_not_all_to_twice_that) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  void* blocks[128];
  ULONG_PTR any = 0, every = ~(ULONG_PTR)0;
  for (int i = 0; i < 128; i++) {
    blocks[i] = HeapAlloc(h, 0, 0x8000 * P);
    ck_assert_ptr_nonnull(blocks[i]);
    any |= (ULONG_PTR)blocks[i];
    every &= (ULONG_PTR)blocks[i];
  }
  for (int i = 0; i < 128; i++)
    ck_assert_int_ne(HeapFree(h, 0, blocks[i]), FALSE);
  HeapDestroy(h);
  ck_assert_uint_eq(any & (2 * P - 1), 0);
  ck_assert_uint_ne(any & (2 * P), 0); /* some at 2p modulo 4p */
  (void)every;
}
END_TEST

/* A busy entry's cbOverhead is its span less its size: 8 for a block
 * spaced exactly (0x28 bytes take 0x30 on x64), more with slack.  The
 * free entry after it starts 2p past the next block's data, and reports
 * 4p of overhead (Wine's test, after blocks of 123 and 456 bytes). */
START_TEST(busy_entries_report_their_span_less_their_size) {
  static const SIZE_T sizes[] = {0x28, 123, 456, 1, 0x1fa00};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    HANDLE h = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
    ck_assert_ptr_nonnull(h);
    SIZE_T n = sizes[i];
    void* p = HeapAlloc(h, 0, n);
    ck_assert_ptr_nonnull(p);
    PROCESS_HEAP_ENTRY e = {0};
    ck_assert(ph_test_walk_to(h, &e, p));
    ck_assert_uint_eq(e.wFlags, PROCESS_HEAP_ENTRY_BUSY);
    ck_assert_uint_eq(e.cbData, n);
    SIZE_T span = e.cbData + e.cbOverhead;
    ck_assert(HeapWalk(h, &e));
    ck_assert_uint_eq(e.wFlags, 0);
    ck_assert_ptr_eq(e.lpData, (char*)p + span + 2 * P);
    ck_assert_uint_eq(e.cbOverhead, 4 * P);
    HeapDestroy(h);
    if (n >= 2 * P && (sizeof(void*) == 8 || !ph_test_emul()))
      ck_assert_uint_eq(span, windows_spacing(n)); /* 32-bit: see above */
  }
}
END_TEST

/* Blocks of 24 + 2p bytes on a growable heap, as Wine's test_HeapCreate
 * walks them on Windows once its LFH serves that size: each busy one with
 * cbData the size asked for and cbOverhead 8 (asserted on Windows and on
 * Wine); once freed, slots with flags 0, cbData 0x20 and cbOverhead 2p
 * (asserted on Windows, todo_wine: Wine 8.0 merges them into one free
 * block). */
START_TEST(lfh_sized_blocks_walk_as_windows_shows_them) {
  enum { N = 0x12 };
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  SIZE_T n = 24 + 2 * P;
  void* p[2 * N];
  for (int round = 0; round < 2; round++) { /* the second: past the count */
    for (int i = 0; i < N; i++) {
      p[round * N + i] = HeapAlloc(h, 0, n);
      ck_assert_ptr_nonnull(p[round * N + i]);
    }
  }
  int busy = 0, other_busy = 0;
  PROCESS_HEAP_ENTRY e = {0};
  while (HeapWalk(h, &e))
    if (e.wFlags & PROCESS_HEAP_ENTRY_BUSY) {
      bool as_lfh = e.cbData == n && e.cbOverhead == 8;
      busy += as_lfh;
      other_busy += !as_lfh;
    }
  for (int i = 0; i < 2 * N; i++)
    ck_assert_int_ne(HeapFree(h, 0, p[i]), FALSE);
  int slots = 0;
  memset(&e, 0, sizeof e);
  while (HeapWalk(h, &e))
    slots += e.wFlags == 0 && e.cbData == 0x20 && e.cbOverhead == 2 * P;
  HeapDestroy(h);
  ck_assert_int_eq(other_busy, 0);
  ck_assert_int_eq(busy, 2 * N);
  PH_ASSERT_DOC(slots >= N, "freed blocks merge into one free block");
}
END_TEST

/* Until requests of a size have come 18 times, a freed block of that size
 * merges back, as Windows' back end frees it, even on a heap whose LFH was
 * switched on: its walk is the empty heap's again (Wine's test_HeapCreate,
 * on Windows: 0x11 alloc/free pairs of 24 + 2p bytes, then three
 * entries).  The heap is made of fresh memory (the emulated engine's
 * region cache emptied first): a region another heap left committed has
 * no uncommitted range to show. */
START_TEST(blocks_freed_before_the_lfh_count_merge_back) {
  size_t limit = ph_region_cache_limit(0);
  HANDLE h = HeapCreate(0, 0, 0);
  ph_region_cache_limit(limit);
  ck_assert_ptr_nonnull(h);
  ULONG lfh = 2;
  ck_assert_int_ne(HeapSetInformation(h, HeapCompatibilityInformation, &lfh,
                                      sizeof lfh),
                   FALSE);
  int empty = ph_test_walk_entries(h, 100);
  for (int i = 0; i < 0x11; i++) {
    void* p = HeapAlloc(h, 0, 24 + 2 * P);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  }
  int after = ph_test_walk_entries(h, 100);
  HeapDestroy(h);
  ck_assert_int_eq(empty, 3);
  ck_assert_int_eq(after, empty);
}
END_TEST

/* A medium request whose size is in demand is rounded up to the first
 * size of the next list (600 bytes: 38 granules, to 40, where 36-39 share
 * a list); freed, such a block is kept for the next request of its size,
 * as a free slot of the LFH, not merged back (a freed block of the next
 * list's size was kept only once that list was in demand itself). */
START_TEST(emul_rounded_medium_blocks_are_kept_when_freed) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  void* keep[20];
  for (int i = 0; i < 20; i++) { /* 18 requests put the size in demand */
    keep[i] = HeapAlloc(h, 0, 600);
    ck_assert_ptr_nonnull(keep[i]);
  }
  unsigned char* p = HeapAlloc(h, 0, 600);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  PROCESS_HEAP_ENTRY e;
  ck_assert(ph_test_walk_to(h, &e, p));
  ck_assert_uint_eq(e.wFlags, 0);
  ck_assert_uint_eq(e.cbOverhead, 2 * P); /* a free LFH slot */
  ck_assert_ptr_eq(HeapAlloc(h, 0, 600), p);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

/* Blocks above 16 KiB, which Windows' LFH never serves, keep the back
 * end's spacing however many of one size a heap gets: 40 blocks of
 * 0x1fa00 bytes on a default heap, 0x1fa10 apart (a heap that rounds such
 * sizes to a class spaces them 0x20000). */
START_TEST(medium_blocks_keep_their_spacing_however_many) {
  enum { N = 40 };
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  char* p[N];
  int exact = 0;
  for (int i = 0; i < N; i++) {
    p[i] = HeapAlloc(h, 0, 0x1fa00);
    ck_assert_ptr_nonnull(p[i]);
    exact += i > 0 && p[i] - p[i - 1] == (ptrdiff_t)windows_spacing(0x1fa00);
  }
  HeapDestroy(h);
  ck_assert_int_ge(exact, N / 2); /* a region's end breaks a few pairs */
}
END_TEST

/* Requests of every size of 1 .. 512 bytes on one growable heap, 40
 * each, in two rounds: the second comes once every size is past the LFH
 * count and every run exists, so the engine's fast path serves it from the
 * run its span table (engine.h) names.  Every block, from a run or the
 * back end, spans what Windows' back end spaces it (the engine's runs keep
 * Windows' spacing, not size classes), and blocks filled to their size
 * leave the heap valid.  (Windows' LFH buckets are its own.) */
START_TEST(emul_small_requests_take_their_own_span_in_runs) {
  enum { MAX = 512, EACH = 20 };
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  for (int round = 0; round < 2; round++)
    for (SIZE_T n = 1; n <= MAX; n++)
      for (int i = 0; i < EACH; i++) {
        void* p = HeapAlloc(h, 0, n);
        ck_assert_ptr_nonnull(p);
        memset(p, 0xA5, n);
        ck_assert_uint_eq(HeapSize(h, 0, p), n);
      }
  ck_assert(HeapValidate(h, 0, NULL));
  int busy = 0, bad = 0;
  PROCESS_HEAP_ENTRY e = {0};
  while (HeapWalk(h, &e)) {
    if (!(e.wFlags & PROCESS_HEAP_ENTRY_BUSY))
      continue;
    busy++;
    SIZE_T span = e.cbData + e.cbOverhead;
    if (span != windows_spacing(e.cbData) && bad++ < 5)
      printf("a busy block of %zu bytes spans %zu; Windows spaces it %zu\n",
             (size_t)e.cbData, (size_t)span,
             (size_t)windows_spacing(e.cbData));
  }
  HeapDestroy(h);
  ck_assert_int_eq(busy, 2 * MAX * EACH);
  ck_assert_int_eq(bad, 0);
}
END_TEST

/* Register a test of Windows' layout: on the native backend, and on the
 * engine where its granule is Windows' (64-bit systems). */
#define add_layout_test(tc, fn)                                                \
  ph_test_add_if(tc, fn, #fn, sizeof(void*) == 8 || !ph_test_emul(),          \
                 "the engine's 32-bit blocks are 16-byte aligned, Windows' 8")

Suite* test_geometry(void) {
  Suite* s = suite_create("geometry");
  TCase* tc = tcase_create("layout");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, ph_test_heap_setup, ph_test_heap_teardown);
  add_layout_test(tc, blocks_are_spaced_as_windows_spaces_them);
  add_layout_test(tc, tiny_blocks_are_spaced_as_windows_spaces_them);
  add_layout_test(tc, blocks_are_aligned_but_not_all_to_twice_that);
  add_layout_test(tc, lfh_sized_blocks_walk_as_windows_shows_them);
  tcase_add_test(tc, busy_entries_report_their_span_less_their_size);
  tcase_add_test(tc, blocks_freed_before_the_lfh_count_merge_back);
  add_layout_test(tc, medium_blocks_keep_their_spacing_however_many);
  ph_test_add_emul(tc, emul_rounded_medium_blocks_are_kept_when_freed,
                   "what a freed block becomes is the engine's");
  ph_test_add_if(tc, emul_small_requests_take_their_own_span_in_runs,
                 "emul_small_requests_take_their_own_span_in_runs",
                 ph_test_emul() && sizeof(void*) == 8,
                 "runs are the engine's; its 32-bit blocks are 16-byte "
                 "aligned, Windows' 8");
  suite_add_tcase(s, tc);
  return s;
}
