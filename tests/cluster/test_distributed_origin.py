"""tests/cluster/test_distributed_origin.py - distributed_origin exact across Galera nodes.

90 origins of one SASL user arrive at once through three daemons on three nodes; exactly
LIMIT=5 are admitted, in every round.  Before issue 14 the check serialised a key with
GET_LOCK, which is local to one node: 3 or 4 were admitted in some rounds.
"""

import os
import subprocess

import cluster
import lib

CONF = {
    "GREYLISTING": 0,
    "DISTRIBUTED_ORIGIN": 1,
    "DISTRIBUTED_ORIGIN_LIMIT": 5,
    "DISTRIBUTED_ORIGIN_NETBLOCK": 0,
    "DISTRIBUTED_ORIGIN_KEYS": "sasl",
    "WORKERS": 8,
}
REFUSED = "action=defer_if_permit Policy rejection: Too many origins for this sender."


def test_ninety_origins_through_three_nodes_admit_exactly_limit():
    ds = cluster.daemons(CONF)
    for round_ in range(5):
        user = "user%d" % round_
        replies = cluster.burst(ds, 30, 90, lambda i: {
            "sasl_username": user, "client_address": "10.%d.%d.%d" % (round_, i // 200, i % 200 + 1)})
        lib.eq(cluster.tally(replies, REFUSED), 5, "round %d: admitted origins (LIMIT=5)" % round_)
        lib.eq(cluster.sql_on(2, "SELECT COUNT(*) FROM distributed_origin WHERE _key='sasl=%s' "
                                 "AND _origin <> ''" % user), [["90"]],
               "round %d: every origin recorded once" % round_)
    cluster.no_failsafe(ds)


def test_exact_while_cleanup_expires_the_key_on_another_node():
    ds = cluster.daemons(CONF, nodes_used=(1, 2))
    # old rows of the key: cleanup on node 3 deletes them while the daemons decide
    rows = ",".join("('sasl=carol','172.16.%d.%d',1,1)" % (i // 200, i % 200) for i in range(2000))
    cluster.sql_on(3, "INSERT INTO distributed_origin (_key,_origin,_first,_last) VALUES " + rows)
    on_node3 = cluster.daemon(3, CONF, start=False)  # only its policyd.conf, for cleanup
    cleanup = subprocess.Popen([os.path.join(lib.REPO, "cleanup", "cleanup"), "-c", on_node3.conf_path],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    replies = cluster.burst(ds, 30, 60, lambda i: {
        "sasl_username": "carol", "client_address": "10.9.%d.%d" % (i // 200, i % 200 + 1)})
    out = cleanup.communicate(timeout=120)[0].decode()
    lib.eq(cleanup.returncode, 0, "cleanup exit status:\n" + out)
    lib.eq(cluster.tally(replies, REFUSED), 5, "admitted origins (LIMIT=5)")
    lib.eq(cluster.sql_on(1, "SELECT COUNT(*) FROM distributed_origin WHERE _origin LIKE '172.16.%'"),
           [["0"]], "cleanup expired the old rows:\n" + out)
    cluster.no_failsafe(ds)
