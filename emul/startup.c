/*
 * startup.c - the engine's start-up (the process heap, the environment)
 * and its fork handlers.
 *
 * Start-up runs once, under init_lock, on the first call that needs the
 * engine.  The fork handlers are registered when the library is loaded
 * (a constructor), before any thread can be inside start-up, so a fork
 * during the first call waits for it to finish instead of copying
 * init_lock held.
 *
 * fork: the prepare handler takes every lock of the engine in the lock
 * order (lock.h): init, registry, each serialized heap's shards, the
 * region cache, the exception handler (not the key pool's, a leaf: the
 * child drops the pool and frees its lock).  A heap held with ph_heap_lock by
 * another thread is not waited for (it is consistent between operations);
 * in the child, where that thread does not exist, its hold is dropped.
 */
#include "engine.h"
#include "track.h"

#include <stdlib.h>
#include <string.h>

static ph__mutex_t init_lock = PH__MUTEX_INIT;
_Atomic(struct ph__heap*) ph__the_process_heap; /* engine.h */

/* ---- fork ------------------------------------------------------------------ */

static bool serialized(const struct ph__heap* h) {
  return (h->options & PH_HEAP_NO_SERIALIZE) == 0;
}

static void lock_heap(struct ph__heap* h, void* arg) {
  (void)arg;
  if (serialized(h))
    for (struct ph__heap* s = h; s != NULL; s = ph__heap_next_shard(s))
      ph__biased_lock(&s->lock, ph__thread_self()); /* and no thread inside */
}

static void unlock_heap(struct ph__heap* h, void* arg) {
  (void)arg;
  if (serialized(h))
    for (struct ph__heap* s = h; s != NULL; s = ph__heap_next_shard(s))
      ph__biased_unlock(&s->lock);
}

/* In the child: only the forking thread exists.  Free every lock, and
 * drop the ph_heap_lock holds of the threads that are gone. */
static void reset_heap(struct ph__heap* h, void* self) {
  if (!serialized(h))
    return;
  if (atomic_load_explicit(&h->owner, memory_order_relaxed) !=
      (uintptr_t)self) {
    atomic_store_explicit(&h->owner, 0, memory_order_relaxed);
    h->owner_depth = 0;
  }
  atomic_store_explicit(&h->owner_sleepers, 0, memory_order_relaxed);
  for (struct ph__heap* s = h; s != NULL; s = ph__heap_next_shard(s))
    ph__biased_reset(&s->lock);
}

static void fork_prepare(void) {
  ph__mutex_lock(&init_lock);
  ph__mutex_lock(ph__registry_lock());
  ph__registry_each_locked(lock_heap, NULL);
  ph__mutex_lock(ph__region_cache_lock());
  ph__mutex_lock(ph__handler_lock());
}

static void fork_parent(void) {
  ph__mutex_unlock(ph__handler_lock());
  ph__mutex_unlock(ph__region_cache_lock());
  ph__registry_each_locked(unlock_heap, NULL);
  ph__mutex_unlock(ph__registry_lock());
  ph__mutex_unlock(&init_lock);
}

static void fork_child(void) {
  ph__random_fork_child(); /* the parent's next keys are not the child's */
  ph__mutex_reset(ph__handler_lock());
  ph__mutex_reset(ph__region_cache_lock());
  ph__registry_each_locked(reset_heap, (void*)ph__thread_self());
  ph__thread_slots_fork_child();
  ph__thread_tokens_fork_child();
  ph__mutex_reset(ph__registry_lock());
  ph__mutex_reset(&init_lock);
}

#if defined(__GNUC__)
__attribute__((constructor)) static void register_fork_handlers(void) {
  ph__prim_atfork(fork_prepare, fork_parent, fork_child);
}
#  define PH_FORK_HANDLERS_AT_LOAD 1
#else
#  define PH_FORK_HANDLERS_AT_LOAD 0
#endif

/* ---- start-up ---------------------------------------------------------------- */

/* Bytes from "123", "64K", "256M", "1G"; (size_t)-1 if malformed. */
static size_t parse_size(const char* text) {
  char* end;
  unsigned long long n = strtoull(text, &end, 10);
  int shift = 0;
  switch (*end) {
  case 'k': case 'K': shift = 10; end++; break;
  case 'm': case 'M': shift = 20; end++; break;
  case 'g': case 'G': shift = 30; end++; break;
  default: break;
  }
  if (end == text || *end != '\0' || n > (SIZE_MAX >> shift))
    return (size_t)-1;
  return (size_t)n << shift;
}

#if PH_TRACK_BUILT
bool ph__tracking;
#endif

static void init_once(void) {
#if PH_TRACK_BUILT
  ph__tracking = RUNNING_ON_VALGRIND != 0;
#endif
  const char* cache = ph__prim_getenv("PORTHEAP_REGION_CACHE");
  if (cache != NULL && parse_size(cache) != (size_t)-1)
    ph__region_cache_set(parse_size(cache));
  const char* decay = ph__prim_getenv("PORTHEAP_DECAY_MS");
  if (decay != NULL && parse_size(decay) <= UINT32_MAX - 1)
    ph__decay_set((uint32_t)parse_size(decay));
  const char* biased = ph__prim_getenv("PORTHEAP_BIASED_LOCKS");
  ph__biased_setup(biased == NULL || strcmp(biased, "0") != 0);
  if (!PH_FORK_HANDLERS_AT_LOAD)
    ph__prim_atfork(fork_prepare, fork_parent, fork_child);
  uint32_t error;
  struct ph__heap* h = ph__heap_new(0, 0, 0, 0, &error);
  if (h == NULL)
    return;
  ph__registry_add(h);
  atomic_store_explicit(&ph__the_process_heap, h, memory_order_release);
}

/* Make the process heap and the rest of the engine ready; idempotent. */
void ph__init(void) {
  if (atomic_load_explicit(&ph__the_process_heap, memory_order_acquire) !=
      NULL)
    return;
  ph__mutex_lock(&init_lock);
  if (atomic_load_explicit(&ph__the_process_heap, memory_order_relaxed) ==
      NULL)
    init_once();
  ph__mutex_unlock(&init_lock);
}

struct ph__heap* ph__process_heap_start(void) {
  ph__init();
  return atomic_load_explicit(&ph__the_process_heap, memory_order_acquire);
}
