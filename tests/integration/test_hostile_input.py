"""tests/integration/test_hostile_input.py - hostile request content and hostile request shapes.

SQL injection attempts in every attribute (quotes, backslashes, LIKE wildcards, NUL, UTF-8,
10 KB values) are stored as the literal, normalised text of the request that carried them and
change no other row; no SQL error is logged. Requests of 1 MB, endless lines, binary garbage
and thousands of attributes: the connection is closed with one log line (or the request is
answered when it fits), memory stays bounded and a well-behaved client is served meanwhile.
"""

import os
import threading
import time

import lib
import load

INVALID = "action=defer_if_permit Invalid data"
SENTINEL = ("INSERT INTO triplet (_datenew,_datelast,_host,_from,_rcpt,_count) "
            "VALUES (1000,1000,'10.9.8','x@sentinel.example','sentinel@example.org',7)")
PAYLOADS = [
    "'", '"', "\\", "%", "_", "' OR '1'='1", "'; DROP TABLE triplet; -- ",
    "\\'; UPDATE triplet SET _count=99; #", "%' OR _rcpt LIKE '%", "_%_%",
    "\u00e9\u20ac\U0001F600 caf\u00e9", "nul\x00after", "x" * 10240,
]
ATTRIBUTES = ["client_address", "client_name", "helo_name", "sender", "recipient", "instance",
              "size", "sasl_username", "protocol_state"]
KEPT = set(b"abcdefghijklmnopqrstuvwxyz0123456789@|.:_-/ ")


# The reference's normalisation (src/protocol/normalizer.h), for what the rows must hold.
def capped(name, value):
    return value.encode("utf-8")[:63 - len(name)]


def extract(name, value):
    return bytes(c for c in capped(name, value).lower() if c in KEPT).decode()


def ghost(address, hostaddr=3):
    out, dots = "", 0
    for ch in capped("client_address", address).lower().decode("utf-8", "replace"):
        if ch not in "0123456789abcdef.:":
            continue
        if ch == ".":
            dots += 1
            if dots == hostaddr:
                break
        out += ch
    return out


def expected_row(attrs):
    """(_host, _from, _rcpt) the request must store, or None if it is invalid."""
    request = lib.request_bytes(attrs)
    text = request.split(b"\x00", 1)[0].decode("utf-8", "replace")
    values = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)
    rcpt = extract("recipient", values.get("recipient", ""))
    if not rcpt or not values.get("client_address"):
        return None
    sender = extract("sender", values["sender"]) if "sender" in values else ""
    return ghost(values["client_address"]), sender or "<>", rcpt


def test_injection_attempts_are_stored_literally_and_touch_nothing_else():
    lib.sql(SENTINEL)
    cases = []
    for i, payload in enumerate(PAYLOADS):
        for name in ATTRIBUTES:
            rcpt = "r%d-%s@example.org" % (i, name)
            attrs = {"recipient": rcpt}
            attrs[name] = rcpt + payload if name == "recipient" else payload
            cases.append(attrs)
    with lib.Daemon() as d:
        c = d.connect(timeout=10)
        replies = [c.request(attrs) for attrs in cases]
        out = d.output()
    expected = [expected_row(attrs) for attrs in cases]
    for attrs, reply, row in zip(cases, replies, expected):
        lib.eq(reply, INVALID if row is None else lib.GREY_DEFER,
               "reply to %r" % {k: v[:40] for k, v in attrs.items()})
    lib.ok(any(row is None for row in expected), "some requests were cut by their NUL byte")
    rows = lib.sql("SELECT _host,_from,_rcpt,_count FROM triplet "
                   "WHERE _rcpt <> 'sentinel@example.org'")
    # CHAR columns give their values back without trailing spaces
    stored = {tuple(r[:3]) for r in rows}
    wanted = {tuple(v.rstrip(" ") for v in r) for r in expected if r is not None}
    lib.eq((sorted(stored - wanted)[:3], sorted(wanted - stored)[:3]), ([], []),
           "(unexpected rows, missing rows): each triplet stores its request's normalised text")
    lib.eq(len(rows), len(wanted), "one row per valid request")
    lib.ok(all(r[3] == "0" for r in rows), "no counter was touched")
    lib.eq(lib.sql("SELECT _host,_from,_count FROM triplet WHERE _rcpt='sentinel@example.org'"),
           [["10.9.8", "x@sentinel.example", "7"]], "the unrelated row is unchanged")
    # start-up warnings about the file (the reference's CONN_ACL) are not about the requests
    bad = [l for l in out.splitlines() if (l.startswith(("error", "mysql", "warning"))
                                          and "policyd.conf:" not in l)
           or "SQL" in l or "syntax" in l]
    lib.eq(bad[:3], [], "no SQL error logged")


def send_and_wait_close(port, data, limit=15.0):
    """Sends data (the daemon may close midway) and reads until it closes the connection.
    Returns (closed, replies received before the close)."""
    c = lib.Client(port, timeout=limit)
    try:
        c.send(data)
        replies = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            reply = c.reply(timeout=max(0.1, deadline - time.monotonic()))
            if reply.startswith(lib.CLOSED):
                return True, replies
            if reply == lib.TIMEOUT:
                return False, replies
            replies.append(reply)
        return False, replies
    finally:
        c.close()


def test_oversized_endless_and_garbage_requests_close_only_their_connection():
    many_small = "".join("a%05d=v\n" % i for i in range(5000))    # 5000 attributes, 40 KB
    too_many = "".join("a%05d=v\n" % i for i in range(20000))     # 20000 attributes, 160 KB
    head = lib.request_bytes().rstrip(b"\n") + b"\n"
    hostile = {
        "1 MB value": head + b"sender=" + b"s" * (1 << 20) + b"\n\n",
        "endless line": b"request=smtpd_access_policy" + b"A" * (300 * 1024),
        "binary garbage": os.urandom(512 * 1024),  # may hold a few empty lines: invalid requests
        "20000 attributes": head + too_many.encode() + b"\n",
    }
    with lib.Daemon() as d:
        lib.eq(d.request(), lib.GREY_DEFER, "normal request first")
        rss_before = load.rss_kb(d.proc.pid)
        results, threads = {}, []
        for name, data in hostile.items():
            for k in range(5):  # five of each at once
                t = threading.Thread(target=lambda n=name, k=k, b=data: results.__setitem__(
                    (n, k), send_and_wait_close(d.port, b)), daemon=True)
                threads.append(t)
                t.start()
        lat, bad = load.latencies(d.port, count=100)
        for t in threads:
            t.join(30)
        rss_after = load.rss_kb(d.proc.pid)
        c = d.connect()
        c.send(head.replace(b"recipient=bob@example.org\n", b"") + many_small.encode() +
               b"recipient=many@example.org\n\n")
        lib.eq(c.reply(timeout=10), lib.GREY_DEFER, "5000 attributes (40 KB) are answered")
        lib.eq(d.proc.poll(), None, "daemon alive")
        out = d.output()
    for (name, k), (closed, replies) in sorted(results.items()):
        lib.ok(closed, "%s #%d: connection closed by the daemon" % (name, k))
        lib.eq([r for r in replies if r != INVALID], [], "%s #%d: replies" % (name, k))
    lib.eq(len(results), 20, "every hostile client finished")
    lib.eq(bad, [], "the well-behaved client was always answered")
    p99 = load.percentile(lat, 99)
    growth = (rss_after - rss_before) / 1024.0
    print("     hostile input: well-behaved p99 %.1f ms; RSS %.1f -> %.1f MB (+%.1f MB)"
          % (p99 * 1000, rss_before / 1024.0, rss_after / 1024.0, growth))
    lib.ok(p99 < 0.5, "well-behaved p99 %.3fs" % p99)
    lib.ok(growth < 32, "RSS grew by %.1f MB" % growth)
    size_lines = [l for l in out.splitlines() if "exceeds MAX_REQUEST_SIZE" in l]
    lib.eq(len(size_lines), 20, "one log line per closed connection")
