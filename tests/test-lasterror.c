/*
 * test-lasterror.c - GetLastError/SetLastError: per thread, untouched by
 * successful calls, and the names of the codes.
 */
#include "suites.h"

#include <string.h>

START_TEST(set_then_get) {
  SetLastError(ERROR_INVALID_HANDLE);
  ck_assert_uint_eq(GetLastError(), ERROR_INVALID_HANDLE);
  SetLastError(0x20000001u); /* application bit */
  ck_assert_uint_eq(GetLastError(), 0x20000001u);
}
END_TEST

static void other_thread(void* arg) {
  DWORD* seen = arg;
  SetLastError(777);
  seen[0] = GetLastError();
}

START_TEST(last_error_is_per_thread) {
  DWORD seen[1] = {0};
  SetLastError(555);
  ph_test_thread_join(ph_test_thread_start(other_thread, seen));
  ck_assert_uint_eq(seen[0], 777);
  ck_assert_uint_eq(GetLastError(), 555);
}
END_TEST

START_TEST(successful_calls_leave_it_alone) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  SetLastError(4242);
  void* p = HeapAlloc(h, 0, 100);
  ck_assert_ptr_nonnull(p);
  p = HeapReAlloc(h, 0, p, 2000);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(HeapSize(h, 0, p), 2000);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  ck_assert_uint_eq(GetLastError(), 4242);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

START_TEST(validate_never_sets_it) {
  SetLastError(31337);
  ck_assert_int_eq(HeapValidate((HANDLE)(uintptr_t)0x10000, 0, NULL), FALSE);
  ck_assert_uint_eq(GetLastError(), 31337);
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
