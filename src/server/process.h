// NAME
//   process.h - daemonizing, the pid file, chroot and the privilege drop
// SYNOPSIS
//   #include "server/process.h"
//   daemonize();                    // DAEMON != 0, after the socket is bound
//   PidFile pid(config.pidfile);    // still root, before chroot
//   drop_privileges(config);        // chdir+chroot, groups, gid, uid
// DESCRIPTION
//   The reference's drop_privs with its bugs fixed:
//   supplementary groups are dropped, user and group names are accepted
//   (resolved by the configuration), and the pid file is opened without
//   following a symbolic link and only if it is a regular file with a single
//   link, so it cannot be used to clobber another file. Every failure throws StartupError.
#pragma once

#include <string>

#include "config/config.h"
#include "server/listener.h"

namespace policyd {

void daemonize();
// Writes the pid and keeps the file open: after chroot or a change of user
// the path may no longer be reachable or removable, but the descriptor is.
class PidFile {
public:
    explicit PidFile(std::string path);  // "" writes nothing
    // Removes the file, or empties it when it can no longer be removed
    // (init scripts read an empty pid file as "not running").
    ~PidFile();
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

private:
    std::string path_;
    int fd_ = -1;
};
void drop_privileges(const Config& config);

}  // namespace policyd
