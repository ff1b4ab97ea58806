#!/bin/sh
# crash.sh - what ends the process on the emulated engine, checked from
# outside (tests/crash.c does it): an unhandled heap exception
# (HEAP_GENERATE_EXCEPTIONS without ph_set_exception_handler), and detected
# corruption after HeapEnableTerminationOnCorruption, which is process-wide
# and cannot be undone.  Each must print a message naming the heap, the
# address or status and what was wrong, and exit abnormally.
# The native backend is Windows' own business: skipped there.
if [ "$PH_BACKEND" != emul ]; then
  echo "SKIP: the native backend raises real exceptions (Windows' behaviour)"
  exit 77
fi
prog=tests/crash$PH_EXEEXT
tmp=${TMPDIR:-/tmp}/ph-crash.$$
trap 'rm -f "$tmp".out "$tmp".err "$tmp".o2 "$tmp".e2' EXIT

# hex digits of an address, lower case, no 0x, no leading zeros
norm() { printf '%s\n' "$1" | tr 'A-F' 'a-f' | sed 's/^0x//; s/^0*//'; }

# run MODE PATTERN...: the run must fail, stderr must match every PATTERN
# (after @HEAP@ and @AT@ become the addresses the helper printed)
failures=0
run() {
  mode=$1; shift
  $PH_RUN "$prog" "$mode" >"$tmp".out 2>"$tmp".err
  status=$?
  if [ "$status" -eq 77 ]; then
    echo "SKIP: $mode: $(tr -d '\r' <"$tmp".out | grep '^skip' | head -n 1)"
    return 0
  fi
  tr -d '\r' <"$tmp".out >"$tmp".o2 && mv "$tmp".o2 "$tmp".out
  tr -d '\r' <"$tmp".err >"$tmp".e2 && mv "$tmp".e2 "$tmp".err
  heap=$(norm "$(sed -n 's/^heap //p' "$tmp".out)")
  at=$(norm "$(sed -n 's/^at //p' "$tmp".out)")
  # the message's addresses, normalised the same way
  msg=$(grep '^portheap:' "$tmp".err | head -n 1)
  flat=$(printf '%s\n' "$msg" | sed 's/0x0*\([0-9a-fA-F]\)/\1/g; s/ 0*\([0-9a-fA-F]\{6,\}\)/ \1/g' |
         tr '[:upper:]' '[:lower:]')
  ok=yes
  if [ "$status" -eq 0 ] || grep -q survived "$tmp".out; then
    echo "FAIL: $mode: the process survived (exit $status)"; ok=no
  fi
  if [ -z "$msg" ]; then
    echo "FAIL: $mode: no portheap message on stderr:"; cat "$tmp".err; ok=no
  fi
  for pattern in "$@"; do
    pattern=$(printf '%s\n' "$pattern" | sed "s/@HEAP@/$heap/; s/@AT@/$at/")
    printf '%s\n' "$flat" | grep -q -- "$pattern" ||
      { echo "FAIL: $mode: message lacks '$pattern': $msg"; ok=no; }
  done
  [ $ok = yes ] && echo "PASS: $mode: exit $status: $msg"
  [ $ok = yes ] || failures=$((failures + 1))
}

run raise 'unhandled heap exception' '0xc0000017\|c0000017' 'status_no_memory' \
    "heap @HEAP@"
run bad-heap 'unhandled heap exception' 'c0000005' 'status_access_violation' \
    "heap @HEAP@"
run double-free 'heap corruption' "in heap @HEAP@" "at @AT@" \
    'not a live block' 'c0000374'
run overrun 'heap corruption' "in heap @HEAP@" "at @AT@" \
    'not a live block' 'c0000374'
# Losing the process-wide fence (membarrier) after start-up: a revocation
# that cannot be fenced ends the process; with the fence gone before any
# bias formed, none forms and the process goes on.
run fence-revoke 'memory barrier' 'membarrier' 'biased'
$PH_RUN "$prog" fence-grant >"$tmp".out 2>&1
status=$?
case $status in
0) echo "PASS: fence-grant: $(tr -d '\r' <"$tmp".out | head -n 1)" ;;
77) echo "SKIP: fence-grant: $(tr -d '\r' <"$tmp".out | head -n 1)" ;;
*) echo "FAIL: fence-grant: exit $status"; cat "$tmp".out
   failures=$((failures + 1)) ;;
esac
rm -f "$tmp".out "$tmp".err
[ "$failures" -eq 0 ]
