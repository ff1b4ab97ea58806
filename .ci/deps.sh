#!/usr/bin/env bash
# Install everything the build and the test suite need on Debian bookworm.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

packages=(
  build-essential autoconf automake libtool pkg-config
  check
  gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 mingw-w64-tools
  wine wine64
  dpkg-dev
  clang libclang-rt-14-dev valgrind
  libmimalloc-dev libjemalloc-dev
  # other targets (.ci/test-all.sh): i386 and aarch64 Linux, built with
  # the cross compilers against the multiarch libc and Check, run natively
  # or under qemu-user; x86-64 musl (its Check: .ci/mingw-check.sh)
  qemu-user
  gcc-i686-linux-gnu libc6-dev-i386-cross libc6:i386 check:i386
  gcc-aarch64-linux-gnu libc6-dev:arm64 check:arm64
  musl-tools
  # 32-bit Windows programs (the i686 mingw-w64 build) under Wine: wine32
  # makes `wine` the 32-bit loader, so 64-bit programs go to wine64
  # (configure.ac); it runs where the kernel runs 32-bit x86 code
  wine32:i386
)
# The multiarch packages above need their architectures known to dpkg.
for arch in i386 arm64; do
  dpkg --print-foreign-architectures | grep -qx "$arch" ||
    dpkg --add-architecture "$arch"
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
