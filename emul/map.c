/*
 * map.c - the address map: which region, if any, holds an address.
 *
 * Every region is aligned to PH__CHUNK (64 KiB), so a 64 KiB chunk holds at
 * most the start of one region.  A two-level radix table maps a chunk number
 * to its region: level 1 has one slot per 64 GiB of address space, level 2
 * (reserved on demand, 8 MiB of address space, touched only where used) one
 * slot per chunk.  Lookups take no lock: slots are atomic, written under the
 * owning heap's lock (insert, remove) or once (a level-2 table).
 *
 * This is what lets the engine refuse any pointer or handle that is not its
 * own without touching the memory behind it.
 */
#include "engine.h"

#define L2_BITS PH__MAP_L2_BITS
#define L2_SLOTS ((size_t)1 << L2_BITS)
#define L1_SLOTS PH__MAP_L1_SLOTS

typedef ph__map_slot_t slot_t;

_Atomic(void*) ph__map_l1[L1_SLOTS]; /* slot_t tables */
#define level1 ph__map_l1

static slot_t* map_table(uint64_t chunk, bool create) {
  uint64_t i = chunk >> L2_BITS;
  if (i >= L1_SLOTS)
    return NULL;
  slot_t* t = (slot_t*)atomic_load_explicit(&level1[i], memory_order_acquire);
  if (t != NULL || !create)
    return t;
  size_t bytes = L2_SLOTS * sizeof(slot_t);
  slot_t* fresh = ph__prim_reserve(bytes, ph__prim_page_size());
  if (fresh == NULL)
    return NULL;
  if (ph__prim_commit(fresh, bytes, false) != 0) {
    ph__prim_release(fresh, bytes);
    return NULL;
  }
  void* expected = NULL;
  if (!atomic_compare_exchange_strong(&level1[i], &expected, (void*)fresh)) {
    ph__prim_release(fresh, bytes); /* another thread won the race */
    return (slot_t*)expected;
  }
  return fresh;
}

static void map_set(struct ph__region* r, struct ph__region* value) {
  uint64_t first = (uint64_t)(uintptr_t)r >> PH__CHUNK_SHIFT;
  uint64_t last = ((uint64_t)(uintptr_t)r + r->reserve_size - 1) >>
                  PH__CHUNK_SHIFT;
  for (uint64_t c = first; c <= last; c++) {
    slot_t* t = map_table(c, false);
    atomic_store_explicit(&t[c & (L2_SLOTS - 1)], value, memory_order_release);
  }
}

/* Make the level-2 tables that a region at [base, base + size) needs, so
 * that inserting it then cannot fail.  Returns false if one cannot be had
 * (out of memory). */
bool ph__map_prepare(const void* base, size_t size) {
  uint64_t first = (uint64_t)(uintptr_t)base >> PH__CHUNK_SHIFT;
  uint64_t last = ((uint64_t)(uintptr_t)base + size - 1) >> PH__CHUNK_SHIFT;
  for (uint64_t c = first; c <= last; c += L2_SLOTS - (c & (L2_SLOTS - 1)))
    if (map_table(c, true) == NULL)
      return false;
  return true;
}

/* Returns false if a level-2 table cannot be had (out of memory); never
 * after ph__map_prepare for r's reservation. */
bool ph__map_insert(struct ph__region* r) {
  if (!ph__map_prepare(r, r->reserve_size))
    return false;
  map_set(r, r);
  return true;
}

void ph__map_remove(struct ph__region* r) {
  map_set(r, NULL);
}

