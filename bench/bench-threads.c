/*
 * bench-threads.c - two threads:
 *
 *   threads-shared  both threads churn (1k live blocks each, 8-512 B,
 *                   500k pairs each) on ONE heap: ph's serialized heap,
 *                   one je arena without tcache; mi n/a (its heaps are
 *                   thread-bound); glibc is plain malloc/free from both
 *   threads-each    the same, each thread on a heap of its own
 *   threads-alone   the work of threads-shared done by ONE thread: both
 *                   live sets on one heap, their pairs interleaved (the
 *                   baseline of "two threads are not slower than one")
 *   prod-cons       one thread allocates 2000 batches of 256 blocks
 *                   (32-512 B), the other frees them: every free is
 *                   cross-thread, and cross-CPU: the two threads are
 *                   pinned to two CPUs where there are two (Linux)
 *
 * ns/op is wall time over the operations of both threads together (lower
 * is more throughput).  The clock starts when both threads have filled
 * their blocks and stops when the last one is done.
 */
#include "config.h"

#include "bench.h"

#include <stdatomic.h>
#include <stdlib.h>

#define LIVE 1000

/* ---- churn on one shared heap or a heap each ---------------------------- */

struct worker {
  const struct bench_allocator* a;
  struct bench_gate* gate;
  void* shared;     /* the heap of both threads, or NULL: one each */
  uint64_t seed;
  size_t pairs;
  uint64_t end_ns;  /* out */
  uint64_t errors;  /* out */
};

/* LIVE blocks of 8-512 B from heap, in a new array. */
static void** live_fill(const struct bench_allocator* a, void* heap,
                        uint64_t* rng) {
  void** live = calloc(LIVE, sizeof *live);
  if (heap == NULL || live == NULL)
    bench_oom(a, "thread setup", LIVE);
  for (size_t i = 0; i < LIVE; i++) {
    live[i] = a->alloc(heap, bench_between(rng, 8, 512));
    if (live[i] == NULL)
      bench_oom(a, "thread fill", 512);
    bench_tag_set(live[i]);
  }
  return live;
}

/* One pair: free a random live block, allocate 8-512 B in its slot.
 * Returns 1 if the freed block's tag was wrong. */
static unsigned live_pair(const struct bench_allocator* a, void* heap,
                          void** live, uint64_t* rng) {
  uint64_t x = bench_rand(rng);
  size_t slot = bench_below(x, LIVE);
  size_t size = 8 + bench_below(x << 32, 512 - 8 + 1);
  unsigned bad = bench_tag_bad(live[slot], live[slot]);
  a->release(heap, live[slot]);
  live[slot] = a->alloc(heap, size);
  if (live[slot] == NULL)
    bench_oom(a, "thread churn", size);
  bench_tag_set(live[slot]);
  return bad;
}

static void worker_main(void* arg) {
  struct worker* w = arg;
  const struct bench_allocator* a = w->a;
  void* heap = w->shared != NULL ? w->shared : a->heap_new(BENCH_PRIVATE);
  uint64_t rng = w->seed;
  void** live = live_fill(a, heap, &rng);
  bench_gate_wait(w->gate);
  for (size_t n = 0; n < w->pairs; n++)
    w->errors += live_pair(a, heap, live, &rng);
  w->end_ns = bench_now_ns();

  if (w->shared != NULL) {
    for (size_t i = 0; i < LIVE; i++)
      a->release(heap, live[i]);
  } else {
    bench_heap_drop(a, heap, live, LIVE);
  }
  free(live);
}

static struct bench_run two_threads(const struct bench_allocator* a,
                                    const struct bench_params* p,
                                    bool shared) {
  struct bench_run r = {0};
  void* heap = NULL;
  if (shared) {
    heap = a->heap_new(BENCH_SHARED);
    if (heap == NULL)
      return (struct bench_run){.na = true};
  }
  struct bench_gate gate = {0};
  struct worker w[2];
  bench_thread_t* t[2];
  for (int i = 0; i < 2; i++) {
    w[i] = (struct worker){a, &gate, heap, p->seed + (uint64_t)i,
                           bench_scaled(p, 500000), 0, 0};
    t[i] = bench_thread_start(worker_main, &w[i]);
    if (t[i] == NULL)
      bench_oom(a, "thread start", 0);
  }
  uint64_t start = bench_gate_open(&gate, 2);
  for (int i = 0; i < 2; i++) {
    bench_thread_join(t[i]);
    uint64_t ns = w[i].end_ns - start;
    r.ns = (double)ns > r.ns ? (double)ns : r.ns;
    r.ops += w[i].pairs;
    r.errors += w[i].errors;
  }
  if (shared)
    a->heap_end(heap);
  return r;
}

struct bench_run bench_threads_shared(const struct bench_allocator* a,
                                      const struct bench_params* p) {
  return two_threads(a, p, true);
}

struct bench_run bench_threads_each(const struct bench_allocator* a,
                                    const struct bench_params* p) {
  return two_threads(a, p, false);
}

struct bench_run bench_threads_alone(const struct bench_allocator* a,
                                     const struct bench_params* p) {
  struct bench_run r = {0};
  void* heap = a->heap_new(BENCH_SHARED);
  if (heap == NULL)
    return (struct bench_run){.na = true};
  uint64_t rng[2] = {p->seed, p->seed + 1}; /* the two workers' seeds */
  void** live[2] = {live_fill(a, heap, &rng[0]), live_fill(a, heap, &rng[1])};
  size_t pairs = bench_scaled(p, 500000);
  uint64_t start = bench_now_ns();
  for (size_t n = 0; n < pairs; n++)
    for (int k = 0; k < 2; k++)
      r.errors += live_pair(a, heap, live[k], &rng[k]);
  r.ns = (double)(bench_now_ns() - start);
  r.ops = 2 * pairs;
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < LIVE; i++)
      a->release(heap, live[k][i]);
    free(live[k]);
  }
  a->heap_end(heap);
  return r;
}

/* ---- producer and consumer -------------------------------------------------- */

/* The producer runs on the first CPU bench_pin takes turns on, the
 * consumer on the second.  Left to the scheduler, the two shared one CPU
 * in some runs and not in others, and each allocator has two speeds for
 * it: on one CPU (taskset -c 0) portheap 43 ns a block, glibc 44-45,
 * mimalloc 21; with two allowed, 153-156, 52 or 559, 157-160; pinned
 * apart, 146-149, 590-626, 156-159 (session 24).  Unpinned, a ratio read
 * which runs the scheduler had put on one CPU. */
#define PC_PRODUCER_CPU 0
#define PC_CONSUMER_CPU 1

#define BATCH 256
#define SLOTS 16 /* batches in flight */

struct pc {
  const struct bench_allocator* a;
  struct bench_gate gate;
  _Atomic(void*) heap;    /* made by the producer (mi heaps are bound) */
  size_t batches;
  atomic_size_t produced; /* batches published */
  atomic_size_t consumed; /* batches freed */
  uint64_t seed;
  uint64_t end_ns;        /* consumer done */
  uint64_t errors;
  void* slot[SLOTS][BATCH];
};

static void producer_main(void* arg) {
  struct pc* pc = arg;
  const struct bench_allocator* a = pc->a;
  bench_pin(PC_PRODUCER_CPU);
  void* heap = a->heap_new(BENCH_XFREE);
  if (heap == NULL)
    bench_oom(a, "producer heap", 0);
  atomic_store(&pc->heap, heap);
  uint64_t rng = pc->seed;
  bench_gate_wait(&pc->gate);

  for (size_t b = 0; b < pc->batches; b++) {
    while (b - atomic_load_explicit(&pc->consumed, memory_order_acquire) >=
           SLOTS)
      bench_yield();
    void** batch = pc->slot[b % SLOTS];
    for (size_t i = 0; i < BATCH; i++) {
      size_t size = bench_between(&rng, 32, 512);
      batch[i] = a->alloc(heap, size);
      if (batch[i] == NULL)
        bench_oom(a, "producer", size);
      bench_tag_set(batch[i]);
    }
    atomic_store_explicit(&pc->produced, b + 1, memory_order_release);
  }
  /* The heap ends in the thread that made it, once every block is back. */
  while (atomic_load(&pc->consumed) < pc->batches)
    bench_yield();
  a->heap_end(heap);
}

static void consumer_main(void* arg) {
  struct pc* pc = arg;
  const struct bench_allocator* a = pc->a;
  bench_pin(PC_CONSUMER_CPU);
  bench_gate_wait(&pc->gate);
  void* heap = atomic_load(&pc->heap);
  for (size_t b = 0; b < pc->batches; b++) {
    while (atomic_load_explicit(&pc->produced, memory_order_acquire) <= b)
      bench_yield();
    void** batch = pc->slot[b % SLOTS];
    for (size_t i = 0; i < BATCH; i++) {
      pc->errors += bench_tag_bad(batch[i], batch[i]);
      a->release(heap, batch[i]);
    }
    atomic_store_explicit(&pc->consumed, b + 1, memory_order_release);
  }
  pc->end_ns = bench_now_ns();
}

struct bench_run bench_producer_consumer(const struct bench_allocator* a,
                                         const struct bench_params* p) {
  struct pc* pc = calloc(1, sizeof *pc);
  if (pc == NULL)
    bench_oom(a, "prod-cons setup", sizeof *pc);
  pc->a = a;
  pc->batches = bench_scaled(p, 2000);
  pc->seed = p->seed;
  bench_thread_t* producer = bench_thread_start(producer_main, pc);
  bench_thread_t* consumer = bench_thread_start(consumer_main, pc);
  if (producer == NULL || consumer == NULL)
    bench_oom(a, "thread start", 0);
  uint64_t start = bench_gate_open(&pc->gate, 2);
  bench_thread_join(consumer);
  bench_thread_join(producer);
  struct bench_run r = {.ns = (double)(pc->end_ns - start),
                        .ops = pc->batches * BATCH,
                        .errors = pc->errors};
  free(pc);
  return r;
}
