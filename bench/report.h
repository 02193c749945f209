// NAME
//   report.h - what one policyd-bench run measured, as text or JSON
// SYNOPSIS
//   #include "report.h"
//   bench::Stats s;  s.record_reply("action=dunno", latency_us);  total.merge(s);
//   bench::print_text(report, std::cout);  or  bench::print_json(report, std::cout);
// DESCRIPTION
//   Every request the bench sends ends in exactly one of: answered (its
//   reply text counted in `replies`), timed out, or error (its connection
//   was closed or reset, or the reply was not "action=..."), so
//   sent == answered + timeouts + errors and the reply counts add up to
//   answered. Connection attempts that fail are counted apart: no request
//   was sent on them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "histogram.h"
#include "verdict.h"

namespace bench {

struct Stats {
    Histogram latency_us;
    std::map<std::string, std::uint64_t> replies;  // by spelling (verdict.h)
    std::array<std::uint64_t, kVerdicts> verdicts{};  // indexed by Verdict
    std::uint64_t sent = 0;
    std::uint64_t answered = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t errors = 0;
    std::uint64_t connect_errors = 0;
    std::uint64_t connections_opened = 0;

    void record_reply(std::string_view reply, std::uint64_t latency);
    void merge(const Stats& other);
};

// Server-wide MariaDB status counters (SHOW GLOBAL STATUS).
struct DbCounters {
    std::uint64_t questions = 0;
    std::uint64_t stmt_execute = 0;
    std::uint64_t stmt_prepare = 0;
};

struct Report {
    std::string mode;      // "daemon" or "db-floor"
    std::string target;    // host:port, or the database for the floor
    std::string mix;
    unsigned connections = 0;
    unsigned threads = 0;
    unsigned pipeline = 0;
    unsigned per_connection = 0;
    double offered_rate = 0;  // --rate: requests/s asked for; 0: closed loop
    double seconds = 0;    // from the first request to the last reply
    Stats stats;
    std::optional<Stats> seed;              // the retry seeding's second round
    std::optional<DbCounters> db;           // delta over the measured run
    std::string db_error;                   // why `db` is missing, if asked for
    std::optional<std::uint64_t> statements;  // db-floor: statements its sessions sent
    // --watch-pid: the server's VmRSS (kB) with every connection open and
    // idle, and at the end; connections that were open when idle.
    std::optional<std::uint64_t> rss_idle_kb, rss_end_kb;
    std::optional<std::uint64_t> idle_connections;
    // CPU seconds over the measured run: the bench's own (with --db-floor,
    // the floor's threads) and each --watch-pid process's, in that order.
    double own_cpu_seconds = 0;
    std::vector<std::optional<double>> watched_cpu_seconds;
};

void print_text(const Report& report, std::ostream& out);
void print_json(const Report& report, std::ostream& out);

// The live progress line (without the carriage return).
std::string progress_line(double seconds, std::uint64_t answered, std::uint64_t timeouts,
                          std::uint64_t errors, unsigned open_connections);

}  // namespace bench
