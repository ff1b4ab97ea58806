/*
 * windows.h - portheap's drop-in for heap code on POSIX systems.
 *
 * Installed as <portheap/compat/windows.h> and found as plain <windows.h>
 * through `pkg-config --cflags portheap-compat`.  It provides what code
 * written against the Win32 heap API needs, and nothing that pretends to be
 * more: the types, constants and heap functions of <portheap/win32.h>,
 * GetLastError/SetLastError, HRESULT with S_OK/SUCCEEDED/FAILED, the ANSI
 * TCHAR names (TEXT, TCHAR, LPTSTR, LPCTSTR) and an empty __cdecl.  Any other
 * Win32 name is left undefined on purpose, so that code needing more fails
 * to build instead of running on a pretence.
 *
 * Types follow Windows' LLP64 model: DWORD and ULONG are 32 bits even where
 * `long` is 64 bits; SIZE_T is pointer-sized.
 *
 * On Windows use the SDK's <windows.h>; this file refuses to be used there.
 */
#ifndef PORTHEAP_COMPAT_WINDOWS_H
#define PORTHEAP_COMPAT_WINDOWS_H

#if defined(_WIN32)
#  error "portheap's compat <windows.h> is for POSIX systems; use the SDK's"
#endif
#if defined(UNICODE) || defined(_UNICODE)
#  error "portheap's compat headers provide only the ANSI (char) forms"
#endif

#include <portheap/win32.h>

#include "portheap-hresult.h" /* HRESULT, S_OK, SUCCEEDED, FAILED */

#ifndef __cdecl
#  define __cdecl
#endif

/* Character types, ANSI only (winnt.h). */
typedef char CHAR;
typedef char TCHAR;
typedef char* LPSTR;
typedef const char* LPCSTR;
typedef char* LPTSTR;
typedef const char* LPCTSTR;
#define TEXT(quote) quote

#endif /* PORTHEAP_COMPAT_WINDOWS_H */
