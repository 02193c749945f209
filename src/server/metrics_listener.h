// NAME
//   metrics_listener.h - GET /metrics on the daemon's event loop (METRICS_BIND)
// SYNOPSIS
//   #include "server/metrics_listener.h"
//   MetricsListener metrics(base, bind_metrics_listener(config), [&] { return body(); });
// DESCRIPTION
//   libevent's HTTP server on the event-loop thread: GET (or HEAD)
//   /metrics answers 200 with what `render` returns (the Prometheus text
//   format); any other path is 404, any other method 501 (libevent's answer). `render` runs on
//   the loop thread and must not block: it reads counters, nothing else.
//
//   A scraper cannot hurt the policy port: at most kMaxConnections scrape
//   connections are open at once (the listener stops accepting until one
//   closes; others wait in the kernel's small backlog), a connection that
//   does not send a whole request or read its reply within kTimeout is
//   closed, and request headers are capped at kMaxHeaderBytes, bodies at 0.
//
//   Takes ownership of the listening descriptor (bound by
//   bind_metrics_listener in listener.h); `base` must outlive it.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <functional>
#include <string>
#include <vector>

namespace policyd {

class MetricsListener {
public:
    static constexpr int kMaxConnections = 4;
    static constexpr int kTimeoutSeconds = 5;
    static constexpr int kMaxHeaderBytes = 8192;

    MetricsListener(event_base* base, int listen_fd, std::function<std::string()> render);
    ~MetricsListener();
    MetricsListener(const MetricsListener&) = delete;
    MetricsListener& operator=(const MetricsListener&) = delete;

    int open_connections() const { return open_; }

private:
    static bufferevent* on_new_connection(event_base* base, void* self);
    static void on_adopt(evutil_socket_t, short, void* self);
    static void on_closed(evhttp_connection*, void* self);
    static void on_metrics(evhttp_request* request, void* self);
    static void on_other(evhttp_request* request, void* self);
    void update_accepting();

    std::function<std::string()> render_;
    evhttp* http_;
    evhttp_bound_socket* bound_ = nullptr;
    // Connections accepted whose evhttp_connection is not yet known: evhttp
    // creates it right after asking for the bufferevent, so on_adopt (made
    // active then, run before the loop polls again) finds it as the
    // bufferevent's callback argument and watches its close.
    std::vector<bufferevent*> adopting_;
    event* adopt_event_;
    int open_ = 0;
    bool stopping_ = false;
};

}  // namespace policyd
