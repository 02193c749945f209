#!/usr/bin/env python3
"""tests/cluster/run.py - run the cluster tests (tests/cluster/test_*.py) on a Galera cluster.

Usage (from anywhere, with the cluster of scripts/galera.sh running and the same environment
that started it: WORKDIR, GALERA_*_BASE):
  tests/cluster/run.py [--db policyd_cluster] [-k TEXT] [--verbose] [files...]

The tests run with tests/integration/run.py's runner and lib.py (one freshly recreated database
per test, made through node 1 and replicated; every daemon stopped afterwards; "PASS"/"FAIL"
lines and a last line "N passed, M failed").  The nodes' ports and sockets come from
`scripts/galera.sh env` and reach the tests as $POLICYD_CLUSTER ("port:socket,..." for nodes
1, 2, 3), read by tests/cluster/cluster.py.  scripts/test.sh starts and stops the cluster.
"""

import argparse
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="policyd_cluster")
    ap.add_argument("-k", dest="filter")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("files", nargs="*")
    opts = ap.parse_args()
    try:
        env = subprocess.run([os.path.join(REPO, "scripts", "galera.sh"), "env"], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        status = subprocess.run([os.path.join(REPO, "scripts", "galera.sh"), "status"])
        if status.returncode != 0:
            raise RuntimeError("the cluster is not running (scripts/galera.sh start)")
    except Exception as e:  # noqa: BLE001 - reported and counted like a failed test
        print("FAIL setup: %s" % e)
        print("0 passed, 1 failed")
        return 1
    values = dict(line.split("=", 1) for line in env.split("\n") if "=" in line)
    nodes = ["%s:%s" % (values["GALERA_PORT%d" % n], values["GALERA_SOCKET%d" % n])
             for n in (1, 2, 3)]
    os.environ["POLICYD_CLUSTER"] = ",".join(nodes)
    os.environ["PYTHONPATH"] = os.pathsep.join(  # the tests import cluster.py
        filter(None, [HERE, os.environ.get("PYTHONPATH")]))
    args = [sys.executable, os.path.join(REPO, "tests", "integration", "run.py"),
            "--mysql-socket", values["GALERA_SOCKET1"], "--mysql-port", values["GALERA_PORT1"],
            "--db", opts.db]
    if opts.filter:
        args += ["-k", opts.filter]
    if opts.verbose:
        args.append("--verbose")
    args += opts.files or sorted(glob.glob(os.path.join(HERE, "test_*.py")))
    return subprocess.call(args)


if __name__ == "__main__":
    sys.exit(main())
