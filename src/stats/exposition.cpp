// NAME
//   exposition.cpp - Prometheus text format writer (see exposition.h)
// DESCRIPTION
//   Decision tokens ("greylist=new", "throttle=abuse(f)", "whitelist=bypass")
//   become the check and result labels of policyd_decisions_total, split at
//   their first '='; the token table's "other" (names beyond its cap) shows
//   as check="other". The latency histogram is cumulative here, as the
//   format wants, from Stats' per-bucket counts.
#include "stats/exposition.h"

#include <cstdio>

namespace policyd {
namespace {

class Writer {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }
    // `labels` is already formatted: name="value",... (or empty).
    void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
        sample_text(name, labels, std::to_string(value));
    }
    void sample(std::string_view name, std::string_view labels, double value) {
        char number[64];
        std::snprintf(number, sizeof number, "%.6f", value);
        sample_text(name, labels, number);
    }
    std::string take() { return std::move(text_); }

private:
    void sample_text(std::string_view name, std::string_view labels, std::string_view value) {
        text_.append(name);
        if (!labels.empty()) text_.append("{").append(labels).append("}");
        text_.append(" ").append(value).append("\n");
    }
    std::string text_;
};

std::string label(std::string_view name, std::string_view value) {
    return std::string(name) + "=\"" + escape_label_value(value) + "\"";
}

std::string labels(std::string_view n1, std::string_view v1, std::string_view n2,
                   std::string_view v2) {
    return label(n1, v1) + "," + label(n2, v2);
}

std::string seconds_bound(std::uint64_t us) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", static_cast<double>(us) / 1e6);
    return text;
}

void requests(Writer& w, const Stats::Snapshot& s) {
    w.family("policyd_requests_total", "counter",
             "Requests answered, by final action and the check that decided it "
             "(none: no check decided, or the request was invalid).");
    for (std::size_t o = 0; o < kOutcomeCount; ++o)
        for (std::size_t c = 0; c <= Stats::kMaxChecks; ++c) {
            const std::uint64_t n = s.decided[o][c];
            if (n == 0) continue;
            const std::string_view check =
                c < s.check_names.size() ? std::string_view(s.check_names[c]) : "none";
            w.sample("policyd_requests_total",
                     labels("action", outcome_name(static_cast<Outcome>(o)), "check", check), n);
        }
    w.family("policyd_decisions_total", "counter",
             "Decision log tokens (check=result), FAILSAFE bypasses included.");
    for (const auto& [token, n] : s.tokens) {
        const std::size_t eq = token.find('=');
        const std::string_view t = token;
        const std::string_view check = eq == std::string::npos ? t : t.substr(0, eq);
        const std::string_view result = eq == std::string::npos ? t : t.substr(eq + 1);
        w.sample("policyd_decisions_total", labels("check", check, "result", result), n);
    }
    w.family("policyd_check_failures_total", "counter",
             "Checks that failed on the database and were answered by FAILSAFE.");
    w.sample("policyd_check_failures_total", "", s.database_errors);
}

void latency(Writer& w, const Stats::Snapshot& s) {
    constexpr std::string_view name = "policyd_request_duration_seconds";
    w.family(name, "histogram",
             "Time from a complete request to its reply being ready (database work included).");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < Stats::kSecondsBounds.size(); ++i) {
        cumulative += s.latency_seconds_buckets[i];
        w.sample("policyd_request_duration_seconds_bucket",
                 label("le", seconds_bound(Stats::kSecondsBounds[i])), cumulative);
    }
    cumulative += s.latency_seconds_buckets.back();
    w.sample("policyd_request_duration_seconds_bucket", label("le", "+Inf"), cumulative);
    w.sample("policyd_request_duration_seconds_sum", "",
             static_cast<double>(s.latency_sum_us) / 1e6);
    w.sample("policyd_request_duration_seconds_count", "", cumulative);
}

void database(Writer& w, const Stats::Snapshot& s) {
    struct Family {
        const char* name;
        const char* help;
        std::uint64_t Stats::Snapshot::DatabaseNode::*field;
    };
    const Family families[] = {
        {"policyd_database_statements_total", "Statements sent to the database node, retries included.",
         &Stats::Snapshot::DatabaseNode::statements},
        {"policyd_database_errors_total", "Statements and connects that failed on the node.",
         &Stats::Snapshot::DatabaseNode::errors},
        {"policyd_database_retries_total", "Statements sent again after a lost connection or deadlock.",
         &Stats::Snapshot::DatabaseNode::retries},
        {"policyd_database_reconnects_total", "Connections reopened after one was lost.",
         &Stats::Snapshot::DatabaseNode::reconnects},
        {"policyd_database_conflicts_total",
         "Deadlocks and Galera certification failures (error 1213) met on the node.",
         &Stats::Snapshot::DatabaseNode::conflicts},
        {"policyd_database_failovers_total",
         "Connections lost or refused on the node while another MYSQLHOST server was left to try.",
         &Stats::Snapshot::DatabaseNode::failovers},
    };
    for (const Family& f : families) {
        w.family(f.name, "counter", f.help);
        for (const auto& node : s.database_nodes) w.sample(f.name, label("node", node.name), node.*f.field);
    }
    w.family("policyd_database_connections", "gauge", "Worker connections open to the node now.");
    for (const auto& node : s.database_nodes)
        w.sample("policyd_database_connections", label("node", node.name), node.connections);
}

void connections(Writer& w, const Stats::Snapshot& s) {
    w.family("policyd_connections_open", "gauge", "Client connections open now.");
    w.sample("policyd_connections_open", "", s.connections_current);
    w.family("policyd_connections_accepted_total", "counter", "Client connections accepted.");
    w.sample("policyd_connections_accepted_total", "", s.connections_total);
    w.family("policyd_connections_refused_total", "counter",
             "Client connections refused by CONN_ACL or MAX_CONNECTIONS.");
    w.sample("policyd_connections_refused_total", label("reason", "conn_acl"), s.refused_acl);
    w.sample("policyd_connections_refused_total", label("reason", "max_connections"),
             s.refused_limit);
    w.family("policyd_connections_closed_total", "counter",
             "Client connections closed, by why: peer (the client), idle (IDLE_TIMEOUT), "
             "too_large (MAX_REQUEST_SIZE), too_slow (a request arriving for longer than "
             "IDLE_TIMEOUT), shutdown.");
    for (std::size_t i = 0; i < kCloseReasonCount; ++i)
        w.sample("policyd_connections_closed_total",
                 label("reason", close_reason_name(static_cast<CloseReason>(i))),
                 s.closed_by_reason[i]);
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string prometheus_text(const Stats::Snapshot& s, const ExpositionInfo& info) {
    Writer w;
    w.family("policyd_build_info", "gauge", "Always 1: the version running and its configuration file.");
    w.sample("policyd_build_info", labels("version", info.version, "config", info.config_path),
             std::uint64_t{1});
    w.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.");
    w.sample("process_start_time_seconds", "", info.start_time_seconds);
    requests(w, s);
    latency(w, s);
    database(w, s);
    connections(w, s);
    w.family("policyd_worker_queue_depth", "gauge", "Requests waiting for a database worker.");
    w.sample("policyd_worker_queue_depth", "", info.worker_queue_depth);
    w.family("policyd_config_reloads_total", "counter", "Configuration reloads (SIGHUP), by result.");
    w.sample("policyd_config_reloads_total", label("result", "ok"), s.reloads_ok);
    w.sample("policyd_config_reloads_total", label("result", "failed"), s.reloads_failed);
    w.family("policyd_commit_groups_total", "counter",
             "Groups of queued requests a worker decided under one COMMIT, by how they ended.");
    for (std::size_t i = 0; i < kGroupEndCount; ++i)
        w.sample("policyd_commit_groups_total",
                 label("result", group_end_name(static_cast<GroupEnd>(i))), s.commit_groups[i]);
    w.family("policyd_commit_group_requests_total", "counter",
             "Requests decided in those groups, by how their group ended.");
    for (std::size_t i = 0; i < kGroupEndCount; ++i)
        w.sample("policyd_commit_group_requests_total",
                 label("result", group_end_name(static_cast<GroupEnd>(i))),
                 s.commit_group_requests[i]);
    return w.take();
}

}  // namespace policyd
