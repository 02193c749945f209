// NAME
//   database_counters.h - one database node's statement counters
// SYNOPSIS
//   #include "stats/database_counters.h"
//   settings.counters.push_back(&stats.database_node("db1:3306"));  // one per server
//   counters.statements.fetch_add(1, std::memory_order_relaxed);   // db::Session
// DESCRIPTION
//   Kept apart from stats.h so that db::Session, which updates them, needs
//   no more than this. Stats owns them (one per node, stable addresses for
//   as long as the Stats lives); the sessions of every worker talking to
//   the node update them concurrently with relaxed atomics. With several
//   servers in MYSQLHOST each has its own counters.
#pragma once

#include <atomic>
#include <cstdint>

namespace policyd {

struct DatabaseCounters {
    std::atomic<std::uint64_t> statements{0};  // sent to the server, retries included
    std::atomic<std::uint64_t> errors{0};      // failed statements and connects
    std::atomic<std::uint64_t> retries{0};     // statements (or transactions) sent again after a failure
    std::atomic<std::uint64_t> reconnects{0};  // connections reopened after one was lost
    std::atomic<std::uint64_t> conflicts{0};   // deadlocks and Galera certification failures (1213)
    std::atomic<std::uint64_t> failovers{0};   // lost or refused here with another server to go to
    std::atomic<std::uint64_t> connections{0}; // worker connections open to the node now (a gauge)
};

}  // namespace policyd
