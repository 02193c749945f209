"""tests/integration/test_ipv6_prefix.py - GREYLIST_IPV6_PREFIX through the real daemon.

Without the key (every 1.x policyd.conf) each IPv6 address is its own triplet host, exactly as
before. With GREYLIST_IPV6_PREFIX=64 the host is the client's /64 in CIDR notation: a retry from
another address of the same /64 passes, one from another /64 is a new triplet; IPv4 clients keep
GREYLIST_HOSTADDR. Auto-white/blacklisting's netblock entries of IPv6 clients are that network,
written as a CIDR row, which the IP lists match. Each test runs against a fresh database with the
reference's shipped keys (so GREYLIST_IPV6_PREFIX is absent unless a test sets it).
"""

import os
import re
import signal
import time

import lib

GREY = lib.GREY_DEFER
DUNNO = "action=dunno"
BLACK = "action=defer_if_permit Policyd Rejection: Abuse. Go away."


def age_triplets(seconds=300):
    lib.sql("UPDATE triplet SET _datenew=_datenew-%d" % seconds)


def hosts():
    return [r[0] for r in lib.sql("SELECT _host FROM triplet ORDER BY _host")]


def client(ip, rcpt="bob@example.org"):
    return {"client_address": ip, "recipient": rcpt}


def test_without_the_key_every_ipv6_address_is_its_own_host():
    for conf in ({}, {"GREYLIST_IPV6_PREFIX": 128}):
        lib.reset_db()
        with lib.Daemon(conf) as d:
            lib.eq(d.request(client("2001:db8:1:2::a")), GREY, "%s: first delivery" % conf)
            age_triplets()
            lib.eq(d.request(client("2001:db8:1:2::b")), GREY,
                   "%s: a retry from a neighbour is a new triplet" % conf)
            lib.eq(d.request(client("2001:db8:1:2::a")), DUNNO, "%s: the address itself passes" % conf)
        lib.eq(hosts(), ["2001:db8:1:2::a", "2001:db8:1:2::b"], "%s: host keys" % conf)


def test_prefix_64_a_retry_from_the_same_64_passes_another_64_is_new():
    with lib.Daemon({"GREYLIST_IPV6_PREFIX": 64}) as d:
        lib.eq(d.request(client("2001:db8:1:2::a")), GREY, "first delivery")
        lib.eq(hosts(), ["2001:db8:1:2::/64"], "the triplet host is the /64")
        age_triplets()
        lib.eq(d.request(client("2001:DB8:1:2:ffff:ffff:ffff:1")), DUNNO, "retry from the same /64")
        lib.ok(re.search(r"greylist=update, host=2001:db8:1:2:ffff:ffff:ffff:1 ", d.output()),
               "the log names the client's own address:\n%s" % d.output())
        lib.eq(d.request(client("2001:db8:1:3::a")), GREY, "another /64 is a new triplet")
        # IPv4 clients keep GREYLIST_HOSTADDR (3: the /24)
        lib.eq(d.request(client("192.0.2.10")), GREY, "IPv4 first delivery")
        age_triplets()
        lib.eq(d.request(client("192.0.2.99")), DUNNO, "IPv4 retry from the same /24")
    lib.eq(hosts(), ["192.0.2", "2001:db8:1:2::/64", "2001:db8:1:3::/64"], "host keys")


def test_prefix_48_groups_a_whole_site():
    with lib.Daemon({"GREYLIST_IPV6_PREFIX": 48}) as d:
        lib.eq(d.request(client("2001:db8:aa:1::1")), GREY)
        age_triplets()
        lib.eq(d.request(client("2001:db8:aa:ff::2")), DUNNO, "same /48")
        lib.eq(d.request(client("2001:db8:ab::1")), GREY, "next /48")
    lib.eq(hosts(), ["2001:db8:aa::/48", "2001:db8:ab::/48"])


def test_awl_netblock_whitelists_the_64_as_a_cidr_row():
    conf = {"GREYLIST_IPV6_PREFIX": 64, "AUTO_WHITE_LISTING": 1, "AUTO_WHITELIST_NUMBER": 1,
            "AUTO_WHITELIST_NETBLOCK": 1}
    with lib.Daemon(conf) as d:
        lib.eq(d.request(client("2001:db8:1:2::a")), GREY)
        age_triplets()
        lib.eq(d.request(client("2001:db8:1:2::b")), DUNNO, "the pass whitelists the /64")
        lib.eq(lib.sql("SELECT _whitelist,_cidr FROM whitelist"),
               [["2001:db8:1:2::/64", "20010DB8000100020000000000000000/64"]], "whitelist row")
        lib.eq(hosts(), [], "the /64's triplets are gone")
        lib.eq(d.request(client("2001:db8:1:2:9::9", "new@example.org")), DUNNO,
               "a new triplet from the /64 is whitelisted")
        lib.ok(re.search(r", whitelist=update, host=2001:db8:1:2:9::9 ", d.output()), d.output())
        lib.eq(d.request(client("2001:db8:1:3::a", "new@example.org")), GREY, "another /64 is not")


def test_abl_netblock_blacklists_the_64_as_a_cidr_row():
    conf = {"GREYLIST_IPV6_PREFIX": 64, "AUTO_BLACK_LISTING": 1, "AUTO_BLACKLIST_NUMBER": 2,
            "BLACKLIST_NETBLOCK": 1, "BLACKLISTING": 1}
    with lib.Daemon(conf) as d:
        lib.eq(d.request(client("2001:db8:1:2::a", "r1@example.org")), GREY)
        lib.eq(d.request(client("2001:db8:1:2::b", "r2@example.org")), GREY,
               "two never-passed triplets of the /64: abl")
        lib.eq(lib.sql("SELECT _blacklist,_description FROM blacklist"),
               [["2001:db8:1:2::/64", "# autoblacklisted"]])
        lib.eq(d.request(client("2001:db8:1:2::c", "r3@example.org")), BLACK, "the /64 is blocked")
        lib.eq(d.request(client("2001:db8:1:3::c", "r3@example.org")), GREY, "its neighbour is not")


def test_without_the_key_netblock_entries_of_ipv6_clients_stay_the_address():
    conf = {"AUTO_BLACK_LISTING": 1, "AUTO_BLACKLIST_NUMBER": 1, "BLACKLIST_NETBLOCK": 1}
    with lib.Daemon(conf) as d:
        lib.eq(d.request(client("2001:db8:1:2::a")), GREY)
    lib.eq(lib.sql("SELECT _blacklist FROM blacklist"), [["2001:db8:1:2::a"]])


def test_out_of_range_values_are_refused_naming_key_value_and_range():
    for value in ("31", "129", "0", "-64", "sixty-four"):
        with lib.Daemon({"GREYLIST_IPV6_PREFIX": value}, start=False) as d:
            status, out = lib.run_policyd(["-t", "-c", d.conf_path])
            lib.eq(status, 1, "-t exit status for %s:\n%s" % (value, out))
            lib.ok("GREYLIST_IPV6_PREFIX" in out and value in out, "names key and value:\n%s" % out)
            if value != "sixty-four":
                lib.ok("32..128" in out, "names the range:\n%s" % out)
    with lib.Daemon({"GREYLIST_IPV6_PREFIX": 64}, start=False) as d:
        status, out = lib.run_policyd(["-t", "-c", d.conf_path])
        lib.eq(status, 0, "64 is accepted:\n%s" % out)


def wait_for_count(d, text, count, limit=5.0):
    """Whether the daemon's output holds text count times within limit seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if d.output().count(text) >= count:
            return True
        time.sleep(0.05)
    return False


def test_a_reload_with_a_bad_value_keeps_the_running_prefix():
    with lib.Daemon({"GREYLIST_IPV6_PREFIX": 64}) as d:
        lib.eq(d.request(client("2001:db8:1:2::a")), GREY)
        d.write_conf({"GREYLIST_IPV6_PREFIX": 200})
        d.signal(signal.SIGHUP)
        lib.ok(wait_for_count(d, "reload failed", 1), "the refused reload is logged")
        lib.ok(re.search(r"reload failed.*GREYLIST_IPV6_PREFIX.*200", d.output()), d.output())
        age_triplets()
        lib.eq(d.request(client("2001:db8:1:2::b")), DUNNO, "still /64 after the refused reload")
        d.write_conf({"GREYLIST_IPV6_PREFIX": 128})
        d.signal(signal.SIGHUP)
        lib.ok(wait_for_count(d, "reloaded configuration", 1), "the good reload is logged")
        lib.eq(d.request(client("2001:db8:1:2::c")), GREY, "/128 after the good reload")


def test_the_shipped_policyd_conf_sets_64_for_new_installations():
    shipped = open(os.path.join(lib.REPO, "policyd.conf"), encoding="utf-8").read()
    lib.eq(re.findall(r"^GREYLIST_IPV6_PREFIX=(\S+)", shipped, re.M), ["64"], "shipped value")
