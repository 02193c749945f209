// NAME
//   worker_pool.cpp - worker threads, one database session each (see worker_pool.h)
#include "server/worker_pool.h"

#include <algorithm>

namespace policyd {

db::Settings database_settings(const Config& c) {
    db::Settings s;
    s.host = c.mysqlhost;
    s.port = static_cast<unsigned>(c.mysqlport);
    s.socket = c.mysqlsocket;
    s.user = c.mysqluser;
    s.password = c.mysqlpass;
    s.database = c.mysqldbase;
    s.connect_timeout_s = static_cast<int>(c.mysql_timeout > 0 ? c.mysql_timeout : 5);
    s.io_timeout_s = s.connect_timeout_s;
    s.lock_wait_timeout_s = std::max(1, s.io_timeout_s - 1);
    return s;
}

WorkerPool::WorkerPool(unsigned workers, db::Settings settings, const Pipeline& pipeline,
                       Done on_done)
    : settings_(std::move(settings)), pipeline_(pipeline), on_done_(std::move(on_done)) {
    threads_.reserve(workers);
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::submit(Job job) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(job));
    }
    wake_.notify_one();
}

std::size_t WorkerPool::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
}

void WorkerPool::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void WorkerPool::run() {
    db::Session session(settings_);
    try {
        session.connect();  // early, so the first request does not pay for it
    } catch (const db::Error&) {
        // Logged by the session; requests are answered by FAILSAFE meanwhile.
    }
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping and drained
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job.reply = pipeline_.evaluate(job.request, *job.config, session, job.fd);
        on_done_(std::move(job));
    }
}

}  // namespace policyd
