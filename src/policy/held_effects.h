// NAME
//   held_effects.h - a request's log lines and counts, held until its writes commit
// SYNOPSIS
//   #include "policy/held_effects.h"
//   HeldEffects held;
//   reply = pipeline.evaluate(request, config, session, fd, progress, &held);
//   ... COMMIT ...
//   held.release(stats);      // committed: log and count, once
//   held.drop();              // rolled back: as if never decided (the rcpt=N stays)
// DESCRIPTION
//   Deciding a request logs decision lines and counts its outcome, tokens
//   and database failures. A worker that decides several requests under one
//   COMMIT (server/commit_group.h) must not show any of that before the
//   COMMIT, nor twice when the group fails and each request is decided
//   again on its own: the pipeline puts it here instead, in order, and the
//   worker releases or drops it.
//
//   A check's failure detail is held too and logged at release() at most
//   once a minute per check and message (a failing table fails every
//   request until it is fixed): a failure inside a group that is rolled back
//   is the group's, not the request's, and must not use up that minute. The
//   session's outage lines are not held.
//
//   Owned by whoever decides the request; used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stats/stats.h"

namespace policyd {

class HeldEffects {
public:
    void line(std::string text) { lines_.push_back(std::move(text)); }
    void token(std::string_view token) { tokens_.emplace_back(token); }
    void database_error() { ++database_errors_; }
    // Why `check` failed (FAILSAFE answered), other than an outage.
    void failure(std::string_view check, std::string_view what);
    void outcome(Outcome outcome, std::size_t decided_by) { outcome_ = {outcome, decided_by}; }

    // Logs the lines in order and counts everything into `stats` (nullptr:
    // nowhere); holds nothing afterwards.
    void release(Stats* stats);
    // Forgets what was held, except the request's number.
    void drop();

    // The request's rcpt=N, 0 until the pipeline numbers it: a request
    // decided again keeps its number, so the log shows each N once.
    std::uint64_t rcpt_number = 0;

private:
    std::vector<std::string> lines_;
    std::vector<std::string> tokens_;
    unsigned database_errors_ = 0;
    std::vector<std::string> failures_;  // "<check>: <what>"
    std::optional<std::pair<Outcome, std::size_t>> outcome_;
};

}  // namespace policyd
