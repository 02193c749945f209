// NAME
//   report.cpp - text and JSON output of policyd-bench (see report.h)
// DESCRIPTION
//   Latencies are recorded in microseconds and printed in milliseconds.
//   The JSON is one object; its field names are what scripts/bench.sh and
//   tests/integration/test_bench.py read, so keep them stable.
#include "report.h"

#include <cstdio>
#include <string_view>

namespace bench {
namespace {

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

std::string fixed(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

double ms(std::uint64_t us) { return static_cast<double>(us) / 1000.0; }

double rate(const Report& r) {
    return r.seconds > 0 ? static_cast<double>(r.stats.answered) / r.seconds : 0.0;
}

double per_request(std::uint64_t total, const Stats& s) {
    return s.answered ? static_cast<double>(total) / static_cast<double>(s.answered) : 0.0;
}

std::string json_replies(const Stats& s) {
    std::string out = "{";
    for (const auto& [reply, n] : s.replies) {
        if (out.size() > 1) out += ", ";
        out += json_string(reply) + ": " + std::to_string(n);
    }
    return out + "}";
}

std::string json_verdicts(const Stats& s) {
    std::string out = "{";
    for (std::size_t v = 0; v < kVerdicts; ++v)
        out += (v ? ", " : "") + json_string(verdict_name(static_cast<Verdict>(v))) + ": " +
               std::to_string(s.verdicts[v]);
    return out + "}";
}

std::string json_requests(const Stats& s) {
    return "{\"sent\": " + std::to_string(s.sent) + ", \"answered\": " +
           std::to_string(s.answered) + ", \"timeouts\": " + std::to_string(s.timeouts) +
           ", \"errors\": " + std::to_string(s.errors) + "}";
}

template <typename T>
std::string json_optional(const std::optional<T>& value) {
    return value ? std::to_string(*value) : "null";
}
std::string json_optional(const std::optional<double>& value) {
    return value ? fixed(*value, 1) : "null";
}

// CPU seconds spent over the run, as microseconds per answered request.
double per_request_us(double seconds, const Stats& s) {
    return s.answered ? seconds * 1e6 / static_cast<double>(s.answered) : 0.0;
}
std::optional<double> per_request_us(const std::optional<double>& seconds, const Stats& s) {
    if (!seconds) return std::nullopt;
    return per_request_us(*seconds, s);
}

}  // namespace

void Stats::record_reply(std::string_view reply, std::uint64_t latency) {
    ++answered;
    latency_us.record(latency);
    ++verdicts[static_cast<std::size_t>(verdict_of(reply))];
    ++replies[spelling(reply)];
}

void Stats::merge(const Stats& o) {
    latency_us.merge(o.latency_us);
    for (const auto& [reply, n] : o.replies) replies[reply] += n;
    for (std::size_t v = 0; v < kVerdicts; ++v) verdicts[v] += o.verdicts[v];
    sent += o.sent;
    answered += o.answered;
    timeouts += o.timeouts;
    errors += o.errors;
    connect_errors += o.connect_errors;
    connections_opened += o.connections_opened;
}

std::string progress_line(double seconds, std::uint64_t answered, std::uint64_t timeouts,
                          std::uint64_t errors, unsigned open_connections) {
    const double rps = seconds > 0 ? static_cast<double>(answered) / seconds : 0.0;
    return fixed(seconds, 1) + " s  " + std::to_string(answered) + " answered  " +
           fixed(rps, 0) + " req/s  " + std::to_string(timeouts) + " timeouts  " +
           std::to_string(errors) + " errors  " + std::to_string(open_connections) +
           " connections";
}

void print_text(const Report& r, std::ostream& out) {
    const Stats& s = r.stats;
    const Histogram& h = s.latency_us;
    out << "policyd-bench " << r.mode << " " << r.target << "  mix=" << r.mix
        << "  connections=" << r.connections << "  threads=" << r.threads
        << "  pipeline=" << r.pipeline << "  per-connection=" << r.per_connection
        << (r.offered_rate > 0 ? "  rate=" + fixed(r.offered_rate, 0) + "/s" : "") << "\n";
    if (r.seed)
        out << "  seeded       " << r.seed->answered << " retry triplets, second round: "
            << json_replies(*r.seed) << "\n";
    out << "  requests     " << s.sent << " sent, " << s.answered << " answered, " << s.timeouts
        << " timeouts, " << s.errors << " errors, " << s.connect_errors
        << " connect errors, in " << fixed(r.seconds, 2) << " s\n";
    out << "  throughput   " << fixed(rate(r), 0) << " requests/s\n";
    out << "  latency ms   p50 " << fixed(ms(h.percentile(50)), 2) << "  p95 "
        << fixed(ms(h.percentile(95)), 2) << "  p99 " << fixed(ms(h.percentile(99)), 2)
        << "  max " << fixed(ms(h.max()), 2) << "  mean " << fixed(h.mean() / 1000.0, 2) << "\n";
    out << "  verdicts     " << json_verdicts(s) << "\n";
    for (const auto& [reply, n] : s.replies)
        out << "  reply        " << n << "  " << reply << "\n";
    if (r.db)
        out << "  database     " << r.db->questions << " Questions = "
            << fixed(per_request(r.db->questions, s), 2) << " round trips/request (executes "
            << fixed(per_request(r.db->stmt_execute, s), 2) << "/request, "
            << r.db->stmt_prepare << " prepares)\n";
    else if (!r.db_error.empty())
        out << "  database     not measured: " << r.db_error << "\n";
    if (r.statements)
        out << "  statements   " << *r.statements << " sent by the sessions = "
            << fixed(per_request(*r.statements, s), 2) << "/request\n";
    if (r.idle_connections)
        out << "  idle         " << *r.idle_connections << " connections open and idle\n";
    out << "  CPU          " << fixed(per_request_us(r.own_cpu_seconds, s), 1)
        << " us/request in policyd-bench";
    for (std::size_t i = 0; i < r.watched_cpu_seconds.size(); ++i)
        out << ", " << json_optional(per_request_us(r.watched_cpu_seconds[i], s))
            << " in watched process " << i + 1;
    out << "\n";
    if (r.rss_idle_kb)
        out << "  server RSS   " << *r.rss_idle_kb << " kB with the connections idle, "
            << json_optional(r.rss_end_kb) << " kB at the end\n";
}

void print_json(const Report& r, std::ostream& out) {
    const Stats& s = r.stats;
    const Histogram& h = s.latency_us;
    out << "{\"mode\": " << json_string(r.mode) << ", \"target\": " << json_string(r.target)
        << ", \"mix\": " << json_string(r.mix) << ", \"connections\": " << r.connections
        << ", \"threads\": " << r.threads << ", \"pipeline\": " << r.pipeline
        << ", \"per_connection\": " << r.per_connection
        << ", \"offered_rate\": " << fixed(r.offered_rate, 1)
        << ",\n \"seconds\": " << fixed(r.seconds, 3)
        << ", \"requests_per_second\": " << fixed(rate(r), 1)
        << ",\n \"requests\": " << json_requests(s)
        << ", \"connect_errors\": " << s.connect_errors
        << ", \"connections_opened\": " << s.connections_opened
        << ",\n \"latency_ms\": {\"p50\": " << fixed(ms(h.percentile(50)), 3)
        << ", \"p95\": " << fixed(ms(h.percentile(95)), 3)
        << ", \"p99\": " << fixed(ms(h.percentile(99)), 3)
        << ", \"max\": " << fixed(ms(h.max()), 3) << ", \"mean\": " << fixed(h.mean() / 1000.0, 3)
        << "},\n \"replies\": " << json_replies(s) << ", \"verdicts\": " << json_verdicts(s);
    out << ",\n \"seed\": ";
    if (r.seed)
        out << "{\"requests\": " << json_requests(*r.seed) << ", \"replies\": "
            << json_replies(*r.seed) << ", \"verdicts\": " << json_verdicts(*r.seed) << "}";
    else
        out << "null";
    out << ",\n \"database\": ";
    if (r.db)
        out << "{\"questions\": " << r.db->questions << ", \"stmt_execute\": "
            << r.db->stmt_execute << ", \"stmt_prepare\": " << r.db->stmt_prepare
            << ", \"round_trips_per_request\": " << fixed(per_request(r.db->questions, s), 3)
            << "}";
    else if (!r.db_error.empty())
        out << "{\"error\": " << json_string(r.db_error) << "}";
    else
        out << "null";
    out << ", \"statements\": " << json_optional(r.statements)
        << ",\n \"idle_connections\": " << json_optional(r.idle_connections)
        << ", \"server_rss_kb\": {\"idle\": " << json_optional(r.rss_idle_kb)
        << ", \"end\": " << json_optional(r.rss_end_kb) << "}"
        << ",\n \"cpu_us_per_request\": {\"bench\": " << fixed(per_request_us(r.own_cpu_seconds, s), 1)
        << ", \"watched\": [";
    for (std::size_t i = 0; i < r.watched_cpu_seconds.size(); ++i)
        out << (i ? ", " : "") << json_optional(per_request_us(r.watched_cpu_seconds[i], s));
    out << "]}}\n";
}

}  // namespace bench
