#!/bin/sh
# exports.sh - the POSIX shared library exports the ph_ API and nothing
# else: no Win32 name (it would clash with Wine or WinPR), no internal
# ph__ symbol.
lib=$(ls .libs/libportheap.so 2>/dev/null || ls .libs/libportheap.dylib 2>/dev/null)
if [ -z "$lib" ]; then
  echo "SKIP: no POSIX shared library in this build (Windows or static-only)"
  exit 77
fi
symbols=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' |
          sed 's/@.*//' | grep -v '^_\(init\|fini\|edata\|end\|_bss_start\)$' |
          grep -v '^__bss_start$\|^_edata$\|^_end$\|^_init$\|^_fini$' || true)
bad=$(printf '%s\n' "$symbols" | grep -v '^ph_[a-z]' || true)
internal=$(printf '%s\n' "$symbols" | grep '^ph__' || true)
count=$(printf '%s\n' "$symbols" | grep -c '^ph_[a-z]')
echo "exported ph_ symbols: $count"
if [ -n "$bad$internal" ]; then
  echo "FAIL: symbols outside the ph_ API:"; printf '%s\n' $bad $internal
  exit 1
fi
[ "$count" -ge 20 ] || { echo "FAIL: expected the whole API, got $count"; exit 1; }
echo "PASS: only ph_ symbols"
