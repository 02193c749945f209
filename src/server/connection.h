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
//     draining  the peer closed its side, or the server is stopping: no more
//               reading; the connection closes once every reply is written
//
//   A Connection is owned by the Server and destroyed only through
//   Server::close_connection(); the bufferevent (and its socket) is freed
//   with it. Everything here runs on the event-loop thread.
#pragma once

#include <event2/bufferevent.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/framer.h"

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
    // Stop reading and close once the replies in flight are written.
    void drain();
    std::uint64_t id() const { return id_; }
    bool idle() const { return in_flight_.empty(); }

private:
    struct InFlight {
        std::uint64_t sequence;
        std::optional<std::string> reply;
    };

    static void on_read(bufferevent*, void* self);
    static void on_write(bufferevent*, void* self);
    static void on_event(bufferevent*, short what, void* self);

    void read_requests();
    void dispatch(std::string_view raw_request);
    void update_reading();
    // Closes when draining and nothing is left to write. Returns true if
    // `this` was destroyed.
    bool close_if_done();

    Server& server_;
    const std::uint64_t id_;
    const std::string peer_;
    bufferevent* bev_;
    RequestFramer framer_;
    std::deque<InFlight> in_flight_;
    std::string unsent_;  // replies in order, "\n\n"-terminated, until flush()
    std::uint64_t next_sequence_ = 0;
    bool draining_ = false;
};

}  // namespace policyd
