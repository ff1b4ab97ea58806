/*
 * bench-overhead.c - memory per block: 1M live blocks on a fresh heap,
 * resident bytes before and after (platform.c: /proc/self/statm on Linux,
 * GetProcessMemoryInfo on Windows), divided by the block count.  For ph
 * also ph_heap_summary's cbCommitted per block.  Two runs:
 *   overhead         blocks of 32 B
 *   overhead-spread  blocks of 1-512 B, sizes spread evenly (seeded): what
 *                    headers and rounding cost on a mix (a block's
 *                    overhead is resident bytes less its requested size)
 *
 * Memory an allocator kept from earlier work would hide the cost, so
 * bench.c runs this once per allocator, before any other workload, after
 * asking every allocator to give back what it holds (trim).
 */
#include "config.h"

#include "bench.h"

#include <stdlib.h>
#include <string.h>

static struct bench_run overhead_of(const struct bench_allocator* a,
                                    const struct bench_params* p, size_t lo,
                                    size_t hi) {
  struct bench_run r = {0};
  uint64_t rng = p->seed;
  uint64_t payload = 0;
  size_t count = bench_scaled(p, 1000000);
  void** blocks = malloc(count * sizeof *blocks);
  if (blocks == NULL)
    bench_oom(a, "overhead setup", count);
  memset(blocks, 0xFF, count * sizeof *blocks); /* resident before start */
  a->trim();
  size_t before = bench_rss();

  uint64_t start = bench_now_ns();
  void* heap = a->heap_new(BENCH_PRIVATE);
  if (heap == NULL)
    bench_oom(a, "overhead heap", 0);
  for (size_t i = 0; i < count; i++) {
    size_t size = lo == hi ? lo : bench_between(&rng, lo, hi);
    blocks[i] = a->alloc(heap, size);
    if (blocks[i] == NULL)
      bench_oom(a, "overhead", size);
    memset(blocks[i], 0x5A, size);
    payload += size;
  }
  r.ns = (double)(bench_now_ns() - start);
  r.ops = count;
  r.payload = (double)payload / (double)count;

  size_t after = bench_rss();
  if (before != 0 && after > before)
    r.resident = (double)(after - before) / (double)count;
  /* Wine 8's HeapSummary is an unimplemented stub that ends the process
   * (docs/semantics.md, HeapSummary), so the native backend is not asked
   * there. */
  if (a->id == BENCH_PH &&
      (strcmp(ph_backend(), "emul") == 0 || !bench_on_wine())) {
    ph_heap_summary_t s = {.cb = sizeof s};
    if (ph_heap_summary(heap, 0, &s))
      r.committed = (double)s.cbCommitted / (double)count;
  }
  bench_heap_drop(a, heap, blocks, count);
  a->trim();
  free(blocks);
  return r;
}

struct bench_run bench_overhead(const struct bench_allocator* a,
                                const struct bench_params* p) {
  return overhead_of(a, p, 32, 32);
}

struct bench_run bench_overhead_spread(const struct bench_allocator* a,
                                       const struct bench_params* p) {
  return overhead_of(a, p, 1, 512);
}
