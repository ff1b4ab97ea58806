/*
 * bench-memory.c - resident memory given back to the system (issue
 * "memory goes back to the system").  Four cases, each measured in MiB of
 * resident memory above a baseline taken right before it (platform.c's
 * bench_rss: /proc/self/statm resident - shared on Linux,
 * GetProcessMemoryInfo on Windows):
 *
 *   destroy  fill a fresh heap with ~100 MiB of 32-256 B blocks, each
 *            written in full, then destroy the heap (glibc: free each)
 *   compact  fill, free every block, compact the live heap (ph_heap_compact,
 *            malloc_trim(0), mi_heap_collect(force), jemalloc tcache.flush
 *            and arena.<i>.purge)
 *   huge     one 100 MiB block, every page written, freed; the heap lives
 *   free     fill, free every block, nothing else; the heap lives
 *   apart    fill with 2-16 KiB blocks, free every other one (a fragmented
 *            heap: what decay gives back is the whole pages inside the
 *            freed blocks); the heap lives
 *
 * After the case the program stays 2 s, calling the allocator lightly (a
 * 64-B alloc+free every 1 ms, on the case's heap while it lives, else on
 * the process heap) and sampling resident memory every 100 ms.  The
 * figures: what is left at 2 s, and the first sample at or under the
 * case's goal.  The heap is destroyed after the 2 s; bench.c asks every
 * allocator to give back what it holds before each case, so what earlier
 * work left neither counts nor lends the case memory already resident.
 * Sizes do not shrink with --quick: the goals are absolute.
 */
#include "config.h"

#include "bench.h"

#include <stdlib.h>
#include <string.h>

#define MEM_FILL ((size_t)100 << 20) /* bytes asked for by the small blocks */
#define MEM_LO ((size_t)32)          /* small block sizes, bytes */
#define MEM_HI ((size_t)256)
#define MEM_APART_LO ((size_t)2 << 10) /* case apart's block sizes, bytes */
#define MEM_APART_HI ((size_t)16 << 10)
#define MEM_HUGE ((size_t)100 << 20) /* case huge's one block, bytes */
#define MEM_PAGE ((size_t)4096)      /* the huge block is written this often */
#define MEM_LIGHT ((size_t)64)       /* the light call's block, bytes */
#define MEM_WATCH_MS 2000u           /* how long after the case */
#define MEM_SAMPLE_MS 100u           /* resident memory read this often */
#define MIB (1024.0 * 1024.0)

const struct bench_memory_about bench_memory_cases[BENCH_MEM_CASES] = {
    [BENCH_MEM_DESTROY] = {"destroy", "fill ~100 MiB of 32-256 B, destroy "
                                      "(malloc: free each)", 16},
    [BENCH_MEM_COMPACT] = {"compact", "fill, free each, compact", 16},
    [BENCH_MEM_HUGE] = {"huge", "one 100 MiB block, written, freed", 16},
    [BENCH_MEM_FREE] = {"free", "fill, free each, no compaction", 32},
    [BENCH_MEM_APART] = {"apart", "fill ~100 MiB of 2-16 KiB, free every "
                                  "other one", 80},
};

/* Resident MiB above `base` (bytes). */
static double mib_above(size_t base) {
  return ((double)bench_rss() - (double)base) / MIB;
}

/* How many blocks of lo..hi bytes the seed draws before asking for
 * MEM_FILL. */
static size_t fill_count(uint64_t seed, size_t lo, size_t hi) {
  size_t count = 0;
  for (size_t asked = 0; asked < MEM_FILL; count++)
    asked += bench_between(&seed, lo, hi);
  return count;
}

static void fill(const struct bench_allocator* a, void* heap, void** blocks,
                 size_t count, uint64_t seed, size_t lo, size_t hi) {
  for (size_t i = 0; i < count; i++) {
    size_t size = bench_between(&seed, lo, hi);
    blocks[i] = a->alloc(heap, size);
    if (blocks[i] == NULL)
      bench_oom(a, "memory fill", size);
    memset(blocks[i], 0x5A, size);
    bench_tag_set(blocks[i]);
  }
}

/* How many of the blocks (NULL: freed) have a wrong tag. */
static uint64_t tags_bad(void** blocks, size_t count) {
  uint64_t errors = 0;
  for (size_t i = 0; i < count; i++)
    errors += blocks[i] != NULL && bench_tag_bad(blocks[i], blocks[i]);
  return errors;
}

/* Case huge's block: allocated, every page written, freed. */
static uint64_t huge(const struct bench_allocator* a, void* heap,
                     struct bench_memory* m, size_t base) {
  char* b = a->alloc(heap, MEM_HUGE);
  if (b == NULL)
    bench_oom(a, "memory huge", MEM_HUGE);
  bench_tag_set(b);
  for (size_t at = MEM_PAGE; at < MEM_HUGE; at += MEM_PAGE)
    ((volatile char*)b)[at] = 1;
  ((volatile char*)b)[MEM_HUGE - 1] = 1;
  m->filled_mib = mib_above(base);
  uint64_t errors = bench_tag_bad(b, b);
  a->release(heap, b);
  return errors;
}

/* A program that keeps running: one small alloc+free. */
static void light_call(const struct bench_allocator* a, void* heap) {
  void* b = a->alloc(heap, MEM_LIGHT);
  if (b == NULL)
    bench_oom(a, "memory light call", MEM_LIGHT);
  bench_tag_set(b);
  a->release(heap, b);
}

/* MEM_WATCH_MS of light calls every 1 ms on `heap`, resident memory read
 * every MEM_SAMPLE_MS (the first at once): fills left_mib, under_ms and
 * longest_ms. */
static void watch(const struct bench_allocator* a, void* heap, size_t base,
                  double goal_mib, struct bench_memory* m) {
  uint64_t start = bench_now_ns(), longest = 0;
  m->under_ms = -1;
  for (unsigned ms = 0; ms <= MEM_WATCH_MS; ms += MEM_SAMPLE_MS) {
    while (bench_now_ns() - start < (uint64_t)ms * 1000000u) {
      uint64_t t = bench_now_ns();
      light_call(a, heap);
      t = bench_now_ns() - t;
      longest = t > longest ? t : longest;
      m->longest_ms = (double)longest / 1e6;
      bench_sleep_ms(1);
    }
    m->left_mib = mib_above(base);
    if (m->under_ms < 0 && m->left_mib <= goal_mib)
      m->under_ms = ms;
  }
}

struct bench_memory bench_memory(const struct bench_allocator* a,
                                 enum bench_memory_case c,
                                 const struct bench_params* p) {
  struct bench_memory m = {0};
  bool apart = c == BENCH_MEM_APART;
  size_t lo = apart ? MEM_APART_LO : MEM_LO, hi = apart ? MEM_APART_HI : MEM_HI;
  size_t count = c == BENCH_MEM_HUGE ? 0 : fill_count(p->seed, lo, hi);
  void** blocks = malloc((count + 1) * sizeof *blocks);
  if (blocks == NULL)
    bench_oom(a, "memory setup", count);
  memset(blocks, 0xFF, (count + 1) * sizeof *blocks); /* resident now */
  size_t base = bench_rss();

  void* heap = a->heap_new(BENCH_PRIVATE);
  if (heap == NULL)
    bench_oom(a, "memory heap", 0);
  if (c == BENCH_MEM_HUGE) {
    m.errors += huge(a, heap, &m, base);
  } else {
    fill(a, heap, blocks, count, p->seed, lo, hi);
    m.filled_mib = mib_above(base);
    m.errors += tags_bad(blocks, count);
  }
  if (c == BENCH_MEM_DESTROY) {
    bench_heap_drop(a, heap, blocks, count);
    heap = NULL;
  } else {
    for (size_t i = apart ? 1 : 0; i < count; i += apart ? 2 : 1) {
      a->release(heap, blocks[i]);
      blocks[i] = NULL;
    }
  }
  if (c == BENCH_MEM_COMPACT)
    a->heap_compact(heap);

  watch(a, heap != NULL ? heap : a->heap_default(), base,
        bench_memory_cases[c].goal_mib, &m);
  if (heap != NULL) { /* end it in one call, or freeing what is left */
    m.errors += apart ? tags_bad(blocks, count) : 0;
    bench_heap_drop(a, heap, blocks, count);
  }
  free(blocks);
  return m;
}
