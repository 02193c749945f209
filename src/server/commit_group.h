// NAME
//   commit_group.h - the requests a worker took together, decided under one COMMIT
// SYNOPSIS
//   #include "server/commit_group.h"
//   decide_jobs(jobs, pipeline, session, stats);   // each job's reply filled in
// DESCRIPTION
//   With innodb_flush_log_at_trx_commit=1 (MariaDB's default) every COMMIT
//   waits for the redo log to reach the disk, and a request of the default
//   configuration is one write: its commit is most of its cost. A worker
//   that finds requests waiting takes several (COMMIT_GROUP at most, a fair
//   share of the queue: see WorkerPool) and decides them one after another
//   in one transaction, with one COMMIT, and only then hands their replies
//   back. Each request's statements are the ones it sends alone, and it
//   sees the writes of the requests before it in the group, as it would
//   have seen them committed: the decisions are the same.
//
//   Nothing of a group shows before its COMMIT: the requests' log lines and
//   counts are held (policy/held_effects.h). If any statement of the group
//   fails, or the COMMIT is refused (a deadlock, a Galera certification
//   conflict), the group is rolled back and each request is decided again
//   on its own, by whichever worker takes it, with its own retries and
//   FAILSAFE, as if it had never been grouped. A group does not wait for a
//   row lock another transaction holds: it fails at once
//   (db::Session::wait_for_locks) rather than hold its requests, and its own
//   locks, behind that one. If the connection is lost during the COMMIT, the group may or
//   may not have committed: deciding again could count twice, so its
//   requests are answered by FAILSAFE (docs/FAILURES.md).
//
//   The jobs are the caller's; one job is simply decided on its own.
#pragma once

#include <vector>

#include "db/session.h"
#include "policy/pipeline.h"
#include "server/job.h"
#include "stats/stats.h"

namespace policyd {

// Decides the jobs of `jobs` (in arrival order, none answered by the loop
// when taken) and fills in their replies, counting a group's end into
// `stats` (nullptr: nowhere). A job the loop answered meanwhile is not
// decided, and its reply is dropped by the loop. The jobs of a group that
// did not commit are moved out of `jobs` and returned, to be decided again
// each on its own (their replies empty, their rcpt=N kept in the job): the
// worker puts them back at the front of the queue, where idle workers take
// them at once, so one that waits for a lock does not hold up the others.
std::vector<Job> decide_jobs(std::vector<Job>& jobs, const Pipeline& pipeline,
                             db::Session& session, Stats* stats);

}  // namespace policyd
