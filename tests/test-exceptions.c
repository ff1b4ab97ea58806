/*
 * test-exceptions.c - HEAP_GENERATE_EXCEPTIONS on the emulated engine: a
 * failure raises its status into the handler set by
 * ph_set_exception_handler.  (On Windows a real structured exception is
 * raised, which Check cannot catch; the default handler, which ends the
 * process, is tested by tests/crash.sh.)
 */
#include "suites.h"

#include <setjmp.h>
#include <string.h>

static jmp_buf escape;
static volatile DWORD raised_status;
static void* volatile raised_heap;
static volatile int raised_count;

static void jump_handler(uint32_t status, void* heap, void* arg) {
  (void)arg;
  raised_status = status;
  raised_heap = heap;
  raised_count++;
  longjmp(escape, 1);
}

static void record_handler(uint32_t status, void* heap, void* arg) {
  raised_status = status;
  raised_heap = heap;
  raised_count++;
  *(int*)arg += 1;
}

static void setup(void) {
  raised_status = 0;
  raised_heap = NULL;
  raised_count = 0;
  ph_set_exception_handler(jump_handler, NULL);
}

static void teardown(void) {
  ph_set_exception_handler(NULL, NULL);
}

/* The size no heap can serve. */
#define IMPOSSIBLE (~(SIZE_T)0 - 4096)

START_TEST(alloc_flag_raises_no_memory) {
  HANDLE h = ph_test_heap;
  void* volatile p = (void*)1;
  if (setjmp(escape) == 0)
    p = HeapAlloc(h, HEAP_GENERATE_EXCEPTIONS, IMPOSSIBLE);
  ck_assert_int_eq(raised_count, 1);
  ck_assert_uint_eq(raised_status, STATUS_NO_MEMORY);
  ck_assert_uint_eq(raised_status, 0xC0000017u);
  ck_assert_ptr_eq(raised_heap, h);
  ck_assert_ptr_eq(p, (void*)1); /* the call never returned */
  /* the heap was left unlocked and usable */
  void* q = HeapAlloc(h, HEAP_GENERATE_EXCEPTIONS, 64);
  ck_assert_ptr_nonnull(q);
  ck_assert_int_eq(raised_count, 1);
  ck_assert_int_ne(HeapFree(h, 0, q), FALSE);
}
END_TEST

START_TEST(without_the_flag_nothing_is_raised) {
  HANDLE h = ph_test_heap;
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapAlloc(h, 0, IMPOSSIBLE)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  ck_assert_int_eq(raised_count, 0);
}
END_TEST

START_TEST(heap_created_with_the_flag_raises_on_every_failure) {
  HANDLE h = HeapCreate(HEAP_GENERATE_EXCEPTIONS, 0, (SIZE_T)1 << 20);
  ck_assert_ptr_nonnull(h);
  char* volatile block = HeapAlloc(h, 0, 100);
  ck_assert_ptr_nonnull(block);
  /* busy after block, so that it cannot grow in place (a block followed
   * by the heap's free space may grow into its uncommitted part) */
  ck_assert_ptr_nonnull(HeapAlloc(h, 0, 100));
  /* an impossible size */
  if (setjmp(escape) == 0)
    HeapAlloc(h, 0, IMPOSSIBLE);
  ck_assert_int_eq(raised_count, 1);
  ck_assert_uint_eq(raised_status, STATUS_NO_MEMORY);
  /* over the fixed heap's block limit */
  if (setjmp(escape) == 0)
    HeapAlloc(h, 0, (SIZE_T)1 << 20);
  ck_assert_int_eq(raised_count, 2);
  ck_assert_uint_eq(raised_status, STATUS_NO_MEMORY);
  /* a realloc that cannot be done in place */
  if (setjmp(escape) == 0)
    HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY, block, 500000);
  ck_assert_int_eq(raised_count, 3);
  ck_assert_uint_eq(raised_status, STATUS_NO_MEMORY);
  ck_assert_uint_eq(HeapSize(h, 0, block), 100); /* untouched */
  /* the heap full: every further failure raises too */
  static int served;
  served = 0;
  if (setjmp(escape) == 0)
    while (HeapAlloc(h, 0, 60000) != NULL)
      served++;
  ck_assert_int_eq(raised_count, 4);
  ck_assert_int_gt(served, 0);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

START_TEST(realloc_flag_raises_no_memory) {
  HANDLE h = ph_test_heap;
  char* volatile block = HeapAlloc(h, 0, 100);
  memset(block, 0x5C, 100);
  if (setjmp(escape) == 0)
    HeapReAlloc(h, HEAP_GENERATE_EXCEPTIONS, block, IMPOSSIBLE);
  ck_assert_int_eq(raised_count, 1);
  ck_assert_uint_eq(raised_status, STATUS_NO_MEMORY);
  ck_assert_uint_eq((unsigned char)block[99], 0x5C);
  ck_assert_int_ne(HeapFree(h, 0, block), FALSE);
}
END_TEST

START_TEST(bad_heap_handle_raises_access_violation) {
  HANDLE h = HeapCreate(0, 0, 0);
  HeapDestroy(h);
  if (setjmp(escape) == 0)
    HeapAlloc(h, HEAP_GENERATE_EXCEPTIONS, 10);
  ck_assert_int_eq(raised_count, 1);
  ck_assert_uint_eq(raised_status, STATUS_ACCESS_VIOLATION);
  ck_assert_uint_eq(raised_status, 0xC0000005u);
  ck_assert_ptr_eq(raised_heap, h);
  HANDLE live = HeapCreate(0, 0, 0);
  static char outside[64];
  if (setjmp(escape) == 0)
    HeapReAlloc(live, HEAP_GENERATE_EXCEPTIONS, outside + 16, 10);
  ck_assert_int_eq(raised_count, 2);
  ck_assert_uint_eq(raised_status, STATUS_ACCESS_VIOLATION);
  HeapDestroy(live);
}
END_TEST

START_TEST(handler_that_returns_lets_the_call_fail) {
  int calls = 0;
  ph_set_exception_handler(record_handler, &calls);
  HANDLE h = ph_test_heap;
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapAlloc(h, HEAP_GENERATE_EXCEPTIONS,
                                         IMPOSSIBLE)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  ck_assert_int_eq(calls, 1);
  ck_assert_uint_eq(raised_status, STATUS_NO_MEMORY);
}
END_TEST

START_TEST(set_handler_returns_the_previous_one) {
  ck_assert(ph_set_exception_handler(record_handler, NULL) == jump_handler);
  ck_assert(ph_set_exception_handler(NULL, NULL) == record_handler);
  ck_assert(ph_set_exception_handler(jump_handler, NULL) == NULL);
}
END_TEST

Suite* test_exceptions(void) {
  Suite* s = suite_create("exceptions");
  TCase* tc = tcase_create("handler");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_checked_fixture(tc, ph_test_heap_setup, ph_test_heap_teardown);
  const char* why = "Windows raises structured exceptions, not handler calls";
  ph_test_add_emul(tc, alloc_flag_raises_no_memory, why);
  ph_test_add_emul(tc, without_the_flag_nothing_is_raised, why);
  ph_test_add_emul(tc, heap_created_with_the_flag_raises_on_every_failure,
                   why);
  ph_test_add_emul(tc, realloc_flag_raises_no_memory, why);
  ph_test_add_emul(tc, bad_heap_handle_raises_access_violation, why);
  ph_test_add_emul(tc, handler_that_returns_lets_the_call_fail, why);
  ph_test_add_emul(tc, set_handler_returns_the_previous_one, why);
  suite_add_tcase(s, tc);
  return s;
}
