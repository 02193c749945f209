"""tests/integration/test_database_faults.py - the daemon when the database misbehaves.

A stalled server (SIGSTOP) must not hold a request past REQUEST_TIMEOUT: it is answered by
FAILSAFE and the daemon recovers once the server runs again. A connection killed on the server
side is reopened transparently. A missing table gives the FAILSAFE answer and one detail line,
not a crash. A server stopped or killed under load: every request is answered by FAILSAFE at
once, one log line tells of the outage and one of its end, the daemon is back within about a
second of the server and no accepted retry loses its count. A row lock held by another client
(lock wait timeout, or past REQUEST_TIMEOUT) and a read-only server give FAILSAFE answers for the
requests concerned only.
"""

import contextlib
import os
import signal
import subprocess
import threading
import time

import lib
import load


def test_stalled_database_answered_by_failsafe_within_request_timeout():
    with lib.Daemon({"REQUEST_TIMEOUT": "2s", "MYSQL_TIMEOUT": "30s", "FAILSAFE": 1}) as d:
        lib.eq(d.request(), lib.GREY_DEFER, "normal answer first")
        with load.stalled_database():
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
        with load.stalled_database():
            reply = d.request({"recipient": "stalled0@example.org"}, timeout=10)
        lib.eq(reply, lib.GREY_DEFER, "FAILSAFE=0 answer: the greylist deferral")
        lib.ok("=failed" in d.output(), "a <check>=failed decision line is logged")


def test_stall_is_logged_once_not_per_request():
    with lib.Daemon({"REQUEST_TIMEOUT": "1s", "MYSQL_TIMEOUT": "30s", "FAILSAFE": 1}) as d:
        lib.eq(d.request(), lib.GREY_DEFER, "normal answer first")
        conns = [d.connect(timeout=10) for _ in range(10)]
        with load.stalled_database():
            for i, c in enumerate(conns):
                c.send(lib.request_bytes({"recipient": "stall%d@example.org" % i}))
            replies = [c.reply() for c in conns]
        lib.eq(replies, ["action=dunno"] * 10, "every request answered by FAILSAFE=1")
        lines = [l for l in d.output().splitlines() if "answering by FAILSAFE" in l]
        lib.eq(len(lines), 1, "one line for the stall, not one per request: %r" % lines[:3])


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


def test_missing_lookup_table_fails_only_its_own_check():
    # The lists, the HELO blacklist and spamtrap are asked in one statement; with the spamtrap
    # table gone that statement fails, and each check then asks alone: the lists still decide,
    # the FAILSAFE line names spamtrap, never the whitelist that happened to ask first.
    lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) VALUES ('192.0.2.31','t',0)")
    lib.sql("INSERT INTO blacklist (_blacklist,_description,_expire) VALUES ('192.0.2.32','t',0)")
    lib.sql("DROP TABLE spamtrap")
    conf = {"BLACKLISTING": 1, "BLACKLIST_HELO": 1, "SPAMTRAPPING": 1}
    black = "action=defer_if_permit Policyd Rejection: Abuse. Go away."
    # FAILSAFE=1 accepts at the failing check, 0 answers with the greylist deferral.
    for failsafe, other_reply in ((1, "action=dunno"), (0, lib.GREY_DEFER)):
        with lib.Daemon(dict(conf, FAILSAFE=failsafe)) as d:
            lib.eq(d.request({"client_address": "192.0.2.31"}), "action=dunno",
                   "FAILSAFE=%d: whitelisted client" % failsafe)
            lib.eq(d.request({"client_address": "192.0.2.32"}), black,
                   "FAILSAFE=%d: blacklisted client" % failsafe)
            lib.eq(d.request({"client_address": "192.0.2.33"}), other_reply,
                   "FAILSAFE=%d: any other client" % failsafe)
            out = d.output()
            lib.ok("whitelist=update" in out and "blacklist=block" in out, out[-1500:])
            token = "spamtrap=bypass" if failsafe == 1 else "spamtrap=failed"
            lib.ok(token in out, "%s logged:\n%s" % (token, out[-1500:]))
            lib.ok("whitelist=bypass" not in out and "whitelist=failed" not in out,
                   "the whitelist is not blamed:\n" + out[-1500:])
            lib.ok("error: spamtrap:" in out, "the detail names spamtrap:\n" + out[-1500:])


def blamed_alone(conf, cases):
    """For each (table gone, check blamed, its bypass lines, checks spared): with that table
    renamed away, a whitelisted client (192.0.2.31) and another (192.0.2.33) get action=dunno
    (FAILSAFE=1 accepts at the failing check), and only the check whose table is gone logs a
    bypass and the error detail; a whitelisted client gets to the whitelist when the check that
    fails comes after it."""
    lib.sql("INSERT IGNORE INTO whitelist (_whitelist,_description,_expire) "
            "VALUES ('192.0.2.31','t',0)")
    for gone, blamed, bypasses, spared in cases:
        lib.sql("RENAME TABLE %s TO %s_gone" % (gone, gone))
        try:
            with lib.Daemon(dict(conf, FAILSAFE=1)) as d:
                for ip in ("192.0.2.31", "192.0.2.33"):
                    lib.eq(d.request({"client_address": ip}), "action=dunno",
                           "%s gone: client %s" % (gone, ip))
                out = d.output()
        finally:
            lib.sql("RENAME TABLE %s_gone TO %s" % (gone, gone))
        lib.eq(out.count("%s=bypass" % blamed), bypasses,
               "%s gone: %s=bypass lines:\n%s" % (gone, blamed, out[-1500:]))
        for other in spared:
            lib.ok("%s=bypass" % other not in out and "error: %s:" % other not in out,
                   "%s gone: %s not blamed:\n%s" % (gone, other, out[-1500:]))
        lib.ok("error: %s:" % blamed in out,
               "%s gone: the detail names %s:\n%s" % (gone, blamed, out[-1500:]))
        if gone not in ("whitelist", "rcpt_acl"):  # FAILSAFE=1 accepts at the failing check
            lib.ok("whitelist=update" in out,
                   "%s gone: the whitelisted client passed by the whitelist:\n%s" % (gone, out[-1500:]))


def test_missing_table_under_the_carried_select_fails_only_its_own_check():
    # With GREYLISTING=0 the sender throttle's SELECT carries the whitelist lookup (check.h,
    # CarriedSelect). With either table gone that statement fails; the lookup is then asked
    # without it and the throttle sends its own SELECT, so the FAILSAFE line names the check
    # whose table is gone and a whitelisted client still passes by the whitelist.
    blamed_alone({"GREYLISTING": 0, "SENDERTHROTTLE": 1},
                 [("throttle", "throttle", 1, ["whitelist"]),
                  ("whitelist", "whitelist", 2, ["throttle"])])


def test_missing_table_under_the_first_read_of_several_checks_fails_only_its_own_check():
    # rcpt_acl's and the HELO check's reads go out in one statement with the whitelist lookup:
    # with one of their tables gone each check reads alone, and only that one is blamed. With
    # helo gone, rcpt_acl and the whitelist decide both clients on their own reads and the HELO
    # check fails for the one not whitelisted.
    blamed_alone({"GREYLISTING": 0, "RCPT_ACL": 1, "HELO_CHECK": 1},
                 [("rcpt_acl", "rcpt_acl", 2, ["whitelist", "helo"]),
                  ("helo", "helo", 1, ["whitelist", "rcpt_acl"]),
                  ("whitelist", "whitelist", 2, ["rcpt_acl", "helo"])])
    # the greylist's auto-list counts in the same first read: with triplet gone the greylist,
    # reading alone, is blamed (FAILSAFE=1 accepts the client greylisting would defer)
    blamed_alone({"RCPT_ACL": 1, "AUTO_WHITE_LISTING": 1, "AUTO_WHITELIST_NUMBER": 2},
                 [("triplet", "greylist", 1, ["whitelist", "rcpt_acl"])])


# ---- outages under load ------------------------------------------------------------------------

def mariadb_ctl(command, check=True, wait=True):
    """scripts/mariadb.sh start|stop|status on the test instance: its exit status, or the
    running process when not waiting."""
    env = dict(os.environ, WORKDIR=load.mariadb_workdir(),
               MARIADB_PORT=str(lib._settings.mysql_port))
    proc = subprocess.Popen([os.path.join(lib.REPO, "scripts", "mariadb.sh"), command], env=env,
                            stdout=subprocess.DEVNULL)
    if not wait:
        return proc
    status = proc.wait(timeout=120)
    if check and status != 0:
        raise lib.Failure("scripts/mariadb.sh %s: exit status %d" % (command, status))
    return status


def start_mariadb_and_time_it():
    """Starts the server again; returns the monotonic time its port first accepted."""
    proc = mariadb_ctl("start", wait=False)
    while not lib.conformance.port_accepts(lib._settings.mysql_port):
        lib.ok(proc.poll() in (None, 0), "scripts/mariadb.sh start failed")
        time.sleep(0.005)
    t_up = time.monotonic()
    lib.eq(proc.wait(timeout=120), 0, "scripts/mariadb.sh start")
    return t_up


def kill_mariadb():
    pid = load.mariadb_pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
        time.sleep(0.05)


OUTAGE_CONF = {"FAILSAFE": 0, "TRIPLET_TIME": "0s", "REQUEST_TIMEOUT": "2s", "MYSQL_TIMEOUT": "2s"}
ACCEPTED = "action=dunno"


def outage_under_load(take_down, down_seconds=3.0):
    """Four clients retry their own triplet (TRIPLET_TIME=0: every retry is accepted and
    counted) while the database is taken down, kept down and started again.
    The recovery time runs from the moment the server's port accepts connections again to the
    first normal answer."""
    with lib.Daemon(OUTAGE_CONF) as d:
        try:
            with load.Clients(d.port, clients=4) as clients:
                time.sleep(1.0)
                take_down()
                t_down = time.monotonic()
                time.sleep(down_seconds)
                t_restart = time.monotonic()
                t_up = start_mariadb_and_time_it()
                deadline = t_up + 10
                while time.monotonic() < deadline and not any(
                        r.reply == ACCEPTED and r.sent + r.latency > t_up
                        for r in clients.snapshot()):
                    time.sleep(0.02)
                time.sleep(1.0)
        finally:
            if mariadb_ctl("status", check=False) != 0:
                mariadb_ctl("start")  # never leave the next tests without a database
        results = clients.results
        lib.eq(d.proc.poll(), None, "daemon still running after the outage")
        out = d.output()

    down = [r for r in results if t_down <= r.sent and r.sent + r.latency <= t_restart]
    worst_down = max([r.latency for r in down] or [0.0])
    recovered = [r.sent + r.latency - t_up for r in results
                 if r.reply == ACCEPTED and r.sent + r.latency > t_up]
    recovery = max(0.0, min(recovered or [99.0]))
    print("     outage: normal answers %.3fs after the database was back; %d requests answered "
          "while down, worst latency %.3fs" % (recovery, len(down), worst_down))
    bad = [r for r in results if r.reply not in (ACCEPTED, lib.GREY_DEFER)]
    lib.eq(bad[:3], [], "every request answered by a policy reply")
    lib.ok(len(down) >= 20, "requests answered while the database was down: %d" % len(down))
    lib.eq(sorted({r.reply for r in down}), [lib.GREY_DEFER], "FAILSAFE=0 answers while down")
    lib.ok(worst_down <= 2.5, "worst latency while down %.2fs (REQUEST_TIMEOUT=2s)" % worst_down)
    lib.ok(recovered, "a normal answer after the database came back")
    lib.ok(recovery <= 1.2, "normal answers %.2fs after the database was back" % recovery)

    # no count of an accepted retry was lost (nor any refused one counted)
    for c in range(4):
        accepted = sum(1 for r in results if r.client == c and r.reply == ACCEPTED)
        count = lib.sql("SELECT _count FROM triplet WHERE _rcpt='load%d@example.org'" % c)
        lib.eq(count, [[str(accepted)]], "_count of client %d's triplet" % c)

    outage_lines = [l for l in out.splitlines()
                    if l.startswith("mysql:") and "again" not in l]
    lib.eq(len(outage_lines), 1, "outage lines %r" % outage_lines[:5])
    back_lines = [l for l in out.splitlines() if l.startswith("mysql:") and "again" in l]
    lib.eq(len(back_lines), 1, "recovery lines %r" % back_lines[:5])
    # (start-up warnings about the file, e.g. the reference's CONN_ACL, are not among them)
    errors = [l for l in out.splitlines()
              if l.startswith(("error:", "warning:")) and "policyd.conf:" not in l]
    lib.eq(errors[:5], [], "no per-request or per-worker error lines")


def test_database_stopped_under_load_answers_failsafe_and_recovers():
    outage_under_load(lambda: mariadb_ctl("stop"))


def test_database_killed_under_load_answers_failsafe_and_recovers():
    outage_under_load(kill_mariadb)


# ---- statements that fail on their own ---------------------------------------------------------

@contextlib.contextmanager
def global_variable(name, value):
    """SET GLOBAL name=value for the block (new connections see it), then the old value."""
    (old,), = lib.sql("SELECT @@GLOBAL.%s" % name)
    lib.sql("SET GLOBAL %s=%s" % (name, value))
    try:
        yield
    finally:
        lib.sql("SET GLOBAL %s=%s" % (name, old))


def timed_request(d, attrs, timeout=15):
    start = time.monotonic()
    with d.connect(timeout=timeout) as c:
        reply = c.request(attrs)
    return reply, time.monotonic() - start


def answered_in_background(d, attrs):
    """Sends the request now on its own connection; the result is (reply, seconds) later."""
    result = []
    thread = threading.Thread(target=lambda: result.append(timed_request(d, attrs)), daemon=True)
    thread.start()
    return thread, result


# the whole unique key: a record lock on that row only, no gap or table scan locks
LOCKED_ROW = "_host='192.0.2' AND _from='alice@example.com' AND _rcpt='locked@example.org'"


def test_lock_wait_timeout_gives_failsafe_and_spares_other_requests():
    locked = {"recipient": "locked@example.org"}
    # each worker connection waits for row locks MYSQL_TIMEOUT - 1 = 2 s
    with lib.Daemon({"FAILSAFE": 1, "MYSQL_TIMEOUT": "3s"}) as d:
        lib.eq(d.request(locked), lib.GREY_DEFER, "the triplet is created")
        with lib.row_locked("triplet", LOCKED_ROW):
            thread, result = answered_in_background(d, locked)
            time.sleep(0.3)  # the locked request is waiting on a worker now
            others = [timed_request(d, {"recipient": "free%d@example.org" % i}) for i in range(5)]
            thread.join(15)
        lib.eq([r for r, _ in others], [lib.GREY_DEFER] * 5, "other triplets decided meanwhile")
        worst = max(t for _, t in others)
        lib.ok(worst < 1.0, "other requests took up to %.2fs" % worst)
        reply, took = result[0]
        lib.eq(reply, "action=dunno", "FAILSAFE=1 answer for the locked triplet")
        lib.ok(1.5 <= took <= 4.0, "answered after %.1fs (lock wait 2 s)" % took)
        lib.eq(d.request(locked), "action=defer_if_permit Policy rejection: Please try later.",
               "normal answer once the lock is gone (retry too early)")
        out = d.output()
    lib.eq(len([l for l in out.splitlines() if "Lock wait timeout" in l]), 1, "one detail line")
    lib.ok("greylist=bypass" in out, "the FAILSAFE decision line")


def test_lock_held_past_request_timeout_gives_failsafe_in_time():
    locked = {"recipient": "locked@example.org"}
    with lib.Daemon({"FAILSAFE": 0, "REQUEST_TIMEOUT": "1s"}) as d:  # lock wait 4 s
        lib.eq(d.request(locked), lib.GREY_DEFER, "the triplet is created")
        with lib.row_locked("triplet", LOCKED_ROW):
            thread, result = answered_in_background(d, locked)
            time.sleep(0.3)
            other = timed_request(d, {"recipient": "free@example.org"})
            thread.join(15)
        lib.eq(other[0], lib.GREY_DEFER, "another triplet is decided meanwhile")
        lib.ok(other[1] < 1.0, "the other request took %.2fs" % other[1])
        reply, took = result[0]
        lib.eq(reply, lib.GREY_DEFER, "FAILSAFE=0 answer for the locked triplet")
        lib.ok(0.8 <= took <= 2.0, "answered after %.1fs (REQUEST_TIMEOUT=1s)" % took)
        lib.ok("greylist=failed" in d.output(), "the FAILSAFE decision line")


def test_read_only_server_refuses_writes_with_failsafe():
    grants = " ".join(row[0] for row in lib.sql("SHOW GRANTS FOR 'postfix'@'127.0.0.1'"))
    lib.ok("SUPER" not in grants and "READ ONLY ADMIN" not in grants,
           "the daemon's user may not write to a read-only server: %s" % grants)
    with lib.Daemon({"FAILSAFE": 1, "WORKERS": 1}) as d:
        lib.eq(d.request({"recipient": "before@example.org"}), lib.GREY_DEFER, "writable first")
        (conn_before,), = lib.sql("SELECT ID FROM information_schema.PROCESSLIST "
                                  "WHERE USER='postfix'")
        with global_variable("read_only", 1):
            replies = [d.request({"recipient": "ro%d@example.org" % i}) for i in range(5)]
        lib.eq(replies, ["action=dunno"] * 5, "FAILSAFE=1 answers while writes are refused")
        lib.eq(d.request({"recipient": "after@example.org"}), lib.GREY_DEFER,
               "decided normally as soon as the server is writable again")
        (conn_after,), = lib.sql("SELECT ID FROM information_schema.PROCESSLIST "
                                 "WHERE USER='postfix'")
        lib.eq(conn_after, conn_before, "the connection was kept: a refused write is no outage")
        out = d.output()
    lib.eq(lib.sql("SELECT _rcpt FROM triplet ORDER BY _rcpt"),
           [["after@example.org"], ["before@example.org"]], "no row written while read-only")
    detail = [l for l in out.splitlines() if l.startswith("error: greylist:")]
    lib.eq(len(detail), 1, "the refused statement is logged once: %r" % detail)
    lib.ok("read-only" in detail[0] or "read_only" in detail[0], "it says why: %r" % detail[0])
    lib.ok(not any(l.startswith("mysql:") for l in out.splitlines()), "no outage is logged")
