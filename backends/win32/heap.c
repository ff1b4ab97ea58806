/*
 * backends/win32/heap.c - the native backend: each ph_ function calls its
 * kernel32 twin and nothing else.  Return values and the last error are
 * Windows' own; portheap adds no checks here, so that tests run against
 * this backend show what Windows (or Wine) really does.
 */
#include "internal.h"

#include <stddef.h>
#include <windows.h>

/* ph_heap_entry_t and ph_heap_summary_t are passed straight through. */
PH_STATIC_ASSERT(sizeof(ph_heap_entry_t) == sizeof(PROCESS_HEAP_ENTRY),
                 "heap entry size");
PH_STATIC_ASSERT(offsetof(ph_heap_entry_t, cbData) ==
                     offsetof(PROCESS_HEAP_ENTRY, cbData),
                 "cbData offset");
PH_STATIC_ASSERT(offsetof(ph_heap_entry_t, wFlags) ==
                     offsetof(PROCESS_HEAP_ENTRY, wFlags),
                 "wFlags offset");
PH_STATIC_ASSERT(offsetof(ph_heap_entry_t, Region.lpLastBlock) ==
                     offsetof(PROCESS_HEAP_ENTRY, Region.lpLastBlock),
                 "Region offset");
PH_STATIC_ASSERT(sizeof(ph_heap_summary_t) == sizeof(HEAP_SUMMARY),
                 "heap summary size");

const char* ph_backend(void) {
  return "native";
}

uint32_t ph_get_last_error(void) {
  return GetLastError();
}

void ph_set_last_error(uint32_t code) {
  SetLastError(code);
}

void* ph_process_heap(void) {
  return GetProcessHeap();
}

uint32_t ph_process_heaps(uint32_t count, void** heaps) {
  return GetProcessHeaps(count, heaps);
}

void* ph_heap_create(uint32_t options, size_t initial_size,
                     size_t maximum_size) {
  return HeapCreate(options, initial_size, maximum_size);
}

int ph_heap_destroy(void* heap) {
  return HeapDestroy(heap);
}

void* ph_heap_alloc(void* heap, uint32_t flags, size_t size) {
  return HeapAlloc(heap, flags, size);
}

void* ph_heap_realloc(void* heap, uint32_t flags, void* block, size_t size) {
  return HeapReAlloc(heap, flags, block, size);
}

int ph_heap_free(void* heap, uint32_t flags, void* block) {
  return HeapFree(heap, flags, block);
}

size_t ph_heap_size(void* heap, uint32_t flags, const void* block) {
  return HeapSize(heap, flags, block);
}

int ph_heap_validate(void* heap, uint32_t flags, const void* block) {
  return HeapValidate(heap, flags, block);
}

int ph_heap_walk(void* heap, ph_heap_entry_t* entry) {
  return HeapWalk(heap, (LPPROCESS_HEAP_ENTRY)entry);
}

int ph_heap_lock(void* heap) {
  return HeapLock(heap);
}

int ph_heap_unlock(void* heap) {
  return HeapUnlock(heap);
}

size_t ph_heap_compact(void* heap, uint32_t flags) {
  return HeapCompact(heap, flags);
}

/* SIZE_T is not size_t's type on 32-bit mingw-w64 (unsigned long against
 * unsigned int, both 32 bits): the length goes through a SIZE_T that
 * starts as the caller's value, so a length the call leaves alone stays. */
int ph_heap_query_information(void* heap, int info_class, void* info,
                              size_t info_size, size_t* return_size) {
  SIZE_T n = return_size != NULL ? *return_size : 0;
  BOOL ok = HeapQueryInformation(heap, (HEAP_INFORMATION_CLASS)info_class,
                                 info, info_size,
                                 return_size != NULL ? &n : NULL);
  if (return_size != NULL)
    *return_size = n;
  return ok;
}

int ph_heap_set_information(void* heap, int info_class, void* info,
                            size_t info_size) {
  return HeapSetInformation(heap, (HEAP_INFORMATION_CLASS)info_class, info,
                            info_size);
}

int ph_heap_summary(void* heap, uint32_t flags, ph_heap_summary_t* summary) {
  return HeapSummary(heap, flags, (LPHEAP_SUMMARY)summary);
}

ph_exception_handler_t ph_set_exception_handler(ph_exception_handler_t handler,
                                                void* arg) {
  (void)handler;
  (void)arg;
  return NULL; /* Windows raises real structured exceptions. */
}

size_t ph_region_cache_limit(size_t limit) {
  (void)limit;
  return 0;
}

uint32_t ph_decay_time(uint32_t milliseconds) {
  (void)milliseconds;
  return 0;
}

int ph_lock_stats(ph_lock_stats_t* stats) {
  (void)stats;
  SetLastError(ERROR_CALL_NOT_IMPLEMENTED);
  return 0;
}
