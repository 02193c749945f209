// NAME
//   greylist.h - greylisting on (host, sender, recipient) triplets
// SYNOPSIS
//   #include "policy/checks/greylist.h"
// DESCRIPTION
//   The reference's greylist.c (modules.md §3.11): a new triplet is
//   deferred, a retry before TRIPLET_TIME is deferred again (abuse), a later
//   retry passes and counts the delivery. The triplet row is keyed on
//   GHOST (GREYLIST_HOSTADDR octets), SENDER and RCPT.
//
//   Table: triplet. Log tokens: greylist=new|abuse|update (and the failure
//   tokens greylist=bypass|failed via the pipeline).
#pragma once

#include "policy/check.h"

namespace policyd {

class GreylistCheck final : public Check {
public:
    std::string_view name() const override { return "greylist"; }
    bool enabled(const Config& config) const override { return config.greylisting == 1; }
    Decision run(CheckContext& ctx) const override;
};

}  // namespace policyd
