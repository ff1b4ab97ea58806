/*
 * suites.h - the test suite's topics and its few helpers.
 *
 * Every test runs unchanged on Linux (emulated engine), on the mingw-w64
 * build under Wine (native backend) and on Windows.  A test that can only
 * hold on one backend is registered only there, and registration prints why
 * (ph_test_skip).  Check does not fork on Windows: a test frees what it
 * makes and never crashes on purpose.
 */
#ifndef PH_TEST_SUITES_H
#define PH_TEST_SUITES_H

#include <check.h>
#include <portheap/win32.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

Suite* test_registry(void);
Suite* test_create(void);
Suite* test_alloc(void);
Suite* test_geometry(void);
Suite* test_realloc(void);
Suite* test_lasterror(void);
Suite* test_misuse(void);
Suite* test_walk(void);
Suite* test_validate(void);
Suite* test_lock(void);
Suite* test_info(void);
Suite* test_exceptions(void);
Suite* test_trust(void);
Suite* test_memory(void);
Suite* test_hardening(void);
Suite* test_scale(void);

/* ---- platform.c ------------------------------------------------------------ */

/* Whether the native backend runs on Wine rather than Windows. */
bool ph_test_on_wine(void);

/* Whether the suite runs under Valgrind (where the engine tells it of
 * every block, and so takes its general paths only). */
bool ph_test_under_valgrind(void);

/* Whether the library runs portheap's engine (POSIX, or the emul build). */
bool ph_test_emul(void);

/* Add a test only on the emulated engine: portheap's promises for misuse
 * and other behaviour Windows leaves undefined. */
#define ph_test_add_emul(tc, fn, why)                                          \
  ph_test_add_if(tc, fn, #fn, ph_test_emul(), why)
/* Add a test only where pointers have `bits` bits (32 or 64): limits that
 * follow the word size, as Windows' do. */
#define ph_test_add_bits(tc, fn, bits, why)                                    \
  ph_test_add_if(tc, fn, #fn, sizeof(void*) * 8 == (bits), why)
void ph_test_add_if(TCase* tc, const TTest* test, const char* name,
                    bool run, const char* why);
/* How many tests registration left out (each printed its reason). */
extern unsigned ph_test_skipped;

/* A thread running fn(arg); join returns when it has finished. */
typedef struct ph_test_thread ph_test_thread_t;
ph_test_thread_t* ph_test_thread_start(void (*fn)(void*), void* arg);
void ph_test_thread_join(ph_test_thread_t* t);
/* Let another thread run. */
void ph_test_yield(void);
/* Sleep for about ms milliseconds. */
void ph_test_sleep_ms(unsigned ms);
/* Milliseconds of the clock the engine's decay reads (a coarse one: it
 * moves in steps of the system's tick, 1-4 ms on Linux, about 16 on
 * Windows). */
uint64_t ph_test_clock_ms(void);
/* How far that clock moves at a time, in milliseconds (at least 1). */
unsigned ph_test_clock_tick_ms(void);
/* CPU time the calling thread has used, in seconds; negative if unknown. */
double ph_test_thread_cpu_seconds(void);
/* The system's page size in bytes. */
size_t ph_test_page_size(void);
/* The process's resident memory in bytes (Linux: /proc/self/statm); 0
 * where the system does not say. */
size_t ph_test_resident_bytes(void);
/* Bytes of the pages of [p, p + n) that are resident (Linux: mincore; an
 * unmapped page is not); -1 where the system does not say. */
long ph_test_resident_in(const void* p, size_t n);
/* Whether the byte at p can be read without a fault (POSIX: its page is
 * mapped; Windows: committed and accessible). */
bool ph_test_readable(const void* p);
/* The address of a page that was mapped and is no longer (Wine's tests
 * use 0xdeadbe00, which sanitizers' shadow memory may cover). */
void* ph_test_unmapped_page(void);

/* The seed for randomised tests: PH_TEST_SEED, or a fixed default. */
unsigned ph_test_seed(void);
/* A small deterministic generator (xorshift32); *state must not be 0. */
uint32_t ph_test_rand(uint32_t* state);

/*
 * The last error right after a call: wrap the call in ph_le_ptr() or
 * ph_le_uint() and read ph_test_error.  Check's own bookkeeping (each
 * passing assertion) may change the last error on Windows, so it must be
 * read before any assertion.  SetLastError(0) first where the value
 * matters.
 */
extern DWORD ph_test_error;
void* ph_le_ptr(void* result);
uintmax_t ph_le_uint(uintmax_t result);

/* ---- fixtures.c ------------------------------------------------------------ */

/*
 * A fresh growable heap for each test of a TCase:
 *   tcase_add_checked_fixture(tc, ph_test_heap_setup, ph_test_heap_teardown);
 * The setup asserts that HeapCreate(0, 0, 0) succeeded; the teardown
 * destroys the heap with whatever blocks the test left in it.
 */
extern HANDLE ph_test_heap;
void ph_test_heap_setup(void);
void ph_test_heap_teardown(void);

/* Set p[0..n) to value. */
void ph_test_fill(void* p, SIZE_T n, unsigned char value);
/* Index of the first byte of p[0..n) that is not value, or n. */
SIZE_T ph_test_first_bad_byte(const void* p, SIZE_T n, unsigned char value);

/*
 * Blocks with a known content: up to n blocks of `size` bytes from h into
 * blocks[], block i filled with the byte (fill + i).  Stops at the first
 * HeapAlloc that fails (ph_test_error holds its last error); returns how
 * many blocks it allocated.
 */
int ph_test_alloc_filled(HANDLE h, unsigned char** blocks, int n, SIZE_T size,
                         unsigned char fill);
/* Assert that each of those n blocks still holds its fill, then that it
 * frees: block by block, in order. */
void ph_test_check_and_free_filled(HANDLE h, unsigned char* const* blocks,
                                   int n, SIZE_T size, unsigned char fill);

/* Put h's quick list for blocks of `size` bytes in use, as Windows' LFH
 * serves a size only after 18 requests of it (emul/small.h): 18 blocks of
 * that size, left allocated until h is destroyed. */
void ph_test_activate_size(HANDLE h, SIZE_T size);

/* Walk h from the start until the entry for block p, left in *e; false if
 * the walk ends without one. */
bool ph_test_walk_to(HANDLE h, PROCESS_HEAP_ENTRY* e, const void* p);
/* The entries a walk of h from the start gives before HeapWalk returns
 * FALSE, counting (and walking) at most `limit`. */
int ph_test_walk_entries(HANDLE h, int limit);

/* HeapUnlock(h) called on a thread of its own: its result, and in *error
 * the last error that thread had after it (SetLastError(0) before). */
BOOL ph_test_unlock_elsewhere(HANDLE h, DWORD* error);

/*
 * Assert a documented behaviour that Wine 8.0 departs from
 * (docs/semantics.md, "Wine 8.0's departures").  Elsewhere it is a plain
 * assertion.  On Wine a failure is reported as an expected failure (XFAIL)
 * and ends the test successfully; a pass there fails, so a fixed Wine is
 * noticed.
 */
#define PH_ASSERT_DOC(cond, wine_departure)                                    \
  do {                                                                         \
    bool ph_ok_ = (cond);                                                      \
    if (ph_test_on_wine()) {                                                   \
      ck_assert_msg(!ph_ok_, "XPASS on Wine (%s): %s", wine_departure, #cond); \
      printf("XFAIL on Wine: %s (%s)\n", #cond, wine_departure);              \
      return;                                                                  \
    }                                                                          \
    ck_assert_msg(ph_ok_, "%s", #cond);                                        \
  } while (0)

#endif /* PH_TEST_SUITES_H */
