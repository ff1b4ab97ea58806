/*
 * test-scale.c - many threads on one heap: the process heap used as a
 * program's malloc by 64 threads at once (alloc, realloc, free, and frees
 * of blocks other threads allocated), with locked walks that must find
 * every block the threads hold while they run; and (emulated engine) a
 * heap that threads use one at a time stays one part, while threads that
 * meet inside it get parts of their own.
 */
#include "suites.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 64
#define HELD 16      /* blocks a thread holds at a time */
#define ROUNDS 1500  /* operations per thread */

/* A block a thread holds, published for the walker: its address and
 * requested size (0: the slot is empty).  The block starts with its
 * slot's tag, so a block that moved or was overwritten shows. */
struct held {
  _Atomic(unsigned char*) block;
  atomic_size_t size;
};

struct crowd {
  HANDLE heap;
  struct held held[THREADS][HELD];
  _Atomic(unsigned char*) mailbox[THREADS]; /* a block for thread i to free */
  atomic_int failed;
  atomic_int running;
  atomic_long ops;
};

struct member {
  struct crowd* c;
  int index;
};

static unsigned char tag_of(int thread, int slot) {
  return (unsigned char)(thread * HELD + slot + 1);
}

/* Free the block another thread left in our mailbox, if any. */
static void take_mail(struct crowd* c, int self) {
  unsigned char* p = atomic_exchange(&c->mailbox[self], NULL);
  if (p != NULL && !HeapFree(c->heap, 0, p))
    atomic_store(&c->failed, 1);
}

/* Publish block p of n bytes in slot h, its first bytes tagged; a NULL p
 * (the call failed, or the block came back wrong) fails the crowd. */
static void hold(struct crowd* c, struct held* h, unsigned char tag,
                 unsigned char* p, SIZE_T n) {
  if (p == NULL) {
    atomic_store(&c->failed, 1);
    return;
  }
  memset(p, tag, n < 64 ? n : 64);
  atomic_store(&h->size, n);
  atomic_store(&h->block, p);
}

/* One operation on slot i of thread `self`: allocate into an empty slot;
 * else grow or shrink its block, or free it, or hand it to the next
 * thread to free. */
static void crowd_step(struct crowd* c, int self, uint32_t r) {
  int i = (int)(r % HELD);
  struct held* h = &c->held[self][i];
  unsigned char* p = atomic_load(&h->block);
  SIZE_T n = 8 + (r >> 8) % 600;
  if (r & 0x40000000u)
    n += (SIZE_T)((r >> 4) % 4) << 16; /* now and then up to 256 KiB */
  if (p == NULL) {
    hold(c, h, tag_of(self, i), HeapAlloc(c->heap, 0, n), n);
    return;
  }
  if (p[0] != tag_of(self, i)) {
    atomic_store(&c->failed, 1);
    return;
  }
  switch ((r >> 28) & 3) {
  case 0: { /* realloc: unpublished while it may move */
    atomic_store(&h->block, NULL);
    unsigned char* q = HeapReAlloc(c->heap, 0, p, n);
    hold(c, h, tag_of(self, i), q != NULL && q[0] == tag_of(self, i) ? q : NULL,
         n);
    return;
  }
  case 1: { /* handed over: the next thread frees it */
    atomic_store(&h->block, NULL);
    unsigned char* old =
        atomic_exchange(&c->mailbox[(self + 1) % THREADS], p);
    if (old != NULL && !HeapFree(c->heap, 0, old))
      atomic_store(&c->failed, 1);
    return;
  }
  default:
    atomic_store(&h->block, NULL);
    if (!HeapFree(c->heap, 0, p))
      atomic_store(&c->failed, 1);
  }
}

static void crowd_member(void* arg) {
  struct member* m = arg;
  struct crowd* c = m->c;
  uint32_t state = ph_test_seed() ^ (uint32_t)(m->index * 2654435761u) ^ 1u;
  for (int n = 0; n < ROUNDS && !atomic_load(&c->failed); n++) {
    take_mail(c, m->index);
    crowd_step(c, m->index, ph_test_rand(&state));
    atomic_fetch_add(&c->ops, 1);
    if (n % 32 == 31)
      ph_test_yield(); /* 2 cores, or valgrind's one: let the others in */
  }
  for (int i = 0; i < HELD; i++) {
    unsigned char* p = atomic_exchange(&c->held[m->index][i].block, NULL);
    if (p != NULL && !HeapFree(c->heap, 0, p))
      atomic_store(&c->failed, 1);
  }
  atomic_fetch_sub(&c->running, 1);
}

/* Busy blocks of a walk of h (h locked by the caller), with their sizes,
 * sorted by address; returns how many (at most max). */
struct seen {
  const void* data;
  SIZE_T size;
};

static int seen_cmp(const void* a, const void* b) {
  const struct seen *x = a, *y = b;
  return (x->data > y->data) - (x->data < y->data);
}

static int walk_busy(HANDLE h, struct seen* out, int max) {
  PROCESS_HEAP_ENTRY e = {0};
  int n = 0;
  while (HeapWalk(h, &e))
    if ((e.wFlags & PROCESS_HEAP_ENTRY_BUSY) && n < max)
      out[n++] = (struct seen){e.lpData, e.cbData};
  qsort(out, (size_t)n, sizeof *out, seen_cmp);
  return n;
}

/* Under HeapLock no thread is inside the heap: every block a thread has
 * published is busy in the walk, at least as big as published. */
static void check_published(struct crowd* c, struct seen* buf, int max) {
  ck_assert_int_ne(HeapLock(c->heap), FALSE);
  int n = walk_busy(c->heap, buf, max);
  int missing = 0;
  for (int t = 0; t < THREADS; t++)
    for (int i = 0; i < HELD; i++) {
      unsigned char* p = atomic_load(&c->held[t][i].block);
      if (p == NULL)
        continue;
      struct seen key = {p, 0};
      struct seen* hit = bsearch(&key, buf, (size_t)n, sizeof *buf, seen_cmp);
      if (hit == NULL || hit->size < atomic_load(&c->held[t][i].size))
        missing++;
    }
  ck_assert_int_ne(HeapValidate(c->heap, 0, NULL), FALSE);
  ck_assert_int_ne(HeapUnlock(c->heap), FALSE);
  ck_assert_int_eq(missing, 0);
}

START_TEST(sixty_four_threads_share_the_process_heap) {
  static struct crowd c;
  static struct member m[THREADS];
  static struct seen buf[1 << 16];
  memset(&c, 0, sizeof c);
  c.heap = GetProcessHeap();
  int before = walk_busy(c.heap, buf, 1 << 16);
  ph_test_thread_t* t[THREADS];
  atomic_store(&c.running, THREADS);
  for (int i = 0; i < THREADS; i++) {
    m[i] = (struct member){&c, i};
    t[i] = ph_test_thread_start(crowd_member, &m[i]);
    ck_assert_ptr_nonnull(t[i]);
  }
  int walks = 0;
  while (atomic_load(&c.running) > 0 && !atomic_load(&c.failed)) {
    check_published(&c, buf, 1 << 16);
    walks++;
    ph_test_sleep_ms(5);
  }
  for (int i = 0; i < THREADS; i++)
    ph_test_thread_join(t[i]);
  ck_assert_int_eq(atomic_load(&c.failed), 0);
  for (int i = 0; i < THREADS; i++)
    take_mail(&c, i);
  ck_assert_int_eq(atomic_load(&c.failed), 0);
  ck_assert_int_eq(atomic_load(&c.ops), (long)THREADS * ROUNDS);
  /* Every block is back: the walk counts what it did before. */
  ck_assert_int_ne(HeapLock(c.heap), FALSE);
  int after = walk_busy(c.heap, buf, 1 << 16);
  ck_assert_int_ne(HeapValidate(c.heap, 0, NULL), FALSE);
  ck_assert_int_ne(HeapUnlock(c.heap), FALSE);
  ck_assert_int_eq(after, before);
  ck_assert_int_gt(walks, 0);
}
END_TEST

/* ---- parts of a heap (emulated engine) ---------------------------------- */

/* Entries of a walk of h with any of `flags`. */
static int walk_count(HANDLE h, WORD flags) {
  PROCESS_HEAP_ENTRY e = {0};
  int n = 0;
  while (HeapWalk(h, &e))
    n += (e.wFlags & flags) != 0;
  return n;
}

/* Region entries of a walk of h: its parts' first regions and the rest. */
static int walk_regions(HANDLE h) {
  return walk_count(h, PROCESS_HEAP_REGION);
}

struct churn_arg {
  HANDLE heap;
  int pairs;
  atomic_int* go;
};

static void churn_pairs(void* arg) {
  struct churn_arg* a = arg;
  while (a->go != NULL && !atomic_load(a->go))
    ph_test_yield();
  for (int i = 0; i < a->pairs; i++)
    HeapFree(a->heap, 0, HeapAlloc(a->heap, 0, (SIZE_T)(i % 50) * 8 + 8));
}

static ph_lock_stats_t lock_stats_now(void) {
  ph_lock_stats_t s = {.cb = sizeof s};
  ck_assert_int_ne(ph_lock_stats(&s), 0);
  return s;
}

static uint64_t contended_now(void) {
  ph_lock_stats_t s = lock_stats_now();
  return s.contended + s.bias_revocations;
}

/* Four threads churning h at once, again and again until h has split
 * into parts (their meeting shows) or `rounds` have passed. */
static void meet(HANDLE h, int rounds) {
  atomic_int go = 0;
  struct churn_arg a = {h, 20000, &go};
  for (int round = 0; round < rounds && walk_regions(h) == 1; round++) {
    ph_test_thread_t* t[4];
    atomic_store(&go, 0);
    for (int k = 0; k < 4; k++)
      t[k] = ph_test_thread_start(churn_pairs, &a);
    atomic_store(&go, 1);
    for (int k = 0; k < 4; k++)
      ph_test_thread_join(t[k]);
  }
}

/* Threads that use a heap one after another share its one part (no
 * memory spent on parts nobody contends for); threads that meet inside
 * it, seen by the lock counts, get parts of their own. */
START_TEST(emul_a_heap_splits_only_when_its_threads_meet) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  for (int k = 0; k < 4; k++) {
    struct churn_arg a = {h, 2000, NULL};
    ph_test_thread_t* t = ph_test_thread_start(churn_pairs, &a);
    ph_test_thread_join(t);
  }
  ck_assert_int_eq(walk_regions(h), 1);
  /* Now at once, until they have met (or for a bounded while). */
  uint64_t before = contended_now();
  meet(h, 50);
  if (contended_now() > before) /* they met: the heap split */
    ck_assert_int_gt(walk_regions(h), 1);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* Two live threads that take strict turns on a heap (as threads on one
 * processor do), each freeing what the other allocated: they never meet
 * inside it, but revoke each other's bias at every turn.  The third
 * revocation counts as a meeting, and the heap splits (before: one part
 * for ever, entered through its mutex). */
struct turns {
  HANDLE heap;
  int rounds;          /* turns each thread takes */
  atomic_int turn;     /* whose turn: 0 or 1 */
  atomic_int finished; /* threads done with their turns */
  void* blocks[64];
};

struct turn_taker {
  struct turns* t;
  int me;
};

static void take_turns(void* arg) {
  struct turn_taker* a = arg;
  struct turns* t = a->t;
  for (int round = 0; round < t->rounds; round++) {
    while (atomic_load(&t->turn) != a->me)
      ph_test_yield();
    for (int i = 0; i < 64; i++) { /* the other's blocks, then our own */
      HeapFree(t->heap, 0, t->blocks[i]);
      t->blocks[i] = HeapAlloc(t->heap, 0, 16 + 8 * (SIZE_T)i);
    }
    for (int i = 0; i < 2000; i++)
      HeapFree(t->heap, 0, HeapAlloc(t->heap, 0, 8 + (SIZE_T)(i % 64) * 8));
    atomic_store(&t->turn, 1 - a->me);
  }
  /* Alive until both are done: an exiting thread gives its bias back,
   * and the other would then revoke nothing. */
  atomic_fetch_add(&t->finished, 1);
  while (atomic_load(&t->finished) < 2)
    ph_test_yield();
}

/* Two live threads taking `rounds` turns each on a new heap (made by the
 * calling thread, which holds its bias): the heap's region entries after,
 * and the revocations, in *revoked; -1 if locks are not biased here (no
 * turn revokes anything), said with the test's name. */
static int regions_after_turns(int rounds, uint64_t* revoked,
                               const char* test) {
  static struct turns t;
  memset(&t, 0, sizeof t);
  t.rounds = rounds;
  t.heap = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(t.heap);
  uint64_t before = lock_stats_now().bias_revocations;
  struct turn_taker a[2] = {{&t, 0}, {&t, 1}};
  ph_test_thread_t* th[2] = {ph_test_thread_start(take_turns, &a[0]),
                             ph_test_thread_start(take_turns, &a[1])};
  ph_test_thread_join(th[0]);
  ph_test_thread_join(th[1]);
  *revoked = lock_stats_now().bias_revocations - before;
  int regions = walk_regions(t.heap);
  for (int i = 0; i < 64; i++)
    ck_assert_int_ne(HeapFree(t.heap, 0, t.blocks[i]), FALSE);
  ck_assert_int_ne(HeapValidate(t.heap, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(t.heap), FALSE);
  if (lock_stats_now().biasing == 0) {
    printf("%s: not checked: locks are not biased here (no turn revokes "
           "anything)\n", test);
    return -1;
  }
  return regions;
}

START_TEST(emul_threads_taking_turns_on_a_heap_split_it) {
  uint64_t revoked;
  int regions = regions_after_turns(
      6, &revoked, "emul_threads_taking_turns_on_a_heap_split_it");
  if (regions < 0)
    return;
  ck_assert_uint_ge(revoked, 3);
  ck_assert_int_gt(regions, 1);
}
END_TEST

/* A heap handed on twice between live threads (its maker's bias revoked,
 * then the first taker's) keeps one part: a heap made by one thread and
 * used by another costs no shard more. */
START_TEST(emul_a_heap_handed_on_twice_keeps_one_part) {
  uint64_t revoked;
  int regions = regions_after_turns(
      1, &revoked, "emul_a_heap_handed_on_twice_keeps_one_part");
  if (regions < 0)
    return;
  ck_assert_uint_eq(revoked, 2); /* the maker's bias, then the first taker's */
  ck_assert_int_eq(regions, 1);
}
END_TEST

/* ---- frees from other threads (emulated engine) ------------------------ */

/* A new heap whose threads have met, so it has split into parts; NULL,
 * with the reason printed, if they never met (then the caller skips). */
static HANDLE split_heap(void) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  meet(h, 100);
  if (walk_regions(h) > 1)
    return h;
  printf("skipped: threads never met in the heap, so it has one part\n");
  HeapDestroy(h);
  return NULL;
}

/* Threads that come and go one after another on a split heap reuse the
 * parts of the threads that exited: a program whose threads come and go
 * holds the memory of as many parts as it has threads at a time, not of
 * one part for each thread it ever ran. */
START_TEST(emul_threads_that_come_and_go_reuse_parts) {
  HANDLE h = split_heap();
  if (h == NULL)
    return;
  int parts = walk_regions(h);
  for (int k = 0; k < 8; k++) {
    struct churn_arg a = {h, 2000, NULL};
    ph_test_thread_join(ph_test_thread_start(churn_pairs, &a));
  }
  ck_assert_int_le(walk_regions(h), parts + 1);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* Windows turns its LFH on for a size once 18 blocks of it were
 * allocated in the heap, whichever threads asked: three threads that
 * allocate 6 each at once (each in its own part of a split heap) turn it
 * on, and a fourth thread's block of that size then comes from the LFH:
 * freed, it shows in a walk as a free LFH slot (its data, 2p of
 * overhead), not merged into the free space around it as the back end's
 * blocks are. */
enum { LFH_SIZE = 440, LFH_EACH = 6 }; /* a size meet() never asks for */

struct lfh_thread {
  HANDLE heap;
  atomic_int* allocated;
  atomic_int* done;
  void* block[LFH_EACH];
};

static void allocate_six(void* arg) {
  struct lfh_thread* t = arg;
  for (int i = 0; i < LFH_EACH; i++)
    t->block[i] = HeapAlloc(t->heap, 0, LFH_SIZE);
  atomic_fetch_add(t->allocated, 1);
  while (!atomic_load(t->done)) /* alive, so no other thread has its part */
    ph_test_yield();
}

START_TEST(emul_the_lfh_counts_a_sizes_blocks_over_all_threads) {
  HANDLE h = split_heap();
  if (h == NULL)
    return;
  atomic_int allocated = 0, done = 0;
  static struct lfh_thread t[3];
  ph_test_thread_t* th[3];
  for (int k = 0; k < 3; k++) {
    t[k] = (struct lfh_thread){h, &allocated, &done, {NULL}};
    th[k] = ph_test_thread_start(allocate_six, &t[k]);
  }
  while (atomic_load(&allocated) < 3)
    ph_test_yield();
  void* p = HeapAlloc(h, 0, LFH_SIZE);
  void* q = HeapAlloc(h, 0, LFH_SIZE);
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_nonnull(q);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  PROCESS_HEAP_ENTRY e = {0};
  bool lfh_slot = false;
  while (HeapWalk(h, &e))
    lfh_slot |= e.lpData == p && e.wFlags == 0 &&
                e.cbOverhead == 2 * sizeof(void*);
  atomic_store(&done, 1);
  for (int k = 0; k < 3; k++) {
    ph_test_thread_join(th[k]);
    for (int i = 0; i < LFH_EACH; i++)
      ck_assert_ptr_nonnull(t[k].block[i]);
  }
  ck_assert(lfh_slot);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

enum { GIVEN = 100 };


struct guest {
  HANDLE heap;
  unsigned char* blocks[GIVEN];
  BOOL first[GIVEN];  /* HeapFree's results */
  BOOL second[GIVEN];
  DWORD second_error;
  BOOL overwrite;     /* write into block 0 after freeing it */
  BOOL once;          /* free each block once, nothing more */
};

/* A thread of its own part of the heap frees the blocks another thread
 * allocated, each twice. */
static void guest_frees(void* arg) {
  struct guest* g = arg;
  HeapFree(g->heap, 0, HeapAlloc(g->heap, 0, 24)); /* it knows the heap */
  for (int i = 0; i < GIVEN; i++)
    g->first[i] = HeapFree(g->heap, 0, g->blocks[i]);
  if (g->overwrite) {
    memset(g->blocks[0], 0x41, 16); /* a use after free: the list's words */
    return;
  }
  if (g->once)
    return;
  SetLastError(0);
  for (int i = 0; i < GIVEN; i++)
    g->second[i] = HeapFree(g->heap, 0, g->blocks[i]);
  g->second_error = GetLastError();
}

/* Allocate GIVEN blocks of h in this thread, then have a thread of its
 * own free them all (guest_frees), overwriting the first after freeing it
 * if `overwrite`. */
static void give_to_guest(struct guest* g, HANDLE h, BOOL overwrite,
                          BOOL once) {
  memset(g, 0, sizeof *g);
  g->heap = h;
  g->overwrite = overwrite;
  g->once = once;
  for (int i = 0; i < GIVEN; i++) {
    g->blocks[i] = HeapAlloc(h, 0, 40);
    ck_assert_ptr_nonnull(g->blocks[i]);
    memset(g->blocks[i], 0x5A, 40);
  }
  ph_test_thread_join(ph_test_thread_start(guest_frees, g));
}

/* 4 x GIVEN blocks of 40 bytes from h, none handed out twice. */
static void no_block_twice(HANDLE h) {
  static void* got[4 * GIVEN];
  for (int i = 0; i < 4 * GIVEN; i++) {
    got[i] = HeapAlloc(h, 0, 40);
    ck_assert_ptr_nonnull(got[i]);
    for (int j = 0; j < i; j++)
      ck_assert_ptr_ne(got[i], got[j]);
  }
}

/* Blocks freed by another thread are free at once for every call that
 * looks (a second free from either thread fails, validation refuses
 * them, a locked walk shows them free) and nothing is left pending. */
START_TEST(emul_blocks_freed_by_another_thread_are_free) {
  HANDLE h = split_heap();
  if (h == NULL)
    return;
  static struct guest g;
  int busy_before = walk_count(h, PROCESS_HEAP_ENTRY_BUSY);
  give_to_guest(&g, h, FALSE, FALSE);
  for (int i = 0; i < GIVEN; i++) {
    ck_assert_int_ne(g.first[i], FALSE);
    ck_assert_int_eq(g.second[i], FALSE);
  }
  ck_assert_uint_eq(g.second_error, ERROR_INVALID_PARAMETER);
  for (int i = 0; i < GIVEN; i++) {
    ck_assert_int_eq(HeapValidate(h, 0, g.blocks[i]), FALSE);
    ck_assert_int_eq(HeapFree(h, 0, g.blocks[i]), FALSE);
  }
  ck_assert_int_ne(HeapLock(h), FALSE);
  PROCESS_HEAP_ENTRY e = {0};
  int busy = 0;
  while (HeapWalk(h, &e))
    for (int i = 0; i < GIVEN; i++)
      busy += (e.wFlags & PROCESS_HEAP_ENTRY_BUSY) && e.lpData == g.blocks[i];
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  ck_assert_int_eq(busy, 0);
  ck_assert_int_eq(walk_count(h, PROCESS_HEAP_ENTRY_BUSY), busy_before); /* none left pending */
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* The allocating thread frees again, first thing, the blocks a guest has
 * just freed (they wait for its part of the heap to release them): every
 * second free fails, and no block is handed out twice. */
START_TEST(emul_a_second_free_by_the_owner_fails) {
  HANDLE h = split_heap();
  if (h == NULL)
    return;
  static struct guest g;
  give_to_guest(&g, h, FALSE, TRUE);
  for (int i = 0; i < GIVEN; i++) {
    ck_assert_int_ne(g.first[i], FALSE);
    SetLastError(0);
    ck_assert_int_eq(HeapFree(h, 0, g.blocks[i]), FALSE);
    ck_assert_uint_eq(GetLastError(), ERROR_INVALID_PARAMETER);
  }
  no_block_twice(h);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* A guest frees blocks that the thread that allocated them has freed
 * already, in a heap whose part has released blocks guests freed before.  Small blocks
 * come from runs, which keep a freed block's state outside it: the guest
 * tells them free by the mark their free left in them, and each second
 * free fails at once, reported, with nothing left pending. */
static void guest_frees_again(void* arg) {
  struct guest* g = arg;
  SetLastError(0);
  for (int i = 0; i < GIVEN; i++)
    g->second[i] = HeapFree(g->heap, 0, g->blocks[i]);
  g->second_error = GetLastError();
}

START_TEST(emul_a_guests_free_of_a_freed_block_fails) {
  HANDLE h = split_heap();
  if (h == NULL)
    return;
  static struct guest g;
  give_to_guest(&g, h, FALSE, TRUE); /* guests have freed blocks here, */
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE); /* released them */
  for (int i = 0; i < GIVEN; i++) {
    g.blocks[i] = HeapAlloc(h, 0, 40);
    ck_assert_ptr_nonnull(g.blocks[i]);
    memset(g.blocks[i], 0x5A, 40);
  }
  for (int i = 0; i < GIVEN; i++)
    ck_assert_int_ne(HeapFree(h, 0, g.blocks[i]), FALSE);
  ph_test_thread_join(ph_test_thread_start(guest_frees_again, &g));
  for (int i = 0; i < GIVEN; i++)
    ck_assert_int_eq(g.second[i], FALSE);
  ck_assert_uint_eq(g.second_error, ERROR_INVALID_PARAMETER);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE); /* nothing pending */
  no_block_twice(h);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* A use after free that overwrites a block waiting on its part's list of
 * blocks other threads freed (the first one freed: the list's end): the
 * list is not followed past it, the heap goes on serving, and the damaged
 * block is never handed out again (it stays busy). */
START_TEST(emul_a_trampled_block_freed_by_another_thread_is_contained) {
  HANDLE h = split_heap();
  if (h == NULL)
    return;
  static struct guest g;
  give_to_guest(&g, h, TRUE, FALSE);
  /* Under Valgrind a guest's free takes no list: the block was free when
   * it was overwritten (a run slot keeps nothing in a free slot), so it
   * may be handed out again. */
  bool listed = !ph_test_under_valgrind();
  for (int i = 0; i < 4 * GIVEN; i++) {
    void* p = HeapAlloc(h, 0, 40);
    ck_assert_ptr_nonnull(p);
    if (listed)
      ck_assert_ptr_ne(p, g.blocks[0]);
  }
  /* A locked walk releases what waits: the 99 before it are free, the
   * damaged one stays as it was, busy. */
  ck_assert_int_ne(HeapLock(h), FALSE);
  PROCESS_HEAP_ENTRY e = {0};
  int busy_given = 0, busy_damaged = 0;
  while (HeapWalk(h, &e)) {
    if (!(e.wFlags & PROCESS_HEAP_ENTRY_BUSY))
      continue;
    busy_damaged += e.lpData == g.blocks[0];
    for (int j = 1; j < GIVEN; j++)
      busy_given += e.lpData == g.blocks[j];
  }
  ck_assert_int_ne(HeapUnlock(h), FALSE);
  ck_assert_int_le(busy_damaged, 1); /* 0 where frees take no list (Valgrind) */
  ck_assert_int_le(busy_given, 4 * GIVEN); /* handed out again, or free */
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* A guest thread frees, batch after batch, the blocks another thread of
 * the heap allocated.  An owner that keeps allocating releases the
 * blocks that wait for it (its lists run empty): guests then never enter
 * its part of the heap, so they never revoke its biased lock.  Once it
 * stops allocating, a guest that keeps freeing its blocks enters its part
 * and releases them itself (revoking the bias), so what waits there stays
 * bounded.  Seen in the lock counts, where locks are biased. */
enum { BATCH = 1000, BATCHES = 30, IDLE_BATCH = 16384 };

struct batches {
  HANDLE heap;
  unsigned char* blocks[IDLE_BATCH];
  int count;            /* blocks of the batch published */
  atomic_int published; /* batches handed to the guest */
  atomic_int freed;     /* batches the guest has freed */
  atomic_int failures;  /* frees that failed */
};

static void guest_frees_batches(void* arg) {
  struct batches* b = arg;
  HeapFree(b->heap, 0, HeapAlloc(b->heap, 0, 24)); /* it knows the heap */
  for (int done = 0; done < BATCHES + 1; done++) {
    while (atomic_load(&b->published) == done)
      ph_test_yield();
    for (int i = 0; i < b->count; i++)
      if (!HeapFree(b->heap, 0, b->blocks[i]))
        atomic_fetch_add(&b->failures, 1);
    atomic_store(&b->freed, done + 1);
  }
}

/* Allocate n blocks of b's heap, have the guest free them, wait for it. */
static void hand_batch(struct batches* b, int n) {
  for (int i = 0; i < n; i++) {
    b->blocks[i] = HeapAlloc(b->heap, 0, 40);
    ck_assert_ptr_nonnull(b->blocks[i]);
  }
  b->count = n;
  int round = atomic_load(&b->published);
  atomic_store(&b->published, round + 1);
  while (atomic_load(&b->freed) == round) /* no heap call while waiting */
    ph_test_yield();
}

START_TEST(emul_guests_leave_an_allocating_owner_alone) {
  HANDLE h = split_heap();
  if (h == NULL)
    return;
  static struct batches b;
  memset(&b, 0, sizeof b);
  b.heap = h;
  HeapFree(h, 0, HeapAlloc(h, 0, 40)); /* this thread's part */
  ph_test_thread_t* t = ph_test_thread_start(guest_frees_batches, &b);
  uint64_t before = lock_stats_now().bias_revocations;
  for (int k = 0; k < BATCHES; k++) /* 30000 guest frees */
    hand_batch(&b, BATCH);
  uint64_t allocating = lock_stats_now().bias_revocations - before;
  hand_batch(&b, IDLE_BATCH); /* the owner waits, allocating nothing */
  uint64_t idle = lock_stats_now().bias_revocations - before - allocating;
  bool biasing = lock_stats_now().biasing != 0;
  ph_test_thread_join(t);
  ck_assert_int_eq(atomic_load(&b.failures), 0);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  if (!biasing || ph_test_under_valgrind()) {
    printf("emul_guests_leave_an_allocating_owner_alone: counts not checked: "
           "%s\n", !biasing ? "locks are not biased here"
                            : "under Valgrind every free takes the general "
                              "path");
    return;
  }
  ck_assert_uint_le(allocating, 1); /* 7 when every 4096th free entered */
  ck_assert_uint_ge(idle, 1);
}
END_TEST

/* A thread makes a heap (it holds the heap's bias from the start), fills
 * it a little and exits; the thread that uses the heap after it revokes
 * nothing: the exiting thread gave the bias back (revoking costs a
 * process-wide barrier, and a revoked lock stays on its mutex for longer
 * before it is biased again).  The heap serves on, whole. */
struct maker {
  HANDLE heap;
  void* block[16];
};

static void make_and_exit(void* arg) {
  struct maker* m = arg;
  m->heap = HeapCreate(0, 0, 0);
  if (m->heap == NULL)
    return;
  for (int i = 0; i < 16; i++)
    m->block[i] = HeapAlloc(m->heap, 0, 24 + 8 * (SIZE_T)i);
}

START_TEST(emul_an_exiting_thread_gives_its_biases_back) {
  static struct maker m;
  memset(&m, 0, sizeof m);
  ph_test_thread_join(ph_test_thread_start(make_and_exit, &m));
  ck_assert_ptr_nonnull(m.heap);
  uint64_t before = lock_stats_now().bias_revocations;
  for (int i = 0; i < 16; i++) {
    ck_assert_ptr_nonnull(m.block[i]);
    ck_assert_int_ne(HeapFree(m.heap, 0, m.block[i]), FALSE);
  }
  void* p = HeapAlloc(m.heap, 0, 100);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_ne(HeapFree(m.heap, 0, p), FALSE);
  uint64_t revoked = lock_stats_now().bias_revocations - before;
  bool biasing = lock_stats_now().biasing != 0;
  ck_assert_int_ne(HeapValidate(m.heap, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(m.heap), FALSE);
  if (!biasing) {
    printf("emul_an_exiting_thread_gives_its_biases_back: counts not "
           "checked: locks are not biased here\n");
    return;
  }
  ck_assert_uint_eq(revoked, 0);
}
END_TEST

Suite* test_scale(void) {
  Suite* s = suite_create("scale");
  TCase* tc = tcase_create("crowd");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, sixty_four_threads_share_the_process_heap);
  ph_test_add_emul(tc, emul_a_heap_splits_only_when_its_threads_meet,
                   "how a heap is laid out is Windows' own business");
  ph_test_add_emul(tc, emul_threads_taking_turns_on_a_heap_split_it,
                   "how a heap is laid out is Windows' own business");
  ph_test_add_emul(tc, emul_a_heap_handed_on_twice_keeps_one_part,
                   "how a heap is laid out is Windows' own business");
  ph_test_add_emul(tc, emul_the_lfh_counts_a_sizes_blocks_over_all_threads,
                   "needs a heap split into parts: the emulated engine's");
  ph_test_add_emul(tc, emul_threads_that_come_and_go_reuse_parts,
                   "needs a heap split into parts: the emulated engine's");
  ph_test_add_emul(tc, emul_blocks_freed_by_another_thread_are_free,
                   "needs a heap split into parts: the emulated engine's");
  ph_test_add_emul(tc, emul_a_trampled_block_freed_by_another_thread_is_contained,
                   "a use after free is undefined on Windows");
  ph_test_add_emul(tc, emul_a_second_free_by_the_owner_fails,
                   "a double free is undefined on Windows");
  ph_test_add_emul(tc, emul_a_guests_free_of_a_freed_block_fails,
                   "a double free is undefined on Windows");
  ph_test_add_emul(tc, emul_an_exiting_thread_gives_its_biases_back,
                   "lock counts are the emulated engine's");
  ph_test_add_emul(tc, emul_guests_leave_an_allocating_owner_alone,
                   "needs a heap split into parts: the emulated engine's");
  suite_add_tcase(s, tc);
  return s;
}
