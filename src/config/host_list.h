// NAME
//   host_list.h - MYSQLHOST as a list of database servers
// SYNOPSIS
//   #include "config/host_list.h"
//   std::string error;
//   std::vector<HostPort> hosts = parse_host_list("db1:3306,db2,[::1]:3307", 3306, error);
// DESCRIPTION
//   MYSQLHOST names one server, as in policyd 1.x, or several separated by
//   commas, each "host" or "host:port" ("[v6-address]:port" for an IPv6
//   address with a port). A missing port is the default given (MYSQLPORT).
//   A single entry is exactly the reference's MYSQLHOST: "" and "localhost"
//   still mean the local socket. The workers use the servers in this order
//   (docs/SCALING.md); the order is the administrator's preference.
//
//   parse_host_list() returns an empty list and sets `error` for a list
//   with an empty entry, a port outside 1..65535 or not a number, or more
//   than kMaxHosts entries. Pure; unit-tested.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace policyd {

struct HostPort {
    std::string host;   // as written, without brackets; "" for the client default
    unsigned port = 0;  // 0: the client default (3306)

    // "host:port" ("[v6]:port"), for logs and the statistics.
    std::string text() const;
    bool operator==(const HostPort&) const = default;
};

inline constexpr std::size_t kMaxHosts = 16;

std::vector<HostPort> parse_host_list(std::string_view list, unsigned default_port,
                                      std::string& error);

}  // namespace policyd
