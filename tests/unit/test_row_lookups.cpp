// NAME
//   test_row_lookups.cpp - unit tests for the one statement of the checks' row lookups
// SYNOPSIS
//   Part of tests/unit/unit_tests (Catch2).
// DESCRIPTION
//   row_lookup_statement() must give each asked lookup its own part, in
//   order and numbered by its position, with its parameters in the same
//   order; a lone lookup goes out without UNION, none without a statement.
//   The HELO blacklist and spamtrap questions are checked here too, and the
//   two forms in which a later check's statement carries the lookups: the
//   guarded insert and the carried select (the sender throttle's row).
//   That the daemon sends one statement per request is tested against
//   MariaDB (tests/integration/test_lists.py, test_statements.py).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "policy/checks/blacklist_helo.h"
#include "policy/checks/spamtrap.h"
#include "policy/checks/throttle_sender.h"
#include "policy/row_lookups.h"

using namespace policyd;

namespace {

std::vector<std::string> split(const std::string& text, const std::string& separator) {
    std::vector<std::string> parts;
    std::size_t from = 0;
    for (std::size_t at; (at = text.find(separator, from)) != std::string::npos;
         from = at + separator.size())
        parts.push_back(text.substr(from, at - from));
    parts.push_back(text.substr(from));
    return parts;
}

// A check's context on a session that was never connected: a check that
// sent a statement through it would throw.
struct OfflineContext {
    OfflineContext(const Request& r, const Config& c) : ctx(r, c, session, 1000, 1, 7) {}
    db::Session session{db::Settings{}};
    CheckContext ctx;
};

}  // namespace

TEST_CASE("each asked lookup is one numbered part of one UNION ALL", "[row_lookups]") {
    const std::vector<std::optional<RowLookup>> lookups = {
        RowLookup{"whitelist", "_whitelist IN (?,?)", {std::string("a"), std::string("b")}},
        std::nullopt,  // a check without a question keeps its number
        RowLookup{"spamtrap", "_rcpt = ? AND _active = 1", {std::string("c")}},
        RowLookup{"blacklist", "x = ? OR y = ?", {std::string("d"), 7LL}},
    };
    const RowLookupStatement s = row_lookup_statement(lookups);
    const auto parts = split(s.sql, " UNION ALL ");
    REQUIRE(parts.size() == 3);
    CHECK(parts[0] == "(SELECT 0 FROM whitelist WHERE (_whitelist IN (?,?)) LIMIT 1)");
    CHECK(parts[1] == "(SELECT 2 FROM spamtrap WHERE (_rcpt = ? AND _active = 1) LIMIT 1)");
    CHECK(parts[2] == "(SELECT 3 FROM blacklist WHERE (x = ? OR y = ?) LIMIT 1)");
    CHECK(s.params == std::vector<db::Param>{std::string("a"), std::string("b"),
                                             std::string("c"), std::string("d"), 7LL});
}

TEST_CASE("one lookup goes out alone, none not at all", "[row_lookups]") {
    const RowLookupStatement one =
        row_lookup_statement({std::nullopt, RowLookup{"spamtrap", "_rcpt = ?", {std::string("r")}}});
    CHECK(one.sql == "SELECT 1 FROM spamtrap WHERE (_rcpt = ?) LIMIT 1");
    CHECK(one.params.size() == 1);

    CHECK(row_lookup_statement({std::nullopt, std::nullopt}).sql.empty());
    db::Session unconnected{db::Settings{}};  // would throw if a statement were sent
    CHECK(run_row_lookups(unconnected, {std::nullopt}) == 0);
    CHECK_THROWS_AS(row_lookup_statement(std::vector<std::optional<RowLookup>>(65)),
                    std::logic_error);
}

TEST_CASE("the HELO blacklist asks for the HELO and [HELO]; spamtrap for the recipient",
          "[row_lookups]") {
    Config c;
    Request r;
    r.helo = "mx.example.com";
    r.rcpt = "trap@example.org";
    OfflineContext offline(r, c);
    CheckContext& ctx = offline.ctx;

    const auto helo = BlacklistHeloCheck().row_lookup(ctx);
    REQUIRE(helo);
    CHECK(std::string(helo->table) == "blacklist_helo");
    CHECK(helo->params == std::vector<db::Param>{std::string("mx.example.com"),
                                                 std::string("[mx.example.com]")});
    CHECK(helo->condition.find(" OR ") != std::string::npos);  // hence the parentheses

    const auto trap = SpamtrapCheck().row_lookup(ctx);
    REQUIRE(trap);
    CHECK(std::string(trap->table) == "spamtrap");
    CHECK(trap->params == std::vector<db::Param>{std::string("trap@example.org")});

    r.helo.clear();
    CHECK_FALSE(BlacklistHeloCheck().row_lookup(ctx));
}

TEST_CASE("a guarded insert writes only when none of the lookups matches", "[row_lookups]") {
    const GuardedInsert insert{"INSERT INTO t (a,b)", "?,0", " ON DUPLICATE KEY UPDATE b = ?",
                               {std::string("x")}, {5LL}};
    const RowLookupStatement guarded = guarded_insert_statement(
        insert, {RowLookup{"whitelist", "_whitelist IN (?,?)", {std::string("a"), std::string("b")}},
                 std::nullopt,
                 RowLookup{"blacklist", "x = ? OR y = ?", {std::string("d"), 7LL}}});
    CHECK(guarded.sql ==
          "INSERT INTO t (a,b) SELECT ?,0 FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM whitelist "
          "WHERE (_whitelist IN (?,?))) AND NOT EXISTS (SELECT 1 FROM blacklist WHERE "
          "(x = ? OR y = ?)) ON DUPLICATE KEY UPDATE b = ?");
    // the values', then the lookups', then the rest's
    CHECK(guarded.params == std::vector<db::Param>{std::string("x"), std::string("a"),
                                                   std::string("b"), std::string("d"), 7LL, 5LL});
    const RowLookupStatement plain = guarded_insert_statement(insert, {std::nullopt});
    CHECK(plain.sql == "INSERT INTO t (a,b) VALUES (?,0) ON DUPLICATE KEY UPDATE b = ?");
    CHECK(plain.params == std::vector<db::Param>{std::string("x"), 5LL});
}

TEST_CASE("a carried select answers the lookups in a column before the checks' rows",
          "[row_lookups]") {
    const CarriedSelect joined{"t.a, t.b, ?", 3, " LEFT JOIN t ON t.k = ?", {std::string("i")},
                               {9LL}};
    const CarriedSelect scalar{"(SELECT COUNT(*) FROM u WHERE h = ?)", 1, "", {std::string("h")},
                               {}};
    const std::vector<std::optional<RowLookup>> lookups = {
        std::nullopt,  // a check without a question keeps its bit
        RowLookup{"whitelist", "_whitelist IN (?,?)", {std::string("a"), std::string("b")}},
        RowLookup{"blacklist", "x = ? OR y = ?", {std::string("d"), 7LL}},
        std::nullopt,
    };
    const RowLookupStatement carried = carried_select_statement({&joined, &scalar}, lookups);
    // bit i for lookups[i], as run_row_lookups() answers; the lookups as the
    // guarded insert asks them; then each select's columns, the joins last
    CHECK(carried.sql ==
          "SELECT (EXISTS (SELECT 1 FROM whitelist WHERE (_whitelist IN (?,?))) << 1) | "
          "(EXISTS (SELECT 1 FROM blacklist WHERE (x = ? OR y = ?)) << 2) AS row_lookups, "
          "t.a, t.b, ?, (SELECT COUNT(*) FROM u WHERE h = ?) FROM (SELECT 1) AS one "
          "LEFT JOIN t ON t.k = ?");
    // in the order of their '?': the lookups', the columns', the joins'
    CHECK(carried.params == std::vector<db::Param>{std::string("a"), std::string("b"),
                                                   std::string("d"), 7LL, std::string("i"),
                                                   std::string("h"), 9LL});
    const RowLookupStatement guarded = guarded_insert_statement(
        GuardedInsert{"INSERT INTO t (a)", "?", "", {}, {}}, lookups);
    CHECK(guarded.sql.find("NOT EXISTS (SELECT 1 FROM whitelist WHERE (_whitelist IN (?,?)))") !=
          std::string::npos);

    // no lookup asked: the selects alone, without a FROM when none joins
    const RowLookupStatement plain = carried_select_statement({&joined}, {std::nullopt});
    CHECK(plain.sql == "SELECT t.a, t.b, ? FROM (SELECT 1) AS one LEFT JOIN t ON t.k = ?");
    CHECK(plain.params == std::vector<db::Param>{std::string("i"), 9LL});
    CHECK(carried_select_statement({&scalar}, {}).sql ==
          "SELECT (SELECT COUNT(*) FROM u WHERE h = ?)");
    CHECK_THROWS_AS(carried_select_statement({&joined}, std::vector<std::optional<RowLookup>>(65)),
                    std::logic_error);
}

TEST_CASE("the sender throttle offers its row lookup as a carried select when it throttles",
          "[row_lookups]") {
    Config c;
    c.senderthrottle = 1;
    c.sender_throttle_host = 1;
    Request r;
    r.ip = "192.0.2.10";
    r.instance = "m1";
    OfflineContext offline(r, c);
    CheckContext& ctx = offline.ctx;

    const auto select = SenderThrottleCheck().carried_select(ctx);
    REQUIRE(select);
    CHECK(select->joins.find("FROM throttle WHERE _from IN (?,?,?,?)") != std::string::npos);
    CHECK(select->width == 15);  // the row's 14 columns and whether the message is new
    CHECK(select->column_params ==
          std::vector<db::Param>{std::string("m1"), std::string("m1")});  // the instance twice
    REQUIRE(select->join_params.size() == 8);  // the candidates twice
    CHECK(select->join_params[0] == db::Param{std::string("192.0.2.10")});
    CHECK_FALSE(SenderThrottleCheck().guarded_insert(ctx));

    r.ip.clear();  // HOST mode without a client address: not throttled, nothing to read
    CHECK_FALSE(SenderThrottleCheck().carried_select(ctx));
}
