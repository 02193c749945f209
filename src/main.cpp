// NAME
//   policyd - Postfix policy daemon, drop-in replacement for policyd 1.x
// SYNOPSIS
//   policyd -c /etc/policyd.conf [-t] [-v]
//   policyd -c /etc/policyd.conf --explain [--explain-attr name=value ...] [< request]
// DESCRIPTION
//   Start-up in the order that lets an init system see every failure:
//   read and validate the configuration, bind the sockets (BINDHOST:BINDPORT
//   and BINDSOCKET), then detach
//   (DAEMON != 0), write the pid file, drop privileges, start the workers
//   and serve until SIGTERM. -t checks the configuration and exits 0 or 1;
//   -v prints the version. --explain evaluates one request (standard input,
//   or the --explain-attr words) and prints why it gets its reply, changing
//   nothing (explain/explain.h).
#include <pthread.h>
#include <sys/resource.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "config.h"
#include "config/config.h"
#include "explain/explain.h"
#include "log/log.h"
#include "server/listener.h"
#include "server/process.h"
#include "server/server.h"
#include "server/unix_listener.h"

namespace po = boost::program_options;
using namespace policyd;

namespace {

const char* const kVersion = "policyd " PACKAGE_VERSION;

// 10,000 clients need more than the usual 1024 descriptors.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// SIGHUP and SIGUSR1 terminate a process by default, and the port listens
// (so init systems, log rotation and monitoring see the daemon as up) before
// the Server installs its handlers. A reload or statistics request in that
// window must neither kill the daemon nor be lost: the signals are blocked
// from the start, so they stay pending, and unblocked once the Server's
// handlers are in (they then run at once). The worker threads, started by the
// Server meanwhile, inherit the blocked mask, so these signals always reach
// the event-loop thread.
sigset_t operator_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    return set;
}

void hold_operator_signals() {
    const sigset_t set = operator_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void deliver_operator_signals() {
    const sigset_t set = operator_signals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

int usage(const po::options_description& options, const char* argv0) {
    std::cout << kVersion << "\nusage: " << argv0 << " -c /path/to/policyd.conf\n" << options;
    return 255;
}

int run_explain(const Config& config, const po::variables_map& args) {
    try {
        ExplainInput input;
        if (args.count("explain-attr")) {
            input = explain_input_from_attributes(args["explain-attr"].as<std::vector<std::string>>());
        } else {
            std::ostringstream text;
            text << std::cin.rdbuf();
            input = explain_input_from_text(text.str());
        }
        return explain(config, input, std::cout);
    } catch (const std::invalid_argument& e) {
        std::cerr << "policyd --explain: " << e.what() << "\n";
        return 2;
    }
}

}  // namespace

int main(int argc, char** argv) {
    hold_operator_signals();
    po::options_description options("options");
    options.add_options()
        ("config,c", po::value<std::string>(), "configuration file (policyd.conf)")
        ("test,t", "check the configuration file and exit (0: usable, 1: not)")
        ("explain", "evaluate one request (policy protocol or a decision log line on standard "
                    "input) against the database, print why it gets its reply, change nothing")
        ("explain-attr", po::value<std::vector<std::string>>()->multitoken(),
         "with --explain: the request as name=value words instead of standard input")
        ("version,v", "print the version and exit")
        ("help,h", "this text");
    po::variables_map args;
    try {
        po::store(po::parse_command_line(argc, argv, options), args);
    } catch (const po::error& e) {
        std::cerr << argv[0] << ": " << e.what() << "\n";
        return usage(options, argv[0]);
    }
    if (args.count("version")) {
        std::cout << kVersion << "\n";
        return 0;
    }
    if (args.count("help") || !args.count("config")) return usage(options, argv[0]);

    // Absolute, so SIGHUP finds the file again after chdir(CHROOT).
    std::string path = args["config"].as<std::string>();
    if (char* resolved = realpath(path.c_str(), nullptr)) {
        path = resolved;
        free(resolved);
    }
    std::shared_ptr<const Config> config;
    try {
        config = std::make_shared<const Config>(load_config(path));
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return args.count("test") ? 1 : 255;
    }
    if (args.count("explain") || args.count("explain-attr")) return run_explain(*config, args);
    if (args.count("test")) {
        for (const auto& warning : config->warnings) std::cout << "warning: " << warning << "\n";
        std::cout << path << ": configuration OK\n";
        return 0;
    }

    log::set_debug_level(config->debug);
    if (config->daemon != 0)
        log::to_syslog("policyd", config->syslog_facility);
    else
        log::to_stdout();
    log::line(std::string("starting ") + kVersion);
    for (const auto& warning : config->warnings) log::line("warning: " + warning);
    if (config->debug > 0)
        for (const auto& line : config_dump(*config, PACKAGE_VERSION)) log::line(line);

    try {
        raise_descriptor_limit();
        // Declared before the server, so it removes its file after the
        // server has closed the socket. Made before the TCP port listens:
        // whoever sees the port ready (an init script, the tests) finds
        // the socket ready too.
        const UnixSocket unix_socket(*config);
        const int listen_fd = bind_listener(*config);
        const int metrics_fd = bind_metrics_listener(*config);  // before privileges go
        if (config->daemon != 0) daemonize();
        const PidFile pid_file(config->pidfile);
        drop_privileges(*config);
        Server server(config, path,
                      {listen_fd, unix_socket.fd(), unix_socket.path(), metrics_fd});
        deliver_operator_signals();
        return server.run();
    } catch (const StartupError& e) {
        log::line(e.what());
        return 1;
    }
}
