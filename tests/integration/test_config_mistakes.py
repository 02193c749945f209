"""tests/integration/test_config_mistakes.py - administrators' policyd.conf mistakes, end to end.

Each mistake that policyd 1.x (and `policyd -t` before) accepted and that destroyed data or
silently turned the policy off: `-t` must exit 1 naming key, value and range; the daemon must
refuse to start with it; a SIGHUP with it must keep the running configuration. A CRLF file
must work like its LF twin (the database connects, requests are decided, not answered by
FAILSAFE). The unit tests (test_config_ranges.cpp) cover the parser itself; these cover the
programs. Default config = the reference's shipped values.
"""

import os
import signal
import time

import lib

GREY = lib.GREY_DEFER

# (key, value, what the error says after "<KEY>: ")
MISTAKES = [
    ("TRIPLET_AUTH_TIMEOUT", "100Y", "100Y (3214080000 seconds) is out of range: use 0..10Y"),
    ("TRIPLET_AUTH_TIMEOUT", "25000d", "25000d (2160000000 seconds) is out of range: use 0..10Y"),
    ("AUTO_WHITELIST_EXPIRE", "999999999Y",
     "999999999Y (32140799967859200 seconds) is out of range: use 0..10Y"),
    ("TRIPLET_TIME", "-4m", "-4m (-240 seconds) is out of range: use 0..10Y"),
    ("BINDPORT", "70000", "70000 is out of range: use 0..65535"),
    ("BINDPORT", "-1", "-1 is out of range: use 0..65535"),
    ("MAX_REQUEST_SIZE", "1099511627776", "1099511627776 is out of range: use 1024..1048576"),
    ("GREYLISTING", "2", "2 is out of range: use 0..1"),
    ("MYSQLPASS", '"p0stf1x', 'unterminated quote: "p0stf1x'),
]


def write(d, name, text):
    path = os.path.join(d.workdir, name)
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def test_check_mode_refuses_each_mistake():
    d = lib.Daemon(start=False)
    for key, value, message in MISTAKES:
        path = write(d, "mistake.conf", d.conf_text({key: value}))
        status, out = lib.run_policyd(["-t", "-c", path])
        lib.eq(status, 1, "policyd -t with %s=%s (output: %s)" % (key, value, out.strip()[:300]))
        lib.ok("%s: %s" % (key, message) in out, "message for %s=%s: %r" % (key, value, out))
        lib.ok("configuration OK" not in out, out)


def test_the_daemon_refuses_to_start_with_a_mistake():
    d = lib.Daemon({"BINDPORT": "70000"}, start=False)
    status, out = lib.run_policyd(["-c", d.conf_path])
    lib.ok(status != 0, "exit status %d" % status)
    lib.ok("BINDPORT: 70000 is out of range: use 0..65535" in out, out.strip()[:300])


def test_a_reload_with_a_mistake_keeps_the_running_configuration():
    with lib.Daemon({"GREYLIST_REJECTION": '"First text"'}) as d:
        lib.eq(d.request({"recipient": "a@example.org"}), "action=defer_if_permit First text")
        d.write_conf({"GREYLIST_REJECTION": '"Second text"', "TRIPLET_TIME": "-4m"})
        d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while "reload failed" not in d.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        out = d.output()
        lib.ok("reload failed, keeping the running configuration: " in out and
               "TRIPLET_TIME: -4m (-240 seconds) is out of range" in out, out[-500:])
        lib.eq(d.request({"recipient": "b@example.org"}), "action=defer_if_permit First text",
               "the old text after the failed reload")
        lib.eq(d.proc.poll(), None, "daemon still running")


def test_a_crlf_file_works_like_its_lf_twin():
    # 1.x kept the '\r' in MYSQLHOST ("Unknown server host '127.0.0.1\r'"): every query
    # failed and FAILSAFE=1 accepted all mail unchecked
    d = lib.Daemon(start=False)
    text = d.conf_text()
    lib.ok('MYSQLHOST="' in text, "the harness sets MYSQLHOST")
    write(d, "policyd.conf", text.replace("\n", "\r\n"))
    with open(d.conf_path, "rb") as f:
        lib.ok(f.read().count(b"\r\n") > 70, "the file on disk has CRLF line ends")
    status, out = lib.run_policyd(["-t", "-c", d.conf_path])
    lib.eq(status, 0, "policyd -t on the CRLF file: %s" % out.strip()[:300])
    d.start()
    try:
        lib.eq(d.request({"recipient": "crlf@example.org"}), GREY, "decided, not FAILSAFE")
        lib.eq(lib.sql("SELECT _rcpt FROM triplet"), [["crlf@example.org"]], "triplet stored")
        lib.ok("bypass" not in d.output() and "Unknown server host" not in d.output(),
               d.output()[-500:])
    finally:
        d.stop()


def test_line_without_equals_directory_and_1x_conn_acl_are_told():
    d = lib.Daemon(start=False)
    path = write(d, "typo.conf", d.conf_text() + "GREYLISTING 0\n")
    status, out = lib.run_policyd(["-t", "-c", path])
    lib.eq(status, 0, "a line without '=' is a warning")
    lib.ok("ignored: not a setting (KEY=value at column 0) nor a comment" in out, out[-500:])
    # the harness carries the reference's shipped CONN_ACL: the hint is in -t and at start-up
    lib.ok("CONN_ACL: still the example of policyd 1.x (::1 127.0.0.1 192.168.0.0/24)" in out,
           out[-500:])
    status, out = lib.run_policyd(["-t", "-c", d.workdir])
    lib.eq(status, 1, "-c DIRECTORY")
    lib.ok("fopen(): Is a directory: %s" % d.workdir in out, out)
    with lib.Daemon() as running:
        running.request()
        lib.ok("warning: " in running.output() and "CONN_ACL: still the example" in
               running.output(), running.output()[-500:])
