// NAME
//   throttle_sender.cpp - sender throttling (see throttle_sender.h)
// DESCRIPTION
//   One request, two statements (three for the first admitted recipient
//   of a message):
//   1. one SELECT picks the row: the highest _priority among the mode's
//      candidates, ties going to the most specific key (address before
//      @domain, IP before a.b.c.% before a.b.%.% ...; the reference left
//      ties open), and says whether the request's instance was already
//      admitted (inc = 0: a further recipient of a counted message); an
//      empty instance is a new message every time. It reads nothing an
//      earlier check writes, so it is offered as a CarriedSelect (check.h):
//      it goes out with the request's first read (the lists' row lookups,
//      rcpt_acl's and the HELO check's reads), so with the whitelist and
//      GREYLISTING=0 a refusal costs two statements, an admission three;
//   2. a size at or over the effective _mail_size is refused before
//      anything is counted (as in the reference; no row is created for a new key);
//   3. the decision statement (throttle_common.h) on that row, or on the
//      new key's row when there was none: creates it with the config
//      defaults (admitted), or admits and counts, or resets the window and
//      counts, or sets _abuse_cur (refused; on the row that refused, also
//      in SASL mode, where the reference flagged the envelope sender's
//      row), and returns the row;
//   4. admitted: the first admitted request of an instance records it, so
//      the message's further recipients do not count it again. A refused
//      message is never recorded, so its further recipients are judged as
//      a new message (the reference let them pass). Recipients of one
//      message come one after the other from one smtpd, so nothing else
//      decides on the same instance between 1 and 4; if recording fails,
//      the next recipient counts the message once more (never fewer);
//   5. refused: in HOST/ENVELOPE mode the auto-blacklist may add the row's
//      key.
//   The admission rule is the reference's: within the window a request is
//   admitted while _rcpt_cur < max and either it belongs to a message
//   already admitted (inc = 0) or _count_cur and _quota_cur are below their
//   maxima; the first request after the window is always admitted.
//
//   Log values come from the row the decision returned, with the config
//   defaults in place of stored zeros: an admission's figures are that row,
//   its thresholds those of the counters before this request (the row less
//   what it just added; a quota saturated at the column maximum shows a
//   lower threshold than it had); a refusal shows the row as it is; a size
//   refusal, the row as selected in 1.
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
    long long time_limit = 0, mail_size = 0, date = 0, abuse_tot = 0, abuse_cur = 0;
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

// The columns of a SenderRow, in the order parse_row() reads them.
const std::string kColumns =
    "_from,_count_max,_count_cur,_count_tot,_quota_max,_quota_cur,_rcpt_max,_rcpt_cur,"
    "_rcpt_tot,_time_limit,_mail_size,_date,_abuse_tot,_abuse_cur";
constexpr std::size_t kNewMessage = 14;  // the find's column after the row

// kColumns of the row called sender_throttle.
std::string columns_of_row() {
    const std::string alias = "sender_throttle.";
    std::string out = alias;
    for (const char c : kColumns) {
        out += c;
        if (c == ',') out += alias;
    }
    return out;
}

// One row however many match: the candidate row (NULLs when none) and
// whether the instance is a new message, as a CarriedSelect. The scalar
// subquery picks the key and the join reads its row by the unique key,
// where a derived table with the same ORDER BY ... LIMIT 1 was
// materialised on every execution (4 to 7 % of mariadbd's CPU per refused
// request, docs/PERFORMANCE.md).
const std::string kFindColumns =
    columns_of_row() +
    ", (? = '' OR NOT EXISTS (SELECT 1 FROM throttle_from_instance WHERE _instance = ?))";
const std::string kFindJoin =
    " LEFT JOIN throttle AS sender_throttle ON sender_throttle._from = (SELECT _from FROM "
    "throttle WHERE _from IN (?,?,?,?) ORDER BY _priority DESC, FIELD(_from,?,?,?,?) LIMIT 1)";

CarriedSelect find_statement(const Request& request, const Key& key) {
    std::vector<db::Param> candidates = key.candidates;
    candidates.insert(candidates.end(), key.candidates.begin(), key.candidates.end());
    return CarriedSelect{kFindColumns, kNewMessage + 1, kFindJoin,
                         {request.instance, request.instance}, std::move(candidates)};
}

// The decision. A new row stores the effective limits; its counters take
// the schema's default 1, which counts this request (reference A2).
const NamedSql kDecide(
    "INSERT INTO throttle (_date,_from,_quota_cur,_quota_max,_rcpt_max,_mail_size,_count_max,"
    "_time_limit) VALUES (:now,:key,:size,:quota_max,:rcpt_max,:mail_size,:count_max,"
    ":time_limit) ON DUPLICATE KEY UPDATE " +
    decision_sql(window_expired_sql() + " OR (_rcpt_cur < " +
                 effective_sql("_rcpt_max", "rcpt_max") + " AND (:inc = 0 OR (_count_cur < " +
                 effective_sql("_count_max", "count_max") + " AND _quota_cur < " +
                 effective_sql("_quota_max", "quota_max") + ")))") +
    ", " + admitted_counter_sql("_rcpt_cur", "1", "1", kMediumMax) + ", " +
    admitted_total_sql("_rcpt_tot", "1", kMediumMax) + ", " +
    admitted_counter_sql("_quota_cur", ":size", ":size", kIntMax) + ", " +
    admitted_counter_sql("_count_cur", "1", ":inc", kMediumMax) + ", " +
    admitted_total_sql("_count_tot", ":inc", kMediumMax) + ", " + window_start_sql() +
    " RETURNING " + kColumns);

const std::string kRecordInstance =
    "INSERT INTO throttle_from_instance (_instance,_expire) VALUES (?,?) "
    "ON DUPLICATE KEY UPDATE _instance = _instance";

SenderRow parse_row(const db::Row& f, const SenderRow& d) {
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
    r.abuse_cur = row_number(f, 13);
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

std::optional<CarriedSelect> SenderThrottleCheck::carried_select(const CheckContext& ctx) const {
    const std::optional<Key> key = throttle_key(ctx.config, ctx.request);
    if (!key) return std::nullopt;
    return find_statement(ctx.request, *key);
}

Decision SenderThrottleCheck::run(CheckContext& ctx) const {
    const std::optional<Key> key = throttle_key(ctx.config, ctx.request);
    if (!key) return Decision::Pass;  // not throttled, as the reference
    const SenderRow d = defaults(ctx.config);
    const Request& request = ctx.request;
    const long long size = message_size(request);
    const long long now = ctx.now;
    const Logger log(ctx, *key, size);

    const db::Row found = ctx.carried_row(*this);  // read with the request's first read, if it could
    std::optional<SenderRow> before;
    if (found[0]) before = parse_row(found, d);
    const long long inc = row_number(found, kNewMessage) != 0 ? 1 : 0;

    if (size >= (before ? before->mail_size : d.mail_size)) {
        const SenderRow& shown = before ? *before : d;  // a new key shows zeros
        log.line("throttle=abuse(f)", shown, Logger::as_read(shown), Logger::thresholds_of(shown));
        return Decision::SizeReject;
    }

    const std::optional<db::Row> returned = ctx.db.query_row(
        kDecide.sql(), kDecide.bind({{"now", now},
                                     {"key", before ? before->key : key->create},
                                     {"size", size},
                                     {"inc", inc},
                                     {"quota_max", d.quota_max},
                                     {"rcpt_max", d.rcpt_max},
                                     {"mail_size", d.mail_size},
                                     {"count_max", d.count_max},
                                     {"time_limit", d.time_limit}}));
    if (!returned) throw db::Error("throttle: the decision returned no row");
    const SenderRow r = parse_row(*returned, d);
    Verdict verdict = verdict_of(r.abuse_cur, now, r.date, r.rcpt_cur, r.rcpt_tot);
    // A row that was there in 1 was not created by us, whatever it holds
    // (one stored by hand with zero totals, say).
    if (verdict == Verdict::Created && before) verdict = Verdict::Admitted;

    if (verdict == Verdict::Refused) {
        log.refusal("throttle=abuse(f)", r);
        autoblacklist(ctx, *key, r, log);
        return Decision::SenderQuota;
    }
    if (inc == 1 && !request.instance.empty()) {
        const long long expire = ctx.config.sendertimelimit > 0 ? now : 0;
        after_decision(ctx, "record throttle instance " + request.instance,
                       [&] { ctx.db.execute(kRecordInstance, {request.instance, expire}); });
    }
    if (verdict == Verdict::Created) {
        log.line("throttle=new(a)", d, {size, 1, 1, 1, 1}, Logger::thresholds(0, 0, 0));
    } else if (window_restarted(now, r.date, r.rcpt_cur)) {
        log.line("throttle=clear(a)", r, Logger::as_read(r), Logger::thresholds(0, 0, 0));
    } else {
        // the counters before this request: the row less what it just added
        const long long q = percent(std::max(r.quota_cur - size, 0LL), r.quota_max);
        const long long c = percent(r.count_cur - inc, r.count_max);
        const long long n = percent(r.rcpt_cur - 1, r.rcpt_max);
        log.line(std::string("throttle=update(") + threshold_letter(std::max({q, c, n})) + ")", r,
                 Logger::as_read(r), Logger::thresholds(q, c, n));
    }
    return Decision::Pass;
}

}  // namespace policyd
