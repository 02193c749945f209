"""tests/integration/test_stats_program.py - the 1.x stats program (stats/stats) against MariaDB.

Known triplet and helo rows are loaded, stats runs with the test's policyd.conf, and its whole
output is compared with the text the reference prints for them: the start
lines, each "<--" / title / "-->" header, and one "<col0>\\t->  <col1>" line per row, most first.
The counts are chosen without ties, whose order the spec leaves to the server. Also: only the
GREYLISTING and HELO_CHECK select the sections, the top lists stop at ten, and the exit
statuses (0; 255 for usage, a bad file, a failing statement or an unreachable database, after
the output printed so far).
"""

import os

import lib

STATS = os.environ.get("STATS", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(lib.POLICYD))), "stats", "stats"))
VERSION = "policyd 2.0.0"
# CONN_ACL other than 1.x's example, which draws a start-up warning (docs/COMPATIBILITY.md)
ACL = {"CONN_ACL": "127.0.0.1"}
GREY = {"GREYLISTING": 1, "HELO_CHECK": 0}
BOTH = {"GREYLISTING": 1, "HELO_CHECK": 1}


def start_lines(host="127.0.0.1"):
    return ["processing statistics: " + VERSION, "connecting to mysql database: " + host,
            "connected.."]


def header(title):
    return ["<--", title, "-->"]


def triplets(host, counts):
    """One triplet of `host` per element of counts (its _count)."""
    values = ",".join("('%s','s%d@example.com','r@example.org',UNIX_TIMESTAMP(),"
                      "UNIX_TIMESTAMP(),%d)" % (host, i, n) for i, n in enumerate(counts))
    lib.sql("INSERT INTO triplet (_host,_from,_rcpt,_datenew,_datelast,_count) VALUES " + values)


def helos(host, count):
    values = ",".join("('%s','helo%d.example',0)" % (host, i) for i in range(count))
    lib.sql("INSERT INTO helo (_host,_helo,_expire) VALUES " + values)


def seed():
    # validated: 10.1.2 3, 192.0.2 2, 198.51.100 1; unvalidated: 192.0.2 4, 198.51.100 2,
    # 10.1.2 1; delivered (sum of _count > 0): 192.0.2 50, 10.1.2 10, 198.51.100 7
    triplets("10.1.2", [5, 4, 1, 0])
    triplets("192.0.2", [20, 30, 0, 0, 0, 0])
    triplets("198.51.100", [7, 0, 0])
    helos("192.0.2.1", 3)
    helos("10.0.0.5", 2)
    helos("192.0.2.9", 1)


GREYLISTING_REPORT = (
    header("greylisting: triplet information")
    + ["Triplets: \t->  13", "Verified: \t->  6", "Unverified: \t->  7"]
    + header("greylisting: top 10 networks with validated triplets")
    + ["10.1.2\t->  3", "192.0.2\t->  2", "198.51.100\t->  1"]
    + header("greylisting: top 10 networks with unvalidated triplets")
    + ["192.0.2\t->  4", "198.51.100\t->  2", "10.1.2\t->  1"]
    + header("greylisting: top 10 networks with most delivered mails")
    + ["192.0.2\t->  50", "10.1.2\t->  10", "198.51.100\t->  7"])
HELO_REPORT = (
    header("helo: top 10 hosts with different identities")
    + ["192.0.2.1\t->  3", "10.0.0.5\t->  2", "192.0.2.9\t->  1"])


def run_stats(overrides):
    return lib.run_tool(STATS, dict(ACL, **overrides))


def expect(overrides, lines, status=0):
    got_status, out = run_stats(overrides)
    lib.eq(out, "".join(line + "\n" for line in lines), "output (exit status %d)" % got_status)
    lib.eq(got_status, status, "exit status")


def test_report_is_the_references_byte_for_byte():
    seed()
    expect(BOTH, start_lines() + GREYLISTING_REPORT + HELO_REPORT)


def test_each_switch_selects_its_sections():
    seed()
    expect(GREY, start_lines() + GREYLISTING_REPORT)
    expect({"GREYLISTING": 0, "HELO_CHECK": 1}, start_lines() + HELO_REPORT)
    expect({"GREYLISTING": 0, "HELO_CHECK": 0}, start_lines())
    # a switch is 0 or 1: anything else is refused like the daemon refuses it
    status, out = run_stats({"GREYLISTING": 2})
    lib.eq(status, 255, "GREYLISTING=2; output:\n" + out)
    lib.ok("GREYLISTING: 2 is out of range: use 0..1" in out, out)


def test_empty_tables_print_zero_totals_and_empty_top_lists():
    expect(BOTH, start_lines()
           + header("greylisting: triplet information")
           + ["Triplets: \t->  0", "Verified: \t->  0", "Unverified: \t->  0"]
           + header("greylisting: top 10 networks with validated triplets")
           + header("greylisting: top 10 networks with unvalidated triplets")
           + header("greylisting: top 10 networks with most delivered mails")
           + header("helo: top 10 hosts with different identities"))


def test_top_lists_stop_at_ten_largest_first():
    # twelve networks with 1..12 unvalidated triplets, twelve hosts with 1..12 HELO names
    for n in range(1, 13):
        triplets("203.0.%d" % n, [0] * n)
        helos("203.0.113.%d" % n, n)
    _, out = run_stats(BOTH)
    lines = out.splitlines()
    unvalidated = lines.index("greylisting: top 10 networks with unvalidated triplets") + 2
    lib.eq(lines[unvalidated:unvalidated + 11],
           ["203.0.%d\t->  %d" % (n, n) for n in range(12, 2, -1)] + ["<--"], "unvalidated top 10")
    lib.eq(lines[lines.index("helo: top 10 hosts with different identities") + 2:],
           ["203.0.113.%d\t->  %d" % (n, n) for n in range(12, 2, -1)], "helo top 10")


def test_debug_2_logs_each_statement_before_it_runs():
    seed()
    status, out = run_stats(dict(GREY, DEBUG=2))
    lib.eq(status, 0, "exit status; output:\n" + out)
    lines = out.splitlines()
    debug = [i for i, line in enumerate(lines) if line.startswith("DEBUG: fd: 0, db_printquery(): ")]
    lib.eq(len(debug), 6, "statements logged:\n" + out)
    lib.ok("'Triplets: '" in lines[debug[0]], out)
    report = [line for line in lines[debug[0]:] if not line.startswith("DEBUG: ")]
    lib.eq(report, GREYLISTING_REPORT[3:], "the report between the debug lines")


def test_failing_statement_exits_255_after_the_output_so_far():
    seed()
    lib.sql("DROP TABLE helo")
    status, out = run_stats(BOTH)
    lib.eq(status, 255, "exit status; output:\n" + out)
    lines = out.splitlines()
    lib.eq(lines[:-1], start_lines() + GREYLISTING_REPORT
           + header("helo: top 10 hosts with different identities"), "output before the failure")
    lib.ok(lines[-1].startswith("processing statistics failed: ") and "helo" in lines[-1],
           "last line: " + lines[-1])


def test_unreachable_database():
    unreachable = {"MYSQLHOST": '"127.0.0.1"', "MYSQLPORT": lib.free_port(), "MYSQL_TIMEOUT": "2s"}
    status, out = run_stats(dict(BOTH, **unreachable))
    lib.eq(status, 255, "exit status; output:\n" + out)
    lines = out.splitlines()
    lib.eq(lines[:2], start_lines()[:2], "start lines")
    lib.ok(lines[2].startswith("mysql_real_connect(): "), out)
    lib.eq(lines[3:6], header("greylisting: triplet information"), "the first header")
    lib.eq(lines[6:], ["processing statistics failed: cannot connect to database "
                       "policyd_integration on 127.0.0.1"], "last line")
    # nothing to ask: the reference's exit status 0, whatever the database
    status, out = run_stats(dict(unreachable, GREYLISTING=0, HELO_CHECK=0))
    lib.eq(status, 0, "exit status with both switches off; output:\n" + out)


def test_usage_and_bad_config():
    for args in ([], ["-x"], ["-c"], ["-c", "/etc/policyd.conf", "extra"]):
        status, out = lib.run_tool(STATS, args=args)
        lib.eq(status, 255, "exit status of %r" % args)
        lib.eq(out, VERSION + "\nusage: " + STATS + " -c /path/to/policyd.conf\n",
               "usage text of %r" % args)
    status, out = lib.run_tool(STATS, args=["-c", "/nonexistent/policyd.conf"])
    lib.eq(status, 255, "unreadable config")
    lib.eq(out, "fopen(): No such file or directory: /nonexistent/policyd.conf\n", "its error")
    status, out = lib.run_tool(STATS, {"CONN_ACL": ""})
    lib.eq(status, 255, "a configuration the daemon refuses; output:\n" + out)
