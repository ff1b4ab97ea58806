#!/bin/sh
# installcheck.sh - install a configured and built tree into a temporary
# DESTDIR and build programs outside the tree the way users do:
#   1. examples/process-heaps.c with `pkg-config --cflags --libs portheap`,
#      linked against the shared library (libportheap.so.0, or
#      libportheap-0.dll through libportheap.dll.a with mingw-w64), then
#      run: natively with LD_LIBRARY_PATH, or under Wine with the DLL beside
#      the program;
#   2. POSIX only: the Win32-style samples (tests/samples/*.c, plain
#      <windows.h>) with `pkg-config --cflags --libs portheap-compat`, then
#      run; and a program using a Win32 name outside the compat scope must
#      fail to compile;
#   3. POSIX only: tests/dlopen.c, which dlopen()s the installed
#      libportheap.so.0 and uses it: built with initial-exec thread-locals
#      (the STATIC_TLS flag, readelf -d), in a process with static TLS to
#      spare, then refused with dlerror's reason in one with none left;
#      built without (--disable-initial-exec-tls), in one with none left.
# It also checks that the headers, the .pc files and the man pages were
# installed.
#
#   sh tests/installcheck.sh [BUILD_DIR]    (default: the current directory)
#
# Environment: MAKE (default make), KEEP=1 keeps the temporary directory.
# Windows programs run under the tree's own runner (wine when the tree was
# cross-compiled, nothing on Windows).
set -u
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
build=$(cd "${1:-.}" && pwd) || exit 1
[ -f "$build/Makefile" ] && [ -f "$build/libportheap.la" ] ||
  { echo "FAIL: $build is not a built portheap tree (run make first)"; exit 1; }

var() { sed -n "s/^$1 = //p" "$build/Makefile" | head -n 1; }
CC=$(var CC)
EXEEXT=$(var EXEEXT)
OBJDUMP=$(var OBJDUMP)
prefix=$(var prefix)
runner=$(var PH_LOG_COMPILER)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/portheap-installcheck.XXXXXX") || exit 1
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
status=0
fail() { echo "FAIL: $*"; status=1; }

echo "== install into DESTDIR=$root (prefix $prefix)"
${MAKE:-make} -C "$build" install DESTDIR="$root" >"$tmp/install.log" 2>&1 ||
  { tail -30 "$tmp/install.log"; echo "FAIL: make install"; exit 1; }
top=$root$prefix
pcfile=$(find "$root" -name portheap.pc | head -n 1)
[ -n "$pcfile" ] || { echo "FAIL: portheap.pc was not installed"; exit 1; }
pcdir=$(dirname "$pcfile")
libdir=$(dirname "$pcdir")
for f in include/portheap.h include/portheap/win32.h; do
  [ -f "$top/$f" ] || fail "$f was not installed"
done
for page in portheap ph_heap_alloc ph_heap_walk ph_heap_unlock; do
  [ -n "$(find "$root" -name "$page.3*")" ] || fail "man page $page.3 was not installed"
done
ls "$libdir" | sed 's/^/  lib: /'

PKG_CONFIG_SYSROOT_DIR=$root
PKG_CONFIG_LIBDIR=$pcdir
PKG_CONFIG_PATH=$pcdir
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR PKG_CONFIG_PATH
pkg_config=${PKG_CONFIG:-pkg-config}
cflags=$($pkg_config --cflags portheap) || { echo "FAIL: pkg-config portheap"; exit 1; }
libs=$($pkg_config --libs portheap)
echo "pkg-config portheap: $cflags $libs"

case $EXEEXT in
  .exe) windows=yes ;;
  *) windows=no ;;
esac

# run PROGRAM: natively against the installed library, or under Wine.
run() {
  if [ $windows = yes ]; then
    # PH_LOG_COMPILER: wine (with a timeout) when cross-compiling, else empty.
    WINEDEBUG=-all $runner "$@" | tr -d '\r'
  else
    LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    DYLD_LIBRARY_PATH=$libdir "$@"
  fi
}

# ---- 1. a program linked against the shared library --------------------
prog=$tmp/process-heaps$EXEEXT
echo "== $CC $cflags examples/process-heaps.c $libs"
$CC $cflags "$srcdir/examples/process-heaps.c" -o "$prog" $libs ||
  { echo "FAIL: building against the installed library"; exit 1; }
if [ $windows = yes ]; then
  dll=$(find "$root" -name 'libportheap-*.dll' | head -n 1)
  [ -n "$dll" ] || { echo "FAIL: no libportheap-N.dll installed"; exit 1; }
  [ -n "$(find "$root" -name libportheap.dll.a)" ] || fail "libportheap.dll.a was not installed"
  cp "$dll" "$tmp/"
  imports() { "${OBJDUMP:-objdump}" -p "$1" | sed -n 's/^[[:space:]]*DLL Name: //p'; }
  imports "$prog" | grep -qx "${dll##*/}" ||
    fail "the program does not import ${dll##*/} (linked statically?)"
  # Runtime DLLs of the toolchain (libgcc_s_seh-1.dll for the emul engine's
  # thread-locals) go beside the program too, as a user would ship them.
  for d in $(imports "$dll") $(imports "$prog"); do
    found=$($CC -print-file-name="$d" 2>/dev/null)
    case $found in */*) [ -f "$found" ] && cp "$found" "$tmp/" && echo "  with $d" ;; esac
  done
else
  case $(uname -s) in
    Darwin)
      otool -L "$prog" | grep -q 'libportheap\.[0-9]*\.dylib' ||
        fail "the program does not load libportheap.N.dylib" ;;
    *)
      if command -v readelf >/dev/null 2>&1; then
        readelf -d "$prog" | grep -q 'NEEDED.*\[libportheap\.so\.0\]' ||
          fail "the program does not need libportheap.so.0 (linked statically?)"
      fi ;;
  esac
fi
out=$(run "$prog" --create 2) || fail "process-heaps exited with an error"
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^Process has [0-9]* heaps (backend: [a-z]*)\.$' ||
  fail "process-heaps: no heap count"
printf '%s\n' "$out" | grep -q '^Heap 0 at address: .*(process heap)$' ||
  fail "process-heaps: the process heap is not listed first"

# ---- 2. Win32-style samples against the compat headers (POSIX) -----------
if [ $windows = no ]; then
  ccflags=$($pkg_config --cflags portheap-compat) ||
    { echo "FAIL: pkg-config portheap-compat"; exit 1; }
  cclibs=$($pkg_config --libs portheap-compat)
  echo "pkg-config portheap-compat: $ccflags $cclibs"
  for f in windows.h tchar.h intsafe.h portheap-hresult.h; do
    [ -f "$top/include/portheap/compat/$f" ] || fail "compat/$f was not installed"
  done
  for s in heap-list heap-walk private-heap; do
    $CC $ccflags "$srcdir/tests/samples/$s.c" -o "$tmp/$s" $cclibs ||
      { fail "sample $s does not build against portheap-compat"; continue; }
    out=$(run "$tmp/$s") || fail "sample $s exited with an error"
    printf '%s\n' "$out" | sed -n '1,3p' | sed "s/^/  $s: /"
  done
  $CC $ccflags "$srcdir/tests/compat-headers.c" -o "$tmp/compat-headers" $cclibs &&
    run "$tmp/compat-headers" || fail "compat-headers"
  printf '#include <windows.h>\nint main(void) { return MAX_PATH + (int)GetTickCount(); }\n' \
    >"$tmp/outside.c"
  if $CC $ccflags -c "$tmp/outside.c" -o "$tmp/outside.o" $cclibs 2>/dev/null; then
    fail "a Win32 name outside the compat scope compiled"
  else
    echo "  outside the scope (MAX_PATH, GetTickCount): fails to build, as it should"
  fi
fi

# ---- 3. dlopen in a process short of static TLS (POSIX) -----------------
# A plugin host may dlopen the library after the C library's static TLS
# surplus is used up.  A library built with initial-exec thread-locals
# (configure's default with glibc: the STATIC_TLS flag) loads while the
# surplus lasts and is refused cleanly, with dlerror's reason, after; one
# built with --disable-initial-exec-tls loads either way.

# needs_static_tls SO: 0 if SO's FLAGS has DF_STATIC_TLS (0x10), 1 if not
# or if no tool can tell.
needs_static_tls() {
  if command -v readelf >/dev/null 2>&1 && readelf -h "$1" >/dev/null 2>&1; then
    readelf -d "$1" | grep -q '(FLAGS).*STATIC_TLS'
  else
    flags=$("${OBJDUMP:-objdump}" -p "$1" 2>/dev/null | sed -n 's/^ *FLAGS *//p')
    [ -n "$flags" ] && [ $((flags & 16)) != 0 ]
  fi
}

# make_fillers: shared objects taking 16384, 8192, ... 16 bytes of static
# TLS (initial-exec, aligned to 16); their paths, largest first.
make_fillers() {
  for n in 16384 8192 4096 2048 1024 512 256 128 64 32 16; do
    cat >"$tmp/fill-$n.c" <<FILL
const unsigned long fill_bytes = $n;
__attribute__((tls_model("initial-exec"), aligned(16))) __thread char fill[$n];
char* fill_at(unsigned i) { return &fill[i % $n]; }
FILL
    $CC -shared -fPIC "$tmp/fill-$n.c" -o "$tmp/fill-$n.so" || return 1
    printf '%s\n' "$tmp/fill-$n.so"
  done
}

# run_dlopen NAME [FILLERS...]: tests/dlopen.c on $so; with fillers, the
# C library's optional surplus is taken away too, so that they leave < 16
# bytes.  Its output, indented; in $out; its status returned.
run_dlopen() {
  name=$1; shift
  tunables=${GLIBC_TUNABLES:-}
  [ $# = 0 ] || tunables=${tunables:+$tunables:}glibc.rtld.optional_static_tls=0
  rc=0
  out=$(GLIBC_TUNABLES=$tunables "$tmp/dlopen" "$so" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | sed "s/^/  dlopen ($name): /"
  return $rc
}

if [ $windows = yes ]; then
  echo "  SKIP dlopen test: POSIX only (a DLL has no static TLS block to run short of)"
elif so=$(ls "$libdir"/libportheap.so.0 "$libdir"/libportheap.0.dylib 2>/dev/null | head -n 1) &&
     [ -n "$so" ]; then
  fillers=$(make_fillers) ||
    { echo "  (no initial-exec fillers: dlopen with the static TLS there is)"; fillers=; }
  echo "== $CC tests/dlopen.c $(var PH_BENCH_LIBS) -pthread"
  if ! $CC "$srcdir/tests/dlopen.c" -o "$tmp/dlopen" $(var PH_BENCH_LIBS) -pthread; then
    fail "tests/dlopen.c does not build"
  elif needs_static_tls "$so"; then
    echo "  ${so##*/} has initial-exec thread-locals (STATIC_TLS)"
    run_dlopen "static TLS to spare" ||
      fail "dlopen of ${so##*/} in a process with static TLS to spare"
    if [ -n "$fillers" ]; then
      if run_dlopen "static TLS used up" $fillers; then
        fail "${so##*/} (STATIC_TLS) loaded with no static TLS left: the test did not use it up"
      else
        printf '%s\n' "$out" | grep -q 'static TLS' ||
          fail "dlopen of ${so##*/} with no static TLS left failed, but not with dlerror's reason"
      fi
    fi
  else
    run_dlopen "static TLS used up" $fillers ||
      fail "dlopen of ${so##*/} in a process short of static TLS"
  fi
else
  fail "no libportheap.so.0 (nor libportheap.0.dylib) was installed"
fi

[ $status = 0 ] && echo "PASS: installed portheap builds and runs outside the tree"
exit $status
