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

/* Thread-local variables read on hot paths: the initial-exec model avoids
 * a __tls_get_addr call per access in the shared library (a few bytes of
 * the static TLS that the C library keeps for this). */
#if defined(__GNUC__) && defined(__ELF__)
#  define PH_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#  define PH_TLS_FAST
#endif

/* Fixed-heap block limit (SEMANTICS.md, HeapCreate): requests above it fail
 * on a heap created with a maximum size. */
#if UINTPTR_MAX > 0xFFFFFFFFu
#  define PH_FIXED_BLOCK_MAX ((size_t)0xFEFD8)
#else
#  define PH_FIXED_BLOCK_MAX ((size_t)0x7FFF8 - 1)
#endif

#endif /* PH_INTERNAL_H */
