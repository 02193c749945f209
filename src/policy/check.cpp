// NAME
//   check.cpp - CheckContext logging and row lookups (see check.h)
// DESCRIPTION
//   The decision line format is the one administrators parse in the
//   reference's logs (core.md §7.3); it must not change. row_matches()
//   asks every enabled check's row lookup once per request (row_lookups.h).
#include "policy/check.h"

#include <algorithm>

#include "policy/row_lookups.h"

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

bool CheckContext::row_matches(const Check& check) {
    const auto* checks = enabled_checks;
    const auto at = checks ? std::find(checks->begin(), checks->end(), &check)
                           : std::vector<const Check*>::const_iterator{};
    if (!checks || at == checks->end())
        return run_row_lookups(db, {check.row_lookup(*this)}) != 0;
    if (!row_hits_) {
        std::vector<std::optional<RowLookup>> lookups;
        lookups.reserve(checks->size());
        for (const Check* c : *checks) lookups.push_back(c->row_lookup(*this));
        row_hits_ = run_row_lookups(db, lookups);
    }
    return (*row_hits_ >> (at - checks->begin())) & 1;
}

}  // namespace policyd
