/*
 * test-memory.c - memory goes back to the system: what the process really
 * holds (the resident pages of the blocks' addresses, through mincore on
 * Linux), not only the heap's own bookkeeping.  Where the system cannot
 * say, the tests say so and check the bookkeeping alone.
 *
 * The engine has no thread: memory decays at later heap calls.  Each test
 * sets a short decay time (ph_decay_time) and keeps calling the heap
 * lightly until the pages are gone or 2 s have passed.
 */
#include "suites.h"

#include <stdatomic.h>
#include <string.h>

enum { SMALL_BLOCKS = 200000, SMALL_SIZE = 200 }; /* about 40 MB in all */

static void* small[SMALL_BLOCKS];

/* Fill heap h with SMALL_BLOCKS touched blocks of SMALL_SIZE bytes. */
static void fill_small(HANDLE h) {
  for (int i = 0; i < SMALL_BLOCKS; i++) {
    small[i] = HeapAlloc(h, 0, SMALL_SIZE);
    ck_assert_ptr_nonnull(small[i]);
    memset(small[i], 0x3C, SMALL_SIZE);
  }
}

/* Resident bytes of the pages of the n blocks of `size` bytes at
 * blocks[] (alive or not); -1 where unknown. */
static long blocks_resident(void* const* blocks, int n, size_t size) {
  long sum = 0;
  const char* lo = NULL;
  const char* hi = NULL;
  for (int i = 0; i < n; i++) { /* runs of adjacent blocks */
    const char* p = blocks[i];
    if (lo != NULL && p >= lo && p <= hi + 4096) {
      if (p + size > hi)
        hi = p + size;
      continue;
    }
    if (lo != NULL) {
      long r = ph_test_resident_in(lo, (size_t)(hi - lo));
      if (r < 0)
        return -1;
      sum += r;
    }
    lo = p;
    hi = p + size;
  }
  long r = lo != NULL ? ph_test_resident_in(lo, (size_t)(hi - lo)) : 0;
  return r < 0 ? -1 : sum + r;
}

/* Resident bytes of the small blocks' pages; -1 where unknown. */
static long small_resident(void) {
  return blocks_resident(small, SMALL_BLOCKS, SMALL_SIZE);
}

/* Call heap h lightly (small allocs and frees, then a short sleep) until
 * resident() is at most `limit` bytes, or 2 s.  Returns what is left. */
static long light_calls_while(HANDLE h, long limit, long (*resident)(void)) {
  long left = resident();
  for (int ms = 0; ms < 2000 && left > limit; ms += 5) {
    for (int i = 0; i < 300; i++)
      HeapFree(h, 0, HeapAlloc(h, 0, 40));
    ph_test_sleep_ms(5);
    left = resident();
  }
  return left;
}

static long light_calls_until(HANDLE h, long limit) {
  return light_calls_while(h, limit, small_resident);
}

/* The bytes of a light call's block, unless a test says otherwise. */
enum { LIGHT_SIZE = 40 };

/* Light calls on heap h (pairs of `size` bytes) in steps of 100 pairs
 * (fewer frees than a tick takes, PH__TICK_FREES: one decay step a step at
 * most), resident(h) read after each, until at most `limit` bytes are
 * left or 4000 steps (4 s at least) have passed; `left` is what was
 * resident before.  Returns what is left; the most one step gave back
 * goes to *most, and, if `moves` is not NULL, how many times the
 * engine's clock moved on during that step's calls to *moves (a thread
 * compacts at most once a clock value: a slow machine's step may see
 * two, or more during one call: the clock's ticks are counted, not the
 * changes a step saw). */
static long light_steps_moves(HANDLE h, SIZE_T size, long limit,
                              long (*resident)(HANDLE), long left, long* most,
                              int* moves) {
  *most = 0;
  if (moves != NULL)
    *moves = 0;
  uint64_t tick = ph_test_clock_tick_ms();
  for (int step = 0; step < 4000 && left > limit; step++) {
    int moved = 0;
    uint64_t clock = ph_test_clock_ms();
    for (int i = 0; i < 100; i++) {
      HeapFree(h, 0, HeapAlloc(h, 0, size));
      uint64_t now = ph_test_clock_ms();
      moved += (int)((now - clock + tick - 1) / tick);
      clock = now;
    }
    long now = resident(h);
    if (left - now > *most) {
      *most = left - now;
      if (moves != NULL)
        *moves = moved;
    }
    left = now;
    ph_test_sleep_ms(1);
  }
  return left;
}

static long light_steps_while(HANDLE h, long limit, long (*resident)(HANDLE),
                              long left, long* most) {
  return light_steps_moves(h, LIGHT_SIZE, limit, resident, left, most, NULL);
}

static long small_resident_of(HANDLE h) {
  (void)h;
  return small_resident();
}

/* The big block of a_freed_large_block_is_not_the_next_heaps_floor. */
static unsigned char* big;
static SIZE_T big_size;

static long big_resident(void) {
  return ph_test_resident_in(big, big_size);
}

static uint32_t saved_decay;

static void short_decay(void) {
  saved_decay = ph_decay_time(50);
}

static void restore_decay(void) {
  ph_decay_time(saved_decay);
}

static bool resident_known(const char* test) {
  if (ph_test_resident_in(small, sizeof small[0]) >= 0)
    return true;
  printf("%s: resident pages not checked: no mincore here\n", test);
  return false;
}

/* A destroyed heap's regions wait in the cache, then go back to the OS
 * once nobody reused them for the decay time. */
START_TEST(a_destroyed_heaps_memory_decays) {
  HANDLE h = HeapCreate(0, 0, 0);
  fill_small(h);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  if (!resident_known("a_destroyed_heaps_memory_decays"))
    return;
  long left = light_calls_until(GetProcessHeap(), 1L << 20);
  ck_assert_int_le(left, 1L << 20);
}
END_TEST

/* The end of a test of freed blocks: heap h gives their pages back, to
 * `limit` bytes left within 2 s of light calls (where the system tells),
 * stays valid, and goes. */
static void expect_given_back(HANDLE h, long limit, const char* test) {
  if (resident_known(test)) {
    long left = light_calls_until(h, limit);
    ck_assert_int_le(left, limit);
  }
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}

/* Every block freed, no compaction: the quick lists hold the whole heap,
 * which nobody asks for; the heap compacts itself and gives it back. */
START_TEST(freed_blocks_nobody_reuses_go_back) {
  HANDLE h = HeapCreate(0, 0, 0);
  fill_small(h);
  for (int i = 0; i < SMALL_BLOCKS; i++)
    HeapFree(h, 0, small[i]);
  expect_given_back(h, 4L << 20, "freed_blocks_nobody_reuses_go_back");
}
END_TEST

/* The same freed at a steady pace: 20 slices, each followed by a pause
 * longer than the decay time, so that the heap decays between them (a
 * program that winds down; a slow machine or Valgrind makes one free loop
 * such a pace).  What is freed after the heap last compacted goes back
 * too: waiting for it to be a quarter of all the heap had committed kept
 * the last slices' pages (4 MB of these 40) for good.  On a heap made
 * with `options`. */
static void freed_at_a_steady_pace(DWORD options, const char* test) {
  enum { SLICES = 20 };
  HANDLE h = HeapCreate(options, 0, 0);
  ck_assert_ptr_nonnull(h);
  fill_small(h);
  for (int k = 0; k < SLICES; k++) {
    int end = (k + 1) * (SMALL_BLOCKS / SLICES);
    for (int i = k * (SMALL_BLOCKS / SLICES); i < end; i++)
      HeapFree(h, 0, small[i]);
    ph_test_sleep_ms(60); /* the decay time is 50 ms here */
  }
  expect_given_back(h, 1L << 20, test);
}

/* Runs (blocks of up to 520 bytes of a serialized growable heap): what
 * they gave back, which the heap does not reuse (its bins serve nothing;
 * the light calls take run slots). */
START_TEST(blocks_freed_at_a_steady_pace_go_back) {
  freed_at_a_steady_pace(0, "blocks_freed_at_a_steady_pace_go_back");
}
END_TEST

/* Quick lists (any block of a heap without runs, and blocks above 520
 * bytes of one with them): the list of these blocks serves nothing while
 * the light calls pop another one. */
START_TEST(blocks_of_a_no_serialize_heap_freed_at_a_steady_pace_go_back) {
  freed_at_a_steady_pace(
      HEAP_NO_SERIALIZE,
      "blocks_of_a_no_serialize_heap_freed_at_a_steady_pace_go_back");
}
END_TEST

/* A part of the small blocks (`count` from `first`), filled and freed by
 * one of `threads` threads that start together.  They first meet in the
 * heap, which then gives each thread a part of its own (docs/threads.md):
 * each allocates and frees a small block until one of them gets one
 * outside the heap's first region [lo, hi), from a part of its own, so
 * that what they fill lies in their own parts (all but the thread whose
 * part is the first).  If they do not meet within PROBES tries each,
 * `spread` stays 0.  None frees before all have filled: a thread that
 * exits early gives its part to the next that comes (lock.h), and two
 * threads' blocks would share pages. */
struct part_filler {
  HANDLE heap;
  int first, count, threads;
  uintptr_t lo, hi;
  atomic_int* started;
  atomic_int* spread;
  atomic_int* filled;
  atomic_int* failed;
};

enum { PROBES = 1000000 };

static void fill_and_free_part(void* arg) {
  struct part_filler* f = arg;
  atomic_fetch_add(f->started, 1);
  while (atomic_load(f->started) < f->threads)
    ph_test_yield();
  for (int i = 0; i < PROBES && !atomic_load(f->spread); i++) {
    void* p = HeapAlloc(f->heap, 0, 40);
    uintptr_t a = (uintptr_t)p;
    if (p != NULL && (a < f->lo || a >= f->hi))
      atomic_store(f->spread, 1);
    HeapFree(f->heap, 0, p);
  }
  int end = f->first + f->count;
  for (int i = f->first; i < end; i++) {
    small[i] = HeapAlloc(f->heap, 0, SMALL_SIZE);
    if (small[i] == NULL) {
      atomic_store(f->failed, 1);
      f->count = i - f->first; /* freed below */
      break;
    }
    memset(small[i], 0x3C, SMALL_SIZE);
  }
  end = f->first + f->count;
  atomic_fetch_add(f->filled, 1); /* none exits, its part taken over, */
  while (atomic_load(f->filled) < f->threads) /* before all have filled */
    ph_test_yield();
  for (int i = f->first; i < end; i++)
    HeapFree(f->heap, 0, small[i]);
}

enum { MAX_FILLERS = 8 };

/* Heap h's small blocks filled and freed by `n` threads (a part each),
 * which then exit.  Returns whether the heap gave them parts of their
 * own before they filled it. */
static bool fill_and_free_by_threads(HANDLE h, int n) {
  PROCESS_HEAP_ENTRY e = {0};
  ck_assert_int_ne(HeapWalk(h, &e), FALSE);
  ck_assert(e.wFlags & PROCESS_HEAP_REGION);
  atomic_int started = 0, spread = 0, filled = 0, failed = 0;
  struct part_filler f[MAX_FILLERS];
  ph_test_thread_t* t[MAX_FILLERS];
  for (int k = 0; k < n; k++) {
    f[k] = (struct part_filler){h,
                                k * (SMALL_BLOCKS / n),
                                SMALL_BLOCKS / n,
                                n,
                                (uintptr_t)e.Region.lpFirstBlock,
                                (uintptr_t)e.Region.lpLastBlock,
                                &started,
                                &spread,
                                &filled,
                                &failed};
    t[k] = ph_test_thread_start(fill_and_free_part, &f[k]);
  }
  for (int k = 0; k < n; k++)
    ph_test_thread_join(t[k]);
  ck_assert_int_eq(atomic_load(&failed), 0);
  return atomic_load(&spread) != 0;
}

/* Two threads fill and free a heap at once, then exit: their parts of it
 * see no call of theirs again, yet what they freed goes back while
 * another thread calls the heap (it stayed, 40 MB of 40, until a thread
 * took their parts again). */
START_TEST(blocks_freed_by_threads_that_exited_go_back) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  (void)fill_and_free_by_threads(h, 2);
  expect_given_back(h, 1L << 20,
                    "blocks_freed_by_threads_that_exited_go_back");
}
END_TEST

/* Eight threads do the same: what they freed goes back a part at a
 * time, never all in one call, which would do the kernel's work on every
 * page of every part at once (a HeapFree took up to 18 ms after 64 threads
 * that had freed 2.6 MB each exited).  Light calls in steps of fewer
 * frees than a shard's tick takes (PH__TICK_FREES), resident pages read
 * after each step: no step gives back much more than one part for each
 * clock value its calls saw (a thread compacts one part a clock value;
 * on a slow machine, under TSan or qemu, a step's calls may see two). */
START_TEST(exited_threads_memory_goes_back_a_part_at_a_time) {
  const char* test = "exited_threads_memory_goes_back_a_part_at_a_time";
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  bool parts = fill_and_free_by_threads(h, MAX_FILLERS);
  /* A first call releases the blocks of this thread's part that the
   * threads freed there (remote.c), now, before the parts are due: such a
   * release ticks once every PH__TICK_FREES blocks, and its ticks would
   * be the sweep's below, more than one in a step. */
  ck_assert_int_ne(HeapFree(h, 0, HeapAlloc(h, 0, 40)), FALSE);
  if (!parts)
    printf("%s: the threads never met in the heap, which stayed one part: "
           "only the total checked\n", test);
  if (!resident_known(test)) {
    ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
    HeapDestroy(h);
    return;
  }
  long part = (long)(SMALL_BLOCKS / MAX_FILLERS) * SMALL_SIZE;
  long left = small_resident(), most = 0;
  if (parts && left < 4 * part) { /* the threads' own decay steps */
    printf("%s: the parts went back while the threads ran (a slow machine "
           "or Valgrind): only the total checked\n", test);
    parts = false;
  }
  ph_test_sleep_ms(150); /* every part quiet for twice the decay time */
  int moves;
  left = light_steps_moves(h, LIGHT_SIZE, 1L << 20, small_resident_of, left,
                           &most, &moves);
  ck_assert_int_le(left, 1L << 20);
  if (parts && moves + 1 >= MAX_FILLERS) {
    printf("%s: the clock moved %d times in one step (a slow machine): "
           "only the total checked\n", test, moves);
    parts = false;
  }
  if (parts)
    ck_assert_int_le(most, part * (1 + moves) + part / 2);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

/* HeapCompact after freeing everything: the pages inside the free blocks
 * go back, not only whole regions and region tails. */
START_TEST(compact_gives_back_the_pages_inside_free_blocks) {
  HANDLE h = HeapCreate(0, 0, 0);
  fill_small(h);
  void* keep = HeapAlloc(h, 0, 100); /* after them: no tail to trim */
  for (int i = 0; i < SMALL_BLOCKS; i++)
    HeapFree(h, 0, small[i]);
  ck_assert_uint_gt(HeapCompact(h, 0), (SIZE_T)4 << 20); /* regions: 1 MiB doubling */
  if (resident_known("compact_gives_back_the_pages_inside_free_blocks"))
    ck_assert_int_le(small_resident(), 1L << 20);
  ck_assert_int_ne(HeapFree(h, 0, keep), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

/* A block of 256 KiB or more, freed: its pages go back at once. */
START_TEST(heap_free_of_a_big_block_gives_its_pages_back) {
  HANDLE h = HeapCreate(0, 0, 0);
  SIZE_T n = 300 << 10; /* below the large-block limit of both word
                           * sizes (0x7FFF7 on 32-bit): in a region */
  unsigned char* before = HeapAlloc(h, 0, 64);
  unsigned char* p = HeapAlloc(h, 0, n);
  unsigned char* after = HeapAlloc(h, 0, 64);
  memset(p, 0x5A, n);
  long full = ph_test_resident_in(p, n);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  long left = ph_test_resident_in(p, n);
  if (full < 0) {
    printf("heap_free_of_a_big_block_gives_its_pages_back: not checked: no "
           "mincore here\n");
  } else {
    ck_assert_int_ge(full, (long)n - 4096);
    ck_assert_int_le(left, 3 * 4096); /* the header and links' page */
  }
  /* The place is reused, and reads what is written again. */
  unsigned char* q = HeapAlloc(h, 0, n);
  memset(q, 0x33, n);
  ck_assert_uint_eq(ph_test_first_bad_byte(q, n, 0x33), n);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapFree(h, 0, q);
  HeapFree(h, 0, before);
  HeapFree(h, 0, after);
  HeapDestroy(h);
}
END_TEST

/* A freed large block's mapping goes back (through the cache, which
 * decays), and a heap made from that cached memory does not keep it as
 * its floor: HeapCompact brings it back to what HeapCreate asked for. */
START_TEST(a_freed_large_block_is_not_the_next_heaps_floor) {
  HANDLE h = HeapCreate(0, 0, 0);
  SIZE_T n = big_size = (SIZE_T)64 << 20;
  big = HeapAlloc(h, 0, n);
  ck_assert_ptr_nonnull(big);
  memset(big, 0x11, n);
  ck_assert_int_ne(HeapFree(h, 0, big), FALSE);
  HANDLE next = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(next);
  HeapCompact(next, 0);
  HEAP_SUMMARY s;
  s.cb = sizeof s;
  ck_assert_int_ne(HeapSummary(next, 0, &s), FALSE);
  ck_assert_uint_le(s.cbCommitted, (SIZE_T)1 << 20);
  long left = light_calls_while(h, 1L << 20, big_resident);
  if (left >= 0) /* the big block's pages, wherever they went */
    ck_assert_int_le(left, 1L << 20);
  HeapDestroy(next);
  HeapDestroy(h);
}
END_TEST

START_TEST(decay_time_reads_and_sets) {
  uint32_t old = ph_decay_time((uint32_t)-1);
  ck_assert_uint_eq(old, 50); /* the fixture's */
  ck_assert_uint_eq(ph_decay_time(1000), 50);
  ck_assert_uint_eq(ph_decay_time((uint32_t)-1), 1000);
}
END_TEST

/* Whether `left` resident bytes, at the start of a test's light steps,
 * are `enough` for it to check its steps; if not, it says so (the heap's
 * own decay steps gave most back while the test filled and freed: a slow
 * machine, or Valgrind) and checks the total alone. */
static bool steps_checkable(const char* test, long left, long enough) {
  if (left >= enough)
    return true;
  printf("%s: %ld MiB left at the start (a slow machine or Valgrind): only "
         "the total checked\n", test, left >> 20);
  return false;
}

/* Resident bytes of h's committed memory (its regions); -1 where unknown. */
static long heap_resident(HANDLE h) {
  PROCESS_HEAP_ENTRY e = {0};
  long sum = 0;
  while (HeapWalk(h, &e)) {
    if (!(e.wFlags & PROCESS_HEAP_REGION))
      continue;
    long r = ph_test_resident_in(e.lpData, e.Region.dwCommittedSize);
    if (r < 0)
      return -1;
    sum += r;
  }
  return sum;
}

/* 200 MB of small blocks freed: the heap gives its regions back in
 * steps, not all in one call, which would do the kernel's work on all
 * their pages at once (700 MB of regions made one HeapFree take 55 ms).
 * A decay step's compaction gives back 16 MiB of regions' pages (a
 * bigger region's from its end) and leaves the rest to later calls:
 * light calls in steps of fewer frees than a tick takes, the heap's
 * resident pages read after each, no step gives back more than 40 MB
 * (two steps and a region's first pages; a whole 64 MiB region went in
 * one before). */
enum { MANY_BLOCKS = 500000, MANY_SIZE = 400 }; /* 200 MB */
static void* many[MANY_BLOCKS];
static int many_n; /* the blocks of many[] the running test fills */

/* The blocks a test of many[] fills: all of them, a quarter under
 * Valgrind (its steps are not checked there, only its total; the fills
 * of 200 MB took minutes of the Valgrind run). */
static int many_blocks(const char* test) {
  many_n = MANY_BLOCKS;
  if (ph_test_under_valgrind()) {
    printf("%s: under Valgrind, a quarter of the blocks\n", test);
    many_n = MANY_BLOCKS / 4;
  }
  return many_n;
}

/* Fill blocks[0 .. n) with blocks of `size` bytes of h, each set to
 * `byte` (resident). */
static void fill_blocks(HANDLE h, void** blocks, int n, SIZE_T size,
                        int byte) {
  for (int i = 0; i < n; i++) {
    blocks[i] = HeapAlloc(h, 0, size);
    ck_assert_ptr_nonnull(blocks[i]);
    memset(blocks[i], byte, size);
  }
}

START_TEST(a_heaps_regions_go_back_a_few_at_a_time) {
  const char* test = "a_heaps_regions_go_back_a_few_at_a_time";
  int n = many_blocks(test);
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  fill_blocks(h, many, n, MANY_SIZE, 0x3C);
  for (int i = 0; i < n; i++)
    HeapFree(h, 0, many[i]);
  long left = heap_resident(h), most = 0;
  if (left < 0) {
    printf("%s: resident pages not checked: no mincore here\n", test);
    ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
    HeapDestroy(h);
    return;
  }
  bool steps = steps_checkable(test, left, 150L << 20);
  left = light_steps_while(h, 4L << 20, heap_resident, left, &most);
  ck_assert_int_le(left, 4L << 20);
  if (steps)
    ck_assert_int_le(most, 40L << 20);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

/* Fill many[] in a new heap h, then free all but each region's first
 * block (or a run's) and, if `keep_last`, its last; the heap's first
 * decay step comes 3 s after its creation: after the frees, which would
 * otherwise give back each region's free part as it came free.  Light
 * steps (of blocks of `light` bytes) then: no step gives back more than
 * 40 MB (two steps of 16 MiB and a region's first pages). */
static void region_parts_go_back(const char* test, bool keep_last,
                                 SIZE_T light) {
  int n = many_blocks(test);
  ph_decay_time(3000);
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  fill_blocks(h, many, n, MANY_SIZE, 0x3C);
  int kept = 0;
  for (int i = 0; i < n; i++) {
    uintptr_t at = (uintptr_t)many[i];
    uintptr_t gap = at - (uintptr_t)many[i > 0 ? i - 1 : 0];
    uintptr_t next = i + 1 < n ? (uintptr_t)many[i + 1] : 0;
    if (i == 0 || gap > 4096 || (keep_last && next - at > 4096))
      many[kept++] = many[i];
    else
      ck_assert_int_ne(HeapFree(h, 0, many[i]), FALSE);
  }
  ph_decay_time(50);
  long left = heap_resident(h), most = 0;
  if (left < 0) {
    printf("%s: resident pages not checked: no mincore here\n", test);
  } else {
    bool steps = steps_checkable(test, left, 150L << 20);
    left = light_steps_moves(h, light, 8L << 20, heap_resident, left, &most,
                             NULL);
    ck_assert_int_le(left, 8L << 20);
    if (steps)
      ck_assert_int_le(most, 40L << 20);
  }
  for (int i = 0; i < kept; i++)
    ck_assert_int_ne(HeapFree(h, 0, many[i]), FALSE);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}

/* With each region's first block kept, every region stays, and its free
 * tail behind that block (up to 64 MiB) goes back a part at a time (21.6
 * ms in one call before). */
START_TEST(a_regions_free_tail_goes_back_a_part_at_a_time) {
  region_parts_go_back("a_regions_free_tail_goes_back_a_part_at_a_time",
                       false, LIGHT_SIZE);
}
END_TEST

/* With each region's first and last blocks kept, the free block between
 * them (up to 64 MiB) goes back a part at a time, from its end (one call
 * gave back all its pages before: 5.3 ms for 64 MiB). */
START_TEST(a_huge_free_block_goes_back_a_part_at_a_time) {
  region_parts_go_back("a_huge_free_block_goes_back_a_part_at_a_time", true,
                       LIGHT_SIZE);
}
END_TEST

/* The same while the light calls' blocks (300 bytes) come from a run that
 * each decay step's compaction dissolves into the heap's last free area
 * (the victim, whose pages had gone back) and the next call carves from it
 * again: the victim keeps what of it had gone back, so a step's work goes
 * on to the huge blocks.  (Each step purged the whole victim anew before,
 * and 200 MB stayed resident: 202 MB after 3.5 s, against 6 with 40-byte
 * light calls.) */
START_TEST(a_huge_free_block_goes_back_while_a_run_comes_and_goes) {
  region_parts_go_back("a_huge_free_block_goes_back_while_a_run_comes_and_goes",
                       true, 300);
}
END_TEST

/* The pages of a destroyed heap's blocks (many[], alive when it went). */
static long many_resident(HANDLE h) {
  (void)h;
  return blocks_resident(many, many_n, MANY_SIZE);
}

/* A destroyed heap of 200 MB: its regions wait in the region cache for
 * the next heap, then go back to the system in steps, not all in one
 * call (the 100 MiB a destroyed heap left made one light call take 8.6
 * ms).  A step gives back 16 MiB of pages, from a region's end where it
 * is bigger: light calls on the process heap in steps, no step gives back
 * more than 40 MB (two steps and a region's first pages; 200 MB before). */
START_TEST(a_destroyed_heaps_memory_goes_back_a_part_at_a_time) {
  const char* test = "a_destroyed_heaps_memory_goes_back_a_part_at_a_time";
  int n = many_blocks(test);
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  fill_blocks(h, many, n, MANY_SIZE, 0x3C);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  long left = many_resident(NULL), most = 0;
  if (left < 0) {
    printf("%s: resident pages not checked: no mincore here\n", test);
    return;
  }
  bool steps = steps_checkable(test, left, 150L << 20);
  left = light_steps_while(GetProcessHeap(), 1L << 20, many_resident, left,
                           &most);
  ck_assert_int_le(left, 1L << 20);
  if (steps)
    ck_assert_int_le(most, 40L << 20);
}
END_TEST

/* Every other block of a heap of medium blocks freed: the free blocks
 * stay apart, each with whole pages inside it, and decay gives those
 * back with a system call each.  It does so in steps (a decay step
 * purges a bounded number of blocks and goes on at the next), not in one
 * call: 107,000 such calls made one HeapFree take 88 ms.  Light calls in
 * steps, the freed blocks' inside pages read after each: they all go
 * back, and no step gives back more than 1024 blocks' worth (two decay
 * steps' at most; every block's at once before).  The heap's first
 * decay step comes 3 s after its creation: after the frees. */
enum { APART_BLOCKS = 20000, APART_STEP_MOST = 1024 };
static void* apart[APART_BLOCKS];
static size_t apart_size;

/* Resident bytes of the whole pages inside the freed blocks of
 * a_fragmented_heaps_pages_go_back_a_few_at_a_time (the odd ones). */
static long apart_resident(HANDLE h) {
  (void)h;
  uintptr_t page = ph_test_page_size();
  long sum = 0;
  for (int i = 1; i < APART_BLOCKS; i += 2) {
    uintptr_t lo = ((uintptr_t)apart[i] + 32 + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)apart[i] + apart_size - 16) & ~(page - 1);
    long r = hi > lo ? ph_test_resident_in((void*)lo, hi - lo) : 0;
    if (r < 0)
      return -1;
    sum += r;
  }
  return sum;
}

START_TEST(a_fragmented_heaps_pages_go_back_a_few_at_a_time) {
  const char* test = "a_fragmented_heaps_pages_go_back_a_few_at_a_time";
  size_t page = ph_test_page_size();
  if (page != 4096) { /* 180 MB of blocks with pages of 4 KiB */
    printf("%s: not run: pages of %zu bytes\n", test, page);
    return;
  }
  apart_size = 2 * page + page / 4; /* a whole page inside, or two */
  ph_decay_time(3000); /* the heap's first decay step after the frees */
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  fill_blocks(h, apart, APART_BLOCKS, apart_size, 0x3D);
  for (int i = 1; i < APART_BLOCKS; i += 2)
    ck_assert_int_ne(HeapFree(h, 0, apart[i]), FALSE);
  ph_decay_time(50);
  long left = apart_resident(h), most = 0;
  if (left < 0) {
    printf("%s: resident pages not checked: no mincore here\n", test);
  } else {
    long one = (long)(2 * page); /* a block's inside pages at most */
    bool steps = steps_checkable(test, left, 4L * APART_STEP_MOST * one);
    left = light_steps_while(h, 0, apart_resident, left, &most);
    ck_assert_int_eq(left, 0);
    if (steps)
      ck_assert_int_le(most, APART_STEP_MOST * one);
  }
  for (int i = 0; i < APART_BLOCKS; i += 2)
    ck_assert_uint_eq(ph_test_first_bad_byte(apart[i], apart_size, 0x3D),
                      apart_size);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

enum { SIZES = 32, EACH = 12 };
static void* each_size[SIZES][EACH];

/* A heap that holds a few small blocks of each size keeps few pages: a
 * size's runs grow with its use (each new run twice the slots of the
 * one before), where a second run had a bitmap word's slots whose
 * headers, written when it was made, touched every page of it. */
START_TEST(a_few_blocks_of_each_size_keep_few_pages) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  long live = 0;
  for (int k = 0; k < SIZES; k++) {
    SIZE_T size = 16 * (SIZE_T)(k + 1);
    for (int i = 0; i < 18; i++) /* the LFH serves a size after 18 */
      ck_assert_int_ne(HeapFree(h, 0, HeapAlloc(h, 0, size)), FALSE);
    for (int i = 0; i < EACH; i++) {
      each_size[k][i] = HeapAlloc(h, 0, size);
      ck_assert_ptr_nonnull(each_size[k][i]);
      memset(each_size[k][i], 0x5A, size);
    }
    live += EACH * (long)size;
  }
  /* 64-bit Linux: 228 KiB resident for 99 KiB live; 468 KiB when a
   * size's second run had 64 slots. */
  long resident = heap_resident(h);
  if (resident >= 0)
    ck_assert_int_le(resident, 3 * live + (64L << 10));
  else
    printf("a_few_blocks_of_each_size_keep_few_pages: resident pages not "
           "checked: no mincore here\n");
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

Suite* test_memory(void) {
  Suite* s = suite_create("memory");
  TCase* tc = tcase_create("decay");
  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, short_decay, restore_decay);
  const char* why = "Windows decides when its heaps give memory back";
  ph_test_add_emul(tc, a_destroyed_heaps_memory_decays, why);
  ph_test_add_emul(tc, freed_blocks_nobody_reuses_go_back, why);
  ph_test_add_emul(tc, blocks_freed_at_a_steady_pace_go_back, why);
  ph_test_add_emul(tc,
                   blocks_of_a_no_serialize_heap_freed_at_a_steady_pace_go_back,
                   why);
  ph_test_add_emul(tc, blocks_freed_by_threads_that_exited_go_back, why);
  ph_test_add_emul(tc, exited_threads_memory_goes_back_a_part_at_a_time,
                   why);
  ph_test_add_emul(tc, a_fragmented_heaps_pages_go_back_a_few_at_a_time,
                   why);
  ph_test_add_emul(tc, a_destroyed_heaps_memory_goes_back_a_part_at_a_time,
                   why);
  ph_test_add_emul(tc, a_regions_free_tail_goes_back_a_part_at_a_time, why);
  ph_test_add_emul(tc, a_huge_free_block_goes_back_a_part_at_a_time, why);
  ph_test_add_emul(tc, a_huge_free_block_goes_back_while_a_run_comes_and_goes,
                   why);
  ph_test_add_emul(tc, compact_gives_back_the_pages_inside_free_blocks,
                   "Wine's HeapCompact is a stub");
  ph_test_add_emul(tc, heap_free_of_a_big_block_gives_its_pages_back, why);
  ph_test_add_emul(tc, a_freed_large_block_is_not_the_next_heaps_floor,
                   "HeapSummary ends a Wine process");
  ph_test_add_emul(tc, a_heaps_regions_go_back_a_few_at_a_time, why);
  ph_test_add_emul(tc, a_few_blocks_of_each_size_keep_few_pages,
                   "how Windows lays out its LFH is its own business");
  ph_test_add_emul(tc, decay_time_reads_and_sets,
                   "the native backend has no decay time");
  suite_add_tcase(s, tc);
  return s;
}
