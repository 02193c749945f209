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
#pragma once

#include <condition_variable>
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
    Request request;
    std::shared_ptr<const Config> config;  // the configuration it arrived under
    std::string reply;           // filled in by the worker
};

// The database settings of a configuration (MYSQLHOST, MYSQLPORT, MYSQLSOCKET,
// MYSQLUSER, MYSQLPASS, MYSQLDBASE, MYSQL_TIMEOUT): what every worker's
// session, and policyd-bench's database floor, connect with.
db::Settings database_settings(const Config& config);

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
    void run();

    const db::Settings settings_;
    const Pipeline& pipeline_;
    Done on_done_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace policyd
