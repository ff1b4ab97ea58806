#!/bin/sh
# exports.sh - the shared library has the promised name and exports the
# ph_ API and nothing else: no Win32 name (it would clash with Wine or
# WinPR, or with kernel32 itself), no internal ph__ symbol.
#   ELF:       .libs/libportheap.so, SONAME libportheap.so.$major
#   macOS:     .libs/libportheap.$major.dylib
#   mingw-w64: .libs/libportheap-$major.dll and .libs/libportheap.dll.a
# $major is current - age of PH_LT_VERSION (configure.ac).  A change to it
# is an ABI break: change it here in the same commit.
major=0

la=libportheap.la
[ -f "$la" ] || { echo "FAIL: no $la (run from the build tree)"; exit 1; }
dlname=$(sed -n "s/^dlname='\(.*\)'$/\1/p" "$la")
if [ -z "$dlname" ]; then
  echo "SKIP: no shared library in this build (--disable-shared)"
  exit 77
fi

# The names.  On mingw-w64 dlname is ../bin/libportheap-N.dll.
case $dlname in
  *.dll)
    want=libportheap-$major.dll
    lib=.libs/$want
    [ "${dlname##*/}" = "$want" ] || { echo "FAIL: DLL is $dlname, want $want"; exit 1; }
    [ -f .libs/libportheap.dll.a ] || { echo "FAIL: no import library .libs/libportheap.dll.a"; exit 1; }
    echo "DLL: $want, import library: libportheap.dll.a" ;;
  *.dylib)
    want=libportheap.$major.dylib
    lib=.libs/$want
    [ "$dlname" = "$want" ] || { echo "FAIL: library is $dlname, want $want"; exit 1; }
    echo "library: $want" ;;
  *)
    want=libportheap.so.$major
    lib=.libs/libportheap.so
    [ "$dlname" = "$want" ] || { echo "FAIL: library is $dlname, want $want"; exit 1; }
    if command -v readelf >/dev/null 2>&1; then
      soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
      [ "$soname" = "$want" ] || { echo "FAIL: SONAME is '$soname', want $want"; exit 1; }
    fi
    echo "SONAME: $want" ;;
esac
[ -f "$lib" ] || { echo "FAIL: $lib is missing"; exit 1; }

# The exported names, one a line.
case $lib in
  *.dll)
    objdump=$(sed -n 's/^OBJDUMP = //p' Makefile)
    command -v "${objdump:-objdump}" >/dev/null 2>&1 ||
      { echo "SKIP: no objdump for this host"; exit 77; }
    # The export name table: "\t[   0] ph_backend".
    symbols=$("${objdump:-objdump}" -p "$lib" |
              sed -n '/Ordinal\/Name Pointer/,/^$/p' |
              sed -n 's/^[[:space:]]*\[ *[0-9][0-9]*\] \([A-Za-z_][A-Za-z0-9_@]*\)$/\1/p') ;;
  *.dylib)
    symbols=$(nm -gU "$lib" | awk '$2 ~ /^[TDBS]$/ { print $3 }' | sed 's/^_//') ;;
  *)
    symbols=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' |
              sed 's/@.*//' |
              grep -v '^__bss_start$\|^_edata$\|^_end$\|^_init$\|^_fini$' || true) ;;
esac
bad=$(printf '%s\n' "$symbols" | grep -v '^ph_[a-z]' | grep -v '^$' || true)
internal=$(printf '%s\n' "$symbols" | grep '^ph__' || true)
count=$(printf '%s\n' "$symbols" | grep -c '^ph_[a-z]')
echo "exported ph_ symbols: $count"
if [ -n "$bad$internal" ]; then
  echo "FAIL: symbols outside the ph_ API:"; printf '%s\n' $bad $internal
  exit 1
fi
[ "$count" -ge 20 ] || { echo "FAIL: expected the whole API, got $count"; exit 1; }
echo "PASS: $want exports only ph_ symbols"
