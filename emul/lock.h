/*
 * lock.h - the small locks of the engine, on C11 atomics.
 *
 * ph__spin_t guards short critical sections (one heap operation, the
 * registry, the region cache): an atomic flag with a bounded spin, then
 * yielding.  Holders never block inside it, so waits are short.
 */
#ifndef PH_LOCK_H
#define PH_LOCK_H

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

#endif /* PH_LOCK_H */
