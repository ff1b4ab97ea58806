/*
 * fast.h - the fast paths of HeapAlloc and HeapFree: a small block (up to
 * 512 bytes: a slot of a run of its size, runs.h, or on a heap without
 * runs the head of a quick list of its own size) of the heap this thread
 * used last, entered through the thread's token, the bias of the shard
 * it allocates from (lock.h; with no lock at all on a NO_SERIALIZE heap,
 * and through the mutex where nothing is biased).
 *
 * They do exactly what the general paths in api.c do in that case, with
 * the same checks, in fewer instructions: no call, no register saved, no
 * result passed through memory.  Whatever they do not handle (another
 * heap, flags, a big block, no token, a pointer that does not
 * check, an allocation the run, the list and the victim cannot serve)
 * they leave untouched and the entry point hands the call, arguments
 * unchanged, to its general path, which also reports errors.  A block or
 * request that is not small, on the same heap, is handed over already
 * entered (api.c).
 *
 * Instructions saved here paid more than their own cost in the benchmarks
 * (about 0.1 ns each on small churn, whose time is mostly cache misses):
 * the shorter a call, the sooner the processor reaches the caller's next
 * miss.
 */
#ifndef PH_FAST_H
#define PH_FAST_H

#include "small.h"

/* Requests of 1 .. PH__FAST_MAX bytes (size - 1 < PH__FAST_MAX, which
 * leaves out 0) have a quick list of their own size. */
#define PH__FAST_MAX ((size_t)(PH__QUICK_EXACT - 1) * PH__GRANULE)

/* Whether the fast paths may serve a call with `flags` on `heap`: it is
 * the heap of the thread's lookup cache (ph__heap_lookup).  Then the
 * thread's token (ph__fast_enter) names the shard to use, if it has one:
 * a token is never stale, so there is no epoch to read here; the other
 * ways in read it (ph__fast_shard).  Each test is marked likely on its own
 * (and so is the token's, engine.h): marked as a whole, the compiler made
 * the flags test and the bias test jumps taken on every call, the fast
 * path's code a line the processor fetched in three pieces. */
static inline bool ph__fast_hit(const void* heap, uint32_t flags) {
  return PH_LIKELY(heap == ph__thread.handle) && PH_LIKELY(flags == 0);
}

/* In s (entered): `size` bytes from the non-empty quick list of blocks of
 * c granules, or NULL if its head or its link does not check (the general
 * path reports it): ph__quick_head_ok, with the head's PH__PREV_FREE kept
 * from the fields it checked. */
static inline void* ph__fast_pop(struct ph__heap* s, uint32_t c,
                                 size_t size) {
  struct ph__block* b = s->quick[c];
  uint64_t f = ph__block_word(b) & PH__FIELDS_MASK;
  if (PH_UNLIKELY(!ph__quick_fields_ok(f, c) || !ph__quick_link_ok(s, b)))
    return NULL;
  ph__quick_unlink(s, c, b, c);
  uint32_t slack = (c << PH__GRANULE_SHIFT) - PH__HEADER - (uint32_t)size;
  slack |= (uint32_t)(f >> 32) & PH__PREV_FREE;
  ph__block_store(&s->seal, b, ph__block_word_of(c, slack, PH__STATE_BUSY));
  return ph__block_data(b);
}

/* In s (entered): the state of the block whose header is b (the header
 * of a block whose data ph__region_spot or ph__heap_hot_spot allows; NULL
 * for none) if its header seals and no guest has marked it freed
 * (ph__remote_mark), else 0.  One keyed product, whichever the state; the
 * state read as the header's byte (the word's shift cost two
 * instructions more).  A block a guest has freed (remote.c) is live
 * until s releases it, but carries the guest's mark: the general path
 * releases it first, then refuses or reports the call.  The mark is
 * looked for only once a guest has freed into s (s->guests, on the
 * seal's line: a byte the guests write once), so a shard no other
 * thread frees into tests one byte (0.1-0.2 ns a pair on hot-few); a second
 * free after a guest's, ordered after it as any use of a freed block
 * must be, sees both the byte and the mark.  (Looking at s's remote
 * list instead read a line the guests keep writing, a cache miss on
 * every free of a shard whose blocks other threads free: larson.) */
static inline unsigned ph__fast_state(struct ph__heap* s,
                                      const struct ph__block* b) {
  if (PH_UNLIKELY(b == NULL))
    return 0;
  uint64_t w = ph__block_word(b);
  if (PH_UNLIKELY(!ph__block_word_sealed(&s->seal, b, w)))
    return 0;
  if (PH_UNLIKELY(atomic_load_explicit(&s->guests, memory_order_relaxed)) &&
      __atomic_load_n((const uintptr_t*)ph__block_data(b), __ATOMIC_RELAXED) ==
          ph__remote_mark(s, b))
    return 0;
  return b->state;
}

/* In s (entered): b, if it is a live BUSY block of s (ph__fast_state),
 * else NULL. */
static inline struct ph__block* ph__fast_live(struct ph__heap* s,
                                              struct ph__block* b) {
  return ph__fast_state(s, b) == PH__STATE_BUSY ? b : NULL;
}

/* In s (entered), holding region r: the live BUSY block at `data` (of a
 * blocks region, not a large one), or NULL; ph__region_block without the
 * large case. */
static inline struct ph__block* ph__fast_busy(struct ph__heap* s,
                                              struct ph__region* r,
                                              const void* data) {
  return ph__fast_live(s, ph__region_spot(r, data));
}

#endif /* PH_FAST_H */
