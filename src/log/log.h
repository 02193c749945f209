// NAME
//   log.h - the log sink: stdout in the foreground, syslog as a daemon
// SYNOPSIS
//   #include "log/log.h"
//   log::to_stdout();  or  log::to_syslog("policyd", facility_and_priority);  or  log::to_nowhere();
//   log::line("starting policyd 2.0.0");
//   if (log::debug_enabled(2)) log::line("DEBUG: ...");
// DESCRIPTION
//   As in the reference, every message goes to one sink with
//   one priority: stdout (flushed per line) when DAEMON=0, else syslog with
//   the configured SYSLOG_FACILITY value. The functions are thread-safe:
//   worker threads log their decision lines directly.
#pragma once

#include <string>
#include <string_view>

namespace policyd::log {

void to_stdout();
// Drops every line: for policyd-bench's database floor, which measures the
// checks' SQL and not the logging.
void to_nowhere();
// `ident` must stay valid for the life of the process (syslog keeps it).
void to_syslog(const char* ident, int facility_and_priority);
void set_debug_level(long level);
bool debug_enabled(long level);

void line(std::string_view text);

}  // namespace policyd::log
