/*
 * block.h - the 8-byte header in front of every block, its check value,
 * and the size a free block keeps at its end.
 *
 * Blocks live in regions (region.c) back to back.  A block's header is the
 * 8 bytes just before its data, and its data is 16-byte aligned, so every
 * header sits at 8 modulo 16; a block spans from its header to the next
 * header, a whole number of 16-byte granules:
 *
 *   [region header][hdr|data ...][hdr|data ...] ... [hdr]  ... uncommitted
 *                  ^ 8 mod 16                        ^ sentinel
 *
 * So a request of n bytes takes ALIGN16(max(n, 16) + 8) bytes, as on
 * Windows (8 bytes of header, not 16), and a block of g granules holds
 * 16g - 8 bytes.  The sentinel is a header alone at the committed end; it
 * stops forward coalescing and walks.
 *
 * A FREE block holds two encoded links (its bin list) in its first 16
 * payload bytes and its size in its last 8 (its footer), and the header of
 * the block after it says so (PH__PREV_FREE): that is how a freed block
 * finds a FREE block before it to merge with (dlmalloc's boundary tags).
 * A busy block's last 8 bytes are its caller's.  So the smallest block is
 * 2 granules: header, links, footer.  The victim (bins.c) is the one FREE
 * block whose footer is not kept: its size changes at every carve, and
 * whoever looks before a block checks first whether the victim ends there.
 *
 * Invariants (ph_heap_validate checks them, the engine relies on them):
 *   every header checks (ph__block_sealed, with its heap's keys); anything
 *     else is a trampled header or a pointer that is not a block of it
 *   a header that stops being one (merged into a neighbour, or moved) is
 *     wiped, so that a sealed header is always a block's start
 *   size >= 2 granules (the sentinel: 1)
 *   PH__PREV_FREE set <=> the block before is FREE; then that block's
 *     footer holds its size, unless it is the victim
 *   state FREE   => in exactly one bin, or the victim; never next to
 *     another FREE block (so a FREE block's PH__PREV_FREE is clear)
 *   state QUICK  => on exactly one quick list (freed, not yet coalesced)
 *   state BUSY   => handed out; payload bytes - slack == requested size,
 *     the slack in the header, or from PH__SLACK_EXT on in the block's
 *     last 8 bytes with a check of its own (ph__block_slack_of)
 */
#ifndef PH_BLOCK_H
#define PH_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#  error "the block header layout assumes a little-endian machine"
#endif

#define PH__GRANULE 16u /* bytes; block spans are multiples */
#define PH__GRANULE_SHIFT 4
#define PH__HEADER 8u    /* bytes of a block's header, just before its data */
#define PH__MIN_BLOCK 2u /* granules: header, two links, footer */
#define PH__SLACK_EXT 127u /* in the header: the slack is this or more, and
                              kept in the block's last 8 bytes
                              (ph__block_slack_store) */

enum ph__block_state {
  PH__STATE_FREE = 0x3F,     /* in a bin, or the victim */
  PH__STATE_QUICK = 0x5A,    /* in a quick list */
  PH__STATE_BUSY = 0xB7,     /* live block of the caller */
  PH__STATE_SENTINEL = 0xE1, /* end of the committed part of a region */
  PH__STATE_LARGE = 0xC9,    /* live block with a mapping of its own */
  PH__STATE_RUN = 0x96,      /* a slot of a run, busy or free (runs.h) */
  PH__STATE_RUN_HEAD = 0x74  /* the head of a run, its descriptor inside */
};
#define PH__SLACK_MASK 0x7Fu
#define PH__PREV_FREE 0x80u /* in `slack_pf`: the block before is FREE */
#define PH__FREE_PURGED 1u  /* in a FREE block's slack bits: its pages went
                               back to the system (ph__bins_purge) since it
                               was last written; any rewrite clears it */
#define PH__FREE_PARTLY 2u  /* the same for the pages from its end back to
                               a mark it keeps (bins.c: a block too big to
                               give back in one step) */

struct ph__block {
  union {
    struct {
      uint32_t size;    /* granules to the next header; first, so that an
                           overrun of the block before, however short,
                           changes a sealed field */
      uint8_t slack_pf; /* payload bytes past the requested size (low 7
                           bits), | PH__PREV_FREE */
      uint8_t state;    /* enum ph__block_state */
      uint16_t check;   /* seal over size .. state, the address, the heap */
    };
    uint64_t word; /* all of it, for the atomic accesses below */
  };
};

_Static_assert(sizeof(struct ph__block) == PH__HEADER, "header size");

/* Links of a free block, in its payload; stored encoded (ph__encode). */
struct ph__links {
  uintptr_t next;
  uintptr_t prev;
};

/* The index of the highest set bit of x (x != 0). */
static inline unsigned ph__msb32(uint32_t x) {
#if defined(__GNUC__)
  return 31u - (unsigned)__builtin_clz(x);
#else
  unsigned n = 0;
  while (x >>= 1)
    n++;
  return n;
#endif
}

/* The index of the lowest set bit of x (x != 0). */
static inline unsigned ph__ctz64(uint64_t x) {
#if defined(__GNUC__)
  return (unsigned)__builtin_ctzll(x);
#else
  unsigned n = 0;
  while (!(x & 1u)) {
    x >>= 1;
    n++;
  }
  return n;
#endif
}

static inline void* ph__block_data(const struct ph__block* b) {
  return (char*)b + PH__HEADER;
}

static inline struct ph__block* ph__block_of(const void* data) {
  return (struct ph__block*)((char*)data - PH__HEADER);
}

/* The header as it lies in memory (one load); the sealed fields are its
 * low 48 bits, the check the high 16 (little-endian). */
static inline uint64_t ph__block_word(const struct ph__block* b) {
  uint64_t w;
  memcpy(&w, b, 8);
  return w;
}

#define PH__FIELDS_MASK (((uint64_t)1 << 48) - 1)

/* The state in header word w. */
static inline unsigned ph__block_word_state(uint64_t w) {
  return (unsigned)(w >> 40) & 0xFFu;
}

/* A run slot's header (PH__STATE_RUN) keeps two numbers in its size
 * field: the slot's granules below PH__RUN_SIZE_SHIFT, and above them the
 * granules from its run's slot 0 to it (its index times its granules), so
 * that a HeapFree finds the run's descriptor without a multiplication on
 * the way to the bitmap (runs.h: ph__run_of). */
#define PH__RUN_SIZE_SHIFT 8u

/* The granules of the run slot whose header word is w. */
static inline uint32_t ph__run_granules(uint64_t w) {
  return (uint32_t)w & ((1u << PH__RUN_SIZE_SHIFT) - 1);
}

/* The granules of the block whose header word is w. */
static inline uint32_t ph__word_size(uint64_t w) {
  return ph__block_word_state(w) == PH__STATE_RUN ? ph__run_granules(w)
                                                  : (uint32_t)w;
}

/* The fields, read through ph__block_word: one load for all of them, which
 * the compiler shares between a check and the reads after it. */
static inline uint32_t ph__block_size(const struct ph__block* b) {
  return ph__word_size(ph__block_word(b));
}

static inline struct ph__block* ph__block_next(const struct ph__block* b) {
  return (struct ph__block*)((char*)b + ((size_t)ph__block_size(b)
                                         << PH__GRANULE_SHIFT));
}

/* Payload bytes of a block of g granules (capacity, not the requested
 * size). */
static inline size_t ph__granules_payload(uint32_t g) {
  return ((size_t)g << PH__GRANULE_SHIFT) - PH__HEADER;
}

static inline size_t ph__block_capacity(const struct ph__block* b) {
  return ph__granules_payload(ph__block_size(b));
}

/* The footer of FREE block b: its size, in its last 8 bytes (where the
 * block after it can find it). */
static inline void ph__block_footer_set(struct ph__block* b) {
  uint64_t size = b->size;
  memcpy((char*)ph__block_next(b) - 8, &size, 8);
}

/* What the 8 bytes before header b say the FREE block before it spans, in
 * granules (meaningful only if b has PH__PREV_FREE; checked by the caller
 * against that block's header). */
static inline uint64_t ph__block_footer_before(const struct ph__block* b) {
  uint64_t size;
  memcpy(&size, (const char*)b - 8, 8);
  return size;
}

static inline unsigned ph__block_state(const struct ph__block* b) {
  return ph__block_word_state(ph__block_word(b));
}

/* Payload bytes past the requested size. */
static inline unsigned ph__block_slack(const struct ph__block* b) {
  return (unsigned)(ph__block_word(b) >> 32) & PH__SLACK_MASK;
}

/* Whether b's header says the block before it is FREE. */
static inline bool ph__block_prev_free(const struct ph__block* b) {
  return (ph__block_word(b) >> 32) & PH__PREV_FREE;
}

/* The sealed fields as ph__block_word reads them back, built in registers
 * (slack and state below 256; `slack` may carry PH__PREV_FREE). */
static inline uint64_t ph__block_word_of(uint32_t size, uint32_t slack,
                                         uint32_t state) {
  return size | (uint64_t)slack << 32 | (uint64_t)state << 40;
}

/*
 * A heap's secrets for check values (struct ph__heap's `seal`), drawn from
 * the system's random source when the heap is made (random.c).  None of
 * them is stored outside the heap's control structure.
 */
struct ph__seal_keys {
  uint64_t addr; /* XORed into the address of what is sealed; odd */
  uint64_t word; /* XORed into a header's sealed fields */
  uint64_t link; /* XORed into a stored quick-list link (small.h) */
  uint64_t run;  /* XORed with a run descriptor's address: its canary
                    (runs.h); with a block's: the guests' mark
                    (ph__remote_mark, engine.h) */
};

/*
 * The keyed product of x lying at `at` (a header's sealed fields, a
 * quick-list link):
 *   m = at ^ k->addr                 (odd: at is even, k->addr odd)
 *   ph__seal_product = (x ^ key) * m  (mod 2^64)
 * of which a check keeps only high bits (the low k bits of a product
 * depend only on its factors' low k bits, which would let stored values
 * be solved bit by bit).  Both factors are secret, so no stored word holds
 * a key, nor a key XORed or added to what a reader of heap memory knows.
 * The address is a factor, not a term XORed into x: no change of x makes
 * up for a change of the address.
 * Its limit: a reader who chooses input differences (a header's slack
 * through the size requested, the address through which block is read)
 * sees the result move by known multiples of the secret factor, and after
 * several reads can recover the keys with a search; a header's check is 16
 * bits (so a forged header checks by a 2^-16 chance, as Scudo's), a quick
 * link's 32.
 */
static inline uint64_t ph__seal_product(const struct ph__seal_keys* k,
                                        const void* at, uint64_t x,
                                        uint64_t key) {
  uint64_t m = (uint64_t)(uintptr_t)at ^ k->addr;
  return (x ^ key) * m;
}

/* A 32-bit check of x at `at`, never 0 (quick links, small.h). */
static inline uint32_t ph__seal_mix(const struct ph__seal_keys* k,
                                    const void* at, uint64_t x,
                                    uint64_t key) {
  return (uint32_t)(ph__seal_product(k, at, x, key) >> 32) | 1u;
}

/* The keyed product whose top 16 bits are the check of header word w at
 * b: of its fields (w's low 48 bits), taken shifted to the top (w << 16)
 * so that no mask is needed to drop the check bits. */
static inline uint64_t ph__block_check(const struct ph__seal_keys* k,
                                       const struct ph__block* b, uint64_t w) {
  return ph__seal_product(k, b, w << 16, k->word);
}

/* The header at b with sealed fields `fields`, its check in the top 16
 * bits: keyed, so a header cannot be made up without the keys; by the
 * address, so a header copied elsewhere does not check (but by a 2^-16
 * chance). */
static inline uint64_t ph__block_pack(const struct ph__seal_keys* k,
                                      const struct ph__block* b,
                                      uint64_t fields) {
  return fields | (ph__block_check(k, b, fields) >> 48 << 48);
}

/* Whether w, the header word read at b, checks. */
static inline bool ph__block_word_sealed(const struct ph__seal_keys* k,
                                         const struct ph__block* b,
                                         uint64_t w) {
  return ((ph__block_check(k, b, w) ^ w) >> 48) == 0;
}

/* Whether w, the header word read at b, checks and says `state`: one
 * compare, the state put in the fields checked (any other state read
 * makes the word differ). */
static inline bool ph__block_word_sealed_as(const struct ph__seal_keys* k,
                                            const struct ph__block* b,
                                            uint64_t w, unsigned state) {
  uint64_t f = (w & PH__FIELDS_MASK & ~((uint64_t)0xFF << 40)) |
               (uint64_t)state << 40;
  return w == ph__block_pack(k, b, f);
}

static inline bool ph__block_sealed(const struct ph__seal_keys* k,
                                    const struct ph__block* b) {
  return ph__block_word_sealed(k, b, ph__block_word(b));
}

/* Whether header b checks and says `state`: the one test for "a sealed
 * FREE (BUSY, ...) block", a single compare. */
static inline bool ph__block_sealed_as(const struct ph__seal_keys* k,
                                       const struct ph__block* b,
                                       unsigned state) {
  return ph__block_word_sealed_as(k, b, ph__block_word(b), state);
}

/* Store sealed fields `fields` and their check at b: one store. */
static inline void ph__block_store(const struct ph__seal_keys* k,
                                   struct ph__block* b, uint64_t fields) {
  uint64_t w = ph__block_pack(k, b, fields);
  memcpy(b, &w, 8);
}

/* Write a whole header and seal it (`slack` may carry PH__PREV_FREE). */
static inline void ph__block_set(const struct ph__seal_keys* k,
                                 struct ph__block* b, uint32_t size,
                                 unsigned state, unsigned slack) {
  ph__block_store(k, b, ph__block_word_of(size, slack, state));
}

/* Set size, slack and state of b and reseal it; its PH__PREV_FREE stays. */
static inline void ph__block_restate(const struct ph__seal_keys* k,
                                     struct ph__block* b, uint32_t size,
                                     unsigned slack, unsigned state) {
  unsigned prev_free = (unsigned)(ph__block_word(b) >> 32) & PH__PREV_FREE;
  ph__block_set(k, b, size, state, slack | prev_free);
}

/* Claim FREE block b, resized to g granules, for its caller to hand out:
 * BUSY, no slack, no PH__PREV_FREE (a FREE block's is clear), no check
 * yet (it does not check until handed out).  One 8-byte store, so that
 * the hand-out's 8-byte load of it is forwarded from the store buffer (a
 * narrower store before a wider load of the same bytes stalls it). */
static inline void ph__block_claim(struct ph__block* b, uint32_t g) {
  uint64_t w = ph__block_word_of(g, 0, PH__STATE_BUSY);
  memcpy(b, &w, 8);
}

/* Set or clear PH__PREV_FREE in header b (which the caller has checked)
 * and reseal it, in one atomic store: b may be a BUSY block that another
 * thread is freeing at that moment, reading its header without the lock
 * (ph__block_word_shared, remote.c). */
static inline void ph__block_mark_prev(const struct ph__seal_keys* k,
                                       struct ph__block* b, bool free) {
  uint64_t f = ph__block_word(b) & PH__FIELDS_MASK;
  uint64_t bit = (uint64_t)PH__PREV_FREE << 32;
  f = free ? f | bit : f & ~bit;
  __atomic_store_n(&b->word, ph__block_pack(k, b, f), __ATOMIC_RELAXED);
}

/* The header word as a thread without the heap's lock reads it: a guest
 * freeing a BUSY block (remote.c), while the block's owner may set its
 * PH__PREV_FREE (ph__block_mark_prev).  A plain load on 64-bit systems. */
static inline uint64_t ph__block_word_shared(const struct ph__block* b) {
  return __atomic_load_n(&b->word, __ATOMIC_RELAXED);
}

/* Keep slack >= PH__SLACK_EXT of a block of g granules at b in its last 8
 * bytes, which lie past the requested size: the slack and a keyed check of
 * it by its address (a block rounded up to a size class, heap.c). */
static inline void ph__block_slack_store(const struct ph__seal_keys* k,
                                         struct ph__block* b, uint32_t g,
                                         size_t slack) {
  char* at = (char*)b + ((size_t)g << PH__GRANULE_SHIFT) - 8;
  uint64_t w = (uint32_t)slack |
               (uint64_t)ph__seal_mix(k, at, (uint32_t)slack, k->word) << 32;
  memcpy(at, &w, 8);
}

/* The slack kept in the last 8 bytes of a block of g granules at b
 * (ph__block_slack_store); SIZE_MAX if those were overwritten (an overrun
 * of the block itself, past its requested size). */
static inline size_t ph__block_slack_ext(const struct ph__seal_keys* k,
                                         const struct ph__block* b,
                                         uint32_t g) {
  const char* at = (const char*)b + ((size_t)g << PH__GRANULE_SHIFT) - 8;
  uint64_t w;
  memcpy(&w, at, 8);
  uint32_t slack = (uint32_t)w;
  if ((uint32_t)(w >> 32) != ph__seal_mix(k, at, slack, k->word) ||
      slack < PH__SLACK_EXT ||
      slack > ph__granules_payload(g))
    return SIZE_MAX;
  return slack;
}

/* The slack of BUSY block b (its header checked): from its header, or
 * from its last 8 bytes; SIZE_MAX if those were overwritten. */
static inline size_t ph__block_slack_of(const struct ph__seal_keys* k,
                                        const struct ph__block* b) {
  unsigned s = ph__block_slack(b);
  return s < PH__SLACK_EXT ? s : ph__block_slack_ext(k, b, b->size);
}

/* Wipe a header that stops being one (merged into a neighbour, moved):
 * left as it was, it would still check, and a second free of its pointer,
 * or a walk cursor, would be taken for a block inside another.  What is
 * left never checks: its check is the right one's complement. */
static inline void ph__block_wipe(const struct ph__seal_keys* k,
                                  struct ph__block* b) {
  uint64_t w = ph__block_pack(k, b, 0) ^ ~PH__FIELDS_MASK;
  memcpy(b, &w, 8);
}

#endif /* PH_BLOCK_H */
