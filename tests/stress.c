/*
 * stress.c - eight threads on shared heaps, bounded in time, every block
 * accounted for at the end.
 *
 *   6 workers   alloc, realloc (plain, zeroing, in-place only), free, size
 *               and validate blocks of a shared slot table, so most frees
 *               happen on another thread than the alloc; each block carries
 *               a fill pattern that is checked whenever it is touched
 *   1 walker    HeapLock + HeapWalk + HeapValidate + HeapUnlock on each
 *               shared heap, HeapCompact now and then, GetProcessHeaps
 *   1 creator   HeapCreate (growable, fixed, NO_SERIALIZE), a few blocks,
 *               HeapDestroy with blocks still live, racing the walker's
 *               GetProcessHeaps
 *
 * At the end (all threads joined, a watchdog turns a deadlock into a
 * failure): every live block has its size and bytes, each heap validates,
 * and a walk of each private shared heap finds exactly as many busy blocks
 * as the model holds (at least as many on the process heap of the native
 * backend, which the system uses too).  Then everything is freed.
 *
 * Runs 2 s by default; PH_TEST_SCALE=n runs 2n s (make check-stress: 60 s).
 * PH_TEST_SEED sets the seed.  Prints the operations done.  Exit 0 or 1.
 */
#include <portheap/win32.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- threads and time, the only system-specific part ------------------- */

#if defined(_WIN32)
typedef HANDLE thread_t;
struct thread_start {
  void (*fn)(int);
  int arg;
  atomic_int* finished; /* counts threads that have returned */
};
static DWORD WINAPI thread_entry(LPVOID p) {
  struct thread_start* s = p;
  s->fn(s->arg);
  atomic_fetch_add(s->finished, 1);
  return 0;
}
static bool thread_run(thread_t* t, struct thread_start* s) {
  *t = CreateThread(NULL, 0, thread_entry, s, 0, NULL);
  return *t != NULL;
}
static void thread_join(thread_t t) {
  WaitForSingleObject(t, INFINITE);
  CloseHandle(t);
}
static uint64_t now_ms(void) {
  return GetTickCount64();
}
static void sleep_ms(unsigned ms) {
  Sleep(ms);
}
#else
#  include <pthread.h>
#  include <time.h>
typedef pthread_t thread_t;
struct thread_start {
  void (*fn)(int);
  int arg;
  atomic_int* finished; /* counts threads that have returned */
};
static void* thread_entry(void* p) {
  struct thread_start* s = p;
  s->fn(s->arg);
  atomic_fetch_add(s->finished, 1);
  return NULL;
}
static bool thread_run(thread_t* t, struct thread_start* s) {
  return pthread_create(t, NULL, thread_entry, s) == 0;
}
static void thread_join(thread_t t) {
  pthread_join(t, NULL);
}
static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  nanosleep(&ts, NULL);
}
#endif

/* ---- the model ------------------------------------------------------------ */

enum { WORKERS = 6, THREADS = WORKERS + 2, SLOTS = 1024, SHARED = 3 };
enum { WATCHDOG_MS = 60000 };

struct slot {
  atomic_int claim;      /* 0 free, 1 held by a thread */
  int heap;              /* index into shared[] */
  int owner;             /* thread that allocated it */
  unsigned char* p;      /* NULL: empty */
  SIZE_T size;
  uint32_t seed;         /* fill pattern */
};

static struct slot slots[SLOTS];
static HANDLE shared[SHARED]; /* growable, fixed, the process heap */
static const SIZE_T fixed_max = (SIZE_T)48 << 20;
static bool emul;
static unsigned seed;
static atomic_bool stop;
static atomic_int finished;
static DWORD heaps_at_start;

static atomic_ullong n_alloc, n_realloc, n_free, n_cross, n_full, n_walk,
    n_list, n_create, n_check;

static _Noreturn void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "stress: FAIL (seed %u): ", seed);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
  _Exit(1);
}

static uint32_t rnd(uint32_t* s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

static unsigned char pattern(uint32_t seed_, SIZE_T j) {
  return (unsigned char)(seed_ + (j * 131u) + (j >> 8));
}

static void fill(unsigned char* p, SIZE_T n, uint32_t s) {
  for (SIZE_T j = 0; j < n; j++)
    p[j] = pattern(s, j);
}

/* Check bytes [from, to) of a block filled with seed s; big blocks are
 * sampled (every page plus both ends). */
static void check_bytes(const unsigned char* p, SIZE_T from, SIZE_T to,
                        uint32_t s, const char* what) {
  SIZE_T step = to - from > 65536 ? 4093 : 1;
  for (SIZE_T j = from; j < to; j += (j < from + 4096 || to - j < 4096) ? 1
                                                                       : step)
    if (p[j] != pattern(s, j))
      die("%s: block %p byte %zu is %u, want %u", what, (void*)p, (size_t)j,
          p[j], pattern(s, j));
}

static SIZE_T pick_size(uint32_t* r, int heap) {
  uint32_t k = rnd(r) % 1000;
  if (k < 600)
    return rnd(r) % 513;
  if (k < 900)
    return 513 + rnd(r) % 8000;
  if (k < 995 || heap == 1)
    return 8192 + rnd(r) % 200000;
  return ((SIZE_T)1 << 20) + rnd(r) % ((SIZE_T)1 << 20); /* large */
}

static void expect_no_memory(const char* what) {
  if (emul && GetLastError() != ERROR_NOT_ENOUGH_MEMORY)
    die("%s failed with %lu, want ERROR_NOT_ENOUGH_MEMORY", what,
        (unsigned long)GetLastError());
}

/* ---- workers -------------------------------------------------------------- */

static void slot_alloc(struct slot* s, int self, uint32_t* r) {
  int hi = (int)(rnd(r) % SHARED);
  SIZE_T n = pick_size(r, hi);
  DWORD flags = rnd(r) % 8 == 0 ? HEAP_ZERO_MEMORY : 0;
  unsigned char* p = HeapAlloc(shared[hi], flags, n);
  if (p == NULL) {
    if (hi != 1)
      die("HeapAlloc(%zu) failed on a growable heap", (size_t)n);
    expect_no_memory("HeapAlloc on the fixed heap");
    atomic_fetch_add_explicit(&n_full, 1, memory_order_relaxed);
    return;
  }
  if (flags & HEAP_ZERO_MEMORY)
    for (SIZE_T j = 0; j < n; j++)
      if (p[j] != 0)
        die("HEAP_ZERO_MEMORY block %p byte %zu is %u", (void*)p, (size_t)j,
            p[j]);
  s->heap = hi;
  s->owner = self;
  s->p = p;
  s->size = n;
  s->seed = rnd(r);
  fill(p, n, s->seed);
  atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
}

static void slot_check(struct slot* s) {
  HANDLE h = shared[s->heap];
  SIZE_T got = HeapSize(h, 0, s->p);
  if (got != s->size)
    die("HeapSize(%p) = %zu, want %zu", (void*)s->p, (size_t)got,
        (size_t)s->size);
  check_bytes(s->p, 0, s->size, s->seed, "live block");
}

static void slot_realloc(struct slot* s, uint32_t* r) {
  HANDLE h = shared[s->heap];
  SIZE_T n = pick_size(r, s->heap);
  static const DWORD choices[] = {0, HEAP_ZERO_MEMORY,
                                  HEAP_REALLOC_IN_PLACE_ONLY};
  DWORD flags = choices[rnd(r) % 3];
  unsigned char* q = HeapReAlloc(h, flags, s->p, n);
  if (q == NULL) {
    if (!(flags & HEAP_REALLOC_IN_PLACE_ONLY) && s->heap != 1)
      die("HeapReAlloc(%zu -> %zu) failed on a growable heap",
          (size_t)s->size, (size_t)n);
    expect_no_memory("HeapReAlloc");
    slot_check(s); /* untouched */
    atomic_fetch_add_explicit(&n_full, 1, memory_order_relaxed);
    return;
  }
  if ((flags & HEAP_REALLOC_IN_PLACE_ONLY) && q != s->p)
    die("HEAP_REALLOC_IN_PLACE_ONLY moved %p to %p", (void*)s->p, (void*)q);
  SIZE_T keep = n < s->size ? n : s->size;
  check_bytes(q, 0, keep, s->seed, "reallocated block");
  if ((flags & HEAP_ZERO_MEMORY) && n > s->size)
    for (SIZE_T j = s->size; j < n; j++)
      if (q[j] != 0)
        die("HeapReAlloc zeroing: byte %zu of %p is %u", (size_t)j, (void*)q,
            q[j]);
  s->p = q;
  s->size = n;
  s->seed = rnd(r);
  fill(q, n, s->seed);
  atomic_fetch_add_explicit(&n_realloc, 1, memory_order_relaxed);
}

static void slot_free(struct slot* s, int self) {
  if (!HeapFree(shared[s->heap], 0, s->p))
    die("HeapFree(%p) failed with %lu", (void*)s->p,
        (unsigned long)GetLastError());
  if (s->owner != self)
    atomic_fetch_add_explicit(&n_cross, 1, memory_order_relaxed);
  s->p = NULL;
  atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
}

static void worker(int self) {
  uint32_t r = seed * 2654435761u + (uint32_t)self * 40503u + 1u;
  if (r == 0)
    r = 1;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    struct slot* s = &slots[rnd(&r) % SLOTS];
    int expected = 0;
    if (!atomic_compare_exchange_strong_explicit(
            &s->claim, &expected, 1, memory_order_acquire,
            memory_order_relaxed))
      continue;
    if (s->p == NULL) {
      slot_alloc(s, self, &r);
    } else {
      uint32_t k = rnd(&r) % 10;
      if (k < 2) {
        slot_check(s);
        if (!HeapValidate(shared[s->heap], 0, s->p))
          die("HeapValidate(%p) is FALSE for a live block", (void*)s->p);
        atomic_fetch_add_explicit(&n_check, 1, memory_order_relaxed);
      } else if (k < 5) {
        slot_realloc(s, &r);
      } else {
        check_bytes(s->p, 0, s->size, s->seed, "block before free");
        slot_free(s, self);
      }
    }
    atomic_store_explicit(&s->claim, 0, memory_order_release);
  }
}

/* ---- walker --------------------------------------------------------------- */

/* Walk h from the start; returns the busy entries; the walk must end with
 * ERROR_NO_MORE_ITEMS. */
static size_t walk_busy(HANDLE h) {
  PROCESS_HEAP_ENTRY e;
  memset(&e, 0, sizeof e);
  size_t busy = 0, steps = 0;
  while (HeapWalk(h, &e)) {
    if (e.wFlags & PROCESS_HEAP_ENTRY_BUSY)
      busy++;
    if (++steps > 100000000u)
      die("HeapWalk does not end");
  }
  if (GetLastError() != ERROR_NO_MORE_ITEMS)
    die("HeapWalk ended with %lu", (unsigned long)GetLastError());
  return busy;
}

static void walker(int self) {
  (void)self;
  HANDLE list[64];
  for (unsigned i = 0; !atomic_load_explicit(&stop, memory_order_relaxed);
       i++) {
    HANDLE h = shared[i % SHARED];
    if (!HeapLock(h))
      die("HeapLock failed with %lu", (unsigned long)GetLastError());
    walk_busy(h);
    if (!HeapValidate(h, 0, NULL))
      die("HeapValidate of shared heap %u is FALSE", i % SHARED);
    if (!HeapUnlock(h))
      die("HeapUnlock failed with %lu", (unsigned long)GetLastError());
    atomic_fetch_add_explicit(&n_walk, 1, memory_order_relaxed);
    if (i % 16 == 0) {
      SetLastError(0);
      SIZE_T largest = HeapCompact(shared[0], 0);
      if (largest == 0 && GetLastError() != 0 && emul)
        die("HeapCompact failed with %lu", (unsigned long)GetLastError());
    }
    DWORD total = GetProcessHeaps(64, list);
    if (total == 0 || list[0] != GetProcessHeap())
      die("GetProcessHeaps gave %lu, first %p", (unsigned long)total,
          list[0]);
    if (emul && (total < heaps_at_start || total > heaps_at_start + 1))
      die("GetProcessHeaps gave %lu heaps, want %lu or one more",
          (unsigned long)total, (unsigned long)heaps_at_start);
    atomic_fetch_add_explicit(&n_list, 1, memory_order_relaxed);
    sleep_ms(1); /* a walk holds the heap: let the workers in */
  }
}

/* ---- creator -------------------------------------------------------------- */

static void creator(int self) {
  uint32_t r = seed ^ 0x5bd1e995u;
  if (r == 0)
    r = 1;
  (void)self;
  static const DWORD options[] = {0, HEAP_NO_SERIALIZE, 0};
  unsigned char* p[16];
  SIZE_T len[16];
  for (unsigned i = 0; !atomic_load_explicit(&stop, memory_order_relaxed);
       i++) {
    unsigned kind = i % 3;
    HANDLE h = HeapCreate(options[kind], 0, kind == 2 ? (SIZE_T)4 << 20 : 0);
    if (h == NULL)
      die("HeapCreate failed with %lu", (unsigned long)GetLastError());
    unsigned count = 1 + rnd(&r) % 16;
    for (unsigned k = 0; k < count; k++) {
      len[k] = pick_size(&r, kind == 2 ? 1 : 0);
      p[k] = HeapAlloc(h, 0, len[k]);
      if (p[k] == NULL)
        die("HeapAlloc(%zu) failed on a new heap", (size_t)len[k]);
      fill(p[k], len[k], (uint32_t)k);
    }
    for (unsigned k = 0; k < count; k++) {
      check_bytes(p[k], 0, len[k], (uint32_t)k, "new heap's block");
      if (k % 2 && !HeapFree(h, 0, p[k]))
        die("HeapFree on a new heap failed");
    }
    if (!HeapValidate(h, 0, NULL))
      die("HeapValidate of a new heap is FALSE");
    if (!HeapDestroy(h))
      die("HeapDestroy failed with %lu", (unsigned long)GetLastError());
    atomic_fetch_add_explicit(&n_create, 1, memory_order_relaxed);
  }
}

/* ---- the end -------------------------------------------------------------- */

static void account_for_everything(void) {
  size_t model[SHARED] = {0};
  for (int i = 0; i < SLOTS; i++) {
    struct slot* s = &slots[i];
    if (s->p == NULL)
      continue;
    slot_check(s);
    if (!HeapValidate(shared[s->heap], 0, s->p))
      die("HeapValidate(%p) is FALSE at the end", (void*)s->p);
    model[s->heap]++;
  }
  for (int k = 0; k < SHARED; k++) {
    if (!HeapValidate(shared[k], 0, NULL))
      die("HeapValidate of shared heap %d is FALSE at the end", k);
    HeapLock(shared[k]);
    size_t busy = walk_busy(shared[k]);
    HeapUnlock(shared[k]);
    /* The native process heap serves the system too; Windows' LFH shows
     * its subsegments as busy entries: there the walk finds at least the
     * model. */
    bool exact = emul;
    if (exact ? busy != model[k] : busy < model[k])
      die("heap %d: the walk finds %zu busy blocks, the model %zu", k, busy,
          model[k]);
  }
  for (int i = 0; i < SLOTS; i++)
    if (slots[i].p != NULL)
      slot_free(&slots[i], slots[i].owner);
  for (int k = 0; k < 2; k++)
    if (emul && walk_busy(shared[k]) != 0)
      die("heap %d: busy blocks left after freeing everything", k);
}

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  const char* env = getenv("PH_TEST_SEED");
  seed = env != NULL ? (unsigned)strtoul(env, NULL, 0) : 20261125u;
  env = getenv("PH_TEST_SCALE");
  unsigned scale = env != NULL ? (unsigned)strtoul(env, NULL, 0) : 1u;
  if (scale == 0)
    scale = 1;
  uint64_t run_ms = 2000u * (uint64_t)scale;
  emul = strcmp(ph_backend(), "emul") == 0;

  shared[0] = HeapCreate(0, 0, 0);
  shared[1] = HeapCreate(0, 0, fixed_max);
  shared[2] = GetProcessHeap();
  if (shared[0] == NULL || shared[1] == NULL)
    die("HeapCreate failed");
  heaps_at_start = GetProcessHeaps(0, NULL);
  printf("stress: backend %s, %d threads, %.1f s, seed %u\n", ph_backend(),
         THREADS, (double)run_ms / 1000.0, seed);
  fflush(stdout);

  thread_t threads[THREADS];
  struct thread_start starts[THREADS];
  for (int i = 0; i < THREADS; i++) {
    starts[i].fn = i < WORKERS ? worker : i == WORKERS ? walker : creator;
    starts[i].arg = i;
    starts[i].finished = &finished;
    if (!thread_run(&threads[i], &starts[i]))
      die("cannot start thread %d", i);
  }
  uint64_t start = now_ms();
  while (now_ms() - start < run_ms)
    sleep_ms(20);
  atomic_store(&stop, true);
  /* Each thread ends its current operation and returns; one that does not
   * within the watchdog's time is stuck on a lock. */
  uint64_t stopped = now_ms();
  while (atomic_load(&finished) < THREADS) {
    if (now_ms() - stopped > WATCHDOG_MS)
      die("%d of %d threads still running %d ms after the stop: deadlock?",
          THREADS - atomic_load(&finished), THREADS, WATCHDOG_MS);
    sleep_ms(10);
  }
  for (int i = 0; i < THREADS; i++)
    thread_join(threads[i]);
  account_for_everything();
  unsigned long long ops = n_alloc + n_realloc + n_free + n_check + n_walk +
                           n_list + n_create;
  printf("stress: %llu operations: %llu alloc, %llu realloc, %llu free "
         "(%llu on another thread), %llu checks, %llu refusals (fixed heap full, in place impossible), "
         "%llu locked walks, %llu heap lists, %llu heaps created and "
         "destroyed; every block accounted for\n",
         ops, (unsigned long long)n_alloc, (unsigned long long)n_realloc,
         (unsigned long long)n_free, (unsigned long long)n_cross,
         (unsigned long long)n_check, (unsigned long long)n_full,
         (unsigned long long)n_walk, (unsigned long long)n_list,
         (unsigned long long)n_create);
  if (!HeapDestroy(shared[0]) || !HeapDestroy(shared[1]))
    die("HeapDestroy of the shared heaps failed");
  return 0;
}
