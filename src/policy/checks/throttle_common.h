// NAME
//   throttle_common.h - what the sender and the recipient throttle share
// SYNOPSIS
//   #include "policy/checks/throttle_common.h"
//   static const NamedSql kAdmit("UPDATE throttle_rcpt SET _date = IF(" +
//       window_expired_sql() + ", :now, _date) WHERE _rcpt = :key AND ...");
//   ctx.db.execute(kAdmit.sql(), kAdmit.bind({{"now", now}, {"key", rcpt}, ...}));
//   Outcome<RcptRow> o = decide<RcptRow>(find(), find, create, admit);
// DESCRIPTION
//   Both throttles keep one row per key with a fixed window (_date,
//   _time_limit), counters and limits where a stored 0 means "the
//   policyd.conf default". The
//   rules they share live here once:
//   - the window arithmetic, in C++ (window_expired) for the log line and
//     in SQL (window_expired_sql, window_counter_sql, window_close_sql) for
//     the decision; the reference's strict "NOW > _date + _time_limit";
//   - effective limits (effective, effective_sql) and the column ranges
//     counters saturate at (kMediumMax, kIntMax);
//   - the threshold percentages and the a|w|p letter of update(<a|w|p>);
//   - NamedSql: statements that use one value several times are written
//     with :name placeholders and bound by name, so the long conditional
//     UPDATEs stay readable and their parameters cannot get out of order;
//   - decide(): the admission skeleton. The row is created when missing
//     (the creating request is admitted, as in the reference), otherwise
//     one conditional UPDATE whose affected-row count is the decision. A
//     row deleted in between (cleanup) or a lost creation race is looked up
//     again, so no request is judged on a row that is not there.
//
//   Affected rows: the session reports changed rows, not matched ones. An
//   admitting UPDATE always changes the row (a counter below its limit is
//   incremented, or a reset moves _date forward), because limits are
//   clamped to the column range; so 1 means admitted and 0 means refused.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/session.h"
#include "protocol/request.h"

namespace policyd {

constexpr long long kMediumMax = 16777215;   // mediumint unsigned: counts
constexpr long long kIntMax = 4294967295LL;  // int unsigned: bytes, times

// v clamped to 0..max (config values and request sizes written to columns).
long long clamp_column(long long v, long long max);

// Column i of a fetched row as a number; NULL reads as 0.
long long row_number(const db::Row& row, std::size_t i);

// The stored limit, or the config default when it is 0.
long long effective(long long stored, long long config_default);

// The request's size as the reference's atol(SIZE), clamped to 0..kIntMax:
// "abc" is 0, "12kb" is 12.
long long message_size(const Request& request);

// NOW > date + time_limit: the window that began at `date` is over.
bool window_expired(long long now, long long date, long long time_limit);

// The same test in SQL on the current row; uses :now and :time_limit (the
// config default for a stored 0). Reads _date and _time_limit: an UPDATE
// must assign _date last and never _time_limit.
std::string window_expired_sql();

// "<column> = LEAST(<column> + <step>, <max>)": a total that never resets,
// saturating at the column maximum.
std::string total_sql(const std::string& column, const std::string& step, long long max);

// "<column> = IF(<expired>, <reset>, LEAST(<column> + <step>, <max>))":
// one counter of an admitting UPDATE, restarted by a new window, else
// counted and saturated at the column maximum.
std::string window_counter_sql(const std::string& column, const std::string& reset,
                               const std::string& step, long long max);

// The assignments that end every admitting UPDATE: a new window moves
// _abuse_cur into _abuse_tot; _abuse_cur becomes 0; _date, assigned last
// because the window test reads it, moves to :now on a new window.
std::string window_close_sql();

// IF(<column> = 0, :<name>, <column>): the effective limit in SQL.
std::string effective_sql(const std::string& column, const std::string& name);

// cur/max*100 truncated, as the reference; a zero max counts as 100 %
// (the reference divided by zero).
long long percent(long long cur, long long max);

// The attribute letter of update(<x>) for the largest percentage.
char threshold_letter(long long max_percent);

// A statement text with :name placeholders, turned once into the "?" form
// db::Session prepares; bind() orders the values by placeholder.
class NamedSql {
public:
    explicit NamedSql(std::string_view text);
    const std::string& sql() const { return sql_; }
    // Every placeholder must have a value (std::logic_error otherwise: a
    // programming error, not a database failure).
    std::vector<db::Param> bind(const std::map<std::string, db::Param>& values) const;

private:
    std::string sql_;
    std::vector<std::string> names_;
};

enum class Verdict { Created, Admitted, Refused };

template <typename Row>
struct Outcome {
    Verdict verdict;
    // Created: none. Admitted: the row as read before the UPDATE (the
    // reference logs pre-request values). Refused: the row as read after
    // the refusal (current values for the log line).
    std::optional<Row> row;
};

// Runs the admission skeleton. `row` is the first lookup; find() looks the
// key up again, create() inserts the row and says whether this request
// inserted it, admit(row) runs the conditional UPDATE and says whether it
// admitted. Row needs a `key` member. Throws db::Error if the row keeps
// changing under it.
template <typename Row, typename Find, typename Create, typename Admit>
Outcome<Row> decide(std::optional<Row> row, Find find, Create create, Admit admit) {
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (!row) {
            if (create()) return {Verdict::Created, std::nullopt};
            row = find();  // another daemon created it first
            continue;
        }
        if (admit(*row)) return {Verdict::Admitted, row};
        std::optional<Row> now = find();
        if (now && now->key == row->key) return {Verdict::Refused, now};
        row = std::move(now);  // deleted (cleanup) or replaced meanwhile
    }
    throw db::Error("throttle row for this key keeps changing; giving up");
}

}  // namespace policyd
