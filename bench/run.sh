#!/usr/bin/env bash
# run.sh - build the benchmark out of tree and run it: natively, then (if
# the mingw-w64 toolchain and wine are installed) the mingw-w64 build with
# the native backend under Wine, so Windows' HeapAlloc as Wine implements
# it is one more run.  Under Wine the "crt" column is msvcrt's malloc and
# mimalloc/jemalloc are absent.
#
#   bench/run.sh [BUILD_DIR] [bench flags...]     e.g. bench/run.sh /tmp/b --quick
#
#   BUILD_DIR       where the build trees go (default: a new temporary dir);
#                   native in BUILD_DIR/native, Windows in BUILD_DIR/w64
#   PH_BENCH_WINE_FLAGS  bench flags for the Wine run (default: the same)
#   PH_BENCH_SKIP_WINE=1 native run only
#   PH_JOBS         make -j (default 2)
#   PH_CONFIGURE_FLAGS   extra configure flags for both builds
#                   (e.g. --enable-werror)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  build=$1
  shift
else
  build=$(mktemp -d "${TMPDIR:-/tmp}/portheap-bench.XXXXXX")
fi
jobs=${PH_JOBS:-2}
host=x86_64-w64-mingw32
check_pc=/var/cache/portheap/check-$host/lib/pkgconfig
read -r -a extra <<< "${PH_CONFIGURE_FLAGS:-}"

[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)

echo "== native build in $build/native" >&2
mkdir -p "$build/native"
(cd "$build/native" &&
   { [ -f Makefile ] || "$top/configure" -q "${extra[@]}" >&2; } &&
   make -s -j"$jobs" bench/bench >&2)
"$build/native/bench/bench" "$@"

if [ "${PH_BENCH_SKIP_WINE:-0}" = 1 ]; then
  exit 0
fi
# The 64-bit loader: with wine32 installed, plain `wine` is the 32-bit one
# (Debian puts wine64 outside PATH).
wine=$(command -v wine64 || { [ -x /usr/lib/wine/wine64 ] && echo /usr/lib/wine/wine64; } || command -v wine || true)
if ! command -v $host-gcc >/dev/null || [ -z "$wine" ]; then
  echo "== no mingw-w64 toolchain or no wine: Windows run skipped" >&2
  exit 0
fi

echo "== mingw-w64 build (native backend: kernel32 HeapAlloc) in $build/w64" >&2
mkdir -p "$build/w64"
(cd "$build/w64" &&
   { [ -f Makefile ] ||
       "$top/configure" -q --host=$host --with-backend=native \
         PKG_CONFIG_LIBDIR="$check_pc" "${extra[@]}" >&2; } &&
   make -s -j"$jobs" bench/bench.exe >&2)
echo
echo "== Windows build under $("$wine" --version 2>/dev/null || echo wine):" \
     "ph = kernel32 HeapAlloc as Wine implements it; crt = msvcrt malloc"
read -r -a wine_flags <<< "${PH_BENCH_WINE_FLAGS:-$*}"
WINEDEBUG=-all timeout 1800 "$wine" "$build/w64/bench/bench.exe" "${wine_flags[@]}"
