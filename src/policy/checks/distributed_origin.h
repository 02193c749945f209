// NAME
//   distributed_origin.h - refuse a sender or SASL user seen from too many places
// SYNOPSIS
//   #include "policy/checks/distributed_origin.h"
//   std::string key = distributed_origin_key(request, config.distributed_origin_keys);
//   std::string origin = distributed_origin_of(request.ip, config.distributed_origin_netblock == 1);
// DESCRIPTION
//   Ours, not the reference's: an account that sends from
//   many different client addresses within a short time is a stolen account
//   used by a botnet. Every request records its (key, origin) pair; once a
//   key has more than DISTRIBUTED_ORIGIN_LIMIT distinct origins seen within
//   the last DISTRIBUTED_ORIGIN_TIME seconds, every request for that key is
//   refused until enough of its origins age out (docs/DISTRIBUTED_ORIGIN.md).
//
//   Table: distributed_origin (and blacklist_sender when
//   DISTRIBUTED_ORIGIN_BLACKLIST=1). Log tokens: distributed_origin=new
//   (origin not yet recorded for the key), =update (known origin),
//   =block with ", origins=<n>", and =bypass|failed via the pipeline.
//
//   The pure helpers below decide what is counted; they are unit-tested.
#pragma once

#include <string>
#include <string_view>

#include "policy/check.h"

namespace policyd {

// The key whose origins are counted, or "" when the request is exempt.
// `keys` is DISTRIBUTED_ORIGIN_KEYS: "sasl" (SASL users only), "sender"
// (envelope senders only) or "both" (the SASL user when there is one, else
// the sender). A SASL user is stored as "sasl=<user>": '=' never survives
// the request filter, so a forged envelope sender can never add origins to
// an account. The null sender and empty values are exempt. Keys are made
// of the whole values (Request::sender_full, sasl_full), not the reference's
// cut ones, so long keys sharing a prefix stay apart.
std::string distributed_origin_key(const Request& request, std::string_view keys);

// What distributed_origin._key (char(60)) holds for `key`: the key itself
// when it fits, else its first 27 characters, '#' and 32 hex digits of its
// SHA-256 (exactly 60 characters, distinct for distinct keys).
std::string distributed_origin_stored_key(const std::string& key);

// The origin of a client address: the canonical address, or with
// `netblock` its network "a.b.c.0/24" (IPv4) or "<prefix>::/64" (IPv6).
// IPv4-mapped IPv6 addresses count as IPv4. "" when `ip` is not an address.
std::string distributed_origin_of(std::string_view ip, bool netblock);

// The blacklist_sender entry a refusal adds (DISTRIBUTED_ORIGIN_BLACKLIST),
// or "" for none: the envelope sender when it is the key, or when the key is
// a SASL user whose login is that same address. A SASL account abused with
// other senders blacklists nothing, so it cannot be used to blacklist
// third-party addresses; nor does a sender longer than the reference's cut
// (its blacklist_sender entry would match every sender sharing the cut).
std::string distributed_origin_blacklist_entry(const Request& request, const std::string& key);

class DistributedOriginCheck final : public Check {
public:
    std::string_view name() const override { return "distributed_origin"; }
    bool enabled(const Config& config) const override { return config.distributed_origin == 1; }
    Decision run(CheckContext& ctx) const override;
};

}  // namespace policyd
