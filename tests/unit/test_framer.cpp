// NAME
//   test_framer.cpp - unit tests for RequestFramer and format_reply
// SYNOPSIS
//   Part of tests/unit/unit_tests (Catch2).
// DESCRIPTION
//   Framing rules as we decided them: "\n\n" with
//   tolerated CRs ends a request, pipelined requests come out in order,
//   bytes may arrive in any split, the size limit closes, NULs pass through.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "protocol/framer.h"
#include "protocol/reply.h"

using policyd::RequestFramer;

namespace {

void feed(RequestFramer& f, const std::string& s) { f.feed(s.data(), s.size()); }

// Every request currently available, copied out.
std::vector<std::string> drain(RequestFramer& f)
{
    std::vector<std::string> out;
    while (auto r = f.next())
        out.emplace_back(*r);
    return out;
}

std::vector<std::string> frame_whole(const std::string& s, std::size_t max = RequestFramer::kDefaultMaxBytes)
{
    RequestFramer f(max);
    feed(f, s);
    return drain(f);
}

std::vector<std::string> frame_bytewise(const std::string& s)
{
    RequestFramer f;
    std::vector<std::string> out;
    for (char c : s) {
        f.feed(&c, 1);
        for (auto& r : drain(f))
            out.push_back(std::move(r));
    }
    return out;
}

using V = std::vector<std::string>;

const std::string kPostfixRequest =
    "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
    "client_address=192.0.2.10\nclient_name=mail.example.com\nhelo_name=mail.example.com\n"
    "sender=alice@example.com\nrecipient=bob@example.org\ninstance=1a2b.3c4d5e6f.0\nsize=0\n\n";

}  // namespace

TEST_CASE("a request ends at the first empty line", "[framer]")
{
    RequestFramer f;
    feed(f, "a=b\nc=d\n");
    CHECK_FALSE(f.next());
    feed(f, "\n");
    auto r = f.next();
    REQUIRE(r);
    CHECK(*r == "a=b\nc=d");
    CHECK_FALSE(f.next());
    CHECK_FALSE(f.too_large());
}

TEST_CASE("a single LF between lines does not end a request", "[framer]")
{
    CHECK(frame_whole("a=b\nc=d\n").empty());
    CHECK(frame_whole("a=b\n\rc=d\n\n") == V{"a=b\n\rc=d"});
}

TEST_CASE("pipelined requests come out one by one, in order", "[framer]")
{
    CHECK(frame_whole("a=1\n\nb=2\nc=3\n\nd=4\n\n") == V{"a=1", "b=2\nc=3", "d=4"});
    CHECK(frame_whole(kPostfixRequest + kPostfixRequest + "partial=1\n").size() == 2);
}

TEST_CASE("views stay valid across next() until the next feed()", "[framer]")
{
    RequestFramer f;
    feed(f, "a=1\n\nb=2\n\n");
    auto first = f.next();
    auto second = f.next();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(*first == "a=1");
    CHECK(*second == "b=2");
}

TEST_CASE("a request split across feeds byte by byte frames like one feed", "[framer]")
{
    const std::string stream = kPostfixRequest + "x=1\r\n\r\n" + kPostfixRequest + "y=2\n\r\n" + "\n\n";
    const V whole = frame_whole(stream);
    REQUIRE(whole.size() == 5);
    CHECK(whole[1] == "x=1");
    CHECK(whole[3] == "y=2");
    CHECK(whole[4].empty());
    CHECK(frame_bytewise(stream) == whole);
}

TEST_CASE("a request split in the middle of an attribute name is reassembled", "[framer]")
{
    // conformance proto-19
    RequestFramer f;
    feed(f, "request=smtpd_access_policy\nclient_address=192.0.2.10\nsen");
    CHECK_FALSE(f.next());
    feed(f, "der=alice@example.com\nrecipient=bob@example.org\n\n");
    CHECK(drain(f) == V{"request=smtpd_access_policy\nclient_address=192.0.2.10\n"
                        "sender=alice@example.com\nrecipient=bob@example.org"});
}

TEST_CASE("CRLF and mixed line ends terminate a request", "[framer]")
{
    CHECK(frame_whole("a=b\r\nc=d\r\n\r\n") == V{"a=b\r\nc=d"});
    CHECK(frame_whole("a=b\r\n\n") == V{"a=b"});
    CHECK(frame_whole("a=b\n\r\n") == V{"a=b"});
    CHECK(frame_whole("a=b\r\n\r\nc=d\r\n\r\n") == V{"a=b", "c=d"});
    // A CR that arrives alone must not be taken for a non-terminator.
    RequestFramer f;
    feed(f, "a=b\r\n\r");
    CHECK_FALSE(f.next());
    feed(f, "\n");
    CHECK(drain(f) == V{"a=b"});
}

TEST_CASE("empty requests", "[framer]")
{
    SECTION("\\n\\n alone is a complete empty request")
    {
        CHECK(frame_whole("\n\n") == V{""});
        CHECK(frame_whole("\r\n\r\n") == V{""});
    }
    SECTION("a lone LF is not yet a request")
    {
        CHECK(frame_whole("\n").empty());
    }
    SECTION("a stray LF after a request becomes part of the next one")
    {
        CHECK(frame_whole("\n\n\na=b\n\n") == V{"", "\na=b"});
    }
}

TEST_CASE("NUL bytes pass through framing and do not end a request", "[framer]")
{
    const std::string stream("a=b\0junk\n\nc=d\n\n", 15);
    const V r = frame_whole(stream);
    REQUIRE(r.size() == 2);
    CHECK(r[0] == std::string("a=b\0junk", 8));
    CHECK(r[1] == "c=d");
}

TEST_CASE("the size limit counts the request up to its empty line", "[framer]")
{
    SECTION("exactly the limit is accepted")
    {
        CHECK(frame_whole("a=0123456789ab\n\n", 16) == V{"a=0123456789ab"});
        CHECK(frame_whole("a=0123456789\r\n\r\n", 16) == V{"a=0123456789"});
    }
    SECTION("one byte more is too large")
    {
        RequestFramer f(16);
        feed(f, "a=0123456789abc\n\n");
        CHECK_FALSE(f.next());
        CHECK(f.too_large());
    }
    SECTION("too large is reported as soon as the terminator cannot fit")
    {
        RequestFramer f(16);
        feed(f, "a=0123456789ab\n");  // 15 bytes: the 16th may still end it
        CHECK_FALSE(f.next());
        CHECK_FALSE(f.too_large());
        feed(f, "c");
        CHECK_FALSE(f.next());
        CHECK(f.too_large());
    }
    SECTION("once too large, the framer stays closed")
    {
        RequestFramer f(16);
        feed(f, std::string(40, 'x'));
        CHECK_FALSE(f.next());
        REQUIRE(f.too_large());
        feed(f, "\n\na=b\n\n");
        CHECK_FALSE(f.next());
        CHECK(f.too_large());
    }
    SECTION("requests completed before an oversized one are still delivered")
    {
        RequestFramer f(16);
        feed(f, "a=1\n\nb=2\n\n" + std::string(100, 'x'));
        CHECK(drain(f) == V{"a=1", "b=2"});
        CHECK(f.too_large());
    }
    SECTION("the limit applies per request, not per connection")
    {
        RequestFramer f(16);
        for (int i = 0; i < 100; ++i)
            feed(f, "a=0123456789ab\n\n");
        CHECK(drain(f).size() == 100);
        CHECK_FALSE(f.too_large());
    }
    SECTION("default limit is 64 KiB")
    {
        const std::string fits = "x=" + std::string(65536 - 4, 'a') + "\n\n";
        REQUIRE(fits.size() == 65536);
        CHECK(frame_whole(fits).size() == 1);

        RequestFramer f;
        feed(f, "x=" + std::string(65536 - 3, 'a') + "\n\n");
        CHECK_FALSE(f.next());
        CHECK(f.too_large());
    }
    SECTION("the 1022-byte reference request fits easily")
    {
        const std::string req = "client_address=192.0.2.10\n" + std::string(994, 'p') + "\n\n";
        REQUIRE(req.size() == 1022);
        CHECK(frame_whole(req).size() == 1);
    }
}

TEST_CASE("binary garbage without an empty line yields nothing", "[framer]")
{
    std::string junk;
    for (int i = 0; i < 4096; ++i) {
        const char c = static_cast<char>((i * 131 + 7) & 0xff);
        junk.push_back(c == '\n' ? 'z' : c);
    }
    RequestFramer f;
    feed(f, junk);
    CHECK_FALSE(f.next());
    CHECK_FALSE(f.too_large());
    feed(f, "\n\n");
    auto r = f.next();
    REQUIRE(r);
    CHECK(*r == junk);
}

TEST_CASE("format_reply ends the action line with an empty line", "[reply]")
{
    CHECK(policyd::format_reply("action=dunno") == "action=dunno\n\n");
    CHECK(policyd::format_reply("action=defer_if_permit Policy rejection: Please try later.") ==
          "action=defer_if_permit Policy rejection: Please try later.\n\n");
}

TEST_CASE("has_partial tells whether a request is still arriving", "[framer]") {
    RequestFramer framer;
    CHECK_FALSE(framer.has_partial());
    framer.feed("a=b\n", 4);
    CHECK(framer.has_partial());
    CHECK_FALSE(framer.next());
    framer.feed("\n", 1);
    REQUIRE(framer.next());
    CHECK_FALSE(framer.has_partial());
    framer.feed("c=d\n\ne", 6);
    REQUIRE(framer.next());
    CHECK(framer.has_partial());  // "e" begins the next request
}
