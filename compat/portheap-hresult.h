/*
 * portheap-hresult.h - HRESULT and its tests (winerror.h) for portheap's
 * compat <windows.h> and <intsafe.h>, which both provide them: defined
 * here once, whichever of the two comes first.  Internal: include one of
 * those, not this file.
 */
#ifndef PORTHEAP_COMPAT_HRESULT
#define PORTHEAP_COMPAT_HRESULT

#include <stdint.h>

typedef int32_t HRESULT;
#define S_OK ((HRESULT)0)
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr) (((HRESULT)(hr)) < 0)

#endif /* PORTHEAP_COMPAT_HRESULT */
