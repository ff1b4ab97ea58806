/*
 * fork-safety.c - fork() while other threads hold or use heaps.
 *
 * One thread holds HeapLock on heap A for the whole run; another allocates
 * and frees without pause on the process heap and on heap C, so forks land
 * in the middle of operations; the main thread holds HeapLock on heap D
 * itself.  The main thread forks several times.  Each child, where only
 * the forking thread exists, allocates, resizes, walks, validates and
 * frees on every heap GetProcessHeaps lists (A, whose holder is gone, and
 * the process heap included), unlocks D, creates and destroys a heap, and
 * exits 0.  The parent waits for each child with a time limit: a child
 * stuck on a lock copied in the held state fails the test.  Last, parent
 * and child each make a heap after a fork: its keys must differ (the
 * engine draws keys from a pool of random bytes, which a child drops).
 *
 * First of all, before the library has started: a fork while another
 * thread is inside the engine's one-time start-up (stalled there through
 * this program's own getenv, which the library calls instead of the C
 * library's).  The child must be able to use the library.
 *
 * POSIX only (the engine's pthread_atfork handlers, emul/startup.c);
 * elsewhere it exits 77 (skipped).
 */
#include <portheap/win32.h>

#include <stdio.h>

#if defined(_WIN32)

int main(void) {
  puts("fork-safety: no fork() on Windows: skipped");
  return 77;
}

#else

#  include <pthread.h>
#  include <signal.h>
#  include <stdbool.h>
#  include <stdatomic.h>
#  include <stdint.h>
#  include <stdlib.h>
#  include <string.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>

enum { FORKS = 20, CHILD_LIMIT_MS = 10000 };

static HANDLE heap_a, heap_b, heap_c, heap_d;
static atomic_bool a_locked, stop;

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- a fork during start-up ----------------------------------------------- */

/* ThreadSanitizer: a child forked while a thread of the parent ran keeps
 * TSan's record of that thread, which it never sees joined, and reports a
 * "thread leak" at exit (status 66).  That is the test's fork, not a leak. */
const char* __tsan_default_options(void);
const char* __tsan_default_options(void) {
  return "report_thread_leaks=0";
}

extern char** environ;
static atomic_bool stall_start_up, in_start_up;

/* getenv as the library sees it (a definition in the program wins over the
 * C library's).  While stall_start_up is set, the engine's start-up read of
 * PORTHEAP_BIASED_LOCKS says so and stalls there for 300 ms. */
char* getenv(const char* name) {
  size_t n = strlen(name);
  if (atomic_load(&stall_start_up) &&
      strcmp(name, "PORTHEAP_BIASED_LOCKS") == 0) {
    atomic_store(&in_start_up, true);
    sleep_ms(300);
  }
  for (char** e = environ; e != NULL && *e != NULL; e++)
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
      return *e + n + 1;
  return NULL;
}

static void* first_call(void* arg) {
  (void)arg;
  return GetProcessHeap();
}

static int wait_child(pid_t pid);

/* A thread makes the first call (start-up); the main thread forks while
 * that thread is inside it.  The child must create, use and destroy a
 * heap (a start-up lock copied held would make it wait for ever). */
static int fork_during_start_up(void) {
  pthread_t t;
  atomic_store(&stall_start_up, true);
  if (pthread_create(&t, NULL, first_call, NULL) != 0)
    return 1;
  while (!atomic_load(&in_start_up))
    sleep_ms(1);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    HANDLE h = HeapCreate(0, 0, 0);
    void* p = h != NULL ? HeapAlloc(h, 0, 100) : NULL;
    _exit(p != NULL && HeapFree(h, 0, p) && HeapDestroy(h) &&
                  GetProcessHeap() != NULL
              ? 0
              : 1);
  }
  void* heap = NULL;
  pthread_join(t, &heap);
  atomic_store(&stall_start_up, false);
  int status = pid < 0 ? -1 : wait_child(pid);
  if (status != 0 || heap == NULL)
    fprintf(stderr, "fork-safety: child forked during start-up %s (%d)\n",
            status < 0 ? "hung: killed" : "failed", status);
  return status != 0 || heap == NULL;
}

/* Holds HeapLock on A until the end, then lets go. */
static void* hold_a(void* arg) {
  (void)arg;
  if (!HeapLock(heap_a))
    abort();
  atomic_store(&a_locked, true);
  while (!atomic_load(&stop))
    sleep_ms(1);
  HeapUnlock(heap_a);
  return NULL;
}

/* Allocates and frees on the process heap and C without pause. */
static void* churn(void* arg) {
  (void)arg;
  void* keep[64] = {0};
  HANDLE from[64] = {0};
  for (unsigned i = 0; !atomic_load(&stop); i++) {
    unsigned k = (i * 7u) % 64u;
    if (keep[k] != NULL && !HeapFree(from[k], 0, keep[k]))
      abort();
    from[k] = i % 2 ? GetProcessHeap() : heap_c;
    keep[k] = HeapAlloc(from[k], 0, 16 + (i * 37u) % 3000u);
    if (keep[k] != NULL)
      memset(keep[k], 0x3C, 16);
  }
  for (unsigned k = 0; k < 64; k++)
    if (keep[k] != NULL)
      HeapFree(from[k], 0, keep[k]);
  return NULL;
}

/* In the child: use heap h in every way; false at the first failure. */
static int child_uses(HANDLE h, const char** what) {
  unsigned char* p[8];
  for (int i = 0; i < 8; i++) {
    SIZE_T n = (SIZE_T)1 << (4 + 2 * i); /* 16 B .. 256 KiB */
    p[i] = HeapAlloc(h, 0, n);
    if (p[i] == NULL)
      return *what = "HeapAlloc", 0;
    memset(p[i], i, n);
  }
  void* q = HeapReAlloc(h, 0, p[0], 5000);
  if (q == NULL || ((unsigned char*)q)[15] != 0)
    return *what = "HeapReAlloc", 0;
  p[0] = q;
  if (!HeapValidate(h, 0, NULL))
    return *what = "HeapValidate", 0;
  if (!HeapLock(h))
    return *what = "HeapLock", 0;
  PROCESS_HEAP_ENTRY e;
  memset(&e, 0, sizeof e);
  while (HeapWalk(h, &e))
    ;
  if (GetLastError() != ERROR_NO_MORE_ITEMS)
    return *what = "HeapWalk", 0;
  if (!HeapUnlock(h))
    return *what = "HeapUnlock", 0;
  for (int i = 0; i < 8; i++)
    if (!HeapFree(h, 0, p[i]))
      return *what = "HeapFree", 0;
  HeapCompact(h, 0);
  return 1;
}

static _Noreturn void child(void) {
  const char* what = "";
  HANDLE list[64];
  DWORD n = GetProcessHeaps(64, list);
  if (n < 5 || n > 64 || list[0] != GetProcessHeap()) {
    fprintf(stderr, "child: GetProcessHeaps gave %u\n", (unsigned)n);
    _exit(2);
  }
  for (DWORD i = 0; i < n; i++) {
    if (!child_uses(list[i], &what)) {
      fprintf(stderr, "child: %s failed on heap %u (%p), error %u\n", what,
              (unsigned)i, list[i], (unsigned)GetLastError());
      _exit(3);
    }
  }
  if (!HeapUnlock(heap_d)) { /* the forking thread's hold came along */
    fputs("child: HeapUnlock of D failed\n", stderr);
    _exit(4);
  }
  HANDLE h = HeapCreate(0, 0, 0);
  if (h == NULL || !child_uses(h, &what) || !HeapDestroy(h)) {
    fputs("child: a new heap failed\n", stderr);
    _exit(5);
  }
  _exit(0);
}

/* Wait for pid with a time limit; returns its exit status, or -1 if it had
 * to be killed. */
static int wait_child(pid_t pid) {
  for (unsigned waited = 0; waited < CHILD_LIMIT_MS; waited += 5) {
    int status;
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    sleep_ms(5);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

/* A new heap's first small block, freed: where it lies and its first 8
 * bytes (its list link, which the heap's keys encode).  The heap stays. */
struct first_link {
  void* at;
  uint64_t word;
};

static struct first_link first_link_of_new_heap(void) {
  struct first_link f = {NULL, 0};
  HANDLE h = HeapCreate(0, 0, 0);
  void* p = h != NULL ? HeapAlloc(h, 0, 16) : NULL;
  if (p != NULL && HeapFree(h, 0, p)) {
    f.at = p;
    memcpy(&f.word, p, sizeof f.word);
  }
  return f;
}

/* Whether a heap made in a fork child got other keys than the heap the
 * parent makes at the same time: at one address, the same keys would
 * store the same link.  Returns 1 if they differ (or the heaps lie at
 * different addresses: not comparable, said so), 0 if not. */
static int keys_differ_after_fork(void) {
  int fds[2];
  if (pipe(fds) != 0)
    return 0;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return 0;
  struct first_link mine = first_link_of_new_heap(), theirs;
  if (pid == 0) {
    ssize_t n = write(fds[1], &mine, sizeof mine);
    _exit(n == (ssize_t)sizeof mine ? 0 : 1);
  }
  close(fds[1]);
  ssize_t n = read(fds[0], &theirs, sizeof theirs);
  close(fds[0]);
  if (wait_child(pid) != 0 || n != (ssize_t)sizeof theirs || mine.at == NULL)
    return 0;
  if (mine.at != theirs.at) {
    puts("fork-safety: heaps at different addresses: keys not compared");
    return 1;
  }
  return mine.word != theirs.word;
}

int main(void) {
  int failures = fork_during_start_up();
  heap_a = HeapCreate(0, 0, 0);
  heap_b = HeapCreate(HEAP_NO_SERIALIZE, 0, 0);
  heap_c = HeapCreate(0, 0, (SIZE_T)16 << 20);
  heap_d = HeapCreate(0, 0, 0);
  if (!heap_a || !heap_b || !heap_c || !heap_d) {
    fputs("fork-safety: HeapCreate failed\n", stderr);
    return 1;
  }
  pthread_t holder, churner;
  if (pthread_create(&holder, NULL, hold_a, NULL) != 0 ||
      pthread_create(&churner, NULL, churn, NULL) != 0)
    return 1;
  while (!atomic_load(&a_locked))
    sleep_ms(1);
  if (!HeapLock(heap_d))
    return 1;
  for (int i = 0; i < FORKS; i++) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      failures++;
      break;
    }
    if (pid == 0)
      child();
    int status = wait_child(pid);
    if (status != 0) {
      fprintf(stderr, "fork-safety: child %d %s (%d)\n", i,
              status < 0 ? "hung: killed" : "failed", status);
      failures++;
    }
    sleep_ms(2);
  }
  if (!HeapUnlock(heap_d))
    failures++;
  atomic_store(&stop, true);
  pthread_join(holder, NULL);
  pthread_join(churner, NULL);
  /* The parent's heaps came through too. */
  HANDLE mine[] = {heap_a, heap_b, heap_c, heap_d, GetProcessHeap()};
  for (int i = 0; i < 5; i++)
    if (!HeapValidate(mine[i], 0, NULL))
      failures++;
  if (!keys_differ_after_fork()) {
    fputs("fork-safety: a fork child's heap got the parent's keys\n", stderr);
    failures++;
  }
  for (int i = 0; i < 4; i++)
    HeapDestroy(mine[i]);
  printf("fork-safety: %d forks, %d failures\n", FORKS, failures);
  return failures == 0 ? 0 : 1;
}

#endif
