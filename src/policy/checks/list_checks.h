// NAME
//   list_checks.h - the white- and blacklist lookups: whitelist,
//   whitelist_sender, whitelist_dnsname, blacklist, blacklist_sender,
//   blacklist_dnsname
// SYNOPSIS
//   #include "policy/checks/list_checks.h"
//   checks.push_back(std::make_unique<WhitelistCheck>());
//   checks.push_back(std::make_unique<ListLookupCheck>(kBlacklistSender));
// DESCRIPTION
//   The reference's whitelist.c and blacklist.c are six copies of one lookup: "does a live row of this table
//   match this request?" - a hit ends the request with ACCEPT (token
//   <name>=update) or the blacklist reply (token <name>=block). They differ
//   only in data: the switches, the table, the match condition and the
//   request values it compares. So they are one class, ListLookupCheck,
//   driven by one ListSpec per check; a file per check would repeat the
//   same twenty lines six times. Only the IP whitelist adds behaviour of
//   its own (WHITELISTNULL), as the subclass WhitelistCheck.
//
//   Matching, as in the reference, except for the fixes below:
//   - IP lists: the address or one of the literal netblock strings
//     a.b.c.% / a.b.%.% / a.%.%.% (address_candidates(); '%' is not a
//     wildcard there), or (ours) a CIDR row "203.0.113.0/24",
//     "2001:db8:aa::/48" holding the address: the table's generated _cidr
//     column is one of network_candidates(), for the prefix lengths the
//     table's CIDR rows use (cidr_lengths.h; docs/LISTS.md). Both in one
//     condition, which the server answers by merging the two indexes.
//   - sender lists: the full sender or "@domain" (sender_candidates()).
//   - dnsname lists: "client_name LIKE row", the row being the pattern
//     ('%' any run, '_' one character); client_name "unknown" is never
//     looked up.
//   Fixes: a row whose _expire is non-zero and past never matches
//   (not_expired()); a blank row no longer matches IPv6 clients;
//   WHITELISTNULL whitelists the null sender "<>" only, not every
//   two-character sender.
//
//   One round trip for all of them: each list is a RowLookup (check.h),
//   which the context asks together with the other enabled checks' in one
//   statement (row_lookups.h) where the reference sent one SELECT per list.
//   The order of the checks and their log lines do not change; a list that
//   a decision before it makes irrelevant is read for nothing, within the
//   same statement.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "db/session.h"
#include "policy/check.h"
#include "policy/checks/cidr_lengths.h"

namespace policyd {

// Everything that tells one list lookup from another. Specs are static
// constants (below) that outlive every check built from them.
struct ListSpec {
    std::string_view name;            // module token: <name>=update|block|bypass|failed
    bool (*enabled)(const Config&);   // the reference's switches, nested as in chk_pol
    const char* table;
    const char* match;                // condition on a row; its '?' are bound to keys()
    // The request values for `match`; empty when the request cannot match
    // (no lookup at all).
    std::vector<db::Param> (*keys)(const Request&);
    Decision on_match;                // Accept (whitelists) or Blacklist
    // The table has _cidr (CIDR rows match too): the lengths its rows use.
    CidrLengths* cidr_lengths = nullptr;
};

extern const ListSpec kWhitelist;
extern const ListSpec kWhitelistSender;
extern const ListSpec kWhitelistDnsname;
extern const ListSpec kBlacklist;
extern const ListSpec kBlacklistSender;
extern const ListSpec kBlacklistDnsname;

class ListLookupCheck : public Check {
public:
    explicit ListLookupCheck(const ListSpec& spec);

    std::string_view name() const override { return spec_.name; }
    bool enabled(const Config& config) const override { return spec_.enabled(config); }
    Decision run(CheckContext& ctx) const override;
    // The spec's table and match on the request's keys, live rows only;
    // nullopt when the request has no keys for it.
    std::optional<RowLookup> row_lookup(const CheckContext& ctx) const override;
    bool decides_by_row_lookup(const CheckContext&) const override { return true; }

protected:
    // Logs <name>=update or <name>=block and returns the spec's decision.
    Decision matched(CheckContext& ctx) const;

private:
    const ListSpec& spec_;
};

// WHITELISTNULL==1 and the null sender: whitelisted without a lookup.
bool null_sender_whitelisted(const Request& request, const Config& config);

// The IP whitelist, with the WHITELISTNULL shortcut before its lookup.
class WhitelistCheck final : public ListLookupCheck {
public:
    WhitelistCheck() : ListLookupCheck(kWhitelist) {}
    Decision run(CheckContext& ctx) const override;
    // Except for the null sender, which it whitelists without a lookup.
    bool decides_by_row_lookup(const CheckContext& ctx) const override;
};

}  // namespace policyd
