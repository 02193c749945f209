// NAME
//   throttle_recipient.h - recipient throttling: deliveries per recipient
//   and time window
// SYNOPSIS
//   #include "policy/checks/throttle_recipient.h"
// DESCRIPTION
//   The reference's throttle_rcpt.c:
//   one row per recipient address (exact, lower-cased), every request that
//   reaches it counts as one delivery. A new recipient gets a row with
//   RECIPIENTMSGLIMIT / RECIPIENTTIMELIMIT; a stored 0 means that default.
//   The admission and its count are one conditional UPDATE.
//
//   Table: throttle_rcpt. Log tokens: throttle_rcpt=new(a)|clear(a)|
//   update(a|w|p)|abuse(f).
#pragma once

#include "policy/check.h"

namespace policyd {

class RecipientThrottleCheck final : public Check {
public:
    std::string_view name() const override { return "throttle_rcpt"; }
    bool enabled(const Config& config) const override { return config.recipientthrottle == 1; }
    Decision run(CheckContext& ctx) const override;
    // Greylist and sender-throttle passes are handed on to it.
    bool resumes_after_pass(const Config& config) const override {
        return config.recipientthrottle != 0;
    }
};

}  // namespace policyd
