// NAME
//   server.cpp - listener, connection table, worker hand-off, signals (see server.h)
// DESCRIPTION
//   Workers hand finished jobs back through a mutex-guarded vector; the one
//   that finds it empty wakes the loop through an eventfd, the others add to
//   the batch the loop has yet to take. The loop thread then delivers each
//   reply to its connection, if that connection still exists (a client
//   that disconnected early simply loses its late replies), and writes each
//   connection's replies of the batch with one send().
//
//   So no thread but the loop ever calls libevent, which therefore runs
//   without its locks: event_active() from the workers took the event
//   base's lock for every reply, against the loop that holds it while it
//   dispatches.
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "config.h"
#include "config/cidr.h"
#include "db/config_settings.h"
#include "log/log.h"
#include "stats/exposition.h"

namespace policyd {
namespace {

struct Peer {
    std::string address;
    unsigned port = 0;
};

Peer describe_peer(const sockaddr* address) {
    char text[INET6_ADDRSTRLEN] = "?";
    Peer peer;
    if (address->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        peer.port = ntohs(in->sin_port);
    } else if (address->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        // An IPv4 client of a socket bound to "::" is logged as itself,
        // not as ::ffff:a.b.c.d, so log watches see one address per client.
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], text, sizeof text);
        else
            inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        peer.port = ntohs(in6->sin6_port);
    }
    peer.address = text;
    return peer;
}

constexpr int kDrainSeconds = 10;

}  // namespace

Server::Server(std::shared_ptr<const Config> config, std::string config_path, Listeners listeners)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      base_(event_base_new()),
      completed_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      unix_path_(std::move(listeners.unix_path)),
      pipeline_(Pipeline::standard()),
      started_unix_(std::chrono::duration<double>(
                        std::chrono::system_clock::now().time_since_epoch()).count()) {
    // Backlog 0: the sockets already listen (bind_listener, UnixSocket); -1
    // would make libevent call listen(fd, 128) again and shrink the queue.
    const auto listen_on = [this](int fd) {
        evconnlistener* listener = evconnlistener_new(
            base_, &Server::on_accept, this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
        evconnlistener_set_error_cb(listener, &Server::on_accept_error);
        return listener;
    };
    listener_ = listen_on(listeners.tcp_fd);
    if (listeners.unix_fd >= 0) unix_listener_ = listen_on(listeners.unix_fd);
    if (completed_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    completed_event_ =
        event_new(base_, completed_fd_, EV_READ | EV_PERSIST, &Server::on_completed, this);
    event_add(completed_event_, nullptr);
    resume_accept_event_ = evtimer_new(
        base_, [](evutil_socket_t, short, void* self) {
            auto* server = static_cast<Server*>(self);
            if (!server->shutting_down_) server->set_accepting(true);
        }, this);
    drain_deadline_event_ = evtimer_new(
        base_, [](evutil_socket_t, short, void* self) {
            log::line("warning: requests still in flight after " + std::to_string(kDrainSeconds) +
                      "s, exiting anyway");
            event_base_loopexit(static_cast<Server*>(self)->base_, nullptr);
        }, this);
    stats_event_ = event_new(
        base_, -1, EV_PERSIST, [](evutil_socket_t, short, void* self) {
            log::line(static_cast<Server*>(self)->stats_.report());
        }, this);
    schedule_stats();
    for (Refusals* refusals : {&refused_acl_, &refused_limit_})
        refusals->summary_timer = evtimer_new(base_, &Server::on_refusal_summary, refusals);
    pipeline_.count_into(&stats_);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
        event* ev = evsignal_new(base_, sig, &Server::on_signal, this);
        event_add(ev, nullptr);
        signal_events_.push_back(ev);
    }
    if (listeners.metrics_fd >= 0)
        metrics_ = std::make_unique<MetricsListener>(base_, listeners.metrics_fd,
                                                     [this] { return metrics_text(); });
    db::Settings db_settings = db::settings_from_config(*config_);
    for (const std::string& node : db::node_names(db_settings))
        db_settings.counters.push_back(&stats_.database_node(node));
    workers_ = std::make_unique<WorkerPool>(
        static_cast<unsigned>(config_->workers > 0 ? config_->workers : 1),
        std::move(db_settings), pipeline_, [this](Job&& job) {
            stats_.request_finished(std::chrono::steady_clock::now() - job.arrived);
            bool first;
            {
                std::lock_guard<std::mutex> lock(completed_mutex_);
                first = completed_.empty();
                completed_.push_back(std::move(job));
            }
            if (first) {  // else the loop has yet to take the batch: no wake-up needed
                const std::uint64_t one = 1;
                [[maybe_unused]] const ssize_t n = write(completed_fd_, &one, sizeof one);
            }
        },
        &stats_);
}

Server::~Server() {
    workers_->stop();  // before the events the workers signal are freed
    connections_.clear();
    metrics_.reset();
    for (event* ev : signal_events_) event_free(ev);
    event_free(refused_limit_.summary_timer);
    event_free(refused_acl_.summary_timer);
    event_free(stats_event_);
    event_free(drain_deadline_event_);
    event_free(resume_accept_event_);
    event_free(completed_event_);
    close(completed_fd_);
    if (unix_listener_) evconnlistener_free(unix_listener_);
    evconnlistener_free(listener_);
    event_base_free(base_);
}

int Server::run() {
    event_base_dispatch(base_);
    workers_->stop();
    // Refusals counted since the last line would otherwise go unlogged.
    for (Refusals* refusals : {&refused_acl_, &refused_limit_})
        if (auto line = refusals->log.summary(RefusalLog::Clock::now())) log::line(*line);
    return 0;
}

void Server::submit(Job job) { workers_->submit(std::move(job)); }

void Server::close_connection(std::uint64_t id, CloseReason reason) {
    if (reason == CloseReason::Peer && shutting_down_) reason = CloseReason::Shutdown;
    if (connections_.erase(id) != 0) stats_.connection_closed(reason);
    if (shutting_down_) exit_if_drained();
}

void Server::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int, void* self) {
    static_cast<Server*>(self)->accept_client(fd, address);
}

void Server::accept_client(evutil_socket_t fd, const sockaddr* address) {
    if (address->sa_family == AF_UNIX) {
        // CONN_ACL is about addresses; the socket's file mode decided already.
        admit(fd, "unix:" + unix_path_, 0, false);
        return;
    }
    const Peer peer = describe_peer(address);
    sockaddr_storage storage{};
    std::memcpy(&storage, address,
                address->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    if (!acl_allows(config_->conn_acl, storage)) {
        stats_.refused_acl();
        refuse(fd, refused_acl_, peer.address);
        return;
    }
    admit(fd, peer.address, peer.port, true);
}

void Server::admit(evutil_socket_t fd, const std::string& address, unsigned port, bool tcp) {
    // "unix:/path" has no port to add; the log line keeps "port: 0" so
    // that one pattern still parses every connection line.
    const std::string peer = tcp ? address + ":" + std::to_string(port) : address;
    if (connections_.size() >= static_cast<std::size_t>(config_->max_connections)) {
        stats_.refused_limit();
        refuse(fd, refused_limit_, peer);
        return;
    }
    const std::uint64_t id = next_connection_id_++;
    log::line("connection from: " + address + " port: " + std::to_string(port) + " slots: " +
              std::to_string(connections_.size()) + " of " +
              std::to_string(config_->max_connections) + " used");
    evutil_make_socket_nonblocking(fd);
    stats_.connection_opened();
    if (tcp) {
        // A reply must not wait for the ACK of the previous one (Nagle): with
        // pipelined requests that cost up to the peer's 40 ms delayed ACK.
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    connections_.emplace(id, std::make_unique<Connection>(*this, id, fd, peer));
}

void Server::set_accepting(bool on) {
    for (evconnlistener* listener : {listener_, unix_listener_})
        if (listener) (on ? evconnlistener_enable : evconnlistener_disable)(listener);
}

void Server::refuse(evutil_socket_t fd, Refusals& refusals, const std::string& peer) {
    // Logged before the close: whoever sees the connection closed (a
    // monitoring probe, the test suite) finds the reason in the log already.
    log_refusal_line(refusals, refusals.log.refused(peer, RefusalLog::Clock::now()));
    close(fd);
}

void Server::log_refusal_line(Refusals& refusals, const std::optional<std::string>& line) {
    if (!line) return;
    log::line(*line);
    const timeval interval{RefusalLog::kInterval.count(), 0};
    evtimer_add(refusals.summary_timer, &interval);
}

void Server::on_refusal_summary(evutil_socket_t, short, void* arg) {
    auto& refusals = *static_cast<Refusals*>(arg);
    log_refusal_line(refusals, refusals.log.summary(RefusalLog::Clock::now()));
}

// Out of descriptors (EMFILE/ENFILE) must not kill the daemon (in the
// reference any accept() error but an abort exited it): pause accepting for
// a second and let connections close meanwhile.
void Server::on_accept_error(evconnlistener*, void* self) {
    auto* server = static_cast<Server*>(self);
    const int err = EVUTIL_SOCKET_ERROR();
    log::line(std::string("warning: accept(): ") + evutil_socket_error_to_string(err) +
              "; pausing new connections for 1s");
    server->set_accepting(false);  // both: the descriptors they lack are shared
    const timeval one_second{1, 0};
    evtimer_add(server->resume_accept_event_, &one_second);
}

void Server::on_completed(evutil_socket_t, short, void* self) {
    static_cast<Server*>(self)->deliver_completed();
}

void Server::deliver_completed() {
    // Reset the eventfd before taking the batch: a worker that finds the
    // vector empty after our swap writes again and wakes us for its job.
    std::uint64_t signals;
    [[maybe_unused]] const ssize_t n = read(completed_fd_, &signals, sizeof signals);
    std::vector<Job> done;
    {
        std::lock_guard<std::mutex> lock(completed_mutex_);
        done.swap(completed_);
    }
    // All replies first, then one write per connection for the whole batch.
    std::vector<std::uint64_t> to_flush;
    for (Job& job : done) {
        auto it = connections_.find(job.connection_id);
        if (it != connections_.end() && it->second->deliver(job.sequence, std::move(job.reply)))
            to_flush.push_back(job.connection_id);
    }
    for (std::uint64_t id : to_flush) {
        auto it = connections_.find(id);  // an earlier flush may have closed it
        if (it != connections_.end()) it->second->flush();
    }
}

void Server::on_signal(evutil_socket_t sig, short, void* self) {
    auto* server = static_cast<Server*>(self);
    if (sig == SIGHUP)
        server->reload();
    else if (sig == SIGUSR1)
        log::line(server->stats_.report());
    else
        server->begin_shutdown();
}

void Server::reload() {
    try {
        auto fresh = std::make_shared<const Config>(load_config(config_path_));
        for (const auto& warning : fresh->warnings) log::line("warning: " + warning);
        for (const auto& change : restart_only_changes(*config_, *fresh))
            log::line("warning: " + change + ": applies after a restart, the daemon goes on "
                      "with the running value");
        log::set_debug_level(fresh->debug);
        config_ = std::move(fresh);
        schedule_stats();
        stats_.reloaded(true);
        log::line("reloaded configuration from " + config_path_ +
                  " (database, listener and worker settings apply after a restart)");
    } catch (const std::exception& e) {
        stats_.reloaded(false);
        log::line(std::string("reload failed, keeping the running configuration: ") + e.what());
    }
}

void Server::begin_shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    log::line("shutting down..");
    set_accepting(false);
    const timeval deadline{kDrainSeconds, 0};
    evtimer_add(drain_deadline_event_, &deadline);
    std::vector<Connection*> open;
    for (auto& [id, conn] : connections_) open.push_back(conn.get());
    for (Connection* conn : open) conn->drain();  // may close and erase itself
    exit_if_drained();
}

void Server::schedule_stats() {
    event_del(stats_event_);
    if (config_->stats_interval > 0) {
        const timeval interval{static_cast<time_t>(config_->stats_interval), 0};
        event_add(stats_event_, &interval);
    }
}

std::string Server::metrics_text() const {
    ExpositionInfo info;
    info.worker_queue_depth = workers_->queued();
    info.version = PACKAGE_VERSION;
    info.config_path = config_path_;
    info.start_time_seconds = started_unix_;
    return prometheus_text(stats_.snapshot(), info);
}

void Server::exit_if_drained() {
    if (connections_.empty()) event_base_loopexit(base_, nullptr);
}

}  // namespace policyd
