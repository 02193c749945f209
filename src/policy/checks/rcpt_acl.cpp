// NAME
//   rcpt_acl.cpp - sender/recipient ACL lookup (see rcpt_acl.h)
// DESCRIPTION
//   The unique key (_rcpt,_sender) and the two candidates per side bound
//   the lookup to four rows, so every match is fetched and the winner is
//   chosen here: a pure, tested rule instead of an ORDER BY that would
//   have to rebuild the exactness test in SQL.
#include "policy/checks/rcpt_acl.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>

#include "db/session.h"
#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

const std::string kMatchingRows =
    "SELECT _sender,_rcpt,_wblist,_priority FROM rcpt_acl "
    "WHERE _sender IN (?,?) AND _rcpt IN (?,?)";

}  // namespace

std::optional<AclRow> deciding_acl_row(const std::vector<AclRow>& rows, const Request& r) {
    auto rank = [&](const AclRow& row) {
        return std::make_tuple(row.priority, row.rcpt == r.rcpt, row.sender == r.sender);
    };
    auto best = std::max_element(rows.begin(), rows.end(), [&](const AclRow& a, const AclRow& b) {
        return rank(a) < rank(b);
    });
    if (best == rows.end()) return std::nullopt;
    return *best;
}

Decision RcptAclCheck::run(CheckContext& ctx) const {
    const Request& r = ctx.request;
    std::vector<db::Param> params = sender_candidates(r);
    for (auto& p : recipient_candidates(r)) params.push_back(std::move(p));

    std::vector<AclRow> rows;
    for (const db::Row& row : ctx.db.query(kMatchingRows, params))
        rows.push_back({row[0].value_or(""), row[1].value_or(""), row[2].value_or(""),
                        std::strtoull(row[3].value_or("0").c_str(), nullptr, 10)});

    const std::optional<AclRow> winner = deciding_acl_row(rows, r);
    const char verdict = winner && !winner->wblist.empty() ? winner->wblist.front() : '\0';
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
