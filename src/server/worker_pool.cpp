// NAME
//   worker_pool.cpp - worker threads, one database session each (see worker_pool.h)
// DESCRIPTION
//   Jobs wait in one mutex-guarded queue. An idle worker sleeps on its own
//   futex word rather than a shared condition variable: submit() wakes
//   exactly one idle worker, or none when all are busy, at two system calls
//   per wake-up instead of four (measured, docs/PERFORMANCE.md).
#include "server/worker_pool.h"

#include "server/commit_group.h"

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

// How long every worker decides alone after a group failed (see worker_pool.h).
constexpr std::chrono::seconds kGroupPause{1};

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
                       Done on_done, Stats* stats)
    : settings_(std::move(settings)), pipeline_(pipeline), on_done_(std::move(on_done)),
      stats_(stats), workers_(workers) {
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
        std::vector<Job> jobs = take_jobs();
        if (jobs.empty()) return;  // stopping and drained
        std::erase_if(jobs, [](const Job& job) {
            return job.progress->answered.load();  // too late: the loop already answered it
        });
        if (jobs.empty()) continue;
        std::vector<Job> again = decide_jobs(jobs, pipeline_, session, stats_);
        if (!again.empty()) {
            groups_paused_until_.store(
                (std::chrono::steady_clock::now() + kGroupPause).time_since_epoch().count(),
                std::memory_order_relaxed);
            put_back(std::move(again));
        }
        for (Job& job : jobs) on_done_(std::move(job));
    }
}

void WorkerPool::put_back(std::vector<Job> jobs) {
    std::vector<Sleeper*> woken;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.insert(queue_.begin(), std::make_move_iterator(jobs.begin()),
                      std::make_move_iterator(jobs.end()));
        // The caller takes one itself when it comes back for work.
        while (!idle_.empty() && woken.size() + 1 < jobs.size()) {
            woken.push_back(idle_.back());
            idle_.pop_back();
        }
    }
    for (Sleeper* sleeper : woken) wake(*sleeper);
}

std::vector<Job> WorkerPool::take_jobs() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (queue_.empty()) {
        if (stopping_) return {};
        Sleeper me;
        idle_.push_back(&me);
        lock.unlock();
        // Until submit() or stop() has taken us off idle_ and set the
        // word; a spurious return (EINTR) just waits again.
        while (me.awake.load(std::memory_order_acquire) == 0)
            syscall(SYS_futex, futex_word(me.awake), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
        lock.lock();
    }
    // A fair share, so that a short queue goes to several workers at once
    // rather than waiting in one group; a long one fills the groups.
    const std::size_t share = (queue_.size() + workers_ - 1) / workers_;
    const bool paused = std::chrono::steady_clock::now().time_since_epoch().count() <
                        groups_paused_until_.load(std::memory_order_relaxed);
    const auto most =
        paused ? 1 : static_cast<std::size_t>(std::max(1L, queue_.front().config->commit_group));
    std::vector<Job> jobs;
    jobs.reserve(std::min(share, most));
    while (!queue_.empty() && jobs.size() < std::min(share, most)) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return jobs;
}

}  // namespace policyd
