#!/usr/bin/env bash
# build.sh - build the libFuzzer harness: fuzz-heap.c and the library's
# sources (emulated engine) compiled together with
# -fsanitize=fuzzer,address,undefined and the engine's debug asserts.
#
#   PH_FUZZ_BUILD  output directory (default: ./_build/fuzz)
#   CC             a clang with libFuzzer (default: clang)
# Prints the path of the binary.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${PH_FUZZ_BUILD:-$top/_build/fuzz}
cc=${CC:-clang}
mkdir -p "$out"
sources=("$top"/src/errname.c "$top"/src/version.c "$top"/emul/prim-posix.c)
for f in "$top"/emul/*.c; do
  case $f in */prim-*.c) ;; *) sources+=("$f") ;; esac
done
"$cc" -g -O1 -std=gnu11 -DPH_DEBUG=1 -DPH_BUILDING \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer -I"$top/src" -I"$top/emul" \
  -o "$out/fuzz-heap" "$top/fuzz/fuzz-heap.c" "${sources[@]}" -lpthread >&2
echo "$out/fuzz-heap"
