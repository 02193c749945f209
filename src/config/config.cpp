// NAME
//   config.cpp - policyd.conf reader
// SYNOPSIS
//   #include "config/config.h"
// DESCRIPTION
//   One table lists every key with its parser and its Config field; the
//   reader walks the file in fgets(256)-sized lines (spec core.md §5.1),
//   applies the parser of each KEY= line it knows, then runs the checks the
//   reference ran at the end of read_conf and in main (§5.3) and builds the
//   reply lines (§4.5). See config.h for where and why we differ.
#include "config/config.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/values.h"

namespace policyd {

namespace {

enum class Kind {
    Int,         // INT
    Flag,        // INT that modules test with ==1
    Duration,    // DURATION
    Filtered,    // FILTERED string
    Raw,         // RAW string
    Syslog,      // SYSLOG_FACILITY
    User,        // UID: number or user name
    Group,       // GID: number or group name
    Acl,         // CONN_ACL
    OriginKeys,  // DISTRIBUTED_ORIGIN_KEYS
    SocketPath,  // BINDSOCKET: an absolute path that fits sockaddr_un, or empty
    FileMode,    // BINDSOCKET_MODE: octal permission bits
    Endpoint,    // METRICS_BIND: host:port, or empty
};

struct Key {
    std::string_view name;
    Kind kind;
    long Config::*number = nullptr;
    std::string Config::*text = nullptr;
    long min = LONG_MIN;  // usable range; only our own keys narrow it
    long max = LONG_MAX;
};

constexpr Key num(std::string_view name, Kind kind, long Config::*field, long min = LONG_MIN,
                  long max = LONG_MAX) {
    return {name, kind, field, nullptr, min, max};
}

constexpr Key str(std::string_view name, Kind kind, std::string Config::*field) {
    return {name, kind, nullptr, field};
}

using K = Kind;
using C = Config;

// The reference's 78 keys in the order of the shipped file, then ours.
const Key keys[] = {
    str("MYSQLHOST", K::Raw, &C::mysqlhost),
    str("MYSQLDBASE", K::Raw, &C::mysqldbase),
    str("MYSQLUSER", K::Raw, &C::mysqluser),
    str("MYSQLPASS", K::Raw, &C::mysqlpass),
    str("MYSQLOPT", K::Raw, &C::mysqlopt),
    num("MYSQLPORT", K::Int, &C::mysqlport),
    num("FAILSAFE", K::Int, &C::failsafe),
    num("DATABASE_KEEPALIVE", K::Flag, &C::database_keepalive),
    num("DEBUG", K::Int, &C::debug),
    num("DAEMON", K::Int, &C::daemon),
    str("BINDHOST", K::Filtered, &C::bindhost),
    num("BINDPORT", K::Int, &C::bindport),
    str("PIDFILE", K::Filtered, &C::pidfile),
    {"SYSLOG_FACILITY", K::Syslog},
    str("CHROOT", K::Filtered, &C::chroot),
    {"UID", K::User, &C::uid, &C::uid_text},
    {"GID", K::Group, &C::gid, &C::gid_text},
    {"CONN_ACL", K::Acl},
    num("WHITELISTING", K::Flag, &C::whitelisting),
    num("WHITELISTNULL", K::Flag, &C::whitelistnull),
    num("WHITELISTSENDER", K::Flag, &C::whitelistsender),
    num("WHITELISTDNSNAME", K::Flag, &C::whitelistdnsname),
    num("AUTO_WHITE_LISTING", K::Flag, &C::auto_white_listing),
    num("AUTO_WHITELIST_NUMBER", K::Int, &C::auto_whitelist_number),
    num("AUTO_WHITELIST_NETBLOCK", K::Flag, &C::auto_whitelist_netblock),
    num("AUTO_WHITELIST_EXPIRE", K::Duration, &C::auto_whitelist_expire),
    num("BLACKLISTING", K::Flag, &C::blacklisting),
    num("BLACKLISTDNSNAME", K::Flag, &C::blacklistdnsname),
    num("BLACKLIST_TEMP_REJECT", K::Flag, &C::blacklist_temp_reject),
    num("BLACKLIST_NETBLOCK", K::Flag, &C::blacklist_netblock),
    str("BLACKLIST_REJECTION", K::Raw, &C::blacklist_rejection),
    num("BLACKLIST_TIMEOUT", K::Duration, &C::blacklist_timeout),
    num("AUTO_BLACK_LISTING", K::Flag, &C::auto_black_listing),
    num("AUTO_BLACKLIST_NUMBER", K::Int, &C::auto_blacklist_number),
    num("AUTO_BLACKLIST_EXPIRE", K::Duration, &C::auto_blacklist_expire),
    num("RCPT_ACL", K::Flag, &C::rcpt_acl),
    num("BLACKLIST_HELO", K::Flag, &C::blacklist_helo),
    num("BLACKLIST_HELO_AUTO_EXPIRE", K::Duration, &C::blacklist_helo_auto_expire),
    num("BLACKLISTSENDER", K::Flag, &C::blacklistsender),
    num("HELO_CHECK", K::Flag, &C::helo_check),
    num("HELO_MAX_COUNT", K::Int, &C::helo_max_count),
    num("HELO_BLACKLIST_AUTO_EXPIRE", K::Duration, &C::helo_blacklist_auto_expire),
    num("HELO_AUTO_EXPIRE", K::Duration, &C::helo_auto_expire),
    num("SPAMTRAPPING", K::Flag, &C::spamtrapping),
    str("SPAMTRAP_REJECTION", K::Raw, &C::spamtrap_rejection),
    num("SPAMTRAP_AUTO_EXPIRE", K::Duration, &C::spamtrap_auto_expire),
    num("GREYLISTING", K::Flag, &C::greylisting),
    str("GREYLIST_REJECTION", K::Raw, &C::greylist_rejection),
    num("GREYLIST_X_HEADER", K::Flag, &C::greylist_x_header),
    num("GREYLIST_HOSTADDR", K::Int, &C::greylist_hostaddr),
    num("TRAINING_MODE", K::Int, &C::training_mode),
    num("TRAINING_POLICY_TIMEOUT", K::Duration, &C::training_policy_timeout),
    num("TRIPLET_TIME", K::Duration, &C::triplet_time),
    num("OPTINOUT", K::Flag, &C::optinout),
    num("OPTINOUTALL", K::Int, &C::optinoutall),
    num("TRIPLET_AUTH_TIMEOUT", K::Duration, &C::triplet_auth_timeout),
    num("TRIPLET_UNAUTH_TIMEOUT", K::Duration, &C::triplet_unauth_timeout),
    num("SENDERTHROTTLE", K::Flag, &C::senderthrottle),
    num("SENDER_THROTTLE_ENVELOPE", K::Flag, &C::sender_throttle_envelope),
    num("SENDER_THROTTLE_SASL", K::Flag, &C::sender_throttle_sasl),
    num("SENDER_THROTTLE_HOST", K::Flag, &C::sender_throttle_host),
    num("QUOTA_EXCEEDED_TEMP_REJECT", K::Flag, &C::quota_exceeded_temp_reject),
    str("SENDER_QUOTA_REJECTION", K::Raw, &C::sender_quota_rejection),
    str("SENDER_SIZE_REJECTION", K::Raw, &C::sender_size_rejection),
    num("SENDERMSGLIMIT", K::Int, &C::sendermsglimit),
    num("SENDERRCPTLIMIT", K::Int, &C::senderrcptlimit),
    num("SENDERQUOTALIMIT", K::Int, &C::senderquotalimit),
    num("SENDERTIMELIMIT", K::Duration, &C::sendertimelimit),
    num("SENDERMSGSIZE", K::Int, &C::sendermsgsize),
    num("SENDER_INACTIVE_EXPIRE", K::Duration, &C::sender_inactive_expire),
    num("SENDER_THROTTLE_AUTOBLACKLIST", K::Flag, &C::sender_throttle_autoblacklist),
    num("SENDER_THROTTLE_AUTOBLACKLIST_NUMBER", K::Int, &C::sender_throttle_autoblacklist_number),
    num("SENDER_THROTTLE_AUTOBLACKLIST_EXPIRE", K::Duration,
        &C::sender_throttle_autoblacklist_expire),
    num("RECIPIENTTHROTTLE", K::Flag, &C::recipientthrottle),
    num("RECIPIENTMSGLIMIT", K::Int, &C::recipientmsglimit),
    num("RECIPIENTTIMELIMIT", K::Duration, &C::recipienttimelimit),
    str("RECIPIENT_QUOTA_REJECTION", K::Raw, &C::recipient_quota_rejection),
    num("RECIPIENT_INACTIVE_EXPIRE", K::Duration, &C::recipient_inactive_expire),

    num("WORKERS", K::Int, &C::workers, 1, 1024),
    num("MAX_CONNECTIONS", K::Int, &C::max_connections, 1),
    num("IDLE_TIMEOUT", K::Duration, &C::idle_timeout, 0),
    num("MAX_REQUEST_SIZE", K::Int, &C::max_request_size, 1024),
    num("MYSQL_TIMEOUT", K::Duration, &C::mysql_timeout, 1),
    num("REQUEST_TIMEOUT", K::Duration, &C::request_timeout, 1),
    str("MYSQLSOCKET", K::Raw, &C::mysqlsocket),
    str("BINDSOCKET", K::SocketPath, &C::bindsocket),
    num("BINDSOCKET_MODE", K::FileMode, &C::bindsocket_mode, 0, 0777),
    num("STATS_INTERVAL", K::Duration, &C::stats_interval, 0),
    str("METRICS_BIND", K::Endpoint, &C::metrics_bind),
    num("DISTRIBUTED_ORIGIN", K::Flag, &C::distributed_origin, 0, 1),
    num("DISTRIBUTED_ORIGIN_TIME", K::Duration, &C::distributed_origin_time, 1),
    num("DISTRIBUTED_ORIGIN_LIMIT", K::Int, &C::distributed_origin_limit, 1),
    num("DISTRIBUTED_ORIGIN_NETBLOCK", K::Flag, &C::distributed_origin_netblock, 0, 1),
    str("DISTRIBUTED_ORIGIN_KEYS", K::OriginKeys, &C::distributed_origin_keys),
    num("DISTRIBUTED_ORIGIN_TEMP_REJECT", K::Flag, &C::distributed_origin_temp_reject, 0, 1),
    str("DISTRIBUTED_ORIGIN_REJECTION", K::Raw, &C::distributed_origin_rejection),
    num("DISTRIBUTED_ORIGIN_BLACKLIST", K::Flag, &C::distributed_origin_blacklist, 0, 1),
    num("DISTRIBUTED_ORIGIN_BLACKLIST_EXPIRE", K::Duration,
        &C::distributed_origin_blacklist_expire, 0),
};

constexpr std::size_t key_count = std::size(keys);

// In the shipped file, but the reference never read them.
constexpr std::string_view unread_shipped_keys[] = {"SENDERMSGSIZE_WARN", "SENDERMSGSIZE_PANIC"};

// fgets(256) returns at most 255 bytes; a longer line goes on as a new one.
constexpr std::size_t fgets_chunk = 255;

const Key* find_key(std::string_view name) {
    for (const Key& k : keys)
        if (k.name == name) return &k;
    return nullptr;
}

bool is_key_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_';
    });
}

std::string octal(long v) {
    char text[24];
    std::snprintf(text, sizeof text, "%lo", v);
    return text;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string first_word(std::string_view filtered) {
    const std::size_t begin = filtered.find_first_not_of(' ');
    if (begin == std::string_view::npos) return {};
    return std::string(filtered.substr(begin, filtered.find(' ', begin) - begin));
}

bool is_number_start(std::string_view word) {
    return !word.empty() && (std::isdigit(static_cast<unsigned char>(word[0])) || word[0] == '-');
}

// UID/GID: a number, or a name looked up in the passwd/group database.
long resolve_id(Kind kind, std::string_view filtered, std::string& text) {
    text = first_word(filtered);
    if (text.empty()) throw ValueError("empty value: a number or a name is required");
    if (is_number_start(text)) {
        const long id = parse_int(filtered);
        if (id < 0) throw ValueError("must not be negative: " + text);
        return id;
    }
    if (kind == Kind::User) {
        const passwd* pw = getpwnam(text.c_str());
        if (!pw) throw ValueError("unknown user '" + text + "'");
        return static_cast<long>(pw->pw_uid);
    }
    const group* gr = getgrnam(text.c_str());
    if (!gr) throw ValueError("unknown group '" + text + "'");
    return static_cast<long>(gr->gr_gid);
}

class Reader {
public:
    explicit Reader(const std::string& source) : source_(source) {}

    Config read(std::string_view text) {
        std::size_t pos = 0;
        long lineno = 1;
        bool continuation = false;
        while (pos < text.size()) {
            const std::size_t nl = text.find('\n', pos);
            std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
            const bool split = end - pos > fgets_chunk;
            if (split) end = pos + fgets_chunk;
            std::string_view chunk = text.substr(pos, end - pos);
            chunk = chunk.substr(0, chunk.find('\0'));  // read_conf saw a C string
            if (setting(chunk, lineno) && (split || continuation))
                warn(lineno, "line longer than 255 bytes: the rest is read as a new line");
            continuation = split;
            if (!split) ++lineno;
            pos = end;
        }
        finish();
        return std::move(config_);
    }

private:
    std::string where(long lineno) const { return source_ + ":" + std::to_string(lineno) + ": "; }

    void warn(long lineno, const std::string& note) {
        config_.warnings.push_back(where(lineno) + note);
    }

    void warn(const std::string& note) { config_.warnings.push_back(source_ + ": " + note); }

    // Handles one line; true when it is a KEY= line (known or not).
    bool setting(std::string_view line, long lineno) {
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) return false;
        const std::string_view name = line.substr(0, eq);
        if (!is_key_name(name)) return false;
        const Key* key = find_key(name);
        if (!key) {
            if (std::find(std::begin(unread_shipped_keys), std::end(unread_shipped_keys), name) !=
                std::end(unread_shipped_keys))
                return true;
            config_.unknown_keys.emplace_back(name);
            const bool case_typo = find_key(upper(name)) != nullptr;
            warn(lineno, std::string(name) + ": unknown key, ignored" +
                             (case_typo ? " (keys are case-sensitive)" : ""));
            return true;
        }
        const std::size_t index = static_cast<std::size_t>(key - keys);
        if (seen_[index] != 0)
            warn(lineno, std::string(name) + ": also set on line " +
                             std::to_string(seen_[index]) + "; this line wins");
        seen_[index] = lineno;
        try {
            apply(*key, line, eq + 1, lineno);
        } catch (const ValueError& e) {
            throw ConfigError(where(lineno) + std::string(name) + ": " + e.what());
        }
        return true;
    }

    void apply(const Key& key, std::string_view line, std::size_t start, long lineno) {
        const std::string name(key.name);
        const std::string filtered = filtered_value(line, start);
        switch (key.kind) {
        case Kind::Raw:
            config_.*key.text = raw_value(line, start);
            if ((config_.*key.text).find('\r') != std::string::npos)
                warn(lineno, name + ": the value keeps a carriage return (CRLF file?)");
            return;
        case Kind::Filtered:
            config_.*key.text = filtered;
            if (filtered_value(line, start, line.size()).find_first_not_of(' ', filtered.size()) !=
                std::string::npos)
                warn(lineno, name + ": text after column 63 is ignored, the value is '" +
                                 filtered + "'");
            return;
        case Kind::Int:
        case Kind::Flag:
        case Kind::Duration: {
            const long v = key.kind == Kind::Duration ? parse_duration(filtered) : parse_int(filtered);
            if (v < key.min || v > key.max)
                throw ValueError(std::to_string(v) + " is out of range: " +
                                 (key.max == LONG_MAX
                                      ? "the least usable value is " + std::to_string(key.min)
                                      : "use " + std::to_string(key.min) + ".." +
                                            std::to_string(key.max)));
            config_.*key.number = v;
            if (key.kind == Kind::Flag && v != 0 && v != 1)
                warn(lineno, name + ": " + std::to_string(v) + " means off; only 1 turns it on");
            if (key.kind == Kind::Duration && !duration_is_plain(filtered))
                warn(lineno, name + ": '" + filtered + "' is read as " + std::to_string(v) +
                                 " seconds (only the first number and the last letter count)");
            return;
        }
        case Kind::Syslog:
            config_.syslog_facility = parse_syslog_facility(filtered);
            return;
        case Kind::User:
        case Kind::Group:
            config_.*key.number = resolve_id(key.kind, filtered, config_.*key.text);
            return;
        case Kind::Acl:
            acl_text_ = raw_value(line, start);
            acl_line_ = lineno;
            return;
        case Kind::SocketPath:
            config_.*key.text = socket_path(raw_value(line, start));
            return;
        case Kind::FileMode: {
            const long mode = parse_file_mode(first_word(filtered));
            if (mode < key.min || mode > key.max)
                throw ValueError("0" + octal(mode) + " is out of range: use 0000..0777");
            config_.*key.number = mode;
            if ((mode & 0222) == 0)
                warn(lineno, name + ": 0" + octal(mode) +
                                 " lets no one but root connect (connecting needs write permission)");
            return;
        }
        case Kind::OriginKeys: {
            std::string word = first_word(filtered);
            std::transform(word.begin(), word.end(), word.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (word != "sasl" && word != "sender" && word != "both")
                throw ValueError("must be sasl, sender or both, not '" + word + "'");
            config_.*key.text = word;
            return;
        }
        case Kind::Endpoint: {
            const Endpoint endpoint = parse_endpoint(first_word(filtered));
            config_.*key.text = endpoint.text;
            config_.metrics_host = endpoint.host;
            config_.metrics_port = endpoint.port;
            return;
        }
        }
    }

    // CONN_ACL: entries split on whitespace and commas; quotes are dropped
    // and a word starting with '#' begins a comment.
    void parse_acl() {
        std::string text = acl_text_;
        std::replace_if(text.begin(), text.end(),
                        [](char c) { return c == ',' || c == '\t' || c == '\r' || c == '\''; }, ' ');
        std::istringstream words(text);
        std::string word;
        while (words >> word && word.front() != '#') {
            const auto cidr = Cidr::parse(word);
            if (!cidr)
                throw ConfigError(where(acl_line_) + "CONN_ACL: invalid entry '" + word +
                                  "': expected an IPv4 or IPv6 address or network (a.b.c.d/n)");
            config_.conn_acl.push_back(*cidr);
        }
        if (config_.conn_acl.empty())
            throw ConfigError(source_ +
                              ": FATAL: you did not upgrade correctly or have broken something. "
                              "Please read the Changelog.txt. You're missing the CONN_ACL setting");
    }

    long seen(std::string_view name) const {
        return seen_[static_cast<std::size_t>(find_key(name) - keys)];
    }

    // The reference's end-of-file checks, then ours.
    void finish() {
        Config& c = config_;
        if (c.sender_throttle_host != 0 && c.sender_throttle_sasl != 0)
            throw ConfigError(source_ +
                              ": FATAL: you may NOT have SENDER_THROTTLE_HOST and "
                              "SENDER_THROTTLE_SASL enabled");
        parse_acl();
        if (c.greylist_hostaddr < 1 || c.greylist_hostaddr > 4) {
            if (seen("GREYLIST_HOSTADDR") != 0)
                warn(seen("GREYLIST_HOSTADDR"), "GREYLIST_HOSTADDR: " +
                                                    std::to_string(c.greylist_hostaddr) +
                                                    " is outside 1..4: using 3");
            c.greylist_hostaddr = 3;
        }
        if (c.helo_check == 1 && c.helo_max_count <= 0)
            warn("HELO_MAX_COUNT is " + std::to_string(c.helo_max_count) +
                 " with HELO_CHECK=1: every client that sends a HELO counts as abuse");
        if (c.auto_black_listing == 1 && c.auto_blacklist_number <= 0)
            warn("AUTO_BLACKLIST_NUMBER is " + std::to_string(c.auto_blacklist_number) +
                 " with AUTO_BLACK_LISTING=1: every new triplet blacklists its host");
        if (c.senderthrottle == 1 && c.sendermsgsize <= 0)
            warn("SENDERMSGSIZE is " + std::to_string(c.sendermsgsize) +
                 " with SENDERTHROTTLE=1: every message is too big");
        c.build_replies();
    }

    const std::string& source_;
    Config config_;
    std::vector<long> seen_ = std::vector<long>(key_count, 0);  // line of each key, 0: absent
    std::string acl_text_;
    long acl_line_ = 0;
};

std::string reply(bool temporary, const std::string& text) {
    return std::string(temporary ? "action=defer_if_permit " : "action=reject ") + text;
}

}  // namespace

Config::Config() { build_replies(); }

void Config::build_replies() {
    greylist_reply = reply(true, greylist_rejection);
    blacklist_reply = reply(blacklist_temp_reject == 1, blacklist_rejection);
    spamtrap_reply = reply(false, spamtrap_rejection);
    sender_quota_reply = reply(quota_exceeded_temp_reject == 1, sender_quota_rejection);
    recipient_quota_reply = reply(quota_exceeded_temp_reject == 1, recipient_quota_rejection);
    sender_size_reply = reply(false, sender_size_rejection);
    distributed_origin_reply = reply(distributed_origin_temp_reject == 1, distributed_origin_rejection);
}

Config parse_config(std::string_view text, const std::string& source_name) {
    return Reader(source_name).read(text);
}

Config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError("fopen(): " + std::string(std::strerror(errno)) + ": " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError("read(): " + std::string(std::strerror(errno)) + ": " + path);
    return parse_config(text.str(), path);
}

std::vector<std::string> config_dump(const Config& c, std::string_view version) {
    std::vector<std::string> out;
    const auto line = [&out](std::string_view label, const auto& value) {
        std::ostringstream s;
        s << "config: " << label << "> " << value;
        out.push_back(s.str());
    };
    std::string acl;
    for (const Cidr& cidr : c.conn_acl) acl += (acl.empty() ? "" : " ") + cidr.str();

    out.emplace_back(" ---- DAEMON CONFIG ----");
    line("version", version);
    line("debug", c.debug);
    line("daemon mode", c.daemon);
    line("bindhost", c.bindhost);
    line("bindport", c.bindport);
    line("pidfile", c.pidfile);
    line("syslog", c.syslog_facility);
    line("chroot", c.chroot);
    line("uid", c.uid);
    line("gid", c.gid);
    line("conn acl", acl);
    out.emplace_back();
    out.emplace_back(" ---- DATABASE CONFIG ----");
    line("host", c.mysqlhost);
    line("user", c.mysqluser);
    line("pass", "(hidden)");
    line("database", c.mysqldbase);
    line("options", c.mysqlopt);
    line("failsafe", c.failsafe);
    line("keep alive", c.database_keepalive);
    out.emplace_back();
    out.emplace_back(" ---- WHITELISTING ----");
    line("whitelisting", c.whitelisting);
    line("whitelistnullsender", c.whitelistnull);
    line("whitelistsender", c.whitelistsender);
    line("whitelistdnsname", c.whitelistdnsname);
    line("autowhitelisting", c.auto_white_listing);
    line("autowhitelist_number", c.auto_whitelist_number);
    line("autowhitelist_netblock", c.auto_whitelist_netblock);
    line("autowhitelist_expire", c.auto_whitelist_expire);
    out.emplace_back();
    out.emplace_back(" ---- BLACKLISTING ----");
    line("blacklisting", c.blacklisting);
    line("blacklisting_temp_reject", c.blacklist_temp_reject);
    line("blacklisting_netblock", c.blacklist_netblock);
    line("postfix_blacklist", c.blacklist_reply);
    line("autoblacklisting", c.auto_black_listing);
    line("autoblacklist_number", c.auto_blacklist_number);
    line("autoblacklist_expire", c.auto_blacklist_expire);
    line("blacklist_rejection", c.blacklist_rejection);
    out.emplace_back();
    out.emplace_back(" ---- HELO (HRP) ----");
    line("helo", c.helo_check);
    line("helo_max_count", c.helo_max_count);
    line("helo_blacklist_auto_expire", c.helo_blacklist_auto_expire);
    line("helo_auto_expire", c.helo_auto_expire);
    out.emplace_back();
    out.emplace_back(" ---- SPAMTRAP CONFIG ----");
    line("spamtrap", c.spamtrapping);
    line("postfix_spamtrap", c.spamtrap_reply);
    line("spamtrapauto_expire", c.spamtrap_auto_expire);
    out.emplace_back();
    out.emplace_back(" ---- GREYLISTING CONFIG ----");
    line("greylisting", c.greylisting);
    line("greylist_hostaddr", c.greylist_hostaddr);
    line("postfix_greylist", c.greylist_reply);
    line("greylist_x_header", c.greylist_x_header);
    line("trainingmode", c.training_mode);
    line("training_policyd_timeout", c.training_policy_timeout);
    line("triplet timeout", c.triplet_time);
    line("optin/optout", c.optinout);
    line("optin all in", c.optinoutall);
    line("triplet auth timeout", c.triplet_auth_timeout);
    line("triplet unauth timeout", c.triplet_unauth_timeout);
    out.emplace_back();
    out.emplace_back(" ---- SENDER THROTTLE CONFIG ----");
    line("sender throttle", c.senderthrottle);
    line("sender throttle sasl", c.sender_throttle_sasl);
    line("sender throttle host", c.sender_throttle_host);
    line("postfix_sender_quota_exceeded", c.sender_quota_reply);
    line("quota_exceeded_temp_reject", c.quota_exceeded_temp_reject);
    line("postfix_bad_size", c.sender_size_reply);
    line("sender msglimit", c.sendermsglimit);
    line("sender quotalimit", c.senderquotalimit);
    line("sender timelimit", c.sendertimelimit);
    line("sender msgsize", c.sendermsgsize);
    line("sender expire inactive", c.sender_inactive_expire);
    line("sender throttle autoblacklisting", c.sender_throttle_autoblacklist);
    line("sender throttle autoblacklist number", c.sender_throttle_autoblacklist_number);
    line("sender throttle autoblacklist expire", c.sender_throttle_autoblacklist_expire);
    out.emplace_back();
    out.emplace_back(" ---- RECIPIENT THROTTLE CONFIG ----");
    line("recipient throttle", c.recipientthrottle);
    line("recipient msglimit", c.recipientmsglimit);
    line("recipient timelimit", c.recipienttimelimit);
    line("recipient expire inactive", c.recipient_inactive_expire);
    line("postfix_recipient_quota_exceeded", c.recipient_quota_reply);
    line("quota_exceeded_temp_reject", c.quota_exceeded_temp_reject);
    out.emplace_back();
    out.emplace_back(" ---- SERVER CONFIG (not in policyd 1.x) ----");
    line("mysql port", c.mysqlport);
    line("mysql socket", c.mysqlsocket);
    line("bind socket", c.bindsocket);
    line("bind socket mode", "0" + octal(c.bindsocket_mode));
    line("mysql timeout", c.mysql_timeout);
    line("request timeout", c.request_timeout);
    line("workers", c.workers);
    line("max connections", c.max_connections);
    line("idle timeout", c.idle_timeout);
    line("max request size", c.max_request_size);
    line("stats interval", c.stats_interval);
    line("metrics bind", c.metrics_bind);
    out.emplace_back();
    out.emplace_back(" ---- DISTRIBUTED ORIGIN CONFIG (not in policyd 1.x) ----");
    line("distributed origin", c.distributed_origin);
    line("distributed origin time", c.distributed_origin_time);
    line("distributed origin limit", c.distributed_origin_limit);
    line("distributed origin netblock", c.distributed_origin_netblock);
    line("distributed origin keys", c.distributed_origin_keys);
    line("postfix_distributed_origin", c.distributed_origin_reply);
    line("distributed origin blacklist", c.distributed_origin_blacklist);
    line("distributed origin blacklist expire", c.distributed_origin_blacklist_expire);
    out.emplace_back();
    return out;
}

}  // namespace policyd
