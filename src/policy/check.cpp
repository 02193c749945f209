// NAME
//   check.cpp - CheckContext logging and row lookups (see check.h)
// DESCRIPTION
//   The decision line format is the one administrators parse in the
//   reference's logs; it must not change. row_matches() and carried_row()
//   ask every enabled check's row lookup once per request (row_lookups.h),
//   inside a later check's guarded insert or with the carried selects'
//   read where one can carry them.
#include "policy/check.h"

#include <algorithm>
#include <stdexcept>

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
    read_ = false;
    row_hits_.reset();
    ask_alone_ = false;
    carrier_ = nullptr;
    carried_.reset();
    carried_error_.reset();
    carried_rows_.clear();
}

CheckContext::Lookups CheckContext::all_lookups() const {
    Lookups lookups;
    lookups.reserve(enabled_checks_.size());
    for (const Check* c : enabled_checks_) lookups.push_back(c->row_lookup(*this));
    return lookups;
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

// The check whose guarded insert may carry the lookups when `caller` asks
// first, with that insert: the first check after it that does not decide
// by its row lookup alone, when `caller` does, that check offers a guarded
// insert and no lookup is asked from it on (the insert must be guarded by
// exactly the questions asked before it). nullopt when there is none.
std::optional<std::pair<const Check*, GuardedInsert>> CheckContext::guarded_insert_carrier(
    std::size_t caller, const Lookups& lookups) const {
    if (!enabled_checks_[caller]->decides_by_row_lookup(*this)) return std::nullopt;
    std::size_t carrier = caller + 1;
    while (carrier < enabled_checks_.size() &&
           enabled_checks_[carrier]->decides_by_row_lookup(*this))
        ++carrier;
    if (carrier == enabled_checks_.size()) return std::nullopt;
    for (std::size_t i = carrier; i < lookups.size(); ++i)
        if (lookups[i]) return std::nullopt;
    std::optional<GuardedInsert> insert = enabled_checks_[carrier]->guarded_insert(*this);
    if (!insert) return std::nullopt;
    return std::pair{enabled_checks_[carrier], std::move(*insert)};
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

// The carried selects of `caller` and of the enabled checks after it, with
// the lookups, in one statement: the lookups' answers (0 when none is
// asked), the rows kept for their checks. nullopt when no check offers a
// select, or the statement failed other than by an outage: whose table
// failed is unknown, so the lookups are asked as usual and each check
// sends its own read (a plain read waits for no lock, so sending it again
// costs only the round trip).
std::optional<std::uint64_t> CheckContext::send_carried_selects(std::size_t caller,
                                                                const Lookups& lookups) {
    std::vector<std::pair<const Check*, CarriedSelect>> selects;
    for (std::size_t i = caller; i < enabled_checks_.size(); ++i)
        if (std::optional<CarriedSelect> select = enabled_checks_[i]->carried_select(*this))
            selects.emplace_back(enabled_checks_[i], std::move(*select));
    if (selects.empty()) return std::nullopt;
    std::vector<const CarriedSelect*> parts;
    std::size_t width = 0;
    for (const auto& [reader, select] : selects) {
        parts.push_back(&select);
        width += select.width;
    }
    const bool asks = std::any_of(lookups.begin(), lookups.end(),
                                  [](const auto& lookup) { return lookup.has_value(); });
    const RowLookupStatement statement = carried_select_statement(parts, lookups);
    std::optional<db::Row> row;
    try {
        row = db.query_row(statement.sql, statement.params);
    } catch (const db::Unavailable&) {
        throw;
    } catch (const db::Error&) {
        return std::nullopt;
    }
    if (!row || row->size() != width + (asks ? 1 : 0) || (asks && !row->front()))
        return std::nullopt;
    std::uint64_t hits = 0;
    auto column = row->begin();
    if (asks) hits = std::stoull(**column++);
    for (const auto& [reader, select] : selects) {
        const auto end = column + static_cast<std::ptrdiff_t>(select.width);
        carried_rows_.emplace_back(reader, db::Row(column, end));
        column = end;
    }
    return hits;
}

// The request's first ask, by enabled_checks_[caller]: every lookup in one
// statement, a guarded insert's when it can carry them, else the carried
// selects' read when there is one, else their own.
void CheckContext::read_together(std::size_t caller) {
    read_ = true;
    Lookups lookups;
    try {
        lookups = all_lookups();
    } catch (const db::Unavailable&) {
        throw;
    } catch (const db::Error&) {
        // A check's question needs a statement of its own that fails (the
        // CIDR lengths of a list that is gone): every check asks alone, so
        // that failure is that check's when it asks.
        ask_alone_ = true;
        return;
    }
    if (const auto carrier = guarded_insert_carrier(caller, lookups)) {
        working_for(*carrier->first);
        row_hits_ = send_carried_insert(*carrier->first, carrier->second, lookups);
        working_for(*enabled_checks_[caller]);
    } else {
        row_hits_ = send_carried_selects(caller, lookups);
    }
    if (!row_hits_) row_hits_ = ask_together(lookups);
    if (!row_hits_) {
        // A lookup's table fails: the carried INSERT's failure may have
        // been that table's too, so the carrier sends its own INSERT.
        carried_error_.reset();
        carrier_ = nullptr;
    }
}

bool CheckContext::row_matches(const Check& check) {
    const auto at = std::find(enabled_checks_.begin(), enabled_checks_.end(), &check);
    if (at != enabled_checks_.end() && !ask_alone_ && !read_)
        read_together(static_cast<std::size_t>(at - enabled_checks_.begin()));
    if (at == enabled_checks_.end() || !row_hits_)
        return run_row_lookups(db, {check.row_lookup(*this)}) != 0;
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

std::optional<db::Row> CheckContext::row_read_with_others(const Check& check) {
    for (auto& [reader, row] : carried_rows_) {
        if (reader != &check) continue;
        reader = nullptr;  // given once
        return std::move(row);
    }
    return std::nullopt;
}

db::Row CheckContext::carried_row(const Check& check) {
    const auto at = std::find(enabled_checks_.begin(), enabled_checks_.end(), &check);
    if (at != enabled_checks_.end() && !ask_alone_ && !read_)
        read_together(static_cast<std::size_t>(at - enabled_checks_.begin()));
    if (std::optional<db::Row> row = row_read_with_others(check)) return std::move(*row);
    const std::optional<CarriedSelect> select = check.carried_select(*this);
    if (!select) throw std::logic_error("carried_row: the check offers no carried select");
    const RowLookupStatement alone = carried_select_statement({&*select}, {});
    std::optional<db::Row> row = db.query_row(alone.sql, alone.params);
    if (!row || row->size() != select->width)
        throw db::Error(std::string(check.name()) + ": its read returned no row");
    return std::move(*row);
}

}  // namespace policyd
