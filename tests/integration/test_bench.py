"""tests/integration/test_bench.py - policyd-bench's output is well-formed and adds up.

Runs bench/policyd-bench (beside the daemon: $POLICYD_BENCH, else <dir of $POLICYD>/../bench/)
briefly against a real daemon, and against small fake servers for the timeout and error paths
and for other policy servers' spellings of their replies; and against a port where nothing
listens.
Checks what the report says, never how fast anything was: every JSON field is present, sent ==
answered + timeouts + errors, the reply counts add up to answered, and the requests really
reached the database (triplet rows, Questions).
"""

import json
import os
import socket
import subprocess
import threading
import time

import lib

BENCH = os.environ.get("POLICYD_BENCH") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(lib.POLICYD))), "bench", "policyd-bench")

FIELDS = ["mode", "target", "mix", "connections", "threads", "pipeline", "per_connection",
          "offered_rate", "seconds", "requests_per_second", "requests", "connect_errors", "connections_opened",
          "latency_ms", "replies", "seed", "database", "statements", "idle_connections",
          "server_rss_kb", "cpu_us_per_request", "verdicts"]


def run_bench(*args, timeout=60):
    lib.ok(os.access(BENCH, os.X_OK), "policyd-bench not built at %s" % BENCH)
    p = subprocess.run([BENCH, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_json(*args, expect_status=0):
    status, out, err = run_bench(*args, "--json")
    lib.eq(status, expect_status, "exit status (stderr: %s)" % err.strip())
    report = json.loads(out)
    for field in FIELDS:
        lib.ok(field in report, "field %r missing from %s" % (field, sorted(report)))
    req = report["requests"]
    lib.eq(req["sent"], req["answered"] + req["timeouts"] + req["errors"],
           "sent vs answered + timeouts + errors in %s" % req)
    lib.eq(sum(report["replies"].values()), req["answered"], "sum of reply counts")
    lib.eq(sum(report["verdicts"].values()), req["answered"], "sum of verdict counts")
    lat = report["latency_ms"]
    if req["answered"]:
        lib.ok(0 <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"],
               "percentiles out of order: %s" % lat)
    return report


def count(table):
    return int(lib.sql("SELECT COUNT(*) FROM %s" % table)[0][0])


def test_new_mix_against_the_daemon_adds_up():
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid nobody has: its CPU is unknown
    with lib.Daemon() as d:
        r = run_json("127.0.0.1:%d" % d.port, "--requests", "300", "--connections", "7",
                     "--per-connection", "10", "--config", d.conf_path,
                     "--watch-pid", str(d.proc.pid), "--watch-pid", str(gone.pid))
    lib.eq(r["mode"], "daemon", "mode")
    lib.eq(r["requests"], {"sent": 300, "answered": 300, "timeouts": 0, "errors": 0}, "requests")
    lib.eq(r["replies"], {lib.GREY_DEFER: 300}, "replies")
    lib.eq(r["verdicts"], {"pass": 0, "defer": 300, "reject": 0, "other": 0}, "verdicts")
    # 300 requests at 10 per connection: at least 30 connections were opened
    lib.ok(r["connections_opened"] >= 30, "connections_opened %d" % r["connections_opened"])
    lib.eq(count("triplet"), 300, "triplets the requests created")
    db = r["database"]
    lib.ok(db is not None and db.get("questions", 0) >= 300,
           "database round trips measured: %s" % db)
    lib.ok(db["round_trips_per_request"] >= 1.0, "round trips per request %s" % db)
    cpu = r["cpu_us_per_request"]
    lib.ok(cpu["bench"] > 0, "the bench's own CPU per request: %s" % cpu)
    lib.eq(len(cpu["watched"]), 2, "one CPU figure per --watch-pid: %s" % cpu)
    lib.ok(cpu["watched"][0] is not None and cpu["watched"][0] >= 0, "the daemon's: %s" % cpu)
    lib.eq(cpu["watched"][1], None, "an unknown pid's: %s" % cpu)
    lib.ok(r["server_rss_kb"]["end"] > 1000, "the first watched pid's memory: %s" % r["server_rss_kb"])


def test_retry_mix_is_seeded_and_passes_with_triplet_time_zero():
    with lib.Daemon({"TRIPLET_TIME": "0"}) as d:
        r = run_json("127.0.0.1:%d" % d.port, "--mix", "retry", "--retry-pool", "50",
                     "--requests", "200", "--connections", "5", "--pipeline", "3")
    lib.eq(r["seed"]["requests"]["answered"], 50, "seed second round")
    lib.eq(r["seed"]["replies"], {"action=dunno": 50}, "seed replies")
    lib.eq(r["replies"], {"action=dunno": 200}, "retry replies")
    lib.eq(count("triplet"), 50, "triplets: the pool only")
    lib.eq(r["database"], None, "no database given, none measured")


def test_multi_rcpt_and_text_output():
    with lib.Daemon() as d:
        status, out, err = run_bench("127.0.0.1:%d" % d.port, "--mix", "multi-rcpt", "--rcpts", "4",
                                     "--requests", "40", "--connections", "2")
    lib.eq(status, 0, "exit status (%s)" % err)
    lib.ok("40 sent, 40 answered, 0 timeouts, 0 errors" in out, "text report:\n" + out)
    lib.ok("requests/s" in out and "p99" in out, "text report:\n" + out)
    lib.ok("40  " + lib.GREY_DEFER in out, "reply count line:\n" + out)
    lib.eq(count("triplet"), 40, "one triplet per recipient")


def test_db_floor_runs_the_pipeline_without_the_daemon():
    with lib.Daemon() as d:   # only for its policyd.conf; the floor never connects to it
        conf = d.conf_path
        r = run_json("--db-floor", "--config", conf, "--requests", "120", "--connections", "3")
    lib.eq(r["mode"], "db-floor", "mode")
    lib.eq(r["requests"]["answered"], 120, "answered")
    lib.eq(r["replies"], {lib.GREY_DEFER: 120}, "replies")
    lib.eq(count("triplet"), 120, "triplets the floor created")
    lib.ok(r["statements"] >= 120, "statements sent by the floor's sessions: %s" % r["statements"])


# How other policy servers answer (%d: the number of the reply, so no two are spelled alike).
PEER_REPLIES = [
    "action=PREPEND X-Greylist: delayed %d seconds by postgrey-1.37 at mx; Fri, 04 Dec 2026 18:00:00 UTC",
    "action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/rcpt.bench.example.html#%d",
    "action=451 Greylisted for %d minutes",
    "action=REJECT 5.7.1 go away %d",
    "action=PERMIT %d",  # no such action: Postfix would log a policy server error
]


class FakeServer:
    """Accepts connections on a free port; `behaviour` is 'silent', 'hangup', 'slow' (each
    request answered action=dunno 0.2 s after it arrived, one at a time per connection) or
    'peers' (each answered at once with the next of PEER_REPLIES, over all connections)."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop = False
        self.lock = threading.Lock()
        self.answered = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            if self.behaviour in ("slow", "peers"):
                self.held.append(conn)
                threading.Thread(target=self.answer, args=(conn,), daemon=True).start()
            elif self.behaviour == "hangup":
                conn.settimeout(2)
                try:
                    conn.recv(65536)  # read the request, then close without a reply
                except OSError:
                    pass
                conn.close()
            else:
                self.held.append(conn)

    def answer(self, conn):
        pending = b""
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                pending += data
                while b"\n\n" in pending:
                    _, pending = pending.split(b"\n\n", 1)
                    if self.behaviour == "slow":
                        time.sleep(0.2)
                        conn.sendall(b"action=dunno\n\n")
                    else:
                        conn.sendall(self.next_peer_reply())
        except OSError:
            pass

    def next_peer_reply(self):
        with self.lock:
            n = self.answered
            self.answered += 1
        return (PEER_REPLIES[n % len(PEER_REPLIES)] % n).encode() + b"\n\n"

    def close(self):
        self.stop = True
        for c in self.held:
            c.close()
        self.sock.close()


def test_rate_paces_the_requests():
    # 150 requests/s for 2 s: due times past the deadline are never sent, so
    # at most 300; a closed loop over 4 connections would send thousands.
    with lib.Daemon() as d:
        r = run_json("127.0.0.1:%d" % d.port, "--rate", "150", "--duration", "2",
                     "--connections", "4")
    lib.eq(r["offered_rate"], 150.0, "offered_rate")
    sent = r["requests"]["sent"]
    lib.ok(240 <= sent <= 300, "sent %d at 150/s for 2 s" % sent)
    lib.eq(r["requests"]["answered"], sent, "every paced request answered")
    lib.ok(120 <= r["requests_per_second"] <= 160, "requests/s %s" % r["requests_per_second"])
    lib.eq(count("triplet"), sent, "triplets the requests created")


def test_paced_latency_counts_from_the_due_time():
    # One connection asked for 20 requests/s, a server that takes 0.2 s each: the requests fall
    # further and further behind their due times, and their latency must show it. Counted from
    # the write instead, every one would read 0.2 s (coordinated omission).
    server = FakeServer("slow")
    try:
        r = run_json("127.0.0.1:%d" % server.port, "--rate", "20", "--duration", "2",
                     "--connections", "1")
    finally:
        server.close()
    lat = r["latency_ms"]
    lib.ok(r["requests"]["answered"] >= 5, "answered: %s" % r["requests"])
    lib.ok(lat["p50"] > 400 and lat["max"] > 800, "latency from the due times: %s" % lat)


def test_paced_run_ends_at_its_duration():
    # 40 connections at 5 requests/s: all but 5 would wait for due times past the deadline.
    with lib.Daemon() as d:
        started = time.monotonic()
        r = run_json("127.0.0.1:%d" % d.port, "--rate", "5", "--duration", "1",
                     "--connections", "40")
        took = time.monotonic() - started
    lib.ok(r["requests"]["sent"] <= 5, "sent %d at 5/s for 1 s" % r["requests"]["sent"])
    lib.ok(took < 4, "the run took %.1f s for --duration 1" % took)


def test_db_floor_can_be_paced_too():
    with lib.Daemon() as d:
        r = run_json("--db-floor", "--config", d.conf_path, "--rate", "100", "--duration", "1",
                     "--connections", "2")
    sent = r["requests"]["sent"]
    lib.ok(70 <= sent <= 100, "sent %d at 100/s for 1 s" % sent)
    lib.eq(r["requests"]["answered"], sent, "answered")


def bench_fake_server(behaviour, *args):
    """policyd-bench against a FakeServer; nothing is answered, so it exits 1."""
    server = FakeServer(behaviour)
    try:
        return run_json("127.0.0.1:%d" % server.port, *args, expect_status=1)
    finally:
        server.close()


def test_replies_count_by_verdict_and_spelling_whoever_spelled_them():
    server = FakeServer("peers")
    try:
        r = run_json("127.0.0.1:%d" % server.port, "--requests", "50", "--connections", "3")
    finally:
        server.close()
    lib.eq(r["requests"]["answered"], 50, "answered")
    lib.eq(r["verdicts"], {"pass": 10, "defer": 20, "reject": 10, "other": 10}, "verdicts")
    lib.eq(r["replies"], {
        "action=PREPEND X-Greylist: delayed # seconds by postgrey-#.# at mx; Fri, # Dec # #:#:# UTC": 10,
        "action=DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/rcpt.bench.example.html##": 10,
        "action=# Greylisted for # minutes": 10,
        "action=REJECT #.#.# go away #": 10,
        "action=PERMIT #": 10}, "replies by spelling")


def test_unanswered_requests_count_as_timeouts():
    r = bench_fake_server("silent", "--requests", "4", "--connections", "4", "--timeout", "0.5")
    lib.eq(r["requests"], {"sent": 4, "answered": 0, "timeouts": 4, "errors": 0}, "requests")
    lib.eq(r["replies"], {}, "replies")


def test_closed_connections_count_as_errors():
    r = bench_fake_server("hangup", "--requests", "6", "--connections", "2", "--timeout", "5")
    lib.eq(r["requests"]["answered"], 0, "answered")
    lib.eq(r["requests"]["errors"], 6, "errors: each request lost with its connection")


def test_nothing_listening_fails_within_the_timeout():
    # a port with no server: a clear message and a non-zero exit within --timeout, not a
    # silent wait for ever (and with --idle-before, not the minute allowed for slow connects)
    port = lib.free_port()
    for extra in ([], ["--idle-before", "1"]):
        started = time.monotonic()
        try:
            status, out, err = run_bench("127.0.0.1:%d" % port, "--requests", "5",
                                         "--connections", "3", "--timeout", "1", *extra,
                                         timeout=15)
        except subprocess.TimeoutExpired:
            raise lib.Failure("policyd-bench %s still waiting after 15 s" % extra)
        elapsed = time.monotonic() - started
        lib.ok(status != 0, "exit status %d %s" % (status, extra))
        lib.ok(("cannot connect to 127.0.0.1:%d: Connection refused" % port) in err,
               "message: %r" % err)
        lib.ok(elapsed < 1 + 1 + 3, "gave up after %.1f s %s" % (elapsed, extra))
        lib.eq(out, "", "no report")


def test_bad_usage_exits_2():
    status, _out, err = run_bench("--mix", "nonsense", "--requests", "1")
    lib.eq(status, 2, "exit status")
    lib.ok("unknown mix" in err, "message: %s" % err)
    status, _out, err = run_bench("--db-floor")
    lib.eq(status, 2, "exit status without --config")
    status, _out, err = run_bench("--rate=-5", "--requests", "1")
    lib.eq(status, 2, "exit status with a negative rate")
    lib.ok("--rate" in err, "message: %s" % err)
    # one thread and one database connection each: capped before any is started
    missing = "/nonexistent/policyd.conf"
    status, _out, err = run_bench("--db-floor", "--config", missing, "--connections", "1001")
    lib.eq(status, 2, "exit status of --db-floor with 1001 connections")
    lib.ok("--connections must be 1 to 1000 with --db-floor" in err, "message: %s" % err)
    status, _out, err = run_bench("--db-floor", "--config", missing, "--connections", "1000")
    lib.eq(status, 2, "exit status of --db-floor with 1000 connections and no config file")
    lib.ok("1 to 1000" not in err and missing in err,
           "1000 connections pass the cap and fail on the missing file: %s" % err)
