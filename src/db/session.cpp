// NAME
//   session.cpp - db::Session over MySQL Connector/C++ (see session.h)
// DESCRIPTION
//   Connection loss is recognised by the client error codes below; such a
//   failure drops the connection and its statements, marks the server as
//   failed (when there is another to try), reconnects to the first server
//   not in back-off and resends the statement once if it cannot have run.
//   A failed connect starts a back-off for that server; when every server
//   is in back-off the session fails at once: the daemon keeps answering
//   (FAILSAFE) instead of queueing requests behind connect timeouts.
//
//   Conflicts (1213) are resent on the same connection after a random
//   delay below an exponentially growing cap ("full jitter"), so that the
//   contenders for one hot row spread out instead of colliding again in
//   lock step; the cap starts at 1 ms and stops growing at 128 ms.
//
//   Outage and recovery are logged once per process, not once per worker or
//   request: the first session to see the server go away logs it, the first
//   to reconnect logs the recovery. A failover is logged once per session
//   and server change, at most once a second per process.
#include "db/session.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>
#include <mysql_driver.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <random>
#include <thread>

#include "log/log.h"

namespace policyd::db {
namespace {

// Client/server error codes meaning "this connection is unusable".
bool connection_lost(int code) {
    switch (code) {
    case 2002:  // CR_CONNECTION_ERROR
    case 2003:  // CR_CONN_HOST_ERROR
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT
    case 1047:  // ER_UNKNOWN_COM_ERROR: a Galera node outside the primary component
        return true;
    default:
        return false;
    }
}

// Of those, the losses after which the server may have run the statement:
// the reply was lost, not the request. A write is not resent after these.
bool may_have_run(int code) { return code == 2013 || code == 2055 || code == 4031; }

constexpr int kDeadlock = 1213;  // ER_LOCK_DEADLOCK, also Galera's certification failure
constexpr int kNeedReprepare = 1615;
constexpr int kLockWaitTimeout = 1205;  // ER_LOCK_WAIT_TIMEOUT

const std::string kSetLockWait = "SET SESSION innodb_lock_wait_timeout = ?";
const std::string kStillOpen = "SELECT @@in_transaction";

std::atomic<long long> failover_logged_ms{0};

void log_failover(const std::string& from, const std::string& why) {
    const long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    long long last = failover_logged_ms.load(std::memory_order_relaxed);
    if (now_ms - last < 1000 ||
        !failover_logged_ms.compare_exchange_strong(last, now_ms, std::memory_order_relaxed))
        return;
    log::line("mysql: " + from + ": " + why + "; moving to the next server");
}

std::atomic<bool> outage_logged{false};

sql::mysql::MySQL_Driver* driver() {
    // get_mysql_driver_instance() is not thread-safe on first use.
    static std::once_flag once;
    static sql::mysql::MySQL_Driver* instance = nullptr;
    std::call_once(once, [] { instance = sql::mysql::get_mysql_driver_instance(); });
    return instance;
}

void thread_init_once() {
    thread_local bool done = false;
    if (!done) {
        driver()->threadInit();
        done = true;
    }
}

void bind(sql::PreparedStatement& ps, const std::vector<Param>& params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto index = static_cast<unsigned int>(i + 1);
        if (const auto* s = std::get_if<std::string>(&params[i]))
            ps.setString(index, *s);
        else
            ps.setInt64(index, static_cast<int64_t>(std::get<long long>(params[i])));
    }
}

// DEBUG >= 2 logs every statement with its values, as the reference did.
void trace(const std::string& sql, const std::vector<Param>& params) {
    if (!log::debug_enabled(2)) return;
    std::string line = "DEBUG: sql: " + sql + " <-";
    for (const auto& p : params) {
        if (const auto* s = std::get_if<std::string>(&p))
            line += " '" + *s + "'";
        else
            line += " " + std::to_string(std::get<long long>(p));
    }
    log::line(line);
}

void count(DatabaseCounters* counters, std::atomic<std::uint64_t> DatabaseCounters::*which,
           long long by = 1) {
    if (counters) (counters->*which).fetch_add(static_cast<std::uint64_t>(by), std::memory_order_relaxed);
}

bool is_local(const std::string& host) { return host.empty() || host == "localhost"; }

std::string describe(const sql::SQLException& e) {
    return std::string(e.what()) + " (error " + std::to_string(e.getErrorCode()) + ")";
}

}  // namespace

// Whether a statement may change rows (INSERT ... RETURNING comes through
// query()): its first word, after spaces and parentheses.
bool writes_rows(const std::string& sql) {
    std::size_t at = sql.find_first_not_of(" \t\n(");
    if (at == std::string::npos) return false;
    std::string word;
    while (at < sql.size() && std::isalpha(static_cast<unsigned char>(sql[at])))
        word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[at++])));
    return word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "REPLACE";
}

namespace {

std::vector<HostPort> endpoints_of(const Settings& s) {
    std::string error;
    std::vector<HostPort> endpoints = parse_host_list(s.host, s.port, error);
    if (endpoints.empty()) endpoints.push_back({s.host, s.port});  // as given
    return endpoints;
}

}  // namespace

std::vector<std::string> node_names(const Settings& s) {
    std::vector<std::string> names;
    for (const HostPort& endpoint : endpoints_of(s))
        names.push_back(is_local(endpoint.host) ? "localhost" : endpoint.text());
    return names;
}

Session::Session(Settings settings)
    : settings_(std::move(settings)), endpoints_(endpoints_of(settings_)),
      names_(node_names(settings_)), refuse_until_(endpoints_.size()) {}

const std::string& Session::node() const {
    static const std::string none;
    return conn_ ? names_[current_] : none;
}

DatabaseCounters* Session::counters() const {
    return current_ < settings_.counters.size() ? settings_.counters[current_] : nullptr;
}

Session::~Session() { drop_connection(); }

bool Session::open_endpoint(std::size_t index, std::string& error) {
    const HostPort& endpoint = endpoints_[index];
    sql::ConnectOptionsMap options;
    const bool local = is_local(endpoint.host);
    if (local && !settings_.socket.empty()) {
        options["hostName"] = sql::SQLString("unix://" + settings_.socket);
    } else {
        options["hostName"] = sql::SQLString(local ? "localhost" : endpoint.host);
        options["port"] = static_cast<int>(endpoint.port ? endpoint.port : 3306);
    }
    options["userName"] = sql::SQLString(settings_.user);
    options["password"] = sql::SQLString(settings_.password);
    options["schema"] = sql::SQLString(settings_.database);
    options["OPT_CONNECT_TIMEOUT"] = settings_.connect_timeout_s;
    options["OPT_READ_TIMEOUT"] = settings_.io_timeout_s;
    options["OPT_WRITE_TIMEOUT"] = settings_.io_timeout_s;
    options["OPT_RECONNECT"] = false;  // we reconnect ourselves, dropping statements
    try {
        conn_.reset(driver()->connect(options));
    } catch (const sql::SQLException& e) {
        DatabaseCounters* c = index < settings_.counters.size() ? settings_.counters[index] : nullptr;
        count(c, &DatabaseCounters::errors);
        if (endpoints_.size() > 1) count(c, &DatabaseCounters::failovers);
        refuse_until_[index] = std::chrono::steady_clock::now() + settings_.reconnect_backoff;
        error = describe(e);
        return false;
    }
    current_ = index;
    count(counters(), &DatabaseCounters::connections);
    if (ever_connected_) count(counters(), &DatabaseCounters::reconnects);
    ever_connected_ = true;
    return true;
}

void Session::open() {
    thread_init_once();
    const auto now = std::chrono::steady_clock::now();
    std::string error;
    bool tried = false;
    for (std::size_t i = 0; i < endpoints_.size() && !conn_; ++i) {
        if (now < refuse_until_[i]) continue;
        if (tried && settings_.log_outages)
            log_failover(endpoints_[i - 1].text(), "cannot connect: " + error);
        tried = true;
        open_endpoint(i, error);
    }
    if (!tried) throw Unavailable("database unavailable (waiting before the next reconnect)");
    if (!conn_) {
        if (settings_.log_outages && !outage_logged.exchange(true))
            log::line("mysql: cannot connect to " + settings_.host + ": " + error +
                      "; answering by FAILSAFE until it is back");
        throw Unavailable("cannot connect: " + error);
    }
    if (settings_.log_outages && outage_logged.exchange(false))
        log::line("mysql: connected to " + settings_.host + " again");
    // READ COMMITTED: every statement reads the rows committed when it
    // runs, also inside a transaction of several (a commit group decides
    // each request on what it would have read alone; under REPEATABLE READ
    // its later requests would read the snapshot of its first).
    try {
        std::unique_ptr<sql::Statement> set(conn_->createStatement());
        set->execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    } catch (const sql::SQLException& e) {
        // A lost connection shows on the next statement; anything else would
        // leave the commit groups reading a snapshot: said once.
        static std::atomic<bool> said{false};
        if (!connection_lost(e.getErrorCode()) && !said.exchange(true))
            log::line("warning: mysql: cannot set READ COMMITTED: " + describe(e));
    }
    if (!waits_for_locks_ || settings_.lock_wait_timeout_s > 0) {
        try {
            std::unique_ptr<sql::PreparedStatement> set(
                conn_->prepareStatement(kSetLockWait));
            set->setInt(1, waits_for_locks_ ? settings_.lock_wait_timeout_s : 0);
            set->execute();
        } catch (const sql::SQLException&) {
            // A server without the variable keeps its own wait; a lost
            // connection shows on the next statement.
        }
    }
}

void Session::wait_for_locks(bool wait) {
    if (wait == waits_for_locks_) return;
    waits_for_locks_ = wait;
    if (!conn_) return;  // open() sets it
    try {
        if (wait && settings_.lock_wait_timeout_s <= 0)
            execute("SET SESSION innodb_lock_wait_timeout = DEFAULT");
        else
            execute(kSetLockWait, {wait ? static_cast<long long>(settings_.lock_wait_timeout_s) : 0LL});
    } catch (const Error&) {
        drop_connection();  // the next connection starts with the wait wanted
    }
}

void Session::connect() {
    if (conn_) return;
    open();
}

void Session::drop_connection() noexcept {
    statements_.clear();  // statements belong to the connection
    if (conn_) {
        try { conn_->close(); } catch (...) {}
        conn_.reset();
        count(counters(), &DatabaseCounters::connections, -1);
    }
    // The server rolls back the transaction of a closed connection; the
    // caller still has to end it (rollback()), and nothing may be sent for it
    // meanwhile: on a new connection it would run on its own.
    if (in_transaction_) transaction_ended_ = true;
}

// A lost connection: with another server to go to, this one waits out the
// back-off so the reconnect goes elsewhere at once; a single server is
// reconnected at once (a KILL or a restart is over by then).
void Session::lose_connection(const std::string& why) {
    const std::string from = node();
    drop_connection();
    if (endpoints_.size() > 1) {
        refuse_until_[current_] = std::chrono::steady_clock::now() + settings_.reconnect_backoff;
        count(counters(), &DatabaseCounters::failovers);
        if (settings_.log_outages) log_failover(from, "connection lost: " + why);
    }
}

sql::PreparedStatement& Session::prepared(const std::string& sql, bool& fresh) {
    auto it = statements_.find(sql);
    fresh = it == statements_.end();
    if (fresh) it = statements_.emplace(sql, conn_->prepareStatement(sql)).first;
    return *it->second;
}

// Sleeps a random time below min(128 ms, 1 ms << attempt) and returns
// true, or returns false at once when that sleep would end past the budget.
bool Session::back_off(int attempt, std::chrono::steady_clock::time_point started) {
    thread_local std::minstd_rand random{std::random_device{}()};
    const auto budget_end = deadline_ != std::chrono::steady_clock::time_point{}
                                ? deadline_
                                : started + std::chrono::seconds(settings_.io_timeout_s);
    const long long cap_us = 1000LL << std::min(attempt, 7);
    const auto delay = std::chrono::microseconds(
        std::uniform_int_distribution<long long>(0, cap_us)(random));
    if (std::chrono::steady_clock::now() + delay >= budget_end) return false;
    std::this_thread::sleep_for(delay);
    return true;
}

template <typename Fn>
auto Session::with_retry(const std::string& sql, bool writes, Fn&& fn) {
    const auto started = std::chrono::steady_clock::now();
    bool resent_after_loss = false, reprepared = false;
    for (int conflicts = 0;;) {
        if (in_transaction_ && transaction_ended_) {
            transaction_failed_ = true;
            throw Conflict("not sent: the server has ended the transaction it belonged to");
        }
        connect();
        bool sent = false;  // prepared: from here on the server may run it
        try {
            bool fresh = false;
            sql::PreparedStatement& ps = prepared(sql, fresh);
            sent = true;
            if (in_transaction_) {
                // That prepare may have swallowed the report of a rollback
                // (rolled_back_by_server()): asked before this runs on its own.
                if (fresh && sent_in_transaction_ && sql != kStillOpen &&
                    query_int(kStillOpen) != 1)
                    rolled_back_by_server();
                sent_in_transaction_ = true;
            }
            ++round_trips_;
            count(counters(), &DatabaseCounters::statements);
            return fn(ps);
        } catch (const sql::SQLException& e) {
            const int code = e.getErrorCode();
            // Not waiting for a lock is what a commit group asked for: the
            // group gives way, which is not a database error.
            if (code != kLockWaitTimeout || waits_for_locks_)
                count(counters(), &DatabaseCounters::errors);
            if (in_transaction_) transaction_failed_ = true;
            if (connection_lost(code)) {
                const bool was_in_transaction = in_transaction_;
                lose_connection(describe(e));
                // One server: resent once whatever it was, as always (the loss
                // is almost always an idle connection killed or a restart);
                // several: a write whose reply was lost is not resent.
                const bool maybe_committed = writes && sent && may_have_run(code);
                if (!was_in_transaction && !resent_after_loss &&
                    !(maybe_committed && endpoints_.size() > 1)) {
                    resent_after_loss = true;
                    count(counters(), &DatabaseCounters::retries);  // counted where it is resent
                    continue;
                }
                // With several servers the failover line said it; the next
                // statement goes to the next server.
                if (endpoints_.size() == 1 && settings_.log_outages && !outage_logged.exchange(true))
                    log::line("mysql: connection lost: " + describe(e));
                throw Unavailable(describe(e));
            }
            if (code == kNeedReprepare && !reprepared && !in_transaction_) {
                statements_.erase(sql);
                reprepared = true;
                count(counters(), &DatabaseCounters::retries);
                continue;
            }
            if (code == kDeadlock) {
                count(counters(), &DatabaseCounters::conflicts);
                if (in_transaction_) {
                    transaction_ended_ = true;  // InnoDB and Galera roll it all back
                    throw Conflict(describe(e));
                }
                if (!back_off(conflicts++, started)) throw Conflict(describe(e));
                count(counters(), &DatabaseCounters::retries);
                continue;
            }
            // Most errors leave the transaction open; some end it on the
            // server (1205 with innodb_rollback_on_timeout, 1206, ...): asked
            // rather than listed.
            if (in_transaction_ && sql != kStillOpen) note_whether_still_open();
            throw Error(describe(e));
        }
    }
}

std::vector<Row> Session::query(const std::string& sql, const std::vector<Param>& params) {
    trace(sql, params);
    if (observer_) return observed_query(sql, params);
    return with_retry(sql, writes_rows(sql), [&](sql::PreparedStatement& ps) {
        bind(ps, params);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        return read_rows(*rs);
    });
}

std::vector<Row> Session::observed_query(const std::string& sql, const std::vector<Param>& params) {
    std::vector<std::string> names;
    std::vector<Row> rows;
    try {
        rows = with_retry(sql, writes_rows(sql), [&](sql::PreparedStatement& ps) {
            bind(ps, params);
            std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
            sql::ResultSetMetaData* meta = rs->getMetaData();
            names.clear();
            for (unsigned c = 1; c <= meta->getColumnCount(); ++c)
                names.push_back(meta->getColumnLabel(c).asStdString());
            return read_rows(*rs);
        });
    } catch (const Error& e) {
        observer_->failed(sql, params, e.what());
        throw;
    }
    observer_->statement(sql, params, names, &rows, rows.size());
    return rows;
}

std::vector<Row> Session::read_rows(sql::ResultSet& rs) {
    const unsigned columns = rs.getMetaData()->getColumnCount();
    std::vector<Row> rows;
    while (rs.next()) {
        Row row;
        row.reserve(columns);
        for (unsigned c = 1; c <= columns; ++c) {
            if (rs.isNull(c))
                row.emplace_back(std::nullopt);
            else
                row.emplace_back(rs.getString(c).asStdString());
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::optional<Row> Session::query_row(const std::string& sql, const std::vector<Param>& params) {
    auto rows = query(sql, params);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
}

long long Session::query_int(const std::string& sql, const std::vector<Param>& params,
                             long long if_none) {
    auto row = query_row(sql, params);
    if (!row || row->empty() || !(*row)[0]) return if_none;
    return std::stoll(*(*row)[0]);
}

std::uint64_t Session::execute(const std::string& sql, const std::vector<Param>& params) {
    trace(sql, params);
    auto run = [&] {
        return with_retry(sql, true, [&](sql::PreparedStatement& ps) {
            bind(ps, params);
            return static_cast<std::uint64_t>(ps.executeUpdate());
        });
    };
    if (!observer_) return run();
    std::uint64_t affected = 0;
    try {
        affected = run();
    } catch (const Error& e) {
        observer_->failed(sql, params, e.what());
        throw;
    }
    observer_->statement(sql, params, {}, nullptr, affected);
    return affected;
}

void Session::begin() {
    // Resent after a loss like a read: nothing has run yet.
    trace("START TRANSACTION", {});
    with_retry("START TRANSACTION", false,
               [](sql::PreparedStatement& ps) { return ps.executeUpdate(); });
    in_transaction_ = true;
    transaction_ended_ = false;
    transaction_failed_ = false;
    sent_in_transaction_ = false;
    // COMMIT and the question are prepared now, before the transaction holds
    // any row lock, so that neither needs a prepare later (with_retry()).
    // A connection that fails here fails the unit's first statement.
    try {
        bool fresh;
        prepared("COMMIT", fresh);
        prepared(kStillOpen, fresh);
    } catch (const sql::SQLException&) {
    }
}

void Session::note_whether_still_open() noexcept {
    try {
        if (query_int(kStillOpen) != 1) transaction_ended_ = true;
    } catch (...) {
        transaction_ended_ = true;  // unknown: send nothing more for it
    }
}

// A Galera node that rolls back an idle transaction (a conflicting write set
// applied meanwhile) says so at the client's next command, but not when that
// command only prepares a statement: the statement then runs on its own,
// outside any transaction, and so would every later one and COMMIT, after a
// silent rollback. A command that executes reports it (error 1213). So after
// every prepare inside a transaction but for its first statement's (sent
// before the transaction holds anything a conflict could take), the server is
// asked whether the transaction is still open, before the statement runs; if
// not, the unit is retried like any conflict. A connection's statements stay
// prepared, so a warm connection asks nothing.
void Session::rolled_back_by_server() {
    count(counters(), &DatabaseCounters::conflicts);
    transaction_ended_ = true;
    transaction_failed_ = true;
    throw Conflict("the server rolled the transaction back before COMMIT (conflict)");
}

void Session::commit() {
    // A silent rollback has been asked about after every prepare (with_retry),
    // COMMIT's own included if begin() could not prepare it.
    // Still in the transaction while COMMIT runs: a conflict at commit is
    // the unit's to retry, a lost connection is not resent.
    try {
        execute("COMMIT");
    } catch (const Unavailable& e) {
        throw CommitUnknown(e.what());  // the reply was lost, not necessarily the commit
    }
    in_transaction_ = false;
}

void Session::rollback() noexcept {
    if (!in_transaction_) return;
    in_transaction_ = false;
    if (transaction_ended_) {  // nothing left to roll back on the server
        transaction_ended_ = false;
        return;
    }
    try {
        execute("ROLLBACK");
    } catch (...) {
        drop_connection();  // the server rolls back a dropped connection
    }
}

void Session::transaction(const std::function<void()>& unit) {
    // Inside the caller's own transaction (policyd --explain, which rolls
    // everything back) the unit is part of it: START TRANSACTION here would
    // commit the caller's work.
    if (in_transaction_) {
        unit();
        return;
    }
    const auto started = std::chrono::steady_clock::now();
    for (int conflicts = 0;;) {
        begin();
        try {
            unit();
            commit();
            return;
        } catch (const Conflict&) {
            rollback();
            if (!back_off(conflicts++, started)) throw;
            count(counters(), &DatabaseCounters::retries);
        } catch (...) {
            rollback();
            throw;
        }
    }
}

}  // namespace policyd::db
