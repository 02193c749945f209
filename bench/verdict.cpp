// NAME
//   verdict.cpp - a reply's verdict and spelling (see verdict.h)
// DESCRIPTION
//   The action is the first word after "action=" (up to a space or tab);
//   a three-digit code is classed by its first digit, as smtpd does.
#include "verdict.h"

#include <array>
#include <cctype>

namespace bench {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(a[i])) != b[i]) return false;
    return true;
}

constexpr std::array kPass{"OK",   "DUNNO",    "PREPEND", "WARN", "INFO",           "FILTER",
                           "HOLD", "DISCARD",  "REDIRECT", "BCC", "DEFER_IF_REJECT"};
constexpr std::array kDefer{"DEFER", "DEFER_IF_PERMIT"};
constexpr std::array kReject{"REJECT"};

template <typename List>
bool one_of(std::string_view word, const List& list) {
    for (std::string_view name : list)
        if (iequals(word, name)) return true;
    return false;
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
    switch (verdict) {
    case Verdict::Pass: return "pass";
    case Verdict::Defer: return "defer";
    case Verdict::Reject: return "reject";
    case Verdict::Other: break;
    }
    return "other";
}

Verdict verdict_of(std::string_view reply) {
    constexpr std::string_view prefix = "action=";
    if (reply.size() < prefix.size() || !iequals(reply.substr(0, prefix.size()), "ACTION="))
        return Verdict::Other;
    std::string_view action = reply.substr(prefix.size());
    action = action.substr(0, action.find_first_of(" \t"));
    if (action.size() == 3 && is_digit(action[0]) && is_digit(action[1]) && is_digit(action[2])) {
        switch (action[0]) {
        case '2': return Verdict::Pass;
        case '4': return Verdict::Defer;
        case '5': return Verdict::Reject;
        default: return Verdict::Other;
        }
    }
    if (one_of(action, kPass)) return Verdict::Pass;
    if (one_of(action, kDefer)) return Verdict::Defer;
    if (one_of(action, kReject)) return Verdict::Reject;
    return Verdict::Other;
}

std::string spelling(std::string_view reply) {
    std::string out;
    out.reserve(reply.size());
    for (std::size_t i = 0; i < reply.size(); ++i) {
        if (!is_digit(reply[i])) {
            out += reply[i];
        } else if (i == 0 || !is_digit(reply[i - 1])) {
            out += '#';
        }
    }
    return out;
}

}  // namespace bench
