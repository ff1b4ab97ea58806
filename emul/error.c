/*
 * error.c - the one place that reports: the thread's last error, heap
 * exceptions (HEAP_GENERATE_EXCEPTIONS) and detected corruption.
 *
 * Only the entry points in api.c call ph__fail; the engine returns NULL,
 * false or a code and leaves reporting to them.
 */
#include "engine.h"

#include <stdio.h>

static _Thread_local uint32_t last_error PH_TLS_FAST;

uint32_t ph_get_last_error(void) {
  return last_error;
}

void ph_set_last_error(uint32_t code) {
  last_error = code;
}

void ph__fail(uint32_t code) {
  last_error = code;
}

/* ---- heap exceptions ------------------------------------------------- */

static ph__mutex_t handler_lock = PH__MUTEX_INIT;
static ph_exception_handler_t handler;
static void* handler_arg;

/* For the fork handlers (startup.c): last in the lock order. */
ph__mutex_t* ph__handler_lock(void) {
  return &handler_lock;
}

ph_exception_handler_t ph_set_exception_handler(ph_exception_handler_t fn,
                                                void* arg) {
  ph__mutex_lock(&handler_lock);
  ph_exception_handler_t old = handler;
  handler = fn;
  handler_arg = arg;
  ph__mutex_unlock(&handler_lock);
  return old;
}

static const char* status_name(uint32_t status) {
  switch (status) {
  case PH_STATUS_NO_MEMORY: return "STATUS_NO_MEMORY";
  case PH_STATUS_ACCESS_VIOLATION: return "STATUS_ACCESS_VIOLATION";
  case PH_STATUS_HEAP_CORRUPTION: return "STATUS_HEAP_CORRUPTION";
  default: return "heap exception";
  }
}

/* Raise a heap exception: the installed handler, or the end of the process
 * as for an unhandled exception on Windows. */
void ph__raise(uint32_t status, void* heap) {
  ph__mutex_lock(&handler_lock);
  ph_exception_handler_t fn = handler;
  void* arg = handler_arg;
  ph__mutex_unlock(&handler_lock);
  if (fn != NULL) {
    fn(status, heap, arg);
    return;
  }
  char text[160];
  snprintf(text, sizeof text,
           "portheap: unhandled heap exception 0x%08X (%s) in heap %p\n",
           (unsigned)status, status_name(status), heap);
  ph__prim_write_error(text);
  ph__prim_abort();
}

/* ---- corruption ---------------------------------------------------------- */

static atomic_bool terminate_on_corruption;

void ph__enable_termination(void) {
  atomic_store(&terminate_on_corruption, true);
}

/* Called where the engine finds control data that does not check.  With
 * HeapEnableTerminationOnCorruption set, the process ends here; otherwise
 * the engine goes on without the damaged structure. */
void ph__corruption(struct ph__heap* h, const void* address, const char* what) {
  if (!atomic_load(&terminate_on_corruption))
    return;
  char text[240];
  snprintf(text, sizeof text,
           "portheap: heap corruption in heap %p at %p: %s; terminating "
           "(STATUS_HEAP_CORRUPTION 0x%08X)\n",
           h != NULL ? (const void*)h->top->handle : NULL, address, what,
           (unsigned)PH_STATUS_HEAP_CORRUPTION);
  ph__prim_write_error(text);
  ph__prim_abort();
}
