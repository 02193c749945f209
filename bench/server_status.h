// NAME
//   server_status.h - what policyd-bench reads from the servers it measures
// SYNOPSIS
//   #include "server_status.h"
//   bench::DbCounters before = bench::read_counters(session);
//   ... run ...
//   bench::DbCounters spent = bench::counters_spent(before, bench::read_counters(session));
//   std::optional<std::uint64_t> kb = bench::resident_kb(pid);
//   std::optional<double> s = bench::cpu_seconds(pid);  double own = bench::own_cpu_seconds();
// DESCRIPTION
//   read_counters() reads Questions, Com_stmt_execute and Com_stmt_prepare
//   from the MariaDB/MySQL server's global status. Questions counts every
//   statement a client sends, i.e. the round trips: on MariaDB a prepared
//   statement's execution and its (once per connection) preparation each
//   count. counters_spent() subtracts the bench's own second reading. The counters are
//   server-wide: run the bench against a database server nobody else uses.
//
//   resident_kb() is VmRSS from /proc/<pid>/status, for a server on this
//   machine; cpu_seconds() its user + system time from /proc/<pid>/stat
//   (clock-tick resolution, 10 ms: runs of seconds), own_cpu_seconds() the
//   bench's own (getrusage). Per request, they show where a machine's CPU
//   goes when the client, the daemon and the database share it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

#include "db/session.h"
#include "report.h"

namespace bench {

// Throws policyd::db::Error.
DbCounters read_counters(policyd::db::Session& session);
DbCounters counters_spent(const DbCounters& before, const DbCounters& after);

std::optional<std::uint64_t> resident_kb(pid_t pid);
std::optional<double> cpu_seconds(pid_t pid);
// utime + stime, in clock ticks, of one /proc/<pid>/stat line; nullopt for
// a line that is not one.
std::optional<std::uint64_t> cpu_ticks(const std::string& stat_line);
double own_cpu_seconds();

}  // namespace bench
