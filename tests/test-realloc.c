/*
 * test-realloc.c - HeapReAlloc: growing, shrinking, zeroing the new tail,
 * HEAP_REALLOC_IN_PLACE_ONLY, and failures that leave the block intact.
 */
#include "suites.h"

#include <string.h>

/* Each test's heap: a fresh growable one (ph_test_heap_setup). */
#define heap ph_test_heap

static void fill(void* p, SIZE_T n) {
  for (SIZE_T i = 0; i < n; i++)
    ((unsigned char*)p)[i] = (unsigned char)(i * 7 + 3);
}

/* Asserts once (a ck_assert per byte costs Check a write() each). */
static void check_fill(const void* p, SIZE_T n) {
  SIZE_T i = 0;
  while (i < n && ((const unsigned char*)p)[i] == (unsigned char)(i * 7 + 3))
    i++;
  ck_assert_uint_eq(i, n); /* i: the first byte that changed */
}

/* HeapReAlloc of p (size bytes, filled) to `to` bytes in place is
 * refused: NULL, ERROR_NOT_ENOUGH_MEMORY, p as it was. */
static void in_place_growth_refused(void* p, SIZE_T size, SIZE_T to) {
  SetLastError(0);
  ck_assert_ptr_null(
      ph_le_ptr(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, to)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  ck_assert_uint_eq(HeapSize(heap, 0, p), size);
  check_fill(p, size);
}

START_TEST(growing_keeps_contents) {
  SIZE_T n = 16;
  void* p = HeapAlloc(heap, 0, n);
  fill(p, n);
  while (n < ((SIZE_T)4 << 20)) {
    SIZE_T next = n * 2;
    void* q = HeapReAlloc(heap, 0, p, next);
    ck_assert_ptr_nonnull(q);
    check_fill(q, n);
    ck_assert_uint_eq(HeapSize(heap, 0, q), next);
    fill(q, next);
    p = q;
    n = next;
  }
  HeapFree(heap, 0, p);
}
END_TEST

START_TEST(shrinking_keeps_the_prefix) {
  SIZE_T sizes[] = {100000, 5000, 300, 17, 1};
  void* p = HeapAlloc(heap, 0, sizes[0]);
  fill(p, sizes[0]);
  for (size_t i = 1; i < sizeof sizes / sizeof sizes[0]; i++) {
    p = HeapReAlloc(heap, 0, p, sizes[i]);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(HeapSize(heap, 0, p), sizes[i]);
    check_fill(p, sizes[i]);
  }
  HeapFree(heap, 0, p);
}
END_TEST

START_TEST(zero_memory_zeroes_only_the_new_bytes) {
  unsigned char* p = HeapAlloc(heap, 0, 24);
  memset(p, 0xAA, 24);
  unsigned char* blocker = HeapAlloc(heap, 0, 24); /* likely forces a move */
  memset(blocker, 0xBB, 24);
  HeapFree(heap, 0, HeapAlloc(heap, 0, 5000)); /* dirty some free memory */
  p = HeapReAlloc(heap, HEAP_ZERO_MEMORY, p, 3000);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(ph_test_first_bad_byte(p, 24, 0xAA), 24);
  ck_assert_uint_eq(ph_test_first_bad_byte(p + 24, 3000 - 24, 0), 3000 - 24);
  HeapFree(heap, 0, p);
  HeapFree(heap, 0, blocker);
}
END_TEST

START_TEST(in_place_shrink_keeps_the_address) {
  void* p = HeapAlloc(heap, 0, 4000);
  fill(p, 4000);
  void* q = HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 100);
  ck_assert_ptr_eq(q, p);
  ck_assert_uint_eq(HeapSize(heap, 0, p), 100);
  check_fill(p, 100);
  HeapFree(heap, 0, p);
}
END_TEST

START_TEST(in_place_grow_that_cannot_fails_and_keeps_the_block) {
  void* blocks[64];
  for (int i = 0; i < 64; i++) { /* back-to-back busy blocks */
    blocks[i] = HeapAlloc(heap, 0, 64);
    fill(blocks[i], 64);
  }
  in_place_growth_refused(blocks[10], 64, (SIZE_T)1 << 20);
  for (int i = 0; i < 64; i++)
    ck_assert_int_ne(HeapFree(heap, 0, blocks[i]), FALSE);
}
END_TEST

START_TEST(in_place_grow_into_free_neighbour) {
  void* a = HeapAlloc(heap, 0, 1000);
  void* b = HeapAlloc(heap, 0, 3000);
  void* c = HeapAlloc(heap, 0, 1000);
  fill(a, 1000);
  HeapFree(heap, 0, b);
  void* q = HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, a, 2000);
  if (q != NULL) { /* Windows may place blocks elsewhere; if it grew, check */
    ck_assert_ptr_eq(q, a);
    ck_assert_uint_eq(HeapSize(heap, 0, a), 2000);
  }
  check_fill(a, 1000);
  HeapFree(heap, 0, a);
  HeapFree(heap, 0, c);
}
END_TEST

START_TEST(emul_grows_in_place_into_free_neighbour) {
  void* a = HeapAlloc(heap, 0, 1000);
  void* b = HeapAlloc(heap, 0, 3000);
  void* c = HeapAlloc(heap, 0, 1000);
  ck_assert(a < b);
  ck_assert(b < c);
  HeapFree(heap, 0, b);
  ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, a, 2000), a);
  ck_assert_uint_eq(HeapSize(heap, 0, a), 2000);
  HeapFree(heap, 0, a);
  HeapFree(heap, 0, c);
}
END_TEST

/* A string builder alone in its heap: one block doubled from 16 B to
 * 1 MiB, the last byte written at each size.  Returns how many times it
 * moved; its contents are checked at every step. */
static unsigned grow_alone(HANDLE h, DWORD flags, SIZE_T to) {
  SIZE_T n = 16;
  unsigned char* p = HeapAlloc(h, 0, n);
  ck_assert_ptr_nonnull(p);
  fill(p, n);
  unsigned moves = 0;
  for (; n < to; n *= 2) {
    unsigned char* q = HeapReAlloc(h, flags, p, n * 2);
    ck_assert_ptr_nonnull(q);
    moves += q != p;
    check_fill(q, n);
    fill(q, n * 2);
    p = q;
  }
  ck_assert_uint_eq(HeapSize(h, 0, p), to);
  ck_assert_int_ne(HeapFree(h, 0, p), FALSE);
  return moves;
}

/* A string builder alone in a heap of fresh memory (the region cache
 * emptied first, so that no page of its region is committed yet): it
 * grows into the region's uncommitted part, and moves once, when it
 * outgrows the fixed-heap block limit and gets a mapping of its own. */
START_TEST(emul_a_lone_buffer_moves_once_on_its_way_to_1_mib) {
  size_t limit = ph_region_cache_limit(0);
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  ck_assert_uint_le(grow_alone(h, 0, (SIZE_T)1 << 20), 1);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
  ph_region_cache_limit(limit);
}
END_TEST

/* A fixed heap's region is reserved fresh (never from the cache) with a
 * few pages committed: growth in place commits the rest as it goes, up to
 * 256 KiB, within the fixed-heap block limit of both word sizes. */
START_TEST(emul_in_place_growth_commits_more_of_the_region) {
  HANDLE h = HeapCreate(0, 0, (SIZE_T)4 << 20);
  ck_assert_ptr_nonnull(h);
  ck_assert_uint_eq(grow_alone(h, HEAP_REALLOC_IN_PLACE_ONLY, 256 << 10), 0);
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  HeapDestroy(h);
}
END_TEST

/* Growth in place into memory that held another block, and into pages
 * committed for it: the new bytes are zero, the old ones kept. */
START_TEST(emul_in_place_growth_zeroes_what_it_takes) {
  unsigned char* p = HeapAlloc(heap, 0, 100);
  unsigned char* dirty = HeapAlloc(heap, 0, 5000);
  memset(p, 0xAA, 100);
  memset(dirty, 0xBB, 5000);
  HeapFree(heap, 0, dirty);
  for (SIZE_T n = 100; n * 4 < ((SIZE_T)1 << 20); n *= 4) {
    unsigned char* q =
        HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY | HEAP_ZERO_MEMORY, p,
                    n * 4);
    ck_assert_ptr_eq(q, p);
    ck_assert_uint_eq(ph_test_first_bad_byte(p, 100, 0xAA), 100);
    ck_assert_uint_eq(ph_test_first_bad_byte(p + n, n * 3, 0), n * 3);
    memset(p + 100, 0xCC, n * 4 - 100); /* dirty for the next step */
    HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, n); /* gives it back */
  }
  HeapFree(heap, 0, p);
}
END_TEST

/* Growth by less than a free block's header and links still leaves the
 * rest of the free neighbour a valid free block. */
START_TEST(emul_in_place_growth_by_one_granule) {
  unsigned char* p = HeapAlloc(heap, 0, 1000);
  fill(p, 1000);
  for (SIZE_T n = 1001; n <= 1100; n++) {
    ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, n), p);
    ck_assert_uint_eq(HeapSize(heap, 0, p), n);
    p[n - 1] = (unsigned char)((n - 1) * 7 + 3);
  }
  check_fill(p, 1100);
  ck_assert_int_ne(HeapValidate(heap, 0, NULL), FALSE);
  void* q = HeapAlloc(heap, 0, 5000); /* carved from what is left */
  ck_assert_ptr_nonnull(q);
  ck_assert_int_ne(HeapValidate(heap, 0, NULL), FALSE);
  HeapFree(heap, 0, q);
  HeapFree(heap, 0, p);
}
END_TEST

/* The data of the walk entry right after busy block p of h. */
static unsigned char* walk_next_data(HANDLE h, const void* p) {
  PROCESS_HEAP_ENTRY e = {0};
  while (HeapWalk(h, &e))
    if (e.lpData == p) {
      ck_assert_int_ne(HeapWalk(h, &e), FALSE);
      ck_assert_uint_eq(e.wFlags, 0); /* free */
      return e.lpData;
    }
  ck_abort_msg("block not found in the walk");
  return NULL;
}

/* A growing buffer never grows over the free block after it if that
 * block's header was overwritten (an overrun by one header): the seal is
 * checked on the fast path too.  The block moves (or the call fails) and
 * the heap reports the damage; untouched, the same block grows in place. */
START_TEST(emul_growth_never_takes_a_trampled_neighbour) {
  for (int trample = 0; trample <= 1; trample++) {
    HANDLE h = HeapCreate(0, 0, 0);
    ck_assert_ptr_nonnull(h);
    unsigned char* p = HeapAlloc(h, 0, 100);
    fill(p, 100);
    unsigned char* rest = walk_next_data(h, p);
    if (trample)
      /* its header: a free entry's data is 2p past the block's (as
       * Windows reports it), and 8 bytes of header before that */
      memset(rest - 2 * sizeof(void*) - 8, 0x41, 8);
    unsigned char* r = HeapReAlloc(h, 0, p, 4000);
    ck_assert_int_eq(r == p, !trample);
    if (r != NULL)
      check_fill(r, 100);
    ck_assert_int_eq(HeapValidate(h, 0, NULL), !trample);
    HeapDestroy(h);
  }
}
END_TEST

/* A block with a busy neighbour cannot grow in place, however much free
 * space lies beyond: IN_PLACE_ONLY fails and leaves it as it was. */
START_TEST(emul_in_place_growth_past_a_busy_neighbour_fails) {
  void* p = HeapAlloc(heap, 0, 1000);
  void* wall = HeapAlloc(heap, 0, 16);
  fill(p, 1000);
  in_place_growth_refused(p, 1000, 5000);
  HeapFree(heap, 0, wall);
  ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 5000), p);
  check_fill(p, 1000);
  HeapFree(heap, 0, p);
}
END_TEST

/* The busy blocks a walk of h lists, and whether `p` is one of them with
 * `size` bytes. */
static int walk_busy(HANDLE h, const void* p, SIZE_T size, bool* found) {
  PROCESS_HEAP_ENTRY e;
  e.lpData = NULL;
  int busy = 0;
  *found = false;
  while (HeapWalk(h, &e)) {
    if (!(e.wFlags & PROCESS_HEAP_ENTRY_BUSY))
      continue;
    busy++;
    if (e.lpData == p && e.cbData == size)
      *found = true;
  }
  return busy;
}

/* A large block (a mapping of its own) shrunk in place gives the pages
 * past its new end back to the system, and takes fresh ones, zeroed
 * where asked, when it grows again. */
START_TEST(emul_a_shrunk_large_block_gives_back_its_tail_pages) {
  SIZE_T big = (SIZE_T)4 << 20, small = 100000;
  unsigned char* p = HeapAlloc(heap, 0, big);
  ck_assert_ptr_nonnull(p);
  fill(p, big);
  HEAP_SUMMARY full, shrunk;
  full.cb = shrunk.cb = sizeof(HEAP_SUMMARY);
  ck_assert_int_ne(HeapSummary(heap, 0, &full), FALSE);
  ck_assert_ptr_eq(HeapReAlloc(heap, 0, p, small), p);
  ck_assert_uint_eq(HeapSize(heap, 0, p), small);
  check_fill(p, small);
  ck_assert_int_ne(HeapSummary(heap, 0, &shrunk), FALSE);
  ck_assert_uint_ge(full.cbCommitted - shrunk.cbCommitted, big - (1 << 20));
  /* past the new end, rounded up to any page size up to 64 KiB */
  SIZE_T tail = small + (64 << 10);
  long resident = ph_test_resident_in(p + tail, big - tail);
  if (resident < 0)
    printf("a shrunk large block: resident pages not checked: no mincore\n");
  else
    ck_assert_int_eq(resident, 0);
  ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_ZERO_MEMORY, p, big), p);
  check_fill(p, small);
  ck_assert_uint_eq(ph_test_first_bad_byte(p + small, big - small, 0),
                    big - small);
  ck_assert_int_ne(HeapValidate(heap, 0, NULL), FALSE);
  HeapFree(heap, 0, p);
}
END_TEST

/* A large block grown past its reservation moves (its pages remapped
 * where the system can, else copied) and stays a block of its heap among
 * the others: found by HeapSize, HeapWalk and HeapFree at its new
 * address only. */
START_TEST(emul_a_large_block_grows_past_its_reservation) {
  SIZE_T size = (SIZE_T)3 << 20;
  void* before = HeapAlloc(heap, 0, size); /* large neighbours on its list */
  unsigned char* p = HeapAlloc(heap, 0, size);
  void* after = HeapAlloc(heap, 0, size);
  fill(p, size);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(
      HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, (SIZE_T)64 << 20)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  ck_assert_uint_eq(HeapSize(heap, 0, p), size);
  for (int i = 0; i < 3; i++, size *= 4) {
    unsigned char* q = HeapReAlloc(heap, HEAP_ZERO_MEMORY, p, size * 4);
    ck_assert_ptr_nonnull(q);
    check_fill(q, size);
    ck_assert_uint_eq(ph_test_first_bad_byte(q + size, size * 3, 0), size * 3);
    if (q != p)
      ck_assert_uint_eq(ph_le_uint(HeapSize(heap, 0, p)), (SIZE_T)-1);
    ck_assert_uint_eq(HeapSize(heap, 0, q), size * 4);
    fill(q, size * 4);
    p = q;
  }
  bool found;
  ck_assert_int_eq(walk_busy(heap, p, size, &found), 3);
  ck_assert(found);
  ck_assert_int_ne(HeapValidate(heap, 0, NULL), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, before), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, p), FALSE);
  ck_assert_int_ne(HeapFree(heap, 0, after), FALSE);
}
END_TEST

/* A small block once its size is in demand (a slot of a run, Windows'
 * LFH's block): resized in its slot while the new size fits it (104 bytes
 * for 100: 112 spaced), the prefix kept, the new bytes zeroed if asked;
 * beyond it, moved (HEAP_REALLOC_IN_PLACE_ONLY: refused, the block
 * intact); a walk shows it busy with the size asked for, and free again
 * as an LFH slot once freed. */
/* Blocks of a frequent size (Windows' LFH serves them, the engine's runs)
 * shrunk in place far below it, to 1..N bytes: each keeps its address,
 * its exact new size and its prefix, and walks with it. */
START_TEST(in_place_shrink_of_frequent_size_keeps_exact_sizes) {
  enum { N = 40, SIZE = 500 };
  unsigned char* p[N];
  for (int i = 0; i < N; i++) {
    p[i] = HeapAlloc(heap, 0, SIZE);
    ck_assert_ptr_nonnull(p[i]);
    fill(p[i], SIZE);
  }
  for (int i = 0; i < N; i++) {
    SIZE_T n = (SIZE_T)i + 1;
    ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p[i], n),
                     p[i]);
    ck_assert_uint_eq(HeapSize(heap, 0, p[i]), n);
    check_fill(p[i], n);
    PROCESS_HEAP_ENTRY e;
    ck_assert(ph_test_walk_to(heap, &e, p[i]));
    ck_assert_uint_eq(e.cbData, n);
  }
  ck_assert_int_ne(HeapValidate(heap, 0, NULL), FALSE);
  for (int i = 0; i < N; i++)
    ck_assert_int_ne(HeapFree(heap, 0, p[i]), FALSE);
}
END_TEST

START_TEST(emul_small_blocks_resize_in_their_slot) {
  ph_test_activate_size(heap, 100);
  unsigned char* p = HeapAlloc(heap, 0, 100);
  ck_assert_ptr_nonnull(p);
  fill(p, 100);
  ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, p, 60), p);
  ck_assert_uint_eq(HeapSize(heap, 0, p), 60);
  check_fill(p, 60);
  ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_ZERO_MEMORY, p, 104), p);
  ck_assert_uint_eq(HeapSize(heap, 0, p), 104);
  check_fill(p, 60);
  ck_assert_uint_eq(ph_test_first_bad_byte(p + 60, 44, 0), 44);
  fill(p, 104);
  in_place_growth_refused(p, 104, 105);
  PROCESS_HEAP_ENTRY e;
  ck_assert(ph_test_walk_to(heap, &e, p));
  ck_assert_uint_eq(e.wFlags, PROCESS_HEAP_ENTRY_BUSY);
  ck_assert_uint_eq(e.cbData, 104);
  ck_assert_uint_eq(e.cbOverhead, 8);
  unsigned char* q = HeapReAlloc(heap, 0, p, 600);
  ck_assert_ptr_nonnull(q);
  ck_assert_ptr_ne(q, p);
  check_fill(q, 104);
  ck_assert_int_eq(HeapValidate(heap, 0, p), FALSE);
  ck_assert(ph_test_walk_to(heap, &e, p)); /* a free LFH slot: 2p over */
  ck_assert_uint_eq(e.wFlags, 0);
  ck_assert_uint_eq(e.cbData, 112 - 2 * sizeof(void*));
  ck_assert_uint_eq(e.cbOverhead, 2 * sizeof(void*));
  ck_assert_int_ne(HeapFree(heap, 0, q), FALSE);
  ck_assert_int_ne(HeapValidate(heap, 0, NULL), FALSE);
}
END_TEST

START_TEST(realloc_to_zero_gives_an_empty_block) {
  void* p = HeapAlloc(heap, 0, 100);
  void* q = HeapReAlloc(heap, 0, p, 0);
  ck_assert_ptr_nonnull(q);
  ck_assert_uint_eq(HeapSize(heap, 0, q), 0);
  HeapFree(heap, 0, q);
}
END_TEST

/* A large block shrunk in place gives its tail back, and cannot then grow
 * back in place: HEAP_REALLOC_IN_PLACE_ONLY fails with
 * ERROR_NOT_ENOUGH_MEMORY (Wine's tests, asserted on Windows; Wine
 * departs).  A block below the large threshold shrinks and grows back. */
START_TEST(a_shrunk_large_block_does_not_grow_back_in_place) {
  SIZE_T unit = 0x8000 * sizeof(void*);
  unsigned char* small = HeapAlloc(heap, HEAP_ZERO_MEMORY, 3 * unit);
  ck_assert_ptr_nonnull(small);
  ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, small,
                               unit * 3 / 2),
                   small);
  ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, small,
                               2 * unit),
                   small);
  HeapFree(heap, 0, small);
  unsigned char* big = HeapAlloc(heap, HEAP_ZERO_MEMORY, (SIZE_T)1 << 20);
  ck_assert_ptr_nonnull(big);
  ck_assert_ptr_eq(HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, big,
                               unit * 3 / 2),
                   big);
  SetLastError(0xdeadbeef);
  void* grown = ph_le_ptr(
      HeapReAlloc(heap, HEAP_REALLOC_IN_PLACE_ONLY, big, 2 * unit));
  ck_assert_uint_eq(HeapSize(heap, 0, big),
                    grown != NULL ? 2 * unit : unit * 3 / 2);
  HeapFree(heap, 0, big);
  PH_ASSERT_DOC(grown == NULL && ph_test_error == ERROR_NOT_ENOUGH_MEMORY,
                "Wine 8.0 grows it back in place");
}
END_TEST

/* No block, no error: NULL with the last error NO_ERROR (Windows, Wine's
 * tests; Microsoft's own PAL tests assert the same). */
START_TEST(realloc_of_null_fails) {
  static const DWORD flags[] = {0, HEAP_ZERO_MEMORY, HEAP_REALLOC_IN_PLACE_ONLY};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    SetLastError(0xdeadbeef);
    ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(heap, flags[i], NULL, 10)));
    PH_ASSERT_DOC(ph_test_error == NO_ERROR,
                  "Wine 8.0 leaves the last error as it was");
  }
}
END_TEST

START_TEST(realloc_of_a_freed_block_fails) {
  void* p = HeapAlloc(heap, 0, 100);
  void* keep = HeapAlloc(heap, 0, 100);
  HeapFree(heap, 0, p);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(heap, 0, p, 200)));
  ck_assert_uint_eq(ph_test_error, ERROR_INVALID_PARAMETER);
  ck_assert_int_ne(HeapFree(heap, 0, keep), FALSE);
}
END_TEST

START_TEST(realloc_of_huge_size_fails_and_keeps_the_block) {
  void* p = HeapAlloc(heap, 0, 100);
  fill(p, 100);
  SetLastError(0);
  ck_assert_ptr_null(ph_le_ptr(HeapReAlloc(heap, 0, p, ~(SIZE_T)0 - 16)));
  ck_assert_uint_eq(ph_test_error, ERROR_NOT_ENOUGH_MEMORY);
  check_fill(p, 100);
  ck_assert_uint_eq(HeapSize(heap, 0, p), 100);
  HeapFree(heap, 0, p);
}
END_TEST

Suite* test_realloc(void) {
  Suite* s = suite_create("realloc");
  TCase* tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, ph_test_heap_setup, ph_test_heap_teardown);
  tcase_add_test(tc, growing_keeps_contents);
  tcase_add_test(tc, shrinking_keeps_the_prefix);
  tcase_add_test(tc, zero_memory_zeroes_only_the_new_bytes);
  tcase_add_test(tc, in_place_shrink_keeps_the_address);
  tcase_add_test(tc, in_place_shrink_of_frequent_size_keeps_exact_sizes);
  tcase_add_test(tc, in_place_grow_that_cannot_fails_and_keeps_the_block);
  tcase_add_test(tc, in_place_grow_into_free_neighbour);
  tcase_add_test(tc, realloc_to_zero_gives_an_empty_block);
  tcase_add_test(tc, realloc_of_null_fails);
  tcase_add_test(tc, a_shrunk_large_block_does_not_grow_back_in_place);
  tcase_add_test(tc, realloc_of_huge_size_fails_and_keeps_the_block);
  ph_test_add_emul(tc, emul_small_blocks_resize_in_their_slot,
                   "how a small block is resized in place is the engine's");
  ph_test_add_emul(tc, emul_grows_in_place_into_free_neighbour,
                   "block placement is Windows' own business");
  ph_test_add_emul(tc, emul_a_lone_buffer_moves_once_on_its_way_to_1_mib,
                   "block placement is Windows' own business");
  ph_test_add_emul(tc, emul_in_place_growth_commits_more_of_the_region,
                   "block placement is Windows' own business");
  ph_test_add_emul(tc, emul_in_place_growth_zeroes_what_it_takes,
                   "block placement is Windows' own business");
  ph_test_add_emul(tc, emul_in_place_growth_by_one_granule,
                   "block placement is Windows' own business");
  ph_test_add_emul(tc, emul_in_place_growth_past_a_busy_neighbour_fails,
                   "block placement is Windows' own business");
  ph_test_add_emul(tc, emul_growth_never_takes_a_trampled_neighbour,
                   "an overrun is undefined on Windows");
  ph_test_add_emul(tc, emul_a_shrunk_large_block_gives_back_its_tail_pages,
                   "block placement is Windows' own business");
  ph_test_add_emul(tc, emul_a_large_block_grows_past_its_reservation,
                   "block placement is Windows' own business");
  ph_test_add_emul(tc, realloc_of_a_freed_block_fails,
                   "a freed block is undefined on Windows");
  suite_add_tcase(s, tc);
  return s;
}
