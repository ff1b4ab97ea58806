#!/usr/bin/env bash
# test-all.sh - every test, the way CI runs it:
#   1. Linux, emulated engine: make check, make install + programs built
#      with pkg-config (tests/installcheck.sh), then make distcheck
#   2. mingw-w64 build, native backend (kernel32), under Wine: make check,
#      and a program linked against libportheap-0.dll
#   3. mingw-w64 build, emulated engine, under Wine: the same
#   4. .ci/harden.sh: ASan+UBSan, TSan, Valgrind memcheck, libFuzzer
#      (PH_HARDEN=0 leaves it out)
#   5. the other platforms, make check each: clang on x86-64 (with the
#      shared library's dynamic TLS model, installcheck's dlopen with no
#      static TLS left), x86-64 musl, i386 and aarch64 Linux (cross-built
#      against Debian's cross libcs, run under qemu-user)
#   6. the i686 mingw-w64 build, both backends: make check under 32-bit
#      Wine where this machine runs 32-bit x86 programs, else built with
#      its tests and the summary says why they did not run
# The same Check suite runs in each; the backend-specific tests say why
# they skip.  Installs what it needs first (Debian/Ubuntu, as root).
#
#   PH_BUILD_DIR   where the build trees go (default: ./_build)
#   PH_SKIP_DEPS=1 do not run .ci/deps.sh
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PH_BUILD_DIR:-$top/_build}
jobs=${PH_JOBS:-2}
host=x86_64-w64-mingw32

[ "${PH_SKIP_DEPS:-0}" = 1 ] || bash "$top/.ci/deps.sh"
check_prefix=$(bash "$top/.ci/mingw-check.sh")
musl_check_prefix=$(bash "$top/.ci/mingw-check.sh" x86_64-linux-musl musl-gcc)
i386_check_prefix=$(bash "$top/.ci/mingw-check.sh" i686-linux-gnu)
arm64_check_prefix=$(bash "$top/.ci/mingw-check.sh" aarch64-linux-gnu)

cd "$top"
autoreconf -fi

export WINEDEBUG=-all
export WINEPREFIX=${WINEPREFIX:-$build/wine}
mkdir -p "$build"

summaries=()
. "$top/.ci/lib.sh" # installed
first_line() { tr -d '\r' <"$1" | grep -v '^$' | head -n 1; }
run_tree() { # name, configure args...
  local name=$1; shift
  local start=$SECONDS
  echo "==== $name: configure $*"
  rm -rf "${build:?}/$name"
  mkdir -p "$build/$name"
  (cd "$build/$name" && "$top/configure" --enable-werror "$@" >configure.out) ||
    { cat "$build/$name/config.log" | tail -40; return 1; }
  echo "==== $name: make check"
  local rc=0
  make -C "$build/$name" -j"$jobs" check || rc=$?
  for log in "$build/$name"/tests/*.log; do
    case $log in */test-suite.log) continue ;; esac
    echo "---- $log"; tr -d '\r' <"$log"
  done
  local line
  line=$(tr -d '\r' <"$build/$name/tests/run-tests.log" 2>/dev/null | grep -E '^[0-9]+%: Checks' || true)
  [ -n "$line" ] || { line="no Check summary: the suite did not finish"; rc=1; }
  line="$line; $(tr -d '\r' <"$build/$name/tests/run-tests.log" 2>/dev/null | grep -E '^portheap suite:' || true)"
  line="$line; runner: $(sed -n 's/^PH_LOG_COMPILER = //p' "$build/$name/Makefile" | sed 's/^$/none/'); $((SECONDS - start)) s"
  summaries+=("$name: $line")
  return $rc
}

status=0
run_tree linux || status=1
# The benchmark is never part of `make check`; a short run keeps it
# building and checks every block it hands around (its exit status is 3 if
# an allocator gave a block back with a wrong tag).
echo "==== linux: make bench, a --quick run"
make -C "$build/linux" -j"$jobs" bench BENCH_FLAGS="--quick --reps 1" \
  >"$build/bench.out" 2>&1 || { tail -40 "$build/bench.out"; status=1; }
grep -E '^(hot-64|larson|prod-cons) .*(pair|block), ' "$build/bench.out" || true
echo "==== linux: install, then build outside programs with pkg-config"
sh "$top/tests/installcheck.sh" "$build/linux" || status=1
if [ $status = 0 ]; then
  echo "==== linux: make distcheck"
  make -C "$build/linux" -j"$jobs" distcheck >"$build/distcheck.out" 2>&1 ||
    { tail -60 "$build/distcheck.out"; status=1; }
  grep -E '^(=+|[0-9]+%: Checks.*)$|archives ready' "$build/distcheck.out" | tail -5 || true
fi

# Wine makes its prefix on first use (about 20 s); do it once, quietly, and
# tell it to end a crashing program instead of waiting in its debugger, for
# 64-bit and (the registry's 32-bit view) 32-bit programs.  All through the
# 64-bit loader, as configure picks it for x86-64 programs: with wine32
# installed, Debian's `wine` is the 32-bit loader, which cannot start where
# the kernel runs no 32-bit x86 code.
wine64=$(command -v wine64 || true)
[ -n "$wine64" ] || { [ -x /usr/lib/wine/wine64 ] && wine64=/usr/lib/wine/wine64; } ||
  wine64=wine
"$wine64" wineboot -i >/dev/null 2>&1 || true
aedebug='HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug'
for view in 64 32; do
  "$wine64" reg add "$aedebug" /v Auto /t REG_SZ /d 1 /f /reg:$view \
    >/dev/null 2>&1 || true
  "$wine64" reg add "$aedebug" /v Debugger /t REG_SZ /d false /f /reg:$view \
    >/dev/null 2>&1 || true
done

cross=(--host=$host "PKG_CONFIG_LIBDIR=$check_prefix/lib/pkgconfig")
for backend in native emul; do
  run_tree mingw-$backend "${cross[@]}" --with-backend=$backend || status=1
  echo "==== mingw-$backend: a program linked to the DLL, under Wine"
  sh "$top/tests/installcheck.sh" "$build/mingw-$backend" || status=1
done

# 4. The suite under ASan+UBSan, TSan and Valgrind, and a minute of fuzzing.
if [ "${PH_HARDEN:-1}" = 1 ]; then
  echo "==== hardening: sanitizers, memcheck, fuzzing"
  harden=$(PH_BUILD_DIR=$build PH_JOBS=$jobs bash "$top/.ci/harden.sh") || status=1
  printf '%s\n' "$harden"
  while IFS= read -r line; do summaries+=("harden $line"); done <<<"$harden"
fi

# 5. Other compilers, C libraries and word sizes: the whole suite each.
# clang builds the shared library with the dynamic TLS model: installcheck
# then dlopens it in a process whose static TLS is used up.
run_tree linux-clang CC=clang --disable-initial-exec-tls || status=1
echo "==== linux-clang: install, then dlopen with no static TLS left"
sh "$top/tests/installcheck.sh" "$build/linux-clang" || status=1
run_tree linux-musl CC=musl-gcc \
  "PKG_CONFIG_LIBDIR=$musl_check_prefix/lib/pkgconfig" || status=1
# i386 runs on the multiarch libc6:i386 (configure.ac: the cross libc
# hangs threaded programs under qemu-i386); .ci/deps.sh installs it where
# the mirror allows.
if installed libc6:i386; then
  run_tree linux-i386 --host=i686-linux-gnu \
    "PKG_CONFIG_LIBDIR=$i386_check_prefix/lib/pkgconfig" || status=1
else
  summaries+=("linux-i386: not run: libc6:i386 could not be installed from this mirror (.ci/deps.sh)")
fi
run_tree linux-aarch64 --host=aarch64-linux-gnu \
  "PKG_CONFIG_LIBDIR=$arm64_check_prefix/lib/pkgconfig" || status=1

# 6. The i686 mingw-w64 build, both backends, under 32-bit Wine (wine32:
# `wine` is then the 32-bit loader) where this machine runs it: a threaded
# 32-bit Windows program must run first.  Where it does not, the trees are
# built with their tests and the summary says why they did not run: the CI
# machine kind's kernel runs no 32-bit x86 code (Exec format error), and
# 32-bit Wine through qemu-i386 crashed on every threaded program, portheap
# or not (issue 15).  The MINGW32 jobs of .github/workflows/ci.yml run the
# suite on Windows.
m32_why=""
probe=$build/probe32
rm -rf "${probe:?}"
mkdir -p "$probe"
cat >"$probe/hello.c" <<'PROBE'
#include <stdio.h>
#ifdef _WIN32
#include <windows.h>
static DWORD WINAPI run(LPVOID arg) { return arg == NULL; }
#endif
int main(void) {
#ifdef _WIN32
  HANDLE t = CreateThread(NULL, 0, run, NULL, 0, NULL);
  DWORD code = 0;
  if (t == NULL || WaitForSingleObject(t, INFINITE) != WAIT_OBJECT_0 ||
      !GetExitCodeThread(t, &code) || code != 1)
    return 1;
#endif
  printf("%d-bit ok\n", (int)(sizeof(void*) * 8));
  return 0;
}
PROBE
# The 32-bit probe runs through bash's exec: timeout's own exec hands a
# program the kernel refuses to /bin/sh, whose syntax error then stood in
# for "Exec format error".
if ! i686-linux-gnu-gcc -static -o "$probe/hello" "$probe/hello.c" \
       2>"$probe/err" ||
   ! i686-w64-mingw32-gcc -o "$probe/hello.exe" "$probe/hello.c" \
       2>>"$probe/err"; then
  m32_why="the 32-bit probe did not build: $(first_line "$probe/err")"
elif ! timeout 60 bash -c 'exec "$1"' probe "$probe/hello" >"$probe/out" 2>&1 ||
     ! grep -qx '32-bit ok' "$probe/out"; then
  m32_why="this kernel runs no 32-bit x86 program ($(first_line "$probe/out" |
    sed 's/.*: //')), and 32-bit Wine under qemu-i386 crashes on threaded programs"
elif ! installed wine32:i386; then
  m32_why="wine32 is not installed"
elif ! (cd "$probe" && timeout 120 wine hello.exe >out.exe 2>&1) ||
     ! tr -d '\r' <"$probe/out.exe" | grep -qx '32-bit ok'; then
  m32_why="32-bit Wine does not run a threaded 32-bit program here ($(first_line "$probe/out.exe"))"
fi

m32_check_prefix=$(bash "$top/.ci/mingw-check.sh" i686-w64-mingw32)
m32=(--host=i686-w64-mingw32 "PKG_CONFIG_LIBDIR=$m32_check_prefix/lib/pkgconfig")
for backend in native emul; do
  name=mingw32-$backend start=$SECONDS
  if [ -z "$m32_why" ]; then
    run_tree "$name" "${m32[@]}" --with-backend=$backend || status=1
    echo "==== $name: a program linked to the DLL, under 32-bit Wine"
    sh "$top/tests/installcheck.sh" "$build/$name" || status=1
    continue
  fi
  echo "==== $name: configure and build, tests included (not run: $m32_why)"
  rm -rf "${build:?}/$name"
  mkdir -p "$build/$name"
  if (cd "$build/$name" && "$top/configure" --enable-werror \
        "${m32[@]}" --with-backend=$backend >configure.out) &&
     make -C "$build/$name" -j"$jobs" check TESTS= >"$build/$name/make.out" 2>&1; then
    summaries+=("$name: built with its tests, not run: $m32_why; $((SECONDS - start)) s")
  else
    tail -40 "$build/$name/make.out" "$build/$name/config.log" 2>/dev/null
    summaries+=("$name: BUILD FAILED")
    status=1
  fi
done

echo "==== summary"
for s in "${summaries[@]}"; do echo "$s"; done
# One plain closing line over every Check run above.
printf '%s\n' "${summaries[@]}" |
  sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' |
  awk '{ n += $1; bad += $2 + $3 } END { printf "checks: %d passed, %d failed\n", n - bad, bad }'
[ $status = 0 ] && echo "all test runs passed" || echo "SOME TEST RUNS FAILED"
exit $status
