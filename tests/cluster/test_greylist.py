"""tests/cluster/test_greylist.py - greylisting, auto-whitelisting and HELO history across nodes.

Daemons on different Galera nodes share the triplets: one created through node 1 passes through
node 2 after TRIPLET_TIME; 40 simultaneous first tries through three nodes leave one row (the
losers of the insert race conflict at certification and are retried into the duplicate-key
path); simultaneous retries are each counted once; an auto-whitelisted host gets one entry; a
host's HELOs are recorded once each.  No request may be answered by FAILSAFE.
"""

import time

import cluster
import lib

CONF = {"GREYLISTING": 1, "TRIPLET_TIME": "2s", "WORKERS": 8}


def test_triplet_created_through_node_1_passes_through_node_2():
    a, b = cluster.daemons(CONF, nodes_used=(1, 2))
    lib.eq(a.request({"recipient": "shared@example.org"}), lib.GREY_DEFER, "first try on node 1")
    lib.eq(b.request({"recipient": "shared@example.org"}), lib.GREY_DEFER,
           "retry on node 2 before TRIPLET_TIME")
    time.sleep(2.5)
    lib.eq(b.request({"recipient": "shared@example.org"}), cluster.DUNNO,
           "retry on node 2 after TRIPLET_TIME")
    lib.eq(cluster.sql_on(3, "SELECT COUNT(*), MAX(_count) FROM triplet"), [["1", "1"]],
           "one triplet, counted once (seen on node 3)")
    cluster.no_failsafe([a, b])


def test_simultaneous_first_tries_and_retries_are_each_counted_once():
    ds = cluster.daemons(CONF)
    replies = cluster.burst(ds, 14, 40, lambda i: {"recipient": "race@example.org"})
    lib.eq(sorted(set(replies)), [lib.GREY_DEFER], "every first try deferred")
    lib.eq(cluster.sql_on(2, "SELECT COUNT(*) FROM triplet"), [["1"]], "one triplet row")
    time.sleep(2.5)
    replies = cluster.burst(ds, 14, 40, lambda i: {"recipient": "race@example.org"})
    lib.eq(sorted(set(replies)), [cluster.DUNNO], "every retry after TRIPLET_TIME passes")
    lib.eq(cluster.sql_on(3, "SELECT _count FROM triplet"), [["40"]], "40 retries, 40 counts")
    cluster.no_failsafe(ds)


def test_auto_whitelisting_across_nodes_writes_one_entry():
    conf = dict(CONF, AUTO_WHITE_LISTING=1, AUTO_WHITELIST_NUMBER=5, AUTO_WHITELIST_NETBLOCK=0)
    ds = cluster.daemons(conf)
    rcpts = ["u%d@example.org" % k for k in range(30)]
    cluster.burst(ds, 10, 30, lambda i: {"recipient": rcpts[i]})
    time.sleep(2.5)
    replies = cluster.burst(ds, 10, 30, lambda i: {"recipient": rcpts[i]})
    # Listing the host forgets its triplets (docs/GREYLISTING.md): a retry whose triplet went
    # with them before its own statement ran starts again as a new triplet and is deferred.
    lib.ok(set(replies) <= {cluster.DUNNO, lib.GREY_DEFER}, "replies: %r" % set(replies))
    lib.ok(replies.count(cluster.DUNNO) > 5, "retries passed: %d" % replies.count(cluster.DUNNO))
    lib.eq(cluster.sql_on(3, "SELECT _whitelist FROM whitelist"), [["192.0.2.10"]],
           "one whitelist entry for the host")
    lib.ok(sum(d.output().count("greylist=awl") for d in ds) >= 1, "a greylist=awl decision")
    cluster.no_failsafe(ds)


def test_helo_history_records_each_helo_once():
    conf = {"GREYLISTING": 0, "HELO_CHECK": 1, "HELO_MAX_COUNT": 1000, "WORKERS": 8}
    ds = cluster.daemons(conf)
    helos = ["mx%d.example.net" % k for k in range(5)]
    replies = cluster.burst(ds, 10, 60, lambda i: {"helo_name": helos[i % 5]})
    lib.eq(sorted(set(replies)), [cluster.DUNNO], "every request passes")
    lib.eq(cluster.sql_on(2, "SELECT _helo FROM helo WHERE _host='192.0.2.10' ORDER BY _helo"),
           [[h] for h in helos], "each HELO recorded once")
    cluster.no_failsafe(ds)
