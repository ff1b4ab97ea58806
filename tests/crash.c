/*
 * crash.c - helper for tests/crash.sh: does one thing that must end the
 * process on the emulated engine, so the suite need not crash on purpose.
 *
 *   crash raise     HeapAlloc with GENERATE_EXCEPTIONS that fails, no handler
 *   crash bad-heap  the same on a destroyed heap (STATUS_ACCESS_VIOLATION)
 *   crash double-free   HeapEnableTerminationOnCorruption, then a double free
 *   crash overrun       HeapEnableTerminationOnCorruption, then a write past a
 *                       block over the next block's header, then freeing
 *                       that next block (its header no longer checks)
 *
 * Before the fatal call it prints "heap <hex>" and "at <hex>" (the address
 * the message must name) on stdout, flushed.  If it survives it prints
 * "survived" and exits 0, which crash.sh reports as a failure.
 */
#include <portheap.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void show(const char* what, const void* p) {
  printf("%s %llx\n", what, (unsigned long long)(uintptr_t)p);
  fflush(stdout);
}

static int enable_termination(void) {
  if (!ph_heap_set_information(NULL, PH_HEAP_ENABLE_TERMINATION_ON_CORRUPTION,
                               NULL, 0)) {
    printf("HeapEnableTerminationOnCorruption failed: %s\n",
           ph_error_name(ph_get_last_error()));
    return 0;
  }
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s raise|bad-heap|double-free|overrun\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  void* h = ph_heap_create(0, 0, 0);
  if (h == NULL)
    return 2;
  if (strcmp(mode, "raise") == 0) {
    show("heap", h);
    ph_heap_alloc(h, PH_HEAP_GENERATE_EXCEPTIONS, SIZE_MAX - 4096);
  } else if (strcmp(mode, "bad-heap") == 0) {
    ph_heap_destroy(h);
    show("heap", h);
    ph_heap_alloc(h, PH_HEAP_GENERATE_EXCEPTIONS, 10);
  } else if (strcmp(mode, "double-free") == 0) {
    if (!enable_termination())
      return 2;
    char* p = ph_heap_alloc(h, 0, 100);
    ph_heap_free(h, 0, p);
    show("heap", h);
    show("at", p);
    ph_heap_free(h, 0, p);
  } else if (strcmp(mode, "overrun") == 0) {
    if (!enable_termination())
      return 2;
    unsigned char* a = ph_heap_alloc(h, 0, 1000);
    unsigned char* b = ph_heap_alloc(h, 0, 1000);
    if (a == NULL || b <= a + 1000 || b > a + 1100)
      return 2; /* not laid out as expected: cannot test */
    memset(a + 1000, 0xEE, (size_t)(b - (a + 1000))); /* b's header */
    show("heap", h);
    show("at", b);
    ph_heap_free(h, 0, b);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("survived\n");
  return 0;
}
