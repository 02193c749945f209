"""tests/integration/test_cleanup.py - the cleanup program against MariaDB.

Every table cleanup touches is seeded with rows that must go and rows that must stay (times
relative to UNIX_TIMESTAMP()), cleanup runs once with the test's policyd.conf, and the rows
left are compared exactly. Also: the switches that keep module state, ages that 1.x wrapped
or took negative (nothing deleted, exit 255), batches larger than one round, a failing table that does not stop the others, an unreachable database, and cleanup
running while a daemon writes the same table.
"""

import os
import subprocess
import threading

import lib

CLEANUP = os.environ.get("CLEANUP", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(lib.POLICYD))), "cleanup", "cleanup"))
DAY = 86400
ALL_ON = {"SENDERTHROTTLE": 1, "RECIPIENTTHROTTLE": 1, "TRAINING_POLICY_TIMEOUT": "1d",
          "DISTRIBUTED_ORIGIN_TIME": "1h"}

LISTS = [("blacklist", "_blacklist"), ("whitelist", "_whitelist"),
         ("blacklist_sender", "_blacklist"), ("whitelist_sender", "_whitelist"),
         ("blacklist_dnsname", "_blacklist"), ("whitelist_dnsname", "_whitelist")]


def run_cleanup(overrides=None, timeout=60):
    """cleanup -c <a policyd.conf like the daemon's>; returns (status, output)."""
    return lib.run_tool(CLEANUP, overrides, timeout=timeout)


def seed():
    n = "UNIX_TIMESTAMP()"
    lib.sql("INSERT INTO triplet (_host,_from,_rcpt,_datenew,_datelast,_count) VALUES "
            "('192.0.2','old-validated','r',{n}-40*86400,{n}-31*86400,3),"
            "('192.0.2','recent-validated','r',{n}-40*86400,{n}-86400,3),"
            "('192.0.2','old-unvalidated','r',{n}-3*86400,{n}-3*86400,0),"
            "('192.0.2','new-unvalidated','r',{n}-86400,{n}-86400,0)".format(n=n))
    for table, column in LISTS:
        lib.sql("INSERT INTO {t} ({c},_description,_expire) VALUES "
                "('expired','',{n}-10),('permanent','',0),('future','',{n}+100)"
                .format(t=table, c=column, n=n))
    lib.sql("INSERT INTO helo (_host,_helo,_expire) VALUES ('192.0.2.1','expired',{n}-10),"
            "('192.0.2.1','permanent',0),('192.0.2.1','future',{n}+100)".format(n=n))
    lib.sql("INSERT INTO throttle (_from,_date) VALUES ('old',{n}-32*86400),('fresh',{n}-86400)"
            .format(n=n))
    lib.sql("INSERT INTO throttle_rcpt (_rcpt,_date) VALUES ('old',{n}-32*86400),('fresh',{n}-86400)"
            .format(n=n))
    lib.sql("INSERT INTO throttle_from_instance (_instance,_expire) VALUES "
            "('old',{n}-3700),('fresh',{n}-100),('zero',0)".format(n=n))
    lib.sql("INSERT INTO policy_training (_rcpt,_expire) VALUES "
            "('old',{n}-2*86400),('fresh',{n}-3600),('zero',0)".format(n=n))
    lib.sql("INSERT INTO distributed_origin (_key,_origin,_first,_last) VALUES "
            "('k','old',{n}-9000,{n}-3700),('k','fresh',{n}-9000,{n}-100)".format(n=n))


def left(table, column):
    return [r[0] for r in lib.sql("SELECT %s FROM %s ORDER BY %s" % (column, table, column))]


def test_every_table_keeps_exactly_its_live_rows():
    seed()
    status, out = run_cleanup(ALL_ON)
    lib.eq(status, 0, "exit status; output:\n" + out)
    lib.eq(left("triplet", "_from"), ["new-unvalidated", "recent-validated"], "triplet")
    for table, column in LISTS:
        lib.eq(left(table, column), ["future", "permanent"], table)
    lib.eq(left("helo", "_helo"), ["future", "permanent"], "helo")
    lib.eq(left("throttle", "_from"), ["fresh"], "throttle")
    lib.eq(left("throttle_rcpt", "_rcpt"), ["fresh"], "throttle_rcpt")
    lib.eq(left("throttle_from_instance", "_instance"), ["fresh"], "throttle_from_instance")
    lib.eq(left("policy_training", "_rcpt"), ["fresh", "zero"], "policy_training")
    lib.eq(left("distributed_origin", "_origin"), ["fresh"], "distributed_origin")
    lines = out.splitlines()
    lib.eq(lines[0], "clean up process starting: policyd 2.0.0", "first line")
    for expected in ("connected..",
                     "expiring blacklisted records (",
                     "expiring throttlesender instances older than 1 hour (",
                     "expiring training policies records older than 1 days (",
                     "expiring distributed origin records older than 3600 seconds ("):
        lib.ok(any(line.startswith(expected) for line in lines), "no line %r in:\n%s"
               % (expected, out))
    # each task: its message, then its count (2 of 15: the two triplet steps, 1 row each)
    lib.eq(lines.count("expired: 1 records"), 13, "tasks that expired one row:\n" + out)
    lib.eq(lines.count("expired: 2 records"), 1, "throttle_from_instance (old and zero)")
    for summary in ("summary: triplet: 2 records expired", "summary: helo: 1 records expired",
                    "summary: distributed_origin: 1 records expired"):
        lib.ok(summary in lines, "no line %r in:\n%s" % (summary, out))
    lib.eq(lines[-1], "clean up process finished: 15 records expired", "last line")


def test_switches_keep_module_state():
    seed()
    # the shipped configuration: no throttles, no training timeout; greylisting off here
    status, out = run_cleanup({"GREYLISTING": 0})
    lib.eq(status, 0, "exit status; output:\n" + out)
    lib.eq(len(left("triplet", "_from")), 4, "triplets kept with GREYLISTING=0")
    lib.eq(left("throttle", "_from"), ["fresh", "old"], "throttle kept")
    lib.eq(left("throttle_rcpt", "_rcpt"), ["fresh", "old"], "throttle_rcpt kept")
    lib.eq(left("policy_training", "_rcpt"), ["fresh", "old", "zero"], "policy_training kept")
    # garbage goes whatever the switches (the reference kept it)
    lib.eq(left("blacklist", "_blacklist"), ["future", "permanent"], "blacklist, BLACKLISTING=0")
    lib.eq(left("whitelist", "_whitelist"), ["future", "permanent"], "whitelist")
    lib.eq(left("throttle_from_instance", "_instance"), ["fresh"], "instances")
    lib.eq(left("distributed_origin", "_origin"), ["fresh"], "distributed_origin")
    lib.ok("summary: throttle: skipped (SENDERTHROTTLE is not 1)" in out.splitlines(), out)
    lib.ok("summary: triplet: skipped (GREYLISTING is not 1)"
           in out.splitlines(), out)


def test_zero_ages_keep_rows():
    seed()
    status, out = run_cleanup(dict(ALL_ON, TRIPLET_AUTH_TIMEOUT=0, TRIPLET_UNAUTH_TIMEOUT=0,
                                   SENDER_INACTIVE_EXPIRE=0))
    lib.eq(status, 0, "exit status; output:\n" + out)
    lib.eq(len(left("triplet", "_from")), 4, "triplets kept (the reference deleted them all)")
    lib.eq(left("throttle", "_from"), ["fresh", "old"], "throttle kept")
    lib.eq(left("throttle_from_instance", "_instance"), ["fresh"], "instances still expire")


def test_batches_until_every_row_is_gone():
    # 2500 expired rows: three batches of at most 1000
    lib.sql("INSERT INTO blacklist (_blacklist,_description,_expire) "
            "SELECT CONCAT('10.', a.n, '.', b.n, '.', c.n), '', UNIX_TIMESTAMP()-10 FROM "
            "(SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4) a, "
            "(SELECT seq n FROM seq_0_to_24) b, (SELECT seq n FROM seq_0_to_19) c")
    lib.sql("INSERT INTO blacklist (_blacklist,_description,_expire) VALUES ('keep','',0)")
    lib.eq(lib.sql("SELECT COUNT(*) FROM blacklist"), [["2501"]], "seeded rows")
    status, out = run_cleanup()
    lib.eq(status, 0, "exit status; output:\n" + out)
    lib.eq(left("blacklist", "_blacklist"), ["keep"], "blacklist")
    lib.ok("summary: blacklist: 2500 records expired" in out.splitlines(), out)


def test_failing_table_does_not_stop_the_others():
    seed()
    lib.sql("DROP TABLE helo")
    status, out = run_cleanup(ALL_ON)
    lib.eq(status, 255, "exit status; output:\n" + out)
    lines = out.splitlines()
    lib.ok(any(line.startswith("summary: helo: FAILED after 0 records: ") and "helo" in line
               for line in lines), "helo failure summary:\n" + out)
    lib.ok(lines[-1].startswith("clean up process failed: 1 of 14 tasks failed"), out)
    # the tasks after it still ran
    lib.eq(left("throttle", "_from"), ["fresh"], "throttle")
    lib.eq(left("distributed_origin", "_origin"), ["fresh"], "distributed_origin")


def test_unreachable_database_fails_clearly():
    seed()
    status, out = run_cleanup({"MYSQLHOST": '"127.0.0.1"', "MYSQLPORT": lib.free_port(),
                               "MYSQL_TIMEOUT": "2s"})
    lib.eq(status, 255, "exit status; output:\n" + out)
    lines = out.splitlines()
    lib.ok(any(line.startswith("mysql_real_connect(): ") for line in lines), out)
    lib.ok(lines[-1].startswith("clean up process failed: cannot connect to database "), out)
    lib.ok("answering by FAILSAFE" not in out, "daemon wording in cleanup output:\n" + out)
    lib.eq(len(left("triplet", "_from")), 4, "nothing deleted")


def test_usage_and_bad_config():
    p = subprocess.run([CLEANUP], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lib.eq(p.returncode, 255, "no arguments")
    lib.ok(b"usage: " in p.stdout and b"-c /path/to/policyd.conf" in p.stdout, p.stdout)
    p = subprocess.run([CLEANUP, "-c", "/nonexistent/policyd.conf"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    lib.eq(p.returncode, 255, "unreadable config")
    lib.ok(b"fopen(): No such file or directory: /nonexistent/policyd.conf" in p.stdout, p.stdout)


def test_wrapping_or_negative_ages_delete_nothing():
    # 1.x wrapped 100Y to a negative age, logged "older than -12510 days" and deleted every
    # triplet, fresh ones included, then exited 0
    seed()
    before = lib.sql("SELECT COUNT(*) FROM triplet")
    for key, value in [("TRIPLET_AUTH_TIMEOUT", "100Y"), ("TRIPLET_AUTH_TIMEOUT", "25000d"),
                       ("TRIPLET_UNAUTH_TIMEOUT", "-2d"), ("SENDER_INACTIVE_EXPIRE", "-1d")]:
        status, out = run_cleanup({key: value})
        lib.eq(status, 255, "exit status with %s=%s (output: %s)" % (key, value, out[-300:]))
        lib.ok("%s: %s" % (key, value) in out and "is out of range: use 0..10Y" in out, out[-300:])
        lib.ok("expiring" not in out, "no task ran: %s" % out[-300:])
        lib.eq(lib.sql("SELECT COUNT(*) FROM triplet"), before, "triplets kept")
    lib.eq(lib.sql("SELECT COUNT(*) FROM throttle"), [["2"]], "throttle rows kept")


def test_safe_while_a_daemon_writes_the_same_table():
    # 3000 dead distributed_origin rows of the key the daemon is recording, and cleanup
    # running meanwhile: every request is answered, the live origins survive
    lib.sql("INSERT INTO distributed_origin (_key,_origin,_first,_last) "
            "SELECT 'alice@example.com', CONCAT('old-', seq), 0, UNIX_TIMESTAMP()-7200 "
            "FROM seq_1_to_3000")
    conf = {"GREYLISTING": 0, "DISTRIBUTED_ORIGIN": 1, "DISTRIBUTED_ORIGIN_LIMIT": 1000,
            "DISTRIBUTED_ORIGIN_NETBLOCK": 0}
    replies = []
    with lib.Daemon(conf) as d:
        def traffic():
            with d.connect(timeout=15) as c:
                for i in range(300):
                    replies.append(c.request({"client_address": "10.9.%d.%d" % (i // 250, i % 250)}))

        t = threading.Thread(target=traffic)
        t.start()
        status, out = run_cleanup(conf)
        t.join(60)
    lib.eq(status, 0, "cleanup exit status; output:\n" + out)
    lib.eq(replies, ["action=dunno"] * 300, "daemon replies during cleanup")
    lib.eq(lib.sql("SELECT COUNT(*) FROM distributed_origin WHERE _origin LIKE 'old-%'"), [["0"]],
           "dead rows left")
    lib.eq(lib.sql("SELECT COUNT(*) FROM distributed_origin WHERE _origin LIKE '10.9.%'"),
           [["300"]], "live rows")
