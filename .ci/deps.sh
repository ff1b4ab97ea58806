#!/usr/bin/env bash
# Install everything the build and the test suite need on Debian bookworm.
# Idempotent: packages already present are skipped by apt.
#
# Only this machine's own architecture (and arch-all packages) is required.
# The other Linux targets are built with Debian's cross compilers against
# their cross libcs (arch all), with a Check built from source
# (.ci/mingw-check.sh), and run under qemu-user. Two i386 packages are
# installed where the mirror allows, each on its own: a mirror whose i386
# or arm64 index lags the amd64 one (seen: "File has unexpected size", and
# versions that differ between architectures, which multiarch packages
# may not) then costs the runs that need them, each named in
# .ci/test-all.sh's summary, not the whole install:
#   libc6:i386   i386 Linux's runtime under qemu-i386 (bookworm's i386
#                cross libc hangs threaded programs there; configure.ac)
#   wine32:i386  32-bit Windows programs under Wine, where the kernel runs
#                32-bit x86 code; it makes `wine` the 32-bit loader, so
#                64-bit programs go to wine64 (configure.ac)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

packages=(
  build-essential autoconf automake libtool pkg-config
  check
  gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 mingw-w64-tools
  wine wine64
  dpkg-dev
  clang libclang-rt-14-dev valgrind
  libmimalloc-dev libjemalloc-dev
  # other targets (.ci/test-all.sh): i386 and aarch64 Linux, cross-built
  # and run under qemu-user; x86-64 musl (their Check: .ci/mingw-check.sh)
  qemu-user
  gcc-i686-linux-gnu libc6-dev-i386-cross
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  musl-tools
)
optional=(libc6:i386 wine32:i386) # best effort, one at a time

dpkg --print-foreign-architectures | grep -qx i386 ||
  dpkg --add-architecture i386

missing() { # packages...: those not installed
  local p
  for p in "$@"; do
    installed "$p" || echo "$p"
  done
}

mapfile -t need < <(missing "${packages[@]}" "${optional[@]}")
[ ${#need[@]} -gt 0 ] || exit 0

export DEBIAN_FRONTEND=noninteractive
# A mirror being synced serves an index of the wrong size for a minute or
# more: try again, then go on with the indexes that did arrive (apt keeps
# the old one or none); the install below says if that was not enough.
for attempt in 1 2 3; do
  apt-get update -q && break
  echo "deps.sh: apt-get update failed (attempt $attempt of 3)" >&2
  [ "$attempt" = 3 ] || sleep 20
done

mapfile -t need < <(missing "${packages[@]}")
[ ${#need[@]} -eq 0 ] ||
  apt-get install -y -q --no-install-recommends "${need[@]}"
for p in $(missing "${optional[@]}"); do
  apt-get install -y -q --no-install-recommends "$p" ||
    echo "deps.sh: could not install $p from this mirror; going on without" >&2
done
