// NAME
//   list_checks.cpp - the table of white- and blacklist lookups (see list_checks.h)
// DESCRIPTION
//   A list is a row lookup (check.h): an indexed "is there a live row?" -
//   the reference's COUNT(*) only ever asked "at least one?" - with IN on
//   the unique key for the IP and sender forms instead of ORs. The context
//   asks it together with the other enabled checks' lookups.
#include "policy/checks/list_checks.h"

#include "policy/checks/list_entries.h"

namespace policyd {
namespace {

// client_name, unless Postfix could not resolve the client ("unknown"),
// which the reference never looks up (a '%' row would match it).
std::vector<db::Param> dnsname_key(const Request& r) {
    if (r.name == "unknown") return {};
    return {r.name};
}

CidrLengths whitelist_lengths("whitelist");
CidrLengths blacklist_lengths("blacklist");

}  // namespace

const ListSpec kWhitelist{
    "whitelist", [](const Config& c) { return c.whitelisting == 1; },
    "whitelist", "_whitelist IN (?,?,?,?)", address_candidates, Decision::Accept,
    &whitelist_lengths};

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
    "blacklist", "_blacklist IN (?,?,?,?)", address_candidates, Decision::Blacklist,
    &blacklist_lengths};

const ListSpec kBlacklistSender{
    "blacklist_sender",
    [](const Config& c) { return c.blacklisting == 1 && c.blacklistsender == 1; },
    "blacklist_sender", "_blacklist IN (?,?)", sender_candidates, Decision::Blacklist};

const ListSpec kBlacklistDnsname{
    "blacklist_dnsname",
    [](const Config& c) { return c.blacklisting == 1 && c.blacklistdnsname == 1; },
    "blacklist_dnsname", "? LIKE _blacklist", dnsname_key, Decision::Blacklist};

ListLookupCheck::ListLookupCheck(const ListSpec& spec) : spec_(spec) {}

std::optional<RowLookup> ListLookupCheck::row_lookup(const CheckContext& ctx) const {
    std::vector<db::Param> keys = spec_.keys(ctx.request);
    if (keys.empty()) return std::nullopt;
    std::string match = spec_.match;
    if (spec_.cidr_lengths) {
        const std::vector<db::Param> networks = network_candidates(
            ctx.request, spec_.cidr_lengths->in_use(ctx.db, ctx.config, ctx.now),
            static_cast<int>(ctx.config.greylist_ipv6_prefix));
        if (!networks.empty()) {
            std::string marks(2 * networks.size() - 1, ',');
            for (std::size_t i = 0; i < marks.size(); i += 2) marks[i] = '?';
            match = "(" + match + " OR _cidr IN (" + marks + "))";
            keys.insert(keys.end(), networks.begin(), networks.end());
        }
    }
    keys.emplace_back(static_cast<long long>(ctx.now));
    return RowLookup{spec_.table, match + " AND " + not_expired(), std::move(keys)};
}

Decision ListLookupCheck::run(CheckContext& ctx) const {
    return ctx.row_matches(*this) ? matched(ctx) : Decision::Continue;
}

Decision ListLookupCheck::matched(CheckContext& ctx) const {
    const char* outcome = spec_.on_match == Decision::Accept ? "=update" : "=block";
    ctx.log_decision(std::string(spec_.name) + outcome);
    return spec_.on_match;
}

// The reference tested strlen(sender)==2, which also whitelisted senders
// such as "ab"; the normalizer turns the empty sender into "<>".
bool null_sender_whitelisted(const Request& r, const Config& c) {
    return c.whitelistnull == 1 && r.sender == "<>";
}

bool WhitelistCheck::decides_by_row_lookup(const CheckContext& ctx) const {
    return !null_sender_whitelisted(ctx.request, ctx.config);
}

Decision WhitelistCheck::run(CheckContext& ctx) const {
    if (null_sender_whitelisted(ctx.request, ctx.config)) return matched(ctx);
    return ListLookupCheck::run(ctx);
}

}  // namespace policyd
