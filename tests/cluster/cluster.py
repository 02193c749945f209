"""tests/cluster/cluster.py - daemons on the nodes of a Galera cluster, and bursts of requests.

    import cluster
    ds = cluster.daemons({"SENDERTHROTTLE": 1}, nodes=(1, 2, 3))   # one daemon per node
    replies = cluster.burst(ds, 30, 3000, lambda i: {"instance": "m.%d" % i})
    cluster.sql_on(2, "SELECT ...")                                  # as root on node 2
    cluster.kill(1); cluster.join(1)                                 # scripts/galera.sh kill/join

The nodes come from $POLICYD_CLUSTER (set by tests/cluster/run.py); lib (tests/integration)
is configured on node 1, so lib.sql() runs there.  Every socket has a timeout and every thread
is joined with a deadline, so a hung daemon fails a test instead of hanging it.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import lib  # noqa: E402
import load  # noqa: E402

DUNNO = "action=dunno"
QUOTA = "action=defer_if_permit Policy rejection: Quota Exceeded."


def nodes():
    """[(port, socket)] of nodes 1, 2, 3."""
    spec = os.environ.get("POLICYD_CLUSTER")
    if not spec:
        raise lib.Failure("POLICYD_CLUSTER is not set: run tests/cluster/run.py")
    return [(int(p), s) for p, s in (item.split(":", 1) for item in spec.split(","))]


def port(node):
    return nodes()[node - 1][0]


def host_list(order=(1, 2, 3)):
    """MYSQLHOST naming the given nodes, e.g. "127.0.0.1:13521,127.0.0.1:13522"."""
    return ",".join("127.0.0.1:%d" % port(n) for n in order)


def daemon(node, overrides=None, start=True):
    """A daemon whose database is node `node` (MYSQLHOST may be overridden with a list).
    The node has applied the test's fresh database first: DDL made through node 1 is ordered
    cluster-wide, but node 1 answers before the others have run it."""
    sql_on(node, "SELECT 1")
    conf = {"MYSQLHOST": '"127.0.0.1"', "MYSQLPORT": str(port(node))}
    conf.update(overrides or {})
    return lib.Daemon(conf, start=start)


def daemons(overrides=None, nodes_used=(1, 2, 3)):
    return [daemon(n, overrides) for n in nodes_used]


def sql_on(node, statement):
    """Rows of `statement` run as root on node `node`, in the test database, after the node
    has applied everything committed anywhere before (wsrep_sync_wait)."""
    cmd = ["mariadb", "--no-defaults", "--batch", "--raw", "--skip-column-names", "--user=root",
           "--socket=" + nodes()[node - 1][1], lib._settings.db,
           "-e", "SET SESSION wsrep_sync_wait = 15; " + statement]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, text=True)
    if p.returncode != 0:
        raise lib.Failure("SQL error on node %d: %s [%s]" % (node, p.stderr.strip(), statement))
    return [line.split("\t") for line in p.stdout.split("\n") if line]


def galera(*args, timeout=180):
    p = subprocess.run([os.path.join(REPO, "scripts", "galera.sh"), *args], timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise lib.Failure("scripts/galera.sh %s failed:\n%s" % (" ".join(args), p.stdout[-2000:]))


def kill(node):
    galera("kill", str(node))


def join(node):
    galera("join", str(node))


def burst(ds, connections, attempts, request_for):
    """load.burst with a deadline for a loaded cluster."""
    return load.burst(ds, connections, attempts, request_for, deadline=120.0)


tally = load.tally


# A check answered by FAILSAFE: "<check>=bypass" or "=failed" (module=bypass is the normal
# "every check passed" token).
FAILSAFE_TOKEN = re.compile(r", (?!module=)[a-z_]+=(bypass|failed),")


def failsafe_lines(d):
    return [line for line in d.output().split("\n") if FAILSAFE_TOKEN.search(line)]


def no_failsafe(ds):
    """Fails if any daemon answered a request by FAILSAFE."""
    for d in ds:
        bad = failsafe_lines(d)
        errors = [line for line in d.output().split("\n") if "error" in line]
        lib.ok(not bad, "%d FAILSAFE answers, e.g. %r; errors: %r" % (len(bad), bad[:3], errors[:5]))


def stats_of(d):
    """The daemon's last statistics line (after SIGUSR1), as a dict of its key=value words."""
    import signal
    before = d.output().count("stats: ")
    d.signal(signal.SIGUSR1)
    limit = time.monotonic() + 5
    while d.output().count("stats: ") == before:
        lib.ok(time.monotonic() < limit, "no statistics line after SIGUSR1")
        time.sleep(0.05)
    line = [l for l in d.output().split("\n") if "stats: " in l][-1]
    words = line.split("stats: ", 1)[1].split(" tokens:")[0].split()
    return dict(w.split("=", 1) for w in words)
