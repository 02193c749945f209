// NAME
//   test_stats_report.cpp - the stats program's sections and row format
// DESCRIPTION
//   Which sections GREYLISTING and HELO_CHECK select, in the reference's
//   order and words, and the "<col0>\t->  <col1>" row
//   line. What the statements return from real tables, printed byte for
//   byte, is in tests/integration/test_stats_program.py.
#include <catch2/catch.hpp>

#include "stats/report_sections.h"

using namespace policyd;

namespace {

std::vector<std::string> titles(const Config& c) {
    std::vector<std::string> out;
    for (const auto& s : report_sections(c)) out.push_back(s.title);
    return out;
}

Config with(long greylisting, long helo_check) {
    Config c;
    c.greylisting = greylisting;
    c.helo_check = helo_check;
    return c;
}

}  // namespace

TEST_CASE("stats: GREYLISTING=1 and HELO_CHECK=1 print five sections in the reference's order") {
    const std::vector<std::string> expected = {
        "greylisting: triplet information",
        "greylisting: top 10 networks with validated triplets",
        "greylisting: top 10 networks with unvalidated triplets",
        "greylisting: top 10 networks with most delivered mails",
        "helo: top 10 hosts with different identities"};
    CHECK(titles(with(1, 1)) == expected);
    const auto sections = report_sections(with(1, 1));
    REQUIRE(sections.size() == 5);
    CHECK(sections[0].queries.size() == 3);  // Triplets, Verified, Unverified
    for (std::size_t i = 1; i < 5; ++i) CHECK(sections[i].queries.size() == 1);
    CHECK(sections[0].queries[0].find("'Triplets: '") != std::string::npos);
    CHECK(sections[0].queries[1].find("'Verified: '") != std::string::npos);
    CHECK(sections[0].queries[2].find("'Unverified: '") != std::string::npos);
    CHECK(sections[3].queries[0].find("SUM(_count)") != std::string::npos);
    CHECK(sections[4].queries[0].find("FROM helo") != std::string::npos);
}

TEST_CASE("stats: each switch selects its own sections") {
    CHECK(titles(with(1, 0)).size() == 4);
    CHECK(titles(with(0, 1)) == std::vector<std::string>{"helo: top 10 hosts with different identities"});
    CHECK(titles(with(0, 0)).empty());
}

TEST_CASE("stats: a row prints as <col0> TAB -> two spaces <col1>") {
    CHECK(report_line({std::string("Triplets: "), std::string("6")}) == "Triplets: \t->  6");
    CHECK(report_line({std::string("10.1.2"), std::string("12")}) == "10.1.2\t->  12");
    CHECK(report_line({std::nullopt, std::string("1")}) == "(null)\t->  1");
}
