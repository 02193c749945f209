// NAME
//   throttle_sender.h - sender throttling: messages, recipients, bytes and
//   message size per sender key and time window
// SYNOPSIS
//   #include "policy/checks/throttle_sender.h"
// DESCRIPTION
//   The reference's throttle.c with throttle_host.c, throttle_sasl.c and
//   throttle_from.c. One key per
//   request, chosen by mode:
//   - HOST (SENDER_THROTTLE_HOST=1): the client address or one of its
//     netblock rows (a.b.c.%, a.b.%.%, a.%.%.%), highest _priority first;
//   - SASL (SENDER_THROTTLE_SASL=1 and a sasl_username): the username;
//   - ENVELOPE (SENDER_THROTTLE_ENVELOPE=1, or SASL mode without a
//     username): the sender or its @domain row, highest _priority first.
//   With no mode applying the request is not throttled and nothing logged.
//
//   A message is counted once (per Postfix instance), recipients and bytes
//   per request. Every decision is one INSERT ... ON DUPLICATE KEY UPDATE
//   ... RETURNING on the row (throttle_common.h); the instance is recorded
//   only for admitted requests (throttle_sender.cpp).
//
//   Tables: throttle, throttle_from_instance, and blacklist (HOST) or
//   blacklist_sender (ENVELOPE) for SENDER_THROTTLE_AUTOBLACKLIST. Log
//   tokens: throttle=new(a)|clear(a)|update(a|w|p)|abuse(f)|blacklisted(f).
#pragma once

#include "policy/check.h"

namespace policyd {

class SenderThrottleCheck final : public Check {
public:
    std::string_view name() const override { return "throttle"; }
    bool enabled(const Config& config) const override { return config.senderthrottle == 1; }
    Decision run(CheckContext& ctx) const override;
    // A greylist pass is handed on to the throttles (reference chk_pol).
    bool resumes_after_pass(const Config& config) const override {
        return config.senderthrottle != 0;
    }
    // The row lookup (throttle_sender.cpp, 1), which the lists' lookups
    // can ride in.
    std::optional<CarriedSelect> carried_select(const CheckContext& ctx) const override;
};

}  // namespace policyd
