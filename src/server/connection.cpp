// NAME
//   connection.cpp - client connection state machine (see connection.h)
// DESCRIPTION
//   Bounds that keep one client from hurting the others: at most
//   kMaxInFlight requests per connection are queued for workers, and reading
//   pauses while more than kMaxUnsentBytes of replies wait for a client that
//   does not read. The framer bounds a single request (MAX_REQUEST_SIZE).
#include "server/connection.h"

#include <event2/buffer.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <limits>

#include "log/log.h"
#include "protocol/attributes.h"
#include "protocol/normalizer.h"
#include "server/server.h"

namespace policyd {
namespace {

constexpr std::size_t kMaxInFlight = 64;
constexpr std::size_t kMaxUnsentBytes = 256 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;
// What drain() still takes from the socket: requests the client sent before
// the server stopped, not an unbounded stream.
constexpr int kMaxDrainRead = 256 * 1024;

// A stalled database makes every request overdue: one line tells of it,
// the others are counted into the next such line, at most one a minute.
// Event-loop thread only.
void log_overdue(const std::string& peer, long request_timeout) {
    static std::chrono::steady_clock::time_point last_logged{};
    static unsigned long unlogged = 0;
    const auto now = std::chrono::steady_clock::now();
    if (last_logged != std::chrono::steady_clock::time_point{} &&
        now - last_logged < std::chrono::minutes(1)) {
        ++unlogged;
        return;
    }
    std::string line = "warning: no decision for a request from " + peer + " within " +
                       std::to_string(request_timeout) + "s; answering by FAILSAFE";
    if (unlogged > 0)
        line += " (" + std::to_string(unlogged) + " more since the last such line)";
    log::line(line);
    last_logged = now;
    unlogged = 0;
}

}  // namespace

Connection::Connection(Server& server, std::uint64_t id, evutil_socket_t fd, std::string peer)
    : server_(server),
      id_(id),
      peer_(std::move(peer)),
      bev_(bufferevent_socket_new(server.base(), fd, BEV_OPT_CLOSE_ON_FREE)),
      deadline_timer_(evtimer_new(server.base(), &Connection::on_deadline, this)),
      framer_(static_cast<std::size_t>(server.config()->max_request_size)) {
    bufferevent_setcb(bev_, &Connection::on_read, &Connection::on_write, &Connection::on_event,
                      this);
    const long idle = server.config()->idle_timeout;
    if (idle > 0) {
        const timeval timeout{idle, 0};
        bufferevent_set_timeouts(bev_, &timeout, nullptr);
    }
    bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

Connection::~Connection() {
    event_free(deadline_timer_);
    bufferevent_free(bev_);
}

void Connection::on_read(bufferevent*, void* self) {
    static_cast<Connection*>(self)->read_requests();
}

void Connection::on_write(bufferevent*, void* self) {
    auto* conn = static_cast<Connection*>(self);
    if (conn->close_if_done()) return;
    conn->update_reading();
}

void Connection::on_event(bufferevent*, short what, void* self) {
    auto* conn = static_cast<Connection*>(self);
    if (what & BEV_EVENT_EOF) {
        // Half-close: answer what was asked, then close (proto-25).
        conn->drain();
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        if (conn->idle()) {
            if (log::debug_enabled(1))
                log::line("DEBUG: closing idle connection from " + conn->peer_);
            conn->server_.close_connection(conn->id_);
        } else {
            bufferevent_enable(conn->bev_, EV_READ);  // busy, not idle
        }
        return;
    }
    // BEV_EVENT_ERROR: the peer is gone; late replies are dropped.
    conn->server_.close_connection(conn->id_);
}

void Connection::read_requests() {
    if (frame_input(kMaxInFlight)) update_reading();
}

bool Connection::frame_input(std::size_t max_in_flight) {
    evbuffer* input = bufferevent_get_input(bev_);
    char chunk[kReadChunk];
    while (!draining_ && in_flight_.size() < max_in_flight && evbuffer_get_length(input) > 0) {
        const int got = evbuffer_remove(input, chunk, sizeof chunk);
        if (got <= 0) break;
        framer_.feed(chunk, static_cast<std::size_t>(got));
        while (auto request = framer_.next()) dispatch(*request);
        if (framer_.too_large()) {
            log::line("warning: request from " + peer_ + " exceeds MAX_REQUEST_SIZE (" +
                      std::to_string(server_.config()->max_request_size) +
                      " bytes), closing the connection");
            server_.close_connection(id_);
            return false;
        }
    }
    return !request_too_slow();
}

// A client trickling a request byte by byte (slowloris) resets the idle
// timer with every byte; IDLE_TIMEOUT also bounds how long one request may
// take to arrive. Postfix sends a request in one write.
bool Connection::request_too_slow() {
    if (!framer_.has_partial()) {
        partial_since_.reset();
        return false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!partial_since_) partial_since_ = now;
    const long limit = server_.config()->idle_timeout;
    if (limit <= 0 || now - *partial_since_ < std::chrono::seconds(limit)) return false;
    log::line("warning: request from " + peer_ + " not complete after " + std::to_string(limit) +
              "s (IDLE_TIMEOUT), closing the connection");
    server_.close_connection(id_);
    return true;
}

void Connection::dispatch(std::string_view raw_request) {
    const auto& config = server_.config();
    Job job;
    job.connection_id = id_;
    job.sequence = next_sequence_++;
    job.fd = static_cast<int>(bufferevent_getfd(bev_));
    job.request = std::make_shared<const Request>(
        normalize(Attributes(raw_request), static_cast<int>(config->greylist_hostaddr)));
    job.config = config;
    job.arrived = std::chrono::steady_clock::now();
    job.progress = std::make_shared<RequestProgress>();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(config->request_timeout);
    in_flight_.push_back({job.sequence, job.request, job.config, job.progress, deadline, {}});
    if (in_flight_.size() == 1) arm_deadline();
    server_.submit(std::move(job));
}

bool Connection::deliver(std::uint64_t sequence, std::string reply) {
    for (auto& pending : in_flight_) {
        if (pending.sequence == sequence) {
            if (!pending.reply) pending.reply = std::move(reply);  // else: answered late
            break;
        }
    }
    const bool needed_flush = !unsent_.empty();
    take_ready_replies();
    return !needed_flush && !unsent_.empty();
}

void Connection::take_ready_replies() {
    if (in_flight_.empty() || !in_flight_.front().reply) return;
    while (!in_flight_.empty() && in_flight_.front().reply) {
        unsent_.append(*in_flight_.front().reply).append("\n\n");
        in_flight_.pop_front();
    }
    arm_deadline();
}

// The replies that became ready in one batch go out with one send() when
// nothing is queued before them: they nearly always fit the socket buffer,
// and handing them to the bufferevent instead costs two epoll_ctl calls and
// one more loop wake-up per write (write interest on, then off). What send()
// cannot take, or an error, is left to the bufferevent, which queues the
// rest or reports the error.
void Connection::flush() {
    std::size_t sent = 0;
    if (!unsent_.empty() && evbuffer_get_length(bufferevent_get_output(bev_)) == 0) {
        const ssize_t n = send(bufferevent_getfd(bev_), unsent_.data(), unsent_.size(),
                               MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) sent = static_cast<std::size_t>(n);
    }
    if (sent < unsent_.size()) bufferevent_write(bev_, unsent_.data() + sent, unsent_.size() - sent);
    unsent_.clear();
    if (close_if_done()) return;
    update_reading();
    // Requests may be waiting in the input buffer since reading was held.
    if (!draining_ && in_flight_.size() < kMaxInFlight &&
        evbuffer_get_length(bufferevent_get_input(bev_)) > 0)
        read_requests();
}

void Connection::on_deadline(evutil_socket_t, short, void* self) {
    auto* conn = static_cast<Connection*>(self);
    conn->answer_overdue();
    conn->take_ready_replies();
    conn->arm_deadline();  // the timer may fire a little early: then again
    conn->flush();
}

void Connection::answer_overdue() {
    const auto now = std::chrono::steady_clock::now();
    for (auto& pending : in_flight_) {
        if (pending.reply || pending.deadline > now) continue;
        if (pending.progress->answered.exchange(true)) continue;
        log_overdue(peer_, pending.config->request_timeout);
        pending.reply = server_.pipeline().answer_without_database(*pending.request, *pending.config,
                                                                      pending.progress.get());
    }
}

// The timer follows the oldest unanswered request: deadlines grow along
// the queue, so one timer per connection is enough.
void Connection::arm_deadline() {
    evtimer_del(deadline_timer_);
    for (const auto& pending : in_flight_) {
        if (pending.reply) continue;
        const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(
            pending.deadline - std::chrono::steady_clock::now());
        const long long us = std::max<long long>(wait.count(), 0);
        const timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
        evtimer_add(deadline_timer_, &tv);
        return;
    }
}

void Connection::update_reading() {
    const bool hold = in_flight_.size() >= kMaxInFlight ||
                      evbuffer_get_length(bufferevent_get_output(bev_)) > kMaxUnsentBytes;
    if (draining_ || hold)
        bufferevent_disable(bev_, EV_READ);
    else
        bufferevent_enable(bev_, EV_READ);
}

// Every request the client sent before the drain is still answered: those
// the in-flight bound kept in the input buffer, and (for a shutdown) those
// still in the socket.
void Connection::drain() {
    if (draining_) return;
    const evutil_socket_t fd = bufferevent_getfd(bev_);
    int pending = 0;
    if (ioctl(fd, FIONREAD, &pending) == 0 && pending > 0)
        evbuffer_read(bufferevent_get_input(bev_), fd, std::min(pending, kMaxDrainRead));
    if (!frame_input(std::numeric_limits<std::size_t>::max())) return;  // closed
    draining_ = true;
    bufferevent_disable(bev_, EV_READ);
    close_if_done();
}

bool Connection::close_if_done() {
    if (!draining_ || !in_flight_.empty() || !unsent_.empty() ||
        evbuffer_get_length(bufferevent_get_output(bev_)) > 0)
        return false;
    server_.close_connection(id_);
    return true;
}

}  // namespace policyd
