// NAME
//   net_load.h - closed-loop policy protocol client over libevent
// SYNOPSIS
//   #include "net_load.h"
//   bench::NetResult r = bench::run_network(options, budget, source, live, at_start);
// DESCRIPTION
//   Opens `connections` TCP connections to a policy server, spread over
//   `threads` event loops, and keeps `pipeline` requests in flight on each:
//   a reply lets the connection send its next request. After
//   `per_connection` requests (at a message boundary) a connection closes
//   and reconnects, as a Postfix smtpd process does when it exits; 0 keeps
//   it open. A connection that gets no reply for `timeout` seconds counts
//   its outstanding requests as timeouts and reconnects; one that is
//   closed or reset counts them as errors. Failed connects are retried
//   every 100 ms while the budget lasts; but a thread none of whose
//   connections opened within `timeout` seconds gives up, and if no
//   connection opened at all run_network throws "cannot connect to
//   host:port: <error> (...)" (nothing listening is not a load to measure).
//
//   With `idle_before` > 0 every connection is opened first and held idle
//   that long before the requests start. `at_start` runs just before the
//   first request and the clock for the figures (e.g. to read the server's
//   memory while every connection is idle, or the database's counters).
//
//   The latency of a request runs from writing it to reading its reply;
//   with the budget's rate (load.h), from its due time when the connection
//   was still busy then. `pipeline` stays the most in flight per connection.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "load.h"
#include "report.h"

namespace bench {

struct NetOptions {
    std::string host = "127.0.0.1";
    unsigned port = 10031;
    unsigned connections = 100;
    unsigned threads = 1;
    unsigned pipeline = 1;
    unsigned per_connection = 100;
    double timeout = 10;
    double idle_before = 0;
    bool progress = false;
};

struct NetResult {
    Stats stats;
    double seconds = 0;                        // first request to last reply
    std::optional<unsigned> idle_connections;  // open after idle_before
};

// Throws std::runtime_error when the host does not resolve or no connection
// could be opened within options.timeout.
NetResult run_network(const NetOptions& options, Budget& budget, const Source& source,
                      Live& live, const std::function<void()>& at_start);

}  // namespace bench
