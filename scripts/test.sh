#!/usr/bin/env bash
# scripts/test.sh - install, build and run the whole test suite (README command 2).
#
# Usage (as root, from anywhere): scripts/test.sh
# 1. scripts/install-deps.sh and scripts/build.sh;
# 2. unit:        make -j2 check (Catch2 tests/unit/unit_tests; test cases counted from its log);
# 3. fuzz:        tests/fuzz/run.sh (libFuzzer targets, $FUZZ_SECONDS each, default 30);
# 4. a private MariaDB for the tests only: WORKDIR=<repo>/work/test/mariadb, port
#    $TEST_MARIADB_PORT (default 13316, a free port if that one is taken), so it never collides
#    with scripts/run.sh (13306);
# 5. integration: tests/integration/run.py;
# 6. conformance: tests/conformance/run.py --keep-going over tests/conformance/scenarios;
# 7. e2e:         tests/e2e/postfix.sh (private Postfix on 127.0.0.1:2525 or a free port);
# 8. cluster:     a private 3-node Galera cluster (scripts/galera.sh, WORKDIR=<repo>/work/test/galera,
#                 client ports $TEST_GALERA_CLIENT_BASE.. (default 13331..13333) and Galera ports
#                 4431.., 4441.., 4451.., or a free block of each if any is taken), then
#                 tests/cluster/run.py: daemons on different nodes, conflicts, failover;
# 9. stops everything it started (trap), prints one line per suite and, last, exactly one line
#    "N passed, M failed" summing every test run.
# Exit status 0 only if every suite ran and nothing failed.  A suite that crashes, times out or
# prints no summary counts as (at least) one failure, never as zero tests.
# Logs: work/test/logs/<suite>.log.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
logs=$repo/work/test/logs
mkdir -p "$logs"

total_pass=0 total_fail=0
suite_lines=()
record() {  # suite passed failed [note]
  total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3))
  suite_lines+=("$(printf '%-12s %s passed, %s failed%s' "$1:" "$2" "$3" "${4:+ ($4)}")")
}
finish() {
  echo
  echo "== summary =="
  local l
  for l in "${suite_lines[@]}"; do echo "$l"; done
  echo "$total_pass passed, $total_fail failed"
  if [ "$total_fail" -eq 0 ]; then exit 0; fi
  exit 1
}

# run_suite NAME TIMEOUT CMD...: tee the output to a log, then count its "N passed, M failed"
run_suite() {
  local name=$1 limit=$2; shift 2
  local log=$logs/$name.log rc=0 start=$SECONDS
  echo; echo "== $name =="
  timeout --kill-after=30 "$limit" "$@" 2>&1 | tee "$log" || rc=$?
  local summary p f
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
  if [ -n "$summary" ]; then
    p=${summary%% passed*}; f=${summary#*, }; f=${f%% failed}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      record "$name" "$p" 1 "exit status $rc without a failed test"
    else
      record "$name" "$p" "$f" "$((SECONDS - start)) s"
    fi
  else
    p=$(grep -c '^PASS ' "$log" || true); f=$(grep -c '^FAIL ' "$log" || true)
    record "$name" "$p" $((f + 1)) "crashed or timed out: exit status $rc, no summary line"
  fi
}

scripts/install-deps.sh
if ! scripts/build.sh 2>&1 | tee "$logs/build.log"; then
  record build 0 1 "scripts/build.sh failed, see $logs/build.log"
  finish
fi

# ---- unit tests: make check, counted from Catch2's summary ------------------------------------
echo; echo "== unit =="
rc=0
rm -f tests/unit/unit_tests.log
make -j2 check 2>&1 | tee "$logs/unit.log" || rc=$?
ulog=tests/unit/unit_tests.log
if [ -f "$ulog" ] && line=$(grep -E '^(All tests passed|test cases:)' "$ulog" | tail -n 1); then
  if [[ $line =~ in\ ([0-9]+)\ test\ case ]]; then p=${BASH_REMATCH[1]}; f=0
  else
    p=$(sed -nE 's/.*\| *([0-9]+) passed.*/\1/p' <<<"$line"); p=${p:-0}
    f=$(sed -nE 's/.*\| *([0-9]+) failed.*/\1/p' <<<"$line"); f=${f:-0}
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  record unit "$p" "$f" "Catch2: $line"
else
  record unit 0 1 "make check exit status $rc, no Catch2 summary (no test cases ran?)"
fi

# ---- fuzz: libFuzzer targets, bounded in time -------------------------------------------------
run_suite fuzz 600 tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"

# ---- a private MariaDB for the remaining suites -----------------------------------------------
export WORKDIR=$repo/work/test/mariadb
export MARIADB_PORT=${TEST_MARIADB_PORT:-13316}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! scripts/mariadb.sh status >/dev/null 2>&1 && port_busy "$MARIADB_PORT"; then
  MARIADB_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
galera_env() {
  WORKDIR=$repo/work/test/galera GALERA_CLIENT_BASE=$galera_client GALERA_GCOMM_BASE=$galera_gcomm \
    GALERA_IST_BASE=$galera_ist GALERA_SST_BASE=$galera_sst "$@"
}
galera_client=${TEST_GALERA_CLIENT_BASE:-13331} galera_gcomm=4431 galera_ist=4441 galera_sst=4451
stop_all() {
  scripts/mariadb.sh stop >/dev/null 2>&1 || true
  galera_env scripts/galera.sh stop >/dev/null 2>&1 || true
}
trap stop_all EXIT
if ! scripts/mariadb.sh start; then
  record mariadb 0 1 "scripts/mariadb.sh start failed, see $WORKDIR/mariadbd.log"
  finish
fi
socket=$(scripts/mariadb.sh env | sed -n 's/^MARIADB_SOCKET=//p')

run_suite integration 900 tests/integration/run.py --mysql-socket "$socket" \
  --mysql-port "$MARIADB_PORT" --db policyd_integration
run_suite conformance 1800 tests/conformance/run.py --keep-going --mysql-socket "$socket" \
  --mysql-port "$MARIADB_PORT" --db policyd_conformance tests/conformance/scenarios
MARIADB_DB=policyd_e2e run_suite e2e 600 tests/e2e/postfix.sh

# ---- cluster: a private Galera cluster, with a free block of ports if the defaults are taken ----
block_busy() {  # base...: busy if any of base, base+1, base+2 accepts connections
  local b i
  for b in "$@"; do for i in 0 1 2; do port_busy $((b + i)) && return 0; done; done
  return 1
}
if block_busy "$galera_client" "$galera_gcomm" "$galera_ist" "$galera_sst"; then
  read -r galera_client galera_gcomm galera_ist galera_sst < <(python3 -c '
import random, socket
def free(base):
    for i in range(3):
        s = socket.socket()
        try: s.bind(("127.0.0.1", base + i))
        except OSError: return False
        finally: s.close()
    return True
while True:
    b = [random.randrange(20000, 60000, 3) for _ in range(4)]
    if all(free(x) for x in b): print(*b); break')
fi
if galera_env scripts/galera.sh start; then
  galera_env run_suite cluster 900 tests/cluster/run.py
else
  record cluster 0 1 "scripts/galera.sh start failed, see $repo/work/test/galera/node*/mariadbd.log"
fi
galera_env scripts/galera.sh stop || true

finish
