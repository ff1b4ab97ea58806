/*
 * random.c - random bytes for the heaps' secrets (the seal and link keys
 * of block.h and engine.h), from the system's random source.
 *
 * One ph__prim_random_bytes call fills a pool of POOL_SIZE bytes, taken
 * from under a mutex, so that making a heap (40 bytes of keys) costs
 * a system call only every dozen heaps.  A byte is handed out once: it is
 * wiped from the pool as it leaves.  A fork child drops the pool (from
 * startup.c's fork handler): else parent and child would give their next
 * heaps the same keys.
 *
 * Last resort: if the system's source fails (no /dev/urandom in a chroot,
 * a seccomp filter), ph__prim_random fills the pool from the clock and
 * addresses.  Heaps then still work and still get distinct keys, but keys
 * that an attacker who knows roughly when the process ran may guess.
 */
#include "engine.h"

#include <string.h>

#define POOL_SIZE 512

static ph__mutex_t pool_lock = PH__MUTEX_INIT; /* a leaf: no lock inside */
static unsigned char pool[POOL_SIZE];
static size_t pool_left; /* bytes not handed out, at the end of pool */

/* Fill the pool.  Caller holds pool_lock. */
static void pool_refill(void) {
  if (!ph__prim_random_bytes(pool, POOL_SIZE)) {
    for (size_t i = 0; i + 8 <= POOL_SIZE; i += 8) { /* the last resort */
      uint64_t x = ph__prim_random();
      memcpy(pool + i, &x, 8);
    }
  }
  pool_left = POOL_SIZE;
}

/* Fill buf[0..size) with random bytes, never handed out before. */
void ph__random_fill(void* buf, size_t size) {
  unsigned char* out = buf;
  ph__mutex_lock(&pool_lock);
  while (size > 0) {
    if (pool_left == 0)
      pool_refill();
    unsigned char* from = pool + (POOL_SIZE - pool_left);
    size_t n = size < pool_left ? size : pool_left;
    memcpy(out, from, n);
    memset(from, 0, n);
    out += n;
    size -= n;
    pool_left -= n;
  }
  ph__mutex_unlock(&pool_lock);
}

/* In a fork child: drop the bytes the parent may also hand out, and the
 * lock, which a thread of the parent may have held. */
void ph__random_fork_child(void) {
  memset(pool, 0, sizeof pool);
  pool_left = 0;
  ph__mutex_reset(&pool_lock);
}
