// NAME
//   check.cpp - CheckContext logging and row lookups (see check.h)
// DESCRIPTION
//   The decision line format is the one administrators parse in the
//   reference's logs; it must not change. row_matches()
//   asks every enabled check's row lookup once per request (row_lookups.h),
//   inside a later check's guarded insert or carried select where one can
//   carry them.
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
    carried_row_.reset();
}

// The lookups in one statement; nullopt (and every check asks alone from
// then on) when it fails other than by an outage.
std::optional<std::uint64_t> CheckContext::ask_together(const Lookups& lookups) {
    try {
        return run_row_lookups(db, lookups);
    } catch (const db::Unavailable&) {
        throw;  // an outage: asking alone would fail the same way
    } catch (const db::Error&) {
        ask_alone_ = true;  // one table's fault must not fail the others
        return std::nullopt;
    }
}

// The index of the check whose first statement may carry the lookups when
// `caller` asks first: the first check after it that does not decide by
// its row lookup alone, when `caller` does and no lookup is asked from that
// check on (the carried statement must hold exactly the questions asked
// before it). nullopt when there is none.
std::optional<std::size_t> CheckContext::carrier_after(std::size_t caller,
                                                       const Lookups& lookups) const {
    if (!enabled_checks_[caller]->decides_by_row_lookup(*this)) return std::nullopt;
    std::size_t carrier = caller + 1;
    while (carrier < enabled_checks_.size() &&
           enabled_checks_[carrier]->decides_by_row_lookup(*this))
        ++carrier;
    if (carrier == enabled_checks_.size()) return std::nullopt;
    for (std::size_t i = carrier; i < lookups.size(); ++i)
        if (lookups[i]) return std::nullopt;
    return carrier;
}

// Sends the lookups inside the carrier's guarded insert or carried select
// when there is a carrier and it offers one. Returns the lookups' answers,
// or nullopt when nothing was sent or the answers are still to be asked.
std::optional<std::uint64_t> CheckContext::send_carried(std::size_t caller,
                                                        const Lookups& lookups) {
    const std::optional<std::size_t> at = carrier_after(caller, lookups);
    if (!at) return std::nullopt;
    const Check& carrier = *enabled_checks_[*at];
    std::optional<std::uint64_t> hits;
    if (const std::optional<GuardedInsert> insert = carrier.guarded_insert(*this)) {
        working_for(carrier);
        hits = send_carried_insert(carrier, *insert, lookups);
    } else if (const std::optional<CarriedSelect> select = carrier.carried_select(*this)) {
        working_for(carrier);
        hits = send_carried_select(carrier, *select, lookups);
    } else {
        return std::nullopt;
    }
    working_for(*enabled_checks_[caller]);
    return hits;
}

// The guarded insert: the lookups' answers (none matched) when it wrote;
// nullopt when it changed nothing (carried_ = 0) or failed
// (carried_error_): the lookups are then asked as usual.
std::optional<std::uint64_t> CheckContext::send_carried_insert(const Check& carrier,
                                                               const GuardedInsert& insert,
                                                               const Lookups& lookups) {
    const RowLookupStatement statement = guarded_insert_statement(insert, lookups);
    carrier_ = &carrier;
    try {
        carried_ = db.execute(statement.sql, statement.params);
    } catch (const db::Unavailable&) {
        throw;
    } catch (const db::Error& e) {
        carried_error_ = e.what();
    }
    if (carried_.value_or(0) == 0) return std::nullopt;
    return std::uint64_t{0};
}

// The carried select: the lookups' answers, its row kept for the carrier.
// nullopt when no lookup is asked (nothing to carry) or it failed other
// than by an outage: whose table failed is unknown, so the lookups are
// asked as usual and the carrier sends its own SELECT (a plain read waits
// for no lock, so sending it again costs only the round trip).
std::optional<std::uint64_t> CheckContext::send_carried_select(const Check& carrier,
                                                               const CarriedSelect& select,
                                                               const Lookups& lookups) {
    if (std::none_of(lookups.begin(), lookups.end(), [](const auto& l) { return l.has_value(); }))
        return std::nullopt;
    const RowLookupStatement statement = carried_select_statement(select, lookups);
    std::optional<db::Row> row;
    try {
        row = db.query_row(statement.sql, statement.params);
    } catch (const db::Unavailable&) {
        throw;
    } catch (const db::Error&) {
        return std::nullopt;
    }
    if (!row || row->empty() || !row->front()) return std::nullopt;
    const std::uint64_t hits = std::stoull(*row->front());
    row->erase(row->begin());
    carrier_ = &carrier;
    carried_row_ = std::move(*row);
    return hits;
}

bool CheckContext::row_matches(const Check& check) {
    const auto at = std::find(enabled_checks_.begin(), enabled_checks_.end(), &check);
    if (at == enabled_checks_.end() || ask_alone_)
        return run_row_lookups(db, {check.row_lookup(*this)}) != 0;
    if (!row_hits_) {
        Lookups lookups;
        lookups.reserve(enabled_checks_.size());
        for (const Check* c : enabled_checks_) lookups.push_back(c->row_lookup(*this));
        row_hits_ = send_carried(at - enabled_checks_.begin(), lookups);
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

std::optional<db::Row> CheckContext::carried_row(const Check& check) {
    if (&check != carrier_ || !carried_row_) return std::nullopt;
    std::optional<db::Row> row = std::move(carried_row_);
    carried_row_.reset();
    return row;
}

}  // namespace policyd
