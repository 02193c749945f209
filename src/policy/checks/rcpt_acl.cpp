// NAME
//   rcpt_acl.cpp - sender/recipient ACL lookup (see rcpt_acl.h)
// DESCRIPTION
//   One read gives the deciding row's _wblist. The unique key
//   (_rcpt,_sender) and the two candidates per side bound the lookup to
//   four rows, which the ORDER BY ranks: _priority, then the exact
//   recipient, then the exact sender (compared in the table's collation,
//   as the IN that matched them). It is a CarriedSelect (check.h), so with
//   other checks on it goes out with their reads in the request's first
//   statement.
#include "policy/checks/rcpt_acl.h"

#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

// ?1 ?2 the sender candidates, ?3 ?4 the recipient's, ?5 the recipient,
// ?6 the sender -> the deciding _wblist, NULL when no row matches.
// The columns are qualified: inside the first read a column missing from
// rcpt_acl would otherwise be taken from another check's table there (the
// sender throttle's row has a _priority), where it must be an error.
const std::string kDecidingRow =
    "(SELECT acl._wblist FROM rcpt_acl AS acl WHERE acl._sender IN (?,?) AND acl._rcpt IN (?,?) "
    "ORDER BY acl._priority DESC, acl._rcpt = ? DESC, acl._sender = ? DESC LIMIT 1)";

}  // namespace

std::optional<CarriedSelect> RcptAclCheck::carried_select(const CheckContext& ctx) const {
    const Request& r = ctx.request;
    std::vector<db::Param> params = sender_candidates(r);
    for (auto& p : recipient_candidates(r)) params.push_back(std::move(p));
    params.push_back(r.rcpt);
    params.push_back(r.sender);
    return CarriedSelect{kDecidingRow, 1, "", std::move(params), {}};
}

Decision RcptAclCheck::run(CheckContext& ctx) const {
    const Request& r = ctx.request;
    const db::Row row = ctx.carried_row(*this);
    const char verdict = row[0] && !row[0]->empty() ? row[0]->front() : '\0';
    if (verdict == 'w') {
        ctx.log_line("DEBUG: fd: " + std::to_string(ctx.fd) + " rcpt_acl whitelist found: " +
                     r.sdom + "/" + r.sender + " -> " + r.rcpt + "/" + r.rdom);
        return Decision::Accept;
    }
    if (verdict == 'b') {
        ctx.log_decision("rcpt_acl=block");
        return Decision::Blacklist;
    }
    return Decision::Continue;
}

}  // namespace policyd
