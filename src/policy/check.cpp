// NAME
//   check.cpp - CheckContext logging and row lookups (see check.h)
// DESCRIPTION
//   The decision line format is the one administrators parse in the
//   reference's logs; it must not change. row_matches()
//   asks every enabled check's row lookup once per request (row_lookups.h),
//   inside a later check's guarded insert where one can carry them.
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
    carrier_ = nullptr;
    carried_.reset();
    carried_error_.reset();
}

// The lookups in one statement; nullopt (and every check asks alone from
// then on) when it fails other than by an outage.
std::optional<std::uint64_t> CheckContext::ask_together(
    const std::vector<std::optional<RowLookup>>& lookups) {
    try {
        return run_row_lookups(db, lookups);
    } catch (const db::Unavailable&) {
        throw;  // an outage: asking alone would fail the same way
    } catch (const db::Error&) {
        ask_alone_ = true;  // one table's fault must not fail the others
        return std::nullopt;
    }
}

// Sends the guarded insert of the first check after `caller` that offers
// one, when every check from `caller` up to it decides by its row lookup
// alone and none after it has a lookup (the guard must hold exactly the
// questions asked before it). Returns the lookups' answers when the INSERT
// wrote (none matched); nullopt when it was not sent, changed nothing
// (carried_ = 0) or failed (carried_error_): the lookups are then asked as
// usual.
std::optional<std::uint64_t> CheckContext::send_carried_insert(
    std::size_t caller, const std::vector<std::optional<RowLookup>>& lookups) {
    if (!enabled_checks_[caller]->decides_by_row_lookup(*this)) return std::nullopt;
    std::size_t carrier = caller + 1;
    std::optional<GuardedInsert> insert;
    for (; carrier < enabled_checks_.size(); ++carrier) {
        if ((insert = enabled_checks_[carrier]->guarded_insert(*this))) break;
        if (!enabled_checks_[carrier]->decides_by_row_lookup(*this)) return std::nullopt;
    }
    if (!insert) return std::nullopt;
    for (std::size_t i = carrier; i < lookups.size(); ++i)
        if (lookups[i]) return std::nullopt;
    const RowLookupStatement statement = guarded_insert_statement(*insert, lookups);
    carrier_ = enabled_checks_[carrier];
    working_for(*carrier_);
    try {
        carried_ = db.execute(statement.sql, statement.params);
    } catch (const db::Unavailable&) {
        throw;
    } catch (const db::Error& e) {
        carried_error_ = e.what();
    }
    working_for(*enabled_checks_[caller]);
    if (carried_.value_or(0) == 0) return std::nullopt;
    return std::uint64_t{0};
}

bool CheckContext::row_matches(const Check& check) {
    const auto at = std::find(enabled_checks_.begin(), enabled_checks_.end(), &check);
    if (at == enabled_checks_.end() || ask_alone_)
        return run_row_lookups(db, {check.row_lookup(*this)}) != 0;
    if (!row_hits_) {
        std::vector<std::optional<RowLookup>> lookups;
        lookups.reserve(enabled_checks_.size());
        for (const Check* c : enabled_checks_) lookups.push_back(c->row_lookup(*this));
        row_hits_ = send_carried_insert(at - enabled_checks_.begin(), lookups);
        if (!row_hits_) row_hits_ = ask_together(lookups);
        if (!row_hits_) {
            // A lookup's table fails: the carried INSERT's failure may have
            // been that table's too, so the carrier sends its own INSERT.
            carried_error_.reset();
            carrier_ = nullptr;
            return run_row_lookups(db, {check.row_lookup(*this)}) != 0;
        }
    }
    return (*row_hits_ >> (at - enabled_checks_.begin())) & 1;
}

std::optional<std::uint64_t> CheckContext::carried_insert(const Check& check) {
    if (&check != carrier_) return std::nullopt;
    if (carried_error_) {
        const std::string what = *carried_error_;
        carried_error_.reset();
        throw db::Error(what);
    }
    if (!carried_) return std::nullopt;
    const std::optional<std::uint64_t> changed = carried_;
    carried_.reset();
    return changed;
}

}  // namespace policyd
