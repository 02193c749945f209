// NAME
//   stats - print triplet totals and the top networks of the policyd database
// SYNOPSIS
//   policyd-stats -c /usr/local/etc/policyd.conf      (policyd 1.x: stats -c ...)
// DESCRIPTION
//   The reference's stats program: reads the daemon's
//   policyd.conf with the same parser, logs to stdout (DAEMON=0) or to
//   syslog (DAEMON=1) under the name it was called by, as the reference did
//   without openlog, connects, and prints the sections of report_sections()
//   in order: "<--", the title, "-->", then one "<col0>\t->  <col1>" line
//   per row. Cron jobs and monitoring scripts parse this output, so for the
//   same tables it is the reference's byte for byte at DEBUG=0 (the DEBUG>0
//   configuration dump is our daemon's, see docs/COMPATIBILITY.md).
//
//   Where it differs from the reference: the connect has a timeout
//   (MYSQL_TIMEOUT), and a failure ends with a line saying what failed
//   ("processing statistics failed: ..."); the reference said so only at
//   DEBUG>1 and otherwise stopped silently.
//
//   Exit status, the reference's: 0 when every statement ran (also when
//   GREYLISTING and HELO_CHECK are both off, so nothing is asked of the
//   database, even an unreachable one); 255 for a usage or configuration
//   error, or when a statement fails or cannot be sent (no connection),
//   after the output printed so far.
#include <errno.h>  // program_invocation_short_name

#include <string>

#include "config.h"
#include "log/log.h"
#include "stats/report_sections.h"
#include "tool/tool.h"

using namespace policyd;

namespace {

// A statement may scan and group the whole triplet table; the reference
// allowed 600 s as well.
constexpr int kStatementTimeout = 600;

int failed(const std::string& error, const std::string& sql) {
    if (log::debug_enabled(2)) log::line("db_printquery()/mysql_query(): " + error + " -> " + sql);
    log::line("processing statistics failed: " + error);
    return tool::kFailure;
}

}  // namespace

int main(int argc, char** argv) {
    const auto path = tool::config_path(argc, argv);
    if (!path) return tool::kFailure;
    const auto loaded = tool::start(*path, program_invocation_short_name,
                                    "processing statistics: policyd " PACKAGE_VERSION);
    if (!loaded) return tool::kFailure;
    const Config& config = *loaded;

    db::Session session(tool::batch_settings(config, kStatementTimeout));
    const bool connected = tool::connect(session, config);
    for (const Section& section : report_sections(config)) {
        log::line("<--");
        log::line(section.title);
        log::line("-->");
        for (const std::string& sql : section.queries) {
            if (log::debug_enabled(2)) log::line("DEBUG: fd: 0, db_printquery(): " + sql);
            if (!connected)
                return failed("cannot connect to database " + config.mysqldbase + " on " +
                                  config.mysqlhost,
                              sql);
            try {
                for (const db::Row& row : session.query(sql)) log::line(report_line(row));
            } catch (const db::Error& e) {
                return failed(e.what(), sql);
            }
        }
    }
    return 0;
}
