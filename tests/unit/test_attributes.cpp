// NAME
//   test_attributes.cpp - unit tests for the attribute parser
// SYNOPSIS
//   Part of tests/unit/unit_tests (Catch2).
// DESCRIPTION
//   The reference's line splitting and lookup, with our fixes: every
//   line is read, CRs are stripped, names are case-insensitive, the last
//   duplicate wins, the text ends at its first NUL.
#include <catch2/catch.hpp>

#include <string>

#include "protocol/attributes.h"

using policyd::Attributes;

TEST_CASE("values are found by name, as sent", "[attributes]")
{
    const Attributes a("request=smtpd_access_policy\nsender=Alice@Example.COM\nrecipient=bob@example.org");
    CHECK(a.size() == 3);
    CHECK(a.get("request") == "smtpd_access_policy");
    CHECK(a.get("sender") == "Alice@Example.COM");
    CHECK(a.get("recipient") == "bob@example.org");
    CHECK_FALSE(a.get("client_address"));
}

TEST_CASE("an empty value is present, an absent one is not", "[attributes]")
{
    const Attributes a("sender=\nrecipient=bob@example.org");
    REQUIRE(a.get("sender"));
    CHECK(a.get("sender")->empty());
    CHECK_FALSE(a.get("size"));
}

TEST_CASE("names match case-insensitively", "[attributes]")
{
    // conformance proto-03
    const Attributes a("CLIENT_ADDRESS=192.0.2.10\nSender=alice@example.com\nrecipient=Bob@Example.org");
    CHECK(a.get("client_address") == "192.0.2.10");
    CHECK(a.get("sender") == "alice@example.com");
    CHECK(a.get("RECIPIENT") == "Bob@Example.org");
}

TEST_CASE("names match whole, not as prefixes", "[attributes]")
{
    const Attributes a("reverse_client_name=rev.example\nrecipient_count=3\nsasl_sender=s@x");
    CHECK_FALSE(a.get("client_name"));
    CHECK_FALSE(a.get("recipient"));
    CHECK_FALSE(a.get("sasl"));
    CHECK(a.get("recipient_count") == "3");
}

TEST_CASE("the last duplicate wins", "[attributes]")
{
    // conformance proto-27
    const Attributes a("client_address=192.0.2.10\nsender=first@a.example\nSENDER=second@b.example\n"
                       "recipient=bob@example.org");
    CHECK(a.get("sender") == "second@b.example");
    CHECK(a.size() == 4);
}

TEST_CASE("a line splits at its first '='", "[attributes]")
{
    const Attributes a("sender=prvs=1234=u@d\n=nameless");
    CHECK(a.get("sender") == "prvs=1234=u@d");
    CHECK(a.get("") == "nameless");
}

TEST_CASE("lines without '=' are ignored", "[attributes]")
{
    const Attributes a("garbage\n\nsender=a@b\nmore garbage\n");
    CHECK(a.size() == 1);
    CHECK(a.get("sender") == "a@b");
    CHECK_FALSE(a.get("garbage"));
}

TEST_CASE("a trailing CR is stripped from each line", "[attributes]")
{
    const Attributes a("client_address=192.0.2.10\r\nsender=a@b\r\nrecipient=c@d\r");
    CHECK(a.get("client_address") == "192.0.2.10");
    CHECK(a.get("sender") == "a@b");
    CHECK(a.get("recipient") == "c@d");
}

TEST_CASE("every line is read, not only the first 20", "[attributes]")
{
    std::string text;
    for (int i = 0; i < 40; ++i)
        text += "x_pad_" + std::to_string(i) + "=v" + std::to_string(i) + "\n";
    text += "recipient=late@example.org";
    const Attributes a(text);
    CHECK(a.size() == 41);
    CHECK(a.get("recipient") == "late@example.org");
    CHECK(a.get("x_pad_0") == "v0");
    CHECK(a.get("x_pad_39") == "v39");
}

TEST_CASE("the text ends at its first NUL byte", "[attributes]")
{
    const std::string text("sender=a@b\nrecipient=c@d\0xx\nsize=10\n", 37);
    const Attributes a(text);
    CHECK(a.get("sender") == "a@b");
    CHECK(a.get("recipient") == "c@d");
    CHECK_FALSE(a.get("size"));

    const Attributes none(std::string("\0sender=a@b", 11));
    CHECK(none.size() == 0);
}

TEST_CASE("the empty request has no attributes", "[attributes]")
{
    CHECK(Attributes("").size() == 0);
    CHECK(Attributes("\n\r\n").size() == 0);
}

TEST_CASE("10 KB values are returned whole, without copying", "[attributes]")
{
    const std::string big(10240, 'q');
    const std::string text = "ccert_subject=" + big + "\nsender=a@b";
    const Attributes a(text);
    const auto v = a.get("ccert_subject");
    REQUIRE(v);
    CHECK(*v == big);
    CHECK(v->data() == text.data() + 14);  // a view into the caller's text
    CHECK(a.get("sender") == "a@b");
}

TEST_CASE("binary garbage does not confuse the parser", "[attributes]")
{
    std::string text = "sender=";
    for (int c = 1; c < 256; ++c)
        if (c != '\n')
            text.push_back(static_cast<char>(c));
    text += "\n\xff\xfe=\x80\nrecipient=r@x";
    const Attributes a(text);
    REQUIRE(a.get("sender"));
    CHECK(a.get("sender")->size() == 254);
    CHECK(a.get("\xff\xfe") == "\x80");
    CHECK(a.get("recipient") == "r@x");
}
