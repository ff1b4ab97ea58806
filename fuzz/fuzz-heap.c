/*
 * fuzz-heap.c - libFuzzer harness: bytes -> heap operations, each result
 * checked against a model.
 *
 * The model holds up to MAX_HEAPS private heaps (growable, fixed, or
 * NO_SERIALIZE) plus the process heap, the live blocks of each (size and a
 * fill pattern), the heap-lock depth, handles of destroyed heaps and
 * pointers of freed blocks.  Operations: create, alloc, realloc (plain,
 * zeroing, in place only, raising), free, size, validate, locked walk,
 * compact, summary, lock/unlock, destroy, and misuse: bad block pointers
 * (freed, interior, foreign, wild, near a handle: enum bad_kind) and
 * destroyed and random handles.
 *
 * Checked: success where the contract promises it, the documented failure
 * and last error otherwise (docs/semantics.md, misuse included); a
 * successful call leaves the last error alone; blocks are aligned, never
 * overlap, keep their bytes; walks list exactly the model's busy blocks;
 * HeapSummary's cbAllocated is the model's sum; HEAP_GENERATE_EXCEPTIONS
 * raises exactly when a call fails.  A mismatch aborts (a crash to
 * libFuzzer).  Every input ends with all its heaps destroyed and its
 * process-heap blocks freed, so no block, heap or pointer of the model
 * outlives its input.  The engine's layout does: the process heap's free
 * and quick blocks, and the region cache that later heaps are carved
 * from.  An engine bug that depends on layout can then need the inputs
 * run before it; replay them in order in one process (fuzz-heap IN1 IN2
 * ... CRASH) to reproduce it.
 *
 * Build: fuzz/build.sh; run: fuzz/run.sh SECONDS.
 */
#include <portheap.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

enum { MAX_HEAPS = 4, PROCESS = MAX_HEAPS, HEAP_SLOTS = MAX_HEAPS + 1 };
enum { MAX_BLOCKS = 64, MAX_STALE = 16 };
#define LIVE_LIMIT ((size_t)48 << 20) /* model bytes, to bound memory */
#define FIXED_BLOCK_MAX ((size_t)0xFEFD8)
#define SENTINEL_ERROR 0x2000BEEFu /* application bit set: ours */

struct heap {
  void* h;             /* NULL: slot empty */
  uint32_t options;
  size_t maximum;      /* 0: growable */
  size_t live_bytes;   /* model sum of requested sizes */
  unsigned lock_depth; /* our ph_heap_lock nesting */
};

struct block {
  int heap;            /* -1: slot empty */
  unsigned char* p;
  size_t size;
  uint32_t seed;
};

static struct heap heaps[HEAP_SLOTS];
static struct block blocks[MAX_BLOCKS];
static void* stale_ptrs[MAX_STALE];  /* freed blocks */
static void* dead_heaps[MAX_STALE];  /* destroyed heap handles */
static unsigned stale_next, dead_next;
static uint32_t seed_counter;
static size_t total_live;

static bool trace; /* PH_FUZZ_TRACE set: print each operation */
static unsigned raised;
static uint32_t raised_status;

/* ---- input ---------------------------------------------------------------- */

struct input {
  const uint8_t* data;
  size_t size;
};

static bool more(const struct input* in) {
  return in->size > 0;
}

static uint8_t u8(struct input* in) {
  if (in->size == 0)
    return 0;
  in->size--;
  return *in->data++;
}

static uint16_t u16(struct input* in) {
  return (uint16_t)(u8(in) | (u8(in) << 8));
}

static uint64_t u64(struct input* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v |= (uint64_t)u8(in) << (8 * i);
  return v;
}

/* ---- checking ------------------------------------------------------------- */

static _Noreturn void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fuzz-heap: model mismatch: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond))                                                               \
      fail(__VA_ARGS__);                                                       \
  } while (0)

static void expect_error(uint32_t want, const char* call) {
  uint32_t got = ph_get_last_error();
  EXPECT(got == want, "%s: last error %u, want %u", call, got, want);
}

static void expect_untouched(const char* call) {
  expect_error(SENTINEL_ERROR, call);
}

/* Whether the 16 bytes before p (a block's header) can be read: their
 * page is mapped (mincore reads nothing there). */
static bool header_readable(const void* p) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  uintptr_t at = (uintptr_t)p - 16;
  unsigned char vec[1];
  return mincore((void*)(at & ~(uintptr_t)(page - 1)), page, (void*)vec) == 0 ||
         errno != ENOMEM;
}

static void on_exception(uint32_t status, void* heap, void* arg) {
  (void)heap;
  (void)arg;
  raised++;
  raised_status = status;
}

/* Whether the last call raised as it should have: once with `status` if
 * `expect`, else not at all. */
static void expect_raise(bool expect, uint32_t status, const char* call) {
  if (expect)
    EXPECT(raised == 1 && raised_status == status,
           "%s: raised %u times, status 0x%X, want once 0x%X", call, raised,
           raised_status, status);
  else
    EXPECT(raised == 0, "%s: raised 0x%X on success", call, raised_status);
  raised = 0;
}

/* Fill pattern: byte-exact up to 64 KiB; in bigger blocks constant over
 * each 64-byte line (written with memset: ASan-instrumented byte loops over
 * megabytes would dominate the run). */
#define COARSE_FROM ((size_t)64 << 10)

static unsigned char pattern(uint32_t seed, size_t j, bool coarse) {
  if (coarse)
    j = (j >> 6) * 0x9E37u + (j >> 14);
  return (unsigned char)(seed + j * 7u + (j >> 8));
}

static void fill(struct block* b) {
  if (b->size <= COARSE_FROM) {
    for (size_t j = 0; j < b->size; j++)
      b->p[j] = pattern(b->seed, j, false);
    return;
  }
  for (size_t j = 0; j < b->size; j += 64) {
    size_t n = b->size - j < 64 ? b->size - j : 64;
    memset(b->p + j, pattern(b->seed, j, true), n);
  }
}

/* Check bytes [from, to) of a block filled when it was `size` bytes. */
static void check_range(const unsigned char* p, size_t from, size_t to,
                        uint32_t seed, size_t size, const char* what) {
  bool coarse = size > COARSE_FROM;
  size_t step = coarse ? 61 : 1;
  for (size_t j = from; j < to; j += (to - j <= 64) ? 1 : step)
    EXPECT(p[j] == pattern(seed, j, coarse),
           "%s: block %p byte %zu is %u, want %u", what, (void*)p, j, p[j],
           pattern(seed, j, coarse));
}

static void check_block(const struct block* b, const char* what) {
  check_range(b->p, 0, b->size, b->seed, b->size, what);
}

static void expect_zero(const unsigned char* p, size_t from, size_t to,
                        const char* what) {
  static const unsigned char zeros[4096];
  for (size_t j = from; j < to; j += sizeof zeros) {
    size_t n = to - j < sizeof zeros ? to - j : sizeof zeros;
    if (memcmp(p + j, zeros, n) != 0)
      fail("%s: a byte in [%zu, %zu) of %p is not 0", what, j, j + n,
           (void*)p);
  }
}

/* ---- the model ------------------------------------------------------------ */

static struct heap* heap_at(struct input* in, int* index) {
  int i = u8(in) % HEAP_SLOTS;
  if (heaps[i].h == NULL)
    i = PROCESS;
  *index = i;
  return &heaps[i];
}

static struct block* block_at(struct input* in) {
  unsigned start = u8(in) % MAX_BLOCKS;
  for (unsigned k = 0; k < MAX_BLOCKS; k++) {
    struct block* b = &blocks[(start + k) % MAX_BLOCKS];
    if (b->heap >= 0)
      return b;
  }
  return NULL;
}

static struct block* free_slot(void) {
  for (unsigned k = 0; k < MAX_BLOCKS; k++)
    if (blocks[k].heap < 0)
      return &blocks[k];
  return NULL;
}

/* Whether p is the start of a live block (of any heap). */
static bool is_live_block(const void* p) {
  for (unsigned k = 0; k < MAX_BLOCKS; k++)
    if (blocks[k].heap >= 0 && blocks[k].p == p)
      return true;
  return false;
}

static bool is_live_heap(const void* h) {
  for (int i = 0; i < HEAP_SLOTS; i++)
    if (heaps[i].h != NULL && heaps[i].h == h)
      return true;
  return false;
}

static void remember_stale(void* p) {
  stale_ptrs[stale_next++ % MAX_STALE] = p;
}

/* A new block must not overlap any live one. */
static void expect_apart(const unsigned char* p, size_t n,
                         const struct block* self) {
  size_t len = n ? n : 1;
  for (unsigned k = 0; k < MAX_BLOCKS; k++) {
    const struct block* b = &blocks[k];
    if (b->heap < 0 || b == self)
      continue;
    size_t blen = b->size ? b->size : 1;
    EXPECT(p + len <= b->p || b->p + blen <= p,
           "block %p+%zu overlaps live block %p+%zu", (void*)p, n,
           (void*)b->p, b->size);
  }
}

/* Sizes: mostly small, some medium, a few large, the fixed-heap limit and
 * the top of the address space. */
static size_t decode_size(struct input* in) {
  uint8_t c = u8(in);
  if (c < 128)
    return (size_t)c * 4u + (u8(in) & 3u);
  if (c < 192)
    return 512u + ((size_t)(c - 128) << 6) + (u8(in) & 63u);
  if (c < 236)
    return ((size_t)(c - 192) << 12) + u16(in);
  if (c < 246)
    return ((size_t)1 << 20) + (size_t)(c - 236) * (256u << 10) + u16(in);
  if (c < 250)
    return FIXED_BLOCK_MAX - 1u + (c - 246);
  switch (c) {
  case 250: return SIZE_MAX - u8(in);
  case 251: return SIZE_MAX / 2 + 1 - u8(in);
  case 252: return SIZE_MAX - ((size_t)u16(in) << 4);
  case 253: return ((size_t)UINT32_MAX + 1) * 16u - u8(in);
  default: return (size_t)u64(in);
  }
}

/* Whether a request of n bytes may fail with no memory on heap hp:
 * fixed heaps fill up; absurd sizes fail everywhere. */
static bool may_fail(const struct heap* hp, size_t n) {
  if (n > ((size_t)1 << 40))
    return true;
  if (hp->maximum == 0)
    return false;
  return n > FIXED_BLOCK_MAX || hp->live_bytes + n > hp->maximum / 4;
}

static bool must_fail(const struct heap* hp, size_t n) {
  if (n >= SIZE_MAX - ((size_t)1 << 32))
    return true;
  return hp->maximum != 0 && (n > FIXED_BLOCK_MAX || n > hp->maximum);
}

/* ---- operations ----------------------------------------------------------- */

static void op_create(struct input* in) {
  int slot = -1;
  for (int i = 0; i < MAX_HEAPS; i++)
    if (heaps[i].h == NULL)
      slot = i;
  uint8_t kind = u8(in);
  if (slot < 0)
    return;
  static const size_t maxima[] = {0, 0, (size_t)64 << 10, (size_t)256 << 10,
                                  (size_t)1 << 20, (size_t)4 << 20};
  size_t maximum = maxima[kind % 6];
  uint32_t options = (kind & 0x40) ? PH_HEAP_NO_SERIALIZE : 0;
  if (kind & 0x80)
    options |= PH_HEAP_GENERATE_EXCEPTIONS;
  if ((kind & 0x30) == 0x30)
    options |= 0xFFF80000u & ~PH_HEAP_CREATE_ENABLE_EXECUTE; /* unknown */
  size_t initial = (size_t)(u8(in) % 8) << 12;
  if (sizeof(size_t) > 4 && (kind & 0x0F) == 0x0F) {
    /* Beyond the engine's 32 GiB region limit (block sizes are 32-bit
     * granule counts): refused, never made with a truncated block. */
    size_t huge = ((size_t)32 << 30) + 1 + ((size_t)u8(in) << 24);
    ph_set_last_error(SENTINEL_ERROR);
    void* h = (kind & 0x40) ? ph_heap_create(options, huge, 0)
                            : ph_heap_create(options, 0, huge);
    EXPECT(h == NULL, "create of %zu bytes accepted", huge);
    expect_error(PH_ERROR_NOT_ENOUGH_MEMORY, "create beyond the limit");
    return;
  }
  ph_set_last_error(SENTINEL_ERROR);
  void* h = ph_heap_create(options, initial, maximum);
  if (maximum != 0 && initial > maximum) {
    EXPECT(h == NULL, "create: initial > maximum accepted");
    expect_error(PH_ERROR_INVALID_PARAMETER, "create");
    return;
  }
  EXPECT(h != NULL, "create(0x%X, %zu, %zu) failed: %u", options, initial,
         maximum, ph_get_last_error());
  expect_untouched("create");
  EXPECT(!is_live_heap(h), "create: handle %p already live", h);
  for (unsigned i = 0; i < MAX_STALE; i++) /* the engine quarantines 128 */
    EXPECT(dead_heaps[i] != h, "create: destroyed handle %p given again", h);
  heaps[slot] = (struct heap){h, options, maximum, 0, 0};
}

static uint32_t alloc_flags(struct input* in) {
  uint8_t f = u8(in);
  uint32_t flags = 0;
  if (f & 1)
    flags |= PH_HEAP_ZERO_MEMORY;
  if ((f & 6) == 6)
    flags |= PH_HEAP_GENERATE_EXCEPTIONS;
  if (f & 0x80)
    flags |= 0xFF000000u; /* unknown bits, ignored */
  return flags;
}

static void op_alloc(struct input* in) {
  int hi;
  struct heap* hp = heap_at(in, &hi);
  size_t n = decode_size(in);
  uint32_t flags = alloc_flags(in);
  struct block* b = free_slot();
  if (b == NULL || (!must_fail(hp, n) && total_live + n > LIVE_LIMIT))
    return;
  bool raising = ((flags | hp->options) & PH_HEAP_GENERATE_EXCEPTIONS) != 0;
  ph_set_last_error(SENTINEL_ERROR);
  unsigned char* p = ph_heap_alloc(hp->h, flags, n);
  if (p == NULL) {
    EXPECT(may_fail(hp, n) || must_fail(hp, n),
           "alloc(%zu) failed on heap %d (max %zu, live %zu)", n, hi,
           hp->maximum, hp->live_bytes);
    expect_error(PH_ERROR_NOT_ENOUGH_MEMORY, "alloc");
    expect_raise(raising, PH_STATUS_NO_MEMORY, "alloc");
    return;
  }
  EXPECT(!must_fail(hp, n), "alloc(%zu) succeeded on heap %d", n, hi);
  expect_untouched("alloc");
  expect_raise(false, 0, "alloc");
  EXPECT(((uintptr_t)p & 15u) == 0, "alloc: %p misaligned", (void*)p);
  EXPECT(ph_heap_size(hp->h, 0, p) == n, "alloc: size %zu, want %zu",
         ph_heap_size(hp->h, 0, p), n);
  if (flags & PH_HEAP_ZERO_MEMORY)
    expect_zero(p, 0, n, "alloc zeroed");
  expect_apart(p, n, NULL);
  *b = (struct block){hi, p, n, ++seed_counter};
  fill(b);
  hp->live_bytes += n;
  total_live += n;
}

static void op_realloc(struct input* in) {
  struct block* b = block_at(in);
  size_t n = decode_size(in);
  uint32_t flags = alloc_flags(in);
  uint8_t f = u8(in);
  if (b == NULL)
    return;
  struct heap* hp = &heaps[b->heap];
  if (f & 1)
    flags |= PH_HEAP_REALLOC_IN_PLACE_ONLY;
  if (!must_fail(hp, n) && n > b->size && total_live + n - b->size > LIVE_LIMIT)
    return;
  bool raising = ((flags | hp->options) & PH_HEAP_GENERATE_EXCEPTIONS) != 0;
  ph_set_last_error(SENTINEL_ERROR);
  unsigned char* q = ph_heap_realloc(hp->h, flags, b->p, n);
  if (q == NULL) {
    EXPECT((flags & PH_HEAP_REALLOC_IN_PLACE_ONLY) || may_fail(hp, n) ||
               must_fail(hp, n),
           "realloc(%zu -> %zu) failed on heap %d", b->size, n, b->heap);
    expect_error(PH_ERROR_NOT_ENOUGH_MEMORY, "realloc");
    expect_raise(raising, PH_STATUS_NO_MEMORY, "realloc");
    EXPECT(ph_heap_size(hp->h, 0, b->p) == b->size, "failed realloc: size");
    check_block(b, "failed realloc");
    return;
  }
  EXPECT(!must_fail(hp, n), "realloc(%zu) succeeded", n);
  expect_untouched("realloc");
  expect_raise(false, 0, "realloc");
  if (flags & PH_HEAP_REALLOC_IN_PLACE_ONLY)
    EXPECT(q == b->p, "in-place realloc moved %p to %p", (void*)b->p,
           (void*)q);
  EXPECT(((uintptr_t)q & 15u) == 0, "realloc: misaligned");
  EXPECT(ph_heap_size(hp->h, 0, q) == n, "realloc: size %zu, want %zu",
         ph_heap_size(hp->h, 0, q), n);
  size_t keep = n < b->size ? n : b->size;
  check_range(q, 0, keep, b->seed, b->size, "realloc kept");
  if ((flags & PH_HEAP_ZERO_MEMORY) && n > b->size)
    expect_zero(q, b->size, n, "realloc zeroed");
  if (q != b->p)
    remember_stale(b->p);
  expect_apart(q, n, b);
  hp->live_bytes += n - b->size;
  total_live += n - b->size;
  b->p = q;
  b->size = n;
  b->seed = ++seed_counter;
  fill(b);
}

static void block_forget(struct block* b) {
  heaps[b->heap].live_bytes -= b->size;
  total_live -= b->size;
  remember_stale(b->p);
  b->heap = -1;
}

static void op_free(struct input* in) {
  struct block* b = block_at(in);
  if (b == NULL)
    return;
  check_block(b, "free");
  ph_set_last_error(SENTINEL_ERROR);
  EXPECT(ph_heap_free(heaps[b->heap].h, u8(in) & 0x80 ? 0xFF000000u : 0, b->p),
         "free of a live block failed: %u", ph_get_last_error());
  expect_untouched("free");
  block_forget(b);
}

static void op_check(struct input* in) {
  struct block* b = block_at(in);
  if (b == NULL)
    return;
  void* h = heaps[b->heap].h;
  ph_set_last_error(SENTINEL_ERROR);
  EXPECT(ph_heap_size(h, 0, b->p) == b->size, "size");
  EXPECT(ph_heap_validate(h, 0, b->p), "validate of a live block");
  EXPECT(ph_heap_validate(h, 0, NULL), "validate of heap %d", b->heap);
  expect_untouched("size/validate");
  check_block(b, "check");
}

/* Walk heap hi under its lock: exactly the model's blocks are busy. */
static void walk_heap(int hi) {
  struct heap* hp = &heaps[hi];
  EXPECT(ph_heap_lock(hp->h), "lock for walk");
  ph_heap_entry_t e;
  memset(&e, 0, sizeof e);
  unsigned busy = 0, model = 0, steps = 0;
  while (ph_heap_walk(hp->h, &e)) {
    EXPECT(++steps < 10000000u, "walk does not end");
    if (!(e.wFlags & PH_PROCESS_HEAP_ENTRY_BUSY))
      continue;
    busy++;
    bool found = false;
    for (unsigned k = 0; k < MAX_BLOCKS && !found; k++) {
      const struct block* b = &blocks[k];
      if (b->heap == hi && b->p == e.lpData) {
        found = true;
        uint32_t want = b->size > UINT32_MAX ? UINT32_MAX : (uint32_t)b->size;
        EXPECT(e.cbData == want, "walk: block %p cbData %u, want %u",
               e.lpData, e.cbData, want);
      }
    }
    EXPECT(found, "walk: busy entry %p is no live block of heap %d", e.lpData,
           hi);
  }
  expect_error(PH_ERROR_NO_MORE_ITEMS, "walk end");
  EXPECT(ph_heap_unlock(hp->h), "unlock after walk");
  for (unsigned k = 0; k < MAX_BLOCKS; k++)
    model += blocks[k].heap == hi;
  EXPECT(busy == model, "walk of heap %d: %u busy, model %u", hi, busy, model);
}

static void op_walk(struct input* in) {
  int hi;
  heap_at(in, &hi);
  walk_heap(hi);
}

static void op_compact_summary(struct input* in) {
  int hi;
  struct heap* hp = heap_at(in, &hi);
  ph_set_last_error(SENTINEL_ERROR);
  size_t largest = ph_heap_compact(hp->h, 0);
  if (largest == 0)
    expect_error(PH_NO_ERROR, "compact with no free space");
  else
    expect_untouched("compact");
  ph_heap_summary_t s;
  memset(&s, 0, sizeof s);
  s.cb = sizeof s;
  EXPECT(ph_heap_summary(hp->h, 0, &s), "summary");
  EXPECT(s.cbAllocated == hp->live_bytes,
         "summary of heap %d: allocated %zu, model %zu", hi, s.cbAllocated,
         hp->live_bytes);
  EXPECT(s.cbAllocated <= s.cbCommitted && s.cbCommitted <= s.cbReserved &&
             s.cbReserved <= s.cbMaxReserve,
         "summary order: %zu %zu %zu %zu", s.cbAllocated, s.cbCommitted,
         s.cbReserved, s.cbMaxReserve);
  EXPECT(ph_heap_validate(hp->h, 0, NULL), "validate after compact");
}

static void op_lock(struct input* in) {
  int hi;
  struct heap* hp = heap_at(in, &hi);
  bool serialized = (hp->options & PH_HEAP_NO_SERIALIZE) == 0;
  if (u8(in) & 1) {
    if (hp->lock_depth >= 8)
      return;
    EXPECT(ph_heap_lock(hp->h), "lock of heap %d failed: %u", hi,
           ph_get_last_error());
    hp->lock_depth++;
    return;
  }
  ph_set_last_error(SENTINEL_ERROR);
  int ok = ph_heap_unlock(hp->h);
  if (hp->lock_depth == 0 && serialized) {
    EXPECT(!ok, "unlock of an unlocked heap succeeded");
    expect_error(PH_ERROR_INVALID_PARAMETER, "unlock");
    return;
  }
  EXPECT(ok, "unlock failed: %u", ph_get_last_error());
  expect_untouched("unlock");
  if (hp->lock_depth > 0)
    hp->lock_depth--;
}

static void heap_destroy(int hi) {
  struct heap* hp = &heaps[hi];
  while (hp->lock_depth > 0) {
    EXPECT(ph_heap_unlock(hp->h), "unlock before destroy");
    hp->lock_depth--;
  }
  for (unsigned k = 0; k < MAX_BLOCKS; k++)
    if (blocks[k].heap == hi)
      block_forget(&blocks[k]);
  ph_set_last_error(SENTINEL_ERROR);
  EXPECT(ph_heap_destroy(hp->h), "destroy failed: %u", ph_get_last_error());
  expect_untouched("destroy");
  dead_heaps[dead_next++ % MAX_STALE] = hp->h;
  hp->h = NULL;
}

static void op_destroy(struct input* in) {
  int hi;
  heap_at(in, &hi);
  if (hi == PROCESS) {
    ph_set_last_error(SENTINEL_ERROR);
    EXPECT(!ph_heap_destroy(heaps[PROCESS].h), "process heap destroyed");
    expect_error(PH_ERROR_INVALID_HANDLE, "destroy process heap");
    return;
  }
  heap_destroy(hi);
}

/*
 * Bad pointers for heap hi.  Each is refused by the engine (FALSE, NULL or
 * (SIZE_T)-1 with ERROR_INVALID_PARAMETER) because none is the start of a
 * live block of hi: bad_pointer drops a candidate that is one.  Only hi's
 * blocks are excluded; a live block of another heap is a bad pointer for
 * hi (BAD_FOREIGN).  Every live block of every heap, the process heap's
 * included, is in blocks[]: nothing else allocates from these heaps.
 */
enum bad_kind {
  /* A block freed (or left behind by a moving realloc) earlier in this
   * input, including one merged into a free neighbour since and one of a
   * destroyed heap.  If its address has been handed out again it is a
   * live block once more: of hi (dropped) or of another heap (foreign). */
  BAD_FREED,
  /* Inside a live block, from its second byte up to 64 bytes past its end
   * (over the next block's header).  Dropped if it meets the start of the
   * next block of hi. */
  BAD_INTERIOR,
  /* A live block of another heap (the process heap included). */
  BAD_FOREIGN,
  /* Any 64-bit value: mostly unmapped, now and then a real address that
   * libFuzzer's comparison tracing has fed back into the input. */
  BAD_WILD,
  /* 16-byte aligned, within 64 KiB of hi's handle: the heap's control
   * structure, its first region's headers and blocks. */
  BAD_NEAR_HANDLE,
  BAD_KINDS
};

static const char* const bad_kind_name[BAD_KINDS] = {
    "freed", "interior", "foreign", "wild", "near handle"};

/* A bad pointer for heap hi and its kind; NULL if none can be had. */
static void* bad_pointer(struct input* in, int hi, enum bad_kind* kind) {
  struct block* b;
  void* p = NULL;
  *kind = (enum bad_kind)(u8(in) % BAD_KINDS);
  switch (*kind) {
  case BAD_FREED: {
    unsigned n = stale_next < MAX_STALE ? stale_next : MAX_STALE;
    uint8_t i = u8(in);
    if (n > 0)
      p = stale_ptrs[i % n];
    break;
  }
  case BAD_INTERIOR:
    b = block_at(in);
    if (b != NULL)
      p = b->p + 1 + u16(in) % (b->size + 64);
    break;
  case BAD_FOREIGN:
    b = block_at(in);
    if (b != NULL && b->heap != hi)
      p = b->p;
    break;
  case BAD_WILD:
    p = (void*)(uintptr_t)u64(in);
    break;
  default:
    p = (char*)heaps[hi].h + (u16(in) & ~15u);
    break;
  }
  if (p == NULL)
    return NULL;
  for (unsigned k = 0; k < MAX_BLOCKS; k++)
    if (blocks[k].heap == hi && blocks[k].p == p)
      return NULL; /* a live block of hi: not bad */
  return p;
}

static void op_bad_block(struct input* in) {
  int hi;
  struct heap* hp = heap_at(in, &hi);
  enum bad_kind kind;
  void* p = bad_pointer(in, hi, &kind);
  const char* what = bad_kind_name[kind];
  uint8_t call = u8(in) % 4;
  if (p == NULL)
    return;
  if (trace)
    fprintf(stderr, "  bad %s pointer %p for heap %d, call %u\n", what, p,
            hi, call);
  ph_set_last_error(SENTINEL_ERROR);
  switch (call) {
  case 0:
    EXPECT(!ph_heap_free(hp->h, 0, p),
           "free of bad pointer %p (%s) succeeded on heap %d", p, what, hi);
    break;
  case 1:
    EXPECT(ph_heap_size(hp->h, 0, p) == (size_t)-1,
           "size of bad pointer %p (%s) on heap %d", p, what, hi);
    break;
  case 2: {
    uint32_t flags = u8(in) & 1 ? PH_HEAP_GENERATE_EXCEPTIONS : 0;
    bool raising = ((flags | hp->options) & PH_HEAP_GENERATE_EXCEPTIONS) != 0;
    EXPECT(ph_heap_realloc(hp->h, flags, p, decode_size(in)) == NULL,
           "realloc of bad pointer %p (%s) on heap %d", p, what, hi);
    expect_raise(raising, PH_STATUS_ACCESS_VIOLATION, "bad realloc");
    break;
  }
  default:
    EXPECT(!ph_heap_validate(hp->h, 0, p),
           "validate of bad pointer %p (%s) on heap %d", p, what, hi);
    /* As Windows: ERROR_NOACCESS where the header cannot be read. */
    if (header_readable(p))
      expect_untouched("validate of bad pointer");
    else
      expect_error(PH_ERROR_NOACCESS, "validate of unreadable pointer");
    return;
  }
  expect_error(PH_ERROR_INVALID_PARAMETER, "bad block");
}

static void op_bad_handle(struct input* in) {
  void* h;
  uint8_t kind = u8(in) % 3;
  if (kind == 0)
    h = dead_heaps[u8(in) % MAX_STALE];
  else if (kind == 1)
    h = (void*)(uintptr_t)u64(in);
  else
    h = (void*)((uintptr_t)u64(in) & ~(uintptr_t)0xFFFF);
  if (h == NULL)
    return;
  EXPECT(kind != 0 || !is_live_heap(h), "destroyed handle %p is live", h);
  if (is_live_heap(h))
    return;
  struct block* b = block_at(in);
  void* p = b != NULL ? b->p : NULL;
  uint8_t call = u8(in) % 6;
  ph_set_last_error(SENTINEL_ERROR);
  switch (call) {
  case 0:
    EXPECT(ph_heap_alloc(h, 0, 16) == NULL, "alloc on bad heap %p", h);
    break;
  case 1:
    if (p == NULL) { /* NULL is checked first: TRUE, whatever the heap */
      EXPECT(ph_heap_free(h, 0, NULL), "free(NULL) on bad heap %p", h);
      expect_untouched("free(NULL) on a bad heap");
      return;
    }
    EXPECT(ph_heap_free(h, 0, p) == 0, "free on bad heap %p", h);
    break;
  case 2:
    EXPECT(ph_heap_size(h, 0, p) == (size_t)-1, "size on bad heap %p", h);
    break;
  case 3:
    EXPECT(ph_heap_realloc(h, 0, p, 100) == NULL, "realloc on bad heap");
    break;
  case 4: {
    ph_heap_entry_t e;
    memset(&e, 0, sizeof e);
    EXPECT(!ph_heap_walk(h, &e), "walk of bad heap %p", h);
    break;
  }
  default:
    EXPECT(!ph_heap_lock(h), "lock of bad heap %p", h);
    break;
  }
  expect_error(PH_ERROR_INVALID_HANDLE, "bad handle");
  EXPECT(!ph_heap_validate(h, 0, p), "validate of bad heap %p", h);
}

/* ---- one input ------------------------------------------------------------ */

static void reset_model(void) {
  memset(heaps, 0, sizeof heaps);
  for (unsigned k = 0; k < MAX_BLOCKS; k++)
    blocks[k].heap = -1;
  heaps[PROCESS].h = ph_process_heap();
  total_live = 0;
  raised = 0;
  memset(stale_ptrs, 0, sizeof stale_ptrs); /* inputs stand alone */
  memset(dead_heaps, 0, sizeof dead_heaps);
  stale_next = dead_next = 0;
}

static void end_of_input(void) {
  for (unsigned k = 0; k < MAX_BLOCKS; k++)
    if (blocks[k].heap >= 0)
      check_block(&blocks[k], "end of input");
  for (int i = 0; i < HEAP_SLOTS; i++)
    if (heaps[i].h != NULL) {
      EXPECT(ph_heap_validate(heaps[i].h, 0, NULL), "validate heap %d", i);
      walk_heap(i);
    }
  for (int i = 0; i < MAX_HEAPS; i++)
    if (heaps[i].h != NULL)
      heap_destroy(i);
  struct heap* pp = &heaps[PROCESS];
  for (; pp->lock_depth > 0; pp->lock_depth--)
    EXPECT(ph_heap_unlock(pp->h), "unlock the process heap");
  for (unsigned k = 0; k < MAX_BLOCKS; k++)
    if (blocks[k].heap == PROCESS) {
      EXPECT(ph_heap_free(pp->h, 0, blocks[k].p), "free at the end");
      block_forget(&blocks[k]);
    }
  EXPECT(ph_process_heaps(0, NULL) == 1, "%u heaps left after the input",
         ph_process_heaps(0, NULL));
  EXPECT(ph_heap_validate(pp->h, 0, NULL), "process heap at the end");
}

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc;
  (void)argv;
  ph_region_cache_limit((size_t)16 << 20);
  ph_set_exception_handler(on_exception, NULL);
  trace = getenv("PH_FUZZ_TRACE") != NULL;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct input in = {data, size};
  reset_model();
  unsigned ops = 0;
  while (more(&in) && ops++ < 2000) {
    uint8_t op = u8(&in) % 16;
    if (trace)
      fprintf(stderr, "op %u: %u (%zu bytes left)\n", ops, op, in.size);
    switch (op) {
    case 0: op_create(&in); break;
    case 1: case 2: case 3: op_alloc(&in); break;
    case 4: case 5: op_realloc(&in); break;
    case 6: case 7: op_free(&in); break;
    case 8: op_check(&in); break;
    case 9: op_walk(&in); break;
    case 10: op_compact_summary(&in); break;
    case 11: op_lock(&in); break;
    case 12: op_destroy(&in); break;
    case 13: case 14: op_bad_block(&in); break;
    default: op_bad_handle(&in); break;
    }
  }
  end_of_input();
  return 0;
}
