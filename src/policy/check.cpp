// NAME
//   check.cpp - CheckContext logging and row lookups (see check.h)
// DESCRIPTION
//   The decision line format is the one administrators parse in the
//   reference's logs; it must not change. row_matches()
//   asks every enabled check's row lookup once per request (row_lookups.h).
#include "policy/check.h"

#include <algorithm>

#include "log/log.h"
#include "policy/row_lookups.h"

namespace policyd {

namespace {

// rcpt=<N>, <token>, host=<IP> (<NAME>), from=<SENDER>, to=<RCPT>
std::string decision_head(const CheckContext& ctx, std::string_view token) {
    const Request& request = ctx.request;
    std::string text;
    text.reserve(160);
    text.append("rcpt=").append(std::to_string(ctx.rcpt_number)).append(", ");
    text.append(token);
    text.append(", host=").append(request.ip).append(" (").append(request.name).append(")");
    text.append(", from=").append(request.sender);
    text.append(", to=").append(request.rcpt);
    return text;
}

}  // namespace

void CheckContext::log_decision(std::string_view token, std::string_view extra) {
    std::string tail;
    tail.reserve(16 + request.size.size() + extra.size());
    tail.append(", size=").append(request.size).append(extra);
    log_decision_tail(token, tail);
}

std::string CheckContext::decision_text(std::string_view token, std::string_view tail) const {
    return decision_head(*this, token).append(tail);
}

void CheckContext::log_decision_tail(std::string_view token, std::string_view tail) {
    log::line(decision_text(token, tail));
}

void CheckContext::log_line(std::string_view line) { log::line(line); }

void CheckContext::set_enabled_checks(std::vector<const Check*> checks) {
    enabled_checks_ = std::move(checks);
    row_hits_.reset();
    ask_alone_ = false;
}

bool CheckContext::row_matches(const Check& check) {
    const auto at = std::find(enabled_checks_.begin(), enabled_checks_.end(), &check);
    if (at == enabled_checks_.end() || ask_alone_)
        return run_row_lookups(db, {check.row_lookup(*this)}) != 0;
    if (!row_hits_) {
        std::vector<std::optional<RowLookup>> lookups;
        lookups.reserve(enabled_checks_.size());
        for (const Check* c : enabled_checks_) lookups.push_back(c->row_lookup(*this));
        try {
            row_hits_ = run_row_lookups(db, lookups);
        } catch (const db::Unavailable&) {
            throw;  // an outage: asking alone would fail the same way
        } catch (const db::Error&) {
            ask_alone_ = true;  // one table's fault must not fail the others
            return run_row_lookups(db, {check.row_lookup(*this)}) != 0;
        }
    }
    return (*row_hits_ >> (at - enabled_checks_.begin())) & 1;
}

}  // namespace policyd
