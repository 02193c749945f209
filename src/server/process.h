// NAME
//   process.h - daemonizing, the pid file, chroot and the privilege drop
// SYNOPSIS
//   #include "server/process.h"
//   daemonize();                    // DAEMON != 0, after the socket is bound
//   write_pidfile(config.pidfile);  // still root, before chroot
//   drop_privileges(config);        // chdir+chroot, groups, gid, uid
// DESCRIPTION
//   The reference's drop_privs (core.md §1.5-1.6) with its bugs fixed:
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
void write_pidfile(const std::string& path);
void remove_pidfile(const std::string& path) noexcept;
void drop_privileges(const Config& config);

}  // namespace policyd
