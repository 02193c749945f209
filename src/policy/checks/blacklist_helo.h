// NAME
//   blacklist_helo.h - blacklist clients that HELO with our own names
// SYNOPSIS
//   #include "policy/checks/blacklist_helo.h"
// DESCRIPTION
//   The reference's blacklist_helo.c with the user's
//   README wildcards: a blacklist_helo row matches when the HELO, or the
//   HELO in brackets, matches it, '%' being the only wildcard. A hit writes
//   the client (or its /24, BLACKLIST_NETBLOCK) into the blacklist with
//   BLACKLIST_HELO_AUTO_EXPIRE and rejects with the blacklist reply.
//
//   Runs when BLACKLISTING==1 and BLACKLIST_HELO==1. Table: blacklist_helo
//   (read), blacklist (written). Log token: blacklist_helo=new.
#pragma once

#include "policy/check.h"

namespace policyd {

class BlacklistHeloCheck final : public Check {
public:
    std::string_view name() const override { return "blacklist_helo"; }
    bool enabled(const Config& config) const override {
        return config.blacklisting == 1 && config.blacklist_helo == 1;
    }
    Decision run(CheckContext& ctx) const override;
    // A row whose pattern matches the HELO or [HELO]; none for an empty HELO.
    std::optional<RowLookup> row_lookup(const CheckContext& ctx) const override;
    bool decides_by_row_lookup(const CheckContext&) const override { return true; }
};

}  // namespace policyd
