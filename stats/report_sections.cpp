// NAME
//   report_sections.cpp - the stats sections and their statements (see report_sections.h)
// DESCRIPTION
//   Titles and labels are the reference's byte for byte, the trailing space
//   inside "Triplets: " and its siblings included: scripts cut the output
//   on "\t->  ". Each top-10 statement groups the triplet or helo rows by
//   _host and sorts on the number it prints, largest first.
#include "stats/report_sections.h"

namespace policyd {
namespace {

std::string count_where(const char* label, const char* condition) {
    return std::string("SELECT '") + label + "' AS description, COUNT(*) AS my_count FROM triplet" +
           condition;
}

std::string top_hosts(const char* value, const char* table, const char* condition) {
    return std::string("SELECT _host, ") + value + " AS my_count FROM " + table + condition +
           " GROUP BY _host ORDER BY my_count DESC LIMIT 10";
}

}  // namespace

std::vector<Section> report_sections(const Config& c) {
    std::vector<Section> sections;
    if (c.greylisting == 1) {
        sections.push_back({"greylisting: triplet information",
                            {count_where("Triplets: ", ""),
                             count_where("Verified: ", " WHERE _count > 0"),
                             count_where("Unverified: ", " WHERE _count = 0")}});
        sections.push_back({"greylisting: top 10 networks with validated triplets",
                            {top_hosts("COUNT(*)", "triplet", " WHERE _count > 0")}});
        sections.push_back({"greylisting: top 10 networks with unvalidated triplets",
                            {top_hosts("COUNT(*)", "triplet", " WHERE _count = 0")}});
        sections.push_back({"greylisting: top 10 networks with most delivered mails",
                            {top_hosts("SUM(_count)", "triplet", " WHERE _count > 0")}});
    }
    if (c.helo_check == 1)
        sections.push_back({"helo: top 10 hosts with different identities",
                            {top_hosts("COUNT(*)", "helo", "")}});
    return sections;
}

std::string report_line(const db::Row& row) {
    auto column = [&row](std::size_t i) -> std::string {
        return i < row.size() && row[i] ? *row[i] : "(null)";
    };
    return column(0) + "\t->  " + column(1);
}

}  // namespace policyd
