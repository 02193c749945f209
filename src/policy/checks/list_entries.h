// NAME
//   list_entries.h - what several checks share about the list tables
// SYNOPSIS
//   #include "policy/checks/list_entries.h"
//   long long e = expiry(ctx.now, ctx.config.spamtrap_auto_expire);
//   add_list_entry(ctx, ListTable::Blacklist, key, "# spamtrap delivery: (...)", e);
//   std::string sql = "SELECT 1 FROM whitelist WHERE _whitelist IN (?,?,?,?) AND " + not_expired();
//   // bound to address_candidates(request), then NOW
// DESCRIPTION
//   The white- and blacklist tables (whitelist, blacklist, whitelist_sender,
//   blacklist_sender, ...) are read by their own checks and written by
//   others: spamtrap, HELO checks, auto-white/blacklisting, throttle and
//   distributed_origin. The rules for keys, expiry and writing live here
//   once:
//   - expiry(): the reference's expire(X) = NOW + X if X > 0, else 0 (never).
//   - not_expired(): a row with a non-zero _expire in the past no longer
//     matches (the reference never checked _expire; we fix that).
//   - add_list_entry(): one atomic INSERT ... ON DUPLICATE KEY UPDATE, so a
//     repeat or a concurrent insert by another daemon is never an error;
//     a permanent entry stays permanent, otherwise the later expiry wins.
//     Descriptions are cut to the column's 60 characters.
//   - address_candidates()/sender_candidates(): the literal keys the
//     reference compares (IP, a.b.c.%, a.b.%.%, a.%.%.%; @domain, address),
//     and recipient_candidates() for the recipient side of rcpt_acl.
//   - network_candidates(): the _cidr keys of every network that holds
//     the client, which CIDR rows of the IP lists match (ours).
//   - list_key(), list_client(), blacklist_client(): the key an automatic
//     entry is written under, host or netblock, and never '' (the
//     reference's '' matched every IPv6 client), and the write of that entry.
//   - after_decision(): a write whose failure must not change a verdict.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "db/session.h"
#include "policy/check.h"
#include "policy/checks/cidr_lengths.h"

namespace policyd {

// The order indexes list_entries.cpp's statements: append only.
enum class ListTable { Whitelist, Blacklist, WhitelistSender, BlacklistSender };

long long expiry(std::time_t now, long duration);

// SQL condition on a table with an _expire column; takes one parameter, NOW.
std::string not_expired();

// Inserts or refreshes one entry. Throws db::Error like any statement.
void add_list_entry(CheckContext& ctx, ListTable table, const std::string& key,
                    const std::string& description, long long expire);

// Runs `write`, which follows a decision already taken (spamtrap, HELO
// abuse, auto-white/blacklisting, a throttle's abuse flag or instance
// release, ...): a db::Error is logged as "warning: could not <what>: ..."
// and does not change the verdict (the reference turned some such
// failures into an accept). Returns whether the
// write succeeded, so a caller can skip what only makes sense after it.
bool after_decision(CheckContext& ctx, const std::string& what,
                    const std::function<void()>& write);

// add_list_entry() through after_decision().
bool add_list_entry_after_decision(CheckContext& ctx, ListTable table, const std::string& key,
                                   const std::string& description, long long expire);

// The whitelist/blacklist key for an automatic entry about this client.
// With `netblock` it is NET3, the "a.b.c.%" string the IP lists compare,
// or for IPv6 NET6, the GREYLIST_IPV6_PREFIX network as a CIDR row
// ("2001:db8:1:2::/64"); where there is neither (GREYLIST_HOSTADDR < 3,
// GREYLIST_IPV6_PREFIX 128) it is the address itself. The reference wrote
// "a.b.c.d.%" or "<ipv6>.%" (never matched) or '' (matched every
// IPv6 client).
std::string list_key(const Request& request, bool netblock);

// IP and its netblock strings, always four values for one prepared
// statement "IN (?,?,?,?)": unset netblocks repeat the IP instead of the
// reference's '' (which made a blank row match every IPv6 client).
std::vector<db::Param> address_candidates(const Request& request);

// The whitelist/blacklist _cidr keys (Cidr::key(), DATABASE.mysql) of the
// networks holding the client address, longest first, one for each
// prefix length of its family in `lengths` (CidrLengths::index()) and,
// for IPv6, GREYLIST_IPV6_PREFIX `ipv6_prefix` when below 128 (the
// daemon's own netblock entries); none when client_address is not an
// address. A CIDR row matches when its key is among them: an indexed "IN"
// instead of a scan of every row for "contains".
std::vector<db::Param> network_candidates(const Request& request, const CidrLengths::Set& lengths,
                                          int ipv6_prefix);

// "@domain" and the full sender, for "IN (?,?)". The null sender offers
// "@" and "<>", as in the reference.
std::vector<db::Param> sender_candidates(const Request& request);

// The full recipient and "@domain", for "IN (?,?)" (rcpt_acl).
std::vector<db::Param> recipient_candidates(const Request& request);

// What list_client() wrote: the expiry, which the callers log, and whether
// the write succeeded.
struct ClientEntry {
    long long expire;
    bool written;
};

// The automatic entry in `table` of a check that has decided about this
// client: list_key() with `description` and expiry(now, `duration`),
// written through after_decision().
ClientEntry list_client(CheckContext& ctx, ListTable table, bool netblock,
                        const std::string& description, long duration);

// list_client() into the blacklist, for a check that rejects this client;
// returns the expiry.
long long blacklist_client(CheckContext& ctx, bool netblock, const std::string& description,
                           long duration);

}  // namespace policyd
