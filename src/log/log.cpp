// NAME
//   log.cpp - stdout/syslog sink (see log.h)
// DESCRIPTION
//   The sink is chosen once at start-up and may be switched by a reload;
//   a mutex keeps lines from different threads whole on stdout.
#include "log/log.h"

#include <syslog.h>

#include <atomic>
#include <cstdio>
#include <mutex>

namespace policyd::log {
namespace {

std::mutex stdout_mutex;
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
    std::lock_guard<std::mutex> lock(stdout_mutex);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

}  // namespace policyd::log
