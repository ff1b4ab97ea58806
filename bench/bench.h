/*
 * bench.h - the benchmark's pieces: allocators behind one interface, the
 * workloads, the seeded generator, and the few platform calls (platform.c,
 * the only file that includes OS headers).
 *
 * One program times every allocator in one process, interleaved (each
 * repetition runs all allocators, in a rotated order) and repeated; bench.c
 * prints medians.  Not a test: nothing here fails a build.
 */
#ifndef PH_BENCH_H
#define PH_BENCH_H

#if defined(_WIN32) && !defined(__USE_MINGW_ANSI_STDIO)
#  define __USE_MINGW_ANSI_STDIO 1 /* %zu and %llu in printf */
#endif

#include <portheap.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- allocators (allocators.c) ------------------------------------------ */

/* How a heap will be used; some allocators cannot do every mode. */
enum bench_mode {
  BENCH_PRIVATE, /* one thread allocates and frees */
  BENCH_SHARED,  /* several threads allocate and free */
  BENCH_XFREE    /* one thread allocates, another frees */
};

struct bench_allocator {
  int id;             /* BENCH_PH, ... */
  const char* name;   /* column label: ph, glibc (crt on Windows), mi, je */
  const char* absent; /* NULL if usable, else why not ("not installed") */
  const char* about;  /* what it is: library and version, one line */
  /* A new heap used as `mode` says, created in the thread that allocates
   * from it; NULL if the allocator cannot serve that mode. */
  void* (*heap_new)(enum bench_mode mode);
  /* Free every block and the heap in one call; NULL: no such call (the
   * workload frees block by block, then calls heap_end). */
  void (*heap_destroy)(void* heap);
  void (*heap_end)(void* heap); /* after every block was freed */
  /* The process-wide heap (ph_process_heap, malloc's, mimalloc's default
   * heap, jemalloc's automatic arenas): for calls once a heap is gone. */
  void* (*heap_default)(void);
  /* Give the free memory of a live heap back (ph_heap_compact,
   * malloc_trim(0), mi_heap_collect(force), jemalloc arena purge). */
  void (*heap_compact)(void* heap);
  void* (*alloc)(void* heap, size_t size);
  void* (*resize)(void* heap, void* block, size_t size);
  void (*release)(void* heap, void* block);
  void (*trim)(void); /* give free memory back before measuring RSS */
  /* The allocator's everyday call on its default heap, as programs write
   * it: HeapAlloc(GetProcessHeap(), 0 or HEAP_ZERO_MEMORY, size) for ph,
   * malloc or calloc, mi_malloc or mi_zalloc, mallocx(size, 0 or
   * MALLOCX_ZERO); and its free. */
  void* (*everyday)(size_t size, bool zero);
  void (*everyday_free)(void* block);
  /* ph_region_cache_limit for ph; NULL for the others. */
  size_t (*cache_limit)(size_t limit);
};

enum { BENCH_PH, BENCH_LIBC, BENCH_MI, BENCH_JE, BENCH_ALLOCATORS };

/* Fill `all` (indexed by the enum above), loading mimalloc and jemalloc
 * if they are installed.  Prints nothing; may re-run the program once
 * (bench_retry_with_static_tls), so call it before printing. */
void bench_allocators_init(struct bench_allocator all[BENCH_ALLOCATORS],
                           char** argv);

/* Block-by-block end of a heap holding `count` blocks (NULL entries
 * skipped): destroy in one call if the allocator can, else free each. */
void bench_heap_drop(const struct bench_allocator* a, void* heap,
                     void** blocks, size_t count);

/* ---- workloads ----------------------------------------------------------- */

struct bench_params {
  uint64_t seed;
  unsigned scale_div; /* 1 full, 10 --quick */
  int threads;        /* threads of the workload being run (its table row
                         says; 0 where it has no such count) */
};

/* What one run of one workload on one allocator measured. */
/* hot-N: a thread's first pairs, its start, timed apart (by then it has
 * freed about every one of its 256 live blocks once: 1 - e^(-4000/256)). */
#define BENCH_HOT_START 4000

struct bench_run {
  bool na;           /* allocator cannot run this workload */
  double ns;         /* wall time of the timed part */
  uint64_t ops;      /* operations in the timed part */
  double resident;   /* overhead: resident bytes per block (0: unknown) */
  double committed;  /* overhead, ph: cbCommitted per block (0: unknown) */
  double payload;    /* overhead: requested bytes per block, on average */
  uint64_t errors;   /* blocks found with a wrong tag: engine bug */
  uint64_t xfrees;   /* frees of a block another thread allocated */
  double shared;     /* cache-scratch: share of the threads whose first
                        object was in a 64-B line with the first of
                        another thread running at the same time */
  double cpu_ns;     /* hot-N: its threads' CPU time in the timed part,
                        summed (0: unknown) */
  double start_ns;   /* hot-N: CPU a thread's start took beyond its later
                        rate (BENCH_HOT_START), mean over the
                        threads (0: unknown) */
};

typedef struct bench_run (*bench_fn)(const struct bench_allocator* a,
                                     const struct bench_params* p);

/* bench-churn.c */
struct bench_run bench_small_churn(const struct bench_allocator* a,
                                   const struct bench_params* p);
struct bench_run bench_medium_churn(const struct bench_allocator* a,
                                    const struct bench_params* p);
struct bench_run bench_realloc_growth(const struct bench_allocator* a,
                                      const struct bench_params* p);
struct bench_run bench_realloc_lone(const struct bench_allocator* a,
                                    const struct bench_params* p);
/* bench-destroy.c */
struct bench_run bench_destroy(const struct bench_allocator* a,
                               const struct bench_params* p);
struct bench_run bench_destroy_nocache(const struct bench_allocator* a,
                                       const struct bench_params* p);
struct bench_run bench_per_request(const struct bench_allocator* a,
                                   const struct bench_params* p);
/* bench-threads.c */
struct bench_run bench_threads_shared(const struct bench_allocator* a,
                                      const struct bench_params* p);
struct bench_run bench_threads_alone(const struct bench_allocator* a,
                                     const struct bench_params* p);
struct bench_run bench_threads_each(const struct bench_allocator* a,
                                    const struct bench_params* p);
struct bench_run bench_producer_consumer(const struct bench_allocator* a,
                                         const struct bench_params* p);
/* bench-scale.c: issue 16, on each allocator's default heap */
/* hot-N and cache-scratch-N: p->threads threads; hot-few: 32 blocks alive
 * per thread instead of 256; hot-same: 256 blocks all of 100 B */
struct bench_run bench_hot(const struct bench_allocator* a,
                           const struct bench_params* p);
struct bench_run bench_hot_few(const struct bench_allocator* a,
                               const struct bench_params* p);
struct bench_run bench_hot_same(const struct bench_allocator* a,
                                const struct bench_params* p);
/* hot-1's work through each allocator's everyday calls (HeapAlloc(
 * GetProcessHeap(), ...), malloc, ...), plain or zeroed. */
struct bench_run bench_everyday(const struct bench_allocator* a,
                                const struct bench_params* p);
struct bench_run bench_everyday_zero(const struct bench_allocator* a,
                                     const struct bench_params* p);
/* thread-churn: 1000 short-lived threads, two at a time */
struct bench_run bench_thread_churn(const struct bench_allocator* a,
                                    const struct bench_params* p);
struct bench_run bench_larson(const struct bench_allocator* a,
                              const struct bench_params* p);
struct bench_run bench_cache_scratch(const struct bench_allocator* a,
                                     const struct bench_params* p);
/* bench-overhead.c */
struct bench_run bench_overhead(const struct bench_allocator* a,
                                const struct bench_params* p);
struct bench_run bench_overhead_spread(const struct bench_allocator* a,
                                       const struct bench_params* p);

/* bench-memory.c: resident memory given back after each case. */
enum bench_memory_case {
  BENCH_MEM_DESTROY, /* fill ~100 MiB of small blocks, destroy the heap */
  BENCH_MEM_COMPACT, /* fill, free each block, compact */
  BENCH_MEM_HUGE,    /* one 100 MiB block, every page written, freed */
  BENCH_MEM_FREE,    /* fill, free each block, nothing else */
  BENCH_MEM_APART,   /* fill with 2-16 KiB blocks, free every other one */
  BENCH_MEM_CASES
};
struct bench_memory_about {
  const char* name;
  const char* what; /* one line */
  double goal_mib;  /* for ph: at most this much left at 2 s */
};
extern const struct bench_memory_about bench_memory_cases[BENCH_MEM_CASES];
/* What one case measured, in MiB of resident memory above the baseline
 * taken right before it. */
struct bench_memory {
  double filled_mib; /* when the blocks were live (case huge: the block) */
  double left_mib;   /* 2 s after the case */
  double under_ms;   /* first sample at or under the goal; < 0: none */
  double longest_ms; /* the longest light call after the case */
  uint64_t errors;   /* blocks found with a wrong tag: engine bug */
};
struct bench_memory bench_memory(const struct bench_allocator* a,
                                 enum bench_memory_case c,
                                 const struct bench_params* p);

/* ---- helpers shared by the workloads (bench.c) -------------------------- */

/* splitmix64: a fast generator; the same seed gives every allocator the
 * same sequence of sizes and slots. */
static inline uint64_t bench_rand(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* r's high 32 bits scaled to [0, n) without a division (n < 2^32). */
static inline size_t bench_below(uint64_t r, size_t n) {
  return (size_t)(((r >> 32) * (uint64_t)n) >> 32);
}

/* A value in [lo, hi]. */
static inline size_t bench_between(uint64_t* state, size_t lo, size_t hi) {
  return lo + bench_below(bench_rand(state), hi - lo + 1);
}

/* The tag written at the start of every block (8 bytes, all blocks are at
 * least that big) and checked when it is freed or resized. */
static inline uint64_t bench_tag(const void* block) {
  return (uint64_t)(uintptr_t)block * 0x9E3779B97F4A7C15ull ^ 0x5A5A5A5Aull;
}
static inline void bench_tag_set(void* block) {
  *(volatile uint64_t*)block = bench_tag(block);
}
/* 1 if the tag is wrong (the block was overwritten or moved badly). */
static inline unsigned bench_tag_bad(const void* block, const void* was) {
  return *(const volatile uint64_t*)block != bench_tag(was);
}

/* Allocation failed: print which and exit (an engine bug at these sizes). */
_Noreturn void bench_oom(const struct bench_allocator* a, const char* where,
                         size_t size);

/* Scaled count: n / p->scale_div, at least 1. */
size_t bench_scaled(const struct bench_params* p, size_t n);

/* ---- platform.c ----------------------------------------------------------- */

uint64_t bench_now_ns(void);      /* monotonic clock */
uint64_t bench_thread_cpu_ns(void); /* the calling thread's CPU time
                                       (user and system); 0: unknown */
void bench_sleep_ms(unsigned ms); /* at least ms milliseconds */
void bench_yield(void);           /* let the other thread run */
typedef struct bench_thread bench_thread_t;
bench_thread_t* bench_thread_start(void (*fn)(void*), void* arg);
void bench_thread_join(bench_thread_t* t);
size_t bench_rss(void);           /* resident bytes; 0 if unknown */
/* Page faults the process has taken so far (a fresh page's first touch
 * among them); UINT64_MAX if unknown. */
uint64_t bench_page_faults(void);
const char* bench_rss_source(void); /* how bench_rss measures, or "n/a" */
void bench_cpu_model(char* buf, size_t size);
unsigned bench_cpu_count(void);
/* The CPUs the calling thread may be pinned to (those the process could
 * run on when first asked: taskset narrows them); 0 if this platform
 * does not pin (only Linux does). */
unsigned bench_pin_choices(void);
/* Pin the calling thread, and the threads it starts from now on, to the
 * k-th of those CPUs (mod their count), or if k < 0 let it run on all of
 * them again.  Returns the CPU's number, or -1 if it is not pinned. */
int bench_pin(int k);
double bench_fault_us(void); /* a fresh page's first touch, us, over
                               4 MiB; 0: unknown */
const char* bench_libc_name(void); /* "glibc 2.36", "msvcrt", ... */
void bench_libc_trim(void);       /* malloc_trim(0), _heapmin() */
bool bench_on_wine(void);         /* a Windows build running under Wine */
/* The first of `names` that loads (RTLD_NOW|RTLD_LOCAL, so it cannot
 * replace the process's malloc); NULL if none.  *why gets the error. */
void* bench_lib_open(const char* const* names, const char** loaded,
                     const char** why);
void* bench_lib_sym(void* lib, const char* name);
/* If `why` says a library needs more static TLS than glibc reserves for
 * dlopen (jemalloc), re-run this program with GLIBC_TUNABLES raised, once.
 * Returns only if it did not re-run. */
void bench_retry_with_static_tls(const char* why, char** argv);

/* ---- threads that start together ----------------------------------------- */

/* Each thread sets up, then calls bench_gate_wait; the main thread's
 * bench_gate_open waits until all `threads` are there, reads the clock and
 * lets them go: the time of the setup is not timed. */
struct bench_gate {
  atomic_int ready; /* threads set up */
  atomic_int go;    /* clock started */
};

static inline void bench_gate_wait(struct bench_gate* g) {
  atomic_fetch_add(&g->ready, 1);
  while (!atomic_load(&g->go))
    bench_yield();
}

static inline uint64_t bench_gate_open(struct bench_gate* g, int threads) {
  while (atomic_load(&g->ready) < threads)
    bench_yield();
  uint64_t start = bench_now_ns();
  atomic_store(&g->go, 1);
  return start;
}

#endif /* PH_BENCH_H */
