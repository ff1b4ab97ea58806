/*
 * platform.c - the benchmark's only contact with the OS: clock, threads,
 * resident memory, CPU description, the cost of a page fault, loading
 * mimalloc and jemalloc, pinning a thread to a CPU.
 * POSIX (Linux first) or Windows; everything else lives in portable C.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE 1 /* cpu_set_t, sched_setaffinity */
#endif
#include "config.h"

#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#  define PSAPI_VERSION 2 /* GetProcessMemoryInfo from kernel32 */
#  include <windows.h>
#  include <malloc.h>
#  include <psapi.h>
#else
#  include <dlfcn.h>
#  include <pthread.h>
#  include <sched.h>
#  include <sys/mman.h>
#  include <sys/resource.h>
#  include <time.h>
#  include <unistd.h>
#  if defined(__GLIBC__)
#    include <gnu/libc-version.h>
#    include <malloc.h>
#  endif
#endif

uint64_t bench_now_ns(void) {
#if defined(_WIN32)
  static LARGE_INTEGER freq;
  LARGE_INTEGER now;
  if (freq.QuadPart == 0)
    QueryPerformanceFrequency(&freq);
  QueryPerformanceCounter(&now);
  return (uint64_t)((double)now.QuadPart * 1e9 / (double)freq.QuadPart);
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

uint64_t bench_thread_cpu_ns(void) {
#if defined(_WIN32)
  FILETIME created, exited, kernel, user; /* 100-ns units */
  if (!GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user))
    return 0;
  uint64_t k = ((uint64_t)kernel.dwHighDateTime << 32) | kernel.dwLowDateTime;
  uint64_t u = ((uint64_t)user.dwHighDateTime << 32) | user.dwLowDateTime;
  return (k + u) * 100;
#else
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

void bench_sleep_ms(unsigned ms) {
#if defined(_WIN32)
  Sleep(ms);
#else
  struct timespec ts = {.tv_sec = ms / 1000,
                        .tv_nsec = (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0)
    continue; /* interrupted: sleep the rest */
#endif
}

void bench_yield(void) {
#if defined(_WIN32)
  SwitchToThread();
#else
  sched_yield();
#endif
}

struct bench_thread {
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
  struct bench_thread* t = p;
  t->fn(t->arg);
  return 0;
}
#else
static void* thread_main(void* p) {
  struct bench_thread* t = p;
  t->fn(t->arg);
  return NULL;
}
#endif

bench_thread_t* bench_thread_start(void (*fn)(void*), void* arg) {
  struct bench_thread* t = malloc(sizeof *t);
  if (t == NULL)
    return NULL;
  t->fn = fn;
  t->arg = arg;
#if defined(_WIN32)
  t->handle = CreateThread(NULL, 0, thread_main, t, 0, NULL);
  if (t->handle == NULL) {
#else
  if (pthread_create(&t->handle, NULL, thread_main, t) != 0) {
#endif
    free(t);
    return NULL;
  }
  return t;
}

void bench_thread_join(bench_thread_t* t) {
#if defined(_WIN32)
  WaitForSingleObject(t->handle, INFINITE);
  CloseHandle(t->handle);
#else
  pthread_join(t->handle, NULL);
#endif
  free(t);
}

size_t bench_rss(void) {
#if defined(_WIN32)
  PROCESS_MEMORY_COUNTERS pmc;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
    return 0;
  return pmc.WorkingSetSize;
#elif defined(__linux__)
  /* Resident pages less the file-backed ones: the anonymous memory the
   * allocators hold, without the code pages that an allocator's first
   * calls fault in (those would be charged to whichever runs first). */
  FILE* f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0, shared = 0;
  if (f == NULL)
    return 0;
  int got = fscanf(f, "%lu %lu %lu", &size, &resident, &shared);
  fclose(f);
  return got == 3 && resident >= shared
             ? (size_t)(resident - shared) * (size_t)sysconf(_SC_PAGESIZE)
             : 0;
#else
  return 0;
#endif
}

uint64_t bench_page_faults(void) {
#if defined(_WIN32)
  PROCESS_MEMORY_COUNTERS pmc;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
    return UINT64_MAX;
  return pmc.PageFaultCount;
#else
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0)
    return UINT64_MAX;
  return (uint64_t)u.ru_minflt + (uint64_t)u.ru_majflt;
#endif
}

const char* bench_rss_source(void) {
#if defined(_WIN32)
  return "GetProcessMemoryInfo WorkingSetSize";
#elif defined(__linux__)
  return "/proc/self/statm resident - shared";
#else
  return "n/a";
#endif
}

/* Microseconds a first touch of a fresh anonymous page took (fault,
 * zeroing), over one 4 MiB mapping; 0 if unknown.  The virtual machines
 * here have states in which it takes 10-14 us (seen on 2026-12-05), and
 * every workload that touches new pages slows with it. */
double bench_fault_us(void) {
  enum { BYTES = 4 << 20 };
#if defined(_WIN32)
  char* p = VirtualAlloc(NULL, BYTES, MEM_RESERVE | MEM_COMMIT,
                         PAGE_READWRITE);
  size_t page = 4096;
#else
  char* p = mmap(NULL, BYTES, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    p = NULL;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
#endif
  if (p == NULL)
    return 0;
  uint64_t t0 = bench_now_ns();
  for (size_t i = 0; i < BYTES; i += page)
    ((volatile char*)p)[i] = 1;
  double us = (double)(bench_now_ns() - t0) / 1000.0 / (double)(BYTES / page);
#if defined(_WIN32)
  VirtualFree(p, 0, MEM_RELEASE);
#else
  munmap(p, BYTES);
#endif
  return us;
}

void bench_cpu_model(char* buf, size_t size) {
  snprintf(buf, size, "unknown");
#if defined(__linux__)
  FILE* f = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    char* colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
      colon += 1 + (colon[1] == ' ');
      colon[strcspn(colon, "\n")] = '\0';
      snprintf(buf, size, "%s", colon);
      break;
    }
  }
  if (f != NULL)
    fclose(f);
#elif defined(_WIN32)
  const char* id = getenv("PROCESSOR_IDENTIFIER");
  if (id != NULL)
    snprintf(buf, size, "%s", id);
#endif
}

unsigned bench_cpu_count(void) {
#if defined(_WIN32)
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return (unsigned)si.dwNumberOfProcessors;
#else
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
#endif
}

/* The CPUs the process could run on when first asked (Linux): cpus[k]
 * is the k-th; n_cpus 0 until then, -1 if unknown. */
#if defined(__linux__)
static int cpus[CPU_SETSIZE];
static int n_cpus;
static cpu_set_t cpus_all;
#endif

unsigned bench_pin_choices(void) {
#if defined(__linux__)
  if (n_cpus == 0) {
    n_cpus = -1;
    if (sched_getaffinity(0, sizeof cpus_all, &cpus_all) == 0) {
      n_cpus = 0;
      for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &cpus_all))
          cpus[n_cpus++] = c;
    }
  }
  return n_cpus > 0 ? (unsigned)n_cpus : 0;
#else
  return 0;
#endif
}

int bench_pin(int k) {
#if defined(__linux__)
  if (bench_pin_choices() == 0)
    return -1;
  if (k < 0) {
    sched_setaffinity(0, sizeof cpus_all, &cpus_all);
    return -1;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpus[k % n_cpus], &one);
  return sched_setaffinity(0, sizeof one, &one) == 0 ? cpus[k % n_cpus] : -1;
#else
  (void)k;
  return -1;
#endif
}

const char* bench_libc_name(void) {
#if defined(_WIN32)
  return "msvcrt (mingw-w64)";
#elif defined(__GLIBC__)
  static char name[32];
  snprintf(name, sizeof name, "glibc %s", gnu_get_libc_version());
  return name;
#else
  return "libc";
#endif
}

bool bench_on_wine(void) {
#if defined(_WIN32)
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
#else
  return false;
#endif
}

void bench_libc_trim(void) {
#if defined(_WIN32)
  _heapmin();
#elif defined(__GLIBC__)
  malloc_trim(0);
#endif
}

void* bench_lib_open(const char* const* names, const char** loaded,
                     const char** why) {
  *why = "not installed";
#if defined(_WIN32)
  (void)names;
  (void)loaded;
  *why = "n/a on Windows";
  return NULL;
#else
  for (; *names != NULL; names++) {
    void* lib = dlopen(*names, RTLD_NOW | RTLD_LOCAL);
    if (lib != NULL) {
      *loaded = *names;
      return lib;
    }
    const char* err = dlerror();
    if (err != NULL && strstr(err, "No such file") == NULL) {
      static char last[512];
      snprintf(last, sizeof last, "%s", err);
      *why = last;
    }
  }
  return NULL;
#endif
}

void* bench_lib_sym(void* lib, const char* name) {
#if defined(_WIN32)
  (void)lib;
  (void)name;
  return NULL;
#else
  return dlsym(lib, name);
#endif
}

#define BENCH_TLS_TUNABLE "glibc.rtld.optional_static_tls=65536"

void bench_retry_with_static_tls(const char* why, char** argv) {
#if defined(__linux__) && defined(__GLIBC__)
  const char* tunables = getenv("GLIBC_TUNABLES");
  if (strstr(why, "static TLS") == NULL ||
      (tunables != NULL && strstr(tunables, "optional_static_tls") != NULL))
    return;
  static char value[1024];
  if (tunables != NULL && tunables[0] != '\0')
    snprintf(value, sizeof value, "%s:%s", tunables, BENCH_TLS_TUNABLE);
  else
    snprintf(value, sizeof value, "%s", BENCH_TLS_TUNABLE);
  setenv("GLIBC_TUNABLES", value, 1);
  fflush(stdout);
  execv("/proc/self/exe", argv);
  /* If exec failed, carry on without jemalloc. */
#else
  (void)why;
  (void)argv;
#endif
}
