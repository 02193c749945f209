// NAME
//   cidr.h - IPv4 and IPv6 networks in CIDR notation (CONN_ACL, list rows)
// SYNOPSIS
//   #include "config/cidr.h"
//   std::optional<Cidr> c = Cidr::parse("192.168.0.0/24");
//   bool ok = acl_allows(config.conn_acl, peer);   // peer: sockaddr_storage
//   std::string k = Cidr::address("192.0.2.7")->network(24).key();  // "C0000200/24"
// DESCRIPTION
//   The reference never enforced CONN_ACL; we do. An entry
//   is "a.b.c.d", "a.b.c.d/n" (n 0..32), an IPv6 address or "addr/n"
//   (n 0..128); without "/n" it is a single host. Host bits below the prefix
//   are ignored ("10.1.2.3/8" is 10.0.0.0/8).
//
//   IPv4 peers of a dual-stack listener arrive as IPv4-mapped IPv6
//   (::ffff:a.b.c.d) and match IPv4 entries; a mapped entry such as
//   "::ffff:10.0.0.0/104" is stored as the IPv4 network it denotes.
//
//   The white- and blacklist tables match CIDR rows through key(), the
//   form of their generated _cidr column (DATABASE.mysql): the network's
//   bytes in upper-case hex, "/", the prefix length.
//
//   Cidr is a small value type; nothing refers to outside memory.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policyd {

struct Cidr {
    int family = AF_INET;               // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> addr{};  // network bytes; IPv4 uses the first 4
    int prefix = 32;                    // significant leading bits

    // Parses one entry; nullopt when it is not a valid address or prefix.
    static std::optional<Cidr> parse(std::string_view text);
    // A single address ("192.0.2.7", "2001:db8::1"), no "/n": a host
    // network (/32, /128); nullopt for anything else.
    static std::optional<Cidr> address(std::string_view text);

    // The network of the leading `bits` (at most prefix) of this one.
    Cidr network(int bits) const;

    // Whether `peer` (AF_INET or AF_INET6; anything else never matches) lies
    // inside this network.
    bool contains(const sockaddr* peer) const;

    // Canonical text, e.g. "192.168.0.0/24" or "2001:db8::/32".
    std::string str() const;
    // The whitelist/blacklist _cidr key, e.g. "C0A80000/24" or
    // "20010DB8000000000000000000000000/32".
    std::string key() const;

    bool operator==(const Cidr&) const = default;
};

// True when any entry contains the peer address.
bool acl_allows(const std::vector<Cidr>& acl, const sockaddr_storage& peer);

}  // namespace policyd
