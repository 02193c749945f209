// NAME
//   db_floor.h - the daemon's database work without the daemon
// SYNOPSIS
//   #include "db_floor.h"
//   bench::FloorResult r = bench::run_db_floor(threads, config, budget, source, live, at_start,
//                                              progress);
// DESCRIPTION
//   Runs the same requests through the same code as policyd's workers,
//   minus the network and the event loop: each of `threads` threads owns
//   one db::Session (connected before the clock starts), turns the
//   generated attribute text into a Request with policyd::normalize() and
//   calls policyd::Pipeline::standard().evaluate() with the loaded
//   configuration. So the floor sends exactly the SQL the daemon sends for
//   that mix and configuration, from as many database connections as there
//   are threads, and its throughput is what the database allows: the
//   daemon's throughput is reported as a fraction of it.
//
//   `at_start` runs once every session is connected, just before the first
//   request. The latency of a request is the duration of evaluate(). Decision log
//   lines are dropped (log::to_nowhere()).
#pragma once

#include "config/config.h"
#include "load.h"
#include "report.h"

namespace bench {

struct FloorResult {
    Stats stats;
    double seconds = 0;           // first request to last reply
    std::uint64_t statements = 0; // sent by the sessions (db::Session::round_trips)
};

FloorResult run_db_floor(unsigned threads, const policyd::Config& config, Budget& budget,
                         const Source& source, Live& live,
                         const std::function<void()>& at_start, bool progress);

}  // namespace bench
