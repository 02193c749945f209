// NAME
//   test_config_ranges.cpp - every policyd.conf value inside its documented range
// SYNOPSIS
//   tests/unit/unit_tests "[ranges]"
// DESCRIPTION
//   The key table (config_keys()) is the one statement of each key's type
//   and range. These tests hold the rest of the project to it:
//   - policyd.conf(5) and the shipped policyd.conf's comments state each
//     numeric key's range exactly as range_text() writes it;
//   - the property: for generated files (the config fuzz corpus and random
//     mutations of the shipped file) whenever parse_config accepts, every
//     numeric value is inside its range and no text holds a '\r';
//   - one test per mistake an administrator made with 1.x's files (issue
//     "safe by construction"): wrapping and negative durations, ports and
//     sizes out of range, CRLF files, lines without '=', unterminated
//     quotes, a directory as the file, 1.x's shipped CONN_ACL.
//   Files are looked up in $srcdir (set by `make check`) or ".".
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"

using namespace policyd;

namespace {

std::string srcdir() {
    const char* dir = std::getenv("srcdir");
    return dir ? dir : ".";
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string error_of(const std::string& text) {
    try {
        parse_config(text, "t.conf");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(accepted)";
}

bool has_warning(const Config& c, const std::string& part) {
    return std::any_of(c.warnings.begin(), c.warnings.end(),
                       [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

// The property every accepted file must have; returns what broke it.
std::string violation(const Config& c) {
    for (const KeySpec& key : config_keys()) {
        if (is_numeric(key)) {
            const long v = c.*key.number;
            if (v < key.min || v > key.max)
                return std::string(key.name) + "=" + std::to_string(v) + " outside " +
                       range_text(key);
        }
        if (key.text && (c.*key.text).find('\r') != std::string::npos)
            return std::string(key.name) + " holds a carriage return";
    }
    if (c.greylist_hostaddr < 1 || c.greylist_hostaddr > 4) return "GREYLIST_HOSTADDR not 1..4";
    return {};
}

// Values a mutation writes into a setting: numbers of every size and sign,
// with and without the duration units, quotes and junk.
std::string random_value(std::mt19937_64& rng) {
    static const std::vector<std::string> specials = {
        "0", "1", "-1", "2", "65535", "65536", "70000", "2147483647", "2147483648",
        "4294967295", "4294967296", "1099511627776", "9223372036854775807",
        "99999999999999999999", "100Y", "10Y", "3720d", "3721d", "25000d", "999999999Y",
        "-4m", "4m", "1h30m", "0x", "\"5m", "'127.0.0.1", "yes", "", " 5 m", "1d # a day",
        "\"quoted\"", "::1 127.0.0.1 192.168.0.0/24", "LOG_MAIL|LOG_INFO", "nobody"};
    const std::string units = "smhdwMY";
    switch (rng() % 3) {
    case 0: return specials[rng() % specials.size()];
    case 1: {
        const int digits = 1 + static_cast<int>(rng() % 20);
        std::string n = (rng() % 4 == 0) ? "-" : "";
        for (int i = 0; i < digits; ++i) n += static_cast<char>('0' + rng() % 10);
        return n;
    }
    default: return std::to_string(static_cast<long>(rng() % 100000)) + units[rng() % units.size()];
    }
}

// One random edit of a file's lines: a new value for a setting (commented
// ones are switched on), a CR, a lost '=', a stray quote, a leading space,
// a duplicated or dropped line.
void mutate(std::vector<std::string>& lines, std::mt19937_64& rng) {
    const std::size_t i = rng() % lines.size();
    std::string& line = lines[i];
    switch (rng() % 8) {
    case 0:
    case 1:
    case 2: {
        std::size_t from = line.rfind('#', 0) == 0 ? 1 : 0;
        const std::size_t eq = line.find('=');
        if (eq == std::string::npos) return;
        line = line.substr(from, eq + 1 - from) + random_value(rng);
        return;
    }
    case 3: line += "\r"; return;
    case 4: line.erase(std::remove(line.begin(), line.end(), '='), line.end()); return;
    case 5: line.insert(rng() % (line.size() + 1), 1, rng() % 2 ? '"' : '\''); return;
    case 6: lines.insert(lines.begin() + static_cast<long>(rng() % lines.size()), line); return;
    default: lines.erase(lines.begin() + static_cast<long>(i)); return;
    }
}

std::string join(const std::vector<std::string>& lines, const char* eol) {
    std::string out;
    for (const auto& l : lines) out += l + eol;
    return out;
}

}  // namespace

TEST_CASE("every key has a range that fits its type", "[ranges]") {
    for (const KeySpec& key : config_keys()) {
        INFO(key.name);
        CHECK(find_config_key(key.name) == &key);
        if (!is_numeric(key)) continue;
        CHECK(key.min <= key.max);
        if (key.kind == KeyType::Flag) CHECK((key.min == 0 && key.max == 1));
        if (key.kind == KeyType::Duration) {
            CHECK(key.min >= 0);  // no key has a meaning for a negative time
            CHECK(key.max <= kMaxDuration);
        }
        // 1.x held numbers in a C int: nothing wider may be accepted unless
        // we store it exactly (64-bit fields, unsigned 32-bit columns).
        CHECK(key.max <= 4294967295L);
    }
    CHECK(range_text(*find_config_key("BINDPORT")) == "0..65535");
    CHECK(range_text(*find_config_key("TRIPLET_TIME")) == "0..10Y");
    CHECK(range_text(*find_config_key("MYSQL_TIMEOUT")) == "1s..1h");
    CHECK(range_text(*find_config_key("GREYLISTING")) == "0..1");
    CHECK(range_text(*find_config_key("MYSQLHOST")).empty());
}

TEST_CASE("policyd.conf(5) states each key's type and range", "[ranges][docs]") {
    const std::string man = slurp(srcdir() + "/man/policyd.conf.5.in");
    for (const KeySpec& key : config_keys()) {
        INFO(key.name);
        const std::string head = "\\fB" + std::string(key.name) + "\\fR (";
        const std::size_t at = man.find(head);
        REQUIRE(at != std::string::npos);
        const std::size_t semicolon = man.find(';', at);
        const std::string type = man.substr(at + head.size(), semicolon - at - head.size());
        if (is_numeric(key)) {
            CHECK(type.find(range_text(key)) != std::string::npos);
            if (key.kind == KeyType::Duration) CHECK(type.rfind("duration", 0) == 0);
            if (key.kind == KeyType::Flag) CHECK(type.rfind("flag", 0) == 0);
        }
    }
}

TEST_CASE("the shipped policyd.conf's comments state each key's range", "[ranges][docs]") {
    const std::string text = slurp(srcdir() + "/policyd.conf");
    const std::vector<std::string> lines = lines_of(text);
    // Comment lines are "#" or "# ..."; "#KEY=value" is a setting left out.
    const auto is_comment = [](const std::string& l) { return l == "#" || l.rfind("# ", 0) == 0; };
    // Switches are described once, in the header.
    CHECK(text.find("Switches are 0 (off) or 1 (on)") != std::string::npos);
    for (const KeySpec& key : config_keys()) {
        INFO(key.name);
        const std::string set = std::string(key.name) + "=";
        const auto it = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) {
            return l.rfind(set, 0) == 0 || l.rfind("#" + set, 0) == 0;
        });
        REQUIRE(it != lines.end());  // every key is in the file, set or commented out
        if (!is_numeric(key) || key.kind == KeyType::Flag) continue;
        // The comment block above the group of setting lines this key is in.
        auto top = it;
        while (top != lines.begin() && !(top - 1)->empty() && !is_comment(*(top - 1))) --top;
        std::string block;
        for (auto c = top; c != lines.begin() && is_comment(*(c - 1)); --c)
            block = *(c - 1) + "\n" + block;
        CHECK(block.find(range_text(key)) != std::string::npos);
    }
}

TEST_CASE("accepted files hold every value inside its range (property)", "[ranges][property]") {
    std::vector<std::string> seeds;
    for (const auto& entry :
         std::filesystem::directory_iterator(srcdir() + "/tests/fuzz/corpus/config"))
        seeds.push_back(slurp(entry.path().string()));
    const std::string shipped = slurp(srcdir() + "/policyd.conf");
    seeds.push_back(shipped);
    for (const std::string& seed : seeds) {
        try {
            const Config c = parse_config(seed, "seed.conf");
            CHECK(violation(c).empty());
        } catch (const ConfigError&) {
        }
    }

    std::mt19937_64 rng(20261204);
    const std::vector<std::string> base = lines_of(shipped);
    int accepted = 0, refused = 0;
    for (int round = 0; round < 3000; ++round) {
        std::vector<std::string> lines = base;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !lines.empty(); ++e) mutate(lines, rng);
        const std::string text = join(lines, rng() % 5 == 0 ? "\r\n" : "\n");
        try {
            const Config c = parse_config(text, "mutant.conf");
            ++accepted;
            const std::string broken = violation(c);
            INFO(text);
            REQUIRE(broken.empty());
        } catch (const ConfigError&) {
            ++refused;
        }
    }
    // Both outcomes must be common, or the property says nothing.
    CHECK(accepted > 300);
    CHECK(refused > 300);
}

TEST_CASE("mistake: durations that wrapped in 1.x are refused", "[ranges][mistakes]") {
    const std::string acl = "CONN_ACL=127.0.0.1\n";
    CHECK(error_of(acl + "TRIPLET_AUTH_TIMEOUT=100Y\n") ==
          "t.conf:2: TRIPLET_AUTH_TIMEOUT: 100Y (3214080000 seconds) is out of range: use 0..10Y");
    CHECK(error_of(acl + "TRIPLET_AUTH_TIMEOUT=25000d\n") ==
          "t.conf:2: TRIPLET_AUTH_TIMEOUT: 25000d (2160000000 seconds) is out of range: use "
          "0..10Y");
    CHECK(error_of(acl + "AUTO_WHITELIST_EXPIRE=999999999Y\n") ==
          "t.conf:2: AUTO_WHITELIST_EXPIRE: 999999999Y (32140799967859200 seconds) is out of "
          "range: use 0..10Y");
    CHECK(error_of(acl + "SENDER_INACTIVE_EXPIRE=99999999999999999999d\n") ==
          "t.conf:2: SENDER_INACTIVE_EXPIRE: 99999999999999999999d is out of range: use 0..10Y");
    CHECK(parse_config(acl + "TRIPLET_AUTH_TIMEOUT=10Y\n", "t").triplet_auth_timeout == kMaxDuration);
}

TEST_CASE("mistake: negative durations are refused", "[ranges][mistakes]") {
    CHECK(error_of("CONN_ACL=127.0.0.1\nTRIPLET_TIME=-4m\n") ==
          "t.conf:2: TRIPLET_TIME: -4m (-240 seconds) is out of range: use 0..10Y");
}

TEST_CASE("mistake: ports and sizes out of range are refused", "[ranges][mistakes]") {
    const std::string acl = "CONN_ACL=127.0.0.1\n";
    CHECK(error_of(acl + "BINDPORT=70000\n") ==
          "t.conf:2: BINDPORT: 70000 is out of range: use 0..65535");
    CHECK(error_of(acl + "BINDPORT=-1\n") == "t.conf:2: BINDPORT: -1 is out of range: use 0..65535");
    CHECK(error_of(acl + "MYSQLPORT=65536\n") ==
          "t.conf:2: MYSQLPORT: 65536 is out of range: use 0..65535");
    CHECK(error_of(acl + "MAX_REQUEST_SIZE=1099511627776\n") ==
          "t.conf:2: MAX_REQUEST_SIZE: 1099511627776 is out of range: use 1024..1048576");
}

TEST_CASE("mistake: a CRLF file reads like its LF twin", "[ranges][mistakes]") {
    const std::vector<std::string> lines = lines_of(slurp(srcdir() + "/policyd.conf"));
    const Config lf = parse_config(join(lines, "\n"), "lf.conf");
    const Config crlf = parse_config(join(lines, "\r\n"), "crlf.conf");
    CHECK(crlf.mysqlhost == "127.0.0.1");
    CHECK(crlf.mysqlpass == lf.mysqlpass);
    CHECK(crlf.greylist_reply == lf.greylist_reply);
    CHECK(violation(crlf).empty());
    CHECK(crlf.warnings.size() == lf.warnings.size());
    // A CR that does not end a line is an error, not part of a value.
    CHECK(error_of("CONN_ACL=127.0.0.1\nMYSQLHOST=127.0.0.1\rMYSQLUSER=x\n") ==
          "t.conf:2: MYSQLHOST: carriage return inside the line (a file with CR line ends?)");
}

TEST_CASE("mistake: a line without '=' draws a warning", "[ranges][mistakes]") {
    const Config c = parse_config("CONN_ACL=127.0.0.1\nGREYLISTING 1\n  # fine\n\n", "t.conf");
    CHECK(has_warning(c, "t.conf:2: ignored: not a setting (KEY=value at column 0)"));
    CHECK(c.warnings.size() == 1);
    CHECK(has_warning(parse_config("CONN_ACL=127.0.0.1\n BINDPORT=1\n", "t.conf"),
                      "t.conf:2: ignored: not a setting"));
}

TEST_CASE("mistake: an unterminated quote is an error", "[ranges][mistakes]") {
    const std::string acl = "CONN_ACL=127.0.0.1\n";
    CHECK(error_of(acl + "MYSQLPASS=\"p0stf1x\n") ==
          "t.conf:2: MYSQLPASS: unterminated quote: \"p0stf1x");
    CHECK(error_of(acl + "BINDHOST='127.0.0.1\n") ==
          "t.conf:2: BINDHOST: unterminated quote: '127.0.0.1");
    CHECK(parse_config(acl + "MYSQLPASS=\"se cr'et\"\n", "t").mysqlpass == "se cr'et");
}

TEST_CASE("mistake: -c naming a directory says so", "[ranges][mistakes]") {
    const std::string dir = std::filesystem::temp_directory_path().string();
    CHECK_THROWS_WITH(load_config(dir), "fopen(): Is a directory: " + dir);
}

TEST_CASE("mistake: 1.x's shipped CONN_ACL gets a hint", "[ranges][mistakes]") {
    const Config c = parse_config("CONN_ACL=::1 127.0.0.1 192.168.0.0/24\n", "t.conf");
    CHECK(c.conn_acl.size() == 3);
    CHECK(has_warning(c, "t.conf:1: CONN_ACL: still the example of policyd 1.x"));
    CHECK(has_warning(parse_config("CONN_ACL=192.168.0.0/24,127.0.0.1 ::1\n", "t.conf"),
                      "CONN_ACL: still the example"));
    CHECK_FALSE(has_warning(parse_config("CONN_ACL=::1 127.0.0.1\n", "t.conf"), "CONN_ACL"));
}
