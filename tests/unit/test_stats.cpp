// NAME
//   test_stats.cpp - statistics counters, latency quantiles, the report line
// DESCRIPTION
//   Pins what the SIGUSR1 / STATS_INTERVAL line says: connection counts,
//   latency p50/p99 as bucket upper bounds clamped to the exact maximum,
//   the token cap and the line itself. What the Pipeline counts per request
//   is tested in test_pipeline.cpp.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "stats/stats.h"

using namespace policyd;
using namespace std::chrono_literals;

TEST_CASE("latency: average, maximum and bucketed quantiles", "[stats]") {
    Stats stats;
    for (int i = 0; i < 98; ++i) stats.request_finished(100us);  // bucket [64, 128)
    stats.request_finished(3ms);
    stats.request_finished(10ms);
    const auto s = stats.snapshot();
    CHECK(s.requests == 100);
    CHECK(s.latency_max_us == 10000);
    CHECK(s.latency_sum_us == 98 * 100 + 3000 + 10000);
    CHECK(s.latency_quantile_us(0.50) == 128);
    CHECK(s.latency_quantile_us(0.99) == 4096);  // the 99th value is the 3 ms one
    CHECK(s.latency_quantile_us(1.0) == 10000);  // clamped to the exact maximum

    Stats empty;
    CHECK(empty.snapshot().latency_quantile_us(0.5) == 0);
}

TEST_CASE("connections: current is opened minus closed", "[stats]") {
    Stats stats;
    stats.connection_opened();
    stats.connection_opened();
    stats.connection_opened();
    stats.connection_closed(CloseReason::Peer);
    stats.refused_acl();
    stats.refused_limit();
    stats.refused_limit();
    const auto s = stats.snapshot();
    CHECK(s.connections_total == 3);
    CHECK(s.connections_current == 2);
    CHECK(s.refused_acl == 1);
    CHECK(s.refused_limit == 2);
}

TEST_CASE("the report line names every counter", "[stats]") {
    Stats stats;
    stats.outcome(Outcome::Spamtrap);
    stats.outcome(Outcome::DistributedOrigin);
    stats.request_finished(1500us);
    stats.token("grey=new");
    const std::string line = stats.report();
    CHECK(line.rfind("stats: uptime=0s requests=1 accept=0 grey_defer=0 blacklist=0 spamtrap=1 "
                     "sender_quota=0 recipient_quota=0 size=0 distributed_origin=1 invalid=0 "
                     "db_errors=0 db_conflicts=0 db_retries=0 db_failovers=0 db_nodes=- "
                     "connections=0 connections_total=0 refused_acl=0 refused_limit=0 "
                     "latency_avg_ms=1.500 latency_p50_ms=1.500 latency_p99_ms=1.500 "
                     "latency_max_ms=1.500 tokens: grey=new:1",
                     0) == 0);
}

TEST_CASE("database conflicts, retries, failovers and the nodes in use", "[stats]") {
    Stats stats;
    DatabaseCounters& a = stats.database_node("db1:3306");
    DatabaseCounters& b = stats.database_node("db2:3306");
    stats.database_node("db3:3306");
    a.conflicts += 3;
    a.retries += 2;
    a.failovers += 1;
    b.retries += 1;
    a.connections += 1;
    b.connections += 2;
    const auto s = stats.snapshot();
    REQUIRE(s.database_nodes.size() == 3);
    CHECK(s.database_nodes[0].conflicts == 3);
    CHECK(s.database_nodes[0].failovers == 1);
    CHECK(s.database_nodes[1].connections == 2);
    CHECK(stats.report().find(" db_conflicts=3 db_retries=3 db_failovers=1 "
                              "db_nodes=db1:3306(1),db2:3306(2) ") != std::string::npos);
    b.connections -= 2;
    a.connections -= 1;
    CHECK(stats.report().find(" db_nodes=- ") != std::string::npos);
}

TEST_CASE("token names are capped; the rest count as other", "[stats]") {
    Stats stats;
    for (std::size_t i = 0; i < Stats::kMaxTokens + 5; ++i) stats.token("t" + std::to_string(i));
    stats.token("t0");
    const auto s = stats.snapshot();
    CHECK(s.tokens.size() == Stats::kMaxTokens + 1);
    CHECK(s.tokens.at("other") == 5);
    CHECK(s.tokens.at("t0") == 2);
}

TEST_CASE("concurrent updates are not lost", "[stats]") {
    Stats stats;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&stats] {
            for (int i = 0; i < 10000; ++i) {
                stats.outcome(Outcome::Accept);
                stats.request_finished(std::chrono::microseconds(i));
                stats.token("x=y");
            }
        });
    for (auto& t : threads) t.join();
    const auto s = stats.snapshot();
    CHECK(s.outcome(Outcome::Accept) == 40000);
    CHECK(s.requests == 40000);
    CHECK(s.tokens.at("x=y") == 40000);
    CHECK(s.latency_max_us == 9999);
}

namespace {

// `threads` threads each count every one of `names` token names `rounds`
// times, each starting at another name, so they race to claim slots for
// one name and for different names.
Stats::Snapshot count_names_concurrently(int threads, int names, int rounds) {
    Stats stats;
    std::vector<std::thread> running;
    for (int t = 0; t < threads; ++t)
        running.emplace_back([&stats, t, threads, names, rounds] {
            for (int round = 0; round < rounds; ++round)
                for (int i = 0; i < names; ++i)
                    stats.token("n" + std::to_string((i + t * names / threads + round) % names));
        });
    for (auto& t : running) t.join();
    return stats.snapshot();
}

}  // namespace

TEST_CASE("threads meeting new token names count each once, in its own entry", "[stats]") {
    const auto s = count_names_concurrently(4, 200, 20);
    CHECK(s.tokens.size() == 200);
    for (int i = 0; i < 200; ++i) CHECK(s.tokens.at("n" + std::to_string(i)) == 4 * 20);
}

TEST_CASE("threads going past the token cap lose no count", "[stats]") {
    const auto s = count_names_concurrently(4, 300, 20);
    std::uint64_t total = 0;
    for (const auto& [name, count] : s.tokens) total += count;
    CHECK(total == 4 * 300 * 20);
    CHECK(s.tokens.size() <= Stats::kMaxTokens + 1);
    CHECK(s.tokens.at("other") >= 4 * 20 * (300 - Stats::kMaxTokens));
}
