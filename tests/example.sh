#!/bin/sh
# example.sh - examples/process-heaps lists one line per heap, and two
# more when it creates two heaps first (natively, or under Wine).
prog=examples/process-heaps$PH_EXEEXT
run() { $PH_RUN "$prog" "$@" | tr -d '\r'; }
plain=$(run) || { echo "FAIL: $prog exited with an error"; exit 1; }
more=$(run --create 2) || { echo "FAIL: $prog --create 2 failed"; exit 1; }
printf '%s\n' "$plain"
n=$(printf '%s\n' "$plain" | grep -c '^Heap [0-9]* at address: ')
m=$(printf '%s\n' "$more" | grep -c '^Heap [0-9]* at address: ')
said=$(printf '%s\n' "$plain" | sed -n 's/^Process has \([0-9]*\) heaps.*/\1/p')
[ "$n" -ge 1 ] || { echo "FAIL: no heap listed"; exit 1; }
[ "$n" = "$said" ] || { echo "FAIL: said $said heaps, listed $n"; exit 1; }
[ "$m" = $((n + 2)) ] || { echo "FAIL: $n heaps, then $m after creating 2"; exit 1; }
printf '%s\n' "$plain" | grep -q '^Heap 0 at address: .*(process heap)' ||
  { echo "FAIL: the process heap is not listed first"; exit 1; }
echo "PASS: $n heaps listed, $m after creating two"
