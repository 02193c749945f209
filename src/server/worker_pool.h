// NAME
//   worker_pool.h - the threads that run the pipeline against the database
// SYNOPSIS
//   #include "server/worker_pool.h"
//   WorkerPool pool(n, db_settings, pipeline, on_done);
//   pool.submit(Job{...});          // event-loop thread
//   on_done(Job&&) runs on a worker; it must only hand the job back to the loop
// DESCRIPTION
//   Each worker owns one db::Session (one connection, its own prepared
//   statements), so database calls never block the event loop and a slow
//   statement delays only the request it belongs to. Jobs are taken in
//   arrival order from one queue.
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

#include "config/config.h"
#include "db/session.h"
#include "policy/pipeline.h"
#include "protocol/request.h"

namespace policyd {

struct Job {
    std::uint64_t connection_id = 0;
    std::uint64_t sequence = 0;  // position of the request on its connection
    int fd = -1;                 // for the reference's "invalid" log lines
    std::shared_ptr<const Request> request;
    std::shared_ptr<const Config> config;  // the configuration it arrived under
    // Shared with the connection, which answers the request itself when
    // REQUEST_TIMEOUT passes; a worker then skips the job.
    std::shared_ptr<RequestProgress> progress;
    std::string reply;           // filled in by the worker
    std::chrono::steady_clock::time_point arrived;  // complete request read (for latency)
};

class WorkerPool {
public:
    using Done = std::function<void(Job&&)>;

    WorkerPool(unsigned workers, db::Settings settings, const Pipeline& pipeline, Done on_done);
    ~WorkerPool();

    void submit(Job job);
    // Finishes queued jobs and joins the workers. Idempotent.
    void stop();
    std::size_t queued() const;

private:
    struct Sleeper;  // one per idle worker, on that worker's stack
    void run();
    static void wake(Sleeper& sleeper);

    const db::Settings settings_;
    const Pipeline& pipeline_;
    Done on_done_;
    mutable std::mutex mutex_;
    std::deque<Job> queue_;
    std::vector<Sleeper*> idle_;  // workers asleep or about to be; guarded by mutex_
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace policyd
