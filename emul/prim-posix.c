/*
 * prim-posix.c - prim.h on POSIX systems: mmap/mprotect/madvise for memory
 * (and mremap on Linux), pthread_atfork, and random bytes from the system
 * (getrandom or /dev/urandom on Linux, arc4random_buf on macOS and the
 * BSDs).
 */
#if !defined(_WIN32)
#  define _DEFAULT_SOURCE 1
#  define _DARWIN_C_SOURCE 1
#  if defined(__linux__)
#    define _GNU_SOURCE 1 /* mremap */
#  endif

#  ifdef HAVE_CONFIG_H
#    include "config.h"
#  endif

#  include "prim.h"

#  include <errno.h>
#  include <fcntl.h>
#  include <pthread.h>
#  include <sched.h>
#  include <stdatomic.h>
#  include <stdlib.h>
#  include <string.h>
#  include <sys/mman.h>
#  include <time.h>
#  include <unistd.h>

#  if defined(HAVE_SYS_RANDOM_H)
#    include <sys/random.h>
#  endif
#  if defined(__linux__)
#    include <sys/syscall.h>
/* The kernel's constants, from its headers where the C library's include
 * path has them (glibc's does; musl-gcc's has no linux/ headers): the
 * values are the kernel's ABI and do not change. */
#    if defined(__has_include)
#      if __has_include(<linux/futex.h>)
#        include <linux/futex.h>
#      endif
#      if __has_include(<linux/membarrier.h>)
#        include <linux/membarrier.h>
#        define PH_HAVE_MEMBARRIER_H 1
#      endif
#    else
#      include <linux/futex.h>
#      include <linux/membarrier.h>
#      define PH_HAVE_MEMBARRIER_H 1
#    endif
#    ifndef FUTEX_WAIT_PRIVATE
#      define FUTEX_WAIT_PRIVATE 128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG */
#      define FUTEX_WAKE_PRIVATE 129 /* FUTEX_WAKE | FUTEX_PRIVATE_FLAG */
#    endif
#    ifndef PH_HAVE_MEMBARRIER_H /* its commands are an enum, not macros */
#      define MEMBARRIER_CMD_QUERY 0
#      define MEMBARRIER_CMD_PRIVATE_EXPEDITED (1 << 3)
#      define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)
#    endif
#  endif

#  ifndef MAP_ANONYMOUS
#    define MAP_ANONYMOUS MAP_ANON
#  endif
#  ifndef MAP_NORESERVE
#    define MAP_NORESERVE 0
#  endif
#  ifndef O_CLOEXEC
#    define O_CLOEXEC 0
#  endif

#  define ERROR_NOT_ENOUGH_MEMORY 8u
#  define ERROR_NOT_SUPPORTED 50u
#  define ERROR_INVALID_PARAMETER 87u
#  define ERROR_NOACCESS 998u

static uint32_t error_from_errno(int err) {
  switch (err) {
  case ENOMEM: return ERROR_NOT_ENOUGH_MEMORY;
  case EACCES:
  case EPERM: return ERROR_NOACCESS;
  default: return ERROR_INVALID_PARAMETER;
  }
}

bool ph__prim_readable(const void* p) {
  size_t page = ph__prim_page_size();
  void* base = (void*)((uintptr_t)p & ~(uintptr_t)(page - 1));
#if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__) ||       \
    defined(__NetBSD__) || defined(__OpenBSD__)
  /* mincore fails with ENOMEM on a page that is not mapped; it reads
   * nothing at the address (so memory checkers let it be). */
  unsigned char vec[1];
  return mincore(base, page, (void*)vec) == 0 || errno != ENOMEM;
#else
  /* msync fails with ENOMEM on a range that is not mapped (POSIX). */
  return msync(base, page, MS_ASYNC) == 0 || errno != ENOMEM;
#endif
}

size_t ph__prim_page_size(void) {
  static size_t page;
  if (page == 0) {
    long n = sysconf(_SC_PAGESIZE);
    page = n > 0 ? (size_t)n : 4096;
  }
  return page;
}

void* ph__prim_reserve(size_t size, size_t align) {
  size_t span = size + align;
  if (span < size)
    return NULL;
  char* p = mmap(NULL, span, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
  size_t head = start - (uintptr_t)p;
  size_t tail = span - head - size;
  if (head)
    munmap(p, head);
  if (tail)
    munmap((char*)start + size, tail);
  return (void*)start;
}

uint32_t ph__prim_commit(void* addr, size_t size, bool exec) {
  int prot = PROT_READ | PROT_WRITE | (exec ? PROT_EXEC : 0);
  if (mprotect(addr, size, prot) != 0)
    return error_from_errno(errno);
  return 0;
}

uint32_t ph__prim_decommit(void* addr, size_t size) {
  /* A fresh PROT_NONE mapping drops the pages and their contents at once. */
  void* p = mmap(addr, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
                 0);
  if (p == MAP_FAILED)
    return error_from_errno(errno);
  return 0;
}

uint32_t ph__prim_purge(void* addr, size_t size) {
#  if defined(__linux__)
  int advice = MADV_DONTNEED; /* resident memory drops at once */
#  elif defined(MADV_FREE)
  int advice = MADV_FREE;
#  else
  int advice = MADV_DONTNEED;
#  endif
  if (madvise(addr, size, advice) != 0)
    return error_from_errno(errno);
  return 0;
}

void ph__prim_release(void* addr, size_t size) {
  munmap(addr, size);
}

#  if defined(__linux__) && defined(MREMAP_MAYMOVE) && defined(MREMAP_FIXED)
uint32_t ph__prim_remap(void* from, size_t size, void* to) {
  /* FIXED: onto `to`, replacing its PROT_NONE pages; the page tables move,
   * the pages stay where they are in memory. */
  if (mremap(from, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, to) ==
      MAP_FAILED)
    return error_from_errno(errno);
  return 0;
}
#  else
uint32_t ph__prim_remap(void* from, size_t size, void* to) {
  (void)from;
  (void)size;
  (void)to;
  return ERROR_NOT_SUPPORTED;
}
#  endif

void ph__prim_yield(void) {
  sched_yield();
}

#  if defined(__linux__) && defined(SYS_futex)
/* Linux: the futex is the wait queue; the kernel compares *word with
 * `expected` under its own lock, so a wake after the change is never
 * lost. */
void ph__prim_wait(atomic_uint* word, unsigned expected) {
  syscall(SYS_futex, (void*)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

void ph__prim_wake(atomic_uint* word, bool all) {
  syscall(SYS_futex, (void*)word, FUTEX_WAKE_PRIVATE, all ? INT32_MAX : 1,
          NULL, NULL, 0);
}
#  else
/* Elsewhere: a parking lot.  Words hash to one of PARK_SLOTS condition
 * variables; a waiter re-reads the word under the slot's mutex, and a waker
 * takes that mutex after changing the word, so no wake is lost.  Waking
 * wakes the whole slot (other words' waiters re-check and sleep again). */
#    define PARK_SLOTS 64u
static struct park {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
} parks[PARK_SLOTS];
static pthread_once_t parks_once = PTHREAD_ONCE_INIT;

static void parks_init(void) {
  for (unsigned i = 0; i < PARK_SLOTS; i++) {
    pthread_mutex_init(&parks[i].mutex, NULL);
    pthread_cond_init(&parks[i].cond, NULL);
  }
}

static struct park* park_of(const atomic_uint* word) {
  pthread_once(&parks_once, parks_init);
  return &parks[((uintptr_t)word >> 4) % PARK_SLOTS];
}

void ph__prim_wait(atomic_uint* word, unsigned expected) {
  struct park* p = park_of(word);
  pthread_mutex_lock(&p->mutex);
  if (atomic_load(word) == expected)
    pthread_cond_wait(&p->cond, &p->mutex);
  pthread_mutex_unlock(&p->mutex);
}

void ph__prim_wake(atomic_uint* word, bool all) {
  (void)all;
  struct park* p = park_of(word);
  pthread_mutex_lock(&p->mutex);
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->mutex);
}
#  endif

#  if defined(__SANITIZE_THREAD__)
#    define PH_TSAN 1
#  elif defined(__has_feature)
#    if __has_feature(thread_sanitizer)
#      define PH_TSAN 1
#    endif
#  endif

#  if defined(__linux__) && defined(SYS_membarrier) && !defined(PH_TSAN)
static long membarrier(int cmd) {
  return syscall(SYS_membarrier, cmd, 0u, 0);
}

bool ph__prim_fence_all_init(void) {
  static atomic_int state; /* 0 unknown, 1 available, -1 not */
  int known = atomic_load_explicit(&state, memory_order_acquire);
  if (known == 0) { /* registering twice does no harm */
    long cmds = membarrier(MEMBARRIER_CMD_QUERY);
    bool ok = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
              membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
    known = ok ? 1 : -1;
    atomic_store_explicit(&state, known, memory_order_release);
  }
  return known > 0;
}

bool ph__prim_fence_all(void) {
  for (;;) {
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
      return true;
    if (errno != EINTR)
      return false; /* EPERM, ENOSYS: a filter installed since start-up */
  }
}
#  else
bool ph__prim_fence_all_init(void) {
  return false;
}

bool ph__prim_fence_all(void) {
  return false;
}
#  endif

/* One key for the process, whose destructor calls the function given; the
 * key goes when the library is unloaded, so that no thread exiting after
 * that calls into it. */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static _Atomic(void (*)(void)) exit_fn;
static atomic_bool exit_keyed;

static void exit_run(void* value) {
  (void)value;
  void (*fn)(void) = atomic_load_explicit(&exit_fn, memory_order_acquire);
  if (fn != NULL)
    fn();
}

static void exit_key_make(void) {
  atomic_store(&exit_keyed, pthread_key_create(&exit_key, exit_run) == 0);
}

__attribute__((destructor)) static void exit_key_drop(void) {
  if (atomic_exchange(&exit_keyed, false))
    pthread_key_delete(exit_key);
}

bool ph__prim_on_thread_exit(void (*fn)(void)) {
  atomic_store_explicit(&exit_fn, fn, memory_order_release);
  pthread_once(&exit_once, exit_key_make);
  return atomic_load(&exit_keyed) &&
         pthread_setspecific(exit_key, (void*)1) == 0;
}

void ph__prim_atfork(void (*prepare)(void), void (*parent)(void),
                     void (*child)(void)) {
  pthread_atfork(prepare, parent, child);
}

/* size bytes from /dev/urandom into p: where getrandom is missing (Linux
 * before 3.17, or a C library without it). */
static bool random_urandom(unsigned char* p, size_t size) {
  int fd;
  do
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return false;
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    p += n;
    size -= (size_t)n;
  }
  close(fd);
  return size == 0;
}

bool ph__prim_random_bytes(void* buf, size_t size) {
  unsigned char* p = buf;
#  if defined(HAVE_GETRANDOM) && defined(HAVE_SYS_RANDOM_H)
  while (size > 0) { /* a call may return less, or be interrupted */
    ssize_t n = getrandom(p, size, 0);
    if (n > 0) {
      p += n;
      size -= (size_t)n;
    } else if (n < 0 && errno == ENOSYS) {
      return random_urandom(p, size); /* the C library has it, the kernel not */
    } else if (!(n < 0 && errno == EINTR)) {
      return false;
    }
  }
  return true;
#  elif defined(HAVE_ARC4RANDOM_BUF)
  arc4random_buf(p, size); /* cannot fail */
  return true;
#  else
  return random_urandom(p, size);
#  endif
}

uint64_t ph__prim_random(void) {
  static _Atomic uint64_t calls;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
  x ^= (uint64_t)(uintptr_t)&ts ^ ((uint64_t)getpid() << 17);
  x ^= (uint64_t)(uintptr_t)&ph__prim_random << 7;
  x ^= ++calls * 0xD1B54A32D192ED03ull;
  return ph__prim_mix64(x);
}

uint64_t ph__prim_now_ms(void) {
  struct timespec ts;
#  if defined(CLOCK_MONOTONIC_COARSE)
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#  else
  clock_gettime(CLOCK_MONOTONIC, &ts);
#  endif
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char* ph__prim_getenv(const char* name) {
  return getenv(name);
}

void ph__prim_write_error(const char* message) {
  size_t n = strlen(message);
  while (n > 0) {
    ssize_t w = write(2, message, n);
    if (w <= 0)
      break;
    message += w;
    n -= (size_t)w;
  }
}

_Noreturn void ph__prim_abort(void) {
  abort();
}
#endif /* !_WIN32 */
