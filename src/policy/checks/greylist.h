// NAME
//   greylist.h - greylisting on (host, sender, recipient) triplets
// SYNOPSIS
//   #include "policy/checks/greylist.h"
// DESCRIPTION
//   The reference's greylist.c: a new triplet is
//   deferred, a retry before TRIPLET_TIME is deferred again (abuse), a later
//   retry passes and counts the delivery. The triplet row is keyed on
//   GHOST (GREYLIST_HOSTADDR octets), SENDER and RCPT.
//
//   Around the triplet, each only when switched on:
//   - OPTINOUT: the policy table opts a recipient or @domain in or out;
//   - TRAINING_MODE / TRAINING_POLICY_TIMEOUT: new and early triplets pass
//     (and are recorded) instead of being deferred;
//   - AUTO_WHITE_LISTING: a host with enough passed triplets is whitelisted;
//   - AUTO_BLACK_LISTING: a host with too many never-passed triplets is
//     blacklisted.
//
//   Tables: triplet, policy, policy_training; writes whitelist and
//   blacklist. Log tokens: greylist=new|abuse|update|new_train|update_train|
//   optout|awl|abl (and greylist=bypass|failed via the pipeline).
//   docs/GREYLISTING.md is the administrator's description.
#pragma once

#include <optional>

#include "policy/check.h"

namespace policyd {

class GreylistCheck final : public Check {
public:
    std::string_view name() const override { return "greylist"; }
    bool enabled(const Config& config) const override { return config.greylisting == 1; }
    Decision run(CheckContext& ctx) const override;
    // The triplet INSERT, unless opt-in/out or policy_training must be
    // read before it.
    std::optional<GuardedInsert> guarded_insert(const CheckContext& ctx) const override;
    // With AUTO_BLACK_LISTING or AUTO_WHITE_LISTING (NUMBER > 1), the host's
    // never-passed and passed triplets, read before the triplet is written;
    // used when the request's first read carries them.
    std::optional<CarriedSelect> carried_select(const CheckContext& ctx) const override;
};

// `optin` is the _optin of the winning policy row: nullopt when OPTINOUT is
// off or no row matched (the reference's `state` then keeps OPTINOUTALL).

// Whether the recipient is opted out: OPTINOUT==1 and a state of 0.
bool opted_out(const Config& config, std::optional<long long> optin);

// Whether the triplet is trained (recorded and passed) rather than
// greylisted. `training_rows`: live policy_training rows for the recipient,
// nullopt when TRAINING_POLICY_TIMEOUT is 0 (no lookup). Any non-zero
// TRAINING_MODE trains (the reference passed silently for values other
// than 1); a state of 2 (_optin=2, OPTINOUTALL=2) trains unless the
// policy_training lookup replaced it, as in the reference.
bool in_training(const Config& config, std::optional<long long> optin,
                 std::optional<long long> training_rows);

}  // namespace policyd
