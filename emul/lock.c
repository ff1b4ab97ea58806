/* lock.c - the contended path of ph__spin_t: spin briefly, then yield. */
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
