// NAME
//   cidr.cpp - IPv4 and IPv6 networks in CIDR notation (see cidr.h)
// SYNOPSIS
//   #include "config/cidr.h"
// DESCRIPTION
//   See cidr.h. Matching compares the leading `prefix` bits of the network
//   bytes; inet_pton does the address syntax, so only canonical dotted quads
//   and RFC 4291 IPv6 text are accepted.
#include "config/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace policyd {

namespace {

constexpr std::uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, int bits) {
    const int bytes = bits / 8;
    if (std::memcmp(a, b, bytes) != 0) return false;
    const int rest = bits % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

void clear_host_bits(std::array<std::uint8_t, 16>& addr, int bits) {
    for (int i = 0; i < 16; ++i) {
        const int keep = std::clamp(bits - 8 * i, 0, 8);
        addr[i] &= static_cast<std::uint8_t>(0xff00 >> keep);
    }
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
    const std::size_t slash = text.find('/');
    const std::string address(text.substr(0, slash));
    Cidr c;
    if (inet_pton(AF_INET, address.c_str(), c.addr.data()) == 1) {
        c.family = AF_INET;
        c.prefix = 32;
    } else if (inet_pton(AF_INET6, address.c_str(), c.addr.data()) == 1) {
        c.family = AF_INET6;
        c.prefix = 128;
    } else {
        return std::nullopt;
    }
    if (slash != std::string_view::npos) {
        const std::string_view len = text.substr(slash + 1);
        if (len.empty() || len.size() > 3 ||
            !std::all_of(len.begin(), len.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
            return std::nullopt;
        const int n = std::stoi(std::string(len));
        if (n > c.prefix) return std::nullopt;
        c.prefix = n;
    }
    if (c.family == AF_INET6 && c.prefix >= 96 &&
        std::memcmp(c.addr.data(), v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
        std::memmove(c.addr.data(), c.addr.data() + 12, 4);
        std::fill(c.addr.begin() + 4, c.addr.end(), 0);
        c.family = AF_INET;
        c.prefix -= 96;
    }
    clear_host_bits(c.addr, c.prefix);
    return c;
}

std::optional<Cidr> Cidr::address(std::string_view text) {
    if (text.find('/') != std::string_view::npos) return std::nullopt;
    return parse(text);
}

Cidr Cidr::network(int bits) const {
    Cidr c = *this;
    c.prefix = std::clamp(bits, 0, prefix);
    clear_host_bits(c.addr, c.prefix);
    return c;
}

bool Cidr::contains(const sockaddr* peer) const {
    const std::uint8_t* bytes = nullptr;
    int peer_family = peer->sa_family;
    if (peer_family == AF_INET) {
        bytes = reinterpret_cast<const std::uint8_t*>(
            &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr);
    } else if (peer_family == AF_INET6) {
        bytes = reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr.s6_addr;
        if (std::memcmp(bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
            bytes += 12;
            peer_family = AF_INET;
        }
    } else {
        return false;
    }
    return peer_family == family && prefix_equal(bytes, addr.data(), prefix);
}

std::string Cidr::str() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(family, addr.data(), buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(prefix);
}

std::string Cidr::key() const {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const std::size_t bytes = family == AF_INET ? 4 : 16;
    std::string k;
    k.reserve(2 * bytes + 4);
    for (std::size_t i = 0; i < bytes; ++i) {
        k.push_back(kHex[addr[i] >> 4]);
        k.push_back(kHex[addr[i] & 0xf]);
    }
    return k + "/" + std::to_string(prefix);
}

bool acl_allows(const std::vector<Cidr>& acl, const sockaddr_storage& peer) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&peer);
    return std::any_of(acl.begin(), acl.end(), [sa](const Cidr& c) { return c.contains(sa); });
}

}  // namespace policyd
