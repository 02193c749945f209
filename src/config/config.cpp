// NAME
//   config.cpp - policyd.conf reader
// SYNOPSIS
//   #include "config/config.h"
// DESCRIPTION
//   One table lists every key with its parser and its Config field; the
//   reader walks the file in fgets(256)-sized lines,
//   applies the parser of each KEY= line it knows, then runs the checks the
//   reference ran at the end of read_conf and in main and builds the
//   reply lines. See config.h for where and why we differ.
#include "config/config.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/host_list.h"
#include "config/values.h"

namespace policyd {

namespace {

using Kind = KeyType;
using Key = KeySpec;

// Ranges shared by many keys. 1.x held every number in a C int, so a value
// outside kInt wrapped there; a negative count, size or duration is a
// mistake everywhere.
constexpr long kIntMin = -2147483648L;
constexpr long kIntMax = 2147483647L;
constexpr long kMediumMax = 16777215L;    // mediumint unsigned columns (counts)
constexpr long kUintMax = 4294967295L;    // int unsigned columns (bytes)
constexpr long kIdMax = 4294967294L;      // uid_t/gid_t; -1 means "unchanged"
constexpr long kHour = 3600;
constexpr long kDay = 86400;

constexpr Key num(std::string_view name, Kind kind, long Config::*field, long min, long max) {
    return {name, kind, field, nullptr, min, max};
}

constexpr Key flag(std::string_view name, long Config::*field) {
    return {name, Kind::Flag, field, nullptr, 0, 1};
}

// A duration of the reference: 0 (usually "off" or "for ever") to 10 years.
constexpr Key dur(std::string_view name, long Config::*field) {
    return {name, Kind::Duration, field, nullptr, 0, kMaxDuration};
}

constexpr Key str(std::string_view name, Kind kind, std::string Config::*field) {
    return {name, kind, nullptr, field};
}

// Marks a key a reload cannot apply (policyd.conf(5), SIGHUP).
constexpr Key at_restart(Key key) {
    key.at_restart = true;
    return key;
}

using K = Kind;
using C = Config;

// The reference's 78 keys in the order of the shipped file, then ours.
const Key keys[] = {
    at_restart(str("MYSQLHOST", K::HostList, &C::mysqlhost)),
    at_restart(str("MYSQLDBASE", K::Raw, &C::mysqldbase)),
    at_restart(str("MYSQLUSER", K::Raw, &C::mysqluser)),
    at_restart(str("MYSQLPASS", K::Raw, &C::mysqlpass)),
    at_restart(str("MYSQLOPT", K::Raw, &C::mysqlopt)),
    at_restart(num("MYSQLPORT", K::Int, &C::mysqlport, 0, 65535)),
    num("FAILSAFE", K::Int, &C::failsafe, kIntMin, kIntMax),  // 1, 0, other: three meanings
    flag("DATABASE_KEEPALIVE", &C::database_keepalive),
    num("DEBUG", K::Int, &C::debug, 0, kIntMax),
    at_restart(num("DAEMON", K::Int, &C::daemon, 0, kIntMax)),  // any positive value detaches
    at_restart(str("BINDHOST", K::Filtered, &C::bindhost)),
    at_restart(num("BINDPORT", K::Int, &C::bindport, 0, 65535)),
    at_restart(str("PIDFILE", K::Filtered, &C::pidfile)),
    at_restart(Key{"SYSLOG_FACILITY", K::Syslog}),
    at_restart(str("CHROOT", K::Filtered, &C::chroot)),
    at_restart(Key{"UID", K::User, &C::uid, &C::uid_text, 0, kIdMax}),
    at_restart(Key{"GID", K::Group, &C::gid, &C::gid_text, 0, kIdMax}),
    {"CONN_ACL", K::Acl},
    flag("WHITELISTING", &C::whitelisting),
    flag("WHITELISTNULL", &C::whitelistnull),
    flag("WHITELISTSENDER", &C::whitelistsender),
    flag("WHITELISTDNSNAME", &C::whitelistdnsname),
    flag("AUTO_WHITE_LISTING", &C::auto_white_listing),
    num("AUTO_WHITELIST_NUMBER", K::Int, &C::auto_whitelist_number, 0, kIntMax),
    flag("AUTO_WHITELIST_NETBLOCK", &C::auto_whitelist_netblock),
    dur("AUTO_WHITELIST_EXPIRE", &C::auto_whitelist_expire),
    flag("BLACKLISTING", &C::blacklisting),
    flag("BLACKLISTDNSNAME", &C::blacklistdnsname),
    flag("BLACKLIST_TEMP_REJECT", &C::blacklist_temp_reject),
    flag("BLACKLIST_NETBLOCK", &C::blacklist_netblock),
    str("BLACKLIST_REJECTION", K::Raw, &C::blacklist_rejection),
    dur("BLACKLIST_TIMEOUT", &C::blacklist_timeout),
    flag("AUTO_BLACK_LISTING", &C::auto_black_listing),
    num("AUTO_BLACKLIST_NUMBER", K::Int, &C::auto_blacklist_number, 0, kIntMax),
    dur("AUTO_BLACKLIST_EXPIRE", &C::auto_blacklist_expire),
    flag("RCPT_ACL", &C::rcpt_acl),
    flag("BLACKLIST_HELO", &C::blacklist_helo),
    dur("BLACKLIST_HELO_AUTO_EXPIRE", &C::blacklist_helo_auto_expire),
    flag("BLACKLISTSENDER", &C::blacklistsender),
    flag("HELO_CHECK", &C::helo_check),
    num("HELO_MAX_COUNT", K::Int, &C::helo_max_count, 0, kIntMax),
    dur("HELO_BLACKLIST_AUTO_EXPIRE", &C::helo_blacklist_auto_expire),
    dur("HELO_AUTO_EXPIRE", &C::helo_auto_expire),
    flag("SPAMTRAPPING", &C::spamtrapping),
    str("SPAMTRAP_REJECTION", K::Raw, &C::spamtrap_rejection),
    dur("SPAMTRAP_AUTO_EXPIRE", &C::spamtrap_auto_expire),
    flag("GREYLISTING", &C::greylisting),
    str("GREYLIST_REJECTION", K::Raw, &C::greylist_rejection),
    flag("GREYLIST_X_HEADER", &C::greylist_x_header),
    num("GREYLIST_HOSTADDR", K::Int, &C::greylist_hostaddr, kIntMin, kIntMax),  // else 3
    num("TRAINING_MODE", K::Int, &C::training_mode, 0, 1),
    dur("TRAINING_POLICY_TIMEOUT", &C::training_policy_timeout),
    dur("TRIPLET_TIME", &C::triplet_time),
    flag("OPTINOUT", &C::optinout),
    num("OPTINOUTALL", K::Int, &C::optinoutall, 0, 2),  // 2: training
    dur("TRIPLET_AUTH_TIMEOUT", &C::triplet_auth_timeout),
    dur("TRIPLET_UNAUTH_TIMEOUT", &C::triplet_unauth_timeout),
    flag("SENDERTHROTTLE", &C::senderthrottle),
    flag("SENDER_THROTTLE_ENVELOPE", &C::sender_throttle_envelope),
    flag("SENDER_THROTTLE_SASL", &C::sender_throttle_sasl),
    flag("SENDER_THROTTLE_HOST", &C::sender_throttle_host),
    flag("QUOTA_EXCEEDED_TEMP_REJECT", &C::quota_exceeded_temp_reject),
    str("SENDER_QUOTA_REJECTION", K::Raw, &C::sender_quota_rejection),
    str("SENDER_SIZE_REJECTION", K::Raw, &C::sender_size_rejection),
    num("SENDERMSGLIMIT", K::Int, &C::sendermsglimit, 0, kMediumMax),
    num("SENDERRCPTLIMIT", K::Int, &C::senderrcptlimit, 0, kMediumMax),
    num("SENDERQUOTALIMIT", K::Int, &C::senderquotalimit, 0, kUintMax),
    dur("SENDERTIMELIMIT", &C::sendertimelimit),
    num("SENDERMSGSIZE", K::Int, &C::sendermsgsize, 0, kUintMax),
    dur("SENDER_INACTIVE_EXPIRE", &C::sender_inactive_expire),
    flag("SENDER_THROTTLE_AUTOBLACKLIST", &C::sender_throttle_autoblacklist),
    num("SENDER_THROTTLE_AUTOBLACKLIST_NUMBER", K::Int, &C::sender_throttle_autoblacklist_number,
        0, kIntMax),
    dur("SENDER_THROTTLE_AUTOBLACKLIST_EXPIRE", &C::sender_throttle_autoblacklist_expire),
    flag("RECIPIENTTHROTTLE", &C::recipientthrottle),
    num("RECIPIENTMSGLIMIT", K::Int, &C::recipientmsglimit, 0, kMediumMax),
    dur("RECIPIENTTIMELIMIT", &C::recipienttimelimit),
    str("RECIPIENT_QUOTA_REJECTION", K::Raw, &C::recipient_quota_rejection),
    dur("RECIPIENT_INACTIVE_EXPIRE", &C::recipient_inactive_expire),

    at_restart(num("WORKERS", K::Int, &C::workers, 1, 1024)),
    num("MAX_CONNECTIONS", K::Int, &C::max_connections, 1, 1000000),
    num("IDLE_TIMEOUT", K::Duration, &C::idle_timeout, 0, kDay),
    num("MAX_REQUEST_SIZE", K::Int, &C::max_request_size, 1024, 1048576),
    at_restart(num("MYSQL_TIMEOUT", K::Duration, &C::mysql_timeout, 1, kHour)),
    num("REQUEST_TIMEOUT", K::Duration, &C::request_timeout, 1, kHour),
    num("COMMIT_GROUP", K::Int, &C::commit_group, 1, 64),
    at_restart(str("MYSQLSOCKET", K::Raw, &C::mysqlsocket)),
    at_restart(str("BINDSOCKET", K::SocketPath, &C::bindsocket)),
    at_restart(num("BINDSOCKET_MODE", K::FileMode, &C::bindsocket_mode, 0, 0777)),
    num("STATS_INTERVAL", K::Duration, &C::stats_interval, 0, 7 * kDay),
    at_restart(str("METRICS_BIND", K::Endpoint, &C::metrics_bind)),
    // A /32 is a provider's whole allocation; shorter would merge unrelated networks.
    num("GREYLIST_IPV6_PREFIX", K::Int, &C::greylist_ipv6_prefix, 32, 128),
    flag("DISTRIBUTED_ORIGIN", &C::distributed_origin),
    num("DISTRIBUTED_ORIGIN_TIME", K::Duration, &C::distributed_origin_time, 1, kMaxDuration),
    num("DISTRIBUTED_ORIGIN_LIMIT", K::Int, &C::distributed_origin_limit, 1, kIntMax),
    flag("DISTRIBUTED_ORIGIN_NETBLOCK", &C::distributed_origin_netblock),
    str("DISTRIBUTED_ORIGIN_KEYS", K::OriginKeys, &C::distributed_origin_keys),
    flag("DISTRIBUTED_ORIGIN_TEMP_REJECT", &C::distributed_origin_temp_reject),
    str("DISTRIBUTED_ORIGIN_REJECTION", K::Raw, &C::distributed_origin_rejection),
    flag("DISTRIBUTED_ORIGIN_BLACKLIST", &C::distributed_origin_blacklist),
    dur("DISTRIBUTED_ORIGIN_BLACKLIST_EXPIRE", &C::distributed_origin_blacklist_expire),
};

constexpr std::size_t key_count = std::size(keys);

// CONN_ACL as policyd 1.x shipped it. 1.x never enforced CONN_ACL, so old
// files carry it unedited; the reader recognises it (in any order or
// spelling of the same three networks) to say so.
constexpr std::string_view kAcl1x = "::1 127.0.0.1 192.168.0.0/24";

bool is_shipped_1x_acl(const std::vector<Cidr>& acl) {
    std::vector<std::string> have;
    for (const Cidr& c : acl) have.push_back(c.str());
    std::sort(have.begin(), have.end());
    have.erase(std::unique(have.begin(), have.end()), have.end());
    return have == std::vector<std::string>{"127.0.0.1/32", "192.168.0.0/24", "::1/128"};
}

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

// Every "\r\n" becomes "\n", and a last line's final "\r" goes.
std::string without_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] != '\r' || (i + 1 < text.size() && text[i + 1] != '\n')) out += text[i];
    return out;
}

bool is_blank_or_comment(std::string_view line) {
    const std::size_t first = line.find_first_not_of(" \t\n");
    return first == std::string_view::npos || line[first] == '#';
}

// What no parser may see: a carriage return left inside a line (the file's
// lines end in a lone CR) and a quote that is opened but never closed.
// `value` is the line after "KEY=", as written.
void check_line(const Key& key, std::string_view value) {
    if (value.find('\r') != std::string_view::npos)
        throw ValueError("carriage return inside the line (a file with CR line ends?)");
    if (std::count(value.begin(), value.end(), '"') % 2 != 0)
        throw ValueError("unterminated quote: " + std::string(value.substr(0, value.find('\n'))));
    const std::size_t first = value.find_first_not_of(' ');
    if (key.kind != Kind::Raw && first != std::string_view::npos && value[first] == '\'' &&
        value.find('\'', first + 1) == std::string_view::npos)
        throw ValueError("unterminated quote: " + std::string(value.substr(0, value.find('\n'))));
}

// `v` if it is inside the key's range; otherwise the error that names the
// value as written, what it means in seconds, and the range.
long in_range(const Key& key, long v, std::string_view filtered) {
    if (v >= key.min && v <= key.max) return v;
    std::string shown = key.kind == Kind::FileMode ? "0" + octal(v) : std::to_string(v);
    if (key.kind == Kind::Duration) {
        const std::size_t b = filtered.find_first_not_of(' ');
        shown = std::string(filtered.substr(b, filtered.find_last_not_of(' ') - b + 1));
        if (v != LONG_MIN && v != LONG_MAX) shown += " (" + std::to_string(v) + " seconds)";
    }
    throw ValueError(shown + " is out of range: use " + range_text(key));
}

// UID/GID: a number, or a name looked up in the passwd/group database.
long resolve_id(Kind kind, std::string_view filtered, std::string& text) {
    text = first_word(filtered);
    if (text.empty()) throw ValueError("empty value: a number or a name is required");
    if (is_number_start(text)) {
        return parse_int(filtered);
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

    Config read(std::string_view file) {
        // A CRLF file reads like its LF twin: no value ever ends in '\r'.
        const std::string text = without_crlf(file);
        std::size_t pos = 0;
        long lineno = 1;
        bool continuation = false;
        while (pos < text.size()) {
            const std::size_t nl = text.find('\n', pos);
            std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
            const bool split = end - pos > fgets_chunk;
            if (split) end = pos + fgets_chunk;
            std::string_view chunk = std::string_view(text).substr(pos, end - pos);
            chunk = chunk.substr(0, chunk.find('\0'));  // read_conf saw a C string
            const bool is_setting = setting(chunk, lineno);
            if (split || continuation) {
                if (is_setting || !continuation)
                    warn(lineno, "line longer than 255 bytes: the rest is read as a new line");
            } else if (!is_setting && !is_blank_or_comment(chunk)) {
                warn(lineno, "ignored: not a setting (KEY=value at column 0) nor a comment");
            }
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
            check_line(*key, line.substr(eq + 1));
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
            config_.*key.number = in_range(key, v, filtered);
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
            config_.*key.number = in_range(key, resolve_id(key.kind, filtered, config_.*key.text),
                                           filtered);
            return;
        case Kind::Acl:
            acl_text_ = raw_value(line, start);
            acl_line_ = lineno;
            return;
        case Kind::HostList: {
            const std::string value = raw_value(line, start);
            std::string error;
            if (parse_host_list(value, 0, error).empty())
                throw ValueError("'" + value + "': " + error +
                                 "; use one server or up to " + std::to_string(kMaxHosts) +
                                 " separated by commas, each host, host:port or [IPv6]:port "
                                 "with a port in 1..65535");
            config_.*key.text = value;
            return;
        }
        case Kind::SocketPath:
            config_.*key.text = socket_path(raw_value(line, start));
            return;
        case Kind::FileMode: {
            const long mode = in_range(key, parse_file_mode(first_word(filtered)), filtered);
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
        if (is_shipped_1x_acl(config_.conn_acl))
            warn(acl_line_, "CONN_ACL: still the example of policyd 1.x (" + std::string(kAcl1x) +
                                "), which 1.x never enforced; it is enforced now: clients "
                                "outside it are disconnected. List your Postfix hosts.");
    }

    long seen(std::string_view name) const {
        return seen_[static_cast<std::size_t>(find_key(name) - keys)];
    }

    // A count that must be at least 1 when `enabled`: 0 is what 1.x used for
    // an absent key, and it turns the check against every client.
    void require(bool enabled, std::string_view name, long value, const std::string& why) {
        if (!enabled || value >= 1) return;
        const long line = seen(name);
        throw ConfigError((line != 0 ? where(line) : source_ + ": ") + std::string(name) + ": " +
                          std::to_string(value) + (line != 0 ? "" : " (absent)") +
                          " is out of range: " + why + "; use 1.." +
                          std::to_string(find_key(name)->max));
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
        require(c.helo_check == 1, "HELO_MAX_COUNT", c.helo_max_count,
                "with HELO_CHECK=1 every client that sends a HELO would be blacklisted");
        require(c.auto_black_listing == 1, "AUTO_BLACKLIST_NUMBER", c.auto_blacklist_number,
                "with AUTO_BLACK_LISTING=1 every new triplet would blacklist its host");
        require(c.senderthrottle == 1, "SENDERMSGSIZE", c.sendermsgsize,
                "with SENDERTHROTTLE=1 every message would be too big");
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

std::span<const KeySpec> config_keys() { return keys; }

const KeySpec* find_config_key(std::string_view name) { return find_key(name); }

bool is_numeric(const KeySpec& key) { return key.number != nullptr; }

std::string range_text(const KeySpec& key) {
    if (!is_numeric(key)) return {};
    if (key.kind == KeyType::Duration)
        return format_duration(key.min) + ".." + format_duration(key.max);
    if (key.kind == KeyType::FileMode) {
        char text[32];
        std::snprintf(text, sizeof text, "%04lo..%04lo", key.min, key.max);
        return text;
    }
    return std::to_string(key.min) + ".." + std::to_string(key.max);
}

namespace {

// A key's value as the administrator would recognise it.
std::string value_text(const Config& c, const KeySpec& key) {
    if (key.kind == KeyType::Syslog) return std::to_string(c.syslog_facility);
    if (key.text && !(c.*key.text).empty()) return "\"" + c.*key.text + "\"";
    if (key.number) {
        if (key.kind == KeyType::FileMode) {
            char text[16];
            std::snprintf(text, sizeof text, "%04lo", c.*key.number);
            return text;
        }
        return std::to_string(c.*key.number);
    }
    return "\"\"";
}

}  // namespace

std::vector<std::string> restart_only_changes(const Config& running, const Config& fresh) {
    std::vector<std::string> changed;
    for (const KeySpec& key : keys) {
        if (!key.at_restart) continue;
        const bool same = key.kind == KeyType::Syslog
                              ? running.syslog_facility == fresh.syslog_facility
                              : (!key.number || running.*key.number == fresh.*key.number) &&
                                    (!key.text || running.*key.text == fresh.*key.text);
        if (same) continue;
        if (key.name == "MYSQLPASS")
            changed.push_back("MYSQLPASS changed");
        else
            changed.push_back(std::string(key.name) + " changed (" + value_text(running, key) +
                              " -> " + value_text(fresh, key) + ")");
    }
    return changed;
}

Config parse_config(std::string_view text, const std::string& source_name) {
    return Reader(source_name).read(text);
}

Config load_config(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw ConfigError("fopen(): " + std::string(std::strerror(EISDIR)) + ": " + path);
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
    line("commit group", c.commit_group);
    line("workers", c.workers);
    line("max connections", c.max_connections);
    line("idle timeout", c.idle_timeout);
    line("max request size", c.max_request_size);
    line("stats interval", c.stats_interval);
    line("greylist ipv6 prefix", c.greylist_ipv6_prefix);
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
