/*
 * engine.h - the emulated heap engine's data structures and its internal
 * interface (ph__ functions shared between the files of emul/).
 *
 * A heap is a list of regions (address space reserved from prim, committed
 * as it fills) plus, for growable heaps, blocks too large for a region that
 * get a mapping of their own.  The heap's control structure sits at the
 * base of its first region, and the handle points into it: the base plus
 * 16 bytes times a salt that registry.c varies so that no new heap gets
 * the handle of a recently destroyed one (on Windows the handle is the
 * base).  Every region is aligned to PH__CHUNK (64 KiB) and entered in the
 * address map (map.c), which is how a handle or block pointer is checked
 * before anything behind it is read.
 *
 * Free space is kept two ways:
 *   quick lists  freed blocks up to 128 KiB (small.h), one LIFO list per
 *                size range, not coalesced: constant-time alloc and free
 *                (the role of Windows' low-fragmentation front end, in
 *                use for a size once it has had as many requests)
 *   bins         coalesced free blocks, segregated by size with a bitmap
 *                (exact bins below 1 KiB, 8 per power of two above), so a
 *                good fit is found without a search
 * Quick lists are flushed into the bins (coalescing) before a heap grows
 * and by ph_heap_compact, so churn of mixed sizes cannot grow a heap
 * without bound.
 */
#ifndef PH_ENGINE_H
#define PH_ENGINE_H

#include "internal.h"

#include "block.h"
#include "lock.h"
#include "prim.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PH__CHUNK_SHIFT 16
#define PH__CHUNK ((size_t)1 << PH__CHUNK_SHIFT) /* region alignment */

#define PH__QUICK_EXACT 33u  /* granules: a quick list per size up to here */
#define PH__QUICK_LIMIT 8192u /* granules: quick lists up to here (128 KiB) */
#define PH__QUICK_LISTS (PH__QUICK_EXACT + 2u + 8u * 8u) /* 8 per 2^5 .. 2^12,
                                                           one for 2^13 */
#define PH__LFH_LIMIT 1025u /* granules: blocks of up to 16 KiB, the largest
                               Windows' LFH serves (small.h) */
#define PH__EXACT_BINS 64u
#define PH__BIN_COUNT (PH__EXACT_BINS + 26u * 8u)
#define PH__BIN_WORDS ((PH__BIN_COUNT + 63u) / 64u)

#define PH__SHARDS 64u /* most thread slots (shards) of a shared heap */
/* iRegionIndex: a blocks region reads one of 0 .. PH__REGION_IDS - 1 no
 * other region of its heap reads (0: the heap's first), the lowest free
 * when it is made, except PH__LARGE_INDEX, which every large block reads
 * (Windows' segments are 0 .. 63, its large blocks read 64: Wine's tests);
 * past that many regions, PH__INDEX_OVER, shared. */
#define PH__REGION_IDS 256u
#define PH__LARGE_INDEX 64u
#define PH__INDEX_OVER 255u

#define PH__REGION_MIN ((size_t)2 << 20)  /* first region of a growable heap:
                                             room for a buffer grown to 1 MiB */
#define PH__REGION_MAX ((size_t)64 << 20) /* regions stop doubling here */
#define PH__COMMIT_STEP ((size_t)64 << 10) /* commit at least this much */

/* The largest region a heap may have, in bytes: block sizes are 32-bit
 * counts of granules, so a region's blocks, and any merge of them, must
 * stay below 64 GiB.  HeapCreate refuses a larger initial or maximum size
 * with ERROR_NOT_ENOUGH_MEMORY.  (A 32-bit address space is smaller.) */
#if UINTPTR_MAX > 0xFFFFFFFFu
#  define PH__REGION_BYTES_MAX ((size_t)32 << 30)
#else
#  define PH__REGION_BYTES_MAX SIZE_MAX
#endif

enum ph__region_kind {
  PH__REGION_HEAP = 0x48454150,   /* first region, holds struct ph__heap */
  PH__REGION_BLOCKS = 0x424C4B53, /* further regions of blocks */
  PH__REGION_LARGE = 0x4C524745   /* one large block */
};

/*
 * Header at the base of every region.  Sizes in bytes, from the base.
 * Invariants: commit_size <= reserve_size, both multiples of the page size;
 * blocks regions: the sentinel header sits at base + commit_size - 8.
 * Its size is a whole number of granules (64 bytes on LP64, 48 on ILP32).
 */
struct ph__region {
  struct ph__heap* heap;     /* owner; NULL while in the region cache */
  struct ph__region* next;   /* heap's list of this kind, creation order */
  struct ph__region* prev;
  size_t reserve_size;       /* address space reserved */
  size_t commit_size;        /* committed from the base; changed under the
                                heap's lock with ph__region_set_commit */
  size_t data_offset;        /* first block's header, from the base */
  size_t large_size;         /* LARGE: requested bytes of the block */
  uint32_t kind;             /* enum ph__region_kind */
  uint32_t index;            /* iRegionIndex in walks; in the cache, the
                                stamp of the heap it was the first region
                                of, or 0 (ph__region_retire) */
#if UINTPTR_MAX <= 0xFFFFFFFFu
  uint32_t pad[3];           /* ILP32: 36 bytes of fields, to 48 (3 granules) */
#endif
};

_Static_assert(sizeof(struct ph__region) % PH__GRANULE == 0, "region hdr");

/* Regions linked through prev and next, first to last; both NULL when
 * empty (a heap's large blocks, oldest first; the region cache, newest
 * first).  The caller holds the list's lock. */
struct ph__region_list {
  struct ph__region* first;
  struct ph__region* last;
};

static inline void ph__region_list_append(struct ph__region_list* l,
                                          struct ph__region* r) {
  r->next = NULL;
  r->prev = l->last;
  if (l->last != NULL)
    l->last->next = r;
  else
    l->first = r;
  l->last = r;
}

static inline void ph__region_list_prepend(struct ph__region_list* l,
                                           struct ph__region* r) {
  r->prev = NULL;
  r->next = l->first;
  if (l->first != NULL)
    l->first->prev = r;
  else
    l->last = r;
  l->first = r;
}

static inline void ph__region_list_unlink(struct ph__region_list* l,
                                          struct ph__region* r) {
  if (r->prev != NULL)
    r->prev->next = r->next;
  else
    l->first = r->next;
  if (r->next != NULL)
    r->next->prev = r->prev;
  else
    l->last = r->prev;
}

/* r, on l, was moved with its header (large.c): its neighbours, which
 * still name its old address, name it again. */
static inline void ph__region_list_moved(struct ph__region_list* l,
                                         struct ph__region* r) {
  if (r->prev != NULL)
    r->prev->next = r;
  else
    l->first = r;
  if (r->next != NULL)
    r->next->prev = r;
  else
    l->last = r;
}

/* A region's commit_size as a thread without its heap's lock may read it
 * (a guest checking a block it frees, remote.c): the owner changes it only
 * with ph__region_set_commit, and a live block's pages stay committed
 * whichever value is read.  Relaxed atomics: plain moves. */
static inline size_t ph__region_committed(const struct ph__region* r) {
  return __atomic_load_n(&r->commit_size, __ATOMIC_RELAXED);
}
static inline void ph__region_set_commit(struct ph__region* r, size_t size) {
  __atomic_store_n(&r->commit_size, size, __ATOMIC_RELAXED);
}

/* ph__heap.runs: whether a heap has runs, and whether its shard's free
 * slots carry the free mark (ph__runs_marked). */
#define PH__RUNS 1u
#define PH__RUNS_MARKED 2u

/*
 * A heap.  The fields up to `lock` are read by every thread that uses the
 * heap and written rarely (create, HeapLock, new shards); the rest are the
 * allocator's state, changed under `lock`.  They start on a cache line of
 * their own, so a thread working in one shard does not keep pulling the
 * line that another shard's lookups read.
 */
struct ph__heap {
  struct ph__region region0; /* first: the region base is the heap */
  uint64_t magic;            /* PH__HEAP_MAGIC ^ its address while alive */
  struct ph__seal_keys seal; /* secrets of check values (block.h) */
  uintptr_t link_xor;        /* secrets of stored links (ph__encode) */
  uintptr_t link_add;
  uint32_t options;          /* HeapCreate flags kept: NO_SERIALIZE, ... */
  _Atomic uint8_t compat;    /* top: HeapCompatibilityInformation, 0 or
                                2; only ever goes from 0 to 2 */
  _Atomic uint8_t guests;    /* 1 once a guest has pushed a block of this
                                shard on its remote list (remote.c); only
                                ever goes from 0 to 1, so that the line
                                stays shared by the owner's frees and the
                                guests, which read the seal beside it */
  size_t maximum_size;       /* 0: growable; else HeapCreate's maximum,
                                page-rounded */
  size_t fixed_max;          /* fixed heap: its largest block in bytes
                                (PH__FIXED_OVERHEAD below maximum_size, as
                                on Windows; at most PH_FIXED_BLOCK_MAX) */
  size_t initial_commit;     /* bytes committed by HeapCreate */

  const void* handle;        /* top: the handle, base + 16 x salt (registry.c);
                                NULL until registered, and for shards */
  atomic_uintptr_t owner;    /* top: thread holding ph_heap_lock, or 0 */
  uint32_t owner_depth;      /* top: ph_heap_lock nesting of that thread */
  atomic_uint owner_seq;     /* top: +1 at each release of ph_heap_lock */
  atomic_uint owner_sleepers; /* top: threads asleep waiting for it */
  uint32_t stamp;            /* top, once destroyed: its number among the
                                destroyed heaps (registry.c), which its
                                first region carries into the cache */

  /* Shards: once threads have met inside a serialized growable heap, it
   * gives each thread slot (PH__SHARDS of them) a
   * hidden heap of its own with its own lock, so threads sharing one heap
   * do not queue on one lock (lock.h says how slots are given).  A block
   * is always freed into the shard that holds it.  Walks, validation,
   * summaries and ph_heap_lock cover every shard; only `top` is a
   * handle. */
  struct ph__heap* top;      /* the heap this is a shard of; else itself */
  unsigned slot;             /* this shard's index in top->shards */
  bool sharded;              /* top: threads may get shards */
  atomic_bool spread;        /* top: threads have met inside; they use
                                their slots' shards from now on */
  atomic_bool sweep_left;    /* top: a decay sweep left quiet shards to
                                compact at the next ticks (info.c) */
  _Atomic(struct ph__heap*) shards[PH__SHARDS]; /* top: [0] is top */

  struct ph__heap* reg_next; /* registry list (registry.c) */
  struct ph__heap* reg_prev;
  /* top: bit i set while a blocks region of the heap or a shard reads
   * iRegionIndex i (heap.c: the lowest free one is taken); PH__LARGE_INDEX
   * and PH__INDEX_OVER never go */
  _Atomic uint64_t region_ids[PH__REGION_IDS / 64];

  /* Blocks other threads freed, for this shard to release under its
   * lock (remote.c); pushed without the lock, on a line of its own with
   * the other field guests write, and fields only the slow paths touch
   * (so that the lines the fast paths use keep room for theirs). */
  _Alignas(64) _Atomic(struct ph__block*) remote;
  atomic_uint remote_seen;   /* remote_drains when a guest last looked */
  atomic_uint remote_drains; /* times the remote list was released (by
                                the shard, as it takes the list) */
  bool guest;                /* under the mutex: the thread that took it
                                last does not allocate from this shard (it
                                came to free a block it holds) */
  size_t released;           /* bytes that went back to the bins unused
                                since the last compaction: runs
                                dissolved, quick lists no one popped for a
                                decay time (info.c) */

  _Alignas(64) ph__biased_t lock; /* held for the length of one operation */
  uint8_t runs;              /* 0, or PH__RUNS: small blocks come from
                                runs (runs.h), fixed at creation, where
                                Windows would give the heap its LFH; with
                                PH__RUNS_MARKED once the shard has
                                released blocks guests freed (its free
                                slots carry the free mark from then on,
                                ph__free_mark).  One byte: the allocation
                                fast path tests both at once */
  bool compact_left;         /* a decay step's compaction left work (quick
                                blocks to merge, regions to give back,
                                blocks to purge) to the next ticks */
  uint32_t tick;             /* quick pushes and run frees left until the
                                next ph__heap_tick; on this line, which
                                the fast paths touch anyway */

  /* While the first region is the heap's only blocks region (the common
   * case of a shard), the fast HeapFree finds its blocks without the
   * address map (fast.h): a 16-aligned address in [hot_lo, hot_lo + hot_n
   * granules) is where a block's data may lie there (ph__region_spot says
   * the same of it).  hot_n is 0 while there are other blocks regions
   * (whose blocks take the address map, as would those of the first: a
   * test of which region would be a branch no processor predicts);
   * ph__heap_hot_set keeps them right. */
  uintptr_t hot_lo;
  size_t hot_n;

  /* The run slot freed last, while it may be the next one handed out
   * (runs.h): its sealed header word as the free read it (its class
   * read by ph__run_granules), 0 for none, on the lock's line, which
   * every allocation reads; and its data, which only the slot's reuse
   * reads. */
  uint64_t last_freed_w;
  void* last_freed;

  struct ph__region* last;   /* newest blocks region: growth goes here */
  struct ph__region_list large; /* large blocks, oldest first (walks
                                   list them so, as Windows does) */

  size_t committed;          /* sum of regions' commit_size */
  size_t reserved;           /* sum of regions' reserve_size */

  /* Blocks of up to PH__QUICK_EXACT granules come from runs (runs.h) on
   * a heap that can have Windows' LFH (`runs`), from quick lists on any
   * other: the two never meet in one heap, so they share the slots. */
  union {
    struct ph__block* quick[PH__QUICK_LISTS]; /* heads (ph__quick_list) */
    struct ph__run* run[PH__QUICK_EXACT + 1]; /* active runs, by class */
  };
  uint8_t class_allocs[PH__QUICK_LISTS]; /* requests of each class served
                                            from new space or the bins, up
                                            to PH__LFH_AFTER; a sharded
                                            heap's top counts those of all
                                            its shards (relaxed atomics),
                                            its other shards hold 0 or
                                            PH__LFH_AFTER */
  struct ph__block* victim;           /* remainder of the last split, the
                                         FREE block in no bin, or NULL */
  size_t quick_granules;              /* sizes of the quick blocks, summed */
  uint64_t reused[2];                 /* since the last decay step: bit i,
                                         quick list i popped; bit
                                         PH__REUSED_BINS, a block handed out
                                         but from a run (info.c); on
                                         quick_granules' line, which a
                                         quick pop writes anyway */
  uint64_t bin_map[PH__BIN_WORDS];    /* bit set <=> bin non-empty */
  struct ph__block* bins[PH__BIN_COUNT];
  uint64_t decay_at;                  /* ph__prim_now_ms time of the next
                                         decay step (info.c) */
};

/* The bit of struct ph__heap's `reused` for blocks not from runs. */
#define PH__REUSED_BINS PH__QUICK_LISTS
_Static_assert(PH__REUSED_BINS < 128, "reused bits");

/* Note in h that quick list i, or (PH__REUSED_BINS) the bins, served a
 * block. */
static inline void ph__heap_reused(struct ph__heap* h, unsigned i) {
  h->reused[i >> 6] |= (uint64_t)1 << (i & 63);
}

#define PH__HEAP_MAGIC 0x7068686561700a01ull

/* Handles (registry.c): the base of a heap's first region, 64 KiB
 * aligned as Windows', never one of the last PH__QUARANTINE destroyed: a
 * new heap passes over the cached regions of those heaps while the cache
 * holds less than PH__QUARANTINE_CACHE bytes (region.c), and past that,
 * or when the OS hands such a base back, its handle is the base + 16 x a
 * salt.  A heap's first block starts PH__HEAP_HEADER bytes from its base:
 * the struct, and at least PH__QUARANTINE + 1 granules so that a free
 * salt always exists (ILP32's struct alone is 1792 bytes, 112 granules). */
#define PH__QUARANTINE 128u
#define PH__QUARANTINE_CACHE ((size_t)16 << 20)
/* What a fixed heap of N bytes keeps from its blocks on Windows: its
 * largest block is N - PH__FIXED_OVERHEAD (Wine's tests, asserted on
 * Windows).  portheap's control data is larger, so a fixed heap reserves
 * what that block needs beyond N; HeapSummary counts N. */
#define PH__FIXED_OVERHEAD (0x400u + 0x100u * (unsigned)sizeof(void*))
#define PH__HEAP_HEADER_MIN ((PH__QUARANTINE + 1u) * PH__GRANULE)
#define PH__HEAP_HEADER                                                        \
  (sizeof(struct ph__heap) > PH__HEAP_HEADER_MIN ? sizeof(struct ph__heap)     \
                                                 : PH__HEAP_HEADER_MIN)
_Static_assert(sizeof(struct ph__heap) % PH__GRANULE == 0, "heap hdr");

/* ---- map.c: address -> region ----------------------------------------- */
#define PH__MAP_L2_BITS 20u  /* level 2: one slot per 64 KiB chunk */
#define PH__MAP_L1_SLOTS ((size_t)1 << 12) /* 16 + 20 + 12 = 48 bits */
typedef _Atomic(struct ph__region*) ph__map_slot_t;
extern _Atomic(void*) ph__map_l1[PH__MAP_L1_SLOTS]; /* level-2 tables */

bool ph__map_prepare(const void* base, size_t size);
bool ph__map_insert(struct ph__region* r);
void ph__map_remove(struct ph__region* r);

/* The region whose reservation holds p, or NULL.  No lock: slots are
 * atomic and a region is in the map only while it is live.  Address bits
 * above the 48 the map covers are masked off for the lookup; the range
 * check then refuses such an address (p - r is beyond any reservation). */
static inline struct ph__region* ph__map_find(const void* p) {
  uint64_t c = (uint64_t)(uintptr_t)p >> PH__CHUNK_SHIFT;
  uint64_t i = (c >> PH__MAP_L2_BITS) & (PH__MAP_L1_SLOTS - 1);
  ph__map_slot_t* t =
      (ph__map_slot_t*)atomic_load_explicit(&ph__map_l1[i], memory_order_acquire);
  if (PH_UNLIKELY(t == NULL))
    return NULL;
  struct ph__region* r = atomic_load_explicit(
      &t[c & (((uint64_t)1 << PH__MAP_L2_BITS) - 1)], memory_order_acquire);
  if (r == NULL || (uintptr_t)p - (uintptr_t)r >= r->reserve_size)
    return NULL;
  return r;
}

/* ---- region.c: memory from prim, and the cache of destroyed regions --- */
/* ph__region_new flags */
#define PH__REGION_EXEC 1u  /* executable pages; never cached */
#define PH__REGION_EXACT 2u /* exactly min_reserve bytes: not from the cache */
#define PH__DECAY_MS_DEFAULT 250u /* cached or free memory unused this long
                                     goes back to the OS */
#define PH__PURGE_MIN ((size_t)256 << 10) /* a freed block this big gives
                                             its pages back at once */
#define PH__TICK_FREES 256u /* quick-list pushes between two looks at the
                               clock (ph__heap_tick) */
#define PH__TICK_SOON 16u   /* the same while a decay step left work */
/* Work of a compaction, in units of about 70 ns here (merging one quick
 * block into the bins): a decay step does PH__WORK_STEP of it and leaves
 * the rest to the next ticks (info.c); HeapCompact does it all. */
#define PH__WORK_ALL SIZE_MAX
#define PH__WORK_STEP ((size_t)16 << 10) /* about 1 ms */
#define PH__WORK_PURGE 24u  /* a madvise (1.5 us here) */
#define PH__WORK_PAGE 80u   /* and each page it gives back (5.5 us, with
                               its share of the TLB flush, if resident) */
#define PH__WORK_MIB 1024u  /* a MiB of a region given back (0.08 ms) */
/* The work of giving back `commit` bytes of a region's pages (unmapping
 * it, or decommitting them). */
static inline size_t ph__region_work(size_t commit) {
  return (size_t)(((uint64_t)commit * PH__WORK_MIB) >> 20) + 1;
}
/* What to keep committed of a region of `commit` bytes so that giving
 * back the rest takes about `work` (at least a page goes, one stays); 0
 * if the work would give back all of it. */
static inline size_t ph__region_cut(size_t commit, size_t work) {
  if (work >= ph__region_work(commit))
    return 0;
  size_t page = ph__prim_page_size();
  size_t bytes = (size_t)(((uint64_t)work << 20) / PH__WORK_MIB) & ~(page - 1);
  if (bytes < page)
    bytes = page;
  return commit > bytes + page ? commit - bytes : page;
}
/* Take `units` off the work left (never below 0). */
static inline void ph__work_spend(size_t* work, size_t units) {
  *work -= units < *work ? units : *work;
}
#define PH__QUICK_DECAY_MIN ((size_t)4 << 20) /* quick lists holding this
                                                 much, and a quarter of the
                                                 heap, are merged and given
                                                 back when the heap decays */
struct ph__region* ph__region_new(size_t min_reserve, size_t min_commit,
                                  uint32_t kind, unsigned flags);
struct ph__region* ph__region_new_first(size_t min_reserve,
                                        size_t min_commit, unsigned flags,
                                        uint32_t destroyed);
bool ph__region_commit(struct ph__region* r, size_t commit_size, bool exec);
bool ph__region_decommit(struct ph__region* r, size_t commit_size);
void ph__region_retire(struct ph__region* r, bool exec, uint32_t stamp);
size_t ph__region_cache_set(size_t limit);
void ph__region_cache_trim(size_t keep);
size_t ph__region_cache_decay(uint64_t now, size_t work);
bool ph__region_cache_decay_left(void);
uint32_t ph__decay_set(uint32_t ms);
uint64_t ph__decay_ms(void);
size_t ph__page_up(size_t n);
ph__mutex_t* ph__region_cache_lock(void);

/* ---- bins.c: coalesced free blocks ------------------------------------ */
/* The FREE block before block b of h (b's header checked), if b's header
 * says there is one and it checks (sealed, FREE, ending at b); else NULL. */
struct ph__block* ph__block_free_before(const struct ph__heap* h,
                                        const struct ph__block* b);
/* The FREE block before region r's sentinel, or NULL. */
struct ph__block* ph__region_last_free(const struct ph__heap* h,
                                       const struct ph__region* r);
void ph__bins_insert(struct ph__heap* h, struct ph__block* b);
bool ph__bins_remove(struct ph__heap* h, struct ph__block* b);
struct ph__block* ph__bins_alloc(struct ph__heap* h, uint32_t granules);
struct ph__block* ph__bins_fit(struct ph__heap* h, uint32_t granules);
bool ph__bins_take(struct ph__heap* h, struct ph__block* b, uint32_t granules);
void ph__bins_prefer(struct ph__heap* h, struct ph__block* b);
struct ph__block* ph__block_release(struct ph__heap* h, struct ph__block* b);
void ph__block_release_freed(struct ph__heap* h, struct ph__block* b);
size_t ph__bins_purge(struct ph__heap* h, size_t work);
void ph__block_trim(struct ph__heap* h, struct ph__block* b,
                    uint32_t granules);
size_t ph__bins_largest(const struct ph__heap* h);

/* ---- the victim (bins.c keeps it out of the bins) ------------------------
 * Its two uses on the fast paths, inline: carving a new block from its
 * front (a heap filling up) and growing the block just before it (a
 * growing buffer).  Neither touches a list. */

/* Whether v, h's victim, is there and intact (FREE, its header sealed). */
static inline bool ph__victim_intact(const struct ph__heap* h,
                                     const struct ph__block* v) {
  return v != NULL && ph__block_sealed_as(&h->seal, v, PH__STATE_FREE);
}

/* Whether the victim v of h is intact and can give up `more` granules from
 * its front and still be a block. */
static inline bool ph__victim_gives(const struct ph__heap* h,
                                    const struct ph__block* v,
                                    uint32_t more) {
  return v != NULL && v->size >= more + PH__MIN_BLOCK &&
         ph__victim_intact(h, v);
}

void ph__victim_keep_purged(struct ph__heap* h, struct ph__block* v,
                            struct ph__block* tail);

/* Move the victim v's header up by `more` granules, past what the block
 * before it now holds (BUSY: the moved header has no PH__PREV_FREE; the
 * block after the victim keeps its own, and the victim keeps no footer),
 * keeping what of it had gone back to the system (bins.c).  v's old
 * header is the caller's to rewrite or wipe. */
static inline void ph__victim_shift(struct ph__heap* h, struct ph__block* v,
                                    uint32_t more) {
  uint32_t rest = v->size - more;
  unsigned purged = ph__block_slack(v) & (PH__FREE_PURGED | PH__FREE_PARTLY);
  struct ph__block* tail =
      (struct ph__block*)((char*)v + ((size_t)more << PH__GRANULE_SHIFT));
  ph__block_set(&h->seal, tail, rest, PH__STATE_FREE, 0);
  if (PH_UNLIKELY(purged != 0))
    ph__victim_keep_purged(h, v, tail);
  h->victim = tail;
}

/* A block of g granules carved from the front of the victim, marked BUSY
 * with its size set (the caller seals it, handing it out), or NULL if the
 * victim is gone, damaged or too small.  Successive requests are so carved
 * out of one free area, in address order, without a search: this is how a
 * heap fills. */
static inline struct ph__block* ph__victim_carve(struct ph__heap* h,
                                                 uint32_t g) {
  struct ph__block* v = h->victim;
  if (!ph__victim_gives(h, v, g))
    return NULL;
  ph__victim_shift(h, v, g);
  ph__block_claim(v, g);
  return v;
}

/*
 * Grow BUSY block b of h to g > b->size granules over the front of the
 * victim, if the victim is the block right after b: a growing buffer at
 * the end of the carved area.  Returns b's new size in granules, for the
 * caller to hand b out with (b's header is unchanged until then); 0,
 * nothing changed, otherwise.  Both realloc paths try this first (api.c,
 * heap.c).
 */
static inline uint32_t ph__victim_grow(struct ph__heap* h,
                                       const struct ph__block* b,
                                       uint32_t g) {
  struct ph__block* v = h->victim;
  uint32_t more = g - b->size;
  if (more < PH__MIN_BLOCK)
    more = PH__MIN_BLOCK; /* a granule of slack more: the header moves */
  if (v != ph__block_next(b) || !ph__victim_gives(h, v, more))
    return 0;
  ph__victim_shift(h, v, more);
  ph__block_wipe(&h->seal, v); /* inside b now */
  return b->size + more;
}

/* ---- the low-fragmentation front end, as Windows reports it ------------
 * Windows turns its low-fragmentation heap on by itself for a growable
 * serialized heap once 0x12 (18) blocks of one size have been allocated
 * (Wine's tests, asserted on Windows): HeapCompatibilityInformation then
 * reads 2.  The engine counts the requests of each quick list's sizes
 * that the list did not serve, reports 2 from the 18th of one list, and
 * uses the list from then on, as the LFH serves a bucket (small.h).  A
 * heap split into shards counts each list over all of them, as Windows
 * counts per heap, whichever threads allocate. */
#define PH__LFH_AFTER 0x12u
/* The 18th request of a class has come in shard h (small.h counts). */
void ph__heap_lfh_on(struct ph__heap* h);
/* Count a request of list i in h on its heap's count (the top's
 * class_allocs: h's own unless h is a shard): true for the 18th.  From
 * then on the list is in use in h, and in any other shard at its next
 * request. */
bool ph__heap_count_list(struct ph__heap* h, unsigned i);

/* ---- remote.c: frees from other threads (protocol: lock.h) ------------- */
/* HeapFree of `data` in region r of shard s by a thread that does not
 * allocate from s, without s's lock: true if it was a live block and is
 * now on s's remote list; false, nothing done, for the general path to
 * free (or report) it. */
bool ph__remote_free(struct ph__heap* s, struct ph__region* r, void* data);
/* Release the blocks on s's remote list (caller holds s's lock). */
void ph__remote_drain(struct ph__heap* s);

/* Drain s's remote list if it has blocks (caller holds s's lock). */
static inline void ph__remote_take(struct ph__heap* s) {
  if (PH_UNLIKELY(atomic_load_explicit(&s->remote, memory_order_relaxed) !=
                  NULL))
    ph__remote_drain(s);
}

/* ---- small.c, small.h: quick lists --------------------------------------- */
size_t ph__quick_flush(struct ph__heap* h, size_t work);
size_t ph__quick_flush_list(struct ph__heap* h, unsigned i, size_t work);

/* ---- large.c: blocks with a mapping of their own ---------------------- */
/* A new large block of `size` bytes in a region of its own, its header
 * sealed with `seal` (the heap's keys), not yet on any heap's list; NULL
 * if the system has no memory. */
struct ph__region* ph__large_new(size_t size, const struct ph__seal_keys* seal,
                                 bool exec);
void* ph__large_realloc(struct ph__region** rp, size_t size, uint32_t flags,
                        const struct ph__seal_keys* seal, bool exec);

/* ---- heap.c: one heap ---------------------------------------------------
 * Functions taking a heap expect the caller to hold its lock (heap_enter in
 * api.c) unless the heap is NO_SERIALIZE.  Sizes are bytes as requested. */
struct ph__heap* ph__heap_new(uint32_t options, size_t initial_size,
                              size_t maximum_size, uint32_t destroyed,
                              uint32_t* error);
/* A heap's regions, with its totals (reserved, committed) kept here: */
void ph__heap_region_add(struct ph__heap* h, struct ph__region* r);
uint32_t ph__heap_index_take(struct ph__heap* top); /* a shard's first */
void ph__heap_region_release(struct ph__heap* h, struct ph__region* r);
bool ph__heap_commit(struct ph__heap* h, struct ph__region* r,
                     size_t commit_size);
void ph__heap_decommit(struct ph__heap* h, struct ph__region* r,
                       size_t commit_size);
void ph__heap_tick(struct ph__heap* h);
void ph__heap_delete(struct ph__heap* h);
void* ph__heap_alloc(struct ph__heap* h, size_t size);
void* ph__heap_alloc_unquick(struct ph__heap* h, size_t size, uint32_t g);
void* ph__heap_realloc(struct ph__heap* h, struct ph__region* r, void* data,
                       size_t size, uint32_t flags);
void ph__heap_free(struct ph__heap* h, struct ph__region* r, void* data);
/* ph__heap_free of BUSY block b of a blocks region of h. */
void ph__heap_free_block(struct ph__heap* h, struct ph__block* b);
/* The requested size of live block `data` of h in region r; SIZE_MAX if
 * the block's own bytes past that size, which keep it, were overwritten. */
size_t ph__heap_block_size(const struct ph__heap* h, struct ph__region* r,
                           const void* data);

/* ---- lock of one heap, shards (heap.c) ----------------------------------- */
/* ph__thread (lock.h) caches the last lookup; ph__heap_epoch makes it
 * stale at every heap destruction (the contract is in lock.h). */
extern atomic_uintptr_t ph__heap_epoch; /* +1 at every heap destruction
                                           and first spread (lock.h) */
/* A heap that the fast paths never enter: never biased, its mutex held
 * for good, no region. */
extern struct ph__heap ph__fast_none;
struct ph__heap* ph__heap_lookup_slow(const void* handle);
/* Make live top heap h the calling thread's cached lookup (a heap just
 * made is most likely the next one used). */
void ph__heap_remember(struct ph__heap* h);
/* Give the calling thread the bias of shard s, which no other thread
 * sees yet, remembering it so that the thread gives it back as it exits
 * (lock.c). */
void ph__heap_give_bias(struct ph__heap* s);

enum ph__entry ph__heap_enter_slow(struct ph__heap* h, uintptr_t self);
void ph__heap_wait_owner(struct ph__heap* top);
bool ph__heap_user_lock(struct ph__heap* h);
bool ph__heap_user_unlock(struct ph__heap* h);
bool ph__heap_enter_all(struct ph__heap* h, uint32_t flags);
bool ph__heap_enter_all_now(struct ph__heap* h);
/* Enter shard s alone, without waiting: its mutex, if free, and only
 * while no thread holds its bias or another thread ph_heap_lock (then
 * false).  For a pass from another shard's operation over shards whose
 * threads may have exited (info.c's decay); leave with
 * ph__heap_leave_alone. */
bool ph__heap_enter_alone(struct ph__heap* s);
void ph__heap_leave_alone(struct ph__heap* s);
size_t ph__heap_compact_all(struct ph__heap* h);
void ph__heap_summarize_all(struct ph__heap* h, ph_heap_summary_t* sum);
void ph__heap_leave_all(struct ph__heap* h, bool locked);
struct ph__heap* ph__heap_shard_new(struct ph__heap* h, unsigned slot);
unsigned ph__thread_slot_assign(void);
void ph__thread_slots_fork_child(void);
/* Give the calling thread the token of its shard (ph__thread.shard) if it
 * holds that shard's bias, else none (lock.h: the fast token). */
void ph__thread_token_set(void);
/* Clear every token that names a shard of h, which is being destroyed. */
void ph__heap_tokens_forget(struct ph__heap* h);
void ph__thread_tokens_fork_child(void);

/* The calling thread's slot, 0 .. PH__SHARDS - 1. */
static inline unsigned ph__thread_slot(void) {
  unsigned s = ph__thread.slot_plus1;
  return PH_LIKELY(s != 0) ? s - 1 : ph__thread_slot_assign();
}
/* The shard after s of top s->top, in index order, or NULL. */
struct ph__heap* ph__heap_next_shard(const struct ph__heap* s);

/* ---- random.c: the heaps' secrets ---------------------------------------- */
void ph__random_fill(void* buf, size_t size);
void ph__random_fork_child(void);

/* ---- registry.c: every live heap --------------------------------------- */
void ph__registry_add(struct ph__heap* h);
bool ph__registry_remove(struct ph__heap* h);
uint32_t ph__registry_destroyed(void);
uint32_t ph__registry_list(uint32_t count, void** heaps);
void ph__registry_foreach(void (*fn)(struct ph__heap*, void*), void* arg);
void ph__registry_each_locked(void (*fn)(struct ph__heap*, void*), void* arg);
ph__mutex_t* ph__registry_lock(void);

/* ---- startup.c: the process heap, the environment, fork ------------------ */
void ph__init(void);
/* The process heap once made (release-stored), else NULL. */
extern _Atomic(struct ph__heap*) ph__the_process_heap;
struct ph__heap* ph__process_heap_start(void); /* ph__init, then that */

/* The process heap, made on first use; NULL only if that failed.  Once
 * made, a load and no call: ported code calls GetProcessHeap at every
 * HeapAlloc and HeapFree. */
static inline struct ph__heap* ph__process_heap(void) {
  struct ph__heap* h =
      atomic_load_explicit(&ph__the_process_heap, memory_order_acquire);
  return PH_LIKELY(h != NULL) ? h : ph__process_heap_start();
}

/* ---- walk.c, validate.c, info.c ---------------------------------------- */
uint32_t ph__walk_next(struct ph__heap* h, ph_heap_entry_t* e);
bool ph__validate_heap(struct ph__heap* h);
size_t ph__heap_compact(struct ph__heap* h);
void ph__heap_summarize(struct ph__heap* h, ph_heap_summary_t* s);

/* ---- error.c: the last error, exceptions, corruption ------------------- */
void ph__fail(uint32_t code);
void ph__raise(uint32_t status, void* heap);
void ph__corruption(struct ph__heap* h, const void* address,
                    const char* what);
void ph__enable_termination(void);
ph__mutex_t* ph__handler_lock(void);

/* The magic of live heap h (its address: no secret, as the map already
 * vouches for the region). */
static inline uint64_t ph__heap_magic(const struct ph__heap* h) {
  return PH__HEAP_MAGIC ^ (uint64_t)(uintptr_t)h;
}

/*
 * Links stored in freed memory (quick lists, bins) are encoded, by the
 * address of the word that holds them (`slot`) and two secrets of the
 * heap, so that no stored word is a key or a key XORed with what a reader
 * knows (an address, a neighbouring word):
 *   ph__encode(p) = rotl(p ^ slot ^ link_xor, PH__LINK_ROTATE) + link_add
 * NULL, which ends every list, so encodes differently in every slot, and
 * a link copied to another slot decodes to another pointer.  An XOR, a
 * rotation and an addition each way; an XOR with known values undoes
 * none of it.  It hides, it does not authenticate: from several links
 * whose targets a reader knows, the two secrets can be solved for bit by
 * bit, so nothing relies on it for integrity: quick links carry a check
 * word with the seal's keys (small.h), bin links must agree with their
 * neighbours', and every block reached through a link must have a sealed
 * header before it is used.
 */
#define PH__LINK_ROTATE ((unsigned)sizeof(uintptr_t) * 4u - 5u) /* 27, 11 */

static inline uintptr_t ph__rotl(uintptr_t x, unsigned r) {
  return (x << r) | (x >> ((unsigned)sizeof x * 8u - r)); /* 0 < r < width */
}

static inline uintptr_t ph__encode(const struct ph__heap* h, const void* slot,
                                   const void* p) {
  uintptr_t x = (uintptr_t)p ^ (uintptr_t)slot ^ h->link_xor;
  return ph__rotl(x, PH__LINK_ROTATE) + h->link_add;
}

static inline struct ph__block* ph__decode(const struct ph__heap* h,
                                           const void* slot, uintptr_t v) {
  uintptr_t x = ph__rotl(v - h->link_add,
                         (unsigned)sizeof v * 8u - PH__LINK_ROTATE);
  return (struct ph__block*)(x ^ (uintptr_t)slot ^ h->link_xor);
}

/* The mark a guest leaves in the first payload word of BUSY block b of h
 * as it pushes b on h's remote list (remote.c): keyed and by address, so
 * that data a program left in its block matches it only by chance.  One
 * XOR with a secret (the key of run canaries): it tells a program's data
 * from a mark, as the canary tells a descriptor from an overrun; a reader
 * of heap memory who learns the key can make a guest's free of a block
 * fail, nothing more (the owner checks every block it releases).  A
 * canary that a dissolved run left in memory lies where a header may,
 * never where a block's data starts (a descriptor starts 8 bytes off a
 * granule, runs.h), so it is never taken for a mark.  (A keyed rotation
 * and add, as links are encoded, cost the fast HeapFree 5 instructions.) */
static inline uintptr_t ph__remote_mark(const struct ph__heap* h,
                                        const struct ph__block* b) {
  return (uintptr_t)b ^ (uintptr_t)h->seal.run;
}

/* The mark a free slot of a run (runs.h) keeps in its first payload word
 * once its shard has released blocks guests freed (ph__runs_marked), so
 * that a guest refuses a second free of it without reading its run's
 * bitmap, a line the owner keeps writing: the guests' mark with its low
 * bit flipped (any other bit pattern a program leaves matches it only by
 * chance).  Cleared when the slot is handed out again. */
static inline uintptr_t ph__free_mark(const struct ph__heap* h,
                                      const struct ph__block* b) {
  return ph__remote_mark(h, b) ^ 1u;
}

/* Granules of a block of n bytes, as Windows spaces blocks:
 * ALIGN16(max(n, 16) + 8) bytes, header included.  A constant expression
 * for a constant n: the one formula of ph__size_to_granules and of the
 * table below. */
#define PH__SPAN(n)                                                            \
  ((((n) + PH__HEADER + PH__GRANULE - 1) >> PH__GRANULE_SHIFT) < PH__MIN_BLOCK \
       ? PH__MIN_BLOCK                                                         \
       : (((n) + PH__HEADER + PH__GRANULE - 1) >> PH__GRANULE_SHIFT))

/* Granules for a request of 1 .. PH__FAST_MAX (fast.h) bytes, by 8-byte
 * steps, since the sizes 8k + 1 .. 8k + 8 take the same span (8 bytes of
 * header, 16-byte granules).  One load from a line the fast path keeps in
 * cache: two instructions fewer an allocation than the sum and its test
 * for the smallest (callgrind). */
#define PH__SPAN_STEP(k) (uint8_t) PH__SPAN(8u * (k) + 8u)
#define PH__SPAN_8(k)                                                          \
  PH__SPAN_STEP(k), PH__SPAN_STEP(k + 1), PH__SPAN_STEP(k + 2),                \
      PH__SPAN_STEP(k + 3), PH__SPAN_STEP(k + 4), PH__SPAN_STEP(k + 5),        \
      PH__SPAN_STEP(k + 6), PH__SPAN_STEP(k + 7)
static const uint8_t ph__small_spans[] = {
    PH__SPAN_8(0),  PH__SPAN_8(8),  PH__SPAN_8(16), PH__SPAN_8(24),
    PH__SPAN_8(32), PH__SPAN_8(40), PH__SPAN_8(48), PH__SPAN_8(56)};
_Static_assert(sizeof ph__small_spans * 8 ==
                   (PH__QUICK_EXACT - 1) * PH__GRANULE,
               "a span for every size fast.h serves");

static inline uint32_t ph__small_granules(size_t size) {
  return ph__small_spans[(size - 1) >> 3];
}

/* Whether h's free run slots carry the free mark (ph__heap.runs). */
static inline bool ph__runs_marked(const struct ph__heap* h) {
  return (h->runs & PH__RUNS_MARKED) != 0;
}

/* Granules for a request of `size` bytes (PH__SPAN); 0 if too big. */
static inline uint32_t ph__size_to_granules(size_t size) {
  if (size > ((size_t)UINT32_MAX - 2) * PH__GRANULE)
    return 0;
  return (uint32_t)PH__SPAN(size);
}

/* Whether h's memory is executable (HEAP_CREATE_ENABLE_EXECUTE). */
static inline bool ph__heap_exec(const struct ph__heap* h) {
  return (h->options & PH_HEAP_CREATE_ENABLE_EXECUTE) != 0;
}

/* What a region adds to its heap's reserved total: a blocks region its
 * whole reservation; a large block only its committed pages (the rest of
 * its reservation is room to grow, not heap). */
static inline size_t ph__region_reserved(const struct ph__region* r) {
  return r->kind == PH__REGION_LARGE ? r->commit_size : r->reserve_size;
}

static inline struct ph__block* ph__region_first(const struct ph__region* r) {
  return (struct ph__block*)((char*)r + r->data_offset);
}
static inline struct ph__block* ph__region_sentinel(const struct ph__region* r) {
  return (struct ph__block*)((char*)r + r->commit_size - PH__HEADER);
}

/* Whether b, met stepping through a region before `end` (its sentinel),
 * can be stepped over: its header checks and its size keeps the next
 * header before `end`. */
static inline bool ph__block_steppable(const struct ph__heap* h,
                                       const struct ph__block* b,
                                       const struct ph__block* end) {
  uint32_t g = ph__block_size(b);
  return ph__block_sealed(&h->seal, b) && g >= PH__MIN_BLOCK &&
         (size_t)((const char*)end - (const char*)b) >= (size_t)g * PH__GRANULE;
}

/* Whether b lies in one of h's blocks regions: checked before reading a
 * header reached through a link stored in freed (caller-writable) memory. */
static inline bool ph__block_owned(const struct ph__heap* h,
                                   const struct ph__block* b) {
  struct ph__region* r = ph__map_find(b);
  return r != NULL && r->heap == h && r->kind != PH__REGION_LARGE &&
         ((uintptr_t)b & (PH__GRANULE - 1)) == PH__HEADER &&
         (const char*)b >= (const char*)ph__region_first(r) &&
         (const char*)b < (const char*)ph__region_sentinel(r);
}

/* ---- hot paths, inline -------------------------------------------------- */

/* The live heap whose handle is `handle`, or NULL; reads nothing that the
 * address map does not vouch for. */
static inline struct ph__heap* ph__heap_lookup_map(const void* handle) {
  struct ph__region* r = ph__map_find(handle);
  if (PH_UNLIKELY(r == NULL || r->kind != PH__REGION_HEAP ||
                  (uintptr_t)handle - (uintptr_t)r >= PH__HEAP_HEADER))
    return NULL;
  struct ph__heap* h = (struct ph__heap*)r;
  if (PH_UNLIKELY(h->handle != handle || h->top != h ||
                  h->magic != ph__heap_magic(h)))
    return NULL;
  return h;
}

/* The handle of top heap h. */
static inline void* ph__heap_handle(const struct ph__heap* h) {
  return (void*)h->handle;
}

/* Whether the thread's lookup cache (ph__thread) is still right: since
 * it was made, no heap was destroyed and none spread for the first time,
 * either of which bumps ph__heap_epoch first (a caller that uses a handle
 * after its HeapDestroy has synchronised with that call, so it reads the
 * new epoch). */
static inline bool ph__lookup_fresh(void) {
  return ph__thread.epoch ==
         atomic_load_explicit(&ph__heap_epoch, memory_order_relaxed);
}

/* ph__heap_lookup_map, remembering the last answer per thread. */
static inline struct ph__heap* ph__heap_lookup(const void* handle) {
  if (PH_LIKELY(handle == ph__thread.handle && ph__lookup_fresh()))
    return ph__thread.heap;
  return ph__heap_lookup_slow(handle);
}

/* ---- entering a heap: the protocol is lock.h's ------------------------- */

/*
 * Enter h for one operation; pass the result to ph__heap_leave.  No lock
 * for NO_SERIALIZE; the thread holding h's bias goes in without an atomic
 * instruction (lock.h); others take the mutex (ph__heap_enter_slow), and
 * wait there while another thread holds ph_heap_lock.  A thread that holds
 * the bias knows no other thread holds ph_heap_lock: that revokes it.
 */
static inline enum ph__entry ph__heap_enter(struct ph__heap* h,
                                            uint32_t flags) {
  if ((h->options | flags) & PH_HEAP_NO_SERIALIZE)
    return PH__ENTRY_NONE;
  uintptr_t self = ph__thread_self();
  if (PH_LIKELY(ph__biased_try_bias(&h->lock, self)))
    return PH__ENTRY_BIAS;
  return ph__heap_enter_slow(h, self);
}

/* The shard of top heap h that the calling thread allocates from: h
 * itself until its threads have met (lock.h), then its slot's; NULL if
 * that is not made yet. */
static inline struct ph__heap* ph__heap_slot_shard(struct ph__heap* h) {
  if (!h->sharded || !atomic_load_explicit(&h->spread, memory_order_relaxed))
    return h;
  return atomic_load_explicit(&h->shards[ph__thread_slot()],
                              memory_order_acquire); /* [0] is h */
}

/* The shard of h that the calling thread allocates from, made if need be. */
static inline struct ph__heap* ph__heap_shard(struct ph__heap* h) {
  struct ph__heap* s = ph__heap_slot_shard(h);
  return PH_LIKELY(s != NULL) ? s : ph__heap_shard_new(h, ph__thread_slot());
}

/* The shard of top heap h holding block pointer `data` (not yet checked as
 * a block) and, if `region` is not NULL, the region; NULL if no region of
 * h holds it. */
static inline struct ph__heap* ph__heap_holder(struct ph__heap* h,
                                               const void* data,
                                               struct ph__region** region) {
  struct ph__region* r = ph__map_find(data);
  if (PH_UNLIKELY(r == NULL || r->heap == NULL || r->heap->top != h))
    return NULL;
  if (region != NULL)
    *region = r;
  return r->heap;
}

static inline void ph__heap_leave(struct ph__heap* h, enum ph__entry how) {
  ph__biased_leave(&h->lock, how);
}

/* The fast paths' ways in (fast.h): never waiting, so a call that would
 * wait goes to the general path. */

/* Enter s through its mutex where locks are never biased, as
 * ph__heap_enter_slow would but without waiting: false if the mutex is
 * taken or another thread holds ph_heap_lock. */
static inline bool ph__fast_mutex(struct ph__heap* s) {
  if (!ph__mutex_try(&s->lock.mutex))
    return false;
  uintptr_t owner = atomic_load_explicit(&s->top->owner, memory_order_relaxed);
  if (owner == 0 || owner == ph__thread.id)
    return true;
  ph__mutex_unlock(&s->lock.mutex);
  return false;
}

/* Enter the shard that the calling thread's token names, through its
 * bias (lock.h: the fast token): that shard, to leave with
 * PH__ENTRY_BIAS, or NULL if the thread has no token.  The shard is
 * ph__thread.shard: the token is that or NULL. */
static inline struct ph__heap* ph__fast_enter(void) {
  struct ph__heap* s =
      atomic_load_explicit(&ph__thread.fast, memory_order_relaxed);
  if (PH_UNLIKELY(s == NULL))
    return NULL;
  atomic_store_explicit(&s->lock.busy, 1, memory_order_relaxed);
  /* The revoker's ph__prim_fence_all stands for a fence here. */
  atomic_signal_fence(memory_order_seq_cst);
  if (PH_LIKELY(atomic_load_explicit(&ph__thread.fast,
                                     memory_order_relaxed) == s))
    return s;
  atomic_store_explicit(&s->lock.busy, 0, memory_order_release);
  return NULL;
}

/* The calling thread's shard of its cached heap, for the fast paths' ways
 * in other than the token (ph__fast_lock): NULL if the cache is stale (a
 * heap was destroyed since, lock.h), as the token is not. */
static inline struct ph__heap* ph__fast_shard(void) {
  return PH_LIKELY(ph__lookup_fresh()) ? ph__thread.shard : NULL;
}

/* Enter shard s (ph__fast_shard), *how telling ph__fast_leave the way:
 * through the token; else with no lock on a NO_SERIALIZE heap; else, where
 * nothing is ever biased (macOS, the BSDs, Wine), through the mutex.  The
 * entry points try the token first and this only when that fails (or the
 * request is not the fast path's), so the biased case pays nothing for
 * the rest.  False: not entered (the general path waits, and counts the
 * entries that give a thread the bias). */
static inline bool ph__fast_lock(struct ph__heap* s, enum ph__entry* how) {
  if (ph__fast_enter() != NULL) { /* s itself: the token is s or NULL */
    *how = PH__ENTRY_BIAS;
    return true;
  }
  if (s->options & PH_HEAP_NO_SERIALIZE) {
    *how = PH__ENTRY_NONE;
    return true;
  }
  *how = PH__ENTRY_MUTEX;
  return !ph__biasing() && ph__fast_mutex(s);
}

static inline void ph__fast_leave(struct ph__heap* s, enum ph__entry how) {
  ph__biased_leave(&s->lock, how);
}

/* The addresses where region r may hold a block's data: n granules from
 * *lo, its first block's data, up to a granule before the end of its
 * committed memory (where the sentinel is); n is 0 if there are none. */
static inline size_t ph__region_data_span(const struct ph__region* r,
                                          uintptr_t* lo) {
  *lo = (uintptr_t)ph__region_first(r) + PH__HEADER;
  uintptr_t last = (uintptr_t)r + ph__region_committed(r) - PH__GRANULE;
  return last >= *lo ? ((last - *lo) >> PH__GRANULE_SHIFT) + 1 : 0;
}

/* Whether `data` is one of the n granule-aligned addresses from lo, in one
 * compare: its offset rotated right by a granule's bits is below n only if
 * it is a whole number of granules under n of them. */
static inline bool ph__data_in(const void* data, uintptr_t lo, size_t n) {
  uintptr_t d = (uintptr_t)data - lo;
  d = d >> PH__GRANULE_SHIFT |
      d << (sizeof(uintptr_t) * 8 - PH__GRANULE_SHIFT);
  return d < n;
}

/* Where the header of a block whose data would be at `data` in region r
 * lies, if r vouches for that memory (one of ph__region_data_span's
 * addresses, tested bound by bound: on this path, cheaper than computing
 * the span); NULL if it cannot be a block's.  Nothing is read there. */
static inline struct ph__block* ph__region_spot(struct ph__region* r,
                                                const void* data) {
  struct ph__block* b = ph__block_of(data);
  if (((uintptr_t)data & (PH__GRANULE - 1)) != 0 ||
      (char*)b < (char*)ph__region_first(r) ||
      (char*)data > (char*)r + ph__region_committed(r) - PH__GRANULE)
    return NULL;
  return b;
}

/* Keep the hot_lo and hot_n of h (where its fast HeapFree finds blocks
 * without the address map): its first region's ph__region_data_span if
 * that is its only blocks region, else none.  Called under h's lock
 * whenever that may have changed. */
static inline void ph__heap_hot_set(struct ph__heap* h) {
  size_t n = ph__region_data_span(&h->region0, &h->hot_lo);
  h->hot_n = h->last == &h->region0 ? n : 0;
}

/* ph__region_spot of h's first region while it is h's only blocks
 * region; NULL for any other address. */
static inline struct ph__block* ph__heap_hot_spot(const struct ph__heap* h,
                                                  const void* data) {
  return PH_LIKELY(ph__data_in(data, h->hot_lo, h->hot_n)) ? ph__block_of(data)
                                                         : NULL;
}

/*
 * The live block at `data` in region r of h, checked without touching
 * memory that is not r's own (ph__region_spot); NULL if `data` is not one.
 */
static inline struct ph__block* ph__region_block(struct ph__heap* h,
                                                 struct ph__region* r,
                                                 const void* data) {
  struct ph__block* b = ph__region_spot(r, data);
  bool large = r->kind == PH__REGION_LARGE;
  if (PH_UNLIKELY(b == NULL ||
                  !ph__block_sealed_as(&h->seal, b,
                                       large ? PH__STATE_LARGE
                                             : PH__STATE_BUSY) ||
                  (large && b != ph__region_first(r))))
    return NULL;
  return b;
}

/*
 * The live block of h at `data`, with its region; NULL if `data` is not
 * one.  Reads nothing the address map does not vouch for.
 */
static inline struct ph__block* ph__heap_find_block(struct ph__heap* h,
                                                    const void* data,
                                                    struct ph__region** region) {
  if (PH_UNLIKELY(data == NULL))
    return NULL;
  struct ph__region* r = ph__map_find(data);
  if (PH_UNLIKELY(r == NULL || r->heap != h))
    return NULL;
  struct ph__block* b = ph__region_block(h, r, data);
  if (b != NULL && region != NULL)
    *region = r;
  return b;
}

#endif /* PH_ENGINE_H */
