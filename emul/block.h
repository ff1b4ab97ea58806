/*
 * block.h - the header in front of every block, and its check value.
 *
 * Blocks live in regions (region.c) back to back, each a whole number of
 * 16-byte granules, header included:
 *
 *   [region header][block][block]...[block][sentinel]  ... uncommitted ...
 *
 * The sentinel is a header-only BUSY-like block at the committed end; it
 * stops forward coalescing and walks.  A free block holds two encoded links
 * (its bin list) in its first 16 payload bytes, so the smallest block is 2
 * granules (32 bytes).
 *
 * Invariants (ph_heap_validate checks them, the engine relies on them):
 *   check == ph__block_seal_of(heap, block) for every header; anything else
 *     is a trampled header or a pointer that is not a block of this heap
 *     (prev_size is outside the seal: it is checked against the block
 *     before wherever it is used)
 *   size >= 1 granule (sentinel) or >= 2 (block); prev_size == size of the
 *     block before, 0 for the first block of a region
 *   state FREE   => on exactly one bin list, never next to another FREE
 *   state QUICK  => on exactly one quick list (freed, not yet coalesced)
 *   state BUSY   => handed out; payload bytes - slack == requested size
 */
#ifndef PH_BLOCK_H
#define PH_BLOCK_H

#include <stdint.h>
#include <string.h>

#define PH__GRANULE 16u /* bytes; block sizes and addresses are multiples */
#define PH__GRANULE_SHIFT 4
#define PH__MIN_BLOCK 2u /* granules: header + two links */

enum ph__block_state {
  PH__STATE_FREE = 0x3F,     /* in a bin */
  PH__STATE_QUICK = 0x5A,    /* in a quick list */
  PH__STATE_BUSY = 0xB7,     /* live block of the caller */
  PH__STATE_SENTINEL = 0xE1, /* end of the committed part of a region */
  PH__STATE_LARGE = 0xC9     /* live block with a mapping of its own */
};

struct ph__block {
  uint32_t size;      /* granules, header included; first, so that an
                         overrun of the block before, however short,
                         changes a sealed field */
  uint16_t slack;     /* payload bytes past the requested size */
  uint8_t state;      /* enum ph__block_state */
  uint8_t flags;      /* reserved, 0 */
  uint32_t check;     /* seal over size .. flags, the address, the heap */
  uint32_t prev_size; /* granules of the block before; 0 if first */
};

_Static_assert(sizeof(struct ph__block) == PH__GRANULE, "header size");

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

static inline void* ph__block_data(const struct ph__block* b) {
  return (char*)b + PH__GRANULE;
}

static inline struct ph__block* ph__block_of(const void* data) {
  return (struct ph__block*)((char*)data - PH__GRANULE);
}

static inline struct ph__block* ph__block_next(const struct ph__block* b) {
  return (struct ph__block*)((char*)b + ((size_t)b->size << PH__GRANULE_SHIFT));
}

static inline struct ph__block* ph__block_prev(const struct ph__block* b) {
  return (struct ph__block*)((char*)b -
                             ((size_t)b->prev_size << PH__GRANULE_SHIFT));
}

/* Payload bytes of a block (capacity, not the requested size). */
static inline size_t ph__block_capacity(const struct ph__block* b) {
  return ((size_t)b->size << PH__GRANULE_SHIFT) - PH__GRANULE;
}

/* The sealed fields, size .. flags: the header's first 8 bytes as they lie
 * in memory (one load). */
static inline uint64_t ph__block_word(const struct ph__block* b) {
  uint64_t w;
  memcpy(&w, b, 8);
  return w;
}

/* The sealed fields as ph__block_word reads them back, built in registers. */
static inline uint64_t ph__block_word_of(uint32_t size, uint16_t slack,
                                         uint8_t state) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return size | (uint64_t)slack << 32 | (uint64_t)state << 48;
#else
  struct ph__block h = {.size = size, .slack = slack, .state = state};
  return ph__block_word(&h);
#endif
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
};

/*
 * The keyed check value of x lying at `at` (a header's sealed fields, a
 * quick-list link), 32 bits, never 0 (zeroed memory never checks):
 *   m = at ^ k->addr                 (odd: at is a multiple of 16)
 *   ph__seal_mix = ((x ^ key) * m) >> 32, low bit set  (product mod 2^64)
 * Both factors are secret, and only the high half of the product is kept
 * (its low k bits depend only on the factors' low k bits, which would let
 * stored values be solved bit by bit).  So no stored word holds a key, nor
 * a key XORed or added to what a reader of heap memory knows (before, one
 * freed block gave the key away in clear).  The address is a factor, not a
 * term XORed into x: no change of x makes up for a change of the address
 * (with a seal over x ^ at, as before, a header moved by d checked again
 * with its size XORed with d).
 * Its limit, measured against a stronger form: a reader who chooses input
 * differences (a header's slack through the size requested, the address
 * through which block is read) sees the result move by known multiples of
 * the secret factor, and after several reads can recover the keys with a
 * 2^32 search.  A second product over p ^ (p >> 32) stops that, but cost
 * 19 % on small churn (two multiplies on each of five checks a HeapAlloc +
 * HeapFree pair makes); this form costs 3 % in instructions.  The header
 * redesign (8-byte headers) is where a stronger check can be paid for.
 */
static inline uint32_t ph__seal_mix(const struct ph__seal_keys* k,
                                    const void* at, uint64_t x,
                                    uint64_t key) {
  uint64_t m = (uint64_t)(uintptr_t)at ^ k->addr;
  return (uint32_t)(((x ^ key) * m) >> 32) | 1u;
}

/* The check value of a header at b whose sealed fields are w: keyed, so a
 * header cannot be made up without the keys; by the address, so a header
 * copied elsewhere does not check (but by a 2^-31 chance).  prev_size is
 * not covered: it is checked against the block before wherever it is used
 * (that block's size must equal it and its header must check), so
 * writing it needs no new seal. */
static inline uint32_t ph__block_seal_word(const struct ph__seal_keys* k,
                                           const struct ph__block* b,
                                           uint64_t w) {
  return ph__seal_mix(k, b, w, k->word);
}

static inline uint32_t ph__block_seal_of(const struct ph__seal_keys* k,
                                         const struct ph__block* b) {
  return ph__block_seal_word(k, b, ph__block_word(b));
}

static inline void ph__block_seal(const struct ph__seal_keys* k,
                                  struct ph__block* b) {
  b->check = ph__block_seal_of(k, b);
}

static inline int ph__block_sealed(const struct ph__seal_keys* k,
                                   const struct ph__block* b) {
  return b->check == ph__block_seal_of(k, b);
}

/* Store sealed fields w and their seal at b (two stores, no reload: a
 * byte store followed by a wider load would stall store forwarding). */
static inline void ph__block_store(const struct ph__seal_keys* k,
                                   struct ph__block* b, uint64_t w) {
  uint32_t check = ph__block_seal_word(k, b, w); /* before b is written */
  memcpy(b, &w, 8);
  b->check = check;
}

/* Set slack and state of a block of `size` granules (flags 0) and reseal
 * it; prev_size stays. */
static inline void ph__block_restate(const struct ph__seal_keys* k,
                                     struct ph__block* b, uint32_t size,
                                     uint16_t slack, uint8_t state) {
  ph__block_store(k, b, ph__block_word_of(size, slack, state));
}

/* Write a whole header and seal it. */
static inline void ph__block_set(const struct ph__seal_keys* k,
                                 struct ph__block* b, uint32_t size,
                                 uint32_t prev_size, uint8_t state,
                                 uint16_t slack) {
  struct ph__block h = {
      .size = size, .slack = slack, .state = state, .prev_size = prev_size};
  h.check = ph__block_seal_word(k, b, ph__block_word(&h));
  memcpy(b, &h, sizeof h); /* built in registers, stored once */
}

#endif /* PH_BLOCK_H */
