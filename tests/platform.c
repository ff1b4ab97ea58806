/*
 * platform.c - the only file of the suite that knows which system it is
 * on: Wine detection, threads, the seed.
 */
#include "suites.h"

#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#  include <windows.h>
#else
#  include <pthread.h>
#  include <sched.h>
#endif

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
    printf("SKIP %s on the %s backend: %s\n", name, ph_backend(), why);
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
