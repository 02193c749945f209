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

int bind_listener(const Config& config) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    const std::string port = std::to_string(config.bindport);
    const char* host = config.bindhost.empty() || config.bindhost == "0" ? nullptr
                                                                          : config.bindhost.c_str();
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(host, port.c_str(), &hints, &found); rc != 0)
        throw StartupError(std::string("fatal: getaddrinfo(): ") + gai_strerror(rc));

    int fd = -1;
    for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            log::line(std::string("warning: socket(): ") + std::strerror(errno));
            continue;
        }
        const int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            log::line(std::string("warning: bind(): ") + std::strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0) throw StartupError("fatal: can't bind to any address");
    // The longest accept queue the kernel allows (it caps the value at
    // net.core.somaxconn): a burst of clients must not overflow it, or the
    // kernel drops connections the clients believe established.
    if (listen(fd, 65535) != 0) {
        const std::string why = std::strerror(errno);
        close(fd);
        throw StartupError("fatal: listen(): " + why);
    }
    return fd;
}

}  // namespace policyd
