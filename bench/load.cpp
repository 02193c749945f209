// NAME
//   load.cpp - request budget and progress display (see load.h)
// DESCRIPTION
//   The budget is shared by every sending thread: a request count taken
//   with one relaxed atomic increment, and/or a deadline; with a rate, due
//   times handed out by another such increment. The progress line
//   is redrawn on stderr five times a second until the run is finished.
#include "load.h"

#include <cstdio>
#include <thread>

#include "report.h"

namespace bench {

void Budget::start() {
    start_ = Clock::now();
    if (plan_.duration > 0)
        deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(plan_.duration));
}

bool Budget::take() {
    if (plan_.requests && taken_.fetch_add(1, std::memory_order_relaxed) >= plan_.requests)
        return false;
    return Clock::now() < deadline_;
}

bool Budget::open() const {
    if (plan_.requests && taken_.load(std::memory_order_relaxed) >= plan_.requests) return false;
    if (paced() && beyond_schedule(scheduled_.load(std::memory_order_relaxed))) return false;
    return Clock::now() < deadline_;
}

bool Budget::beyond_schedule(std::uint64_t k) const {
    if (plan_.requests && k >= plan_.requests) return true;
    return plan_.duration > 0 && static_cast<double>(k) / plan_.rate >= plan_.duration;
}

std::optional<Clock::time_point> Budget::due() {
    if (!paced()) return Clock::now();
    const auto k = scheduled_.fetch_add(1, std::memory_order_relaxed);
    if (beyond_schedule(k)) return std::nullopt;
    return start_ + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(k) / plan_.rate));
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

void watch(const Live& live, Clock::time_point start, bool show,
           const std::function<bool()>& finished) {
    while (!finished()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (!show) continue;
        const std::string line =
            progress_line(seconds_between(start, Clock::now()), live.answered.load(),
                          live.timeouts.load(), live.errors.load(), live.open_connections.load());
        std::fprintf(stderr, "\r%s\033[K", line.c_str());
    }
    if (show) std::fprintf(stderr, "\r\033[K");
}

}  // namespace bench
