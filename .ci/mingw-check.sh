#!/usr/bin/env bash
# Build Check (Debian's source package) for a host Debian has no Check
# for (or none this machine can install), static, and install it into a
# cache outside the clone.  Prints the prefix on stdout.
#
#   mingw-check.sh [HOST [CC]]
#     HOST  default x86_64-w64-mingw32; also i686-w64-mingw32,
#           i686-linux-gnu and aarch64-linux-gnu (Debian's cross
#           compilers; no multiarch Check needed), or x86_64-linux-musl
#           with CC=musl-gcc
#     CC    the compiler, if not HOST-gcc
#   PH_CACHE   cache root (default: /var/cache/portheap)
#
# See ../shared/mingw-check.md for the traps this works around (deb-src
# entry, makeinfo, check_stdint.h, no .pc).
set -euo pipefail

host=${1:-x86_64-w64-mingw32}
cc=${2:-}
cache=${PH_CACHE:-/var/cache/portheap}
prefix=$cache/check-$host
stamp=$prefix/.built

if [ -f "$stamp" ]; then
  echo "$prefix"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/check-src.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A private apt configuration with a deb-src entry for the mirror the machine
# already uses, so the machine's own apt setup stays untouched.
uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$uri" ] || uri=$(sed -n 's/^deb \(http[^ ]*\) .*/\1/p' /etc/apt/sources.list | head -n 1)
[ -n "$uri" ] || uri=http://deb.debian.org/debian
mkdir -p "$work/apt/sources.list.d" "$work/apt/lists/partial"
cat > "$work/apt/sources.list.d/src.sources" <<SRC
Types: deb-src
URIs: $uri
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
aptopts=(-o "Dir::Etc::SourceList=/dev/null"
         -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
         -o "Dir::State::Lists=$work/apt/lists")
apt-get "${aptopts[@]}" update -q >&2
(cd "$work" && apt-get "${aptopts[@]}" source --download-only -q check >&2 &&
   dpkg-source -x --skip-patches check_*.dsc src >&2) ||
  (cd "$work" && apt-get "${aptopts[@]}" source -q check >&2 && mv check-*/ src)

cd "$work/src"
[ -x configure ] || autoreconf -fi >&2
./configure --host=$host ${cc:+CC=$cc} --prefix="$prefix" --enable-subunit=no \
  --disable-shared --enable-static >&2
make -C lib -j2 >&2
make -C src -j2 >&2
make -C lib install >&2
make -C src install >&2
cp check_stdint.h "$prefix/include/"

version=$(sed -n 's/^PACKAGE_VERSION = *//p' Makefile)
mkdir -p "$prefix/lib/pkgconfig"
cat > "$prefix/lib/pkgconfig/check.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: Check
Description: A unit test framework for C (static build for $host)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lcheck
Libs.private: -lpthread
PC
touch "$stamp"
echo "$prefix"
