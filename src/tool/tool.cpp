// NAME
//   tool.cpp - the start of cleanup and stats (see tool.h)
// DESCRIPTION
//   The usage text is the reference's generic.c:usage, two lines on stdout,
//   which both programs print for any command line but "-c FILE".
#include "tool/tool.h"

#include <unistd.h>

#include <iostream>

#include "config.h"
#include "db/config_settings.h"
#include "log/log.h"

namespace policyd::tool {

std::optional<std::string> config_path(int argc, char** argv) {
    std::string path;
    opterr = 0;
    bool usable = true;
    for (int opt; (opt = getopt(argc, argv, ":c:")) != -1;) {
        if (opt != 'c') usable = false;
        else path = optarg;
    }
    if (usable && !path.empty() && optind == argc) return path;
    std::cout << "policyd " PACKAGE_VERSION "\nusage: " << argv[0]
              << " -c /path/to/policyd.conf\n";
    return std::nullopt;
}

std::optional<Config> start(const std::string& path, const char* ident, const std::string& banner) {
    Config config;
    try {
        config = load_config(path);
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return std::nullopt;
    }
    log::set_debug_level(config.debug);
    if (config.daemon != 0)
        log::to_syslog(ident, config.syslog_facility);
    else
        log::to_stdout();
    log::line(banner);
    for (const auto& warning : config.warnings) log::line("warning: " + warning);
    if (config.debug > 0)
        for (const auto& line : config_dump(config, PACKAGE_VERSION)) log::line(line);
    return config;
}

db::Settings batch_settings(const Config& config, int statement_timeout_s) {
    db::Settings settings = db::settings_from_config(config);
    settings.io_timeout_s = statement_timeout_s;
    settings.lock_wait_timeout_s = 0;
    settings.log_outages = false;
    return settings;
}

bool connect(db::Session& session, const Config& config) {
    log::line("connecting to mysql database: " + config.mysqlhost);
    try {
        session.connect();
    } catch (const db::Error& e) {
        log::line(std::string("mysql_real_connect(): ") + e.what());
        return false;
    }
    log::line("connected..");
    return true;
}

}  // namespace policyd::tool
