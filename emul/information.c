/*
 * information.c - HeapQueryInformation and HeapSetInformation.
 *
 * HeapCompatibilityInformation is a ULONG: 0 (standard) or 2 (the
 * low-fragmentation front end).  The engine's small-block front end is
 * always on; the value records what the program asked for, or what
 * Windows would have turned on by itself (ph__heap_count_class, engine.h),
 * with Windows' rules: 2 is refused on NO_SERIALIZE and fixed-size heaps,
 * and cannot be undone.
 */
#include "engine.h"

#define COMPAT_STANDARD 0u
#define COMPAT_LFH 2u

static int fail(uint32_t code) {
  ph__fail(code);
  return 0;
}

int ph_heap_query_information(void* heap, int info_class, void* info,
                              size_t info_size, size_t* return_size) {
  if (info_class != PH_HEAP_COMPATIBILITY_INFORMATION)
    return fail(PH_ERROR_INVALID_PARAMETER);
  if (heap == NULL) /* Windows reads through it and catches the fault */
    return fail(PH_ERROR_NOACCESS);
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL)
    return fail(PH_ERROR_INVALID_HANDLE);
  if (return_size != NULL)
    *return_size = sizeof(uint32_t);
  if (info == NULL || info_size < sizeof(uint32_t))
    return fail(PH_ERROR_INSUFFICIENT_BUFFER);
  uint32_t value = atomic_load_explicit(&h->compat, memory_order_relaxed);
  memcpy(info, &value, sizeof value);
  return 1;
}

static int set_compat(struct ph__heap* h, const void* info, size_t size) {
  if (info == NULL || size < sizeof(uint32_t))
    return fail(PH_ERROR_INSUFFICIENT_BUFFER);
  uint32_t value;
  memcpy(&value, info, sizeof value);
  uint32_t now = atomic_load_explicit(&h->compat, memory_order_relaxed);
  if (value == now)
    return 1;
  if (value != COMPAT_LFH || now != COMPAT_STANDARD)
    return fail(PH_ERROR_GEN_FAILURE);
  if ((h->options & PH_HEAP_NO_SERIALIZE) || h->maximum_size != 0)
    return fail(PH_ERROR_INVALID_PARAMETER);
  atomic_store_explicit(&h->compat, COMPAT_LFH, memory_order_relaxed);
  return 1;
}

static void optimize_one(struct ph__heap* h) {
  bool locked = ph__heap_enter_all(h, 0);
  ph__heap_compact_all(h);
  ph__heap_leave_all(h, locked);
}

/* One heap of the process-wide pass, under the registry lock: only heaps
 * that Windows' pass would touch (serialized and growable: the ones that
 * can have the low-fragmentation front end), and only if no other thread
 * holds it with HeapLock: that thread may be waiting for the registry
 * (lock.h), so the pass skips the heap rather than wait. */
static void optimize_if_free(struct ph__heap* h, void* arg) {
  (void)arg;
  if ((h->options & PH_HEAP_NO_SERIALIZE) || h->maximum_size != 0 ||
      !ph__heap_enter_all_now(h))
    return;
  ph__heap_compact_all(h);
  ph__heap_leave_all(h, true);
}

static int set_optimize(void* heap, const void* info, size_t size) {
  ph_heap_optimize_resources_t opt;
  if (info == NULL || size < sizeof opt)
    return fail(PH_ERROR_INSUFFICIENT_BUFFER);
  memcpy(&opt, info, sizeof opt);
  if (opt.Version != PH_HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION)
    return fail(PH_ERROR_INVALID_PARAMETER);
  if (heap == NULL) {
    ph__init();
    ph__registry_foreach(optimize_if_free, NULL);
    ph__region_cache_trim(0);
    return 1;
  }
  struct ph__heap* h = ph__heap_lookup(heap);
  if (h == NULL)
    return fail(PH_ERROR_INVALID_HANDLE);
  optimize_one(h);
  return 1;
}

int ph_heap_set_information(void* heap, int info_class, void* info,
                            size_t info_size) {
  switch (info_class) {
  case PH_HEAP_COMPATIBILITY_INFORMATION: {
    struct ph__heap* h = ph__heap_lookup(heap);
    if (h == NULL)
      return fail(PH_ERROR_INVALID_HANDLE);
    enum ph__entry how = ph__heap_enter(h, 0);
    int ok = set_compat(h, info, info_size);
    ph__heap_leave(h, how);
    return ok;
  }
  case PH_HEAP_ENABLE_TERMINATION_ON_CORRUPTION:
    ph__enable_termination();
    return 1;
  case PH_HEAP_OPTIMIZE_RESOURCES:
    return set_optimize(heap, info, info_size);
  default:
    return fail(PH_ERROR_INVALID_PARAMETER);
  }
}
