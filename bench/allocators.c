/*
 * allocators.c - the allocators compared, behind struct bench_allocator:
 *
 *   ph     portheap's ph_heap_* on a private heap (ph_heap_create(0, 0, 0):
 *          serialized, growable), linked statically
 *   glibc  malloc/free of the C library ("crt" on Windows: msvcrt's)
 *   mi     mimalloc first-class heaps (mi_heap_new, mi_heap_malloc, mi_free,
 *          mi_heap_destroy); thread-bound, so no heap shared by threads
 *   je     jemalloc arenas (arenas.create, mallocx/dallocx with
 *          MALLOCX_ARENA, arena.<i>.destroy); a private heap also gets an
 *          explicit tcache (tcache.create, destroyed before the arena); an
 *          arena used by several threads goes without (MALLOCX_TCACHE_NONE),
 *          as explicit tcaches are single-threaded
 *
 * For the memory workload each also names its process-wide heap and how a
 * live heap gives its free memory back (heap_default, heap_compact).
 *
 * mimalloc and jemalloc are loaded with dlopen(RTLD_LOCAL) and called
 * through dlsym: Debian's shared builds define malloc, and linking them
 * would replace the glibc baseline.
 */
#include "config.h"

#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- portheap ------------------------------------------------------------ */

static void* ph_new(enum bench_mode mode) {
  (void)mode;
  return ph_heap_create(0, 0, 0);
}
static void ph_destroy(void* heap) {
  if (!ph_heap_destroy(heap)) {
    fprintf(stderr, "bench: ph_heap_destroy failed: %s\n",
            ph_error_name(ph_get_last_error()));
    exit(1);
  }
}
static void* ph_alloc(void* heap, size_t size) {
  return ph_heap_alloc(heap, 0, size);
}
static void* ph_resize(void* heap, void* block, size_t size) {
  return ph_heap_realloc(heap, 0, block, size);
}
static void ph_release(void* heap, void* block) {
  ph_heap_free(heap, 0, block);
}
static void* ph_default(void) {
  return ph_process_heap();
}
static void ph_compact(void* heap) {
  ph_heap_compact(heap, 0);
}
static void ph_trim(void) {
  ph_region_cache_limit(ph_region_cache_limit(0)); /* empty the cache */
}
static void* ph_everyday(size_t size, bool zero) {
  return ph_heap_alloc(ph_process_heap(), zero ? PH_HEAP_ZERO_MEMORY : 0,
                       size);
}
static void ph_everyday_free(void* block) {
  ph_heap_free(ph_process_heap(), 0, block);
}

/* ---- the C library ------------------------------------------------------- */

static void* libc_new(enum bench_mode mode) {
  (void)mode;
  return (void*)1; /* one process-wide heap: any non-NULL token */
}
static void libc_end(void* heap) {
  (void)heap;
}
static void* libc_default(void) {
  return (void*)1;
}
static void libc_compact(void* heap) {
  (void)heap;
  bench_libc_trim(); /* malloc_trim(0), _heapmin() */
}
static void* libc_everyday(size_t size, bool zero) {
  return zero ? calloc(1, size) : malloc(size);
}
static void* libc_alloc(void* heap, size_t size) {
  (void)heap;
  return malloc(size);
}
static void* libc_resize(void* heap, void* block, size_t size) {
  (void)heap;
  return realloc(block, size);
}
static void libc_release(void* heap, void* block) {
  (void)heap;
  free(block);
}

/* ---- mimalloc ------------------------------------------------------------- */

static struct {
  void* (*heap_new)(void);
  void (*heap_destroy)(void*);
  void (*heap_delete)(void*);
  void* (*heap_malloc)(void*, size_t);
  void* (*heap_realloc)(void*, void*, size_t);
  void (*free)(void*);
  void (*collect)(bool);
  void (*heap_collect)(void*, bool);
  void* (*heap_get_default)(void);
  void* (*malloc)(size_t);
  void* (*zalloc)(size_t);
  int (*version)(void);
} mi;

static void* mi_new(enum bench_mode mode) {
  return mode == BENCH_SHARED ? NULL : mi.heap_new();
}
static void mi_destroy(void* heap) {
  mi.heap_destroy(heap);
}
static void mi_end(void* heap) {
  mi.heap_delete(heap);
}
static void* mi_alloc(void* heap, size_t size) {
  return mi.heap_malloc(heap, size);
}
static void* mi_resize(void* heap, void* block, size_t size) {
  return mi.heap_realloc(heap, block, size);
}
static void mi_release(void* heap, void* block) {
  (void)heap;
  mi.free(block);
}
static void* mi_default(void) {
  return mi.heap_get_default();
}
static void mi_compact(void* heap) {
  mi.heap_collect(heap, true);
}
static void mi_trim(void) {
  mi.collect(true);
}
static void* mi_everyday(size_t size, bool zero) {
  return zero ? mi.zalloc(size) : mi.malloc(size);
}

#define SYM(lib, table, field, name)                                          \
  ((table).field = (__typeof__((table).field))bench_lib_sym(lib, name)) != NULL

static const char* mi_load(void) {
  static const char* const names[] = {"libmimalloc.so.2", "libmimalloc.so",
                                      NULL};
  static char about[200];
  const char *loaded = NULL, *why;
  void* lib = bench_lib_open(names, &loaded, &why);
  if (lib == NULL)
    return why;
  if (!(SYM(lib, mi, heap_new, "mi_heap_new") &&
        SYM(lib, mi, heap_destroy, "mi_heap_destroy") &&
        SYM(lib, mi, heap_delete, "mi_heap_delete") &&
        SYM(lib, mi, heap_malloc, "mi_heap_malloc") &&
        SYM(lib, mi, heap_realloc, "mi_heap_realloc") &&
        SYM(lib, mi, free, "mi_free") && SYM(lib, mi, collect, "mi_collect") &&
        SYM(lib, mi, heap_collect, "mi_heap_collect") &&
        SYM(lib, mi, heap_get_default, "mi_heap_get_default") &&
        SYM(lib, mi, malloc, "mi_malloc") && SYM(lib, mi, zalloc, "mi_zalloc") &&
        SYM(lib, mi, version, "mi_version")))
    return "missing symbols";
  int v = mi.version();
  snprintf(about, sizeof about, "%s (mimalloc %d.%d.%d), mi_heap_new per heap",
           loaded, v / 100, v / 10 % 10, v % 10);
  return about;
}

/* ---- jemalloc ------------------------------------------------------------- */

#define JE_ARENA(a) ((((int)(a)) + 1) << 20)  /* MALLOCX_ARENA */
#define JE_TCACHE(t) ((int)(((t) + 2) << 8))   /* MALLOCX_TCACHE */
#define JE_TCACHE_NONE JE_TCACHE(-1)           /* MALLOCX_TCACHE_NONE */
#define JE_ARENAS_ALL 4096u                    /* MALLCTL_ARENAS_ALL */
#define JE_ZERO 0x40                           /* MALLOCX_ZERO */

static struct {
  int (*mallctl)(const char*, void*, size_t*, void*, size_t);
  void* (*mallocx)(size_t, int);
  void* (*rallocx)(void*, size_t, int);
  void (*dallocx)(void*, int);
} je;

struct je_heap {
  unsigned arena;
  unsigned tcache;
  bool has_tcache;
  int flags;
};

static void je_ctl(const char* name, void* out, size_t* out_size, void* in,
                   size_t in_size) {
  int err = je.mallctl(name, out, out_size, in, in_size);
  if (err != 0) {
    fprintf(stderr, "bench: jemalloc mallctl(\"%s\") failed: %d\n", name,
            err);
    exit(1);
  }
}

static void* je_new(enum bench_mode mode) {
  struct je_heap* h = malloc(sizeof *h);
  if (h == NULL)
    return NULL;
  size_t size = sizeof h->arena;
  je_ctl("arenas.create", &h->arena, &size, NULL, 0);
  h->has_tcache = mode == BENCH_PRIVATE;
  h->flags = JE_ARENA(h->arena) | JE_TCACHE_NONE;
  if (h->has_tcache) {
    size = sizeof h->tcache;
    je_ctl("tcache.create", &h->tcache, &size, NULL, 0);
    h->flags = JE_ARENA(h->arena) | JE_TCACHE(h->tcache);
  }
  return h;
}
/* mallctl "arena.<arena>.<op>" with no argument ("destroy", "purge"). */
static void je_arena_ctl(unsigned arena, const char* op) {
  char name[64];
  snprintf(name, sizeof name, "arena.%u.%s", arena, op);
  je_ctl(name, NULL, NULL, NULL, 0);
}
static void je_destroy(void* heap) {
  struct je_heap* h = heap;
  if (h->has_tcache)
    je_ctl("tcache.destroy", NULL, NULL, &h->tcache, sizeof h->tcache);
  je_arena_ctl(h->arena, "destroy");
  free(h);
}
static void* je_alloc(void* heap, size_t size) {
  return je.mallocx(size, ((struct je_heap*)heap)->flags);
}
static void* je_resize(void* heap, void* block, size_t size) {
  return je.rallocx(block, size, ((struct je_heap*)heap)->flags);
}
static void je_release(void* heap, void* block) {
  je.dallocx(block, ((struct je_heap*)heap)->flags);
}
/* The automatic arenas and the thread's tcache: flags 0. */
static void* je_default(void) {
  static struct je_heap automatic = {.flags = 0};
  return &automatic;
}
/* Hand the tcache's blocks back to the arena, then purge its free pages. */
static void je_compact(void* heap) {
  struct je_heap* h = heap;
  if (h->has_tcache)
    je_ctl("tcache.flush", NULL, NULL, &h->tcache, sizeof h->tcache);
  je_arena_ctl(h->arena, "purge");
}
static void je_trim(void) {
  je_arena_ctl(JE_ARENAS_ALL, "purge");
}
static void* je_everyday(size_t size, bool zero) {
  return je.mallocx(size, zero ? JE_ZERO : 0);
}
static void je_everyday_free(void* block) {
  je.dallocx(block, 0);
}

static const char* je_load(char** argv) {
  static const char* const names[] = {"libjemalloc.so.2", "libjemalloc.so",
                                      NULL};
  static char about[200];
  const char *loaded = NULL, *why;
  void* lib = bench_lib_open(names, &loaded, &why);
  if (lib == NULL) {
    bench_retry_with_static_tls(why, argv);
    return why;
  }
  if (!(SYM(lib, je, mallctl, "mallctl") && SYM(lib, je, mallocx, "mallocx") &&
        SYM(lib, je, rallocx, "rallocx") && SYM(lib, je, dallocx, "dallocx")))
    return "missing symbols";
  const char* version = "?";
  size_t size = sizeof version;
  je.mallctl("version", (void*)&version, &size, NULL, 0);
  snprintf(about, sizeof about,
           "%s (jemalloc %.20s), arenas.create per heap", loaded, version);
  return about;
}

/* ---- the table ------------------------------------------------------------- */

void bench_allocators_init(struct bench_allocator all[BENCH_ALLOCATORS],
                           char** argv) {
  static char ph_about[120], libc_about[120];
  snprintf(ph_about, sizeof ph_about,
           "portheap %s, backend %s, ph_heap_create(0, 0, 0) per heap",
           ph_version(), ph_backend());
  all[BENCH_PH] = (struct bench_allocator){
      .id = BENCH_PH,
      .name = "ph",
      .about = ph_about,
      .heap_new = ph_new,
      .heap_destroy = ph_destroy,
      .heap_end = ph_destroy,
      .heap_default = ph_default,
      .heap_compact = ph_compact,
      .alloc = ph_alloc,
      .resize = ph_resize,
      .release = ph_release,
      .trim = ph_trim,
      .everyday = ph_everyday,
      .everyday_free = ph_everyday_free,
      /* the native backend has no region cache */
      .cache_limit = strcmp(ph_backend(), "emul") == 0 ? ph_region_cache_limit
                                                       : NULL};

  snprintf(libc_about, sizeof libc_about, "malloc/realloc/free of %s",
           bench_libc_name());
  all[BENCH_LIBC] = (struct bench_allocator){
#if defined(_WIN32)
      .name = "crt",
#else
      .name = "glibc",
#endif
      .id = BENCH_LIBC,
      .about = libc_about,
      .heap_new = libc_new,
      .heap_end = libc_end,
      .heap_default = libc_default,
      .heap_compact = libc_compact,
      .alloc = libc_alloc,
      .resize = libc_resize,
      .release = libc_release,
      .trim = bench_libc_trim,
      .everyday = libc_everyday,
      .everyday_free = free};

  const char* about = mi_load();
  all[BENCH_MI] = (struct bench_allocator){
      .id = BENCH_MI,
      .name = "mi",
      .absent = mi.version != NULL ? NULL : about,
      .about = about,
      .heap_new = mi_new,
      .heap_destroy = mi_destroy,
      .heap_end = mi_end,
      .heap_default = mi_default,
      .heap_compact = mi_compact,
      .alloc = mi_alloc,
      .resize = mi_resize,
      .release = mi_release,
      .trim = mi_trim,
      .everyday = mi_everyday,
      .everyday_free = mi.free};

  about = je_load(argv);
  all[BENCH_JE] = (struct bench_allocator){
      .id = BENCH_JE,
      .name = "je",
      .absent = je.dallocx != NULL ? NULL : about,
      .about = about,
      .heap_new = je_new,
      .heap_destroy = je_destroy,
      .heap_end = je_destroy,
      .heap_default = je_default,
      .heap_compact = je_compact,
      .alloc = je_alloc,
      .resize = je_resize,
      .release = je_release,
      .trim = je_trim,
      .everyday = je_everyday,
      .everyday_free = je_everyday_free};
}

void bench_heap_drop(const struct bench_allocator* a, void* heap,
                     void** blocks, size_t count) {
  if (a->heap_destroy != NULL) {
    a->heap_destroy(heap);
    return;
  }
  for (size_t i = 0; i < count; i++)
    if (blocks[i] != NULL)
      a->release(heap, blocks[i]);
  a->heap_end(heap);
}
