#!/usr/bin/env bash
# Install everything the build and the test suite need on Debian bookworm.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

packages=(
  build-essential autoconf automake libtool pkg-config
  check
  gcc-mingw-w64-x86-64 mingw-w64-tools
  wine wine64
  dpkg-dev
  clang libclang-rt-14-dev valgrind
  libmimalloc-dev libjemalloc-dev
)

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
