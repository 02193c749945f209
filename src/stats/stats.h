// NAME
//   stats.h - counters since start: requests, decisions, errors, connections, latency
// SYNOPSIS
//   #include "stats/stats.h"
//   Stats stats;
//   stats.set_check_names({"rcpt_acl", ...});   // once, before the workers start
//   stats.outcome(Outcome::GreyDefer, check);   // pipeline: final action, deciding check
//   stats.token("greylist=new");                // every decision log token
//   DatabaseCounters& db = stats.database_node("db1:3306");  // before the workers start
//   stats.request_finished(latency);            // worker, after the reply is built
//   stats.connection_opened(); ...              // event-loop thread
//   log::line(stats.report());                  // SIGUSR1, every STATS_INTERVAL
// DESCRIPTION
//   Workers and the event loop update the counters concurrently: the fixed
//   counters are relaxed atomics (a report is a consistent-enough snapshot,
//   not a transaction); the decision-token counts, whose names are only
//   known when logged, sit in a fixed open-addressing table whose slots are
//   claimed once by compare-and-swap, so counting a token takes no lock
//   either. Latency is the time from the arrival of a complete request to
//   its reply being ready, kept as a sum, a maximum and a power-of-two
//   histogram from which the report reads p50 and p99 as upper bounds, and
//   in the fixed second buckets of the Prometheus histogram (exposition.h).
//   Nothing is ever reset: every count is since start.
//
//   Requests are counted by final action and by the check that decided
//   (index into the names given to set_check_names(), or kNoCheck when
//   none did: module=bypass, an invalid request). The database counters
//   are kept per node by db::Session, which is given its node's
//   DatabaseCounters through db::Settings.
//
//   Ownership: a Stats owns the token names it has seen, until it is
//   destroyed; snapshots own copies.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "stats/database_counters.h"

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

// Why the server closed a client connection (clients closing their side,
// or failing to be written to, count as Peer).
enum class CloseReason : std::size_t { Peer, Idle, TooLarge, TooSlow, Shutdown };
inline constexpr std::size_t kCloseReasonCount = 5;
std::string_view close_reason_name(CloseReason reason);  // "peer", "idle", ...

// How a worker's commit group ended (server/commit_group.h): committed; a
// statement failed or the COMMIT was refused, so every request was decided
// again on its own; or the connection was lost during COMMIT, so its
// requests were answered by FAILSAFE.
enum class GroupEnd : std::size_t { Committed, DecidedAgain, CommitUnknown };
inline constexpr std::size_t kGroupEndCount = 3;
std::string_view group_end_name(GroupEnd end);  // "committed", "decided_again", "commit_unknown"


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
    // Latency bucket bounds of the Prometheus histogram, in microseconds
    // (100 µs .. 10 s; one more bucket takes the rest, +Inf).
    static constexpr std::array<std::uint64_t, 16> kSecondsBounds = {
        100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000,
        100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
    // Checks whose decisions are counted by name; slot kNoCheck is "none".
    static constexpr std::size_t kMaxChecks = 24;
    static constexpr std::size_t kNoCheck = kMaxChecks;
    static constexpr std::size_t kMaxDatabaseNodes = 16;

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
        // Not cumulative: [i] counts requests of at most kSecondsBounds[i]
        // and more than the bound before; the last counts the rest.
        std::array<std::uint64_t, kSecondsBounds.size() + 1> latency_seconds_buckets{};
        std::map<std::string, std::uint64_t, std::less<>> tokens;
        // Requests by final action and deciding check: [outcome][check],
        // check indexing check_names, kNoCheck for none.
        std::array<std::array<std::uint64_t, kMaxChecks + 1>, kOutcomeCount> decided{};
        std::vector<std::string> check_names;
        std::array<std::uint64_t, kCloseReasonCount> closed_by_reason{};
        std::uint64_t reloads_ok = 0;
        std::uint64_t reloads_failed = 0;
        // Commit groups and the requests in them, by GroupEnd.
        std::array<std::uint64_t, kGroupEndCount> commit_groups{};
        std::array<std::uint64_t, kGroupEndCount> commit_group_requests{};
        struct DatabaseNode {
            std::string name;
            std::uint64_t statements = 0, errors = 0, retries = 0, reconnects = 0;
            std::uint64_t conflicts = 0, failovers = 0, connections = 0;
        };
        std::vector<DatabaseNode> database_nodes;

        std::uint64_t outcome(Outcome o) const { return outcomes[static_cast<std::size_t>(o)]; }
        // Upper bound, in microseconds, of the latency below which `fraction`
        // (0..1] of the requests fall; 0 when nothing was measured.
        std::uint64_t latency_quantile_us(double fraction) const;
    };

    Stats();
    ~Stats();
    Stats(const Stats&) = delete;
    Stats& operator=(const Stats&) = delete;

    // Names of the checks that outcome() counts by index (at most
    // kMaxChecks; later ones count as "none"). Before the workers start.
    void set_check_names(std::vector<std::string> names);
    void outcome(Outcome outcome, std::size_t check = kNoCheck);
    void token(std::string_view token);
    void database_error();
    void request_finished(Clock::duration latency);

    // The counters of the database node `name` ("host:port"), created at
    // the first call (at most kMaxDatabaseNodes: later names share the
    // last). Before the workers start; the result lives as long as Stats.
    DatabaseCounters& database_node(const std::string& name);

    void connection_opened();
    void connection_closed(CloseReason reason);
    void refused_acl();
    void refused_limit();
    void reloaded(bool ok);
    void commit_group(GroupEnd end, std::size_t requests);

    Snapshot snapshot() const;
    // One log line: "stats: uptime=...s requests=... accept=... ...".
    std::string report() const;

private:
    const Clock::time_point started_;
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> database_errors_{0};
    std::atomic<std::uint64_t> opened_{0};
    std::atomic<std::uint64_t> closed_{0};
    std::atomic<std::uint64_t> refused_acl_{0};
    std::atomic<std::uint64_t> refused_limit_{0};
    std::atomic<std::uint64_t> latency_sum_us_{0};
    std::atomic<std::uint64_t> latency_max_us_{0};
    std::array<std::atomic<std::uint64_t>, kLatencyBuckets> latency_buckets_{};
    std::array<std::atomic<std::uint64_t>, kSecondsBounds.size() + 1> latency_seconds_{};
    std::array<std::array<std::atomic<std::uint64_t>, kMaxChecks + 1>, kOutcomeCount> decided_{};
    std::vector<std::string> check_names_;  // set before the workers start
    std::array<std::atomic<std::uint64_t>, kCloseReasonCount> closed_by_reason_{};
    std::atomic<std::uint64_t> reloads_ok_{0};
    std::atomic<std::uint64_t> reloads_failed_{0};
    std::array<std::atomic<std::uint64_t>, kGroupEndCount> commit_groups_{};
    std::array<std::atomic<std::uint64_t>, kGroupEndCount> commit_group_requests_{};
    // Stable addresses: sessions keep pointers to their node's counters.
    std::array<DatabaseCounters, kMaxDatabaseNodes> database_nodes_{};
    std::vector<std::string> database_node_names_;  // before the workers start

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
