/*
 * process-heaps.c - list the heaps of this process: the job of Microsoft's
 * "Getting Process Heaps" sample, on portheap's portable API.
 *
 *   process-heaps [--create N]
 *
 * With --create N it first creates N private heaps, which then show up in
 * the list (and are destroyed before it exits).
 */
#include <portheap.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* *out = a * b; returns 0 if that overflows (SIZETMult's job). */
static int size_mult(size_t a, size_t b, size_t* out) {
  if (b != 0 && a > SIZE_MAX / b)
    return 0;
  *out = a * b;
  return 1;
}

int main(int argc, char** argv) {
  unsigned long extra = 0;
  if (argc == 3 && strcmp(argv[1], "--create") == 0)
    extra = strtoul(argv[2], NULL, 10);
  else if (argc != 1) {
    fprintf(stderr, "usage: %s [--create N]\n", argv[0]);
    return 2;
  }
  void* created[64];
  if (extra > 64)
    extra = 64;
  for (unsigned long i = 0; i < extra; i++) {
    created[i] = ph_heap_create(0, 0, 0);
    if (created[i] == NULL) {
      fprintf(stderr, "ph_heap_create failed: %s\n",
              ph_error_name(ph_get_last_error()));
      return 1;
    }
  }

  /* 1. How many heaps are there? */
  uint32_t count = ph_process_heaps(0, NULL);
  if (count == 0) {
    fprintf(stderr, "Failed to retrieve the number of heaps: %s\n",
            ph_error_name(ph_get_last_error()));
    return 1;
  }

  /* 2. Room for that many handles, with the multiplication checked. */
  size_t bytes;
  if (!size_mult(count, sizeof(void*), &bytes)) {
    fprintf(stderr, "Too many heaps: %u\n", count);
    return 1;
  }

  /* 3. The buffer comes from the process heap. */
  void* process_heap = ph_process_heap();
  void** heaps = ph_heap_alloc(process_heap, 0, bytes);
  if (heaps == NULL) {
    fprintf(stderr, "Failed to allocate %zu bytes for heaps\n", bytes);
    return 1;
  }

  /* 4. The handles; more than `count` means a heap appeared in between. */
  uint32_t listed = ph_process_heaps(count, heaps);
  if (listed == 0) {
    fprintf(stderr, "Failed to retrieve heaps: %s\n",
            ph_error_name(ph_get_last_error()));
    return 1;
  }
  if (listed > count) {
    fprintf(stderr, "Another component created a heap between calls. "
                    "Please try again.\n");
    return 1;
  }

  /* 5. One line per heap. */
  printf("Process has %u heaps (backend: %s).\n", listed, ph_backend());
  for (uint32_t i = 0; i < listed; i++)
    printf("Heap %u at address: %p%s\n", i, heaps[i],
           heaps[i] == process_heap ? " (process heap)" : "");

  /* 6. Give the buffer back. */
  if (!ph_heap_free(process_heap, 0, heaps)) {
    fprintf(stderr, "Failed to free allocation from default process heap.\n");
    return 1;
  }
  for (unsigned long i = 0; i < extra; i++)
    ph_heap_destroy(created[i]);
  return 0;
}
