"""tests/integration/test_stats.py - the statistics line (SIGUSR1, STATS_INTERVAL).

The counts in the line must match what was actually sent: requests, each reply kind,
decision tokens, database failures (FAILSAFE bypasses) and connections, including
those refused by CONN_ACL.  docs/OPERATIONS.md describes the line.
"""

import re
import signal
import time

import lib


def stats_lines(daemon):
    return [line for line in daemon.output().splitlines() if line.startswith("stats: ")]


def wait_stats(daemon, count=1, limit=5.0):
    """Wait until the daemon has logged `count` stats lines; return the last one parsed."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        lines = stats_lines(daemon)
        if len(lines) >= count:
            return parse(lines[count - 1])
        time.sleep(0.05)
    raise lib.Failure("no stats line #%d in the log:\n%s" % (count, daemon.output()))


def parse(line):
    head, _, tokens = line.partition(" tokens:")
    fields = dict(word.split("=", 1) for word in head[len("stats: "):].split())
    fields["tokens"] = dict(word.rsplit(":", 1) for word in tokens.split())
    return fields


def dump(daemon, count=1):
    daemon.signal(signal.SIGUSR1)
    return wait_stats(daemon, count)


def connections(daemon, count=1):
    """(connections_total, refused_acl) of dump #count: the start-up probe of lib.Daemon
    (a connect to see the port listening) is one connection of its own."""
    s = dump(daemon, count)
    return int(s["connections_total"]), int(s["refused_acl"])


def test_sigusr1_counts_match_the_requests_sent():
    now = int(time.time())
    lib.sql("INSERT INTO triplet (_from,_rcpt,_host,_datenew,_datelast,_count) "
            "VALUES ('alice@example.com','old@example.org','192.0.2',%d,%d,0)" % (now - 3600, now - 3600))
    with lib.Daemon() as d:
        probes, _ = connections(d)
        for i in range(3):
            lib.eq(d.request({"recipient": "new%d@example.org" % i}), lib.GREY_DEFER, "new triplet")
        lib.eq(d.request({"recipient": "old@example.org"}), "action=dunno", "old triplet")
        lib.eq(d.request({"recipient": None}), "action=defer_if_permit Invalid data", "no recipient")
        with d.connect() as second:
            lib.eq(second.request({"recipient": "new0@example.org"}), lib.GREY_DEFER, "retry too soon")
        s = dump(d, 2)
        lib.eq(s["requests"], "6", "requests")
        lib.eq(s["grey_defer"], "4", "grey_defer")
        lib.eq(s["accept"], "1", "accept")
        lib.eq(s["invalid"], "1", "invalid")
        lib.eq(s["blacklist"], "0", "blacklist")
        lib.eq(s["db_errors"], "0", "db_errors")
        lib.eq(int(s["connections_total"]), probes + 2, "connections_total")
        lib.eq(s["tokens"], {"greylist=new": "3", "greylist=update": "1", "greylist=abuse": "1"},
               "tokens")
        lib.ok(float(s["latency_max_ms"]) >= float(s["latency_p50_ms"]) > 0, "latency %r" % s)
        # counts are since start: a second dump adds to them
        lib.eq(d.request({"recipient": "new9@example.org"}), lib.GREY_DEFER, "one more")
        s = dump(d, 3)
        lib.eq((s["requests"], s["grey_defer"]), ("7", "5"), "third dump")
        lib.eq(s["connections"], "1", "the shared connection is still open, the second closed")


def test_database_failures_are_counted_as_bypasses():
    with lib.Daemon({"FAILSAFE": 1}) as d:
        lib.sql("DROP TABLE triplet")
        lib.eq(d.request(), "action=dunno", "FAILSAFE=1 bypass")
        lib.eq(d.request(), "action=dunno", "FAILSAFE=1 bypass")
        s = dump(d)
        lib.eq(s["db_errors"], "2", "db_errors")
        lib.eq(s["accept"], "2", "accept")
        lib.eq(s["tokens"], {"greylist=bypass": "2"}, "tokens")


def test_refused_connections_are_counted():
    with lib.Daemon({"CONN_ACL": "192.0.2.1"}) as d:
        _, probes = connections(d)
        with d.connect() as c:
            lib.eq(c.request(), lib.CLOSED, "refused by CONN_ACL")
        s = dump(d, 2)
        lib.eq(int(s["refused_acl"]), probes + 1, "refused_acl")
        lib.eq((s["connections_total"], s["requests"]), ("0", "0"), "nothing accepted")
    with lib.Daemon({"MAX_CONNECTIONS": 1}) as d:
        dumps = 1
        while dump(d, dumps)["connections"] != "0":  # the start-up probe is still being closed
            dumps += 1
            lib.ok(dumps < 50, "the start-up probe connection never closed")
            time.sleep(0.05)
        with d.connect() as first, d.connect() as second:
            lib.eq(first.request(), lib.GREY_DEFER, "first connection served")
            lib.eq(second.request(), lib.CLOSED, "second over MAX_CONNECTIONS")
            s = dump(d, dumps + 1)
        lib.eq(s["refused_limit"], "1", "refused_limit")
        lib.eq(s["connections"], "1", "current connections")


def test_stats_interval_logs_periodically():
    with lib.Daemon({"STATS_INTERVAL": "1s"}) as d:
        d.request()
        s = wait_stats(d, 2, limit=5.0)
        lib.eq(s["requests"], "1", "requests in a periodic line")
    with lib.Daemon() as d:  # absent: never
        d.request({"recipient": "other@example.org"})
        time.sleep(1.5)
        lib.eq(stats_lines(d), [], "stats lines without STATS_INTERVAL")
        lib.ok(re.search(r"greylist=new", d.output()), "the decision line is logged")
