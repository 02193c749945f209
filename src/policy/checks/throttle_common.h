// NAME
//   throttle_common.h - what the sender and the recipient throttle share
// SYNOPSIS
//   #include "policy/checks/throttle_common.h"
//   static const NamedSql kDecide("INSERT INTO throttle_rcpt (...) VALUES (...) "
//       "ON DUPLICATE KEY UPDATE " + decision_sql(admit) + ", " +
//       admitted_counter_sql("_count_cur", "1", "1", kMediumMax) + ", " +
//       window_start_sql() + " RETURNING ...");
//   db::Row after = *ctx.db.query_row(kDecide.sql(), kDecide.bind({...}));
// DESCRIPTION
//   Both throttles keep one row per key with a fixed window (_date,
//   _time_limit), counters and limits where a stored 0 means "the
//   policyd.conf default". The
//   rules they share live here once:
//   - the window arithmetic, in C++ (window_expired) for the log line and
//     in SQL (window_expired_sql) for the decision; the reference's strict
//     "NOW > _date + _time_limit";
//   - effective limits (effective, effective_sql) and the column ranges
//     counters saturate at (kMediumMax, kIntMax);
//   - the threshold percentages and the a|w|p letter of update(<a|w|p>);
//   - NamedSql: statements that use one value several times are written
//     with :name placeholders and bound by name, so the long conditional
//     statements stay readable and their parameters cannot get out of order;
//   - the decision statement. Each throttle row is decided by one
//     INSERT ... ON DUPLICATE KEY UPDATE ... RETURNING: a missing row is
//     created (the creating request is admitted, as in the reference);
//     on an existing row the first assignments (decision_sql) evaluate the
//     admission rule on the row as it was and leave the verdict in
//     _abuse_cur (0 admitted, 1 refused: the abuse flag the reference set
//     with a second UPDATE), every later assignment counts only when
//     _abuse_cur is 0, and _date moves last. RETURNING gives the row as
//     this statement left it, under the row lock, so the verdict and the
//     log line's figures come from the same atomic step and no second
//     daemon can come between them;
//   - reading the returned row: refused (_abuse_cur = 1), created
//     (fresh_row) or admitted, and whether the admission opened a new
//     window (window_restarted).
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

// The first assignments of a decision: a new window moves _abuse_cur into
// _abuse_tot (the window that ended is counted as abused if it was), then
// _abuse_cur = IF(<admit>, 0, 1). `admit` is the admission rule on the row
// as it was (it must not read _abuse_cur or _abuse_tot); nothing before
// these assignments may change a column it reads.
std::string decision_sql(const std::string& admit);

// "<column> = IF(_abuse_cur = 0, IF(<expired>, <reset>, LEAST(<column> +
// <step>, <max>)), <column>)": a window counter, counted only when
// decision_sql() admitted, restarted by a new window, saturating at the
// column maximum.
std::string admitted_counter_sql(const std::string& column, const std::string& reset,
                                 const std::string& step, long long max);

// "<column> = IF(_abuse_cur = 0, LEAST(<column> + <step>, <max>), <column>)":
// a total that never resets, counted only when admitted.
std::string admitted_total_sql(const std::string& column, const std::string& step, long long max);

// The last assignment of a decision: an admission that found the window
// over starts a new one now. Last, because the window test reads _date.
std::string window_start_sql();

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

// The verdict of a decision statement from the row it returned, given the
// recipient counter `cur` and total `tot` of that row (the sender's _rcpt_*,
// the recipient throttle's _count_*). A created row holds this request
// alone: its window began `now` and both are 1. An existing row can only
// look like that if it was stored with a total of 0 by hand (rows start
// their totals at 1); its first admission is then logged as new(a).
Verdict verdict_of(long long abuse_cur, long long now, long long date, long long cur,
                   long long tot);

// Whether an admitted (not created) row's window was opened by this
// request: it began `now` and counts this request alone. (A window that
// began earlier in the same second has counted at least two; a row stored
// by hand with a counter of 0 is the exception.)
bool window_restarted(long long now, long long date, long long cur);

}  // namespace policyd
