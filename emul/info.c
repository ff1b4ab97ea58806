/*
 * info.c - HeapCompact, decay and HeapSummary on the engine.
 *
 * Compaction dissolves empty runs and flushes the quick lists (so every
 * free block is coalesced), hands back regions that hold nothing but one
 * free block (all but the first; decommitted, then to the region cache),
 * purges the pages inside every free block (ph__bins_purge), and
 * decommits the free tail of every region down to the page after its last
 * block (the first region keeps what HeapCreate committed).  Decay (the
 * heap's own compactions, driven by its frees) does the same in steps of
 * PH__WORK_STEP each (about 1 ms here): merging, giving regions back and
 * purging are each counted as they go (PH__WORK_*), and a step that runs
 * out leaves the rest to the next ticks.
 */
#include "runs.h"
#include "small.h"

/* Whether region r holds no block: one FREE block, then the sentinel. */
static bool region_empty(struct ph__heap* h, struct ph__region* r) {
  struct ph__block* b = ph__region_first(r);
  return ph__block_sealed_as(&h->seal, b, PH__STATE_FREE) &&
         ph__block_next(b) == ph__region_sentinel(r);
}

/* Give back region r, which holds one free block: decommitted first, so
 * that it goes to the region cache without dirty pages. */
static void region_drop(struct ph__heap* h, struct ph__region* r) {
  if (!ph__bins_remove(h, ph__region_first(r)))
    return;
  size_t page = ph__page_up(1);
  if (r->commit_size > page)
    ph__heap_decommit(h, r, page);
  ph__heap_region_release(h, r);
}

/* Decommit the pages of r past its last block (and past what `keep`
 * bytes from the base must stay committed).  Returns whether it did. */
static bool region_trim(struct ph__heap* h, struct ph__region* r,
                        size_t keep) {
  struct ph__block* tail = ph__region_last_free(h, r);
  if (tail == NULL)
    return false;
  size_t used = (size_t)((char*)tail - (char*)r) +
                PH__MIN_BLOCK * PH__GRANULE + PH__HEADER; /* and sentinel */
  size_t commit = ph__page_up(used > keep ? used : keep);
  if (commit >= r->commit_size || !ph__bins_remove(h, tail))
    return false;
  ph__heap_decommit(h, r, commit);
  if (r->commit_size != commit) { /* refused: the block stays as it was */
    ph__bins_insert(h, tail);
    return false;
  }
  struct ph__block* new_end = ph__region_sentinel(r);
  uint32_t g = (uint32_t)(((char*)new_end - (char*)tail) >> PH__GRANULE_SHIFT);
  ph__block_set(&h->seal, new_end, 1, PH__STATE_SENTINEL, PH__PREV_FREE);
  ph__block_set(&h->seal, tail, g, PH__STATE_FREE, 0);
  ph__bins_insert(h, tail);
  return true;
}

/* Trim r (region_trim, keeping `keep` bytes) for at most *work, taken
 * off it: a free tail too big for it goes back from its end, a part at a
 * time.  Returns false if some may be left for the next call. */
static bool trim_within(struct ph__heap* h, struct ph__region* r,
                        size_t keep, size_t* work) {
  size_t limit = ph__region_cut(r->commit_size, *work);
  bool short_of_it = limit > keep; /* the work cannot reach `keep` */
  size_t before = r->commit_size;
  bool trimmed = region_trim(h, r, short_of_it ? limit : keep);
  ph__work_spend(work, ph__region_work(before - r->commit_size));
  return !short_of_it || !trimmed || r->commit_size != ph__page_up(limit);
}

/*
 * Compact h, for at most `work` (PH__WORK_ALL: the whole of it): empty
 * runs dissolved, quick blocks merged into the bins, empty regions given
 * back, free tails decommitted, free blocks' pages purged, in that order.
 * What the work did not reach is left to the next call (h->compact_left),
 * which goes on from there: every call but one whose work is 0 does a
 * block, a region or a part of one (a big region's pages, or a big free
 * tail's, go back from its end, a step's worth at a time) at least.
 * Caller holds h's lock.
 */
static void compact(struct ph__heap* h, size_t work) {
  h->compact_left = true;
  ph__runs_flush(h);
  if ((work = ph__quick_flush(h, work)) == 0)
    return;
  struct ph__region* r = h->last;
  while (r != &h->region0) {
    struct ph__region* prev = r->prev;
    if (region_empty(h, r)) {
      if (work == 0)
        return;
      size_t w = ph__region_work(r->commit_size);
      if (w > work && /* its tail first, the rest at the next calls */
          region_trim(h, r, ph__region_cut(r->commit_size, work)))
        return;
      ph__work_spend(&work, w);
      region_drop(h, r);
    }
    r = prev;
  }
  for (r = &h->region0; r != NULL; r = r->next)
    if (work == 0 ||
        !trim_within(h, r, r == &h->region0 ? h->initial_commit : 0, &work))
      return;
  if (work == 0 || ph__bins_purge(h, work) == 0)
    return;
  h->compact_left = false;
  h->released = 0;
}

/* HeapCompact: all of it.  Returns the largest free block's payload in
 * bytes, 0 if none (a walk of the largest bin: not at decay steps). */
size_t ph__heap_compact(struct ph__heap* h) {
  compact(h, PH__WORK_ALL);
  return ph__bins_largest(h);
}

/* ---- decay: memory nobody uses goes back ---------------------------------- */

/* Bytes h holds and does not use: its quick lists, and what went back to
 * its bins unused since it last compacted (free blocks whose pages
 * stay). */
static size_t unused_bytes(const struct ph__heap* h) {
  return ((size_t)h->quick_granules << PH__GRANULE_SHIFT) + h->released;
}

/* Whether h holds much memory it does not use: PH__QUICK_DECAY_MIN bytes
 * and a quarter of what h has committed (a program that freed most of
 * what it had, and does not ask for it again). */
static bool hoarding(const struct ph__heap* h) {
  size_t bytes = unused_bytes(h);
  return bytes >= PH__QUICK_DECAY_MIN && bytes >= h->committed / 4;
}

/* Whether quick list i (or, PH__REUSED_BINS, the bins) served a block
 * since the last decay step. */
static bool served(const struct ph__heap* h, unsigned i) {
  return (h->reused[i >> 6] >> (i & 63)) & 1u;
}

/* At a decay step: whether PH__PURGE_MIN bytes or more of h lay unused
 * for the whole decay time, its quick lists that served no block since
 * the last step (merged into the bins now, for at most *work, taken off
 * it) and, if h handed out no block but from its runs, what went back to
 * its bins since it last compacted.  Hoarding alone left what a heap
 * shrinking at a steady pace freed after its last compaction, up to a
 * quarter of all it had committed: 40 MB freed over 240 ms kept 4.2 MB
 * resident for good.  Starts the next step's record.  If the work ran out
 * (a heap with 500,000 such blocks took 25 ms to merge them at once),
 * h is left to compact at the next ticks, which merge the rest. */
static bool unused_lay_idle(struct ph__heap* h, size_t* work) {
  size_t quick = h->quick_granules;
  for (unsigned i = ph__quick_first(h); i < PH__QUICK_LISTS && *work; i++)
    if (h->quick[i] != NULL && !served(h, i))
      *work = ph__quick_flush_list(h, i, *work);
  size_t idle = (size_t)(quick - h->quick_granules) << PH__GRANULE_SHIFT;
  h->released += idle;
  if (!served(h, PH__REUSED_BINS))
    idle = h->released;
  h->reused[0] = h->reused[1] = 0;
  if (*work == 0)
    h->compact_left = true;
  return idle >= PH__PURGE_MIN;
}

/* Note that the calling thread did a decay step's work now: the clock
 * read after it, as the work took time (compacted_now). */
static void note_compacted(void) {
  ph__thread.compacted_at = (uint32_t)ph__prim_now_ms();
}

/* Compact shard h (held) at a decay step of the calling thread, for at
 * most `work`; the thread then compacts no other before the clock moves
 * on (ph__prim_now_ms moves in steps of the system's tick: 1-4 ms on
 * Linux, about 16 on Windows). */
static void decay_compact(struct ph__heap* h, size_t work) {
  compact(h, work);
  note_compacted();
}

/* Whether the calling thread compacted a shard at this time already (or
 * up to a second later: the clock read after a compaction may have moved
 * on; a thread that never compacted holds 0). */
static bool compacted_now(uint64_t now) {
  return ph__thread.compacted_at - (uint32_t)now < 1000u;
}

/* The region cache's decay (ph__region_cache_decay), a step's work of it,
 * counted as the calling thread's compaction if it released anything.
 * Returns whether it did. */
static bool decay_cache(uint64_t now) {
  if (ph__region_cache_decay(now, PH__WORK_STEP) == PH__WORK_STEP)
    return false;
  note_compacted();
  return true;
}

/* At a tick of shard h: the other shards of its heap that had no decay
 * step of their own for a whole decay time (a shard's steps come with its
 * frees: its threads exited, or only allocate) release the blocks other
 * threads freed into them, and those that then hold PH__PURGE_MIN bytes
 * or more unused are compacted from here, each if no thread holds it.
 * Without this, what a thread freed before it exited stayed with its
 * shard until a thread took its slot again (two threads that each filled
 * and freed 40 MB, then exited: 44 MB resident for good).
 *
 * One compaction per thread and time of the clock (compacted_now): a
 * compaction costs the kernel's work on each page it gives back (0.1-1
 * ms for a shard that held 2.6 MB here), and one call that compacted
 * every quiet shard made a HeapFree take up to 18 ms after 64 threads had
 * exited.  A tick is not once a call: a drain of the blocks guests freed
 * ticks at every PH__TICK_FREES of them, and a drain here may tick the
 * shard it drains.  A sweep that stops at a shard due sets
 * top->sweep_left, and the next ticks of any shard go on from there (a
 * relaxed load a tick) until none is due.  Two sweeps at once skip each
 * other's shards (their locks are taken), and a flag one of them clears
 * late leaves a due shard to the next decay step: later, never lost.  A
 * shard whose compaction left regions (compact_left) stays due. */
static void decay_quiet_shards(struct ph__heap* h, uint64_t now) {
  struct ph__heap* top = h->top;
  if (!atomic_load_explicit(&top->spread, memory_order_relaxed))
    return;
  atomic_store_explicit(&top->sweep_left, false, memory_order_relaxed);
  uint64_t decay = ph__decay_ms();
  for (unsigned i = 0; i < PH__SHARDS; i++) {
    struct ph__heap* s = atomic_load_explicit(&top->shards[i],
                                              memory_order_acquire);
    if (s == NULL || s == h || !ph__heap_enter_alone(s))
      continue;
    bool due = s->compact_left || now >= s->decay_at + decay;
    if (due && compacted_now(now)) { /* at a later tick */
      atomic_store_explicit(&top->sweep_left, true, memory_order_relaxed);
      ph__heap_leave_alone(s);
      return;
    }
    if (due) {
      ph__remote_take(s); /* blocks other threads freed count too */
      if (s->compact_left || unused_bytes(s) >= PH__PURGE_MIN)
        decay_compact(s, PH__WORK_STEP);
      s->decay_at = now + decay;
      if (s->compact_left)
        atomic_store_explicit(&top->sweep_left, true, memory_order_relaxed);
    }
    ph__heap_leave_alone(s);
  }
}

/*
 * Every PH__TICK_FREES quick-list pushes or run frees on h (caller holds
 * h's lock): at most once per decay time, release the region cache's
 * regions that nobody reused, compact h if it hoards memory or what it
 * does not use lay so for a decay time, and the heap's shards that had no
 * such step of their own.  A thread compacts one shard a clock step, and
 * a step does PH__WORK_STEP of the work (the merging of idle quick lists
 * included): what is left (h->compact_left, top->sweep_left) goes on at
 * later ticks, which then come every PH__TICK_SOON frees (a program making
 * a call a millisecond got a step every 256 ms: 2.6 MB of a fragmented
 * heap's pages went back a second).  This
 * is how memory goes back to the system with no thread of our own: the
 * program's own frees drive it (HeapCreate and HeapDestroy decay the
 * cache too).
 */
void ph__heap_tick(struct ph__heap* h) {
  h->tick = PH__TICK_FREES;
  uint64_t now = ph__prim_now_ms();
  bool step = false; /* h's decay step, at most once per decay time */
  if (!compacted_now(now) && !decay_cache(now)) {
    if (now >= h->decay_at) {
      step = true;
      h->decay_at = now + ph__decay_ms();
      size_t work = PH__WORK_STEP;
      bool idle = unused_lay_idle(h, &work); /* starts the next record */
      if (h->compact_left || idle || hoarding(h))
        decay_compact(h, work);
    } else if (h->compact_left) {
      decay_compact(h, PH__WORK_STEP);
    }
  }
  bool sweep = atomic_load_explicit(&h->top->sweep_left, memory_order_relaxed);
  if (step || sweep)
    decay_quiet_shards(h, now);
  if (h->compact_left || sweep || ph__region_cache_decay_left())
    h->tick = PH__TICK_SOON; /* lowered only: a nested tick reset it */
}

/*
 * Bytes requested by h's live blocks: its BUSY blocks' and its large
 * blocks'.  Counted here, block by block as a walk goes, rather than kept
 * up to date by every allocation and free, which the fast paths would pay
 * for; HeapSummary's cost follows the blocks, as HeapWalk's does.  A
 * region whose headers stop checking is counted up to the damage.
 */
static size_t allocated_bytes(struct ph__heap* h) {
  size_t sum = 0;
  for (struct ph__region* r = &h->region0; r != NULL; r = r->next) {
    struct ph__block* end = ph__region_sentinel(r);
    for (struct ph__block* b = ph__region_first(r); b < end;
         b = ph__block_next(b)) {
      if (!ph__block_steppable(h, b, end))
        break;
      if (ph__block_live(h, b)) {
        size_t slack = ph__live_slack(h, b);
        sum += ph__block_capacity(b) - (slack == SIZE_MAX ? 0 : slack);
      }
    }
  }
  for (struct ph__region* r = h->large.first; r != NULL; r = r->next)
    sum += r->large_size;
  return sum;
}

/* Caller holds h's lock. */
void ph__heap_summarize(struct ph__heap* h, ph_heap_summary_t* s) {
  s->cbAllocated = allocated_bytes(h);
  s->cbCommitted = h->committed;
  /* A fixed heap's extra reservation for portheap's larger control data
   * (PH__FIXED_OVERHEAD) is not counted: it reports what was asked, and
   * keeps committed <= reserved <= maximum. */
  bool cap = h->maximum_size != 0;
  if (cap && s->cbCommitted > h->maximum_size)
    s->cbCommitted = h->maximum_size;
  s->cbReserved = cap && h->reserved > h->maximum_size ? h->maximum_size
                                                       : h->reserved;
  s->cbMaxReserve = h->maximum_size != 0 ? h->maximum_size : h->reserved;
}

/* ---- over every shard of a heap ------------------------------------------ */

/* HeapCompact over every shard: the largest free block of any.  Caller
 * holds every shard (ph__heap_enter_all). */
size_t ph__heap_compact_all(struct ph__heap* h) {
  size_t largest = 0;
  for (struct ph__heap* s = h; s != NULL; s = ph__heap_next_shard(s)) {
    size_t n = ph__heap_compact(s);
    if (n > largest)
      largest = n;
  }
  return largest;
}

/* HeapSummary over every shard.  Caller holds every shard. */
void ph__heap_summarize_all(struct ph__heap* h, ph_heap_summary_t* sum) {
  ph_heap_summary_t part;
  ph__heap_summarize(h, sum);
  for (struct ph__heap* s = ph__heap_next_shard(h); s != NULL;
       s = ph__heap_next_shard(s)) {
    ph__heap_summarize(s, &part);
    sum->cbAllocated += part.cbAllocated;
    sum->cbCommitted += part.cbCommitted;
    sum->cbReserved += part.cbReserved;
    sum->cbMaxReserve += part.cbMaxReserve;
  }
}
