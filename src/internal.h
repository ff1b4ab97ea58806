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

#ifdef HAVE_CONFIG_H
#  include "config.h" /* PH_DEBUG, PH_TLS_INITIAL_EXEC */
#endif

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
#  define PH_ALWAYS_INLINE inline __attribute__((always_inline))
#  define PH_PREFETCH(p) __builtin_prefetch(p) /* never faults */
#  define PH_UNUSED      __attribute__((unused))
#else
#  define PH_LIKELY(x)   (x)
#  define PH_UNLIKELY(x) (x)
#  define PH_NOINLINE
#  define PH_ALWAYS_INLINE inline
#  define PH_PREFETCH(p) ((void)(p))
#  define PH_UNUSED
#endif

#define PH_STATIC_ASSERT(c, msg) _Static_assert(c, msg)

/* Thread-local variables (ph__thread, the last error, lock.c's): their
 * TLS model on ELF systems.  (mingw-w64 and Mach-O have no such choice:
 * nothing here.)
 * - The static archive, which libtool compiles without -DPIC, for
 *   programs: initial-exec, one load at a fixed offset from the thread
 *   pointer.
 * - The shared object (-DPIC) built with PH_TLS_INITIAL_EXEC (configure's
 *   default with glibc): initial-exec too.  The object then has the
 *   STATIC_TLS flag: loaded with the program it takes its 280 bytes (on
 *   x86-64) of the static TLS block; dlopen()ed later, of the surplus
 *   glibc keeps for such objects (about 1.5 KiB), and the dlopen fails
 *   with "cannot allocate memory in static TLS block" once other objects
 *   have used that up.  glibc's own thread-locals, mimalloc's and
 *   jemalloc's make the same choice.
 * - Otherwise (configure --disable-initial-exec-tls, musl, whose dlopen
 *   refuses initial-exec objects): the compiler's default dynamic model,
 *   which dlopen() always accepts; the fast paths then make a
 *   __tls_get_addr call at every entry, and save the registers it uses.
 * Cost of a HeapFree+HeapAlloc pair on hot-1 (make bench; x86-64, GCC 12,
 * glibc 2.36, three runs side by side): static archive 11.1-11.3 ns,
 * shared initial-exec 11.5-12.6, shared dynamic 14.3-21 (glibc's malloc
 * 14.4-16.3).  TLS descriptors (-mtls-dialect=gnu2) would give the dynamic
 * model's freedom at nearly initial-exec's cost, but before glibc 2.40
 * (bug 31372) their slow path, taken after exactly such a dlopen, does not
 * keep vector registers that the compiler assumes kept. */
#if defined(__GNUC__) && defined(__ELF__) &&                                  \
    (!defined(PIC) || defined(PH_TLS_INITIAL_EXEC))
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
