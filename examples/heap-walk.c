/*
 * heap-walk.c - map a heap: create one, allocate and free a fixed pattern
 * of blocks, then print what ph_heap_walk (HeapWalk) reports: regions,
 * busy and free blocks with their sizes and overhead, uncommitted ranges.
 *
 *   heap-walk [--svg FILE]
 *
 * With --svg it also draws the map (heapmap_svg in heapmap.c, which takes
 * any heap handle, so a program can map its own heaps the same way).
 */
#define __USE_MINGW_ANSI_STDIO 1 /* %zu the same on mingw-w64 */
#include "heapmap.h"

#include <portheap.h>

#include <stdio.h>
#include <string.h>

/* The pattern: small, medium and page-sized blocks, and one big enough
 * (over 1 MiB) to get memory of its own in a growable heap. */
static const size_t sizes[] = {24,   100,  100,   500,  700,  1000,
                               2000, 3000, 4096,  8000, 16,   250,
                               6000, 40,   12000, 64,   900,  (size_t)2 << 20};
enum { COUNT = sizeof sizes / sizeof sizes[0] };

/* Every third block is freed (1, 4, 7, ...), leaving holes. */
static int freed(size_t i) {
  return i % 3 == 1;
}

int main(int argc, char** argv) {
  const char* svg = NULL;
  if (argc == 3 && strcmp(argv[1], "--svg") == 0)
    svg = argv[2];
  else if (argc != 1) {
    fprintf(stderr, "usage: %s [--svg FILE]\n", argv[0]);
    return 2;
  }
  void* heap = ph_heap_create(0, 0, 0);
  if (heap == NULL) {
    fprintf(stderr, "ph_heap_create: %s\n", ph_error_name(ph_get_last_error()));
    return 1;
  }
  void* block[COUNT];
  size_t live = 0, live_bytes = 0;
  for (size_t i = 0; i < COUNT; i++) {
    block[i] = ph_heap_alloc(heap, PH_HEAP_ZERO_MEMORY, sizes[i]);
    if (block[i] == NULL) {
      fprintf(stderr, "ph_heap_alloc(%zu): %s\n", sizes[i],
              ph_error_name(ph_get_last_error()));
      return 1;
    }
  }
  for (size_t i = 0; i < COUNT; i++) {
    if (freed(i))
      ph_heap_free(heap, 0, block[i]);
    else {
      live++;
      live_bytes += sizes[i];
    }
  }
  printf("Pattern: %d blocks allocated, %zu freed, %zu live (%zu bytes)\n",
         (int)COUNT, (size_t)COUNT - live, live, live_bytes);
  int ok = heapmap_print(heap, stdout);
  if (!ok)
    fprintf(stderr, "heap walk failed: %s\n",
            ph_error_name(ph_get_last_error()));
  if (ok && svg != NULL) {
    FILE* out = fopen(svg, "w");
    if (out == NULL) {
      perror(svg);
      ok = 0;
    } else {
      ok = heapmap_svg(heap, out, "heap-walk example");
      ok = fclose(out) == 0 && ok;
      if (ok)
        printf("SVG map written to %s\n", svg);
      else
        fprintf(stderr, "%s: could not write the map\n", svg);
    }
  }
  ph_heap_destroy(heap);
  return ok ? 0 : 1;
}
