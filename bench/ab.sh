#!/bin/bash
# bench/ab.sh - compare two builds of the benchmark on portheap's column.
#
#   bench/ab.sh [-n RUNS] [-c CPU] OLD NEW WORKLOAD...
#
# Runs OLD and NEW (two bench/bench binaries) in turn, RUNS times each
# (default 10), pinned to one CPU (default 1, the last of two), each run
# `--only WORKLOAD... --alloc ph --reps 3`, and prints for each workload
# the fastest and the median of the runs' ns per op, and NEW / OLD.
#
# Each run is of a fresh copy of its binary.  Where a file's pages land
# moves the fast paths' time: two copies of the same bytes ran hot-few
# 3.5 % apart, run after run (session 23).  A fresh copy per run draws
# new pages each time, so that the minimum and median compare builds,
# not placements: two copies of one build, 10 runs each, then read
# within 0.5 % of each other.  Pinning keeps every run on one CPU: a
# CPU of this VM can run 40 % slower than the other for minutes, and
# which one changes (bench/README.md); see which is quiet first
# (taskset -c N bench --only hot-few --alloc ph --reps 3).  Linux only.
set -eu

runs=10
cpu=1
while getopts n:c: opt; do
  case $opt in
  n) runs=$OPTARG ;;
  c) cpu=$OPTARG ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -lt 3 ]; then
  sed -n '4p' "$0" | sed 's/^#  */usage: /' >&2
  exit 2
fi
old=$1
new=$2
shift 2
only=()
for w in "$@"; do
  only+=(--only "$w")
done

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# One run of binary $1, its lines "workload ns" appended to $2.
run() {
  cp "$1" "$dir/bench"
  taskset -c "$cpu" "$dir/bench" "${only[@]}" --alloc ph --reps 3 |
    awk 'NF >= 12 && $2 > 1000 { print $1, $3 }' >>"$2"
  rm -f "$dir/bench"
}

for ((i = 0; i < runs; i++)); do
  run "$old" "$dir/old"
  run "$new" "$dir/new"
done

# "min median" of workload $1's times in file $2.
stats() {
  awk -v w="$1" '$1 == w { print $2 }' "$2" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR) printf "%s %s", v[1], v[int((NR + 1) / 2)] }'
}

printf '%-16s %8s %8s %8s   %8s %8s %8s\n' workload min_old min_new \
  new/old med_old med_new new/old
for w in "$@"; do
  read -r omin omed <<<"$(stats "$w" "$dir/old")" || true
  read -r nmin nmed <<<"$(stats "$w" "$dir/new")" || true
  if [ -z "${omin:-}" ] || [ -z "${nmin:-}" ]; then
    printf '%-16s no runs\n' "$w"
    continue
  fi
  awk -v w="$w" -v a="$omin" -v b="$nmin" -v c="$omed" -v d="$nmed" \
    'BEGIN { printf "%-16s %8.2f %8.2f %8.3f   %8.2f %8.2f %8.3f\n",
             w, a, b, b / a, c, d, d / c }'
done
