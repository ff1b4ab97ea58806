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

bool ph__bias_on;

void ph__biased_setup(bool allowed) {
  ph__bias_on = allowed && ph__prim_fence_all_init();
}

void ph__biased_note(ph__biased_t* lock, uintptr_t self) {
  if (lock->streak_thread != self) {
    lock->streak_thread = self;
    lock->streak = 0;
  }
  if (++lock->streak < lock->streak_goal ||
      atomic_load_explicit(&lock->bias, memory_order_relaxed) == self)
    return;
  if (ph__bias_on)
    atomic_store_explicit(&lock->bias, self, memory_order_relaxed);
}
