/*
 * portheap.h - the Win32 heap API, portable.
 *
 * One API for private heaps on every platform.  On Windows each function
 * calls its kernel32 twin (HeapAlloc, HeapWalk, ...); on POSIX systems it
 * runs portheap's own heap engine, with a registry of every live heap so
 * that ph_process_heaps() enumerates them as GetProcessHeaps does.
 *
 * Error model (Win32's): a failing call returns NULL, 0, or the sentinel
 * its comment names, and leaves a Win32 error code (PH_ERROR_*) in a
 * per-thread "last error" slot read by ph_get_last_error().  A successful
 * call leaves the slot as it was, except where its comment says otherwise.
 *
 * Misuse is not undefined here: a bad or destroyed heap handle fails with
 * PH_ERROR_INVALID_HANDLE, a pointer that is not a live block of that heap
 * (double free, foreign or interior pointer) with PH_ERROR_INVALID_PARAMETER,
 * and the rest of the heap is left intact.  (On the native Windows backend
 * misuse is as undefined as Windows leaves it.)
 *
 * For the exact Win32 spellings (HANDLE, HeapAlloc, ...) include
 * <portheap/win32.h> instead.
 */
#ifndef PORTHEAP_H
#define PORTHEAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PH_EXPORT marks the public functions (libuv's UV_EXTERN shape).  On
 * Windows, define PH_USING_DLL when linking against libportheap-0.dll
 * (optional with mingw-w64, which imports functions automatically). */
#if defined(_WIN32)
#  if defined(PH_BUILDING) && defined(DLL_EXPORT) /* libtool, DLL objects */
#    define PH_EXPORT __declspec(dllexport)
#  elif defined(PH_USING_DLL)
#    define PH_EXPORT __declspec(dllimport)
#  else
#    define PH_EXPORT
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define PH_EXPORT __attribute__((visibility("default")))
#else
#  define PH_EXPORT
#endif

/* PH_CONST marks a function whose result never changes once it has
 * succeeded (ph_process_heap), so that a compiler may call it once for
 * several uses, as glibc declares pthread_self. */
#if defined(__GNUC__)
#  define PH_CONST __attribute__((const))
#else
#  define PH_CONST
#endif

#define PH_VERSION_MAJOR 0
#define PH_VERSION_MINOR 1
#define PH_VERSION_PATCH 0
#define PH_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------
 * Flags (the values of winnt.h's HEAP_* constants)
 * ---------------------------------------------------------------------- */
#define PH_HEAP_NO_SERIALIZE          0x00000001u /* create, all block calls */
#define PH_HEAP_GROWABLE              0x00000002u /* header only */
#define PH_HEAP_GENERATE_EXCEPTIONS   0x00000004u /* create, alloc, realloc */
#define PH_HEAP_ZERO_MEMORY           0x00000008u /* alloc, realloc */
#define PH_HEAP_REALLOC_IN_PLACE_ONLY 0x00000010u /* realloc */
#define PH_HEAP_TAIL_CHECKING_ENABLED 0x00000020u /* accepted, ignored */
#define PH_HEAP_FREE_CHECKING_ENABLED 0x00000040u /* accepted, ignored */
#define PH_HEAP_DISABLE_COALESCE_ON_FREE 0x00000080u /* accepted, ignored */
#define PH_HEAP_CREATE_ALIGN_16       0x00010000u /* always true */
#define PH_HEAP_CREATE_ENABLE_TRACING 0x00020000u /* accepted, ignored */
#define PH_HEAP_CREATE_ENABLE_EXECUTE 0x00040000u /* create */

/* ph_heap_entry_t.wFlags */
#define PH_PROCESS_HEAP_REGION            0x0001u
#define PH_PROCESS_HEAP_UNCOMMITTED_RANGE 0x0002u
#define PH_PROCESS_HEAP_ENTRY_BUSY        0x0004u
#define PH_PROCESS_HEAP_SEG_ALLOC         0x0008u
#define PH_PROCESS_HEAP_ENTRY_MOVEABLE    0x0010u
#define PH_PROCESS_HEAP_ENTRY_DDESHARE    0x0020u

/* Information classes for ph_heap_query_information/set_information. */
#define PH_HEAP_COMPATIBILITY_INFORMATION      0
#define PH_HEAP_ENABLE_TERMINATION_ON_CORRUPTION 1
#define PH_HEAP_OPTIMIZE_RESOURCES             3
#define PH_HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION 1u

/* Win32 error codes (winerror.h) that portheap reports. */
#define PH_NO_ERROR                  0u
#define PH_ERROR_INVALID_FUNCTION    1u
#define PH_ERROR_INVALID_HANDLE      6u
#define PH_ERROR_NOT_ENOUGH_MEMORY   8u
#define PH_ERROR_OUTOFMEMORY        14u
#define PH_ERROR_GEN_FAILURE        31u
#define PH_ERROR_INVALID_PARAMETER  87u
#define PH_ERROR_CALL_NOT_IMPLEMENTED 120u
#define PH_ERROR_INSUFFICIENT_BUFFER 122u
#define PH_ERROR_NOT_LOCKED        158u
#define PH_ERROR_NO_MORE_ITEMS     259u
#define PH_ERROR_ARITHMETIC_OVERFLOW 534u
#define PH_ERROR_NOACCESS          998u

/* NTSTATUS codes carried by heap exceptions (HEAP_GENERATE_EXCEPTIONS). */
#define PH_STATUS_ACCESS_VIOLATION 0xC0000005u
#define PH_STATUS_NO_MEMORY        0xC0000017u
#define PH_STATUS_HEAP_CORRUPTION  0xC0000374u

/* ------------------------------------------------------------------------
 * Types.  Both structs have exactly the layout (and the field names) of
 * Win32's PROCESS_HEAP_ENTRY and HEAP_SUMMARY, so <portheap/win32.h> can
 * name them with their Win32 names on every platform.
 * ---------------------------------------------------------------------- */

/* One step of a heap walk (Win32 PROCESS_HEAP_ENTRY). */
typedef struct ph_heap_entry {
  void* lpData;          /* block data; region or range start */
  uint32_t cbData;       /* block size as requested; region/range size */
  uint8_t cbOverhead;    /* bytes of control data around the block */
  uint8_t iRegionIndex;  /* index of the region holding the entry */
  uint16_t wFlags;       /* PH_PROCESS_HEAP_* */
  union {
    struct {
      void* hMem;              /* only with BUSY|MOVEABLE (never here) */
      uint32_t dwReserved[3];
    } Block;
    struct {
      uint32_t dwCommittedSize;   /* bytes committed in the region */
      uint32_t dwUnCommittedSize; /* bytes reserved, not committed */
      void* lpFirstBlock;         /* first block of the region */
      void* lpLastBlock;          /* first address past the region */
    } Region;
  };
} ph_heap_entry_t;

/* What ph_heap_summary() fills in (Win32 HEAP_SUMMARY), in bytes. */
typedef struct ph_heap_summary {
  uint32_t cb;          /* set to sizeof(ph_heap_summary_t) before the call */
  size_t cbAllocated;   /* sum of the live blocks' requested sizes */
  size_t cbCommitted;   /* committed memory, control data included */
  size_t cbReserved;    /* reserved address space */
  size_t cbMaxReserve;  /* the most the heap may reserve */
} ph_heap_summary_t;

/* Argument of PH_HEAP_OPTIMIZE_RESOURCES (HEAP_OPTIMIZE_RESOURCES_INFORMATION). */
typedef struct ph_heap_optimize_resources {
  uint32_t Version;     /* PH_HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION */
  uint32_t Flags;       /* 0 */
} ph_heap_optimize_resources_t;

/* ------------------------------------------------------------------------
 * Last error
 * ---------------------------------------------------------------------- */

/*
 * ph_get_last_error - the calling thread's last error (GetLastError).
 * Returns: a Win32 error code; PH_NO_ERROR if none was ever set.
 */
PH_EXPORT uint32_t ph_get_last_error(void);

/*
 * ph_set_last_error - set the calling thread's last error (SetLastError).
 */
PH_EXPORT void ph_set_last_error(uint32_t code);

/*
 * ph_error_name - the symbolic name of a Win32 error code.
 * Returns: a static string such as "ERROR_INVALID_HANDLE"; "unknown error"
 *          for codes portheap never reports.
 */
PH_EXPORT const char* ph_error_name(uint32_t code);

/* ------------------------------------------------------------------------
 * Process heaps
 * ---------------------------------------------------------------------- */

/*
 * ph_process_heap - the process's default heap (GetProcessHeap).
 * Returns: its handle, the same on every call; NULL only if the emulated
 *          engine cannot map its first page (last error: NOT_ENOUGH_MEMORY).
 *          The process heap cannot be destroyed.
 * On the emulated engine two loads once the heap is made; declared
 * PH_CONST, so that code which calls it at every allocation,
 * HeapAlloc(GetProcessHeap(), ...), pays for it once where the compiler
 * sees the calls together.
 */
PH_EXPORT void* ph_process_heap(void) PH_CONST;

/*
 * ph_process_heaps - list the live heaps of the process (GetProcessHeaps).
 *
 * count  number of handles `heaps` can hold; may be 0 (heaps may be NULL)
 * heaps  receives min(count, total) handles, the process heap first
 *
 * Returns:    the total number of live heaps (if larger than `count`, the
 *             buffer was too small: call again with a bigger one); 0 on
 *             failure.
 * Last error: PH_ERROR_INVALID_PARAMETER if count > 0 and heaps is NULL.
 * Locking:    a snapshot taken under the registry lock.
 */
PH_EXPORT uint32_t ph_process_heaps(uint32_t count, void** heaps);

/* ------------------------------------------------------------------------
 * Heaps
 * ---------------------------------------------------------------------- */

/*
 * ph_heap_create - create a private heap (HeapCreate).
 *
 * options       PH_HEAP_NO_SERIALIZE, PH_HEAP_GENERATE_EXCEPTIONS,
 *               PH_HEAP_CREATE_ENABLE_EXECUTE; other bits are ignored
 * initial_size  bytes committed now, rounded up to pages (0: one page)
 * maximum_size  0: the heap grows as needed; else the heap reserves that
 *               much (rounded up), never grows past it, and refuses blocks
 *               larger than the fixed-heap limit (just under 1 MiB on
 *               64-bit systems, 0x7FFF8 bytes on 32-bit ones)
 *
 * Returns:    the new heap's handle, or NULL.
 * Last error: PH_ERROR_INVALID_PARAMETER if initial_size > maximum_size
 *             (after rounding); PH_ERROR_NOT_ENOUGH_MEMORY if the memory
 *             cannot be reserved.
 */
PH_EXPORT void* ph_heap_create(uint32_t options, size_t initial_size,
                               size_t maximum_size);

/*
 * ph_heap_destroy - destroy a heap and every block in it (HeapDestroy).
 * Returns:    nonzero on success, 0 on failure.
 * Last error: PH_ERROR_INVALID_HANDLE for the process heap, a destroyed
 *             heap or anything that is not a heap.
 * Cost:       proportional to the heap's regions, never to its blocks.
 */
PH_EXPORT int ph_heap_destroy(void* heap);

/*
 * ph_heap_alloc - allocate a block (HeapAlloc).
 *
 * flags  PH_HEAP_ZERO_MEMORY, PH_HEAP_NO_SERIALIZE,
 *        PH_HEAP_GENERATE_EXCEPTIONS (added to the heap's own flags)
 * size   bytes; 0 gives a distinct block of size 0
 *
 * Returns:    a block aligned to 16 bytes (8 on 32-bit Windows), or NULL.
 * Last error: PH_ERROR_NOT_ENOUGH_MEMORY when out of memory or over a
 *             fixed heap's limits; PH_ERROR_INVALID_HANDLE for a bad heap.
 *             With GENERATE_EXCEPTIONS a failure raises instead (see
 *             ph_set_exception_handler).
 */
PH_EXPORT void* ph_heap_alloc(void* heap, uint32_t flags, size_t size);

/*
 * ph_heap_realloc - resize a block (HeapReAlloc).
 *
 * flags  the ph_heap_alloc flags plus PH_HEAP_REALLOC_IN_PLACE_ONLY;
 *        ZERO_MEMORY zeroes only the bytes past the old size
 * block  a live block of `heap`
 *
 * Returns:    the block (moved unless IN_PLACE_ONLY), or NULL, in which
 *             case `block` is untouched and still valid.
 * Last error: PH_ERROR_NOT_ENOUGH_MEMORY (no memory, or cannot resize in
 *             place); PH_NO_ERROR (`block` NULL: NULL is returned, as
 *             Windows); PH_ERROR_INVALID_PARAMETER (not a live block of
 *             `heap`); PH_ERROR_INVALID_HANDLE (bad heap).
 */
PH_EXPORT void* ph_heap_realloc(void* heap, uint32_t flags, void* block,
                                size_t size);

/*
 * ph_heap_free - give a block back (HeapFree).
 * Returns:    nonzero on success (also for block NULL, which does
 *             nothing), 0 on failure.
 * Last error: PH_ERROR_INVALID_PARAMETER for a pointer that is not a live
 *             block of `heap` (double free, foreign, interior);
 *             PH_ERROR_INVALID_HANDLE for a bad heap.
 */
PH_EXPORT int ph_heap_free(void* heap, uint32_t flags, void* block);

/*
 * ph_heap_size - the size of a block as it was requested (HeapSize).
 * Returns:    bytes, or (size_t)-1 on failure.
 * Last error: PH_ERROR_INVALID_PARAMETER (not a live block of `heap`),
 *             PH_ERROR_INVALID_HANDLE (bad heap).
 */
PH_EXPORT size_t ph_heap_size(void* heap, uint32_t flags, const void* block);

/*
 * ph_heap_validate - check a heap, or one block of it (HeapValidate).
 * block  NULL: check the whole heap; else check that block only
 * Returns:    nonzero if valid, 0 if not (bad heap, bad block, corrupted
 *             control data).  Never faults.
 * Last error: untouched, but PH_ERROR_NOACCESS for a block whose header
 *             (the bytes just before it) cannot be read, as Windows.
 */
PH_EXPORT int ph_heap_validate(void* heap, uint32_t flags, const void* block);

/*
 * ph_heap_walk - enumerate a heap's regions and blocks (HeapWalk).
 *
 * entry  set entry->lpData = NULL to start; pass the same, unchanged struct
 *        to continue
 *
 * Returns:    nonzero with the next entry filled in; 0 at the end (last
 *             error PH_ERROR_NO_MORE_ITEMS) or on failure.
 * Last error: PH_ERROR_INVALID_PARAMETER for a NULL or stale cursor;
 *             PH_ERROR_INVALID_HANDLE for a bad heap.
 * Locking:    each step is atomic; walk between ph_heap_lock() and
 *             ph_heap_unlock() when other threads use the heap.
 */
PH_EXPORT int ph_heap_walk(void* heap, ph_heap_entry_t* entry);

/*
 * ph_heap_lock - take the heap's lock for the calling thread (HeapLock).
 * The lock is recursive; while it is held, other threads' calls on the heap
 * wait.  A NO_SERIALIZE heap has no lock: this succeeds and does nothing.
 * Returns:    nonzero on success, 0 on failure (PH_ERROR_INVALID_HANDLE).
 */
PH_EXPORT int ph_heap_lock(void* heap);

/*
 * ph_heap_unlock - release one ph_heap_lock() (HeapUnlock).
 * Returns:    nonzero on success, 0 on failure.
 * Last error: PH_ERROR_INVALID_PARAMETER if the calling thread does not
 *             hold the lock; PH_ERROR_INVALID_HANDLE for a bad heap.
 */
PH_EXPORT int ph_heap_unlock(void* heap);

/*
 * ph_heap_compact - coalesce free blocks and give unused pages back
 * (HeapCompact).
 * Returns:    the size of the largest committed free block, in bytes; 0 if
 *             there is none (last error set to PH_NO_ERROR) or on failure
 *             (PH_ERROR_INVALID_HANDLE).
 */
PH_EXPORT size_t ph_heap_compact(void* heap, uint32_t flags);

/*
 * ph_heap_query_information - read a heap setting (HeapQueryInformation).
 *
 * info_class   PH_HEAP_COMPATIBILITY_INFORMATION: a uint32_t, 0 (standard)
 *              or 2 (low-fragmentation front end enabled)
 * return_size  optional; receives the bytes written or needed (4)
 *
 * Returns:    nonzero on success, 0 on failure.
 * Last error: PH_ERROR_INSUFFICIENT_BUFFER (buffer < 4 bytes; return_size
 *             still receives 4), PH_ERROR_INVALID_PARAMETER (unknown
 *             class), PH_ERROR_NOACCESS (`heap` NULL, as Windows;
 *             return_size not written), PH_ERROR_INVALID_HANDLE (other
 *             bad heap).
 */
PH_EXPORT int ph_heap_query_information(void* heap, int info_class,
                                        void* info, size_t info_size,
                                        size_t* return_size);

/*
 * ph_heap_set_information - change a heap setting (HeapSetInformation).
 *
 * PH_HEAP_COMPATIBILITY_INFORMATION  uint32_t 2 enables the LFH (for good);
 *     refused on NO_SERIALIZE and fixed-size heaps (INVALID_PARAMETER), and
 *     any other value once it is on (GEN_FAILURE)
 * PH_HEAP_ENABLE_TERMINATION_ON_CORRUPTION  heap may be NULL, info NULL,
 *     size 0: from now on detected corruption in any heap ends the process
 * PH_HEAP_OPTIMIZE_RESOURCES  a ph_heap_optimize_resources_t with Version 1;
 *     heap NULL means every heap: gives cached and free pages back
 *
 * Returns:    nonzero on success, 0 on failure.
 * Last error: PH_ERROR_INSUFFICIENT_BUFFER, PH_ERROR_INVALID_PARAMETER,
 *             PH_ERROR_GEN_FAILURE, PH_ERROR_INVALID_HANDLE as above.
 */
PH_EXPORT int ph_heap_set_information(void* heap, int info_class, void* info,
                                      size_t info_size);

/*
 * ph_heap_summary - sizes of a heap (HeapSummary).
 * summary->cb must be sizeof(ph_heap_summary_t) and flags 0.
 * Returns:    nonzero on success, 0 on failure.
 * Last error: PH_ERROR_INVALID_PARAMETER (cb or flags wrong, summary NULL),
 *             PH_ERROR_INVALID_HANDLE (bad heap).
 * Guarantees: cbAllocated <= cbCommitted <= cbReserved <= cbMaxReserve.
 * Cost:       the emulated engine counts cbAllocated block by block, as a
 *             walk would (allocation and free keep no running total).
 */
PH_EXPORT int ph_heap_summary(void* heap, uint32_t flags,
                              ph_heap_summary_t* summary);

/* ------------------------------------------------------------------------
 * Heap exceptions (emulated engine)
 * ---------------------------------------------------------------------- */

/*
 * A heap exception handler: called instead of ending the process when a
 * call with PH_HEAP_GENERATE_EXCEPTIONS fails.  `status` is
 * PH_STATUS_NO_MEMORY or PH_STATUS_ACCESS_VIOLATION.  It may longjmp out;
 * if it returns, the failing call returns its failure value as usual.
 */
typedef void (*ph_exception_handler_t)(uint32_t status, void* heap,
                                       void* arg);

/*
 * ph_set_exception_handler - install the process-wide heap exception
 * handler; NULL restores the default, which prints the status and aborts
 * (as an unhandled exception ends a Windows process).  On the native
 * backend Windows raises a real structured exception and the handler is
 * not used.
 * Returns: the previous handler.
 */
PH_EXPORT ph_exception_handler_t
ph_set_exception_handler(ph_exception_handler_t handler, void* arg);

/* ------------------------------------------------------------------------
 * Library
 * ---------------------------------------------------------------------- */

/* ph_version - "0.1.0" as linked (PH_VERSION_STRING as compiled). */
PH_EXPORT const char* ph_version(void);

/* ph_backend - "native" (kernel32) or "emul" (portheap's engine). */
PH_EXPORT const char* ph_backend(void);

/*
 * ph_region_cache_limit - bound the process-wide cache of memory taken
 * from destroyed heaps (emulated engine).  Regions of a destroyed heap are
 * kept, up to this many bytes in all, for the next heaps to reuse without
 * system calls or page faults; the rest goes back to the OS at once, and
 * what nobody reuses for ph_decay_time() goes back at a later heap call.
 * Default: 256 MiB, or the environment variable PORTHEAP_REGION_CACHE
 * (bytes, with an optional K, M or G suffix) read at first use.
 *
 * limit  new bound in bytes; (size_t)-1 reads without changing it
 *
 * Returns: the bound in force before the call.  Lowering it releases the
 *          excess at once.  The native backend has no cache: returns 0.
 */
PH_EXPORT size_t ph_region_cache_limit(size_t limit);

/*
 * ph_decay_time - how long memory nobody uses stays with the emulated
 * engine before it goes back to the OS: regions in the cache above, and
 * the free blocks of a heap whose quick lists hold most of it.  The engine
 * has no thread: later heap calls (frees, HeapCreate, HeapDestroy) do
 * the work, at most once per this time per heap.
 * Default: 250 ms, or the environment variable PORTHEAP_DECAY_MS read at
 * first use.
 *
 * milliseconds  the new time; (uint32_t)-1 reads without changing it
 *
 * Returns: the time in force before the call; 0 on the native backend
 *          (Windows decides).
 */
PH_EXPORT uint32_t ph_decay_time(uint32_t milliseconds);

/* Process-wide lock counts of the emulated engine since start-up: how often
 * threads met each other on a heap.  Each count is read on its own
 * (relaxed), so a snapshot taken while threads run is approximate. */
typedef struct ph_lock_stats {
  uint32_t cb;               /* in: sizeof(ph_lock_stats_t) */
  uint32_t biasing;          /* 1 if heap locks may be biased now: the
                                OS's process-wide barrier works and
                                PORTHEAP_BIASED_LOCKS is not 0 */
  uint64_t contended;        /* lock entries that found the mutex taken */
  uint64_t sleeps;           /* waits that slept (after a short spin) */
  uint64_t bias_grants;      /* times a thread got a heap's bias */
  uint64_t bias_revocations; /* times another thread revoked one */
  uint64_t fence_failures;   /* times the process-wide barrier failed
                                (biasing then stays off) */
  uint64_t owner_waits;      /* calls that waited for another thread's
                                ph_heap_lock */
} ph_lock_stats_t;

/*
 * ph_lock_stats - read the emulated engine's lock counts (a diagnostic:
 * the benchmark prints contention per million operations with it).
 *
 * stats  out: filled in; stats->cb must be sizeof(ph_lock_stats_t)
 *
 * Returns: nonzero on success; 0 with PH_ERROR_INVALID_PARAMETER if stats
 *          is NULL or cb is wrong, 0 with PH_ERROR_CALL_NOT_IMPLEMENTED on
 *          the native backend (Windows keeps no such counts).
 * Context: any thread; takes no lock.
 */
PH_EXPORT int ph_lock_stats(ph_lock_stats_t* stats);

#ifdef __cplusplus
}
#endif
#endif /* PORTHEAP_H */
