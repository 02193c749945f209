// NAME
//   worker_pool.cpp - worker threads, one database session each (see worker_pool.h)
// DESCRIPTION
//   Jobs wait in one mutex-guarded queue. An idle worker sleeps on its own
//   futex word rather than a shared condition variable: submit() wakes
//   exactly one idle worker, or none when all are busy, at two system calls
//   per wake-up instead of four (measured, docs/PERFORMANCE.md).
#include "server/worker_pool.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace policyd {

// `awake` is the futex word: 0 while the worker sleeps, set to 1 (once) by
// whoever takes it off the idle list, so no wake-up can be lost between the
// worker leaving mutex_ and entering futex_wait (the kernel compares the word).
struct WorkerPool::Sleeper {
    std::atomic<std::uint32_t> awake{0};
};
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

namespace {

std::uint32_t* futex_word(std::atomic<std::uint32_t>& a) {
    return reinterpret_cast<std::uint32_t*>(&a);
}

}  // namespace

// The sleeper may see the word, return and reuse that stack address before
// the FUTEX_WAKE below is made: at worst that wakes its next wait early, and
// the wait loop goes back to sleep while the word is 0.
void WorkerPool::wake(Sleeper& sleeper) {
    sleeper.awake.store(1, std::memory_order_release);
    syscall(SYS_futex, futex_word(sleeper.awake), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

WorkerPool::WorkerPool(unsigned workers, db::Settings settings, const Pipeline& pipeline,
                       Done on_done)
    : settings_(std::move(settings)), pipeline_(pipeline), on_done_(std::move(on_done)) {
    threads_.reserve(workers);
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::submit(Job job) {
    Sleeper* sleeper = nullptr;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(job));
        if (!idle_.empty()) {
            sleeper = idle_.back();  // the most recently idle: its cache is warmest
            idle_.pop_back();
        }
    }
    if (sleeper) wake(*sleeper);
}

std::size_t WorkerPool::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
}

void WorkerPool::stop() {
    std::vector<Sleeper*> sleepers;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
        sleepers.swap(idle_);
    }
    for (Sleeper* sleeper : sleepers) wake(*sleeper);
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
            while (queue_.empty()) {
                if (stopping_) return;  // stopping and drained
                Sleeper me;
                idle_.push_back(&me);
                lock.unlock();
                // Until submit() or stop() has taken us off idle_ and set the
                // word; a spurious return (EINTR) just waits again.
                while (me.awake.load(std::memory_order_acquire) == 0)
                    syscall(SYS_futex, futex_word(me.awake), FUTEX_WAIT_PRIVATE, 0, nullptr,
                            nullptr, 0);
                lock.lock();
            }
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        if (job.progress->answered) continue;  // too late: the loop already answered it
        // Conflicts are retried while the connection would still take the answer.
        session.set_deadline(job.arrived + std::chrono::seconds(job.config->request_timeout));
        job.reply = pipeline_.evaluate(*job.request, *job.config, session, job.fd, job.progress.get());
        on_done_(std::move(job));
    }
}

}  // namespace policyd
