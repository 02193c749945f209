// NAME
//   refusal_log.cpp - rate-limited log lines for refused connections (see refusal_log.h)
// DESCRIPTION
//   The seconds of a summary are measured, not assumed to be kInterval: a
//   busy event loop may run the summary timer late.
#include "server/refusal_log.h"

#include <cstdio>
#include <utility>

namespace policyd {

RefusalLog::RefusalLog(std::string full_line_prefix, std::string kind)
    : full_line_prefix_(std::move(full_line_prefix)), kind_(std::move(kind)) {}

std::optional<std::string> RefusalLog::refused(const std::string& peer, Clock::time_point now) {
    if (summary_due_) {
        ++counted_;
        last_peer_ = peer;
        return std::nullopt;
    }
    summary_due_ = true;
    last_line_ = now;
    return full_line_prefix_ + peer;
}

std::optional<std::string> RefusalLog::summary(Clock::time_point now) {
    if (counted_ == 0) {
        summary_due_ = false;
        return std::nullopt;
    }
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f",
                  std::chrono::duration<double>(now - last_line_).count());
    std::string line = "WARNING: connections refused (" + kind_ + "): " +
                       std::to_string(counted_) + " more in the last " + seconds +
                       "s, the last from: " + last_peer_;
    counted_ = 0;
    last_line_ = now;
    return line;
}

}  // namespace policyd
