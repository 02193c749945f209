"""tests/integration/test_security.py - access control, privileges, secrets and the pid file.

CONN_ACL refuses every other client with a log line, over IPv4 and IPv6 (one socket on "::"
serves both); privileges are dropped to UID/GID (and no supplementary group) after binding;
the MySQL password never reaches the log, even at DEBUG=4; the pid file cannot be used to
clobber another file through a symbolic or a hard link.
"""

import grp
import os
import pwd
import signal
import socket
import time

import lib

SECRET = "Pw-9f3c-S3cr3t-7e1d"


def ask(port, host):
    """One request from host ("127.0.0.1" or "::1"); the reply, or lib.CLOSED."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect((host, port))
        try:
            s.sendall(lib.request_bytes({"recipient": "acl-%s@example.org" % host.replace(":", "")}))
            data = b""
            while b"\n\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return lib.CLOSED
                data += chunk
        except OSError:
            return lib.CLOSED
        return data.split(b"\n\n")[0].decode()


def test_conn_acl_over_ipv4_and_ipv6():
    for acl, allowed, refused in (("127.0.0.1", "127.0.0.1", "::1"),
                                  ("::1", "::1", "127.0.0.1")):
        lib.sql("DELETE FROM triplet")
        with lib.Daemon({"BINDHOST": "::", "CONN_ACL": '"%s"' % acl}, start=False) as d:
            d.start(wait=False)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # wait_listening() probes 127.0.0.1 only
                try:
                    socket.create_connection(("::1", d.port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            lib.eq(ask(d.port, allowed), lib.GREY_DEFER, "CONN_ACL=%s: %s served" % (acl, allowed))
            lib.eq(ask(d.port, refused), lib.CLOSED, "CONN_ACL=%s: %s refused" % (acl, refused))
            out = d.output()
        lines = [l for l in out.splitlines() if l.startswith("WARNING: connection attempt from")]
        lib.ok(lines and all(l.endswith(" " + refused) for l in lines),
               "CONN_ACL=%s: refusals logged with the client address: %r" % (acl, lines))
        lib.eq(lib.sql("SELECT COUNT(*) FROM triplet WHERE _rcpt='acl-%s@example.org'"
                       % refused.replace(":", "")), [["0"]],
               "a refused client reaches no table")


def test_privileges_dropped_to_uid_and_gid_after_binding():
    lib.ok(os.geteuid() == 0, "this test runs as root (as the daemon is started in production)")
    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrnam("nogroup")
    with lib.Daemon({"UID": "nobody", "GID": "nogroup"}, start=False) as d:
        # a privileged port, so binding needs root and must happen before the drop
        d.port = privileged_port()
        d.write_conf()
        d.start()
        lib.eq(d.request(), lib.GREY_DEFER, "serving after the drop")
        status = dict(line.split(":", 1) for line in open("/proc/%d/status" % d.proc.pid))
        uids = status["Uid"].split()
        gids = status["Gid"].split()
        groups = status["Groups"].split()
        with open(os.path.join(d.workdir, "policyd.pid")) as f:
            pid_in_file = int(f.read())
    lib.eq(uids, [str(nobody.pw_uid)] * 4, "real, effective, saved and fs uid")
    lib.eq(gids, [str(nogroup.gr_gid)] * 4, "real, effective, saved and fs gid")
    lib.eq(groups, [], "no supplementary groups (root's are dropped)")
    lib.eq(pid_in_file, d.proc.pid, "the pid file was written (as root, before the drop)")


def privileged_port():
    for port in range(900, 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise lib.Failure("no free port below 1024")


def test_mysql_password_is_never_logged():
    for host in ("127.0.0.1", "localhost"):
        lib.sql("CREATE USER IF NOT EXISTS 'policyd_sec'@'%s' IDENTIFIED BY '%s'"
                % (host, SECRET))
        lib.sql("GRANT ALL ON `%s`.* TO 'policyd_sec'@'%s'" % (lib._settings.db, host))
    try:
        with lib.Daemon({"DEBUG": 4, "MYSQLUSER": '"policyd_sec"',
                         "MYSQLPASS": '"%s"' % SECRET}) as d:
            lib.eq(d.request(), lib.GREY_DEFER, "the daemon logs in with the password")
            d.signal(signal.SIGHUP)
            time.sleep(0.5)
            good = d.output()
        with lib.Daemon({"DEBUG": 4, "MYSQLUSER": '"policyd_sec"',
                         "MYSQLPASS": '"%s-wrong"' % SECRET, "FAILSAFE": 1}) as d:
            lib.eq(d.request(), "action=dunno", "a refused login gives the FAILSAFE answer")
            bad = d.output()
    finally:
        for host in ("127.0.0.1", "localhost"):
            lib.sql("DROP USER IF EXISTS 'policyd_sec'@'%s'" % host)
    lib.ok("(hidden)" in good, "the DEBUG dump shows the password as (hidden)")
    lib.ok("Access denied" in bad, "the refused login is logged")
    for text in (good, bad):
        lib.ok("Pw-9f3c" not in text, "the password (or a part of it) is not in the log")


def test_pidfile_symlink_or_hardlink_is_refused():
    for kind in ("symlink", "hardlink"):
        d = lib.Daemon(start=False)
        target = os.path.join(d.workdir, "precious")
        with open(target, "w") as f:
            f.write("keep me\n")
        pidfile = os.path.join(d.workdir, "policyd.pid")
        (os.symlink if kind == "symlink" else os.link)(target, pidfile)
        d.start(wait=False)
        status = d.wait(10)
        with open(target) as f:
            content = f.read()
        lib.ok(status not in (None, 0), "%s pid file: start-up refused (status %r)" % (kind, status))
        lib.eq(content, "keep me\n", "%s pid file: the target is untouched" % kind)
        lib.ok(pidfile in d.output(), "%s pid file: the refusal names the file: %r"
               % (kind, d.output().strip()[-200:]))
