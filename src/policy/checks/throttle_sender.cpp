// NAME
//   throttle_sender.cpp - sender throttling (see throttle_sender.h)
// DESCRIPTION
//   One request:
//   1. pick the row: the highest _priority among the mode's candidates,
//      ties going to the most specific key (address before @domain, IP
//      before a.b.c.% before a.b.%.% ...; the reference left ties open);
//   2. a size at or over the effective _mail_size is refused before
//      anything is counted (as in the reference; no row is created for a new key);
//   3. record the instance: INSERT ... ON DUPLICATE KEY UPDATE whose
//      affected rows say whether this is the first request of the message
//      (inc); an empty instance is a new message every time;
//   4. decide (throttle_common.h decide()): a missing row is created with
//      the config defaults and admits the request; otherwise one
//      conditional UPDATE admits and counts, or resets the window and
//      counts, or changes nothing (over a limit);
//   5. refused: the instance recorded in 3 is released again, so the
//      message's further recipients are judged as a new message (the
//      reference let them pass), the row's _abuse_cur is set (on the row
//      that refused, also in SASL mode, where the reference flagged the
//      envelope sender's row), and in HOST/ENVELOPE mode the auto-blacklist
//      may add the row's key.
//   The admission rule is the reference's: within the window a request is
//   admitted while _rcpt_cur < max and either it belongs to a message
//   already admitted (inc = 0) or _count_cur and _quota_cur are below their
//   maxima; the first request after the window is always admitted.
//
//   Log values are the row as read before the UPDATE (after a refusal: as
//   read after it), with the config defaults in place of stored zeros.
#include "policy/checks/throttle_sender.h"

#include <algorithm>
#include <optional>

#include "db/session.h"
#include "policy/checks/list_entries.h"
#include "policy/checks/throttle_common.h"

namespace policyd {
namespace {

enum class Mode { Host, Sasl, Envelope };

struct Key {
    Mode mode;
    std::string create;                 // the key a new row gets
    std::vector<db::Param> candidates;  // four, most specific first
};

// The throttle row with the config defaults in place of stored zeros.
struct SenderRow {
    std::string key;
    long long count_max = 0, count_cur = 0, count_tot = 0;
    long long quota_max = 0, quota_cur = 0;
    long long rcpt_max = 0, rcpt_cur = 0, rcpt_tot = 0;
    long long time_limit = 0, mail_size = 0, date = 0, abuse_tot = 0;
};

// policyd.conf defaults, clamped to their columns so new rows can store
// them and an admitted increment always changes the row.
SenderRow defaults(const Config& c) {
    SenderRow d;
    d.count_max = clamp_column(c.sendermsglimit, kMediumMax);
    d.rcpt_max = clamp_column(c.senderrcptlimit, kMediumMax);
    d.quota_max = clamp_column(c.senderquotalimit, kIntMax);
    d.time_limit = clamp_column(c.sendertimelimit, kIntMax);
    d.mail_size = clamp_column(c.sendermsgsize, kIntMax);
    return d;
}

std::optional<Key> throttle_key(const Config& c, const Request& r) {
    if (c.sender_throttle_host == 1) {
        if (r.ip.empty()) return std::nullopt;
        return Key{Mode::Host, r.ip, address_candidates(r)};
    }
    if (c.sender_throttle_sasl == 1 && !r.sasl.empty())
        return Key{Mode::Sasl, r.sasl, {r.sasl, r.sasl, r.sasl, r.sasl}};
    if (c.sender_throttle_envelope == 1) {
        std::vector<db::Param> candidates = sender_candidates(r);
        std::reverse(candidates.begin(), candidates.end());  // address first
        candidates.resize(4, candidates.back());
        return Key{Mode::Envelope, r.sender, std::move(candidates)};
    }
    return std::nullopt;  // SASL mode without a username, envelope off
}

const std::string kFind =
    "SELECT _from,_count_max,_count_cur,_count_tot,_quota_max,_quota_cur,_rcpt_max,_rcpt_cur,"
    "_rcpt_tot,_time_limit,_mail_size,_date,_abuse_tot FROM throttle WHERE _from IN (?,?,?,?) "
    "ORDER BY _priority DESC, FIELD(_from,?,?,?,?) LIMIT 1";

// The new row stores the effective limits; the counters take the schema's
// default 1, which counts this request (reference A2).
const std::string kCreate =
    "INSERT INTO throttle (_date,_from,_quota_cur,_quota_max,_rcpt_max,_mail_size,_count_max,"
    "_time_limit) VALUES (?,?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE _from = _from";

// The decision. Assignments run left to right and see earlier ones, so
// nothing reads a column after assigning it; window_close_sql() (which
// takes the old _abuse_cur and assigns _date) comes last.
const NamedSql kAdmit(
    "UPDATE throttle SET " + window_counter_sql("_rcpt_cur", "1", "1", kMediumMax) +
    ", " + total_sql("_rcpt_tot", "1", kMediumMax) + ", " +
    window_counter_sql("_quota_cur", ":size", ":size", kIntMax) + ", " +
    window_counter_sql("_count_cur", "1", ":inc", kMediumMax) +
    ", " + total_sql("_count_tot", ":inc", kMediumMax) + ", " + window_close_sql() +
    " WHERE _from = :key AND (" + window_expired_sql() + " OR (_rcpt_cur < " +
    effective_sql("_rcpt_max", "rcpt_max") + " AND (:inc = 0 OR (_count_cur < " +
    effective_sql("_count_max", "count_max") + " AND _quota_cur < " +
    effective_sql("_quota_max", "quota_max") + "))))");

const std::string kFlagAbuse = "UPDATE throttle SET _abuse_cur = 1 WHERE _from = ?";

const std::string kRecordInstance =
    "INSERT INTO throttle_from_instance (_instance,_expire) VALUES (?,?) "
    "ON DUPLICATE KEY UPDATE _instance = _instance";
const std::string kReleaseInstance = "DELETE FROM throttle_from_instance WHERE _instance = ?";

std::optional<SenderRow> find_row(CheckContext& ctx, const Key& key, const SenderRow& d) {
    std::vector<db::Param> params = key.candidates;
    params.insert(params.end(), key.candidates.begin(), key.candidates.end());
    const auto found = ctx.db.query_row(kFind, params);
    if (!found) return std::nullopt;
    const db::Row& f = *found;
    SenderRow r;
    r.key = f[0].value_or("");
    r.count_max = effective(row_number(f, 1), d.count_max);
    r.count_cur = row_number(f, 2);
    r.count_tot = row_number(f, 3);
    r.quota_max = effective(row_number(f, 4), d.quota_max);
    r.quota_cur = row_number(f, 5);
    r.rcpt_max = effective(row_number(f, 6), d.rcpt_max);
    r.rcpt_cur = row_number(f, 7);
    r.rcpt_tot = row_number(f, 8);
    r.time_limit = effective(row_number(f, 9), d.time_limit);
    r.mail_size = effective(row_number(f, 10), d.mail_size);
    r.date = row_number(f, 11);
    r.abuse_tot = row_number(f, 12);
    return r;
}

// What one log line shows; the maxima come from the row.
struct Shown {
    long long quota, count, count_tot, rcpt, rcpt_tot;
};

class Logger {
public:
    Logger(CheckContext& ctx, const Key& key, long long size)
        : ctx_(ctx), key_(key), size_(size) {}

    // new(a), clear(a), update(x) and the size abuse(f): thresholds given.
    void line(const std::string& token, const SenderRow& max, const Shown& s,
              const std::string& thresholds) const {
        ctx_.log_decision_tail(token, figures(max, s) + thresholds + tail());
    }
    // abuse(f) / blacklisted(f) for a refusal: HOST and ENVELOPE add abuse=.
    void refusal(const std::string& token, const SenderRow& r) const {
        std::string text = figures(r, as_read(r));
        if (key_.mode != Mode::Sasl) text += ", abuse=" + std::to_string(r.abuse_tot);
        ctx_.log_decision_tail(token, text + thresholds_of(r) + tail());
    }

    static Shown as_read(const SenderRow& r) {
        return {r.quota_cur, r.count_cur, r.count_tot, r.rcpt_cur, r.rcpt_tot};
    }
    static std::string thresholds_of(const SenderRow& r) {
        return thresholds(percent(r.quota_cur, r.quota_max), percent(r.count_cur, r.count_max),
                          percent(r.rcpt_cur, r.rcpt_max));
    }
    static std::string thresholds(long long q, long long c, long long r) {
        return ", threshold=" + std::to_string(q) + "%|" + std::to_string(c) + "%|" +
               std::to_string(r) + "%";
    }

private:
    std::string figures(const SenderRow& m, const Shown& s) const {
        auto pair = [](long long cur, long long max) {
            return std::to_string(cur) + "/" + std::to_string(max);
        };
        return ", size=" + pair(size_, m.mail_size) + ", quota=" + pair(s.quota, m.quota_max) +
               ", count=" + pair(s.count, m.count_max) + "(" + std::to_string(s.count_tot) + ")" +
               ", rcpt=" + pair(s.rcpt, m.rcpt_max) + "(" + std::to_string(s.rcpt_tot) + ")";
    }
    std::string tail() const {
        return key_.mode == Mode::Sasl ? ", sasl_username=" + ctx_.request.sasl : "";
    }

    CheckContext& ctx_;
    const Key& key_;
    long long size_;
};

// Records the request's instance; true when this request is the message's
// first (or has no instance) and so counts as a new message.
bool record_instance(CheckContext& ctx) {
    const std::string& instance = ctx.request.instance;
    if (instance.empty()) return true;
    const long long expire = ctx.config.sendertimelimit > 0 ? static_cast<long long>(ctx.now) : 0;
    return ctx.db.execute(kRecordInstance, {instance, expire}) == 1;
}

void autoblacklist(CheckContext& ctx, const Key& key, const SenderRow& row, const Logger& log) {
    const Config& c = ctx.config;
    if (key.mode == Mode::Sasl || c.sender_throttle_autoblacklist != 1) return;
    if (row.abuse_tot < c.sender_throttle_autoblacklist_number - 1) return;
    add_list_entry_after_decision(
        ctx, key.mode == Mode::Host ? ListTable::Blacklist : ListTable::BlacklistSender, row.key,
        "# sender throttle autoblacklisted",
        expiry(ctx.now, c.sender_throttle_autoblacklist_expire));
    log.refusal("throttle=blacklisted(f)", row);
}

}  // namespace

Decision SenderThrottleCheck::run(CheckContext& ctx) const {
    const std::optional<Key> key = throttle_key(ctx.config, ctx.request);
    if (!key) return Decision::Pass;  // not throttled, as the reference
    const SenderRow d = defaults(ctx.config);
    const long long size = message_size(ctx.request);
    const long long now = ctx.now;
    const Logger log(ctx, *key, size);
    auto find = [&] { return find_row(ctx, *key, d); };

    std::optional<SenderRow> row = find();
    if (size >= (row ? row->mail_size : d.mail_size)) {
        const SenderRow& shown = row ? *row : d;  // a new key shows zeros
        log.line("throttle=abuse(f)", shown, Logger::as_read(shown), Logger::thresholds_of(shown));
        return Decision::SizeReject;
    }

    const bool new_message = record_instance(ctx);
    const long long inc = new_message ? 1 : 0;
    auto create = [&] {
        return ctx.db.execute(kCreate, {now, key->create, size, d.quota_max, d.rcpt_max,
                                        d.mail_size, d.count_max, d.time_limit}) == 1;
    };
    auto admit = [&](const SenderRow& r) {
        return ctx.db.execute(kAdmit.sql(),
                              kAdmit.bind({{"now", now},
                                           {"time_limit", d.time_limit},
                                           {"size", size},
                                           {"inc", inc},
                                           {"key", r.key},
                                           {"rcpt_max", d.rcpt_max},
                                           {"count_max", d.count_max},
                                           {"quota_max", d.quota_max}})) == 1;
    };
    const Outcome<SenderRow> outcome = decide<SenderRow>(row, find, create, admit);

    switch (outcome.verdict) {
    case Verdict::Created:
        log.line("throttle=new(a)", d, {size, 1, 1, 1, 1}, Logger::thresholds(0, 0, 0));
        return Decision::Pass;
    case Verdict::Admitted: {
        const SenderRow& r = *outcome.row;
        if (window_expired(now, r.date, r.time_limit)) {
            log.line("throttle=clear(a)", r, {size, 1, r.count_tot + inc, 1, r.rcpt_tot + 1},
                     Logger::thresholds(0, 0, 0));
        } else {
            const long long top = std::max({percent(r.quota_cur, r.quota_max),
                                            percent(r.count_cur, r.count_max),
                                            percent(r.rcpt_cur, r.rcpt_max)});
            log.line(std::string("throttle=update(") + threshold_letter(top) + ")", r,
                     {r.quota_cur + size, r.count_cur + inc, r.count_tot + inc, r.rcpt_cur + 1,
                      r.rcpt_tot + 1},
                     Logger::thresholds_of(r));
        }
        return Decision::Pass;
    }
    case Verdict::Refused:
        break;
    }
    const SenderRow& r = *outcome.row;
    if (new_message && !ctx.request.instance.empty())
        after_decision(ctx, "release throttle instance " + ctx.request.instance,
                             [&] { ctx.db.execute(kReleaseInstance, {ctx.request.instance}); });
    after_decision(ctx, "flag throttle abuse for " + r.key,
                         [&] { ctx.db.execute(kFlagAbuse, {r.key}); });
    log.refusal("throttle=abuse(f)", r);
    autoblacklist(ctx, *key, r, log);
    return Decision::SenderQuota;
}

}  // namespace policyd
