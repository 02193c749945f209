// NAME
//   test_refusal_log.cpp - the rate-limited log of refused connections
// DESCRIPTION
//   A lone refusal keeps its full line; a flood logs that line and then at
//   most one summary per interval, whose counts add up to every refusal;
//   a quiet interval ends it. The server's use of it (timers, the exact
//   lines of a real flood) is tested in tests/integration/test_floods.py.
#include <catch2/catch.hpp>

#include <optional>
#include <regex>
#include <string>

#include "server/refusal_log.h"

using namespace policyd;
using namespace std::chrono_literals;

namespace {

const RefusalLog::Clock::time_point t0{};

RefusalLog acl() { return RefusalLog("WARNING: connection attempt from: ", "CONN_ACL"); }

}  // namespace

TEST_CASE("a lone refusal is logged in full, with nothing to summarise", "[refusal_log]") {
    RefusalLog log = acl();
    CHECK(log.refused("192.0.2.7", t0) == "WARNING: connection attempt from: 192.0.2.7");
    CHECK(log.summary(t0 + 1s) == std::nullopt);
    // the interval has ended: the next one is logged in full again
    CHECK(log.refused("192.0.2.8", t0 + 5s) == "WARNING: connection attempt from: 192.0.2.8");
}

TEST_CASE("refusals after a logged one are counted into the summary", "[refusal_log]") {
    RefusalLog log = acl();
    CHECK(log.refused("192.0.2.1", t0));
    CHECK_FALSE(log.refused("192.0.2.2", t0 + 100ms));
    CHECK_FALSE(log.refused("192.0.2.3", t0 + 900ms));
    CHECK(log.summary(t0 + 1200ms) ==
          "WARNING: connections refused (CONN_ACL): 2 more in the last 1.2s, the last from: "
          "192.0.2.3");
    // the next summary counts from that line only
    CHECK_FALSE(log.refused("192.0.2.4", t0 + 1500ms));
    CHECK(log.summary(t0 + 2200ms) ==
          "WARNING: connections refused (CONN_ACL): 1 more in the last 1.0s, the last from: "
          "192.0.2.4");
    CHECK(log.summary(t0 + 3200ms) == std::nullopt);
}

TEST_CASE("a sustained flood logs one line per interval and its counts add up", "[refusal_log]") {
    RefusalLog log("WARNING: No free slots found, closing connection from ", "MAX_CONNECTIONS");
    const std::regex summary(
        R"(WARNING: connections refused \(MAX_CONNECTIONS\): (\d+) more in the last [0-9.]+s, )"
        R"(the last from: 127\.0\.0\.1:\d+)");
    int lines = 0, full = 0;
    unsigned long summarised = 0;
    auto next_summary = t0 + RefusalLog::kInterval;
    auto take = [&](const std::optional<std::string>& line) {
        if (!line) return;
        ++lines;
        std::smatch m;
        if (std::regex_match(*line, m, summary))
            summarised += std::stoul(m[1]);
        else if (line->rfind("WARNING: No free slots found, closing connection from 127.0.0.1:", 0) == 0)
            ++full;
        else
            FAIL("unexpected line: " << *line);
    };
    // 10,000 refusals, one a millisecond: 10 s
    for (int i = 0; i < 10000; ++i) {
        const auto now = t0 + std::chrono::milliseconds(i);
        while (next_summary <= now) {  // the server's timer, due one interval after each line
            take(log.summary(next_summary));
            next_summary += RefusalLog::kInterval;
        }
        take(log.refused("127.0.0.1:" + std::to_string(40000 + i), now));
    }
    take(log.summary(next_summary));
    CHECK(full == 1);
    CHECK(lines == 11);
    CHECK(full + summarised == 10000);
}
