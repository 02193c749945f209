// NAME
//   listener.cpp - bind BINDHOST:BINDPORT (see listener.h)
// DESCRIPTION
//   Messages keep the reference's wording ("warning: bind(): ...",
//   "fatal: can't bind to any address") so existing log watches still match.
#include "server/listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "log/log.h"

namespace policyd {

namespace {

// The first address of host:port that binds, listening with `backlog`;
// `what` prefixes the messages of a socket other than the policy port's.
int bind_tcp(const std::string& host_name, long port_number, int backlog, const std::string& what) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    const std::string port = std::to_string(port_number);
    const char* host = host_name.empty() || host_name == "0" ? nullptr : host_name.c_str();
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(host, port.c_str(), &hints, &found); rc != 0)
        throw StartupError("fatal: " + what + "getaddrinfo(): " + gai_strerror(rc));

    int fd = -1;
    for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            log::line("warning: " + what + "socket(): " + std::strerror(errno));
            continue;
        }
        const int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            log::line("warning: " + what + "bind(): " + std::strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0) throw StartupError("fatal: " + what + "can't bind to any address");
    if (listen(fd, backlog) != 0) {
        const std::string why = std::strerror(errno);
        close(fd);
        throw StartupError("fatal: " + what + "listen(): " + why);
    }
    return fd;
}

}  // namespace

int bind_listener(const Config& config) {
    // The longest accept queue the kernel allows (it caps the value at
    // net.core.somaxconn): a burst of clients must not overflow it, or the
    // kernel drops connections the clients believe established.
    return bind_tcp(config.bindhost, config.bindport, 65535, "");
}

int bind_metrics_listener(const Config& config) {
    if (config.metrics_port == 0) return -1;
    // A short queue: scrapers beyond the connection limit wait here, and
    // past it the kernel refuses them; nothing piles up.
    return bind_tcp(config.metrics_host, config.metrics_port, 8,
                    "METRICS_BIND " + config.metrics_bind + ": ");
}

}  // namespace policyd
