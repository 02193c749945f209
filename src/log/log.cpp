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
std::atomic<bool> use_syslog{false};
std::atomic<int> syslog_priority{LOG_MAIL | LOG_INFO};
std::atomic<long> debug_level{0};

}  // namespace

void to_stdout() { use_syslog = false; }

void to_syslog(const char* ident, int facility_and_priority) {
    openlog(ident, 0, 0);
    syslog_priority = facility_and_priority;
    use_syslog = true;
}

void set_debug_level(long level) { debug_level = level; }
bool debug_enabled(long level) { return debug_level >= level; }

void line(std::string_view text) {
    if (use_syslog) {
        syslog(syslog_priority, "%.*s", static_cast<int>(text.size()), text.data());
        return;
    }
    std::lock_guard<std::mutex> lock(stdout_mutex);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

}  // namespace policyd::log
