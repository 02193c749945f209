// NAME
//   helo.h - HELO randomization prevention (HRP)
// SYNOPSIS
//   #include "policy/checks/helo.h"
// DESCRIPTION
//   The reference's helo.c: every HELO a client address
//   uses is recorded in `helo` for HELO_AUTO_EXPIRE. A client that already
//   has HELO_MAX_COUNT (or more) HELOs on record when it sends a request
//   with a non-empty HELO is abusive: its address goes into the blacklist
//   for HELO_BLACKLIST_AUTO_EXPIRE (host only, never the netblock), its helo
//   rows are deleted and it gets the blacklist reply.
//
//   Runs when HELO_CHECK==1. Tables: helo (read, written), blacklist
//   (written). Log token: helo=abuse.
#pragma once

#include <optional>

#include "policy/check.h"

namespace policyd {

class HeloCheck final : public Check {
public:
    std::string_view name() const override { return "helo"; }
    bool enabled(const Config& config) const override { return config.helo_check == 1; }
    Decision run(CheckContext& ctx) const override;
    // The host's HELO count and whether this HELO is among them: a plain
    // read of the helo table, which only this check writes.
    std::optional<CarriedSelect> carried_select(const CheckContext& ctx) const override;
};

}  // namespace policyd
