// NAME
//   verdict.h - what a policy server's reply means, whoever spelled it
// SYNOPSIS
//   #include "verdict.h"
//   bench::Verdict v = bench::verdict_of("action=DEFER_IF_PERMIT Greylisted");  // Defer
//   std::string key = bench::spelling("action=PREPEND X-Greylist: delayed 61 seconds");
// DESCRIPTION
//   Policy servers say the same thing in different words: policyd 1.x
//   "action=defer_if_permit ...", postgrey "action=DEFER_IF_PERMIT ...",
//   sqlgrey "action=451 ..." or "action=dunno", postgrey and sqlgrey
//   "action=PREPEND X-Greylist: ..." for a triplet that passed. To compare
//   servers, policyd-bench counts each reply under its verdict: what the
//   SMTP client is told at RCPT time when no later restriction objects
//   (postconf(5), access(5); actions are case-insensitive):
//     pass    OK, DUNNO, PREPEND, WARN, INFO, FILTER, HOLD, DISCARD,
//             REDIRECT, BCC, DEFER_IF_REJECT, and any 2NN code
//     defer   DEFER, DEFER_IF_PERMIT and any 4NN code
//     reject  REJECT and any 5NN code
//     other   anything else (no "action=", an unknown action): a reply
//             Postfix would log as a policy server error
//   and under its spelling: the reply with every run of digits written
//   "#", so a reply that carries a delay, a date or a version counts as one
//   spelling rather than one per second.
#pragma once

#include <string>
#include <string_view>

namespace bench {

enum class Verdict { Pass, Defer, Reject, Other };
constexpr std::size_t kVerdicts = 4;

// "pass", "defer", "reject", "other".
std::string_view verdict_name(Verdict verdict);

// The verdict of one reply line ("action=..." without the newline).
Verdict verdict_of(std::string_view reply);

// The reply with every run of ASCII digits replaced by one "#".
std::string spelling(std::string_view reply);

}  // namespace bench
