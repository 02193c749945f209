"""tests/integration/test_floods.py - connection floods and abusive clients.

Each test measures the latency of a well-behaved client (one request at a time on its own
connection, as a Postfix smtpd) before the flood (baseline) and during it, and the daemon's
resident memory (VmRSS): 10,000 connections opened at once, clients that connect and never
send, slowloris clients (one byte a second) and a client that pipelines thousands of requests
and never reads a reply. The daemon must keep serving the others within a generous bound of
the baseline latency, with bounded memory. Floods of connections refused by CONN_ACL or
MAX_CONNECTIONS must not flood the log: one full line, then a summary a second whose counts
add up to the refusals the statistics line counts. Loopback only; every flood ends with its
test.
"""

import errno
import re
import selectors
import signal
import socket
import threading
import time

import lib
import load

SAMPLES = 200


def p99_ms(port, attrs=None):
    lat, bad = load.latencies(port, count=SAMPLES, attrs=attrs)
    lib.eq(bad, [], "the well-behaved client was always answered")
    return load.percentile(lat, 99) * 1000


def open_silent(port, count, limit=30.0):
    """Opens `count` connections at once (non-blocking connects) and waits until the kernel has
    established them; they never send. Returns the sockets."""
    socks, sel = [], selectors.DefaultSelector()
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        lib.ok(err in (0, errno.EINPROGRESS), "connect: %s" % errno.errorcode.get(err, err))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    pending = len(socks)
    deadline = time.monotonic() + limit
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            sel.unregister(key.fileobj)
            pending -= 1
    sel.close()
    lib.eq(pending, 0, "connections not established within %gs" % limit)
    return socks


def close_all(socks):
    for s in socks:
        s.close()


def check_bound(name, base, flood, rss_mb, rss_limit_mb):
    print("     %s: well-behaved p99 %.1f ms during the flood (baseline %.1f ms); RSS %.1f MB"
          % (name, flood, base, rss_mb))
    bound = max(10 * base, 250.0)
    lib.ok(flood <= bound, "%s: p99 %.1f ms > %.1f ms (baseline %.1f ms)"
           % (name, flood, bound, base))
    lib.ok(rss_mb <= rss_limit_mb, "%s: RSS %.1f MB > %d MB" % (name, rss_mb, rss_limit_mb))


def test_10000_connections_at_once():
    lib.ok(load.raise_nofile(10500) >= 10300, "the test needs 10,300 descriptors")
    with lib.Daemon() as d:  # MAX_CONNECTIONS=10000 by default
        base = p99_ms(d.port)
        rss_idle = load.rss_kb(d.proc.pid) / 1024.0
        probe = d.connect(timeout=10)  # a smtpd that is already connected
        lib.eq(probe.request({"recipient": "probe@example.org"}), lib.GREY_DEFER)
        socks = open_silent(d.port, 10000)
        try:
            t = time.monotonic()
            lat = []
            for i in range(SAMPLES):
                start = time.monotonic()
                lib.eq(probe.request({"recipient": "probe@example.org"}), lib.GREY_DEFER,
                       "reply %d during the flood" % i)
                lat.append(time.monotonic() - start)
            flood = load.percentile(lat, 99) * 1000
            deadline = t + 20
            while time.monotonic() < deadline:  # the baseline client, the probe and the flood
                out = d.output()
                if out.count("connection from:") + out.count("No free slots") >= 10002:
                    break
                time.sleep(0.2)
            rss = load.rss_kb(d.proc.pid) / 1024.0
            out = d.output()
        finally:
            close_all(socks)
        accepted = out.count("connection from:") - 3  # the start-up probe, baseline, probe
        refused = out.count("No free slots")
        lib.eq((accepted, refused), (9999, 1),
               "(accepted, refused) of the flood: the probe holds one of the 10,000 slots")
        check_bound("10,000 connections", base, flood, rss, 150)
        print("     10,000 connections: RSS %.1f MB before, %.1f MB with them open"
              % (rss_idle, rss))
        # the slots are given back once the clients close
        time.sleep(1.0)
        lib.eq(d.request({"recipient": "after@example.org"}), lib.GREY_DEFER,
               "a new connection is served after the flood")


def test_silent_clients_are_closed_after_idle_timeout():
    with lib.Daemon({"IDLE_TIMEOUT": "3s"}) as d:
        base = p99_ms(d.port)
        socks = open_silent(d.port, 2000)
        try:
            flood = p99_ms(d.port)
            rss = load.rss_kb(d.proc.pid) / 1024.0
            time.sleep(3.5)
            closed = 0
            for s in socks[:100]:
                s.setblocking(True)
                s.settimeout(2)
                try:
                    closed += s.recv(1) == b""
                except OSError:
                    closed += 1
        finally:
            close_all(socks)
        check_bound("2,000 silent clients", base, flood, rss, 60)
        lib.eq(closed, 100, "silent clients closed by the daemon after IDLE_TIMEOUT")


def test_slowloris_clients_do_not_slow_the_others():
    request = lib.request_bytes({"recipient": "slow@example.org"})
    with lib.Daemon() as d:
        base = p99_ms(d.port)
        socks = open_silent(d.port, 1000)
        stop = threading.Event()

        def trickle():
            for i in range(len(request) - 1):  # never the final byte: never complete
                for s in socks:
                    try:
                        s.send(request[i:i + 1])
                    except OSError:
                        pass
                if stop.wait(1.0):
                    return

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        try:
            time.sleep(1.0)
            flood = p99_ms(d.port)
            rss = load.rss_kb(d.proc.pid) / 1024.0
        finally:
            stop.set()
            thread.join(10)
            close_all(socks)
        check_bound("1,000 slowloris clients", base, flood, rss, 60)
        lib.eq(d.proc.poll(), None, "daemon alive")


def test_slowloris_request_is_cut_off_after_idle_timeout():
    # every byte resets the idle timer; the request as a whole must still arrive in time
    request = lib.request_bytes({"recipient": "trickle@example.org"})
    with lib.Daemon({"IDLE_TIMEOUT": "2s"}) as d:
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        start = time.monotonic()
        closed_after = None
        try:
            for i in range(len(request) - 1):  # never the final byte
                s.send(request[i:i + 1])
                time.sleep(0.25)
                if time.monotonic() - start > 8:
                    break
        except OSError:
            closed_after = time.monotonic() - start
        finally:
            s.close()
        lib.ok(closed_after is not None, "the trickling connection was closed")
        lib.ok(2.0 <= closed_after <= 4.0, "closed after %.1fs (IDLE_TIMEOUT=2s)" % closed_after)
        lib.ok("not complete after 2s" in d.output(), "the cut-off is logged")
        lib.eq(d.request(), lib.GREY_DEFER, "others are still served")


def test_client_that_never_reads_its_replies():
    request = lib.request_bytes({"recipient": "greedy@example.org"})
    # long replies, so that the daemon's socket buffer fills within a few thousand requests
    text = "Please try later. " * 12
    with lib.Daemon({"GREYLIST_REJECTION": '"%s"' % text}) as d:
        base = p99_ms(d.port)
        greedy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.connect(("127.0.0.1", d.port))
        greedy.settimeout(1.0)
        sent = [0]

        def pipeline():  # until the daemon stops reading (or 40,000 requests)
            try:
                while sent[0] < 40000:
                    greedy.sendall(request * 100)
                    sent[0] += 100
            except OSError:
                pass

        thread = threading.Thread(target=pipeline, daemon=True)
        thread.start()
        try:
            time.sleep(0.2)
            flood = p99_ms(d.port)
            thread.join(20)
            rss = load.rss_kb(d.proc.pid) / 1024.0
            decided = d.output().count("to=greedy@example.org")
            time.sleep(1.0)
            lib.eq(d.output().count("to=greedy@example.org"), decided,
                   "nothing more is decided for a client that does not read")
        finally:
            greedy.close()
        print("     never-reading client: %d requests sent before the daemon stopped reading, "
              "%d decided" % (sent[0], decided))
        check_bound("a client that never reads", base, flood, rss, 60)
        lib.ok(decided < sent[0], "the daemon stopped reading from a client that does not read")
        lib.eq(d.request({"recipient": "after@example.org"}), "action=defer_if_permit " + text,
               "still serving")


REFUSAL_SUMMARY = re.compile(r"^WARNING: connections refused \((\w+)\): (\d+) more in the last "
                             r"[0-9.]+s, the last from: 127\.0\.0\.1\S*$", re.M)


def refuse_many(port, count, seconds):
    """Opens `count` connections in batches spread over `seconds`, each closed at once (the
    daemon refuses them)."""
    batches = 25
    for b in range(batches):
        start = time.monotonic()
        for _ in range(count // batches):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        time.sleep(max(0.0, seconds / batches - (time.monotonic() - start)))


def hold_the_only_slot(d):
    """A connection that holds MAX_CONNECTIONS=1's slot, once the start-up probe's is free."""
    for _ in range(50):
        holder = d.connect()
        if holder.request() == lib.GREY_DEFER:
            return holder
        holder.close()
        time.sleep(0.1)
    raise lib.Failure("no connection got the only slot")


def stats_counter(d, name):
    d.signal(signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = re.findall(r"^stats: .* %s=(\d+) " % name, d.output(), re.M)
        if found:
            return int(found[-1])
        time.sleep(0.05)
    raise lib.Failure("no statistics line after SIGUSR1:\n%s" % d.output())


def test_refused_connection_floods_log_a_summary_a_second():
    flood = 3000
    for conf, kind, full_line, counter in (
            ({"CONN_ACL": '"192.0.2.1"'}, "CONN_ACL",
             "WARNING: connection attempt from: 127.0.0.1", "refused_acl"),
            ({"MAX_CONNECTIONS": 1}, "MAX_CONNECTIONS",
             "WARNING: No free slots found, closing connection from 127.0.0.1:", "refused_limit")):
        started = time.monotonic()
        with lib.Daemon(conf) as d:
            holder = hold_the_only_slot(d) if kind == "MAX_CONNECTIONS" else None
            refuse_many(d.port, flood, 2.5)
            time.sleep(1.5)  # the accept queue drained, the summary of the last second written
            refused = stats_counter(d, counter)
            lifetime = time.monotonic() - started
            if holder:
                holder.close()
        out = d.output()
        full = [l for l in out.splitlines() if l.startswith(full_line)]
        summaries = [int(n) for k, n in REFUSAL_SUMMARY.findall(out) if k == kind]
        lib.ok(refused >= flood, "%s: %d refusals counted, %d made" % (kind, refused, flood))
        lib.ok(full, "%s: the first refusal keeps its full line:\n%s" % (kind, out[-2000:]))
        lib.ok(len(summaries) >= 2, "%s: the 2.5 s flood is summarised each second: %r"
               % (kind, summaries))
        lib.eq(len(full) + sum(summaries), refused,
               "%s: full lines plus the summaries' counts" % kind)
        lines = len(full) + len(summaries)
        lib.ok(lines <= lifetime + 3,
               "%s: %d lines in the daemon's %.1f s: at most about one a second"
               % (kind, lines, lifetime))
        print("     %s: %d refusals logged in %d lines (%d full, %d summaries)"
              % (kind, refused, lines, len(full), len(summaries)))
