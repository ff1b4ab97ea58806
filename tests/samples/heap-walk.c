/*
 * heap-walk.c - walk a private heap under HeapLock, in the style of
 * Microsoft's "Enumerating a Heap" sample: plain Win32 heap code that builds
 * unchanged with the Windows SDK (or mingw-w64) and, on POSIX, against
 * portheap's compat headers (pkg-config portheap-compat).
 *
 * It allocates three blocks (100, 200 and 300 bytes) and frees a fourth,
 * then prints one paragraph per entry: "Region", "Allocated block", "Free
 * block" or "Uncommitted range", then a summary line
 * "Entries: R regions, B allocated, F free, U uncommitted."
 */
#include <windows.h>
#include <tchar.h>
#include <intsafe.h>

int __cdecl _tmain(void) {
  DWORD LastError;
  HANDLE hHeap;
  PROCESS_HEAP_ENTRY Entry;
  LPVOID aBlocks[4];
  DWORD Index;
  DWORD Regions = 0, Busy = 0, Free = 0, Uncommitted = 0, Other = 0;

  hHeap = HeapCreate(0, 0, 0);
  if (hHeap == NULL) {
    _tprintf(TEXT("Failed to create a new heap with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }

  for (Index = 0; Index < 4; ++Index) {
    aBlocks[Index] = HeapAlloc(hHeap, 0, 100 * (SIZE_T)(Index + 1));
    if (aBlocks[Index] == NULL) {
      _tprintf(TEXT("HeapAlloc failed.\n"));
      return 1;
    }
  }
  if (HeapFree(hHeap, 0, aBlocks[3]) == FALSE) {
    _tprintf(TEXT("HeapFree failed with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }

  /* Lock the heap so that no other thread changes it during the walk. */
  if (HeapLock(hHeap) == FALSE) {
    _tprintf(TEXT("Failed to lock heap with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }

  _tprintf(TEXT("Walking heap %p...\n\n"), hHeap);
  Entry.lpData = NULL;
  while (HeapWalk(hHeap, &Entry) != FALSE) {
    if ((Entry.wFlags & PROCESS_HEAP_ENTRY_BUSY) != 0) {
      _tprintf(TEXT("Allocated block"));
      ++Busy;
      if ((Entry.wFlags & PROCESS_HEAP_ENTRY_MOVEABLE) != 0)
        _tprintf(TEXT(", movable with HANDLE %p"), Entry.Block.hMem);
      if ((Entry.wFlags & PROCESS_HEAP_ENTRY_DDESHARE) != 0)
        _tprintf(TEXT(", DDESHARE"));
    } else if ((Entry.wFlags & PROCESS_HEAP_REGION) != 0) {
      _tprintf(TEXT("Region\n  %lu bytes committed\n")
               TEXT("  %lu bytes uncommitted\n  First block address: %p\n")
               TEXT("  Last block address: %p"),
               (unsigned long)Entry.Region.dwCommittedSize,
               (unsigned long)Entry.Region.dwUnCommittedSize,
               Entry.Region.lpFirstBlock, Entry.Region.lpLastBlock);
      ++Regions;
    } else if ((Entry.wFlags & PROCESS_HEAP_UNCOMMITTED_RANGE) != 0) {
      _tprintf(TEXT("Uncommitted range"));
      ++Uncommitted;
    } else if (Entry.wFlags == 0) {
      _tprintf(TEXT("Free block"));
      ++Free;
    } else {
      _tprintf(TEXT("Other entry (flags 0x%04x)"), (unsigned)Entry.wFlags);
      ++Other;
    }

    _tprintf(TEXT("\n  Data portion begins at: %p\n  Size: %lu bytes\n")
             TEXT("  Overhead: %lu bytes\n  Region index: %lu\n\n"),
             Entry.lpData, (unsigned long)Entry.cbData,
             (unsigned long)Entry.cbOverhead,
             (unsigned long)Entry.iRegionIndex);
  }
  LastError = GetLastError();
  if (LastError != ERROR_NO_MORE_ITEMS) {
    _tprintf(TEXT("HeapWalk failed with LastError %lu.\n"),
             (unsigned long)LastError);
  }

  if (HeapUnlock(hHeap) == FALSE) {
    _tprintf(TEXT("Failed to unlock heap with LastError %lu.\n"),
             (unsigned long)GetLastError());
  }

  _tprintf(TEXT("Entries: %lu regions, %lu allocated, %lu free, ")
           TEXT("%lu uncommitted.\n"),
           (unsigned long)Regions, (unsigned long)Busy, (unsigned long)Free,
           (unsigned long)Uncommitted);
  if (Other != 0)
    _tprintf(TEXT("Other entries: %lu.\n"), (unsigned long)Other);

  if (HeapDestroy(hHeap) == FALSE) {
    _tprintf(TEXT("Failed to destroy heap with LastError %lu.\n"),
             (unsigned long)GetLastError());
    return 1;
  }
  return LastError == ERROR_NO_MORE_ITEMS ? 0 : 1;
}
