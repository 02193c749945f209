// NAME
//   load.h - what the load generators share: the budget, live counters, progress
// SYNOPSIS
//   #include "load.h"
//   bench::Budget budget({.requests = 10000, .duration = 0, .rate = 0});
//   budget.start();                       // when measuring begins
//   while (budget.take()) send_one();     // any thread
//   auto due = budget.due();              // with a rate: when to send it (nullopt: no more)
//   bench::watch(live, start, show_progress, [&] { return all_done; });
// DESCRIPTION
//   Both the network client (net_load.h) and the database floor
//   (db_floor.h) are closed loops: each connection or thread sends its next
//   request when the previous reply arrived. The Budget says whether one
//   more request may be sent: a request count, a deadline, or both (the
//   first reached ends the run). Live holds the counters the progress line
//   shows while the threads run.
//
//   With a rate the arrivals are paced instead: request k is due at
//   start + k / rate, and whichever connection is free takes the next due
//   time and waits for it. A request's latency is then counted from its
//   due time, not from when it could be written, so a server that falls
//   behind is charged for the queue it builds up (no "coordinated
//   omission": a closed loop would simply send less and look fast).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "workload.h"

namespace bench {

using Clock = std::chrono::steady_clock;

struct LoadPlan {
    std::uint64_t requests = 0;  // 0: no limit
    double duration = 0;         // seconds; 0: no limit
    double rate = 0;             // requests/s over all connections; 0: closed loop
};

class Budget {
public:
    explicit Budget(LoadPlan plan) : plan_(plan) {}
    void start();
    // Whether one more request may be sent (and counts it). Thread-safe.
    bool take();
    // Whether take() could still succeed.
    bool open() const;
    bool paced() const { return plan_.rate > 0; }
    // With a rate: the due time of the next request, each time a later one
    // (thread-safe), or nullopt when that one would be past the request
    // count or the deadline (then open() is false too). Without: now.
    std::optional<Clock::time_point> due();

private:
    // With a rate: whether request k would be past the count or the deadline.
    bool beyond_schedule(std::uint64_t k) const;

    LoadPlan plan_;
    std::atomic<std::uint64_t> taken_{0};
    std::atomic<std::uint64_t> scheduled_{0};
    Clock::time_point start_{};
    Clock::time_point deadline_ = Clock::time_point::max();
};

struct Live {
    std::atomic<std::uint64_t> answered{0}, timeouts{0}, errors{0};
    std::atomic<unsigned> open_connections{0};
};

// Where requests come from: the workload's next message, or the seeding.
using Source = std::function<Message()>;

// Waits until `finished()` is true, redrawing the progress line on stderr
// every 200 ms when `show` (stderr is a terminal).
void watch(const Live& live, Clock::time_point start, bool show,
           const std::function<bool()>& finished);

double seconds_between(Clock::time_point from, Clock::time_point to);

}  // namespace bench
