"""tests/integration/load.py - load generators and measurements for the reliability tests.

    import load

    with load.Clients(d.port, clients=4, attrs=lambda c: {"recipient": "c%d@example.org" % c}) as cl:
        time.sleep(2)                       # clients run in background threads
    lat = [r.latency for r in cl.results]
    load.percentile(lat, 99)
    load.rss_kb(d.proc.pid)                 # VmRSS of the daemon, in KiB
    with load.stalled_database(): ...       # the private MariaDB stops answering meanwhile
    replies = load.burst(daemons, 30, 3000, lambda i: {"instance": "m.%d" % i})
    load.tally(replies, QUOTA)              # accepted; fails on any other reply
    conf = dict(load.THROTTLES_ONLY, SENDERTHROTTLE=1)   # only the throttles decide

Clients are well-behaved policy clients (one request at a time on their own connection, a
new connection after a close), so their latency is what a Postfix smtpd would see. Every
request is recorded with the monotonic time it was sent, its latency and its reply (or
lib.CLOSED / lib.TIMEOUT). Loopback only; every loop ends when the block ends.
"""

import collections
import contextlib
import os
import resource
import signal
import threading
import time

import lib

Result = collections.namedtuple("Result", "client sent latency reply")

# Everything off but the throttles, which the tests switch on; limits far away unless set.
THROTTLES_ONLY = {
    "GREYLISTING": 0,
    "SENDERTHROTTLE": 0,
    "RECIPIENTTHROTTLE": 0,
    "SENDER_THROTTLE_HOST": 0,
    "SENDER_THROTTLE_ENVELOPE": 1,
    "SENDERMSGLIMIT": 100000,
    "SENDERRCPTLIMIT": 100000,
    "SENDERQUOTALIMIT": 2000000000,
}


def burst(daemons, connections, attempts, request_for, deadline=40.0):
    """Sends `attempts` requests over `connections` connections per daemon, all at once;
    request_for(i) gives the attributes of attempt i. Returns the replies in attempt order.
    Every socket has a timeout and every thread is joined with a deadline, so a hung daemon
    fails the test instead of hanging it."""
    conns = [d for d in daemons for _ in range(connections)]
    share = [range(k, attempts, len(conns)) for k in range(len(conns))]
    replies = [None] * attempts
    go = threading.Event()

    def work(daemon, indexes):
        c = daemon.connect(timeout=deadline / 2)
        try:
            go.wait(deadline)
            for i in indexes:
                replies[i] = c.request(request_for(i))
        finally:
            c.close()

    threads = [threading.Thread(target=work, args=(d, idx), daemon=True)
               for d, idx in zip(conns, share)]
    for t in threads:
        t.start()
    began = time.monotonic()
    go.set()
    for t in threads:
        t.join(max(0.1, deadline - (time.monotonic() - began)))
    lib.ok(not any(t.is_alive() for t in threads), "burst did not finish within %gs" % deadline)
    lib.ok(None not in replies, "some attempts got no reply")
    return replies


def tally(replies, refusal, accept="action=dunno"):
    """The accepted replies; fails on anything but `accept` or `refusal`."""
    accepted = replies.count(accept)
    lib.eq(accepted + replies.count(refusal), len(replies),
           "replies other than accept/refuse: %r" % sorted(set(replies) - {accept, refusal}))
    return accepted


class Clients:
    """`clients` threads sending requests until stop() (or the end of the with block)."""

    def __init__(self, port, clients=4, attrs=None, pause=0.01, timeout=10.0):
        self.port = port
        self.attrs = attrs or (lambda c: {"recipient": "load%d@example.org" % c})
        self.pause = pause
        self.timeout = timeout
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(c,), daemon=True)
                         for c in range(clients)]

    def _run(self, c):
        conn = None
        data = lib.request_bytes(self.attrs(c))
        while not self._stop.is_set():
            if conn is None:
                try:
                    conn = lib.Client(self.port, timeout=self.timeout)
                except OSError:
                    self._record(c, time.monotonic(), 0.0, lib.CLOSED)
                    time.sleep(0.1)
                    continue
            sent = time.monotonic()
            conn.send(data)
            reply = conn.reply()
            self._record(c, sent, time.monotonic() - sent, reply)
            if reply in (lib.TIMEOUT,) or reply.startswith(lib.CLOSED):
                conn.close()
                conn = None
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()

    def _record(self, c, sent, latency, reply):
        with self._lock:
            self.results.append(Result(c, sent, latency, reply))

    def snapshot(self):
        with self._lock:
            return list(self.results)

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(self.timeout + 5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def percentile(values, p):
    """The p-th percentile (nearest rank) of values; 0.0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def latencies(port, count=200, attrs=None, pause=0.005):
    """Latencies (s) of `count` sequential requests of one well-behaved client on one connection,
    and the replies that were not normal ones (CLOSED/TIMEOUT)."""
    attrs = attrs or {"recipient": "probe@example.org"}
    data = lib.request_bytes(attrs)
    out, bad = [], []
    conn = lib.Client(port, timeout=10)
    try:
        for _ in range(count):
            t = time.monotonic()
            conn.send(data)
            reply = conn.reply()
            out.append(time.monotonic() - t)
            if reply == lib.TIMEOUT or reply.startswith(lib.CLOSED):
                bad.append(reply)
                conn.close()
                conn = lib.Client(port, timeout=10)
            time.sleep(pause)
    finally:
        conn.close()
    return out, bad


def rss_kb(pid):
    """VmRSS of a process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise lib.Failure("no VmRSS for pid %d" % pid)


def raise_nofile(wanted):
    """Raise this process's descriptor limit to `wanted` (at most the hard limit); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def mariadb_workdir():
    """The private MariaDB's directory: $WORKDIR as scripts/test.sh exports it, else the
    socket's directory (scripts/mariadb.sh puts the socket there unless the path is too long)."""
    workdir = os.environ.get("WORKDIR", "")
    if workdir and os.path.exists(os.path.join(workdir, "my.cnf")):
        return workdir
    return os.path.dirname(lib._settings.mysql_socket)


def mariadb_pid():
    with open(os.path.join(mariadb_workdir(), "mariadbd.pid")) as f:
        return int(f.read().strip())


def wait_all_threads_stopped(pid, limit=5.0):
    """SIGSTOP reaches a process's threads asynchronously: wait until none runs."""
    deadline = time.time() + limit
    task_dir = "/proc/%d/task" % pid
    while time.time() < deadline:
        states = []
        for tid in os.listdir(task_dir):
            try:
                with open(os.path.join(task_dir, tid, "stat")) as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:
                continue
        if states and all(state == "T" for state in states):
            return
        time.sleep(0.01)
    raise lib.Failure("mariadbd %d did not stop within %.0fs" % (pid, limit))


@contextlib.contextmanager
def stalled_database():
    """The server process stops answering (SIGSTOP) until the block ends."""
    pid = mariadb_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_all_threads_stopped(pid)
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
