// NAME
//   test_cidr.cpp - unit tests of the CONN_ACL networks and the list rows' keys
// SYNOPSIS
//   tests/unit/unit_tests "[cidr]"
// DESCRIPTION
//   Entry syntax (IPv4, IPv6, prefixes, rejects), canonical text, and
//   matching of IPv4, IPv6 and IPv4-mapped IPv6 peers; single addresses,
//   narrowing to a network and the _cidr key the white- and blacklist
//   tables generate (DATABASE.mysql; tests/integration/test_lists.py
//   checks that both sides agree).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

#include "config/cidr.h"

using policyd::acl_allows;
using policyd::Cidr;

namespace {

sockaddr_storage peer(const char* text) {
    sockaddr_storage ss{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else {
        REQUIRE(inet_pton(AF_INET6, text, &v6->sin6_addr) == 1);
        v6->sin6_family = AF_INET6;
    }
    return ss;
}

bool contains(const char* entry, const char* address) {
    const auto cidr = Cidr::parse(entry);
    REQUIRE(cidr);
    const sockaddr_storage ss = peer(address);
    return cidr->contains(reinterpret_cast<const sockaddr*>(&ss));
}

}  // namespace

TEST_CASE("CIDR entries parse to canonical networks", "[cidr]") {
    CHECK(Cidr::parse("127.0.0.1")->str() == "127.0.0.1/32");
    CHECK(Cidr::parse("192.168.0.0/24")->str() == "192.168.0.0/24");
    CHECK(Cidr::parse("10.1.2.3/8")->str() == "10.0.0.0/8");
    CHECK(Cidr::parse("0.0.0.0/0")->str() == "0.0.0.0/0");
    CHECK(Cidr::parse("::1")->str() == "::1/128");
    CHECK(Cidr::parse("2001:db8::1/32")->str() == "2001:db8::/32");
    CHECK(Cidr::parse("2001:DB8::/32")->family == AF_INET6);
    // An IPv4-mapped entry is the IPv4 network it denotes.
    const auto mapped = Cidr::parse("::ffff:10.0.0.0/104");
    REQUIRE(mapped);
    CHECK(mapped->family == AF_INET);
    CHECK(mapped->str() == "10.0.0.0/8");
}

TEST_CASE("invalid CIDR entries are refused", "[cidr]") {
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/33", "1.2.3.4/",
                            "1.2.3.4/-1", "1.2.3.4/8x", "1.2.3.4/0008", "::1/129", "localhost",
                            "[::1]", "1.2.3.4/8/8", "fe80::1%eth0"}) {
        INFO(bad);
        CHECK_FALSE(Cidr::parse(bad));
    }
}

TEST_CASE("IPv4 networks match IPv4 peers by prefix", "[cidr]") {
    CHECK(contains("127.0.0.1", "127.0.0.1"));
    CHECK_FALSE(contains("127.0.0.1", "127.0.0.2"));
    CHECK(contains("192.168.0.0/24", "192.168.0.255"));
    CHECK_FALSE(contains("192.168.0.0/24", "192.168.1.0"));
    CHECK(contains("192.168.0.128/25", "192.168.0.200"));
    CHECK_FALSE(contains("192.168.0.128/25", "192.168.0.100"));
    CHECK(contains("10.0.0.0/9", "10.127.255.255"));
    CHECK_FALSE(contains("10.0.0.0/9", "10.128.0.0"));
    CHECK(contains("0.0.0.0/0", "203.0.113.9"));
    CHECK_FALSE(contains("0.0.0.0/0", "2001:db8::1"));
}

TEST_CASE("IPv6 networks match IPv6 peers by prefix", "[cidr]") {
    CHECK(contains("::1", "::1"));
    CHECK_FALSE(contains("::1", "::2"));
    CHECK(contains("2001:db8::/32", "2001:db8:ffff::1"));
    CHECK_FALSE(contains("2001:db8::/32", "2001:db9::1"));
    CHECK(contains("2001:db8:0:80::/57", "2001:db8:0:ff::1"));
    CHECK_FALSE(contains("2001:db8:0:80::/57", "2001:db8:0:7f::1"));
    CHECK_FALSE(contains("::1", "127.0.0.1"));
}

TEST_CASE("IPv4-mapped IPv6 peers match IPv4 entries", "[cidr]") {
    CHECK(contains("127.0.0.1", "::ffff:127.0.0.1"));
    CHECK(contains("192.168.0.0/24", "::ffff:192.168.0.7"));
    CHECK_FALSE(contains("192.168.0.0/24", "::ffff:192.168.1.7"));
    // A mapped peer is an IPv4 client, not one of the IPv6 networks.
    CHECK_FALSE(contains("::/0", "::ffff:192.168.0.7"));
    CHECK(contains("::ffff:10.0.0.0/104", "10.20.30.40"));
}

TEST_CASE("acl_allows accepts a peer inside any entry", "[cidr]") {
    const std::vector<Cidr> acl = {*Cidr::parse("127.0.0.1"), *Cidr::parse("::1"),
                                   *Cidr::parse("192.168.0.0/24")};
    CHECK(acl_allows(acl, peer("127.0.0.1")));
    CHECK(acl_allows(acl, peer("::1")));
    CHECK(acl_allows(acl, peer("192.168.0.42")));
    CHECK(acl_allows(acl, peer("::ffff:192.168.0.42")));
    CHECK_FALSE(acl_allows(acl, peer("192.168.2.42")));
    CHECK_FALSE(acl_allows(acl, peer("2001:db8::1")));
    CHECK_FALSE(acl_allows({}, peer("127.0.0.1")));

    sockaddr_storage unix_peer{};
    unix_peer.ss_family = AF_UNIX;
    CHECK_FALSE(acl_allows(acl, unix_peer));
}

TEST_CASE("an address is a host network; a network or anything else is not an address", "[cidr]") {
    CHECK(Cidr::address("192.0.2.7")->str() == "192.0.2.7/32");
    CHECK(Cidr::address("2001:db8::1")->str() == "2001:db8::1/128");
    CHECK(Cidr::address("::ffff:192.0.2.7")->str() == "192.0.2.7/32");
    for (const char* bad : {"", "192.0.2.0/24", "2001:db8::/32", "192.0.2.%", "unknown",
                            "fe80::1%eth0"}) {
        INFO(bad);
        CHECK_FALSE(Cidr::address(bad));
    }
}

TEST_CASE("network() keeps the leading bits and clears the rest", "[cidr]") {
    const Cidr host = *Cidr::address("203.0.113.77");
    CHECK(host.network(24).str() == "203.0.113.0/24");
    CHECK(host.network(27).str() == "203.0.113.64/27");
    CHECK(host.network(0).str() == "0.0.0.0/0");
    CHECK(host.network(40).str() == "203.0.113.77/32");  // never wider than it is
    const Cidr v6 = *Cidr::address("2001:db8:aa:bb:cc:dd:ee:ff");
    CHECK(v6.network(64).str() == "2001:db8:aa:bb::/64");
    CHECK(v6.network(47).str() == "2001:db8:aa::/47");
    CHECK(v6.network(50).str() == "2001:db8:aa::/50");
    CHECK(Cidr::parse("10.0.0.0/8")->network(16).str() == "10.0.0.0/8");
}

TEST_CASE("key() is the hex network and prefix of the tables' _cidr column", "[cidr]") {
    CHECK(Cidr::parse("203.0.113.0/24")->key() == "CB007100/24");
    CHECK(Cidr::parse("10.1.2.3/8")->key() == "0A000000/8");
    CHECK(Cidr::parse("0.0.0.0/0")->key() == "00000000/0");
    CHECK(Cidr::address("192.0.2.255")->key() == "C00002FF/32");
    CHECK(Cidr::parse("2001:db8:aa::/48")->key() == "20010DB800AA00000000000000000000/48");
    CHECK(Cidr::parse("2001:DB8:AB::1/47")->key() == "20010DB800AA00000000000000000000/47");
    CHECK(Cidr::parse("::/0")->key() == "00000000000000000000000000000000/0");
}
