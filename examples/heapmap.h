/*
 * heapmap.h - draw the map of any heap: a readable text listing, or an SVG
 * picture, from a HeapWalk (ph_heap_walk) taken under ph_heap_lock.
 *
 * Works on every backend (kernel32 or portheap's engine) and for any heap
 * handle, the process heap included, so a program can map its own heaps:
 *
 *   heapmap_print(heap, stdout);
 *   FILE* f = fopen("heap.svg", "w"); heapmap_svg(heap, f, "my heap");
 *
 * Both return 1 on success, 0 if the walk failed (the last error says why,
 * as ph_heap_walk sets it) or the output could not be written.
 */
#ifndef HEAPMAP_H
#define HEAPMAP_H

#include <portheap.h>

#include <stddef.h>
#include <stdio.h>

/* A whole walk: the entries in the order ph_heap_walk gave them. */
struct heapmap {
  ph_heap_entry_t* entry;
  size_t count;
};

/* Walk `heap` under its lock into *map (entries from malloc).
 * Returns 1, or 0 with the last error of the failed step. */
int heapmap_take(void* heap, struct heapmap* map);
void heapmap_free(struct heapmap* map);

/* One line per region, block and uncommitted range, then totals. */
int heapmap_print(void* heap, FILE* out);

/* An SVG document: one bar per region (and per block outside any region),
 * busy, free, uncommitted and control-data spans to scale, and a legend. */
int heapmap_svg(void* heap, FILE* out, const char* title);

#endif /* HEAPMAP_H */
