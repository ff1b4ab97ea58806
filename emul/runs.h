/*
 * runs.h - runs: the low-fragmentation front end of a heap that can have
 * one (a serialized growable heap, as Windows' LFH), for blocks of up to
 * PH__QUICK_EXACT granules once requests of their size have come
 * PH__LFH_AFTER times (ph__quick_active).
 *
 * A run is a head block followed by n slots of c granules, all of them
 * blocks of the region's sequence, so that walks, validation and merging
 * step through them as through any block:
 *
 *   [head: header, spare bytes, struct ph__run] [slot 0] ... [slot n-1]
 *
 * A slot's header is written and sealed once, when the run is made: state
 * RUN, its index in the slack bits, and in the size field its granules c
 * and, above them, the granules from slot 0 to it (ph__run_slot_size),
 * which lead a HeapFree to the descriptor with a shift and a subtraction
 * (multiplying index and c there, on the way from the header's load to
 * the bitmap's, cost hot-1 and hot-few 0.4 ns a pair).  Whether a slot is
 * busy, and its slack while it is, live in the run's descriptor, which
 * ends where slot 0 begins: bit i of `free` set means slot i is free.  So
 * a HeapAlloc from a run takes a bit and stores the size asked, mod 256
 * (the slack reads back from it and the slot's size); a HeapFree checks the
 * slot's header (its seal: keyed, by address, so the descriptor it leads
 * to is where the engine put it), checks that the bit is clear and sets
 * it.  No header is rewritten and no link is stored in freed memory, so
 * there is nothing to encode or check there, and a write after free
 * cannot steer an allocation (Windows' LFH keeps its free slots in a
 * bitmap for the same reason).
 *
 * The descriptor lies inside the heap's memory, after the head's header:
 * an overrun of the block before the run reaches the head's header, then
 * the canary (its address XORed with a secret of the heap), before the
 * bitmap.  The allocation path checks the canary before it hands out a
 * slot, and so do the slow paths before they follow a run's links (one
 * XOR: as quick fields are checked, it stops an overrun, not a reader of
 * heap memory; a keyed rotation and add instead cost hot-1 1.5 ns a
 * pair); dissolving a run checks its head's sealed header, validation
 * the whole run (ph__run_check).
 *
 * Lists, per class c of a shard h: h->run[c] is the active run, which
 * serves allocations; it heads a list, through `next`, of runs with a
 * quarter of their slots free or more (ph__run_relist) and a busy one.
 * Other runs are on no list: only the active run fills, and it is
 * replaced when it has no free slot, by the first run of its list, else
 * its spare, else a new run; a run on no list joins the list when a
 * quarter of its slots are free.  A run that is not active and whose
 * last busy slot is freed becomes the active run's spare if it has none
 * (so that a class whose live count swings around a run's size does not
 * make and dissolve a run each time), else it is dissolved: merged back
 * into the back end.  The active run and its spare are kept even when
 * empty (Windows keeps its subsegment too: a walk after all its blocks
 * are freed shows the free slots), until HeapCompact or decay flushes
 * them.
 *
 * The slot a shard freed last is its next allocation of that size, if its
 * header is still the word its free read and its bit still free
 * (ph__run_pop_last_freed): a size with more blocks alive than a run
 * holds then reuses the freed slot's bitmap word, which its free has just
 * written, rather than the active run's, which the free hit only
 * sometimes (docs/engine.md has the figures).  The runs' slow paths
 * forget the slot (runs.c: run_forget) before they set a countdown anew,
 * move a run or dissolve it.
 *
 * Once a shard has released blocks guests freed (PH__RUNS_MARKED in h->runs,
 * set by its drain), its free slots carry a keyed free mark in their first
 * payload word (ph__free_mark), cleared when they are handed out: a guest
 * (remote.c) refuses a slot that carries it, without reading the run's
 * bitmap, a line its owner keeps writing (reading it cost larson about 3 ns
 * a pair; writing the marks on a shard no guest frees into cost hot-1
 * 0.5 ns; guests setting the flag, a look at the owner's lock line at every
 * guest free, cost larson 7).  The bitmap stays the truth; the owner checks
 * it at every free, and the drain of the guests' frees reports a slot it
 * finds free there (a slot its owner freed before its first drain carries no
 * mark: a guest's second free of it is reported so, when the owner drains
 * it, not by the call).
 */
#ifndef PH_RUNS_H
#define PH_RUNS_H

#include "engine.h"

/* Slots of a run: at most a bitmap word's.  A size's first run spans
 * about PH__RUN_FIRST_BYTES (at least PH__RUN_FIRST_MIN slots), so that a
 * shard that uses many sizes a little holds little (20 blocks of each of
 * the 33 sizes: 328 KiB committed, 776 with full runs); each run a size
 * needs beyond it has twice the slots of the size's active run, up to a
 * word's (a run of 520-byte blocks then spans 33 KiB): a size used a
 * little more than its first run holds adds a run its size, not a full
 * one whose slot headers touch every page (12 blocks of each size: 228
 * KiB resident, not 468), and one in demand soon has full runs, as small
 * runs would spread its live blocks over more runs and pages. */
#define PH__RUN_SLOTS ((unsigned)sizeof(uintptr_t) * 8u)
#define PH__RUN_FIRST_BYTES 4096u
#define PH__RUN_FIRST_MIN 8u

/* A run that is not active goes back on its list once a quarter of its
 * slots are free: a refill then serves a quarter of a run or more, where
 * taking back a run at its first free slot made one allocation in five a
 * refill on small churn (31.6 ns a pair against 23.0 with quick lists). */
static inline unsigned ph__run_relist(unsigned n) {
  return n / 4u;
}
/* The active run's countdown: the frees between two looks at it by
 * ph__run_moved, which only sets it again.  Counting its allocations up
 * instead (so that it never ran out) cost hot-few 0.1-0.2 ns a pair. */
#define PH__RUN_ACTIVE_LEFT UINT16_MAX
#define PH__RUN_SLACK_EXT 255u /* a slack of this or more: kept in the
                                  slot's last 8 bytes (ph__run_set_slack) */

struct ph__run { /* what every call touches first, then the slacks */
  uintptr_t canary;     /* ph__run_canary(h, run) */
  uintptr_t free;       /* bit i set: slot i is free (relaxed atomics) */
  uint16_t left;        /* frees before ph__run_moved looks at the run:
                           of a run on the active run's list and the
                           spare, its busy slots; of the active run,
                           PH__RUN_ACTIVE_LEFT, set again when it runs
                           out (the allocation path keeps no count); of
                           a run on no list, frees until a quarter of its
                           slots are free */
  uint16_t n;           /* slots */
  uint16_t c;           /* granules of a slot */
  uint16_t head_g;      /* granules of the head block */
  uint8_t used[PH__RUN_SLOTS]; /* of busy slots: the payload less the
                                  slack, mod 256 (the size asked, as the
                                  allocation path stores it); a slack of
                                  PH__RUN_SLACK_EXT: see there */
  struct ph__run* next; /* the list the active run heads (see above) */
  struct ph__run* prev; /* NULL for the active run and runs on no list */
  struct ph__run* spare; /* the active run's: an empty run kept for its
                            next refill (on no list), or NULL */
};

/* Bytes from the descriptor to slot 0's header: the descriptor, rounded
 * so that slot 0's header lies where any header does (8 mod 16). */
#define PH__RUN_DESC                                                           \
  ((sizeof(struct ph__run) + PH__GRANULE - 1) / PH__GRANULE * PH__GRANULE)
/* The smallest head block: its header and the descriptor. */
#define PH__RUN_HEAD_MIN                                                       \
  ((PH__HEADER + PH__RUN_DESC + PH__GRANULE - 1) / PH__GRANULE)

/* Set bits of x.  Where the target has no popcount instruction (x86-64's
 * baseline), GCC's builtin is a call to libgcc; these few shifts and adds
 * are not. */
static inline unsigned ph__popcount(uintptr_t x) {
#if defined(__GNUC__) && (defined(__POPCNT__) || defined(__aarch64__))
  return (unsigned)__builtin_popcountll((unsigned long long)x);
#else
  uint64_t v = (uint64_t)x;
  v -= (v >> 1) & 0x5555555555555555ull;
  v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
  v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return (unsigned)((v * 0x0101010101010101ull) >> 56);
#endif
}

/* Set bit i (< PH__RUN_SLOTS) of *f; returns whether it was set already.
 * On x86 one `bts`, whose carry is the bit it found: a test and a set
 * made the hot pairs 1-2 % slower (session 23, bench/ab.sh). */
static inline bool ph__bit_test_set(uintptr_t* f, unsigned i) {
#if (defined(__x86_64__) || defined(__i386__)) &&                              \
    defined(__GCC_ASM_FLAG_OUTPUTS__)
  bool was;
  __asm__("bts %2, %0" : "+r"(*f), "=@ccc"(was) : "r"((uintptr_t)i));
  return was;
#else
  bool was = (*f >> i) & 1u;
  *f |= (uintptr_t)1 << i;
  return was;
#endif
}

/* The canary of descriptor r of h: its address XORed with a secret of
 * h (one XOR on the fast paths).  Without reading heap memory it cannot
 * be made up; read, it gives the secret away, and with it every run's
 * canary of that heap: it stops overruns, not a reader. */
static inline uintptr_t ph__run_canary(const struct ph__heap* h,
                                       const struct ph__run* r) {
  return (uintptr_t)((uint64_t)(uintptr_t)r ^ h->seal.run);
}

static inline bool ph__run_intact(const struct ph__heap* h,
                                  const struct ph__run* r) {
  return r->canary == ph__run_canary(h, r);
}

static inline struct ph__block* ph__run_slot(const struct ph__run* r,
                                             unsigned i) {
  return (struct ph__block*)((char*)r + PH__RUN_DESC +
                             ((size_t)i * r->c << PH__GRANULE_SHIFT));
}

/* The head block of run r. */
static inline struct ph__block* ph__run_head(const struct ph__run* r) {
  return (struct ph__block*)((char*)r + PH__RUN_DESC -
                             ((size_t)r->head_g << PH__GRANULE_SHIFT));
}

/* The size field of slot i of a run of c-granule slots (block.h:
 * PH__RUN_SIZE_SHIFT). */
static inline uint32_t ph__run_slot_size(uint32_t c, unsigned i) {
  return c | (i * c) << PH__RUN_SIZE_SHIFT; /* i * c < 2^12 */
}

/* Slot b's index and run, from w, its sealed header word. */
static inline unsigned ph__run_index(uint64_t w) {
  return (unsigned)(w >> 32) & PH__SLACK_MASK;
}
static inline struct ph__run* ph__run_of(const struct ph__block* b,
                                         uint64_t w) {
  uint32_t before = (uint32_t)w >> PH__RUN_SIZE_SHIFT;
  return (struct ph__run*)((char*)b - ((size_t)before << PH__GRANULE_SHIFT) -
                           PH__RUN_DESC);
}

static inline uintptr_t ph__run_free_bits(const struct ph__run* r) {
  return __atomic_load_n(&r->free, __ATOMIC_RELAXED);
}
static inline void ph__run_set_free(struct ph__run* r, uintptr_t f) {
  __atomic_store_n(&r->free, f, __ATOMIC_RELAXED);
}

/* Whether b is a live block of h: its header seals and says BUSY, or it
 * is a slot whose bit says busy, in a run whose canary checks.  One keyed
 * product.  (A guest, without the lock, tells a free slot by its free
 * mark instead: remote.c.) */
static inline bool ph__block_live(const struct ph__heap* h,
                                  const struct ph__block* b) {
  uint64_t w = ph__block_word(b);
  if (!ph__block_word_sealed(&h->seal, b, w))
    return false;
  switch (ph__block_word_state(w)) {
  case PH__STATE_BUSY:
    return true;
  case PH__STATE_RUN: {
    const struct ph__run* r = ph__run_of(b, w);
    return ph__run_intact(h, r) &&
           !((ph__run_free_bits(r) >> ph__run_index(w)) & 1u);
  }
  default:
    return false;
  }
}

/* The slack of live block b of h (BUSY, or a busy run slot: from its byte
 * in the descriptor, or PH__RUN_SLACK_EXT and its own last bytes):
 * SIZE_MAX if the block's own bytes that keep a large one were
 * overwritten. */
static inline size_t ph__live_slack(const struct ph__heap* h,
                                    const struct ph__block* b) {
  uint64_t w = ph__block_word(b);
  if (ph__block_word_state(w) != PH__STATE_RUN)
    return ph__block_slack_of(&h->seal, b);
  uint8_t used = ph__run_of(b, w)->used[ph__run_index(w)];
  size_t slack = (ph__granules_payload(ph__run_granules(w)) - used) & 0xFFu;
  return slack < PH__RUN_SLACK_EXT
             ? slack
             : ph__block_slack_ext(&h->seal, b, ph__run_granules(w));
}

/* Keep `slack` bytes (at most the slot's payload) as busy slot b's
 * (header word w). */
static inline void ph__run_set_slack(const struct ph__heap* h,
                                     struct ph__block* b, uint64_t w,
                                     size_t slack) {
  struct ph__run* r = ph__run_of(b, w);
  unsigned i = ph__run_index(w);
  size_t kept = slack < PH__RUN_SLACK_EXT ? slack : PH__RUN_SLACK_EXT;
  r->used[i] = (uint8_t)(ph__granules_payload(ph__run_granules(w)) - kept);
  if (kept == PH__RUN_SLACK_EXT)
    ph__block_slack_store(&h->seal, b, ph__run_granules(w), slack);
}

/* Hand out free slot i of run r, whose data is `data`, for `size` bytes
 * (1 .. c granules' payload), `rest` being r's free bits without it: its
 * free mark cleared if `marked`.  Returns data. */
static inline void* ph__run_hand_out(struct ph__run* r, uintptr_t rest,
                                     unsigned i, uintptr_t* data,
                                     size_t size, bool marked) {
  ph__run_set_free(r, rest);
  r->used[i] = (uint8_t)size; /* its slack, at most 24, reads back */
  if (marked)
    __atomic_store_n(data, 0, __ATOMIC_RELAXED); /* its free mark goes */
  return data;
}

/* In h (entered): the slot freed last, for `size` bytes of class c, if it
 * is of class c and still free, its header still the word its free read
 * (an overwrite since then leaves the slot to ph__run_pop's way); else
 * NULL.  Its run's countdown takes back the free's step: the slot is busy
 * again, as if never freed (the runs' slow paths forget the slot before
 * they set a countdown anew, runs.c: run_forget). */
static inline void* ph__run_pop_last_freed(struct ph__heap* h, uint32_t c,
                                           size_t size, bool marked) {
  uint64_t lw = h->last_freed_w;
  /* ph__run_granules(lw) != c (0 for none) as a byte compare: one
   * instruction fewer on every allocation that does not reuse the slot */
  _Static_assert(PH__RUN_SIZE_SHIFT == 8, "a slot's granules: its low byte");
  if (PH_LIKELY((uint8_t)lw != (uint8_t)c))
    return NULL;
  uintptr_t* data = h->last_freed;
  struct ph__block* b = ph__block_of(data);
  uint64_t w = ph__block_word(b);
  h->last_freed_w = 0;
  if (PH_UNLIKELY(w != lw))
    return NULL;
  struct ph__run* r = ph__run_of(b, w);
  unsigned i = ph__run_index(w);
  uintptr_t f = ph__run_free_bits(r);
  if (PH_UNLIKELY(!((f >> i) & 1u))) /* handed out since by the way below */
    return NULL;
  r->left++;
  return ph__run_hand_out(r, f & ~((uintptr_t)1 << i), i, data, size,
                          marked);
}

/* In h (entered): `size` bytes (1 .. c granules' payload) from the slot of
 * class c freed last (ph__run_pop_last_freed), else from the active run of
 * class c; NULL if that has none free, or does not check; the slot's free
 * mark cleared if `marked` (ph__runs_marked(h): a constant where the
 * caller has tested h->runs as a whole).  The active run's slot's header is
 * not read: an overrun of the slot before may have overwritten it while it
 * was free, and the block is then handed out with it; its HeapFree fails and
 * reports the damage (the slot stays busy).  Reading it here (one compare,
 * as quick fields are checked) cost hot-1 0.9 ns a pair: the slot's line,
 * which the caller's first write would have fetched, fetched on the way
 * out. */
static inline void* ph__run_pop(struct ph__heap* h, uint32_t c, size_t size,
                               bool marked) {
  void* p = ph__run_pop_last_freed(h, c, size, marked);
  if (p != NULL)
    return p;
  struct ph__run* r = h->run[c];
  if (PH_UNLIKELY(r == NULL || !ph__run_intact(h, r)))
    return NULL;
  uintptr_t f = r->free;
  if (PH_UNLIKELY(f == 0))
    return NULL;
  unsigned i = ph__ctz64(f);
  uint32_t before = i * c; /* granules, < 2^13 */
  uintptr_t* data = (uintptr_t*)((char*)r + PH__RUN_DESC + PH__HEADER +
                                 ((size_t)before << PH__GRANULE_SHIFT));
  return ph__run_hand_out(r, f & (f - 1), i, data, size, marked);
}

void ph__run_moved(struct ph__heap* h, struct ph__run* r);

/* What ph__run_release did. */
enum ph__release {
  PH__RELEASE_TWICE = 0, /* nothing: the slot was free already */
  PH__RELEASE_DONE,      /* the slot is free */
  PH__RELEASE_MOVED      /* the slot is free; the caller passes its run
                            (ph__run_of) to ph__run_moved */
};

/* In h (entered): free slot b, whose header word w seals as a RUN slot's
 * of h; unless its run must move, b becomes the slot freed last
 * (ph__run_pop_last_freed).  The canary is not checked here (0.35 ns a
 * pair on hot-1): a slot's header leads to its descriptor, so what is
 * written stays inside it, and the descriptor's next use that could hand
 * a slot out or move the run (ph__run_pop, ph__run_moved, a refill)
 * checks it.  The caller makes any call after this (ph__run_moved, the
 * report of a second free), so that this path saves no register. */
static inline enum ph__release ph__run_release(struct ph__heap* h,
                                               struct ph__block* b,
                                               uint64_t w) {
  struct ph__run* r = ph__run_of(b, w);
  unsigned i = ph__run_index(w);
  uintptr_t f = r->free;
  if (PH_UNLIKELY(ph__bit_test_set(&f, i)))
    return PH__RELEASE_TWICE;
  ph__run_set_free(r, f);
  if (ph__runs_marked(h))
    __atomic_store_n((uintptr_t*)ph__block_data(b), ph__free_mark(h, b),
                     __ATOMIC_RELAXED);
  if (PH_UNLIKELY(--r->left == 0))
    return PH__RELEASE_MOVED;
  h->last_freed = ph__block_data(b);
  h->last_freed_w = w;
  return PH__RELEASE_DONE;
}

void* ph__run_alloc(struct ph__heap* h, uint32_t c, size_t size);
bool ph__run_free(struct ph__heap* h, struct ph__block* b);
void ph__runs_flush(struct ph__heap* h);
struct ph__block* ph__run_check(struct ph__heap* h, struct ph__block* head,
                                const struct ph__block* end);
bool ph__runs_check_lists(struct ph__heap* h);

#endif /* PH_RUNS_H */
