// NAME
//   test_config_reload.cpp - what a reload cannot apply is named, not ignored
// SYNOPSIS
//   tests/unit/unit_tests "[reload]"
// DESCRIPTION
//   A SIGHUP applies the checks' keys at once, but the database, listener,
//   worker and process keys only at the next restart (policyd.conf(5),
//   SIGHUP). restart_only_changes() names those that changed, so the reload
//   can log them:
//   - the keys marked at_restart are exactly the ones policyd.conf(5)'s
//     SIGHUP section lists (its "MYSQL*" standing for every MYSQL key);
//   - a changed key is named with both values, in the table's order; an
//     unchanged one, or a key a reload does apply, is not;
//   - MYSQLPASS is named without its values.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"

using namespace policyd;

namespace {

std::string man_page() {
    const char* dir = std::getenv("srcdir");
    std::ifstream in(std::string(dir ? dir : ".") + "/man/policyd.conf.5.in", std::ios::binary);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The keys between "The database keys" and "take effect at the next restart".
std::set<std::string> documented_restart_keys() {
    const std::string man = man_page();
    const std::size_t section = man.find(".SH SIGHUP");
    REQUIRE(section != std::string::npos);
    const std::size_t from = man.find("The database keys", section);
    const std::size_t to = man.find("take effect at the next restart", section);
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    const std::string list = man.substr(from, to - from);
    std::set<std::string> keys;
    for (const KeySpec& key : config_keys()) {
        const std::string name(key.name);
        const bool mysql_star = name.rfind("MYSQL", 0) == 0 && list.find("MYSQL*") != std::string::npos;
        std::size_t at = list.find(name);
        // a whole word: not BINDSOCKET inside BINDSOCKET_MODE
        while (at != std::string::npos) {
            const char after = at + name.size() < list.size() ? list[at + name.size()] : ' ';
            if (after != '_' && !std::isalnum(static_cast<unsigned char>(after))) break;
            at = list.find(name, at + 1);
        }
        if (mysql_star || at != std::string::npos) keys.insert(name);
    }
    return keys;
}

// Parses `text` after the CONN_ACL line every file needs.
Config parsed(const std::string& text) { return parse_config("CONN_ACL=127.0.0.1\n" + text, "t.conf"); }

}  // namespace

TEST_CASE("the keys a reload cannot apply are the ones policyd.conf(5) lists", "[reload][docs]") {
    std::set<std::string> marked;
    for (const KeySpec& key : config_keys())
        if (key.at_restart) marked.insert(std::string(key.name));
    CHECK(marked == documented_restart_keys());
    CHECK(marked.count("MYSQLHOST") == 1);
    CHECK(marked.count("GREYLISTING") == 0);
}

TEST_CASE("a reload names each restart-only key that changed, with both values", "[reload]") {
    const Config running = parsed("MYSQLHOST=\"db1\"\nBINDPORT=10031\nGREYLISTING=1\n");
    const Config fresh =
        parsed("MYSQLHOST=\"db2,db3\"\nBINDPORT=10032\nGREYLISTING=0\nBINDSOCKET_MODE=0600\n");
    const std::vector<std::string> changes = restart_only_changes(running, fresh);
    REQUIRE(changes.size() == 3);
    CHECK(changes[0] == "MYSQLHOST changed (\"db1\" -> \"db2,db3\")");
    CHECK(changes[1] == "BINDPORT changed (10031 -> 10032)");
    CHECK(changes[2].rfind("BINDSOCKET_MODE changed (", 0) == 0);
    CHECK(changes[2].find("-> 0600)") != std::string::npos);
}

TEST_CASE("an unchanged file names nothing", "[reload]") {
    const std::string text = "MYSQLHOST=\"db1\"\nMYSQLPASS=\"secret\"\nUID=0\nSYSLOG_FACILITY=\"LOG_MAIL|LOG_INFO\"\n";
    CHECK(restart_only_changes(parsed(text), parsed(text)).empty());
}

TEST_CASE("a changed password is named without its values", "[reload]") {
    const std::vector<std::string> changes =
        restart_only_changes(parsed("MYSQLPASS=\"old-secret\"\n"), parsed("MYSQLPASS=\"new-secret\"\n"));
    REQUIRE(changes.size() == 1);
    CHECK(changes[0] == "MYSQLPASS changed");
}

TEST_CASE("a changed syslog facility is named", "[reload]") {
    const std::vector<std::string> changes =
        restart_only_changes(parsed("SYSLOG_FACILITY=\"LOG_MAIL|LOG_INFO\"\n"),
                             parsed("SYSLOG_FACILITY=\"LOG_LOCAL0|LOG_INFO\"\n"));
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].rfind("SYSLOG_FACILITY changed (", 0) == 0);
}
