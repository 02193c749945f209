// NAME
//   connection.h - one client connection: read requests, write replies in order
// SYNOPSIS
//   #include "server/connection.h"
// DESCRIPTION
//   The per-connection state machine of the server, in the style of
//   memcached's conn: bytes are read into the framer; each complete request
//   is normalised and queued for a worker; replies come back in any order
//   and are written strictly in request order. States:
//
//     open      reading; requests may be in flight (pipelining)
//     held      reading paused: too many requests in flight or the client
//               is not reading its replies; resumes when they drain
//     draining  the peer closed its side, the server is stopping, or a
//               request exceeded MAX_REQUEST_SIZE: no more reading; the
//               connection closes once every reply to the complete requests
//               received before is written
//
//   A request still unanswered REQUEST_TIMEOUT after it arrived (database
//   stalled, workers busy) is answered here by FAILSAFE; the worker's late
//   reply, if any, is dropped.
//
//   A Connection is owned by the Server and destroyed only through
//   Server::close_connection(); the bufferevent (and its socket) is freed
//   with it. Everything here runs on the event-loop thread.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "protocol/framer.h"
#include "policy/pipeline.h"
#include "protocol/request.h"
#include "stats/stats.h"

namespace policyd {

class Server;

class Connection {
public:
    // Takes ownership of `fd`. `server` must outlive the connection.
    Connection(Server& server, std::uint64_t id, evutil_socket_t fd, std::string peer);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // A worker's reply for request `sequence` of this connection. Replies
    // that are next in order wait in the connection until flush(); returns
    // true when the connection needs a flush() and did not before.
    bool deliver(std::uint64_t sequence, std::string reply);
    // Writes the waiting replies, then closes if draining and done, or
    // reads on. May destroy the connection (through close_connection()).
    void flush();
    // Stop reading and close once every request already received is
    // answered and written.
    void drain();
    std::uint64_t id() const { return id_; }
    bool idle() const { return in_flight_.empty(); }

private:
    struct InFlight {
        std::uint64_t sequence;
        std::shared_ptr<const Request> request;
        std::shared_ptr<const Config> config;
        std::shared_ptr<RequestProgress> progress;
        std::chrono::steady_clock::time_point deadline;
        std::optional<std::string> reply;
    };

    static void on_readable(evutil_socket_t, short what, void* self);
    static void on_write(bufferevent*, void* self);
    static void on_event(bufferevent*, short what, void* self);
    static void on_deadline(evutil_socket_t, short, void* self);

    void read_requests();
    // Reads the socket into the framer and dispatches its requests until
    // `max_in_flight` are in flight, the socket is empty or `max_bytes` were
    // read; sets `peer_closed` at end of stream. Returns false if the
    // connection was closed (reset, request too large or too slow): `this`
    // is gone then.
    bool frame_input(std::size_t max_in_flight, std::size_t max_bytes, bool& peer_closed);
    // Closes the connection when one request has been arriving for longer
    // than IDLE_TIMEOUT. Returns true if it did: `this` is gone then.
    bool request_too_slow();
    void dispatch(std::string_view raw_request);
    // Moves the replies that are next in order to unsent_.
    void take_ready_replies();
    void update_reading();
    void answer_overdue();
    void arm_deadline();
    // Closes when draining and nothing is left to write. Returns true if
    // `this` was destroyed.
    bool close_if_done();

    Server& server_;
    const std::uint64_t id_;
    const std::string peer_;
    bufferevent* bev_;    // writes what send() cannot; its read side is unused
    event* read_event_;   // EV_READ|EV_PERSIST on the socket, IDLE_TIMEOUT as timeout
    std::optional<timeval> idle_timeout_;
    event* deadline_timer_;
    RequestFramer framer_;
    std::deque<InFlight> in_flight_;
    std::string unsent_;  // replies in order, "\n\n"-terminated, until flush()
    std::uint64_t next_sequence_ = 0;
    bool draining_ = false;
    // Why the connection closes once drained: the peer half-closed (or the
    // server stops, which close_connection() tells apart), or a request
    // exceeded MAX_REQUEST_SIZE after complete ones that are answered first.
    CloseReason close_reason_ = CloseReason::Peer;
    // When the request now being received started to arrive.
    std::optional<std::chrono::steady_clock::time_point> partial_since_;
};

}  // namespace policyd
