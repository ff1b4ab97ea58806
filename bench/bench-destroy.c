/*
 * bench-destroy.c - heaps that end all at once:
 *
 *   destroy          fill a heap with 1M blocks of 32-128 B (not timed),
 *                    then time only its end: one destroy call for ph, mi
 *                    and je; glibc frees each block, in allocation order
 *   destroy-nocache  the same for ph with the region cache off
 *                    (ph_region_cache_limit(0), restored afterwards);
 *                    glibc again as the baseline, mi and je n/a
 *   per-request      10 x (create a heap, fill it with 200k blocks of
 *                    32-128 B, destroy it), all timed: ns per block
 */
#include "config.h"

#include "bench.h"

#include <stdlib.h>

/* Fill a new heap with `count` blocks of 32-128 B into `blocks`. */
static void* fill(const struct bench_allocator* a, uint64_t* rng,
                  void** blocks, size_t count) {
  void* heap = a->heap_new(BENCH_PRIVATE);
  if (heap == NULL)
    bench_oom(a, "heap_new", 0);
  for (size_t i = 0; i < count; i++) {
    size_t size = bench_between(rng, 32, 128);
    blocks[i] = a->alloc(heap, size);
    if (blocks[i] == NULL)
      bench_oom(a, "fill", size);
    bench_tag_set(blocks[i]);
  }
  return heap;
}

struct bench_run bench_destroy(const struct bench_allocator* a,
                               const struct bench_params* p) {
  struct bench_run r = {0};
  size_t count = bench_scaled(p, 1000000);
  void** blocks = malloc(count * sizeof *blocks);
  if (blocks == NULL)
    bench_oom(a, "destroy setup", count);
  uint64_t rng = p->seed;
  void* heap = fill(a, &rng, blocks, count);
  for (size_t i = 0; i < count; i += 97)
    r.errors += bench_tag_bad(blocks[i], blocks[i]);

  uint64_t start = bench_now_ns();
  bench_heap_drop(a, heap, blocks, count);
  r.ns = (double)(bench_now_ns() - start);
  r.ops = count;
  free(blocks);
  return r;
}

struct bench_run bench_destroy_nocache(const struct bench_allocator* a,
                                       const struct bench_params* p) {
  if (a->cache_limit == NULL && a->heap_destroy != NULL)
    return (struct bench_run){.na = true};
  if (a->cache_limit == NULL)
    return bench_destroy(a, p); /* the block-by-block baseline */
  size_t limit = a->cache_limit(0);
  struct bench_run r = bench_destroy(a, p);
  a->cache_limit(limit);
  return r;
}

struct bench_run bench_per_request(const struct bench_allocator* a,
                                   const struct bench_params* p) {
  struct bench_run r = {0};
  const size_t cycles = 10;
  size_t count = bench_scaled(p, 200000);
  void** blocks = malloc(count * sizeof *blocks);
  if (blocks == NULL)
    bench_oom(a, "per-request setup", count);
  uint64_t rng = p->seed;

  uint64_t start = bench_now_ns();
  for (size_t c = 0; c < cycles; c++) {
    void* heap = fill(a, &rng, blocks, count);
    bench_heap_drop(a, heap, blocks, count);
  }
  r.ns = (double)(bench_now_ns() - start);
  r.ops = cycles * count;
  free(blocks);
  return r;
}
