/*
 * mingw-intsafe-fix.h - forced in front of each sample (gcc -include) when
 * building for Windows with mingw-w64, and only there.
 *
 * mingw-w64 before version 13 has SizeTMult but not SIZETMult, Microsoft's
 * name for the same SIZE_T multiplication (docs/semantics.md, mingw-w64).  The
 * samples stay as Microsoft would write them; this supplies the name when
 * the headers lack it.  (Both types are the pointer-sized unsigned integer
 * on Windows, but not the same C type on 32-bit.)
 */
#ifndef PORTHEAP_MINGW_INTSAFE_FIX_H
#define PORTHEAP_MINGW_INTSAFE_FIX_H
#include <intsafe.h>
#if defined(__MINGW64_VERSION_MAJOR) && __MINGW64_VERSION_MAJOR < 13 &&     \
    !defined(SIZETMult)
/* SizeTMult's result is a size_t*, SIZETMult's a SIZE_T*: the same type
 * on 64-bit, not on 32-bit (unsigned int against unsigned long). */
static inline HRESULT ph_SIZETMult(SIZE_T a, SIZE_T b, SIZE_T* result) {
  size_t n;
  HRESULT hr = SizeTMult(a, b, &n);
  *result = n;
  return hr;
}
#  define SIZETMult ph_SIZETMult
#endif
#endif
