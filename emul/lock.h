/*
 * lock.h - the engine's concurrency in one unit: thread identity, the
 * mutex every lock is built on, the biased lock of a heap, and the
 * protocol the rest of the engine follows.  lock.c holds the slow paths
 * and the heap-level operations built on them (entering a heap, shards,
 * ph_heap_lock, the lookup cache); startup.c the fork handlers.
 *
 * ---- Who writes what -----------------------------------------------------
 *   registry list, handle quarantine   the registry mutex (registry.c)
 *   region cache                       the cache mutex (region.c)
 *   a shard's allocator state (regions, bins, quick lists, totals, the
 *     address-map slots of its regions)
 *                                      that shard's lock, entered through
 *                                      its mutex or its bias; on a
 *                                      NO_SERIALIZE heap the caller's one
 *                                      thread (the Win32 contract)
 *   top->owner, owner_depth            ph_heap_lock: with every shard's
 *                                      mutex held; its release: with the
 *                                      top shard's mutex held.  Read by a
 *                                      thread that holds a shard's lock
 *   top->shards[i]                     once, under top's mutex (release);
 *                                      read with acquire, no lock
 *   top->spread, a thread's slot,      relaxed, no lock: hints that choose
 *     slot_users (lock.c)              a shard, never what protects it
 *   lock->bias                         only under lock->mutex
 *   lock->busy                         only by the bias holder
 *   a thread's fast token              by that thread; set to NULL by a
 *                                      revoker (the fast token, below)
 *   ph__heap_epoch                     +1 by HeapDestroy before any region
 *                                      of the heap is released
 *   the statistics (ph__lock_stats)    relaxed atomic adds, slow paths only
 *
 * ---- Lock order ------------------------------------------------------------
 *   init -> registry -> heaps (registry order; shards in index order)
 *        -> region cache -> key pool -> exception handler
 * and, taken alone or under a heap's mutex with nothing taken inside it,
 * the list of threads that may hold a fast token (lock.c).
 * Whoever holds a heap's mutex takes neither the init nor the registry
 * mutex.  No code waits for a ph_heap_lock owner while it holds any lock:
 * the owner may itself be waiting for that lock (a thread that holds
 * HeapLock may call HeapCreate).  Process-wide passes (HeapOptimizeResources,
 * the fork handlers) therefore take heap mutexes only, which are held for
 * one operation at a time, and skip a heap whose owner is another thread.
 *
 * ---- Waiting ---------------------------------------------------------------
 * Nothing waits by spinning for long: a mutex spins PH__SPIN_LIMIT rounds,
 * then sleeps (ph__prim_wait: a futex, or a parking lot on a condition
 * variable) until the unlock wakes it; a thread that meets another's
 * ph_heap_lock sleeps on the heap's owner_seq until ph_heap_unlock.  The
 * one bounded spin is a revoker waiting for a bias holder to finish the
 * single operation it is inside.
 *
 * ---- The bias handshake ----------------------------------------------------
 * A shard is used mostly by one thread, the bias holder, which enters by
 * storing busy = 1 and then re-reading bias: two plain accesses, no locked
 * instruction and no fence.  Any other thread takes the mutex, stores
 * bias = 0, runs ph__prim_fence_all (every running thread of the process
 * executes a full barrier) and waits for busy to be 0.  Why that is
 * exclusion: the holder's store and load are ordered by the barrier that
 * the fence runs on its processor (or by the context switch, if it was not
 * running).  If the holder's load of bias came before that barrier, its
 * store of busy = 1 did too, and is visible to the revoker's load after
 * the fence: the revoker waits.  If the load came after, it sees bias = 0
 * and the holder takes the mutex.  Either way one of them is inside.
 * Where the fence does not exist (macOS, the BSDs, Wine, TSan) nothing is
 * biased.  If it stops working (a seccomp filter installed later), a bias
 * grant re-tests it first (at most every 100 ms), so none is granted after
 * that, and a revocation whose fence fails ends the process with a message (it cannot
 * know whether the holder is inside, and running without exclusion would
 * corrupt the heap silently).  A holder gives its own bias back, as it
 * exits (lock.c): it stores bias = 0 under the mutex, needing no fence,
 * as it is inside no operation.
 *
 * ---- The fast token ----------------------------------------------------------
 * The fast paths (fast.h) do not compare bias with the thread's id: they
 * enter through the thread's token, ph__thread.fast, which names the
 * shard of the thread's cached heap while the thread holds that shard's
 * bias, else NULL.  The holder stores busy = 1, then re-reads its token,
 * as the handshake re-reads bias; a revoker, after it stores bias = 0,
 * clears the holder's token (a compare-exchange from that shard to NULL,
 * finding the holder by its id in the list of threads that have had a
 * token) before its fence, so the argument above holds with the token in
 * place of bias.  A thread sets its token (ph__thread_token_set, in slow
 * paths only) by storing it and then reading bias: no fence there, as
 * the revoker clears the token a second time after its fence, and if that
 * finds the token set, fences and waits once more.  Either the thread's
 * read of bias came after the revoker's fence (it sees 0 and clears its
 * token), or its store of the token came before it (the revoker's second
 * look sees it).  So a thread goes in through its token only while it
 * holds the shard's bias, and the fast paths read no bias, no id and no
 * epoch: a HeapDestroy clears every token that names one of its shards,
 * the destroying thread's and any other holder's (whose later calls with
 * the handle must fail, not enter released memory), and every other
 * token stays as it was.  The list and a thread's exit: lock.c.
 *
 * ---- Shards: how a heap grows with its threads ------------------------------
 * A serialized growable heap starts as one shard, the top heap.  A thread
 * that enters a shard and meets another thread there (finds its mutex
 * taken, or revokes the bias of a thread that is inside an operation, or
 * revokes it for the third time: threads that keep taking turns, as on
 * one processor, where they seldom meet inside) reports it (contended()
 * in lock.c).  The first such meeting on a heap
 * sets top->spread: from then on each thread allocates from the shard of
 * its slot, made on its first use.  A thread takes, at its first use, the
 * lowest slot no live thread has (a thread started after another exited
 * takes that one's: its shards' runs and pages are still there), else
 * the next in turn, and gives it back as it exits (lock.c); PH__SHARDS
 * (64) of them whatever the number of processors:
 * what costs is threads sharing a shard, not processors (two threads that
 * take turns on one shard revoke each other's bias at every time slice,
 * and the one without it pays the mutex; measured on 2 cores, 64 threads
 * on 16 shards ran 1.6 times slower than on 64).  So up to 64 threads
 * each have a shard biased to them: no atomic instruction on the common
 * path.  A thread that meets another allocating thread in its own shard
 * (more than 64 threads) moves to a free slot, else the next in turn, so
 * threads that keep meeting part.  A heap used by one thread at a time (or
 * handed from one live thread to another once or twice) never spreads and
 * costs one shard; one used by many costs at most 64, whose
 * memory decays and is given back by the same rules as any heap's.  A block
 * is always released in the shard that holds it, under that shard's lock; a
 * thread freeing another's block (a guest) hands it over as below.  A guest
 * that does take a shard's mutex (the general paths) neither breaks nor
 * builds the owner's streak.  The counts of ph_lock_stats (contended
 * entries, sleeps, revocations) are how to see, on few cores, what many
 * would do.
 *
 * ---- Frees from other threads (remote.c) ------------------------------------
 * A guest's HeapFree takes no lock and revokes no bias.  It checks the
 * block as any free does (the region from the address map; the header
 * inside the committed part, sealed, BUSY or a run's slot; the committed
 * size read with a relaxed load, as the owner changes it with a relaxed
 * store), then marks it: an atomic compare-exchange of the block's first
 * payload word to a keyed mark (ph__remote_mark), which of two threads
 * freeing it at once only one wins, and a second free after it sees.  A
 * free run slot carries the free mark there once its shard has released
 * guests' frees (ph__free_mark, the owner's relaxed store when it frees
 * the slot, cleared when it hands it out), so a guest refuses it without
 * reading the run's bitmap.  The first guest sets the shard's `guests`
 * byte (a relaxed store where it reads 0; the byte lies beside the seal,
 * a line every thread reads and nothing else writes).  Then it pushes the
 * block on the shard's `remote` list (a compare-exchange loop, release;
 * the link, encoded, in the second payload word).  Nothing else is
 * written: the header stays BUSY, so the owner, which reads a busy
 * block's payload only to look for the mark (an atomic load of its first
 * word), cannot race with the guest.  The shard releases the
 * list under its lock (ph__remote_drain: one exchange to NULL, acquire;
 * every block checked, a bad one ends the walk and the rest is left) at
 * every general entry (so HeapSize, HeapValidate, a second HeapFree see
 * the block as freed), on its owner's slow paths, and in lock_all (so
 * HeapLock, walks, validation and summaries see every guest free that
 * happened before them).  The owner's own fast frees and reallocs refuse
 * a marked block (the general path then drains and reports it): once
 * `guests` says a guest has freed into the shard, they look at the
 * block's first word, not at the list, whose line the guests keep
 * writing.  A second free ordered after a guest's sees both its byte and
 * its mark; one that races with it is the case below.  A block marked
 * and not yet pushed may be freed by its owner's general path meanwhile
 * (a double free racing with itself): the drain then finds it no longer
 * BUSY (or its slot free) and reports it.  A guest takes the general
 * path while another thread holds ph_heap_lock, and at
 * every 4096th guest free of a thread if the shard has not released its
 * list since the last such look (remote_drains, remote_seen: relaxed
 * hints), so a shard whose owner stopped allocating holds a bounded
 * number of blocks pending while an owner that keeps releasing is never
 * revoked by its guests.
 *
 * ---- Thread identity -------------------------------------------------------
 * A thread's id (bias holder, ph_heap_lock owner) comes from a process-wide
 * counter, never reused: a thread that exits holding HeapLock or a bias
 * hands neither to a later thread.  0 means "none".
 *
 * ---- The lookup cache and the epoch ------------------------------------------
 * Each thread remembers its last (handle, heap) lookup, and its shard of
 * that heap, with the epoch it read before the lookup.  HeapDestroy
 * increments the epoch before it releases anything, so an entry made
 * before a destruction is stale after it; so does a heap's first spread
 * into shards (the cached shard was the top heap), which is why an entry
 * may be stale, never wrong.  A caller that uses a handle after its
 * HeapDestroy has synchronised with that call (it learnt the heap was gone
 * from it), so it reads the new epoch: a relaxed load is enough.  The
 * fast paths need no epoch: they go through the token, which the
 * destruction cleared.  Everything else checks it, the fast paths' other
 * ways in too (ph__fast_shard).
 *
 * ---- Memory orders -----------------------------------------------------------
 * Mutex: acquire on lock, release on unlock (the critical sections).
 * Shard pointers and address-map slots: release on publish, acquire on
 * read (a reader then sees the initialised structure).  owner: relaxed
 * under a shard's mutex (the mutex orders it); the waiters' sleep protocol
 * on owner_seq uses seq_cst (see ph__heap_wait_owner).  bias and busy: see
 * the handshake; busy = 0 is a release so the revoker's acquire load sees
 * the holder's critical section.  Weak memory (ARM64) needs nothing more:
 * every ordering above is explicit, and qemu-user cannot test it.
 *
 * ---- fork ------------------------------------------------------------------
 * The prepare handler takes every lock above in the lock order, but the
 * key pool's (the child drops the pool and resets that lock), so the child
 * copies no structure half-changed.  A heap held by ph_heap_lock is not
 * waited for: it is consistent between operations.  The child resets
 * every lock and drops the holds of threads that do not exist there.
 */
#ifndef PH_LOCK_H
#define PH_LOCK_H

#include "internal.h"
#include "prim.h"

#include <stdatomic.h>
#include <stdbool.h>

#if defined(__x86_64__) || defined(__i386__)
#  define PH__CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#  define PH__CPU_RELAX() __asm__ __volatile__("yield")
#else
#  define PH__CPU_RELAX() ((void)0)
#endif

#define PH__SPIN_LIMIT 100u /* pause rounds before a waiter sleeps */

/* ---- statistics ---------------------------------------------------------- */

/* Process-wide counts, for ph_lock_stats; changed on slow paths only. */
struct ph__lock_counts {
  atomic_uint_fast64_t contended; /* mutex not free at the first try */
  atomic_uint_fast64_t sleeps;    /* a waiter went to sleep */
  atomic_uint_fast64_t grants;    /* biases given */
  atomic_uint_fast64_t revocations;
  atomic_uint_fast64_t fence_failures;
  atomic_uint_fast64_t owner_waits; /* entries that met another's HeapLock */
};
extern struct ph__lock_counts ph__lock_counts;

static inline void ph__count(atomic_uint_fast64_t* counter) {
  atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* ---- thread identity -------------------------------------------------------- */

struct ph__heap;

/* The calling thread as the engine knows it. */
struct ph__thread {
  uintptr_t id;          /* from a counter, never reused; 0 until assigned */
  unsigned slot_plus1;   /* 0 until the first call of ph__thread_slot */
  uintptr_t epoch;       /* ph__heap_epoch when `handle` was looked up */
  const void* handle;    /* the last handle looked up (id is assigned then),
                            and its heap */
  struct ph__heap* heap;
  struct ph__heap* shard; /* that heap's shard of this thread, if fast.h
                             may use it; else &ph__fast_none */
  _Atomic(struct ph__heap*) fast; /* the token: `shard` while this thread
                                     holds its bias, else NULL (above) */
  struct ph__thread* next; /* the list of threads that have had a token */
  bool listed;             /* on that list (lock.c) */
  unsigned remote_frees; /* frees of other shards' blocks (remote.c) */
  uint32_t compacted_at; /* ph__prim_now_ms, mod 2^32, when a decay step
                            of this thread last compacted a shard
                            (info.c) */
};
extern _Thread_local struct ph__thread ph__thread PH_TLS_FAST;

uintptr_t ph__thread_id_assign(void);

/* The calling thread's id (not 0). */
static inline uintptr_t ph__thread_self(void) {
  uintptr_t id = ph__thread.id;
  return PH_LIKELY(id != 0) ? id : ph__thread_id_assign();
}

/* ---- the mutex ------------------------------------------------------------ */

/* 0 free, 1 held, 2 held and a waiter may sleep (unlock wakes one). */
typedef struct ph__mutex {
  atomic_uint state;
} ph__mutex_t;

#define PH__MUTEX_INIT {0}

void ph__mutex_lock_slow(ph__mutex_t* m);
void ph__mutex_wake(ph__mutex_t* m);

static inline bool ph__mutex_try(ph__mutex_t* m) {
  unsigned free_state = 0;
  return atomic_load_explicit(&m->state, memory_order_relaxed) == 0 &&
         atomic_compare_exchange_strong_explicit(
             &m->state, &free_state, 1, memory_order_acquire,
             memory_order_relaxed);
}

/* Returns whether the mutex was taken (the caller waited). */
static inline bool ph__mutex_lock(ph__mutex_t* m) {
  if (PH_LIKELY(ph__mutex_try(m)))
    return false;
  ph__mutex_lock_slow(m);
  return true;
}

static inline void ph__mutex_unlock(ph__mutex_t* m) {
  if (PH_UNLIKELY(atomic_exchange_explicit(&m->state, 0,
                                           memory_order_release) == 2))
    ph__mutex_wake(m);
}

/* Forcibly free a mutex whose holder is gone (a fork child's copy). */
static inline void ph__mutex_reset(ph__mutex_t* m) {
  atomic_store_explicit(&m->state, 0, memory_order_relaxed);
}

/* ---- the biased lock ---------------------------------------------------------
 * A thread gets the bias after entering through the mutex `streak_goal`
 * times in a row with no other thread in between; each revocation doubles
 * the goal (up to PH__BIAS_GOAL_MAX), so a lock that threads really share
 * settles on the mutex and pays at most one fence per that many entries.
 * The thread that makes a heap, or a shard outside any ph_heap_lock,
 * holds its bias from the start (ph__biased_give): a heap is mostly used
 * by the thread that made it (a shard always is), and a short-lived heap
 * would otherwise pay the mutex for all its first entries; if another
 * thread comes, it revokes the bias as it would any other.
 */
#define PH__BIAS_GOAL_MIN 16u
#define PH__BIAS_GOAL_MAX 65536u
/* The goal once the bias was revoked three times: from then on a
 * revocation counts as a meeting (ph__biased_lock). */
#define PH__BIAS_GOAL_SHARED (PH__BIAS_GOAL_MIN << 3)

typedef struct ph__biased {
  atomic_uintptr_t bias;   /* id of the holder; 0: not biased */
  atomic_int busy;         /* 1 while the holder is inside without mutex */
  ph__mutex_t mutex;
  uintptr_t streak_thread; /* under mutex: the last thread through it */
  uint32_t streak;         /* under mutex: its entries in a row */
  uint32_t streak_goal;    /* under mutex: entries in a row that bias */
} ph__biased_t;

/* How a thread entered a biased lock; pass it to ph__biased_leave. */
enum ph__entry { PH__ENTRY_NONE = 0, PH__ENTRY_MUTEX = 1, PH__ENTRY_BIAS = 2 };

void ph__biased_init(ph__biased_t* lock);
/* Give the bias of a lock no other thread can see yet (a heap or shard
 * just made) to its maker, if biasing is on.  Returns whether it did. */
bool ph__biased_give(ph__biased_t* lock, uintptr_t maker);

/* Whether new biases may be granted: the process-wide fence worked at
 * start-up and PORTHEAP_BIASED_LOCKS is not 0 (ph__biased_setup), and it
 * has not failed since (then false for good). */
extern atomic_bool ph__bias_on;
void ph__biased_setup(bool allowed);

static inline bool ph__biasing(void) {
  return atomic_load_explicit(&ph__bias_on, memory_order_relaxed);
}

/* Enter as the bias holder `self`: true if in, false if self does not hold
 * the bias (then take the mutex with ph__biased_lock). */
static inline bool ph__biased_try_bias(ph__biased_t* lock, uintptr_t self) {
  if (PH_UNLIKELY(atomic_load_explicit(&lock->bias, memory_order_relaxed) !=
                  self))
    return false;
  atomic_store_explicit(&lock->busy, 1, memory_order_relaxed);
  /* The revoker's ph__prim_fence_all stands for a fence here. */
  atomic_signal_fence(memory_order_seq_cst);
  if (PH_LIKELY(atomic_load_explicit(&lock->bias, memory_order_relaxed) ==
                self))
    return true; /* only self gives self the bias, under the mutex */
  atomic_store_explicit(&lock->busy, 0, memory_order_release);
  return false;
}

/* Take the mutex; revoke another thread's bias.  Returns with the mutex. */
/* Returns whether another thread was met: the mutex was taken, or the
 * bias, revoked, was held by a thread inside an operation. */
bool ph__biased_lock(ph__biased_t* lock, uintptr_t self);

/* Holding the mutex: count an entry by `self` towards the bias, and give
 * self the bias when the streak reaches the goal.  Returns whether it was
 * given now. */
bool ph__biased_note(ph__biased_t* lock, uintptr_t self);

static inline void ph__biased_unlock(ph__biased_t* lock) {
  ph__mutex_unlock(&lock->mutex);
}

static inline void ph__biased_leave(ph__biased_t* lock, enum ph__entry how) {
  if (how == PH__ENTRY_BIAS)
    atomic_store_explicit(&lock->busy, 0, memory_order_release);
  else if (how == PH__ENTRY_MUTEX)
    ph__mutex_unlock(&lock->mutex);
}

/* A fork child's copy: no other thread exists, so nothing is held. */
static inline void ph__biased_reset(ph__biased_t* lock) {
  ph__mutex_reset(&lock->mutex);
  atomic_store_explicit(&lock->busy, 0, memory_order_relaxed);
  atomic_store_explicit(&lock->bias, 0, memory_order_relaxed);
}

#endif /* PH_LOCK_H */
