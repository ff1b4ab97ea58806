/*
 * test-info.c - HeapCompact, HeapQueryInformation, HeapSetInformation and
 * HeapSummary.  Wine 8.0 stubs several of them (docs/semantics.md, "Wine
 * 8.0's departures"): those assertions use PH_ASSERT_DOC, and HeapSummary,
 * which kills a Wine process, is only called on the emulated engine.
 */
#include "suites.h"

#include <string.h>

/* ---- HeapCompact -------------------------------------------------------- */

START_TEST(compact_reports_the_largest_free_block) {
  HANDLE h = HeapCreate(0, 0, 0);
  void* a = HeapAlloc(h, 0, 100000);
  void* keep = HeapAlloc(h, 0, 100);
  ck_assert_ptr_nonnull(a);
  ck_assert_int_ne(HeapFree(h, 0, a), FALSE);
  SetLastError(1234);
  SIZE_T largest = (SIZE_T)ph_le_uint(HeapCompact(h, 0));
  DWORD error = ph_test_error;
  HeapFree(h, 0, keep);
  HeapDestroy(h);
  (void)error;
  PH_ASSERT_DOC(largest >= 100000,
                "HeapCompact is a stub: 0, last error untouched");
}
END_TEST

/* A new heap has committed free space: HeapCompact reports its size. */
START_TEST(compact_of_a_new_heap_reports_its_free_space) {
  HANDLE h = HeapCreate(0, 0, 0);
  SetLastError(1234);
  SIZE_T largest = (SIZE_T)ph_le_uint(HeapCompact(h, 0));
  HeapDestroy(h);
  PH_ASSERT_DOC(largest > 0, "HeapCompact is a stub: 0, last error untouched");
}
END_TEST

START_TEST(compact_keeps_live_blocks) {
  HANDLE h = HeapCreate(0, 0, 0);
  unsigned char* blocks[100];
  for (int i = 0; i < 100; i++) {
    blocks[i] = HeapAlloc(h, 0, 3000);
    memset(blocks[i], i, 3000);
  }
  for (int i = 0; i < 100; i += 2)
    HeapFree(h, 0, blocks[i]);
  HeapCompact(h, 0);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  for (int i = 1; i < 100; i += 2) {
    ck_assert_uint_eq(blocks[i][2999], (unsigned)i);
    ck_assert_int_ne(HeapFree(h, 0, blocks[i]), FALSE);
  }
  HeapDestroy(h);
}
END_TEST

/* Emulated engine: an exhausted fixed heap, and a bad handle. */
START_TEST(compact_of_a_full_heap_returns_zero_with_no_error) {
  HANDLE h = HeapCreate(0, 0, 65536);
  while (HeapAlloc(h, 0, 16) != NULL)
    ;
  SetLastError(1234);
  ck_assert_uint_eq(ph_le_uint(HeapCompact(h, 0)), 0);
  ck_assert_uint_eq(ph_test_error, NO_ERROR);
  HeapDestroy(h);
  SetLastError(0);
  ck_assert_uint_eq(ph_le_uint(HeapCompact(h, 0)), 0);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
}
END_TEST

/* The pages of blocks[0..n) of `size` bytes that are resident, in bytes;
 * -1 where the system does not say. */
static long resident_blocks(void* const* blocks, int n, SIZE_T size) {
  long sum = 0;
  for (int i = 0; i < n; i++) {
    long r = ph_test_resident_in(blocks[i], size);
    if (r < 0)
      return -1;
    sum += r;
  }
  return sum;
}

/* What compaction gives back, in the heap's bookkeeping and in the pages
 * the process really holds: the blocks' pages are no longer resident. */
START_TEST(compact_gives_free_regions_back) {
  HANDLE h = HeapCreate(0, 0, 0);
  HEAP_SUMMARY before, full, after;
  before.cb = full.cb = after.cb = sizeof(HEAP_SUMMARY);
  ck_assert_int_ne(HeapSummary(h, 0, &before), FALSE);
  static void* blocks[3000];
  for (int i = 0; i < 3000; i++) {
    blocks[i] = HeapAlloc(h, 0, 4000);
    memset(blocks[i], 0x77, 4000);
  }
  ck_assert_int_ne(HeapSummary(h, 0, &full), FALSE);
  long resident_full = resident_blocks(blocks, 3000, 4000);
  for (int i = 0; i < 3000; i++)
    HeapFree(h, 0, blocks[i]);
  ck_assert_uint_gt(HeapCompact(h, 0), 0);
  long resident_after = resident_blocks(blocks, 3000, 4000);
  if (resident_full < 0) {
    printf("compact_gives_free_regions_back: resident pages not checked: "
           "no mincore here\n");
  } else {
    ck_assert_int_ge(resident_full, 10L << 20);
    ck_assert_int_le(resident_after, 1L << 20);
  }
  ck_assert_int_ne(HeapSummary(h, 0, &after), FALSE);
  ck_assert_uint_gt(full.cbCommitted, (SIZE_T)10 << 20);
  ck_assert_uint_le(after.cbCommitted, before.cbCommitted + ((SIZE_T)1 << 20));
  ck_assert_uint_lt(after.cbReserved, full.cbReserved);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

/* ---- HeapQueryInformation / HeapSetInformation -------------------------- */

START_TEST(compat_query_without_buffer_asks_for_four_bytes) {
  HANDLE h = HeapCreate(0, 0, 0);
  SIZE_T len = 999;
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapQueryInformation(
                       h, HeapCompatibilityInformation, NULL, 0, &len)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INSUFFICIENT_BUFFER);
  ck_assert_uint_eq(len, 4);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapQueryInformation(
                       h, HeapCompatibilityInformation, NULL, 0, NULL)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INSUFFICIENT_BUFFER);
  /* a buffer, but shorter than a ULONG: the same, nothing written
   * (Wine's tests, on Windows) */
  ULONG value = 0xDEADBEEF;
  len = 999;
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapQueryInformation(
                       h, HeapCompatibilityInformation, &value, 2, &len)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INSUFFICIENT_BUFFER);
  ck_assert_uint_eq(len, 4);
  ck_assert_uint_eq(value, 0xDEADBEEF);
  HeapDestroy(h);
}
END_TEST

START_TEST(compat_query_fills_a_ulong) {
  HANDLE h = HeapCreate(0, 0, 0);
  ULONG value = 0xDEAD;
  SIZE_T len = 0;
  ck_assert_int_ne(HeapQueryInformation(h, HeapCompatibilityInformation,
                                        &value, sizeof value, &len),
                   FALSE);
  ck_assert_uint_eq(len, 4);
  ck_assert_uint_eq(value, 0); /* a new private heap is standard */
  ULONG big[4] = {7, 7, 7, 7};
  ck_assert_int_ne(HeapQueryInformation(h, HeapCompatibilityInformation, big,
                                        sizeof big, NULL),
                   FALSE);
  ck_assert_uint_eq(big[0], 0);
  ck_assert_uint_eq(big[1], 7); /* nothing past the ULONG */
  HeapDestroy(h);
}
END_TEST

START_TEST(compat_set_lfh_then_query_reports_it) {
  HANDLE h = HeapCreate(0, 0, 0);
  ULONG lfh = 2;
  ck_assert_int_ne(HeapSetInformation(h, HeapCompatibilityInformation, &lfh,
                                      sizeof lfh),
                   FALSE);
  ULONG value = 0xDEAD;
  ck_assert_int_ne(HeapQueryInformation(h, HeapCompatibilityInformation,
                                        &value, sizeof value, NULL),
                   FALSE);
  void* p = HeapAlloc(h, 0, 24); /* the heap still serves */
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  HeapDestroy(h);
  PH_ASSERT_DOC(value == 2, "the compatibility query always reports 0");
}
END_TEST

START_TEST(compat_lfh_cannot_be_undone) {
  HANDLE h = HeapCreate(0, 0, 0);
  ULONG lfh = 2, standard = 0;
  ck_assert_int_ne(HeapSetInformation(h, HeapCompatibilityInformation, &lfh,
                                      sizeof lfh),
                   FALSE);
  SetLastError(0);
  BOOL undone = (BOOL)ph_le_uint(HeapSetInformation(
      h, HeapCompatibilityInformation, &standard, sizeof standard));
  DWORD error = ph_test_error;
  HeapDestroy(h);
  PH_ASSERT_DOC(!undone && error == ERROR_GEN_FAILURE,
                "the compatibility set is a stub that always succeeds");
}
END_TEST

/* The compatibility value a heap reports after `count` blocks of `size`
 * bytes were allocated in it, then freed. */
static ULONG compat_after(HANDLE h, int count, SIZE_T size) {
  void* blocks[64];
  for (int i = 0; i < count; i++) {
    blocks[i] = HeapAlloc(h, 0, size);
    ck_assert_ptr_nonnull(blocks[i]);
  }
  for (int i = 0; i < count; i++)
    ck_assert_int_ne(HeapFree(h, 0, blocks[i]), FALSE);
  ULONG value = 0xDEAD;
  ck_assert_int_ne(HeapQueryInformation(h, HeapCompatibilityInformation,
                                        &value, sizeof value, NULL),
                   FALSE);
  return value;
}

/* Windows turns the low-fragmentation heap on by itself in a growable
 * serialized heap once 0x12 blocks of one size were allocated (Wine's
 * tests, asserted on Windows), and never in NO_SERIALIZE or fixed heaps. */
START_TEST(compat_lfh_comes_by_itself_after_18_blocks_of_a_size) {
  HANDLE h = HeapCreate(0, 0, 0);
  HANDLE lone = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
  HANDLE fixed = HeapCreate(0, 0, (SIZE_T)1 << 20);
  ck_assert_uint_eq(compat_after(lone, 40, 0), 0);
  ck_assert_uint_eq(compat_after(fixed, 40, 0), 0);
  ULONG value = compat_after(h, 0x12, 0);
  HeapDestroy(h);
  HeapDestroy(lone);
  HeapDestroy(fixed);
  PH_ASSERT_DOC(value == 2, "Wine 8.0 never turns it on by itself");
}
END_TEST

/* Emulated engine: 17 blocks of a size are not yet 18. */
START_TEST(emul_compat_lfh_not_before_18_blocks) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_uint_eq(compat_after(h, 0x11, 0), 0);
  ck_assert_uint_eq(compat_after(h, 0x11, 100), 0);
  ck_assert_uint_eq(compat_after(h, 1, 0), 2);
  HeapDestroy(h);
}
END_TEST

/* Emulated engine (Windows' error code unverified, Wine 8 accepts all). */
START_TEST(compat_lfh_refused_on_no_serialize_and_fixed_heaps) {
  HANDLE heaps[] = {HeapCreate(HEAP_NO_SERIALIZE, 0, 0),
                    HeapCreate(0, 0, (SIZE_T)1 << 20)};
  for (int i = 0; i < 2; i++) {
    ULONG lfh = 2, value = 0xDEAD;
    SetLastError(0);
    ck_assert_int_eq(ph_le_uint(HeapSetInformation(
                         heaps[i], HeapCompatibilityInformation, &lfh,
                         sizeof lfh)),
                     FALSE);
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
    ck_assert_int_ne(HeapQueryInformation(heaps[i],
                                          HeapCompatibilityInformation,
                                          &value, sizeof value, NULL),
                     FALSE);
    ck_assert_uint_eq(value, 0);
    HeapDestroy(heaps[i]);
  }
}
END_TEST

START_TEST(information_argument_errors) {
  HANDLE h = HeapCreate(0, 0, 0);
  ULONG value = 2;
  SIZE_T len = 0;
  SetLastError(0); /* a buffer shorter than a ULONG */
  ck_assert_int_eq(ph_le_uint(HeapSetInformation(
                       h, HeapCompatibilityInformation, &value, 2)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INSUFFICIENT_BUFFER);
  SetLastError(0); /* a value other than 0 or 2 */
  value = 5;
  ck_assert_int_eq(ph_le_uint(HeapSetInformation(
                       h, HeapCompatibilityInformation, &value, sizeof value)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_GEN_FAILURE);
  HEAP_OPTIMIZE_RESOURCES_INFORMATION opt = {2, 0}; /* a bad Version */
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSetInformation(h, HeapOptimizeResources,
                                                 &opt, sizeof opt)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  opt.Version = 1; /* too short */
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSetInformation(h, HeapOptimizeResources,
                                                 &opt, 4)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INSUFFICIENT_BUFFER);
  SetLastError(0); /* an unknown class */
  ck_assert_int_eq(ph_le_uint(HeapQueryInformation(
                       h, (HEAP_INFORMATION_CLASS)42, &value, sizeof value,
                       &len)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSetInformation(
                       h, (HEAP_INFORMATION_CLASS)42, &value, sizeof value)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  HeapDestroy(h);
  SetLastError(0); /* a destroyed heap */
  ck_assert_int_eq(ph_le_uint(HeapQueryInformation(
                       h, HeapCompatibilityInformation, &value, sizeof value,
                       &len)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSetInformation(
                       h, HeapCompatibilityInformation, &value, sizeof value)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
}
END_TEST

START_TEST(optimize_resources_with_version_one_succeeds) {
  HANDLE h = HeapCreate(0, 0, 0);
  void* p = HeapAlloc(h, 0, 100);
  HEAP_OPTIMIZE_RESOURCES_INFORMATION info;
  info.Version = HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION;
  info.Flags = 0;
  ck_assert_int_ne(HeapSetInformation(h, HeapOptimizeResources, &info,
                                      sizeof info),
                   FALSE);
  ck_assert_int_ne(HeapSetInformation(NULL, HeapOptimizeResources, &info,
                                      sizeof info),
                   FALSE);
  ck_assert_uint_eq(HeapSize(h, 0, p), 100);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

START_TEST(optimize_resources_with_a_bad_version_fails) {
  HANDLE h = HeapCreate(0, 0, 0);
  HEAP_OPTIMIZE_RESOURCES_INFORMATION info;
  info.Version = 2;
  info.Flags = 0;
  SetLastError(0);
  BOOL ok = (BOOL)ph_le_uint(HeapSetInformation(h, HeapOptimizeResources,
                                                &info, sizeof info));
  HeapDestroy(h);
  PH_ASSERT_DOC(!ok, "HeapOptimizeResources accepted whatever its Version");
}
END_TEST

/* ---- HeapSummary (emulated engine: Wine 8.0's stub kills the process) --- */

START_TEST(summary_needs_cb_and_zero_flags) {
  HANDLE h = HeapCreate(0, 0, 0);
  HEAP_SUMMARY s;
  memset(&s, 0, sizeof s);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSummary(h, 0, &s)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  s.cb = sizeof s + 8;
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSummary(h, 0, &s)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  s.cb = sizeof s;
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSummary(h, 1, &s)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSummary(h, 0, NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  ck_assert_int_ne(HeapSummary(h, 0, &s), FALSE);
  HeapDestroy(h);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSummary(h, 0, &s)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
}
END_TEST

static void check_summary(HANDLE h, SIZE_T live) {
  HEAP_SUMMARY s;
  memset(&s, 0, sizeof s);
  s.cb = sizeof s;
  ck_assert_int_ne(HeapSummary(h, 0, &s), FALSE);
  ck_assert_uint_eq(s.cb, sizeof s);
  ck_assert_uint_eq(s.cbAllocated, live);
  ck_assert_uint_le(s.cbAllocated, s.cbCommitted);
  ck_assert_uint_le(s.cbCommitted, s.cbReserved);
  ck_assert_uint_le(s.cbReserved, s.cbMaxReserve);
  /* committed and reserved are what the walk's regions say (plus the
   * large blocks, which have no REGION entry: a busy block outside the
   * region listed before it; their size threshold follows the word size) */
  PROCESS_HEAP_ENTRY e;
  memset(&e, 0, sizeof e);
  SIZE_T committed = 0, reserved = 0;
  uintptr_t first = 0, end = 0; /* the last REGION's blocks */
  while (HeapWalk(h, &e)) {
    uintptr_t data = (uintptr_t)e.lpData;
    if (e.wFlags & PROCESS_HEAP_REGION) {
      committed += e.Region.dwCommittedSize;
      reserved += (SIZE_T)e.Region.dwCommittedSize + e.Region.dwUnCommittedSize;
      first = (uintptr_t)e.Region.lpFirstBlock;
      end = (uintptr_t)e.Region.lpLastBlock;
    } else if ((e.wFlags & PROCESS_HEAP_ENTRY_BUSY) &&
               !(data >= first && data < end)) {
      SIZE_T span = e.cbData + e.cbOverhead;
      committed += span;
      reserved += span;
    }
  }
  ck_assert_uint_eq(ph_get_last_error(), ERROR_NO_MORE_ITEMS);
  ck_assert_uint_le(committed, s.cbCommitted);
  ck_assert_uint_le(reserved, s.cbReserved);
  /* large blocks round up to whole pages */
  ck_assert_uint_lt(s.cbCommitted - committed, (SIZE_T)64 << 10);
  ck_assert_uint_lt(s.cbReserved - reserved, (SIZE_T)64 << 10);
}

START_TEST(summary_agrees_with_the_blocks_and_the_walk) {
  HANDLE h = HeapCreate(0, 0, 0);
  check_summary(h, 0);
  enum { N = 500 };
  static void* blocks[N];
  SIZE_T live = 0;
  uint32_t state = ph_test_seed();
  for (int i = 0; i < N; i++) {
    SIZE_T n = ph_test_rand(&state) % (i % 50 == 0 ? 3000000 : 2000);
    blocks[i] = HeapAlloc(h, 0, n);
    ck_assert_ptr_nonnull(blocks[i]);
    live += n;
  }
  check_summary(h, live);
  for (int i = 0; i < N; i += 3) {
    live -= HeapSize(h, 0, blocks[i]);
    HeapFree(h, 0, blocks[i]);
  }
  check_summary(h, live);
  blocks[1] = HeapReAlloc(h, 0, blocks[1], 70000);
  live = 0;
  for (int i = 0; i < N; i++)
    if (i % 3 != 0)
      live += HeapSize(h, 0, blocks[i]);
  check_summary(h, live);
  HeapDestroy(h);
}
END_TEST

START_TEST(summary_of_a_fixed_heap_reports_its_maximum) {
  SIZE_T max = (SIZE_T)1 << 20;
  HANDLE h = HeapCreate(0, 0, max);
  void* p = HeapAlloc(h, 0, 1000);
  HEAP_SUMMARY s;
  s.cb = sizeof s;
  ck_assert_int_ne(HeapSummary(h, 0, &s), FALSE);
  ck_assert_uint_eq(s.cbAllocated, 1000);
  ck_assert_uint_eq(s.cbMaxReserve, max);
  ck_assert_uint_le(s.cbReserved, max);
  HeapFree(h, 0, p);
  HeapDestroy(h);
}
END_TEST

/* Churn of mixed sizes (the emulation's quick lists keep freed blocks
 * unmerged, up to an eighth of the heap) must not grow a heap without
 * bound: committed stays within a small multiple of the live peak. */
START_TEST(mixed_churn_stays_within_a_bound_of_the_live_peak) {
  enum { SLOTS = 200, ROUNDS = 40000 };
  static void* slot[SLOTS];
  static SIZE_T len[SLOTS];
  HANDLE h = HeapCreate(0, 0, 0);
  uint32_t state = ph_test_seed();
  SIZE_T live = 0, peak = 0;
  for (int r = 0; r < ROUNDS; r++) {
    uint32_t i = ph_test_rand(&state) % SLOTS;
    if (slot[i] != NULL) {
      ck_assert_int_ne(HeapFree(h, 0, slot[i]), FALSE);
      live -= len[i];
      slot[i] = NULL;
    }
    /* mostly small, some medium, a few beyond the quick classes */
    uint32_t kind = ph_test_rand(&state) % 16;
    SIZE_T top = kind < 10 ? 600 : kind < 15 ? 70000 : 300000;
    len[i] = 1 + ph_test_rand(&state) % top;
    slot[i] = HeapAlloc(h, 0, len[i]);
    ck_assert_ptr_nonnull(slot[i]);
    live += len[i];
    if (live > peak)
      peak = live;
  }
  HEAP_SUMMARY s;
  s.cb = sizeof s;
  ck_assert_int_ne(HeapSummary(h, 0, &s), FALSE);
  ck_assert_uint_eq(s.cbAllocated, live);
  ck_assert_uint_le(s.cbCommitted, 3 * peak + ((SIZE_T)2 << 20));
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
  memset(slot, 0, sizeof slot);
}
END_TEST

/* A heap that uses every small size a little (20 blocks of each of the
 * 33 sizes from 8 to 520 bytes: 170 KiB asked for) holds little more in
 * its blocks: each size's first run is small.  Measured by a walk (busy
 * blocks and free slots of the low-fragmentation front end, as Windows
 * shows them), not by the committed total, which grows in steps of the
 * system's.  (Measured: 271 KiB; with a size's first run as large as the
 * next ones, 709.) */
START_TEST(emul_many_sizes_a_little_hold_little) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  SIZE_T asked = 0;
  for (SIZE_T n = 8; n <= 520; n += 16)
    for (int i = 0; i < 20; i++) {
      ck_assert_ptr_nonnull(HeapAlloc(h, 0, n));
      asked += n;
    }
  SIZE_T held = 0;
  PROCESS_HEAP_ENTRY e;
  memset(&e, 0, sizeof e);
  while (HeapWalk(h, &e))
    if (e.wFlags == PROCESS_HEAP_ENTRY_BUSY ||
        (e.wFlags == 0 && e.cbOverhead == 2 * sizeof(void*)))
      held += e.cbData + e.cbOverhead;
  printf("emul_many_sizes_a_little_hold_little: %lu bytes asked, %lu held\n",
         (unsigned long)asked, (unsigned long)held);
  ck_assert_uint_ge(held, asked);
  ck_assert_uint_le(held, (SIZE_T)400 << 10);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

Suite* test_info(void) {
  Suite* s = suite_create("info");
  TCase* compact = tcase_create("compact");
  tcase_set_timeout(compact, 60);
  tcase_add_test(compact, compact_reports_the_largest_free_block);
  tcase_add_test(compact, compact_of_a_new_heap_reports_its_free_space);
  tcase_add_test(compact, compact_keeps_live_blocks);
  ph_test_add_emul(compact, compact_of_a_full_heap_returns_zero_with_no_error,
                   "Wine's HeapCompact is a stub; bad handles are undefined");
  ph_test_add_emul(compact, compact_gives_free_regions_back,
                   "uses HeapSummary, which kills a Wine 8.0 process");
  suite_add_tcase(s, compact);
  TCase* info = tcase_create("information");
  tcase_add_test(info, compat_query_without_buffer_asks_for_four_bytes);
  tcase_add_test(info, compat_query_fills_a_ulong);
  tcase_add_test(info, compat_set_lfh_then_query_reports_it);
  tcase_add_test(info, compat_lfh_cannot_be_undone);
  tcase_add_test(info, compat_lfh_comes_by_itself_after_18_blocks_of_a_size);
  ph_test_add_emul(info, emul_compat_lfh_not_before_18_blocks,
                   "Windows' exact count is its own business");
  tcase_add_test(info, optimize_resources_with_version_one_succeeds);
  tcase_add_test(info, optimize_resources_with_a_bad_version_fails);
  ph_test_add_emul(info, compat_lfh_refused_on_no_serialize_and_fixed_heaps,
                   "Windows' error code is unverified; Wine 8 accepts");
  ph_test_add_emul(info, information_argument_errors,
                   "Windows' codes for these are unverified");
  suite_add_tcase(s, info);
  TCase* summary = tcase_create("summary");
  ph_test_add_emul(summary, summary_needs_cb_and_zero_flags,
                   "HeapSummary kills a Wine 8.0 process (stub)");
  ph_test_add_emul(summary, summary_agrees_with_the_blocks_and_the_walk,
                   "HeapSummary kills a Wine 8.0 process (stub)");
  ph_test_add_emul(summary, summary_of_a_fixed_heap_reports_its_maximum,
                   "HeapSummary kills a Wine 8.0 process (stub)");
  ph_test_add_emul(summary, mixed_churn_stays_within_a_bound_of_the_live_peak,
                   "HeapSummary kills a Wine 8.0 process (stub)");
  ph_test_add_emul(summary, emul_many_sizes_a_little_hold_little,
                   "how much a heap commits is the engine's");
  suite_add_tcase(s, summary);
  return s;
}
