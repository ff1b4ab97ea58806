#!/usr/bin/env bash
# run.sh [SECONDS] - build the harness if needed and fuzz for SECONDS
# (default 60), starting from fuzz/corpus.  New inputs go to a working
# corpus in the build directory, never into the source tree; a crash leaves
# its input there as crash-* (reproduce: fuzz-heap crash-<hash>).
#
#   PH_FUZZ_BUILD  build directory (default: ./_build/fuzz)
#   PH_FUZZ_ARGS   extra libFuzzer options
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${PH_FUZZ_BUILD:-$top/_build/fuzz}
seconds=${1:-60}
export PH_FUZZ_BUILD=$out
bin=$(bash "$top/fuzz/build.sh")
mkdir -p "$out/corpus"
# shellcheck disable=SC2086
"$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
  -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/" \
  ${PH_FUZZ_ARGS:-} "$out/corpus" "$top/fuzz/corpus"
