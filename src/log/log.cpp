// NAME
//   log.cpp - stdout/syslog sink (see log.h)
// DESCRIPTION
//   The sink is chosen once at start-up and may be switched by a reload.
//   A stdout line is one write() of text and newline, which the kernel
//   keeps whole against other threads' lines (regular files, and pipes up
//   to PIPE_BUF; our lines are far shorter), so workers take no lock: a
//   shared mutex held across one write per decision made them queue.
#include "log/log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace policyd::log {
namespace {

enum class Sink { Stdout, Syslog, Nowhere };
std::atomic<Sink> sink{Sink::Stdout};
std::atomic<int> syslog_priority{LOG_MAIL | LOG_INFO};
std::atomic<long> debug_level{0};

}  // namespace

void to_stdout() { sink = Sink::Stdout; }
void to_nowhere() { sink = Sink::Nowhere; }

void to_syslog(const char* ident, int facility_and_priority) {
    openlog(ident, 0, 0);
    syslog_priority = facility_and_priority;
    sink = Sink::Syslog;
}

void set_debug_level(long level) { debug_level = level; }
bool debug_enabled(long level) { return debug_level >= level; }

void line(std::string_view text) {
    if (sink == Sink::Nowhere) return;
    if (sink == Sink::Syslog) {
        syslog(syslog_priority, "%.*s", static_cast<int>(text.size()), text.data());
        return;
    }
    std::string whole;
    whole.reserve(text.size() + 1);
    whole.append(text).push_back('\n');
    for (std::size_t done = 0; done < whole.size();) {
        const ssize_t n = ::write(STDOUT_FILENO, whole.data() + done, whole.size() - done);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return;
        }
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace policyd::log
