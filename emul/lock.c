/* lock.c - the slow paths of the engine's locks (lock.h). */
#include "lock.h"

void ph__spin_lock_slow(ph__spin_t* lock) {
  for (unsigned spins = 0;; spins++) {
    if (ph__spin_try(lock))
      return;
    if (spins < 64)
      PH__CPU_RELAX();
    else
      ph__prim_yield();
  }
}

void ph__biased_init(ph__biased_t* lock) {
  atomic_init(&lock->bias, 0);
  atomic_init(&lock->busy, 0);
  lock->mutex = (ph__spin_t)PH__SPIN_INIT;
  lock->streak_thread = 0;
  lock->streak = 0;
  lock->streak_goal = PH__BIAS_GOAL_MIN;
}

void ph__biased_lock(ph__biased_t* lock, uintptr_t self) {
  ph__spin_lock(&lock->mutex);
  uintptr_t holder = atomic_load_explicit(&lock->bias, memory_order_relaxed);
  if (holder == 0 || holder == self)
    return;
  atomic_store_explicit(&lock->bias, 0, memory_order_relaxed);
  ph__prim_fence_all();
  for (unsigned spins = 0;
       atomic_load_explicit(&lock->busy, memory_order_acquire) != 0; spins++) {
    if (spins < 64)
      PH__CPU_RELAX();
    else
      ph__prim_yield();
  }
  if (lock->streak_goal < PH__BIAS_GOAL_MAX)
    lock->streak_goal *= 2;
}

static atomic_int bias_usable; /* 0 not known yet, 1 usable, -1 not */

void ph__biased_disable(void) {
  atomic_store(&bias_usable, -1);
}

/* Whether locks may be biased: the process-wide fence works here and
 * ph__biased_disable was not called.  Decided once. */
static bool biasing(void) {
  int usable = atomic_load_explicit(&bias_usable, memory_order_relaxed);
  if (usable == 0) {
    int now = ph__prim_fence_all_init() ? 1 : -1;
    if (atomic_compare_exchange_strong(&bias_usable, &usable, now))
      usable = now; /* else usable holds what another thread decided */
  }
  return usable > 0;
}

void ph__biased_note(ph__biased_t* lock, uintptr_t self) {
  if (lock->streak_thread != self) {
    lock->streak_thread = self;
    lock->streak = 0;
  }
  if (++lock->streak < lock->streak_goal ||
      atomic_load_explicit(&lock->bias, memory_order_relaxed) == self)
    return;
  if (biasing())
    atomic_store_explicit(&lock->bias, self, memory_order_relaxed);
}
