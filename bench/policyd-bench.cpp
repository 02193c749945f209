// NAME
//   policyd-bench - closed-loop load generator for Postfix policy servers
// SYNOPSIS
//   policyd-bench [HOST:PORT] [--connections N] [--requests N | --duration S]
//                 [--mix new|retry|whitelisted|blacklisted|throttled|multi-rcpt|mixed|K=W,...]
//                 [--rate R] [--pipeline K] [--per-connection N] [--threads T] [--timeout S]
//                 [--idle-before S] [--watch-pid PID] [--json]
//                 [--config policyd.conf | --mysql-host H --mysql-port P ...]
//   policyd-bench --db-floor --config policyd.conf [--connections N] [--mix ...] ...
// DESCRIPTION
//   Sends generated Postfix 3.x policy requests (workload.h) to any policy
//   server over N connections (net_load.h), as fast as it answers or at a
//   paced --rate (load.h), and reports requests/s, latency
//   percentiles, a count of every distinct reply, timeouts and errors, as
//   text or one JSON object (report.h). With a database (from --config or
//   the --mysql-* options) it also reports the MariaDB round trips per
//   request, from the server's Questions counter before and after.
//
//   --db-floor runs the same requests through policyd's own pipeline from N
//   threads straight against the database of --config (db_floor.h): the
//   ceiling the daemon's throughput is measured against.
//
//   Mixes with "retry" are seeded first: each retry triplet is sent twice,
//   which makes it pass when the server runs with TRIPLET_TIME=0; the
//   replies of the second round are reported so a wrong setup shows.
//
//   Exit status: 0 when requests were answered, 1 when none was, 2 on a
//   usage error.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>

#include "config/config.h"
#include "db_floor.h"
#include "net_load.h"
#include "report.h"
#include "db/config_settings.h"
#include "server_status.h"
#include "workload.h"

namespace po = boost::program_options;

namespace {

// --db-floor starts one thread and one database connection per
// --connections; past this a typo would start thousands of each.
constexpr unsigned kMaxFloorConnections = 1000;

struct Args {
    bench::NetOptions net;
    bench::LoadPlan plan;
    bench::WorkloadOptions workload;
    std::string mix = "new";
    bool seed = true;
    bool db_floor = false;
    bool json = false;
    std::string config_path;
    policyd::db::Settings mysql;
    bool mysql_given = false;
    std::vector<pid_t> watch_pids;  // the first is the server whose memory is reported
};

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string default_run_id() {
    // Short and different per run, so runs do not meet each other's triplets.
    const auto t = static_cast<unsigned long long>(std::time(nullptr)) * 1000 + getpid() % 1000;
    std::string id;
    for (auto n = t; n; n /= 36) id.insert(id.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]);
    return id;
}

Args parse_args(int argc, char** argv) {
    Args a;
    std::string target;
    po::options_description o("options");
    o.add_options()
        ("help,h", "this text")
        ("connections,c", po::value(&a.net.connections)->default_value(100), "concurrent connections, 1-20000 (database floor: threads and database connections, 1-1000)")
        ("requests,n", po::value(&a.plan.requests), "stop after this many requests")
        ("duration,d", po::value(&a.plan.duration), "stop sending after this many seconds (default 10 without --requests)")
        ("mix,m", po::value(&a.mix)->default_value("new"), "new, retry, whitelisted, blacklisted, throttled, multi-rcpt, mixed, or kind=weight,...")
        ("rate", po::value(&a.plan.rate), "paced: this many requests/s over all connections, latency counted from each request's due time (default: closed loop)")
        ("pipeline", po::value(&a.net.pipeline)->default_value(1), "requests in flight per connection")
        ("per-connection", po::value(&a.net.per_connection)->default_value(100), "requests per connection before reconnecting (0: never)")
        ("threads", po::value(&a.net.threads)->default_value(1), "event-loop threads")
        ("timeout", po::value(&a.net.timeout)->default_value(10.0), "seconds without a reply before outstanding requests count as timeouts; with no connection open after it, exit 2")
        ("idle-before", po::value(&a.net.idle_before)->default_value(0.0), "open every connection and hold it idle this many seconds before sending")
        ("watch-pid", po::value(&a.watch_pids)->composing(), "report this local process's CPU per request; the first one's VmRSS (the server's) when idle and at the end (repeatable)")
        ("retry-pool", po::value(&a.workload.retry_pool)->default_value(2000), "distinct triplets of the retry mix")
        ("rcpts", po::value(&a.workload.rcpts)->default_value(10), "recipients per multi-rcpt message")
        ("whitelisted-prefix", po::value(&a.workload.whitelisted_prefix)->default_value("203.0.113"), "a.b.c of the whitelisted mix's clients (whitelist a.b.c.%), or an IPv6 x:y:z (clients x:y:z::1-fe)")
        ("blacklisted-prefix", po::value(&a.workload.blacklisted_prefix)->default_value("192.0.2"), "a.b.c of the blacklisted mix's clients (blacklist a.b.c.%), or an IPv6 x:y:z")
        ("run-id", po::value(&a.workload.run_id), "tag put into senders and recipients (default: new per run)")
        ("no-seed", "do not seed the retry triplets")
        ("json", "print one JSON object instead of text")
        ("db-floor", "run the daemon's pipeline straight against the database of --config")
        ("config", po::value(&a.config_path), "policyd.conf: database for --db-floor and the round-trip count")
        ("mysql-host", po::value(&a.mysql.host), "database for the round-trip count (overrides --config)")
        ("mysql-port", po::value(&a.mysql.port), "")
        ("mysql-socket", po::value(&a.mysql.socket), "")
        ("mysql-user", po::value(&a.mysql.user), "")
        ("mysql-password", po::value(&a.mysql.password), "")
        ("mysql-db", po::value(&a.mysql.database), "")
        ("target", po::value(&target), "HOST:PORT of the policy server (default 127.0.0.1:10031)");
    po::positional_options_description positional;
    positional.add("target", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(o).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    if (vm.count("help")) {
        std::cout << "usage: policyd-bench [HOST:PORT] [options]\n"
                     "       policyd-bench --db-floor --config policyd.conf [options]\n"
                  << o;
        std::exit(0);
    }
    if (!target.empty()) {
        const auto colon = target.rfind(':');
        if (colon == std::string::npos) throw UsageError("target must be HOST:PORT");
        a.net.host = target.substr(0, colon);
        if (a.net.host.size() > 2 && a.net.host.front() == '[') a.net.host = a.net.host.substr(1, a.net.host.size() - 2);
        a.net.port = static_cast<unsigned>(std::stoul(target.substr(colon + 1)));
    }
    if (a.net.connections < 1 || a.net.connections > 20000)
        throw UsageError("--connections must be 1 to 20000");
    if (a.net.pipeline < 1) throw UsageError("--pipeline must be at least 1");
    if (a.plan.rate < 0) throw UsageError("--rate must not be negative (0: closed loop)");
    if (a.net.timeout <= 0) throw UsageError("--timeout must be positive");
    if (!a.plan.requests && a.plan.duration <= 0) a.plan.duration = 10;
    if (!vm.count("run-id")) a.workload.run_id = default_run_id();
    a.seed = !vm.count("no-seed");
    a.json = vm.count("json") > 0;
    a.db_floor = vm.count("db-floor") > 0;
    if (a.db_floor && a.config_path.empty()) throw UsageError("--db-floor needs --config");
    if (a.db_floor && a.net.connections > kMaxFloorConnections)
        throw UsageError("--connections must be 1 to " + std::to_string(kMaxFloorConnections) +
                         " with --db-floor (one thread and database connection each)");
    for (const char* key : {"mysql-host", "mysql-port", "mysql-socket", "mysql-user",
                            "mysql-password", "mysql-db"})
        a.mysql_given = a.mysql_given || vm.count(key);
    a.net.progress = isatty(STDERR_FILENO);
    return a;
}

// --config's database, with any --mysql-* option laid over it.
std::optional<policyd::db::Settings> counter_database(const Args& a,
                                                      const std::optional<policyd::Config>& c) {
    if (!c && !a.mysql_given) return std::nullopt;
    policyd::db::Settings s = c ? policyd::db::settings_from_config(*c) : policyd::db::Settings{};
    if (!a.mysql.host.empty()) s.host = a.mysql.host;
    if (a.mysql.port) s.port = a.mysql.port;
    if (!a.mysql.socket.empty()) s.socket = a.mysql.socket;
    if (!a.mysql.user.empty()) s.user = a.mysql.user;
    if (!a.mysql.password.empty()) s.password = a.mysql.password;
    if (!a.mysql.database.empty()) s.database = a.mysql.database;
    return s;
}

// Enough descriptors for every connection, raising the hard limit if we may.
void raise_descriptor_limit(unsigned connections) {
    const rlim_t wanted = connections + 64;
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
    if (limit.rlim_max < wanted) {
        rlimit raised{wanted, wanted};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    }
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < wanted)
        std::cerr << "policyd-bench: warning: only " << limit.rlim_cur
                  << " descriptors allowed (RLIMIT_NOFILE); some connects will fail\n";
}

// One measured run: the network client or the database floor.
struct Run {
    bench::Stats stats;
    double seconds = 0;
    std::optional<std::uint64_t> statements;
    std::optional<unsigned> idle_connections;
};

Run run_load(const Args& a, const std::optional<policyd::Config>& config, bench::LoadPlan plan,
             const bench::Source& source, const std::function<void()>& at_start, bool idle) {
    bench::Budget budget(plan);
    bench::Live live;
    Run run;
    if (a.db_floor) {
        auto r = bench::run_db_floor(a.net.connections, *config, budget, source, live, at_start,
                                     a.net.progress);
        run.stats = std::move(r.stats);
        run.seconds = r.seconds;
        run.statements = r.statements;
    } else {
        bench::NetOptions net = a.net;
        if (!idle) net.idle_before = 0;
        auto r = bench::run_network(net, budget, source, live, at_start);
        run.stats = std::move(r.stats);
        run.seconds = r.seconds;
        run.idle_connections = r.idle_connections;
    }
    return run;
}

// Each retry triplet twice: the second round is what the report shows.
bench::Stats seed_retry_triplets(const Args& a, const std::optional<policyd::Config>& config,
                                 bench::Workload& workload) {
    bench::Stats second;
    for (int round = 0; round < 2; ++round) {
        std::atomic<std::uint64_t> index{0};
        const bench::Source source = [&] {
            return bench::Message{workload.seed_request(index++ % a.workload.retry_pool)};
        };
        second = run_load(a, config, {.requests = a.workload.retry_pool, .duration = 0}, source,
                          [] {}, false)
                     .stats;
    }
    return second;
}

int run(const Args& a) {
    std::optional<policyd::Config> config;
    if (!a.config_path.empty()) config = policyd::load_config(a.config_path);

    bench::Workload workload(bench::parse_mix(a.mix), a.workload);
    bench::Report report;
    report.mode = a.db_floor ? "db-floor" : "daemon";
    report.target = a.db_floor ? "database " + config->mysqldbase
                               : a.net.host + ":" + std::to_string(a.net.port);
    report.mix = bench::describe(workload.mix());
    report.connections = a.net.connections;
    report.threads = a.db_floor ? a.net.connections : std::max(1u, a.net.threads);
    report.pipeline = a.db_floor ? 1 : a.net.pipeline;
    report.per_connection = a.db_floor ? 0 : a.net.per_connection;
    report.offered_rate = a.plan.rate;
    if (!a.db_floor) raise_descriptor_limit(a.net.connections);

    if (workload.needs_seeding() && a.seed) report.seed = seed_retry_triplets(a, config, workload);

    // Read when everything is connected: connection set-up is not counted.
    std::unique_ptr<policyd::db::Session> counters;
    std::optional<bench::DbCounters> before;
    double own_cpu_before = 0;
    std::vector<std::optional<double>> watched_cpu_before;
    const auto settings = counter_database(a, config);
    if (settings) counters = std::make_unique<policyd::db::Session>(*settings);
    auto at_start = [&] {
        if (!a.watch_pids.empty()) report.rss_idle_kb = bench::resident_kb(a.watch_pids.front());
        own_cpu_before = bench::own_cpu_seconds();
        for (pid_t pid : a.watch_pids) watched_cpu_before.push_back(bench::cpu_seconds(pid));
        if (!counters) return;
        try {
            before = bench::read_counters(*counters);
        } catch (const policyd::db::Error& e) {
            report.db_error = e.what();
        }
    };
    Run measured = run_load(a, config, a.plan, [&] { return workload.next(); }, at_start, true);
    report.stats = std::move(measured.stats);
    report.seconds = measured.seconds;
    report.statements = measured.statements;
    if (measured.idle_connections) report.idle_connections = *measured.idle_connections;
    if (!a.watch_pids.empty()) report.rss_end_kb = bench::resident_kb(a.watch_pids.front());
    report.own_cpu_seconds = bench::own_cpu_seconds() - own_cpu_before;
    for (std::size_t i = 0; i < a.watch_pids.size(); ++i) {
        const auto now = bench::cpu_seconds(a.watch_pids[i]);
        const auto& before = watched_cpu_before[i];
        report.watched_cpu_seconds.push_back(now && before ? std::optional(*now - *before)
                                                           : std::nullopt);
    }

    if (before) {
        try {
            report.db = bench::counters_spent(*before, bench::read_counters(*counters));
        } catch (const policyd::db::Error& e) {
            report.db_error = e.what();
        }
    }
    if (a.json)
        bench::print_json(report, std::cout);
    else
        bench::print_text(report, std::cout);
    return report.stats.answered > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return run(parse_args(argc, argv));
    } catch (const UsageError& e) {
        std::cerr << "policyd-bench: " << e.what() << " (--help for the options)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "policyd-bench: " << e.what() << "\n";
        return 2;
    }
}
