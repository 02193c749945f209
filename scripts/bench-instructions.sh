#!/usr/bin/env bash
# scripts/bench-instructions.sh - the daemon's own instructions per request, build against build.
#
# Usage: scripts/bench-instructions.sh BUILD_A BUILD_B [MIX...]     (default mixes: new retry all-modules)
# BUILD_A and BUILD_B each hold src/policyd; this tree's bench/policyd-bench drives both.
#
# Wall-clock and CPU-time ratios on a shared 2-core machine move by ±15 % between two runs of
# the same binary (docs/PERFORMANCE.md). Instructions counted by valgrind's callgrind do not:
# the same binary, configuration and requests give the same count whatever else the machine
# does. That is the measure for a claim like "costs nothing when switched off", where the
# difference sought is far below the timing noise. It counts the daemon's user-space work only
# (not the kernel's, not MariaDB's: for those use scripts/bench.sh --baseline-build).
#
# For each mix and build: a fresh database (bench-lib.sh, in a private MariaDB in
# BUILD_B/work/bench-instructions/mariadb), the daemon under callgrind with the mix's
# configuration (bench-lib.sh mix_switches), for retried mixes every triplet sent twice first,
# then $INSTR_WARMUP requests, the counters zeroed, $INSTR_REQUESTS requests at 4 connections,
# the counters dumped. Prints per mix the instructions per request of each build, B over A, and
# each build's statements per request (MariaDB Questions, policyd-bench --config).
#
# Environment: INSTR_REQUESTS (2000), INSTR_WARMUP (300), INSTR_POOL (500 retried triplets),
#              BENCH_MARIADB_PORT (13327, or a free one).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "bench-instructions: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: scripts/bench-instructions.sh BUILD_A BUILD_B [MIX...]"
build_a=$(cd "$1" && pwd) build_b=$(cd "$2" && pwd)
shift 2
mixes=${*:-new retry all-modules}
requests=${INSTR_REQUESTS:-2000} warmup=${INSTR_WARMUP:-300} pool=${INSTR_POOL:-500}
bench=$repo/bench/policyd-bench
for f in "$build_a/src/policyd" "$build_b/src/policyd" "$bench"; do
  [ -x "$f" ] || die "$f is not built"
done
command -v callgrind_control >/dev/null || die "valgrind is not installed (apt-get install valgrind)"

# shellcheck source=bench-lib.sh
. "$repo/scripts/bench-lib.sh"
out=$build_b/work/bench-instructions
mkdir -p "$out"
export WORKDIR=$out/mariadb MARIADB_DB=policyd_bench
export MARIADB_PORT=${BENCH_MARIADB_PORT:-13327}

daemon_pid=
finish() {
  [ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
  [ "$started_mariadb" = 0 ] || "$repo/scripts/mariadb.sh" stop >/dev/null 2>&1 || true
}
trap finish EXIT
bench_mariadb_start

# One build, one mix: prints the instructions per measured request.
count() {  # build mix A|B
  local tag port conf load_mix run_id dump
  tag=$3.$2
  bench_reset_db
  port=$(free_port)
  conf=$out/$tag.conf
  bench_policyd_conf "$conf" "$port" "$2"
  dump=$out/$tag.callgrind
  rm -f "$dump"
  valgrind --tool=callgrind --callgrind-out-file="$dump" "$1/src/policyd" -c "$conf" \
    >"$out/$tag.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 1 300); do port_busy "$port" && break; sleep 0.1; done
  port_busy "$port" || { cat "$out/$tag.log" >&2; die "$1/src/policyd did not start"; }
  load_mix=$(bench_mix_of "$2")
  run_id=i$RANDOM
  local drive=("$bench" "127.0.0.1:$port" --mix "$load_mix" --no-seed --run-id "$run_id"
               --retry-pool "$pool" --connections 4 --json)
  if [ "$load_mix" = retry ]; then
    "${drive[@]}" --requests "$pool" >/dev/null
    sleep 1.1
    "${drive[@]}" --requests "$pool" >/dev/null
  fi
  "${drive[@]}" --requests "$warmup" >/dev/null
  callgrind_control -z "$daemon_pid" >/dev/null 2>&1
  # new triplets: another run id, or the warm-up's triplets come again and pass
  [ "$load_mix" = retry ] || drive[6]=${run_id}m
  "${drive[@]}" --requests "$requests" --config "$conf" >"$out/$tag.json"
  callgrind_control -d "$daemon_pid" >/dev/null 2>&1
  kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=
  # the dump made by -d is the file with the highest suffix; its "summary:" line is the total
  local last
  last=$(ls -1 "$dump".* 2>/dev/null | sort -t. -k3 -n | tail -1)
  [ -n "$last" ] || die "no callgrind dump for $tag"
  local per_request statements
  per_request=$(awk -v n="$requests" '/^summary:/ { printf "%.0f", $2 / n }' "$last")
  statements=$(python3 -c 'import json, sys
print("%.2f" % json.load(open(sys.argv[1]))["database"]["round_trips_per_request"])' "$out/$tag.json")
  echo "$per_request $statements"
}

printf '%-12s %14s %14s %8s %12s\n' mix "A instr/req" "B instr/req" "B/A" "stmt/req A B"
for mix in $mixes; do
  read -r a a_statements <<<"$(count "$build_a" "$mix" A)"
  read -r b b_statements <<<"$(count "$build_b" "$mix" B)"
  awk -v m="$mix" -v a="$a" -v b="$b" -v sa="$a_statements" -v sb="$b_statements" \
    'BEGIN { printf "%-12s %14d %14d %8.3f %6s %5s\n", m, a, b, b / a, sa, sb }'
done
echo "A = $build_a, B = $build_b; $requests requests per count after $warmup of warm-up"
