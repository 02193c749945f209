#!/usr/bin/env bash
# tests/fuzz/run.sh - build the libFuzzer targets and run each for a bounded time.
#
# Usage: tests/fuzz/run.sh [seconds per target, default $FUZZ_SECONDS or 30]
#
# Targets (tests/fuzz/fuzz_<name>.cpp), built straight from the sources with clang++ and
# -fsanitize=fuzzer,address,undefined (independent of the autotools build):
#   request  RequestFramer + Attributes + normalize(), with framing and key invariants
#   config   parse_config() and config_dump()
# Each runs on a scratch copy of its seed corpus (tests/fuzz/corpus/<name>, never written to)
# for the given time. Prints "PASS fuzz_<name> (<runs> runs)" or "FAIL fuzz_<name>: <why>" per
# target, then "N passed, M failed"; exit status 0 only if every target was built and ran clean.
# A crashing input is kept as work/fuzz/crash-* (see the log work/fuzz/<name>.log); replay it
# with work/fuzz/fuzz_<name> <file>.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-${FUZZ_SECONDS:-30}}
out=$repo/work/fuzz
mkdir -p "$out"
cxx=${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$repo/src")

declare -A sources=(
  [request]="src/protocol/framer.cpp src/protocol/attributes.cpp src/protocol/normalizer.cpp src/config/cidr.cpp"
  [config]="src/config/config.cpp src/config/values.cpp src/config/cidr.cpp src/config/host_list.cpp"
)
declare -A max_len=([request]=8192 [config]=16384)

passed=0 failed=0
for name in request config; do
  bin=$out/fuzz_$name log=$out/$name.log
  if [ -z "$cxx" ]; then
    echo "FAIL fuzz_$name: no clang++ (scripts/install-deps.sh installs clang-14)"
    failed=$((failed + 1)); continue
  fi
  srcs=()
  for s in ${sources[$name]}; do srcs+=("$repo/$s"); done
  if ! "$cxx" "${flags[@]}" -o "$bin" "$repo/tests/fuzz/fuzz_$name.cpp" "${srcs[@]}" >"$log" 2>&1; then
    echo "FAIL fuzz_$name: build failed, see $log"
    failed=$((failed + 1)); continue
  fi
  scratch=$out/corpus-$name
  rm -rf "$scratch"; mkdir -p "$scratch"
  cp "$repo/tests/fuzz/corpus/$name"/* "$scratch"/
  (cd "$out" && "$bin" -max_total_time="$seconds" -max_len="${max_len[$name]}" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 "$scratch" >>"$log" 2>&1)
  rc=$?
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
    echo "PASS fuzz_$name (${runs} runs in ${seconds}s)"
    passed=$((passed + 1))
  else
    why=$(grep -m1 -E 'ERROR: |runtime error|deadly signal' "$log" || echo "exit status $rc")
    echo "FAIL fuzz_$name: $why (log $log)"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
