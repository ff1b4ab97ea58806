/*
 * lock.h - the small locks of the engine, on C11 atomics.
 *
 * ph__spin_t guards short critical sections (the registry, the region
 * cache, one heap operation): an atomic flag with a bounded spin, then
 * yielding.  Holders never block inside it, so waits are short.
 *
 * ph__biased_t is the lock of a heap (or shard): a ph__spin_t that one
 * thread at a time can enter without an atomic read-modify-write.
 */
#ifndef PH_LOCK_H
#define PH_LOCK_H

#include "internal.h"
#include "prim.h"

#include <stdatomic.h>
#include <stdbool.h>

typedef struct ph__spin {
  atomic_int held; /* 0 free, 1 held */
} ph__spin_t;

#define PH__SPIN_INIT {0}

#if defined(__x86_64__) || defined(__i386__)
#  define PH__CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#  define PH__CPU_RELAX() __asm__ __volatile__("yield")
#else
#  define PH__CPU_RELAX() ((void)0)
#endif

void ph__spin_lock_slow(ph__spin_t* lock);

static inline bool ph__spin_try(ph__spin_t* lock) {
  return atomic_load_explicit(&lock->held, memory_order_relaxed) == 0 &&
         atomic_exchange_explicit(&lock->held, 1, memory_order_acquire) == 0;
}

static inline void ph__spin_lock(ph__spin_t* lock) {
  if (!ph__spin_try(lock))
    ph__spin_lock_slow(lock);
}

static inline void ph__spin_unlock(ph__spin_t* lock) {
  atomic_store_explicit(&lock->held, 0, memory_order_release);
}

/* Forcibly free a lock whose holder is gone (a fork child's copy). */
static inline void ph__spin_reset(ph__spin_t* lock) {
  atomic_store_explicit(&lock->held, 0, memory_order_relaxed);
}

/*
 * A biased lock.  A shard is used mostly by one thread (threads get shards
 * of their own), so that thread, the bias holder, enters by raising `busy`
 * and checking that it still holds the bias: two plain accesses, no locked
 * instruction.  Any other thread takes `mutex` and, if the lock is biased,
 * revokes the bias: clears `bias`, runs ph__prim_fence_all (a barrier on
 * every running thread of the process) and waits for `busy` to drop.  That
 * process-wide fence is what lets the holder go without a fence of its
 * own: after it, either the revoker sees `busy` raised, or the holder sees
 * the bias gone and takes the mutex (the asymmetric Dekker handshake).
 *
 * Invariants: `bias` changes only under `mutex`; the holder is inside
 * without the mutex only while `busy` is 1 and `bias` is its id.
 *
 * A thread gets the bias after entering through the mutex `streak_goal`
 * times in a row with no other thread in between; each revocation doubles
 * the goal (up to PH__BIAS_GOAL_MAX), so a lock that threads really share
 * settles on the mutex and pays at most one fence per that many entries.
 * Where ph__prim_fence_all_init() is false nothing is ever biased.
 */
#define PH__BIAS_GOAL_MIN 16u
#define PH__BIAS_GOAL_MAX 65536u

typedef struct ph__biased {
  atomic_uintptr_t bias;   /* thread id of the holder; 0: not biased */
  atomic_int busy;         /* 1 while the holder is inside without mutex */
  ph__spin_t mutex;
  uintptr_t streak_thread; /* under mutex: the last thread through it */
  uint32_t streak;         /* under mutex: its entries in a row */
  uint32_t streak_goal;    /* under mutex: entries in a row that bias */
} ph__biased_t;

/* How a thread entered a biased lock; pass it to ph__biased_leave. */
enum ph__entry { PH__ENTRY_NONE = 0, PH__ENTRY_MUTEX = 1, PH__ENTRY_BIAS = 2 };

void ph__biased_init(ph__biased_t* lock);

/* Whether locks are ever biased: the process-wide fence works here and
 * PORTHEAP_BIASED_LOCKS is not 0.  Set by ph__biased_setup when the engine
 * starts (ph__init), before any heap exists; read-only afterwards. */
extern bool ph__bias_on;
void ph__biased_setup(bool allowed);

/* Enter as the bias holder `self`: true if in, false if self does not hold
 * the bias (then take the mutex with ph__biased_lock). */
static inline bool ph__biased_try_bias(ph__biased_t* lock, uintptr_t self) {
  if (atomic_load_explicit(&lock->bias, memory_order_relaxed) != self)
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
void ph__biased_lock(ph__biased_t* lock, uintptr_t self);

/* Holding the mutex: count an entry by `self` towards the bias, and give
 * self the bias when the streak reaches the goal. */
void ph__biased_note(ph__biased_t* lock, uintptr_t self);

static inline void ph__biased_unlock(ph__biased_t* lock) {
  ph__spin_unlock(&lock->mutex);
}

static inline void ph__biased_leave(ph__biased_t* lock, enum ph__entry how) {
  if (how == PH__ENTRY_BIAS)
    atomic_store_explicit(&lock->busy, 0, memory_order_release);
  else if (how == PH__ENTRY_MUTEX)
    ph__spin_unlock(&lock->mutex);
}

/* A fork child's copy: no other thread exists, so nothing is held. */
static inline void ph__biased_reset(ph__biased_t* lock) {
  ph__spin_reset(&lock->mutex);
  atomic_store_explicit(&lock->busy, 0, memory_order_relaxed);
  atomic_store_explicit(&lock->bias, 0, memory_order_relaxed);
}

#endif /* PH_LOCK_H */
