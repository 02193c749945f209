// NAME
//   net_load.cpp - the libevent load generator (see net_load.h)
// DESCRIPTION
//   Each LoadThread owns an event base and its share of the connections;
//   nothing is shared between threads but the Budget, the Source and the
//   Live counters (atomics). The main thread only starts the threads,
//   triggers the start of the requests (event_active on each thread's "go"
//   event, which is why libevent's pthread locking is switched on) and
//   waits for them to finish.
#include "net_load.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bench {
namespace {

constexpr timeval kConnectRetry{0, 100 * 1000};

struct Target {
    sockaddr_storage address{};
    socklen_t length = 0;
};

Target resolve(const std::string& host, unsigned port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0 || !found)
        throw std::runtime_error("cannot resolve " + host + ": " + gai_strerror(rc));
    Target t;
    std::memcpy(&t.address, found->ai_addr, found->ai_addrlen);
    t.length = found->ai_addrlen;
    freeaddrinfo(found);
    return t;
}

std::string seconds_text(double seconds) {
    std::ostringstream out;
    out << seconds << "s";
    return out.str();
}

std::uint64_t micros_since(Clock::time_point from, Clock::time_point to) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

class LoadThread;

class Conn {
public:
    explicit Conn(LoadThread& thread) : t_(thread) {}
    ~Conn() {
        release();
        if (retry_) event_free(retry_);
        if (pace_) event_free(pace_);
    }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    void connect();
    void fill();
    bool connected() const { return connected_; }
    void give_up() { finish(); }

private:
    static void on_read(bufferevent*, void* self) { static_cast<Conn*>(self)->read_replies(); }
    static void on_event(bufferevent*, short what, void* self) {
        static_cast<Conn*>(self)->status(what);
    }
    static void on_retry(evutil_socket_t, short, void* self) { static_cast<Conn*>(self)->retry(); }
    static void on_due(evutil_socket_t, short, void* self) { static_cast<Conn*>(self)->fill(); }

    void read_replies();
    void status(short what);
    // Closes the socket, counting what was outstanding into `counter`, then
    // reconnects if there is more to send.
    void drop(std::uint64_t Stats::*counter, std::atomic<std::uint64_t> Live::*live_counter);
    void reconnect_or_finish();
    void retry_later();
    void retry();
    void finish();
    void release();
    // --rate: Send, counting from `start`; Wait, a timer is armed for the
    // due time (fill() runs again then); Closed, the schedule is over.
    struct Paced {
        enum { Send, Wait, Closed } what;
        Clock::time_point start{};
    };
    Paced paced_start();

    LoadThread& t_;
    bufferevent* bev_ = nullptr;
    event* retry_ = nullptr;
    event* pace_ = nullptr;
    std::optional<Clock::time_point> due_;  // --rate: taken, not yet sent
    bool waited_for_due_ = false;
    bool connected_ = false;
    bool finished_ = false;
    std::deque<Clock::time_point> outstanding_;  // send times, oldest first
    std::deque<std::string> pending_;            // rest of the current message
    unsigned sent_here_ = 0;
};

class LoadThread {
public:
    LoadThread(const NetOptions& options, const Target& target, Budget& budget,
               const Source& source, Live& live, unsigned connections)
        : options(options), target(target), budget(budget), source(source), live(live),
          base(new_base()), remaining_(connections) {
        go_event_ = event_new(base, -1, 0, &LoadThread::on_go, this);
        for (unsigned i = 0; i < connections; ++i) conns_.push_back(std::make_unique<Conn>(*this));
        if (connections == 0) done = true;
    }
    ~LoadThread() {
        conns_.clear();
        event_free(go_event_);
        event_base_free(base);
    }

    void run() {
        started = Clock::now();
        for (auto& c : conns_) c->connect();
        if (!conns_.empty()) event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
        conns_.clear();
        done = true;
    }
    void go() { event_active(go_event_, 0, 0); }  // any thread

    void connection_finished() {
        if (--remaining_ == 0) event_base_loopexit(base, nullptr);
    }

    // A connect failed with `error`. Nothing listening is not a load to
    // measure: once no connection of this thread has opened for --timeout
    // seconds, every connection finishes (run_network then says why).
    // Returns true if it gave up.
    bool connect_failed(const std::string& error) {
        ++stats.connect_errors;
        last_connect_error = error;
        if (stats.connections_opened > 0 ||
            Clock::now() - started < std::chrono::duration<double>(options.timeout))
            return false;
        for (auto& c : conns_) c->give_up();
        return true;
    }

    const NetOptions& options;
    const Target& target;
    Budget& budget;
    const Source& source;
    Live& live;
    event_base* const base;
    bool going = false;
    Stats stats;
    Clock::time_point last_reply{};
    Clock::time_point started{};
    std::string last_connect_error;
    std::atomic<bool> done{false};

private:
    // Precise timers: --rate's due times are finer than epoll's milliseconds.
    static event_base* new_base() {
        event_config* cfg = event_config_new();
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        event_base* b = event_base_new_with_config(cfg);
        event_config_free(cfg);
        return b;
    }
    static void on_go(evutil_socket_t, short, void* self) {
        auto* t = static_cast<LoadThread*>(self);
        t->going = true;
        for (auto& c : t->conns_)
            if (c->connected()) c->fill();
    }

    event* go_event_;
    std::vector<std::unique_ptr<Conn>> conns_;
    unsigned remaining_;
};

void Conn::release() {
    // fill() needs a socket; the due time stays owed, and a reconnect that
    // makes it late is the server's doing (counted from the due time).
    if (pace_) evtimer_del(pace_);
    waited_for_due_ = false;
    if (bev_) {
        bufferevent_free(bev_);
        bev_ = nullptr;
    }
    if (connected_) {
        connected_ = false;
        --t_.live.open_connections;
    }
}

void Conn::retry_later() {
    if (!retry_) retry_ = evtimer_new(t_.base, &Conn::on_retry, this);
    evtimer_add(retry_, &kConnectRetry);
}

void Conn::retry() {
    if (finished_) return;  // its thread gave up while the timer was pending
    if (t_.going && !t_.budget.open())
        finish();
    else
        connect();
}

void Conn::connect() {
    release();
    sent_here_ = 0;
    bev_ = bufferevent_socket_new(t_.base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev_, &Conn::on_read, nullptr, &Conn::on_event, this);
    const auto whole = static_cast<long>(t_.options.timeout);
    const timeval timeout{whole, static_cast<long>((t_.options.timeout - whole) * 1e6)};
    // The write timeout also bounds the connect (libevent).
    bufferevent_set_timeouts(bev_, &timeout, &timeout);
    if (bufferevent_socket_connect(bev_, reinterpret_cast<const sockaddr*>(&t_.target.address),
                                   static_cast<int>(t_.target.length)) != 0)
        status(BEV_EVENT_ERROR);  // e.g. out of descriptors: counted and retried
    else
        bufferevent_enable(bev_, EV_READ);
}

void Conn::fill() {
    while (outstanding_.size() < t_.options.pipeline) {
        if (pending_.empty()) {
            if (t_.options.per_connection && sent_here_ >= t_.options.per_connection) break;
            if (!t_.budget.open()) break;
            Message m = t_.source();
            pending_.assign(std::make_move_iterator(m.begin()), std::make_move_iterator(m.end()));
        }
        const Paced paced = paced_start();
        if (paced.what == Paced::Wait) return;
        if (paced.what == Paced::Closed || !t_.budget.take()) {
            pending_.clear();
            break;
        }
        const std::string& text = pending_.front();
        bufferevent_write(bev_, text.data(), text.size());
        pending_.pop_front();
        outstanding_.push_back(paced.start);
        ++sent_here_;
        ++t_.stats.sent;
    }
    if (outstanding_.empty()) reconnect_or_finish();
}

Conn::Paced Conn::paced_start() {
    const auto now = Clock::now();
    if (!t_.budget.paced()) return {Paced::Send, now};
    if (!due_) {
        due_ = t_.budget.due();
        if (!due_) return {Paced::Closed};
        waited_for_due_ = false;
    }
    if (*due_ > now) {
        if (!pace_) pace_ = evtimer_new(t_.base, &Conn::on_due, this);
        const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(*due_ - now).count();
        const timeval tv{static_cast<long>(wait / 1000000), static_cast<long>(wait % 1000000)};
        evtimer_add(pace_, &tv);
        waited_for_due_ = true;
        return {Paced::Wait};
    }
    // Sent late because the connection was still waiting for replies: the
    // server made it late, so it counts from its due time. Sent after our
    // own timer: the timer's slack is the client's, so it counts from now.
    const auto start = waited_for_due_ ? now : *due_;
    due_.reset();
    return {Paced::Send, start};
}

void Conn::read_replies() {
    evbuffer* input = bufferevent_get_input(bev_);
    const auto now = Clock::now();
    for (;;) {
        const evbuffer_ptr end = evbuffer_search(input, "\n\n", 2, nullptr);
        if (end.pos < 0) break;
        std::string reply(static_cast<std::size_t>(end.pos), '\0');
        evbuffer_remove(input, reply.data(), reply.size());
        evbuffer_drain(input, 2);
        if (outstanding_.empty() || reply.rfind("action=", 0) != 0) {
            // Unasked for or not a policy reply: the stream cannot be trusted.
            drop(&Stats::errors, &Live::errors);
            return;
        }
        t_.stats.record_reply(std::move(reply), micros_since(outstanding_.front(), now));
        outstanding_.pop_front();
        ++t_.live.answered;
        t_.last_reply = now;
    }
    if (t_.going) fill();
}

void Conn::status(short what) {
    if (what & BEV_EVENT_CONNECTED) {
        connected_ = true;
        ++t_.stats.connections_opened;
        ++t_.live.open_connections;
        const int one = 1;
        setsockopt(bufferevent_getfd(bev_), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (t_.going) fill();
        return;
    }
    if (!connected_) {  // the connect failed
        const int error = EVUTIL_SOCKET_ERROR();
        release();
        if (t_.connect_failed(what & BEV_EVENT_TIMEOUT ? "connect timed out"
                                                       : evutil_socket_error_to_string(error)))
            return;
        if (t_.going && !t_.budget.open())
            finish();
        else
            retry_later();
        return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && outstanding_.empty()) {
        bufferevent_enable(bev_, EV_READ);  // idle, not late: keep waiting
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        drop(&Stats::timeouts, &Live::timeouts);
    else
        drop(&Stats::errors, &Live::errors);
}

void Conn::drop(std::uint64_t Stats::*counter, std::atomic<std::uint64_t> Live::*live_counter) {
    t_.stats.*counter += outstanding_.size();
    t_.live.*live_counter += outstanding_.size();
    outstanding_.clear();
    pending_.clear();
    release();
    reconnect_or_finish();
}

void Conn::reconnect_or_finish() {
    if (!t_.going) {  // still idle: the server closed it; open it again
        if (!bev_) retry_later();
        return;
    }
    const bool used_up = t_.options.per_connection && sent_here_ >= t_.options.per_connection;
    if (t_.budget.open() && (used_up || !bev_))
        connect();
    else if (!t_.budget.open())
        finish();
}

void Conn::finish() {
    if (finished_) return;
    finished_ = true;
    release();
    t_.connection_finished();
}

}  // namespace

NetResult run_network(const NetOptions& options, Budget& budget, const Source& source,
                      Live& live, const std::function<void()>& at_start) {
    static const int threads_ready = evthread_use_pthreads();  // before any base
    (void)threads_ready;
    const Target target = resolve(options.host, options.port);
    const unsigned nthreads = std::max(1u, std::min(options.threads, options.connections));

    std::vector<std::unique_ptr<LoadThread>> loads;
    for (unsigned i = 0; i < nthreads; ++i) {
        const unsigned share = options.connections / nthreads + (i < options.connections % nthreads);
        loads.push_back(std::make_unique<LoadThread>(options, target, budget, source, live, share));
    }
    std::vector<std::thread> threads;
    for (auto& l : loads) threads.emplace_back([&l] { l->run(); });
    auto all_done = [&loads] {
        return std::all_of(loads.begin(), loads.end(), [](auto& l) { return l->done.load(); });
    };

    NetResult result;
    if (options.idle_before > 0) {
        // Every connection open (or a generous minute for slow connects), then idle.
        const auto opened_by = Clock::now() + std::chrono::seconds(60);
        while (live.open_connections < options.connections && Clock::now() < opened_by &&
               !all_done())
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::this_thread::sleep_for(std::chrono::duration<double>(options.idle_before));
        result.idle_connections = live.open_connections.load();
    }
    at_start();
    const auto start = Clock::now();
    budget.start();
    for (auto& l : loads) l->go();
    watch(live, start, options.progress, all_done);
    for (auto& t : threads) t.join();

    auto last = start;
    std::string connect_error;
    for (auto& l : loads) {
        result.stats.merge(l->stats);
        last = std::max(last, l->last_reply);
        if (!l->last_connect_error.empty()) connect_error = l->last_connect_error;
    }
    if (result.stats.connections_opened == 0 && options.connections > 0)
        throw std::runtime_error("cannot connect to " + options.host + ":" +
                                 std::to_string(options.port) + ": " + connect_error + " (" +
                                 std::to_string(result.stats.connect_errors) +
                                 " attempts, none opened within --timeout " + seconds_text(options.timeout) +
                                 ")");
    result.seconds = seconds_between(start, last);
    return result;
}

}  // namespace bench
