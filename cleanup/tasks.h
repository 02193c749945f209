// NAME
//   tasks.h - what the cleanup program expires, and how it deletes
// SYNOPSIS
//   #include "cleanup/tasks.h"
//   for (const Task& t : cleanup_tasks(config, now))
//       if (t.skipped.empty()) expire(session, t, kBatchRows, deleted);
// DESCRIPTION
//   cleanup_tasks() is the reference's cleanup.c step list with its
//   switches, cut-offs and log
//   messages, in its order, plus ours: every list table's past _expire rows
//   (blacklist_sender, whitelist_sender, *_dnsname), distributed_origin rows
//   older than DISTRIBUTED_ORIGIN_TIME, and stale throttle instances whatever
//   SENDER_INACTIVE_EXPIRE says. docs/CLEANUP.md lists every task and
//   difference.
//
//   An age-based task whose age is not a positive number of seconds that
//   leaves a cut-off in 1970..NOW is refused (Task::refused), whatever the
//   configuration reader let through: a negative or wrapped age would put
//   the cut-off in the future and delete every row, fresh ones included.
//   A task that runs deletes only rows older than its cut-off, NOW - age,
//   and its message never states an age greater than that.
//
//   expire() deletes one task's rows in batches without ever holding locks
//   on rows it does not delete: a plain (non-locking) SELECT reads up to
//   `batch` keys of matching rows, then one short transaction deletes each
//   by its unique key while re-checking the condition, so a row a daemon
//   refreshed in between survives. It repeats until a batch finds fewer
//   rows than `batch`, or deletes none of those it found (all refreshed).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "config/config.h"
#include "db/session.h"

namespace policyd {

struct Task {
    std::string table;
    std::vector<std::string> key_columns;  // the table's unique key
    std::string condition;                 // SQL condition with ? placeholders
    std::vector<db::Param> params;         // bound to the condition's ?s
    std::string message;                   // the "expiring ..." log line
    std::string skipped;                   // why it does not run; "" when it runs
    std::string refused;                   // why it must not run (a failure); "" if fine
};

std::vector<Task> cleanup_tasks(const Config& config, std::time_t now);

// Deletes the task's rows, adding each committed batch to `deleted`.
// Throws db::Error; the batches committed before the failure stay deleted.
void expire(db::Session& session, const Task& task, std::size_t batch, std::uint64_t& deleted);

}  // namespace policyd
