/* version.c - the library's version, shared by both backends. */
#include "internal.h"

const char* ph_version(void) {
  return PH_VERSION_STRING;
}
