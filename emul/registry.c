/*
 * registry.c - every live heap of the process, in creation order, the
 * process heap first; the process heap itself; fork handling.
 *
 * The registry is a list under one spin lock, taken only to add, remove,
 * list and fork: heap operations never touch it.  Handles are checked
 * through the address map (ph__heap_lookup), not by searching this list.
 *
 * fork: the prepare handler takes the registry lock, every serialized
 * heap's operation lock and the region cache lock, so no structure is
 * copied half-changed; a heap held with ph_heap_lock by another thread is
 * not waited for (it is consistent between operations), and in the child,
 * where that thread does not exist, its hold is dropped.
 */
#include "engine.h"
#include "track.h"

#include <string.h>

#include <stdlib.h>

static ph__spin_t registry_lock = PH__SPIN_INIT;
static struct ph__heap* first; /* the process heap, once made */
static struct ph__heap* last;
static uint32_t heap_count;

static ph__spin_t init_lock = PH__SPIN_INIT;
static _Atomic(struct ph__heap*) process_heap;

void ph__registry_add(struct ph__heap* h) {
  ph__spin_lock(&registry_lock);
  h->reg_next = NULL;
  h->reg_prev = last;
  if (last != NULL)
    last->reg_next = h;
  else
    first = h;
  last = h;
  heap_count++;
  ph__spin_unlock(&registry_lock);
}

/* Unregister h and mark it dead.  Returns false if it was not live (a
 * second destroy racing the first). */
bool ph__registry_remove(struct ph__heap* h) {
  ph__spin_lock(&registry_lock);
  bool live = h->magic == ph__heap_magic(h);
  if (live) {
    h->magic = 0;
    if (h->reg_prev != NULL)
      h->reg_prev->reg_next = h->reg_next;
    else
      first = h->reg_next;
    if (h->reg_next != NULL)
      h->reg_next->reg_prev = h->reg_prev;
    else
      last = h->reg_prev;
    heap_count--;
  }
  ph__spin_unlock(&registry_lock);
  return live;
}

/* Store up to `count` handles; return how many heaps there are. */
uint32_t ph__registry_list(uint32_t count, void** heaps) {
  ph__spin_lock(&registry_lock);
  uint32_t i = 0;
  for (struct ph__heap* h = first; h != NULL && i < count; h = h->reg_next)
    heaps[i++] = h;
  uint32_t total = heap_count;
  ph__spin_unlock(&registry_lock);
  return total;
}

/* Call fn on every live heap, under the registry lock (fn must not create
 * or destroy heaps). */
void ph__registry_foreach(void (*fn)(struct ph__heap*, void*), void* arg) {
  ph__spin_lock(&registry_lock);
  for (struct ph__heap* h = first; h != NULL; h = h->reg_next)
    fn(h, arg);
  ph__spin_unlock(&registry_lock);
}

/* ---- fork ---------------------------------------------------------------- */

static bool serialized(const struct ph__heap* h) {
  return (h->options & PH_HEAP_NO_SERIALIZE) == 0;
}

static void lock_for_fork(ph__biased_t* lock) {
  ph__biased_lock(lock, ph__thread_self()); /* and no thread inside */
}

/* Every shard's lock of every serialized heap, in the lock order. */
static void fork_lock_heaps(void (*op)(ph__biased_t*)) {
  for (struct ph__heap* h = first; h != NULL; h = h->reg_next)
    if (serialized(h))
      for (struct ph__heap* s = h; s != NULL; s = ph__heap_next_shard(s))
        op(&s->lock);
}

static void fork_prepare(void) {
  ph__spin_lock(&registry_lock);
  fork_lock_heaps(lock_for_fork);
  ph__spin_lock(ph__region_cache_lock());
}

static void fork_parent(void) {
  ph__spin_unlock(ph__region_cache_lock());
  fork_lock_heaps(ph__biased_unlock);
  ph__spin_unlock(&registry_lock);
}

static void fork_child(void) {
  uintptr_t self = ph__thread_self();
  ph__random_fork_child(); /* the parent's next keys are not the child's */
  ph__spin_reset(ph__region_cache_lock());
  for (struct ph__heap* h = first; h != NULL; h = h->reg_next) {
    if (serialized(h) &&
        atomic_load_explicit(&h->owner, memory_order_relaxed) != self) {
      atomic_store_explicit(&h->owner, 0, memory_order_relaxed);
      h->owner_depth = 0;
    }
  }
  fork_lock_heaps(ph__biased_reset);
  ph__spin_reset(&registry_lock);
}

/* ---- start-up ------------------------------------------------------------ */

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
  const char* biased = ph__prim_getenv("PORTHEAP_BIASED_LOCKS");
  ph__biased_setup(biased == NULL || strcmp(biased, "0") != 0);
  ph__prim_atfork(fork_prepare, fork_parent, fork_child);
  uint32_t error;
  struct ph__heap* h = ph__heap_new(0, 0, 0, &error);
  if (h == NULL)
    return;
  ph__registry_add(h);
  atomic_store_explicit(&process_heap, h, memory_order_release);
}

/* Make the process heap and the rest of the engine ready; idempotent. */
void ph__init(void) {
  if (atomic_load_explicit(&process_heap, memory_order_acquire) != NULL)
    return;
  ph__spin_lock(&init_lock);
  if (atomic_load_explicit(&process_heap, memory_order_relaxed) == NULL)
    init_once();
  ph__spin_unlock(&init_lock);
}

/* The process heap, made on first use; NULL only if that failed. */
struct ph__heap* ph__process_heap(void) {
  struct ph__heap* h = atomic_load_explicit(&process_heap, memory_order_acquire);
  if (PH_LIKELY(h != NULL))
    return h;
  ph__init();
  return atomic_load_explicit(&process_heap, memory_order_acquire);
}
