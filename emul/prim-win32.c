/*
 * prim-win32.c - prim.h on Windows: VirtualAlloc/VirtualFree for memory,
 * BCryptGenRandom (bcrypt.dll, -lbcrypt) for random bytes.
 * Built only for the emulated backend on a Windows host, so the engine can
 * be tested against the native heap in one build tree under Wine.
 */
#if defined(_WIN32)
#  include "prim.h"

#  include <stdlib.h>
#  include <string.h>
#  include <windows.h>

#  include <bcrypt.h>

static uint32_t error_from_system(void) {
  DWORD e = GetLastError();
  return e == ERROR_NOT_ENOUGH_MEMORY || e == ERROR_COMMITMENT_LIMIT
             ? ERROR_NOT_ENOUGH_MEMORY
             : (uint32_t)e;
}

bool ph__prim_readable(const void* p) {
  MEMORY_BASIC_INFORMATION info;
  if (VirtualQuery(p, &info, sizeof info) == 0 || info.State != MEM_COMMIT)
    return false;
  return (info.Protect & (PAGE_NOACCESS | PAGE_GUARD)) == 0;
}

size_t ph__prim_page_size(void) {
  static size_t page;
  if (page == 0) {
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    page = info.dwPageSize;
  }
  return page;
}

void* ph__prim_reserve(size_t size, size_t align) {
  /* Reservations are aligned to the 64 KiB allocation granularity; for a
   * larger alignment, reserve more and retry at an aligned address. */
  for (int attempt = 0; attempt < 8; attempt++) {
    char* p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_NOACCESS);
    if (p == NULL)
      return NULL;
    if (((uintptr_t)p & (align - 1)) == 0)
      return p;
    VirtualFree(p, 0, MEM_RELEASE);
    p = VirtualAlloc(NULL, size + align, MEM_RESERVE, PAGE_NOACCESS);
    if (p == NULL)
      return NULL;
    uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    VirtualFree(p, 0, MEM_RELEASE);
    p = VirtualAlloc((void*)start, size, MEM_RESERVE, PAGE_NOACCESS);
    if (p != NULL)
      return p;
  }
  return NULL;
}

uint32_t ph__prim_commit(void* addr, size_t size, bool exec) {
  DWORD prot = exec ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
  if (VirtualAlloc(addr, size, MEM_COMMIT, prot) == NULL)
    return error_from_system();
  return 0;
}

uint32_t ph__prim_decommit(void* addr, size_t size) {
  if (!VirtualFree(addr, size, MEM_DECOMMIT))
    return error_from_system();
  return 0;
}

uint32_t ph__prim_purge(void* addr, size_t size) {
  /* MEM_RESET: the contents may be discarded, the pages stay committed
   * (never a decommit that a failed recommit could leave behind); unlocking
   * pages that are not locked takes them out of the working set now. */
  if (VirtualAlloc(addr, size, MEM_RESET, PAGE_NOACCESS) == NULL)
    return error_from_system();
  VirtualUnlock(addr, size); /* fails with ERROR_NOT_LOCKED: expected */
  return 0;
}

void ph__prim_release(void* addr, size_t size) {
  (void)size;
  VirtualFree(addr, 0, MEM_RELEASE);
}

uint32_t ph__prim_remap(void* from, size_t size, void* to) {
  (void)from; /* Windows cannot move pages between reservations */
  (void)size;
  (void)to;
  return ERROR_NOT_SUPPORTED;
}

void ph__prim_yield(void) {
  SwitchToThread();
}

/* A parking lot on slim reader/writer locks and condition variables (in
 * every Windows since Vista, and in Wine): words hash to one of PARK_SLOTS
 * slots; a waiter re-reads the word under the slot's lock and a waker takes
 * it after changing the word, so no wake is lost. */
#  define PARK_SLOTS 64u
static struct park {
  SRWLOCK lock;
  CONDITION_VARIABLE cond;
} parks[PARK_SLOTS]; /* zero is the initial state of both */

static struct park* park_of(const atomic_uint* word) {
  return &parks[((uintptr_t)word >> 4) % PARK_SLOTS];
}

void ph__prim_wait(atomic_uint* word, unsigned expected) {
  struct park* p = park_of(word);
  AcquireSRWLockExclusive(&p->lock);
  if (atomic_load(word) == expected)
    SleepConditionVariableSRW(&p->cond, &p->lock, INFINITE, 0);
  ReleaseSRWLockExclusive(&p->lock);
}

void ph__prim_wake(atomic_uint* word, bool all) {
  (void)all;
  struct park* p = park_of(word);
  AcquireSRWLockExclusive(&p->lock);
  WakeAllConditionVariable(&p->cond);
  ReleaseSRWLockExclusive(&p->lock);
}

/* Not under Wine: up to Wine 8 its NtFlushProcessWriteBuffers is a stub
 * that fences nothing (wine-devel patches of 2022-2024 implement it). */
bool ph__prim_fence_all_init(void) {
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") == NULL;
}

bool ph__prim_fence_all(void) {
  FlushProcessWriteBuffers();
  return true;
}

/* A fiber-local slot whose callback runs as a thread exits (with the value
 * set), freed when the library is unloaded: FlsFree then runs the callback
 * for every thread's value, so the function is forgotten first. */
static DWORD exit_slot = FLS_OUT_OF_INDEXES;
static INIT_ONCE exit_once = INIT_ONCE_STATIC_INIT;
static void (*volatile exit_fn)(void);

static void WINAPI exit_run(void* value) {
  void (*fn)(void) = exit_fn;
  if (value != NULL && fn != NULL)
    fn();
}

__attribute__((destructor)) static void exit_slot_drop(void) {
  exit_fn = NULL;
  if (exit_slot != FLS_OUT_OF_INDEXES)
    FlsFree(exit_slot);
}

static BOOL CALLBACK exit_slot_make(INIT_ONCE* once, void* arg, void** ctx) {
  (void)once;
  (void)arg;
  (void)ctx;
  exit_slot = FlsAlloc(exit_run);
  return TRUE;
}

bool ph__prim_on_thread_exit(void (*fn)(void)) {
  exit_fn = fn;
  InitOnceExecuteOnce(&exit_once, exit_slot_make, NULL, NULL);
  return exit_slot != FLS_OUT_OF_INDEXES && FlsSetValue(exit_slot, (void*)1);
}

void ph__prim_atfork(void (*prepare)(void), void (*parent)(void),
                     void (*child)(void)) {
  (void)prepare;
  (void)parent;
  (void)child;
}

bool ph__prim_random_bytes(void* buf, size_t size) {
  unsigned char* p = buf;
  while (size > 0) { /* ULONG counts: at most 1 GiB a call */
    ULONG n = size > 0x40000000u ? 0x40000000u : (ULONG)size;
    if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, n,
                                        BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
      return false;
    p += n;
    size -= n;
  }
  return true;
}

uint64_t ph__prim_random(void) {
  static volatile LONG64 calls;
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  uint64_t x = (uint64_t)t.QuadPart ^ ((uint64_t)GetCurrentProcessId() << 32);
  x ^= (uint64_t)(uintptr_t)&t ^ (uint64_t)InterlockedIncrement64(&calls) *
                                      0xD1B54A32D192ED03ull;
  return ph__prim_mix64(x);
}

uint64_t ph__prim_now_ms(void) {
  return GetTickCount64();
}

const char* ph__prim_getenv(const char* name) {
  return getenv(name);
}

void ph__prim_write_error(const char* message) {
  DWORD written;
  HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
  if (err != NULL && err != INVALID_HANDLE_VALUE)
    WriteFile(err, message, (DWORD)strlen(message), &written, NULL);
}

_Noreturn void ph__prim_abort(void) {
  abort();
}
#endif /* _WIN32 */
