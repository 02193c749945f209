// NAME
//   test_list_checks.cpp - the pure parts of the list lookups and rcpt_acl
// DESCRIPTION
//   Lookup keys, switches, the lists' row lookups, the WHITELISTNULL
//   shortcut and the parameters of rcpt_acl's read, without a database (the session
//   is never connected; a test that reached it would fail with db::Error).
//   The SQL side (rcpt_acl's ranking among them) is covered by the
//   conformance scenarios and tests/integration/test_lists.py.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <string>
#include <vector>

#include "db/session.h"
#include "policy/checks/cidr_lengths.h"
#include "policy/checks/list_checks.h"
#include "policy/checks/list_entries.h"
#include "policy/checks/rcpt_acl.h"

using namespace policyd;

namespace {

Request ipv4_request() {
    Request r;
    r.ip = "192.0.2.10";
    r.net3 = "192.0.2.%";
    r.net2 = "192.0.%.%";
    r.net1 = "192.%.%.%";
    r.name = "mail.example.com";
    r.sender = "alice@example.com";
    r.sdom = "example.com";
    r.rcpt = "bob@example.org";
    r.rdom = "example.org";
    return r;
}

std::vector<db::Param> strings(std::initializer_list<const char*> values) {
    return {values.begin(), values.end()};
}

// A context whose decision lines are collected instead of logged.
class RecordingContext final : public CheckContext {
public:
    RecordingContext(const Request& r, const Config& c, db::Session& s)
        : CheckContext(r, c, s, 1000, 1, 7) {}
    void log_decision_tail(std::string_view token, std::string_view) override {
        tokens.emplace_back(token);
    }
    std::vector<std::string> tokens;
};

}  // namespace

TEST_CASE("IP lists look up the address and its three netblock strings", "[lists]") {
    CHECK(kWhitelist.keys(ipv4_request()) ==
          strings({"192.0.2.10", "192.0.2.%", "192.0.%.%", "192.%.%.%"}));
    CHECK(kBlacklist.keys(ipv4_request()) == kWhitelist.keys(ipv4_request()));
}

TEST_CASE("an IPv6 client offers only its address, never a blank key", "[lists]") {
    Request r;
    r.ip = "2001:db8::25";
    const auto keys = kBlacklist.keys(r);
    CHECK(keys == strings({"2001:db8::25", "2001:db8::25", "2001:db8::25", "2001:db8::25"}));
    CHECK(std::find(keys.begin(), keys.end(), db::Param{std::string()}) == keys.end());
}

TEST_CASE("sender lists look up @domain and the address; bounces offer @ and <>", "[lists]") {
    CHECK(kWhitelistSender.keys(ipv4_request()) == strings({"@example.com", "alice@example.com"}));
    Request bounce = ipv4_request();
    bounce.sender = "<>";
    bounce.sdom = "";
    CHECK(kBlacklistSender.keys(bounce) == strings({"@", "<>"}));
}

TEST_CASE("recipient candidates are the address and @domain", "[lists]") {
    CHECK(recipient_candidates(ipv4_request()) == strings({"bob@example.org", "@example.org"}));
}

TEST_CASE("dnsname lists look up client_name, never 'unknown'", "[lists]") {
    Request r = ipv4_request();
    CHECK(kWhitelistDnsname.keys(r) == strings({"mail.example.com"}));
    r.name = "unknown";
    CHECK(kWhitelistDnsname.keys(r).empty());
    CHECK(kBlacklistDnsname.keys(r).empty());
    r.name = "";  // as the reference: an empty name is still looked up
    CHECK(kBlacklistDnsname.keys(r) == strings({""}));
}

TEST_CASE("sender and dnsname lists need their parent switch", "[lists]") {
    Config c;
    c.whitelistsender = c.whitelistdnsname = c.blacklistsender = c.blacklistdnsname = 1;
    for (const ListSpec* spec : {&kWhitelist, &kWhitelistSender, &kWhitelistDnsname, &kBlacklist,
                                 &kBlacklistSender, &kBlacklistDnsname})
        CHECK_FALSE(spec->enabled(c));
    c.whitelisting = 1;
    CHECK(kWhitelistSender.enabled(c));
    CHECK(kWhitelistDnsname.enabled(c));
    CHECK_FALSE(kBlacklistSender.enabled(c));
    c.blacklisting = 2;  // only exactly 1 switches a module on
    CHECK_FALSE(kBlacklist.enabled(c));
    c.blacklisting = 1;
    CHECK(kBlacklistSender.enabled(c));
    c.blacklistsender = 0;
    CHECK_FALSE(kBlacklistSender.enabled(c));
    CHECK(kBlacklistDnsname.enabled(c));
}

TEST_CASE("whitelists accept, blacklists reject", "[lists]") {
    for (const ListSpec* spec : {&kWhitelist, &kWhitelistSender, &kWhitelistDnsname})
        CHECK(spec->on_match == Decision::Accept);
    for (const ListSpec* spec : {&kBlacklist, &kBlacklistSender, &kBlacklistDnsname})
        CHECK(spec->on_match == Decision::Blacklist);
}

TEST_CASE("WHITELISTNULL whitelists the null sender only", "[lists]") {
    Config c;
    Request r = ipv4_request();
    r.sender = "<>";
    CHECK_FALSE(null_sender_whitelisted(r, c));
    c.whitelistnull = 1;
    CHECK(null_sender_whitelisted(r, c));
    r.sender = "ab";  // the reference's strlen()==2 took this for a bounce
    CHECK_FALSE(null_sender_whitelisted(r, c));
}

TEST_CASE("the WHITELISTNULL shortcut accepts without a lookup", "[lists]") {
    Config c;
    c.whitelisting = c.whitelistnull = 1;
    Request r = ipv4_request();
    r.sender = "<>";
    db::Session unconnected{db::Settings{}};
    RecordingContext ctx(r, c, unconnected);
    CHECK(WhitelistCheck().run(ctx) == Decision::Accept);
    CHECK(ctx.tokens == std::vector<std::string>{"whitelist=update"});
}

TEST_CASE("rcpt_acl reads its deciding row as a carried select", "[rcpt_acl]") {
    Config c;
    c.rcpt_acl = 1;
    const Request r = ipv4_request();
    db::Session unconnected{db::Settings{}};
    RecordingContext ctx(r, c, unconnected);
    const auto select = RcptAclCheck().carried_select(ctx);
    REQUIRE(select);
    CHECK(select->width == 1);
    CHECK(select->joins.empty());
    // the sender's candidates, the recipient's, then the recipient and the
    // sender again for the tie-break by exactness
    CHECK(select->column_params ==
          std::vector<db::Param>{std::string("@example.com"), std::string("alice@example.com"),
                                 std::string("bob@example.org"), std::string("@example.org"),
                                 std::string("bob@example.org"), std::string("alice@example.com")});
    CHECK(select->columns.find(
              "ORDER BY acl._priority DESC, acl._rcpt = ? DESC, acl._sender = ? DESC") !=
          std::string::npos);
}

TEST_CASE("a list's row lookup is its match on the request's keys, live rows only", "[lists]") {
    Config c;
    const Request r = ipv4_request();  // the context keeps a reference
    db::Session unconnected{db::Settings{}};
    RecordingContext ctx(r, c, unconnected);
    for (const ListSpec* spec : {&kWhitelistSender, &kWhitelistDnsname, &kBlacklistSender,
                                 &kBlacklistDnsname}) {
        const auto lookup = ListLookupCheck(*spec).row_lookup(ctx);
        REQUIRE(lookup);
        CHECK(std::string(lookup->table) == spec->table);
        CHECK(lookup->condition == std::string(spec->match) + " AND " + not_expired());
        auto expected = spec->keys(ipv4_request());
        expected.emplace_back(1000LL);  // NOW, for not_expired()
        CHECK(lookup->params == expected);
    }
}

TEST_CASE("a list the request cannot match asks nothing and does not match", "[lists]") {
    Config c;
    c.whitelisting = c.whitelistdnsname = 1;
    Request unresolved = ipv4_request();
    unresolved.name = "unknown";
    db::Session unconnected{db::Settings{}};  // any statement would throw db::Error
    RecordingContext ctx(unresolved, c, unconnected);
    CHECK_FALSE(ListLookupCheck(kWhitelistDnsname).row_lookup(ctx));
    CHECK(ListLookupCheck(kWhitelistDnsname).run(ctx) == Decision::Continue);
    CHECK(ctx.tokens.empty());
    // One that can match asks the database (here: fails, as it is not connected).
    CHECK_THROWS_AS(WhitelistCheck().run(ctx), db::Error);
}

TEST_CASE("the IP lists' candidates are the client's networks of the lengths in use", "[lists]") {
    CidrLengths::Set all;
    all.set();  // every length of both families
    const auto keys = network_candidates(ipv4_request(), all, 128);  // 192.0.2.10
    REQUIRE(keys.size() == 33);
    CHECK(keys.front() == db::Param{"C000020A/32"});
    CHECK(keys[8] == db::Param{"C0000200/24"});
    CHECK(keys[31] == db::Param{"80000000/1"});
    CHECK(keys.back() == db::Param{"00000000/0"});
    Request v6;
    v6.ip = "2001:db8:aa::25";
    const auto v6_keys = network_candidates(v6, all, 128);
    REQUIRE(v6_keys.size() == 129);
    CHECK(v6_keys.front() == db::Param{"20010DB800AA00000000000000000025/128"});
    CHECK(v6_keys[128 - 48] == db::Param{"20010DB800AA00000000000000000000/48"});

    // Only the lengths the table's rows use, of the client's own family.
    CidrLengths::Set used;
    used.set(CidrLengths::index(AF_INET, 24));
    used.set(CidrLengths::index(AF_INET, 16));
    used.set(CidrLengths::index(AF_INET6, 48));
    CHECK(network_candidates(ipv4_request(), used, 128) ==
          strings({"C0000200/24", "C0000000/16"}));
    CHECK(network_candidates(v6, used, 128) == strings({"20010DB800AA00000000000000000000/48"}));
    // GREYLIST_IPV6_PREFIX: the daemon's own netblock entries, asked for even before a refresh
    CHECK(network_candidates(v6, used, 64) == strings({"20010DB800AA00000000000000000000/64",
                                                       "20010DB800AA00000000000000000000/48"}));
    CHECK(network_candidates(ipv4_request(), CidrLengths::Set{}, 64).empty());
    CHECK(network_candidates(v6, CidrLengths::Set{}, 128).empty());

    Request no_address = ipv4_request();
    for (const char* ip : {"", "unknown", "192.0.2.0/24"}) {
        no_address.ip = ip;
        INFO(ip);
        CHECK(network_candidates(no_address, all, 64).empty());
    }
}

TEST_CASE("the length sets of both families do not overlap", "[lists]") {
    CHECK(CidrLengths::index(AF_INET, 0) == 0);
    CHECK(CidrLengths::index(AF_INET, 32) == 32);
    CHECK(CidrLengths::index(AF_INET6, 0) == 33);
    CHECK(CidrLengths::index(AF_INET6, 128) == CidrLengths::Set{}.size() - 1);
}
