// NAME
//   list_checks.cpp - the table of white- and blacklist lookups (see list_checks.h)
// DESCRIPTION
//   One lookup is one indexed "SELECT <bit> ... LIMIT 1": the reference's
//   COUNT(*) only ever asked "at least one?", and the IP and sender forms
//   use IN on the unique key instead of ORs. The lookups of all enabled
//   lists go out together as one UNION ALL; the statement text depends
//   only on which lists are on and which the request can match, so each
//   worker prepares a handful of variants once.
#include "policy/checks/list_checks.h"

#include <iterator>
#include <stdexcept>

#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

// client_name, unless Postfix could not resolve the client ("unknown"),
// which the reference never looks up (a '%' row would match it).
std::vector<db::Param> dnsname_key(const Request& r) {
    if (r.name == "unknown") return {};
    return {r.name};
}

}  // namespace

const ListSpec kWhitelist{
    "whitelist", [](const Config& c) { return c.whitelisting == 1; },
    "whitelist", "_whitelist IN (?,?,?,?)", address_candidates, Decision::Accept};

const ListSpec kWhitelistSender{
    "whitelist_sender",
    [](const Config& c) { return c.whitelisting == 1 && c.whitelistsender == 1; },
    "whitelist_sender", "_whitelist IN (?,?)", sender_candidates, Decision::Accept};

const ListSpec kWhitelistDnsname{
    "whitelist_dnsname",
    [](const Config& c) { return c.whitelisting == 1 && c.whitelistdnsname == 1; },
    "whitelist_dnsname", "? LIKE _whitelist", dnsname_key, Decision::Accept};

const ListSpec kBlacklist{
    "blacklist", [](const Config& c) { return c.blacklisting == 1; },
    "blacklist", "_blacklist IN (?,?,?,?)", address_candidates, Decision::Blacklist};

const ListSpec kBlacklistSender{
    "blacklist_sender",
    [](const Config& c) { return c.blacklisting == 1 && c.blacklistsender == 1; },
    "blacklist_sender", "_blacklist IN (?,?)", sender_candidates, Decision::Blacklist};

const ListSpec kBlacklistDnsname{
    "blacklist_dnsname",
    [](const Config& c) { return c.blacklisting == 1 && c.blacklistdnsname == 1; },
    "blacklist_dnsname", "? LIKE _blacklist", dnsname_key, Decision::Blacklist};

namespace {

// Every list, in pipeline order; a list's bit is its index here.
const ListSpec* const kLists[] = {&kWhitelist, &kWhitelistSender, &kWhitelistDnsname,
                                  &kBlacklist, &kBlacklistSender, &kBlacklistDnsname};

std::uint32_t look_up_every_list(CheckContext& ctx) {
    const ListLookup lookup = list_lookup(ctx.config, ctx.request, ctx.now);
    std::uint32_t hits = 0;
    if (lookup.sql.empty()) return hits;
    for (const db::Row& row : ctx.db.query(lookup.sql, lookup.params))
        if (row.size() == 1 && row[0]) hits |= 1u << std::stoul(*row[0]);
    return hits;
}

}  // namespace

unsigned list_bit(const ListSpec& spec) {
    for (unsigned bit = 0; bit < std::size(kLists); ++bit)
        if (kLists[bit] == &spec) return bit;
    throw std::logic_error("list_bit: not one of the lists");
}

ListLookup list_lookup(const Config& config, const Request& request, long long now) {
    ListLookup lookup;
    unsigned parts = 0;
    std::string union_all;
    for (unsigned bit = 0; bit < std::size(kLists); ++bit) {
        const ListSpec& spec = *kLists[bit];
        if (!spec.enabled(config)) continue;
        std::vector<db::Param> keys = spec.keys(request);
        if (keys.empty()) continue;
        const std::string part = "SELECT " + std::to_string(bit) + " FROM " + spec.table +
                                 " WHERE " + spec.match + " AND " + not_expired() + " LIMIT 1";
        union_all += (parts++ ? " UNION ALL (" : "(") + part + ")";
        lookup.params.insert(lookup.params.end(), keys.begin(), keys.end());
        lookup.params.emplace_back(now);
        lookup.sql = part;  // a single lookup goes out without the parentheses
    }
    if (parts > 1) lookup.sql = std::move(union_all);
    return lookup;
}

ListLookupCheck::ListLookupCheck(const ListSpec& spec) : spec_(spec), bit_(list_bit(spec)) {}

Decision ListLookupCheck::run(CheckContext& ctx) const {
    if (spec_.keys(ctx.request).empty()) return Decision::Continue;
    if (!ctx.list_hits) ctx.list_hits = look_up_every_list(ctx);
    if (!(*ctx.list_hits & (1u << bit_))) return Decision::Continue;
    return matched(ctx);
}

Decision ListLookupCheck::matched(CheckContext& ctx) const {
    const char* outcome = spec_.on_match == Decision::Accept ? "=update" : "=block";
    ctx.log_decision(std::string(spec_.name) + outcome);
    return spec_.on_match;
}

// The reference tested strlen(sender)==2, which also whitelisted senders
// such as "ab" (Q17); the normalizer turns the empty sender into "<>".
bool null_sender_whitelisted(const Request& r, const Config& c) {
    return c.whitelistnull == 1 && r.sender == "<>";
}

Decision WhitelistCheck::run(CheckContext& ctx) const {
    if (null_sender_whitelisted(ctx.request, ctx.config)) return matched(ctx);
    return ListLookupCheck::run(ctx);
}

}  // namespace policyd
