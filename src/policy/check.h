// NAME
//   check.h - the interface every policy check implements
// SYNOPSIS
//   #include "policy/check.h"
// DESCRIPTION
//   A Check is one module of the reference's chain (whitelist, greylist,
//   sender throttle, ...). It looks at one normalised Request, may read and
//   write its own tables through the worker's db::Session, and returns a
//   Decision. The Pipeline (pipeline.h) runs the checks in the reference's
//   order, turns the first final Decision into the reply text and handles a
//   db::Error thrown by a check according to FAILSAFE.
//
//   Checks are stateless objects shared by all worker threads: everything a
//   run needs arrives in the CheckContext, which lives for one request.
//
//   A check that decides on nothing but "is there a row of my table that
//   matches this request?" (the lists, the HELO blacklist, spamtrap) states
//   that question as a RowLookup and asks ctx.row_matches(*this) instead of
//   querying: the context asks the questions of every enabled check at the
//   first one, in one statement (row_lookups.h).
//
//   A check whose first statement is an INSERT that needs nothing read
//   before it (the greylist triplet) may offer it as a GuardedInsert. When
//   only row-lookup checks stand between the first of them and that check,
//   the context sends the INSERT in place of their lookups, made
//   conditional on none of them matching; the check then takes its
//   affected-row count from ctx.carried_insert() instead of sending it. In
//   the default configuration (whitelist, greylist) a new or retried
//   triplet is decided by that one statement; when it changes nothing the
//   lookups are asked after all, to tell a listed client from an unchanged
//   row.
//
//   A check whose first statement is a plain one-row read that depends on
//   nothing an earlier check writes for the request (rcpt_acl's deciding
//   row, the HELO count, the sender throttle's row) offers it as a
//   CarriedSelect instead. When no guarded insert carries the lookups, the
//   first check of the request to ask for its lookup or its row (with
//   ctx.row_matches() or ctx.carried_row()) sends one SELECT for itself
//   and every later check: the lookups' answers in a column in front of
//   the carried selects' columns; each of those checks then takes its row
//   from ctx.carried_row(), which sends the read alone when it was not
//   carried. The reads lock nothing, so when a check ends the request
//   before a later one runs, having read that one's row changes nothing.
//   A check that can read either before its write or after it (the
//   greylist's auto-list counts) offers a CarriedSelect too and asks
//   ctx.row_read_with_others(), which never sends. With every module on,
//   all the reads before the first write are this one statement; with the
//   whitelist and the sender throttle a refusal costs it and the
//   throttle's decision.
//
//   Whichever statement carries the lookups, a failure other than an
//   outage must not be blamed on the wrong check: the lookups are then
//   asked without it, and if they fail too, each check asks alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "db/session.h"
#include "protocol/request.h"

namespace policyd {

class Check;

// "Is there a row of `table` where `condition`?", `condition` holding a
// '?' for each of `params` (request values are always bound).
struct RowLookup {
    const char* table;  // a string literal: it must live as long as the program
    std::string condition;
    std::vector<db::Param> params;
};

// "INSERT INTO ... (<columns>) SELECT <values> ... <rest>": a check's INSERT
// in the form the context can make conditional (row_lookups.h): `into` up
// to the column list, `values` the selected expressions with their '?'
// bound to `value_params`, `rest` (ON DUPLICATE KEY UPDATE ...) with
// `rest_params`. Without a guard it runs as INSERT ... VALUES (<values>).
struct GuardedInsert {
    std::string into;
    std::string values;
    std::string rest;
    std::vector<db::Param> value_params;
    std::vector<db::Param> rest_params;
};

// A check's one-row read in the form the context can combine with other
// checks' and put the row lookups' answers in front of (row_lookups.h):
// "SELECT <columns> FROM (SELECT 1) AS one <joins>", `columns` being
// `width` comma-separated expressions (scalar subqueries, or columns of
// the joins) with their '?' bound to `column_params`, `joins` empty or
// " LEFT JOIN <table> AS <alias> ON ..." clauses matching at most one row
// each, with aliases no other check uses, their '?' bound to
// `join_params`. A plain (non-locking) read: its row always exists.
struct CarriedSelect {
    std::string columns;
    std::size_t width = 0;
    std::string joins;
    std::vector<db::Param> column_params;
    std::vector<db::Param> join_params;
};

// What a check concluded. Continue and Pass let the chain go on; every other
// value ends the request with the matching reply (see reply.h).
enum class Decision {
    Continue,        // no opinion: run the next check
    Pass,            // accepted by this check; later checks that "resume
                     // after a pass" (the throttles) still run, else ACCEPT
    Accept,          // action=dunno (or the X-Greylist prepend)
    GreyDefer,       // GREYLIST_REJECTION
    Blacklist,       // BLACKLIST_REJECTION, temp or permanent
    SizeReject,      // SENDER_SIZE_REJECTION
    Spamtrap,        // SPAMTRAP_REJECTION
    SenderQuota,     // SENDER_QUOTA_REJECTION
    RecipientQuota,  // RECIPIENT_QUOTA_REJECTION
    DistributedOrigin,  // DISTRIBUTED_ORIGIN_REJECTION (ours, not the reference's)
};

// Per-request state handed to a check. The referenced objects outlive the
// context; the context itself must not be kept after run() returns.
class CheckContext {
public:
    CheckContext(const Request& request, const Config& config, db::Session& db,
                 std::time_t now, std::uint64_t rcpt_number, int fd)
        : request(request), config(config), db(db), now(now), rcpt_number(rcpt_number), fd(fd) {}
    virtual ~CheckContext() = default;

    const Request& request;
    const Config& config;
    db::Session& db;
    const std::time_t now;            // sampled once per request (reference NOW)
    const std::uint64_t rcpt_number;  // the reference's rcpt=N counter
    const int fd;                     // the client's socket, for the reference's "fd: N" lines
    // The checks enabled for this request, in order, whose row lookups
    // row_matches() asks together (the pipeline sets them; the checks must
    // outlive the context). Forgets the answers of earlier ones.
    void set_enabled_checks(std::vector<const Check*> checks);

    // Whether `check`'s row_lookup() finds a row (false without a lookup).
    // The first call asks the lookups of every enabled check in one
    // statement (a later check's guarded insert, when it can carry them,
    // else the carried selects' read when there is one) and keeps the
    // answers for the later calls; a
    // check not among them (or none set: a check run alone) asks alone. If
    // the combined statement fails other than by an outage (a missing
    // table, say), every check asks alone from then on, so the failure
    // stays with the check whose table it is, as when each check had its
    // own SELECT. Throws db::Error.
    bool row_matches(const Check& check);

    // The affected-row count of `check`'s guarded_insert() when the first
    // row_matches() of this request sent it and none of the lookups before
    // `check` matched; nullopt when it was not sent (the check sends its
    // INSERT itself). A count of 0 can also mean that a lookup matched when
    // the INSERT ran and no longer did when the lookups were asked after
    // it: the check confirms a 0 by finding its row. Given once. Throws the
    // db::Error of the carried INSERT when it failed and the lookups asked
    // after it did not (the failure is the INSERT's own, so it is the
    // check's, and sending the INSERT again would only wait twice for a
    // held row lock).
    std::optional<std::uint64_t> carried_insert(const Check& check);

    // The row of `check`'s carried_select() (its `width` columns). The
    // first call of a request, or row_matches() before it, reads it with
    // the lookups and the carried selects of the enabled checks after
    // `check` in one statement. When the statement that carried the
    // lookups had no room for it, or that read failed other than by an
    // outage, the select is sent alone, so a failure of the check's own
    // table is its own. Throws db::Error.
    db::Row carried_row(const Check& check);
    // The same row when the request's first read, sent already by an
    // earlier check, carried it; nullopt otherwise. Never sends anything:
    // for a check that reads either before its write (with the others) or
    // after it (alone, and only when needed). Given once.
    std::optional<db::Row> row_read_with_others(const Check& check);

    // Logs the reference's standard decision line:
    //   rcpt=<N>, <token>, host=<IP> (<NAME>), from=<SENDER>, to=<RCPT>, size=<SIZE><extra>
    void log_decision(std::string_view token, std::string_view extra = {});
    // Logs a decision line with its own tail after the head every decision
    // line shares (the throttles print their own size= and counters):
    //   rcpt=<N>, <token>, host=<IP> (<NAME>), from=<SENDER>, to=<RCPT><tail>
    // Every decision line goes through here, so a subclass sees each token.
    virtual void log_decision_tail(std::string_view token, std::string_view tail);
    // The context is about to send a statement for `check` while another
    // check runs (the carried insert), or is back to the running one: the
    // pipeline follows it, so a request timeout is answered for the check
    // the worker is waiting for.
    virtual void working_for(const Check&) {}
    // Logs a line verbatim (for the few reference lines with another shape).
    virtual void log_line(std::string_view line);
    // The text log_decision_tail() logs.
    std::string decision_text(std::string_view token, std::string_view tail) const;

private:
    using Lookups = std::vector<std::optional<RowLookup>>;
    Lookups all_lookups() const;
    void read_together(std::size_t caller);
    std::optional<std::uint64_t> ask_together(const Lookups& lookups);
    std::optional<std::pair<const Check*, GuardedInsert>> guarded_insert_carrier(
        std::size_t caller, const Lookups& lookups) const;
    std::optional<std::uint64_t> send_carried_insert(const Check& carrier,
                                                     const GuardedInsert& insert,
                                                     const Lookups& lookups);
    std::optional<std::uint64_t> send_carried_selects(std::size_t caller,
                                                      const Lookups& lookups);

    std::vector<const Check*> enabled_checks_;
    bool read_ = false;                      // the first ask of the request was sent
    std::optional<std::uint64_t> row_hits_;  // bit i: enabled_checks_[i] matched
    bool ask_alone_ = false;                 // the combined statement failed
    const Check* carrier_ = nullptr;         // whose guarded insert carried the lookups
    std::optional<std::uint64_t> carried_;   // what it changed
    std::optional<std::string> carried_error_;  // or how it failed
    std::vector<std::pair<const Check*, db::Row>> carried_rows_;  // the carried selects' rows
};

class Check {
public:
    virtual ~Check() = default;

    // The reference's module token, used in "<name>=bypass|failed" lines.
    virtual std::string_view name() const = 0;
    // Whether the check runs at all with this configuration.
    virtual bool enabled(const Config& config) const = 0;
    // Decides one request. Throws db::Error when the database fails; the
    // pipeline then applies FAILSAFE.
    virtual Decision run(CheckContext& ctx) const = 0;
    // Whether this check still runs after an earlier check returned Pass
    // (the reference hands greylist passes on to the throttles).
    virtual bool resumes_after_pass(const Config&) const { return false; }
    // The row this check decides on, for row_matches(); nullopt when it has
    // no such question or this request cannot match. It is asked together
    // with the other checks' before any of them runs, so it must not depend
    // on what an earlier check writes for the same request.
    virtual std::optional<RowLookup> row_lookup(const CheckContext&) const { return std::nullopt; }
    // Whether run() decides this request on row_matches() alone, writing
    // and deciding nothing before it: a later check's guarded insert may
    // then be sent in its place, guarded by its lookup.
    virtual bool decides_by_row_lookup(const CheckContext&) const { return false; }
    // This request's first statement as a GuardedInsert, when it is an
    // INSERT that depends on nothing the check reads first; run() then
    // asks ctx.carried_insert(*this) before sending it.
    virtual std::optional<GuardedInsert> guarded_insert(const CheckContext&) const {
        return std::nullopt;
    }
    // A one-row read of this request as a CarriedSelect (the check's first
    // statement, or one it can make before its write), when it depends on
    // nothing an earlier check writes for the request; run() then asks ctx.carried_row(*this) (or
    // ctx.row_read_with_others(*this)) before sending it. A check with a row
    // lookup offers neither a guarded insert nor a carried select; one that
    // offers both (the greylist: its triplet and the auto-list counts) has
    // the counts read with the others only when its insert does not carry
    // the lookups.
    virtual std::optional<CarriedSelect> carried_select(const CheckContext&) const {
        return std::nullopt;
    }
};

}  // namespace policyd
