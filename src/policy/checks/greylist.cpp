// NAME
//   greylist.cpp - triplet greylisting (see greylist.h)
// DESCRIPTION
//   The whole triplet decision is one atomic statement: an INSERT that, on
//   the existing row, counts the delivery only when TRIPLET_TIME has passed
//   (or always, in training). The affected-row count tells what happened
//   (1 inserted, 2 counted, 0 untouched), so several daemons sharing the
//   table can never both create a triplet or lose a count. With the
//   default configuration the INSERT also carries the whitelist lookup
//   (check.h, GuardedInsert): it is sent in the whitelist's place, written
//   only if no list matches, so a new triplet or a passing retry costs one
//   round trip. An untouched row costs more: the lookups (a listed client,
//   or an unchanged triplet?) and "too early?", to tell abuse from a
//   saturated count; that SELECT also finds a triplet that a list row,
//   removed in between, kept from being written, and then the INSERT is
//   sent again, unguarded.
//
//   The optional features only add statements when switched on: one
//   policy lookup (OPTINOUT), one policy_training count
//   (TRAINING_POLICY_TIMEOUT), one triplet count per new triplet (ABL) or
//   per passing retry (AWL, unless AUTO_WHITELIST_NUMBER <= 1), and the
//   list entry plus the host's triplet clean-up when a threshold is met.
//
//   The auto-list counts are offered as a CarriedSelect (check.h): when
//   another check's read opens the request (every module on), they are
//   read there, before the triplet is written, and cost no statement of
//   their own; the new triplet then adds one to the never-passed count, and
//   our triplet is among the passed ones if it had passed before, which is
//   the reference's count (taken before its UPDATE).
//
//   Concurrency of those counts: each COUNT is a plain read after our
//   triplet statement has committed (or at the request's start, read with
//   the others), so it sees every triplet committed by any daemon at that
//   moment. Two daemons
//   counting at once may both see the threshold met and both list the host
//   (the list INSERT is idempotent, the DELETE too), or a triplet committed
//   between the count and the DELETE is removed with the others. Neither
//   changes a verdict the triplet statement did not already take: the
//   counts only decide whether a host is listed one request earlier or
//   later, which a threshold heuristic tolerates.
#include "policy/checks/greylist.h"

#include <limits>

#include "db/session.h"
#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

// The triplet statement in the parts a GuardedInsert has: ?1 NOW
// (_datenew), ?2 NOW (_datelast), ?3 host, ?4 from, ?5 rcpt; then ?6 ?7 the
// latest _datenew that may pass (NOW - TRIPLET_TIME, or anything in
// training). _count saturates at its column maximum instead of failing
// under strict SQL mode, which made every later delivery a bypass in 1.x.
const std::string kTripletInto = "INSERT INTO triplet (_datenew,_datelast,_host,_from,_rcpt,_count)";
const std::string kTripletValues = "?,?,?,?,?,0";
const std::string kTripletUpdate =
    " ON DUPLICATE KEY UPDATE "
    "_count = IF(_datenew <= ?, LEAST(_count + 1, 65535), _count), "
    "_datelast = IF(_datenew <= ?, VALUES(_datelast), _datelast)";
const std::string kRecordTriplet = kTripletInto + " VALUES (" + kTripletValues + ")" + kTripletUpdate;

// NULL: there is no such triplet.
const std::string kTooEarly =
    "SELECT _datenew > ? FROM triplet WHERE _host=? AND _from=? AND _rcpt=?";

// Highest priority first; on a tie the exact address beats @domain, then
// opt-in beats opt-out (the reference left ties to the server).
const std::string kPolicy =
    "SELECT _optin FROM policy WHERE _rcpt IN (?,?) "
    "ORDER BY _priority DESC, _rcpt = ? DESC, _optin DESC LIMIT 1";

// _expire is the row's start time: it trains for TRAINING_POLICY_TIMEOUT
// from then on (cleanup deletes it after that); 0 trains for ever.
const std::string kTraining =
    "SELECT COUNT(*) FROM policy_training WHERE _rcpt IN (?,?) AND (_expire = 0 OR _expire >= ?)";

// ABL: never-passed triplets of the host key, the new one included.
const std::string kNeverPassed = "SELECT COUNT(*) FROM triplet WHERE _host=? AND _count = 0";

// AWL: triplets of the host key that had passed before this request (ours
// has just been counted, so it needs a count above 1): the reference's
// count, taken before its UPDATE.
const std::string kPassedBefore =
    "SELECT COUNT(*) FROM triplet WHERE _host=? AND _count > IF(_from=? AND _rcpt=?, 1, 0)";

// The same two counts read before the triplet is written, as a column of
// the request's first read: ?1 host -> the never-passed triplets (ours, not
// yet written, not among them) in the low 32 bits, the passed ones (ours
// among them if it had passed before) above. One scan of the host key's
// triplets for both: each subquery of the first read is a scan of its own,
// and two cost mariadbd a fifth more per request with every module on
// (docs/PERFORMANCE.md). No host key has 2^32 triplets.
const std::string kCountsColumn =
    "(SELECT IFNULL(SUM(_count = 0) + (SUM(_count > 0) << 32), 0) FROM triplet WHERE _host=?)";

// Every triplet of the host key goes once it is listed.
const std::string kForgetHost = "DELETE FROM triplet WHERE _host=?";

bool counts_never_passed(const Config& c) { return c.auto_black_listing == 1; }
bool counts_passed(const Config& c) {
    return c.auto_white_listing == 1 && c.auto_whitelist_number > 1;
}

// The auto-list counts the request's first read carried (check.h), each
// nullopt when it was not read there and is asked after the write.
struct CountsReadBefore {
    std::optional<long long> never_passed, passed;
};

CountsReadBefore counts_read_before(CheckContext& ctx, const GreylistCheck& check) {
    CountsReadBefore counts;
    const std::optional<db::Row> row = ctx.row_read_with_others(check);
    if (!row || row->size() != 1 || !row->front()) return counts;
    const unsigned long long both = std::stoull(*row->front());
    counts.never_passed = static_cast<long long>(both & 0xffffffffULL);
    counts.passed = static_cast<long long>(both >> 32);
    return counts;
}

long long pass_bound(const CheckContext& ctx, bool training) {
    return training ? std::numeric_limits<long long>::max()
                    : static_cast<long long>(ctx.now) - ctx.config.triplet_time;
}

// Whether the triplet is too early to pass; nullopt when it is not there.
std::optional<bool> too_early(CheckContext& ctx, long long bound) {
    const Request& r = ctx.request;
    const auto row = ctx.db.query_row(kTooEarly, {bound, r.ghost, r.sender, r.rcpt});
    if (!row || row->empty() || !(*row)[0]) return std::nullopt;
    return *(*row)[0] != "0";
}

std::optional<long long> policy_optin(CheckContext& ctx) {
    auto params = recipient_candidates(ctx.request);
    params.emplace_back(ctx.request.rcpt);  // the tie-break
    const auto row = ctx.db.query_row(kPolicy, params);
    if (!row || row->empty() || !(*row)[0]) return std::nullopt;
    return std::stoll(*(*row)[0]);
}

long long training_rows(CheckContext& ctx) {
    auto params = recipient_candidates(ctx.request);
    params.emplace_back(static_cast<long long>(ctx.now) - ctx.config.training_policy_timeout);
    return ctx.db.query_int(kTraining, params);
}

// Lists the host (whitelist for AWL, blacklist for ABL) and, once that is
// written, forgets its triplets; logs "greylist=<token>, ..., expire=<e>".
// Failed writes are logged and keep the verdict; the
// triplets stay when the entry could not be written, so nothing is lost.
void list_host(CheckContext& ctx, ListTable table, bool netblock, const char* description,
               long duration, std::string_view token) {
    const std::string& ghost = ctx.request.ghost;
    const ClientEntry entry = list_client(ctx, table, netblock, description, duration);
    if (entry.written) {
        after_decision(ctx, "delete the triplets of " + ghost,
                       [&] { ctx.db.execute(kForgetHost, {ghost}); });
    }
    ctx.log_decision(token, ", expire=" + std::to_string(entry.expire));
}

Decision new_triplet(CheckContext& ctx, bool training, const CountsReadBefore& before) {
    const Config& c = ctx.config;
    if (counts_never_passed(c) &&
        (before.never_passed ? *before.never_passed + 1
                             : ctx.db.query_int(kNeverPassed, {ctx.request.ghost})) >=
            c.auto_blacklist_number) {
        // Even in training, and answered with the greylist text.
        list_host(ctx, ListTable::Blacklist, c.blacklist_netblock == 1, "# autoblacklisted",
                  c.auto_blacklist_expire, "greylist=abl");
        return Decision::GreyDefer;
    }
    ctx.log_decision(training ? "greylist=new_train" : "greylist=new");
    return training ? Decision::Pass : Decision::GreyDefer;
}

Decision passed_triplet(CheckContext& ctx, bool training, const CountsReadBefore& before) {
    const Config& c = ctx.config;
    const Request& r = ctx.request;
    // NUMBER=1 whitelists on the first pass without counting; k >= 2 needs
    // k triplets that passed before this one (the reference's off-by-one).
    if (c.auto_white_listing == 1 &&
        (!counts_passed(c) ||
         (before.passed ? *before.passed
                        : ctx.db.query_int(kPassedBefore, {r.ghost, r.sender, r.rcpt})) >=
             c.auto_whitelist_number)) {
        list_host(ctx, ListTable::Whitelist, c.auto_whitelist_netblock == 1,
                  "# autowhitelisted host", c.auto_whitelist_expire, "greylist=awl");
        return Decision::Pass;
    }
    ctx.log_decision(training ? "greylist=update_train" : "greylist=update");
    return Decision::Pass;
}

}  // namespace

bool opted_out(const Config& config, std::optional<long long> optin) {
    return config.optinout == 1 && optin.value_or(config.optinoutall) == 0;
}

bool in_training(const Config& config, std::optional<long long> optin,
                 std::optional<long long> training_rows) {
    if (config.training_mode != 0) return true;
    if (training_rows) return *training_rows > 0;
    return optin.value_or(config.optinoutall) == 2;
}

std::optional<GuardedInsert> GreylistCheck::guarded_insert(const CheckContext& ctx) const {
    const Config& c = ctx.config;
    // Opt-in/out and policy_training are read before the triplet is written.
    if (c.optinout == 1 || c.training_policy_timeout != 0) return std::nullopt;
    const Request& r = ctx.request;
    const long long now = ctx.now, bound = pass_bound(ctx, in_training(c, {}, {}));
    return GuardedInsert{kTripletInto, kTripletValues, kTripletUpdate,
                         {now, now, r.ghost, r.sender, r.rcpt}, {bound, bound}};
}

std::optional<CarriedSelect> GreylistCheck::carried_select(const CheckContext& ctx) const {
    const Config& c = ctx.config;
    if (!counts_never_passed(c) && !counts_passed(c)) return std::nullopt;
    return CarriedSelect{kCountsColumn, 1, "", {ctx.request.ghost}, {}};
}

Decision GreylistCheck::run(CheckContext& ctx) const {
    const Request& r = ctx.request;
    const Config& c = ctx.config;
    const CountsReadBefore before = counts_read_before(ctx, *this);

    const std::optional<long long> optin =
        c.optinout == 1 ? policy_optin(ctx) : std::optional<long long>{};
    if (opted_out(c, optin)) {
        ctx.log_decision("greylist=optout");
        return Decision::Pass;
    }
    const std::optional<long long> training_count =
        c.training_policy_timeout != 0 ? training_rows(ctx) : std::optional<long long>{};
    const bool training = in_training(c, optin, training_count);

    const long long now = ctx.now;
    const long long bound = pass_bound(ctx, training);
    // Sent already by the lists' row lookups, guarded by them (check.h)?
    std::optional<std::uint64_t> changed = ctx.carried_insert(*this);
    std::optional<bool> early;  // asked only when the INSERT changed nothing
    if (changed == 0u) {
        // Unchanged, or stopped by a list row removed since: only the
        // first finds the triplet.
        early = too_early(ctx, bound);
        if (!early) changed.reset();
    }
    if (!changed)
        changed = ctx.db.execute(kRecordTriplet, {now, now, r.ghost, r.sender, r.rcpt, bound, bound});
    if (*changed == 1) return new_triplet(ctx, training, before);
    // 0 rows: too early, or a saturated count passed again within the same
    // second; only the first is abuse (training is never too early).
    if (*changed == 0 && !training) {
        if (!early) early = too_early(ctx, bound);
        if (early.value_or(false)) {
            ctx.log_decision("greylist=abuse");
            return Decision::GreyDefer;
        }
    }
    return passed_triplet(ctx, training, before);
}

}  // namespace policyd
