#!/usr/bin/env bash
# scripts/bench.sh - short benchmark of policyd against its database floor (make bench).
#
# Usage: scripts/bench.sh [BUILDDIR]        (BUILDDIR holds src/policyd and bench/policyd-bench;
#                                            default: the repo itself)
#        scripts/bench.sh --baseline REV [--peers] [BUILDDIR]
#        scripts/bench.sh --peers [BUILDDIR]  this build against REV's and other policy servers,
#                                            alternating: see scripts/bench-compare.sh
# For every mix:
#   1. a fresh database policyd_bench in a private MariaDB (scripts/mariadb.sh; WORKDIR
#      BUILDDIR/work/bench/mariadb, port $BENCH_MARIADB_PORT or a free one), with the whitelist
#      row 203.0.113.% and the blacklist row 192.0.2.% the whitelisted/blacklisted mixes use
#      (or their CIDR forms, and more rows: BENCH_LIST_FORM, BENCH_LIST_ROWS in bench-lib.sh);
#   2. policyd.conf = the repo's shipped policyd.conf with the private database, a free port,
#      TRIPLET_TIME=0 (so the seeded retry triplets pass) and the mix's own switches
#      (blacklisted: BLACKLISTING=1, throttled: SENDERTHROTTLE=1 GREYLISTING=0);
#   3. the daemon on that port, logging to a file; policyd-bench against it for $BENCH_SECONDS s
#      at $BENCH_CONNECTIONS connections (--json), with round trips from Questions: its
#      saturation throughput (closed loop);
#   4. the same daemon again, paced (--rate) at $BENCH_LOAD of that throughput over the same
#      connections: the latency at a load it can carry;
#   5. the daemon stopped, then policyd-bench --db-floor with the same configuration, once with
#      $BENCH_CONNECTIONS threads (the same concurrency) and once with WORKERS threads (the
#      daemon's own number of database connections).
# Prints one table row per mix: daemon requests/s, p50/p99 at saturation, p99 when paced, both
# floors, the daemon as a fraction of the floor at the same concurrency and of the better
# floor, round trips per request; then a second table of the CPU per request spent by the
# bench client, the daemon and MariaDB, and by the better floor's threads and MariaDB.
# JSON of every run in BUILDDIR/work/bench/.
# Everything it started is stopped on exit. The machine's other load skews absolute figures:
# compare the ratios, which come from runs made seconds apart.
#
# Environment: BENCH_SECONDS (5), BENCH_CONNECTIONS (100), BENCH_MIXES (all seven),
#              BENCH_LOAD (0.5: the paced run's fraction of the saturation throughput),
#              BENCH_MARIADB_PORT (13326, or a free port if taken),
#              BENCH_LIST_FORM (octets, cidr, cidr6), BENCH_LIST_ROWS (0..65535; 0).
set -euo pipefail

# With a baseline or peers: scripts/bench-compare.sh (alternating runs of several servers).
case ${1:-} in --baseline|--baseline-build|--peers) exec "$(dirname "${BASH_SOURCE[0]}")/bench-compare.sh" "$@" ;; esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$repo}" && pwd)
policyd=$build/src/policyd
bench=$build/bench/policyd-bench
seconds=${BENCH_SECONDS:-5}
connections=${BENCH_CONNECTIONS:-100}
mixes=${BENCH_MIXES:-new retry whitelisted blacklisted throttled multi-rcpt mixed}
load=${BENCH_LOAD:-0.5}
out=$build/work/bench
mkdir -p "$out"
for f in "$policyd" "$bench"; do
  [ -x "$f" ] || { echo "bench.sh: $f is not built (make first)" >&2; exit 1; }
done

# shellcheck source=bench-lib.sh
. "$repo/scripts/bench-lib.sh"

export WORKDIR=$out/mariadb MARIADB_DB=policyd_bench
export MARIADB_PORT=${BENCH_MARIADB_PORT:-13326}
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  if [ "$started_mariadb" = 1 ]; then "$repo/scripts/mariadb.sh" stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
bench_mariadb_start

workers=4
for mix in $mixes; do
  bench_reset_db
  port=$(free_port)
  conf=$out/$mix.conf
  bench_policyd_conf "$conf" "$port" "$mix"
  workers=$(sed -n 's/^WORKERS=//p' "$conf" | tail -n 1); workers=${workers:-4}

  "$policyd" -c "$conf" >"$out/$mix.daemon.log" 2>&1 &
  daemon_pid=$!
  wait_listening "$port" "$daemon_pid" || { cat "$out/$mix.daemon.log" >&2; echo "bench.sh: policyd did not start" >&2; exit 1; }
  mariadb_pid=$(cat "$WORKDIR/mariadbd.pid")
  "$bench" "127.0.0.1:$port" --mix "$(bench_mix_of "$mix")" "${bench_prefixes[@]}" --duration "$seconds" --connections "$connections" \
    --config "$conf" --watch-pid "$daemon_pid" --watch-pid "$mariadb_pid" --json >"$out/$mix.daemon.json"
  rate=$(python3 -c 'import json,sys; print(max(1, round(json.load(open(sys.argv[1]))["requests_per_second"] * float(sys.argv[2]))))' \
    "$out/$mix.daemon.json" "$load")
  "$bench" "127.0.0.1:$port" --mix "$(bench_mix_of "$mix")" "${bench_prefixes[@]}" --duration "$seconds" --connections "$connections" \
    --rate "$rate" --json >"$out/$mix.paced.json"
  kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=

  "$bench" --db-floor --config "$conf" --mix "$(bench_mix_of "$mix")" "${bench_prefixes[@]}" --duration "$seconds" \
    --connections "$connections" --watch-pid "$mariadb_pid" --json >"$out/$mix.floor.json"
  "$bench" --db-floor --config "$conf" --mix "$(bench_mix_of "$mix")" "${bench_prefixes[@]}" --duration "$seconds" \
    --connections "$workers" --watch-pid "$mariadb_pid" --json >"$out/$mix.floor-workers.json"
  echo "bench.sh: $mix done" >&2
done

python3 - "$out" "$connections" "$workers" "$load" $mixes <<'EOF'
import json, os, sys
out, connections, workers, load, mixes = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5:]
def load_json(mix, kind):
    with open(os.path.join(out, "%s.%s.json" % (mix, kind))) as f:
        return json.load(f)
def ratio(a, b):
    return a / b if b else 0.0
print("%-12s %9s %7s %7s %8s %11s %11s %8s %6s %6s  %s" % (
    "mix", "daemon/s", "p50 ms", "p99 ms", "p99@%d%%" % round(load * 100),
    "floor@%s/s" % connections, "floor@%s/s" % workers, "ratio@%s" % connections, "ratio",
    "rt/req", "replies"))
for mix in mixes:
    d, p = load_json(mix, "daemon"), load_json(mix, "paced")
    f, w = load_json(mix, "floor"), load_json(mix, "floor-workers")
    rps = d["requests_per_second"]
    best = max(f["requests_per_second"], w["requests_per_second"])
    rt = d["database"]["round_trips_per_request"] if d.get("database") and "round_trips_per_request" in d["database"] else float("nan")
    replies = ", ".join("%s %d" % (k[:40], v) for k, v in sorted(d["replies"].items(), key=lambda kv: -kv[1]))
    bad = sum(r["requests"]["timeouts"] + r["requests"]["errors"] for r in (d, p))
    print("%-12s %9.0f %7.2f %7.2f %8.2f %11.0f %11.0f %8.2f %6.2f %6.2f  %s%s" % (
        mix, rps, d["latency_ms"]["p50"], d["latency_ms"]["p99"], p["latency_ms"]["p99"],
        f["requests_per_second"], w["requests_per_second"],
        ratio(rps, f["requests_per_second"]), ratio(rps, best), rt, replies,
        "  (%d timeouts/errors)" % bad if bad else ""))
print("p99@%d%% = p99 when paced at %d%% of the daemon's own requests/s; ratio@%s = daemon / floor"
      " at the same concurrency; ratio = daemon / the better floor; rt/req = MariaDB Questions"
      " per request" % (round(load * 100), round(load * 100), connections))

# Where the two cores went, in CPU microseconds per request (policyd-bench's own, and the
# --watch-pid processes'), for the daemon run and for the better floor. "reachable" is the
# ratio a daemon would get if it cost no more than the floor's own threads do: the floor's
# CPU over the floor's plus the load generator's, which the floor does not have to feed.
print()
print("%-12s %14s %8s %8s %14s %8s %9s" % (
    "cpu us/req", "bench client", "daemon", "mariadb", "floor threads", "mariadb", "reachable"))
for mix in mixes:
    d = load_json(mix, "daemon")
    f = max((load_json(mix, k) for k in ("floor", "floor-workers")),
            key=lambda r: r["requests_per_second"])
    bench_us, (daemon_us, db_us) = d["cpu_us_per_request"]["bench"], d["cpu_us_per_request"]["watched"]
    floor_us, floor_db_us = f["cpu_us_per_request"]["bench"], f["cpu_us_per_request"]["watched"][0]
    floor_total = floor_us + (floor_db_us or 0)
    print("%-12s %14.1f %8.1f %8.1f %14.1f %8.1f %9.2f" % (
        mix, bench_us, daemon_us or 0, db_us or 0, floor_us, floor_db_us or 0,
        ratio(floor_total, floor_total + bench_us)))
EOF
