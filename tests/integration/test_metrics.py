"""tests/integration/test_metrics.py - GET /metrics (METRICS_BIND) against the real daemon.

A known sequence of requests is sent, /metrics is scraped and parsed with a real Prometheus
text-format parser (python3-prometheus-client), and every count is checked exactly: requests by
action and deciding check, decision tokens, FAILSAFE bypasses, database statements and errors per
node, connections accepted, refused and closed by reason, the latency histogram, reloads and
build info.  Also: only GET /metrics is served, and stalled scrapers are bounded and timed out
without delaying the policy port.  docs/OPERATIONS.md describes the metrics.
"""

import signal
import socket
import sys
import time
import urllib.error
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # a python3 other than Debian's (pyenv, venv) first on PATH
    sys.path.append("/usr/lib/python3/dist-packages")  # scripts/install-deps.sh puts it there
    from prometheus_client.parser import text_string_to_metric_families

import lib


def wait_for(condition, what, limit=5.0):
    deadline = time.monotonic() + limit
    while not condition():
        lib.ok(time.monotonic() < deadline, "not within %gs: %s" % (limit, what))
        time.sleep(0.05)


def metrics_daemon(overrides=None):
    port = lib.free_port()
    settings = {"METRICS_BIND": "127.0.0.1:%d" % port}
    settings.update(overrides or {})
    d = lib.Daemon(settings)
    d.metrics_port = port
    return d


def get(d, path="/metrics", method="GET", timeout=5.0):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.metrics_port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def scrape(d):
    """{(name, frozenset(labels.items())): value} of every sample, through the real parser."""
    status, ctype, body = get(d)
    lib.eq(status, 200, "GET /metrics status")
    lib.ok(ctype.startswith("text/plain; version=0.0.4"), "content type %r" % ctype)
    samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def node():
    """The database node label of the daemons' MYSQLHOST (TCP: host:port)."""
    return "%s:%d" % (lib._settings.mysql_host, lib._settings.mysql_port)


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def requests(m, expected):
    """Every policyd_requests_total series: {(action, check): count}, exactly."""
    got = {(dict(labels)["action"], dict(labels)["check"]): v
           for (name, labels), v in m.items() if name == "policyd_requests_total"}
    lib.eq(got, {k: float(v) for k, v in expected.items()}, "requests by action and check")


def decisions(m, expected):
    """Some policyd_decisions_total series: {(check, result): count}."""
    for (check, result), count in expected.items():
        lib.eq(value(m, "policyd_decisions_total", check=check, result=result), float(count),
               "decision %s=%s" % (check, result))


def test_counts_after_a_known_sequence_are_exact():
    now = int(time.time())
    lib.sql("INSERT INTO triplet (_from,_rcpt,_host,_datenew,_datelast,_count) "
            "VALUES ('alice@example.com','old@example.org','192.0.2',%d,%d,0)" % (now - 3600, now - 3600))
    lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) VALUES ('192.0.2.77','it',0)")
    with metrics_daemon() as d:
        for i in range(3):
            lib.eq(d.request({"recipient": "new%d@example.org" % i}), lib.GREY_DEFER, "new triplet")
        lib.eq(d.request({"recipient": "old@example.org"}), "action=dunno", "old triplet")
        lib.eq(d.request({"client_address": "192.0.2.77"}), "action=dunno", "whitelisted")
        lib.eq(d.request({"recipient": None}), "action=defer_if_permit Invalid data", "invalid")
        m = scrape(d)
        requests(m, {("grey_defer", "greylist"): 3, ("accept", "greylist"): 1,
                     ("accept", "whitelist"): 1, ("invalid", "none"): 1})
        decisions(m, {("greylist", "new"): 3, ("greylist", "update"): 1, ("whitelist", "update"): 1})
        lib.eq(value(m, "policyd_check_failures_total"), 0.0, "no failures")
        lib.eq(value(m, "policyd_request_duration_seconds_count"), 6.0, "latency count")
        lib.eq(value(m, "policyd_request_duration_seconds_bucket", le="+Inf"), 6.0, "+Inf bucket")
        lib.ok(value(m, "policyd_request_duration_seconds_bucket", le="0.0001") is not None,
               "100 us bucket")
        lib.ok(value(m, "policyd_request_duration_seconds_bucket", le="10") is not None, "10 s bucket")
        lib.ok(value(m, "policyd_request_duration_seconds_sum") > 0, "latency sum")
        statements = value(m, "policyd_database_statements_total", node=node())
        lib.ok(statements is not None and statements >= 5, "statements on the node: %r" % statements)
        lib.eq(value(m, "policyd_database_errors_total", node=node()), 0.0, "database errors")
        lib.eq(value(m, "policyd_worker_queue_depth"), 0.0, "queue depth")
        lib.eq(value(m, "policyd_connections_open"), 1.0, "the shared connection is open")
        version = lib.run_policyd(["-v"])[1].split()[1]
        lib.eq(value(m, "policyd_build_info", version=version, config=d.conf_path), 1.0,
               "build info")
        lib.ok(not any(v == "192.0.2.77" or "@" in v for (_, labels) in m for _, v in labels),
               "no address is a label")
        # counters are since start: one more request adds one
        lib.eq(d.request({"recipient": "new9@example.org"}), lib.GREY_DEFER, "one more")
        m = scrape(d)
        lib.eq(value(m, "policyd_requests_total", action="grey_defer", check="greylist"), 4.0,
               "grey_defer after one more")
        lib.ok(value(m, "policyd_database_statements_total", node=node()) > statements,
               "statements grow")


def test_failsafe_bypasses_and_database_errors():
    with metrics_daemon({"FAILSAFE": 1}) as d:
        lib.sql("DROP TABLE triplet")
        lib.eq(d.request(), "action=dunno", "FAILSAFE=1 bypass")
        lib.eq(d.request(), "action=dunno", "FAILSAFE=1 bypass")
        m = scrape(d)
        lib.eq(value(m, "policyd_decisions_total", check="greylist", result="bypass"), 2.0, "bypasses")
        lib.eq(value(m, "policyd_requests_total", action="accept", check="greylist"), 2.0,
               "accepted by the greylist's FAILSAFE")
        lib.eq(value(m, "policyd_check_failures_total"), 2.0, "check failures")
        lib.ok(value(m, "policyd_database_errors_total", node=node()) >= 2,
               "database errors on the node")


def test_connections_refused_and_closed_by_reason():
    with metrics_daemon({"CONN_ACL": "192.0.2.1"}) as d:
        before = value(scrape(d), "policyd_connections_refused_total", reason="conn_acl")
        with d.connect() as c:
            lib.eq(c.request(), lib.CLOSED, "refused by CONN_ACL")
        m = scrape(d)
        lib.eq(value(m, "policyd_connections_refused_total", reason="conn_acl"), before + 1, "conn_acl")
        lib.eq(value(m, "policyd_connections_accepted_total"), 0.0, "nothing accepted")
    with metrics_daemon({"MAX_REQUEST_SIZE": 1024}) as d:
        with d.connect() as c:
            c.send(b"request=smtpd_access_policy\n" + b"x=" + b"y" * 4000 + b"\n\n")
            lib.eq(c.reply(), lib.CLOSED, "request over MAX_REQUEST_SIZE")
        wait_for(lambda: value(scrape(d), "policyd_connections_closed_total",
                               reason="too_large") == 1.0, "too_large counted")
        m = scrape(d)
        lib.eq(value(m, "policyd_connections_closed_total", reason="too_slow"), 0.0, "too_slow")


def test_reloads_are_counted():
    with metrics_daemon() as d:
        scrape(d)  # the loop runs: its signal handlers are in (SIGHUP before them is ignored)
        d.signal(signal.SIGHUP)
        wait_for(lambda: "reloaded configuration" in d.output(), "reload logged")
        with open(d.conf_path, "a") as f:
            f.write("MAX_REQUEST_SIZE=1\n")  # below the range: the reload fails
        d.signal(signal.SIGHUP)
        wait_for(lambda: "reload failed" in d.output(), "failed reload logged")
        m = scrape(d)
        lib.eq(value(m, "policyd_config_reloads_total", result="ok"), 1.0, "reloads ok")
        lib.eq(value(m, "policyd_config_reloads_total", result="failed"), 1.0, "reloads failed")


def test_only_get_metrics_is_served():
    with metrics_daemon() as d:
        lib.eq(get(d, "/")[0], 404, "GET /")
        lib.eq(get(d, "/metrics/x")[0], 404, "GET /metrics/x")
        lib.eq(get(d, "/metrics", method="POST")[0], 501, "POST /metrics (libevent's answer)")
        lib.eq(get(d, "/metrics?x=1")[0], 200, "a query string is ignored")
        lib.eq(get(d, "/metrics", method="HEAD")[0], 200, "HEAD /metrics")
    port = lib.free_port()
    with lib.Daemon() as d:  # METRICS_BIND absent: nothing listens
        lib.eq(d.request(), lib.GREY_DEFER, "the policy port works")
        lib.ok(not lib.conformance.port_accepts(port), "no metrics port")


def test_stalled_scrapers_are_bounded_and_do_not_delay_requests():
    with metrics_daemon() as d:
        stalled = [socket.create_connection(("127.0.0.1", d.metrics_port)) for _ in range(4)]
        try:
            time.sleep(0.2)
            started = time.monotonic()
            lib.eq(d.request({"recipient": "during@example.org"}), lib.GREY_DEFER, "policy request")
            lib.ok(time.monotonic() - started < 1.0, "the policy port is not delayed")
            # a fifth scraper waits in the backlog until the stalled ones time out (5 s)
            started = time.monotonic()
            status, _, _ = get(d, timeout=15)
            waited = time.monotonic() - started
            lib.eq(status, 200, "served once a slot is free")
            lib.ok(3.0 < waited < 10.0, "the fifth waited for the timeout: %.1fs" % waited)
            for s in stalled:
                s.settimeout(1)
                lib.eq(s.recv(1), b"", "a stalled scraper was closed")
        finally:
            for s in stalled:
                s.close()


def test_throttle_decisions_are_counted():
    # the throttles write their own decision lines; their tokens count like every other's
    conf = {"GREYLISTING": 0, "SENDERTHROTTLE": 1, "SENDER_THROTTLE_HOST": 0,
            "SENDER_THROTTLE_ENVELOPE": 1, "SENDERMSGLIMIT": 1, "RECIPIENTTHROTTLE": 1}
    with metrics_daemon(conf) as d:
        lib.eq(d.request({"instance": "m1"}), "action=dunno", "m1")
        lib.eq(d.request({"instance": "m2"}), "action=defer_if_permit Policy rejection: Quota Exceeded.",
               "m2 over the limit")
        m = scrape(d)
        decisions(m, {("throttle", "new(a)"): 1, ("throttle", "abuse(f)"): 1,
                      ("throttle_rcpt", "new(a)"): 1})
        requests(m, {("sender_quota", "throttle"): 1, ("accept", "throttle_rcpt"): 1})
