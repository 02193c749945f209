"""tests/integration/test_explain.py - policyd --explain through the real binary and database.

--explain runs the daemon's own pipeline inside a transaction it rolls back: a new triplet
explains as "greylist: new triplet, would defer" and the triplet table stays as it was; a
whitelisted client names the whitelist row that matched; an over-limit sender shows the
throttle row's counters against its limits; a decision log line is rebuilt into its request;
tables that cannot roll back (MyISAM, as policyd 1.x made them) are refused before anything
runs.  docs/OPERATIONS.md describes the command.
"""

import subprocess

import lib

LOG_LINE = ("Dec  4 10:00:00 mx policyd[42]: rcpt=9, greylist=new, host=192.0.2.10 "
            "(mail.example.com), from=alice@example.com, to=bob@example.org, size=1234\n")


def explain(overrides=None, stdin="", attrs=()):
    """(exit status, output) of policyd -c <conf> --explain."""
    d = lib.Daemon(overrides, start=False)
    args = [lib.POLICYD, "-c", d.conf_path, "--explain"]
    if attrs:
        args += ["--explain-attr", *attrs]
    p = subprocess.run(args, cwd=lib.REPO, input=stdin.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def section(output, check):
    """The lines of one check's part of the explanation."""
    lines, inside = [], False
    for line in output.splitlines():
        if line.startswith(check + ":"):
            inside = True
        elif inside and not line.startswith("  "):
            break
        if inside:
            lines.append(line)
    lib.ok(lines, "no %s section in:\n%s" % (check, output))
    return "\n".join(lines)


def table(name):
    return lib.sql("SELECT * FROM %s ORDER BY 1" % name)


def test_new_triplet_would_defer_and_the_table_is_unchanged():
    before = table("triplet")
    status, out = explain(stdin=LOG_LINE)
    lib.eq(status, 0, "exit status\n" + out)
    lib.ok("request of a decision log line (token greylist=new)" in out, out)
    lib.ok("  client_address=192.0.2.10\n" in out and "  sender=alice@example.com\n" in out and
           "  recipient=bob@example.org\n" in out, "the request rebuilt from the line:\n" + out)
    grey = section(out, "greylist")
    lib.ok("verdict: greylist: new triplet, would defer" in grey, grey)
    lib.ok("would change: INSERT INTO triplet" in grey and "-> 1 row" in grey, grey)
    lib.ok("\nreply: action=defer_if_permit Policy rejection: Please try later.\n" in out, out)
    lib.ok("nothing was changed" in out, out)
    lib.eq(table("triplet"), before, "the triplet table after --explain")
    # the same request through the daemon does write the triplet: the explanation was honest
    with lib.Daemon() as d:
        lib.eq(d.request({"client_address": "192.0.2.10", "sender": "alice@example.com",
                          "recipient": "bob@example.org"}), lib.GREY_DEFER, "the real request")
    lib.eq(len(table("triplet")), len(before) + 1, "the daemon wrote the triplet")


def test_whitelisted_client_names_the_matching_row():
    lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) "
            "VALUES ('192.0.2.%','# the office',0)")
    status, out = explain({"WHITELISTING": 1},
                          stdin="request=smtpd_access_policy\nclient_address=192.0.2.77\n"
                                "sender=a@example.com\nrecipient=b@example.org\n\n")
    lib.eq(status, 0, "exit status\n" + out)
    wl = section(out, "whitelist")
    lib.ok("matched whitelist row: _whitelist=192.0.2.%, _description=# the office" in wl, wl)
    lib.ok("verdict: whitelist: client address whitelisted, would accept" in wl, wl)
    lib.ok(section(out, "greylist") == "greylist: enabled, not reached", out)
    lib.ok("\nreply: action=dunno\n" in out, out)


def test_over_limit_sender_shows_the_throttle_row_against_its_limits():
    lib.sql("INSERT INTO throttle (_from,_count_max,_count_cur,_rcpt_max,_rcpt_cur,_date) "
            "VALUES ('alice@example.com',3,3,100,3,UNIX_TIMESTAMP())")
    before = table("throttle")
    conf = {"GREYLISTING": 0, "SENDERTHROTTLE": 1, "SENDER_THROTTLE_HOST": 0,
            "SENDER_THROTTLE_ENVELOPE": 1}
    status, out = explain(conf, attrs=["client_address=192.0.2.10", "sender=alice@example.com",
                                       "recipient=bob@example.org", "size=100", "instance=m9"])
    lib.eq(status, 0, "exit status\n" + out)
    thr = section(out, "throttle")
    lib.ok("_from=alice@example.com" in thr and "_count_max=3" in thr and "_count_cur=3" in thr,
           "the throttle row with its counters and limits:\n" + thr)
    lib.ok("count=3/3" in thr, "the decision line's counters against the limits:\n" + thr)
    lib.ok("would reject" in thr or "would defer" in thr, thr)
    lib.ok("\nreply: action=defer_if_permit Policy rejection: Quota Exceeded.\n" in out, out)
    lib.eq(table("throttle"), before, "the throttle row after --explain")
    lib.eq(table("throttle_from_instance"), [], "no instance recorded")


def test_disabled_checks_are_named():
    status, out = explain({"WHITELISTING": 0}, attrs=["client_address=192.0.2.1",
                                                      "sender=a@example.com",
                                                      "recipient=b@example.org"])
    lib.eq(status, 0, out)
    lib.eq(section(out, "whitelist"), "whitelist: not enabled", "whitelist off")
    lib.eq(section(out, "rcpt_acl"), "rcpt_acl: not enabled", "rcpt_acl off")


def test_myisam_tables_are_refused_before_anything_runs():
    lib.sql("ALTER TABLE triplet ENGINE=MyISAM")
    before = table("triplet")
    status, out = explain(stdin=LOG_LINE)
    lib.eq(status, 1, "exit status\n" + out)
    lib.ok("refused" in out and "triplet (ENGINE=MyISAM)" in out, out)
    lib.ok("greylist:" not in out, "no check ran:\n" + out)
    lib.eq(table("triplet"), before, "triplet untouched")


def test_bad_input_is_a_usage_error():
    status, out = explain(stdin="hello world\n")
    lib.eq(status, 2, out)
    lib.ok("not a name=value line" in out, out)
    status, out = explain(attrs=["novalue"])
    lib.eq(status, 2, out)


def test_distributed_origin_inside_the_explanation_changes_nothing():
    # distributed_origin decides in a transaction of its own; inside --explain's transaction it
    # must not start one (START TRANSACTION would commit the explanation's writes so far)
    before = table("triplet"), table("distributed_origin")
    status, out = explain({"DISTRIBUTED_ORIGIN": 1, "GREYLISTING": 1},
                          attrs=["sasl_username=carol", "recipient=dave@example.org",
                                 "client_address=192.0.2.44", "sender=carol@example.com"])
    lib.eq(status, 0, "exit status\n" + out)
    lib.ok("nothing was changed" in out, out)
    # its write returns the key's origins (RETURNING) and is still reported as a write
    lib.ok("would change: INSERT INTO distributed_origin" in out and "-> 2 rows" in out, out)
    lib.ok("looked up: INSERT" not in out, out)
    lib.eq((table("triplet"), table("distributed_origin")), before,
           "triplet and distributed_origin after --explain:\n" + out)


def test_a_connection_lost_midway_changes_nothing_afterwards():
    # The explanation's transaction ends with its connection; a later check's write sent on a
    # new connection would run on its own and commit (it did, before the session refused to
    # send anything more for an ended transaction)
    lib.sql("INSERT INTO triplet (_host,_from,_rcpt,_datenew,_datelast,_count) "
            "VALUES ('192.0.2','alice@example.com','bob@example.org',1,1,0)")
    d = lib.Daemon({"FAILSAFE": 2, "RECIPIENTTHROTTLE": 1, "MYSQL_TIMEOUT": "5s"}, start=False)
    with lib.row_locked("triplet", "_host='192.0.2' AND _rcpt='bob@example.org'"):
        p = subprocess.Popen([lib.POLICYD, "-c", d.conf_path, "--explain", "--explain-attr",
                              "client_address=192.0.2.10", "sender=alice@example.com",
                              "recipient=bob@example.org"], cwd=lib.REPO, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        (waiting,) = lib.lock_waiters()  # its triplet statement, behind the lock
        lib.sql("KILL %s" % waiting)
        out = p.communicate(timeout=30)[0].decode("utf-8", "replace")
    lib.eq(p.returncode, 0, "exit status\n" + out)
    lib.ok("nothing was changed" in out, out)
    lib.eq(table("throttle_rcpt"), [], "throttle_rcpt after --explain:\n" + out)
