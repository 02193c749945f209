// NAME
//   test_cleanup_tasks.cpp - the cleanup program's task list
// DESCRIPTION
//   Order, switches, cut-offs and the reference's exact "expiring ..."
//   messages. What the deletes remove
//   from a real database is in tests/integration/test_cleanup.py.
#include <catch2/catch.hpp>

#include <algorithm>

#include "cleanup/tasks.h"

using namespace policyd;

namespace {

constexpr std::time_t kNow = 1000000000;

// The switches and ages of the shipped policyd.conf, with every module on.
Config shipped() {
    Config c;
    c.greylisting = 1;
    c.triplet_auth_timeout = 30 * 86400;
    c.triplet_unauth_timeout = 2 * 86400;
    c.auto_whitelist_expire = 7 * 86400;
    c.helo_auto_expire = 7 * 86400;
    c.senderthrottle = 1;
    c.sender_inactive_expire = 31 * 86400;
    c.recipientthrottle = 1;
    c.recipient_inactive_expire = 31 * 86400;
    c.training_policy_timeout = 36 * 3600;
    c.distributed_origin_time = 3600;
    return c;
}

const Task& nth(const std::vector<Task>& tasks, std::size_t i) {
    REQUIRE(i < tasks.size());
    return tasks[i];
}

long long param(const Task& t) {
    REQUIRE(t.params.size() == 1);
    return std::get<long long>(t.params[0]);
}

}  // namespace

TEST_CASE("cleanup runs the reference's steps in its order with its messages", "[cleanup]") {
    const auto tasks = cleanup_tasks(shipped(), kNow);
    REQUIRE(tasks.size() == 14);
    const char* messages[] = {
        "expiring validated records older than 30 days (997408000)",
        "expiring unvalidated records older than 2 days (999827200)",
        "expiring blacklisted records (1000000000)",
        "expiring autowhitelisted records older than 7 days (1000000000)",
        "expiring helo records older than 7 days (1000000000)",
        "expiring throttlesender records older than 31 days (997321600)",
        "expiring throttlesender instances older than 1 hour (999996400)",
        "expiring throttlerecipient records older than 31 days (997321600)",
        // 36 h prints as 1 day: integer division, as the reference
        "expiring training policies records older than 1 days (999870400)",
        "expiring blacklisted sender records (1000000000)",
        "expiring whitelisted sender records (1000000000)",
        "expiring blacklisted dnsname records (1000000000)",
        "expiring whitelisted dnsname records (1000000000)",
        "expiring distributed origin records older than 3600 seconds (999996400)",
    };
    const char* tables[] = {"triplet", "triplet", "blacklist", "whitelist", "helo", "throttle",
                            "throttle_from_instance", "throttle_rcpt", "policy_training",
                            "blacklist_sender", "whitelist_sender", "blacklist_dnsname",
                            "whitelist_dnsname", "distributed_origin"};
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        INFO("task " << i);
        CHECK(tasks[i].message == messages[i]);
        CHECK(tasks[i].table == tables[i]);
        CHECK(tasks[i].skipped.empty());
    }
}

TEST_CASE("cleanup cut-offs and conditions", "[cleanup]") {
    const auto tasks = cleanup_tasks(shipped(), kNow);
    CHECK(nth(tasks, 0).condition == "_datelast < ?");
    CHECK(param(nth(tasks, 0)) == kNow - 30 * 86400);
    CHECK(nth(tasks, 1).condition == "_datenew < ? AND _count = 0");
    CHECK(param(nth(tasks, 1)) == kNow - 2 * 86400);
    for (std::size_t i : {2, 3, 4, 9, 10, 11, 12}) {
        INFO("task " << i);
        // exactly the rows list_entries.h not_expired() no longer matches
        CHECK(nth(tasks, i).condition == "_expire != 0 AND _expire <= ?");
        CHECK(param(nth(tasks, i)) == kNow);
    }
    CHECK(param(nth(tasks, 5)) == kNow - 31 * 86400);
    CHECK(param(nth(tasks, 6)) == kNow - 3600);
    CHECK(nth(tasks, 8).condition == "_expire != 0 AND _expire < ?");
    CHECK(param(nth(tasks, 8)) == kNow - 36 * 3600);
    CHECK(nth(tasks, 13).condition == "_last < ?");
    CHECK(param(nth(tasks, 13)) == kNow - 3600);
    CHECK(nth(tasks, 0).key_columns == std::vector<std::string>{"_host", "_from", "_rcpt"});
    CHECK(nth(tasks, 4).key_columns == std::vector<std::string>{"_host", "_helo"});
    CHECK(nth(tasks, 13).key_columns == std::vector<std::string>{"_key", "_origin"});
}

TEST_CASE("cleanup keeps the reference's switches for module state", "[cleanup]") {
    Config c = shipped();
    c.greylisting = 0;
    c.senderthrottle = 0;
    c.recipientthrottle = 0;
    c.training_policy_timeout = 0;
    const auto tasks = cleanup_tasks(c, kNow);
    CHECK(nth(tasks, 0).skipped == "GREYLISTING is not 1");
    CHECK(nth(tasks, 1).skipped == "GREYLISTING is not 1");
    CHECK(nth(tasks, 5).skipped == "SENDERTHROTTLE is not 1");
    CHECK(nth(tasks, 7).skipped == "RECIPIENTTHROTTLE is not 1");
    CHECK(nth(tasks, 8).skipped == "TRAINING_POLICY_TIMEOUT is 0");
    // expired list rows, stale instances and old origins go whatever the switches
    for (std::size_t i : {2, 3, 4, 6, 9, 10, 11, 12, 13}) {
        INFO("task " << i);
        CHECK(nth(tasks, i).skipped.empty());
    }
}

TEST_CASE("a zero age keeps the rows instead of deleting them all", "[cleanup]") {
    Config c = shipped();
    c.triplet_auth_timeout = 0;
    c.triplet_unauth_timeout = 0;
    c.sender_inactive_expire = 0;
    c.recipient_inactive_expire = 0;
    const auto tasks = cleanup_tasks(c, kNow);
    CHECK(nth(tasks, 0).skipped == "TRIPLET_AUTH_TIMEOUT is 0");
    CHECK(nth(tasks, 1).skipped == "TRIPLET_UNAUTH_TIMEOUT is 0");
    CHECK(nth(tasks, 5).skipped == "SENDER_INACTIVE_EXPIRE is 0");
    CHECK(nth(tasks, 7).skipped == "RECIPIENT_INACTIVE_EXPIRE is 0");
    // the reference skipped instances too when SENDER_INACTIVE_EXPIRE=0
    CHECK(nth(tasks, 6).skipped.empty());
}

TEST_CASE("an age that is not a positive number of seconds refuses its task", "[cleanup]") {
    // The configuration reader refuses these; cleanup does not rely on it.
    // 1.x wrapped TRIPLET_AUTH_TIMEOUT=100Y to -1080887296 and deleted every
    // triplet, logging "older than -12510 days".
    Config c = shipped();
    c.triplet_auth_timeout = -1080887296;
    c.sender_inactive_expire = kNow + 1;  // cut-off before 1970
    c.distributed_origin_time = -1;
    const auto tasks = cleanup_tasks(c, kNow);
    CHECK(nth(tasks, 0).refused ==
          "TRIPLET_AUTH_TIMEOUT is -1080887296 seconds, not a positive age up to the current "
          "time; the task is refused");
    CHECK(nth(tasks, 5).refused.find("SENDER_INACTIVE_EXPIRE is 1000000001 seconds") == 0);
    CHECK(nth(tasks, 13).refused.find("DISTRIBUTED_ORIGIN_TIME is -1 seconds") == 0);
    for (std::size_t i : {1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12}) {
        INFO("task " << i);
        CHECK(nth(tasks, i).refused.empty());
    }
}

TEST_CASE("a task never deletes rows newer than the age it logs", "[cleanup]") {
    for (long age : {1L, 3599L, 43200L, 86399L, 86400L, 129600L, 30L * 86400, 321408000L}) {
        INFO("age " << age);
        Config c = shipped();
        c.triplet_auth_timeout = age;
        const auto tasks = cleanup_tasks(c, kNow);
        const Task& t = nth(tasks, 0);
        CHECK(t.refused.empty());
        const long long cutoff = param(t);
        CHECK(cutoff == kNow - age);
        // "expiring validated records older than <days> days (<cut-off>)"
        const std::string prefix = "expiring validated records older than ";
        REQUIRE(t.message.rfind(prefix, 0) == 0);
        const long logged_days = std::stol(t.message.substr(prefix.size()));
        CHECK(logged_days >= 0);
        CHECK(cutoff <= kNow - logged_days * 86400);  // deleted rows are older than logged
        CHECK(t.message.find("(" + std::to_string(cutoff) + ")") != std::string::npos);
    }
}
