// NAME
//   server.h - the libevent server: listener, connections, workers, signals
// SYNOPSIS
//   #include "server/server.h"
//   Server server(config, config_path, {tcp_fd, unix_fd, unix_path, metrics_fd});
//   return server.run();     // until SIGTERM/SIGINT; returns the exit status
// DESCRIPTION
//   One event-loop thread owns the sockets; a WorkerPool owns the database.
//   It accepts on BINDHOST:BINDPORT and, when BINDSOCKET is set, on that
//   Unix-domain socket too. TCP clients are checked against CONN_ACL (the
//   socket's clients are not: its file permissions decide who connects),
//   every client against MAX_CONNECTIONS; the
//   refusals of each kind are logged through a RefusalLog, so a flood of
//   them logs one line and then one summary a second.
//   SIGHUP re-reads policyd.conf (a bad file keeps the running
//   configuration); SIGTERM/SIGINT stop accepting, finish and write the
//   requests in flight, then return 0. SIGUSR1 logs the statistics line,
//   which is also logged every STATS_INTERVAL seconds when that is non-zero.
//   With METRICS_BIND, a MetricsListener serves the same counters as GET
//   /metrics on this loop.
//
//   The Server owns the listening descriptors it is given (and closes
//   them); the socket file itself belongs to the UnixSocket that made it.
#pragma once

#include <event2/event.h>
#include <event2/listener.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "policy/pipeline.h"
#include "server/connection.h"
#include "server/metrics_listener.h"
#include "server/refusal_log.h"
#include "server/worker_pool.h"
#include "stats/stats.h"

namespace policyd {

// The sockets the server accepts on.
struct Listeners {
    int tcp_fd = -1;        // BINDHOST:BINDPORT
    int unix_fd = -1;       // BINDSOCKET; -1: none
    std::string unix_path;  // its path, for the log lines of its clients
    int metrics_fd = -1;    // METRICS_BIND; -1: no metrics
};

class Server {
public:
    Server(std::shared_ptr<const Config> config, std::string config_path, Listeners listeners);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int run();

    // For connections (event-loop thread only).
    event_base* base() const { return base_; }
    const std::shared_ptr<const Config>& config() const { return config_; }
    void submit(Job job);
    const Pipeline& pipeline() const { return pipeline_; }
    void close_connection(std::uint64_t id, CloseReason reason);

private:
    static void on_accept(evconnlistener*, evutil_socket_t, sockaddr*, int, void* self);
    static void on_accept_error(evconnlistener*, void* self);
    static void on_completed(evutil_socket_t, short, void* self);
    static void on_signal(evutil_socket_t, short, void* self);
    static void on_refusal_summary(evutil_socket_t, short, void* refusals);

    // One kind of refused connection: its log and the timer of its summaries.
    struct Refusals {
        RefusalLog log;
        event* summary_timer = nullptr;  // owned: freed in ~Server
    };
    // Logs `line`, if any, and has the summary of the refusals after it
    // written one interval later.
    static void log_refusal_line(Refusals& refusals, const std::optional<std::string>& line);
    // Closes a refused client's `fd` and logs it through `refusals` (counts it
    // for the next summary while one is due).
    void refuse(evutil_socket_t fd, Refusals& refusals, const std::string& peer);

    void accept_client(evutil_socket_t fd, const sockaddr* address);
    // Opens a connection for an accepted client, unless MAX_CONNECTIONS are
    // open; `tcp` false for the Unix-domain socket (address "unix:<path>").
    void admit(evutil_socket_t fd, const std::string& address, unsigned port, bool tcp);
    void set_accepting(bool on);
    void deliver_completed();
    void reload();
    void begin_shutdown();
    void exit_if_drained();
    // (Re)arms the STATS_INTERVAL timer from the current configuration.
    void schedule_stats();
    // The body of GET /metrics.
    std::string metrics_text() const;

    std::shared_ptr<const Config> config_;
    const std::string config_path_;
    event_base* base_;
    int completed_fd_;  // eventfd: a worker's wake-up when completed_ was empty
    evconnlistener* listener_ = nullptr;       // TCP
    evconnlistener* unix_listener_ = nullptr;  // BINDSOCKET; null: none
    const std::string unix_path_;
    event* completed_event_ = nullptr;
    event* resume_accept_event_ = nullptr;
    event* drain_deadline_event_ = nullptr;
    event* stats_event_ = nullptr;
    std::vector<event*> signal_events_;
    Refusals refused_acl_{{"WARNING: connection attempt from: ", "CONN_ACL"}};
    Refusals refused_limit_{
        {"WARNING: No free slots found, closing connection from ", "MAX_CONNECTIONS"}};

    Stats stats_;  // before the pipeline and the workers that count into it
    Pipeline pipeline_;
    std::unique_ptr<WorkerPool> workers_;
    std::mutex completed_mutex_;
    std::vector<Job> completed_;  // handed over by workers, guarded by the mutex

    std::unique_ptr<MetricsListener> metrics_;  // null without METRICS_BIND
    const double started_unix_;                 // for process_start_time_seconds

    std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
    std::uint64_t next_connection_id_ = 1;
    bool shutting_down_ = false;
};

}  // namespace policyd
