/*
 * compat-headers.c - the POSIX compat headers (compat/): intsafe.h's
 * arithmetic against Microsoft's contract (S_OK, or all-ones and
 * INTSAFE_E_ARITHMETIC_OVERFLOW), the LLP64 types, and the names that must
 * stay absent.  Plain C, no Check: built only where the compat headers are
 * used (not on Windows).
 */
#include <windows.h>
#include <tchar.h>
#include <intsafe.h>

#include <stdint.h>

/* Out of scope, so absent: code that needs these must fail to build. */
#if defined(MAX_PATH) || defined(INFINITE) || defined(_tcslen) ||           \
    defined(_tcscpy) || defined(WCHAR) || defined(LPWSTR) ||                \
    defined(E_FAIL) || defined(VirtualAlloc) || defined(_wmain)
#  error "a compat header defines a name outside its scope"
#endif

_Static_assert(sizeof(DWORD) == 4, "DWORD is 32 bits, as on Windows");
_Static_assert(sizeof(ULONG) == 4, "ULONG is 32 bits, as on Windows");
_Static_assert(sizeof(HRESULT) == 4, "HRESULT is 32 bits");
_Static_assert(sizeof(SIZE_T) == sizeof(void*), "SIZE_T is pointer-sized");
_Static_assert(sizeof(TCHAR) == 1 && sizeof(_TCHAR) == 1, "ANSI TCHAR");

static int failures;

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      _tprintf(_T("FAIL line %d: %s\n"), __LINE__, #cond);                     \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static void test_hresult(void) {
  EXPECT(S_OK == 0);
  EXPECT((uint32_t)INTSAFE_E_ARITHMETIC_OVERFLOW == 0x80070216u);
  EXPECT(SUCCEEDED(S_OK) && !FAILED(S_OK));
  EXPECT(FAILED(INTSAFE_E_ARITHMETIC_OVERFLOW));
  EXPECT(!SUCCEEDED(INTSAFE_E_ARITHMETIC_OVERFLOW));
}

static void test_size_t(void) {
  SIZE_T r = 7;
  size_t s = 7;
  EXPECT(SIZETMult(3, sizeof(HANDLE), &r) == S_OK && r == 3 * sizeof(HANDLE));
  EXPECT(SIZETMult(0, SIZE_MAX, &r) == S_OK && r == 0);
  EXPECT(SIZETMult(SIZE_MAX / 2 + 1, 2, &r) == INTSAFE_E_ARITHMETIC_OVERFLOW);
  EXPECT(r == SIZET_ERROR && r == SIZE_MAX);
  EXPECT(SIZETAdd(SIZE_MAX - 1, 1, &r) == S_OK && r == SIZE_MAX);
  EXPECT(SIZETAdd(SIZE_MAX, 1, &r) == INTSAFE_E_ARITHMETIC_OVERFLOW &&
         r == SIZE_MAX);
  EXPECT(SIZETSub(5, 5, &r) == S_OK && r == 0);
  EXPECT(SIZETSub(4, 5, &r) == INTSAFE_E_ARITHMETIC_OVERFLOW && r == SIZE_MAX);
  EXPECT(SizeTMult(SIZE_MAX, 1, &s) == S_OK && s == SIZE_MAX);
  EXPECT(SizeTMult(SIZE_MAX, SIZE_MAX, &s) == INTSAFE_E_ARITHMETIC_OVERFLOW &&
         s == SIZE_T_ERROR);
  EXPECT(SizeTAdd(1, 2, &s) == S_OK && s == 3);
  EXPECT(SizeTAdd(2, SIZE_MAX - 1, &s) == INTSAFE_E_ARITHMETIC_OVERFLOW &&
         s == SIZE_MAX);
  EXPECT(SizeTSub(0, 1, &s) == INTSAFE_E_ARITHMETIC_OVERFLOW && s == SIZE_MAX);
}

static void test_32_bit(void) {
  ULONG u = 7;
  DWORD d = 7;
  /* 0x10000 * 0x10000 fits a 64-bit long, not a ULONG: it must overflow. */
  EXPECT(ULongMult(0x10000u, 0x10000u, &u) == INTSAFE_E_ARITHMETIC_OVERFLOW);
  EXPECT(u == ULONG_ERROR && u == 0xFFFFFFFFu);
  EXPECT(ULongMult(0xFFFFu, 0x10001u, &u) == S_OK && u == 0xFFFFFFFFu);
  EXPECT(ULongAdd(0xFFFFFFFFu, 1, &u) == INTSAFE_E_ARITHMETIC_OVERFLOW &&
         u == 0xFFFFFFFFu);
  EXPECT(ULongSub(10, 3, &u) == S_OK && u == 7);
  EXPECT(DWordMult(0x80000000u, 2, &d) == INTSAFE_E_ARITHMETIC_OVERFLOW &&
         d == DWORD_ERROR);
  EXPECT(DWordAdd(0xFFFFFFFEu, 1, &d) == S_OK && d == 0xFFFFFFFFu);
  EXPECT(DWordAdd(0x80000000u, 0x80000000u, &d) ==
             INTSAFE_E_ARITHMETIC_OVERFLOW &&
         d == 0xFFFFFFFFu);
  EXPECT(DWordSub(0, 1, &d) == INTSAFE_E_ARITHMETIC_OVERFLOW &&
         d == 0xFFFFFFFFu);
}

static void test_text(void) {
  LPCTSTR text = TEXT("heap");
  const _TCHAR* t = _T("heap");
  EXPECT(text[0] == 'h' && t[3] == 'p');
}

int __cdecl _tmain(void) {
  test_hresult();
  test_size_t();
  test_32_bit();
  test_text();
  if (failures != 0)
    return 1;
  _tprintf(_T("PASS: compat headers\n"));
  return 0;
}
