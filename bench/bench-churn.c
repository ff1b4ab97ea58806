/*
 * bench-churn.c - one heap, one thread, steady state:
 *
 *   small-churn   10k live blocks of 8-512 B; each of 2M ops frees a
 *                 random live block and allocates a new one of a random
 *                 size in its slot (an alloc+free pair)
 *   medium-churn  the same with 1k live blocks of 1-64 KiB, 200k ops
 *   realloc       100 groups of 4 blocks grown together by doubling from
 *                 16 B to 1 MiB (so the newest is not always at the end of
 *                 the heap), the first and last byte written at each size
 *   realloc-lone  the lone growing buffer (a string builder, a vector): one
 *                 block alone in a fresh heap (glibc: plain malloc), doubled
 *                 from 16 B to 1 MiB, the tag and last byte written at each
 *                 size, then freed; 2000 rounds
 *
 * Only the steady-state loop is timed; filling and emptying are not (for
 * realloc-lone: the alloc, reallocs and free, not the heap's creation and
 * destruction).
 */
#include "config.h"

#include "bench.h"

#include <stdlib.h>

static struct bench_run churn(const struct bench_allocator* a,
                              const struct bench_params* p, size_t lo,
                              size_t hi, size_t live_count, size_t pairs) {
  struct bench_run r = {0};
  void* heap = a->heap_new(BENCH_PRIVATE);
  void** live = calloc(live_count, sizeof *live);
  if (heap == NULL || live == NULL)
    bench_oom(a, "churn setup", live_count);
  uint64_t rng = p->seed;
  for (size_t i = 0; i < live_count; i++) {
    size_t size = bench_between(&rng, lo, hi);
    live[i] = a->alloc(heap, size);
    if (live[i] == NULL)
      bench_oom(a, "churn fill", size);
    bench_tag_set(live[i]);
  }

  uint64_t start = bench_now_ns();
  for (size_t n = 0; n < pairs; n++) {
    uint64_t x = bench_rand(&rng);
    size_t slot = bench_below(x, live_count);
    size_t size = lo + bench_below(x << 32, hi - lo + 1);
    void* b = live[slot];
    r.errors += bench_tag_bad(b, b);
    a->release(heap, b);
    b = a->alloc(heap, size);
    if (b == NULL)
      bench_oom(a, "churn", size);
    bench_tag_set(b);
    live[slot] = b;
  }
  r.ns = (double)(bench_now_ns() - start);
  r.ops = pairs;

  for (size_t i = 0; i < live_count; i++)
    r.errors += bench_tag_bad(live[i], live[i]);
  bench_heap_drop(a, heap, live, live_count);
  free(live);
  return r;
}

struct bench_run bench_small_churn(const struct bench_allocator* a,
                                   const struct bench_params* p) {
  return churn(a, p, 8, 512, 10000, bench_scaled(p, 2000000));
}

struct bench_run bench_medium_churn(const struct bench_allocator* a,
                                    const struct bench_params* p) {
  return churn(a, p, 1024, 64 * 1024, 1000, bench_scaled(p, 200000));
}

#define GROW_AT_ONCE 4
#define GROW_FROM ((size_t)16)
#define GROW_TO ((size_t)1 << 20)

struct bench_run bench_realloc_growth(const struct bench_allocator* a,
                                      const struct bench_params* p) {
  struct bench_run r = {0};
  size_t groups = bench_scaled(p, 100);
  void* heap = a->heap_new(BENCH_PRIVATE);
  if (heap == NULL)
    bench_oom(a, "realloc setup", 0);
  void* b[GROW_AT_ONCE];

  uint64_t start = bench_now_ns();
  for (size_t g = 0; g < groups; g++) {
    for (int k = 0; k < GROW_AT_ONCE; k++) {
      b[k] = a->alloc(heap, GROW_FROM);
      if (b[k] == NULL)
        bench_oom(a, "realloc", GROW_FROM);
      bench_tag_set(b[k]);
    }
    for (size_t size = GROW_FROM * 2; size <= GROW_TO; size *= 2) {
      for (int k = 0; k < GROW_AT_ONCE; k++) {
        void* nb = a->resize(heap, b[k], size);
        if (nb == NULL)
          bench_oom(a, "realloc", size);
        r.errors += bench_tag_bad(nb, b[k]);
        bench_tag_set(nb);
        ((volatile char*)nb)[size - 1] = 1;
        b[k] = nb;
        r.ops++;
      }
    }
    for (int k = 0; k < GROW_AT_ONCE; k++)
      a->release(heap, b[k]);
  }
  r.ns = (double)(bench_now_ns() - start);
  a->heap_end(heap);
  return r;
}

/* One round of realloc-lone: alloc GROW_FROM, double to GROW_TO, free.
 * Returns the wall time in ns; adds the reallocs to r->ops. */
static uint64_t grow_lone(const struct bench_allocator* a, void* heap,
                          struct bench_run* r) {
  uint64_t start = bench_now_ns();
  void* b = a->alloc(heap, GROW_FROM);
  if (b == NULL)
    bench_oom(a, "realloc-lone", GROW_FROM);
  bench_tag_set(b);
  for (size_t size = GROW_FROM * 2; size <= GROW_TO; size *= 2) {
    void* nb = a->resize(heap, b, size);
    if (nb == NULL)
      bench_oom(a, "realloc-lone", size);
    r->errors += bench_tag_bad(nb, b);
    bench_tag_set(nb);
    ((volatile char*)nb)[size - 1] = 1;
    b = nb;
    r->ops++;
  }
  a->release(heap, b);
  return bench_now_ns() - start;
}

struct bench_run bench_realloc_lone(const struct bench_allocator* a,
                                    const struct bench_params* p) {
  struct bench_run r = {0};
  size_t rounds = bench_scaled(p, 2000);
  for (size_t n = 0; n < rounds; n++) {
    void* heap = a->heap_new(BENCH_PRIVATE);
    if (heap == NULL)
      bench_oom(a, "realloc-lone heap", 0);
    r.ns += (double)grow_lone(a, heap, &r);
    /* Destroy, not heap_end: mimalloc 2.0.9's mi_heap_delete hands the
     * empty pages to the default heap, which keeps them (1 MiB a round,
     * 10 GB resident over a full run). */
    bench_heap_drop(a, heap, NULL, 0);
  }
  return r;
}
