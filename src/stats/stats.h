// NAME
//   stats.h - counters since start: requests, decisions, errors, connections, latency
// SYNOPSIS
//   #include "stats/stats.h"
//   Stats stats;
//   stats.outcome(Outcome::GreyDefer);          // pipeline, worker threads
//   stats.token("greylist=new");                // every decision log token
//   stats.request_finished(latency);            // worker, after the reply is built
//   stats.connection_opened(); ...              // event-loop thread
//   log::line(stats.report());                  // SIGUSR1, every STATS_INTERVAL
// DESCRIPTION
//   Workers and the event loop update the counters concurrently: the fixed
//   counters are relaxed atomics (a report is a consistent-enough snapshot,
//   not a transaction); the decision-token counts sit behind a mutex, since
//   their names are only known when logged. Latency is the time from the
//   arrival of a complete request to its reply being ready, kept as a sum,
//   a maximum and a power-of-two histogram from which the report reads p50
//   and p99 as upper bounds. Nothing is ever reset: every count is since
//   start.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace policyd {

// The reply kinds a request can end with. Accept covers action=dunno and
// the X-Greylist prepend.
enum class Outcome : std::size_t {
    Accept,
    GreyDefer,
    Blacklist,
    Spamtrap,
    SenderQuota,
    RecipientQuota,
    SizeReject,
    DistributedOrigin,
    Invalid,
};
inline constexpr std::size_t kOutcomeCount = 9;

// The report's name of an outcome ("accept", "grey_defer", ...).
std::string_view outcome_name(Outcome outcome);

class Stats {
public:
    using Clock = std::chrono::steady_clock;

    // Latency histogram: bucket i counts requests that took less than 2^i
    // microseconds (and at least 2^(i-1)); the last bucket takes the rest.
    static constexpr std::size_t kLatencyBuckets = 32;
    // Distinct decision tokens counted by name; later new names count as "other".
    static constexpr std::size_t kMaxTokens = 256;

    struct Snapshot {
        std::chrono::seconds uptime{0};
        std::uint64_t requests = 0;
        std::array<std::uint64_t, kOutcomeCount> outcomes{};
        std::uint64_t database_errors = 0;
        std::uint64_t connections_current = 0;
        std::uint64_t connections_total = 0;
        std::uint64_t refused_acl = 0;
        std::uint64_t refused_limit = 0;
        std::uint64_t latency_sum_us = 0;
        std::uint64_t latency_max_us = 0;
        std::array<std::uint64_t, kLatencyBuckets> latency_buckets{};
        std::map<std::string, std::uint64_t, std::less<>> tokens;

        std::uint64_t outcome(Outcome o) const { return outcomes[static_cast<std::size_t>(o)]; }
        // Upper bound, in microseconds, of the latency below which `fraction`
        // (0..1] of the requests fall; 0 when nothing was measured.
        std::uint64_t latency_quantile_us(double fraction) const;
    };

    Stats();
    Stats(const Stats&) = delete;
    Stats& operator=(const Stats&) = delete;

    void outcome(Outcome outcome);
    void token(std::string_view token);
    void database_error();
    void request_finished(Clock::duration latency);

    void connection_opened();
    void connection_closed();
    void refused_acl();
    void refused_limit();

    Snapshot snapshot() const;
    // One log line: "stats: uptime=...s requests=... accept=... ...".
    std::string report() const;

private:
    const Clock::time_point started_;
    std::atomic<std::uint64_t> requests_{0};
    std::array<std::atomic<std::uint64_t>, kOutcomeCount> outcomes_{};
    std::atomic<std::uint64_t> database_errors_{0};
    std::atomic<std::uint64_t> opened_{0};
    std::atomic<std::uint64_t> closed_{0};
    std::atomic<std::uint64_t> refused_acl_{0};
    std::atomic<std::uint64_t> refused_limit_{0};
    std::atomic<std::uint64_t> latency_sum_us_{0};
    std::atomic<std::uint64_t> latency_max_us_{0};
    std::array<std::atomic<std::uint64_t>, kLatencyBuckets> latency_buckets_{};
    mutable std::mutex tokens_mutex_;
    std::map<std::string, std::uint64_t, std::less<>> tokens_;
};

// The report line of a snapshot (Stats::report() formats its own).
std::string format_report(const Stats::Snapshot& snapshot);

}  // namespace policyd
