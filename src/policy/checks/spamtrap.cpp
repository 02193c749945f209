// NAME
//   spamtrap.cpp - spamtrap hits (see spamtrap.h)
// DESCRIPTION
//   Differences from the reference, on purpose: an IPv6 client (or any
//   client without a NET3 string) is blacklisted under its own address in
//   netblock mode, where the reference wrote '' and so blacklisted every
//   IPv6 client; the description is cut to the column and a
//   failed or repeated blacklist write keeps the reject.
#include "policy/checks/spamtrap.h"

#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

const std::string kActiveTrap = "_rcpt = ? AND _active = 1";

}  // namespace

std::optional<RowLookup> SpamtrapCheck::row_lookup(const CheckContext& ctx) const {
    return RowLookup{"spamtrap", kActiveTrap, {ctx.request.rcpt}};
}

Decision SpamtrapCheck::run(CheckContext& ctx) const {
    const Request& r = ctx.request;
    if (!ctx.row_matches(*this)) return Decision::Continue;

    const long long e = blacklist_client(ctx, ctx.config.blacklist_netblock == 1,
                                         "# spamtrap delivery: (" + r.rcpt + ")",
                                         ctx.config.spamtrap_auto_expire);
    ctx.log_decision("spamtrap=new", ", expire=" + std::to_string(e));
    return Decision::Spamtrap;
}

}  // namespace policyd
