/*
 * test-misuse.c - the misuse catalogue: every way a caller can get a heap
 * call wrong, and the defined failure portheap gives for it
 * (docs/semantics.md, "portheap's choices").  After each one, every other
 * live block, in the heap misused, in another heap and in the process
 * heap, still holds its bytes and frees fine, and HeapValidate tells the
 * truth.
 *
 * Windows leaves misuse undefined, so most of these run only on the
 * emulated engine; the few that Windows documents run everywhere.
 *
 * Covered elsewhere too (kept there, extended here):
 *   NULL and garbage handles        test-create.c garbage_handles_are_refused
 *   destroyed handle                test-create.c destroyed_handle_is_refused
 *   double free, HeapSize of freed  test-alloc.c double_free_fails_...
 *   foreign and interior pointers   test-alloc.c foreign_and_interior_...
 *   HeapReAlloc of a freed block    test-realloc.c realloc_of_a_freed_block_fails
 *   sizes near SIZE_MAX             test-alloc.c huge_requests_fail_...,
 *                                   test-realloc.c realloc_of_huge_size_...
 *   fixed heap over its maximum     test-create.c fixed_heap_refuses_...,
 *                                   fixed_heap_never_grows_past_its_maximum
 *   in-place grow that cannot       test-realloc.c in_place_grow_that_cannot_...
 *   HeapDestroy(GetProcessHeap())   test-registry.c process_heap_cannot_be_...
 */
#include "suites.h"

#include <stdatomic.h>
#include <string.h>

/* ---- bystanders: live blocks the misuse must not touch ----------------- */

static HANDLE heap;  /* the heap misused */
static HANDLE other; /* another heap */

/* Small (quick lists), medium (bins) and large (own mapping) blocks. */
static const SIZE_T bystander_sizes[] = {24, 700, 1100000};
enum { SIZES = sizeof bystander_sizes / sizeof bystander_sizes[0] };

struct bystander {
  HANDLE heap;
  unsigned char* p;
  SIZE_T size;
  unsigned char fill;
};
static struct bystander by[3 * SIZES];
enum { BYSTANDERS = sizeof by / sizeof by[0] };

/* by[MINE + i], by[OTHER + i], by[PROCESS + i] for size i. */
enum { MINE = 0, OTHER = SIZES, PROCESS = 2 * SIZES };

static void setup(void) {
  heap = HeapCreate(0, 0, 0);
  other = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(heap);
  ck_assert_ptr_nonnull(other);
  HANDLE owners[3] = {heap, other, GetProcessHeap()};
  for (int i = 0; i < BYSTANDERS; i++) {
    struct bystander* b = &by[i];
    b->heap = owners[i / SIZES];
    b->size = bystander_sizes[i % SIZES];
    b->fill = (unsigned char)(0xA1 + i);
    b->p = HeapAlloc(b->heap, 0, b->size);
    ck_assert_ptr_nonnull(b->p);
    ph_test_fill(b->p, b->size, b->fill);
  }
}

static void teardown(void) {
  for (int i = 0; i < BYSTANDERS; i++)
    if (by[i].p != NULL && by[i].heap != heap && by[i].heap != other)
      HeapFree(by[i].heap, 0, by[i].p);
  HeapDestroy(heap);
  HeapDestroy(other);
  memset(by, 0, sizeof by);
}

/*
 * Every bystander still holds its bytes, reports its size, validates and
 * frees; `heap` validates as a whole exactly when heap_intact says so.
 */
static void bystanders_survive(bool heap_intact) {
  for (int i = 0; i < BYSTANDERS; i++) {
    struct bystander* b = &by[i];
    ck_assert_uint_eq(HeapSize(b->heap, 0, b->p), b->size);
    ck_assert_uint_eq(ph_test_first_bad_byte(b->p, b->size, b->fill), b->size);
    ck_assert_int_ne(HeapValidate(b->heap, 0, b->p), FALSE);
  }
  ck_assert_int_eq(HeapValidate(heap, 0, NULL) != FALSE, heap_intact);
  ck_assert_int_ne(HeapValidate(other, 0, NULL), FALSE);
  ck_assert_int_ne(HeapValidate(GetProcessHeap(), 0, NULL), FALSE);
  for (int i = 0; i < BYSTANDERS; i++) {
    ck_assert_int_ne(HeapFree(by[i].heap, 0, by[i].p), FALSE);
    by[i].p = NULL;
  }
  ck_assert_int_eq(HeapValidate(heap, 0, NULL) != FALSE, heap_intact);
  ck_assert_int_ne(HeapValidate(other, 0, NULL), FALSE);
}

/* ---- bad handles ---------------------------------------------------------- */

/*
 * Every call given handle h fails as documented for a bad heap:
 * ERROR_INVALID_HANDLE, HeapValidate FALSE without touching the last error.
 * `block` is a live block of some heap (passed where a block is wanted).
 */
static void handle_is_refused(HANDLE h, void* block) {
  PROCESS_HEAP_ENTRY e;
  SIZE_T len = 0;
  ULONG compat = 0;
  HEAP_SUMMARY s;

  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapAlloc(h, 0, 16)));
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapAlloc(h, HEAP_ZERO_MEMORY, 0)));
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(h, 0, block, 32)));
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapFree(h, 0, block)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  /* NULL is checked before the heap (Windows): TRUE whatever the handle,
   * the last error untouched. */
  SetLastError(1234);
  ck_assert_int_eq(ph_le_uint(HeapFree(h, 0, NULL)), TRUE);
  ck_assert_uint_eq(ph_test_error, 1234);
  SetLastError(0);
  ck_assert_uint_eq(ph_le_uint(HeapSize(h, 0, block)), (SIZE_T)-1);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(1234);
  ck_assert_int_eq(ph_le_uint(HeapValidate(h, 0, NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, 1234);
  ck_assert_int_eq(ph_le_uint(HeapValidate(h, 0, block)), FALSE);
  ck_assert_uint_eq(ph_test_error, 1234);
  memset(&e, 0, sizeof e);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(h, &e)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapLock(h)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapUnlock(h)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_uint_eq(ph_le_uint(HeapCompact(h, 0)), 0);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapQueryInformation(
                       h, HeapCompatibilityInformation, &compat,
                       sizeof compat, &len)),
                   FALSE);
  /* No heap at all: ERROR_NOACCESS, as Windows; any other bad handle:
   * ERROR_INVALID_HANDLE. */
  ck_assert_uint_eq(ph_test_error,
                    h == NULL ? (DWORD)ERROR_NOACCESS : ERROR_INVALID_HANDLE);
  compat = 2;
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSetInformation(
                       h, HeapCompatibilityInformation, &compat,
                       sizeof compat)),
                   FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  memset(&s, 0, sizeof s);
  s.cb = sizeof s;
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapSummary(h, 0, &s)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapDestroy(h)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
}

START_TEST(null_handle_is_refused_everywhere) {
  handle_is_refused(NULL, by[MINE + 1].p);
  bystanders_survive(true);
}
END_TEST

START_TEST(random_pointers_as_handles_are_refused) {
  static char not_a_heap[4096];
  char on_stack[64];
  HANDLE bad[] = {
      not_a_heap,
      on_stack,
      by[MINE].p,                               /* a block, not a heap */
      by[MINE + 2].p,                           /* a large block */
      (char*)heap + 16,                         /* inside the heap header */
      (char*)heap + 0x10000,                    /* aligned, inside a region */
      (HANDLE)((uintptr_t)by[MINE + 2].p &      /* a large block's region */
               ~(uintptr_t)0xFFFF),
      (HANDLE)(uintptr_t)1,
      (HANDLE)(uintptr_t)0x10000,
      (HANDLE)(uintptr_t)0x7FFF00000000ull,     /* aligned, unmapped */
      (HANDLE)~(uintptr_t)0,
      (HANDLE)(~(uintptr_t)0 << 16),
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    handle_is_refused(bad[i], by[OTHER + 1].p);
  bystanders_survive(true);
}
END_TEST

START_TEST(destroyed_handle_is_refused_everywhere) {
  for (int round = 0; round < 2; round++) {
    HANDLE h = HeapCreate(round ? HEAP_NO_SERIALIZE : 0, 0,
                          round ? 0 : (SIZE_T)1 << 20);
    ck_assert_ptr_nonnull(h);
    void* p = HeapAlloc(h, 0, 100);
    void* big = HeapAlloc(h, 0, round ? 2000000 : 1000);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_ne(HeapDestroy(h), FALSE);
    handle_is_refused(h, p);
    handle_is_refused(h, big);
  }
  bystanders_survive(true);
}
END_TEST

/* A heap made and used by one thread (which holds its lock's bias, and on
 * the emulation its fast paths' token), destroyed by another: the first
 * thread's next calls with the handle fail as any destroyed handle's. */
struct maker {
  atomic_int phase; /* 1: made and used; 2: destroyed; 3: tried again */
  HANDLE heap;
  void* block;
  void* again;        /* HeapAlloc after the destruction */
  DWORD alloc_error;
  BOOL freed;         /* HeapFree of `block` after it */
  DWORD free_error;
};

static void make_and_use(void* arg) {
  struct maker* m = arg;
  m->heap = HeapCreate(0, 0, 0);
  for (int i = 0; m->heap != NULL && i < 100; i++) /* its own, biased */
    HeapFree(m->heap, 0, HeapAlloc(m->heap, 0, 100));
  m->block = m->heap != NULL ? HeapAlloc(m->heap, 0, 100) : NULL;
  atomic_store(&m->phase, 1);
  while (atomic_load(&m->phase) != 2)
    ph_test_yield();
  SetLastError(0);
  m->again = HeapAlloc(m->heap, 0, 100);
  m->alloc_error = GetLastError();
  SetLastError(0);
  m->freed = HeapFree(m->heap, 0, m->block);
  m->free_error = GetLastError();
  atomic_store(&m->phase, 3);
}

START_TEST(handle_destroyed_by_another_thread_is_refused_in_its_user) {
  static struct maker m;
  memset(&m, 0, sizeof m);
  ph_test_thread_t* t = ph_test_thread_start(make_and_use, &m);
  while (atomic_load(&m.phase) != 1)
    ph_test_yield();
  ck_assert_ptr_nonnull(m.block);
  ck_assert_int_ne(HeapDestroy(m.heap), FALSE);
  atomic_store(&m.phase, 2);
  ph_test_thread_join(t);
  ck_assert_int_eq(atomic_load(&m.phase), 3);
  ck_assert_ptr_null(m.again);
  ck_assert_uint_eq(m.alloc_error, ERROR_INVALID_HANDLE);
  ck_assert_int_eq(m.freed, FALSE);
  ck_assert_uint_eq(m.free_error, ERROR_INVALID_HANDLE);
  bystanders_survive(true);
}
END_TEST

START_TEST(process_heap_cannot_be_destroyed_and_keeps_blocks) {
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapDestroy(GetProcessHeap())), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  bystanders_survive(true);
}
END_TEST

/* ---- bad blocks ----------------------------------------------------------- */

/*
 * Allocate `count` blocks of `size` bytes with distinct fills and check that
 * none overlaps another: the heap still hands out sound memory.
 */
static void heap_still_serves(HANDLE h, SIZE_T size) {
  enum { COUNT = 40 };
  unsigned char* p[COUNT];
  ck_assert_int_eq(ph_test_alloc_filled(h, p, COUNT, size, 0x30), COUNT);
  ph_test_check_and_free_filled(h, p, COUNT, size, 0x30);
}

/*
 * Every block call on `heap` given p fails with ERROR_INVALID_PARAMETER
 * (HeapValidate: FALSE, last error untouched).
 */
static void block_is_refused(HANDLE h, void* p) {
  static const DWORD realloc_flags[] = {
      0, HEAP_ZERO_MEMORY, HEAP_REALLOC_IN_PLACE_ONLY, HEAP_NO_SERIALIZE};
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapFree(h, 0, p)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  SetLastError(0);
  ck_assert_uint_eq(ph_le_uint(HeapSize(h, 0, p)), (SIZE_T)-1);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  for (size_t i = 0; i < sizeof realloc_flags / sizeof realloc_flags[0]; i++) {
    SetLastError(0);
    ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(h, realloc_flags[i], p, 10)));
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
    SetLastError(0);
    ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(h, realloc_flags[i], p, 5000000)));
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  }
  /* HeapValidate reads the header, as Windows does: a fault gives
   * ERROR_NOACCESS; readable memory leaves the last error alone. */
  SetLastError(1234);
  ck_assert_int_eq(ph_le_uint(HeapValidate(h, 0, p)), FALSE);
  ck_assert_uint_eq(ph_test_error,
                    ph_test_readable((const void*)((uintptr_t)p - 16))
                                       ? 1234u
                                       : (DWORD)ERROR_NOACCESS);
}

START_TEST(block_of_another_heap_is_refused) {
  for (int i = 0; i < SIZES; i++) {
    block_is_refused(heap, by[OTHER + i].p);
    block_is_refused(heap, by[PROCESS + i].p);
    block_is_refused(other, by[MINE + i].p);
    block_is_refused(GetProcessHeap(), by[MINE + i].p);
  }
  bystanders_survive(true);
}
END_TEST

START_TEST(interior_pointers_are_refused) {
  static const SIZE_T offsets[] = {1, 8, 15, 16, 17, 32, 48, 64, 4096, 65536};
  for (int i = 0; i < SIZES; i++) {
    unsigned char* p = by[MINE + i].p;
    SIZE_T n = by[MINE + i].size;
    for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++)
      if (offsets[k] < n)
        block_is_refused(heap, p + offsets[k]);
    block_is_refused(heap, p - 16); /* the header */
    block_is_refused(heap, p - 8);
    block_is_refused(heap, p + n);  /* one past the end */
  }
  block_is_refused(heap, heap);     /* the handle as a block */
  block_is_refused(heap, (char*)heap + 0x10000);
  bystanders_survive(true);
}
END_TEST

START_TEST(random_pointers_as_blocks_are_refused) {
  static char not_a_block[256];
  char on_stack[64];
  void* bad[] = {not_a_block + 16, on_stack, (void*)(uintptr_t)16,
                 (void*)(uintptr_t)0x10010, (void*)(~(uintptr_t)0 << 4),
                 (void*)(uintptr_t)0x7FFF00000010ull};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    block_is_refused(heap, bad[i]);
  bystanders_survive(true);
}
END_TEST

/* Free a block of each kind, then misuse it: double free, HeapReAlloc,
 * HeapSize, HeapValidate. */
START_TEST(freed_blocks_are_refused) {
  static const SIZE_T sizes[] = {0, 24, 512, 513, 700, 40000, 1100000, 3000000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void* p = HeapAlloc(heap, 0, sizes[i]);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_ne(HeapFree(heap, 0, p), FALSE);
    block_is_refused(heap, p); /* double free first of all */
    block_is_refused(heap, p);
  }
  /* A block freed straight into the bins (above the quick-list classes)
   * while the block before it is free and the one after it busy merges
   * into the one before: its pointer is still refused (a fuzzer finding:
   * the merged-away header used to stay sealed and live). */
  void* c = HeapAlloc(heap, 0, 200000);
  void* d = HeapAlloc(heap, 0, 200000);
  void* e = HeapAlloc(heap, 0, 200000);
  ck_assert_ptr_nonnull(e);
  ck_assert_int_ne(HeapFree(heap, 0, c), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, d), FALSE);
  block_is_refused(heap, d);
  ck_assert_int_ne(HeapValidate(heap, 0, NULL), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, e), FALSE);
  /* The same after the freed block has been merged into the bins. */
  void* a = HeapAlloc(heap, 0, 100);
  void* b = HeapAlloc(heap, 0, 100);
  ck_assert_int_ne(HeapFree(heap, 0, a), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, b), FALSE);
  SetLastError(0);
  HeapCompact(heap, 0);
  block_is_refused(heap, a);
  block_is_refused(heap, b);
  bystanders_survive(true);
}
END_TEST

/* Freed small blocks whose memory the heap then gave back (whole regions
 * released, the first region's tail decommitted) are refused, and nothing
 * faults: the fast HeapFree finds a block of a heap's first region
 * without the address map while that is its only blocks region, and must
 * follow that region's commit as it shrinks.  Freed first to last and
 * last to first (what merges, and so what compaction gives back,
 * differs).  The region cache is off: released memory is unmapped. */
START_TEST(freed_blocks_in_memory_given_back_are_refused) {
  enum { N = 16384 }; /* 256-byte blocks: 4.5 MiB, several regions */
  static void* p[N];
  size_t limit = ph_region_cache_limit(0);
  for (int backwards = 0; backwards < 2; backwards++) {
    HANDLE h = HeapCreate(0, 0, 0);
    ck_assert_ptr_nonnull(h);
    for (int i = 0; i < N; i++) {
      p[i] = HeapAlloc(h, 0, 256);
      ck_assert_ptr_nonnull(p[i]);
    }
    for (int i = 0; i < N; i++)
      ck_assert_int_ne(HeapFree(h, 0, p[backwards ? N - 1 - i : i]), FALSE);
    HeapCompact(h, 0);
    for (int i = N - 1; i >= 0; i--) { /* the first block of each region too */
      SetLastError(0);
      ck_assert_int_eq(ph_le_uint(HeapFree(h, 0, p[i])), FALSE);
      ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
    }
    for (int i = N - 1; i >= 0; i -= 97)
      block_is_refused(h, p[i]);
    ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
    ck_assert_int_ne(HeapDestroy(h), FALSE);
  }
  ph_region_cache_limit(limit);
  bystanders_survive(true);
}
END_TEST

/* The same refusals on a HEAP_NO_SERIALIZE heap, whose small blocks go
 * through the same fast paths as a serialized heap's but with no lock. */
START_TEST(no_serialize_heap_refuses_bad_blocks) {
  HANDLE h = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
  ck_assert_ptr_nonnull(h);
  unsigned char* p = HeapAlloc(h, 0, 48);
  unsigned char* q = HeapAlloc(h, 0, 48);
  ck_assert_ptr_nonnull(q);
  block_is_refused(h, p + 16);            /* interior */
  block_is_refused(h, by[MINE].p);        /* another heap's */
  block_is_refused(heap, p);              /* h's, to another heap */
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  block_is_refused(h, p);                 /* double free */
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_uint_eq(HeapSize(h, 0, q), 48);
  heap_still_serves(h, 48);
  ck_assert_int_ne(HeapFree(h, 0, q), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  bystanders_survive(true);
}
END_TEST

/* A freed block handed out again is a live block once more: freeing the
 * stale pointer then frees the new owner's block (as on Windows); what PH
 * promises is that the heap never hands one block out twice. */
START_TEST(double_free_never_hands_out_a_block_twice) {
  void* p = HeapAlloc(heap, 0, 40);
  ck_assert_int_ne(HeapFree(heap, 0, p), FALSE);
  ck_assert_int_eq(HeapFree(heap, 0, p), FALSE);
  ck_assert_int_eq(HeapFree(heap, 0, p), FALSE);
  void* x = HeapAlloc(heap, 0, 40);
  void* y = HeapAlloc(heap, 0, 40);
  ck_assert_ptr_nonnull(x);
  ck_assert_ptr_nonnull(y);
  ck_assert_ptr_ne(x, y);
  HeapFree(heap, 0, x);
  HeapFree(heap, 0, y);
  bystanders_survive(true);
}
END_TEST

/* ---- overruns ------------------------------------------------------------- */

/* A walk of h ends (FALSE) within a bound and never faults. */
static void walk_ends(HANDLE h) {
  ck_assert_int_lt(ph_test_walk_entries(h, 100000), 100000);
}

/*
 * Blocks *a, *b, *c of n bytes each from `heap`, in address order
 * (asserted), c filled with 0xCC: an overrun from a into b must leave c
 * alone.  Returns b - a.
 */
static SIZE_T three_in_a_row(SIZE_T n, unsigned char** a, unsigned char** b,
                             unsigned char** c) {
  *a = HeapAlloc(heap, 0, n);
  *b = HeapAlloc(heap, 0, n);
  *c = HeapAlloc(heap, 0, n);
  ck_assert(*a < *b && *b < *c);
  ph_test_fill(*c, n, 0xCC);
  return (SIZE_T)(*b - *a);
}

/* Write past the end of a over the header of the busy block b after it. */
START_TEST(overrun_into_a_busy_header_is_contained) {
  static const SIZE_T sizes[] = {100, 1000};
  for (size_t k = 0; k < 2; k++) {
    SIZE_T n = sizes[k];
    unsigned char *a, *b, *c;
    SIZE_T gap = three_in_a_row(n, &a, &b, &c);
    ck_assert_uint_le(gap, n + 64);
    memset(a, 0xEE, gap); /* a's bytes, its slack, b's header */

    SetLastError(0);
    ck_assert_int_eq(ph_le_uint(HeapFree(heap, 0, b)), FALSE);
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
    SetLastError(0);
    ck_assert_uint_eq(ph_le_uint(HeapSize(heap, 0, b)), (SIZE_T)-1);
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
    SetLastError(0);
    ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(heap, 0, b, n * 2)));
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
    ck_assert_int_eq(HeapValidate(heap, 0, b), FALSE);
    /* a itself is intact: validating a block checks that block, as on
     * Windows; the damage is b's, and the whole heap's. */
    ck_assert_int_ne(HeapValidate(heap, 0, a), FALSE);
    ck_assert_int_ne(HeapValidate(heap, 0, c), FALSE);
    ck_assert_int_eq(HeapValidate(heap, 0, NULL), FALSE);
    walk_ends(heap);

    ck_assert_uint_eq(HeapSize(heap, 0, a), n); /* the writer's own block */
    ck_assert_int_ne(HeapFree(heap, 0, a), FALSE);
    ck_assert_uint_eq(ph_test_first_bad_byte(c, n, 0xCC), n);
    ck_assert_int_ne(HeapFree(heap, 0, c), FALSE);
    heap_still_serves(heap, n);
    HeapCompact(heap, 0);
    heap_still_serves(heap, n);
    ck_assert_int_eq(HeapValidate(heap, 0, NULL), FALSE);
  }
  bystanders_survive(false);
}
END_TEST

/* The shortest overrun: one to four bytes past a block that has no slack,
 * onto the first bytes of the next block's header.  Noticed when that
 * block is freed, sized or validated.  A header's check is 16 bits, so
 * one overwrite in 65536 goes unnoticed: of the nine tried (each heap
 * with keys of its own), one may, and is put back. */
START_TEST(off_by_one_overrun_is_noticed_at_the_next_free) {
  static const SIZE_T sizes[] = {88, 488, 1000}; /* no slack: 16k - 8 */
  int tested = 0, unnoticed = 0;
  for (size_t k = 0; k < 3; k++) {
    for (SIZE_T len = 1; len <= 4; len *= 2) {
      SIZE_T n = sizes[k];
      HANDLE h = HeapCreate(0, 0, 0); /* fresh: blocks in address order */
      unsigned char* a = HeapAlloc(h, 0, n);
      unsigned char* b = HeapAlloc(h, 0, n);
      unsigned char* c = HeapAlloc(h, 0, n);
      ph_test_fill(c, n, 0xCC);
      if (b == a + n + 8) { /* no slack between a's bytes and b */
        tested++;
        for (SIZE_T i = 0; i < len; i++)
          a[n + i] ^= 0x5A; /* b's header starts at a + n */
        if (HeapValidate(h, 0, b) != FALSE) { /* the 2^-16 chance */
          for (SIZE_T i = 0; i < len; i++)
            a[n + i] ^= 0x5A;
          unnoticed++;
          HeapDestroy(h);
          continue;
        }
        SetLastError(0);
        ck_assert_int_eq(ph_le_uint(HeapFree(h, 0, b)), FALSE);
        ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
        ck_assert_uint_eq(HeapSize(h, 0, a), n);
        ck_assert_int_ne(HeapFree(h, 0, a), FALSE);
        ck_assert_uint_eq(ph_test_first_bad_byte(c, n, 0xCC), n);
        ck_assert_int_ne(HeapFree(h, 0, c), FALSE);
        heap_still_serves(h, n);
      }
      HeapDestroy(h);
    }
  }
  ck_assert_int_gt(tested, 0); /* the layout this test needs did occur */
  ck_assert_int_le(unnoticed, 1);
}
END_TEST

/* Write past the end of a over a freed block b: its header and the list
 * links in its payload.  (Blocks of up to 512 bytes come from runs, which
 * keep no links in freed blocks: overrun_into_a_free_run_slot_is_contained.) */
START_TEST(overrun_into_a_free_block_is_contained) {
  static const SIZE_T sizes[] = {632, 1000}; /* quick list, bins */
  ph_test_activate_size(heap, 632); /* a freed 632-byte block: quick */
  for (size_t k = 0; k < 2; k++) {
    SIZE_T n = sizes[k];
    unsigned char *a, *b, *c;
    SIZE_T gap = three_in_a_row(n, &a, &b, &c);
    ck_assert_int_ne(HeapFree(heap, 0, b), FALSE);
    memset(a, 0xEE, gap + 48); /* b's header and links */

    ck_assert_int_eq(HeapValidate(heap, 0, NULL), FALSE);
    ck_assert_int_eq(HeapFree(heap, 0, b), FALSE);
    heap_still_serves(heap, n);
    heap_still_serves(heap, 24);
    heap_still_serves(heap, 5000);
    walk_ends(heap);
    ck_assert_uint_eq(HeapSize(heap, 0, a), n);
    ck_assert_uint_eq(ph_test_first_bad_byte(c, n, 0xCC), n);
    ck_assert_int_ne(HeapFree(heap, 0, a), FALSE);
    ck_assert_int_ne(HeapFree(heap, 0, c), FALSE);
    HeapCompact(heap, 0);
    heap_still_serves(heap, n);
    ck_assert_int_eq(HeapValidate(heap, 0, NULL), FALSE);
  }
  bystanders_survive(false);
}
END_TEST

/* Three run slots of n bytes in a row (n's size in demand): b freed,
 * then a write past the end of a over b's header. */
static void free_slot_and_overrun_it(SIZE_T n, unsigned char** a,
                                     unsigned char** b, unsigned char** c) {
  ph_test_activate_size(heap, n);
  SIZE_T gap = three_in_a_row(n, a, b, c);
  ck_assert_uint_le(gap, n + 16);
  ck_assert_int_ne(HeapFree(heap, 0, *b), FALSE);
  memset(*a, 0xEE, gap); /* a's bytes, its slack, b's header */
}

/* `heap` serves COUNT blocks of n bytes that keep their bytes and free,
 * but one at most: a run slot whose header was overwritten while it was
 * free may be among them, and its free then fails. */
static void serves_but_a_damaged_slot(SIZE_T n) {
  enum { COUNT = 100 };
  unsigned char* p[COUNT];
  ck_assert_int_eq(ph_test_alloc_filled(heap, p, COUNT, n, 0x30), COUNT);
  int refused = 0;
  for (int i = 0; i < COUNT; i++) {
    ck_assert_uint_eq(ph_test_first_bad_byte(p[i], n, (unsigned char)(0x30 + i)), n);
    refused += HeapFree(heap, 0, p[i]) == FALSE;
  }
  ck_assert_int_le(refused, 1);
}

/* Write past the end of a over the header of b, a free slot of a run
 * (a block of up to 512 bytes once its size is in demand): runs keep no
 * link in a freed block, and do not read a slot's header to hand it out.
 * Validation notices; b's pointer is refused; a, c and the rest of the
 * heap serve on.  The slot may be handed out again: its free then fails
 * and reports the damage (the slot stays busy), and no other block is
 * lost. */
START_TEST(overrun_into_a_free_run_slot_is_contained) {
  SIZE_T n = 100;
  unsigned char *a, *b, *c;
  free_slot_and_overrun_it(n, &a, &b, &c);

  ck_assert_int_eq(HeapValidate(heap, 0, NULL), FALSE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapFree(heap, 0, b)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  heap_still_serves(heap, 24);
  heap_still_serves(heap, 5000);
  walk_ends(heap);
  ck_assert_uint_eq(ph_test_first_bad_byte(c, n, 0xCC), n);
  serves_but_a_damaged_slot(n);
  ck_assert_int_ne(HeapFree(heap, 0, a), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, c), FALSE);
  HeapCompact(heap, 0);
  heap_still_serves(heap, 24);
  ck_assert_int_eq(HeapValidate(heap, 0, NULL), FALSE);
  bystanders_survive(false);
}
END_TEST

/* The same overwrite of b's header right after b's free, before any
 * other call: the heap hands the slot freed last out again first, and
 * must not trust a header changed since its free (one that leads
 * elsewhere would steer the allocation's bitmap write).  The allocation
 * is served, b's slot at most with its damage as above; c keeps its
 * bytes and the heap serves on. */
START_TEST(overrun_into_the_slot_freed_last_is_contained) {
  SIZE_T n = 100;
  unsigned char *a, *b, *c;
  free_slot_and_overrun_it(n, &a, &b, &c);

  serves_but_a_damaged_slot(n);
  ck_assert_uint_eq(ph_test_first_bad_byte(c, n, 0xCC), n);
  ck_assert_int_ne(HeapFree(heap, 0, a), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, c), FALSE);
  heap_still_serves(heap, 24);
  ck_assert_int_eq(HeapValidate(heap, 0, NULL), FALSE);
  bystanders_survive(false);
}
END_TEST

/* A write after free over the whole of a small block, a slot of a run:
 * runs keep nothing there, so nothing the heap relies on changes.  The
 * heap validates, serves on, and a second free of the block still
 * fails: its state is in the run's bitmap, not in the block. */
START_TEST(write_after_free_into_a_run_slot_changes_nothing) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  ph_test_activate_size(h, 100);
  unsigned char* a = HeapAlloc(h, 0, 100);
  unsigned char* keep = HeapAlloc(h, 0, 100);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(keep);
  ck_assert_int_ne(HeapFree(h, 0, a), FALSE);
  memset(a, 0x41, 100);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapFree(h, 0, a)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  heap_still_serves(h, 100);
  ck_assert_uint_eq(HeapSize(h, 0, keep), 100);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* A write after free into a quick-listed block's second pointer-sized
 * word (the check word of its quick-list link: bytes 8-15 on 64-bit, 4-7
 * on 32-bit; the link itself intact): HeapValidate notices, and the list
 * is dropped rather than trusted, so the block is never handed out again
 * and the heap goes on serving.  (632 bytes, 40 granules: above the
 * runs' sizes, and the first size of a quick list, which no rounding
 * moves to the next list.) */
START_TEST(write_after_free_to_a_quick_link_is_noticed) {
  enum { N = 632 };
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  ph_test_activate_size(h, N);
  unsigned char* a = HeapAlloc(h, 0, N);
  unsigned char* keep = HeapAlloc(h, 0, N);
  ck_assert_ptr_nonnull(keep);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapFree(h, 0, a), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  memset(a + sizeof(void*), 0x41, sizeof(void*));
  ck_assert_int_eq(HeapValidate(h, 0, NULL), FALSE);
  void* p = HeapAlloc(h, 0, N);
  void* q = HeapAlloc(h, 0, N);
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_nonnull(q);
  ck_assert_ptr_ne(p, a);
  ck_assert_ptr_ne(q, a);
  ck_assert_uint_eq(HeapSize(h, 0, p), N);
  heap_still_serves(h, N);
  ck_assert_uint_eq(HeapSize(h, 0, keep), N);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* ---- sizes ---------------------------------------------------------------- */

/* Sizes no heap grants: near SIZE_MAX (rounding must not wrap), half of
 * it and more, and a sixteenth of it (a count of 16-byte granules wraps).
 * On 32-bit a sixteenth of SIZE_MAX is 256 MiB, an ordinary request that
 * kernel32 grants: 2 GiB less a page, which 32-bit Windows never grants,
 * stands in for it there. */
#define HUGE_SIXTEENTH                                                         \
  (sizeof(SIZE_T) > 4 ? ~(SIZE_T)0 / 16 + 1 : (SIZE_T)0x7FFFF000)
static const SIZE_T huge_sizes[] = {
    ~(SIZE_T)0,          ~(SIZE_T)0 - 1,       ~(SIZE_T)0 - 15,
    ~(SIZE_T)0 - 16,     ~(SIZE_T)0 - 31,      ~(SIZE_T)0 - 0x1000,
    ~(SIZE_T)0 - 0x10000, ~(SIZE_T)0 - 0x20000, ~(SIZE_T)0 / 2 + 1,
    ~(SIZE_T)0 / 2,      HUGE_SIXTEENTH,       ~(SIZE_T)0 / 16 * 15,
};
enum { HUGE_SIZES = sizeof huge_sizes / sizeof huge_sizes[0] };

START_TEST(sizes_near_size_max_fail_without_wrapping) {
  HANDLE fixed = HeapCreate(0, 0, (SIZE_T)1 << 20);
  ck_assert_ptr_nonnull(fixed);
  HANDLE heaps[] = {heap, fixed, GetProcessHeap()};
  for (size_t k = 0; k < 3; k++) {
    for (size_t i = 0; i < HUGE_SIZES; i++) {
      SetLastError(0);
      ck_assert_ptr_null(ph_le_ptr(HeapAlloc(heaps[k], 0, huge_sizes[i])));
      ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
      SetLastError(0);
      ck_assert_ptr_null(
          ph_le_ptr(HeapAlloc(heaps[k], HEAP_ZERO_MEMORY, huge_sizes[i])));
      ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
    }
  }
  /* Each kind of block, resized to a huge size, stays as it was. */
  static const DWORD flags[] = {0, HEAP_ZERO_MEMORY,
                                HEAP_REALLOC_IN_PLACE_ONLY};
  for (int b = 0; b < BYSTANDERS; b++) {
    for (size_t i = 0; i < HUGE_SIZES; i++) {
      for (size_t f = 0; f < 3; f++) {
        SetLastError(0);
        ck_assert_ptr_null(ph_le_ptr(
            HeapReAlloc(by[b].heap, flags[f], by[b].p, huge_sizes[i])));
        ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
      }
    }
  }
  void* p = HeapAlloc(fixed, 0, 1000);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < HUGE_SIZES; i++)
    ck_assert_ptr_null(HeapReAlloc(fixed, 0, p, huge_sizes[i]));
  ck_assert_uint_eq(HeapSize(fixed, 0, p), 1000);
  ck_assert_int_ne(HeapFree(fixed, 0, p), FALSE);
  ck_assert_int_ne(HeapDestroy(fixed), FALSE);
  bystanders_survive(true);
}
END_TEST

/* The biggest request that can be met is never confused with a huge one:
 * sizes just past the 32-bit granule count and the fixed-heap limit. */
START_TEST(sizes_at_engine_limits_are_exact) {
  static const SIZE_T sizes[] = {0xFEFD8 - 1, 0xFEFD8, 0xFEFD8 + 1,
                                 0xFEFD8 + 16, (SIZE_T)1 << 21};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char* p = HeapAlloc(heap, 0, sizes[i]);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(HeapSize(heap, 0, p), sizes[i]);
    p[0] = 1;
    p[sizes[i] - 1] = 2;
    ck_assert_int_ne(HeapFree(heap, 0, p), FALSE);
  }
  bystanders_survive(true);
}
END_TEST

/* A fixed heap refuses what exceeds its maximum, whole or in growth. */
START_TEST(fixed_heap_refuses_more_than_its_maximum) {
  SIZE_T max = (SIZE_T)256 << 10;
  HANDLE fixed = HeapCreate(0, 0, max);
  ck_assert_ptr_nonnull(fixed);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapAlloc(fixed, 0, max * 2)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  unsigned char* p = HeapAlloc(fixed, 0, 1000);
  ck_assert_ptr_nonnull(p);
  ph_test_fill(p, 1000, 0x42);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(fixed, 0, p, max * 2)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  ck_assert_uint_eq(HeapSize(fixed, 0, p), 1000);
  ck_assert_uint_eq(ph_test_first_bad_byte(p, 1000, 0x42), 1000);
  /* Fill it, then one more block fails and the others are intact. */
  enum { MAXB = 256 };
  unsigned char* blocks[MAXB];
  int count = ph_test_alloc_filled(fixed, blocks, MAXB, 4000, 0);
  ck_assert_int_lt(count, MAXB);
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  ph_test_check_and_free_filled(fixed, blocks, count, 4000, 0);
  ck_assert_uint_eq(ph_test_first_bad_byte(p, 1000, 0x42), 1000);
  ck_assert_int_ne(HeapValidate(fixed, 0, NULL), FALSE);
  ck_assert_int_ne(HeapFree(fixed, 0, p), FALSE);
  ck_assert_int_ne(HeapDestroy(fixed), FALSE);
  bystanders_survive(true);
}
END_TEST

/* HEAP_REALLOC_IN_PLACE_ONLY that cannot grow: a busy neighbour, a large
 * block past its reservation (1 GiB: a region from the cache may have
 * more room than the block asked for, and may grow in place), a fixed
 * heap at its end.  The block stays put. */
START_TEST(in_place_only_that_cannot_grow_keeps_the_block) {
  unsigned char* a = HeapAlloc(heap, 0, 200);
  unsigned char* wall = HeapAlloc(heap, 0, 200);
  ph_test_fill(a, 200, 0x61);
  struct {
    HANDLE h;
    unsigned char* p;
    SIZE_T size, to;
  } cases[] = {
      {heap, a, 200, 100000},
      {heap, by[MINE + 2].p, by[MINE + 2].size, (SIZE_T)1 << 30},
      {other, by[OTHER + 0].p, by[OTHER + 0].size, 3000000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    SetLastError(0);
    ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(
        cases[i].h, HEAP_REALLOC_IN_PLACE_ONLY, cases[i].p, cases[i].to)));
    ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
    ck_assert_uint_eq(HeapSize(cases[i].h, 0, cases[i].p), cases[i].size);
  }
  ck_assert_uint_eq(ph_test_first_bad_byte(a, 200, 0x61), 200);
  ck_assert_int_ne(HeapFree(heap, 0, a), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, wall), FALSE);
  bystanders_survive(true);
}
END_TEST

/* ---- locks ---------------------------------------------------------------- */

START_TEST(unlock_without_lock_fails) {
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapUnlock(heap)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  /* One lock, two unlocks. */
  ck_assert_int_ne(HeapLock(heap), FALSE);
  ck_assert_int_ne(HeapUnlock(heap), FALSE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapUnlock(heap)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  /* Another thread cannot unlock what this one holds. */
  ck_assert_int_ne(HeapLock(heap), FALSE);
  DWORD error;
  BOOL unlocked = ph_test_unlock_elsewhere(heap, &error);
  ck_assert_int_eq(unlocked, FALSE);
  ck_assert_uint_eq(error, ERROR_INVALID_PARAMETER);
  void* p = HeapAlloc(heap, 0, 10); /* still ours: no deadlock */
  ck_assert_ptr_nonnull(p);
  ck_assert_int_ne(HeapFree(heap, 0, p), FALSE);
  ck_assert_int_ne(HeapUnlock(heap), FALSE);
  /* The process heap too. */
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapUnlock(GetProcessHeap())), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  bystanders_survive(true);
}
END_TEST

/* ---- walk cursors --------------------------------------------------------- */

START_TEST(stale_and_forged_walk_cursors_are_refused) {
  void* p = HeapAlloc(heap, 0, 3000);
  PROCESS_HEAP_ENTRY e;
  ck_assert(ph_test_walk_to(heap, &e, p));
  ck_assert_int_ne(HeapFree(heap, 0, p), FALSE);
  void* q = HeapAlloc(heap, 0, 100); /* splits what p was */
  SetLastError(0);
  BOOL ok = (BOOL)ph_le_uint(HeapWalk(heap, &e)); /* may still make sense */
  if (!ok)
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  PROCESS_HEAP_ENTRY forged[4];
  memset(forged, 0, sizeof forged);
  forged[0].lpData = (char*)q + 8;
  forged[0].wFlags = PROCESS_HEAP_ENTRY_BUSY;
  forged[1].lpData = by[OTHER + 1].p;
  forged[1].wFlags = PROCESS_HEAP_ENTRY_BUSY;
  forged[2].lpData = (char*)heap + 16;
  forged[2].wFlags = PROCESS_HEAP_REGION;
  forged[3].lpData = q;
  forged[3].wFlags = 0x8000;
  for (int i = 0; i < 4; i++) {
    SetLastError(0);
    ck_assert_int_eq(ph_le_uint(HeapWalk(heap, &forged[i])), FALSE);
    ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  }
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(heap, NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  ck_assert_int_ne(HeapFree(heap, 0, q), FALSE);
  bystanders_survive(true);
}
END_TEST

/* ---- flags ---------------------------------------------------------------- */

/* Bits no HEAP_* constant names. */
#define UNKNOWN_FLAGS 0xFFF8FF00u

START_TEST(unknown_flag_bits_are_ignored) {
  HANDLE h = HeapCreate(UNKNOWN_FLAGS, 0, 0);
  ck_assert_ptr_nonnull(h);
  HANDLE targets[] = {h, heap};
  for (int k = 0; k < 2; k++) {
    unsigned char* p = HeapAlloc(targets[k], UNKNOWN_FLAGS, 300);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(HeapSize(targets[k], UNKNOWN_FLAGS, p), 300);
    ph_test_fill(p, 300, 0x5E);
    unsigned char* q = HeapReAlloc(targets[k], UNKNOWN_FLAGS, p, 100000);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(ph_test_first_bad_byte(q, 300, 0x5E), 300);
    ck_assert_int_ne(HeapValidate(targets[k], UNKNOWN_FLAGS, q), FALSE);
    ck_assert_int_ne(HeapValidate(targets[k], UNKNOWN_FLAGS, NULL), FALSE);
    SetLastError(0);
    HeapCompact(targets[k], UNKNOWN_FLAGS);
    ck_assert_int_ne(HeapFree(targets[k], UNKNOWN_FLAGS, q), FALSE);
  }
  ck_assert_int_ne(HeapLock(h), FALSE); /* h is serialized */
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  bystanders_survive(true);
}
END_TEST

Suite* test_misuse(void) {
  Suite* s = suite_create("misuse");
  TCase* tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  /* Documented on Windows. */
  tcase_add_test(tc, sizes_near_size_max_fail_without_wrapping);
  tcase_add_test(tc, fixed_heap_refuses_more_than_its_maximum);
  tcase_add_test(tc, in_place_only_that_cannot_grow_keeps_the_block);
  tcase_add_test(tc, process_heap_cannot_be_destroyed_and_keeps_blocks);
  /* Undefined on Windows: portheap's promise. */
  ph_test_add_emul(tc, null_handle_is_refused_everywhere,
                   "a NULL heap is undefined on Windows");
  ph_test_add_emul(tc, random_pointers_as_handles_are_refused,
                   "a bad heap handle is undefined on Windows");
  ph_test_add_emul(tc, destroyed_handle_is_refused_everywhere,
                   "a destroyed heap is undefined on Windows");
  ph_test_add_emul(tc, handle_destroyed_by_another_thread_is_refused_in_its_user,
                   "a destroyed heap is undefined on Windows");
  ph_test_add_emul(tc, block_of_another_heap_is_refused,
                   "a foreign block is undefined on Windows");
  ph_test_add_emul(tc, interior_pointers_are_refused,
                   "an interior pointer is undefined on Windows");
  ph_test_add_emul(tc, random_pointers_as_blocks_are_refused,
                   "a pointer that is no block is undefined on Windows");
  ph_test_add_emul(tc, freed_blocks_are_refused,
                   "a freed block is undefined on Windows");
  ph_test_add_emul(tc, freed_blocks_in_memory_given_back_are_refused,
                   "a freed block is undefined on Windows");
  ph_test_add_emul(tc, write_after_free_to_a_quick_link_is_noticed,
                   "a write after free is undefined on Windows");
  ph_test_add_emul(tc, write_after_free_into_a_run_slot_changes_nothing,
                   "a write after free is undefined on Windows");
  ph_test_add_emul(tc, no_serialize_heap_refuses_bad_blocks,
                   "misuse is undefined on Windows");
  ph_test_add_emul(tc, double_free_never_hands_out_a_block_twice,
                   "a double free is undefined on Windows");
  ph_test_add_emul(tc, overrun_into_a_busy_header_is_contained,
                   "heap corruption is undefined on Windows");
  ph_test_add_emul(tc, off_by_one_overrun_is_noticed_at_the_next_free,
                   "a heap overrun is undefined on Windows");
  ph_test_add_emul(tc, overrun_into_a_free_block_is_contained,
                   "heap corruption is undefined on Windows");
  ph_test_add_emul(tc, overrun_into_a_free_run_slot_is_contained,
                   "heap corruption is undefined on Windows");
  ph_test_add_emul(tc, overrun_into_the_slot_freed_last_is_contained,
                   "heap corruption is undefined on Windows");
  ph_test_add_emul(tc, sizes_at_engine_limits_are_exact,
                   "the limits are the engine's");
  ph_test_add_emul(tc, unlock_without_lock_fails,
                   "Wine 8.0 unlocks an unlocked heap with TRUE");
  ph_test_add_emul(tc, stale_and_forged_walk_cursors_are_refused,
                   "a forged walk cursor is undefined on Windows");
  ph_test_add_emul(tc, unknown_flag_bits_are_ignored,
                   "unknown flags are unverified on Windows");
  suite_add_tcase(s, tc);
  return s;
}
