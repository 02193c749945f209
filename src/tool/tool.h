// NAME
//   tool.h - what policyd's command-line programs (cleanup, stats) share
// SYNOPSIS
//   #include "tool/tool.h"
//   auto path = tool::config_path(argc, argv);            // "-c FILE", else usage
//   if (!path) return tool::kFailure;
//   auto config = tool::start(*path, "cleanup", "clean up process starting: policyd 2.0.0");
//   if (!config) return tool::kFailure;
//   db::Session session(tool::batch_settings(*config, 600));
//   if (!tool::connect(session, *config)) ...
// DESCRIPTION
//   The reference's cleanup and stats programs start alike:
//   "-c FILE" on the command line (getopt ":c:"; the last -c wins; no other
//   option, no other argument), the daemon's policyd.conf and its parser,
//   the log sink of DAEMON (stdout when 0, else syslog with SYSLOG_FACILITY),
//   never detaching, and the reference's connect lines. Everything here
//   runs once, on the main thread, before the program's own work.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "db/session.h"

namespace policyd::tool {

constexpr int kFailure = 255;  // the reference's exit(-1)

// The path of "-c FILE". Anything else (no argument, another option, "-c"
// without a file, a non-option argument) prints policyd's usage on stdout
// and returns nullopt.
std::optional<std::string> config_path(int argc, char** argv);

// Loads the file (an unusable one: its error on stderr, nullopt), points the
// log sink at stdout (DAEMON=0) or at syslog as `ident` (a string that lives
// as long as the process: syslog keeps the pointer), sets DEBUG, then logs
// `banner`, the file's warnings and, at DEBUG>0, the configuration dump.
std::optional<Config> start(const std::string& path, const char* ident, const std::string& banner);

// Database settings for a program that runs long statements over whole
// tables: `statement_timeout_s` for each statement, the server's lock wait
// (the daemons' rows may be locked a moment), MYSQL_TIMEOUT for the connect,
// and no outage lines (the program reports failures in its own words).
db::Settings batch_settings(const Config& config, int statement_timeout_s);

// Connects, logging "connecting to mysql database: <MYSQLHOST>" and then
// "connected.." or "mysql_real_connect(): <error>". Returns
// whether the session is connected.
bool connect(db::Session& session, const Config& config);

}  // namespace policyd::tool
