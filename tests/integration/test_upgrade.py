"""tests/integration/test_upgrade.py - database/upgrade-from-1.x.sql on a policyd 1.x database.

The old database is fixtures/policyd-1.x-schema.sql: MyISAM, latin1, pre-IPv6 address columns,
no rcpt_acl, no throttle._priority, no distributed_origin, rows in every table.  The upgrade
runs twice; afterwards every row must still be there with the same values, the tables must be
exactly those of DATABASE.mysql (columns, types, defaults, keys; InnoDB), and the daemon must
decide on the old rows as policyd 1.x did.  docs/MIGRATION.md describes the procedure.
"""

import os
import types

import lib

FIXTURE = os.path.join(lib.HERE, "fixtures", "policyd-1.x-schema.sql")
UPGRADE = os.path.join(lib.REPO, "database", "upgrade-from-1.x.sql")
OLD_TABLES = ["triplet", "whitelist", "whitelist_sender", "whitelist_dnsname", "blacklist",
              "blacklist_helo", "blacklist_sender", "blacklist_dnsname", "spamtrap", "policy",
              "policy_training", "helo", "throttle", "throttle_from_instance", "throttle_rcpt"]
NEW_TABLES = ["rcpt_acl", "distributed_origin"]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def load_old_database():
    """Replace the test database by the 1.x fixture."""
    lib._database.run(script="DROP DATABASE IF EXISTS `{0}`;\nCREATE DATABASE `{0}`;\nUSE `{0}`;\n{1}"
                      .format(lib._settings.db, read(FIXTURE)), use_db=False)


def upgrade():
    lib._database.run(script=read(UPGRADE))


def columns(table):
    return [r[0] for r in lib.sql(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=DATABASE() "
        "AND TABLE_NAME='%s' ORDER BY ORDINAL_POSITION" % table)]


def contents(tables_columns):
    """Every row of every table, selecting the given columns, in a stable order."""
    out = {}
    for table, cols in tables_columns.items():
        listed = ",".join(cols)
        out[table] = lib.sql("SELECT %s FROM %s ORDER BY %s" % (listed, table, listed))
    return out


SCHEMA_QUERIES = {
    "columns": "SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "
               "COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION FROM information_schema.COLUMNS "
               "WHERE TABLE_SCHEMA='%s' "
               "ORDER BY TABLE_NAME, ORDINAL_POSITION",
    "keys": "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='%s' "
            "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    "engines": "SELECT TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA='%s' "
               "ORDER BY TABLE_NAME",
}


def schema(database):
    return {what: lib.sql(query % database) for what, query in SCHEMA_QUERIES.items()}


def reference_schema():
    """The schema of a database loaded from DATABASE.mysql (created and dropped here)."""
    settings = types.SimpleNamespace(**vars(lib._settings))
    settings.db = lib._settings.db + "_ref"
    ref = lib.conformance.Database(settings)
    ref.recreate([])
    try:
        return schema(settings.db)
    finally:
        ref.run("DROP DATABASE `%s`" % settings.db, use_db=False)


def test_upgrade_twice_keeps_every_row_and_reaches_the_schema():
    load_old_database()
    old_columns = {t: columns(t) for t in OLD_TABLES}
    lib.eq(old_columns["triplet"][2], "_host", "fixture sanity")
    before = contents(old_columns)
    for table in OLD_TABLES:
        lib.ok(before[table], "fixture table %s has rows" % table)
    lib.eq(columns("rcpt_acl"), [], "rcpt_acl is missing before the upgrade")

    expected = reference_schema()
    for run in (1, 2):
        upgrade()
        lib.eq(contents(old_columns), before, "rows after run %d" % run)
        lib.eq(schema(lib._settings.db), expected, "schema after run %d" % run)

    lib.eq(lib.sql("SELECT _from,_priority FROM throttle ORDER BY _from"),
           [["192.0.2.40", "0"], ["@example.com", "0"]], "new column takes its default")
    for table in NEW_TABLES:
        lib.eq(lib.sql("SELECT COUNT(*) FROM %s" % table), [["0"]], "new table %s" % table)
    # the widened columns take IPv6 keys whole
    v6 = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
    lib.sql("INSERT INTO blacklist (_blacklist,_description,_expire) VALUES ('%s','v6',0)" % v6)
    lib.sql("INSERT INTO triplet (_host,_from,_rcpt) VALUES ('%s','a@b.c','d@e.f')" % v6)
    lib.eq(lib.sql("SELECT _blacklist FROM blacklist WHERE _description='v6'"), [[v6]], "IPv6 blacklist")
    lib.eq(lib.sql("SELECT _host FROM triplet WHERE _from='a@b.c'"), [[v6]], "IPv6 triplet host")
    # latin1 text survived the engine change unchanged
    lib.eq(lib.sql("SELECT _description FROM whitelist WHERE _whitelist='198.51.100.%'"),
           [["partner netblock (Müller GmbH)"]], "non-ASCII description")


def test_upgraded_database_greylists_as_before():
    load_old_database()
    upgrade()
    upgrade()
    with lib.Daemon({"GREYLISTING": 1, "TRIPLET_TIME": "4m"}) as d:
        # a triplet first seen in 2007 passes at once and is counted
        lib.eq(d.request({"recipient": "old@example.org"}), "action=dunno", "old triplet")
        lib.eq(lib.sql("SELECT _count FROM triplet WHERE _rcpt='old@example.org'"), [["4"]],
               "old triplet counted")
        # a new one is greylisted and stored beside the old rows
        lib.eq(d.request({"recipient": "new@example.org"}), lib.GREY_DEFER, "new triplet")
        lib.eq(lib.sql("SELECT _host,_from FROM triplet WHERE _rcpt='new@example.org'"),
               [["192.0.2", "alice@example.com"]], "new triplet row")
        lib.eq(lib.sql("SELECT COUNT(*) FROM triplet"), [["4"]], "old rows kept")


def test_upgraded_database_lists_decide_as_before():
    # Needs the whitelist and blacklist checks (merged from their branch).
    load_old_database()
    upgrade()
    upgrade()
    with lib.Daemon({"WHITELISTING": 1, "BLACKLISTING": 1, "BLACKLIST_TEMP_REJECT": 1}) as d:
        c = d.connect(source="127.0.0.1")
        lib.eq(c.request({"client_address": "192.0.2.20", "recipient": "w@example.org"}),
               "action=dunno", "whitelisted address")
        lib.eq(c.request({"client_address": "203.0.113.5", "recipient": "b@example.org"}),
               "action=defer_if_permit Policyd Rejection: Abuse. Go away.", "blacklisted address")
        # the one difference: a CIDR row, which 1.x ignored, now matches (docs/MIGRATION.md)
        lib.eq(c.request({"client_address": "198.19.255.1", "recipient": "c@example.org"}),
               "action=defer_if_permit Policyd Rejection: Abuse. Go away.", "CIDR row after upgrade")
        lib.eq(lib.sql("SELECT COUNT(*) FROM triplet WHERE _rcpt IN ('w@example.org','b@example.org','c@example.org')"),
               [["0"]], "neither was greylisted")
