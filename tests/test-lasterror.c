/*
 * test-lasterror.c - GetLastError/SetLastError: per thread, untouched by
 * successful calls, and the names of the codes.
 */
#include "suites.h"

#include <string.h>

START_TEST(set_then_get) {
  SetLastError(ERROR_INVALID_HANDLE);
  DWORD first = GetLastError();
  SetLastError(0x20000001u); /* application bit */
  DWORD second = GetLastError();
  ck_assert_uint_eq(first, ERROR_INVALID_HANDLE);
  ck_assert_uint_eq(second, 0x20000001u);
}
END_TEST

static void other_thread(void* arg) {
  DWORD* seen = arg;
  SetLastError(777);
  seen[0] = GetLastError();
}

START_TEST(last_error_is_per_thread) {
  DWORD seen[1] = {0};
  ph_test_thread_t* t = ph_test_thread_start(other_thread, seen);
  SetLastError(555);
  ph_test_thread_join(t);
  DWORD mine = GetLastError();
  ck_assert_uint_eq(seen[0], 777);
  ck_assert_uint_eq(mine, 555);
}
END_TEST

START_TEST(successful_calls_leave_it_alone) {
  /* No assertion in between: Check's bookkeeping may touch the last
   * error on Windows. */
  SetLastError(4242);
  HANDLE h = HeapCreate(0, 0, 0);
  void* p = HeapAlloc(h, 0, 100);
  void* q = HeapReAlloc(h, 0, p, 2000);
  SIZE_T size = HeapSize(h, 0, q);
  BOOL freed = HeapFree(h, 0, q);
  DWORD after = GetLastError();
  ck_assert_ptr_nonnull(h);
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_nonnull(q);
  ck_assert_uint_eq(size, 2000);
  ck_assert_int_ne(freed, FALSE);
  ck_assert_uint_eq(after, 4242);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

START_TEST(validate_never_sets_it) {
  SetLastError(31337);
  ck_assert_int_eq(ph_le_uint(HeapValidate((HANDLE)(uintptr_t)0x10000, 0, NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, 31337);
}
END_TEST

START_TEST(error_names) {
  ck_assert_str_eq(ph_error_name(ERROR_INVALID_HANDLE), "ERROR_INVALID_HANDLE");
  ck_assert_str_eq(ph_error_name(ERROR_NOT_ENOUGH_MEMORY),
                   "ERROR_NOT_ENOUGH_MEMORY");
  ck_assert_str_eq(ph_error_name(0), "NO_ERROR");
  ck_assert_str_eq(ph_error_name(99999), "unknown error");
}
END_TEST

Suite* test_lasterror(void) {
  Suite* s = suite_create("lasterror");
  TCase* tc = tcase_create("core");
  tcase_add_test(tc, set_then_get);
  tcase_add_test(tc, last_error_is_per_thread);
  tcase_add_test(tc, successful_calls_leave_it_alone);
  tcase_add_test(tc, error_names);
  ph_test_add_emul(tc, validate_never_sets_it,
                   "a bad handle is undefined on Windows");
  suite_add_tcase(s, tc);
  return s;
}
