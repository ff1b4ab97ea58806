#!/bin/sh
# samples.sh - the Win32-style samples in tests/samples/ (built from the
# same source against portheap's compat headers on POSIX, against the real
# headers with mingw-w64) run and print the expected structure: counts and
# fixed lines, never addresses.  PH_RUN (wine or empty) and PH_EXEEXT come
# from AM_TESTS_ENVIRONMENT.
status=0
fail() { echo "FAIL: $*"; status=1; }
run() { # program -> its output on stdout, CRs dropped; fails if it fails
  out=$($PH_RUN "tests/samples/$1$PH_EXEEXT" | tr -d '\r') &&
    printf '%s\n' "$out"
}
count() { printf '%s\n' "$1" | grep -c "$2"; }

# heap-list: "Process has N heaps." then N lines, the default heap first.
if out=$(run heap-list); then
  printf '%s\n' "$out"
  said=$(printf '%s\n' "$out" | sed -n 's/^Process has \([0-9][0-9]*\) heaps\.$/\1/p')
  listed=$(count "$out" '^Heap [0-9][0-9]* at address: ')
  [ -n "$said" ] && [ "$said" -ge 1 ] || fail "heap-list: no heap count"
  [ "$listed" = "$said" ] || fail "heap-list: said $said heaps, listed $listed"
  printf '%s\n' "$out" | grep -q '^Heap 0 at address: .* (default)$' ||
    fail "heap-list: the default heap is not listed first"
  [ "$(count "$out" '(default)$')" = 1 ] ||
    fail "heap-list: the default heap is not listed exactly once"
else
  fail "heap-list exited with an error"
fi

# heap-walk: at least one region, the three live blocks (100, 200, 300
# bytes), the walk ends with ERROR_NO_MORE_ITEMS, the summary adds up.
if out=$(run heap-walk); then
  printf '%s\n' "$out" | sed -n '1,12p'
  echo "[...]"
  printf '%s\n' "$out" | tail -n 1
  sum=$(printf '%s\n' "$out" | sed -n 's/^Entries: \([0-9]*\) regions, \([0-9]*\) allocated, \([0-9]*\) free, \([0-9]*\) uncommitted\.$/\1 \2 \3 \4/p')
  set -- $sum
  [ $# = 4 ] || fail "heap-walk: no summary line"
  [ "$(count "$out" '^Region$')" = "${1:-x}" ] || fail "heap-walk: regions miscounted"
  [ "$(count "$out" '^Allocated block')" = "${2:-x}" ] || fail "heap-walk: blocks miscounted"
  [ "$(count "$out" '^Free block$')" = "${3:-x}" ] || fail "heap-walk: free blocks miscounted"
  [ "$(count "$out" '^Uncommitted range$')" = "${4:-x}" ] || fail "heap-walk: ranges miscounted"
  [ "${1:-0}" -ge 1 ] || fail "heap-walk: no region entry"
  [ "${2:-0}" -ge 3 ] || fail "heap-walk: fewer than the 3 live blocks"
  for size in 100 200 300; do
    printf '%s\n' "$out" | grep -A2 '^Allocated block' |
      grep -q "^  Size: $size bytes\$" || fail "heap-walk: no live block of $size bytes"
  done
  printf '%s\n' "$out" | grep -q '^HeapWalk failed' &&
    fail "heap-walk: the walk did not end with ERROR_NO_MORE_ITEMS"
  printf '%s\n' "$out" | grep -q '^Walking heap ' || fail "heap-walk: no header"
else
  fail "heap-walk exited with an error"
fi

# private-heap: every line is fixed.
expected='Created a growable private heap.
Allocated 1000 bytes (25 records of 40 bytes).
The block is zeroed.
HeapSize reports 1000 bytes.
The heap is valid.
Freed the block.
Destroyed the heap.'
if out=$(run private-heap); then
  printf '%s\n' "$out"
  [ "$out" = "$expected" ] || fail "private-heap: unexpected output"
else
  fail "private-heap exited with an error"
fi

[ $status = 0 ] && echo "PASS: the three samples print what they should"
exit $status
