// NAME
//   report_sections.h - what the stats program prints, section by section
// SYNOPSIS
//   #include "stats/report_sections.h"
//   for (const Section& s : report_sections(config))
//       for (const std::string& sql : s.queries)
//           for (const db::Row& row : session.query(sql)) log::line(report_line(row));
// DESCRIPTION
//   The reference's stats.c: with GREYLISTING=1 four sections
//   about the triplet table, with HELO_CHECK=1 one about the helo table, in
//   that order, each a title and the statements whose rows it prints. The
//   statements are the reference's, so the same tables give the same rows in
//   the same order (ties in the server's order, as there).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "db/session.h"

namespace policyd {

struct Section {
    std::string title;                 // printed between "<--" and "-->"
    std::vector<std::string> queries;  // two columns each: label or _host, number
};

std::vector<Section> report_sections(const Config& config);

// One result row as the reference printed it: "<col0>\t->  <col1>" (a TAB,
// "->", two spaces); a NULL prints as "(null)", glibc's printf of a NULL %s.
std::string report_line(const db::Row& row);

}  // namespace policyd
