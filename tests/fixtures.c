/*
 * fixtures.c - the shapes several suites repeat: a fresh heap for each
 * test, blocks filled with a known pattern and checked, a whole walk, and
 * HeapUnlock from another thread.  Win32 names only, as in the tests: the
 * same on every backend.
 */
#include "suites.h"

#include <string.h>

HANDLE ph_test_heap;

void ph_test_heap_setup(void) {
  ph_test_heap = HeapCreate(0, 0, 0);
  ck_assert_ptr_nonnull(ph_test_heap);
}

void ph_test_heap_teardown(void) {
  HeapDestroy(ph_test_heap);
  ph_test_heap = NULL;
}

void ph_test_activate_size(HANDLE h, SIZE_T size) {
  for (int i = 0; i < 18; i++)
    ck_assert_ptr_nonnull(HeapAlloc(h, 0, size));
}

void ph_test_fill(void* p, SIZE_T n, unsigned char value) {
  memset(p, value, n);
}

SIZE_T ph_test_first_bad_byte(const void* p, SIZE_T n, unsigned char value) {
  const unsigned char* b = p;
  for (SIZE_T i = 0; i < n; i++)
    if (b[i] != value)
      return i;
  return n;
}

int ph_test_alloc_filled(HANDLE h, unsigned char** blocks, int n, SIZE_T size,
                         unsigned char fill) {
  int count = 0;
  while (count < n &&
         (blocks[count] = ph_le_ptr(HeapAlloc(h, 0, size))) != NULL) {
    ph_test_fill(blocks[count], size, (unsigned char)(fill + count));
    count++;
  }
  return count;
}

void ph_test_check_and_free_filled(HANDLE h, unsigned char* const* blocks,
                                   int n, SIZE_T size, unsigned char fill) {
  for (int i = 0; i < n; i++) {
    unsigned char value = (unsigned char)(fill + i);
    SIZE_T bad = ph_test_first_bad_byte(blocks[i], size, value);
    ck_assert_msg(bad == size, "block %d of %d: byte %lu of %lu is not 0x%02x",
                  i, n, (unsigned long)bad, (unsigned long)size, value);
    ck_assert_int_ne(HeapFree(h, 0, blocks[i]), FALSE);
  }
}

bool ph_test_walk_to(HANDLE h, PROCESS_HEAP_ENTRY* e, const void* p) {
  memset(e, 0, sizeof *e);
  while (HeapWalk(h, e))
    if (e->lpData == p)
      return true;
  return false;
}

int ph_test_walk_entries(HANDLE h, int limit) {
  PROCESS_HEAP_ENTRY e;
  memset(&e, 0, sizeof e);
  int entries = 0;
  while (entries < limit && HeapWalk(h, &e))
    entries++;
  return entries;
}

struct unlock_try {
  HANDLE heap;
  BOOL result;
  DWORD error;
};

static void unlock_try_main(void* arg) {
  struct unlock_try* t = arg;
  SetLastError(0);
  t->result = HeapUnlock(t->heap);
  t->error = GetLastError();
}

BOOL ph_test_unlock_elsewhere(HANDLE h, DWORD* error) {
  struct unlock_try t = {h, TRUE, 0};
  ph_test_thread_join(ph_test_thread_start(unlock_try_main, &t));
  *error = t.error;
  return t.result;
}
