/*
 * internal.h - what both backends share inside the library.
 *
 * Lock order (emulated engine): the registry lock, then a heap's lock, then
 * the region cache lock or the key pool's (random.c), never both.  No code
 * takes two heap locks at once except the fork handlers, which take them in
 * registry order.
 */
#ifndef PH_INTERNAL_H
#define PH_INTERNAL_H

#include "portheap.h"

#include <assert.h>
#include <stdbool.h>

#ifdef PH_DEBUG
#  define PH_ASSERT(x) assert(x)
static const bool ph__debug = true;
#else
#  define PH_ASSERT(x) ((void)0)
static const bool ph__debug = false;
#endif

#if defined(__GNUC__)
#  define PH_LIKELY(x)   __builtin_expect(!!(x), 1)
#  define PH_UNLIKELY(x) __builtin_expect(!!(x), 0)
#  define PH_NOINLINE    __attribute__((noinline))
#  define PH_PREFETCH(p) __builtin_prefetch(p) /* never faults */
#  define PH_UNUSED      __attribute__((unused))
#else
#  define PH_LIKELY(x)   (x)
#  define PH_UNLIKELY(x) (x)
#  define PH_NOINLINE
#  define PH_PREFETCH(p) ((void)(p))
#  define PH_UNUSED
#endif

#define PH_STATIC_ASSERT(c, msg) _Static_assert(c, msg)

/* Thread-local variables (ph__thread, the last error): their TLS model on
 * ELF systems.  (mingw-w64 and Mach-O have no such choice: nothing here.)
 * - The static archive, which libtool compiles without -DPIC, for
 *   programs: initial-exec, one load at a fixed offset from the thread
 *   pointer.
 * - The shared object (-DPIC): the compiler's default dynamic model, so
 *   that it has no STATIC_TLS flag and dlopen() works in a process whose
 *   static TLS is used up (a Python extension, a plugin), where
 *   initial-exec fails with "cannot allocate memory in static TLS block".
 *   The fast paths then make one __tls_get_addr call per entry.
 * Cost of a HeapFree+HeapAlloc pair on small churn, x86-64, GCC 12, glibc
 * 2.36 (callgrind instructions; bench ns, median of 18 noisy runs):
 * initial-exec 166, 20.9 ns; __tls_get_addr 201, 23.6 ns.  TLS
 * descriptors (-mtls-dialect=gnu2) cost 176 but are not used: before glibc
 * 2.40 (bug 31372) their slow path, taken after exactly such a dlopen,
 * does not keep vector registers that the compiler assumes kept. */
#if defined(__GNUC__) && defined(__ELF__) && !defined(PIC)
#  define PH_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#  define PH_TLS_FAST
#endif

/* Fixed-heap block limit (docs/semantics.md, Limits): requests above it fail
 * on a heap created with a maximum size. */
#if UINTPTR_MAX > 0xFFFFFFFFu
#  define PH_FIXED_BLOCK_MAX ((size_t)0xFEFD8)
#else
#  define PH_FIXED_BLOCK_MAX ((size_t)0x7FFF8 - 1)
#endif

/* The largest request any heap grants (docs/semantics.md, Limits), in
 * bytes: a block with its headers stays below PTRDIFF_MAX, so differences
 * of pointers into it are defined (glibc's malloc refuses as much).  On
 * 32-bit systems that is below 2 GiB, which 32-bit Windows never grants
 * (its user address space is 2 GiB); larger requests fail with
 * ERROR_NOT_ENOUGH_MEMORY.  (64 KiB: room for any header, a region's
 * alignment included.) */
#define PH_REQUEST_MAX ((size_t)PTRDIFF_MAX - ((size_t)64 << 10))

#endif /* PH_INTERNAL_H */
