// NAME
//   unix_listener.cpp - create, take over and remove the BINDSOCKET socket (see unix_listener.h)
// DESCRIPTION
//   Every step names the path in its error, and each failure after the
//   bind removes what was created, so a failed start leaves nothing behind.
//   The probe of an existing socket is a non-blocking connect: 0 or EAGAIN
//   (a full accept queue) mean a live listener, ECONNREFUSED means nobody
//   listens, anything else (EACCES, ...) is an error to report, not a
//   reason to remove someone's file.
#include "server/unix_listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "log/log.h"
#include "server/listener.h"

namespace policyd {
namespace {

std::string error_text(int err) { return std::strerror(err); }

}  // namespace

UnixSocket::UnixSocket(const Config& config) : path_(config.bindsocket) {
    if (path_.empty()) return;
    const std::string what = "fatal: BINDSOCKET " + path_;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::size_t slash = path_.rfind('/');
    if (path_.front() != '/' || path_.size() >= sizeof address.sun_path || slash + 1 == path_.size())
        throw StartupError(what + ": not an absolute file path of at most " +
                           std::to_string(sizeof address.sun_path - 1) + " bytes");
    std::memcpy(address.sun_path, path_.data(), path_.size());
    name_ = path_.substr(slash + 1);
    const std::string dir = slash == 0 ? "/" : path_.substr(0, slash);
    dir_fd_ = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0) throw StartupError(what + ": directory " + dir + ": " + error_text(errno));

    try {
        struct stat st {};
        if (fstatat(dir_fd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (!S_ISSOCK(st.st_mode))
                throw StartupError(what + " exists and is not a socket; it is left alone");
            const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            const int rc = probe < 0 ? -1
                                     : connect(probe, reinterpret_cast<const sockaddr*>(&address),
                                               sizeof address);
            const int err = errno;
            if (probe >= 0) close(probe);
            if (rc == 0 || err == EAGAIN)
                throw StartupError(what + ": another process listens on it (a policyd running?)");
            if (err != ECONNREFUSED)
                throw StartupError(what + ": cannot tell whether it is in use: " + error_text(err));
            if (unlinkat(dir_fd_, name_.c_str(), 0) != 0)
                throw StartupError(what + ": removing the stale socket: " + error_text(errno));
            log::line("removed stale socket " + path_ + " (nothing listened on it)");
        } else if (errno != ENOENT) {
            throw StartupError(what + ": " + error_text(errno));
        }

        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw StartupError(what + ": socket(): " + error_text(errno));
        // bind() creates the file with 0777 & ~umask: the umask of the mode
        // gives exactly BINDSOCKET_MODE from the first moment. Start-up is
        // single-threaded, so the process-wide umask is ours to change.
        const mode_t mode = static_cast<mode_t>(config.bindsocket_mode) & 0777;
        const mode_t saved = umask(~mode & 0777);
        const int bound = bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
        const int bind_error = errno;
        umask(saved);
        if (bound != 0) {
            close(fd_);
            fd_ = -1;
            throw StartupError(what + ": bind(): " + error_text(bind_error));
        }
        if (fstatat(dir_fd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw StartupError(what + ": " + error_text(errno));
        dev_ = st.st_dev;
        ino_ = st.st_ino;
        const auto uid = static_cast<uid_t>(config.uid);
        const auto gid = static_cast<gid_t>(config.gid);
        if ((st.st_uid != uid || st.st_gid != gid) &&
            fchownat(dir_fd_, name_.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
            throw StartupError(what + ": chown to UID " + std::to_string(uid) + ", GID " +
                               std::to_string(gid) + ": " + error_text(errno));
        if (listen(fd_, 65535) != 0) throw StartupError(what + ": listen(): " + error_text(errno));
    } catch (...) {
        if (fd_ >= 0) {
            close(fd_);
            fd_ = -1;
            unlinkat(dir_fd_, name_.c_str(), 0);  // ours: created by the bind above
        }
        close(dir_fd_);
        throw;
    }
}

UnixSocket::~UnixSocket() {
    if (dir_fd_ < 0) return;
    struct stat st {};
    const char* failed = nullptr;
    if (fstatat(dir_fd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) failed = "cannot check socket ";
    } else if (st.st_dev == dev_ && st.st_ino == ino_ && unlinkat(dir_fd_, name_.c_str(), 0) != 0) {
        failed = "cannot remove socket ";
    }
    if (failed)
        log::line(std::string("warning: ") + failed + path_ + ": " + error_text(errno) +
                  " (the next start replaces it)");
    close(dir_fd_);
}

}  // namespace policyd
