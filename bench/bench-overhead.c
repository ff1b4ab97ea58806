/*
 * bench-overhead.c - memory per block: 1M live blocks of 32 B on a fresh
 * heap, resident bytes before and after (platform.c: /proc/self/statm on
 * Linux, GetProcessMemoryInfo on Windows), divided by the block count.
 * For ph also ph_heap_summary's cbCommitted per block.
 *
 * Memory an allocator kept from earlier work would hide the cost, so
 * bench.c runs this once per allocator, before any other workload, after
 * asking every allocator to give back what it holds (trim).
 */
#include "config.h"

#include "bench.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK 32

struct bench_run bench_overhead(const struct bench_allocator* a,
                                const struct bench_params* p) {
  struct bench_run r = {0};
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
    blocks[i] = a->alloc(heap, BLOCK);
    if (blocks[i] == NULL)
      bench_oom(a, "overhead", BLOCK);
    memset(blocks[i], 0x5A, BLOCK);
  }
  r.ns = (double)(bench_now_ns() - start);
  r.ops = count;

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
