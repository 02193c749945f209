// NAME
//   db_floor.cpp - pipeline threads straight against the database (see db_floor.h)
// DESCRIPTION
//   The threads connect first and wait at a start line, so connection set-up
//   is not measured; a thread whose connect fails still runs, and its
//   requests are answered by FAILSAFE as the daemon's would be.
#include "db_floor.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "db/session.h"
#include "log/log.h"
#include "policy/pipeline.h"
#include "protocol/attributes.h"
#include "protocol/normalizer.h"
#include "db/config_settings.h"

namespace bench {
namespace {

struct FloorThread {
    Stats stats;
    Clock::time_point last_reply{};
    std::uint64_t statements = 0;
};

void run_thread(FloorThread& out, int index, const policyd::Config& config,
                const policyd::Pipeline& pipeline, Budget& budget, const Source& source,
                Live& live, std::atomic<unsigned>& ready, const std::atomic<bool>& go) {
    policyd::db::Session session(policyd::db::settings_from_config(config));
    try {
        session.connect();
    } catch (const policyd::db::Error&) {
        // evaluate() answers by FAILSAFE; the replies show it.
    }
    ++live.open_connections;
    ++ready;
    while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    Message pending;
    std::size_t next = 0;
    for (;;) {
        if (next == pending.size()) {
            if (!budget.open()) break;
            pending = source();
            next = 0;
        }
        // Paced and early: wait for the due time (then ask the budget, whose
        // deadline may have passed meanwhile). Paced and late: the thread was
        // busy, and that wait counts (as in the network client).
        const auto due = budget.due();
        if (!due) break;  // the paced schedule is over
        const bool early = budget.paced() && *due > Clock::now();
        if (early) std::this_thread::sleep_until(*due);
        if (!budget.take()) break;
        const auto begin = budget.paced() && !early ? *due : Clock::now();
        const policyd::Request request = policyd::normalize(
            policyd::Attributes(pending[next++]), static_cast<int>(config.greylist_hostaddr),
            static_cast<int>(config.greylist_ipv6_prefix));
        ++out.stats.sent;
        std::string reply = pipeline.evaluate(request, config, session, index);
        const auto end = Clock::now();
        out.stats.record_reply(std::move(reply),
                               static_cast<std::uint64_t>(
                                   std::chrono::duration_cast<std::chrono::microseconds>(end - begin)
                                       .count()));
        ++live.answered;
        out.last_reply = end;
    }
    out.statements = session.round_trips();
    --live.open_connections;
}

}  // namespace

FloorResult run_db_floor(unsigned threads, const policyd::Config& config, Budget& budget,
                         const Source& source, Live& live,
                         const std::function<void()>& at_start, bool progress) {
    policyd::log::to_nowhere();
    const policyd::Pipeline pipeline = policyd::Pipeline::standard();
    std::vector<FloorThread> results(std::max(1u, threads));
    std::atomic<unsigned> ready{0};
    std::atomic<bool> go{false};
    std::atomic<unsigned> finished{0};
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < results.size(); ++i)
        pool.emplace_back([&, i] {
            run_thread(results[i], static_cast<int>(i), config, pipeline, budget, source, live,
                       ready, go);
            ++finished;
        });
    while (ready < results.size()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    at_start();

    const auto start = Clock::now();
    budget.start();
    go = true;
    watch(live, start, progress, [&] { return finished == results.size(); });
    for (auto& t : pool) t.join();

    FloorResult result;
    auto last = start;
    for (const auto& r : results) {
        result.stats.merge(r.stats);
        result.statements += r.statements;
        last = std::max(last, r.last_reply);
    }
    result.seconds = seconds_between(start, last);
    return result;
}

}  // namespace bench
