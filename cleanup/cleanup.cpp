// NAME
//   cleanup - expire old rows from the policyd database (run it from cron)
// SYNOPSIS
//   cleanup -c /usr/local/etc/policyd.conf
// DESCRIPTION
//   The reference's cleanup program:
//   reads the daemon's policyd.conf with the same parser, logs to stdout
//   (DAEMON=0) or to syslog as "cleanup" (DAEMON=1), connects, samples NOW
//   once and runs every task of cleanup_tasks() in order, logging
//   "expiring ..." and "expired: <n> records" for each, then one summary
//   line per table and a last line saying how it went.
//
//   Where it differs from the reference: the connect has a timeout
//   (MYSQL_TIMEOUT); a failing task does not stop the others; every
//   table's expired rows go, not only those of the enabled modules; rows
//   are deleted in small batches that never lock live rows (tasks.h).
//
//   Exit status: 0 when every task succeeded; 255 for a usage or
//   configuration error, an unreachable database, or a failed task (after
//   the remaining tasks ran).
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "cleanup/tasks.h"
#include "config.h"
#include "config/config.h"
#include "log/log.h"
#include "tool/tool.h"

using namespace policyd;

namespace {

const char* const kVersion = "policyd " PACKAGE_VERSION;
constexpr std::size_t kBatchRows = 1000;
// One batch SELECT may scan a large table without an index on its
// condition (throttle._date); the reference allowed 600 s as well.
constexpr int kStatementTimeout = 600;

// What happened to one table, over all of its tasks.
struct TableResult {
    std::string table;
    std::uint64_t deleted = 0;
    bool ran = false;
    std::string skipped;  // reasons of the tasks that did not run
    std::string error;
};

TableResult& result_for(std::vector<TableResult>& results, const std::string& table) {
    for (auto& r : results)
        if (r.table == table) return r;
    results.emplace_back().table = table;
    return results.back();
}

std::string summary(const TableResult& r) {
    std::string text = "summary: " + r.table + ": ";
    if (!r.error.empty())
        return text + "FAILED after " + std::to_string(r.deleted) + " records: " + r.error;
    if (!r.ran) return text + "skipped (" + r.skipped + ")";
    return text + std::to_string(r.deleted) + " records expired";
}

std::string describe(const Task& task) {
    std::string text = "DELETE FROM " + task.table + " WHERE " + task.condition + " [";
    for (std::size_t i = 0; i < task.params.size(); ++i) {
        const auto* n = std::get_if<long long>(&task.params[i]);
        text += (i ? ", " : "") + (n ? std::to_string(*n) : std::get<std::string>(task.params[i]));
    }
    return text + "]";
}

}  // namespace

int main(int argc, char** argv) {
    const auto path = tool::config_path(argc, argv);
    if (!path) return tool::kFailure;
    const auto loaded =
        tool::start(*path, "cleanup", std::string("clean up process starting: ") + kVersion);
    if (!loaded) return tool::kFailure;
    const Config& config = *loaded;

    db::Session session(tool::batch_settings(config, kStatementTimeout));
    if (!tool::connect(session, config)) {
        log::line("clean up process failed: cannot connect to database " + config.mysqldbase +
                  " on " + config.mysqlhost + "; nothing was expired");
        return tool::kFailure;
    }

    const std::time_t now = std::time(nullptr);
    std::vector<TableResult> results;
    std::uint64_t total = 0;
    int failed = 0, ran = 0;
    for (const Task& task : cleanup_tasks(config, now)) {
        TableResult& result = result_for(results, task.table);
        if (!task.skipped.empty()) {
            if (result.skipped.find(task.skipped) == std::string::npos)
                result.skipped += (result.skipped.empty() ? "" : "; ") + task.skipped;
            continue;
        }
        ++ran;
        result.ran = true;
        if (!task.refused.empty()) {
            ++failed;
            result.error = task.refused;
            log::line("error: " + task.table + ": " + task.refused);
            continue;
        }
        log::line(task.message);
        if (log::debug_enabled(2)) log::line("DEBUG: fd: 0, db_deletequery(): " + describe(task));
        std::uint64_t deleted = 0;
        try {
            expire(session, task, kBatchRows, deleted);
        } catch (const db::Error& e) {
            ++failed;
            result.error = e.what();
            log::line(std::string("error: ") + task.table + ": " + e.what());
        }
        log::line("expired: " + std::to_string(deleted) + " records");
        result.deleted += deleted;
        total += deleted;
    }
    for (const auto& result : results) log::line(summary(result));
    if (failed > 0) {
        log::line("clean up process failed: " + std::to_string(failed) + " of " +
                  std::to_string(ran) + " tasks failed, " + std::to_string(total) +
                  " records expired");
        return tool::kFailure;
    }
    log::line("clean up process finished: " + std::to_string(total) + " records expired");
    return 0;
}
