"""tests/integration/test_distributed_origin.py - the distributed_origin check against MariaDB.

The rule under test (docs/DISTRIBUTED_ORIGIN.md): every request records its (key, origin);
when the key has more than DISTRIBUTED_ORIGIN_LIMIT distinct origins whose _last is within
DISTRIBUTED_ORIGIN_TIME, the request is refused - whichever origin it comes from - and its
origin is recorded all the same. Greylisting is off, so an accepted request answers
action=dunno. Time is moved by rewriting _last with SQL.
"""

import threading

import lib

DUNNO = "action=dunno"
REFUSED = "action=defer_if_permit Policy rejection: Too many origins for this sender."
BASE = {"GREYLISTING": 0, "DISTRIBUTED_ORIGIN": 1, "DISTRIBUTED_ORIGIN_TIME": "1h",
        "DISTRIBUTED_ORIGIN_LIMIT": 3, "DISTRIBUTED_ORIGIN_NETBLOCK": 0,
        "DISTRIBUTED_ORIGIN_KEYS": "both"}


def conf(**overrides):
    c = dict(BASE)
    c.update({"DISTRIBUTED_ORIGIN_" + k.upper(): v for k, v in overrides.items()})
    return c


def ask(d, ip, sender="alice@example.com", sasl=None, **attrs):
    attrs.update({"client_address": ip, "sender": sender})
    if sasl is not None:
        attrs["sasl_username"] = sasl
    return d.request(attrs)


def origins(key):
    """The key's recorded origins (not its key row, whose origin is empty)."""
    return [r[0] for r in lib.sql("SELECT _origin FROM distributed_origin WHERE _key='%s' "
                                  "AND _origin <> '' ORDER BY _origin" % key)]


def test_limit_plus_one_origin_refused_then_every_origin_of_the_key():
    with lib.Daemon(conf()) as d:
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            lib.eq(ask(d, ip), DUNNO, "origin %s (within the limit)" % ip)
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            lib.eq(ask(d, ip), DUNNO, "known origin %s again" % ip)
        lib.eq(ask(d, "192.0.2.4"), REFUSED, "4th origin")
        # over the limit: the known origins are refused too, and nothing new is added
        lib.eq(ask(d, "192.0.2.1"), REFUSED, "known origin after the block")
        lib.eq(ask(d, "192.0.2.4"), REFUSED, "4th origin again")
        # another key is not affected
        lib.eq(ask(d, "192.0.2.4", sender="bob@example.com"), DUNNO, "another sender")
        log = d.output()
    lib.eq(origins("alice@example.com"), ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"],
           "recorded origins (the refused one too)")
    lib.eq(log.count("distributed_origin=new"), 4, "new lines (3 alice origins, 1 bob)")
    lib.eq(log.count("distributed_origin=update"), 3, "update lines")
    lib.eq(log.count("distributed_origin=block"), 3, "block lines")
    lib.ok("rcpt=7, distributed_origin=block, host=192.0.2.4 (mail.example.com), "
           "from=alice@example.com, to=bob@example.org, size=0, origins=4" in log,
           "block line with origins=4:\n" + log)


def test_new_and_update_are_told_apart_also_when_the_key_row_is_created():
    # One write records the key row and the origin; its affected rows are the key row's (1
    # created, 2 updated) plus the origin's (1 new, 2 updated, 0 unchanged), so a created key
    # row with an updated origin (3) must not read as a new origin with an updated key row (3).
    # Origins without a key row: recorded by a release before the key row, or left by a cleanup
    # that expired the key row first.
    lib.sql("INSERT INTO distributed_origin (_key,_origin,_first,_last) VALUES "
            "('alice@example.com','192.0.2.1',1,UNIX_TIMESTAMP()-60),"
            "('alice@example.com','192.0.2.2',1,UNIX_TIMESTAMP()+60)")
    with lib.Daemon(conf()) as d:
        lib.eq(ask(d, "192.0.2.1"), DUNNO, "known origin, no key row")        # 1 + 2
        lib.sql("DELETE FROM distributed_origin WHERE _origin=''")
        lib.eq(ask(d, "192.0.2.2"), DUNNO, "known origin, unchanged, no key row")  # 1 + 0
        lib.eq(ask(d, "192.0.2.3"), DUNNO, "new origin")                      # 2 + 1
        lib.eq(ask(d, "192.0.2.3"), DUNNO, "the same origin again")           # 2 + 0 or 2
        log = d.output()
    lines = [l.split(", ")[1] + " " + l.split(", ")[2] for l in log.splitlines()
             if "distributed_origin=" in l]
    lib.eq(lines, ["distributed_origin=update host=192.0.2.1 (mail.example.com)",
                   "distributed_origin=update host=192.0.2.2 (mail.example.com)",
                   "distributed_origin=new host=192.0.2.3 (mail.example.com)",
                   "distributed_origin=update host=192.0.2.3 (mail.example.com)"], "decision lines")
    lib.eq(lib.sql("SELECT _first FROM distributed_origin WHERE _origin=''"), [["3"]],
           "the key row created again counts its three decisions")


def test_long_keys_sharing_a_prefix_stay_distinct():
    # eight SASL users (and eight senders) sharing their first 60 characters, one address each,
    # LIMIT=5: each key has one origin, so all are accepted. Keys cut to the reference's
    # 64-byte row (50 characters of sasl_username) merged into one key refused from the 6th on.
    prefix = "a" * 60
    with lib.Daemon(conf(limit=5)) as d:
        for i in range(8):
            lib.eq(ask(d, "192.0.2.%d" % (i + 1), sasl="%s%d" % (prefix, i)), DUNNO,
                   "SASL user %d" % i)
        for i in range(8):
            lib.eq(ask(d, "198.51.100.%d" % (i + 1), sender="%s%d@example.com" % (prefix, i)),
                   DUNNO, "sender %d" % i)
    keys = lib.sql("SELECT _key, COUNT(*) FROM distributed_origin WHERE _origin <> '' "
                   "GROUP BY _key")  # not the keys' own rows
    lib.eq(len(keys), 16, "sixteen keys: %r" % keys)
    lib.ok(all(len(k) <= 60 and n == "1" for k, n in keys), "each fits _key, one origin: %r" % keys)


def test_origins_older_than_the_span_do_not_count():
    with lib.Daemon(conf()) as d:
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            lib.eq(ask(d, ip), DUNNO, "origin %s" % ip)
        # .1 was last seen 3700 s ago (outside the 1 h span), .2 3500 s ago (inside)
        lib.sql("UPDATE distributed_origin SET _last=UNIX_TIMESTAMP()-3700 WHERE _origin='192.0.2.1'")
        lib.sql("UPDATE distributed_origin SET _last=UNIX_TIMESTAMP()-3500 WHERE _origin='192.0.2.2'")
        lib.eq(ask(d, "192.0.2.4"), DUNNO, "4th origin while one has aged out")
        lib.eq(ask(d, "192.0.2.5"), REFUSED, "5th origin: 2, 3, 4, 5 are within the span")
        # the block ends when enough origins age out
        lib.sql("UPDATE distributed_origin SET _last=UNIX_TIMESTAMP()-4000 "
                "WHERE _origin IN ('192.0.2.2','192.0.2.3')")
        lib.eq(ask(d, "192.0.2.4"), DUNNO, "after two more origins aged out (4 and 5 left)")
        # an aged-out origin that comes back counts again
        lib.eq(ask(d, "192.0.2.1"), DUNNO, "aged-out origin back: 3 origins")
        lib.eq(ask(d, "192.0.2.2"), REFUSED, "another one back: 4 origins")


def test_netblock_mode_counts_networks():
    with lib.Daemon(conf(netblock=1, limit=2)) as d:
        for ip in ("192.0.2.1", "192.0.2.77", "192.0.2.255", "198.51.100.9", "198.51.100.10",
                   "::ffff:192.0.2.5"):
            lib.eq(ask(d, ip), DUNNO, "%s: one of two networks" % ip)
        lib.eq(ask(d, "2001:db8:1:2::1"), REFUSED, "a third network (IPv6 /64)")
        lib.eq(ask(d, "2001:DB8:1:2:ffff::9", sender="carol@example.com"), DUNNO, "carol 1st")
        lib.eq(ask(d, "2001:db8:1:2::abcd", sender="carol@example.com"), DUNNO, "same /64")
        lib.eq(ask(d, "2001:db8:1:3::1", sender="carol@example.com"), DUNNO, "next /64")
        lib.eq(ask(d, "2001:db8:1:4::1", sender="carol@example.com"), REFUSED, "third /64")
    lib.eq(origins("alice@example.com"), ["192.0.2.0/24", "198.51.100.0/24", "2001:db8:1:2::/64"],
           "alice's networks")
    lib.eq(origins("carol@example.com"), ["2001:db8:1:2::/64", "2001:db8:1:3::/64",
                                          "2001:db8:1:4::/64"], "carol's networks")


def test_address_mode_keeps_addresses_of_one_network_apart():
    with lib.Daemon(conf(limit=2)) as d:
        lib.eq(ask(d, "192.0.2.1"), DUNNO, "1st address")
        lib.eq(ask(d, "192.0.2.2"), DUNNO, "2nd address")
        lib.eq(ask(d, "192.0.2.3"), REFUSED, "3rd address of the same /24")


def test_keys_both_counts_the_sasl_user_across_senders():
    with lib.Daemon(conf(limit=2)) as d:
        lib.eq(ask(d, "192.0.2.1", sender="a@example.com", sasl="alice"), DUNNO, "1st")
        lib.eq(ask(d, "192.0.2.2", sender="b@example.com", sasl="alice"), DUNNO, "2nd")
        lib.eq(ask(d, "192.0.2.3", sender="c@example.com", sasl="alice"), REFUSED, "3rd origin")
        # unauthenticated mail is counted by its sender, apart from the account
        lib.eq(ask(d, "192.0.2.3", sender="a@example.com"), DUNNO, "sender key a@")
    lib.eq(origins("sasl=alice"), ["192.0.2.1", "192.0.2.2", "192.0.2.3"], "account origins")
    lib.eq(origins("a@example.com"), ["192.0.2.3"], "sender origins")


def test_forged_sender_never_counts_for_an_account_with_the_same_name():
    with lib.Daemon(conf(limit=1)) as d:
        lib.eq(ask(d, "192.0.2.1", sasl="alice@example.com"), DUNNO, "the account")
        for ip in ("198.51.100.1", "198.51.100.2"):
            ask(d, ip, sender="alice@example.com")  # forged, unauthenticated
        lib.eq(ask(d, "192.0.2.1", sasl="alice@example.com"), DUNNO, "the account still passes")


def test_keys_sasl_ignores_unauthenticated_mail():
    with lib.Daemon(conf(keys="sasl", limit=1)) as d:
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            lib.eq(ask(d, ip), DUNNO, "unauthenticated from %s" % ip)
        lib.eq(ask(d, "192.0.2.1", sasl="alice"), DUNNO, "account 1st origin")
        lib.eq(ask(d, "192.0.2.2", sasl="alice"), REFUSED, "account 2nd origin")
    lib.eq(lib.sql("SELECT _key, _origin FROM distributed_origin ORDER BY _origin"),
           [["sasl=alice", ""], ["sasl=alice", "192.0.2.1"], ["sasl=alice", "192.0.2.2"]],
           "only the account (its key row and two origins)")


def test_keys_sender_ignores_the_sasl_user():
    with lib.Daemon(conf(keys="sender", limit=1)) as d:
        lib.eq(ask(d, "192.0.2.1", sender="x@example.com", sasl="alice"), DUNNO, "x@ 1st")
        lib.eq(ask(d, "192.0.2.2", sender="y@example.com", sasl="alice"), DUNNO, "y@ 1st")
        lib.eq(ask(d, "192.0.2.3", sender="x@example.com", sasl="alice"), REFUSED, "x@ 2nd")
    lib.eq(lib.sql("SELECT DISTINCT _key FROM distributed_origin ORDER BY _key"),
           [["x@example.com"], ["y@example.com"]], "keys are senders")


def test_null_sender_and_missing_values_are_exempt():
    with lib.Daemon(conf(limit=1)) as d:
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            lib.eq(ask(d, ip, sender=""), DUNNO, "null sender from %s" % ip)
        # no usable client address: nothing to count
        lib.eq(ask(d, "unknown"), DUNNO, "client_address=unknown")
        lib.eq(d.request({"client_address": None}), DUNNO, "no client_address")
    lib.eq(lib.sql("SELECT COUNT(*) FROM distributed_origin"), [["0"]], "rows")


def test_whitelisted_client_never_reaches_the_check():
    lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) VALUES ('192.0.2.%','',0)")
    with lib.Daemon(dict(conf(limit=1), WHITELISTING=1)) as d:
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            lib.eq(ask(d, ip), DUNNO, "whitelisted %s" % ip)
        lib.eq(ask(d, "198.51.100.1"), DUNNO, "1st origin that is not whitelisted")
        lib.eq(ask(d, "198.51.100.2"), REFUSED, "2nd origin that is not whitelisted")
    lib.eq(origins("alice@example.com"), ["198.51.100.1", "198.51.100.2"], "counted origins")


def test_block_adds_the_sender_to_blacklist_sender():
    with lib.Daemon(conf(limit=1, blacklist=1, blacklist_expire="1d")) as d:
        lib.eq(ask(d, "192.0.2.1"), DUNNO, "1st")
        lib.eq(ask(d, "192.0.2.2"), REFUSED, "2nd")
        # an account sending as somebody else blacklists nobody
        lib.eq(ask(d, "192.0.2.1", sender="ceo@bank.example", sasl="bob"), DUNNO, "bob 1st")
        lib.eq(ask(d, "192.0.2.2", sender="ceo@bank.example", sasl="bob"), REFUSED, "bob 2nd")
    rows = lib.sql("SELECT _blacklist, _description, _expire - UNIX_TIMESTAMP() FROM blacklist_sender")
    lib.eq(len(rows), 1, "blacklist_sender rows %r" % rows)
    lib.eq(rows[0][:2], ["alice@example.com", "# distributed origin: 2 origins"], "entry")
    lib.ok(86390 <= int(rows[0][2]) <= 86400, "expires in a day: %r" % rows)


def test_block_without_blacklist_writes_no_entry():
    with lib.Daemon(conf(limit=1)) as d:
        ask(d, "192.0.2.1")
        lib.eq(ask(d, "192.0.2.2"), REFUSED, "2nd")
    lib.eq(lib.sql("SELECT COUNT(*) FROM blacklist_sender"), [["0"]], "blacklist_sender rows")


def test_permanent_reject_and_custom_text():
    with lib.Daemon(conf(limit=1, temp_reject=0, rejection='"Too many places."')) as d:
        ask(d, "192.0.2.1")
        lib.eq(ask(d, "192.0.2.2"), "action=reject Too many places.", "reply")


def test_two_daemons_accept_exactly_limit_distinct_origins():
    limit, threads, per_thread = 5, 8, 6  # 48 distinct origins for one key
    with lib.Daemon(conf(limit=limit)) as a, lib.Daemon(conf(limit=limit)) as b:
        replies = []
        lock = threading.Lock()

        def worker(n):
            d = (a, b)[n % 2]
            with d.connect(timeout=15) as c:
                for i in range(per_thread):
                    ip = "10.%d.%d.1" % (n, i)
                    got = c.request({"client_address": ip})
                    with lock:
                        replies.append((ip, got))

        ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
    accepted = [ip for ip, got in replies if got == DUNNO]
    others = [(ip, got) for ip, got in replies if got not in (DUNNO, REFUSED)]
    lib.eq(others, [], "replies other than accept/refuse")
    lib.eq(len(replies), threads * per_thread, "replies")
    lib.eq(len(accepted), limit, "accepted distinct origins (%r)" % accepted)
    lib.eq(lib.sql("SELECT COUNT(*) FROM distributed_origin WHERE _key='alice@example.com' "
                   "AND _origin <> ''"), [[str(threads * per_thread)]], "recorded origins")
