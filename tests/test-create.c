/*
 * test-create.c - HeapCreate and HeapDestroy: growable and fixed heaps,
 * their limits, and what a destroyed heap leaves behind.
 */
#include "suites.h"

#include <string.h>

/* A block "slightly less" than the fixed-heap limit is refused at 1 MiB
 * on every system (docs/semantics.md, Limits). */
#define FIXED_REFUSED ((SIZE_T)1 << 20)
#define FIXED_ALLOWED ((SIZE_T)128 << 10)

START_TEST(growable_heap_serves_many_blocks) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  enum { N = 5000 };
  static void* blocks[N];
  for (int i = 0; i < N; i++) {
    blocks[i] = HeapAlloc(h, 0, (SIZE_T)(i % 700) + 1);
    ck_assert_ptr_nonnull(blocks[i]);
    memset(blocks[i], i & 0xFF, (size_t)(i % 700) + 1);
  }
  for (int i = 0; i < N; i++) {
    ck_assert_uint_eq(HeapSize(h, 0, blocks[i]), (SIZE_T)(i % 700) + 1);
    ck_assert_uint_eq(((unsigned char*)blocks[i])[i % 700], (unsigned)(i & 0xFF));
  }
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

START_TEST(destroy_needs_no_free_first) {
  HANDLE h = HeapCreate(0, 65536, 0);
  ck_assert_ptr_nonnull(h);
  for (int i = 0; i < 1000; i++)
    ck_assert_ptr_nonnull(HeapAlloc(h, 0, 64));
  ck_assert_ptr_nonnull(HeapAlloc(h, 0, (SIZE_T)4 << 20)); /* a large one */
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

START_TEST(fixed_heap_allows_blocks_under_its_limit) {
  HANDLE h = HeapCreate(0, 0, (SIZE_T)2 << 20);
  ck_assert_ptr_nonnull(h);
  void* p = HeapAlloc(h, 0, FIXED_ALLOWED);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(HeapSize(h, 0, p), FIXED_ALLOWED);
  HeapDestroy(h);
}
END_TEST

START_TEST(fixed_heap_refuses_blocks_over_its_limit) {
  HANDLE h = HeapCreate(0, 0, (SIZE_T)8 << 20);
  ck_assert_ptr_nonnull(h);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapAlloc(h, 0, FIXED_REFUSED)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  ck_assert_ptr_nonnull(HeapAlloc(h, 0, 1000)); /* still serves */
  HeapDestroy(h);
}
END_TEST

START_TEST(fixed_heap_never_grows_past_its_maximum) {
  SIZE_T max = 256 << 10;
  HANDLE big = HeapCreate(0, 0, 0); /* leaves big regions behind to reuse */
  for (int i = 0; i < 64; i++)
    ck_assert_ptr_nonnull(HeapAlloc(big, 0, 60000));
  HeapDestroy(big);
  HANDLE h = HeapCreate(0, 0, max);
  ck_assert_ptr_nonnull(h);
  SIZE_T total = 0;
  void* p;
  while ((p = ph_le_ptr(HeapAlloc(h, 0, 4000))) != NULL) {
    memset(p, 0x5A, 4000);
    total += 4000;
    ck_assert_uint_le(total, max);
  }
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  ck_assert_uint_ge(total, max / 2);
  HeapDestroy(h);
}
END_TEST

START_TEST(growable_heap_grows_past_its_initial_size) {
  HANDLE h = HeapCreate(0, 4096, 0);
  ck_assert_ptr_nonnull(h);
  for (int i = 0; i < 64; i++) /* 4 MiB in 64 KiB blocks */
    ck_assert_ptr_nonnull(HeapAlloc(h, 0, 65536));
  HeapDestroy(h);
}
END_TEST

START_TEST(initial_equal_to_maximum_works) {
  HANDLE h = HeapCreate(0, 65536, 65536);
  ck_assert_ptr_nonnull(h);
  ck_assert_ptr_nonnull(HeapAlloc(h, 0, 1000));
  HeapDestroy(h);
}
END_TEST

START_TEST(initial_over_maximum_is_refused) {
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapCreate(0, 1 << 20, 1 << 16)));
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
}
END_TEST

START_TEST(no_serialize_heap_works) {
  HANDLE h = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
  ck_assert_ptr_nonnull(h);
  void* p = HeapAlloc(h, HEAP_NO_SERIALIZE, 100);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(HeapSize(h, HEAP_NO_SERIALIZE, p), 100);
  ck_assert_int_ne(HeapFree(h, HEAP_NO_SERIALIZE, p), FALSE);
  HeapDestroy(h);
}
END_TEST

START_TEST(destroyed_handle_is_refused) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapDestroy(h)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapAlloc(h, 0, 16)));
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
}
END_TEST

/* A fixed heap of N bytes holds one block of N - (0x400 + 0x100 x
 * sizeof(void *)) bytes and not one of N - (0x200 + 0x80 x sizeof(void
 * *)) (Wine's tests, asserted on Windows: code sizes a fixed heap to its
 * need that way). */
START_TEST(fixed_heap_holds_what_windows_holds) {
  SIZE_T n = 0x8000 * sizeof(void*);
  HANDLE h = HeapCreate(0, n, n);
  ck_assert_ptr_nonnull(h);
  SIZE_T fits = n - (0x400 + 0x100 * sizeof(void*));
  void* p = HeapAlloc(h, 0, fits);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(HeapSize(h, 0, p), fits);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  SetLastError(0xdeadbeef);
  p = ph_le_ptr(HeapAlloc(h, 0, n - (0x200 + 0x80 * sizeof(void*))));
  PH_ASSERT_DOC(p == NULL && ph_test_error == ERROR_NOT_ENOUGH_MEMORY,
                "Wine 8.0 grants the bigger block");
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* Windows rounds a fixed heap's maximum up to pages before it reserves
 * it (Microsoft's HeapCreate page): maxima that round alike make the same
 * heap, with the same largest block. */
START_TEST(fixed_heap_limit_follows_its_rounded_maximum) {
  SIZE_T n = 0x8000 * sizeof(void*);
  SIZE_T fits = n - (0x400 + 0x100 * sizeof(void*));
  SIZE_T asked[] = {n - 1, n - 0x800};
  for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
    HANDLE h = HeapCreate(0, asked[i], asked[i]);
    ck_assert_ptr_nonnull(h);
    void* p = HeapAlloc(h, 0, fits);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(HeapSize(h, 0, p), fits);
    ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
    ck_assert_int_ne(HeapDestroy(h), FALSE);
  }
}
END_TEST

/* A fixed heap commits more only for a block its uncommitted range holds
 * whole: with initial 2A and maximum 5A it refuses a block of 3A, which
 * would fit once the range joined the free space before it, and still
 * serves A and grows it to 2A (Wine's tests, passed on Windows; A is
 * 0x8000 pointers). */
START_TEST(fixed_heap_grows_only_by_whole_blocks) {
  SIZE_T a = 0x8000 * sizeof(void*);
  HANDLE h = HeapCreate(0, 2 * a, 5 * a);
  ck_assert_ptr_nonnull(h);
  SetLastError(0xdeadbeef);
  void* big = ph_le_ptr(HeapAlloc(h, 0, 3 * a));
  DWORD error = ph_test_error;
  if (big != NULL)
    ck_assert_int_ne(HeapFree(h, 0, big), FALSE);
  void* p = HeapAlloc(h, HEAP_ZERO_MEMORY, a);
  ck_assert_ptr_nonnull(p);
  p = HeapReAlloc(h, HEAP_ZERO_MEMORY, p, 2 * a);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(HeapSize(h, 0, p), 2 * a);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  PH_ASSERT_DOC(big == NULL && error == ERROR_NOT_ENOUGH_MEMORY,
                "Wine 8.0 grants the block of 3A");
}
END_TEST

/* Windows' heap handles are 64 KiB aligned, whatever heaps came and went
 * before (Wine's tests assert it after every HeapCreate, on Windows and on
 * Wine): growable, fixed and NO_SERIALIZE heaps made where others were
 * just destroyed. */
START_TEST(handles_stay_64k_aligned_as_heaps_come_and_go) {
  SIZE_T n = 0x8000 * sizeof(void*);
  for (int round = 0; round < 3; round++) {
    HANDLE h[] = {HeapCreate(0, 0, 0), HeapCreate(0, n, n),
                  HeapCreate(HEAP_NO_SERIALIZE, 0, 0)};
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
      ck_assert_ptr_nonnull(h[i]);
      ck_assert_uint_eq((uintptr_t)h[i] & 0xFFFF, 0);
      ck_assert_ptr_nonnull(HeapAlloc(h[i], 0, 100));
    }
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
      ck_assert_int_ne(HeapDestroy(h[i]), FALSE);
  }
}
END_TEST

/* A function returning 42, as machine code for the processor the suite
 * runs on (none elsewhere: the test is then left out). */
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) ||             \
    defined(_M_IX86)
static const unsigned char return_42[] = {0xB8, 0x2A, 0, 0, 0, 0xC3};
#elif defined(__aarch64__)
static const unsigned char return_42[] = {0x40, 0x05, 0x80, 0x52,
                                          0xC0, 0x03, 0x5F, 0xD6};
#else
static const unsigned char return_42[] = {0};
#  define PH_TEST_NO_CODE 1
#endif

/* Copy return_42 into p and call it. */
static int run_copy(void* p) {
  memcpy(p, return_42, sizeof return_42);
  __builtin___clear_cache((char*)p, (char*)p + sizeof return_42);
  int (*fn)(void);
  memcpy(&fn, &p, sizeof fn);
  return fn();
}

/* The blocks of a heap made with HEAP_CREATE_ENABLE_EXECUTE hold code that
 * runs (Microsoft's HeapCreate page): a small block, a block above the
 * large-block threshold (its own mapping) and a block of a fixed heap. */
START_TEST(execute_heap_runs_code) {
  HANDLE grow = HeapCreate(HEAP_CREATE_ENABLE_EXECUTE, 0, 0);
  HANDLE fixed = HeapCreate(HEAP_CREATE_ENABLE_EXECUTE, 0, 0x10000);
  ck_assert_ptr_nonnull(grow);
  ck_assert_ptr_nonnull(fixed);
  void* blocks[] = {HeapAlloc(grow, 0, 64), HeapAlloc(grow, 0, 2 << 20),
                    HeapAlloc(fixed, 0, 64)};
  for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
    ck_assert_ptr_nonnull(blocks[i]);
    ck_assert_int_eq(run_copy(blocks[i]), 42);
  }
  ck_assert_int_ne(HeapDestroy(grow), FALSE);
  ck_assert_int_ne(HeapDestroy(fixed), FALSE);
}
END_TEST

START_TEST(garbage_handles_are_refused) {
  static char not_a_heap[4096];
  HANDLE bad[] = {NULL, not_a_heap, (HANDLE)(uintptr_t)0x10000,
                  (HANDLE)(uintptr_t)1};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    SetLastError(0);
    ck_assert_ptr_null(ph_le_ptr(HeapAlloc(bad[i], 0, 16)));
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
    SetLastError(0);
    ck_assert_int_eq(ph_le_uint(HeapDestroy(bad[i])), FALSE);
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  }
}
END_TEST

Suite* test_create(void) {
  Suite* s = suite_create("create");
  TCase* tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, growable_heap_serves_many_blocks);
  tcase_add_test(tc, destroy_needs_no_free_first);
  tcase_add_test(tc, fixed_heap_allows_blocks_under_its_limit);
  tcase_add_test(tc, fixed_heap_refuses_blocks_over_its_limit);
  tcase_add_test(tc, fixed_heap_never_grows_past_its_maximum);
  tcase_add_test(tc, growable_heap_grows_past_its_initial_size);
  tcase_add_test(tc, initial_equal_to_maximum_works);
  tcase_add_test(tc, no_serialize_heap_works);
  tcase_add_test(tc, fixed_heap_holds_what_windows_holds);
  tcase_add_test(tc, fixed_heap_limit_follows_its_rounded_maximum);
  tcase_add_test(tc, fixed_heap_grows_only_by_whole_blocks);
  tcase_add_test(tc, handles_stay_64k_aligned_as_heaps_come_and_go);
#ifdef PH_TEST_NO_CODE
  ph_test_add_if(tc, execute_heap_runs_code, "execute_heap_runs_code", false,
                 "no machine code here for this processor");
#else
  tcase_add_test(tc, execute_heap_runs_code);
#endif
  ph_test_add_emul(tc, initial_over_maximum_is_refused,
                   "Wine 8.0 creates such a heap; Windows is unverified");
  ph_test_add_emul(tc, destroyed_handle_is_refused,
                   "a destroyed handle is undefined on Windows");
  ph_test_add_emul(tc, garbage_handles_are_refused,
                   "a bad handle is undefined on Windows");
  suite_add_tcase(s, tc);
  return s;
}
