"""tests/cluster/test_throttle.py - sender and recipient throttles exact on a Galera cluster.

Three daemons, one per node, 30 connections each, every attempt a new message: a hot key with
a limit of 1500 and 3000 attempts admits exactly 1500, as one connection would, and the row's
counters equal what was admitted.  Before the conflict retry (issue 14) conflicting writes to
the hot row failed certification (error 1213) and FAILSAFE=1 admitted them uncounted: 2,807 of
3000 admitted.  Also several keys at once, and the recipient throttle.
"""

import time

import cluster
import lib
import load

BASE = dict(load.THROTTLES_ONLY, RECIPIENTMSGLIMIT=100000, WORKERS=8, STATS_INTERVAL=0)
CONNECTIONS = 30


def run_burst(ds, attempts, request_for):
    """The replies, and a function that reports and returns the conflicts counted meanwhile
    (called after the exactness checks, which come first)."""
    began = time.monotonic()
    replies = cluster.burst(ds, CONNECTIONS, attempts, request_for)
    took = time.monotonic() - began

    def conflicts():
        stats = [cluster.stats_of(d) for d in ds]
        lib.ok(all("db_conflicts" in s for s in stats), "no db_conflicts in the statistics")
        counted = sum(int(s["db_conflicts"]) for s in stats)
        retries = sum(int(s["db_retries"]) for s in stats)
        print("  %d attempts in %.1f s (%.0f/s), %d conflicts (%.0f/s), %d retries"
              % (attempts, took, attempts / took, counted, counted / took, retries))
        return counted
    return replies, conflicts


def test_sender_hot_key_admits_exactly_the_limit_across_three_nodes():
    ds = cluster.daemons(dict(BASE, SENDERTHROTTLE=1, SENDERMSGLIMIT=1500))
    replies, conflicts = run_burst(ds, 3000, lambda i: {"instance": "hot.%d" % i, "size": 10})
    lib.eq(cluster.tally(replies, cluster.QUOTA), 1500, "admitted of 3000 (limit 1500)")
    cluster.no_failsafe(ds)
    for node in (1, 2, 3):
        lib.eq(cluster.sql_on(node, "SELECT _count_cur,_rcpt_cur,_quota_cur FROM throttle "
                                    "WHERE _from='alice@example.com'"),
               [["1500", "1500", "15000"]], "counters as seen on node %d" % node)
    lib.eq(cluster.sql_on(1, "SELECT COUNT(*) FROM throttle_from_instance"), [["1500"]],
           "instances of admitted messages")
    lib.ok(conflicts() > 0, "the nodes contended for the hot row (no conflict counted)")


def test_several_sender_keys_at_once_each_exact():
    ds = cluster.daemons(dict(BASE, SENDERTHROTTLE=1, SENDERMSGLIMIT=200))
    senders = ["s%d@example.com" % k for k in range(5)]
    replies, conflicts = run_burst(ds, 2000, lambda i: {"sender": senders[i % 5], "instance": "k.%d" % i})
    for k, sender in enumerate(senders):
        mine = replies[k::5]
        lib.eq(cluster.tally(mine, cluster.QUOTA), 200, "admitted for %s (limit 200 of 400)" % sender)
    cluster.no_failsafe(ds)
    lib.eq(cluster.sql_on(3, "SELECT _from,_count_cur FROM throttle ORDER BY _from"),
           [[s, "200"] for s in senders], "one row per sender, each at its limit")
    conflicts()


def test_recipient_hot_key_admits_exactly_the_limit_across_three_nodes():
    ds = cluster.daemons(dict(BASE, RECIPIENTTHROTTLE=1, RECIPIENTMSGLIMIT=1500))
    replies, conflicts = run_burst(ds, 3000, lambda i: {"instance": "r.%d" % i})
    lib.eq(cluster.tally(replies, cluster.QUOTA), 1500, "admitted of 3000 (limit 1500)")
    cluster.no_failsafe(ds)
    lib.eq(cluster.sql_on(2, "SELECT _count_cur,_count_tot FROM throttle_rcpt "
                             "WHERE _rcpt='bob@example.org'"), [["1500", "1500"]], "recipient row")
    lib.ok(conflicts() > 0, "the nodes contended for the hot row (no conflict counted)")


def test_sender_hot_key_through_one_node_for_comparison():
    # the same load, the three daemons on node 1: row locks instead of certification conflicts
    ds = cluster.daemons(dict(BASE, SENDERTHROTTLE=1, SENDERMSGLIMIT=1500), nodes_used=(1, 1, 1))
    replies, conflicts = run_burst(ds, 3000, lambda i: {"instance": "one.%d" % i, "size": 10})
    lib.eq(cluster.tally(replies, cluster.QUOTA), 1500, "admitted of 3000 (limit 1500)")
    cluster.no_failsafe(ds)
    conflicts()


def test_distinct_keys_one_node_and_three_nodes():
    # no contention: every attempt its own sender; throughput of one node against three
    for nodes_used in ((1, 1, 1), (1, 2, 3)):
        lib.reset_db()
        ds = cluster.daemons(dict(BASE, SENDERTHROTTLE=1, SENDERMSGLIMIT=10), nodes_used=nodes_used)
        print("  nodes %s:" % (nodes_used,))
        replies, conflicts = run_burst(ds, 3000, lambda i: {"sender": "d%d@example.com" % i})
        lib.eq(cluster.tally(replies, cluster.QUOTA), 3000, "every attempt admitted")
        lib.eq(cluster.sql_on(3, "SELECT COUNT(*), SUM(_count_cur) FROM throttle"),
               [["3000", "3000"]], "one row per sender, counted once")
        cluster.no_failsafe(ds)
        conflicts()
        for d in ds:
            d.stop()
