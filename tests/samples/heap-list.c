/*
 * heap-list.c - list the heaps of this process, in the style of Microsoft's
 * "Getting Process Heaps" sample: plain Win32 heap code that builds
 * unchanged with the Windows SDK (or mingw-w64) and, on POSIX, against
 * portheap's compat headers (pkg-config portheap-compat).
 *
 * Output: "Process has N heaps.", then "Heap I at address: P" for each,
 * the process heap marked.
 */
#include <windows.h>
#include <tchar.h>
#include <intsafe.h>

int __cdecl _tmain(void) {
  DWORD NumberOfHeaps;
  DWORD HeapsIndex;
  DWORD HeapsLength;
  HANDLE hDefaultProcessHeap;
  HRESULT Result;
  PHANDLE aHeaps;
  SIZE_T BytesToAllocate;

  /* First call: how many heaps are there? */
  NumberOfHeaps = GetProcessHeaps(0, NULL);
  if (NumberOfHeaps == 0) {
    _tprintf(TEXT("Failed to retrieve the number of heaps with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }

  /* Room for that many handles, the multiplication checked. */
  Result = SIZETMult(NumberOfHeaps, sizeof(*aHeaps), &BytesToAllocate);
  if (Result != S_OK) {
    _tprintf(TEXT("SIZETMult failed with HR 0x%08lx.\n"),
             (unsigned long)Result);
    return 1;
  }

  hDefaultProcessHeap = GetProcessHeap();
  if (hDefaultProcessHeap == NULL) {
    _tprintf(TEXT("Failed to retrieve the default process heap with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }

  aHeaps = (PHANDLE)HeapAlloc(hDefaultProcessHeap, 0, BytesToAllocate);
  if (aHeaps == NULL) {
    _tprintf(TEXT("HeapAlloc failed to allocate %lu bytes.\n"),
             (unsigned long)BytesToAllocate);
    return 1;
  }

  /* Second call: the handles.  A larger total means another component
   * created a heap in between; a smaller one that a heap went away, so
   * only the first HeapsLength entries were written. */
  HeapsLength = NumberOfHeaps;
  NumberOfHeaps = GetProcessHeaps(HeapsLength, aHeaps);
  if (NumberOfHeaps == 0) {
    _tprintf(TEXT("Failed to retrieve heaps with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }
  if (NumberOfHeaps > HeapsLength) {
    _tprintf(TEXT("Another component created a heap between calls. ")
             TEXT("Please try again.\n"));
    return 1;
  }

  _tprintf(TEXT("Process has %lu heaps.\n"), (unsigned long)NumberOfHeaps);
  for (HeapsIndex = 0; HeapsIndex < NumberOfHeaps; ++HeapsIndex) {
    _tprintf(TEXT("Heap %lu at address: %p%s\n"), (unsigned long)HeapsIndex,
             aHeaps[HeapsIndex],
             aHeaps[HeapsIndex] == hDefaultProcessHeap ? TEXT(" (default)")
                                                       : TEXT(""));
  }

  if (HeapFree(hDefaultProcessHeap, 0, aHeaps) == FALSE) {
    _tprintf(TEXT("Failed to free allocation from default process heap.\n"));
    return 1;
  }
  return 0;
}
