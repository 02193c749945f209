// NAME
//   values.h - the reference's policyd.conf value parsers
// SYNOPSIS
//   #include "config/values.h"
//   std::string v = filtered_value(line, key.size() + 1);
//   long seconds = parse_duration(v);
// DESCRIPTION
//   One function per parser of the reference's generic.c:read_conf and
//   syslog.c. The string parsers take one configuration
//   line (at most 255 bytes, as fgets(256) returned it) and the column where
//   the value starts, i.e. just after "KEY=". The number parsers take an
//   already FILTERED value.
//
//   Every parser throws ValueError with the reference's fatal text (for
//   durations and SYSLOG_FACILITY) or our own precise text; the caller adds
//   file, line and key.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace policyd {

class ValueError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// FILTERED: the bytes from `start` up to column 63 of the line (before
// column `line_cap`), keeping only [A-Za-z0-9@|.:_/-] and space. Quotes, '#',
// tabs, commas and CR vanish.
std::string filtered_value(std::string_view line, std::size_t start, std::size_t line_cap = 64);

// RAW: everything from `start` to the end of the line with every '"' and
// '\n' deleted. Trailing comments, tabs, quotes ' and '\r' are kept.
std::string raw_value(std::string_view line, std::size_t start);

// INT, made strict: optional leading spaces, an optional '-', at least one
// digit, then the end or a space (the words of a trailing comment after it
// are ignored). "yes", "", "3x" and values beyond a long throw. The reference
// used atol and read all of these as 0 or a prefix.
long parse_int(std::string_view filtered);

// DURATION, as generic.c:extract_seconds read it: a value starting with a
// digit whose atol is 0 gives 0; otherwise the LAST character is the unit
// (s m h d w M Y) and the result is atol(value) * unit. "1h30m" is 60,
// "4m # four" is 4, "300" throws "fatal: invalid time unit: 300". Unlike
// the reference (a 32-bit int, so "100Y" wrapped negative) the product is
// exact; one beyond a long saturates at LONG_MIN or LONG_MAX. The caller
// checks the key's range.
long parse_duration(std::string_view filtered);

// A number of seconds in the largest unit that writes it exactly, as
// policyd.conf does: 0 -> "0", 240 -> "4m", 321408000 -> "10Y", 90 -> "90s".
std::string format_duration(long seconds);

// True when a duration is written the way it reads ("4m", "-5 m", "0"),
// false when only its first number and last letter counted ("1h30m").
bool duration_is_plain(std::string_view filtered);

// BINDSOCKET_MODE: permission bits in octal, with or without a leading 0
// ("0660", "660"; 1 to 6 octal digits). Anything else throws; the caller
// checks the range.
long parse_file_mode(std::string_view word);

// BINDSOCKET: the first word of a RAW value (a trailing "# comment" after
// it is ignored); "" means no socket. Otherwise an absolute path of a file
// (not ending in '/') that fits a sockaddr_un, at most 107 bytes, without
// spaces; anything else throws.
std::string socket_path(std::string_view raw);

// SYSLOG_FACILITY (syslog.c:parse_syslog_priority): '|'-separated LOG_*
// names, matched case-insensitively and OR-ed; 0 becomes LOG_MAIL|LOG_INFO.
int parse_syslog_facility(std::string_view filtered);

// METRICS_BIND, of an already FILTERED first word: "" (off), or
// host:port with port 1..65535 and host an address or name before the last
// ':' (so "::1:9131" is IPv6 ::1; FILTERED drops brackets). An empty host
// means every address. Throws ValueError naming the range.
struct Endpoint {
    std::string text;  // as given
    std::string host;
    long port = 0;     // 0: off
};
Endpoint parse_endpoint(std::string_view word);

}  // namespace policyd
