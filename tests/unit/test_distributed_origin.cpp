// NAME
//   test_distributed_origin.cpp - what the distributed_origin check counts
// DESCRIPTION
//   The pure parts of the check: the origin of a client address (per
//   address or per /24 and /64 network), the key chosen by
//   DISTRIBUTED_ORIGIN_KEYS, and which blacklist_sender entry a refusal may
//   write, and how a key longer than the _key column is stored. The
//   database side is in tests/integration/test_distributed_origin.py.
#include <catch2/catch.hpp>

#include <set>

#include "policy/checks/distributed_origin.h"
#include "protocol/attributes.h"
#include "protocol/normalizer.h"

using namespace policyd;

namespace {

Request request(std::string sender, std::string sasl) {
    Request r;
    r.ip = "192.0.2.10";
    r.sender = r.sender_full = std::move(sender);
    r.sasl = r.sasl_full = std::move(sasl);
    return r;
}

}  // namespace

TEST_CASE("origin per address is the canonical address", "[distributed_origin]") {
    CHECK(distributed_origin_of("192.0.2.10", false) == "192.0.2.10");
    CHECK(distributed_origin_of("2001:db8:0:0:0:0:0:1", false) == "2001:db8::1");
    CHECK(distributed_origin_of("2001:DB8::1", false) == "2001:db8::1");
    CHECK(distributed_origin_of("::ffff:192.0.2.10", false) == "192.0.2.10");
}

TEST_CASE("origin per netblock is the /24 or /64 network", "[distributed_origin]") {
    CHECK(distributed_origin_of("192.0.2.10", true) == "192.0.2.0/24");
    CHECK(distributed_origin_of("192.0.2.255", true) == "192.0.2.0/24");
    CHECK(distributed_origin_of("198.51.100.1", true) == "198.51.100.0/24");
    CHECK(distributed_origin_of("10.0.0.1", true) == "10.0.0.0/24");
    CHECK(distributed_origin_of("2001:db8:1:2:3:4:5:6", true) == "2001:db8:1:2::/64");
    CHECK(distributed_origin_of("2001:db8:1:2::ffff", true) == "2001:db8:1:2::/64");
    CHECK(distributed_origin_of("2001:db8:1:3::1", true) == "2001:db8:1:3::/64");
    CHECK(distributed_origin_of("2001:db8::1", true) == "2001:db8::/64");
    CHECK(distributed_origin_of("::1", true) == "::/64");
    CHECK(distributed_origin_of("::ffff:192.0.2.77", true) == "192.0.2.0/24");
    // the longest form fits the 46-character _origin column
    CHECK(distributed_origin_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true) ==
          "ffff:ffff:ffff:ffff::/64");
    CHECK(distributed_origin_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", false).size() <= 46);
}

TEST_CASE("a value that is not an address has no origin", "[distributed_origin]") {
    for (bool netblock : {false, true}) {
        CHECK(distributed_origin_of("", netblock).empty());
        CHECK(distributed_origin_of("unknown", netblock).empty());
        CHECK(distributed_origin_of("192.0.2", netblock).empty());
        CHECK(distributed_origin_of("192.0.2.256", netblock).empty());
        CHECK(distributed_origin_of("fe80::1%eth0", netblock).empty());
        CHECK(distributed_origin_of("192.0.2.1 ", netblock).empty());
    }
}

TEST_CASE("key: both prefers the SASL user, else the sender", "[distributed_origin]") {
    CHECK(distributed_origin_key(request("alice@example.com", "alice"), "both") == "sasl=alice");
    CHECK(distributed_origin_key(request("alice@example.com", ""), "both") == "alice@example.com");
    CHECK(distributed_origin_key(request("<>", "alice"), "both") == "sasl=alice");
    CHECK(distributed_origin_key(request("<>", ""), "both").empty());
    CHECK(distributed_origin_key(request("", ""), "both").empty());
}

TEST_CASE("key: sasl counts SASL users only", "[distributed_origin]") {
    CHECK(distributed_origin_key(request("alice@example.com", "alice"), "sasl") == "sasl=alice");
    CHECK(distributed_origin_key(request("alice@example.com", ""), "sasl").empty());
}

TEST_CASE("key: sender counts envelope senders only", "[distributed_origin]") {
    CHECK(distributed_origin_key(request("alice@example.com", "alice"), "sender") ==
          "alice@example.com");
    CHECK(distributed_origin_key(request("alice@example.com", ""), "sender") == "alice@example.com");
    CHECK(distributed_origin_key(request("<>", "alice"), "sender").empty());
}

TEST_CASE("a SASL key never equals a sender key", "[distributed_origin]") {
    // the login is the address: still two keys, so forged mail from that
    // sender cannot add origins to the account
    const auto sasl = distributed_origin_key(request("", "alice@example.com"), "both");
    const auto sender = distributed_origin_key(request("alice@example.com", ""), "both");
    CHECK(sasl == "sasl=alice@example.com");
    CHECK(sasl != sender);
}

TEST_CASE("blacklist entry: the sender that is the key, or the account's own address",
          "[distributed_origin]") {
    auto entry = [](const Request& r, std::string_view keys) {
        return distributed_origin_blacklist_entry(r, distributed_origin_key(r, keys));
    };
    CHECK(entry(request("spam@example.com", ""), "sender") == "spam@example.com");
    CHECK(entry(request("alice@example.com", "alice@example.com"), "both") == "alice@example.com");
    // an abused account sending as somebody else blacklists nobody
    CHECK(entry(request("ceo@bank.example", "alice@example.com"), "both").empty());
    CHECK(entry(request("alice@example.com", "alice"), "both").empty());
    CHECK(entry(request("<>", "alice@example.com"), "sasl").empty());
    CHECK(entry(request("<>", ""), "both").empty());
}

namespace {

Request normalized(const std::string& sender, const std::string& sasl) {
    return normalize(Attributes("client_address=192.0.2.10\nsender=" + sender +
                                "\nsasl_username=" + sasl),
                     3, 128);
}

}  // namespace

TEST_CASE("long keys sharing the reference's cut stay distinct", "[distributed_origin]") {
    // sasl_username is cut to 50 characters in the reference's 64-byte row,
    // the sender to 57: keys made of the cut values merged.
    const std::string prefix(60, 'a');
    std::set<std::string> stored;
    for (int i = 0; i < 8; ++i) {
        const Request r = normalized("x@example.com", prefix + std::to_string(i));
        CHECK(r.sasl == std::string(50, 'a'));  // the cut value, for 1.x's tables
        const std::string key = distributed_origin_key(r, "sasl");
        CHECK(key == "sasl=" + prefix + std::to_string(i));
        const std::string s = distributed_origin_stored_key(key);
        CHECK(s.size() == 60);
        stored.insert(s);
        const Request sender = normalized(prefix + std::to_string(i) + "@example.com", "");
        stored.insert(distributed_origin_stored_key(distributed_origin_key(sender, "sender")));
    }
    CHECK(stored.size() == 16);
}

TEST_CASE("stored keys: short ones as they are, long ones as prefix and digest",
          "[distributed_origin]") {
    CHECK(distributed_origin_stored_key("sasl=alice") == "sasl=alice");
    const std::string sixty(60, 'b');
    CHECK(distributed_origin_stored_key(sixty) == sixty);
    const std::string s = distributed_origin_stored_key(sixty + "c");
    CHECK(s.size() == 60);
    CHECK(s.substr(0, 28) == std::string(27, 'b') + "#");
    // SHA-256("b" x 60 + "c"), first 128 bits (python3 hashlib): fixed, so
    // rows written by one daemon are found by another
    CHECK(s.substr(28) == "8846d85f60f9bfee0ab8c3b2b5515101");
    CHECK(distributed_origin_stored_key(sixty + "c") == s);
    CHECK(distributed_origin_stored_key(sixty + "d") != s);
}

TEST_CASE("a sender longer than the reference's cut is never blacklisted",
          "[distributed_origin]") {
    const Request r = normalized(std::string(70, 'l') + "@example.com", "");
    const std::string key = distributed_origin_key(r, "sender");
    CHECK(distributed_origin_blacklist_entry(r, key).empty());
    const Request short_one = normalized("alice@example.com", "");
    CHECK(distributed_origin_blacklist_entry(short_one, "alice@example.com") ==
          "alice@example.com");
}
