/*
 * heapmap.c - the map of a heap from its walk: text or SVG (heapmap.h).
 *
 * The walk is taken whole under ph_heap_lock, so the picture is one
 * consistent moment of the heap, then drawn without the lock.  Entries are
 * grouped by region: an entry belongs to the last REGION entry before it
 * if it lies between that region's base and lpLastBlock; anything else (a
 * large block with a mapping of its own) is drawn as a bar of its own.
 */
#define __USE_MINGW_ANSI_STDIO 1 /* %llx, %zu the same on mingw-w64 */
#include "heapmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int heapmap_take(void* heap, struct heapmap* map) {
  map->entry = NULL;
  map->count = 0;
  if (!ph_heap_lock(heap))
    return 0;
  size_t room = 0;
  ph_heap_entry_t e;
  memset(&e, 0, sizeof e);
  uint32_t error = PH_NO_ERROR;
  for (;;) {
    if (!ph_heap_walk(heap, &e)) {
      error = ph_get_last_error();
      break;
    }
    if (map->count == room) {
      size_t more = room ? room * 2 : 64;
      ph_heap_entry_t* grown = realloc(map->entry, more * sizeof *grown);
      if (grown == NULL) {
        error = PH_ERROR_NOT_ENOUGH_MEMORY;
        break;
      }
      map->entry = grown;
      room = more;
    }
    map->entry[map->count++] = e;
  }
  ph_heap_unlock(heap);
  if (error != PH_ERROR_NO_MORE_ITEMS) {
    heapmap_free(map);
    ph_set_last_error(error);
    return 0;
  }
  return 1;
}

void heapmap_free(struct heapmap* map) {
  free(map->entry);
  map->entry = NULL;
  map->count = 0;
}

static unsigned long long addr(const void* p) {
  return (unsigned long long)(uintptr_t)p;
}

static int is_region(const ph_heap_entry_t* e) {
  return (e->wFlags & PH_PROCESS_HEAP_REGION) != 0;
}
static int is_uncommitted(const ph_heap_entry_t* e) {
  return (e->wFlags & PH_PROCESS_HEAP_UNCOMMITTED_RANGE) != 0;
}
static int is_busy(const ph_heap_entry_t* e) {
  return (e->wFlags & PH_PROCESS_HEAP_ENTRY_BUSY) != 0;
}

/* Whether entry e lies in the region described by REGION entry r. */
static int in_region(const ph_heap_entry_t* r, const ph_heap_entry_t* e) {
  if (r == NULL)
    return 0;
  const char* p = e->lpData;
  return p >= (const char*)r->lpData && p < (const char*)r->Region.lpLastBlock;
}

/* ---- text -------------------------------------------------------------- */

struct totals {
  unsigned regions, busy, free, outside;
  unsigned long long busy_bytes, busy_overhead, free_bytes, uncommitted;
};

static void print_entry(FILE* out, const ph_heap_entry_t* e,
                        struct totals* t) {
  if (is_uncommitted(e)) {
    fprintf(out, "  uncommitted  0x%-14llx %10lu bytes\n", addr(e->lpData),
            (unsigned long)e->cbData);
    t->uncommitted += e->cbData;
    return;
  }
  const char* kind = is_busy(e) ? "busy" : "free";
  fprintf(out, "  %-11s  0x%-14llx %10lu bytes  overhead %3u\n", kind,
          addr(e->lpData), (unsigned long)e->cbData, e->cbOverhead);
  if (is_busy(e)) {
    t->busy++;
    t->busy_bytes += e->cbData;
    t->busy_overhead += e->cbOverhead;
  } else {
    t->free++;
    t->free_bytes += e->cbData;
  }
}

int heapmap_print(void* heap, FILE* out) {
  struct heapmap map;
  if (!heapmap_take(heap, &map))
    return 0;
  struct totals t;
  memset(&t, 0, sizeof t);
  fprintf(out, "Heap 0x%llx (%s backend): %zu walk entries\n", addr(heap),
          ph_backend(), map.count);
  const ph_heap_entry_t* region = NULL;
  int outside_open = 0;
  for (size_t i = 0; i < map.count; i++) {
    const ph_heap_entry_t* e = &map.entry[i];
    if (is_region(e)) {
      region = e;
      outside_open = 0;
      t.regions++;
      fprintf(out,
              "Region %u at 0x%llx: %llu bytes reserved (%lu committed, "
              "%lu uncommitted); entry cbData %lu, overhead %u\n",
              e->iRegionIndex, addr(e->lpData),
              (unsigned long long)e->Region.dwCommittedSize +
                  e->Region.dwUnCommittedSize,
              (unsigned long)e->Region.dwCommittedSize,
              (unsigned long)e->Region.dwUnCommittedSize,
              (unsigned long)e->cbData, e->cbOverhead);
      fprintf(out, "  blocks from 0x%llx to 0x%llx\n",
              addr(e->Region.lpFirstBlock), addr(e->Region.lpLastBlock));
      continue;
    }
    if (!in_region(region, e)) {
      region = NULL;
      if (!outside_open)
        fprintf(out, "Outside any region (blocks with their own memory):\n");
      outside_open = 1;
      t.outside++;
    }
    print_entry(out, e, &t);
  }
  fprintf(out,
          "Totals: %u regions; %u busy blocks, %llu bytes (overhead %llu); "
          "%u free blocks, %llu bytes; %llu bytes uncommitted; %u outside "
          "regions\n",
          t.regions, t.busy, t.busy_bytes, t.busy_overhead, t.free,
          t.free_bytes, t.uncommitted, t.outside);
  heapmap_free(&map);
  return !ferror(out);
}

/* ---- SVG --------------------------------------------------------------- */

enum {
  SVG_WIDTH = 960,
  BAR_X = 20,
  BAR_WIDTH = 920, /* pixels for the largest bar */
  BAR_HEIGHT = 26,
  ROW_HEIGHT = 64, /* label, bar, gap */
  TOP = 48
};

#define COLOUR_BUSY "#3b6fd4"
#define COLOUR_FREE "#5cc26b"
#define COLOUR_UNCOMMITTED "#e4e4e4"
#define COLOUR_CONTROL "#555555"

/* One bar: a span of address space [base, base + size) and its entries. */
struct bar {
  const ph_heap_entry_t* region; /* NULL: a block outside any region */
  size_t first, last;            /* entries drawn on it: [first, last) */
  const char* base;
  unsigned long long size;
  int zoom; /* the committed part of the region above, at its own scale */
};

static void svg_text(FILE* out, const char* s) {
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '&': fputs("&amp;", out); break;
    case '"': fputs("&quot;", out); break;
    default: fputc(*s, out);
    }
  }
}

/* The span of address space a REGION entry stands for: from its base to
 * lpLastBlock (Windows gives the header's size in cbData, not this). */
static unsigned long long region_span(const ph_heap_entry_t* r) {
  return (unsigned long long)((const char*)r->Region.lpLastBlock -
                              (const char*)r->lpData);
}

/* The bars of a walk: per region one to scale and one zoomed on its
 * committed part, and one per block outside any region.
 * Returns how many were stored in bars (room for 2 * map->count). */
static size_t make_bars(const struct heapmap* map, struct bar* bars) {
  size_t n = 0;
  const ph_heap_entry_t* region = NULL;
  for (size_t i = 0; i < map->count; i++) {
    const ph_heap_entry_t* e = &map->entry[i];
    if (is_region(e)) {
      region = e;
      bars[n++] = (struct bar){e, i + 1, i + 1, e->lpData, region_span(e), 0};
      bars[n++] = (struct bar){e, i + 1, i + 1, e->lpData,
                               e->Region.dwCommittedSize, 1};
    } else if (in_region(region, e)) {
      bars[n - 2].last = bars[n - 1].last = i + 1;
    } else {
      region = NULL;
      bars[n++] = (struct bar){NULL, i, i + 1,
                               (const char*)e->lpData - e->cbOverhead,
                               (unsigned long long)e->cbData + e->cbOverhead,
                               0};
    }
  }
  return n;
}

static void svg_span(FILE* out, double x, double y, double w, const char* fill,
                     const char* what, const ph_heap_entry_t* e) {
  if (w < 0.6)
    w = 0.6; /* narrower than a pixel: widened so it shows */
  fprintf(out,
          "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%d\" "
          "fill=\"%s\" stroke=\"white\" stroke-width=\"%s\">"
          "<title>%s 0x%llx, %lu bytes</title></rect>\n",
          x, y, w, BAR_HEIGHT, fill, w > 3 ? "0.6" : "0", what, addr(e->lpData),
          (unsigned long)e->cbData);
}

static void svg_bar(FILE* out, const struct heapmap* map, const struct bar* b,
                    double y, double scale) {
  if (b->zoom)
    scale = (double)BAR_WIDTH / (double)(b->size ? b->size : 1);
  double width = (double)b->size * scale;
  unsigned busy = 0, free_blocks = 0;
  for (size_t i = b->first; i < b->last; i++) {
    const ph_heap_entry_t* e = &map->entry[i];
    busy += is_busy(e) != 0;
    free_blocks += !is_busy(e) && !is_uncommitted(e);
  }
  if (b->zoom)
    fprintf(out,
            "<text x=\"%d\" y=\"%.1f\" class=\"label zoom\">Region %u, its "
            "committed %lu bytes at their own scale (1 px = %.0f bytes)"
            "</text>\n",
            BAR_X, y - 6, b->region->iRegionIndex,
            (unsigned long)b->region->Region.dwCommittedSize, 1.0 / scale);
  else if (b->region != NULL)
    fprintf(out,
            "<text x=\"%d\" y=\"%.1f\" class=\"label\">Region %u at 0x%llx: "
            "%llu KiB reserved, %lu KiB committed; %u busy, %u free</text>\n",
            BAR_X, y - 6, b->region->iRegionIndex, addr(b->base),
            ((unsigned long long)b->region->Region.dwCommittedSize +
             b->region->Region.dwUnCommittedSize) / 1024,
            (unsigned long)b->region->Region.dwCommittedSize / 1024,
            busy, free_blocks);
  else
    fprintf(out,
            "<text x=\"%d\" y=\"%.1f\" class=\"label\">Block at 0x%llx with "
            "its own memory: %lu bytes</text>\n",
            BAR_X, y - 6, addr(map->entry[b->first].lpData),
            (unsigned long)map->entry[b->first].cbData);
  /* Control data everywhere first; entries are drawn over it. */
  fprintf(out,
          "<rect x=\"%d\" y=\"%.2f\" width=\"%.2f\" height=\"%d\" fill=\"%s\">"
          "<title>control data</title></rect>\n",
          BAR_X, y, width, BAR_HEIGHT, COLOUR_CONTROL);
  for (size_t i = b->first; i < b->last; i++) {
    const ph_heap_entry_t* e = &map->entry[i];
    unsigned long long offset =
        (unsigned long long)((const char*)e->lpData - b->base);
    if (offset >= b->size)
      continue; /* past a zoomed bar's end */
    double x = BAR_X + (double)offset * scale;
    double w = (double)e->cbData * scale;
    if (offset + e->cbData > b->size)
      w = (double)(b->size - offset) * scale;
    if (is_uncommitted(e))
      svg_span(out, x, y, w, "url(#uncommitted)", "uncommitted", e);
    else if (is_busy(e))
      svg_span(out, x, y, w, COLOUR_BUSY, "busy", e);
    else
      svg_span(out, x, y, w, COLOUR_FREE, "free", e);
  }
  fprintf(out,
          "<rect x=\"%d\" y=\"%.2f\" width=\"%.2f\" height=\"%d\" "
          "fill=\"none\" stroke=\"#222\" stroke-width=\"0.8\"/>\n",
          BAR_X, y, width, BAR_HEIGHT);
}

static void svg_legend(FILE* out, double y) {
  static const struct {
    const char* fill;
    const char* text;
  } keys[] = {{COLOUR_BUSY, "busy (data)"},
              {COLOUR_FREE, "free"},
              {"url(#uncommitted)", "uncommitted (reserved)"},
              {COLOUR_CONTROL, "control data (headers, padding)"}};
  double x = BAR_X;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    fprintf(out,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"16\" "
            "fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>\n"
            "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">%s</text>\n",
            x, y, keys[i].fill, x + 22, y + 13, keys[i].text);
    x += 60 + 7.2 * (double)strlen(keys[i].text);
  }
  fprintf(out,
          "<text x=\"%d\" y=\"%.1f\" class=\"note\">Bars to one scale "
          "(widest = largest span), except each region's zoomed committed "
          "part; blocks narrower than a pixel are widened to show.</text>\n",
          BAR_X, y + 36);
}

int heapmap_svg(void* heap, FILE* out, const char* title) {
  struct heapmap map;
  if (!heapmap_take(heap, &map))
    return 0;
  struct bar* bars = malloc((2 * map.count + 1) * sizeof *bars);
  if (bars == NULL) {
    heapmap_free(&map);
    ph_set_last_error(PH_ERROR_NOT_ENOUGH_MEMORY);
    return 0;
  }
  size_t n = make_bars(&map, bars);
  unsigned long long widest = 1;
  for (size_t i = 0; i < n; i++)
    if (!bars[i].zoom && bars[i].size > widest)
      widest = bars[i].size;
  double scale = (double)BAR_WIDTH / (double)widest;
  int height = TOP + (int)n * ROW_HEIGHT + 70;
  fprintf(out,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
          "height=\"%d\" viewBox=\"0 0 %d %d\">\n"
          "<style>text{font-family:sans-serif;fill:#222}"
          ".title{font-size:17px;font-weight:bold}.label{font-size:13px}"
          ".legend{font-size:13px}.note{font-size:11px;fill:#666}</style>\n"
          "<defs><pattern id=\"uncommitted\" width=\"6\" height=\"6\" "
          "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
          "<rect width=\"6\" height=\"6\" fill=\"" COLOUR_UNCOMMITTED "\"/>"
          "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#bbb\" "
          "stroke-width=\"2\"/></pattern></defs>\n"
          "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
          "<text x=\"%d\" y=\"26\" class=\"title\">",
          SVG_WIDTH, height, SVG_WIDTH, height, BAR_X);
  svg_text(out, title != NULL ? title : "heap");
  fprintf(out, " (heap 0x%llx, %s backend)</text>\n", addr(heap),
          ph_backend());
  for (size_t i = 0; i < n; i++)
    svg_bar(out, &map, &bars[i], TOP + 20 + (double)i * ROW_HEIGHT, scale);
  svg_legend(out, TOP + (double)n * ROW_HEIGHT + 14);
  fprintf(out, "</svg>\n");
  free(bars);
  heapmap_free(&map);
  return !ferror(out);
}
