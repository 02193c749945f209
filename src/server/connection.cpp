// NAME
//   connection.cpp - client connection state machine (see connection.h)
// DESCRIPTION
//   Bounds that keep one client from hurting the others: at most
//   kMaxInFlight requests per connection are queued for workers, and reading
//   pauses while more than kMaxUnsentBytes of replies wait for a client that
//   does not read. The framer bounds a single request (MAX_REQUEST_SIZE).
//
//   Reading bypasses the bufferevent: an EV_READ|EV_PERSIST event of our own
//   recv()s straight into a stack chunk for the framer. The bufferevent's
//   read path cost an ioctl(FIONREAD) before every readv() and a copy
//   through its input evbuffer (profiled: one of the four system calls the
//   loop thread makes per request). The bufferevent still does the writes
//   that send() in flush() cannot finish, and reports write errors. The
//   read event carries IDLE_TIMEOUT as its timeout, re-armed on every read
//   and every update_reading(), as the bufferevent's read timeout was.
#include "server/connection.h"

#include <event2/buffer.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
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
constexpr std::size_t kMaxDrainRead = 256 * 1024;

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
      read_event_(event_new(server.base(), fd, EV_READ | EV_PERSIST, &Connection::on_readable, this)),
      deadline_timer_(evtimer_new(server.base(), &Connection::on_deadline, this)),
      framer_(static_cast<std::size_t>(server.config()->max_request_size)) {
    bufferevent_setcb(bev_, nullptr, &Connection::on_write, &Connection::on_event, this);
    const long idle = server.config()->idle_timeout;
    if (idle > 0) idle_timeout_ = timeval{idle, 0};
    bufferevent_enable(bev_, EV_WRITE);  // its read side stays off: see on_readable
    update_reading();
}

Connection::~Connection() {
    event_free(deadline_timer_);
    event_free(read_event_);
    bufferevent_free(bev_);  // closes the socket
}

void Connection::on_readable(evutil_socket_t, short what, void* self) {
    auto* conn = static_cast<Connection*>(self);
    if (what & EV_TIMEOUT) {
        if (conn->idle()) {
            if (log::debug_enabled(1))
                log::line("DEBUG: closing idle connection from " + conn->peer_);
            conn->server_.close_connection(conn->id_, CloseReason::Idle);
        }
        // Busy, not idle: the persistent event stays armed with a new timeout.
        return;
    }
    conn->read_requests();
}

void Connection::on_write(bufferevent*, void* self) {
    auto* conn = static_cast<Connection*>(self);
    if (conn->close_if_done()) return;
    conn->update_reading();
}

// Only the write side of the bufferevent is enabled: errors while writing.
void Connection::on_event(bufferevent*, short, void* self) {
    auto* conn = static_cast<Connection*>(self);
    // The peer is gone; late replies are dropped.
    conn->server_.close_connection(conn->id_, CloseReason::Peer);
}

void Connection::read_requests() {
    bool peer_closed = false;
    if (!frame_input(kMaxInFlight, std::numeric_limits<std::size_t>::max(), peer_closed)) return;
    if (peer_closed)
        drain();  // half-close: answer what was asked, then close (tests/conformance proto-25)
    else
        update_reading();
}

bool Connection::frame_input(std::size_t max_in_flight, std::size_t max_bytes,
                             bool& peer_closed) {
    const evutil_socket_t fd = bufferevent_getfd(bev_);
    char chunk[kReadChunk];
    std::size_t total = 0;
    while (!draining_ && in_flight_.size() < max_in_flight && total < max_bytes) {
        const ssize_t got = recv(fd, chunk, std::min(sizeof chunk, max_bytes - total), 0);
        if (got == 0) {
            peer_closed = true;
            break;
        }
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            server_.close_connection(id_, CloseReason::Peer);  // reset: late replies are dropped
            return false;
        }
        total += static_cast<std::size_t>(got);
        framer_.feed(chunk, static_cast<std::size_t>(got));
        while (auto request = framer_.next()) dispatch(*request);
        if (framer_.too_large()) {
            log::line("warning: request from " + peer_ + " exceeds MAX_REQUEST_SIZE (" +
                      std::to_string(server_.config()->max_request_size) +
                      " bytes), closing the connection");
            // The complete requests before it are decided and must be
            // answered, in order, before the close: drain without reading.
            draining_ = true;
            close_reason_ = CloseReason::TooLarge;
            event_del(read_event_);
            return !close_if_done();
        }
        // A short read emptied the socket (nearly always: Postfix sends one
        // request and waits); skip the recv() that would only say EAGAIN.
        // Anything that arrived meanwhile wakes the event again.
        if (static_cast<std::size_t>(got) < sizeof chunk) break;
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
    server_.close_connection(id_, CloseReason::TooSlow);
    return true;
}

void Connection::dispatch(std::string_view raw_request) {
    const auto& config = server_.config();
    Job job;
    job.connection_id = id_;
    job.sequence = next_sequence_++;
    job.fd = static_cast<int>(bufferevent_getfd(bev_));
    job.request = std::make_shared<const Request>(
        normalize(Attributes(raw_request), static_cast<int>(config->greylist_hostaddr),
                  static_cast<int>(config->greylist_ipv6_prefix)));
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
    // Requests held back by the in-flight bound are still in the socket:
    // the re-enabled read event picks them up.
    update_reading();
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
    // event_add on a pending event only moves its timeout (no epoll_ctl):
    // the idle timer restarts here, as bufferevent_enable() did.
    if (draining_ || hold)
        event_del(read_event_);
    else
        event_add(read_event_, idle_timeout_ ? &*idle_timeout_ : nullptr);
}

// Every request the client sent before the drain is still answered: those
// the in-flight bound kept in the input buffer, and (for a shutdown) those
// still in the socket.
void Connection::drain() {
    if (draining_) return;
    bool peer_closed = false;
    if (!frame_input(std::numeric_limits<std::size_t>::max(), kMaxDrainRead, peer_closed))
        return;  // closed
    draining_ = true;
    event_del(read_event_);
    close_if_done();
}

bool Connection::close_if_done() {
    if (!draining_ || !in_flight_.empty() || !unsent_.empty() ||
        evbuffer_get_length(bufferevent_get_output(bev_)) > 0)
        return false;
    server_.close_connection(id_, close_reason_);
    return true;
}

}  // namespace policyd
