// NAME
//   metrics_listener.cpp - the /metrics HTTP endpoint (see metrics_listener.h)
// DESCRIPTION
//   libevent 2.1's evhttp has no connection limit of its own, so the count
//   is kept here: a connection is counted when evhttp asks for its
//   bufferevent (evhttp_set_bevcb) and uncounted by its close callback, and
//   the listener is disabled while kMaxConnections are open. evhttp's own
//   timeout closes a connection that stalls while reading or writing.
#include "server/metrics_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <unistd.h>

#include <stdexcept>

namespace policyd {

MetricsListener::MetricsListener(event_base* base, int listen_fd,
                                 std::function<std::string()> render)
    : render_(std::move(render)), http_(evhttp_new(base)) {
    adopt_event_ = event_new(base, -1, 0, &MetricsListener::on_adopt, this);
    if (!http_ || !adopt_event_) {
        close(listen_fd);
        throw std::runtime_error("metrics: cannot create the HTTP server");
    }
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(http_, kTimeoutSeconds);
    evhttp_set_max_headers_size(http_, kMaxHeaderBytes);
    evhttp_set_max_body_size(http_, 0);
    evhttp_set_bevcb(http_, &MetricsListener::on_new_connection, this);
    evhttp_set_cb(http_, "/metrics", &MetricsListener::on_metrics, this);
    evhttp_set_gencb(http_, &MetricsListener::on_other, this);
    bound_ = evhttp_accept_socket_with_handle(http_, listen_fd);
    if (!bound_) {
        close(listen_fd);
        evhttp_free(http_);
        event_free(adopt_event_);
        throw std::runtime_error("metrics: cannot listen on the METRICS_BIND socket");
    }
}

MetricsListener::~MetricsListener() {
    stopping_ = true;
    evhttp_free(http_);  // closes the listener and every connection (on_closed)
    event_free(adopt_event_);
}

bufferevent* MetricsListener::on_new_connection(event_base* base, void* self) {
    auto* m = static_cast<MetricsListener*>(self);
    bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) return nullptr;  // evhttp makes its own: then it goes uncounted
    m->adopting_.push_back(bev);
    ++m->open_;
    m->update_accepting();
    event_active(m->adopt_event_, EV_TIMEOUT, 1);
    return bev;
}

void MetricsListener::on_adopt(evutil_socket_t, short, void* self) {
    auto* m = static_cast<MetricsListener*>(self);
    for (bufferevent* bev : m->adopting_) {
        void* connection = nullptr;
        bufferevent_getcb(bev, nullptr, nullptr, nullptr, &connection);
        evhttp_connection_set_closecb(static_cast<evhttp_connection*>(connection),
                                      &MetricsListener::on_closed, m);
    }
    m->adopting_.clear();
}

void MetricsListener::on_closed(evhttp_connection*, void* self) {
    auto* m = static_cast<MetricsListener*>(self);
    --m->open_;
    if (!m->stopping_) m->update_accepting();
}

void MetricsListener::update_accepting() {
    evconnlistener* listener = evhttp_bound_socket_get_listener(bound_);
    if (!listener) return;
    if (open_ >= kMaxConnections)
        evconnlistener_disable(listener);
    else
        evconnlistener_enable(listener);
}

void MetricsListener::on_metrics(evhttp_request* request, void* self) {
    auto* m = static_cast<MetricsListener*>(self);
    const std::string body = m->render_();
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evbuffer* out = evbuffer_new();
    evbuffer_add(out, body.data(), body.size());
    evhttp_send_reply(request, HTTP_OK, "OK", out);
    evbuffer_free(out);
}

void MetricsListener::on_other(evhttp_request* request, void*) {
    evhttp_send_error(request, HTTP_NOTFOUND, "only /metrics is served here");
}

}  // namespace policyd
