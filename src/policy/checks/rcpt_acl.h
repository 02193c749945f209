// NAME
//   rcpt_acl.h - per sender/recipient white- and blacklisting (RCPT_ACL)
// SYNOPSIS
//   #include "policy/checks/rcpt_acl.h"
//   checks.push_back(std::make_unique<RcptAclCheck>());
// DESCRIPTION
//   The reference's rcpt_acl.c, the first check of the
//   chain. A rcpt_acl row pairs a sender (address or @domain; "<>" for
//   bounces) with a recipient (address or @domain). Of the matching rows the
//   one with the highest _priority decides, by the first character of
//   _wblist, compared case-sensitively:
//   - 'w': ACCEPT. Logged only as the reference's unconditional line
//     "DEBUG: fd: <fd> rcpt_acl whitelist found: <SDOM>/<SENDER> -> <RCPT>/<RDOM>"
//     (no rcpt= line); nothing else runs, not even the blacklists.
//   - 'b': the blacklist reply, token rcpt_acl=block.
//   - anything else: no opinion.
//   The table has no _expire column.
//
//   Difference from the reference: equal priorities were decided by
//   storage order. Here the more exact row wins: exact recipient
//   before @domain recipient, then exact sender before @domain sender
//   (the ORDER BY of its read, rcpt_acl.cpp).
#pragma once

#include <optional>
#include <string_view>

#include "policy/check.h"

namespace policyd {

class RcptAclCheck final : public Check {
public:
    std::string_view name() const override { return "rcpt_acl"; }
    bool enabled(const Config& config) const override { return config.rcpt_acl == 1; }
    Decision run(CheckContext& ctx) const override;
    // The deciding row's _wblist: a plain read of rcpt_acl, which no check
    // writes.
    std::optional<CarriedSelect> carried_select(const CheckContext& ctx) const override;
};

}  // namespace policyd
