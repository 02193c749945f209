// NAME
//   test_explain_input.cpp - the request policyd --explain rebuilds from its input
// DESCRIPTION
//   The three input forms: a policy protocol request, a decision log line
//   (with a syslog prefix, a throttle's size=N/M, helo= and sasl_username=)
//   and --explain-attr words; and the errors for input that is none of them.
//   The evaluation itself runs against a database in tests/integration/test_explain.py.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "explain/explain_input.h"

using namespace policyd;

TEST_CASE("a policy request is taken up to its empty line", "[explain]") {
    const ExplainInput in = explain_input_from_text(
        "request=smtpd_access_policy\r\nclient_address=192.0.2.1\r\nsender=a@example.com\r\n\r\n"
        "ignored=after the end\n");
    CHECK(in.origin == "request");
    CHECK(in.request ==
          "request=smtpd_access_policy\nclient_address=192.0.2.1\nsender=a@example.com\n"
          "protocol_state=RCPT\n");
    CHECK_THROWS_AS(explain_input_from_text("this is not a request\n"), std::invalid_argument);
    CHECK_THROWS_AS(explain_input_from_text("\n\n"), std::invalid_argument);
}

TEST_CASE("a decision log line becomes the request it was logged for", "[explain]") {
    const ExplainInput in = explain_input_from_text(
        "Dec  4 10:00:00 mx policyd[42]: rcpt=17, greylist=new, host=192.0.2.10 "
        "(mail.example.com), from=alice@example.com, to=bob@example.org, size=1234\n");
    CHECK(in.origin == "request of a decision log line (token greylist=new)");
    CHECK(in.request ==
          "client_address=192.0.2.10\nclient_name=mail.example.com\nsender=alice@example.com\n"
          "recipient=bob@example.org\nsize=1234\nrequest=smtpd_access_policy\n"
          "protocol_state=RCPT\n");

    const ExplainInput throttle = explain_input_from_text(
        "rcpt=3, throttle=abuse(f), host=192.0.2.10 (unknown), from=alice@example.com, "
        "to=bob@example.org, size=2048/10240000, quota=0/250000000, count=1/1(1), "
        "sasl_username=alice\n");
    CHECK(throttle.request.find("size=2048\n") != std::string::npos);
    CHECK(throttle.request.find("sasl_username=alice\n") != std::string::npos);
    CHECK(throttle.request.find("client_name=unknown\n") != std::string::npos);

    const ExplainInput helo = explain_input_from_text(
        "rcpt=1, helo=abuse, host=192.0.2.10 (a (strange) name), from=, to=x@example.org, "
        "size=0, helo=mx.example.net\n");
    CHECK(helo.request.find("client_name=a (strange) name\n") != std::string::npos);
    CHECK(helo.request.find("helo_name=mx.example.net\n") != std::string::npos);
    CHECK(helo.request.find("sender=\n") != std::string::npos);

    CHECK_THROWS_AS(explain_input_from_text("rcpt=1, greylist=new, from=a@b\n"),
                    std::invalid_argument);  // no host=
}

TEST_CASE("--explain-attr words are the request's lines", "[explain]") {
    const ExplainInput in =
        explain_input_from_attributes({"client_address=192.0.2.1", "recipient=x@example.org",
                                       "protocol_state=DATA"});
    CHECK(in.origin == "request given as attributes");
    CHECK(in.request == "client_address=192.0.2.1\nrecipient=x@example.org\nprotocol_state=DATA\n"
                        "request=smtpd_access_policy\n");
    CHECK_THROWS_AS(explain_input_from_attributes({"novalue"}), std::invalid_argument);
    CHECK_THROWS_AS(explain_input_from_attributes({}), std::invalid_argument);
}
