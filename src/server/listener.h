// NAME
//   listener.h - the listening socket, bound before privileges are dropped
// SYNOPSIS
//   #include "server/listener.h"
//   int fd = bind_listener(config);   // throws StartupError
// DESCRIPTION
//   As the reference: getaddrinfo(BINDHOST, BINDPORT) and the
//   first address that binds wins, IPv4 or IPv6; an absent BINDHOST means
//   every address. The socket is non-blocking and listening; the caller owns
//   the descriptor. bind_metrics_listener does the same for METRICS_BIND
//   (messages prefixed with the key) and returns -1 when it is off.
#pragma once

#include <stdexcept>

#include "config/config.h"

namespace policyd {

class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

int bind_listener(const Config& config);
int bind_metrics_listener(const Config& config);

}  // namespace policyd
