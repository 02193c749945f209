"""tests/cluster/test_failover.py - MYSQLHOST lists: killing the node a daemon uses under load.

A daemon with MYSQLHOST="node1,node2,node3" works on node 1; under paced load (sender throttle
counting every request, FAILSAFE=0 so that a FAILSAFE answer is visible as a deferral) node 1
is killed with SIGKILL.  The workers move to node 2 at once: at most one FAILSAFE answer per
worker (the write in flight on the dead node), all within 2 s; every admitted mail is counted on the surviving nodes and none twice; the
statistics name the node in use before and after.  Before issue 14 MYSQLHOST named one server:
the daemon answered by FAILSAFE until node 1 came back (and a list did not connect at all).
Node 1 rejoins at the end, for the tests that follow.
"""

import time

import cluster
import lib
import load

CONF = {
    "GREYLISTING": 0,
    "SENDERTHROTTLE": 1,
    "SENDER_THROTTLE_HOST": 0,
    "SENDER_THROTTLE_ENVELOPE": 1,
    "SENDERMSGLIMIT": 1000000,
    "SENDERRCPTLIMIT": 1000000,
    "SENDERQUOTALIMIT": 2000000000,
    "FAILSAFE": 0,
    "WORKERS": 4,
}


def test_killing_the_node_in_use_moves_the_daemon_to_the_next():
    d = cluster.daemon(1, dict(CONF, MYSQLHOST='"%s"' % cluster.host_list((1, 2, 3))))
    lib.eq(d.request({"instance": "warm"}), cluster.DUNNO, "first request, through node 1")
    # the workers connect in the background at start: wait (5 s at most) for all four
    on_node1 = "127.0.0.1:%d(4)" % cluster.port(1)
    limit = time.monotonic() + 5
    before = cluster.stats_of(d)  # checked after the load, whose checks come first
    while before.get("db_nodes") != on_node1 and time.monotonic() < limit:
        time.sleep(0.2)
        before = cluster.stats_of(d)
    try:
        with load.Clients(d.port, clients=8, pause=0.01,
                          attrs=lambda c: {"instance": "f.%d" % c}) as clients:
            time.sleep(2.0)
            killed_at = time.monotonic()
            cluster.kill(1)
            time.sleep(4.0)
        results = clients.results
        admitted = [r for r in results if r.reply == cluster.DUNNO]
        failsafe = [r for r in results if r.reply == lib.GREY_DEFER]
        others = {r.reply for r in results} - {cluster.DUNNO, lib.GREY_DEFER}
        lib.eq(others, set(), "replies other than accept or FAILSAFE")
        lib.ok(len([r for r in admitted if r.sent > killed_at + 2.5]) > 50,
               "requests were admitted after the kill")
        slowest = max(r.latency for r in results if r.sent >= killed_at - 0.5)
        print("  %d requests, %d admitted; slowest answer around the kill %.3f s"
              % (len(results), len(admitted), slowest))
        if failsafe:
            burst = max(r.sent + r.latency for r in failsafe) - min(r.sent for r in failsafe)
            print("  %d FAILSAFE answers within %.3f s of %d requests" % (
                len(failsafe), burst, len(results)))
            lib.ok(burst <= 2.0, "FAILSAFE answers spread over %.2f s (target 2 s)" % burst)
        # Only a write in flight on the killed node may go unanswered by the database (its
        # reply lost, it is not resent): one request per worker, or the requests of a commit
        # group whose COMMIT was in flight (COMMIT_GROUP, 8 by default).
        lib.ok(len(failsafe) <= CONF["WORKERS"] * 8,
               "%d FAILSAFE answers, more than one commit group per worker" % len(failsafe))
        counted = int(cluster.sql_on(2, "SELECT _rcpt_tot FROM throttle "
                                        "WHERE _from='alice@example.com'")[0][0])
        # the warm-up request, every admitted one; those answered by FAILSAFE at most once
        lib.ok(1 + len(admitted) <= counted <= 1 + len(admitted) + len(failsafe),
               "counted %d, admitted %d (+1 warm-up), FAILSAFE %d" % (
                   counted, len(admitted), len(failsafe)))
        after = cluster.stats_of(d)
        lib.eq(before.get("db_nodes"), on_node1,
               "every worker on node 1 before the kill")
        lib.eq(after["db_nodes"], "127.0.0.1:%d(4)" % cluster.port(2), "every worker on node 2")
        lib.ok(int(after["db_failovers"]) >= 4, "failovers counted: %s" % after["db_failovers"])
        lib.ok("moving to the next server" in d.output(), "the failover is logged")
    finally:
        cluster.join(1)
