/*
 * track.h - tell Valgrind's memcheck where blocks begin and end.
 *
 * Empty unless configure found <valgrind/valgrind.h> and
 * <valgrind/memcheck.h> (and PH_NO_TRACK is not defined).  With them, the
 * entry points in api.c, after the engine has done its work, report each
 * block handed out as malloc-like (its bytes undefined unless zeroed) and
 * each block given back as free-like.  Outside Valgrind the requests are
 * skipped: PH_TRACK is then 0, read from ph__tracking, which ph__init sets
 * once (RUNNING_ON_VALGRIND) before any heap exists.
 *
 * The engine keeps using memory that memcheck has been told is freed (the
 * list links in a freed block's payload, headers written when blocks split
 * and merge), so a freed block is made addressable and defined again at
 * once: memcheck then catches reads of uninitialised heap memory and names
 * blocks in its reports, but not a use after free (ASan builds do not see
 * inside regions either).  Checking a pointer that may not be a block reads
 * caller memory as a would-be header; PH_TRACK_QUIET brackets those checks
 * so that memcheck does not report the misuse the engine is refusing.
 */
#ifndef PH_TRACK_H
#define PH_TRACK_H

#ifdef HAVE_CONFIG_H
#  include "config.h"
#endif

#if defined(HAVE_VALGRIND_VALGRIND_H) && defined(HAVE_VALGRIND_MEMCHECK_H) && \
    !defined(PH_NO_TRACK)
#  include <valgrind/memcheck.h>
#  include <valgrind/valgrind.h>
#  include <stdbool.h>
extern bool ph__tracking; /* registry.c: running under Valgrind */
#  define PH_TRACK_BUILT 1
#  define PH_TRACK ph__tracking

/* p: size bytes handed out; zeroed: all of them are 0. */
#  define PH_TRACK_ALLOC(p, size, zeroed)                                      \
    do {                                                                       \
      if (ph__tracking)                                                        \
        VALGRIND_MALLOCLIKE_BLOCK((p), (size), 0, (zeroed));                   \
    } while (0)

/* p, which held size bytes, was given back (and stays the engine's). */
#  define PH_TRACK_FREE(p, size)                                               \
    do {                                                                       \
      if (ph__tracking) {                                                      \
        VALGRIND_FREELIKE_BLOCK((p), 0);                                       \
        VALGRIND_MAKE_MEM_DEFINED((p), (size));                                \
      }                                                                        \
    } while (0)

/* Block old (old_size bytes) is now block p of size bytes: moved, or
 * resized in place; the first min(old_size, size) bytes were kept, the
 * rest are new (zeroed: 0).  Kept bytes count as defined. */
#  define PH_TRACK_REALLOC(old, old_size, p, size, zeroed)                     \
    do {                                                                       \
      if (!ph__tracking)                                                       \
        break;                                                                 \
      if ((void*)(p) != (void*)(old))                                          \
        PH_TRACK_FREE((old), (old_size));                                      \
      else                                                                     \
        VALGRIND_FREELIKE_BLOCK((old), 0);                                     \
      VALGRIND_MALLOCLIKE_BLOCK((p), (size), 0, 1);                            \
      if ((size) > (old_size) && !(zeroed))                                    \
        VALGRIND_MAKE_MEM_UNDEFINED((char*)(p) + (old_size),                   \
                                    (size) - (old_size));                      \
      if ((void*)(p) == (void*)(old) && (old_size) > (size))                   \
        VALGRIND_MAKE_MEM_DEFINED((char*)(p) + (size), (old_size) - (size));   \
    } while (0)

/* Brackets code that may read caller memory as a header (a pointer being
 * checked); memcheck reports nothing in between, on this thread. */
#  define PH_TRACK_QUIET_BEGIN() VALGRIND_DISABLE_ERROR_REPORTING
#  define PH_TRACK_QUIET_END() VALGRIND_ENABLE_ERROR_REPORTING

/* Whether the process runs under Valgrind (0 elsewhere). */
#  define PH_TRACK_ACTIVE() (RUNNING_ON_VALGRIND != 0)
#else
#  define PH_TRACK_BUILT 0
#  define PH_TRACK 0
/* Arguments are still evaluated (as void), so what is computed only for
 * the tracker does not count as unused. */
#  define PH_TRACK_ALLOC(p, size, zeroed)                                      \
    ((void)(p), (void)(size), (void)(zeroed))
#  define PH_TRACK_FREE(p, size) ((void)(p), (void)(size))
#  define PH_TRACK_REALLOC(old, old_size, p, size, zeroed)                     \
    ((void)(old), (void)(old_size), (void)(p), (void)(size), (void)(zeroed))
#  define PH_TRACK_QUIET_BEGIN() ((void)0)
#  define PH_TRACK_QUIET_END() ((void)0)
#  define PH_TRACK_ACTIVE() 0
#endif

#endif /* PH_TRACK_H */
