// NAME
//   test_list_keys.cpp - the key of an automatic white- or blacklist entry
// DESCRIPTION
//   list_key() decides what spamtrap, blacklist_helo, helo and greylist's
//   auto-white/blacklisting write; the reference wrote "a.b.c.d.%"
//   or '' in netblock mode.
#include <catch2/catch.hpp>

#include "policy/checks/list_entries.h"

using namespace policyd;

namespace {

Request client(const std::string& ip, const std::string& net3) {
    Request r;
    r.ip = ip;
    r.net3 = net3;
    return r;
}

}  // namespace

TEST_CASE("host mode always writes the address", "[list_entries]") {
    CHECK(list_key(client("192.0.2.10", "192.0.2.%"), false) == "192.0.2.10");
    CHECK(list_key(client("2001:db8::5", ""), false) == "2001:db8::5");
}

TEST_CASE("netblock mode writes the /24 string the blacklist compares", "[list_entries]") {
    CHECK(list_key(client("192.0.2.10", "192.0.2.%"), true) == "192.0.2.%");
    CHECK(list_key(client("::ffff:192.0.2.10", "::ffff:192.0.2.%"), true) ==
          "::ffff:192.0.2.%");
}

TEST_CASE("netblock mode writes an IPv6 client's GREYLIST_IPV6_PREFIX network", "[list_entries]") {
    Request r = client("2001:db8:1:2::5", "");
    r.net6 = "2001:db8:1:2::/64";
    CHECK(list_key(r, true) == "2001:db8:1:2::/64");
    CHECK(list_key(r, false) == "2001:db8:1:2::5");
}

TEST_CASE("netblock mode without a /24 string falls back to the address, never ''",
          "[list_entries]") {
    // IPv6 has no NET3 (nor NET6 with GREYLIST_IPV6_PREFIX 128); GREYLIST_HOSTADDR 1 or 2
    // leaves NET3 unset for IPv4
    CHECK(list_key(client("2001:db8::5", ""), true) == "2001:db8::5");
    CHECK(list_key(client("192.0.2.10", ""), true) == "192.0.2.10");
}
