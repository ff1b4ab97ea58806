/*
 * tchar.h - portheap's drop-in for the TCHAR names heap samples use, on
 * POSIX systems: the ANSI (char) forms only.
 *
 * Provides _T, _TEXT, _TCHAR, _tmain and the printf family heap samples
 * print with (_tprintf, _ftprintf), plus an empty __cdecl.  Nothing else of
 * Microsoft's <tchar.h>: code that needs _tcscpy and friends fails to build.
 * Defining UNICODE or _UNICODE is an error.  On Windows use the SDK's.
 */
#ifndef PORTHEAP_COMPAT_TCHAR_H
#define PORTHEAP_COMPAT_TCHAR_H

#if defined(_WIN32)
#  error "portheap's compat <tchar.h> is for POSIX systems; use the SDK's"
#endif
#if defined(UNICODE) || defined(_UNICODE)
#  error "portheap's compat headers provide only the ANSI (char) forms"
#endif

#include <stdio.h>

#ifndef __cdecl
#  define __cdecl
#endif

typedef char _TCHAR;
#define _T(quote) quote
#define _TEXT(quote) quote

#define _tmain main
#define _tprintf printf
#define _ftprintf fprintf

#endif /* PORTHEAP_COMPAT_TCHAR_H */
