// NAME
//   worker_pool.h - the threads that run the pipeline against the database
// SYNOPSIS
//   #include "server/worker_pool.h"
//   WorkerPool pool(n, db_settings, pipeline, on_done);
//   pool.submit(Job{...});          // event-loop thread
//   on_done(Job&&) runs on a worker; it must only hand the job back to the loop
// DESCRIPTION
//   Each worker owns one db::Session (one connection, its own prepared
//   statements), so database calls never block the event loop. Jobs are
//   taken in arrival order from one queue; a worker that finds several
//   waiting takes its share, ceil(queued / workers) up to the first job's
//   COMMIT_GROUP, and decides them under one COMMIT (commit_group.h), so a
//   slow statement delays the requests of its group; those of a group that
//   did not commit go back to the front of the queue, one job each. A queue shorter than
//   the pool is never grouped: idle workers take it in parallel. When a
//   group fails, every worker decides alone for a second: a group gives
//   way to any row lock held elsewhere, so on a hot row (one sender's
//   throttle, wanted by every worker) groups would fail one after another,
//   while alone the requests wait only for each other's statements.
//
//   The Pipeline and the Settings must outlive the pool. stop() finishes
//   the jobs already queued, then joins the threads.
//
//   Hand-off: a worker with nothing to do puts itself on an idle list and
//   sleeps on its own futex word; submit() wakes exactly one idle worker, and
//   none when all are busy (a busy worker takes the next job before it would
//   sleep). Profiling showed a std::condition_variable costing four futex
//   calls per wake-up with glibc (two on notify_one, the wait, and a wake on
//   unlocking the mutex the wait re-took as "contended"); this costs two.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "db/session.h"
#include "policy/pipeline.h"
#include "server/job.h"

namespace policyd {


class WorkerPool {
public:
    using Done = std::function<void(Job&&)>;

    // `stats` (nullptr: none) counts the commit groups; it must outlive the pool.
    WorkerPool(unsigned workers, db::Settings settings, const Pipeline& pipeline, Done on_done,
               Stats* stats = nullptr);
    ~WorkerPool();

    void submit(Job job);
    // Finishes queued jobs and joins the workers. Idempotent.
    void stop();
    std::size_t queued() const;

private:
    struct Sleeper;  // one per idle worker, on that worker's stack
    void run();
    // Waits for a job, then takes it and the others of a fair share of the
    // queue (commit_group.h), or it alone while groups are paused; empty
    // when stopping.
    std::vector<Job> take_jobs();
    // The jobs of a group that did not commit, back at the front of the
    // queue in their order; wakes idle workers for them.
    void put_back(std::vector<Job> jobs);
    static void wake(Sleeper& sleeper);

    const db::Settings settings_;
    const Pipeline& pipeline_;
    Done on_done_;
    Stats* stats_;
    const std::size_t workers_;  // threads_ grows while the first ones run
    // Until then (steady_clock ticks) every worker decides alone: set for a
    // second when a group fails.
    std::atomic<std::chrono::steady_clock::rep> groups_paused_until_{0};
    mutable std::mutex mutex_;
    std::deque<Job> queue_;
    std::vector<Sleeper*> idle_;  // workers asleep or about to be; guarded by mutex_
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace policyd
