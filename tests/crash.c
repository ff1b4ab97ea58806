/*
 * crash.c - helper for tests/crash.sh: does one thing that must end the
 * process on the emulated engine, so the suite need not crash on purpose.
 *
 *   crash raise     HeapAlloc with GENERATE_EXCEPTIONS that fails, no handler
 *   crash bad-heap  the same on a destroyed heap (STATUS_ACCESS_VIOLATION)
 *   crash double-free   HeapEnableTerminationOnCorruption, then a double free
 *   crash overrun       HeapEnableTerminationOnCorruption, then a write past a
 *                       block over the next block's header, then freeing
 *                       that next block (its header no longer checks)
 *   crash fence-revoke  Linux: a live thread's heap lock is biased, then a
 *                       seccomp filter makes membarrier fail, then another
 *                       thread enters that lock: the revocation cannot be
 *                       fenced, so the process must end with a message
 *   crash fence-grant   Linux: membarrier fails from the start of the
 *                       churn on (a heap made and used by another thread,
 *                       150 ms later): no bias may be granted, and biasing
 *                       must turn off; this one must survive (prints "ok")
 * The fence modes exit 77 (skip) where biasing is off or seccomp missing.
 *
 * Before the fatal call it prints "heap <hex>" and "at <hex>" (the address
 * the message must name) on stdout, flushed.  If it survives it prints
 * "survived" and exits 0, which crash.sh reports as a failure.
 */
#include <portheap.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Seccomp filters need the kernel's headers (musl-gcc has none). */
#if defined(__linux__) && defined(__has_include)
#  if __has_include(<linux/filter.h>) && __has_include(<linux/seccomp.h>)
#    define PH_SECCOMP 1
#  endif
#endif
#if defined(PH_SECCOMP)
#  include <errno.h>
#  include <linux/filter.h>
#  include <linux/seccomp.h>
#  include <pthread.h>
#  include <stddef.h>
#  include <sys/prctl.h>
#  include <sys/syscall.h>
#  include <unistd.h>
#endif

#define SKIP 77

static void show(const char* what, const void* p) {
  printf("%s %llx\n", what, (unsigned long long)(uintptr_t)p);
  fflush(stdout);
}

static int enable_termination(void) {
  if (!ph_heap_set_information(NULL, PH_HEAP_ENABLE_TERMINATION_ON_CORRUPTION,
                               NULL, 0)) {
    printf("HeapEnableTerminationOnCorruption failed: %s\n",
           ph_error_name(ph_get_last_error()));
    return 0;
  }
  return 1;
}

/* ---- losing the process-wide fence (Linux) -------------------------------- */

#if defined(PH_SECCOMP) && defined(SYS_seccomp) && defined(SYS_membarrier)
/* Make membarrier fail with EPERM in every thread from now on, as a
 * sandbox installed after start-up would.  Returns 0 if it cannot. */
static int forbid_membarrier(void) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof code / sizeof code[0], code};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                 SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0;
}

/* Churn a heap alone in a thread of its own (long enough for its lock to
 * be biased); returns a block the thread left in its part of the heap. */
static void* churn_main(void* h) {
  for (int i = 0; i < 2000; i++)
    ph_heap_free(h, 0, ph_heap_alloc(h, 0, 40));
  return ph_heap_alloc(h, 0, 40);
}

/* churn_main in a thread that then stays (a thread that exits gives its
 * biases back, and there would be nothing to revoke). */
static void* volatile kept_block;

static void* churn_and_stay(void* h) {
  kept_block = churn_main(h);
  for (;;)
    pause(); /* until the process ends */
  return NULL;
}

static void* churn_alone(void* h) {
  pthread_t t;
  if (pthread_create(&t, NULL, churn_and_stay, h) != 0)
    return NULL;
  pthread_detach(t);
  while (kept_block == NULL)
    usleep(1000);
  return kept_block;
}

/* Make a heap in a thread of its own and churn it there: the maker holds
 * a new heap's bias from the start, unless the grant finds the fence gone
 * (it re-tests it when the last test is over 100 ms old). */
static void* churn_fresh(void* unused) {
  (void)unused;
  void* h = ph_heap_create(0, 0, 0);
  if (h == NULL)
    return NULL;
  ph_heap_free(h, 0, churn_main(h));
  ph_heap_destroy(h);
  return h;
}

static ph_lock_stats_t counts(void) {
  ph_lock_stats_t s = {.cb = sizeof s};
  ph_lock_stats(&s);
  return s;
}

static int fence_mode(void* h, int revoke) {
  ph_lock_stats_t before = counts();
  if (!before.biasing) {
    printf("skip: heap locks are not biased here (no membarrier, TSan or "
           "PORTHEAP_BIASED_LOCKS=0)\n");
    return SKIP;
  }
  if (!revoke) {
    if (!forbid_membarrier()) {
      printf("skip: cannot install a seccomp filter here\n");
      return SKIP;
    }
    usleep(150 * 1000); /* past the fence's re-test interval */
    pthread_t t;
    void* done = NULL;
    if (pthread_create(&t, NULL, churn_fresh, NULL) != 0 ||
        pthread_join(t, &done) != 0 || done == NULL)
      return 2;
    ph_lock_stats_t after = counts();
    printf("biasing %u, fence failures %llu, biases granted %llu -> %llu\n",
           (unsigned)after.biasing,
           (unsigned long long)after.fence_failures,
           (unsigned long long)before.bias_grants,
           (unsigned long long)after.bias_grants);
    if (after.biasing || after.fence_failures == 0 ||
        after.bias_grants != before.bias_grants)
      return 1;
    printf("ok\n");
    return 0;
  }
  void* block = churn_alone(h);
  ph_lock_stats_t biased = counts();
  if (block == NULL || biased.bias_grants == before.bias_grants)
    return 2; /* no bias formed: cannot test */
  if (!forbid_membarrier()) {
    printf("skip: cannot install a seccomp filter here\n");
    return SKIP;
  }
  show("heap", h);
  show("at", block);
  ph_heap_free(h, 0, block); /* enters the biased lock: revokes */
  return -1;
}
#else
static int fence_mode(void* h, int revoke) {
  (void)h;
  (void)revoke;
  printf("skip: needs Linux's membarrier and seccomp (and their headers)\n");
  return SKIP;
}
#endif

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s raise|bad-heap|double-free|overrun|"
                    "fence-revoke|fence-grant\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  void* h = ph_heap_create(0, 0, 0);
  if (h == NULL)
    return 2;
  if (strcmp(mode, "raise") == 0) {
    show("heap", h);
    ph_heap_alloc(h, PH_HEAP_GENERATE_EXCEPTIONS, SIZE_MAX - 4096);
  } else if (strcmp(mode, "bad-heap") == 0) {
    ph_heap_destroy(h);
    show("heap", h);
    ph_heap_alloc(h, PH_HEAP_GENERATE_EXCEPTIONS, 10);
  } else if (strcmp(mode, "double-free") == 0) {
    if (!enable_termination())
      return 2;
    char* p = ph_heap_alloc(h, 0, 100);
    ph_heap_free(h, 0, p);
    show("heap", h);
    show("at", p);
    ph_heap_free(h, 0, p);
  } else if (strcmp(mode, "overrun") == 0) {
    if (!enable_termination())
      return 2;
    unsigned char* a = ph_heap_alloc(h, 0, 1000);
    unsigned char* b = ph_heap_alloc(h, 0, 1000);
    if (a == NULL || b <= a + 1000 || b > a + 1100)
      return 2; /* not laid out as expected: cannot test */
    memset(a + 1000, 0xEE, (size_t)(b - (a + 1000))); /* b's header */
    show("heap", h);
    show("at", b);
    ph_heap_free(h, 0, b);
  } else if (strcmp(mode, "fence-revoke") == 0 ||
             strcmp(mode, "fence-grant") == 0) {
    int rc = fence_mode(h, strcmp(mode, "fence-revoke") == 0);
    if (rc >= 0)
      return rc;
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("survived\n");
  return 0;
}
