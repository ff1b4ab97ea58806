/*
 * private-heap.c - the life of a private heap: create it, allocate a
 * zeroed block, ask its size, free it, destroy the heap.  Plain Win32 heap
 * code that builds unchanged with the Windows SDK (or mingw-w64) and, on
 * POSIX, against portheap's compat headers (pkg-config portheap-compat).
 *
 * Every line it prints is the same on every platform (no addresses).
 */
#include <windows.h>
#include <tchar.h>
#include <intsafe.h>

#define RECORD_COUNT 25
#define RECORD_SIZE 40

int __cdecl _tmain(void) {
  HANDLE hHeap;
  LPVOID pBlock;
  SIZE_T BytesToAllocate;
  SIZE_T BlockSize;
  SIZE_T Index;
  const BYTE* pBytes;

  hHeap = HeapCreate(0, 0, 0);
  if (hHeap == NULL) {
    _tprintf(TEXT("HeapCreate failed with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }
  _tprintf(TEXT("Created a growable private heap.\n"));

  if (FAILED(SIZETMult(RECORD_COUNT, RECORD_SIZE, &BytesToAllocate))) {
    _tprintf(TEXT("Too many records.\n"));
    return 1;
  }
  pBlock = HeapAlloc(hHeap, HEAP_ZERO_MEMORY, BytesToAllocate);
  if (pBlock == NULL) {
    _tprintf(TEXT("HeapAlloc of %lu bytes failed.\n"),
             (unsigned long)BytesToAllocate);
    return 1;
  }
  _tprintf(TEXT("Allocated %lu bytes (%d records of %d bytes).\n"),
           (unsigned long)BytesToAllocate, RECORD_COUNT, RECORD_SIZE);

  pBytes = (const BYTE*)pBlock;
  for (Index = 0; Index < BytesToAllocate; ++Index) {
    if (pBytes[Index] != 0) {
      _tprintf(TEXT("Byte %lu is not zero.\n"), (unsigned long)Index);
      return 1;
    }
  }
  _tprintf(TEXT("The block is zeroed.\n"));

  BlockSize = HeapSize(hHeap, 0, pBlock);
  if (BlockSize == (SIZE_T)-1) {
    _tprintf(TEXT("HeapSize failed.\n"));
    return 1;
  }
  _tprintf(TEXT("HeapSize reports %lu bytes.\n"), (unsigned long)BlockSize);

  if (HeapValidate(hHeap, 0, NULL) == FALSE) {
    _tprintf(TEXT("HeapValidate says the heap is damaged.\n"));
    return 1;
  }
  _tprintf(TEXT("The heap is valid.\n"));

  if (HeapFree(hHeap, 0, pBlock) == FALSE) {
    _tprintf(TEXT("HeapFree failed with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }
  _tprintf(TEXT("Freed the block.\n"));

  if (HeapDestroy(hHeap) == FALSE) {
    _tprintf(TEXT("HeapDestroy failed with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }
  _tprintf(TEXT("Destroyed the heap.\n"));
  return 0;
}
