// NAME
//   row_lookups.h - the checks' "is there a matching row?" questions, asked in one statement
// SYNOPSIS
//   #include "policy/row_lookups.h"
//   std::vector<std::optional<RowLookup>> lookups = ...;   // one per check, in order
//   RowLookupStatement s = row_lookup_statement(lookups);
//   std::uint64_t hits = run_row_lookups(session, lookups); // bit i: lookups[i] matched
//   RowLookupStatement g = guarded_insert_statement(insert, lookups);
//   RowLookupStatement c = carried_select_statement({&select, ...}, lookups);
// DESCRIPTION
//   Several checks decide on nothing but whether one row of their table
//   matches the request: the six white- and blacklists, the HELO blacklist
//   and the spamtrap table. The reference sent one SELECT each. Here
//   CheckContext::row_matches() asks all of the request's enabled checks'
//   questions at the first one, as one UNION ALL of the same indexed
//   lookups, part i being "(SELECT i FROM <table> WHERE (<condition>)
//   LIMIT 1)"; the answer is the set of parts that returned their number.
//   A single question goes out without UNION; none, without a statement.
//   The statement text depends only on which questions are asked, so each
//   worker prepares a handful of variants once.
//
//   A later check's first statement can carry the same questions (check.h),
//   each as "EXISTS (SELECT 1 FROM <table> WHERE (<condition>))", the same
//   indexed lookup stopping at the first matching row as LIMIT 1 does:
//   - guarded_insert_statement() makes them a check's INSERT condition:
//     "INSERT INTO t (...) SELECT <values> FROM DUAL WHERE NOT EXISTS (...)
//     AND NOT EXISTS (...) ON DUPLICATE KEY UPDATE ...", which writes only
//     when none matches (GuardedInsert);
//   - carried_select_statement() puts their answers in front of the
//     one-row reads of one or more checks: "SELECT (EXISTS (...) << i) |
//     (EXISTS (...) << j) AS row_lookups, <columns>, <columns> FROM
//     (SELECT 1) AS one <joins> <joins>", the same bits as
//     run_row_lookups() (CarriedSelect).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/check.h"

namespace policyd {

struct RowLookupStatement {
    std::string sql;  // empty: nothing to ask
    std::vector<db::Param> params;
};

// The statement for `lookups` (at most 64); nullopt entries have no part.
RowLookupStatement row_lookup_statement(const std::vector<std::optional<RowLookup>>& lookups);

// The guarded INSERT: `insert` made conditional on no entry of `guard`
// matching (nullopt entries add nothing); without any, INSERT ... VALUES.
RowLookupStatement guarded_insert_statement(const GuardedInsert& insert,
                                            const std::vector<std::optional<RowLookup>>& guard);

// The carried select: column 0 the answers of `lookups` (bit i set when
// lookups[i] matched; at most 64; nullopt entries add nothing, and without
// any lookup there is no such column), then each of `selects`' columns in
// order. One select and no lookup is that check's read alone.
RowLookupStatement carried_select_statement(const std::vector<const CarriedSelect*>& selects,
                                            const std::vector<std::optional<RowLookup>>& lookups);

// Runs row_lookup_statement(lookups) on `db`; bit i of the result is set
// when lookups[i] matched. Throws db::Error like any statement.
std::uint64_t run_row_lookups(db::Session& db,
                              const std::vector<std::optional<RowLookup>>& lookups);

}  // namespace policyd
