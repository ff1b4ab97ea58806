/*
 * test-registry.c - GetProcessHeap, GetProcessHeaps and the heap registry.
 *
 * Other components may own heaps too (the C runtime on Windows), so tests
 * compare counts before and after, never absolute numbers.
 */
#include "suites.h"

#include <stdlib.h>

static DWORD heap_count(void) {
  return GetProcessHeaps(0, NULL);
}

/* Whether `h` is among the first `n` handles of GetProcessHeaps. */
static bool listed(HANDLE h) {
  HANDLE buf[256];
  DWORD n = GetProcessHeaps(256, buf);
  ck_assert_uint_le(n, 256);
  for (DWORD i = 0; i < n; i++)
    if (buf[i] == h)
      return true;
  return false;
}

START_TEST(process_heap_is_stable_and_listed_first) {
  HANDLE h = GetProcessHeap();
  ck_assert_ptr_nonnull(h);
  ck_assert_ptr_eq(GetProcessHeap(), h);
  HANDLE buf[256];
  DWORD n = GetProcessHeaps(256, buf);
  ck_assert_uint_ge(n, 1);
  ck_assert_ptr_eq(buf[0], h);
}
END_TEST

START_TEST(count_only_call_returns_total) {
  DWORD n = GetProcessHeaps(0, NULL);
  ck_assert_uint_ge(n, 1);
  HANDLE buf[256];
  ck_assert_uint_eq(GetProcessHeaps(256, buf), n);
}
END_TEST

START_TEST(create_registers_and_destroy_unregisters) {
  DWORD before = heap_count();
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  ck_assert_uint_eq(heap_count(), before + 1);
  ck_assert(listed(h));
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  ck_assert_uint_eq(heap_count(), before);
  ck_assert(!listed(h));
}
END_TEST

START_TEST(two_heaps_add_two_entries) {
  DWORD before = heap_count();
  HANDLE a = HeapCreate(0, 0, 0);
  HANDLE b = HeapCreate(HEAP_NO_SERIALIZE, 4096, 65536);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_ne(a, b);
  ck_assert_uint_eq(heap_count(), before + 2);
  ck_assert(listed(a) && listed(b));
  HeapDestroy(b);
  HeapDestroy(a);
  ck_assert_uint_eq(heap_count(), before);
}
END_TEST

/* Documented: a buffer too small receives NumberOfHeaps handles.  Wine 8.0
 * stores none (the old PSDK behaviour). */
START_TEST(small_buffer_gets_total_and_a_prefix) {
  HANDLE extra = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(extra);
  DWORD total = heap_count();
  ck_assert_uint_ge(total, 2);
  HANDLE buf[2] = {NULL, (HANDLE)(uintptr_t)0x5A5A5A50};
  DWORD n = GetProcessHeaps(1, buf);
  ck_assert_uint_eq(n, total);
  ck_assert_ptr_eq(buf[1], (HANDLE)(uintptr_t)0x5A5A5A50); /* not past 1 */
  HeapDestroy(extra);
  PH_ASSERT_DOC(buf[0] == GetProcessHeap(),
                "Wine stores no handle when the buffer is too small");
}
END_TEST

START_TEST(null_buffer_with_count_fails) {
  SetLastError(0);
  ck_assert_uint_eq(ph_le_uint(GetProcessHeaps(4, NULL)), 0);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
}
END_TEST

START_TEST(process_heap_cannot_be_destroyed) {
  HANDLE h = GetProcessHeap();
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapDestroy(h)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  void* p = HeapAlloc(h, 0, 32); /* still usable */
  ck_assert_ptr_nonnull(p);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
}
END_TEST

/* Microsoft's "Getting Process Heaps" sample, step by step. */
START_TEST(sample_two_call_pattern) {
  DWORD n = GetProcessHeaps(0, NULL);
  ck_assert_uint_ne(n, 0);
  SIZE_T bytes = (SIZE_T)n * sizeof(HANDLE);
  ck_assert_uint_eq(bytes / sizeof(HANDLE), n);
  HANDLE* heaps = HeapAlloc(GetProcessHeap(), 0, bytes);
  ck_assert_ptr_nonnull(heaps);
  DWORD m = GetProcessHeaps(n, heaps);
  ck_assert_uint_ne(m, 0);
  ck_assert_uint_le(m, n); /* nobody created a heap in between */
  for (DWORD i = 0; i < m; i++)
    ck_assert_ptr_nonnull(heaps[i]);
  ck_assert_ptr_eq(heaps[0], GetProcessHeap());
  ck_assert_int_ne(HeapFree(GetProcessHeap(), 0, heaps), FALSE);
}
END_TEST

/* The sample's "another component created a heap between calls" check. */
START_TEST(sample_detects_a_heap_created_between_calls) {
  DWORD n = GetProcessHeaps(0, NULL);
  HANDLE* heaps = HeapAlloc(GetProcessHeap(), 0, n * sizeof(HANDLE));
  ck_assert_ptr_nonnull(heaps);
  HANDLE late = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(late);
  DWORD m = GetProcessHeaps(n, heaps);
  ck_assert_uint_eq(m, n + 1);
  HeapDestroy(late);
  HeapFree(GetProcessHeap(), 0, heaps);
}
END_TEST

enum { CHURN_ROUNDS = 200 };

static void churn(void* arg) {
  int* failures = arg;
  for (int i = 0; i < CHURN_ROUNDS; i++) {
    HANDLE h = HeapCreate(0, 0, 0);
    if (h == NULL || HeapAlloc(h, 0, 100) == NULL || !HeapDestroy(h))
      ++*failures;
  }
}

START_TEST(concurrent_create_destroy_and_enumerate) {
  DWORD before = heap_count();
  int failures[2] = {0, 0};
  ph_test_thread_t* t0 = ph_test_thread_start(churn, &failures[0]);
  ph_test_thread_t* t1 = ph_test_thread_start(churn, &failures[1]);
  HANDLE buf[256];
  for (int i = 0; i < 500; i++) {
    DWORD n = GetProcessHeaps(256, buf);
    ck_assert_uint_ge(n, before);
    ck_assert_uint_le(n, before + 2);
    ck_assert_ptr_eq(buf[0], GetProcessHeap());
  }
  ph_test_thread_join(t0);
  ph_test_thread_join(t1);
  ck_assert_int_eq(failures[0] + failures[1], 0);
  ck_assert_uint_eq(heap_count(), before);
}
END_TEST

Suite* test_registry(void) {
  Suite* s = suite_create("registry");
  TCase* tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, process_heap_is_stable_and_listed_first);
  tcase_add_test(tc, count_only_call_returns_total);
  tcase_add_test(tc, create_registers_and_destroy_unregisters);
  tcase_add_test(tc, two_heaps_add_two_entries);
  tcase_add_test(tc, small_buffer_gets_total_and_a_prefix);
  tcase_add_test(tc, process_heap_cannot_be_destroyed);
  tcase_add_test(tc, sample_two_call_pattern);
  tcase_add_test(tc, sample_detects_a_heap_created_between_calls);
  tcase_add_test(tc, concurrent_create_destroy_and_enumerate);
  ph_test_add_emul(tc, null_buffer_with_count_fails,
                   "Windows leaves a NULL buffer with a count undefined");
  suite_add_tcase(s, tc);
  return s;
}
