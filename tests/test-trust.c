/*
 * test-trust.c - misuse and threads that must not cost a live heap: stale
 * handles after memory is reused, process-wide passes that must not wait
 * for a HeapLock owner, waiters that sleep, HeapLock holds of threads that
 * are gone, heaps too large for the engine.
 */
#include "suites.h"

#include <stdatomic.h>
#include <string.h>

/* ---- stale handles -------------------------------------------------------- */

/* Every call through the destroyed handle `dead` fails with
 * ERROR_INVALID_HANDLE; `block`, a block of a live heap or a freed one of
 * `dead`, is passed where a block is wanted and must survive. */
static void stale_calls_fail(HANDLE dead, void* block) {
  PROCESS_HEAP_ENTRY e;
  memset(&e, 0, sizeof e);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapFree(dead, 0, block)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_uint_eq(ph_le_uint(HeapSize(dead, 0, block)), (SIZE_T)-1);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(dead, 0, block, 64)));
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  ck_assert_int_eq(HeapValidate(dead, 0, NULL), FALSE);
  ck_assert_int_eq(HeapValidate(dead, 0, block), FALSE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapWalk(dead, &e)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapLock(dead)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapDestroy(dead)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
}

/* A heap destroyed and another made at once (the memory comes back from
 * the region cache or the OS, often at the same address): the old handle
 * and its block reach nothing of the new heap. */
START_TEST(stale_handle_never_reaches_the_next_heap) {
  for (int i = 0; i < 200; i++) {
    HANDLE h1 = HeapCreate(0, 0, 0);
    void* p1 = HeapAlloc(h1, 0, 32);
    ck_assert_int_ne(HeapDestroy(h1), FALSE);
    HANDLE h2 = HeapCreate(0, 0, 0);
    unsigned char* p2 = HeapAlloc(h2, 0, 32);
    ck_assert_ptr_ne(h2, h1);
    memset(p2, 0x5A, 32);
    stale_calls_fail(h1, p1);
    stale_calls_fail(h1, p2);
    ck_assert_uint_eq(HeapSize(h2, 0, p2), 32);
    ck_assert_uint_eq(ph_test_first_bad_byte(p2, 32, 0x5A), 32);
    ck_assert_int_ne(HeapValidate(h2, 0, NULL), FALSE);
    ck_assert_int_ne(HeapDestroy(h2), FALSE);
  }
}
END_TEST

/* The last 64 destroyed handles: none comes back as a new heap's. */
START_TEST(last_64_destroyed_handles_stay_dead) {
  enum { N = 64 };
  static HANDLE dead[N], fresh[N];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < N; i++)
      dead[i] = HeapCreate(0, 0, 0);
    for (int i = 0; i < N; i++)
      ck_assert_int_ne(HeapDestroy(dead[i]), FALSE);
    for (int i = 0; i < N; i++) {
      fresh[i] = HeapCreate(0, 0, 0);
      ck_assert_ptr_nonnull(HeapAlloc(fresh[i], 0, 100));
    }
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++)
        ck_assert_ptr_ne(fresh[j], dead[i]);
    void* other = HeapAlloc(GetProcessHeap(), 0, 16);
    for (int i = 0; i < N; i++)
      stale_calls_fail(dead[i], other);
    ck_assert_int_ne(HeapFree(GetProcessHeap(), 0, other), FALSE);
    for (int i = 0; i < N; i++)
      ck_assert_int_ne(HeapDestroy(fresh[i]), FALSE);
  }
}
END_TEST

/* ---- process-wide passes never wait for a HeapLock owner ----------------- */

struct holder {
  HANDLE heap;
  atomic_int stage; /* 1: holds HeapLock; 2: done */
  HANDLE created;
  BOOL destroyed;
  DWORD listed;
};

/* Holds HeapLock while it creates, destroys and lists heaps (which take
 * the registry), after giving the main thread time to start its pass. */
static void holder_main(void* arg) {
  struct holder* x = arg;
  ck_assert_int_ne(HeapLock(x->heap), FALSE);
  atomic_store(&x->stage, 1);
  ph_test_sleep_ms(200);
  x->created = HeapCreate(0, 0, 0);
  x->destroyed = x->created != NULL && HeapDestroy(x->created);
  x->listed = GetProcessHeaps(0, NULL);
  ck_assert_int_ne(HeapUnlock(x->heap), FALSE);
  atomic_store(&x->stage, 2);
}

static BOOL optimize_process(void) {
  HEAP_OPTIMIZE_RESOURCES_INFORMATION opt;
  memset(&opt, 0, sizeof opt);
  opt.Version = HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION;
  return HeapSetInformation(NULL, HeapOptimizeResources, &opt, sizeof opt);
}

/* HeapOptimizeResources on the whole process skips a heap that another
 * thread holds, rather than wait for it while holding the registry
 * (which the holder needs: that was a deadlock). */
START_TEST(optimize_skips_a_heap_held_by_another_thread) {
  struct holder x = {.heap = HeapCreate(0, 0, 0)};
  atomic_init(&x.stage, 0);
  HeapFree(x.heap, 0, HeapAlloc(x.heap, 0, 64));
  ph_test_thread_t* t = ph_test_thread_start(holder_main, &x);
  while (atomic_load(&x.stage) == 0)
    ph_test_yield();
  ck_assert_int_ne(optimize_process(), FALSE);
  ph_test_thread_join(t);
  ck_assert_int_eq(atomic_load(&x.stage), 2);
  ck_assert_ptr_nonnull(x.created);
  ck_assert_int_ne(x.destroyed, FALSE);
  ck_assert_uint_gt(x.listed, 1);
  ck_assert_int_ne(HeapValidate(x.heap, 0, NULL), FALSE);
  HeapDestroy(x.heap);
}
END_TEST

/* A heap with 100 freed 64-byte blocks not yet merged: how many walk
 * entries it has. */
static int fill_and_free(HANDLE h, void** blocks) {
  for (int i = 0; i < 100; i++)
    blocks[i] = HeapAlloc(h, 0, 64);
  for (int i = 0; i < 100; i += 2) /* keep every other one: no merging */
    HeapFree(h, 0, blocks[i]);
  for (int i = 1; i < 100; i += 2)
    HeapFree(h, 0, blocks[i]);
  return ph_test_walk_entries(h, 100000);
}

/* The process-wide pass compacts growable serialized heaps (the freed
 * blocks merge: fewer walk entries) and leaves alone what Windows' would
 * not touch: a NO_SERIALIZE heap (its owner may be using it, with no
 * lock) and a fixed-size heap. */
START_TEST(optimize_compacts_only_heaps_windows_would) {
  static void* blocks[3][100];
  HANDLE heaps[3] = {HeapCreate(0, 0, 0), HeapCreate(HEAP_NO_SERIALIZE, 0, 0),
                     HeapCreate(0, 0, 1 << 20)};
  int before[3];
  for (int k = 0; k < 3; k++)
    before[k] = fill_and_free(heaps[k], blocks[k]);
  ck_assert_int_ne(optimize_process(), FALSE);
  ck_assert_int_lt(ph_test_walk_entries(heaps[0], 100000), before[0]);
  ck_assert_int_eq(ph_test_walk_entries(heaps[1], 100000), before[1]);
  ck_assert_int_eq(ph_test_walk_entries(heaps[2], 100000), before[2]);
  for (int k = 0; k < 3; k++) {
    ck_assert_int_ne(HeapValidate(heaps[k], 0, NULL), FALSE);
    HeapDestroy(heaps[k]);
  }
}
END_TEST

/* ---- waiters sleep -------------------------------------------------------- */

enum { WAITERS = 4 };

struct waiter {
  HANDLE heap;
  atomic_int* started;
  double cpu;  /* seconds this thread used inside HeapAlloc */
  void* block;
};

static void waiter_main(void* arg) {
  struct waiter* w = arg;
  atomic_fetch_add(w->started, 1);
  double start = ph_test_thread_cpu_seconds();
  w->block = HeapAlloc(w->heap, 0, 48); /* waits for HeapUnlock */
  w->cpu = ph_test_thread_cpu_seconds() - start;
}

/* Four threads wait a second for a heap held with HeapLock: they sleep
 * (as on Windows), using a small part of the CPU time that spinning or
 * yielding would (a core each, on this machine about 2 s in all). */
START_TEST(threads_waiting_behind_heap_lock_sleep) {
  HANDLE h = HeapCreate(0, 0, 0);
  atomic_int started;
  atomic_init(&started, 0);
  struct waiter w[WAITERS];
  ph_test_thread_t* t[WAITERS];
  ck_assert_int_ne(HeapLock(h), FALSE);
  for (int i = 0; i < WAITERS; i++) {
    w[i] = (struct waiter){.heap = h, .started = &started};
    t[i] = ph_test_thread_start(waiter_main, &w[i]);
  }
  while (atomic_load(&started) < WAITERS)
    ph_test_yield();
  ph_test_sleep_ms(1000);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  double total = 0;
  for (int i = 0; i < WAITERS; i++) {
    ph_test_thread_join(t[i]);
    ck_assert_ptr_nonnull(w[i].block);
    ck_assert(w[i].cpu >= 0);
    total += w[i].cpu;
  }
  printf("threads_waiting_behind_heap_lock_sleep: %d waiters used %.3f s "
         "of CPU in 1 s\n", WAITERS, total);
  ck_assert_msg(total < 0.25, "waiters used %.3f s of CPU", total);
  HeapDestroy(h);
}
END_TEST

/* ---- thread identity ------------------------------------------------------- */

static void lock_and_exit(void* heap) {
  ck_assert_int_ne(HeapLock(heap), FALSE);
}

static void try_unlock(void* arg) {
  void** io = arg;
  SetLastError(0);
  io[1] = (void*)(uintptr_t)ph_le_uint(HeapUnlock(io[0]));
  io[2] = (void*)(uintptr_t)ph_test_error;
}

/* A thread that exits holding HeapLock hands it to no later thread (the C
 * library reuses a finished thread's stack and thread-local data for the
 * next one: an identity taken from their address would be inherited). */
START_TEST(heap_lock_of_an_exited_thread_passes_to_no_one) {
  for (int i = 0; i < 8; i++) {
    HANDLE h = HeapCreate(0, 0, 0);
    ph_test_thread_join(ph_test_thread_start(lock_and_exit, h));
    void* io[3] = {h, NULL, NULL};
    ph_test_thread_join(ph_test_thread_start(try_unlock, io));
    ck_assert_int_eq((BOOL)(uintptr_t)io[1], FALSE);
    ck_assert_uint_eq((DWORD)(uintptr_t)io[2], ERROR_INVALID_PARAMETER);
    ck_assert_int_ne(HeapDestroy(h), FALSE);
  }
}
END_TEST

/* ---- sizes ----------------------------------------------------------------- */

/* Block sizes are 32-bit counts of 16-byte granules: a heap whose region
 * would hold more is refused, never made with a truncated first block. */
START_TEST(heaps_beyond_the_block_size_limit_are_refused) {
  if (sizeof(void*) < 8)
    return; /* a 32-bit address space cannot reach the limit */
  SIZE_T huge = ((SIZE_T)64 << 30) + ((SIZE_T)1 << 20);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapCreate(0, huge, 0)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapCreate(0, 0, huge)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapCreate(HEAP_NO_SERIALIZE, 0, huge * 2)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
}
END_TEST

/* ---- documented behaviour ---------------------------------------------------- */

/* HeapFree checks the pointer before the heap: NULL is TRUE whatever the
 * handle (the SDK marks the pointer optional; Wine and ReactOS rely on
 * it), and the last error is left alone. */
START_TEST(heap_free_of_null_is_true_for_any_handle) {
  HANDLE dead = HeapCreate(0, 0, 0);
  HeapDestroy(dead);
  HANDLE handles[] = {GetProcessHeap(), NULL, dead};
  for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
    SetLastError(1234);
    ck_assert_int_ne(ph_le_uint(HeapFree(handles[i], 0, NULL)), FALSE);
    ck_assert_uint_eq(ph_test_error, 1234);
  }
}
END_TEST

Suite* test_trust(void) {
  Suite* s = suite_create("trust");
  TCase* tc = tcase_create("stale");
  tcase_set_timeout(tc, 30);
  ph_test_add_emul(tc, stale_handle_never_reaches_the_next_heap,
                   "Windows leaves a destroyed handle undefined");
  ph_test_add_emul(tc, last_64_destroyed_handles_stay_dead,
                   "Windows leaves a destroyed handle undefined");
  suite_add_tcase(s, tc);

  tc = tcase_create("passes");
  tcase_set_timeout(tc, 20);
  ph_test_add_emul(tc, optimize_skips_a_heap_held_by_another_thread,
                   "Wine's HeapOptimizeResources pass is its own");
  ph_test_add_emul(tc, optimize_compacts_only_heaps_windows_would,
                   "Wine's HeapCompact is a stub");
  suite_add_tcase(s, tc);

  tc = tcase_create("threads");
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, threads_waiting_behind_heap_lock_sleep);
  ph_test_add_emul(tc, heap_lock_of_an_exited_thread_passes_to_no_one,
                   "Windows reuses thread ids: a dead owner's id may return");
  suite_add_tcase(s, tc);

  tc = tcase_create("limits");
  ph_test_add_emul(tc, heaps_beyond_the_block_size_limit_are_refused,
                   "Windows reserves what it can: its limit is the machine's");
  tcase_add_test(tc, heap_free_of_null_is_true_for_any_handle);
  suite_add_tcase(s, tc);
  return s;
}
