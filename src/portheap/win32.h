/*
 * portheap/win32.h - the Win32 heap API under its own names.
 *
 * On Windows this is <windows.h>, nothing more.  Elsewhere it declares the
 * Win32 types, constants and heap functions that heap code uses, each
 * mapped onto the portable ph_ API by a static inline function, so that the
 * library itself exports no Win32-named symbol (it could clash with Wine or
 * WinPR in the same process).
 *
 * Types follow Windows' LLP64 model on LP64 systems too: DWORD and ULONG are
 * 32 bits (never `unsigned long`), SIZE_T is pointer-sized.
 */
#ifndef PORTHEAP_WIN32_H
#define PORTHEAP_WIN32_H

#include <portheap.h>

#if defined(_WIN32)
#  include <windows.h>
/* Values newer than some SDKs (mingw-w64 10 lacks them). */
#  ifndef HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION
#    define HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION 1
typedef struct _HEAP_OPTIMIZE_RESOURCES_INFORMATION {
  DWORD Version;
  DWORD Flags;
} HEAP_OPTIMIZE_RESOURCES_INFORMATION, *PHEAP_OPTIMIZE_RESOURCES_INFORMATION;
#    define HeapOptimizeResources ((HEAP_INFORMATION_CLASS)3)
#  endif
/*
 * PORTHEAP_WIN32_VIA_PH: on Windows too, send the Win32 heap names to the
 * ph_ API (whatever backend the library was built with), keeping
 * <windows.h>'s types.  The test suite uses this to run against the
 * emulated engine on Windows and under Wine.
 */
#  if defined(PORTHEAP_WIN32_VIA_PH)
#    define GetLastError() ph_get_last_error()
#    define SetLastError(code) ph_set_last_error(code)
#    define GetProcessHeap ph_process_heap
#    define GetProcessHeaps(n, heaps) ph_process_heaps((n), (void**)(heaps))
#    define HeapCreate ph_heap_create
#    define HeapDestroy ph_heap_destroy
#    define HeapAlloc ph_heap_alloc
#    define HeapReAlloc ph_heap_realloc
#    define HeapFree ph_heap_free
#    define HeapSize ph_heap_size
#    define HeapValidate ph_heap_validate
#    define HeapWalk(heap, entry) ph_heap_walk((heap), (ph_heap_entry_t*)(entry))
#    define HeapLock ph_heap_lock
#    define HeapUnlock ph_heap_unlock
#    define HeapCompact ph_heap_compact
/* The returned length is a SIZE_T, which is not size_t's type on 32-bit
 * mingw-w64 (unsigned long against unsigned int, both 32 bits): it goes
 * through a size_t that starts as the caller's value, so a length the call
 * leaves alone stays as it was. */
static inline BOOL ph_win32_heap_query_information_(
    HANDLE heap, HEAP_INFORMATION_CLASS cls, PVOID info, SIZE_T size,
    PSIZE_T ret) {
  size_t n = ret != NULL ? *ret : 0;
  BOOL ok = ph_heap_query_information(heap, (int)cls, info, size,
                                      ret != NULL ? &n : NULL);
  if (ret != NULL)
    *ret = n;
  return ok;
}
#    define HeapQueryInformation ph_win32_heap_query_information_
#    define HeapSetInformation(heap, cls, info, size)                         \
      ph_heap_set_information((heap), (int)(cls), (info), (size))
#    define HeapSummary(heap, flags, summary)                                 \
      ph_heap_summary((heap), (flags), (ph_heap_summary_t*)(summary))
#  endif
#else /* POSIX: map onto ph_ */

#  include <stddef.h>
#  include <stdint.h>

#  ifdef __cplusplus
extern "C" {
#  endif

#  ifndef WINAPI
#    define WINAPI
#  endif
#  ifndef VOID
#    define VOID void
#  endif
#  ifndef FALSE
#    define FALSE 0
#  endif
#  ifndef TRUE
#    define TRUE 1
#  endif

typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef uint32_t ULONG;
typedef int32_t LONG;
typedef int BOOL;
typedef size_t SIZE_T;
typedef size_t ULONG_PTR;
typedef size_t* PSIZE_T;
typedef void* PVOID;
typedef void* LPVOID;
typedef const void* LPCVOID;
typedef void* HANDLE;
typedef HANDLE* PHANDLE;
typedef DWORD* PDWORD;
typedef DWORD* LPDWORD;
typedef ULONG* PULONG;

typedef ph_heap_entry_t PROCESS_HEAP_ENTRY, *PPROCESS_HEAP_ENTRY,
    *LPPROCESS_HEAP_ENTRY;
typedef ph_heap_summary_t HEAP_SUMMARY, *PHEAP_SUMMARY, *LPHEAP_SUMMARY;
typedef ph_heap_optimize_resources_t HEAP_OPTIMIZE_RESOURCES_INFORMATION,
    *PHEAP_OPTIMIZE_RESOURCES_INFORMATION;

typedef enum _HEAP_INFORMATION_CLASS {
  HeapCompatibilityInformation = PH_HEAP_COMPATIBILITY_INFORMATION,
  HeapEnableTerminationOnCorruption = PH_HEAP_ENABLE_TERMINATION_ON_CORRUPTION,
  HeapOptimizeResources = PH_HEAP_OPTIMIZE_RESOURCES
} HEAP_INFORMATION_CLASS;

#  define HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION \
    PH_HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION

#  define HEAP_NO_SERIALIZE             PH_HEAP_NO_SERIALIZE
#  define HEAP_GROWABLE                 PH_HEAP_GROWABLE
#  define HEAP_GENERATE_EXCEPTIONS      PH_HEAP_GENERATE_EXCEPTIONS
#  define HEAP_ZERO_MEMORY              PH_HEAP_ZERO_MEMORY
#  define HEAP_REALLOC_IN_PLACE_ONLY    PH_HEAP_REALLOC_IN_PLACE_ONLY
#  define HEAP_TAIL_CHECKING_ENABLED    PH_HEAP_TAIL_CHECKING_ENABLED
#  define HEAP_FREE_CHECKING_ENABLED    PH_HEAP_FREE_CHECKING_ENABLED
#  define HEAP_DISABLE_COALESCE_ON_FREE PH_HEAP_DISABLE_COALESCE_ON_FREE
#  define HEAP_CREATE_ALIGN_16          PH_HEAP_CREATE_ALIGN_16
#  define HEAP_CREATE_ENABLE_TRACING    PH_HEAP_CREATE_ENABLE_TRACING
#  define HEAP_CREATE_ENABLE_EXECUTE    PH_HEAP_CREATE_ENABLE_EXECUTE

#  define PROCESS_HEAP_REGION            PH_PROCESS_HEAP_REGION
#  define PROCESS_HEAP_UNCOMMITTED_RANGE PH_PROCESS_HEAP_UNCOMMITTED_RANGE
#  define PROCESS_HEAP_ENTRY_BUSY        PH_PROCESS_HEAP_ENTRY_BUSY
#  define PROCESS_HEAP_SEG_ALLOC         PH_PROCESS_HEAP_SEG_ALLOC
#  define PROCESS_HEAP_ENTRY_MOVEABLE    PH_PROCESS_HEAP_ENTRY_MOVEABLE
#  define PROCESS_HEAP_ENTRY_DDESHARE    PH_PROCESS_HEAP_ENTRY_DDESHARE

#  if UINTPTR_MAX > 0xFFFFFFFFu
#    define MEMORY_ALLOCATION_ALIGNMENT 16
#  else
#    define MEMORY_ALLOCATION_ALIGNMENT 8
#  endif

#  define NO_ERROR                     PH_NO_ERROR
#  define ERROR_SUCCESS                PH_NO_ERROR
#  define ERROR_INVALID_FUNCTION       PH_ERROR_INVALID_FUNCTION
#  define ERROR_INVALID_HANDLE         PH_ERROR_INVALID_HANDLE
#  define ERROR_NOT_ENOUGH_MEMORY      PH_ERROR_NOT_ENOUGH_MEMORY
#  define ERROR_OUTOFMEMORY            PH_ERROR_OUTOFMEMORY
#  define ERROR_GEN_FAILURE            PH_ERROR_GEN_FAILURE
#  define ERROR_INVALID_PARAMETER      PH_ERROR_INVALID_PARAMETER
#  define ERROR_CALL_NOT_IMPLEMENTED   PH_ERROR_CALL_NOT_IMPLEMENTED
#  define ERROR_INSUFFICIENT_BUFFER    PH_ERROR_INSUFFICIENT_BUFFER
#  define ERROR_NOT_LOCKED             PH_ERROR_NOT_LOCKED
#  define ERROR_NO_MORE_ITEMS          PH_ERROR_NO_MORE_ITEMS
#  define ERROR_ARITHMETIC_OVERFLOW    PH_ERROR_ARITHMETIC_OVERFLOW
#  define ERROR_NOACCESS               PH_ERROR_NOACCESS

#  define STATUS_ACCESS_VIOLATION      ((DWORD)PH_STATUS_ACCESS_VIOLATION)
#  define STATUS_NO_MEMORY             ((DWORD)PH_STATUS_NO_MEMORY)
#  define STATUS_HEAP_CORRUPTION       ((DWORD)PH_STATUS_HEAP_CORRUPTION)

static inline DWORD GetLastError(void) {
  return ph_get_last_error();
}
static inline void SetLastError(DWORD code) {
  ph_set_last_error(code);
}
static inline HANDLE GetProcessHeap(void) {
  return ph_process_heap();
}
static inline DWORD GetProcessHeaps(DWORD NumberOfHeaps,
                                    PHANDLE ProcessHeaps) {
  return ph_process_heaps(NumberOfHeaps, ProcessHeaps);
}
static inline HANDLE HeapCreate(DWORD flOptions, SIZE_T dwInitialSize,
                                SIZE_T dwMaximumSize) {
  return ph_heap_create(flOptions, dwInitialSize, dwMaximumSize);
}
static inline BOOL HeapDestroy(HANDLE hHeap) {
  return ph_heap_destroy(hHeap);
}
static inline LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes) {
  return ph_heap_alloc(hHeap, dwFlags, dwBytes);
}
static inline LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem,
                                 SIZE_T dwBytes) {
  return ph_heap_realloc(hHeap, dwFlags, lpMem, dwBytes);
}
static inline BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem) {
  return ph_heap_free(hHeap, dwFlags, lpMem);
}
static inline SIZE_T HeapSize(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem) {
  return ph_heap_size(hHeap, dwFlags, lpMem);
}
static inline BOOL HeapValidate(HANDLE hHeap, DWORD dwFlags, LPCVOID lpMem) {
  return ph_heap_validate(hHeap, dwFlags, lpMem);
}
static inline BOOL HeapWalk(HANDLE hHeap, LPPROCESS_HEAP_ENTRY lpEntry) {
  return ph_heap_walk(hHeap, lpEntry);
}
static inline BOOL HeapLock(HANDLE hHeap) {
  return ph_heap_lock(hHeap);
}
static inline BOOL HeapUnlock(HANDLE hHeap) {
  return ph_heap_unlock(hHeap);
}
static inline SIZE_T HeapCompact(HANDLE hHeap, DWORD dwFlags) {
  return ph_heap_compact(hHeap, dwFlags);
}
static inline BOOL HeapQueryInformation(HANDLE HeapHandle,
                                        HEAP_INFORMATION_CLASS cls,
                                        PVOID HeapInformation,
                                        SIZE_T HeapInformationLength,
                                        PSIZE_T ReturnLength) {
  return ph_heap_query_information(HeapHandle, (int)cls, HeapInformation,
                                   HeapInformationLength, ReturnLength);
}
static inline BOOL HeapSetInformation(HANDLE HeapHandle,
                                      HEAP_INFORMATION_CLASS cls,
                                      PVOID HeapInformation,
                                      SIZE_T HeapInformationLength) {
  return ph_heap_set_information(HeapHandle, (int)cls, HeapInformation,
                                 HeapInformationLength);
}
static inline BOOL HeapSummary(HANDLE hHeap, DWORD dwFlags,
                               LPHEAP_SUMMARY lpSummary) {
  return ph_heap_summary(hHeap, dwFlags, lpSummary);
}

#  ifdef __cplusplus
}
#  endif
#endif /* POSIX */
#endif /* PORTHEAP_WIN32_H */
