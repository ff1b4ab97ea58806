/*
 * test-hardening.c - what a reader of freed memory learns of a heap's
 * keys: nothing it can see at a glance.
 *
 * The engine keeps the links of its free lists in the first two words of
 * freed blocks, where a use after free (or a block handed out again and
 * read before it is written) shows them, and a seal in every block's
 * header.  These tests read those words as an attacker would and try the
 * relations that gave a key away before (a list's end stored the key
 * itself, link ^ check ^ block address was one constant per heap) and
 * their near cousins: each must vary from block to block.  They also move
 * a header to the next block, adjusted by the address difference, which
 * checked there when the seal covered only fields ^ address.
 *
 * Black box: the public calls, the raw bytes of freed blocks (their pages
 * stay committed) and the header layout that block.h documents (8 bytes
 * before the block, the size in granules in the first 4).  The engine's
 * promises, not Windows': registered on the emulated engine only.
 */
#include "suites.h"

#include <string.h>

enum { BLOCKS = 14 }; /* blocks freed per heap and list kind */

/* The pointer-sized word at p (the engine's links are uintptr_t). */
static uint64_t word_at(const void* p) {
  uintptr_t w;
  memcpy(&w, p, sizeof w);
  return w;
}

static uint64_t addr(const void* p) {
  return (uint64_t)(uintptr_t)p;
}

/* Assert that the n values v[] are pairwise different (random values
 * collide by a negligible chance). */
static void assert_all_differ(const uint64_t* v, int n, const char* what) {
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      ck_assert_msg(v[i] != v[j], "%s: blocks %d and %d share 0x%016llx",
                    what, i, j, (unsigned long long)v[i]);
}

/* Assert that the n values v[] are not all the same: not a constant of
 * the heap, which is what a relation revealing a key gives. */
static void assert_varies(const uint64_t* v, int n, const char* what) {
  for (int i = 1; i < n; i++)
    if (v[i] != v[0])
      return;
  ck_abort_msg("%s: 0x%016llx in each of %d blocks", what,
               (unsigned long long)v[0], n);
}

/* What an attacker computes from freed block p: its first two
 * pointer-sized words w0
 * (a link) and w1 (the quick link's check word, or a bin's second link),
 * the addresses of the block and its header, and `target`, the header
 * address the link leads to if known (0 for the end of a list). */
struct freed {
  uint64_t w0, w1, block, header, target;
};

static struct freed freed_read(const unsigned char* p, uint64_t target) {
  struct freed f = {word_at(p), word_at(p + sizeof(uintptr_t)), addr(p),
                    addr(p) - 8, target};
  return f;
}

/* The combinations of one freed block's words with what the attacker
 * knows; each must vary from block to block (the old engine made some of
 * them the key, or the key rotated, in every block).  The bins' two
 * links, both NULL, are left out of "w0 ^ w1": they differ in the
 * carries of one bit, a value of no use (bin_links_reveal_no_key checks
 * that they differ). */
enum { RELATIONS = 10 };
static const char* const relation_names[RELATIONS] = {
    "w0",           "w1",          "w0 ^ target",      "w0 - target",
    "w0 ^ block",   "w0 - block",  "w0 ^ w1 ^ header", "w0 ^ w1 ^ block",
    "w1 ^ header",  "w0 ^ w1",
};

static uint64_t relation(int k, const struct freed* f) {
  switch (k) {
  case 0: return f->w0;
  case 1: return f->w1;
  case 2: return f->w0 ^ f->target;
  case 3: return f->w0 - f->target;
  case 4: return f->w0 ^ f->block;
  case 5: return f->w0 - f->block;
  case 6: return f->w0 ^ f->w1 ^ f->header;
  case 7: return f->w0 ^ f->w1 ^ f->block;
  case 8: return f->w1 ^ f->header;
  default: return f->w0 ^ f->w1;
  }
}

/* Every relation varies over the n freed blocks f[] of one heap. */
static void assert_no_relation(const struct freed* f, int n, int relations,
                               const char* where) {
  char what[128];
  uint64_t v[BLOCKS];
  for (int k = 0; k < relations; k++) {
    for (int i = 0; i < n; i++)
      v[i] = relation(k, &f[i]);
    snprintf(what, sizeof what, "%s: %s", where, relation_names[k]);
    assert_varies(v, n, what);
  }
}

/* Small blocks of a size each, freed: each ends its quick list, its link
 * the encoding of NULL (the old engine stored the heap key itself there).
 * Then, per size, two blocks freed in turn, so that the second links to
 * the first, whose address the attacker knows (the old link ^ target was
 * the key again).  Two heaps, 64 KiB committed from the start: a heap
 * merges its quick lists into the bins once they hold an eighth of what
 * it committed, and these blocks (2 KiB) must stay on theirs. */
START_TEST(quick_list_links_reveal_no_key) {
  for (int k = 0; k < 2; k++) {
    /* NO_SERIALIZE: a heap without runs, whose small sizes have quick
     * lists (runs keep nothing in freed blocks) */
    HANDLE h = HeapCreate(HEAP_NO_SERIALIZE, (SIZE_T)64 << 10, 0);
    ck_assert_ptr_nonnull(h);
    for (int i = 0; i < BLOCKS; i++)
      ph_test_activate_size(h, 16 * (SIZE_T)(i + 1));
    unsigned char* p[BLOCKS];
    struct freed ends[BLOCKS], pairs[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) { /* 16, 32, ... bytes: a list each */
      p[i] = HeapAlloc(h, 0, 16 * (SIZE_T)(i + 1));
      ck_assert_ptr_nonnull(p[i]);
    }
    for (int i = 0; i < BLOCKS; i++) {
      ck_assert_int_ne(HeapFree(h, 0, p[i]), FALSE);
      ends[i] = freed_read(p[i], 0);
    }
    for (int i = 0; i < BLOCKS; i++) { /* per size, r links to q */
      unsigned char* q = HeapAlloc(h, 0, 16 * (SIZE_T)(i + 1));
      unsigned char* r = HeapAlloc(h, 0, 16 * (SIZE_T)(i + 1));
      ck_assert_ptr_eq(q, p[i]); /* the list's block, taken back */
      ck_assert_ptr_nonnull(r);
      ck_assert_int_ne(HeapFree(h, 0, q), FALSE);
      ck_assert_int_ne(HeapFree(h, 0, r), FALSE);
      pairs[i] = freed_read(r, addr(q) - 8);
    }
    uint64_t w0[BLOCKS];
    for (int i = 0; i < BLOCKS; i++)
      w0[i] = ends[i].w0;
    assert_all_differ(w0, BLOCKS, "quick-list ends: w0");
    assert_no_relation(ends, BLOCKS, RELATIONS, "quick-list ends");
    assert_no_relation(pairs, BLOCKS, RELATIONS, "quick-list links");
    /* The key as a link to a known block would give it, against the key
     * as a list's end would: never the same. */
    for (int i = 0; i < BLOCKS; i++)
      for (int j = 0; j < BLOCKS; j++)
        ck_assert_uint_ne(pairs[i].w0 ^ pairs[i].target, ends[j].w0);
    ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
    ck_assert_int_ne(HeapDestroy(h), FALSE);
  }
}
END_TEST

/* Small blocks of a heap with runs (a growable serialized one), freed by
 * the thread that allocated them: a run keeps a slot's state and slack in
 * its descriptor, so a freed block holds what the program left there,
 * nothing of the engine's.  (Once other threads free a part's blocks, its
 * free slots carry a keyed mark in their first word: test-scale.c.) */
START_TEST(run_slots_keep_nothing_in_freed_blocks) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  ph_test_activate_size(h, 100);
  unsigned char* p[BLOCKS];
  for (int i = 0; i < BLOCKS; i++) {
    p[i] = HeapAlloc(h, 0, 100);
    ck_assert_ptr_nonnull(p[i]);
    memset(p[i], 0x5C, 100);
  }
  for (int i = 0; i < BLOCKS; i++) {
    ck_assert_int_ne(HeapFree(h, 0, p[i]), FALSE);
    ck_assert_uint_eq(ph_test_first_bad_byte(p[i], 100, 0x5C), 100);
  }
  ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  ck_assert_int_ne(HeapDestroy(h), FALSE);
}
END_TEST

/* Medium blocks of a fixed heap (which has no size classes above 512
 * bytes), a size each, kept apart by small blocks so that they do not
 * merge: each freed block is alone in its bin, both its links the
 * encoding of NULL (the old engine stored the key in both).  Two heaps. */
START_TEST(bin_links_reveal_no_key) {
  /* Block sizes in 16-byte granules, header included: off the size
   * classes (multiples of 4 here), each in a bin of its own. */
  static const unsigned granules[BLOCKS] = {35, 37, 38, 39, 41, 42, 43,
                                            45, 46, 47, 49, 50, 51, 53};
  for (int k = 0; k < 2; k++) {
    HANDLE h = HeapCreate(0, 0, (SIZE_T)1 << 20);
    ck_assert_ptr_nonnull(h);
    unsigned char *p[BLOCKS], *guard[BLOCKS];
    struct freed ends[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
      p[i] = HeapAlloc(h, 0, 16 * (SIZE_T)(granules[i] - 1));
      guard[i] = HeapAlloc(h, 0, 16);
      ck_assert_ptr_nonnull(p[i]);
      ck_assert_ptr_nonnull(guard[i]);
    }
    for (int i = 0; i < BLOCKS; i++) {
      ck_assert_int_ne(HeapFree(h, 0, p[i]), FALSE);
      ends[i] = freed_read(p[i], 0);
    }
    uint64_t w0[BLOCKS], w1[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
      w0[i] = ends[i].w0;
      w1[i] = ends[i].w1;
      ck_assert_uint_ne(w0[i], w1[i]); /* NULL twice, stored differently */
    }
    assert_all_differ(w0, BLOCKS, "bin-list ends: w0");
    assert_all_differ(w1, BLOCKS, "bin-list ends: w1");
    assert_no_relation(ends, BLOCKS, RELATIONS - 1, "bin-list ends");
    ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
    ck_assert_int_ne(HeapDestroy(h), FALSE);
  }
}
END_TEST

/* A live block's header copied over the next block's, its size XORed
 * with the difference of the two addresses: a seal over (fields ^
 * address) checked there as it did in place, and the engine took the
 * made-up size.  Now the copy is refused, as any overwritten header. */
START_TEST(header_moved_and_adjusted_does_not_check) {
  HANDLE h = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(h);
  int checked = 0; /* a 16-bit check: one in 65536 does, by chance */
  for (int i = 0; i < BLOCKS; i++) {
    unsigned char* a = HeapAlloc(h, 0, 40);
    unsigned char* b = HeapAlloc(h, 0, 40);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    unsigned char saved[8], forged[8];
    memcpy(saved, b - 8, 8);
    memcpy(forged, a - 8, 8);
    uint32_t size, diff = (uint32_t)((addr(a) - 8) ^ (addr(b) - 8));
    memcpy(&size, forged, 4);
    size ^= diff;
    memcpy(forged, &size, 4);
    memcpy(b - 8, forged, 8);

    if (HeapSize(h, 0, b) != (SIZE_T)-1)
      checked++;
    else
      ck_assert_int_eq(HeapValidate(h, 0, b), FALSE);
    memcpy(b - 8, saved, 8); /* put it back: the heap is whole again */
    ck_assert_uint_eq(HeapSize(h, 0, b), 40);
    ck_assert_int_ne(HeapValidate(h, 0, NULL), FALSE);
  }
  ck_assert_int_ne(HeapDestroy(h), FALSE);
  ck_assert_int_le(checked, 1);
}
END_TEST

Suite* test_hardening(void) {
  Suite* s = suite_create("hardening");
  TCase* tc = tcase_create("core");
  ph_test_add_emul(tc, quick_list_links_reveal_no_key,
                   "the quick lists are portheap's engine");
  ph_test_add_emul(tc, run_slots_keep_nothing_in_freed_blocks,
                   "runs are portheap's engine");
  ph_test_add_emul(tc, bin_links_reveal_no_key,
                   "the bins are portheap's engine");
  ph_test_add_emul(tc, header_moved_and_adjusted_does_not_check,
                   "block headers are portheap's engine");
  suite_add_tcase(s, tc);
  return s;
}
