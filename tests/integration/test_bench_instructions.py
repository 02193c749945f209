"""tests/integration/test_bench_instructions.py - scripts/bench-instructions.sh counts one request's work.

Runs the instruction count A/B with this build's daemon as both builds (scratch BUILDDIRs of
links), briefly, against the private MariaDB the script starts on a free port and stops. Checks
what the figures must be if the counting is right, never how fast: a row per mix with a count for
each build; a count in the range one request's work can take (the daemon's start-up is millions
of instructions, so a count that forgot to zero the counters after the warm-up is far above it);
the statements per request MariaDB counted (one, in the default configuration); and one binary
against itself within 2 % (callgrind counts instructions, not time, so only the requests' own
differences, like the length of the random run id in their addresses, remain).
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile

import lib

SCRIPT = os.path.join(lib.REPO, "scripts", "bench-instructions.sh")


def scratch_build(root, name):
    build = os.path.join(root, name, "src")
    os.makedirs(build)
    os.symlink(os.path.abspath(lib.POLICYD), os.path.join(build, "policyd"))
    return os.path.dirname(build)


def test_same_binary_counts_the_same_instructions_per_request():
    root = tempfile.mkdtemp(prefix="bench-instr-", dir="/tmp")
    try:
        a, b = scratch_build(root, "a"), scratch_build(root, "b")
        port = lib.free_port()
        env = dict(os.environ, INSTR_REQUESTS="150", INSTR_WARMUP="30", INSTR_POOL="30",
                   BENCH_MARIADB_PORT=str(port))
        p = subprocess.run([SCRIPT, a, b, "new", "retry"], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        out = p.stdout.decode("utf-8", "replace")
        lib.eq(p.returncode, 0, "exit status; output:\n" + out)
        rows = {m.group(1): (int(m.group(2)), int(m.group(3)), float(m.group(4)),
                             float(m.group(5)), float(m.group(6)))
                for m in re.finditer(r"^(new|retry)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$",
                                     out, re.M)}
        lib.eq(sorted(rows), ["new", "retry"], "a row per mix:\n" + out)
        for mix, (count_a, count_b, ratio, statements_a, statements_b) in rows.items():
            for count in (count_a, count_b):
                lib.ok(10000 < count < 300000, "%s: %d instructions a request:\n%s" % (mix, count, out))
            lib.ok(abs(ratio - count_b / count_a) < 0.001, "%s: B/A is the ratio of the counts" % mix)
            lib.ok(0.98 <= ratio <= 1.02, "%s: one binary against itself: %.3f\n%s" % (mix, ratio, out))
            # the default configuration decides a new or retried triplet in one statement
            lib.eq((statements_a, statements_b), (1.0, 1.0), "%s: statements per request" % mix)
        with socket.socket() as probe:
            lib.ok(probe.connect_ex(("127.0.0.1", port)) != 0, "the MariaDB it started is stopped")
    finally:
        shutil.rmtree(root, ignore_errors=True)
