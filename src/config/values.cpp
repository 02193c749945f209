// NAME
//   values.cpp - the reference's policyd.conf value parsers
// SYNOPSIS
//   #include "config/values.h"
// DESCRIPTION
//   See values.h. The duration and syslog parsers reproduce the reference's
//   numbers and its accepted inputs exactly (the duration table and SYSLOG_FACILITY);
//   only INT is stricter, because a silent 0 for "yes" is never what the
//   administrator meant.
#include "config/values.h"

#include <syslog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <strings.h>

namespace policyd {

namespace {

// The reference's filter set (generic.c:extract), also used for requests.
bool kept_by_filter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '@' || c == '|' || c == '.' || c == ':' || c == '_' || c == '-' || c == '/' ||
           c == ' ';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// C atol as glibc implements it (strtol: leading space, sign, saturation).
long c_atol(std::string_view s) {
    const std::string copy(s);
    return std::strtol(copy.c_str(), nullptr, 10);
}

std::string_view trim_spaces(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

long unit_seconds(char unit) {
    switch (unit) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 604800;
    case 'M': return 2678400;   // 31 days
    case 'Y': return 32140800;  // 12 * 31 days
    default: return 0;
    }
}

struct SyslogName {
    const char* name;
    int value;
};

constexpr SyslogName syslog_names[] = {
    {"LOG_EMERG", LOG_EMERG},     {"LOG_ALERT", LOG_ALERT},     {"LOG_CRIT", LOG_CRIT},
    {"LOG_ERR", LOG_ERR},         {"LOG_WARNING", LOG_WARNING}, {"LOG_NOTICE", LOG_NOTICE},
    {"LOG_INFO", LOG_INFO},       {"LOG_DEBUG", LOG_DEBUG},     {"LOG_KERN", LOG_KERN},
    {"LOG_USER", LOG_USER},       {"LOG_MAIL", LOG_MAIL},       {"LOG_DAEMON", LOG_DAEMON},
    {"LOG_AUTH", LOG_AUTH},       {"LOG_SYSLOG", LOG_SYSLOG},   {"LOG_AUTHPRIV", LOG_AUTHPRIV},
    {"LOG_LOCAL0", LOG_LOCAL0},   {"LOG_LOCAL1", LOG_LOCAL1},   {"LOG_LOCAL2", LOG_LOCAL2},
    {"LOG_LOCAL3", LOG_LOCAL3},   {"LOG_LOCAL4", LOG_LOCAL4},   {"LOG_LOCAL5", LOG_LOCAL5},
    {"LOG_LOCAL6", LOG_LOCAL6},   {"LOG_LOCAL7", LOG_LOCAL7},
};

}  // namespace

std::string filtered_value(std::string_view line, std::size_t start, std::size_t line_cap) {
    std::string out;
    for (std::size_t i = start; i < line.size() && i < line_cap; ++i)
        if (kept_by_filter(line[i])) out += line[i];
    return out;
}

std::string raw_value(std::string_view line, std::size_t start) {
    std::string out;
    for (std::size_t i = start; i < line.size(); ++i)
        if (line[i] != '"' && line[i] != '\n') out += line[i];
    return out;
}

long parse_int(std::string_view filtered) {
    std::string_view s = filtered;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    std::size_t i = (!s.empty() && s.front() == '-') ? 1 : 0;
    const std::size_t digits = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == digits || (i < s.size() && s[i] != ' '))
        throw ValueError("not a number: '" + std::string(filtered) + "'");
    const std::string number(s.substr(0, i));
    errno = 0;
    const long v = std::strtol(number.c_str(), nullptr, 10);
    if (errno == ERANGE) throw ValueError("number out of range: '" + number + "'");
    return v;
}

long parse_duration(std::string_view filtered) {
    if (!filtered.empty() && is_digit(filtered.front()) && c_atol(filtered) == 0) return 0;
    const long unit = filtered.empty() ? 0 : unit_seconds(filtered.back());
    if (unit == 0) throw ValueError("fatal: invalid time unit: " + std::string(filtered));
    const long count = c_atol(filtered);  // saturated by strtol when it is too long
    long seconds = 0;
    if (__builtin_mul_overflow(count, unit, &seconds))
        return count < 0 ? std::numeric_limits<long>::min() : std::numeric_limits<long>::max();
    return seconds;
}

std::string format_duration(long seconds) {
    if (seconds == 0) return "0";
    for (const char unit : {'Y', 'M', 'w', 'd', 'h', 'm'})
        if (seconds % unit_seconds(unit) == 0)
            return std::to_string(seconds / unit_seconds(unit)) + unit;
    return std::to_string(seconds) + "s";
}

bool duration_is_plain(std::string_view filtered) {
    std::string_view s = trim_spaces(filtered);
    if (!s.empty() && s.front() == '-') s.remove_prefix(1);
    std::size_t i = 0;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == 0) return false;
    if (i == s.size()) return c_atol(s) == 0;  // a bare 0
    const std::string_view rest = trim_spaces(s.substr(i));
    return rest.size() == 1 && unit_seconds(rest.front()) != 0;
}

int parse_syslog_facility(std::string_view filtered) {
    int result = 0;
    bool any = false;
    std::size_t pos = 0;
    while (pos <= filtered.size()) {
        const std::size_t bar = std::min(filtered.find('|', pos), filtered.size());
        const std::string_view raw_token = filtered.substr(pos, bar - pos);
        pos = bar + 1;
        if (raw_token.empty()) continue;  // strtok skips empty fields
        any = true;
        const std::string token(trim_spaces(raw_token));
        const SyslogName* found = nullptr;
        for (const auto& n : syslog_names)
            if (strcasecmp(n.name, token.c_str()) == 0) found = &n;
        if (!found) throw ValueError("fatal: didn't find priority '" + token + "', exiting");
        result |= found->value;
    }
    if (!any)
        throw ValueError("fatal: error parsing (1st) syslog string: (null) from " +
                         std::string(filtered));
    return result == 0 ? (LOG_MAIL | LOG_INFO) : result;
}

long parse_file_mode(std::string_view word) {
    const bool octal = !word.empty() && word.size() <= 6 &&
                       std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '7'; });
    if (!octal)
        throw ValueError("'" + std::string(word) +
                         "' is not an octal file mode: use 0000..0777, e.g. 0660");
    return std::strtol(std::string(word).c_str(), nullptr, 8);
}

std::string socket_path(std::string_view raw) {
    const std::string_view value = trim_spaces(raw);
    const std::size_t end = value.find_first_of(" \t\r");
    const std::string_view path = value.substr(0, end);
    const std::string_view rest = end == std::string_view::npos ? "" : trim_spaces(value.substr(end));
    if (path.empty() || path.front() == '#') return {};
    if (!rest.empty() && rest.front() != '#')
        throw ValueError("'" + std::string(value) + "': a path without spaces is required");
    if (path.front() != '/' || path.back() == '/')
        throw ValueError("'" + std::string(path) + "' is not an absolute path of a file");
    constexpr std::size_t kMax = 107;  // sizeof(sockaddr_un::sun_path) - 1 on Linux
    if (path.size() > kMax)
        throw ValueError("the path has " + std::to_string(path.size()) +
                         " bytes; a socket path has at most " + std::to_string(kMax));
    return std::string(path);
}

Endpoint parse_endpoint(std::string_view word) {
    Endpoint e;
    e.text = std::string(word);
    if (word.empty()) return e;
    const std::size_t colon = word.rfind(':');
    const std::string_view port = colon == std::string_view::npos ? word : word.substr(colon + 1);
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(),
                                    [](unsigned char c) { return std::isdigit(c) != 0; });
    const long number = digits ? std::stol(std::string(port)) : 0;
    if (colon == std::string_view::npos || number < 1 || number > 65535)
        throw ValueError("'" + e.text +
                         "' is not host:port with a port of 1..65535 (empty: metrics off)");
    e.host = std::string(word.substr(0, colon));
    e.port = number;
    return e;
}

}  // namespace policyd
