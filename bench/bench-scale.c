/*
 * bench-scale.c - issue 16, the process heap as a program's malloc: every
 * workload here runs on each allocator's default heap (ph_process_heap,
 * plain malloc/free, mimalloc's and jemalloc's default malloc).  Each
 * thread, the main one included, takes that heap itself with
 * a->heap_default(), as mimalloc's default heap is the calling thread's.
 *
 *   hot-N            N threads (1, 2, 8, 32, 64) each churn their own 256
 *                    live blocks of 16-516 B: free a random one, allocate a
 *                    random size in its slot; 4M pairs in all, split evenly
 *                    across the threads, so ns per pair (wall time over all
 *                    threads' pairs) compares across N; the threads' CPU
 *                    time over their pairs is reported too (wall time
 *                    also holds what the scheduler costs every allocator
 *                    alike: starting, switching and ending 64 threads)
 *   larson           server-style churn (mimalloc-bench's larson,
 *                    xmalloc-test): 8 threads, each holding a set of 1000
 *                    live blocks of 16-512 B, free a random slot and
 *                    allocate in it; after every 1000 steps a thread takes
 *                    a set that another thread handed on (yielding until
 *                    there is one) and hands its own on (9 sets, the extra
 *                    one filled by the main thread), so most frees are of
 *                    blocks another thread allocated (bench_run.xfrees
 *                    counts them); 4M steps in all
 *   thread-churn     short-lived threads: 1000 threads, started two at a
 *                    time (each pair joined before the next starts), each
 *                    churning 64 live blocks of 16-516 B for 2000 pairs on
 *                    the default heap; the time includes starting and
 *                    joining the threads (the same for every allocator),
 *                    so what differs is what a thread's first and last
 *                    calls cost (portheap: a thread's bias, lock.c)
 *   cache-scratch-N  Hoard's cache-scratch (passive false sharing): the main
 *                    thread allocates one 8-B object per thread back to
 *                    back; each thread frees the one it was given, then
 *                    allocates an 8-B object, writes it 1000 times (a byte
 *                    store and load each), frees it, 80k times in all split
 *                    across N = 2 or 8 threads.  An allocator that gives a
 *                    thread the block it freed (the neighbour of another
 *                    thread's) or one next to another thread's block makes
 *                    their writes fight over a cache line
 *
 * The clock starts when every thread has set up (bench_gate) and stops
 * when the last one has done its share; filling and freeing the sets are
 * not timed.  Every freed block's tag is checked.
 */
#include "config.h"

#include "bench.h"

#include <stdatomic.h>
#include <stdlib.h>

static bench_thread_t* start_or_die(const struct bench_allocator* a,
                                    void (*fn)(void*), void* arg) {
  bench_thread_t* t = bench_thread_start(fn, arg);
  if (t == NULL)
    bench_oom(a, "thread start", 0);
  return t;
}

/* What a worker thread reports, first in each worker's struct; written
 * once, at its end (the workers' structs share cache lines). */
struct worker_report {
  uint64_t end_ns; /* when its share was done */
  uint64_t cpu_ns; /* its CPU time for its share (hot-N; else 0) */
  double start_ns; /* hot-N: CPU its first BENCH_HOT_START pairs took
                      beyond the same pairs at its later rate (0: unknown) */
  uint64_t ops;    /* what it did of the workload's ops */
  uint64_t errors; /* tags found wrong */
  uint64_t xfrees; /* frees of a block another thread allocated */
};

/* Run n workers: fn on each of the n structs of `size` bytes at
 * `workers`, which start with their struct worker_report; the clock
 * starts when all have set up (gate) and the run lasts until the last one
 * is done; counts are their sums. */
static struct bench_run run_workers(const struct bench_allocator* a,
                                    struct bench_gate* gate,
                                    void (*fn)(void*), void* workers,
                                    size_t size, int n) {
  struct bench_run r = {0};
  bench_thread_t** t = calloc((size_t)n, sizeof *t);
  if (t == NULL)
    bench_oom(a, "thread setup", (size_t)n);
  for (int i = 0; i < n; i++)
    t[i] = start_or_die(a, fn, (char*)workers + (size_t)i * size);
  uint64_t start = bench_gate_open(gate, n);
  for (int i = 0; i < n; i++) {
    bench_thread_join(t[i]);
    const struct worker_report* w =
        (const struct worker_report*)((char*)workers + (size_t)i * size);
    double ns = (double)(w->end_ns - start);
    r.ns = ns > r.ns ? ns : r.ns;
    r.ops += w->ops;
    r.errors += w->errors;
    r.xfrees += w->xfrees;
    r.cpu_ns += (double)w->cpu_ns;
    r.start_ns += w->start_ns / n;
  }
  free(t);
  return r;
}

/* Block b of `size` tagged, or the end of the program if b is NULL. */
static void* tag_or_die(const struct bench_allocator* a, void* b,
                        size_t size, const char* where) {
  if (b == NULL)
    bench_oom(a, where, size);
  bench_tag_set(b);
  return b;
}

/* An allocated and tagged block of `size`, or the end of the program. */
static void* tagged(const struct bench_allocator* a, void* heap, size_t size,
                    const char* where) {
  return tag_or_die(a, a->alloc(heap, size), size, where);
}

/* ---- hot-N: a hot working set per thread, one default heap -------------- */

#define HOT_LIVE 256
#define HOT_FEW 32 /* hot-few: a block or so of each size alive */
#define HOT_SAME 100 /* hot-same: every block of this size */
#define HOT_MIN 16
#define HOT_MAX 516
#define HOT_PAIRS 4000000 /* over all threads */

/* A request size of HOT_MIN..HOT_MAX from random bits x (their low 32
 * bits; the high ones pick the slot); `same` if not 0. */
static inline size_t hot_size(uint64_t x, size_t same) {
  return same != 0 ? same
                   : HOT_MIN + bench_below(x << 32, HOT_MAX - HOT_MIN + 1);
}

struct hot_worker {
  struct worker_report out; /* first */
  const struct bench_allocator* a;
  struct bench_gate* gate;
  uint64_t seed;
  size_t pairs;
};

/* How a hot worker calls its allocator: through the heap API on the
 * default heap it took once (hot-N), or as a program writes its everyday
 * calls, default heap named at each (everyday, everyday-zero). */
enum hot_style { HOT_HEAP, HOT_EVERYDAY, HOT_EVERYDAY_ZERO };

/* A block of `size` in style st, tagged, or the end of the program. */
static inline __attribute__((always_inline)) void* hot_get(
    const struct bench_allocator* a, void* heap, enum hot_style st,
    size_t size, const char* where) {
  void* b = st == HOT_HEAP ? a->alloc(heap, size)
                           : a->everyday(size, st == HOT_EVERYDAY_ZERO);
  return tag_or_die(a, b, size, where);
}

static inline __attribute__((always_inline)) void hot_put(
    const struct bench_allocator* a, void* heap, enum hot_style st,
    void* block) {
  if (st == HOT_HEAP)
    a->release(heap, block);
  else
    a->everyday_free(block);
}

/* `pairs` pairs on the n_live blocks at `live`: free a random one,
 * allocate a random size (`same` if not 0) in its slot.  Returns the
 * tags found bad. */
static inline __attribute__((always_inline)) uint64_t hot_churn(
    const struct bench_allocator* a, void* heap, enum hot_style st,
    void** live, const size_t n_live, const size_t same, uint64_t* rng,
    size_t pairs) {
  uint64_t errors = 0;
  for (size_t n = 0; n < pairs; n++) {
    uint64_t x = bench_rand(rng);
    size_t slot = bench_below(x, n_live);
    errors += bench_tag_bad(live[slot], live[slot]);
    hot_put(a, heap, st, live[slot]);
    live[slot] = hot_get(a, heap, st, hot_size(x, same), "hot churn");
  }
  return errors;
}

/* What a thread's first BENCH_HOT_START pairs, timed from cpu_ns to
 * cpu_started, took beyond the same pairs at the rate of the rest, which
 * ended at cpu_end (0 if the thread did not do twice that many, or the
 * clock is unknown): caches cold after the fill and the other threads. */
static double start_extra(uint64_t cpu_ns, uint64_t cpu_started,
                          uint64_t cpu_end, size_t pairs) {
  if (cpu_ns == 0 || cpu_started < cpu_ns || cpu_end < cpu_started ||
      pairs < 2 * BENCH_HOT_START)
    return 0;
  double rest =
      (double)(cpu_end - cpu_started) / (double)(pairs - BENCH_HOT_START);
  return (double)(cpu_started - cpu_ns) - rest * BENCH_HOT_START;
}

/* A hot worker with `n` blocks alive, of `same` bytes each if not 0:
 * inlined into one function per n, size and style, so that the timed
 * loop picks a slot by a constant, as it did before hot-few (a variable
 * n made every allocator's hot-1 0.2-0.3 ns slower). */
static inline __attribute__((always_inline)) void hot_work(
    struct hot_worker* w, const size_t n_live, const size_t same,
    const enum hot_style st) {
  const struct bench_allocator* a = w->a;
  void* heap = a->heap_default();
  void* live[HOT_LIVE];
  uint64_t rng = w->seed, errors = 0;
  for (size_t i = 0; i < n_live; i++) {
    size_t size = bench_between(&rng, HOT_MIN, HOT_MAX);
    live[i] = hot_get(a, heap, st, same != 0 ? same : size, "hot fill");
  }
  bench_gate_wait(w->gate);
  uint64_t cpu_ns = bench_thread_cpu_ns();
  size_t start = w->pairs < BENCH_HOT_START ? w->pairs : BENCH_HOT_START;
  errors += hot_churn(a, heap, st, live, n_live, same, &rng, start);
  uint64_t cpu_started = bench_thread_cpu_ns();
  errors +=
      hot_churn(a, heap, st, live, n_live, same, &rng, w->pairs - start);
  uint64_t end_ns = bench_now_ns();
  uint64_t cpu_end = bench_thread_cpu_ns();

  for (size_t i = 0; i < n_live; i++) {
    errors += bench_tag_bad(live[i], live[i]);
    hot_put(a, heap, st, live[i]);
  }
  w->out = (struct worker_report){
      .end_ns = end_ns,
      .cpu_ns = cpu_ns != 0 && cpu_end > cpu_ns ? cpu_end - cpu_ns : 0,
      .start_ns = start_extra(cpu_ns, cpu_started, cpu_end, w->pairs),
      .ops = w->pairs,
      .errors = errors};
}

static void hot_main(void* arg) {
  hot_work(arg, HOT_LIVE, 0, HOT_HEAP);
}

static void hot_few_main(void* arg) {
  hot_work(arg, HOT_FEW, 0, HOT_HEAP);
}

static void hot_same_main(void* arg) {
  hot_work(arg, HOT_LIVE, HOT_SAME, HOT_HEAP);
}

static void everyday_main(void* arg) {
  hot_work(arg, HOT_LIVE, 0, HOT_EVERYDAY);
}

static void everyday_zero_main(void* arg) {
  hot_work(arg, HOT_LIVE, 0, HOT_EVERYDAY_ZERO);
}

static struct bench_run hot_run(const struct bench_allocator* a,
                                const struct bench_params* p,
                                void (*fn)(void*)) {
  int threads = p->threads;
  struct bench_gate gate = {0};
  struct hot_worker* w = calloc((size_t)threads, sizeof *w);
  if (w == NULL)
    bench_oom(a, "hot setup", (size_t)threads);
  size_t pairs = bench_scaled(p, HOT_PAIRS) / (size_t)threads;
  for (int i = 0; i < threads; i++)
    w[i] = (struct hot_worker){.a = a,
                               .gate = &gate,
                               .seed = p->seed + 1000 * (uint64_t)i,
                               .pairs = pairs};
  struct bench_run r = run_workers(a, &gate, fn, w, sizeof *w, threads);
  free(w);
  return r;
}

struct bench_run bench_hot(const struct bench_allocator* a,
                           const struct bench_params* p) {
  return hot_run(a, p, hot_main);
}

struct bench_run bench_hot_few(const struct bench_allocator* a,
                               const struct bench_params* p) {
  return hot_run(a, p, hot_few_main);
}

struct bench_run bench_hot_same(const struct bench_allocator* a,
                                const struct bench_params* p) {
  return hot_run(a, p, hot_same_main);
}

struct bench_run bench_everyday(const struct bench_allocator* a,
                                const struct bench_params* p) {
  return hot_run(a, p, everyday_main);
}

struct bench_run bench_everyday_zero(const struct bench_allocator* a,
                                     const struct bench_params* p) {
  return hot_run(a, p, everyday_zero_main);
}

/* ---- thread-churn: short-lived threads, two at a time ------------------- */

#define CHURN_THREADS 1000
#define CHURN_PAIRS 2000
#define CHURN_LIVE 64

struct churn_worker {
  struct worker_report out; /* first */
  const struct bench_allocator* a;
  uint64_t seed;
};

static void churn_main(void* arg) {
  struct churn_worker* w = arg;
  const struct bench_allocator* a = w->a;
  void* heap = a->heap_default();
  void* live[CHURN_LIVE] = {0};
  uint64_t rng = w->seed, errors = 0;
  for (size_t n = 0; n < CHURN_PAIRS; n++) {
    uint64_t x = bench_rand(&rng);
    size_t slot = bench_below(x, CHURN_LIVE);
    if (live[slot] != NULL) {
      errors += bench_tag_bad(live[slot], live[slot]);
      a->release(heap, live[slot]);
    }
    live[slot] = tagged(a, heap, hot_size(x, 0), "thread churn");
  }
  for (size_t i = 0; i < CHURN_LIVE; i++)
    if (live[i] != NULL) {
      errors += bench_tag_bad(live[i], live[i]);
      a->release(heap, live[i]);
    }
  w->out = (struct worker_report){.ops = CHURN_PAIRS, .errors = errors};
}

struct bench_run bench_thread_churn(const struct bench_allocator* a,
                                    const struct bench_params* p) {
  size_t threads = (bench_scaled(p, CHURN_THREADS) + 1) / 2 * 2;
  struct bench_run r = {0};
  uint64_t start = bench_now_ns();
  for (size_t i = 0; i < threads; i += 2) {
    struct churn_worker w[2] = {
        {.a = a, .seed = p->seed + 1000 * (uint64_t)i},
        {.a = a, .seed = p->seed + 1000 * (uint64_t)i + 1}};
    bench_thread_t* t0 = start_or_die(a, churn_main, &w[0]);
    bench_thread_t* t1 = start_or_die(a, churn_main, &w[1]);
    bench_thread_join(t0);
    bench_thread_join(t1);
    for (int k = 0; k < 2; k++) {
      r.ops += w[k].out.ops;
      r.errors += w[k].out.errors;
    }
  }
  r.ns = (double)(bench_now_ns() - start);
  return r;
}

/* ---- larson: sets of blocks passed from thread to thread ---------------- */

#define LARSON_THREADS 8
#define LARSON_SETS (LARSON_THREADS + 1) /* one more, the main thread's */
#define LARSON_LIVE 1000
#define LARSON_MIN 16
#define LARSON_MAX 512
#define LARSON_ROUND 1000    /* steps between two hand-overs */
#define LARSON_STEPS 4000000 /* over all threads */

struct larson_set {
  void* block[LARSON_LIVE];
  uint8_t owner[LARSON_LIVE]; /* who allocated it: a worker's id, or the
                                 main thread's (LARSON_THREADS) */
  _Atomic uint8_t holder;     /* who handed it on last */
};

/* The sets handed on and not taken yet sit in `pool`, a slot each: there
 * is always a free slot for a set handed on, as one is held by the thread
 * handing it on. */
struct larson {
  const struct bench_allocator* a;
  struct bench_gate gate;
  _Atomic(struct larson_set*) pool[LARSON_SETS];
  atomic_int running; /* workers still in their rounds */
  size_t rounds;      /* per thread */
};

struct larson_worker {
  struct worker_report out; /* first */
  struct larson* l;
  uint8_t id;
  uint64_t seed;
};

static struct larson_set* larson_fill(const struct bench_allocator* a,
                                      void* heap, uint8_t id, uint64_t* rng) {
  struct larson_set* s = malloc(sizeof *s);
  if (s == NULL)
    bench_oom(a, "larson setup", sizeof *s);
  for (size_t i = 0; i < LARSON_LIVE; i++) {
    s->block[i] = tagged(a, heap, bench_between(rng, LARSON_MIN, LARSON_MAX),
                         "larson fill");
    s->owner[i] = id;
  }
  atomic_init(&s->holder, id);
  return s;
}

static uint64_t larson_empty(const struct bench_allocator* a, void* heap,
                             struct larson_set* s) {
  uint64_t errors = 0;
  for (size_t i = 0; i < LARSON_LIVE; i++) {
    errors += bench_tag_bad(s->block[i], s->block[i]);
    a->release(heap, s->block[i]);
  }
  free(s);
  return errors;
}

/* A set that another thread handed on, the next thread's first; waits
 * (yielding) until there is one, unless every other worker is done. */
static struct larson_set* larson_take(struct larson* l, uint8_t me) {
  for (;;) {
    bool alone = atomic_load(&l->running) == 1;
    for (size_t k = 1; k <= LARSON_SETS; k++) {
      size_t j = (me + k) % LARSON_SETS;
      struct larson_set* s =
          atomic_load_explicit(&l->pool[j], memory_order_acquire);
      /* holder may be stale if the set moved meanwhile: then the
       * exchange below fails */
      if (s != NULL &&
          (alone || atomic_load_explicit(&s->holder, memory_order_relaxed) !=
                        me) &&
          atomic_compare_exchange_strong_explicit(&l->pool[j], &s, NULL,
                                                  memory_order_acq_rel,
                                                  memory_order_relaxed))
        return s;
    }
    bench_yield();
  }
}

static void larson_hand_on(struct larson* l, struct larson_set* s,
                           uint8_t me) {
  atomic_store_explicit(&s->holder, me, memory_order_relaxed);
  for (size_t k = 0;; k++) {
    struct larson_set* empty = NULL;
    if (atomic_compare_exchange_strong_explicit(&l->pool[(me + k) %
                                                         LARSON_SETS],
                                                &empty, s,
                                                memory_order_acq_rel,
                                                memory_order_relaxed))
      return;
    if (k % LARSON_SETS == LARSON_SETS - 1)
      bench_yield(); /* the free slot was taken: another thread's turn */
  }
}

static void larson_main(void* arg) {
  struct larson_worker* w = arg;
  struct larson* l = w->l;
  const struct bench_allocator* a = l->a;
  void* heap = a->heap_default();
  uint64_t rng = w->seed, errors = 0, xfrees = 0;
  struct larson_set* s = larson_fill(a, heap, w->id, &rng);
  bench_gate_wait(&l->gate);

  for (size_t round = 0; round < l->rounds; round++) {
    if (round > 0) { /* take another thread's set, hand this one on */
      struct larson_set* next = larson_take(l, w->id);
      larson_hand_on(l, s, w->id);
      s = next;
    }
    for (size_t n = 0; n < LARSON_ROUND; n++) {
      uint64_t x = bench_rand(&rng);
      size_t slot = bench_below(x, LARSON_LIVE);
      size_t size =
          LARSON_MIN + bench_below(x << 32, LARSON_MAX - LARSON_MIN + 1);
      errors += bench_tag_bad(s->block[slot], s->block[slot]);
      xfrees += s->owner[slot] != w->id;
      a->release(heap, s->block[slot]);
      s->block[slot] = tagged(a, heap, size, "larson churn");
      s->owner[slot] = w->id;
    }
  }
  uint64_t end_ns = bench_now_ns();
  atomic_fetch_sub(&l->running, 1);

  w->out = (struct worker_report){.end_ns = end_ns,
                                  .ops = l->rounds * LARSON_ROUND,
                                  .errors = errors + larson_empty(a, heap, s),
                                  .xfrees = xfrees};
}

struct bench_run bench_larson(const struct bench_allocator* a,
                              const struct bench_params* p) {
  struct larson* l = calloc(1, sizeof *l);
  struct larson_worker w[LARSON_THREADS];
  if (l == NULL)
    bench_oom(a, "larson setup", sizeof *l);
  l->a = a;
  l->rounds = bench_scaled(p, LARSON_STEPS) / LARSON_THREADS / LARSON_ROUND;
  if (l->rounds == 0)
    l->rounds = 1;
  atomic_init(&l->running, LARSON_THREADS);
  for (size_t j = 0; j < LARSON_SETS; j++)
    atomic_init(&l->pool[j], NULL);
  uint64_t rng = p->seed + 999;
  void* heap = a->heap_default(); /* the main thread's */
  atomic_init(&l->pool[LARSON_THREADS],
              larson_fill(a, heap, LARSON_THREADS, &rng));
  for (int i = 0; i < LARSON_THREADS; i++)
    w[i] = (struct larson_worker){
        .l = l, .id = (uint8_t)i, .seed = p->seed + 1000 * (uint64_t)i};
  struct bench_run r =
      run_workers(a, &l->gate, larson_main, w, sizeof *w, LARSON_THREADS);
  for (size_t j = 0; j < LARSON_SETS; j++) {
    struct larson_set* s = atomic_load(&l->pool[j]);
    if (s != NULL)
      r.errors += larson_empty(a, heap, s);
  }
  free(l);
  return r;
}

/* ---- cache-scratch: passive false sharing -------------------------------- */

#define SCRATCH_SIZE 8
#define SCRATCH_WRITES 1000
#define SCRATCH_CYCLES 80000 /* over all threads */
#define SCRATCH_MAX_THREADS 8

struct scratch_worker {
  struct worker_report out; /* first */
  const struct bench_allocator* a;
  struct bench_gate* gate;
  void* given;     /* the main thread's block, freed first */
  size_t cycles;
  uintptr_t first;   /* out: the first object it allocated */
  uint64_t first_ns; /* out: when */
  unsigned sum;    /* out: what the loads read, so they stay */
};

static void scratch_main(void* arg) {
  struct scratch_worker* w = arg;
  const struct bench_allocator* a = w->a;
  void* heap = a->heap_default();
  uint64_t errors = 0;
  unsigned sum = 0;
  bench_gate_wait(w->gate);

  errors += bench_tag_bad(w->given, w->given);
  a->release(heap, w->given);
  for (size_t c = 0; c < w->cycles; c++) {
    void* b = a->alloc(heap, SCRATCH_SIZE);
    if (b == NULL)
      bench_oom(a, "cache-scratch", SCRATCH_SIZE);
    if (c == 0) {
      w->first = (uintptr_t)b;
      w->first_ns = bench_now_ns();
    }
    volatile unsigned char* v = b;
    for (unsigned j = 0; j < SCRATCH_WRITES; j++) {
      v[j % SCRATCH_SIZE] = (unsigned char)j;
      sum += v[j % SCRATCH_SIZE];
    }
    bench_tag_set(b); /* the last write: the whole object */
    errors += bench_tag_bad(b, b);
    a->release(heap, b);
  }
  w->out = (struct worker_report){.end_ns = bench_now_ns(),
                                  .ops = w->cycles,
                                  .errors = errors,
                                  .xfrees = 1}; /* the given block */
  w->sum = sum;
}

struct bench_run bench_cache_scratch(const struct bench_allocator* a,
                                     const struct bench_params* p) {
  int threads = p->threads;
  if (threads > SCRATCH_MAX_THREADS)
    threads = SCRATCH_MAX_THREADS;
  struct bench_gate gate = {0};
  struct scratch_worker w[SCRATCH_MAX_THREADS];
  void* heap = a->heap_default(); /* the main thread's */
  for (int i = 0; i < threads; i++) /* back to back: neighbours in a line */
    w[i] = (struct scratch_worker){
        .a = a,
        .gate = &gate,
        .given = tagged(a, heap, SCRATCH_SIZE, "cache-scratch setup"),
        .cycles = bench_scaled(p, SCRATCH_CYCLES) / (size_t)threads};
  struct bench_run r =
      run_workers(a, &gate, scratch_main, w, sizeof *w, threads);
  /* Threads whose first object was in the line of the first object of a
   * thread that ran at the same time (each usually gets the same block
   * back at every cycle). */
  int sharing = 0;
  for (int i = 0; i < threads; i++)
    for (int j = 0; j < threads; j++)
      if (j != i && w[i].first / 64 == w[j].first / 64 &&
          w[i].first_ns < w[j].out.end_ns && w[j].first_ns < w[i].out.end_ns) {
        sharing++;
        break;
      }
  r.shared = (double)sharing / threads;
  return r;
}

