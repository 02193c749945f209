// NAME
//   normalizer.h - turn request attributes into the reference's database keys
// SYNOPSIS
//   #include "protocol/normalizer.h"
//
//   Request r = normalize(Attributes(text), config.greylist_hostaddr,
//                         config.greylist_ipv6_prefix);
// DESCRIPTION
//   Produces exactly the strings the reference policyd stored in and
//   looked up from MySQL, so existing databases keep matching:
//
//   - Each value is first capped as the reference's 64-byte line row
//     capped it: at 63 - len(name) bytes (sender 57, recipient 54,
//     helo_name 54, client_name 52, sasl_username 50, instance 55,
//     size 59, client_address 49).
//   - It is then lower-cased (ASCII) and, except for client_address,
//     passed through the reference's extract() filter, which deletes every
//     byte that is not an ASCII letter or digit or one of "@|.:_-/ ".
//   - client_address is not filtered: queries bind it, so it is safe, and
//     the reference stored it raw (and pasted it into SQL unfiltered; bound
//     parameters fix that).
//   - An empty sender (or one that filters to nothing) becomes "<>"; an
//     absent one stays "". SDOM and RDOM are what follows the last '@' of
//     sender and recipient; without '@' they are empty.
//   - GHOST and NET1..3 come from scanning client_address for the
//     characters 0-9 a-f . : only, see Request.
//
//   greylist_hostaddr is GREYLIST_HOSTADDR; values outside 1..4 count as 3,
//   as in the reference's policyd.c:main.
//
//   greylist_ipv6_prefix is GREYLIST_IPV6_PREFIX (ours; 128 keeps the
//   reference's keys): below 128, an IPv6 client address yields NET6, its
//   network of that many leading bits in canonical CIDR text, which is
//   then also GHOST, so a pool retrying from another address of its /64
//   finds its triplet. IPv4 clients, IPv4-mapped IPv6 addresses (which the
//   reference's octet scan handles) and anything that is not an address
//   keep the reference's keys.
//
//   Ownership and lifetime: the Request owns copies of everything; the
//   Attributes (and the text behind them) may go away afterwards.
#pragma once

#include "protocol/attributes.h"
#include "protocol/request.h"

namespace policyd {

Request normalize(const Attributes& attrs, int greylist_hostaddr, int greylist_ipv6_prefix);

}  // namespace policyd
