"""tests/integration/test_row_lock.py - a request stuck behind a row lock.

Another client holds the triplet's row (SELECT ... FOR UPDATE) longer than MYSQL_TIMEOUT. The
daemon's session waits at most MYSQL_TIMEOUT - 1 seconds for the lock (innodb_lock_wait_timeout),
so the server gives the statement up itself: the request is answered by FAILSAFE in about 4 s
(MYSQL_TIMEOUT=5), other requests are answered meanwhile, and once the lock is released the
triplet has not been counted behind the daemon's back (a statement the client abandoned would
still run then).
"""

import subprocess
import time

import lib

LOCKED = {"client_address": "198.51.100.99", "sender": "stalled@example.com",
          "recipient": "locked@example.org"}


def hold_lock(seconds):
    """A mariadb client session holding the triplet row for `seconds`."""
    db = lib._database
    # By the whole unique key: locks that row only, not the table scanned
    statement = ("START TRANSACTION; SELECT _count FROM triplet WHERE _host='198.51.100' AND "
                 "_from='stalled@example.com' AND _rcpt='locked@example.org' FOR UPDATE; "
                 "SELECT SLEEP(%d); COMMIT;" % seconds)
    return subprocess.Popen(db.base + [db.db, "-e", statement], env=db.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_request_behind_a_row_lock_is_answered_by_failsafe_and_not_counted_later():
    with lib.Daemon({"TRIPLET_TIME": "0", "MYSQL_TIMEOUT": "5s"}) as d:
        lib.eq(d.request(LOCKED), lib.GREY_DEFER, "first request creates the triplet")
        lib.eq(lib.sql("SELECT _count FROM triplet WHERE _rcpt='locked@example.org'"), [["0"]],
               "count before")
        locker = hold_lock(9)
        try:
            time.sleep(0.5)
            stalled = d.connect(timeout=20)
            began = time.monotonic()
            stalled.send(lib.request_bytes(LOCKED))
            # others are answered while that one waits
            lib.eq(d.request({"recipient": "free@example.org"}), lib.GREY_DEFER, "other request")
            reply = stalled.reply()
            waited = time.monotonic() - began
            lib.eq(reply, "action=dunno", "stalled request (FAILSAFE=1)")
            lib.ok(3.0 <= waited <= 6.0, "answered after %.1f s, expected about 4 s" % waited)
            lib.ok("greylist=bypass" in d.output(), "bypass logged:\n" + d.output())
        finally:
            locker.wait(timeout=20)
        time.sleep(0.5)
        lib.eq(lib.sql("SELECT _count FROM triplet WHERE _rcpt='locked@example.org'"), [["0"]],
               "count after the lock is released")
        lib.eq(d.request(LOCKED), "action=dunno", "the triplet passes normally afterwards")
