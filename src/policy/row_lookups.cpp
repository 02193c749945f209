// NAME
//   row_lookups.cpp - one statement for the checks' row lookups (see row_lookups.h)
// DESCRIPTION
//   Each part keeps LIMIT 1 inside its parentheses, so the server stops at
//   the first matching row of each table as the separate lookups did; an
//   EXISTS (the carried forms) stops there by itself. The condition is
//   parenthesised because some (the HELO patterns) use OR.
//
//   A carried select is one row however many checks it reads for: each
//   check's columns are scalar expressions or columns of its own LEFT
//   JOINs on "(SELECT 1) AS one", each join matching at most one row, so
//   the row neither multiplies nor vanishes when a table has no match.
#include "policy/row_lookups.h"

#include <stdexcept>

#include "db/session.h"

namespace policyd {

RowLookupStatement row_lookup_statement(const std::vector<std::optional<RowLookup>>& lookups) {
    if (lookups.size() > 64) throw std::logic_error("row_lookup_statement: more than 64 lookups");
    RowLookupStatement statement;
    std::string union_all;
    unsigned parts = 0;
    for (std::size_t i = 0; i < lookups.size(); ++i) {
        if (!lookups[i]) continue;
        const RowLookup& lookup = *lookups[i];
        const std::string part = "SELECT " + std::to_string(i) + " FROM " + lookup.table +
                                 " WHERE (" + lookup.condition + ") LIMIT 1";
        union_all += (parts++ ? " UNION ALL (" : "(") + part + ")";
        statement.sql = part;  // a single part goes out as it is
        statement.params.insert(statement.params.end(), lookup.params.begin(),
                                lookup.params.end());
    }
    if (parts > 1) statement.sql = std::move(union_all);
    return statement;
}

namespace {

// Each asked lookup as "EXISTS (SELECT 1 FROM <table> WHERE (<condition>))"
// passed through `shape` with its index, joined by `separator`; their
// parameters appended to `params` in the same order. Empty when none is
// asked.
template <class Shape>
std::string exists_parts(const std::vector<std::optional<RowLookup>>& lookups, Shape shape,
                         const char* separator, std::vector<db::Param>& params) {
    std::string parts;
    for (std::size_t i = 0; i < lookups.size(); ++i) {
        if (!lookups[i]) continue;
        const RowLookup& lookup = *lookups[i];
        if (!parts.empty()) parts += separator;
        parts += shape("EXISTS (SELECT 1 FROM " + std::string(lookup.table) + " WHERE (" +
                           lookup.condition + "))",
                       i);
        params.insert(params.end(), lookup.params.begin(), lookup.params.end());
    }
    return parts;
}

}  // namespace

RowLookupStatement guarded_insert_statement(const GuardedInsert& insert,
                                            const std::vector<std::optional<RowLookup>>& guard) {
    RowLookupStatement statement;
    statement.params = insert.value_params;
    const std::string condition = exists_parts(
        guard, [](const std::string& exists, std::size_t) { return "NOT " + exists; }, " AND ",
        statement.params);
    statement.sql = condition.empty()
                        ? insert.into + " VALUES (" + insert.values + ")" + insert.rest
                        : insert.into + " SELECT " + insert.values + " FROM DUAL WHERE " +
                              condition + insert.rest;
    statement.params.insert(statement.params.end(), insert.rest_params.begin(),
                            insert.rest_params.end());
    return statement;
}

RowLookupStatement carried_select_statement(const std::vector<const CarriedSelect*>& selects,
                                            const std::vector<std::optional<RowLookup>>& lookups) {
    if (lookups.size() > 64)
        throw std::logic_error("carried_select_statement: more than 64 lookups");
    RowLookupStatement statement;
    std::string columns = exists_parts(
        lookups,
        [](const std::string& exists, std::size_t i) {
            return "(" + exists + " << " + std::to_string(i) + ")";
        },
        " | ", statement.params);
    if (!columns.empty()) columns += " AS row_lookups";
    std::string joins;
    for (const CarriedSelect* select : selects) {
        if (!columns.empty()) columns += ", ";
        columns += select->columns;
        statement.params.insert(statement.params.end(), select->column_params.begin(),
                                select->column_params.end());
        joins += select->joins;
    }
    for (const CarriedSelect* select : selects)  // the joins' '?' follow every column's
        statement.params.insert(statement.params.end(), select->join_params.begin(),
                                select->join_params.end());
    statement.sql = "SELECT " + columns;
    if (!joins.empty()) statement.sql += " FROM (SELECT 1) AS one" + joins;
    return statement;
}

std::uint64_t run_row_lookups(db::Session& db,
                              const std::vector<std::optional<RowLookup>>& lookups) {
    const RowLookupStatement statement = row_lookup_statement(lookups);
    std::uint64_t hits = 0;
    if (statement.sql.empty()) return hits;
    for (const db::Row& row : db.query(statement.sql, statement.params))
        if (row.size() == 1 && row[0]) hits |= std::uint64_t{1} << std::stoul(*row[0]);
    return hits;
}

}  // namespace policyd
