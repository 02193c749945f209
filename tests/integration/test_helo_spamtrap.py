"""tests/integration/test_helo_spamtrap.py - blacklist_helo, spamtrap and HELO randomization.

What the conformance scenarios cannot pin, because the reference gets it wrong: the `%`
wildcards and bracketed rows of blacklist_helo (user's README), `_` staying literal, the
netblock key (NET3, never '' for IPv6), expired helo rows not counting, long descriptions
not turning a reject into an accept, repeated automatic entries, and two daemons recording
HELOs for one host at once. Each test runs against a fresh database; default config = the
reference's shipped values (GREYLISTING=1, so "no decision" shows as the greylist defer).
"""

import threading

import lib

GREY = lib.GREY_DEFER
BLACK = "action=defer_if_permit Policyd Rejection: Abuse. Go away."
TRAP = "action=reject Policy rejection: Abuse. Go away."
HELO_BL = {"BLACKLISTING": 1, "BLACKLIST_HELO": 1}

_next_client = [0]


def fresh_client():
    """A client address nobody used yet, so one test's blacklist rows never decide the next
    request (once the IP blacklist check runs, a blacklisted client is stopped before us)."""
    _next_client[0] += 1
    return "198.51.100.%d" % _next_client[0]


def blacklist():
    return lib.sql("SELECT _blacklist,_description,_expire FROM blacklist ORDER BY _blacklist")


def helo_rows():
    return lib.sql("SELECT _host,_helo FROM helo ORDER BY _host,_helo")


def ask(d, helo, expected, **attrs):
    ip = fresh_client()
    attrs.update({"helo_name": helo, "client_address": ip})
    lib.eq(d.request(attrs), expected, "HELO %r from %s" % (helo, ip))
    return ip


# ---- blacklist_helo ------------------------------------------------------------------------

def test_wildcard_helo_rows_of_the_readme():
    for row in ("192.168.0.%", "[192.168.0.%]", "localhost.%"):
        lib.sql("INSERT INTO blacklist_helo (_helo) VALUES ('%s')" % row)
    with lib.Daemon(HELO_BL) as d:
        hit = ask(d, "localhost.localdomain", BLACK)
        ask(d, "LocalHost.Example", BLACK)
        ask(d, "192.168.0.7", BLACK)
        ask(d, "[192.168.0.200]", BLACK)          # brackets are stripped, then both forms tried
        ask(d, "localhost", GREY)                 # 'localhost.%' needs the dot
        ask(d, "192.168.1.7", GREY)
        ask(d, "mail.localhost.example", GREY)    # no implicit leading wildcard
        out = d.output()
    lib.ok("blacklist_helo=new, host=%s (mail.example.com)" % hit in out, out[-2000:])
    lib.ok(", helo=localhost.localdomain, expire=0" in out, out[-2000:])
    rows = blacklist()
    lib.ok([hit, "# blacklisted helo: (localhost.localdomain)", "0"] in rows, rows)
    lib.eq(len(rows), 4, "one blacklist row per rejected client")


def test_bracketed_rows_match():
    lib.sql("INSERT INTO blacklist_helo (_helo) VALUES ('[192.0.2.2]'), ('[192.0.2.3%]')")
    with lib.Daemon(HELO_BL) as d:
        ask(d, "[192.0.2.2]", BLACK)   # the README's own example, unmatchable in the reference
        ask(d, "192.0.2.2", BLACK)     # and the bare form, as the README inserts both anyway
        ask(d, "[192.0.2.34]", BLACK)
        ask(d, "[192.0.2.4]", GREY)


def test_underscore_and_backslash_in_rows_are_literal():
    lib.sql("INSERT INTO blacklist_helo (_helo) VALUES ('mx_1.example'), ('a\\\\_b.example')")
    lib.eq(lib.sql("SELECT _helo FROM blacklist_helo ORDER BY _helo"),
           [["a\\_b.example"], ["mx_1.example"]], "stored rows")
    with lib.Daemon(HELO_BL) as d:
        ask(d, "mxa1.example", GREY)   # '_' would match any one character in plain LIKE
        ask(d, "mx_1.example", BLACK)
        # the row is a, backslash, underscore, b: as a plain LIKE pattern ('\' escapes)
        # it would match 'a_b.example'
        ask(d, "a_b.example", GREY)


def test_several_matching_rows_are_a_hit():
    # the reference hit only when exactly one row matched
    lib.sql("INSERT INTO blacklist_helo (_helo) VALUES ('localhost.%'), ('localhost.localdomain')")
    with lib.Daemon(HELO_BL) as d:
        ask(d, "localhost.localdomain", BLACK)


def test_netblock_entry_is_the_slash_24_or_the_address():
    lib.sql("INSERT INTO blacklist_helo (_helo) VALUES ('localhost')")
    with lib.Daemon(dict(HELO_BL, BLACKLIST_NETBLOCK=1)) as d:
        lib.eq(d.request({"helo_name": "localhost", "client_address": "192.0.2.10"}), BLACK)
        lib.eq(d.request({"helo_name": "localhost", "client_address": "2001:db8::7"}), BLACK)
    lib.eq([r[0] for r in blacklist()], ["192.0.2.%", "2001:db8::7"],
           "keys written (the reference wrote '192.0.2.10.%', which never matched)")


def test_long_helo_is_still_rejected_and_its_description_cut():
    helo = "localhost." + "a" * 44                  # 54 characters, the reference's maximum
    lib.sql("INSERT INTO blacklist_helo (_helo) VALUES ('localhost.%')")
    mode = lib.sql("SELECT @@GLOBAL.sql_mode")[0][0]
    lib.ok("STRICT" in mode, "the server runs in strict mode (%s), where the reference failed" % mode)
    with lib.Daemon(HELO_BL) as d:
        ask(d, helo, BLACK)
    lib.eq([r[1] for r in blacklist()], [("# blacklisted helo: (" + helo + ")")[:60]],
           "description cut to the column")


# ---- spamtrap ------------------------------------------------------------------------------

def test_ipv6_spamtrap_hit_blacklists_only_that_client():
    lib.sql("INSERT INTO spamtrap (_rcpt,_active) VALUES ('trap@example.org',1)")
    with lib.Daemon({"SPAMTRAPPING": 1, "BLACKLIST_NETBLOCK": 1}) as d:
        lib.eq(d.request({"client_address": "2001:db8::5", "recipient": "trap@example.org"}), TRAP)
        out = d.output()
    lib.eq([r[0] for r in blacklist()], ["2001:db8::5"], "key written (reference: '')")
    lib.ok("spamtrap=new, host=2001:db8::5 (mail.example.com)" in out, out[-2000:])


def test_long_recipient_trap_still_rejects():
    rcpt = "t" * 40 + "@example.org"                # 52 characters
    lib.sql("INSERT INTO spamtrap (_rcpt,_active) VALUES ('%s',1)" % rcpt)
    with lib.Daemon({"SPAMTRAPPING": 1}) as d:
        lib.eq(d.request({"recipient": rcpt}), TRAP, "long spamtrap recipient")
    lib.eq([r[:2] for r in blacklist()],
           [["192.0.2.10", ("# spamtrap delivery: (" + rcpt + ")")[:60]]], "blacklist row")


def test_repeated_trap_hit_keeps_rejecting():
    # BLACKLISTING=0: the blacklist row does not stop the client, so the trap fires again and
    # writes the same key; the reference's duplicate-key error turned that into an accept
    lib.sql("INSERT INTO spamtrap (_rcpt,_active) VALUES ('trap@example.org',1)")
    with lib.Daemon({"SPAMTRAPPING": 1, "SPAMTRAP_AUTO_EXPIRE": "1h"}) as d:
        lib.eq(d.request({"recipient": "trap@example.org"}), TRAP, "first hit")
        lib.sql("UPDATE blacklist SET _expire=_expire-600")
        lib.eq(d.request({"recipient": "trap@example.org"}), TRAP, "second hit")
    rows = lib.sql("SELECT _blacklist, _expire > UNIX_TIMESTAMP()+3500 FROM blacklist")
    lib.eq(rows, [["192.0.2.10", "1"]], "one row, expiry pushed to the later hit")


# ---- HELO randomization --------------------------------------------------------------------

HRP = {"HELO_CHECK": 1, "HELO_MAX_COUNT": 2}


def test_expired_helo_rows_do_not_count():
    lib.sql("INSERT INTO helo (_host,_helo,_expire) VALUES "
            "('192.0.2.10','old1.example',UNIX_TIMESTAMP()-10),"
            "('192.0.2.10','old2.example',UNIX_TIMESTAMP()-10),"
            "('192.0.2.10','a.example',UNIX_TIMESTAMP()-10)")
    with lib.Daemon(HRP) as d:
        lib.eq(d.request({"helo_name": "a.example"}), GREY, "three expired HELOs on record")
        # the expired row of the same HELO lives again, the others stay expired
        lib.eq(lib.sql("SELECT _helo FROM helo WHERE _expire > UNIX_TIMESTAMP() ORDER BY _helo"),
               [["a.example"]], "live rows")
        lib.eq(d.request({"helo_name": "b.example"}), GREY, "one live HELO on record")
        lib.eq(d.request({"helo_name": "c.example"}), BLACK, "two live HELOs on record")
        out = d.output()
    lib.ok("helo=abuse, host=192.0.2.10 (mail.example.com), from=alice@example.com, "
           "to=bob@example.org, size=0, helo=c.example" in out, out[-2000:])
    lib.eq(helo_rows(), [], "the host's helo rows, expired ones included, are deleted")
    lib.eq([r[:2] for r in blacklist()], [["192.0.2.10", "# helo abuse"]], "blacklist row")


def test_empty_helo_is_recorded_but_never_abusive():
    with lib.Daemon(dict(HRP, HELO_MAX_COUNT=1)) as d:
        lib.eq(d.request({"helo_name": "a.example"}), GREY)
        lib.eq(d.request({"helo_name": None}), GREY, "no HELO, one on record")
        lib.eq(helo_rows(), [["192.0.2.10", ""], ["192.0.2.10", "a.example"]])
        lib.eq(d.request({"helo_name": "a.example"}), BLACK, "the empty HELO counted")


def test_two_daemons_recording_one_host_at_once():
    helos = ["h%02d.example" % i for i in range(12)]
    reqs = b"".join(lib.request_bytes({"helo_name": h, "recipient": "r%d@example.org" % i})
                    for i, h in enumerate(helos))
    conf = {"HELO_CHECK": 1, "HELO_MAX_COUNT": 100, "GREYLISTING": 0}
    with lib.Daemon(conf) as a, lib.Daemon(conf) as b:
        replies = {}

        def run(name, daemon):
            c = daemon.connect(timeout=15)
            c.send(reqs)
            replies[name] = [c.reply() for _ in helos]
            c.close()

        threads = [threading.Thread(target=run, args=(n, dm)) for n, dm in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out = a.output() + b.output()
    for name in ("a", "b"):
        lib.eq(replies[name], ["action=dunno"] * len(helos), "replies of daemon " + name)
    lib.ok("helo=bypass" not in out and "helo=failed" not in out, out[-2000:])
    lib.eq(helo_rows(), [["192.0.2.10", h] for h in helos], "each HELO stored once")
