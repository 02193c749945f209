// NAME
//   spamtrap.h - reject and blacklist clients that mail a spamtrap address
// SYNOPSIS
//   #include "policy/checks/spamtrap.h"
// DESCRIPTION
//   The reference's spamtrap.c: a recipient listed in
//   spamtrap with _active=1 (exact address) gets the spamtrap reply, and
//   the client (or its /24, BLACKLIST_NETBLOCK) goes into the blacklist
//   with SPAMTRAP_AUTO_EXPIRE, which takes effect while BLACKLISTING==1.
//
//   Runs when SPAMTRAPPING==1. Table: spamtrap (read), blacklist (written).
//   Log token: spamtrap=new.
#pragma once

#include "policy/check.h"

namespace policyd {

class SpamtrapCheck final : public Check {
public:
    std::string_view name() const override { return "spamtrap"; }
    bool enabled(const Config& config) const override { return config.spamtrapping == 1; }
    Decision run(CheckContext& ctx) const override;
    // An active spamtrap row for the recipient.
    std::optional<RowLookup> row_lookup(const CheckContext& ctx) const override;
    bool decides_by_row_lookup(const CheckContext&) const override { return true; }
};

}  // namespace policyd
