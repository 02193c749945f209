// NAME
//   session.cpp - db::Session over MySQL Connector/C++ (see session.h)
// DESCRIPTION
//   Connection loss is recognised by the client error codes below; such a
//   failure drops the connection and its statements, reconnects and retries
//   the statement once. A failed connect starts a back-off during which the
//   session fails at once: the daemon keeps answering (FAILSAFE) instead of
//   queueing requests behind connect timeouts.
//
//   Outage and recovery are logged once per process, not once per worker or
//   request: the first session to see the server go away logs it, the first
//   to reconnect logs the recovery.
#include "db/session.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>
#include <mysql_driver.h>

#include <atomic>
#include <mutex>

#include "log/log.h"

namespace policyd::db {
namespace {

// Client/server error codes meaning "this connection is unusable".
bool connection_lost(const sql::SQLException& e) {
    switch (e.getErrorCode()) {
    case 2002:  // CR_CONNECTION_ERROR
    case 2003:  // CR_CONN_HOST_ERROR
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT
        return true;
    default:
        return false;
    }
}

// Statement-level failures worth one immediate retry on the same connection.
bool retry_on_same_connection(const sql::SQLException& e) {
    return e.getErrorCode() == 1213 /* ER_LOCK_DEADLOCK */ ||
           e.getErrorCode() == 1615 /* ER_NEED_REPREPARE */;
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

void count(DatabaseCounters* counters, std::atomic<std::uint64_t> DatabaseCounters::*which) {
    if (counters) (counters->*which).fetch_add(1, std::memory_order_relaxed);
}

std::string describe(const sql::SQLException& e) {
    return std::string(e.what()) + " (error " + std::to_string(e.getErrorCode()) + ")";
}

}  // namespace

std::string node_name(const Settings& s) {
    if (s.host.empty() || s.host == "localhost") return "localhost";
    return s.host + ":" + std::to_string(s.port ? s.port : 3306);
}

Session::Session(Settings settings) : settings_(std::move(settings)) {}

Session::~Session() { drop_connection(); }

void Session::open() {
    thread_init_once();
    sql::ConnectOptionsMap options;
    const bool local = settings_.host.empty() || settings_.host == "localhost";
    if (local && !settings_.socket.empty()) {
        options["hostName"] = sql::SQLString("unix://" + settings_.socket);
    } else {
        options["hostName"] = sql::SQLString(local ? "localhost" : settings_.host);
        options["port"] = static_cast<int>(settings_.port ? settings_.port : 3306);
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
        count(settings_.counters, &DatabaseCounters::errors);
        refuse_until_ = std::chrono::steady_clock::now() + settings_.reconnect_backoff;
        if (settings_.log_outages && !outage_logged.exchange(true))
            log::line("mysql: cannot connect to " + settings_.host + ": " + describe(e) +
                      "; answering by FAILSAFE until it is back");
        throw Unavailable("cannot connect: " + describe(e));
    }
    if (settings_.log_outages && outage_logged.exchange(false))
        log::line("mysql: connected to " + settings_.host + " again");
    if (ever_connected_) count(settings_.counters, &DatabaseCounters::reconnects);
    ever_connected_ = true;
    if (settings_.lock_wait_timeout_s > 0) {
        try {
            std::unique_ptr<sql::PreparedStatement> set(
                conn_->prepareStatement("SET SESSION innodb_lock_wait_timeout = ?"));
            set->setInt(1, settings_.lock_wait_timeout_s);
            set->execute();
        } catch (const sql::SQLException&) {
            // A server without the variable keeps its own wait; a lost
            // connection shows on the next statement.
        }
    }
}

void Session::connect() {
    if (conn_) return;
    if (std::chrono::steady_clock::now() < refuse_until_)
        throw Unavailable("database unavailable (waiting before the next reconnect)");
    open();
}

void Session::drop_connection() noexcept {
    statements_.clear();  // statements belong to the connection
    if (conn_) {
        try { conn_->close(); } catch (...) {}
        conn_.reset();
    }
    in_transaction_ = false;
}

sql::PreparedStatement& Session::prepared(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end())
        it = statements_.emplace(sql, conn_->prepareStatement(sql)).first;
    return *it->second;
}

template <typename Fn>
auto Session::with_retry(const std::string& sql, Fn&& fn) {
    for (int attempt = 0;; ++attempt) {
        connect();
        if (attempt > 0) count(settings_.counters, &DatabaseCounters::retries);
        try {
            ++round_trips_;
            count(settings_.counters, &DatabaseCounters::statements);
            return fn(prepared(sql));
        } catch (const sql::SQLException& e) {
            count(settings_.counters, &DatabaseCounters::errors);
            const bool lost = connection_lost(e);
            if (lost) {
                const bool was_in_transaction = in_transaction_;
                drop_connection();
                if (attempt == 0 && !was_in_transaction) continue;
                if (settings_.log_outages && !outage_logged.exchange(true))
                    log::line("mysql: connection lost: " + describe(e));
                throw Unavailable(describe(e));
            } else if (retry_on_same_connection(e) && attempt == 0 && !in_transaction_) {
                statements_.erase(sql);
                continue;
            }
            throw Error(describe(e));
        }
    }
}

std::vector<Row> Session::query(const std::string& sql, const std::vector<Param>& params) {
    trace(sql, params);
    if (observer_) return observed_query(sql, params);
    return with_retry(sql, [&](sql::PreparedStatement& ps) {
        bind(ps, params);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        return read_rows(*rs);
    });
}

std::vector<Row> Session::observed_query(const std::string& sql, const std::vector<Param>& params) {
    std::vector<std::string> names;
    std::vector<Row> rows;
    try {
        rows = with_retry(sql, [&](sql::PreparedStatement& ps) {
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
        return with_retry(sql, [&](sql::PreparedStatement& ps) {
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
    execute("START TRANSACTION");
    in_transaction_ = true;
}

void Session::commit() {
    in_transaction_ = false;
    execute("COMMIT");
}

void Session::rollback() noexcept {
    if (!in_transaction_) return;
    in_transaction_ = false;
    try {
        execute("ROLLBACK");
    } catch (...) {
        drop_connection();  // the server rolls back a dropped connection
    }
}

}  // namespace policyd::db
