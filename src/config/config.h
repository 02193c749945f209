// NAME
//   config.h - policyd.conf: every key of the reference, and ours
// SYNOPSIS
//   #include "config/config.h"
//   Config c = load_config("/etc/policyd.conf");     // throws ConfigError
//   Config c = parse_config(text, "policyd.conf");
//   for (const auto& line : config_dump(c, PACKAGE_VERSION)) log(line);
// DESCRIPTION
//   Reads the file the way the reference's generic.c:read_conf does: a setting is a line starting at column 0 with KEY=
//   (case-sensitive), unknown keys are ignored, the last duplicate wins,
//   lines longer than 255 bytes are split like fgets(256) did, and every key
//   keeps its reference parser (INT, FILTERED, RAW, DURATION, SYSLOG; see
//   values.h). A missing key takes the value the reference program used,
//   not the one the shipped comments claim.
//
//   Where we differ from the reference, on purpose:
//   - A missing *_REJECTION text takes the shipped text (the reference
//     crashed on first use).
//   - *_TEMP_REJECT flags are applied when the whole file has been read, so
//     their position in the file no longer matters (same result for the
//     shipped layout).
//   - INT values that are not numbers ("yes", "", "3x") are errors naming
//     file, line and key; the reference read them as 0. INTs are 64-bit.
//   - Every number and duration has a range (KeySpec, below; the list of
//     values 1.x accepted and we refuse is in docs/COMPATIBILITY.md). A
//     duration is computed exactly, never wrapped; switches are 0 or 1.
//   - CRLF line ends are read as LF; a CR left inside a setting line and a
//     quote never closed are errors; a line that is neither a setting nor a
//     comment draws a warning; so does 1.x's shipped CONN_ACL value.
//   - HELO_MAX_COUNT, AUTO_BLACKLIST_NUMBER and SENDERMSGSIZE below 1 are
//     errors while their check is on (they turned it against every client).
//   - UID and GID accept user and group names; an unknown name is an error
//     (the reference turned names into 0, i.e. root).
//   - CONN_ACL is parsed into networks and enforced by the server. It is
//     split on spaces and commas of the raw line (the reference's filter
//     deleted commas and capped it at 55 characters); quotes are dropped and
//     a '#' word starts a comment. An invalid entry is an error.
//   - GREYLIST_HOSTADDR outside 1..4 is stored as 3, with a warning (the
//     reference clamped it later, in main).
//   - The password is never part of the DEBUG dump.
//
//   A Config is a plain value: built once, then only read (a reload builds
//   a new one). It holds no references to the text it was parsed from.
#pragma once

#include <syslog.h>

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/cidr.h"

namespace policyd {

// A configuration that cannot be used. what() names the file, the line and
// the key, e.g. "policyd.conf:52: TRIPLET_TIME: fatal: invalid time unit: 240".
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One field per key, named like the key in lower case. INT keys and flags
// are longs (flags are on only when ==1, like the reference); durations are
// seconds. Initialisers are the values used when the key is absent.
struct Config {
    // ---- database
    std::string mysqlhost;   // "" : client library default (local socket)
    std::string mysqldbase;
    std::string mysqluser;
    std::string mysqlpass;
    std::string mysqlopt;    // parsed, never used (as in the reference)
    long mysqlport = 0;      // 0: client default (3306)
    long failsafe = 0;       // 0: fail closed
    long database_keepalive = 0;

    // ---- daemon
    long debug = 0;
    long daemon = 0;
    std::string bindhost;    // "": wildcard
    long bindport = 0;
    std::string pidfile;     // "": none
    int syslog_facility = LOG_MAIL | LOG_INFO;  // SYSLOG_FACILITY; also when it parses to 0
    std::string chroot;
    long uid = 0;            // resolved UID
    long gid = 0;            // resolved GID
    std::string uid_text;    // UID as written (number or user name)
    std::string gid_text;    // GID as written (number or group name)
    std::vector<Cidr> conn_acl;

    // ---- whitelisting
    long whitelisting = 0;
    long whitelistnull = 0;
    long whitelistsender = 0;
    long whitelistdnsname = 0;
    long auto_white_listing = 0;
    long auto_whitelist_number = 0;
    long auto_whitelist_netblock = 0;
    long auto_whitelist_expire = 0;

    // ---- blacklisting
    long blacklisting = 0;
    long blacklistdnsname = 0;
    long blacklist_temp_reject = 0;
    long blacklist_netblock = 0;
    std::string blacklist_rejection = "Policyd Rejection: Abuse. Go away.";
    long blacklist_timeout = 0;  // parsed, never used (as in the reference)
    long auto_black_listing = 0;
    long auto_blacklist_number = 0;
    long auto_blacklist_expire = 0;
    long rcpt_acl = 0;
    long blacklist_helo = 0;
    long blacklist_helo_auto_expire = 0;
    long blacklistsender = 0;

    // ---- HELO randomization (HRP)
    long helo_check = 0;
    long helo_max_count = 0;
    long helo_blacklist_auto_expire = 0;
    long helo_auto_expire = 0;

    // ---- spamtrap
    long spamtrapping = 0;
    std::string spamtrap_rejection = "Policy rejection: Abuse. Go away.";
    long spamtrap_auto_expire = 0;

    // ---- greylisting
    long greylisting = 0;
    std::string greylist_rejection = "Policy rejection: Please try later.";
    long greylist_x_header = 0;
    long greylist_hostaddr = 3;  // always 1..4
    long greylist_ipv6_prefix = 128;  // ours: IPv6 bits in the host key, 32..128
    long training_mode = 0;
    long training_policy_timeout = 0;
    long triplet_time = 0;
    long optinout = 0;
    long optinoutall = 0;
    long triplet_auth_timeout = 0;
    long triplet_unauth_timeout = 0;

    // ---- sender throttle
    long senderthrottle = 0;
    long sender_throttle_envelope = 0;
    long sender_throttle_sasl = 0;
    long sender_throttle_host = 0;
    long quota_exceeded_temp_reject = 0;
    std::string sender_quota_rejection = "Policy rejection: Quota Exceeded.";
    std::string sender_size_rejection = "Policy rejection: Message size too big.";
    long sendermsglimit = 0;
    long senderrcptlimit = 0;
    long senderquotalimit = 0;
    long sendertimelimit = 0;
    long sendermsgsize = 0;
    long sender_inactive_expire = 0;
    long sender_throttle_autoblacklist = 0;
    long sender_throttle_autoblacklist_number = 0;
    long sender_throttle_autoblacklist_expire = 0;

    // ---- recipient throttle
    long recipientthrottle = 0;
    long recipientmsglimit = 0;
    long recipienttimelimit = 0;
    std::string recipient_quota_rejection = "Policy rejection: Quota Exceeded.";
    long recipient_inactive_expire = 0;

    // ---- ours: server tuning
    long workers = 4;               // database worker threads
    long max_connections = 10000;
    long idle_timeout = 300;        // 0: never
    long max_request_size = 65536;  // bytes
    long mysql_timeout = 5;         // connect/read/write timeout
    long request_timeout = 10;      // answer by FAILSAFE when a request takes longer
    long commit_group = 8;          // queued requests a worker decides under one COMMIT
    std::string mysqlsocket;        // unix socket path; "": client default
    std::string bindsocket;         // BINDSOCKET: our Unix-domain socket; "": none
    long bindsocket_mode = 0660;    // BINDSOCKET_MODE: its permission bits, 0..0777
    long stats_interval = 0;        // 0: no periodic statistics line
    // METRICS_BIND: where GET /metrics is served; "" (port 0): not at all.
    std::string metrics_bind;       // as written, host:port
    std::string metrics_host;       // "": every address
    long metrics_port = 0;

    // ---- ours: distributed origin check
    long distributed_origin = 0;
    long distributed_origin_time = 3600;
    long distributed_origin_limit = 10;
    long distributed_origin_netblock = 1;  // 1: /24 (IPv4), /64 (IPv6)
    std::string distributed_origin_keys = "both";  // "sasl", "sender" or "both"
    long distributed_origin_temp_reject = 1;
    std::string distributed_origin_rejection = "Policy rejection: Too many origins for this sender.";
    long distributed_origin_blacklist = 0;
    long distributed_origin_blacklist_expire = 86400;

    // ---- built reply lines, without the trailing "\n\n"; see build_replies()
    std::string greylist_reply;            // action=defer_if_permit <GREYLIST_REJECTION>
    std::string blacklist_reply;           // defer_if_permit if BLACKLIST_TEMP_REJECT==1, else reject
    std::string spamtrap_reply;            // always reject
    std::string sender_quota_reply;        // defer_if_permit if QUOTA_EXCEEDED_TEMP_REJECT==1
    std::string recipient_quota_reply;     // same rule
    std::string sender_size_reply;         // always reject
    std::string distributed_origin_reply;  // defer_if_permit if DISTRIBUTED_ORIGIN_TEMP_REJECT==1

    // ---- about the file itself
    std::vector<std::string> unknown_keys;  // KEY= lines we do not know, in file order
    std::vector<std::string> warnings;      // "file:line: KEY: note", for -t and the log

    // Starts with every absent-key value and the replies built from them.
    Config();
    // Rebuilds the *_reply lines from the texts and *_TEMP_REJECT flags; call
    // it after changing those fields (parse_config does).
    void build_replies();
};

// How a key's value is read (values.h) and what it may hold.
enum class KeyType {
    Int,         // INT: a number in [min, max]
    Flag,        // INT that modules test with ==1: 0 or 1
    Duration,    // DURATION: seconds in [min, max]
    Filtered,    // FILTERED string
    Raw,         // RAW string
    Syslog,      // SYSLOG_FACILITY
    User,        // UID: number in [min, max] or user name
    Group,       // GID: number in [min, max] or group name
    Acl,         // CONN_ACL
    OriginKeys,  // DISTRIBUTED_ORIGIN_KEYS
    Endpoint,    // METRICS_BIND: host:port, or empty
    HostList,    // MYSQLHOST: RAW string, one server or a list (config/host_list.h)
    SocketPath,  // BINDSOCKET: an absolute path that fits sockaddr_un, or empty
    FileMode,    // BINDSOCKET_MODE: permission bits in [min, max], written in octal
};

// One key of policyd.conf: the row of the reader's table. Numeric keys
// (Int, Flag, Duration, User, Group) hold a value inside [min, max] in every
// Config that parse_config returns; a value outside is a ConfigError naming
// key, value and range_text(). policyd.conf(5) and the shipped file's
// comments state the same range (a unit test compares them). The table is
// static: pointers into it live as long as the program.
struct KeySpec {
    std::string_view name;
    KeyType kind;
    long Config::*number = nullptr;     // numeric keys
    std::string Config::*text = nullptr;  // string keys (and UID/GID as written)
    long min = 0;
    long max = 0;
    // Read once at start (database, listeners, workers, process): a reload
    // parses and checks it but the running daemon keeps its old value.
    bool at_restart = false;
};

// Every key the reader knows, in the order of the shipped file.
std::span<const KeySpec> config_keys();
const KeySpec* find_config_key(std::string_view name);  // nullptr if unknown
bool is_numeric(const KeySpec& key);
// The range as policyd.conf(5) writes it: "0..65535", "0..1", "1s..1h".
std::string range_text(const KeySpec& key);

// The at_restart keys whose value differs between the running configuration
// and a freshly loaded one, as `KEY changed ("running" -> "new")`, in the
// table's order; MYSQLPASS only as "MYSQLPASS changed". A reload logs them, so an
// administrator who moved the database or the port and sent SIGHUP learns
// that the daemon still uses the old ones.
std::vector<std::string> restart_only_changes(const Config& running, const Config& fresh);

// The longest duration any key accepts: 10 years of the reference's Y
// (372 days). Longer values wrapped in 1.x's 32-bit arithmetic; "for ever"
// is written 0 wherever it makes sense.
constexpr long kMaxDuration = 10L * 32140800L;

// Parses the text of a policyd.conf; `source_name` is used in messages.
Config parse_config(std::string_view text, const std::string& source_name);

// Reads and parses a file. An unreadable file throws
// "fopen(): <strerror>: <path>", the reference's text.
Config load_config(const std::string& path);

// The reference's DEBUG>0 dump, one log line per element
// (section separators are empty strings), followed by our own keys. The
// password shows as "(hidden)"; the MySQL client version line is left out.
std::vector<std::string> config_dump(const Config& config, std::string_view version);

}  // namespace policyd
