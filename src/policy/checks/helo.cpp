// NAME
//   helo.cpp - HELO randomization prevention (see helo.h)
// DESCRIPTION
//   The reference's counting is kept: the limit is compared with the HELOs
//   already stored, before the current one is added and whether or not it
//   is new; an empty HELO is recorded and counted but never triggers the
//   check itself. Expired rows (_expire in the past, not yet removed by
//   cleanup) neither count nor stop the HELO from being recorded again.
//
//   Round trips: one read answers both of the reference's questions (how
//   many HELOs the host has, and whether this one is among them), so a
//   known HELO costs one statement and a new one two; the INSERT ... ON
//   DUPLICATE KEY UPDATE never fails on a row that appeared in between.
//   The read is offered as a CarriedSelect (check.h): it usually goes out
//   with the request's first read, and costs no statement of its own.
//
//   Concurrency (several workers or daemons seeing the same host at once):
//   the count and the insert are two statements (the count usually read at
//   the request's start, with the other checks' reads, so the window is the
//   request's duration), so two requests that both read a count of
//   HELO_MAX_COUNT-1 and both bring a new HELO are both accepted, where one
//   after the other the second would have been blocked.
//   What cannot go wrong: rows are never lost or duplicated (the unique key
//   merges concurrent inserts of one HELO), no request fails on a duplicate
//   key (the reference's DELAYED inserts turned that into an accept), and
//   since the stored count only grows, the host's next request is blocked.
//   So the limit can be overshot by the number of requests in flight at the
//   same moment, nothing more; the reference, one request at a time per
//   daemon, had the same window between daemons. Closing it would need a
//   locking transaction on every request (and deadlock retries when the
//   host has no rows yet) for a heuristic limit: not worth it. An abuse
//   decision racing with a recording may leave that one new row behind the
//   DELETE; it expires like any other.
#include "policy/checks/helo.h"

#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

// ?1 IP, ?2 NOW, ?3 IP, ?4 HELO, ?5 NOW -> (HELOs on record, whether HELO
// is one of them). The second is a lookup on the unique key (_host,_helo).
const std::string kHostHelos = "(SELECT COUNT(*) FROM helo WHERE _host = ? AND " + not_expired() +
                               "), EXISTS (SELECT 1 FROM helo WHERE _host = ? AND _helo = ? AND " +
                               not_expired() + ")";
// ?1 IP, ?2 HELO, ?3 expire. Reached only when no live row exists: a
// duplicate is an expired row (given a new life) or a concurrent insert.
const std::string kRecordHelo =
    "INSERT INTO helo (_host,_helo,_expire) VALUES (?,?,?) "
    "ON DUPLICATE KEY UPDATE _expire = VALUES(_expire)";
const std::string kForgetHost = "DELETE FROM helo WHERE _host = ?";

long long column(const db::Row& row, std::size_t i) {
    return i < row.size() && row[i] ? std::stoll(*row[i]) : 0;
}

}  // namespace

std::optional<CarriedSelect> HeloCheck::carried_select(const CheckContext& ctx) const {
    const Request& r = ctx.request;
    const long long now = ctx.now;
    return CarriedSelect{kHostHelos, 2, "", {r.ip, now, r.ip, r.helo, now}, {}};
}

Decision HeloCheck::run(CheckContext& ctx) const {
    const Request& r = ctx.request;
    const Config& c = ctx.config;
    const db::Row row = ctx.carried_row(*this);
    const long long stored = column(row, 0);
    const bool known = column(row, 1) != 0;

    if (!r.helo.empty() && stored >= c.helo_max_count) {
        blacklist_client(ctx, false, "# helo abuse", c.helo_blacklist_auto_expire);
        ctx.log_decision("helo=abuse", ", helo=" + r.helo);
        after_decision(ctx, "delete the helo rows of " + r.ip,
                       [&] { ctx.db.execute(kForgetHost, {r.ip}); });
        return Decision::Blacklist;
    }
    if (!known) ctx.db.execute(kRecordHelo, {r.ip, r.helo, expiry(ctx.now, c.helo_auto_expire)});
    return Decision::Continue;
}

}  // namespace policyd
