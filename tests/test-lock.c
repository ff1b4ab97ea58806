/*
 * test-lock.c - HeapLock and HeapUnlock: recursion for the owner, the
 * owner's own calls while it holds the lock, other threads kept out until
 * it lets go (a flag handshake, no timing), NO_SERIALIZE heaps.
 */
#include "suites.h"

#include <limits.h>
#include <stdatomic.h>
#include <string.h>

START_TEST(lock_is_recursive_for_its_owner) {
  HANDLE h = ph_test_heap;
  ck_assert_int_ne(HeapLock(h), FALSE);
  ck_assert_int_ne(HeapLock(h), FALSE);
  ck_assert_int_ne(HeapLock(h), FALSE);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
}
END_TEST

START_TEST(owner_uses_its_locked_heap) {
  HANDLE h = ph_test_heap;
  ck_assert_int_ne(HeapLock(h), FALSE);
  char* p = HeapAlloc(h, HEAP_ZERO_MEMORY, 100);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(HeapSize(h, 0, p), 100);
  p = HeapReAlloc(h, 0, p, 5000);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_ne(HeapValidate(h, 0, p), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ge(ph_test_walk_entries(h, INT_MAX), 2);
  HeapCompact(h, 0);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
}
END_TEST

/* ---- another thread waits for the lock --------------------------------- */

struct rival {
  HANDLE heap;
  atomic_int started; /* the thread runs and is about to call */
  atomic_int done;    /* its calls returned */
  void* block;
  BOOL freed;
};

static void rival_alloc(void* arg) {
  struct rival* r = arg;
  atomic_store(&r->started, 1);
  r->block = HeapAlloc(r->heap, 0, 32);
  r->freed = HeapFree(r->heap, 0, r->block);
  atomic_store(&r->done, 1);
}

static void rival_start(struct rival* r, HANDLE heap) {
  r->heap = heap;
  atomic_store(&r->started, 0);
  atomic_store(&r->done, 0);
  r->block = NULL;
  r->freed = FALSE;
}

START_TEST(other_threads_wait_until_unlock) {
  static struct rival r;
  HANDLE h = ph_test_heap;
  rival_start(&r, h);
  ck_assert_int_ne(HeapLock(h), FALSE);
  ph_test_thread_t* t = ph_test_thread_start(rival_alloc, &r);
  while (!atomic_load(&r.started))
    ; /* it is on its way into HeapAlloc */
  /* Work on the heap meanwhile; the rival cannot finish whatever the
   * scheduler does, since it needs the lock we hold. */
  for (int i = 0; i < 200; i++)
    HeapFree(h, 0, HeapAlloc(h, 0, (SIZE_T)i * 10));
  int done_while_locked = atomic_load(&r.done);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  ph_test_thread_join(t);
  ck_assert_int_eq(done_while_locked, 0);
  ck_assert_int_eq(atomic_load(&r.done), 1);
  ck_assert_ptr_nonnull(r.block);
  ck_assert_int_ne(r.freed, FALSE);
}
END_TEST

START_TEST(nested_lock_keeps_others_out_until_the_last_unlock) {
  static struct rival r;
  HANDLE h = ph_test_heap;
  rival_start(&r, h);
  ck_assert_int_ne(HeapLock(h), FALSE);
  ck_assert_int_ne(HeapLock(h), FALSE);
  ph_test_thread_t* t = ph_test_thread_start(rival_alloc, &r);
  while (!atomic_load(&r.started))
    ;
  ck_assert_int_ne(HeapUnlock(h), FALSE); /* still held once */
  for (int i = 0; i < 200; i++)
    HeapFree(h, 0, HeapAlloc(h, 0, 64));
  int done_while_locked = atomic_load(&r.done);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  ph_test_thread_join(t);
  ck_assert_int_eq(done_while_locked, 0);
  ck_assert_int_eq(atomic_load(&r.done), 1);
  ck_assert_int_ne(r.freed, FALSE);
}
END_TEST

/* ---- a thread that had the heap to itself is stopped too ---------------- */

struct churner {
  HANDLE heap;
  atomic_int stop;
  atomic_long ops; /* alloc+free pairs completed */
  atomic_int failed;
};

static void churn_alone(void* arg) {
  struct churner* c = arg;
  while (!atomic_load(&c->stop)) {
    char* p = HeapAlloc(c->heap, 0, 48);
    if (p == NULL) {
      atomic_store(&c->failed, 1);
      return;
    }
    memset(p, 0x5A, 48);
    if (!HeapFree(c->heap, 0, p))
      atomic_store(&c->failed, 1);
    if (atomic_fetch_add(&c->ops, 1) % 64 == 63)
      ph_test_yield(); /* let the others run (2 cores; valgrind's one) */
  }
}

/* The engine's lock counts (ph_lock_stats); false on the native backend,
 * which keeps none. */
static bool lock_counts(ph_lock_stats_t* s) {
  memset(s, 0, sizeof *s);
  s->cb = sizeof *s;
  return ph_lock_stats(s) != 0;
}

/* Between two readings of the counts: a bias formed (where biasing is on;
 * none where it is off) and, if `revoked`, one was revoked too. */
static void assert_bias_traffic(const ph_lock_stats_t* before, bool revoked) {
  ph_lock_stats_t now;
  if (!lock_counts(&now))
    return;
  if (!now.biasing) {
    ck_assert_uint_eq(now.bias_grants, before->bias_grants);
    return;
  }
  ck_assert_uint_gt(now.bias_grants, before->bias_grants);
  if (revoked)
    ck_assert_uint_gt(now.bias_revocations, before->bias_revocations);
}

/* The emulation lets a thread that uses a heap alone enter it without an
 * atomic instruction (a biased lock); HeapLock from another thread must
 * still stop it between two calls, and let it go on after HeapUnlock. */
START_TEST(lock_stops_a_thread_that_had_the_heap_alone) {
  static struct churner c;
  HANDLE h = ph_test_heap;
  c.heap = h;
  atomic_store(&c.stop, 0);
  atomic_store(&c.ops, 0);
  atomic_store(&c.failed, 0);
  ph_lock_stats_t start, alone;
  bool counted = lock_counts(&start);
  ph_test_thread_t* t = ph_test_thread_start(churn_alone, &c);
  while (atomic_load(&c.ops) < 5000 && !atomic_load(&c.failed))
    ph_test_yield(); /* long enough alone for any bias to form */
  if (counted)
    assert_bias_traffic(&start, false); /* it formed */
  lock_counts(&alone);
  for (int round = 0; round < 3; round++) {
    ck_assert_int_ne(HeapLock(h), FALSE);
    if (counted && round == 0) { /* HeapLock revoked it */
      ph_lock_stats_t now;
      lock_counts(&now);
      if (now.biasing)
        ck_assert_uint_gt(now.bias_revocations, alone.bias_revocations);
    }
    long before = atomic_load(&c.ops);
    /* Give it every chance to run: our own work, a walk, yields. */
    for (int i = 0; i < 500; i++)
      HeapFree(h, 0, HeapAlloc(h, 0, (SIZE_T)(i % 64) * 8 + 1));
    ph_test_walk_entries(h, INT_MAX);
    for (int i = 0; i < 200; i++)
      ph_test_yield();
    long after = atomic_load(&c.ops);
    ck_assert_int_ne(HeapUnlock(h), FALSE);
    /* One pair may have ended just as HeapLock returned (its count is
     * bumped after HeapFree). */
    ck_assert_int_le(after - before, 1);
    while (atomic_load(&c.ops) < after + 1000 && !atomic_load(&c.failed))
      ph_test_yield(); /* it runs again, long enough to be biased again */
  }
  atomic_store(&c.stop, 1);
  ph_test_thread_join(t);
  ck_assert_int_eq(atomic_load(&c.failed), 0);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
}
END_TEST

/* Two threads churn blocks of their own on a fresh heap (each alone in its
 * part of it: the emulation biases both locks), checking their bytes;
 * another thread's locked walks and validations revoke those biases again
 * and again and must always find a whole, valid heap. */
struct slot_churner {
  HANDLE heap;
  atomic_int stop;
  atomic_long ops;
  atomic_int failed;
};

static void churn_slots(void* arg) {
  struct slot_churner* c = arg;
  enum { SLOTS = 64 };
  unsigned char* live[SLOTS] = {0};
  uint32_t state = ph_test_seed() ^ (uint32_t)(uintptr_t)&live;
  while (!atomic_load(&c->stop) && !atomic_load(&c->failed)) {
    uint32_t r = ph_test_rand(&state);
    uint32_t i = r % SLOTS;
    if (live[i] != NULL) {
      if (live[i][0] != (unsigned char)i || !HeapFree(c->heap, 0, live[i]))
        atomic_store(&c->failed, 1);
      live[i] = NULL;
    } else {
      SIZE_T n = 1 + (r >> 8) % 700;
      live[i] = HeapAlloc(c->heap, 0, n);
      if (live[i] == NULL)
        atomic_store(&c->failed, 1);
      else
        memset(live[i], (int)i, n);
    }
    if (atomic_fetch_add(&c->ops, 1) % 64 == 63)
      ph_test_yield(); /* let the others run (2 cores; valgrind's one) */
  }
  for (int i = 0; i < SLOTS; i++)
    if (live[i] != NULL && !HeapFree(c->heap, 0, live[i]))
      atomic_store(&c->failed, 1);
}

START_TEST(locked_walks_find_a_whole_heap_while_threads_churn_alone) {
  static struct slot_churner c[2];
  ph_lock_stats_t start;
  bool counted = lock_counts(&start);
  for (int round = 0; round < 40; round++) {
    HANDLE h = HeapCreate(0, 0, 0);
    ck_assert_ptr_nonnull(h);
    ph_test_thread_t* t[2];
    for (int k = 0; k < 2; k++) {
      c[k].heap = h;
      atomic_store(&c[k].stop, 0);
      atomic_store(&c[k].ops, 0);
      atomic_store(&c[k].failed, 0);
      t[k] = ph_test_thread_start(churn_slots, &c[k]);
    }
    for (int w = 0; w < 4; w++) {
      for (int k = 0; k < 2; k++) {
        long seen = atomic_load(&c[k].ops);
        while (atomic_load(&c[k].ops) < seen + 100 &&
               !atomic_load(&c[k].failed))
          ph_test_yield(); /* alone long enough to be biased again */
      }
      ck_assert_int_ne(HeapLock(h), FALSE);
      ck_assert_int_gt(ph_test_walk_entries(h, INT_MAX), 2);
      ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
      ck_assert_int_ne(HeapUnlock(h), FALSE);
    }
    for (int k = 0; k < 2; k++) {
      atomic_store(&c[k].stop, 1);
      ph_test_thread_join(t[k]);
      ck_assert_int_eq(atomic_load(&c[k].failed), 0);
    }
    ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
    ck_assert_int_ne(HeapDestroy(h), FALSE);
  }
  if (counted) /* the walks revoked the biases the churners formed */
    assert_bias_traffic(&start, true);
}
END_TEST

START_TEST(no_serialize_heap_locks_and_unlocks) {
  HANDLE h = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
  ck_assert_ptr_nonnull(h);
  ck_assert_int_ne(HeapLock(h), FALSE);
  void* p = HeapAlloc(h, 0, 10);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  HeapDestroy(h);
}
END_TEST

START_TEST(process_heap_locks_and_unlocks) {
  HANDLE h = GetProcessHeap();
  ck_assert_int_ne(HeapLock(h), FALSE);
  void* p = HeapAlloc(h, 0, 10);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
}
END_TEST

/* ---- emulated engine: unlocking what one does not hold ----------------- */

START_TEST(unlock_without_lock_fails) {
  HANDLE h = ph_test_heap;
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapUnlock(h)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  ck_assert_int_ne(HeapLock(h), FALSE);
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapUnlock(h)), FALSE); /* one too many */
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  ck_assert_ptr_nonnull(HeapAlloc(h, 0, 10)); /* nothing was broken */
}
END_TEST

START_TEST(unlock_by_another_thread_fails) {
  HANDLE h = ph_test_heap;
  ck_assert_int_ne(HeapLock(h), FALSE);
  DWORD error;
  BOOL unlocked = ph_test_unlock_elsewhere(h, &error);
  ck_assert_int_eq(unlocked, FALSE);
  ck_assert_uint_eq(error, ERROR_INVALID_PARAMETER);
  ck_assert_int_ne(HeapUnlock(h), FALSE); /* still ours */
}
END_TEST

START_TEST(lock_of_a_bad_heap_fails_with_invalid_handle) {
  HANDLE h = HeapCreate(0, 0, 0);
  HeapDestroy(h);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapLock(h)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
  SetLastError(0);
  ck_assert_int_eq(ph_le_uint(HeapUnlock(NULL)), FALSE);
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_HANDLE);
}
END_TEST

Suite* test_lock(void) {
  Suite* s = suite_create("lock");
  TCase* tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, ph_test_heap_setup, ph_test_heap_teardown);
  tcase_add_test(tc, lock_is_recursive_for_its_owner);
  tcase_add_test(tc, owner_uses_its_locked_heap);
  tcase_add_test(tc, other_threads_wait_until_unlock);
  tcase_add_test(tc, nested_lock_keeps_others_out_until_the_last_unlock);
  tcase_add_test(tc, lock_stops_a_thread_that_had_the_heap_alone);
  tcase_add_test(tc, locked_walks_find_a_whole_heap_while_threads_churn_alone);
  tcase_add_test(tc, no_serialize_heap_locks_and_unlocks);
  tcase_add_test(tc, process_heap_locks_and_unlocks);
  suite_add_tcase(s, tc);
  TCase* bad = tcase_create("misuse");
  tcase_add_checked_fixture(bad, ph_test_heap_setup, ph_test_heap_teardown);
  ph_test_add_emul(bad, unlock_without_lock_fails,
                   "undefined on Windows; Wine returns TRUE");
  ph_test_add_emul(bad, unlock_by_another_thread_fails,
                   "undefined on Windows");
  ph_test_add_emul(bad, lock_of_a_bad_heap_fails_with_invalid_handle,
                   "a destroyed heap handle is undefined on Windows");
  suite_add_tcase(s, bad);
  return s;
}
