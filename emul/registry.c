/*
 * registry.c - every live heap of the process, in creation order, the
 * process heap first, and the handles they are known by.
 *
 * The registry is a list under one mutex, taken only to add, remove, list
 * and fork: heap operations never touch it.  Handles are checked through
 * the address map (ph__heap_lookup), not by searching this list.
 *
 * Handles.  A heap's handle is the base of its first region (64 KiB
 * aligned, as on Windows), and none of the last PH__QUARANTINE destroyed
 * heaps' handles, so that a stale handle fails with ERROR_INVALID_HANDLE
 * and never reaches a new heap.  Memory is reused (the region cache, or
 * the OS handing the same address back), so a new heap could start where
 * a destroyed one did: each destroyed heap gets a stamp, its number among
 * the destroyed, which its first region carries into the cache, and a new
 * heap passes over cached regions stamped among the last PH__QUARANTINE
 * (region.c).  Heaps that come and go then take regions in turn, which
 * costs memory (a lone buffer grown to 1 MiB in a heap per round would
 * hold 129 MiB): once the cache holds PH__QUARANTINE_CACHE bytes such a
 * region is taken anyway, and then, as when the OS hands back the base of
 * a destroyed heap, the handle is the base plus 16 bytes times a salt
 * below PH__SALTS (it points into the heap's own header, PH__HEAP_HEADER
 * bytes, engine.h) that none of them had.
 */
#include "engine.h"

#define PH__SALTS (PH__HEAP_HEADER / PH__GRANULE)
_Static_assert(PH__SALTS > PH__QUARANTINE, "a free salt always exists");

static ph__mutex_t registry_lock = PH__MUTEX_INIT;
static struct ph__heap* first; /* the process heap, once made */
static struct ph__heap* last;
static uint32_t heap_count;

static const void* quarantine[PH__QUARANTINE]; /* ring, under registry_lock */
static unsigned quarantine_next;
static atomic_uint destroyed; /* heaps destroyed: the last one's stamp
                                 (written under registry_lock) */
static size_t salt_next;

static bool quarantined(const void* handle) {
  for (unsigned i = 0; i < PH__QUARANTINE; i++)
    if (quarantine[i] == handle)
      return true;
  return false;
}

/* A handle for h that no recently destroyed heap had: its base if it
 * can.  Caller holds registry_lock. */
static const void* handle_choose(struct ph__heap* h) {
  if (!quarantined(h))
    return h;
  for (;;) {
    const void* handle = (char*)h + (salt_next % PH__SALTS) * PH__GRANULE;
    salt_next++;
    if (!quarantined(handle))
      return handle;
  }
}

void ph__registry_add(struct ph__heap* h) {
  ph__mutex_lock(&registry_lock);
  h->handle = handle_choose(h);
  h->reg_next = NULL;
  h->reg_prev = last;
  if (last != NULL)
    last->reg_next = h;
  else
    first = h;
  last = h;
  heap_count++;
  ph__mutex_unlock(&registry_lock);
}

/* Unregister h, mark it dead and quarantine its handle.  Returns false if
 * it was not live (a second destroy racing the first). */
bool ph__registry_remove(struct ph__heap* h) {
  ph__mutex_lock(&registry_lock);
  bool live = h->magic == ph__heap_magic(h);
  if (live) {
    h->magic = 0;
    quarantine[quarantine_next++ % PH__QUARANTINE] = h->handle;
    uint32_t stamp = atomic_load_explicit(&destroyed, memory_order_relaxed);
    stamp += stamp + 1 == 0 ? 2 : 1; /* 0 is no stamp */
    atomic_store_explicit(&destroyed, stamp, memory_order_relaxed);
    h->stamp = stamp;
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
  ph__mutex_unlock(&registry_lock);
  return live;
}

/* The stamp of the last heap destroyed (0: none yet), for a new heap's
 * first region (ph__heap_new).  Read without the lock: a heap destroyed
 * after it is read has a later stamp, which region.c counts as recent. */
uint32_t ph__registry_destroyed(void) {
  return atomic_load_explicit(&destroyed, memory_order_relaxed);
}

/* Store up to `count` handles; return how many heaps there are. */
uint32_t ph__registry_list(uint32_t count, void** heaps) {
  ph__mutex_lock(&registry_lock);
  uint32_t i = 0;
  for (struct ph__heap* h = first; h != NULL && i < count; h = h->reg_next)
    heaps[i++] = ph__heap_handle(h);
  uint32_t total = heap_count;
  ph__mutex_unlock(&registry_lock);
  return total;
}

/* Call fn on every live heap; the caller holds the registry lock. */
void ph__registry_each_locked(void (*fn)(struct ph__heap*, void*),
                              void* arg) {
  for (struct ph__heap* h = first; h != NULL; h = h->reg_next)
    fn(h, arg);
}

/* Call fn on every live heap, under the registry lock.  fn must not create
 * or destroy heaps, nor wait for a ph_heap_lock owner (lock.h). */
void ph__registry_foreach(void (*fn)(struct ph__heap*, void*), void* arg) {
  ph__mutex_lock(&registry_lock);
  ph__registry_each_locked(fn, arg);
  ph__mutex_unlock(&registry_lock);
}

/* The registry lock, for the fork handlers (startup.c). */
ph__mutex_t* ph__registry_lock(void) {
  return &registry_lock;
}
