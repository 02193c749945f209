// NAME
//   process.cpp - daemon start-up steps (see process.h)
// DESCRIPTION
//   CHROOT=/ is the shipped value and needs no chroot(2): skipping it lets
//   the daemon run unprivileged in development. Identity changes happen only
//   when they change something, for the same reason.
#include "server/process.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace policyd {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw StartupError(what + ": " + std::strerror(errno));
}

}  // namespace

void daemonize() {
    pid_t pid = fork();
    if (pid < 0) fail("fatal: fork()");
    if (pid > 0) _exit(0);
    if (setsid() < 0) fail("fatal: setsid()");
    pid = fork();
    if (pid < 0) fail("fatal: fork()");
    if (pid > 0) _exit(0);
    umask(022);
    const int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
        if (devnull > STDERR_FILENO) close(devnull);
    }
}

PidFile::PidFile(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("fopen(): " + path_);
    struct stat st {};
    const std::string text = std::to_string(getpid()) + "\n";
    // A second link would let whoever made it aim the truncate below at
    // another file (say /etc/shadow), as a symbolic link would.
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd_);
        throw StartupError("fatal: pid file " + path_ + " is not a regular file with one link");
    }
    if (ftruncate(fd_, 0) != 0 ||
        write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        close(fd_);
        fail("fatal: writing " + path_);
    }
}

PidFile::~PidFile() {
    if (fd_ < 0) return;
    if (unlink(path_.c_str()) != 0) {
        const int emptied = ftruncate(fd_, 0);  // best effort; a restart overwrites it
        (void)emptied;
    }
    close(fd_);
}

void drop_privileges(const Config& config) {
    if (chdir(config.chroot.c_str()) != 0) fail("chdir()");
    if (config.chroot != "/" && chroot(".") != 0) fail("chroot()");
    const auto gid = static_cast<gid_t>(config.gid);
    const auto uid = static_cast<uid_t>(config.uid);
    if (geteuid() == 0 && (uid != 0 || gid != 0)) {
        if (setgroups(0, nullptr) != 0) fail("setgroups()");
    }
    if (getegid() != gid && setgid(gid) != 0) fail("setgid()");
    if (geteuid() != uid && setuid(uid) != 0) fail("setuid()");
}

}  // namespace policyd
