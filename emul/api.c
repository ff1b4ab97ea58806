/*
 * api.c - the public entry points of the emulated engine.
 *
 * Each one: checks its arguments (the heap handle through the address map,
 * a block through its sealed header), enters the heap (lock unless
 * NO_SERIALIZE), calls the engine, leaves, and reports a failure through
 * ph__fail.  The entry points here and in information.c (the heap
 * information calls) are the only callers of ph__fail, which error.c
 * defines: the only writer of the last error.
 */
#include "fast.h"
#include "runs.h"
#include "track.h"

const char* ph_backend(void) {
  return "emul";
}

/* Report a failed alloc/realloc: the last error, then the exception when
 * HEAP_GENERATE_EXCEPTIONS is on for the heap or the call. */
static void* fail_alloc(struct ph__heap* h, uint32_t flags, uint32_t code,
                        uint32_t status) {
  ph__fail(code);
  if ((flags | (h != NULL ? h->options : 0)) & PH_HEAP_GENERATE_EXCEPTIONS)
    ph__raise(status, h != NULL ? ph__heap_handle(h) : NULL);
  return NULL;
}

/* A heap handle that is not a live heap: ERROR_INVALID_HANDLE, raised as
 * STATUS_ACCESS_VIOLATION (what touching it does on Windows) with the
 * handle the caller passed. */
static void* fail_bad_heap(void* heap, uint32_t flags) {
  ph__fail(PH_ERROR_INVALID_HANDLE);
  if (flags & PH_HEAP_GENERATE_EXCEPTIONS)
    ph__raise(PH_STATUS_ACCESS_VIOLATION, heap);
  return NULL;
}

/* A pointer that is not a live block: a misuse, and with termination on
 * corruption enabled, the end of the process (as on Windows). */
static void bad_block(struct ph__heap* h, const void* block) {
  ph__corruption(h, block, "not a live block of this heap");
  ph__fail(PH_ERROR_INVALID_PARAMETER);
}

void* ph_process_heap(void) {
  struct ph__heap* h = ph__process_heap();
  if (PH_UNLIKELY(h == NULL)) {
    ph__fail(PH_ERROR_NOT_ENOUGH_MEMORY);
    return NULL;
  }
  return ph__heap_handle(h);
}

uint32_t ph_process_heaps(uint32_t count, void** heaps) {
  if (count > 0 && heaps == NULL) {
    ph__fail(PH_ERROR_INVALID_PARAMETER);
    return 0;
  }
  if (ph__process_heap() == NULL) {
    ph__fail(PH_ERROR_NOT_ENOUGH_MEMORY);
    return 0;
  }
  return ph__registry_list(count, heaps);
}

void* ph_heap_create(uint32_t options, size_t initial_size,
                     size_t maximum_size) {
  ph__init();
  uint32_t error;
  struct ph__heap* h = ph__heap_new(options, initial_size, maximum_size,
                                    ph__registry_destroyed(), &error);
  if (h == NULL) {
    ph__fail(error);
    return NULL;
  }
  ph__heap_give_bias(h); /* no one else sees it yet */
  ph__registry_add(h);
  ph__heap_remember(h);
  ph__region_cache_decay(ph__prim_now_ms(), PH__WORK_STEP);
  return ph__heap_handle(h);
}

/* Under Valgrind: tell memcheck that the blocks of h, taken out of the
 * registry and about to be deleted, are freed.  Else it would count them
 * live: when a later heap made from the same memory (the region cache)
 * frees a block where one of them began, memcheck could take the request
 * for that stale block's and mark its bytes, past the new block's end,
 * unaddressable.  No lock is taken: no other thread can reach h, and a
 * ph_heap_lock that a thread took and never released must not stop it. */
static void track_destroy(struct ph__heap* h) {
  if (!PH_TRACK)
    return;
  ph_heap_entry_t e = {0};
  while (ph__walk_next(h, &e) == 0)
    if (e.wFlags & PH_PROCESS_HEAP_ENTRY_BUSY)
      PH_TRACK_FREE(e.lpData, e.cbData);
}

int ph_heap_destroy(void* heap) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL || h == ph__process_heap() || !ph__registry_remove(h)) {
    ph__fail(PH_ERROR_INVALID_HANDLE);
    return 0;
  }
  track_destroy(h);
  ph__heap_delete(h);
  ph__region_cache_decay(ph__prim_now_ms(), PH__WORK_STEP);
  return 1;
}

/* The handle of the thread's lookup cache: what a fast path that has
 * checked ph__fast_hit(heap, flags) passes on as heap (flags are 0 then),
 * read again rather than kept in a register across the call. */
static inline void* cached_handle(void) {
  return (void*)(uintptr_t)ph__thread.handle;
}

/* HeapAlloc, any case (the entry point below tries fast.h first). */
static PH_NOINLINE void* alloc_general(void* heap, uint32_t flags,
                                       size_t size) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (PH_UNLIKELY(h == NULL))
    return fail_bad_heap(heap, flags);
  struct ph__heap* shard = ph__heap_shard(h);
  enum ph__entry how = ph__heap_enter(shard, flags);
  ph__remote_take(shard);
  void* p = ph__heap_alloc(shard, size);
  ph__heap_leave(shard, how);
  if (PH_UNLIKELY(p == NULL))
    return fail_alloc(h, flags, PH_ERROR_NOT_ENOUGH_MEMORY,
                      PH_STATUS_NO_MEMORY);
  if (flags & PH_HEAP_ZERO_MEMORY)
    memset(p, 0, size);
  PH_TRACK_ALLOC(p, size, (flags & PH_HEAP_ZERO_MEMORY) != 0);
  return p;
}

/* HeapAlloc in shard s, entered by the entry point (how), for any
 * request up to the fixed-heap limit: on a heap without runs a small one
 * from its quick list or carved from the victim (a heap filling up),
 * anything else (a run to refill or make, too) the engine's whole way;
 * the general path if that fails (it reports the failure). */
static PH_NOINLINE void* alloc_entered(void* heap, uint32_t flags,
                                       size_t size, struct ph__heap* s,
                                       enum ph__entry how) {
  void* p;
  ph__remote_take(s); /* what guests freed serves before new space */
  if (size - 1 < PH__FAST_MAX && !s->runs) {
    uint32_t c = ph__small_granules(size);
    struct ph__block* b =
        s->quick_granules != 0 ? ph__quick_pop_fit(s, c) : NULL;
    if (b == NULL) /* a heap filling up: nothing to reuse yet */
      b = ph__victim_carve(s, c);
    if (b != NULL) /* else the general path serves and counts it */
      ph__heap_count_class(s, c);
    p = b != NULL ? ph__block_hand_out(s, b, size) : NULL;
  } else {
    p = ph__heap_alloc(s, size);
  }
  ph__fast_leave(s, how);
  return p != NULL ? p : alloc_general(heap, flags, size);
}

/* HeapAlloc in the thread's shard of its cached heap when the inline path
 * did not enter it through the token: the other ways in (ph__fast_lock),
 * else the general path.  Out of line, so that the entry point makes no
 * call but tail calls (and saves no register). */
static PH_NOINLINE void* alloc_unbiased(void* heap, uint32_t flags,
                                        size_t size) {
  struct ph__heap* s = ph__fast_shard();
  enum ph__entry how;
  if (s != NULL && ph__fast_lock(s, &how))
    return alloc_entered(heap, flags, size, s, how);
  return alloc_general(heap, flags, size);
}

/* HeapAlloc from the active run of class c of s (entered through the
 * token), whose free slots carry the free mark if `marked`: a constant in
 * each of the two places alloc_fast inlines it. */
static PH_ALWAYS_INLINE void* alloc_from_run(struct ph__heap* s, uint32_t c,
                                             size_t size, bool marked) {
  void* p = ph__run_pop(s, c, size, marked);
  if (PH_UNLIKELY(p == NULL))
    return alloc_entered(cached_handle(), 0, size, s, PH__ENTRY_BIAS);
  ph__fast_leave(s, PH__ENTRY_BIAS);
  return p;
}

/* HeapAlloc(heap, 0, size) where ph__fast_hit(heap, 0) holds: heap is
 * cached_handle(), and the calls below name it so (and flags 0), so that
 * the compiler keeps neither in a register.  Inlined in both callers: a
 * call here cost the plain case a jump.  A shard with runs and no free
 * marks, the common case, is told by one compare of its runs byte. */
static PH_ALWAYS_INLINE void* alloc_fast(size_t size) {
  struct ph__heap* s;
  if (PH_LIKELY(size - 1 < PH__FAST_MAX &&
                (s = ph__fast_enter()) != NULL)) {
    uint32_t c = ph__small_granules(size); /* a run or a list of its own */
    void* p;
    if (PH_LIKELY(s->runs == PH__RUNS))
      return alloc_from_run(s, c, size, false);
    if (s->runs)
      return alloc_from_run(s, c, size, true);
    if (PH_UNLIKELY(s->quick[c] == NULL))
      return alloc_entered(cached_handle(), 0, size, s, PH__ENTRY_BIAS);
    p = ph__fast_pop(s, c, size);
    ph__fast_leave(s, PH__ENTRY_BIAS);
    if (PH_LIKELY(p != NULL))
      return p;
    return alloc_general(cached_handle(), 0, size);
  }
  if (size <= PH_FIXED_BLOCK_MAX)
    return alloc_unbiased(cached_handle(), 0, size);
  return alloc_general(cached_handle(), 0, size);
}

/* HeapAlloc(heap, HEAP_ZERO_MEMORY, size): the fast path where it
 * serves, then the zeroing (the general path's failure report is the
 * same with either flag).  Ported code asks for zeroed structures this
 * way as often as for plain blocks.  Out of line, with its own look at
 * the cache, so that the plain case's code is as it was. */
static PH_NOINLINE void* alloc_zeroed(void* heap, size_t size) {
  if (!ph__fast_hit(heap, 0))
    return alloc_general(heap, PH_HEAP_ZERO_MEMORY, size);
  void* p = alloc_fast(size);
  if (PH_LIKELY(p != NULL))
    memset(p, 0, size);
  return p;
}

void* ph_heap_alloc(void* heap, uint32_t flags, size_t size) {
  if (PH_LIKELY(ph__fast_hit(heap, flags)))
    return alloc_fast(size);
  if (flags == PH_HEAP_ZERO_MEMORY)
    return alloc_zeroed(heap, size);
  return alloc_general(heap, flags, size);
}

/* Whether `block` is a live block of region r of h (entered): its large
 * block, or a BUSY block or busy run slot (ph__block_live: one keyed
 * product, whichever). */
static bool block_live(struct ph__heap* h, struct ph__region* r,
                       const void* block) {
  if (r->kind == PH__REGION_LARGE)
    return ph__region_block(h, r, block) != NULL;
  struct ph__block* b = ph__region_spot(r, block);
  return b != NULL && ph__block_live(h, b);
}

/*
 * Enter the shard of top heap h that holds `block` and check that `block`
 * is a live block there.  Returns that shard, entered (*how, for
 * ph__heap_leave) with the block's region in *region; NULL, entered
 * nowhere, if `block` is not a live block of h.
 */
static inline struct ph__heap* enter_block(struct ph__heap* h,
                                           const void* block, uint32_t flags,
                                           struct ph__region** region,
                                           enum ph__entry* how) {
  struct ph__heap* shard =
      block != NULL ? ph__heap_holder(h, block, region) : NULL;
  if (PH_UNLIKELY(shard == NULL))
    return NULL;
  *how = ph__heap_enter(shard, flags);
  ph__remote_take(shard); /* a block a guest freed is free from here on */
  if (PH_UNLIKELY(!block_live(shard, *region, block))) {
    ph__heap_leave(shard, *how);
    return NULL;
  }
  return shard;
}

/* HeapReAlloc, any case (the entry point below tries its fast way in
 * first). */
static PH_NOINLINE void* realloc_general(void* heap, uint32_t flags,
                                         void* block, size_t size) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL)
    return fail_bad_heap(heap, flags);
  if (block == NULL) { /* no block, no error: as Windows does */
    ph__fail(PH_NO_ERROR);
    return NULL;
  }
  struct ph__region* r;
  enum ph__entry how;
  struct ph__heap* shard = enter_block(h, block, flags, &r, &how);
  if (shard == NULL) {
    ph__corruption(h, block, "not a live block of this heap");
    return fail_alloc(h, flags, PH_ERROR_INVALID_PARAMETER,
                      PH_STATUS_ACCESS_VIOLATION);
  }
  size_t old_size = PH_TRACK ? ph__heap_block_size(shard, r, block) : 0;
  void* p = ph__heap_realloc(shard, r, block, size, flags);
  if (p != NULL) /* under the lock: before another thread reuses block */
    PH_TRACK_REALLOC(block, old_size, p, size,
                     (flags & PH_HEAP_ZERO_MEMORY) != 0);
  ph__heap_leave(shard, how);
  if (p == NULL)
    return fail_alloc(h, flags, PH_ERROR_NOT_ENOUGH_MEMORY,
                      PH_STATUS_NO_MEMORY);
  return p;
}

/* HeapReAlloc with no flags of live block b in region r of shard s,
 * entered by the entry point (how), when it does not grow b over the
 * victim: the engine's whole way, else (no memory) the general path, which
 * reports it. */
static PH_NOINLINE void* realloc_entered(void* heap, struct ph__block* b,
                                         size_t size, struct ph__heap* s,
                                         struct ph__region* r,
                                         enum ph__entry how) {
  void* block = ph__block_data(b);
  void* p = ph__heap_realloc(s, r, block, size, 0);
  ph__fast_leave(s, how);
  return p != NULL ? p : realloc_general(heap, 0, block, size);
}

/* HeapReAlloc in the thread's shard of its cached heap when the inline
 * path did not enter it through the token (see alloc_unbiased). */
static PH_NOINLINE void* realloc_unbiased(void* heap, void* block,
                                          size_t size) {
  struct ph__heap* s = ph__fast_shard();
  struct ph__region* r = ph__map_find(block);
  enum ph__entry how;
  if (s != NULL && r != NULL && r->heap == s && ph__fast_lock(s, &how)) {
    struct ph__block* b = ph__fast_busy(s, r, block);
    if (b != NULL)
      return realloc_entered(heap, b, size, s, r, how);
    ph__fast_leave(s, how);
  }
  return realloc_general(heap, 0, block, size);
}

void* ph_heap_realloc(void* heap, uint32_t flags, void* block, size_t size) {
  if (PH_LIKELY(ph__fast_hit(heap, flags))) {
    struct ph__heap* s = ph__fast_enter();
    if (PH_UNLIKELY(s == NULL))
      return realloc_unbiased(heap, block, size);
    struct ph__region* r = ph__map_find(block);
    struct ph__block* b = r != NULL && r->heap == s /* a block of s */
                              ? ph__fast_busy(s, r, block)
                              : NULL;
    if (PH_UNLIKELY(b == NULL)) {
      ph__fast_leave(s, PH__ENTRY_BIAS);
      return realloc_general(heap, flags, block, size);
    }
    /* The growing buffer: b grows over the victim right after it. */
    uint32_t g = ph__size_to_granules(size);
    uint32_t grown = 0;
    if (g > b->size && (s->maximum_size == 0 || size <= s->fixed_max))
      grown = ph__victim_grow(s, b, g);
    if (PH_LIKELY(grown != 0)) {
      ph__block_hand_out_sized(s, b, grown, size);
      ph__fast_leave(s, PH__ENTRY_BIAS);
      return block;
    }
    return realloc_entered(heap, b, size, s, r, PH__ENTRY_BIAS);
  }
  return realloc_general(heap, flags, block, size);
}

/* HeapFree, any case (the entry point below tries fast.h first).  NULL
 * is checked before the heap, as Windows does: HeapFree(any, 0, NULL) is
 * TRUE. */
static PH_NOINLINE int free_general(void* heap, uint32_t flags, void* block) {
  if (block == NULL)
    return 1;
  struct ph__heap* h = ph__heap_lookup(heap);
  if (PH_UNLIKELY(h == NULL)) {
    ph__fail(PH_ERROR_INVALID_HANDLE);
    return 0;
  }
  struct ph__region* r;
  enum ph__entry how;
  struct ph__heap* shard = enter_block(h, block, flags, &r, &how);
  if (PH_UNLIKELY(shard == NULL)) {
    bad_block(h, block);
    return 0;
  }
  if (PH_TRACK) /* before another thread reuses it (a large block's region
                   may be reused from the cache, as a heap's too) */
    PH_TRACK_FREE(block, ph__heap_block_size(shard, r, block));
  ph__heap_free(shard, r, block);
  ph__heap_leave(shard, how);
  return 1;
}

/* HeapFree of live block b in region r of shard s, entered by the entry
 * point (how), when it is not small: the engine's whole way. */
static PH_NOINLINE int free_entered(struct ph__block* b, struct ph__heap* s,
                                    struct ph__region* r, enum ph__entry how) {
  ph__heap_free(s, r, ph__block_data(b));
  ph__fast_leave(s, how);
  return 1;
}

/* The end of a fast HeapFree whose quick push asked for a tick: the tick,
 * then leave s (entered as `how`).  Out of line: no call in the fast path
 * but this tail call. */
static PH_NOINLINE int free_tick(struct ph__heap* s, enum ph__entry how) {
  ph__remote_take(s);
  ph__heap_tick(s);
  ph__fast_leave(s, how);
  return 1;
}

/* The end of a fast HeapFree of a run slot: the tick counted, s left. */
static inline int free_counted(struct ph__heap* s, enum ph__entry how) {
  if (PH_UNLIKELY(--s->tick == 0))
    return free_tick(s, how);
  ph__fast_leave(s, how);
  return 1;
}

/* The same when the slot's run's countdown ran out (PH__RELEASE_MOVED):
 * the run moved first.  Out of line, so that the fast path makes tail
 * calls only (and saves no register). */
static PH_NOINLINE int free_moved(struct ph__heap* s, struct ph__block* b,
                                  enum ph__entry how) {
  ph__run_moved(s, ph__run_of(b, ph__block_word(b)));
  return free_counted(s, how);
}

/* HeapFree of run slot b (whose data is `block`) of s, the thread's
 * cached shard, entered (how), its header sealed and without the guests'
 * mark: its bit set, the tick counted, s left.  If the slot is free
 * already, s is left and the general path reports it. */
static inline int free_slot(struct ph__heap* s, struct ph__block* b,
                            void* block, enum ph__entry how) {
  switch (ph__run_release(s, b, ph__block_word(b))) {
  case PH__RELEASE_TWICE:
    ph__fast_leave(s, how);
    return free_general(cached_handle(), 0, block);
  case PH__RELEASE_MOVED:
    return free_moved(s, b, how);
  case PH__RELEASE_DONE:
    break;
  }
  return free_counted(s, how);
}

/* HeapFree of `block` in region r (NULL: in none), not a block of the
 * thread's cached shard: a block another thread allocated in this heap
 * goes onto its shard's remote list, without its lock (remote.c);
 * anything else, the general path. */
static PH_NOINLINE int free_guest(void* heap, uint32_t flags, void* block,
                                  struct ph__region* r) {
  struct ph__heap* s = r != NULL ? r->heap : NULL;
  if (s != NULL && s->top == ph__thread.heap && ph__remote_free(s, r, block))
    return 1;
  return free_general(heap, flags, block);
}

/* HeapFree of `block` when the inline path did not enter s, the thread's
 * shard of its cached heap, through the token (see alloc_unbiased): found
 * through the address map, then the other ways in; else (or if `block` is
 * not a live block there) the general path, which reports it. */
static PH_NOINLINE int free_unbiased(void* heap, uint32_t flags,
                                     void* block) {
  struct ph__heap* s = ph__fast_shard();
  if (s == NULL)
    return free_general(heap, flags, block);
  struct ph__region* r = ph__map_find(block);
  if (r == NULL || r->heap != s) /* not a block of s */
    return free_guest(heap, flags, block, r);
  enum ph__entry how;
  if (ph__fast_lock(s, &how)) {
    struct ph__block* b = ph__region_spot(r, block);
    switch (ph__fast_state(s, b)) {
    case PH__STATE_RUN:
      return free_slot(s, b, block, how);
    case PH__STATE_BUSY:
      return free_entered(b, s, r, how);
    }
    ph__fast_leave(s, how);
  }
  return free_general(heap, flags, block);
}

/* HeapFree of live block b in region r of shard s, entered through the
 * bias: onto its quick list if it is small and its list is in use, else
 * the engine's whole way. */
static inline int free_biased(struct ph__heap* s, struct ph__region* r,
                              struct ph__block* b) {
  uint32_t g = ph__block_size(b);
  if (PH_UNLIKELY(g > PH__QUICK_EXACT || !ph__quick_takes(s, g)))
    return free_entered(b, s, r, PH__ENTRY_BIAS);
  if (PH_UNLIKELY(ph__quick_push(s, b, g)))
    return free_tick(s, PH__ENTRY_BIAS);
  ph__fast_leave(s, PH__ENTRY_BIAS);
  return 1;
}

int ph_heap_free(void* heap, uint32_t flags, void* block) {
  if (PH_LIKELY(ph__fast_hit(heap, flags))) {
    struct ph__heap* s = ph__fast_enter(); /* heap: cached_handle() */
    if (PH_UNLIKELY(s == NULL))
      return free_unbiased(cached_handle(), 0, block);
    /* A block of a shard with one blocks region needs no address map. */
    struct ph__region* r = &s->region0;
    if (PH_UNLIKELY(ph__heap_hot_spot(s, block) == NULL)) {
      r = ph__map_find(block);
      if (r == NULL || r->heap != s) { /* not a block of s */
        ph__fast_leave(s, PH__ENTRY_BIAS);
        return free_guest(cached_handle(), 0, block, r);
      }
      if (ph__region_spot(r, block) == NULL) {
        ph__fast_leave(s, PH__ENTRY_BIAS);
        return free_general(cached_handle(), 0, block);
      }
    }
    struct ph__block* b = ph__block_of(block); /* where either allows it */
    unsigned state = ph__fast_state(s, b);
    if (PH_LIKELY(state == PH__STATE_RUN))
      return free_slot(s, b, block, PH__ENTRY_BIAS);
    if (state == PH__STATE_BUSY)
      return free_biased(s, r, b);
    ph__fast_leave(s, PH__ENTRY_BIAS);
    return free_general(cached_handle(), 0, block);
  }
  return free_general(heap, flags, block);
}

size_t ph_heap_size(void* heap, uint32_t flags, const void* block) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL) {
    ph__fail(PH_ERROR_INVALID_HANDLE);
    return (size_t)-1;
  }
  struct ph__region* r;
  enum ph__entry how;
  struct ph__heap* shard = enter_block(h, block, flags, &r, &how);
  if (shard == NULL) {
    bad_block(h, block);
    return (size_t)-1;
  }
  size_t size = ph__heap_block_size(shard, r, block);
  ph__heap_leave(shard, how);
  if (size == SIZE_MAX) { /* its own bytes past its size overwritten */
    bad_block(h, block);
    return (size_t)-1;
  }
  return size;
}

int ph_heap_validate(void* heap, uint32_t flags, const void* block) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL)
    return 0;
  if (block == NULL) {
    bool locked = ph__heap_enter_all(h, flags);
    bool ok = ph__validate_heap(h);
    ph__heap_leave_all(h, locked);
    return ok;
  }
  /* One block: its own header (a damaged neighbour is the neighbour's
   * problem, as on Windows; the whole-heap check reports it). */
  struct ph__region* r;
  enum ph__entry how;
  struct ph__heap* shard = enter_block(h, block, flags, &r, &how);
  if (shard == NULL) {
    /* Windows reads the block's header and catches the fault: an address
     * that cannot be read gives ERROR_NOACCESS; readable memory that is
     * not a live block leaves the last error alone. */
    if (!ph__prim_readable((const void*)((uintptr_t)block - PH__HEADER)))
      ph__fail(PH_ERROR_NOACCESS);
    return 0;
  }
  ph__heap_leave(shard, how);
  return 1;
}

int ph_heap_walk(void* heap, ph_heap_entry_t* entry) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL) {
    ph__fail(PH_ERROR_INVALID_HANDLE);
    return 0;
  }
  if (entry == NULL) {
    ph__fail(PH_ERROR_INVALID_PARAMETER);
    return 0;
  }
  bool locked = ph__heap_enter_all(h, 0);
  uint32_t code = ph__walk_next(h, entry);
  ph__heap_leave_all(h, locked);
  if (code != 0) {
    ph__fail(code);
    return 0;
  }
  return 1;
}

int ph_heap_lock(void* heap) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL) {
    ph__fail(PH_ERROR_INVALID_HANDLE);
    return 0;
  }
  return ph__heap_user_lock(h);
}

int ph_heap_unlock(void* heap) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL) {
    ph__fail(PH_ERROR_INVALID_HANDLE);
    return 0;
  }
  if (!ph__heap_user_unlock(h)) {
    ph__fail(PH_ERROR_INVALID_PARAMETER);
    return 0;
  }
  return 1;
}

size_t ph_heap_compact(void* heap, uint32_t flags) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL) {
    ph__fail(PH_ERROR_INVALID_HANDLE);
    return 0;
  }
  bool locked = ph__heap_enter_all(h, flags);
  size_t largest = ph__heap_compact_all(h);
  ph__heap_leave_all(h, locked);
  if (largest == 0)
    ph__fail(PH_NO_ERROR); /* documented: 0 with NO_ERROR means no space */
  return largest;
}

int ph_heap_summary(void* heap, uint32_t flags, ph_heap_summary_t* summary) {
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL) {
    ph__fail(PH_ERROR_INVALID_HANDLE);
    return 0;
  }
  if (flags != 0 || summary == NULL || summary->cb != sizeof *summary) {
    ph__fail(PH_ERROR_INVALID_PARAMETER);
    return 0;
  }
  bool locked = ph__heap_enter_all(h, 0);
  ph__heap_summarize_all(h, summary);
  ph__heap_leave_all(h, locked);
  return 1;
}

size_t ph_region_cache_limit(size_t limit) {
  ph__init();
  return ph__region_cache_set(limit);
}

uint32_t ph_decay_time(uint32_t milliseconds) {
  ph__init();
  return ph__decay_set(milliseconds);
}

int ph_lock_stats(ph_lock_stats_t* stats) {
  if (stats == NULL || stats->cb != sizeof *stats) {
    ph__fail(PH_ERROR_INVALID_PARAMETER);
    return 0;
  }
  ph__init(); /* biasing is decided there */
  struct ph__lock_counts* c = &ph__lock_counts;
  stats->biasing = ph__biasing();
  stats->contended = atomic_load_explicit(&c->contended, memory_order_relaxed);
  stats->sleeps = atomic_load_explicit(&c->sleeps, memory_order_relaxed);
  stats->bias_grants = atomic_load_explicit(&c->grants, memory_order_relaxed);
  stats->bias_revocations =
      atomic_load_explicit(&c->revocations, memory_order_relaxed);
  stats->fence_failures =
      atomic_load_explicit(&c->fence_failures, memory_order_relaxed);
  stats->owner_waits = atomic_load_explicit(&c->owner_waits, memory_order_relaxed);
  return 1;
}
