/*
 * prim.h - every operating-system call the emulated engine makes.
 *
 * The engine includes no OS header; it calls these, implemented once per
 * system in prim-posix.c (mmap, pthread) and prim-win32.c (VirtualAlloc),
 * so the same engine runs on Linux, macOS, the BSDs and, for testing it
 * against the native heap under Wine, Windows.
 *
 * Shared preconditions: addresses and sizes passed back to a prim call are
 * multiples of ph__prim_page_size() and lie inside one reservation.  No
 * call sets the portheap last error; failures come back as a Win32 code or
 * NULL.
 */
#ifndef PH_PRIM_H
#define PH_PRIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The system page size in bytes (4096 on x86-64 Linux; 16 KiB on Apple
 * silicon).  Constant for the life of the process. */
size_t ph__prim_page_size(void);

/* Reserve `size` bytes of address space aligned to `align` (a power of two,
 * at least the page size), inaccessible.  Returns NULL if it cannot. */
void* ph__prim_reserve(size_t size, size_t align);

/* Make [addr, addr+size) readable and writable (and executable if `exec`);
 * new pages read as zero.  Returns 0 or a Win32 error code. */
uint32_t ph__prim_commit(void* addr, size_t size, bool exec);

/* Give the pages back to the system and make them inaccessible again; the
 * range stays reserved.  Returns 0 or a Win32 error code. */
uint32_t ph__prim_decommit(void* addr, size_t size);

/* Give the pages of [addr, addr+size) back to the system but keep them
 * usable, their contents lost (Linux MADV_DONTNEED: zero when next
 * touched; MADV_FREE elsewhere; MEM_RESET and out of the working set on
 * Windows).  For free memory inside a committed range.  Returns 0 or a
 * Win32 error code. */
uint32_t ph__prim_purge(void* addr, size_t size);

/* Unmap a whole reservation made by ph__prim_reserve. */
void ph__prim_release(void* addr, size_t size);

/* Move the committed pages [from, from+size) to `to`, inside another
 * reservation (whose pages there they replace), without copying them: the
 * system moves the mappings (Linux mremap).  Afterwards `to` holds the
 * contents, with their protection, and [from, from+size) is no longer
 * mapped: release the rest of its reservation with ph__prim_release.
 * Returns 0, or a Win32 error code with nothing changed;
 * ERROR_NOT_SUPPORTED where the system has no such call (the caller
 * copies). */
uint32_t ph__prim_remap(void* from, size_t size, void* to);

/* Let another thread run (a bias revoker waiting for one operation). */
void ph__prim_yield(void);

/* Sleep while *word == expected: returns at once if it differs, else when
 * woken by ph__prim_wake on the same word; may also return spuriously.
 * The caller re-checks its condition after every return. */
void ph__prim_wait(atomic_uint* word, unsigned expected);

/* Wake one (all: every) thread sleeping in ph__prim_wait on word.  Call it
 * after changing *word, so that a waiter about to sleep sees the change. */
void ph__prim_wake(atomic_uint* word, bool all);

/* Whether ph__prim_fence_all works here (Linux membarrier with
 * PRIVATE_EXPEDITED, Windows FlushProcessWriteBuffers); the first call
 * registers the process for it.  False under ThreadSanitizer, which cannot
 * see such a fence, and on systems without one. */
bool ph__prim_fence_all_init(void);

/* Make every running thread of the process execute a full memory barrier
 * before this returns.  Only after ph__prim_fence_all_init returned true.
 * Returns false if the system refused (a seccomp filter installed since,
 * say): then no barrier ran. */
bool ph__prim_fence_all(void);

/* Have `fn` called when the calling thread exits (its thread-local
 * variables still there): after the first call in a thread, later ones
 * change nothing.  `fn` is the same function in every call of the process.
 * False if the system refused (no call then).  A pthread key's destructor
 * (deleted when the library is unloaded); an FLS callback on Windows. */
bool ph__prim_on_thread_exit(void (*fn)(void));

/* Run `prepare` before fork() and `parent`/`child` after it, in both
 * processes.  A no-op where there is no fork(). */
void ph__prim_atfork(void (*prepare)(void), void (*parent)(void),
                     void (*child)(void));

/* Fill buf[0..size) with bytes from the system's random source (getrandom,
 * else /dev/urandom, on Linux; arc4random_buf on macOS and the BSDs;
 * BCryptGenRandom on Windows): the secrets of seals and links.  Returns
 * false if the source failed; buf is then unspecified.  May block only
 * while the system gathers its first entropy, early in boot. */
bool ph__prim_random_bytes(void* buf, size_t size);

/* 64 bits from the clock, addresses and ids, mixed (ph__prim_mix64): NOT
 * secret (an attacker who knows roughly when the process started can
 * guess them).  The last resort when ph__prim_random_bytes fails. */
uint64_t ph__prim_random(void);

/* splitmix64's finaliser: spreads the entropy of x over all 64 bits; each
 * prim-*.c feeds it what the system offers (clock, addresses, ids). */
static inline uint64_t ph__prim_mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* Whether the byte at p can be read without a fault (its page is mapped,
 * committed, readable).  A diagnostic for bad pointers: it may cost a
 * system call. */
bool ph__prim_readable(const void* p);

/* A monotonic clock in milliseconds (coarse: a few ms of resolution is
 * enough; it must be cheap). */
uint64_t ph__prim_now_ms(void);

/* The value of an environment variable, or NULL. */
const char* ph__prim_getenv(const char* name);

/* Write a message to the standard error stream, unbuffered. */
void ph__prim_write_error(const char* message);

/* End the process at once, abnormally (abort()). */
_Noreturn void ph__prim_abort(void);

#endif /* PH_PRIM_H */
