// NAME
//   throttle_recipient.cpp - recipient throttling (see throttle_recipient.h)
// DESCRIPTION
//   The same skeleton as the sender throttle (throttle_common.h decide()):
//   a missing row is created and admits the request; otherwise one
//   conditional UPDATE admits and counts (while _count_cur is below the
//   effective maximum), or resets the window and counts, or changes nothing.
//   Unlike the reference, an admitted delivery also counts in _count_tot
//   (the reference's grew only at window resets), and the abuse flag written after a refusal cannot turn the
//   refusal into a FAILSAFE accept.
//
//   Log values are the row as read before the UPDATE (after a refusal: as
//   read after it). The clear(a) line keeps the reference's "count=0/" and
//   old total.
#include "policy/checks/throttle_recipient.h"

#include <optional>

#include "db/session.h"
#include "policy/checks/list_entries.h"
#include "policy/checks/throttle_common.h"

namespace policyd {
namespace {

// The throttle_rcpt row with the config defaults in place of stored zeros.
struct RcptRow {
    std::string key;
    long long count_max = 0, count_cur = 0, count_tot = 0, time_limit = 0, date = 0;
};

const std::string kFind =
    "SELECT _rcpt,_count_max,_count_cur,_count_tot,_time_limit,_date FROM throttle_rcpt "
    "WHERE _rcpt = ?";

const std::string kCreate =
    "INSERT INTO throttle_rcpt (_date,_rcpt,_count_max,_time_limit) VALUES (?,?,?,?) "
    "ON DUPLICATE KEY UPDATE _rcpt = _rcpt";

// Nothing reads a column after assigning it (assignments run left to
// right and see earlier ones); window_close_sql() comes last.
const NamedSql kAdmit(
    "UPDATE throttle_rcpt SET " + window_counter_sql("_count_cur", "1", "1", kMediumMax) +
    ", " + total_sql("_count_tot", "1", kMediumMax) + ", " + window_close_sql() +
    " WHERE _rcpt = :key AND (" + window_expired_sql() + " OR _count_cur < " +
    effective_sql("_count_max", "count_max") + ")");

const std::string kFlagAbuse = "UPDATE throttle_rcpt SET _abuse_cur = 1 WHERE _rcpt = ?";

std::optional<RcptRow> find_row(CheckContext& ctx, long long count_max, long long time_limit) {
    const auto found = ctx.db.query_row(kFind, {ctx.request.rcpt});
    if (!found) return std::nullopt;
    const db::Row& f = *found;
    RcptRow r;
    r.key = f[0].value_or("");
    r.count_max = effective(row_number(f, 1), count_max);
    r.count_cur = row_number(f, 2);
    r.count_tot = row_number(f, 3);
    r.time_limit = effective(row_number(f, 4), time_limit);
    r.date = row_number(f, 5);
    return r;
}

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
    auto find = [&] { return find_row(ctx, count_max, time_limit); };
    auto create = [&] {
        return ctx.db.execute(kCreate, {now, ctx.request.rcpt, count_max, time_limit}) == 1;
    };
    auto admit = [&](const RcptRow& r) {
        return ctx.db.execute(kAdmit.sql(), kAdmit.bind({{"now", now},
                                                         {"time_limit", time_limit},
                                                         {"key", r.key},
                                                         {"count_max", count_max}})) == 1;
    };
    const Outcome<RcptRow> outcome = decide<RcptRow>(find(), find, create, admit);

    if (outcome.verdict == Verdict::Created) {
        log("new(a)", 1, count_max, 1, 0);
        return Decision::Pass;
    }
    const RcptRow& r = *outcome.row;
    const long long threshold = percent(r.count_cur, r.count_max);
    if (outcome.verdict == Verdict::Admitted) {
        if (window_expired(now, r.date, r.time_limit))
            log("clear(a)", 0, r.count_max, r.count_tot, 0);
        else
            log(std::string("update(") + threshold_letter(threshold) + ")", r.count_cur + 1,
                r.count_max, r.count_tot + 1, threshold);
        return Decision::Pass;
    }
    after_decision(ctx, "flag recipient throttle abuse for " + r.key,
                         [&] { ctx.db.execute(kFlagAbuse, {r.key}); });
    log("abuse(f)", r.count_cur, r.count_max, r.count_tot, threshold);
    return Decision::RecipientQuota;
}

}  // namespace policyd
