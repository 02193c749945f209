// NAME
//   test_config.cpp - unit tests of the policyd.conf reader
// SYNOPSIS
//   tests/unit/unit_tests "[config]"
// DESCRIPTION
//   The reference's parsers (SYSLOG_FACILITY too, including the whole
//   duration table), its line rules, defaults of absent keys,
//   reply construction, the fatal cases with their texts, our
//   deliberate differences (strict INT, UID/GID names, CONN_ACL, reply
//   defaults, order-independent *_TEMP_REJECT), and the shipped policyd.conf.
//   The shipped file is looked up in $srcdir (set by `make check`) or ".".
#include <catch2/catch.hpp>

#include <grp.h>
#include <pwd.h>
#include <syslog.h>

#include <algorithm>
#include <climits>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>

#include "config/config.h"
#include "config/values.h"

using namespace policyd;

namespace {

const std::string acl = "CONN_ACL=127.0.0.1\n";

// Parses `text` after a valid CONN_ACL line (so it is line 2 onwards).
Config parse(const std::string& text) { return parse_config(acl + text, "test.conf"); }

// The what() of the ConfigError that parsing `text` (after CONN_ACL) throws.
std::string error_of(const std::string& text, bool with_acl = true) {
    try {
        parse_config(with_acl ? acl + text : text, "test.conf");
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError for: " << text);
    return {};
}

bool has_warning(const Config& c, const std::string& part) {
    return std::any_of(c.warnings.begin(), c.warnings.end(),
                       [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

std::string shipped_path() {
    const char* srcdir = std::getenv("srcdir");
    return std::string(srcdir ? srcdir : ".") + "/policyd.conf";
}

}  // namespace

TEST_CASE("durations follow the reference's table exactly", "[config][duration]") {
    CHECK(parse_duration("0") == 0);
    CHECK(parse_duration("00h") == 0);
    CHECK(parse_duration("0x") == 0);
    CHECK(parse_duration("30s") == 30);
    CHECK(parse_duration("4m") == 240);
    CHECK(parse_duration("1h") == 3600);
    CHECK(parse_duration("7d") == 604800);
    CHECK(parse_duration("2w") == 1209600);
    CHECK(parse_duration("1M") == 2678400);
    CHECK(parse_duration("1Y") == 32140800);
    CHECK(parse_duration("m") == 0);
    CHECK(parse_duration("-5m") == -300);
    CHECK(parse_duration("5 m") == 300);
    CHECK(parse_duration(" 5m") == 300);
    CHECK(parse_duration("1h30m") == 60);
    CHECK(parse_duration("4m  four minutes") == 4);  // "4m # four minutes" filtered
    // Exact where the reference's 32-bit int wrapped (100Y was -1080887296);
    // a product beyond a long saturates. The key's range refuses both.
    CHECK(parse_duration("100Y") == 3214080000L);
    CHECK(parse_duration("999999999999Y") == LONG_MAX);
    CHECK(parse_duration("-999999999999Y") == LONG_MIN);
    CHECK(parse_duration("99999999999999999999s") == LONG_MAX);
    for (const char* bad : {"300", "4m ", "", "3H", "5D", "1y", "5x"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_duration(bad),
                          std::string("fatal: invalid time unit: ") + bad);
    }
}

TEST_CASE("duration lines go through the filter first", "[config][duration]") {
    CHECK(parse("TRIPLET_TIME=\"5m\"\n").triplet_time == 300);
    CHECK(parse("TRIPLET_TIME=5m\t\n").triplet_time == 300);
    CHECK(parse("TRIPLET_TIME=4m # four minutes\n").triplet_time == 4);
    CHECK(parse("TRIPLET_TIME=0\n").triplet_time == 0);
    CHECK(parse("SENDERTIMELIMIT=1h\n").sendertimelimit == 3600);
    CHECK(error_of("TRIPLET_TIME=240\n") ==
          "test.conf:2: TRIPLET_TIME: fatal: invalid time unit: 240");
    CHECK(error_of("BLACKLIST_TIMEOUT=3H\n") ==
          "test.conf:2: BLACKLIST_TIMEOUT: fatal: invalid time unit: 3H");
}

TEST_CASE("durations that only work by accident draw a warning", "[config][duration]") {
    const Config c = parse("TRIPLET_TIME=1h30m\nSENDERTIMELIMIT=1h\n");
    CHECK(c.triplet_time == 60);
    CHECK(has_warning(c, "test.conf:2: TRIPLET_TIME: '1h30m' is read as 60 seconds"));
    CHECK_FALSE(has_warning(c, "SENDERTIMELIMIT"));
}

TEST_CASE("FILTERED values keep only the reference's characters up to column 63",
          "[config][filtered]") {
    CHECK(parse("PIDFILE=\"/var/run/a b#c.pid\"\n").pidfile == "/var/run/a bc.pid");
    CHECK(parse("CHROOT=/tmp/x,y\n").chroot == "/tmp/xy");
    CHECK(parse("BINDHOST=[::1]\n").bindhost == "::1");
    CHECK(parse("BINDHOST='Mail.Example'\r\n").bindhost == "Mail.Example");
    CHECK(filtered_value("PIDFILE=/run/p.pid  x", 8) == "/run/p.pid  x");

    // PIDFILE= ends at column 7, so 56 characters survive.
    const std::string long_path = "/" + std::string(59, 'p');
    const Config c = parse("PIDFILE=" + long_path + "\n");
    CHECK(c.pidfile == long_path.substr(0, 56));
    CHECK(has_warning(c, "PIDFILE: text after column 63 is ignored"));
}

TEST_CASE("MYSQLHOST: one server or a list, mistakes refused", "[config][host_list]") {
    CHECK(parse("MYSQLHOST=\"db1:3306,db2,db3\"\n").mysqlhost == "db1:3306,db2,db3");
    CHECK(parse("MYSQLHOST=localhost\n").mysqlhost == "localhost");
    const std::string e = error_of("MYSQLHOST=\"db1,db2:99999\"\n");
    CHECK(e.find("MYSQLHOST") != std::string::npos);
    CHECK(e.find("'db1,db2:99999'") != std::string::npos);
    CHECK(e.find("1..65535") != std::string::npos);
    CHECK(error_of("MYSQLHOST=db1,,db2\n").find("an empty entry") != std::string::npos);
}

TEST_CASE("RAW values lose only double quotes and newlines", "[config][raw]") {
    CHECK(parse("MYSQLPASS=\"se cr'et\" # comment\n").mysqlpass == "se cr'et # comment");
    CHECK(parse("MYSQLHOST=\"\"\n").mysqlhost.empty());
    CHECK(parse("MYSQLDBASE=a\tb <c>\n").mysqldbase == "a\tb <c>");

    CHECK(parse("MYSQLUSER='user'\n").mysqluser == "'user'");

    // Only the first '=' ends the key.
    CHECK(parse("MYSQLPASS=a=b\n").mysqlpass == "a=b");
}

TEST_CASE("reply lines are built from the RAW texts", "[config][reply]") {
    CHECK(parse("GREYLIST_REJECTION=\"Try later\" # note\n").greylist_reply ==
          "action=defer_if_permit Try later # note");
    CHECK(parse("GREYLIST_REJECTION=\"Greylisted; see http://example.org/why\"\n")
              .greylist_reply == "action=defer_if_permit Greylisted; see http://example.org/why");
    CHECK(parse("SPAMTRAP_REJECTION=\n").spamtrap_reply == "action=reject ");
    CHECK(parse("SENDER_SIZE_REJECTION=Too big\n").sender_size_reply == "action=reject Too big");
}

TEST_CASE("missing reply texts default to the shipped texts", "[config][reply]") {
    const Config c = parse("");
    CHECK(c.greylist_reply == "action=defer_if_permit Policy rejection: Please try later.");
    // Absent *_TEMP_REJECT flags are 0: permanent.
    CHECK(c.blacklist_reply == "action=reject Policyd Rejection: Abuse. Go away.");
    CHECK(c.spamtrap_reply == "action=reject Policy rejection: Abuse. Go away.");
    CHECK(c.sender_quota_reply == "action=reject Policy rejection: Quota Exceeded.");
    CHECK(c.recipient_quota_reply == "action=reject Policy rejection: Quota Exceeded.");
    CHECK(c.sender_size_reply == "action=reject Policy rejection: Message size too big.");
    CHECK(c.distributed_origin_reply ==
          "action=defer_if_permit Policy rejection: Too many origins for this sender.");

    // A default-constructed Config has the same replies.
    const Config d;
    CHECK(d.greylist_reply == c.greylist_reply);
    CHECK(d.blacklist_reply == c.blacklist_reply);
}

TEST_CASE("*_TEMP_REJECT flags apply wherever they are in the file", "[config][reply]") {
    const Config after = parse(
        "BLACKLIST_REJECTION=Go away\nBLACKLIST_TEMP_REJECT=1\n"
        "SENDER_QUOTA_REJECTION=Slow down\nRECIPIENT_QUOTA_REJECTION=Full\n"
        "QUOTA_EXCEEDED_TEMP_REJECT=1\n"
        "DISTRIBUTED_ORIGIN_REJECTION=Stolen?\nDISTRIBUTED_ORIGIN_TEMP_REJECT=0\n");
    CHECK(after.blacklist_reply == "action=defer_if_permit Go away");
    CHECK(after.sender_quota_reply == "action=defer_if_permit Slow down");
    CHECK(after.recipient_quota_reply == "action=defer_if_permit Full");
    CHECK(after.distributed_origin_reply == "action=reject Stolen?");

    const Config before = parse("BLACKLIST_TEMP_REJECT=1\nBLACKLIST_REJECTION=Go away\n"
                                "BLACKLIST_TEMP_REJECT=0\n");
    CHECK(before.blacklist_reply == "action=reject Go away");

    // conformance config-08: BLACKLIST_TEMP_REJECT=0 in the shipped position.
    CHECK(parse("BLACKLISTING=1\nBLACKLIST_TEMP_REJECT=0\n"
                "BLACKLIST_REJECTION=\"Policyd Rejection: Abuse. Go away.\"\n")
              .blacklist_reply == "action=reject Policyd Rejection: Abuse. Go away.");
}

TEST_CASE("absent keys take the values the reference program used", "[config][defaults]") {
    const Config c = parse("");
    CHECK(c.failsafe == 0);
    CHECK(c.debug == 0);
    CHECK(c.daemon == 0);
    CHECK(c.whitelisting == 0);
    CHECK(c.greylisting == 0);
    CHECK(c.triplet_time == 0);
    CHECK(c.helo_max_count == 0);
    CHECK(c.sendermsglimit == 0);
    CHECK(c.sender_throttle_host == 0);
    CHECK(c.bindport == 0);
    CHECK(c.bindhost.empty());
    CHECK(c.pidfile.empty());
    CHECK(c.mysqlhost.empty());
    CHECK(c.uid == 0);
    CHECK(c.gid == 0);
    CHECK(c.greylist_hostaddr == 3);
    CHECK(c.greylist_ipv6_prefix == 128);  // absent: every IPv6 address is its own host
    CHECK(c.syslog_facility == (LOG_MAIL | LOG_INFO));
    CHECK(c.workers == 4);
    CHECK(c.max_connections == 10000);
    CHECK(c.idle_timeout == 300);
    CHECK(c.max_request_size == 65536);
    CHECK(c.mysql_timeout == 5);
    CHECK(c.mysqlsocket.empty());
    CHECK(c.stats_interval == 0);
    CHECK(c.distributed_origin == 0);
    CHECK(c.distributed_origin_time == 3600);
    CHECK(c.distributed_origin_limit == 10);
    CHECK(c.distributed_origin_netblock == 1);
    CHECK(c.distributed_origin_keys == "both");
    CHECK(c.distributed_origin_temp_reject == 1);
    CHECK(c.distributed_origin_blacklist == 0);
    CHECK(c.distributed_origin_blacklist_expire == 86400);
    CHECK(c.warnings.empty());
}

TEST_CASE("INT values: a leading number, trailing words ignored", "[config][int]") {
    CHECK(parse("DEBUG=3 # x\n").debug == 3);
    CHECK(parse("GID=65534 # nogroup\n").gid == 65534);
    CHECK(parse("BINDPORT=\"10031\"\n").bindport == 10031);
    CHECK(parse("FAILSAFE= -1\n").failsafe == -1);
    // 64-bit: the reference's int wrapped this negative.
    CHECK(parse("SENDERQUOTALIMIT=3000000000\n").senderquotalimit == 3000000000L);
    CHECK(parse_int("42") == 42);
    CHECK_THROWS_AS(parse_int("99999999999999999999"), ValueError);
}

TEST_CASE("INT values that cannot be used are errors naming line and key", "[config][int]") {
    CHECK(error_of("\nGREYLISTING=yes\n") == "test.conf:3: GREYLISTING: not a number: 'yes'");
    CHECK(error_of("DEBUG=\n") == "test.conf:2: DEBUG: not a number: ''");
    CHECK(error_of("BINDPORT=10031x\n") == "test.conf:2: BINDPORT: not a number: '10031x'");
    CHECK(error_of("FAILSAFE=on\n") == "test.conf:2: FAILSAFE: not a number: 'on'");
    CHECK(error_of("SENDERMSGLIMIT=1.5\n").find("SENDERMSGLIMIT: not a number") !=
          std::string::npos);
}

TEST_CASE("switches are 0 or 1; 1.x read 2 as off, which nobody means", "[config][int]") {
    CHECK(parse("GREYLISTING=1\n").greylisting == 1);
    CHECK(error_of("GREYLISTING=2\n") == "test.conf:2: GREYLISTING: 2 is out of range: use 0..1");
    CHECK(error_of("BLACKLISTING=-1\n") ==
          "test.conf:2: BLACKLISTING: -1 is out of range: use 0..1");
}

TEST_CASE("UID and GID accept numbers and names", "[config][uid]") {
    const Config numeric = parse("UID=1000\nGID=1000\n");
    CHECK(numeric.uid == 1000);
    CHECK(numeric.gid == 1000);
    CHECK(numeric.uid_text == "1000");

    const Config named = parse("UID=root # the superuser\nGID=root\n");
    CHECK(named.uid == 0);
    CHECK(named.uid_text == "root");
    CHECK(named.gid == 0);
    CHECK(named.gid_text == "root");

    if (const passwd* pw = getpwnam("nobody")) {
        CHECK(parse("UID=nobody\n").uid == static_cast<long>(pw->pw_uid));
    }

    CHECK(error_of("UID=no_such_user_xyz\n") ==
          "test.conf:2: UID: unknown user 'no_such_user_xyz'");
    CHECK(error_of("GID=no_such_group_xyz\n") ==
          "test.conf:2: GID: unknown group 'no_such_group_xyz'");
    CHECK(error_of("UID=-1\n") == "test.conf:2: UID: -1 is out of range: use 0..4294967294");
    CHECK(error_of("GID=4294967295\n") ==
          "test.conf:2: GID: 4294967295 is out of range: use 0..4294967294");
    CHECK(error_of("GID=\n").find("GID: empty value") != std::string::npos);
}

TEST_CASE("SYSLOG_FACILITY is parsed like syslog.c", "[config][syslog]") {
    CHECK(parse("SYSLOG_FACILITY=\"LOG_MAIL | LOG_INFO\"\n").syslog_facility == 22);
    CHECK(parse("SYSLOG_FACILITY=log_local0|Log_Debug\n").syslog_facility ==
          (LOG_LOCAL0 | LOG_DEBUG));
    CHECK(parse("SYSLOG_FACILITY=LOG_MAIL||LOG_WARNING|\n").syslog_facility ==
          (LOG_MAIL | LOG_WARNING));
    // 0 (LOG_KERN|LOG_EMERG) becomes LOG_MAIL|LOG_INFO.
    CHECK(parse("SYSLOG_FACILITY=LOG_KERN|LOG_EMERG\n").syslog_facility == 22);

    CHECK(error_of("SYSLOG_FACILITY=\"LOG_MAIL, LOG_INFO\"\n") ==
          "test.conf:2: SYSLOG_FACILITY: fatal: didn't find priority 'LOG_MAIL LOG_INFO', exiting");
    CHECK(error_of("SYSLOG_FACILITY=LOG_MAIL|LOG_NOPE\n") ==
          "test.conf:2: SYSLOG_FACILITY: fatal: didn't find priority 'LOG_NOPE', exiting");
    CHECK(error_of("SYSLOG_FACILITY=\"\"\n") ==
          "test.conf:2: SYSLOG_FACILITY: fatal: error parsing (1st) syslog string: (null) from ");
}

TEST_CASE("settings start at column 0 with KEY=, case-sensitive", "[config][lines]") {
    const Config c = parse(" BINDPORT=1\nbindport=2\nBINDPORT = 3\n#BINDPORT=4\nNOT_A_KEY=5\n");
    CHECK(c.bindport == 0);
    CHECK(c.unknown_keys == std::vector<std::string>{"bindport", "NOT_A_KEY"});
    CHECK(has_warning(c, "test.conf:3: bindport: unknown key, ignored (keys are case-sensitive)"));
    CHECK(has_warning(c, "test.conf:6: NOT_A_KEY: unknown key, ignored"));
}

TEST_CASE("the keys 1.x shipped but never read are accepted silently", "[config][lines]") {
    const Config c = parse("SENDERMSGSIZE_WARN=50\nSENDERMSGSIZE_PANIC=90\n");
    CHECK(c.unknown_keys.empty());
    CHECK(c.warnings.empty());
}

TEST_CASE("the last of repeated keys wins", "[config][lines]") {
    const Config c = parse("DEBUG=1\nMYSQLUSER=a\nDEBUG=2\nMYSQLUSER=b\n");
    CHECK(c.debug == 2);
    CHECK(c.mysqluser == "b");
    CHECK(has_warning(c, "test.conf:4: DEBUG: also set on line 2; this line wins"));
}

TEST_CASE("lines over 255 bytes are split like fgets(256)", "[config][lines]") {
    // The 256th byte of a comment line starts a new line that is a setting.
    const Config c = parse("#" + std::string(254, 'x') + "GREYLISTING=1\n");
    CHECK(c.greylisting == 1);
    CHECK(has_warning(c, "test.conf:2: line longer than 255 bytes"));

    // A long RAW value is cut after 255 bytes; its tail is read as a line.
    const Config raw = parse("MYSQLPASS=" + std::string(245, 'a') + "BINDPORT=99\n");
    CHECK(raw.mysqlpass == std::string(245, 'a'));
    CHECK(raw.bindport == 99);

    // The line after a split line keeps its own number.
    CHECK(error_of("#" + std::string(300, 'x') + "\nDEBUG=x\n").rfind("test.conf:3:", 0) == 0);
}

TEST_CASE("CONN_ACL is required and parsed into networks", "[config][acl]") {
    const std::string missing =
        "test.conf: FATAL: you did not upgrade correctly or have broken something. Please read "
        "the Changelog.txt. You're missing the CONN_ACL setting";
    CHECK(error_of("DEBUG=0\n", false) == missing);
    CHECK(error_of("CONN_ACL=\"\"\n", false) == missing);
    CHECK(error_of("CONN_ACL=  # nobody\n", false) == missing);

    const Config c =
        parse_config("CONN_ACL=\"127.0.0.1,10.0.0.0/8 ::1\t2001:db8::/32\" # local\n", "t");
    REQUIRE(c.conn_acl.size() == 4);
    CHECK(c.conn_acl[0].str() == "127.0.0.1/32");
    CHECK(c.conn_acl[1].str() == "10.0.0.0/8");
    CHECK(c.conn_acl[2].str() == "::1/128");
    CHECK(c.conn_acl[3].str() == "2001:db8::/32");

    CHECK(error_of("\nCONN_ACL=127.0.0.1 10.0.0.0/33\n", false) ==
          "test.conf:2: CONN_ACL: invalid entry '10.0.0.0/33': expected an IPv4 or IPv6 address "
          "or network (a.b.c.d/n)");
    CHECK(error_of("CONN_ACL=localhost\n", false).find("CONN_ACL: invalid entry 'localhost'") !=
          std::string::npos);
}

TEST_CASE("SENDER_THROTTLE_HOST and _SASL together are fatal", "[config][fatal]") {
    CHECK(error_of("SENDER_THROTTLE_SASL=1\nSENDER_THROTTLE_HOST=1\n") ==
          "test.conf: FATAL: you may NOT have SENDER_THROTTLE_HOST and SENDER_THROTTLE_SASL "
          "enabled");
    CHECK(parse("SENDER_THROTTLE_SASL=1\nSENDER_THROTTLE_HOST=0\n").sender_throttle_sasl == 1);
}

TEST_CASE("GREYLIST_HOSTADDR outside 1..4 becomes 3", "[config][hostaddr]") {
    CHECK(parse("GREYLIST_HOSTADDR=2\n").greylist_hostaddr == 2);
    CHECK(parse("GREYLIST_HOSTADDR=4\n").greylist_hostaddr == 4);
    const Config c = parse("GREYLIST_HOSTADDR=7\n");
    CHECK(c.greylist_hostaddr == 3);
    CHECK(has_warning(c, "test.conf:2: GREYLIST_HOSTADDR: 7 is outside 1..4: using 3"));
    CHECK(parse("GREYLIST_HOSTADDR=0\n").greylist_hostaddr == 3);
}

TEST_CASE("GREYLIST_IPV6_PREFIX is 32..128, anything else refuses to start", "[config][ipv6]") {
    CHECK(parse("GREYLIST_IPV6_PREFIX=64\n").greylist_ipv6_prefix == 64);
    CHECK(parse("GREYLIST_IPV6_PREFIX=32\n").greylist_ipv6_prefix == 32);
    CHECK(parse("GREYLIST_IPV6_PREFIX=128\n").greylist_ipv6_prefix == 128);
    CHECK(error_of("GREYLIST_IPV6_PREFIX=31\n") ==
          "test.conf:2: GREYLIST_IPV6_PREFIX: 31 is out of range: use 32..128");
    CHECK(error_of("GREYLIST_IPV6_PREFIX=129\n") ==
          "test.conf:2: GREYLIST_IPV6_PREFIX: 129 is out of range: use 32..128");
    CHECK(error_of("GREYLIST_IPV6_PREFIX=-64\n").find("use 32..128") != std::string::npos);
    CHECK(error_of("GREYLIST_IPV6_PREFIX=99999999999999999999\n").find("GREYLIST_IPV6_PREFIX") !=
          std::string::npos);
    CHECK(error_of("GREYLIST_IPV6_PREFIX=/64\n").find("GREYLIST_IPV6_PREFIX") != std::string::npos);
}

TEST_CASE("a count of 0 that turns a check against every client is an error",
          "[config][fatal]") {
    CHECK(error_of("HELO_CHECK=1\n") ==
          "test.conf: HELO_MAX_COUNT: 0 (absent) is out of range: with HELO_CHECK=1 every "
          "client that sends a HELO would be blacklisted; use 1..2147483647");
    CHECK(parse("HELO_CHECK=1\nHELO_MAX_COUNT=10\n").helo_max_count == 10);
    CHECK(parse("HELO_MAX_COUNT=0\n").helo_max_count == 0);  // harmless while HELO_CHECK=0
    CHECK(error_of("AUTO_BLACK_LISTING=1\nAUTO_BLACKLIST_NUMBER=0\n") ==
          "test.conf:3: AUTO_BLACKLIST_NUMBER: 0 is out of range: with AUTO_BLACK_LISTING=1 "
          "every new triplet would blacklist its host; use 1..2147483647");
    CHECK(error_of("SENDERTHROTTLE=1\n").find("SENDERMSGSIZE: 0 (absent) is out of range") !=
          std::string::npos);
}

TEST_CASE("our own keys are validated", "[config][ours]") {
    const Config c = parse(
        "WORKERS=8\nMAX_CONNECTIONS=500\nIDLE_TIMEOUT=0\nMAX_REQUEST_SIZE=131072\n"
        "MYSQL_TIMEOUT=10s\nREQUEST_TIMEOUT=20s\nMYSQLSOCKET=/run/mysqld/mysqld.sock\nSTATS_INTERVAL=1h\n"
        "DISTRIBUTED_ORIGIN=1\nDISTRIBUTED_ORIGIN_TIME=30m\nDISTRIBUTED_ORIGIN_LIMIT=5\n"
        "DISTRIBUTED_ORIGIN_NETBLOCK=0\nDISTRIBUTED_ORIGIN_KEYS=SASL\n"
        "DISTRIBUTED_ORIGIN_BLACKLIST=1\nDISTRIBUTED_ORIGIN_BLACKLIST_EXPIRE=0\n");
    CHECK(c.workers == 8);
    CHECK(c.max_connections == 500);
    CHECK(c.idle_timeout == 0);
    CHECK(c.max_request_size == 131072);
    CHECK(c.mysql_timeout == 10);
    CHECK(c.request_timeout == 20);
    CHECK(c.mysqlsocket == "/run/mysqld/mysqld.sock");
    CHECK(c.stats_interval == 3600);
    CHECK(c.distributed_origin == 1);
    CHECK(c.distributed_origin_time == 1800);
    CHECK(c.distributed_origin_limit == 5);
    CHECK(c.distributed_origin_netblock == 0);
    CHECK(c.distributed_origin_keys == "sasl");
    CHECK(c.distributed_origin_blacklist == 1);
    CHECK(c.distributed_origin_blacklist_expire == 0);

    CHECK(error_of("WORKERS=0\n") ==
          "test.conf:2: WORKERS: 0 is out of range: use 1..1024");
    CHECK(error_of("MAX_REQUEST_SIZE=100\n") ==
          "test.conf:2: MAX_REQUEST_SIZE: 100 is out of range: use 1024..1048576");
    CHECK(error_of("DISTRIBUTED_ORIGIN=2\n").find("DISTRIBUTED_ORIGIN: 2 is out of range") !=
          std::string::npos);
    CHECK(error_of("IDLE_TIMEOUT=-5m\n") ==
          "test.conf:2: IDLE_TIMEOUT: -5m (-300 seconds) is out of range: use 0..1d");
    CHECK(error_of("IDLE_TIMEOUT=300\n") ==
          "test.conf:2: IDLE_TIMEOUT: fatal: invalid time unit: 300");
    CHECK(error_of("DISTRIBUTED_ORIGIN_KEYS=everyone\n") ==
          "test.conf:2: DISTRIBUTED_ORIGIN_KEYS: must be sasl, sender or both, not 'everyone'");
}

TEST_CASE("METRICS_BIND is host:port with a port of 1..65535, or empty", "[config][ours]") {
    CHECK(parse("").metrics_port == 0);
    CHECK(parse("METRICS_BIND=\n").metrics_port == 0);
    const Config v4 = parse("METRICS_BIND=\"127.0.0.1:9131\"\n");
    CHECK(v4.metrics_host == "127.0.0.1");
    CHECK(v4.metrics_port == 9131);
    CHECK(v4.metrics_bind == "127.0.0.1:9131");
    const Config v6 = parse("METRICS_BIND=[::1]:9131\n");  // FILTERED drops the brackets
    CHECK(v6.metrics_host == "::1");
    CHECK(v6.metrics_port == 9131);
    const Config any = parse("METRICS_BIND=:65535\n");
    CHECK(any.metrics_host.empty());
    CHECK(any.metrics_port == 65535);
    CHECK(error_of("METRICS_BIND=127.0.0.1\n") ==
          "test.conf:2: METRICS_BIND: '127.0.0.1' is not host:port with a port of 1..65535 "
          "(empty: metrics off)");
    CHECK(error_of("METRICS_BIND=localhost:0\n").find("port of 1..65535") != std::string::npos);
    CHECK(error_of("METRICS_BIND=localhost:65536\n").find("port of 1..65535") != std::string::npos);
    CHECK(error_of("METRICS_BIND=localhost:http\n").find("port of 1..65535") != std::string::npos);
    CHECK(error_of("METRICS_BIND=localhost:99999999999999999999\n").find("1..65535") !=
          std::string::npos);
}

TEST_CASE("the DEBUG dump follows the reference and hides the password", "[config][dump]") {
    const Config c = parse("MYSQLPASS=s3cret\nDEBUG=1\nGREYLISTING=1\n");
    const std::vector<std::string> dump = config_dump(c, "2.0.0");
    REQUIRE(dump.size() > 10);
    CHECK(dump[0] == " ---- DAEMON CONFIG ----");
    CHECK(dump[1] == "config: version> 2.0.0");
    CHECK(dump[2] == "config: debug> 1");
    const auto has = [&](const std::string& line) {
        return std::find(dump.begin(), dump.end(), line) != dump.end();
    };
    CHECK(has("config: conn acl> 127.0.0.1/32"));
    CHECK(has("config: pass> (hidden)"));
    CHECK(has("config: greylisting> 1"));
    CHECK(has("config: postfix_greylist> action=defer_if_permit Policy rejection: Please try later."));
    CHECK(has(" ---- RECIPIENT THROTTLE CONFIG ----"));
    CHECK(std::none_of(dump.begin(), dump.end(), [](const std::string& l) {
        return l.find("s3cret") != std::string::npos;
    }));
}

TEST_CASE("load_config reports an unreadable file like the reference", "[config][file]") {
    CHECK_THROWS_WITH(load_config("/nonexistent/policyd.conf"),
                      "fopen(): No such file or directory: /nonexistent/policyd.conf");
}

TEST_CASE("the shipped policyd.conf parses to the shipped values", "[config][shipped]") {
    const Config c = load_config(shipped_path());
    CHECK(c.warnings.empty());
    CHECK(c.unknown_keys.empty());

    CHECK(c.mysqlhost == "127.0.0.1");
    CHECK(c.mysqldbase == "policyd");
    CHECK(c.mysqluser == "postfix");
    CHECK(c.mysqlpass == "p0stf1x");
    CHECK(c.mysqlopt.empty());
    CHECK(c.mysqlport == 0);
    CHECK(c.failsafe == 1);
    CHECK(c.database_keepalive == 0);
    CHECK(c.debug == 0);
    CHECK(c.daemon == 0);
    CHECK(c.bindhost == "127.0.0.1");
    CHECK(c.bindport == 10031);
    CHECK(c.pidfile == "/var/run/policyd.pid");
    CHECK(c.syslog_facility == 22);
    CHECK(c.chroot == "/");
    CHECK(c.uid == 0);
    CHECK(c.gid == 0);
    REQUIRE(c.conn_acl.size() == 2);
    CHECK(c.conn_acl[0].str() == "127.0.0.1/32");
    CHECK(c.conn_acl[1].str() == "::1/128");

    CHECK(c.whitelisting == 1);
    CHECK(c.whitelistnull == 0);
    CHECK(c.auto_whitelist_number == 500);
    CHECK(c.auto_whitelist_expire == 604800);
    CHECK(c.blacklisting == 0);
    CHECK(c.blacklist_temp_reject == 1);
    CHECK(c.auto_blacklist_number == 500);
    CHECK(c.auto_blacklist_expire == 604800);
    CHECK(c.blacklist_helo_auto_expire == 0);
    CHECK(c.helo_max_count == 10);
    CHECK(c.helo_blacklist_auto_expire == 1209600);
    CHECK(c.helo_auto_expire == 604800);
    CHECK(c.spamtrap_auto_expire == 604800);
    CHECK(c.greylisting == 1);
    CHECK(c.greylist_x_header == 0);
    CHECK(c.greylist_hostaddr == 3);
    CHECK(c.training_policy_timeout == 0);
    CHECK(c.triplet_time == 240);
    CHECK(c.triplet_auth_timeout == 2592000);
    CHECK(c.triplet_unauth_timeout == 172800);
    CHECK(c.senderthrottle == 0);
    CHECK(c.sender_throttle_host == 1);
    CHECK(c.sender_throttle_sasl == 0);
    CHECK(c.quota_exceeded_temp_reject == 1);
    CHECK(c.sendermsglimit == 512);
    CHECK(c.senderrcptlimit == 3600);
    CHECK(c.senderquotalimit == 250000000);
    CHECK(c.sendertimelimit == 3600);
    CHECK(c.sendermsgsize == 10240000);
    CHECK(c.sender_inactive_expire == 2678400);
    CHECK(c.sender_throttle_autoblacklist_number == 3);
    CHECK(c.sender_throttle_autoblacklist_expire == 21600);
    CHECK(c.recipientmsglimit == 64);
    CHECK(c.recipienttimelimit == 3600);
    CHECK(c.recipient_inactive_expire == 2678400);

    // The shipped replies.
    CHECK(c.greylist_reply == "action=defer_if_permit Policy rejection: Please try later.");
    CHECK(c.blacklist_reply == "action=defer_if_permit Policyd Rejection: Abuse. Go away.");
    CHECK(c.spamtrap_reply == "action=reject Policy rejection: Abuse. Go away.");
    CHECK(c.sender_quota_reply == "action=defer_if_permit Policy rejection: Quota Exceeded.");
    CHECK(c.recipient_quota_reply == "action=defer_if_permit Policy rejection: Quota Exceeded.");
    CHECK(c.sender_size_reply == "action=reject Policy rejection: Message size too big.");

    // Our keys are commented out, so they keep their defaults.
    CHECK(c.workers == 4);
    CHECK(c.idle_timeout == 300);
    CHECK(c.distributed_origin == 0);
}

TEST_CASE("the shipped file's commented-out values of our keys are valid", "[config][shipped]") {
    // Uncommenting them must give the documented defaults.
    const Config defaults = parse("");
    std::string text;
    const Config shipped = load_config(shipped_path());
    std::ifstream in(shipped_path());
    for (std::string line; std::getline(in, line);)
        if (line.size() > 1 && line[0] == '#' && std::isupper(static_cast<unsigned char>(line[1])) &&
            line.find('=') != std::string::npos && line.rfind("#MYSQLPORT=", 0) != 0)
            text += line.substr(1) + "\n";
    REQUIRE_FALSE(text.empty());
    const Config c = parse(text);
    CHECK(c.unknown_keys.empty());
    CHECK(c.workers == defaults.workers);
    CHECK(c.max_connections == defaults.max_connections);
    CHECK(c.idle_timeout == defaults.idle_timeout);
    CHECK(c.max_request_size == defaults.max_request_size);
    CHECK(c.mysql_timeout == defaults.mysql_timeout);
    CHECK(c.request_timeout == defaults.request_timeout);
    CHECK(c.stats_interval == defaults.stats_interval);
    CHECK(c.metrics_port == defaults.metrics_port);
    CHECK(c.distributed_origin == defaults.distributed_origin);
    CHECK(c.distributed_origin_time == defaults.distributed_origin_time);
    CHECK(c.distributed_origin_limit == defaults.distributed_origin_limit);
    CHECK(c.distributed_origin_netblock == defaults.distributed_origin_netblock);
    CHECK(c.distributed_origin_keys == defaults.distributed_origin_keys);
    CHECK(c.distributed_origin_temp_reject == defaults.distributed_origin_temp_reject);
    CHECK(c.distributed_origin_reply == defaults.distributed_origin_reply);
    CHECK(c.distributed_origin_blacklist == defaults.distributed_origin_blacklist);
    CHECK(c.distributed_origin_blacklist_expire == defaults.distributed_origin_blacklist_expire);
    CHECK(c.mysqlsocket == "/run/mysqld/mysqld.sock");
    CHECK(shipped.mysqlsocket.empty());
}

TEST_CASE("BINDSOCKET: an absolute path that fits a sockaddr_un, or none", "[config][socket]") {
    CHECK(parse("").bindsocket.empty());
    CHECK(parse("BINDSOCKET=\n").bindsocket.empty());
    CHECK(parse("BINDSOCKET=\"\"\n").bindsocket.empty());
    CHECK(parse("BINDSOCKET=/var/spool/postfix/private/policyd\n").bindsocket ==
          "/var/spool/postfix/private/policyd");
    CHECK(parse("BINDSOCKET=\"/run/policyd/policyd.sock\"  # for Postfix\n").bindsocket ==
          "/run/policyd/policyd.sock");
    CHECK(parse("BINDSOCKET=/run/" + std::string(102, 'x') + "\n").bindsocket.size() == 107);
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(parse("BINDSOCKET=policyd.sock\n"),
                      Contains("BINDSOCKET: 'policyd.sock' is not an absolute path of a file"));
    CHECK_THROWS_WITH(parse("BINDSOCKET=/run/policyd/\n"), Contains("not an absolute path"));
    CHECK_THROWS_WITH(parse("BINDSOCKET=/run/" + std::string(103, 'x') + "\n"),
                      Contains("the path has 108 bytes; a socket path has at most 107"));
    CHECK_THROWS_WITH(parse("BINDSOCKET=/run/my policyd\n"),
                      Contains("a path without spaces is required"));
}

TEST_CASE("BINDSOCKET_MODE: octal permission bits 0000..0777, default 0660", "[config][socket]") {
    CHECK(parse("").bindsocket_mode == 0660);
    CHECK(parse("BINDSOCKET_MODE=0600\n").bindsocket_mode == 0600);
    CHECK(parse("BINDSOCKET_MODE=666 # world\n").bindsocket_mode == 0666);
    CHECK(parse("BINDSOCKET_MODE=\"0777\"\n").bindsocket_mode == 0777);
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(parse("BINDSOCKET_MODE=0680\n"),
                      Contains("BINDSOCKET_MODE: '0680' is not an octal file mode: use 0000..0777"));
    CHECK_THROWS_WITH(parse("BINDSOCKET_MODE=rw-rw----\n"), Contains("not an octal file mode"));
    CHECK_THROWS_WITH(parse("BINDSOCKET_MODE=\n"), Contains("not an octal file mode"));
    CHECK_THROWS_WITH(parse("BINDSOCKET_MODE=01000\n"),
                      Contains("BINDSOCKET_MODE: 01000 is out of range: use 0000..0777"));
    const Config closed = parse("BINDSOCKET_MODE=0444\n");
    REQUIRE(closed.warnings.size() == 1);
    CHECK_THAT(closed.warnings[0], Contains("0444 lets no one but root connect"));
}
