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
//   Settings::host may name several servers (MYSQLHOST="db1:3306,db2,db3",
//   config/host_list.h): the session connects to the first that answers,
//   skipping those that failed within the reconnect back-off, and when its
//   connection is lost or refused it moves on to the next at once, without
//   waiting for the failed one to come back.
//
//   A lost connection (server gone away, KILL, restart, node failure) is
//   reopened and the statement resent once. With several servers a write
//   whose reply was lost (error 2013: it may have committed before the
//   node died) is not resent, so no counter is incremented twice
//   (docs/FAILURES.md); it fails as db::Unavailable and the request gets
//   FAILSAFE. With one server it is resent as policyd always did. When no server can be
//   reached, further attempts are refused without touching the network
//   until the reconnect back-off has passed, so a database outage costs
//   each request microseconds, not a connect timeout.
//
//   A conflict (deadlock, or a Galera certification failure, both error
//   1213) is retried with jittered exponential back-off for as long as the
//   budget allows: the deadline set by set_deadline() (the request's
//   REQUEST_TIMEOUT), else the I/O timeout from the statement's start.
//   After that it fails as db::Conflict. Inside transaction() the whole
//   unit is rolled back and run again instead.
//
//   Failures surface as db::Error; those that mean "no usable connection"
//   (cannot connect, lost, in back-off) as its subclass db::Unavailable,
//   whose outage the session logs itself: once per outage and process, and
//   once when it is over.
//
//   A Session is used by one thread at a time (each worker owns one).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "config/host_list.h"
#include "stats/database_counters.h"

namespace sql { class Connection; class PreparedStatement; class ResultSet; }

namespace policyd::db {

struct Settings {
    std::string host;        // "" or "localhost": local socket; else TCP; or a
                             // list of servers (config/host_list.h)
    unsigned port = 0;       // 0: 3306; the port of list entries without one
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
    // Where each server's statements, errors, retries, reconnects,
    // conflicts, failovers and open connections are counted: one entry per
    // server of `host`, in its order (node_names()); empty: nowhere. They
    // must outlive every Session given them.
    std::vector<DatabaseCounters*> counters;
};

// The servers' names in the metrics, in the order of `host`: "localhost"
// for the local socket, else host:port.
std::vector<std::string> node_names(const Settings& settings);

// Whether a statement may change rows: INSERT, UPDATE, DELETE or REPLACE,
// also one with RETURNING, which comes through Session::query().
bool writes_rows(const std::string& sql);

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

// A conflict still there when the retry budget ran out.
class Conflict : public Error {
public:
    using Error::Error;
};

// The connection was lost while COMMIT ran: the transaction may or may not
// have committed, so its work must neither be trusted nor done again.
class CommitUnknown : public Unavailable {
public:
    using Unavailable::Unavailable;
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
    // (INSERT ... ON DUPLICATE KEY UPDATE: 1 inserted, 2 updated, 0 unchanged;
    // a statement of several rows sums them).
    std::uint64_t execute(const std::string& sql, const std::vector<Param>& params = {});

    // Runs `unit`, statements of this session, as one transaction (the
    // cleanup program's batches; every decision of the daemon is a single
    // statement, retried on its own). A conflict anywhere in it, COMMIT
    // included, rolls it back and runs it again (so `unit` must start from
    // scratch each time), within the retry budget. A lost connection is
    // not retried: the unit throws db::Unavailable. Inside begin()...
    // rollback() the unit simply runs as part of that transaction.
    void transaction(const std::function<void()>& unit);

    // An explicit transaction the caller ends: work that is never committed
    // (policyd --explain rolls its evaluation back), and a worker's commit
    // group (server/commit_group.h), whose requests are decided again one by
    // one when it fails. Nothing in it is retried: a conflict throws
    // db::Conflict, a lost connection db::Unavailable. Once the server has
    // ended the transaction (a deadlock or certification failure, a lost
    // connection, a rollback found by the question below), every later
    // statement of it throws at once, unsent, until rollback(): sent, it
    // would run on its own and commit.
    void begin();
    // Commits. Inside a transaction, a statement prepared after the unit's
    // first is preceded by the question whether the transaction is still
    // open (SELECT @@in_transaction): a Galera node may have rolled it back
    // without saying so (docs/FAILURES.md); a closed one throws db::Conflict,
    // and so does every statement after a failed one once the server has
    // ended the transaction. A connection lost during COMMIT itself throws
    // db::CommitUnknown.
    void commit();
    void rollback() noexcept;
    // Whether a statement failed since begin(), whatever became of it (a
    // failure the caller handled still leaves the transaction's work
    // incomplete).
    bool transaction_failed() const { return transaction_failed_; }

    // The retry budget's end for the next statements (the request's
    // REQUEST_TIMEOUT); a default time_point means "the I/O timeout".
    void set_deadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }

    // Whether statements wait for a row lock another transaction holds (up
    // to Settings::lock_wait_timeout_s, the default), or fail at once with
    // error 1205, not counted as an error: a commit group gives way rather
    // than hold its requests, and its own locks, behind someone else's.
    // Sent when it changes, and with every new connection.
    void wait_for_locks(bool wait);

    // The server of the open connection ("host:port"), "" when none.
    const std::string& node() const;

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
    template <typename Fn> auto with_retry(const std::string& sql, bool writes, Fn&& fn);
    std::vector<Row> observed_query(const std::string& sql, const std::vector<Param>& params);
    static std::vector<Row> read_rows(sql::ResultSet& rs);
    // The connection's statement for `sql`, prepared now (`fresh`) if it has none.
    sql::PreparedStatement& prepared(const std::string& sql, bool& fresh);
    void open();
    bool open_endpoint(std::size_t index, std::string& error);
    void drop_connection() noexcept;
    void lose_connection(const std::string& why);
    bool back_off(int attempt, std::chrono::steady_clock::time_point started);
    DatabaseCounters* counters() const;  // of the current endpoint, or nullptr
    [[noreturn]] void rolled_back_by_server();
    // After a failed statement: whether the server still has the transaction.
    void note_whether_still_open() noexcept;

    Settings settings_;
    std::vector<HostPort> endpoints_;  // never empty
    std::vector<std::string> names_;   // node_names(settings_), one per endpoint
    // Per endpoint: refused until then after a failed connect or a loss.
    std::vector<std::chrono::steady_clock::time_point> refuse_until_;
    std::size_t current_ = 0;          // endpoint of conn_
    std::unique_ptr<sql::Connection> conn_;
    std::map<std::string, std::unique_ptr<sql::PreparedStatement>> statements_;
    std::chrono::steady_clock::time_point deadline_{};
    bool in_transaction_ = false;     // between begin() and commit()/rollback()
    bool transaction_ended_ = false;  // ...but the server ended it (see begin())
    bool transaction_failed_ = false; // a statement of it failed
    bool sent_in_transaction_ = false;  // a statement since begin()
    bool ever_connected_ = false;  // a later open() is a reconnect
    bool waits_for_locks_ = true;   // see wait_for_locks()
    StatementObserver* observer_ = nullptr;
    std::uint64_t round_trips_ = 0;
};

}  // namespace policyd::db
