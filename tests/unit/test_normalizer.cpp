// NAME
//   test_normalizer.cpp - unit tests for the reference's database keys
// SYNOPSIS
//   Part of tests/unit/unit_tests (Catch2).
// DESCRIPTION
//   The reference's sanitiser, GREYLIST_HOSTADDR and host-key examples, the
//   conformance proto-* values, the per-attribute length caps, the "<>"
//   rules and the netblock / host keys for every GREYLIST_HOSTADDR, and
//   the IPv6 network key of GREYLIST_IPV6_PREFIX.
#include <catch2/catch.hpp>

#include <string>

#include "protocol/attributes.h"
#include "protocol/normalizer.h"

using policyd::Attributes;
using policyd::Request;

namespace {

// GREYLIST_HOSTADDR 3 and GREYLIST_IPV6_PREFIX 128: the keys when neither is set.
Request norm(const std::string& text, int hostaddr = 3, int ipv6_prefix = 128)
{
    return policyd::normalize(Attributes(text), hostaddr, ipv6_prefix);
}

std::string sender_of(const std::string& value) { return norm("sender=" + value).sender; }

}  // namespace

TEST_CASE("the reference's sanitiser examples of request values", "[normalizer]")
{
    CHECK(sender_of("Alice+Tag'; DROP--@Ex-ample.COM") == "alicetag drop--@ex-ample.com");
    CHECK(norm("sasl_username=User.Name+x").sasl == "user.namex");
    CHECK(norm("helo_name=[192.168.0.2]").helo == "192.168.0.2");
    CHECK(sender_of("prvs=1234=u@d") == "prvs1234u@d");

    const Request r = norm("sender=" + std::string(70, 'a') + "@example.com");
    CHECK(r.sender == std::string(57, 'a'));
    CHECK(r.sdom.empty());  // the '@' fell past column 63
}

TEST_CASE("the reference's sanitiser examples of module keys", "[normalizer]")
{
    CHECK(sender_of("User+Tag@Example.COM") == "usertag@example.com");
    CHECK(norm("helo_name=[192.0.2.10]").helo == "192.0.2.10");
    CHECK(norm("helo_name=[IPv6:2001:db8::1]").helo == "ipv6:2001:db8::1");
    CHECK(sender_of("o'neil@x") == "oneil@x");
}

TEST_CASE("the character filter of the conformance scenarios", "[normalizer]")
{
    // proto-02, proto-10, proto-11
    const Request r = norm("sender=O'Brien+News@Example.com\nrecipient=x%y!z=w@example.org\n"
                           "client_name=MAIL.Example.COM");
    CHECK(r.sender == "obriennews@example.com");
    CHECK(r.rcpt == "xyzw@example.org");
    CHECK(r.name == "mail.example.com");
    CHECK(sender_of("j\xc3\xbcrgen@ex\xc3\xa4mple.com") == "jrgen@exmple.com");
}

TEST_CASE("the filter keeps exactly letters, digits and @|.:_-/ space", "[normalizer]")
{
    std::string all;
    for (int c = 1; c < 256; ++c)
        if (c != '\n' && c != '\r')
            all.push_back(static_cast<char>(c));
    // instance is capped at 55 bytes, so feed the bytes in 55-byte slices.
    std::string kept;
    for (std::size_t i = 0; i < all.size(); i += 55)
        kept += norm("instance=" + all.substr(i, 55)).instance;
    CHECK(kept == " -./0123456789:@abcdefghijklmnopqrstuvwxyz_abcdefghijklmnopqrstuvwxyz|");
}

TEST_CASE("values are capped at 63 - len(name) bytes", "[normalizer]")
{
    const std::string v(100, 'x');
    const Request r = norm("client_address=" + v + "\nclient_name=" + v + "\nsender=" + v +
                           "\nrecipient=" + v + "\nsize=" + v + "\nsasl_username=" + v +
                           "\nhelo_name=" + v + "\ninstance=" + v);
    CHECK(r.ip.size() == 49);
    CHECK(r.name.size() == 52);
    CHECK(r.sender.size() == 57);
    CHECK(r.rcpt.size() == 54);
    CHECK(r.size.size() == 59);
    CHECK(r.sasl.size() == 50);
    CHECK(r.helo.size() == 54);
    CHECK(r.instance.size() == 55);
}

TEST_CASE("the cap applies to the raw line, before filtering", "[normalizer]")
{
    // 10 filtered bytes inside the first 57 leave 47 letters.
    CHECK(sender_of(std::string(10, '+') + std::string(60, 'a')) == std::string(47, 'a'));
}

TEST_CASE("long senders and recipients are truncated like the reference", "[normalizer]")
{
    // proto-13, proto-14
    const Request r =
        norm("sender=averyveryverylongsenderlocalpart.tag1@subdomain.mail.example-longdomain.com\n"
             "recipient=bob.the.recipient.with.a.long.localpart@mail.subdomain.example.org");
    CHECK(r.sender == "averyveryverylongsenderlocalpart.tag1@subdomain.mail.exam");
    CHECK(r.sdom == "subdomain.mail.exam");
    CHECK(r.rcpt == "bob.the.recipient.with.a.long.localpart@mail.subdomain");
    CHECK(r.rdom == "mail.subdomain");
}

TEST_CASE("10 KB values are capped like short ones", "[normalizer]")
{
    const std::string big(10240, 'B');
    const Request r = norm("sender=" + big + "\nclient_address=" + big + "\nccert_subject=" + big);
    CHECK(r.sender == std::string(57, 'b'));
    CHECK(r.ip == std::string(49, 'b'));
    CHECK(r.ghost == std::string(49, 'b'));  // 'b' is a hex digit
}

TEST_CASE("null sender rules", "[normalizer]")
{
    SECTION("an empty sender is <>")
    {
        const Request r = norm("sender=\nrecipient=bob@example.org");
        CHECK(r.sender == "<>");
        CHECK(r.sdom.empty());
    }
    SECTION("a sender that filters to nothing is <>")
    {
        CHECK(sender_of("+'\"%<>") == "<>");
        CHECK(sender_of("<>") == "<>");
        CHECK(sender_of("\xc3\xa4\xc3\xb6") == "<>");
    }
    SECTION("an absent sender stays empty")
    {
        const Request r = norm("recipient=bob@example.org");
        CHECK(r.sender.empty());
        CHECK(r.sdom.empty());
    }
    SECTION("an empty recipient stays empty")
    {
        CHECK(norm("recipient=").rcpt.empty());
    }
}

TEST_CASE("addresses split at the last '@'", "[normalizer]")
{
    const Request r = norm("sender=Alice@Example.COM\nrecipient=\"a@b\"@c.example");
    CHECK(r.sdom == "example.com");
    CHECK(r.rcpt == "a@b@c.example");
    CHECK(r.rdom == "c.example");

    const Request none = norm("sender=postmaster\nrecipient=@x");
    CHECK(none.sdom.empty());
    CHECK(none.rdom == "x");

    const Request trailing = norm("recipient=x@");
    CHECK(trailing.rdom.empty());
}

TEST_CASE("the reference's GREYLIST_HOSTADDR table", "[normalizer]")
{
    struct Row {
        int h;
        const char *net3, *net2, *net1, *ghost;
    };
    const Row rows[] = {
        {1, "", "", "10.%.%.%", "10"},
        {2, "", "10.20.%.%", "10.%.%.%", "10.20"},
        {3, "10.20.30.%", "10.20.%.%", "10.%.%.%", "10.20.30"},
        {4, "10.20.30.%", "10.20.%.%", "10.%.%.%", "10.20.30.40"},
    };
    for (const Row& row : rows) {
        INFO("HOSTADDR " << row.h);
        const Request r = norm("client_address=10.20.30.40", row.h);
        CHECK(r.ip == "10.20.30.40");
        CHECK(r.net3 == row.net3);
        CHECK(r.net2 == row.net2);
        CHECK(r.net1 == row.net1);
        CHECK(r.ghost == row.ghost);
    }
}

TEST_CASE("the reference's greylist host key table", "[normalizer]")
{
    CHECK(norm("client_address=10.1.2.3", 3).ghost == "10.1.2");
    CHECK(norm("client_address=10.1.2.3", 4).ghost == "10.1.2.3");
    CHECK(norm("client_address=10.1.2.3", 1).ghost == "10");
}

TEST_CASE("GREYLIST_HOSTADDR outside 1..4 counts as 3", "[normalizer]")
{
    for (int h : {0, 5, -1}) {
        INFO("HOSTADDR " << h);
        const Request r = norm("client_address=192.0.2.10", h);
        CHECK(r.ghost == "192.0.2");
        CHECK(r.net3 == "192.0.2.%");
    }
}

TEST_CASE("IPv6 addresses have no netblocks and are their own host key", "[normalizer]")
{
    for (int h = 1; h <= 4; ++h) {
        INFO("HOSTADDR " << h);
        const Request r = norm("client_address=2001:DB8::1", h);
        CHECK(r.ip == "2001:db8::1");
        CHECK(r.ghost == "2001:db8::1");
        CHECK(r.net1.empty());
        CHECK(r.net2.empty());
        CHECK(r.net3.empty());
        CHECK(r.net6.empty());
    }
    CHECK(norm("client_address=2001:db8:0:1::25").ghost == "2001:db8:0:1::25");
    CHECK(norm("client_address=2001:db8:0:1::25", 3, 128).ghost == "2001:db8:0:1::25");
}

TEST_CASE("GREYLIST_IPV6_PREFIX makes an IPv6 client's network its host key", "[normalizer]")
{
    const Request r = norm("client_address=2001:DB8:aa:bb:cc:dd:ee:ff", 3, 64);
    CHECK(r.ip == "2001:db8:aa:bb:cc:dd:ee:ff");
    CHECK(r.net6 == "2001:db8:aa:bb::/64");
    CHECK(r.ghost == "2001:db8:aa:bb::/64");
    CHECK(r.net3.empty());
    // another address of the same /64: the same key; the next /64: another
    CHECK(norm("client_address=2001:db8:aa:bb::1", 3, 64).ghost == r.ghost);
    CHECK(norm("client_address=2001:db8:aa:bc::1", 3, 64).ghost == "2001:db8:aa:bc::/64");
    CHECK(norm("client_address=2001:db8:aa:bb:cc:dd:ee:ff", 1, 48).ghost == "2001:db8:aa::/48");
    CHECK(norm("client_address=2001:db8:aa:bb:cc:dd:ee:ff", 3, 127).ghost ==
          "2001:db8:aa:bb:cc:dd:ee:fe/127");
    // the longest key fits triplet._host and the lists' char(46)
    CHECK(norm("client_address=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 3, 127).ghost.size() <= 46);
}

TEST_CASE("GREYLIST_IPV6_PREFIX leaves IPv4, IPv4-mapped and non-addresses alone", "[normalizer]")
{
    const Request v4 = norm("client_address=192.0.2.7", 3, 64);
    CHECK(v4.ghost == "192.0.2");
    CHECK(v4.net3 == "192.0.2.%");
    CHECK(v4.net6.empty());
    const Request mapped = norm("client_address=::ffff:10.20.30.40", 3, 64);
    CHECK(mapped.ghost == "::ffff:10.20.30");
    CHECK(mapped.net6.empty());
    for (const char* odd : {"client_address=fe80::1%eth0", "client_address=2001:db8::/64",
                            "client_address=unknown", "client_address=2001:zz::1"}) {
        INFO(odd);
        const Request r = norm(odd, 3, 64);
        CHECK(r.net6.empty());
        CHECK(r.ghost == norm(odd).ghost);
    }
}

TEST_CASE("IPv4-mapped IPv6 addresses keep their prefix", "[normalizer]")
{
    const Request r = norm("client_address=::FFFF:10.20.30.40");
    CHECK(r.ip == "::ffff:10.20.30.40");
    CHECK(r.net1 == "::ffff:10.%.%.%");
    CHECK(r.net2 == "::ffff:10.20.%.%");
    CHECK(r.net3 == "::ffff:10.20.30.%");
    CHECK(r.ghost == "::ffff:10.20.30");
    CHECK(norm("client_address=::ffff:10.20.30.40", 4).ghost == "::ffff:10.20.30.40");
}

TEST_CASE("client_address is lower-cased but not filtered", "[normalizer]")
{
    const Request r = norm("client_address=10.9.9.9' OR '1'='1");
    CHECK(r.ip == "10.9.9.9' or '1'='1");
    // The host keys come from the scan, which keeps only 0-9 a-f . :
    CHECK(r.net3 == "10.9.9.%");
    CHECK(r.ghost == "10.9.9");
    CHECK(norm("client_address=10.9.9.9' OR '1'='1", 4).ghost == "10.9.9.911");
}

TEST_CASE("the host-key scan skips foreign characters but counts every dot", "[normalizer]")
{
    const Request r = norm("client_address=[1x0].2g.3_.4");
    CHECK(r.net1 == "10.%.%.%");
    CHECK(r.net2 == "10.2.%.%");
    CHECK(r.net3 == "10.2.3.%");
    CHECK(r.ghost == "10.2.3");
}

TEST_CASE("an absent client_address gives no host keys", "[normalizer]")
{
    const Request r = norm("sender=a@b");
    CHECK(r.ip.empty());
    CHECK(r.ghost.empty());
    CHECK(r.net1.empty());
    CHECK(r.net2.empty());
    CHECK(r.net3.empty());
}

TEST_CASE("a full request in upper case normalises like a lower-case one", "[normalizer]")
{
    // conformance proto-03
    const Request up = norm("REQUEST=smtpd_access_policy\nPROTOCOL_STATE=RCPT\nCLIENT_ADDRESS=192.0.2.10\n"
                            "CLIENT_NAME=mail.example.com\nHELO_NAME=MAIL.example.com\n"
                            "SENDER=alice@example.com\nRECIPIENT=bob@example.org\nSIZE=0\n"
                            "INSTANCE=1a2b.3c4d5e6f.0\nSASL_USERNAME=Joe");
    CHECK(up.ip == "192.0.2.10");
    CHECK(up.ghost == "192.0.2");
    CHECK(up.name == "mail.example.com");
    CHECK(up.helo == "mail.example.com");
    CHECK(up.sender == "alice@example.com");
    CHECK(up.rcpt == "bob@example.org");
    CHECK(up.size == "0");
    CHECK(up.instance == "1a2b.3c4d5e6f.0");
    CHECK(up.sasl == "joe");
}

TEST_CASE("the last duplicate wins after normalisation", "[normalizer]")
{
    // conformance proto-27
    const Request r = norm("client_address=192.0.2.10\nsender=first@a.example\nsender=second@b.example\n"
                           "recipient=bob@example.org");
    CHECK(r.sender == "second@b.example");
    CHECK(r.sdom == "b.example");
}

TEST_CASE("absent attributes leave empty fields", "[normalizer]")
{
    const Request r = norm("");
    CHECK(r.name.empty());
    CHECK(r.rcpt.empty());
    CHECK(r.helo.empty());
    CHECK(r.size.empty());
    CHECK(r.sasl.empty());
    CHECK(r.instance.empty());
    CHECK(r.sender.empty());
}
