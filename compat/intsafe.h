/*
 * intsafe.h - portheap's drop-in for the size arithmetic of Microsoft's
 * <intsafe.h>, on POSIX systems.
 *
 * Each function computes `*pResult = a op b` for one unsigned type and
 * returns S_OK, or, if the exact result does not fit (or a subtraction
 * would go below 0), stores all-ones (the type's *_ERROR value) and returns
 * INTSAFE_E_ARITHMETIC_OVERFLOW (0x80070216, the HRESULT of
 * ERROR_ARITHMETIC_OVERFLOW).  Only the SIZE_T/size_t, ULONG and DWORD
 * forms are here, under Microsoft's names; any other intsafe name is left
 * undefined so that code needing it fails to build.  ULONG and DWORD are
 * 32 bits, as on Windows.  On Windows use the SDK's <intsafe.h>.
 */
#ifndef PORTHEAP_COMPAT_INTSAFE_H
#define PORTHEAP_COMPAT_INTSAFE_H

#if defined(_WIN32)
#  error "portheap's compat <intsafe.h> is for POSIX systems; use the SDK's"
#endif

#include <stddef.h>
#include <stdint.h>

#include <portheap/win32.h> /* SIZE_T, ULONG, DWORD */

#include "portheap-hresult.h" /* HRESULT, S_OK, SUCCEEDED, FAILED */

#ifdef __cplusplus
extern "C" {
#endif

#define INTSAFE_E_ARITHMETIC_OVERFLOW ((HRESULT)0x80070216)

#define SIZET_ERROR ((SIZE_T)-1)
#define SIZE_T_ERROR ((size_t)-1)
#define ULONG_ERROR ((ULONG)0xFFFFFFFFu)
#define DWORD_ERROR ((DWORD)0xFFFFFFFFu)

/* The bodies, one per operation; `max` is the type's largest value. */
#define PORTHEAP_INTSAFE_ADD(type, max)                                        \
  {                                                                            \
    if (a > (type)(max) - b) {                                                 \
      *pResult = (type)(max);                                                  \
      return INTSAFE_E_ARITHMETIC_OVERFLOW;                                    \
    }                                                                          \
    *pResult = (type)(a + b);                                                  \
    return S_OK;                                                               \
  }
#define PORTHEAP_INTSAFE_SUB(type, max)                                        \
  {                                                                            \
    if (a < b) {                                                               \
      *pResult = (type)(max);                                                  \
      return INTSAFE_E_ARITHMETIC_OVERFLOW;                                    \
    }                                                                          \
    *pResult = (type)(a - b);                                                  \
    return S_OK;                                                               \
  }
#define PORTHEAP_INTSAFE_MULT(type, max)                                       \
  {                                                                            \
    if (b != 0 && a > (type)(max) / b) {                                       \
      *pResult = (type)(max);                                                  \
      return INTSAFE_E_ARITHMETIC_OVERFLOW;                                    \
    }                                                                          \
    *pResult = (type)(a * b);                                                  \
    return S_OK;                                                               \
  }

static inline HRESULT SIZETAdd(SIZE_T a, SIZE_T b, SIZE_T* pResult)
PORTHEAP_INTSAFE_ADD(SIZE_T, SIZE_MAX)
static inline HRESULT SIZETSub(SIZE_T a, SIZE_T b, SIZE_T* pResult)
PORTHEAP_INTSAFE_SUB(SIZE_T, SIZE_MAX)
static inline HRESULT SIZETMult(SIZE_T a, SIZE_T b, SIZE_T* pResult)
PORTHEAP_INTSAFE_MULT(SIZE_T, SIZE_MAX)

static inline HRESULT SizeTAdd(size_t a, size_t b, size_t* pResult)
PORTHEAP_INTSAFE_ADD(size_t, SIZE_MAX)
static inline HRESULT SizeTSub(size_t a, size_t b, size_t* pResult)
PORTHEAP_INTSAFE_SUB(size_t, SIZE_MAX)
static inline HRESULT SizeTMult(size_t a, size_t b, size_t* pResult)
PORTHEAP_INTSAFE_MULT(size_t, SIZE_MAX)

static inline HRESULT ULongAdd(ULONG a, ULONG b, ULONG* pResult)
PORTHEAP_INTSAFE_ADD(ULONG, 0xFFFFFFFFu)
static inline HRESULT ULongSub(ULONG a, ULONG b, ULONG* pResult)
PORTHEAP_INTSAFE_SUB(ULONG, 0xFFFFFFFFu)
static inline HRESULT ULongMult(ULONG a, ULONG b, ULONG* pResult)
PORTHEAP_INTSAFE_MULT(ULONG, 0xFFFFFFFFu)

static inline HRESULT DWordAdd(DWORD a, DWORD b, DWORD* pResult)
PORTHEAP_INTSAFE_ADD(DWORD, 0xFFFFFFFFu)
static inline HRESULT DWordSub(DWORD a, DWORD b, DWORD* pResult)
PORTHEAP_INTSAFE_SUB(DWORD, 0xFFFFFFFFu)
static inline HRESULT DWordMult(DWORD a, DWORD b, DWORD* pResult)
PORTHEAP_INTSAFE_MULT(DWORD, 0xFFFFFFFFu)

#undef PORTHEAP_INTSAFE_ADD
#undef PORTHEAP_INTSAFE_SUB
#undef PORTHEAP_INTSAFE_MULT

#ifdef __cplusplus
}
#endif
#endif /* PORTHEAP_COMPAT_INTSAFE_H */
