// NAME
//   greylist.cpp - triplet greylisting (see greylist.h)
// DESCRIPTION
//   The whole triplet decision is one atomic statement: an INSERT that, on
//   the existing row, counts the delivery only when TRIPLET_TIME has passed.
//   The affected-row count tells what happened (1 inserted, 2 counted,
//   0 untouched), so several daemons sharing the table can never both
//   create a triplet or lose a count, and the common request costs one
//   round trip.
#include "policy/checks/greylist.h"

#include "db/session.h"

namespace policyd {
namespace {

// ?1 now, ?2 host, ?3 from, ?4 rcpt, ?5 triplet_time.
// _count saturates at its column maximum instead of failing (reference Q31).
const std::string kRecordTriplet =
    "INSERT INTO triplet (_datenew,_datelast,_host,_from,_rcpt,_count) VALUES (?,?,?,?,?,0) "
    "ON DUPLICATE KEY UPDATE "
    "_count = IF(CAST(_datenew AS SIGNED) + ? <= VALUES(_datelast), LEAST(_count + 1, 65535), _count), "
    "_datelast = IF(CAST(_datenew AS SIGNED) + ? <= VALUES(_datelast), VALUES(_datelast), _datelast)";

const std::string kTripletAge =
    "SELECT CAST(_datenew AS SIGNED) + ? <= ? FROM triplet WHERE _host=? AND _from=? AND _rcpt=?";

}  // namespace

Decision GreylistCheck::run(CheckContext& ctx) const {
    const Request& r = ctx.request;
    const long long now = ctx.now;
    const long long triplet_time = ctx.config.triplet_time;

    const auto changed = ctx.db.execute(
        kRecordTriplet, {now, now, r.ghost, r.sender, r.rcpt, triplet_time, triplet_time});
    if (changed == 1) {
        ctx.log_decision("greylist=new");
        return Decision::GreyDefer;
    }
    // 0 rows: either too early, or a saturated count updated within the same
    // second; only the first is abuse.
    if (changed == 0 &&
        ctx.db.query_int(kTripletAge, {triplet_time, now, r.ghost, r.sender, r.rcpt}) == 0) {
        ctx.log_decision("greylist=abuse");
        return Decision::GreyDefer;
    }
    ctx.log_decision("greylist=update");
    return Decision::Pass;
}

}  // namespace policyd
