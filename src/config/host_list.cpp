// NAME
//   host_list.cpp - MYSQLHOST as a list of database servers (see host_list.h)
// DESCRIPTION
//   "" (the client default, the local socket) is the one value that is not
//   an entry; everything else, one server or several, is parsed the same.
#include "config/host_list.h"

#include <charconv>

namespace policyd {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool parse_port(std::string_view text, unsigned& port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535)
        return false;
    port = value;
    return true;
}

// One entry: "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6
// address (more than one ':', no port).
bool parse_entry(std::string_view entry, unsigned default_port, HostPort& out, std::string& error) {
    out = HostPort{std::string(entry), default_port};
    std::string_view port_text;
    if (!entry.empty() && entry.front() == '[') {
        const std::size_t close = entry.find(']');
        if (close == std::string_view::npos) {
            error = "'" + std::string(entry) + "' has no closing ']'";
            return false;
        }
        out.host = std::string(entry.substr(1, close - 1));
        std::string_view rest = entry.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                error = "'" + std::string(entry) + "': ':port' expected after ']'";
                return false;
            }
            port_text = rest.substr(1);
        }
    } else if (const std::size_t colon = entry.find(':');
               colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
        out.host = std::string(entry.substr(0, colon));
        port_text = entry.substr(colon + 1);
        if (port_text.empty()) {
            error = "'" + std::string(entry) + "' has an empty port";
            return false;
        }
    }
    if (!port_text.empty() && !parse_port(port_text, out.port)) {
        error = "'" + std::string(entry) + "' has port '" + std::string(port_text) +
                "', not a number in 1..65535";
        return false;
    }
    if (out.host.empty()) {
        error = "'" + std::string(entry) + "' has no host";
        return false;
    }
    return true;
}

}  // namespace

std::string HostPort::text() const {
    const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return (shown.empty() ? std::string("localhost") : shown) + ":" +
           std::to_string(port ? port : 3306);
}

std::vector<HostPort> parse_host_list(std::string_view list, unsigned default_port,
                                      std::string& error) {
    error.clear();
    if (trim(list).empty()) return {HostPort{"", default_port}};
    std::vector<HostPort> hosts;
    for (std::size_t start = 0;;) {
        const std::size_t comma = list.find(',', start);
        const std::string_view entry =
            trim(list.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                    : comma - start));
        if (entry.empty()) {
            error = "an empty entry in the list";
            return {};
        }
        HostPort hp;
        if (!parse_entry(entry, default_port, hp, error)) return {};
        hosts.push_back(std::move(hp));
        if (hosts.size() > kMaxHosts) {
            error = "more than " + std::to_string(kMaxHosts) + " servers";
            return {};
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return hosts;
}

}  // namespace policyd
