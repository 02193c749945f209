"""tests/integration/test_two_daemons.py - two daemons sharing one database (docs/SCALING.md).

The documented setup: every daemon has its own policyd.conf with the same MYSQL* keys; all
state lives in the database, so what one daemon writes the other decides on.  Greylisting
state (a triplet created through one daemon) and administrator rows (a whitelist insert) must
be seen by both, and concurrent first requests for one triplet must leave exactly one row.
"""

import threading
import time

import lib

CONF = {"GREYLISTING": 1, "TRIPLET_TIME": "2s", "WHITELISTING": 1}


def test_triplet_created_through_one_passes_through_the_other():
    with lib.Daemon(CONF) as a, lib.Daemon(CONF) as b:
        lib.eq(a.request({"recipient": "shared@example.org"}), lib.GREY_DEFER, "first try on A")
        lib.eq(b.request({"recipient": "shared@example.org"}), lib.GREY_DEFER,
               "retry on B before TRIPLET_TIME")
        time.sleep(2.5)
        lib.eq(b.request({"recipient": "shared@example.org"}), "action=dunno",
               "retry on B after TRIPLET_TIME")
        lib.eq(a.request({"recipient": "shared@example.org"}), "action=dunno", "and on A")
        lib.eq(lib.sql("SELECT COUNT(*), MAX(_count) FROM triplet"), [["1", "2"]],
               "one triplet, counted by both daemons")


def test_whitelist_insert_is_seen_by_both():
    with lib.Daemon(CONF) as a, lib.Daemon(CONF) as b:
        lib.eq(a.request({"recipient": "w1@example.org"}), lib.GREY_DEFER, "A before the insert")
        lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) VALUES ('192.0.2.10','',0)")
        lib.eq(a.request({"recipient": "w2@example.org"}), "action=dunno", "A after the insert")
        lib.eq(b.request({"recipient": "w3@example.org"}), "action=dunno", "B after the insert")


def test_concurrent_first_requests_store_one_triplet():
    with lib.Daemon(CONF) as a, lib.Daemon(CONF) as b:
        replies = []

        def client(daemon):
            with daemon.connect() as c:
                for _ in range(10):
                    replies.append(c.request({"recipient": "race@example.org"}))

        threads = [threading.Thread(target=client, args=(d,)) for d in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        lib.eq(sorted(set(replies)), [lib.GREY_DEFER], "every early try deferred")
        lib.eq(len(replies), 40, "every request answered")
        lib.eq(lib.sql("SELECT COUNT(*) FROM triplet"), [["1"]], "one triplet row")
