// NAME
//   job.h - one request on its way from a connection to a worker and back
// SYNOPSIS
//   #include "server/job.h"
//   Job job{...};  pool.submit(std::move(job));
// DESCRIPTION
//   A Job owns shared references to its request and the configuration it
//   arrived under, so a reload or a closed connection cannot free them
//   while a worker decides it. It moves from the connection to the worker
//   pool and back to the event loop with its reply filled in.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "policy/pipeline.h"
#include "protocol/request.h"

namespace policyd {

struct Job {
    std::uint64_t connection_id = 0;
    std::uint64_t sequence = 0;  // position of the request on its connection
    int fd = -1;                 // for the reference's "invalid" log lines
    std::shared_ptr<const Request> request;
    std::shared_ptr<const Config> config;  // the configuration it arrived under
    // Shared with the connection, which answers the request itself when
    // REQUEST_TIMEOUT passes; a worker then skips the job.
    std::shared_ptr<RequestProgress> progress;
    std::string reply;           // filled in by the worker
    std::chrono::steady_clock::time_point arrived;  // complete request read (for latency)
    // Its rcpt=N once numbered, 0 before: kept when a commit group that did
    // not commit puts it back in the queue (server/commit_group.h).
    std::uint64_t rcpt_number = 0;
};

}  // namespace policyd
