"""tests/integration/test_commit_group.py - requests decided together under one COMMIT.

With one worker (WORKERS=1) kept busy by a request waiting behind a locked triplet row, the
requests that arrive meanwhile wait in its queue; when the lock goes, the worker takes them as
one commit group (COMMIT_GROUP, src/server/commit_group.h). A group decides as the requests
would have one by one (a later request sees an earlier one's write), logs each decision once,
after its COMMIT, and counts itself in the metrics. A group in which a statement fails is rolled
back and each request decided again on its own: once in the log, once in the tables. A
connection lost inside a group ends it: nothing of the group is then sent on a new connection,
where it would commit on its own and be counted again when the request is decided again.
"""

import contextlib
import re
import subprocess
import time
import urllib.request

import lib

BLOCKER = {"recipient": "blocker@example.org"}


def row(rcpt):
    """The WHERE clause of the default request's triplet for `rcpt`: that one row."""
    return "_host='192.0.2' AND _from='alice@example.com' AND _rcpt='%s'" % rcpt


def grouping_daemon(overrides=None):
    port = lib.free_port()
    # MYSQL_TIMEOUT=3s: each statement waits at most 2 s for a row lock
    settings = {"WORKERS": 1, "COMMIT_GROUP": 8, "MYSQL_TIMEOUT": "3s", "REQUEST_TIMEOUT": "20s",
                "METRICS_BIND": "127.0.0.1:%d" % port}
    settings.update(overrides or {})
    d = lib.Daemon(settings)
    d.metrics_port = port
    return d


def metric(d, name, **labels):
    """One sample's value from GET /metrics (tests/integration/test_metrics.py checks the
    format with the Prometheus parser)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % d.metrics_port, timeout=5) as r:
        body = r.read().decode()
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    selector = re.escape(name + ("{%s}" % want if want else ""))
    found = re.search(r"^%s (\S+)$" % selector, body, re.M)
    lib.ok(found, "no sample %s{%s} in:\n%s" % (name, want, body))
    return float(found.group(1))


def wait_queued(d, n, limit=10.0):
    deadline = time.monotonic() + limit
    while metric(d, "policyd_worker_queue_depth") != n:
        lib.ok(time.monotonic() < deadline, "%d requests not queued within %gs" % (n, limit))
        time.sleep(0.02)


@contextlib.contextmanager
def grouped(d, requests, locked=(), before_release=contextlib.nullcontext):
    """Sends `requests`, each on its own connection, while the one worker waits behind the
    blocker's locked row, so that it takes them from its queue together once that lock goes;
    the rows of `locked` (recipients of the default request's triplets) stay locked for the
    block, and so does the context `before_release()`, entered just before the blocker's row
    is released. Yields the connections, whose replies the block reads."""
    lib.eq(d.request(BLOCKER), lib.GREY_DEFER, "the blocker's triplet")
    with contextlib.ExitStack() as held:
        for rcpt in locked:
            held.enter_context(lib.row_locked("triplet", row(rcpt)))
        blocker_row = held.enter_context(contextlib.ExitStack())
        blocker_row.enter_context(lib.row_locked("triplet", row(BLOCKER["recipient"])))
        blocker = d.connect(timeout=30)
        blocker.send(lib.request_bytes(BLOCKER))
        lib.lock_waiters()  # the worker is inside the blocker's statement
        clients = []
        for attrs in requests:
            clients.append(d.connect(timeout=30))
            clients[-1].send(lib.request_bytes(attrs))
        wait_queued(d, len(requests))
        held.enter_context(before_release())
        blocker_row.close()
        lib.ok(blocker.reply() in (lib.GREY_DEFER, "action=dunno"), "the blocker, decided alone")
        yield clients


def decisions(out, rcpt):
    """The decision lines for recipient `rcpt`: [(rcpt=N, token)]."""
    return [(int(m.group(1)), m.group(2))
            for m in re.finditer(r"^rcpt=(\d+), ([^,]+), .*, to=%s, " % re.escape(rcpt), out, re.M)]


def test_queued_requests_are_decided_as_one_by_one_under_one_commit():
    first, other = "first@example.org", "other@example.org"
    requests = [{"recipient": first}, {"recipient": first}, {"recipient": other}]
    with grouping_daemon({"TRIPLET_TIME": 0}) as d:
        with grouped(d, requests) as clients:
            replies = [c.reply() for c in clients]
        # the second request sees the first one's triplet as if it had been committed
        lib.eq(replies, [lib.GREY_DEFER, "action=dunno", lib.GREY_DEFER], "replies in order")
        lib.eq(metric(d, "policyd_commit_groups_total", result="committed"), 1, "groups committed")
        lib.eq(metric(d, "policyd_commit_group_requests_total", result="committed"), 3,
               "requests in them")
        lib.eq(metric(d, "policyd_commit_groups_total", result="decided_again"), 0, "redone")
        out = d.output()
    lib.eq([t for _, t in decisions(out, first)], ["greylist=new", "greylist=update"],
           "the first triplet's decisions, once each")
    lib.eq([t for _, t in decisions(out, other)], ["greylist=new"], "the other's")
    numbers = [n for rcpt in (first, other, BLOCKER["recipient"]) for n, _ in decisions(out, rcpt)]
    lib.eq(sorted(numbers), list(range(1, 6)), "every rcpt=N once")
    lib.eq(lib.sql("SELECT _rcpt,_count FROM triplet WHERE _rcpt IN ('%s','%s') ORDER BY _rcpt"
                   % (first, other)), [[first, "1"], [other, "0"]], "the triplets committed")


def test_a_failed_group_is_rolled_back_and_each_request_decided_again_once():
    before, locked, after = "before@example.org", "locked@example.org", "after@example.org"
    lib.sql("INSERT INTO triplet (_host,_from,_rcpt,_datenew,_datelast,_count) "
            "VALUES ('192.0.2','alice@example.com','%s',1,1,0)" % locked)
    requests = [{"recipient": before}, {"recipient": locked}, {"recipient": after}]
    with grouping_daemon({"FAILSAFE": 1}) as d:
        # the locked triplet's statement waits 2 s and fails, in the group and again alone
        with grouped(d, requests, locked=[locked]) as clients:
            replies = [c.reply() for c in clients]
        lib.eq(replies, [lib.GREY_DEFER, "action=dunno", lib.GREY_DEFER],
               "replies (FAILSAFE=1 for the locked triplet)")
        lib.eq(metric(d, "policyd_commit_groups_total", result="decided_again"), 1, "groups redone")
        lib.eq(metric(d, "policyd_commit_group_requests_total", result="decided_again"), 3,
               "requests in them")
        lib.eq(metric(d, "policyd_commit_groups_total", result="committed"), 0, "committed")
        out = d.output()
    # "greylist=new" for `before` in the group was rolled back with it: decided again, it is
    # new again (had it been committed, deciding it again would say "greylist=abuse", too early)
    lib.eq([t for _, t in decisions(out, before)], ["greylist=new"], "before: one decision line")
    lib.eq([t for _, t in decisions(out, locked)], ["greylist=bypass"], "locked: one line")
    lib.eq([t for _, t in decisions(out, after)], ["greylist=new"], "after: one line")
    numbers = [n for rcpt in (before, locked, after, BLOCKER["recipient"])
               for n, _ in decisions(out, rcpt)]
    lib.eq(sorted(numbers), list(range(1, 6)), "every rcpt=N once, kept when decided again")
    lib.eq(lib.sql("SELECT _rcpt,_count FROM triplet WHERE _rcpt IN ('%s','%s') ORDER BY _rcpt"
                   % (before, after)), [[after, "0"], [before, "0"]], "one triplet each")


def waiting_for_table(what, limit=10.0):
    """The ids of the connections waiting for a table's metadata lock whose statement starts
    with `what`."""
    deadline = time.monotonic() + limit
    while True:
        ids = [r[0] for r in lib.sql("SELECT ID FROM information_schema.PROCESSLIST WHERE "
                                     "STATE = 'Waiting for table metadata lock' AND "
                                     "INFO LIKE '%s%%'" % what)]
        if ids:
            return ids
        lib.ok(time.monotonic() < deadline, "nobody waiting for a table to %s" % what)
        time.sleep(0.02)


@contextlib.contextmanager
def triplet_table_locked():
    """Another client's LOCK TABLES triplet WRITE, asked for now (granted once the statements
    using the table have ended, before any statement that comes later), held for the block."""
    db = lib._database
    proc = subprocess.Popen(db.base + ["--unbuffered", db.db], env=db.env, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        proc.stdin.write(b"LOCK TABLES triplet WRITE; SELECT SLEEP(60);\n")
        proc.stdin.flush()
        waiting_for_table("LOCK TABLES")  # behind the blocker's statement
        yield
    finally:
        proc.kill()  # its session ends: the lock is gone
        proc.wait(timeout=30)


def test_nothing_of_a_group_runs_on_the_connection_opened_after_one_was_lost():
    # FAILSAFE=2: a failed check lets the next one run, here the recipient throttle's write.
    # The group does not wait for row locks, but a table's metadata lock it does wait for:
    # its first statement, the triplet's, waits behind LOCK TABLES until its connection is
    # killed; after that, nothing of the group may be sent.
    # (TRIPLET_TIME=0: the blocker passes with its one triplet statement, before the table lock)
    locked, other = "locked@example.org", "other@example.org"
    with grouping_daemon({"FAILSAFE": 2, "RECIPIENTTHROTTLE": 1, "TRIPLET_TIME": 0}) as d:
        with grouped(d, [{"recipient": locked}, {"recipient": other}],
                     before_release=triplet_table_locked) as clients:
            (waiting,) = waiting_for_table("INSERT INTO triplet")
            lib.sql("KILL %s" % waiting)
        # the table is free again: decided again, each is a new triplet
        replies = [c.reply() for c in clients]
        lib.eq(replies, [lib.GREY_DEFER, lib.GREY_DEFER], "replies")
        lib.eq(metric(d, "policyd_commit_groups_total", result="decided_again"), 1, "redone")
    # a write sent after the KILL, on a new connection, would have committed on its own
    lib.eq(lib.sql("SELECT _count_cur FROM throttle_rcpt WHERE _rcpt='%s'" % locked), [],
           "the recipient throttle of the request whose connection was killed")
