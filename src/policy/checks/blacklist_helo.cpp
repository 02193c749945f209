// NAME
//   blacklist_helo.cpp - HELO blacklist with '%' wildcards (see blacklist_helo.h)
// DESCRIPTION
//   The stored row is the LIKE pattern. Only '%' may be a wildcard (user's
//   README), so '_' and the escape character in a row are escaped before
//   the comparison; the escape character is '!' rather than '\' so the
//   statement means the same under NO_BACKSLASH_ESCAPES. Both sides are
//   lower case (the HELO already is), so matching is case-insensitive
//   whatever the column's collation. The table holds a handful of the
//   administrator's own names: the full scan costs nothing.
//
//   Differences from the reference, on purpose: wildcards and bracketed rows
//   match (it compared the bracket-stripped HELO for equality), a count of
//   two or more is a hit (it required exactly one), the netblock entry is
//   NET3 (it wrote the unmatchable "a.b.c.d.%"), and a failed blacklist
//   write no longer turns the reject into an accept.
#include "policy/checks/blacklist_helo.h"

#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

// A stored row as a LIKE pattern with '!' as the escape character.
const std::string kRowPattern = "LOWER(REPLACE(REPLACE(_helo,'!','!!'),'_','!_'))";
// ?1 HELO, ?2 [HELO].
const std::string kListedHelo =
    "? LIKE " + kRowPattern + " ESCAPE '!' OR ? LIKE " + kRowPattern + " ESCAPE '!'";

}  // namespace

std::optional<RowLookup> BlacklistHeloCheck::row_lookup(const CheckContext& ctx) const {
    const std::string& helo = ctx.request.helo;
    if (helo.empty()) return std::nullopt;
    return RowLookup{"blacklist_helo", kListedHelo, {helo, "[" + helo + "]"}};
}

Decision BlacklistHeloCheck::run(CheckContext& ctx) const {
    const Request& r = ctx.request;
    if (!ctx.row_matches(*this)) return Decision::Continue;

    const long long e = blacklist_client(ctx, ctx.config.blacklist_netblock == 1,
                                         "# blacklisted helo: (" + r.helo + ")",
                                         ctx.config.blacklist_helo_auto_expire);
    ctx.log_decision("blacklist_helo=new", ", helo=" + r.helo + ", expire=" + std::to_string(e));
    return Decision::Blacklist;
}

}  // namespace policyd
