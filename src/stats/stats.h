// NAME
//   stats.h - counters since start: requests, decisions, errors, connections, latency
// SYNOPSIS
//   #include "stats/stats.h"
//   Stats stats;
//   stats.outcome(Outcome::GreyDefer);          // pipeline, worker threads
//   stats.token("greylist=new");                // every decision log token
//   stats.request_finished(latency);            // worker, after the reply is built
//   stats.connection_opened(); ...              // event-loop thread
//   stats.database_activity(1, 1, 0);           // conflicts, retries, failovers
//   stats.database_node("", "db1:3306");        // a worker's connection moved
//   log::line(stats.report());                  // SIGUSR1, every STATS_INTERVAL
// DESCRIPTION
//   Workers and the event loop update the counters concurrently: the fixed
//   counters are relaxed atomics (a report is a consistent-enough snapshot,
//   not a transaction); the decision-token counts, whose names are only
//   known when logged, sit in a fixed open-addressing table whose slots are
//   claimed once by compare-and-swap, so counting a token takes no lock
//   either. Latency is the time from the arrival of a complete request to
//   its reply being ready, kept as a sum, a maximum and a power-of-two
//   histogram from which the report reads p50 and p99 as upper bounds.
//   Nothing is ever reset: every count is since start, except the database
//   nodes, which count the worker connections open to each server now
//   (they change only when a connection opens, moves or closes, under a
//   mutex).
//
//   Ownership: a Stats owns the token names it has seen, until it is
//   destroyed; snapshots own copies.
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
    // Distinct decision tokens counted by name; later new names count as
    // "other" (as may, rarely, a few counts of a name that two threads
    // register at once just as the table fills: see token()).
    static constexpr std::size_t kMaxTokens = 256;

    struct Snapshot {
        std::chrono::seconds uptime{0};
        std::uint64_t requests = 0;
        std::array<std::uint64_t, kOutcomeCount> outcomes{};
        std::uint64_t database_errors = 0;
        std::uint64_t database_conflicts = 0;  // deadlocks and certification failures met
        std::uint64_t database_retries = 0;    // statements or transactions run again after one
        std::uint64_t database_failovers = 0;  // servers left for the next of MYSQLHOST's list
        // Worker connections open to each server now ("host:port" -> count).
        std::map<std::string, std::uint64_t, std::less<>> database_nodes;
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
    ~Stats();
    Stats(const Stats&) = delete;
    Stats& operator=(const Stats&) = delete;

    void outcome(Outcome outcome);
    void token(std::string_view token);
    void database_error();
    void database_activity(std::uint64_t conflicts, std::uint64_t retries,
                           std::uint64_t failovers);
    // One worker connection left `from` and now uses `to` ("" = none).
    void database_node(const std::string& from, const std::string& to);
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
    std::atomic<std::uint64_t> database_conflicts_{0};
    std::atomic<std::uint64_t> database_retries_{0};
    std::atomic<std::uint64_t> database_failovers_{0};
    mutable std::mutex nodes_mutex_;
    std::map<std::string, std::uint64_t, std::less<>> nodes_;  // guarded by nodes_mutex_
    std::atomic<std::uint64_t> opened_{0};
    std::atomic<std::uint64_t> closed_{0};
    std::atomic<std::uint64_t> refused_acl_{0};
    std::atomic<std::uint64_t> refused_limit_{0};
    std::atomic<std::uint64_t> latency_sum_us_{0};
    std::atomic<std::uint64_t> latency_max_us_{0};
    std::array<std::atomic<std::uint64_t>, kLatencyBuckets> latency_buckets_{};

    // A slot's name goes from null to a string once and never changes, so a
    // probe may stop at the first null slot. Twice kMaxTokens slots keep
    // probes short, and a probe always finds a null slot or its name.
    struct TokenSlot {
        std::atomic<const std::string*> name{nullptr};
        std::atomic<std::uint64_t> count{0};
    };
    static constexpr std::size_t kTokenSlots = 2 * kMaxTokens;
    std::array<TokenSlot, kTokenSlots> token_slots_{};
    // Names claimed or about to be: a slot is taken only after reserving here.
    std::atomic<std::size_t> token_names_{0};
    std::atomic<std::uint64_t> other_tokens_{0};
};

// The report line of a snapshot (Stats::report() formats its own).
std::string format_report(const Stats::Snapshot& snapshot);

}  // namespace policyd
