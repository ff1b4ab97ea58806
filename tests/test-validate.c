/*
 * test-validate.c - HeapValidate: whole heaps and single blocks, freed
 * blocks, pointers outside every heap, and (on the emulated engine) a
 * header trampled by a write past the end of the block before it.
 * HeapValidate never touches the last error.
 */
#include "suites.h"

#include <string.h>

/* Address comparisons that print both sides. */
#define ck_assert_addr_ge(a, b) ck_assert_uint_ge((uintptr_t)(a), (uintptr_t)(b))
#define ck_assert_addr_gt(a, b) ck_assert_uint_gt((uintptr_t)(a), (uintptr_t)(b))
#define ck_assert_addr_le(a, b) ck_assert_uint_le((uintptr_t)(a), (uintptr_t)(b))

START_TEST(fresh_and_used_heaps_are_valid) {
  HANDLE h = ph_test_heap;
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  void* blocks[200];
  for (int i = 0; i < 200; i++)
    blocks[i] = HeapAlloc(h, 0, (SIZE_T)(i * 53 % 3000));
  blocks[0] = HeapAlloc(h, 0, (SIZE_T)2 << 20); /* and a large one */
  for (int i = 1; i < 200; i += 3)
    HeapFree(h, 0, blocks[i]);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapValidate(GetProcessHeap(), 0, NULL), FALSE);
}
END_TEST

START_TEST(live_block_is_valid) {
  HANDLE h = ph_test_heap;
  SIZE_T sizes[] = {0, 1, 100, 600, 5000, 100000, (SIZE_T)2 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void* p = HeapAlloc(h, 0, sizes[i]);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_ne(HeapValidate(h, 0, p), FALSE);
  }
}
END_TEST

START_TEST(freed_block_is_not_valid) {
  HANDLE h = ph_test_heap;
  void* keep = HeapAlloc(h, 0, 5000);
  void* p = HeapAlloc(h, 0, 5000);
  void* after = HeapAlloc(h, 0, 5000);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  ck_assert_int_eq(HeapValidate(h, 0, p), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, keep), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapFree(h, 0, keep);
  HeapFree(h, 0, after);
}
END_TEST

START_TEST(pointer_outside_every_heap_is_not_valid) {
  HANDLE h = ph_test_heap;
  static char outside[256];
  void* p = HeapAlloc(h, 0, 64);
  ck_assert_int_eq(HeapValidate(h, 0, outside + 32), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, p), FALSE);
}
END_TEST

START_TEST(validate_never_touches_the_last_error) {
  HANDLE h = ph_test_heap;
  void* p = HeapAlloc(h, 0, 5000);
  void* q = HeapAlloc(h, 0, 5000);
  HeapFree(h, 0, p);
  SetLastError(1234);
  ck_assert_int_ne(ph_le_uint(HeapValidate(h, 0, NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, 1234);
  SetLastError(4321);
  ck_assert_int_ne(ph_le_uint(HeapValidate(h, 0, q)), FALSE);
  ck_assert_uint_eq(ph_test_error, 4321);
  SetLastError(5678);
  ck_assert_int_eq(ph_le_uint(HeapValidate(h, 0, p)), FALSE);
  ck_assert_uint_eq(ph_test_error, 5678);
  HeapFree(h, 0, q);
}
END_TEST

/* Windows reads a block's header and catches the fault: a pointer whose
 * header cannot be read gives FALSE with ERROR_NOACCESS, readable memory
 * that is no block (a static buffer) FALSE with the last error as it was
 * (Wine's tests, asserted on Windows). */
START_TEST(unreadable_pointer_is_not_valid_with_noaccess) {
  HANDLE h = ph_test_heap;
  static char outside[256];
  void* unmapped = (char*)ph_test_unmapped_page() + 64;
  ck_assert(!ph_test_readable((char*)unmapped - 16));
  SetLastError(0xdeadbeef);
  ck_assert_int_eq(ph_le_uint(HeapValidate(h, 0, outside + 64)), FALSE);
  ck_assert_uint_eq(ph_test_error, 0xdeadbeef);
  SetLastError(0xdeadbeef);
  ck_assert_int_eq(ph_le_uint(HeapValidate(h, 0, unmapped)), FALSE);
  PH_ASSERT_DOC(ph_test_error == ERROR_NOACCESS,
                "Wine 8.0 leaves the last error as it was");
}
END_TEST

/* HeapQueryInformation with no heap: FALSE, ERROR_NOACCESS, and the size
 * not written (Wine's tests, asserted on Windows). */
START_TEST(query_information_of_no_heap_is_noaccess) {
  ULONG compat = 7;
  SIZE_T size = 0;
  SetLastError(0xdeadbeef);
  BOOL ok = (BOOL)ph_le_uint(HeapQueryInformation(
      NULL, HeapCompatibilityInformation, &compat, sizeof compat, &size));
  PH_ASSERT_DOC(!ok && ph_test_error == ERROR_NOACCESS && size == 0,
                "Wine 8.0 answers for the process heap");
}
END_TEST

/* ---- emulated engine: defined answers for misuse ---------------------- */

START_TEST(bad_heap_is_not_valid_and_keeps_the_last_error) {
  HANDLE h = HeapCreate(0, 0, 0);
  HeapDestroy(h);
  static char outside[64];
  SetLastError(1234);
  ck_assert_int_eq(ph_le_uint(HeapValidate(h, 0, NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, 1234);
  ck_assert_int_eq(ph_le_uint(HeapValidate(NULL, 0, NULL)), FALSE);
  ck_assert_int_eq(ph_le_uint(HeapValidate(outside, 0, NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, 1234);
}
END_TEST

START_TEST(interior_pointer_is_not_valid) {
  HANDLE h = ph_test_heap;
  char* p = HeapAlloc(h, 0, 4000);
  ck_assert_int_eq(HeapValidate(h, 0, p + 16), FALSE);
  ck_assert_int_eq(HeapValidate(h, 0, p + 1), FALSE);
  ck_assert_int_eq(HeapValidate(h, 0, p + 4000), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, p), FALSE);
}
END_TEST

/* A write past the end of `a` over the header of the block after it: the
 * heap and that block no longer validate; the other blocks still read and
 * free. */
START_TEST(overrun_into_the_next_header_is_detected) {
  HANDLE h = ph_test_heap;
  enum { N = 8, SIZE = 1000 };
  unsigned char* b[N];
  ck_assert_int_eq(ph_test_alloc_filled(h, b, N, SIZE, 0x40), N);
  /* the blocks are laid out in order, b[3] right after b[2] */
  ck_assert_addr_gt(b[3], b[2]);
  ck_assert_uint_le((SIZE_T)(b[3] - b[2]), SIZE + 64);
  memset(b[2] + SIZE, 0xEE, (size_t)(b[3] - (b[2] + SIZE)));
  SetLastError(1234);
  ck_assert_int_eq(ph_le_uint(HeapValidate(h, 0, NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, 1234);
  ck_assert_int_eq(HeapValidate(h, 0, b[3]), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, b[5]), FALSE);
  for (int i = 0; i < N; i++) {
    if (i == 2 || i == 3)
      continue;
    ck_assert_uint_eq(b[i][SIZE - 1], 0x40u + (unsigned)i);
    ck_assert_uint_eq(HeapSize(h, 0, b[i]), SIZE);
    ck_assert_int_ne(HeapFree(h, 0, b[i]), FALSE);
  }
  void* fresh = HeapAlloc(h, 0, SIZE); /* the heap still serves */
  ck_assert_ptr_nonnull(fresh);
  ck_assert_int_ne(HeapFree(h, 0, fresh), FALSE);
}
END_TEST

/* Blocks of one size allocated and freed at random while their number
 * swings between none and a few hundred, so that runs fill, empty, go
 * back on their lists and are given back, with the slot freed last
 * handed out again in between (every other allocation with a flag, which
 * takes the engine's general path): the heap validates throughout, and
 * every live block keeps its bytes (none is handed out twice). */
START_TEST(churn_of_one_size_keeps_the_heap_valid) {
  HANDLE h = ph_test_heap;
  enum { MAX = 300, STEPS = 40000, SIZE = 100 };
  static unsigned char* live[MAX];
  int n = 0, high = MAX;
  uint32_t rng = 12345;
  ph_test_activate_size(h, SIZE);
  for (int step = 0; step < STEPS; step++) {
    uint32_t x = ph_test_rand(&rng);
    if (n == high)
      high = (int)(x % 8); /* down to a few */
    else if (n <= high && high < 8)
      high = MAX - (int)(x % 64); /* and up again */
    bool grow = n < high ? x % 4 != 0 : x % 4 == 0; /* mostly towards high */
    if (n == 0 || (grow && n < MAX)) {
      live[n] = HeapAlloc(h, x & 1 ? HEAP_GENERATE_EXCEPTIONS : 0, SIZE);
      ck_assert_ptr_nonnull(live[n]);
      memset(live[n], (unsigned char)(uintptr_t)live[n], SIZE);
      n++;
    } else {
      int i = (int)((x >> 8) % (uint32_t)n);
      unsigned char* p = live[i];
      ck_assert_uint_eq(ph_test_first_bad_byte(p, SIZE, (unsigned char)(uintptr_t)p), SIZE);
      ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
      live[i] = live[--n];
    }
    if (step % 4 == 0)
      ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  }
  while (n > 0)
    ck_assert_int_ne(HeapFree(h, 0, live[--n]), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
}
END_TEST

/* On a heap of its own, blocks of one size until a third run is full
 * (on the emulated engine a run is a row of evenly spaced blocks; the
 * second and third hold 64), then a quarter and one of the second run's
 * freed, so that it goes back in service, then one allocation with a
 * flag (the engine's general path, which replaces the full active run by
 * that one before it looks at the slot freed last): the heap validates
 * before and after, and every block keeps its bytes.  Whatever the
 * layout, a correct heap passes. */
START_TEST(a_run_back_in_service_keeps_the_heap_valid) {
  enum { MAX = 400, RUN = 64, FREED = RUN / 4 + 1, SIZE = 100 };
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  ph_test_activate_size(h, SIZE);
  static unsigned char* p[MAX];
  int n = 0, runs = 0, second = -1, left = -1;
  while (n < MAX && left != 0) {
    p[n] = HeapAlloc(h, 0, SIZE);
    ck_assert_ptr_nonnull(p[n]);
    ph_test_fill(p[n], SIZE, (unsigned char)(0x10 + n));
    if (n >= 2 && (uintptr_t)p[n] - (uintptr_t)p[n - 1] !=
                      (uintptr_t)p[1] - (uintptr_t)p[0] &&
        ++runs == 1)
      second = n; /* the second run starts here */
    if (runs == 2 && left < 0)
      left = RUN; /* the third: fill it */
    if (left > 0)
      left--;
    n++;
  }
  if (ph_test_emul())
    ck_assert_int_ge(second, 0);
  else if (second < 0 || second > n - FREED) /* Windows lays its LFH
                                                 blocks out as it likes */
    second = 0;
  for (int i = second; i < second + FREED; i++)
    ck_assert_int_ne(HeapFree(h, 0, p[i]), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  unsigned char* q = HeapAlloc(h, HEAP_GENERATE_EXCEPTIONS, SIZE);
  ck_assert_ptr_nonnull(q);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapFree(h, 0, q), FALSE);
  for (int i = 0; i < n; i++) {
    if (i >= second && i < second + FREED)
      continue;
    ck_assert_uint_eq(ph_test_first_bad_byte(p[i], SIZE, (unsigned char)(0x10 + i)), SIZE);
    ck_assert_int_ne(HeapFree(h, 0, p[i]), FALSE);
  }
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

Suite* test_validate(void) {
  Suite* s = suite_create("validate");
  TCase* tc = tcase_create("core");
  tcase_add_checked_fixture(tc, ph_test_heap_setup, ph_test_heap_teardown);
  tcase_add_test(tc, fresh_and_used_heaps_are_valid);
  tcase_add_test(tc, live_block_is_valid);
  tcase_add_test(tc, freed_block_is_not_valid);
  tcase_add_test(tc, pointer_outside_every_heap_is_not_valid);
  tcase_add_test(tc, validate_never_touches_the_last_error);
  tcase_add_test(tc, unreadable_pointer_is_not_valid_with_noaccess);
  tcase_add_test(tc, query_information_of_no_heap_is_noaccess);
  tcase_add_test(tc, churn_of_one_size_keeps_the_heap_valid);
  tcase_add_test(tc, a_run_back_in_service_keeps_the_heap_valid);
  suite_add_tcase(s, tc);
  TCase* bad = tcase_create("misuse");
  tcase_add_checked_fixture(bad, ph_test_heap_setup, ph_test_heap_teardown);
  ph_test_add_emul(bad, bad_heap_is_not_valid_and_keeps_the_last_error,
                   "a destroyed heap handle is undefined on Windows");
  ph_test_add_emul(bad, interior_pointer_is_not_valid,
                   "an interior pointer is undefined on Windows");
  ph_test_add_emul(bad, overrun_into_the_next_header_is_detected,
                   "heap corruption is undefined on Windows");
  suite_add_tcase(s, bad);
  return s;
}
