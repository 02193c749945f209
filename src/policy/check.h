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
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "protocol/request.h"

namespace policyd {

namespace db { class Session; }

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
    // The white- and blacklists this request matched, one bit per list
    // (list_checks.h): filled by the first list check that runs, with one
    // statement for every list, and read by the others.
    std::optional<std::uint32_t> list_hits;

    // Logs the reference's standard decision line:
    //   rcpt=<N>, <token>, host=<IP> (<NAME>), from=<SENDER>, to=<RCPT>, size=<SIZE><extra>
    virtual void log_decision(std::string_view token, std::string_view extra = {});
    // Logs a line verbatim (for the few reference lines with another shape).
    virtual void log_line(std::string_view line);
    // The head every decision line shares, for lines with another tail
    // (the throttles print their own size= and counters):
    //   rcpt=<N>, <token>, host=<IP> (<NAME>), from=<SENDER>, to=<RCPT>
    std::string decision_head(std::string_view token) const;
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
};

}  // namespace policyd
