// NAME
//   check.cpp - CheckContext logging (see check.h)
// DESCRIPTION
//   The decision line format is the one administrators parse in the
//   reference's logs (core.md §7.3); it must not change.
#include "policy/check.h"

#include "log/log.h"

namespace policyd {

std::string CheckContext::decision_head(std::string_view token) const {
    std::string text;
    text.reserve(160);
    text.append("rcpt=").append(std::to_string(rcpt_number)).append(", ");
    text.append(token);
    text.append(", host=").append(request.ip).append(" (").append(request.name).append(")");
    text.append(", from=").append(request.sender);
    text.append(", to=").append(request.rcpt);
    return text;
}

void CheckContext::log_decision(std::string_view token, std::string_view extra) {
    std::string text = decision_head(token);
    text.append(", size=").append(request.size);
    text.append(extra);
    log::line(text);
}

void CheckContext::log_line(std::string_view line) { log::line(line); }

}  // namespace policyd
