#!/usr/bin/env bash
# scripts/bench-compare.sh - this build against a baseline revision and other policy servers,
# alternating on one MariaDB under one load (scripts/bench.sh --baseline/--peers, make bench BASELINE=REV).
#
# Usage: scripts/bench.sh --baseline REV [--peers] [BUILDDIR]
#        scripts/bench.sh --baseline-build DIR [--peers] [BUILDDIR]
#        scripts/bench.sh --peers [BUILDDIR]
#   --baseline REV        build REV in BUILDDIR/work/baseline-<sha> (a detached git worktree with its
#                         own build, reused when it is built already) and run its daemon too
#   --baseline-build DIR  use the daemon already built in DIR/src/policyd as the baseline
#   --peers               also run postgrey and sqlgrey (new, retry) and postfwd1 and postfwd2
#                         (throttled), installing the Debian packages first if they are missing
#                         (scripts/bench-peers.sh)
# BUILDDIR (default: the repo) holds this build's src/policyd and bench/policyd-bench; the same
# policyd-bench drives every server.
#
# For each innodb_flush_log_at_trx_commit in $BENCH_FLUSH (set on the running server), each mix
# and each of $BENCH_ROUNDS rounds, every server in turn, the order rotated by one each round
# (A B C, B C A, C A B, ...), each run:
#   1. a fresh database (bench-lib.sh: policyd_bench with the list rows; sqlgrey's own emptied),
#      and mariadbd idle (under 5 % of a core for 0.5 s, at most 10 s of waiting);
#   2. the server on a free loopback port (policyd: the shipped policyd.conf with the mix's
#      switches, TRIPLET_TIME=0; peers: their equivalent, bench-peers.sh);
#   3. not measured: for mixes of retried triplets (retry, all-modules) every triplet of the
#      pool sent once, then after 1.1 s once more (so it passes everywhere: postgrey's and
#      sqlgrey's delays count in whole seconds); for throttled, the 512 messages its sender may
#      send (SENDERMSGLIMIT), so that every measured one is refused (throttled-admit: limits it
#      never reaches, every one admitted);
#   4. policyd-bench for $BENCH_SECONDS at $BENCH_CONNECTIONS connections, watching the server's
#      and mariadbd's CPU, with the MariaDB Questions per request;
#   5. the server stopped.
# Then scripts/bench_compare.py prints per flush setting and mix, for every server: requests/s
# (median over the rounds), this build's requests/s over it within each round (median and
# range), statements per request, mariadbd CPU per request and this build's over it, the
# server's own CPU, and the replies by verdict. JSON of every run and summary.json in
# BUILDDIR/work/bench-compare/. Everything it started is stopped on exit, and the flush setting
# put back. Other load on the machine moves absolute figures; the ratios come from runs made
# seconds apart.
#
# Environment: BENCH_SECONDS (5), BENCH_CONNECTIONS (100), BENCH_ROUNDS (2), BENCH_FLUSH ("1 2"),
#              BENCH_MIXES (new retry throttled throttled-admit all-modules), BENCH_RETRY_POOL (1000),
#              BENCH_MARIADB_PORT (13326, or a free port if taken),
#              BENCH_LIST_FORM, BENCH_LIST_ROWS (the list rows, see bench-lib.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "bench: $*" >&2; exit 1; }

baseline_rev= baseline_build= peers=0 build=
while [ $# -gt 0 ]; do
  case $1 in
    --baseline) [ $# -ge 2 ] || die "--baseline needs a revision"; baseline_rev=$2; shift 2 ;;
    --baseline-build) [ $# -ge 2 ] || die "--baseline-build needs a directory"; baseline_build=$2; shift 2 ;;
    --peers) peers=1; shift ;;
    -*) die "unknown option $1 (scripts/bench.sh [--baseline REV | --baseline-build DIR] [--peers] [BUILDDIR])" ;;
    *) [ -z "$build" ] || die "one BUILDDIR only"; build=$1; shift ;;
  esac
done
[ -z "$baseline_rev" ] || [ -z "$baseline_build" ] || die "--baseline or --baseline-build, not both"
build=$(cd "${build:-$repo}" && pwd)
policyd=$build/src/policyd
bench=$build/bench/policyd-bench
seconds=${BENCH_SECONDS:-5}
connections=${BENCH_CONNECTIONS:-100}
rounds=${BENCH_ROUNDS:-2}
flushes=${BENCH_FLUSH:-1 2}
mixes=${BENCH_MIXES:-new retry throttled throttled-admit all-modules}
pool=${BENCH_RETRY_POOL:-1000}
out=$build/work/bench-compare
runs=$out/runs
for f in "$policyd" "$bench"; do [ -x "$f" ] || die "$f is not built (make first)"; done
for f in $flushes; do [[ $f =~ ^[012]$ ]] || die "BENCH_FLUSH: $f is not 0, 1 or 2"; done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS: $rounds is not a positive number"

# shellcheck source=bench-lib.sh
. "$repo/scripts/bench-lib.sh"
# shellcheck source=bench-peers.sh
. "$repo/scripts/bench-peers.sh"

baseline_label=
if [ -n "$baseline_rev" ]; then
  sha=$(git -C "$repo" rev-parse --verify "$baseline_rev^{commit}") || die "no revision $baseline_rev"
  baseline_build=$build/work/baseline-${sha:0:7}
  baseline_label=${sha:0:7}
  if [ ! -x "$baseline_build/src/policyd" ]; then
    echo "bench: building $baseline_rev ($baseline_label) in $baseline_build" >&2
    [ -d "$baseline_build" ] || git -C "$repo" worktree add --detach "$baseline_build" "$sha" >&2
    "$baseline_build/scripts/build.sh" >"$baseline_build.build.log" 2>&1 ||
      { tail -n 30 "$baseline_build.build.log" >&2; die "building $baseline_rev failed"; }
  fi
elif [ -n "$baseline_build" ]; then
  baseline_build=$(cd "$baseline_build" && pwd)
  baseline_label=$(git -C "$baseline_build" rev-parse --short=7 HEAD 2>/dev/null || echo "$baseline_build")
  [ -x "$baseline_build/src/policyd" ] || die "$baseline_build/src/policyd is not built"
fi
[ "$peers" = 1 ] && peers_install

rm -rf "$runs"; mkdir -p "$runs"
export WORKDIR=$build/work/bench/mariadb MARIADB_DB=policyd_bench
export MARIADB_PORT=${BENCH_MARIADB_PORT:-13326}
server_pid= server_name= flush_before=
stop_server() {
  [ -n "$server_pid" ] || return 0
  case $server_name in
    policyd|baseline) kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid= ;;
    *) peer_pid=$server_pid; peer_stop "$server_name" "$runs/$server_name"; server_pid= ;;
  esac
}
cleanup() {
  stop_server
  if [ -n "$flush_before" ]; then
    "$repo/scripts/mariadb.sh" sql -e "SET GLOBAL innodb_flush_log_at_trx_commit=$flush_before" >/dev/null 2>&1 || true
  fi
  if [ "$started_mariadb" = 1 ]; then "$repo/scripts/mariadb.sh" stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
bench_mariadb_start
flush_before=$("$repo/scripts/mariadb.sh" sql -N -e "SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")
mariadb_pid=$(cat "$WORKDIR/mariadbd.pid")

# The servers of a mix, rotated by the round: round 1 starts with this build, round 2 with the
# next server, and so on, so no server always runs first or right after the same one.
servers_for() {  # mix round
  local all=(policyd) i
  if [ -n "$baseline_build" ]; then all+=(baseline); fi
  if [ "$peers" = 1 ]; then read -r -a more <<<"$(peers_for "$1")"; all+=("${more[@]}"); fi
  for i in "${!all[@]}"; do echo "${all[(i + $2 - 1) % ${#all[@]}]}"; done
}

# Wait (at most 10 s) until mariadbd has used under 5 % of a core for half a second: a run
# must not pay for the purge and page flushing of the one before.
mariadb_settle() {
  local i before after
  for i in $(seq 1 20); do
    before=$(awk '{print $14 + $15}' "/proc/$mariadb_pid/stat")
    sleep 0.5
    after=$(awk '{print $14 + $15}' "/proc/$mariadb_pid/stat")
    [ $((after - before)) -le $(($(getconf CLK_TCK) / 40)) ] && return 0
  done
}

start_server() {  # name port conf log
  server_name=$1
  case $1 in
    policyd|baseline)
      local binary=$policyd
      [ "$1" = baseline ] && binary=$baseline_build/src/policyd
      "$binary" -c "$3" >"$4" 2>&1 &
      server_pid=$!
      wait_listening "$2" "$server_pid" || { cat "$4" >&2; die "$1 did not start"; } ;;
    *)
      peer_start "$1" "$2" "$runs/$1" || die "$1 did not start"
      server_pid=$peer_pid ;;
  esac
}

run_one() {  # flush mix server round
  local tag=$1.$2.$3.$4 port conf run_id load_mix
  bench_reset_db
  port=$(free_port)
  conf=$runs/$tag.conf
  bench_policyd_conf "$conf" "$port" "$2"
  mariadb_settle
  start_server "$3" "$port" "$conf" "$runs/$tag.log"
  load_mix=$(bench_mix_of "$2")
  run_id=c$4$RANDOM
  if [ "$2" = throttled ]; then
    # The shipped SENDERMSGLIMIT's worth of messages first: the measured ones are all refused.
    # Another run id, so other instances (a message's further recipients are not counted
    # again), from the same client address, the throttle's key.
    "$bench" "127.0.0.1:$port" --mix throttled --no-seed --run-id "${run_id}w" \
      --requests 512 --connections "$connections" --json >"$runs/$tag.seed1.json"
  fi
  if [ "$load_mix" = retry ]; then
    "$bench" "127.0.0.1:$port" --mix retry --no-seed --run-id "$run_id" --retry-pool "$pool" \
      --requests "$pool" --connections "$connections" --json >"$runs/$tag.seed1.json"
    sleep 1.1
    "$bench" "127.0.0.1:$port" --mix retry --no-seed --run-id "$run_id" --retry-pool "$pool" \
      --requests "$pool" --connections "$connections" --json >"$runs/$tag.seed2.json"
  fi
  "$bench" "127.0.0.1:$port" --mix "$load_mix" --no-seed --run-id "$run_id" --retry-pool "$pool" \
    "${bench_prefixes[@]}" --duration "$seconds" --connections "$connections" --config "$conf" \
    --watch-pid "$server_pid" --watch-pid "$mariadb_pid" --json >"$runs/$tag.json"
  stop_server
}

for flush in $flushes; do
  "$repo/scripts/mariadb.sh" sql -e "SET GLOBAL innodb_flush_log_at_trx_commit=$flush"
  [ "$("$repo/scripts/mariadb.sh" sql -N -e "SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")" = "$flush" ] ||
    die "the server did not take innodb_flush_log_at_trx_commit=$flush"
  for mix in $mixes; do
    for round in $(seq 1 "$rounds"); do
      for server in $(servers_for "$mix" "$round"); do
        run_one "$flush" "$mix" "$server" "$round"
      done
    done
    echo "bench: flush=$flush $mix done" >&2
  done
done

python3 "$repo/scripts/bench_compare.py" "$runs" "$out/summary.json" \
  --baseline-label "$baseline_label" --flushes "$flushes" --mixes "$mixes" --rounds "$rounds"
