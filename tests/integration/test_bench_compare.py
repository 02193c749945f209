"""tests/integration/test_bench_compare.py - scripts/bench.sh --baseline-build alternates and adds up.

Runs the comparison of scripts/bench-compare.sh briefly, with this build's daemon as its own
baseline, in a scratch BUILDDIR (links to the built daemon and policyd-bench) whose private
MariaDB the script starts on a free port and stops. Checks what it reports, never how fast:
every round of every server ran, in turn and the order rotated each round (A B, B A),
under both flush settings; both servers
send the same number of statements per request (it is one binary); the ratios come from those
runs; the throttled mix's measured requests are all refusals and the retried triplets all
pass; the Markdown rendering has a row per server. The peers (--peers) are not run here: they are Debian packages the suite does not
install; their reply spellings are checked by test_bench.py and the unit tests.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import lib

BUILD = os.path.dirname(os.path.dirname(os.path.abspath(lib.POLICYD)))
BENCH = os.environ.get("POLICYD_BENCH") or os.path.join(BUILD, "bench", "policyd-bench")
SCRIPT = os.path.join(lib.REPO, "scripts", "bench.sh")


def scratch_build(root, name):
    """A BUILDDIR holding links to the built daemon and bench."""
    build = os.path.join(root, name)
    for sub, binary in (("src", lib.POLICYD), ("bench", BENCH)):
        os.makedirs(os.path.join(build, sub))
        os.symlink(os.path.abspath(binary), os.path.join(build, sub, os.path.basename(binary)))
    return build


def test_baseline_runs_alternate_under_both_flush_settings():
    lib.ok(os.access(BENCH, os.X_OK), "policyd-bench not built at %s" % BENCH)
    root = tempfile.mkdtemp(prefix="bench-compare-", dir="/tmp")
    try:
        build = scratch_build(root, "b")
        baseline = scratch_build(root, "a")
        port = lib.free_port()
        env = dict(os.environ, BENCH_SECONDS="1", BENCH_ROUNDS="2", BENCH_FLUSH="1 2",
                   BENCH_MIXES="retry throttled", BENCH_CONNECTIONS="4", BENCH_RETRY_POOL="40",
                   BENCH_MARIADB_PORT=str(port))
        p = subprocess.run([SCRIPT, "--baseline-build", baseline, build], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=600)
        out = p.stdout.decode("utf-8", "replace")
        lib.eq(p.returncode, 0, "exit status; output:\n" + out)
        lib.ok("innodb_flush_log_at_trx_commit=1" in out and "innodb_flush_log_at_trx_commit=2" in out,
               "a table per flush setting:\n" + out)
        with socket.socket() as probe:
            lib.ok(probe.connect_ex(("127.0.0.1", port)) != 0, "the MariaDB it started is stopped")

        runs = os.path.join(build, "work", "bench-compare", "runs")
        order = sorted((n for n in os.listdir(runs) if n.endswith(".json") and ".seed" not in n),
                       key=lambda n: os.path.getmtime(os.path.join(runs, n)))
        # round 1 starts with this build, round 2 with the baseline
        expected = ["%s.%s.%s.%d.json" % (f, m, s, r) for f in "12" for m in ("retry", "throttled")
                    for r, servers in ((1, ("policyd", "baseline")), (2, ("baseline", "policyd")))
                    for s in servers]
        lib.eq(order, expected, "the runs, in the order they were made")

        with open(os.path.join(build, "work", "bench-compare", "summary.json")) as f:
            summary = json.load(f)
        for flush in "12":
            for mix in ("retry", "throttled"):
                rows = summary["flush"][flush][mix]
                ours, theirs = rows["policyd"], rows["baseline"]
                lib.eq((ours["rounds"], theirs["rounds"]), (2, 2), "rounds of %s/%s" % (flush, mix))
                lib.ok(ours["statements_per_request"] >= 1, "statements measured: %s" % ours)
                lib.ok(abs(ours["statements_per_request"] - theirs["statements_per_request"]) < 0.05,
                       "one binary, the same statements: %s / %s" % (ours, theirs))
                lo, hi = theirs["throughput_ratio_range"]
                lib.ok(0 < lo <= theirs["throughput_ratio"] <= hi, "throughput ratio %s" % theirs)
                lib.ok(theirs.get("mariadb_cpu_ratio", 0) > 0, "mariadbd CPU ratio %s" % theirs)
                want = "pass" if mix == "retry" else "defer"
                for row in (ours, theirs):
                    v = row["verdicts"]
                    lib.ok(v[want] > 0 and sum(v.values()) == v[want],
                           "%s/%s: every measured reply %s: %s" % (flush, mix, want, v))
        # The same figures again as Markdown, for docs/PERFORMANCE.md.
        md = subprocess.run([sys.executable, os.path.join(lib.REPO, "scripts", "bench_compare.py"),
                             runs, os.path.join(root, "again.json"), "--markdown",
                             "--mixes", "retry throttled", "--baseline-label", "X"],
                            stdout=subprocess.PIPE, check=True).stdout.decode()
        rows = [line for line in md.splitlines() if line.startswith("| retry ") or line.startswith("| throttled ")]
        lib.eq(len(rows), 8, "Markdown rows (2 flush settings x 2 mixes x 2 servers):\n" + md)
        lib.ok(all(r.count(" | ") == 8 for r in rows), "nine cells a row:\n" + md)
        lib.ok(any("| baseline X |" in r for r in rows), "the baseline's label:\n" + md)
    finally:
        shutil.rmtree(root, ignore_errors=True)
