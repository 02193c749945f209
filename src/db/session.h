// NAME
//   session.h - one database connection with its prepared statements
// SYNOPSIS
//   #include "db/session.h"
//   db::Session s(settings);
//   long long n = s.query_int("SELECT COUNT(*) FROM whitelist WHERE _whitelist=?", {ip});
//   std::uint64_t changed = s.execute("UPDATE triplet SET _count=_count+1 WHERE ...", {...});
// DESCRIPTION
//   A Session owns one MySQL Connector/C++ connection and caches one
//   prepared statement per distinct SQL text, so each statement is parsed by
//   the server once per connection. Every value from a request is bound as a
//   parameter: SQL is never built from request text.
//
//   A lost connection (server gone away, KILL, restart) is reopened and the
//   statement retried once. When the server cannot be reached, further
//   attempts are refused without touching the network until the reconnect
//   back-off has passed, so a database outage costs each request
//   microseconds, not a connect timeout. Failures surface as db::Error;
//   those that mean "no usable connection" (cannot connect, lost, in
//   back-off) as its subclass db::Unavailable, whose outage the session
//   logs itself: once per outage and process, and once when it is over.
//
//   A Session is used by one thread at a time (each worker owns one).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "stats/database_counters.h"

namespace sql { class Connection; class PreparedStatement; class ResultSet; }

namespace policyd::db {

struct Settings {
    std::string host;        // "" or "localhost": local socket; else TCP
    unsigned port = 0;       // 0: 3306
    std::string socket;      // unix socket path, used when host is local
    std::string user;
    std::string password;
    std::string database;
    int connect_timeout_s = 5;   // the reference's 5 s budget
    int io_timeout_s = 5;        // read/write timeout of one statement
    // How long a failed connect refuses retries: short, so the daemon is
    // back within about a second of the server, long enough that a dead
    // server costs each worker two refused connects a second.
    std::chrono::milliseconds reconnect_backoff{500};
    bool log_outages = true;     // the daemon's once-per-process outage/recovery
                                 // lines; programs that report errors themselves
                                 // (cleanup) turn them off
    // innodb_lock_wait_timeout of the connection; 0 keeps the server's (50 s).
    // Below io_timeout_s, a statement stuck behind a row lock fails on the
    // server (error 1205) instead of being abandoned by the client: an
    // abandoned statement goes on waiting and runs when the lock is freed.
    int lock_wait_timeout_s = 0;
    // Where this node's statements, errors, retries and reconnects are
    // counted (nullptr: nowhere); must outlive every Session given it.
    DatabaseCounters* counters = nullptr;
};

// The node's name in the metrics: "localhost" for the local socket, else
// host:port.
std::string node_name(const Settings& settings);

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The server cannot be reached or the connection died: an outage, already
// logged by the session (not a problem of one statement).
class Unavailable : public Error {
public:
    using Error::Error;
};

// A bound value: request strings, or integers such as times and limits.
using Param = std::variant<std::string, long long>;
using Row = std::vector<std::optional<std::string>>;  // NULL -> nullopt

// Told of every statement a Session runs (for policyd --explain), after it
// ran: its text and values, and its result rows with their column names
// (a SELECT) or its affected-row count (anything else), or the error.
class StatementObserver {
public:
    virtual ~StatementObserver() = default;
    virtual void statement(const std::string& sql, const std::vector<Param>& params,
                           const std::vector<std::string>& columns, const std::vector<Row>* rows,
                           std::uint64_t affected) = 0;
    virtual void failed(const std::string& sql, const std::vector<Param>& params,
                        const std::string& error) = 0;
};

class Session {
public:
    explicit Session(Settings settings);  // does not connect yet
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Runs a SELECT and returns every row.
    std::vector<Row> query(const std::string& sql, const std::vector<Param>& params = {});
    // First row, or nullopt when there is none.
    std::optional<Row> query_row(const std::string& sql, const std::vector<Param>& params = {});
    // First column of the first row as an integer; `if_none` when there is no
    // row or the value is NULL.
    long long query_int(const std::string& sql, const std::vector<Param>& params = {},
                        long long if_none = 0);
    // Runs INSERT/UPDATE/DELETE and returns the affected-row count
    // (INSERT ... ON DUPLICATE KEY UPDATE: 1 inserted, 2 updated, 0 unchanged).
    std::uint64_t execute(const std::string& sql, const std::vector<Param>& params = {});

    // Explicit transactions for the few decisions that need row locks.
    // A lost connection inside a transaction is not retried: the statement
    // throws and the caller's transaction is gone.
    void begin();
    void commit();
    void rollback() noexcept;

    // Makes sure a connection is open (for start-up checks and keepalive).
    void connect();
    bool connected() const { return conn_ != nullptr; }

    // Statements sent to the server by this session (for benchmarks and
    // the "round trips per request" figures).
    std::uint64_t round_trips() const { return round_trips_; }

    // Tell `observer` (nullptr: nobody, the default) of every statement from
    // now on; it must outlive its use here.
    void set_observer(StatementObserver* observer) { observer_ = observer; }

private:
    template <typename Fn> auto with_retry(const std::string& sql, Fn&& fn);
    std::vector<Row> observed_query(const std::string& sql, const std::vector<Param>& params);
    static std::vector<Row> read_rows(sql::ResultSet& rs);
    sql::PreparedStatement& prepared(const std::string& sql);
    void open();
    void drop_connection() noexcept;

    Settings settings_;
    std::unique_ptr<sql::Connection> conn_;
    std::map<std::string, std::unique_ptr<sql::PreparedStatement>> statements_;
    std::chrono::steady_clock::time_point refuse_until_{};
    bool in_transaction_ = false;
    bool ever_connected_ = false;  // a later open() is a reconnect
    StatementObserver* observer_ = nullptr;
    std::uint64_t round_trips_ = 0;
};

}  // namespace policyd::db
