// NAME
//   stats.cpp - counters and the report line (see stats.h)
// DESCRIPTION
//   The report is one line of key=value words so that log watchers can
//   parse it; decision tokens already contain '=', so they follow a
//   "tokens:" marker as name:count words.
#include "stats/stats.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <functional>

namespace policyd {
namespace {

constexpr std::string_view kOutcomeNames[kOutcomeCount] = {
    "accept", "grey_defer", "blacklist", "spamtrap", "sender_quota",
    "recipient_quota", "size", "distributed_origin", "invalid",
};

constexpr std::string_view kCloseReasonNames[kCloseReasonCount] = {
    "peer", "idle", "too_large", "too_slow", "shutdown",
};

std::uint64_t load(const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
}

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
    counter.fetch_add(by, std::memory_order_relaxed);
}

std::string milliseconds(std::uint64_t us) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", static_cast<double>(us) / 1000.0);
    return text;
}

}  // namespace

std::string_view outcome_name(Outcome outcome) {
    return kOutcomeNames[static_cast<std::size_t>(outcome)];
}

std::string_view close_reason_name(CloseReason reason) {
    return kCloseReasonNames[static_cast<std::size_t>(reason)];
}

std::string_view group_end_name(GroupEnd end) {
    static constexpr std::string_view names[kGroupEndCount] = {"committed", "decided_again",
                                                               "commit_unknown"};
    return names[static_cast<std::size_t>(end)];
}

Stats::Stats() : started_(Clock::now()) {}

Stats::~Stats() {
    for (auto& slot : token_slots_) delete slot.name.load(std::memory_order_relaxed);
}

void Stats::set_check_names(std::vector<std::string> names) {
    if (names.size() > kMaxChecks) names.resize(kMaxChecks);
    check_names_ = std::move(names);
}

void Stats::outcome(Outcome outcome, std::size_t check) {
    if (check >= check_names_.size()) check = kNoCheck;
    bump(decided_[static_cast<std::size_t>(outcome)][check]);
}

DatabaseCounters& Stats::database_node(const std::string& name) {
    const auto at = std::find(database_node_names_.begin(), database_node_names_.end(), name);
    if (at != database_node_names_.end())
        return database_nodes_[static_cast<std::size_t>(at - database_node_names_.begin())];
    if (database_node_names_.size() == kMaxDatabaseNodes) return database_nodes_.back();
    database_node_names_.push_back(name);
    return database_nodes_[database_node_names_.size() - 1];
}

// Linear probing from the name's hash. A new name reserves one of the
// kMaxTokens places before claiming a slot and gives it back if another
// thread claimed that slot first; at the cap a concurrent race may thus
// send a new name to "other" one moment early, and no count is ever lost.
void Stats::token(std::string_view token) {
    const std::size_t start = std::hash<std::string_view>{}(token);
    for (std::size_t probe = 0; probe < kTokenSlots; ++probe) {
        TokenSlot& slot = token_slots_[(start + probe) % kTokenSlots];
        const std::string* name = slot.name.load(std::memory_order_acquire);
        if (name == nullptr) {
            if (token_names_.fetch_add(1, std::memory_order_relaxed) >= kMaxTokens) {
                token_names_.fetch_sub(1, std::memory_order_relaxed);
                break;
            }
            const auto* fresh = new std::string(token);
            if (slot.name.compare_exchange_strong(name, fresh, std::memory_order_acq_rel)) {
                name = fresh;
            } else {  // `name` is now the winner's, which may be this token too
                delete fresh;
                token_names_.fetch_sub(1, std::memory_order_relaxed);
            }
        }
        if (*name == token) {
            bump(slot.count);
            return;
        }
    }
    bump(other_tokens_);
}

void Stats::database_error() { bump(database_errors_); }

void Stats::request_finished(Clock::duration latency) {
    const auto us = static_cast<std::uint64_t>(
        std::max<long long>(0, std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
    bump(requests_);
    bump(latency_sum_us_, us);
    std::uint64_t seen = load(latency_max_us_);
    while (us > seen && !latency_max_us_.compare_exchange_weak(seen, us, std::memory_order_relaxed)) {
    }
    const std::size_t bucket = std::min<std::size_t>(std::bit_width(us), kLatencyBuckets - 1);
    bump(latency_buckets_[bucket]);
    // Bucket i: at most kSecondsBounds[i] (Prometheus' le), above the one before.
    const auto bound = std::lower_bound(kSecondsBounds.begin(), kSecondsBounds.end(), us);
    bump(latency_seconds_[static_cast<std::size_t>(bound - kSecondsBounds.begin())]);
}

void Stats::connection_opened() { bump(opened_); }
void Stats::connection_closed(CloseReason reason) {
    bump(closed_);
    bump(closed_by_reason_[static_cast<std::size_t>(reason)]);
}
void Stats::refused_acl() { bump(refused_acl_); }
void Stats::refused_limit() { bump(refused_limit_); }
void Stats::reloaded(bool ok) { bump(ok ? reloads_ok_ : reloads_failed_); }
void Stats::commit_group(GroupEnd end, std::size_t requests) {
    const auto i = static_cast<std::size_t>(end);
    bump(commit_groups_[i]);
    commit_group_requests_[i].fetch_add(requests, std::memory_order_relaxed);
}

Stats::Snapshot Stats::snapshot() const {
    Snapshot s;
    s.uptime = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started_);
    s.requests = load(requests_);
    for (std::size_t o = 0; o < kOutcomeCount; ++o)
        for (std::size_t c = 0; c <= kMaxChecks; ++c) {
            s.decided[o][c] = load(decided_[o][c]);
            s.outcomes[o] += s.decided[o][c];
        }
    s.check_names = check_names_;
    s.database_errors = load(database_errors_);
    const std::uint64_t opened = load(opened_);
    const std::uint64_t closed = load(closed_);
    s.connections_total = opened;
    s.connections_current = opened > closed ? opened - closed : 0;
    s.refused_acl = load(refused_acl_);
    s.refused_limit = load(refused_limit_);
    s.latency_sum_us = load(latency_sum_us_);
    s.latency_max_us = load(latency_max_us_);
    for (std::size_t i = 0; i < kLatencyBuckets; ++i) s.latency_buckets[i] = load(latency_buckets_[i]);
    for (std::size_t i = 0; i < latency_seconds_.size(); ++i)
        s.latency_seconds_buckets[i] = load(latency_seconds_[i]);
    for (std::size_t i = 0; i < kCloseReasonCount; ++i)
        s.closed_by_reason[i] = load(closed_by_reason_[i]);
    s.reloads_ok = load(reloads_ok_);
    s.reloads_failed = load(reloads_failed_);
    for (std::size_t i = 0; i < kGroupEndCount; ++i) {
        s.commit_groups[i] = load(commit_groups_[i]);
        s.commit_group_requests[i] = load(commit_group_requests_[i]);
    }
    for (std::size_t i = 0; i < database_node_names_.size(); ++i) {
        const DatabaseCounters& n = database_nodes_[i];
        s.database_nodes.push_back({database_node_names_[i], load(n.statements), load(n.errors),
                                    load(n.retries), load(n.reconnects), load(n.conflicts),
                                    load(n.failovers), load(n.connections)});
    }
    for (const auto& slot : token_slots_)
        if (const std::string* name = slot.name.load(std::memory_order_acquire))
            if (const std::uint64_t count = load(slot.count))  // 0: claimed, not yet counted
                s.tokens[*name] += count;
    if (const std::uint64_t other = load(other_tokens_)) s.tokens["other"] += other;
    return s;
}

std::uint64_t Stats::Snapshot::latency_quantile_us(double fraction) const {
    std::uint64_t measured = 0;
    for (auto n : latency_buckets) measured += n;
    if (measured == 0) return 0;
    const auto wanted = static_cast<std::uint64_t>(fraction * static_cast<double>(measured) + 0.999999);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
        seen += latency_buckets[i];
        // Bucket i holds values below 2^i; the exact maximum is a tighter bound.
        if (seen >= wanted) return std::min<std::uint64_t>(std::uint64_t{1} << i, latency_max_us);
    }
    return latency_max_us;
}

std::string format_report(const Stats::Snapshot& s) {
    std::string text = "stats: uptime=" + std::to_string(s.uptime.count()) + "s";
    auto add = [&text](std::string_view key, const std::string& value) {
        text.append(" ").append(key).append("=").append(value);
    };
    add("requests", std::to_string(s.requests));
    for (std::size_t i = 0; i < kOutcomeCount; ++i)
        add(kOutcomeNames[i], std::to_string(s.outcomes[i]));
    add("db_errors", std::to_string(s.database_errors));
    // Summed over the nodes; db_nodes names those with worker connections
    // open now, as "host:port(connections),...", "-" when none.
    std::uint64_t conflicts = 0, retries = 0, failovers = 0;
    std::string nodes;
    for (const auto& node : s.database_nodes) {
        conflicts += node.conflicts;
        retries += node.retries;
        failovers += node.failovers;
        if (node.connections == 0) continue;
        nodes.append(nodes.empty() ? "" : ",").append(node.name).append("(")
            .append(std::to_string(node.connections)).append(")");
    }
    add("db_conflicts", std::to_string(conflicts));
    add("db_retries", std::to_string(retries));
    add("db_failovers", std::to_string(failovers));
    add("db_nodes", nodes.empty() ? "-" : nodes);
    add("connections", std::to_string(s.connections_current));
    add("connections_total", std::to_string(s.connections_total));
    add("refused_acl", std::to_string(s.refused_acl));
    add("refused_limit", std::to_string(s.refused_limit));
    add("latency_avg_ms", milliseconds(s.requests ? s.latency_sum_us / s.requests : 0));
    add("latency_p50_ms", milliseconds(s.latency_quantile_us(0.50)));
    add("latency_p99_ms", milliseconds(s.latency_quantile_us(0.99)));
    add("latency_max_ms", milliseconds(s.latency_max_us));
    text.append(" tokens:");
    for (const auto& [token, count] : s.tokens)
        text.append(" ").append(token).append(":").append(std::to_string(count));
    return text;
}

std::string Stats::report() const { return format_report(snapshot()); }

}  // namespace policyd
