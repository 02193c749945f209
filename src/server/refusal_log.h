// NAME
//   refusal_log.h - log refused connections without letting a flood flood the log
// SYNOPSIS
//   #include "server/refusal_log.h"
//
//   RefusalLog acl("WARNING: connection attempt from: ", "CONN_ACL");
//   if (auto line = acl.refused(peer, RefusalLog::Clock::now()))
//       log it, then call acl.summary() RefusalLog::kInterval later;
//   if (auto line = acl.summary(RefusalLog::Clock::now()))
//       log it, then call acl.summary() again kInterval later.
// DESCRIPTION
//   One RefusalLog per kind of refusal (CONN_ACL, MAX_CONNECTIONS). A
//   refusal when no line of its kind was logged within the last interval is
//   logged in full, as it always was: full_line_prefix + peer. Refusals
//   after it are only counted, and summary(), due one interval after each
//   line, turns the count into one line
//
//     WARNING: connections refused (<kind>): <n> more in the last <s>s, the last from: <peer>
//
//   where <s> is the time since the previous line of the kind, so a
//   sustained flood logs one full line and then one summary a second, and
//   the full lines plus the summaries' <n> add up to every refusal. A
//   summary() with nothing counted logs nothing and ends the interval: the
//   next refusal is logged in full again.
//
//   Not thread-safe: the server uses it from the event-loop thread only.
//   It keeps a copy of the last peer it was given.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace policyd {

class RefusalLog {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds kInterval{1};

    // `kind` names the limit in summaries: "CONN_ACL", "MAX_CONNECTIONS".
    RefusalLog(std::string full_line_prefix, std::string kind);

    // The line to log for a refusal from `peer` (as the full line shows
    // it) at `now`, or nullopt when it is only counted for summary().
    std::optional<std::string> refused(const std::string& peer, Clock::time_point now);

    // The summary of the refusals counted since the last line, or nullopt
    // when there were none (or no line is pending a summary).
    std::optional<std::string> summary(Clock::time_point now);

private:
    const std::string full_line_prefix_;
    const std::string kind_;
    bool summary_due_ = false;  // a line was logged and its summary() is pending
    Clock::time_point last_line_{};
    std::uint64_t counted_ = 0;
    std::string last_peer_;
};

}  // namespace policyd
