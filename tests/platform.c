/*
 * platform.c - the only file of the suite that knows which system it is
 * on: Wine detection, threads, the seed.
 */
#include "suites.h"

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_VALGRIND_VALGRIND_H
#  include <valgrind/valgrind.h>
#endif

#if defined(_WIN32)
#  include <windows.h>
#else
#  include <pthread.h>
#  include <sched.h>
#  include <time.h>
#  include <unistd.h>
#endif

bool ph_test_under_valgrind(void) {
#ifdef HAVE_VALGRIND_VALGRIND_H
  return RUNNING_ON_VALGRIND != 0;
#else
  return false;
#endif
}

bool ph_test_on_wine(void) {
#if defined(_WIN32)
  static int cached = -1;
  if (cached < 0) {
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    cached = ntdll != NULL &&
             GetProcAddress(ntdll, "wine_get_version") != NULL;
  }
  return cached != 0 && !ph_test_emul();
#else
  return false;
#endif
}

bool ph_test_emul(void) {
  return strcmp(ph_backend(), "emul") == 0;
}

unsigned ph_test_skipped;

void ph_test_add_if(TCase* tc, const TTest* test, const char* name, bool run,
                    const char* why) {
  if (run) {
    tcase_add_test(tc, test);
  } else {
    ph_test_skipped++;
    printf("SKIP %s on the %s backend, %u-bit: %s\n", name, ph_backend(),
           (unsigned)sizeof(void*) * 8, why);
  }
}

struct ph_test_thread {
  void (*fn)(void*);
  void* arg;
#if defined(_WIN32)
  HANDLE handle;
#else
  pthread_t handle;
#endif
};

#if defined(_WIN32)
static DWORD WINAPI thread_main(LPVOID p) {
  struct ph_test_thread* t = p;
  t->fn(t->arg);
  return 0;
}
#else
static void* thread_main(void* p) {
  struct ph_test_thread* t = p;
  t->fn(t->arg);
  return NULL;
}
#endif

ph_test_thread_t* ph_test_thread_start(void (*fn)(void*), void* arg) {
  struct ph_test_thread* t = malloc(sizeof *t);
  ck_assert_ptr_nonnull(t);
  t->fn = fn;
  t->arg = arg;
#if defined(_WIN32)
  t->handle = CreateThread(NULL, 0, thread_main, t, 0, NULL);
  ck_assert_ptr_nonnull(t->handle);
#else
  ck_assert_int_eq(pthread_create(&t->handle, NULL, thread_main, t), 0);
#endif
  return t;
}

void ph_test_thread_join(ph_test_thread_t* t) {
#if defined(_WIN32)
  WaitForSingleObject(t->handle, INFINITE);
  CloseHandle(t->handle);
#else
  pthread_join(t->handle, NULL);
#endif
  free(t);
}

void ph_test_yield(void) {
#if defined(_WIN32)
  SwitchToThread();
#else
  sched_yield();
#endif
}

void ph_test_sleep_ms(unsigned ms) {
#if defined(_WIN32)
  Sleep(ms);
#else
  struct timespec t = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&t, &t) != 0)
    ;
#endif
}

/* The same clock as ph__prim_now_ms (emul/prim-posix.c, prim-win32.c),
 * read here through the system, as the tests use no engine internals:
 * change both together. */
#if !defined(_WIN32)
#  if defined(CLOCK_MONOTONIC_COARSE)
#    define TEST_CLOCK CLOCK_MONOTONIC_COARSE
#  else
#    define TEST_CLOCK CLOCK_MONOTONIC
#  endif
#endif

uint64_t ph_test_clock_ms(void) {
#if defined(_WIN32)
  return GetTickCount64();
#else
  struct timespec ts;
  clock_gettime(TEST_CLOCK, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
}

unsigned ph_test_clock_tick_ms(void) {
  uint64_t ns = 0;
#if defined(_WIN32)
  DWORD adjustment, increment; /* increment: in 100 ns */
  BOOL disabled;
  if (GetSystemTimeAdjustment(&adjustment, &increment, &disabled))
    ns = (uint64_t)increment * 100u;
#else
  struct timespec res;
  if (clock_getres(TEST_CLOCK, &res) == 0)
    ns = (uint64_t)res.tv_sec * 1000000000u + (uint64_t)res.tv_nsec;
#endif
  unsigned ms = (unsigned)((ns + 999999u) / 1000000u);
  return ms != 0 ? ms : 1;
}

double ph_test_thread_cpu_seconds(void) {
#if defined(_WIN32)
  FILETIME created, exited, kernel, user;
  if (!GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user))
    return -1.0;
  ULARGE_INTEGER k = {.LowPart = kernel.dwLowDateTime,
                      .HighPart = kernel.dwHighDateTime};
  ULARGE_INTEGER u = {.LowPart = user.dwLowDateTime,
                      .HighPart = user.dwHighDateTime};
  return (double)(k.QuadPart + u.QuadPart) / 1e7;
#else
  struct timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
    return -1.0;
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
#endif
}

size_t ph_test_page_size(void) {
#if defined(_WIN32)
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return si.dwPageSize;
#else
  return (size_t)sysconf(_SC_PAGESIZE);
#endif
}

size_t ph_test_resident_bytes(void) {
#if defined(__linux__)
  FILE* f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;
  if (f == NULL)
    return 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  return n == 2 ? (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
#else
  return 0;
#endif
}

#if defined(__linux__)
#  include <errno.h>
#  include <sys/mman.h>
/* Resident pages of [p, p + n), page by page where part is unmapped. */
static size_t resident_pages(uintptr_t first, size_t pages, size_t page) {
  unsigned char vec[64];
  size_t count = 0;
  for (size_t done = 0; done < pages;) {
    size_t k = pages - done < sizeof vec ? pages - done : sizeof vec;
    if (mincore((void*)(first + done * page), k * page, vec) == 0) {
      for (size_t i = 0; i < k; i++)
        count += vec[i] & 1u;
      done += k;
    } else if (k > 1) { /* ENOMEM: some page unmapped: one at a time */
      count += resident_pages(first + done * page, 1, page);
      done += 1;
    } else {
      done += 1; /* unmapped: not resident */
    }
  }
  return count;
}

long ph_test_resident_in(const void* p, size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  uintptr_t first = (uintptr_t)p & ~(uintptr_t)(page - 1);
  uintptr_t end = ((uintptr_t)p + n + page - 1) & ~(uintptr_t)(page - 1);
  return (long)(resident_pages(first, (end - first) / page, page) * page);
}
#else
long ph_test_resident_in(const void* p, size_t n) {
  (void)p;
  (void)n;
  return -1;
}
#endif

#if defined(_WIN32)
void* ph_test_unmapped_page(void) {
  void* p = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT,
                         PAGE_READWRITE);
  ck_assert_ptr_nonnull(p);
  VirtualFree(p, 0, MEM_RELEASE);
  return p;
}

bool ph_test_readable(const void* p) {
  MEMORY_BASIC_INFORMATION info;
  return VirtualQuery(p, &info, sizeof info) != 0 &&
         info.State == MEM_COMMIT &&
         (info.Protect & (PAGE_NOACCESS | PAGE_GUARD)) == 0;
}
#else
#  include <errno.h>
#  include <sys/mman.h>
void* ph_test_unmapped_page(void) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void* p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert(p != MAP_FAILED);
  munmap(p, 4 * page);
  return (char*)p + page; /* its neighbours went too */
}

bool ph_test_readable(const void* p) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void* base = (void*)((uintptr_t)p & ~(uintptr_t)(page - 1));
  unsigned char vec[1];
  return mincore(base, page, (void*)vec) == 0 || errno != ENOMEM;
}
#endif

unsigned ph_test_seed(void) {
  const char* s = getenv("PH_TEST_SEED");
  unsigned seed = s != NULL ? (unsigned)strtoul(s, NULL, 0) : 20261125u;
  return seed != 0 ? seed : 1u;
}

uint32_t ph_test_rand(uint32_t* state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

DWORD ph_test_error;

void* ph_le_ptr(void* result) {
  ph_test_error = GetLastError();
  return result;
}

uintmax_t ph_le_uint(uintmax_t result) {
  ph_test_error = GetLastError();
  return result;
}
