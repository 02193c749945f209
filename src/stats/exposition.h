// NAME
//   exposition.h - the statistics in the Prometheus text exposition format
// SYNOPSIS
//   #include "stats/exposition.h"
//   std::string body = prometheus_text(stats.snapshot(), {queue_depth, version, path, start});
// DESCRIPTION
//   Writes the body of GET /metrics (text format 0.0.4): one # HELP and
//   # TYPE line per metric family, then its samples. Names follow the
//   Prometheus conventions (policyd_ prefix, _total for counters, seconds
//   for time); every label takes values from a fixed set (actions, check
//   names, decision results, reasons, configured database nodes), never a
//   client or sender address. Labelled counters show the label sets counted
//   at least once; the unlabelled ones, the histogram and the gauges are
//   always there. The metric list is documented in docs/OPERATIONS.md.
//
//   A pure function of its arguments, so it is tested without a socket.
#pragma once

#include <cstdint>
#include <string>

#include "stats/stats.h"

namespace policyd {

// What the exposition shows besides the Stats snapshot.
struct ExpositionInfo {
    std::uint64_t worker_queue_depth = 0;  // requests waiting for a worker
    std::string version;                   // PACKAGE_VERSION
    std::string config_path;               // the policyd.conf in use
    double start_time_seconds = 0;         // Unix time the daemon started
};

std::string prometheus_text(const Stats::Snapshot& snapshot, const ExpositionInfo& info);

// A label value with \, " and newline escaped as the text format requires.
std::string escape_label_value(std::string_view value);

}  // namespace policyd
