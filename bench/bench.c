/*
 * bench.c - portheap's benchmark: runs the workloads of bench-*.c on every
 * allocator of allocators.c in one process, interleaved (each repetition
 * runs every allocator once, in an order rotated from the last) and
 * repeated, then prints the medians, each allocator's ratio to glibc, and
 * whether issue 4's targets are met.  Thresholds are printed, never
 * enforced: the exit status says only whether the runs were sound.
 *
 * The workloads of issue 16 (bench-scale.c, on each allocator's default
 * heap) also get ph's lock counts (ph_lock_stats) and their own targets;
 * hot-2 .. hot-64 run in rounds, one repetition of each a round, so that
 * their ratios compare runs of the same round.
 *
 *   bench [--quick] [--only NAME]... [--alloc NAME]... [--reps N]
 *         [--seed N] [--list]
 */
#include "config.h"

#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef PH_BENCH_CFLAGS
#  define PH_BENCH_CFLAGS "unknown"
#endif
#if defined(__clang__)
#  define BENCH_CC "clang " __clang_version__
#elif defined(__GNUC__)
#  define BENCH_CC "gcc " __VERSION__
#else
#  define BENCH_CC "unknown compiler"
#endif

#define MAX_REPS 51
#define PIN_CPUS 4 /* a one-thread workload's rounds go round at most this
                      many CPUs, --reps rounds on each (run_workloads) */
#define MAX_ONLY 16

struct workload {
  const char* name;
  bench_fn fn;
  const char* op; /* what one op is */
  bool scale;     /* issue 16's: ph's lock counts printed, its targets */
  int threads;    /* bench_params.threads for fn */
  bool paired;    /* run rep by rep with the next paired workloads (hot-2
                     .. hot-64), so that their ratios compare runs made in
                     the same minute (slowdown_over_libc) */
  bool pinned;    /* one thread: each round runs on one CPU (run_rep) */
};

static const struct workload workloads[] = {
    {"small-churn", bench_small_churn, "free+alloc pair, 8-512 B", false, 0,
     false, true},
    {"medium-churn", bench_medium_churn, "free+alloc pair, 1-64 KiB", false, 0,
     false, true},
    {"realloc", bench_realloc_growth, "realloc, doubling 16 B..1 MiB", false,
     0, false, true},
    {"realloc-lone", bench_realloc_lone, "realloc, lone block 16 B..1 MiB",
     false, 0, false, true},
    {"destroy", bench_destroy, "block ended by destroy (glibc: free)", false,
     0, false, true},
    {"destroy-nocache", bench_destroy_nocache, "same, ph region cache off",
     false, 0, false, true},
    {"per-request", bench_per_request, "block, create+fill+destroy x10",
     false, 0, false, true},
    {"threads-shared", bench_threads_shared, "pair, 2 threads, one heap",
     false, 0, false, false},
    {"threads-each", bench_threads_each, "pair, 2 threads, heap each", false,
     0, false, false},
    {"threads-alone", bench_threads_alone, "pair, threads-shared's, 1 thread",
     false, 0, false, true},
    {"prod-cons", bench_producer_consumer, "block, alloc in A, free in B",
     false, 0, false, false},
    /* issue 16's, on the default heap (bench-scale.c) */
    {"hot-1", bench_hot, "pair, 1 thread", true, 1, false, true},
    {"hot-few", bench_hot_few, "pair, 1 thread, 32 blocks alive", true, 1,
     false, true},
    {"hot-same", bench_hot_same, "pair, 1 thread, 256 blocks of 100 B", true,
     1, false, true},
    {"everyday", bench_everyday, "pair, hot-1 by HeapAlloc(GetProcessHeap()..",
     true, 1, false, true},
    {"everyday-zero", bench_everyday_zero,
     "pair, the same zeroed (calloc, mi_zalloc)", true, 1, false, true},
    {"hot-2", bench_hot, "pair, 2 threads", true, 2, true, false},
    {"hot-8", bench_hot, "pair, 8 threads", true, 8, true, false},
    {"hot-32", bench_hot, "pair, 32 threads", true, 32, true, false},
    {"hot-64", bench_hot, "pair, 64 threads", true, 64, true, false},
    {"thread-churn", bench_thread_churn,
     "pair, 1000 threads of 2000, 2 at a time", true, 0, false, false},
    {"larson", bench_larson, "pair, 8 threads passing sets on", true, 0,
     false, false},
    {"cache-scratch-2", bench_cache_scratch,
     "8-B object written 1000x, 2 thr", true, 2, false, false},
    {"cache-scratch-8", bench_cache_scratch,
     "8-B object written 1000x, 8 thr", true, 8, false, false},
};
#define WORKLOADS (sizeof workloads / sizeof workloads[0])

/* ph's lock counts (ph_lock_stats) over all its runs of a workload. */
struct lock_sums {
  int runs;         /* runs counted */
  bool unknown;     /* ph_lock_stats failed (the native backend) */
  uint64_t ops;     /* their ops */
  uint64_t xfrees;  /* their frees of another thread's block */
  uint64_t contended, sleeps, revocations;
};

/* Medians of one workload, ns per op; < 0: not run, n/a or absent. */
struct row {
  bool run;
  uint64_t ops;
  double ns_per_op[BENCH_ALLOCATORS];
  double ms[BENCH_ALLOCATORS];
  double spread[BENCH_ALLOCATORS]; /* (max - min) / median */
  struct lock_sums locks;          /* issue 16's workloads */
  double shared[BENCH_ALLOCATORS]; /* cache-scratch: bench_run.shared, */
  int shared_runs[BENCH_ALLOCATORS]; /* summed over the runs */
  double cpu_per_op[BENCH_ALLOCATORS]; /* hot-N: median of the threads' CPU
                                          time an op; < 0: unknown */
  double start_us[BENCH_ALLOCATORS]; /* hot-N: median of bench_run.start_ns,
                                        in us; 0: unknown */
  /* Page faults over the allocator's whole runs (setup and teardown too)
   * and their ops, all repetitions; faults UINT64_MAX: unknown. */
  uint64_t faults[BENCH_ALLOCATORS];
  uint64_t fault_ops[BENCH_ALLOCATORS];
  /* Each repetition's run, in order (rep r of a paired workload ran in
   * the same round as rep r of the others); got[i] of them. */
  double ns[BENCH_ALLOCATORS][MAX_REPS];
  double cpu[BENCH_ALLOCATORS][MAX_REPS];
  double start[BENCH_ALLOCATORS][MAX_REPS];
  int got[BENCH_ALLOCATORS];
  int on[MAX_REPS]; /* the CPU round r ran on (all its allocators), or -1 */
  bool na[BENCH_ALLOCATORS];
};

static struct bench_allocator all[BENCH_ALLOCATORS];
static struct row rows[WORKLOADS];
static struct bench_run overhead[BENCH_ALLOCATORS];   /* 32-B blocks */
static struct bench_run spread[BENCH_ALLOCATORS];     /* 1-512 B */
static bool overhead_run;
static struct bench_memory memory[BENCH_MEM_CASES][BENCH_ALLOCATORS];
static bool memory_run;
static uint64_t total_errors;

_Noreturn void bench_oom(const struct bench_allocator* a, const char* where,
                         size_t size) {
  fprintf(stderr,
          "bench: %s failed in %s (size %zu); ph last error %s\n", a->name,
          where, size, ph_error_name(ph_get_last_error()));
  exit(1);
}

size_t bench_scaled(const struct bench_params* p, size_t n) {
  n /= p->scale_div;
  return n > 0 ? n : 1;
}

static int cmp_double(const void* x, const void* y) {
  double a = *(const double*)x, b = *(const double*)y;
  return (a > b) - (a < b);
}

/* The median of the n (1..MAX_REPS) values at v, left in their order. */
static double median(const double* v, int n) {
  double s[MAX_REPS];
  memcpy(s, v, (size_t)n * sizeof *v);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* A number in 8 columns, with precision fitting its size. */
static void put_num(double x) {
  if (x < 0)
    printf(" %8s", "n/a");
  else if (x < 10)
    printf(" %8.2f", x);
  else if (x < 10000)
    printf(" %8.1f", x);
  else
    printf(" %8.0f", x);
}

/* What an absent allocator's cells say. */
static const char* absent_cell(const struct bench_allocator* a) {
  return strncmp(a->absent, "skipped", 7) == 0 ? "skipped" : "absent";
}

static void check_errors(const struct bench_allocator* a, const char* what,
                         uint64_t errors) {
  if (errors == 0)
    return;
  printf("!! %s %s: %llu blocks came back with a wrong tag\n", a->name, what,
         (unsigned long long)errors);
  fprintf(stderr, "bench: %s %s: %llu blocks came back with a wrong tag\n",
          a->name, what, (unsigned long long)errors);
  total_errors += errors;
}

/* The CPUs a one-thread workload's rounds go round (0: not pinned). */
static int pin_cpus(void) {
  unsigned n = bench_pin_choices();
  return n < PIN_CPUS ? (int)n : PIN_CPUS;
}

/* The rounds of a group of workloads asked `reps` repetitions: as many,
 * or for a one-thread workload that pins, as many on each CPU (at most
 * MAX_REPS): a target takes the worst CPU's median (ph_over), which
 * with half the rounds on each of two CPUs was the mean of two for
 * --reps 5, and one round taken as the machine's state changed (it does
 * within minutes here) moved it by a fifth (session 24). */
static int rounds_of(bool pinned, int reps) {
  int n = pinned && pin_cpus() > 1 ? reps * pin_cpus() : reps;
  return n < MAX_REPS ? n : MAX_REPS;
}

/* What a page fault costs now (bench_fault_us), the median of 5 rounds:
 * the state the machine is in. */
static double fault_us(void) {
  double us[5];
  for (int r = 0; r < 5; r++)
    us[r] = bench_fault_us();
  return median(us, 5);
}

static void print_header(const struct bench_params* p, int reps) {
  char when[64], cpu[256];
  time_t now = time(NULL);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
  bench_cpu_model(cpu, sizeof cpu);
#if defined(PH_DEBUG)
  const char* debug = "yes (--enable-debug: slow)";
#else
  const char* debug = "no";
#endif
  printf("# portheap bench, %s\n", when);
  printf("# compiler: %s; CFLAGS: %s (library and bench); engine asserts: "
         "%s\n",
         BENCH_CC, PH_BENCH_CFLAGS, debug);
  printf("# cpu: %s; cores: %u; a page fault: %.2f us (a fresh page's "
         "first touch: every workload that touches new pages slows with "
         "it)\n",
         cpu, bench_cpu_count(), fault_us());
  printf("# seed: %llu; reps: %d, interleaved, median; sizes: %s\n",
         (unsigned long long)p->seed, reps,
         p->scale_div == 1 ? "full" : "--quick (1/10)");
  int pins = pin_cpus();
  if (pins > 1)
    printf("# one-thread workloads: each round pinned to one of %d CPUs in "
           "turn, every allocator on it, %d rounds on each (ratios by CPU "
           "below the table)\n",
           pins, rounds_of(true, reps) / pins);
  else if (pins == 1)
    printf("# one-thread workloads: pinned to the one CPU allowed\n");
  else
    printf("# one-thread workloads: not pinned (this platform does not "
           "pin)\n");
  printf("# portheap %s, backend %s\n", ph_version(), ph_backend());
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    if (all[i].absent == NULL)
      printf("# %-5s %s\n", all[i].name, all[i].about);
    else if (strcmp(all[i].absent, all[i].about) == 0)
      printf("# %-5s absent: %s\n", all[i].name, all[i].absent);
    else
      printf("# %-5s %s: %s\n", all[i].name, all[i].absent, all[i].about);
  }
  printf("\n");
}

/* ---- timed workloads -------------------------------------------------- */

/* One run of a workload; for ph on issue 16's, its lock counts too (the
 * whole call: setup and teardown are a few thousand ops of millions). */
static struct bench_run run_once(size_t w, const struct bench_allocator* a,
                                 const struct bench_params* params) {
  struct bench_params row_params = *params;
  row_params.threads = workloads[w].threads;
  const struct bench_params* p = &row_params;
  if (a->id != BENCH_PH || !workloads[w].scale)
    return workloads[w].fn(a, p);
  struct lock_sums* l = &rows[w].locks;
  ph_lock_stats_t before = {.cb = sizeof before};
  ph_lock_stats_t after = {.cb = sizeof after};
  bool known = ph_lock_stats(&before) != 0;
  struct bench_run r = workloads[w].fn(a, p);
  known = known && ph_lock_stats(&after) != 0;
  if (r.na)
    return r;
  l->unknown |= !known;
  l->runs++;
  l->ops += r.ops;
  l->xfrees += r.xfrees;
  if (known) {
    l->contended += after.contended - before.contended;
    l->sleeps += after.sleeps - before.sleeps;
    l->revocations += after.bias_revocations - before.bias_revocations;
  }
  return r;
}

/* Repetition `rep` of workload w: one run of each allocator, which
 * starts in turn, kept in w's row.  A one-thread workload's round runs
 * on one CPU, the next CPU each round: the CPUs of a shared machine can
 * differ by half (session 23's: 8.5 ns a pair against 12.2 on hot-few,
 * every allocator alike), and a run the scheduler moves between them
 * compares nothing; each round's ratios compare runs on one CPU. */
static void run_rep(size_t w, const struct bench_params* p, int rep) {
  struct row* row = &rows[w];
  row->run = true;
  row->on[rep] = workloads[w].pinned && pin_cpus() > 0
                     ? bench_pin(rep % pin_cpus())
                     : -1;
  for (int k = 0; k < BENCH_ALLOCATORS; k++) {
    int i = (k + rep) % BENCH_ALLOCATORS;
    if (all[i].absent != NULL || row->na[i])
      continue;
    uint64_t faults_before = bench_page_faults();
    struct bench_run r = run_once(w, &all[i], p);
    uint64_t faults_after = bench_page_faults();
    check_errors(&all[i], workloads[w].name, r.errors);
    if (r.na) {
      row->na[i] = true;
      continue;
    }
    row->ops = r.ops;
    row->cpu[i][row->got[i]] = r.cpu_ns;
    row->start[i][row->got[i]] = r.start_ns;
    row->ns[i][row->got[i]++] = r.ns;
    row->shared[i] += r.shared;
    row->shared_runs[i]++;
    if (faults_before == UINT64_MAX || faults_after == UINT64_MAX ||
        faults_after < faults_before)
      row->faults[i] = UINT64_MAX;
    else if (row->faults[i] != UINT64_MAX)
      row->faults[i] += faults_after - faults_before;
    row->fault_ops[i] += r.ops;
  }
  if (workloads[w].pinned)
    bench_pin(-1);
}

/* Workload w's medians from its repetitions. */
static void finish_row(size_t w) {
  struct row* row = &rows[w];
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    row->ns_per_op[i] = row->ms[i] = row->spread[i] = -1;
    row->cpu_per_op[i] = -1;
    int got = row->got[i];
    if (got == 0)
      continue;
    double cpu_mid = median(row->cpu[i], got);
    if (cpu_mid > 0)
      row->cpu_per_op[i] = cpu_mid / (double)row->ops;
    row->start_us[i] = median(row->start[i], got) / 1e3;
    double mid = median(row->ns[i], got), lo = mid, hi = mid;
    for (int r = 0; r < got; r++) {
      lo = row->ns[i][r] < lo ? row->ns[i][r] : lo;
      hi = row->ns[i][r] > hi ? row->ns[i][r] : hi;
    }
    row->ms[i] = mid / 1e6;
    row->ns_per_op[i] = mid / (double)row->ops;
    row->spread[i] = (hi - lo) / mid;
  }
}

/* Workload w's line. */
static void print_row(size_t w) {
  const struct row* row = &rows[w];
  printf("%-16s %8llu", workloads[w].name, (unsigned long long)row->ops);
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    if (all[i].absent != NULL)
      printf(" %8s", absent_cell(&all[i]));
    else
      put_num(row->ns_per_op[i]);
  }
  double base = row->ns_per_op[BENCH_LIBC];
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    if (i == BENCH_LIBC)
      continue;
    double x = row->ns_per_op[i];
    put_num(base > 0 && x > 0 ? base / x : -1);
  }
  put_num(row->ms[BENCH_PH]);
  printf(" %5.0f%%   %s\n",
         row->spread[BENCH_PH] >= 0 ? row->spread[BENCH_PH] * 100 : 0.0,
         workloads[w].op);
  fflush(stdout);
}

/* The n selected workloads at `ws`, `reps` rounds of one repetition of
 * each (rounds_of), then their lines. */
static void run_workloads(const size_t* ws, int n, const struct bench_params* p,
                          int reps) {
  int rounds = rounds_of(n == 1 && workloads[ws[0]].pinned, reps);
  for (int rep = 0; rep < rounds; rep++)
    for (int k = 0; k < n; k++)
      run_rep(ws[k], p, rep);
  for (int k = 0; k < n; k++) {
    finish_row(ws[k]);
    print_row(ws[k]);
  }
}

static void print_table_head(void) {
  const char* libc = all[BENCH_LIBC].name;
  printf("Time: median ns per op (lower is better); ratio %s/x = %s time / "
         "x time: >1 means x is faster than %s\n",
         libc, libc, libc);
  printf("%-16s %8s", "workload", "ops");
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    char head[16];
    snprintf(head, sizeof head, "%s_ns", all[i].name);
    printf(" %8s", head);
  }
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    char head[16];
    if (i == BENCH_LIBC)
      continue;
    snprintf(head, sizeof head, "%s/%s", libc, all[i].name);
    printf(" %8s", head);
  }
  printf(" %8s %6s   %s\n", "ph_ms", "spread", "one op is");
}

/* hot-N's CPU time a pair and what a thread's start took, per allocator,
 * if any was measured. */
static void print_cpu(void) {
  bool any = false;
  for (size_t w = 0; w < WORKLOADS; w++) {
    const struct row* row = &rows[w];
    bool known = false;
    for (int i = 0; i < BENCH_ALLOCATORS; i++)
      known |= row->cpu_per_op[i] > 0;
    if (!row->run || !known)
      continue;
    if (!any) {
      printf("\nhot-N: the threads' CPU time (user and system) in the timed "
             "part over the pairs, median, ns;\nwall time, above, also holds "
             "what starting, switching and ending the threads cost;\n"
             "st_x: what a thread's first %d pairs took beyond the same "
             "pairs at its later rate\n(caches cold after the fill and the "
             "other threads), mean over the threads, median, us\n",
             BENCH_HOT_START);
      printf("%-16s", "workload");
      for (int i = 0; i < BENCH_ALLOCATORS; i++)
        printf(" %8s", all[i].name);
      for (int i = 0; i < BENCH_ALLOCATORS; i++) {
        char head[16];
        snprintf(head, sizeof head, "st_%s", all[i].name);
        printf(" %8s", head);
      }
      printf("\n");
    }
    any = true;
    printf("%-16s", workloads[w].name);
    for (int i = 0; i < BENCH_ALLOCATORS; i++)
      put_num(row->cpu_per_op[i]);
    for (int i = 0; i < BENCH_ALLOCATORS; i++) {
      if (row->start_us[i] != 0)
        printf(" %8.1f", row->start_us[i]);
      else
        printf(" %8s", "n/a");
    }
    printf("\n");
  }
}

/* The page faults of each allocator's runs of each workload that ran, per
 * 1000 ops: what a workload that touches fresh pages pays for them, so a
 * line read in a slow state of the machine (bench_fault_us) can be told
 * from a slower allocator. */
static void print_faults(void) {
  printf("\nPage faults per 1000 ops over each allocator's runs, all "
         "repetitions, setup and teardown too\n(a fresh page's first "
         "touch: see the header's page fault)\n%-16s", "workload");
  for (int i = 0; i < BENCH_ALLOCATORS; i++)
    printf(" %8s", all[i].name);
  printf("\n");
  for (size_t w = 0; w < WORKLOADS; w++) {
    const struct row* row = &rows[w];
    if (!row->run)
      continue;
    printf("%-16s", workloads[w].name);
    for (int i = 0; i < BENCH_ALLOCATORS; i++) {
      if (all[i].absent != NULL || row->fault_ops[i] == 0 ||
          row->faults[i] == UINT64_MAX)
        printf(" %8s", "n/a");
      else
        printf(" %8.2f",
               1e3 * (double)row->faults[i] / (double)row->fault_ops[i]);
    }
    printf("\n");
  }
}

/* ph's lock counts per million ops for issue 16's workloads, if any ran. */
static void print_locks(void) {
  bool any = false;
  for (size_t w = 0; w < WORKLOADS; w++) {
    const struct lock_sums* l = &rows[w].locks;
    if (!workloads[w].scale || l->runs == 0)
      continue;
    if (!any) {
      printf("\nph lock counts (ph_lock_stats) over ph's runs of each "
             "workload, all repetitions, per million ops;\n"
             "contended: entries that found the lock taken; sleeps: waits "
             "that slept; revoked: bias revocations;\n"
             "xfree%%: frees of a block another thread allocated\n");
      printf("%-16s %10s %10s %10s %10s %7s\n", "workload", "ph_ops",
             "contended", "sleeps", "revoked", "xfree%");
    }
    any = true;
    double per = 1e6 / (double)l->ops;
    printf("%-16s %10llu", workloads[w].name, (unsigned long long)l->ops);
    if (l->unknown)
      printf(" %10s %10s %10s", "n/a", "n/a", "n/a");
    else
      printf(" %10.1f %10.1f %10.1f", (double)l->contended * per,
             (double)l->sleeps * per, (double)l->revocations * per);
    printf(" %7.1f\n", 100.0 * (double)l->xfrees / (double)l->ops);
  }
  /* where cache-scratch's false sharing came from */
  any = false;
  for (size_t w = 0; w < WORKLOADS; w++) {
    const struct row* row = &rows[w];
    if (!row->run || strncmp(workloads[w].name, "cache-scratch", 13) != 0)
      continue;
    if (!any)
      printf("\ncache-scratch: threads whose first object was in the 64-B "
             "line of the first object of\na thread running at the same "
             "time, mean over the repetitions\n");
    any = true;
    printf("%-16s", workloads[w].name);
    for (int i = 0; i < BENCH_ALLOCATORS; i++) {
      if (row->shared_runs[i] > 0)
        printf(" %5s %3.0f%%", all[i].name,
               100 * row->shared[i] / row->shared_runs[i]);
      else
        printf(" %5s %4s", all[i].name, "n/a");
    }
    printf("\n");
  }
}

/* ---- overhead ------------------------------------------------------------ */

/* Every allocator gives back the free memory it holds. */
static void trim_all(void) {
  for (int i = 0; i < BENCH_ALLOCATORS; i++)
    if (all[i].absent == NULL)
      all[i].trim();
}

static void run_overhead(const struct bench_params* p) {
  overhead_run = true;
  trim_all();
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    if (all[i].absent != NULL)
      continue;
    overhead[i] = bench_overhead(&all[i], p);
    check_errors(&all[i], "overhead", overhead[i].errors);
    trim_all();
    spread[i] = bench_overhead_spread(&all[i], p);
    check_errors(&all[i], "overhead-spread", spread[i].errors);
  }
}

/* One table of memory per block: runs[] of each allocator, blocks of
 * `sizes` (for the title). */
static void print_overhead_table(const struct bench_run* runs,
                                 const char* sizes) {
  double mean = 0; /* the same sizes for every allocator that ran */
  uint64_t ops = 0;
  for (int i = 0; i < BENCH_ALLOCATORS; i++)
    if (all[i].absent == NULL) {
      mean = runs[i].payload;
      ops = runs[i].ops;
    }
  printf("\nMemory: %llu live blocks of %s on a fresh heap, measured once "
         "per allocator before the timed workloads\n",
         (unsigned long long)ops, sizes);
  printf("(resident: %s delta / blocks; overhead = resident - %.2f, the "
         "mean size asked for)\n",
         bench_rss_source(), mean);
  printf("%-16s %10s %10s %10s %10s\n", "allocator", "resident", "overhead",
         "committed", "fill_ns");
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    const struct bench_run* r = &runs[i];
    printf("%-16s", all[i].name);
    if (all[i].absent != NULL) {
      printf(" %10s\n", absent_cell(&all[i]));
      continue;
    }
    if (r->resident > 0)
      printf(" %10.2f %10.2f", r->resident, r->resident - r->payload);
    else
      printf(" %10s %10s", "n/a", "n/a");
    if (r->committed > 0)
      printf(" %10.2f", r->committed);
    else
      printf(" %10s", i == BENCH_PH ? "n/a" : "-");
    printf(" %10.1f\n", r->ns / (double)r->ops);
  }
}

/* ---- memory given back ----------------------------------------------------- */

/* A cell of the memory table: MiB and when it first met the goal. */
static void put_memory(const struct bench_allocator* a,
                       const struct bench_memory* m, bool left) {
  char when[16] = "";
  if (a->absent != NULL) {
    printf(" %7s %-7s", absent_cell(a), "");
    return;
  }
  if (left && m->under_ms >= 0)
    snprintf(when, sizeof when, "@%.0fms", m->under_ms);
  else if (left)
    snprintf(when, sizeof when, "-");
  printf(" %7.1f %-7s", left ? m->left_mib : m->filled_mib, when);
}

/* A cell of the memory table's last row: the longest light call, ms. */
static void put_longest(const struct bench_allocator* a,
                        const struct bench_memory* m) {
  if (a->absent != NULL)
    printf(" %7s %-7s", absent_cell(a), "");
  else
    printf(" %7.2f %-7s", m->longest_ms, "ms");
}

static void print_memory_head(void) {
  printf("\nMemory given back: resident MiB above each case's baseline (%s)"
         " 2 s after the case,\nwhile the heap (once destroyed: the process "
         "heap) serves a 64-B alloc+free every 1 ms;\n@ms: first 100-ms "
         "sample at or under the goal, -: none; longest: the longest of "
         "those calls\n",
         bench_rss_source());
  printf("%-10s", "case");
  for (int i = 0; i < BENCH_ALLOCATORS; i++)
    printf(" %7s %-7s", all[i].name, "");
  printf(" %5s   %s\n", "goal", "what");
}

/* One case on every allocator, each after all of them gave memory back;
 * prints its three rows. */
static void run_memory_case(enum bench_memory_case c,
                            const struct bench_params* p) {
  const struct bench_memory_about* about = &bench_memory_cases[c];
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    if (all[i].absent != NULL)
      continue;
    trim_all();
    memory[c][i] = bench_memory(&all[i], c, p);
    check_errors(&all[i], about->name, memory[c][i].errors);
  }
  printf("%-10s", about->name);
  for (int i = 0; i < BENCH_ALLOCATORS; i++)
    put_memory(&all[i], &memory[c][i], true);
  printf(" %5.0f   %s\n", about->goal_mib, about->what);
  printf("%-10s", "  filled");
  for (int i = 0; i < BENCH_ALLOCATORS; i++)
    put_memory(&all[i], &memory[c][i], false);
  printf(" %5s   %s\n", "", "the same with the blocks live");
  printf("%-10s", "  longest");
  for (int i = 0; i < BENCH_ALLOCATORS; i++)
    put_longest(&all[i], &memory[c][i]);
  printf(" %5s   %s\n", "", "the longest light call after the case");
  fflush(stdout);
}

static void run_memory(const struct bench_params* p) {
  memory_run = true;
  print_memory_head();
  for (int c = 0; c < BENCH_MEM_CASES; c++)
    run_memory_case((enum bench_memory_case)c, p);
  trim_all();
}

/* ---- targets ---------------------------------------------------------------- */

static const struct row* row_named(const char* name) {
  for (size_t w = 0; w < WORKLOADS; w++)
    if (strcmp(workloads[w].name, name) == 0)
      return rows[w].run ? &rows[w] : NULL;
  return NULL;
}

/* ph time / other time in row's rounds on CPU `cpu` (-1: the rounds not
 * pinned), the median of each round's own ratio; *n gets the rounds (0:
 * none, and then < 0). */
static double ratio_on(const struct row* row, int other, int cpu, int* n) {
  double v[MAX_REPS];
  *n = 0;
  for (int r = 0; r < row->got[BENCH_PH] && r < row->got[other]; r++)
    if (row->on[r] == cpu && row->ns[BENCH_PH][r] > 0 &&
        row->ns[other][r] > 0)
      v[(*n)++] = row->ns[BENCH_PH][r] / row->ns[other][r];
  return *n > 0 ? median(v, *n) : -1;
}

/* The CPUs row's ph rounds ran on (-1: not pinned), each once, in the
 * order of their first round, at cpus (MAX_REPS); returns their count. */
static int cpus_of(const struct row* row, int* cpus) {
  int n = 0;
  for (int r = 0; r < row->got[BENCH_PH]; r++) {
    int k = 0;
    while (k < n && cpus[k] != row->on[r])
      k++;
    if (k == n)
      cpus[n++] = row->on[r];
  }
  return n;
}

/* ph time / other time for a workload; < 0 if unknown.  For a row whose
 * rounds ran on more than one CPU, the worst of its ratios by CPU
 * (ratio_on): a target is met on every CPU of the machine or not. */
static double ph_over(const char* name, int other) {
  const struct row* r = row_named(name);
  if (r == NULL || r->ns_per_op[BENCH_PH] <= 0 || r->ns_per_op[other] <= 0)
    return -1;
  int cpus[MAX_REPS], n = cpus_of(r, cpus), rounds;
  if (n <= 1)
    return r->ns_per_op[BENCH_PH] / r->ns_per_op[other];
  double worst = -1;
  for (int k = 0; k < n; k++) {
    double x = ratio_on(r, other, cpus[k], &rounds);
    worst = x > worst ? x : worst;
  }
  return worst;
}

/* ph's time for workload a / its time for workload b; < 0 if unknown. */
static double ph_ratio(const char* a, const char* b) {
  const struct row* ra = row_named(a);
  const struct row* rb = row_named(b);
  if (ra == NULL || rb == NULL || ra->ns_per_op[BENCH_PH] <= 0 ||
      rb->ns_per_op[BENCH_PH] <= 0)
    return -1;
  return ra->ns_per_op[BENCH_PH] / rb->ns_per_op[BENCH_PH];
}

static void target(const char* what, double value, bool at_most,
                   double goal) {
  printf("%-52s", what);
  if (value < 0) {
    printf(" %8s %s %-6.2f %s\n", "n/a", at_most ? "<=" : ">=", goal,
           "not measured");
    return;
  }
  bool met = at_most ? value <= goal : value >= goal;
  printf(" %8.2f %s %-6.2f %s\n", value, at_most ? "<=" : ">=", goal,
         met ? "met" : "NOT MET");
}

/* A figure the issue asks to report, with no goal of its own. */
static void report(const char* what, double value, const char* why) {
  printf("%-52s", what);
  if (value < 0)
    printf(" %8s    %-6s %s\n", "n/a", "", "not measured");
  else
    printf(" %8.2f    %-6s %s\n", value, "", why);
}

static double inverse(double x) {
  return x > 0 ? 1 / x : -1;
}

static void print_targets(void) {
  const char* libc = all[BENCH_LIBC].name;
  char what[96];
  printf("\nTargets (issue 4)%36s %8s    %-6s %s\n", "", "value", "goal",
         "");
  snprintf(what, sizeof what, "small-churn: ph time / %s time", libc);
  target(what, ph_over("small-churn", BENCH_LIBC), true, 0.8);
  snprintf(what, sizeof what, "medium-churn: ph time / %s time", libc);
  target(what, ph_over("medium-churn", BENCH_LIBC), true, 1.0);
  snprintf(what, sizeof what, "realloc: ph time / %s time", libc);
  target(what, ph_over("realloc", BENCH_LIBC), true, 1.0);
  snprintf(what, sizeof what, "destroy: %s per-block free / ph destroy", libc);
  target(what, inverse(ph_over("destroy", BENCH_LIBC)), false, 40);
  snprintf(what, sizeof what, "  (region cache off: %s free / ph destroy)",
           libc);
  report(what, inverse(ph_over("destroy-nocache", BENCH_LIBC)),
         "reported (pages go back to the kernel)");
  snprintf(what, sizeof what, "per-request: ph time / %s time", libc);
  target(what, ph_over("per-request", BENCH_LIBC), true, 0.25);
  double over = overhead_run && overhead[BENCH_PH].resident > 0
                    ? overhead[BENCH_PH].resident - 32
                    : -1;
  target("overhead: ph resident B per 32-B block beyond 32", over, true, 16);
  over = overhead_run && spread[BENCH_PH].resident > 0
             ? spread[BENCH_PH].resident - spread[BENCH_PH].payload
             : -1;
  target("overhead-spread: ph resident B per block beyond size",
         over, true, 16);
  snprintf(what, sizeof what, "threads-shared: ph throughput / %s", libc);
  target(what, inverse(ph_over("threads-shared", BENCH_LIBC)), false, 1.0);
  target("threads-shared: ph 2-thread time / ph 1-thread time",
         ph_ratio("threads-shared", "threads-alone"), true, 1.0);

  /* No workload more than 2x slower than mimalloc. */
  double worst = -1;
  const char* worst_name = "";
  printf("ph time / mi time:");
  for (size_t w = 0; w < WORKLOADS; w++) {
    if (workloads[w].scale) /* issue 16's, with targets of their own */
      continue;
    double x = ph_over(workloads[w].name, BENCH_MI);
    if (x < 0)
      continue;
    printf(" %s %.2f;", workloads[w].name, x);
    if (x > worst) {
      worst = x;
      worst_name = workloads[w].name;
    }
  }
  printf("\n");
  snprintf(what, sizeof what, "vs mimalloc: worst ph time / mi time (%s)",
           worst_name);
  target(what, worst, true, 2.0);
}

/* The issue "memory goes back to the system". */
static void print_targets_memory(void) {
  char what[96];
  printf("\nTargets (memory goes back to the system)%13s %8s    %-6s %s\n",
         "", "value", "goal", "");
  snprintf(what, sizeof what, "realloc-lone: ph time / %s time",
           all[BENCH_LIBC].name);
  target(what, ph_over("realloc-lone", BENCH_LIBC), true, 1.0);
  for (int c = 0; c < BENCH_MEM_CASES; c++) {
    snprintf(what, sizeof what, "memory %s: ph MiB left at 2 s",
             bench_memory_cases[c].name);
    target(what, memory_run ? memory[c][BENCH_PH].left_mib : -1, true,
           bench_memory_cases[c].goal_mib);
  }
}

/* Allocator x's slowdown from hot-2 to hot-64 over glibc's,
 * (x64 / x2) / (c64 / c2), in wall time or in the threads' CPU time a
 * pair, as the median over the rounds of the ratio within each (the two
 * workloads are paired: their rep r ran in the same round); < 0 if
 * unknown. */
static double slowdown_over_libc(int x, bool cpu) {
  const struct row* two = row_named("hot-2");
  const struct row* many = row_named("hot-64");
  if (two == NULL || many == NULL)
    return -1;
  int n = two->got[x];
  if (n == 0 || n != many->got[x] || n != two->got[BENCH_LIBC] ||
      n != many->got[BENCH_LIBC])
    return -1;
  double v[MAX_REPS];
  for (int r = 0; r < n; r++) {
    double x2 = cpu ? two->cpu[x][r] : two->ns[x][r];
    double x64 = cpu ? many->cpu[x][r] : many->ns[x][r];
    double c2 = cpu ? two->cpu[BENCH_LIBC][r] : two->ns[BENCH_LIBC][r];
    double c64 = cpu ? many->cpu[BENCH_LIBC][r] : many->ns[BENCH_LIBC][r];
    if (x2 <= 0 || x64 <= 0 || c2 <= 0 || c64 <= 0)
      return -1;
    v[r] = (x64 / x2) / (c64 / c2);
  }
  return median(v, n);
}

/* Every allocator's slowdown from hot-2 to hot-64 over glibc's, in both
 * times, if hot-2 and hot-64 ran: the evidence for which of the two the
 * issue-16 target reads (print_targets_scale). */
static void print_slowdown(void) {
  if (slowdown_over_libc(BENCH_PH, true) < 0)
    return;
  printf("\nhot-2 to hot-64: x's hot-64/hot-2 over glibc's, the median of "
         "the rounds' ratios, in the\nthreads' CPU time a pair (what a "
         "pair costs as threads grow) and in wall time (on\n2 CPUs also "
         "hot-2's slower CPU, and the milliseconds that 64 threads' "
         "wake-ups,\nteardown and scheduling take whatever the allocator: "
         "more of a faster one's shorter run)\n%-16s", "time");
  for (int i = 0; i < BENCH_ALLOCATORS; i++)
    if (i != BENCH_LIBC)
      printf(" %8s", all[i].name);
  printf("\n");
  for (int cpu = 1; cpu >= 0; cpu--) {
    printf("%-16s", cpu ? "cpu a pair" : "wall");
    for (int i = 0; i < BENCH_ALLOCATORS; i++)
      if (i != BENCH_LIBC)
        put_num(slowdown_over_libc(i, cpu));
    printf("\n");
  }
}

/* The line "name: ph time / x time" for allocator `other`: a target of
 * at most `goal`, or if goal < 0 a figure reported with no goal (issue
 * 16's hot-few and hot-same: shapes of ours beyond the issue's). */
static void ratio_line(const char* name, int other, double goal) {
  char what[96];
  snprintf(what, sizeof what, "%s: ph time / %s time", name,
           all[other].name);
  double x = ph_over(name, other);
  if (goal < 0)
    report(what, x, "reported (a shape of ours)");
  else
    target(what, x, true, goal);
}

/* Issue 16: the process heap as a program's malloc.  Its targets are its
 * own workload's, at every thread count (hot-1 .. hot-64), larson and
 * prod-cons, and the slowdown from 2 to 64 threads in CPU time a pair;
 * the slowdown in wall time, hot-few and hot-same are reported beside
 * them (docs/threads.md, session 24, says why). */
static void print_targets_scale(void) {
  static const char* const hot[] = {"hot-1", "hot-2", "hot-8", "hot-32",
                                    "hot-64"};
  static const char* const shapes[] = {"hot-few", "hot-same"};
  printf("\nTargets (issue 16: process heap as malloc)%11s %8s    %-6s %s\n",
         "", "value", "goal", "");
  for (size_t k = 0; k < sizeof hot / sizeof hot[0]; k++) {
    ratio_line(hot[k], BENCH_LIBC, 1.0);
    ratio_line(hot[k], BENCH_MI, 1.5);
  }
  ratio_line("larson", BENCH_LIBC, 1.0);
  ratio_line("prod-cons", BENCH_LIBC, 1.0);
  char what[96];
  snprintf(what, sizeof what, "ph hot-64/hot-2 over %s's, CPU a pair",
           all[BENCH_LIBC].name);
  target(what, slowdown_over_libc(BENCH_PH, true), true, 1.0);
  report("  the same in wall time", slowdown_over_libc(BENCH_PH, false),
         "reported (see above)");
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    ratio_line(shapes[k], BENCH_LIBC, -1);
    ratio_line(shapes[k], BENCH_MI, -1);
  }
}

/* The one-thread rows' ratios on each CPU their rounds ran on. */
static void print_by_cpu(void) {
  bool any = false;
  for (size_t w = 0; w < WORKLOADS; w++) {
    const struct row* row = &rows[w];
    int cpus[MAX_REPS], n = row->run ? cpus_of(row, cpus) : 0;
    if (n <= 1)
      continue;
    if (!any) {
      printf("\nOne-thread workloads by CPU: ph time / x time, the median "
             "of the ratios of the rounds\non that CPU (each round ran every "
             "allocator there); targets take the worst CPU\n");
      printf("%-16s %8s", "workload", "cpu");
      for (int i = 0; i < BENCH_ALLOCATORS; i++)
        if (i != BENCH_PH)
          printf(" %8s", all[i].name);
      printf(" %8s\n", "rounds");
    }
    any = true;
    for (int k = 0; k < n; k++) {
      int rounds = 0, got;
      printf("%-16s %8d", workloads[w].name, cpus[k]);
      for (int i = 0; i < BENCH_ALLOCATORS; i++) {
        if (i == BENCH_PH)
          continue;
        put_num(ratio_on(row, i, cpus[k], &got));
        rounds = got > rounds ? got : rounds;
      }
      printf(" %8d\n", rounds);
    }
  }
}

/* ---- main ------------------------------------------------------------------ */

static void usage(FILE* f) {
  fprintf(f,
          "usage: bench [--quick] [--only NAME]... [--alloc NAME]... "
          "[--reps N] [--seed N] [--list]\n"
          "  --quick    sizes 1/10 (a smoke run), no memory workload\n"
          "  --only     run workloads whose name is or starts with NAME\n"
          "             (overhead, small-churn, ..., threads, destroy,\n"
          "             hot, larson, cache-scratch, memory: about 40 s,\n"
          "             full size even with --quick)\n"
          "  --alloc    run only these allocators (ph, glibc, mi, je), e.g.\n"
          "             under perf; the others print as \"skipped\"\n"
          "  --reps     repetitions per allocator, median printed "
          "(default 5)\n"
          "  --seed     generator seed (default 42)\n");
}

static bool selected(const char* name, const char* const* only, int n) {
  if (n == 0)
    return true;
  for (int i = 0; i < n; i++)
    if (strncmp(name, only[i], strlen(only[i])) == 0)
      return true;
  return false;
}

int main(int argc, char** argv) {
  struct bench_params p = {.seed = 42, .scale_div = 1};
  int reps = 5, n_only = 0, n_alloc = 0;
  const char *only[MAX_ONLY], *alloc_only[MAX_ONLY];
  for (int i = 1; i < argc; i++) {
    const char* arg = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(arg, "--quick") == 0) {
      p.scale_div = 10;
    } else if (strcmp(arg, "--only") == 0 && has_value && n_only < MAX_ONLY) {
      only[n_only++] = argv[++i];
    } else if (strcmp(arg, "--alloc") == 0 && has_value &&
               n_alloc < MAX_ONLY) {
      alloc_only[n_alloc++] = argv[++i];
    } else if (strcmp(arg, "--reps") == 0 && has_value) {
      reps = atoi(argv[++i]);
      if (reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "bench: --reps must be 1..%d\n", MAX_REPS);
        return 2;
      }
    } else if (strcmp(arg, "--seed") == 0 && has_value) {
      p.seed = strtoull(argv[++i], NULL, 0);
    } else if (strcmp(arg, "--list") == 0) {
      printf("overhead\n");
      for (size_t w = 0; w < WORKLOADS; w++)
        printf("%s\n", workloads[w].name);
      printf("memory\n");
      return 0;
    } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }

  bench_allocators_init(all, argv);
  for (int i = 0; i < BENCH_ALLOCATORS; i++) {
    bool wanted = n_alloc == 0;
    for (int k = 0; k < n_alloc; k++)
      wanted |= strcmp(all[i].name, alloc_only[k]) == 0;
    if (!wanted && all[i].absent == NULL)
      all[i].absent = "skipped (--alloc)";
  }
  print_header(&p, reps);

  if (selected("overhead", only, n_only))
    run_overhead(&p);
  bool any = false;
  for (size_t w = 0; w < WORKLOADS; w++) {
    if (!selected(workloads[w].name, only, n_only))
      continue;
    if (!any)
      print_table_head();
    any = true;
    /* w, with the paired workloads after it if it is one */
    size_t ws[WORKLOADS];
    int n = 0;
    ws[n++] = w;
    while (workloads[w].paired && w + 1 < WORKLOADS && workloads[w + 1].paired)
      if (selected(workloads[++w].name, only, n_only))
        ws[n++] = w;
    run_workloads(ws, n, &p, reps);
  }
  print_by_cpu();
  print_cpu();
  print_slowdown();
  print_locks();
  if (any)
    print_faults();
  if (overhead_run) {
    print_overhead_table(overhead, "32 B");
    print_overhead_table(spread, "1-512 B, spread evenly");
  }
  /* Last, as it sleeps and leaves allocators in their own state; not in a
   * --quick run unless named, as it takes ~40 s at any size. */
  if (selected("memory", only, n_only) && (n_only > 0 || p.scale_div == 1))
    run_memory(&p);
  if (strcmp(ph_backend(), "emul") == 0) {
    print_targets();
    print_targets_memory();
    print_targets_scale();
  } else /* the ph column is the system's heap: nothing of ours to judge */
    printf("\nTargets are for portheap's engine; this build's ph "
           "is the %s backend (the system's HeapAlloc).\n", ph_backend());
  if (total_errors != 0) {
    printf("\n!! %llu blocks came back with a wrong tag: an allocator "
           "broke a block (see the lines starting with !!)\n",
           (unsigned long long)total_errors);
    return 3;
  }
  return 0;
}
