// NAME
//   server_status.cpp - MariaDB status counters, process memory and CPU (see server_status.h)
// DESCRIPTION
//   The counters come from information_schema.GLOBAL_STATUS (which, unlike
//   SHOW STATUS, can be prepared); the reading itself is one statement and
//   is subtracted. Memory is VmRSS from /proc/<pid>/status, CPU time the
//   utime and stime fields of /proc/<pid>/stat.
#include "server_status.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace bench {

DbCounters read_counters(policyd::db::Session& session) {
    // information_schema, unlike SHOW, can be a prepared statement.
    const auto rows = session.query(
        "SELECT UPPER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
        "WHERE VARIABLE_NAME IN ('Questions','Com_stmt_execute','Com_stmt_prepare')");
    DbCounters c;
    for (const auto& row : rows) {
        if (row.size() < 2 || !row[0] || !row[1]) continue;
        const std::uint64_t value = std::stoull(*row[1]);
        if (*row[0] == "QUESTIONS") c.questions = value;
        if (*row[0] == "COM_STMT_EXECUTE") c.stmt_execute = value;
        if (*row[0] == "COM_STMT_PREPARE") c.stmt_prepare = value;
    }
    return c;
}

DbCounters counters_spent(const DbCounters& before, const DbCounters& after) {
    // The second reading is one executed statement of our own.
    auto spent = [](std::uint64_t b, std::uint64_t a, std::uint64_t own) {
        return a >= b + own ? a - b - own : 0;
    };
    return {spent(before.questions, after.questions, 1),
            spent(before.stmt_execute, after.stmt_execute, 1),
            spent(before.stmt_prepare, after.stmt_prepare, 0)};
}

std::optional<std::uint64_t> cpu_ticks(const std::string& stat_line) {
    // The command name (field 2) may hold spaces and ')': count the fields
    // after its last ')'.
    const auto close = stat_line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat_line.substr(close + 1));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    int i = 3;
    for (; i <= 15 && fields >> field; ++i) {  // utime is field 14, stime 15
        if (i < 14) continue;
        if (field.empty() || field.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        (i == 14 ? utime : stime) = std::stoull(field);
    }
    if (i != 16) return std::nullopt;  // the line ended early
    return utime + stime;
}

std::optional<double> cpu_seconds(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    const auto ticks = cpu_ticks(line);
    if (!ticks) return std::nullopt;
    return static_cast<double>(*ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::optional<std::uint64_t> resident_kb(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            std::uint64_t kb = 0;
            if (status >> kb) return kb;
            return std::nullopt;
        }
        status.ignore(4096, '\n');
    }
    return std::nullopt;
}

}  // namespace bench
