"""tests/integration/test_database_faults.py - the daemon when the database misbehaves.

A stalled server (SIGSTOP) must not hold a request past REQUEST_TIMEOUT: it is answered by
FAILSAFE and the daemon recovers once the server runs again. A connection killed on the server
side is reopened transparently. A missing table gives the FAILSAFE answer and one detail line,
not a crash.
"""

import contextlib
import os
import signal
import time

import lib


def mariadb_pid():
    workdir = os.path.dirname(lib._settings.mysql_socket)
    with open(os.path.join(workdir, "mariadbd.pid")) as f:
        return int(f.read().strip())


def wait_all_threads_stopped(pid, limit=5.0):
    """SIGSTOP reaches a process's threads asynchronously: wait until none runs."""
    deadline = time.time() + limit
    task_dir = "/proc/%d/task" % pid
    while time.time() < deadline:
        states = []
        for tid in os.listdir(task_dir):
            try:
                with open(os.path.join(task_dir, tid, "stat")) as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:
                continue
        if states and all(state == "T" for state in states):
            return
        time.sleep(0.01)
    raise lib.Failure("mariadbd %d did not stop within %.0fs" % (pid, limit))


@contextlib.contextmanager
def stalled_database():
    """The server process stops answering (SIGSTOP) until the block ends."""
    pid = mariadb_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_all_threads_stopped(pid)
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_stalled_database_answered_by_failsafe_within_request_timeout():
    with lib.Daemon({"REQUEST_TIMEOUT": "2s", "MYSQL_TIMEOUT": "30s", "FAILSAFE": 1}) as d:
        lib.eq(d.request(), lib.GREY_DEFER, "normal answer first")
        with stalled_database():
            start = time.time()
            reply = d.request({"recipient": "stalled@example.org"}, timeout=10)
            elapsed = time.time() - start
        lib.eq(reply, "action=dunno", "FAILSAFE=1 answer while the database is stalled")
        lib.ok(1.5 <= elapsed <= 4.0, "answered after %.1fs (REQUEST_TIMEOUT=2s)" % elapsed)
        lib.ok("=bypass" in d.output(), "a <check>=bypass decision line is logged")
        lib.ok("answering by FAILSAFE" in d.output(), "the timeout is logged")
        # once the server runs again, requests are decided normally
        deadline = time.time() + 15
        reply = None
        while time.time() < deadline:
            reply = d.request({"recipient": "after@example.org"}, timeout=10)
            if reply == lib.GREY_DEFER:
                break
            time.sleep(0.5)
        lib.eq(reply, lib.GREY_DEFER, "normal answer after the stall")


def test_failsafe_zero_defers_while_stalled():
    with lib.Daemon({"REQUEST_TIMEOUT": "1s", "MYSQL_TIMEOUT": "30s", "FAILSAFE": 0}) as d:
        lib.eq(d.request(), lib.GREY_DEFER, "normal answer first")
        with stalled_database():
            reply = d.request({"recipient": "stalled0@example.org"}, timeout=10)
        lib.eq(reply, lib.GREY_DEFER, "FAILSAFE=0 answer: the greylist deferral")
        lib.ok("=failed" in d.output(), "a <check>=failed decision line is logged")


def test_connection_killed_on_the_server_is_reopened():
    with lib.Daemon({"WORKERS": 1}) as d:
        lib.eq(d.request({"recipient": "one@example.org"}), lib.GREY_DEFER, "first request")
        ids = lib.sql("SELECT ID FROM information_schema.PROCESSLIST WHERE USER='postfix'")
        lib.ok(ids, "the daemon holds a database connection")
        for (conn_id,) in ids:
            lib.sql("KILL %s" % conn_id)
        lib.eq(d.request({"recipient": "two@example.org"}), lib.GREY_DEFER,
               "request after KILL is decided normally")
        lib.eq(lib.sql("SELECT COUNT(*) FROM triplet"), [["2"]], "both triplets stored")
        lib.ok("=bypass" not in d.output(), "no FAILSAFE answer was needed")


def test_missing_table_gives_failsafe_and_one_detail_line():
    lib.sql("DROP TABLE triplet")
    with lib.Daemon({"FAILSAFE": 1}) as d:
        for i in range(5):
            lib.eq(d.request({"recipient": "r%d@example.org" % i}), "action=dunno",
                   "FAILSAFE=1 answer %d" % i)
        out = d.output()
        lib.eq(out.count("greylist=bypass"), 5, "one decision line per request")
        detail = [l for l in out.splitlines() if l.startswith("error: greylist:")]
        lib.eq(len(detail), 1, "the failing statement's detail is logged once")
