#!/usr/bin/env bash
# harden.sh - the suite under the tools that see what tests cannot:
#   1. ASan + UBSan (clang, debug asserts): make check
#   2. TSan (clang): make check (the suite, tests/stress, tests/fork-safety)
#   3. Valgrind memcheck: the suite (tests/run-tests), errors fail it
#   4. libFuzzer (fuzz/run.sh) for PH_FUZZ_SECONDS (default 60)
# Each step prints one result line; logs stay in the build directory.
# Exit status: 0 if every step passed.
#
#   PH_BUILD_DIR      where the trees go (default: ./_build), under harden/
#   PH_JOBS           make -j (default 2)
#   PH_FUZZ_SECONDS   fuzzing time (default 60; 0 skips the step)
#   PH_HARDEN_STEPS   steps to run (default: "asan tsan valgrind fuzz")
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PH_BUILD_DIR:-$top/_build}/harden
jobs=${PH_JOBS:-2}
fuzz_seconds=${PH_FUZZ_SECONDS:-60}
steps=${PH_HARDEN_STEPS:-asan tsan valgrind fuzz}
mkdir -p "$build"
# Sanitizers slow the suite several times over: Check's per-test timeouts
# (4 s unless a test case sets its own) would fail on time alone.
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10}
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi) >/dev/null 2>&1

status=0
report() { # name, rc, seconds, detail
  local verdict=PASS
  [ "$2" = 0 ] || { verdict=FAIL; status=1; }
  printf '%-9s %s  %4ss  %s\n' "$1" "$verdict" "$3" "$4"
}

checks_line() { # the Check summary of a tree
  tr -d '\r' <"$1/tests/run-tests.log" 2>/dev/null | grep -E '^[0-9]+%: Checks' || echo "no Check summary"
}

tree() { # name, configure args...: configure and make check
  local name=$1; shift
  rm -rf "${build:?}/$name"; mkdir -p "$build/$name"
  (cd "$build/$name" && "$top/configure" "$@" >configure.out 2>&1 &&
     make -j"$jobs" check >check.out 2>&1)
}

for step in $steps; do
  start=$SECONDS
  case $step in
  asan)
    tree asan --enable-debug --enable-sanitizers CC=clang; rc=$?
    report asan+ubsan $rc $((SECONDS - start)) "$(checks_line "$build/asan"); log: $build/asan/check.out"
    ;;
  tsan)
    tree tsan --enable-debug --enable-sanitizers=thread CC=clang; rc=$?
    ops=$(grep -ho '[0-9]* operations' "$build/tsan/tests/stress.log" 2>/dev/null || echo "no stress run")
    report tsan $rc $((SECONDS - start)) "$(checks_line "$build/tsan"); stress: $ops; log: $build/tsan/check.out"
    ;;
  valgrind)
    rc=0
    rm -rf "${build:?}/valgrind"; mkdir -p "$build/valgrind"
    (cd "$build/valgrind" && "$top/configure" --enable-debug >configure.out 2>&1 &&
       make -j"$jobs" tests/run-tests >make.out 2>&1) || rc=$?
    if [ $rc = 0 ]; then
      (cd "$build/valgrind" && CK_TIMEOUT_MULTIPLIER=20 \
         timeout 3600 valgrind -q --error-exitcode=1 --leak-check=no \
         --suppressions="$top/.ci/valgrind.supp" \
         tests/run-tests >valgrind.out 2>&1) || rc=$?
    fi
    summary=$(tr -d '\r' <"$build/valgrind/valgrind.out" 2>/dev/null | grep -E '^[0-9]+%: Checks' || echo "no Check summary")
    errors=$(grep -c '^==[0-9]*== [A-Z]' "$build/valgrind/valgrind.out" 2>/dev/null || true)
    report memcheck $rc $((SECONDS - start)) "$summary; $errors report lines; log: $build/valgrind/valgrind.out"
    ;;
  fuzz)
    [ "$fuzz_seconds" = 0 ] && continue
    PH_FUZZ_BUILD="$build/fuzz" bash "$top/fuzz/run.sh" "$fuzz_seconds" >"$build/fuzz.out" 2>&1; rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz.out" | grep -o '[0-9]*$' || echo 0)
    detail="${runs:-0} inputs in ${fuzz_seconds}s; log: $build/fuzz.out"
    if [ $rc != 0 ]; then
      detail="$detail; $(grep -m1 'model mismatch' "$build/fuzz.out" || echo 'see log')"
    fi
    report libfuzzer $rc $((SECONDS - start)) "$detail"
    ;;
  *) echo "harden.sh: unknown step $step" >&2; status=1 ;;
  esac
done
exit $status
