/*
 * dlopen.c - load the installed libportheap.so.0 at run time, as a plugin
 * host or a Python extension does, in a process that has no static TLS
 * left, and use it from the main thread and from a thread started after
 * the load.  tests/installcheck.sh builds and runs it (POSIX only).
 *
 *   dlopen LIBRARY [FILLER...]
 *
 * Each FILLER is a shared object holding an initial-exec thread-local
 * array (a multiple of 16 bytes, aligned to 16) and its size in the
 * variable `fill_bytes`, given largest first, halving down to 16: the
 * program dlopens every one that fits, so that less than 16 bytes of the
 * C library's static TLS surplus remain, fewer than the library's own
 * thread-locals need.  A library that needs static TLS (DF_STATIC_TLS)
 * then fails to load with "cannot allocate memory in static TLS block".
 *
 * It uses the library from the main thread, from a thread started before
 * the dlopen (the loader sets up the library's thread-locals in threads
 * already running) and from one started after.  Prints "OK" and exits 0
 * on success; exits 1 with the reason otherwise.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The entry points used, as src/portheap.h declares them. */
struct api {
  void* (*process_heap)(void);
  void* (*heap_create)(uint32_t options, size_t initial, size_t maximum);
  void* (*heap_alloc)(void* heap, uint32_t flags, size_t size);
  int (*heap_free)(void* heap, uint32_t flags, void* block);
  int (*heap_destroy)(void* heap);
  uint32_t (*get_last_error)(void);
  void (*set_last_error)(uint32_t code);
};

static struct api ph;

/* Take static TLS with every filler that fits; the bytes taken.  A filler
 * tells its size in `fill_bytes`. */
static size_t fill_static_tls(int n, char** fillers) {
  size_t taken = 0;
  for (int i = 0; i < n; i++) {
    void* filler = dlopen(fillers[i], RTLD_NOW | RTLD_LOCAL);
    if (filler == NULL)
      continue; /* no room for this one: try the smaller ones */
    const unsigned long* bytes = dlsym(filler, "fill_bytes");
    taken += bytes != NULL ? *bytes : 0;
  }
  return taken;
}

/* Look `name` up in lib; NULL (reported) if absent. */
static void* need(void* lib, const char* name) {
  void* sym = dlsym(lib, name);
  if (sym == NULL)
    fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
  return sym;
}

/* Function pointers from dlsym: POSIX guarantees the conversion. */
#define NEED(field, name) (*(void**)&ph.field = need(lib, name)) != NULL

static int look_up(void* lib) {
  return NEED(process_heap, "ph_process_heap") &&
         NEED(heap_create, "ph_heap_create") &&
         NEED(heap_alloc, "ph_heap_alloc") && NEED(heap_free, "ph_heap_free") &&
         NEED(heap_destroy, "ph_heap_destroy") &&
         NEED(get_last_error, "ph_get_last_error") &&
         NEED(set_last_error, "ph_set_last_error");
}

/* Blocks of many sizes on a private heap and on the process heap, and the
 * thread's last error (a thread-local too); NULL on success. */
static void* use(void* arg) {
  uint32_t mark = (uint32_t)(uintptr_t)arg;
  void* heap = ph.heap_create(0, 0, 0);
  void* proc = ph.process_heap();
  if (heap == NULL || proc == NULL)
    return "no heap";
  char* blocks[64];
  for (int i = 0; i < 64; i++) {
    blocks[i] = ph.heap_alloc(i % 2 ? heap : proc, 0, (size_t)i * 24 + 1);
    if (blocks[i] == NULL)
      return "ph_heap_alloc failed";
    memset(blocks[i], i, (size_t)i * 24 + 1);
  }
  for (int i = 0; i < 64; i++)
    if (blocks[i][i * 24] != (char)i ||
        !ph.heap_free(i % 2 ? heap : proc, 0, blocks[i]))
      return "a block changed, or ph_heap_free failed";
  ph.set_last_error(mark);
  if (ph.get_last_error() != mark)
    return "the last error is not the thread's own";
  return ph.heap_destroy(heap) ? NULL : "ph_heap_destroy failed";
}

/* A thread started before the dlopen: it waits until the library is
 * loaded and looked up, then uses it (the loader set up the library's
 * thread-locals in the threads already running). */
static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loaded_cond = PTHREAD_COND_INITIALIZER;
static int loaded; /* under loaded_lock: 1 loaded, -1 failed */

static void* early(void* arg) {
  pthread_mutex_lock(&loaded_lock);
  while (loaded == 0)
    pthread_cond_wait(&loaded_cond, &loaded_lock);
  int ok = loaded > 0;
  pthread_mutex_unlock(&loaded_lock);
  return ok ? use(arg) : NULL;
}

static void set_loaded(int value) {
  pthread_mutex_lock(&loaded_lock);
  loaded = value;
  pthread_cond_broadcast(&loaded_cond);
  pthread_mutex_unlock(&loaded_lock);
}

/* use() in the main thread, then in a thread started after the dlopen
 * (its thread-locals are allocated then); NULL on success. */
static const char* use_in_two_threads(void) {
  const char* err = use((void*)(uintptr_t)0x1234);
  if (err != NULL)
    return err;
  pthread_t t;
  void* thread_err;
  if (pthread_create(&t, NULL, use, (void*)(uintptr_t)0x5678) != 0)
    return "pthread_create failed";
  pthread_join(t, &thread_err);
  if (thread_err != NULL)
    return thread_err;
  if (ph.get_last_error() != 0x1234)
    return "the thread changed the main thread's last error";
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: dlopen LIBRARY [FILLER...]\n");
    return 2;
  }
  size_t taken = fill_static_tls(argc - 2, argv + 2);
  printf("static TLS taken by the fillers: %zu bytes\n", taken);
  fflush(stdout); /* before any error on stderr */
  pthread_t before;
  if (pthread_create(&before, NULL, early, (void*)(uintptr_t)0x9abc) != 0) {
    fprintf(stderr, "pthread_create failed\n");
    return 1;
  }
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL || !look_up(lib)) {
    if (lib == NULL)
      fprintf(stderr, "dlopen: %s\n", dlerror());
    set_loaded(-1);
    pthread_join(before, NULL);
    return 1;
  }
  set_loaded(1);
  const char* err = use_in_two_threads();
  void* before_err;
  pthread_join(before, &before_err);
  if (err == NULL && before_err != NULL)
    err = before_err;
  if (err != NULL) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  printf("OK\n");
  return 0;
}
