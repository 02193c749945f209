// NAME
//   throttle_recipient.cpp - recipient throttling (see throttle_recipient.h)
// DESCRIPTION
//   One statement per request (throttle_common.h, the decision statement):
//   an INSERT ... ON DUPLICATE KEY UPDATE that creates a missing row (the
//   request is admitted), or on the existing row admits and counts (while
//   _count_cur is below the effective maximum), or resets the window and
//   counts, or only sets the abuse flag; RETURNING the row as it left it.
//   Unlike the reference, an admitted delivery also counts in _count_tot
//   (the reference's grew only at window resets), and the abuse flag is part of the refusal itself, so it cannot
//   fail separately and turn the refusal into a FAILSAFE accept.
//
//   The log line is computed from the returned row: an admission has just
//   added 1 to the counter and the total (the counter never saturates, its
//   maximum being clamped to the column; a saturated total is printed as
//   stored), so the threshold is that of the counter before it; the
//   clear(a) line keeps the reference's "count=0/" and old total.
//   A refusal shows the row as it is.
#include "policy/checks/throttle_recipient.h"

#include <optional>

#include "db/session.h"
#include "policy/checks/throttle_common.h"

namespace policyd {
namespace {

const NamedSql kDecide(
    "INSERT INTO throttle_rcpt (_date,_rcpt,_count_max,_time_limit) "
    "VALUES (:now,:key,:count_max,:time_limit) ON DUPLICATE KEY UPDATE " +
    decision_sql(window_expired_sql() + " OR _count_cur < " +
                 effective_sql("_count_max", "count_max")) +
    ", " + admitted_counter_sql("_count_cur", "1", "1", kMediumMax) + ", " +
    admitted_total_sql("_count_tot", "1", kMediumMax) + ", " + window_start_sql() +
    " RETURNING _count_max,_count_cur,_count_tot,_date,_abuse_cur");

}  // namespace

Decision RecipientThrottleCheck::run(CheckContext& ctx) const {
    const long long count_max = clamp_column(ctx.config.recipientmsglimit, kMediumMax);
    const long long time_limit = clamp_column(ctx.config.recipienttimelimit, kIntMax);
    const long long now = ctx.now;
    auto log = [&](const std::string& token, long long cur, long long max, long long tot,
                   long long threshold) {
        ctx.log_decision_tail("throttle_rcpt=" + token,
                              ", count=" + std::to_string(cur) + "/" + std::to_string(max) + "(" +
                                  std::to_string(tot) + "), threshold=" +
                                  std::to_string(threshold) + "%");
    };
    const std::optional<db::Row> after =
        ctx.db.query_row(kDecide.sql(), kDecide.bind({{"now", now},
                                                      {"key", ctx.request.rcpt},
                                                      {"count_max", count_max},
                                                      {"time_limit", time_limit}}));
    if (!after) throw db::Error("throttle_rcpt: the decision returned no row");
    const db::Row& a = *after;
    const long long max = effective(row_number(a, 0), count_max);
    const long long cur = row_number(a, 1), tot = row_number(a, 2), date = row_number(a, 3);

    switch (verdict_of(row_number(a, 4), now, date, cur, tot)) {
    case Verdict::Created:
        log("new(a)", 1, max, 1, 0);
        return Decision::Pass;
    case Verdict::Admitted:
        if (window_restarted(now, date, cur)) {
            log("clear(a)", 0, max, tot - 1, 0);
        } else {
            const long long threshold = percent(cur - 1, max);
            log(std::string("update(") + threshold_letter(threshold) + ")", cur, max, tot,
                threshold);
        }
        return Decision::Pass;
    case Verdict::Refused:
        break;
    }
    log("abuse(f)", cur, max, tot, percent(cur, max));
    return Decision::RecipientQuota;
}

}  // namespace policyd
