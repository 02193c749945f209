"""tests/integration/test_throttle_concurrency.py - throttles stay exact under concurrency.

Two daemon processes share one MariaDB; 60 connections to each send attempts for one
throttle key at the same time, every attempt a new message (distinct instance).  The
reference admitted 105 of 800 against a limit of 100 with four daemons and lost counts at
new-key creation (two daemons both inserting a new key); here exactly the limit is admitted, and the row's counters equal what was admitted.  Covered: the sender message
count (fresh key, so the creation race too; then a window reset under the same load), the
recipient throttle, and the sender quota by size.

Every socket has a timeout and every thread is joined with a deadline, so a hung daemon
fails the test instead of hanging it; the whole file runs in a few seconds.
"""

import lib
import load

DAEMONS = 2
CONNECTIONS = 60          # per daemon
ATTEMPTS = 400            # in total, spread over all connections
DEADLINE = 40.0           # seconds for one burst, far above the normal ~2 s
QUOTA = "action=defer_if_permit Policy rejection: Quota Exceeded."

BASE = dict(load.THROTTLES_ONLY, WORKERS=4)


def burst(daemons, attempts, request_for):
    return load.burst(daemons, CONNECTIONS, attempts, request_for, DEADLINE)


tally = load.tally


def daemons(overrides):
    conf = dict(BASE, **overrides)
    return [lib.Daemon(conf) for _ in range(DAEMONS)]


def stop(ds):
    for d in ds:
        d.stop()


def test_sender_message_limit_exact_across_two_daemons():
    ds = daemons({"SENDERTHROTTLE": 1, "SENDERMSGLIMIT": 100})
    try:
        # a fresh key: the first requests race to create the row
        replies = burst(ds, ATTEMPTS, lambda i: {"instance": "a.%d" % i, "size": 10})
        lib.eq(tally(replies, QUOTA), 100, "accepted in the first window")
        lib.eq(lib.sql("SELECT _count_cur,_count_tot,_rcpt_cur,_rcpt_tot,_quota_cur,_abuse_cur "
                       "FROM throttle WHERE _from='alice@example.com'"),
               [["100", "100", "100", "100", "1000", "1"]], "counters after the first window")
        lib.eq(lib.sql("SELECT COUNT(*) FROM throttle"), [["1"]], "one row, no duplicates")
        # only admitted messages keep their instance (refused ones are released)
        lib.eq(lib.sql("SELECT COUNT(*) FROM throttle_from_instance"), [["100"]], "instances")

        # the window ends: the reset is part of the same atomic step
        lib.sql("UPDATE throttle SET _date=_date-7200")
        replies = burst(ds, ATTEMPTS, lambda i: {"instance": "b.%d" % i, "size": 10})
        lib.eq(tally(replies, QUOTA), 100, "accepted in the second window")
        lib.eq(lib.sql("SELECT _count_cur,_count_tot,_rcpt_cur,_rcpt_tot,_quota_cur,_abuse_tot "
                       "FROM throttle WHERE _from='alice@example.com'"),
               [["100", "200", "100", "200", "1000", "1"]], "counters after the reset")
    finally:
        stop(ds)
    new_lines = sum(d.output().count("throttle=new(a)") for d in ds)
    lib.eq(new_lines, 1, "throttle=new(a) lines (one row created)")


def test_recipient_limit_exact_across_two_daemons():
    ds = daemons({"RECIPIENTTHROTTLE": 1, "RECIPIENTMSGLIMIT": 100})
    try:
        replies = burst(ds, ATTEMPTS, lambda i: {"instance": "r.%d" % i})
        lib.eq(tally(replies, QUOTA), 100, "accepted deliveries")
        lib.eq(lib.sql("SELECT _count_cur,_count_tot,_abuse_cur FROM throttle_rcpt "
                       "WHERE _rcpt='bob@example.org'"), [["100", "100", "1"]], "recipient row")
        lib.eq(lib.sql("SELECT COUNT(*) FROM throttle_rcpt"), [["1"]], "one row")
    finally:
        stop(ds)


def test_sender_quota_by_size_exact_across_two_daemons():
    # 1000 bytes each against 100000: admitted while the sum is below the quota
    ds = daemons({"SENDERTHROTTLE": 1, "SENDERQUOTALIMIT": 100000})
    try:
        replies = burst(ds, ATTEMPTS, lambda i: {"instance": "q.%d" % i, "size": 1000})
        accepted = tally(replies, QUOTA)
        lib.eq(accepted, 100, "accepted messages")
        lib.eq(lib.sql("SELECT _quota_cur,_count_cur,_rcpt_cur FROM throttle "
                       "WHERE _from='alice@example.com'"),
               [[str(accepted * 1000), str(accepted), str(accepted)]], "quota row")
    finally:
        stop(ds)
