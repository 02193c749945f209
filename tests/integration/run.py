#!/usr/bin/env python3
"""tests/integration/run.py - run the integration tests (tests/integration/test_*.py).

Usage (from anywhere):
  tests/integration/run.py --mysql-socket work/mariadb/mysqld.sock --mysql-port 13306 \
      [--db policyd_integration] [-k TEXT] [--verbose] [files...]

Every function named test_* of every test_*.py file (or of the files given) runs in source
order, each with a freshly recreated database (lib.reset_db) and with every daemon it started
stopped afterwards.  Prints "PASS file::test" or "FAIL file::test: reason" per test and a last
line "N passed, M failed"; exit status 0 only if something ran and nothing failed.
Needs a running MariaDB (scripts/mariadb.sh start) and the built daemon (src/policyd, or $POLICYD).
"""

import argparse
import glob
import importlib.util
import inspect
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lib  # noqa: E402


def tests_of(path):
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    funcs = [f for name, f in vars(module).items()
             if name.startswith("test_") and inspect.isfunction(f) and f.__module__ == module.__name__]
    return sorted(funcs, key=lambda f: f.__code__.co_firstlineno)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mysql-socket", required=True, help="private MariaDB socket (root access)")
    ap.add_argument("--mysql-port", type=int, default=13306, help="its TCP port, for the daemon")
    ap.add_argument("--db", default="policyd_integration", help="database recreated per test")
    ap.add_argument("-k", dest="filter", help="only tests whose name contains this text")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="traceback and daemon output of failed tests")
    ap.add_argument("files", nargs="*")
    opts = ap.parse_args()

    files = opts.files or sorted(glob.glob(os.path.join(HERE, "test_*.py")))
    passed = failed = 0
    try:
        lib.configure(mysql_socket=opts.mysql_socket, mysql_port=opts.mysql_port, db=opts.db)
    except Exception as e:  # noqa: BLE001 - report and count, never crash silently
        print("FAIL setup: cannot use the database: %s" % e)
        print("0 passed, 1 failed")
        return 1

    for path in files:
        base = os.path.basename(path)
        try:
            funcs = tests_of(path)
        except Exception as e:  # noqa: BLE001
            print("FAIL %s: cannot load: %s" % (base, e), flush=True)
            failed += 1
            continue
        for func in funcs:
            name = "%s::%s" % (base, func.__name__)
            if opts.filter and opts.filter not in name:
                continue
            error = None
            try:
                lib.reset_db()
                func()
            except Exception as e:  # noqa: BLE001
                error = e
                detail = traceback.format_exc()
                outputs = [(d.port, d.output()) for d in lib.started_daemons()]
            finally:
                lib.cleanup()
            if error is None:
                passed += 1
                print("PASS %s" % name, flush=True)
                continue
            failed += 1
            first = str(error).strip().splitlines()
            print("FAIL %s: %s%s" % (name, type(error).__name__ + ": " if not isinstance(
                error, AssertionError) else "", first[0] if first else "(assertion failed)"),
                flush=True)
            if opts.verbose:
                print("     " + detail.strip().replace("\n", "\n     "))
                for port, text in outputs:
                    print("     --- daemon on port %d output ---" % port)
                    for line in text.splitlines()[-40:]:
                        print("     | " + line)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
