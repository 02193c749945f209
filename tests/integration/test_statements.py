"""tests/integration/test_statements.py - how many statements a decision sends to MariaDB.

docs/PERFORMANCE.md justifies every statement of every path; these tests pin the counts it
states, from the DEBUG=2 SQL trace (one "DEBUG: sql:" line for every statement a worker sends,
the same number MariaDB's Questions counts for it), and that the fewer statements still decide
the same: a listed client writes no triplet, a refusal sets the abuse flag, an admitted
message records its instance.
"""

import re

import lib

QUOTA = "action=defer_if_permit Policy rejection: Quota Exceeded."
THROTTLED = {"GREYLISTING": 0, "SENDERTHROTTLE": 1, "SENDERMSGLIMIT": 2, "DEBUG": 2}


# The IP lists' CIDR prefix lengths are read once per process and table and refreshed every
# 60 s (src/policy/checks/cidr_lengths.h): a per-process cost, not a per-decision one, so it is
# left out of the per-request counts here and bounded on its own below.
CIDR_LENGTHS = "SELECT DISTINCT LENGTH(SUBSTRING_INDEX(_cidr"


def statements(daemon, attrs=None):
    """Sends one request; returns (reply, the per-decision statements it sent)."""
    before = len(daemon.output().splitlines())
    reply = daemon.request(attrs)
    lines = daemon.output().splitlines()[before:]
    sent = [l[len("DEBUG: sql: "):] for l in lines if l.startswith("DEBUG: sql: ")]
    refreshes = sum(1 for l in daemon.output().splitlines()
                    if l.startswith("DEBUG: sql: ") and CIDR_LENGTHS in l)
    lib.ok(refreshes <= 2, "the CIDR lengths of whitelist and blacklist read at most once each "
           "within a test, read %d times" % refreshes)
    return reply, [l for l in sent if CIDR_LENGTHS not in l]


def expect(daemon, attrs, reply, count, what):
    got, sent = statements(daemon, attrs)
    lib.eq(got, reply, what + ": reply")
    lib.eq(len(sent), count, "%s: statements\n%s" % (what, "\n".join(sent)))
    return sent


def test_default_configuration_decides_a_triplet_in_one_statement():
    # whitelist + greylist: the triplet INSERT carries the whitelist lookup
    with lib.Daemon({"DEBUG": 2}) as d:
        sent = expect(d, {}, lib.GREY_DEFER, 1, "new triplet")
        lib.ok(sent[0].startswith("INSERT INTO triplet") and "whitelist" in sent[0],
               "the INSERT asks the whitelist: %r" % sent[0])
        # too early: the lookups (listed, or unchanged?), then "too early or saturated?"
        expect(d, {}, lib.GREY_DEFER, 3, "retry before TRIPLET_TIME")
        lib.sql("UPDATE triplet SET _datenew=_datenew-300")
        expect(d, {}, "action=dunno", 1, "retry after TRIPLET_TIME")
        expect(d, {}, "action=dunno", 1, "the next retry")
    lib.eq(lib.sql("SELECT _count FROM triplet"), [["2"]], "both passes counted")


def test_a_listed_client_writes_no_triplet():
    lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) VALUES ('192.0.2.10','t',0)")
    lib.sql("INSERT INTO blacklist (_blacklist,_description,_expire) VALUES ('198.51.100.%','t',0)")
    with lib.Daemon({"DEBUG": 2, "BLACKLISTING": 1}) as d:
        # the guarded INSERT changes nothing, then the lookups tell which list
        expect(d, {}, "action=dunno", 2, "whitelisted")
        expect(d, {"client_address": "198.51.100.7"},
               "action=defer_if_permit Policyd Rejection: Abuse. Go away.", 2, "blacklisted")
        expect(d, {"client_address": "203.0.113.9"}, lib.GREY_DEFER, 1, "listed nowhere")
    lib.eq(lib.sql("SELECT _host FROM triplet"), [["203.0.113"]], "only the unlisted triplet")


def test_a_check_between_the_lists_and_greylisting_keeps_the_lookups_first():
    # HELO_CHECK may refuse after the lists: the triplet must not be written before it ran. Its
    # read goes out with the lookups (check.h, CarriedSelect): that read, the new HELO, the
    # triplet (was 4: the HELO read was a statement of its own)
    with lib.Daemon({"DEBUG": 2, "HELO_CHECK": 1}) as d:
        sent = expect(d, {}, lib.GREY_DEFER, 3, "new triplet with HELO_CHECK")
        lib.ok(sent[0].startswith("SELECT") and "FROM whitelist" in sent[0]
               and "FROM helo" in sent[0], "lookups and the HELO read first: %r" % sent[0])
        lib.ok(sent[1].startswith("INSERT INTO helo") and sent[2].startswith("INSERT INTO triplet"),
               "then the writes: %r" % sent[1:])


def test_sender_throttle_decides_in_one_statement_after_its_lookup():
    with lib.Daemon(THROTTLED) as d:
        # the row and instance lookup carrying the whitelist's, the decision (creates), the
        # instance
        sent = expect(d, {"instance": "m1"}, "action=dunno", 3, "first message")
        lib.ok(sent[0].startswith("SELECT (EXISTS (SELECT 1 FROM whitelist ")
               and "FROM throttle WHERE" in sent[0],
               "the throttle's SELECT asks the whitelist: %r" % sent[0])
        expect(d, {"instance": "m1", "recipient": "carol@example.org"}, "action=dunno", 2,
               "its second recipient")
        expect(d, {"instance": "m2"}, "action=dunno", 3, "second message")
        expect(d, {"instance": "m3"}, QUOTA, 2, "refused")
        expect(d, {"instance": "m3", "recipient": "carol@example.org"}, QUOTA, 2,
               "the refused message's second recipient")
    lib.eq(lib.sql("SELECT _count_cur,_rcpt_cur,_abuse_cur FROM throttle"), [["2", "3", "1"]],
           "counters and abuse flag")
    lib.eq(lib.sql("SELECT _instance FROM throttle_from_instance ORDER BY _instance"),
           [["m1"], ["m2"]], "admitted instances")


def test_a_listed_client_leaves_the_throttle_row_alone():
    # The throttle's SELECT that carries the list lookups reads its row and locks nothing: a
    # listed client is decided by that one statement, and its throttle row (at its limit: the
    # throttle would refuse) is not counted, nor its abuse flag set.
    lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) VALUES ('192.0.2.10','t',0)")
    lib.sql("INSERT INTO blacklist (_blacklist,_description,_expire) VALUES ('198.51.100.%','t',0)")
    for ip in ("192.0.2.10", "198.51.100.7", "203.0.113.9"):
        lib.sql("INSERT INTO throttle (_from,_count_max,_count_cur,_rcpt_max,_rcpt_cur,_date) "
                "VALUES ('%s',2,2,10,2,UNIX_TIMESTAMP())" % ip)
    before = lib.sql("SELECT * FROM throttle ORDER BY _from")
    with lib.Daemon(dict(THROTTLED, BLACKLISTING=1)) as d:
        sent = expect(d, {"instance": "w1"}, "action=dunno", 1, "whitelisted")
        lib.ok("FROM blacklist WHERE" in sent[0] and "FROM throttle WHERE" in sent[0], sent[0])
        expect(d, {"client_address": "198.51.100.7", "instance": "b1"},
               "action=defer_if_permit Policyd Rejection: Abuse. Go away.", 1, "blacklisted")
        lib.eq(lib.sql("SELECT * FROM throttle ORDER BY _from"), before,
               "the listed clients' throttle rows untouched")
        # listed nowhere: the throttle decides on the row it read with the lookups
        expect(d, {"client_address": "203.0.113.9", "instance": "t1"}, QUOTA, 2, "throttled")
        expect(d, {"client_address": "203.0.113.10", "instance": "t2"}, "action=dunno", 3,
               "a new sender key")
        out = d.output()
    lib.ok("whitelist=update" in out and "blacklist=block" in out, out[-1500:])
    lib.eq(lib.sql("SELECT _from,_abuse_cur FROM throttle ORDER BY _from"),
           [["192.0.2.10", "0"], ["198.51.100.7", "0"], ["203.0.113.10", "0"],
            ["203.0.113.9", "1"]], "only the throttled client's row flagged")
    lib.eq(lib.sql("SELECT _instance FROM throttle_from_instance"), [["t2"]],
           "only the admitted instance recorded")


def test_the_carried_select_uses_the_indexes():
    # The one statement as the server ran it, values in place: every table it reads is read
    # through an index (the list lookups as when they were asked alone, the throttle row by key).
    lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) "
            "SELECT CONCAT('10.1.', seq DIV 256, '.', seq % 256), 'host', 0 FROM seq_1_to_2000")
    lib.sql("INSERT INTO throttle (_from,_date) "
            "SELECT CONCAT('10.2.', seq DIV 256, '.', seq % 256), UNIX_TIMESTAMP() FROM seq_1_to_2000")
    lib.sql("ANALYZE TABLE whitelist, throttle")
    with lib.Daemon(THROTTLED) as d:
        sent = expect(d, {"instance": "e1"}, "action=dunno", 3, "first message")
    statement, values = sent[0].split(" <- ")
    values = re.findall(r"'([^']*)'|(-?\d+)", values)
    explained = statement
    for quoted, number in values:
        explained = explained.replace("?", "'%s'" % quoted if not number else number, 1)
    plan = [row for row in lib.sql("EXPLAIN " + explained) if row[2] in ("whitelist", "throttle")]
    lib.eq(sorted(row[2] for row in plan), ["throttle", "whitelist"], "the plan: %r" % plan)
    for row in plan:
        lib.ok(row[3] in ("index_merge", "range", "ref", "eq_ref", "const"),
               "%s read through an index: %s" % (row[2], row))
        lib.ok(int(row[8] or 0) < 50, "few rows examined: %s" % (row,))


def test_recipient_throttle_decides_in_one_statement():
    conf = {"GREYLISTING": 0, "RECIPIENTTHROTTLE": 1, "RECIPIENTMSGLIMIT": 1, "DEBUG": 2}
    with lib.Daemon(conf) as d:
        expect(d, {}, "action=dunno", 2, "created")        # whitelist + the decision
        expect(d, {}, QUOTA, 2, "refused")
    lib.eq(lib.sql("SELECT _count_cur,_count_tot,_abuse_cur FROM throttle_rcpt"),
           [["1", "1", "1"]], "counters and abuse flag")


ORIGINS = {"GREYLISTING": 0, "DISTRIBUTED_ORIGIN": 1, "DEBUG": 2}


def test_distributed_origin_decides_in_one_statement_of_its_own_transaction():
    # the whitelist, then START TRANSACTION, one write of the key row and the origin that
    # returns the key's origins, COMMIT (was a fourth statement, the count; and 6 before that).
    # A unit of one statement needs no "is the transaction still open?" (db/session.h)
    with lib.Daemon(ORIGINS) as d:
        sent = expect(d, {"sasl_username": "alice"}, "action=dunno", 4, "a new origin")
        lib.eq([s.split(" ")[0] for s in sent[1:]], ["START", "INSERT", "COMMIT"],
               "the transaction's statements:\n" + "\n".join(sent))
        lib.ok(sent[2].startswith("INSERT INTO distributed_origin") and " RETURNING " in sent[2],
               "the decision: %r" % sent[2])
        expect(d, {"sasl_username": "alice"}, "action=dunno", 4, "the same origin again")
        expect(d, {"sasl_username": "alice", "client_address": "198.51.100.7"}, "action=dunno", 4,
               "another origin")
    log = d.output()
    lib.eq((log.count("distributed_origin=new"), log.count("distributed_origin=update")), (2, 1),
           "new and update lines:\n" + log)
    lib.eq(lib.sql("SELECT _first FROM distributed_origin WHERE _origin=''"), [["3"]],
           "the key row counted three decisions")


EVERY_MODULE = {"DEBUG": 2, "RCPT_ACL": 1, "WHITELISTSENDER": 1, "WHITELISTDNSNAME": 1,
                "BLACKLISTING": 1, "BLACKLIST_HELO": 1, "BLACKLISTSENDER": 1,
                "BLACKLISTDNSNAME": 1, "SPAMTRAPPING": 1, "DISTRIBUTED_ORIGIN": 1,
                "HELO_CHECK": 1, "AUTO_WHITE_LISTING": 1, "AUTO_BLACK_LISTING": 1,
                "SENDERTHROTTLE": 1, "RECIPIENTTHROTTLE": 1}


def test_every_module_on_counts_as_docs_performance_states():
    # docs/PERFORMANCE.md "Round trips per request with every module on": 12 before rcpt_acl's,
    # the HELO check's, the auto-list counts and the sender throttle's reads went out with the
    # lookups and distributed_origin's count rode on its write (a transaction of three, was four)
    with lib.Daemon(EVERY_MODULE) as d:
        expect(d, {"instance": "m1"}, lib.GREY_DEFER, 6, "a new triplet")
        lib.sql("UPDATE triplet SET _datenew=_datenew-300")
        # the message's first admitted recipient also records its instance
        expect(d, {"instance": "m2"}, "action=dunno", 8, "a known triplet, a new message")
        sent = expect(d, {"instance": "m2"}, "action=dunno", 7,
                      "a known triplet passing every check")
        for table in ("rcpt_acl", "whitelist", "spamtrap", "helo", "triplet",
                      "throttle AS sender_throttle"):
            lib.ok("FROM %s " % table in sent[0] or "JOIN %s " % table in sent[0],
                   "the first statement reads %s: %r" % (table, sent[0]))
        starts = ["SELECT (EXISTS (SELECT", "START TRANSACTION", "INSERT INTO distributed_origin ",
                  "COMMIT", "INSERT INTO triplet ", "INSERT INTO throttle ",
                  "INSERT INTO throttle_rcpt "]
        lib.ok(all(s.startswith(start) for s, start in zip(sent, starts)),
               "one read, distributed_origin's transaction, the triplet, the two throttles' "
               "decisions:\n" + "\n".join(sent))


def test_every_module_on_each_read_in_the_first_statement_still_decides():
    # rcpt_acl, the HELO check and the sender throttle take their rows from the request's first
    # statement: each of them still refuses on what it read there
    lib.sql("INSERT INTO rcpt_acl (_sender,_rcpt,_wblist,_priority) "
            "VALUES ('@example.com','blocked@example.org','b',0)")
    lib.sql("INSERT INTO helo (_host,_helo,_expire) VALUES ('192.0.2.77','a.example',0),"
            "('192.0.2.77','b.example',0),('192.0.2.77','c.example',0)")
    black = "action=defer_if_permit Policyd Rejection: Abuse. Go away."
    conf = dict(EVERY_MODULE, HELO_MAX_COUNT=3, SENDERMSGLIMIT=1, DISTRIBUTED_ORIGIN=0)
    with lib.Daemon(conf) as d:
        lib.eq(d.request({"recipient": "blocked@example.org"}), black, "rcpt_acl refuses")
        lib.eq(d.request({"client_address": "192.0.2.77", "helo_name": "d.example"}), black,
               "the HELO check refuses the fourth HELO")
        lib.sql("INSERT INTO triplet (_datenew,_datelast,_host,_from,_rcpt,_count) "
                "SELECT UNIX_TIMESTAMP()-3600, UNIX_TIMESTAMP()-3600, '192.0.2', "
                "'alice@example.com', r, 1 FROM (SELECT 'x1@example.org' r UNION ALL "
                "SELECT 'x2@example.org') AS rcpts")
        lib.eq(d.request({"recipient": "x1@example.org", "instance": "i1"}), "action=dunno",
               "the first message passes")
        lib.eq(d.request({"recipient": "x2@example.org", "instance": "i2"}), QUOTA,
               "the sender throttle refuses the second")
        out = d.output()
        for token in ("rcpt_acl=block", "helo=abuse", "throttle=new(a)", "throttle=abuse(f)"):
            lib.ok(token in out, "%s logged:\n%s" % (token, out[-2000:]))
