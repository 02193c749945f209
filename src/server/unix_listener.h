// NAME
//   unix_listener.h - the Unix-domain socket of BINDSOCKET, from start to exit
// SYNOPSIS
//   #include "server/unix_listener.h"
//   UnixSocket unix_socket(config);   // before chroot and the privilege drop
//   Server server(config, path, tcp_fd, unix_socket.fd());
//   ...                               // ~Server closes the descriptor,
//                                     // ~UnixSocket then removes the file
// DESCRIPTION
//   Postfix asks a policy server on a socket path with
//   check_policy_service unix:/path; file permissions are the access
//   control, so CONN_ACL does not apply to it. With BINDSOCKET empty or
//   absent there is no socket and fd() is -1.
//
//   At start the path is taken as follows. Nothing there: the socket is
//   created. A socket file there: if a process accepts connections on it (a
//   connect succeeds, or its queue is full), start-up fails; another policyd
//   is serving that path and removing its socket would cut it off from
//   Postfix. If nothing accepts (the file a crashed daemon left behind), it
//   is removed and the socket created anew (logged). Anything else there (a
//   regular file, a directory, a symbolic link) is never touched: start-up
//   fails naming it. The socket is created with the mode BINDSOCKET_MODE
//   (set through the umask, so it is never more open, even for a moment) and
//   owned by UID/GID, the identity the daemon runs as after the privilege
//   drop.
//
//   At exit the file is removed if it is still the one we created (same
//   device and inode): a newer daemon's socket at the same path stays. The
//   directory is kept open from start, so removal works after chroot too;
//   if the new identity may not remove it (the directory is not writable by
//   UID), a warning is logged and the next start replaces it as stale.
//
//   Two daemons started at the same instant on one path may both find the
//   old socket stale; the later bind wins. Start-up is not the place to
//   race: an init system starts one.
#pragma once

#include <sys/types.h>

#include <string>

#include "config/config.h"

namespace policyd {

class UnixSocket {
public:
    // Binds and listens (non-blocking) when BINDSOCKET is set; throws
    // StartupError with a message naming the path otherwise.
    explicit UnixSocket(const Config& config);
    // Removes the socket file if it is still ours; never closes fd().
    ~UnixSocket();
    UnixSocket(const UnixSocket&) = delete;
    UnixSocket& operator=(const UnixSocket&) = delete;

    // The listening descriptor (-1: none); whoever serves it closes it.
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::string name_;  // the last component, relative to dir_fd_
    int dir_fd_ = -1;   // O_PATH descriptor of the directory, for unlinkat after chroot
    int fd_ = -1;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace policyd
