// NAME
//   list_entries.h - what several checks share about the list tables
// SYNOPSIS
//   #include "policy/checks/list_entries.h"
//   long long e = expiry(ctx.now, ctx.config.spamtrap_auto_expire);
//   add_list_entry(ctx, ListTable::Blacklist, key, "# spamtrap delivery: (...)", e);
//   ctx.db.query_int("SELECT COUNT(*) FROM whitelist WHERE _whitelist IN (?,?,?,?) AND "
//                    + not_expired(), with_now(ctx, address_candidates(ctx.request)));
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
//     Descriptions are cut to the column's 60 characters (reference Q12).
//   - write_after_decision(): a side-effect write that follows a verdict
//     (a list entry, a triplet clean-up) never changes that verdict; its
//     failure is logged (reference Q11 turned it into an accept).
//   - address_candidates()/sender_candidates(): the literal keys the
//     reference compares (IP, a.b.c.%, a.b.%.%, a.%.%.%; @domain, address).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "db/session.h"
#include "policy/check.h"

namespace policyd {

enum class ListTable { Whitelist, Blacklist, WhitelistSender, BlacklistSender };

long long expiry(std::time_t now, long duration);

// SQL condition on a table with an _expire column; takes one parameter, NOW.
std::string not_expired();

// Inserts or refreshes one entry. Throws db::Error like any statement.
void add_list_entry(CheckContext& ctx, ListTable table, const std::string& key,
                    const std::string& description, long long expire);

// Runs `write` (statements that follow a decision already taken: spamtrap,
// HELO abuse, auto-white/blacklisting, ...). A db::Error is logged as
// "warning: could not <what>: <error>" and does not change the verdict
// (reference Q11 turned such failures into an accept). Returns whether the
// write succeeded, so a caller can skip what only makes sense after it.
bool write_after_decision(CheckContext& ctx, const std::string& what,
                          const std::function<void()>& write);

// add_list_entry() through write_after_decision().
bool add_list_entry_after_decision(CheckContext& ctx, ListTable table, const std::string& key,
                                   const std::string& description, long long expire);

// IP and its netblock strings, always four values for one prepared
// statement "IN (?,?,?,?)": unset netblocks repeat the IP instead of the
// reference's '' (which made a blank row match every IPv6 client, Q5).
std::vector<db::Param> address_candidates(const Request& request);

// "@domain" and the full sender, for "IN (?,?)". The null sender offers
// "@" and "<>", as in the reference.
std::vector<db::Param> sender_candidates(const Request& request);

// `params` followed by NOW, for a condition built with not_expired().
std::vector<db::Param> with_now(const CheckContext& ctx, std::vector<db::Param> params);

}  // namespace policyd
