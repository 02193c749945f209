"""tests/integration/test_unix_socket.py - BINDSOCKET, the Unix-domain socket beside the TCP port.

The socket serves requests like the port, is created with BINDSOCKET_MODE and owned by UID/GID,
is not subject to CONN_ACL, replaces a stale socket left by a crash but never a file that is not
a socket nor a socket someone listens on, stays where it is across SIGHUP, and is removed at exit
(also after a failed start), unless a newer daemon's socket took its place. docs/OPERATIONS.md
describes the behaviour; tests/e2e/postfix.sh asks it through a real Postfix.
"""

import grp
import os
import pwd
import signal
import socket
import stat
import time

import lib


def sock_path(d, name="policyd.sock"):
    return os.path.join(d.workdir, name)


def daemon(overrides=None, start=True, name="policyd.sock"):
    """A daemon with BINDSOCKET in its own directory (unless overrides say otherwise)."""
    d = lib.Daemon(overrides, start=False)
    conf = {"BINDSOCKET": sock_path(d, name)}
    conf.update(overrides or {})
    d.write_conf(conf)
    if start:
        d.start()
    return d


def left_behind_socket(path):
    """A socket file nobody listens on: what a crashed daemon leaves."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    lib.ok(stat.S_ISSOCK(os.lstat(path).st_mode), "a stale socket file exists")


def start_fails(d, limit=15.0):
    d.start(wait=False)
    status = d.wait(limit)
    lib.ok(status is not None, "the daemon did not exit:\n" + d.output())
    return status, d.output()


def test_serves_requests_with_mode_0660_and_the_daemon_identity():
    with daemon() as d:
        path = sock_path(d)
        st = os.lstat(path)
        lib.ok(stat.S_ISSOCK(st.st_mode), "a socket at %s" % path)
        lib.eq(oct(stat.S_IMODE(st.st_mode)), oct(0o660), "default BINDSOCKET_MODE")
        lib.eq((st.st_uid, st.st_gid), (os.geteuid(), os.getegid()), "owner (UID/GID 0: root)")
        with d.connect_unix(path) as c:
            lib.eq(c.request({"recipient": "unix@example.org"}), lib.GREY_DEFER, "over the socket")
            lib.eq(c.request({"recipient": "unix@example.org"}), lib.GREY_DEFER,
                   "a second request on the same connection (retried too early)")
        lib.eq(d.request({"recipient": "tcp@example.org"}), lib.GREY_DEFER, "the TCP port too")
        lib.ok(d.wait_for("connection from: unix:%s port: 0 slots: " % path),
               "connection line:\n" + d.output())
    lib.eq(lib.sql("SELECT _rcpt FROM triplet ORDER BY _rcpt"),
           [["tcp@example.org"], ["unix@example.org"]], "both decided through the database")


def test_bindsocket_mode_is_exact_whatever_the_umask():
    for mode in (0o600, 0o666, 0o777):
        with daemon({"BINDSOCKET_MODE": "0%o" % mode}) as d:
            lib.eq(oct(stat.S_IMODE(os.lstat(sock_path(d)).st_mode)), oct(mode),
                   "BINDSOCKET_MODE=0%o" % mode)


def test_owned_by_uid_and_gid_and_removed_by_them():
    lib.ok(os.geteuid() == 0, "this test runs as root (as the daemon is started in production)")
    nobody, nogroup = pwd.getpwnam("nobody"), grp.getgrnam("nogroup")
    d = lib.Daemon({"UID": "nobody", "GID": "nogroup"}, start=False)
    with d:
        # a directory the daemon may still write after the drop, as /run/policyd would be
        run = os.path.join(d.workdir, "run")
        os.mkdir(run, 0o755)
        os.chown(run, nobody.pw_uid, nogroup.gr_gid)
        path = os.path.join(run, "policyd.sock")
        d.write_conf({"BINDSOCKET": path})
        d.start()
        st = os.lstat(path)
        lib.eq((st.st_uid, st.st_gid), (nobody.pw_uid, nogroup.gr_gid), "socket owner")
        with d.connect_unix(path) as c:
            lib.eq(c.request(), lib.GREY_DEFER, "served after the privilege drop")
        lib.eq(d.stop(), 0, "exit status")
    lib.ok(not os.path.exists(path), "removed at exit by the unprivileged daemon")


def test_socket_the_new_identity_cannot_remove_is_reported_and_replaced_next_time():
    lib.ok(os.geteuid() == 0, "this test runs as root")
    d = daemon({"UID": "nobody", "GID": "nogroup"})  # its directory: root's, mode 0700
    path = sock_path(d)
    with d:
        lib.eq(d.connect_unix(path).request(), lib.GREY_DEFER, "served")
        lib.eq(d.stop(), 0, "exit status:\n" + d.output())
    # nobody may not even look into the root-only directory
    lib.ok(d.wait_for("warning: cannot check socket %s: Permission denied (the next start "
                      "replaces it)" % path), "the failed removal is logged:\n" + d.output())
    lib.ok(stat.S_ISSOCK(os.lstat(path).st_mode), "the socket file is still there")
    d.start()  # the next start, as root, takes it over
    with d:
        lib.ok(d.wait_for("removed stale socket %s (nothing listened on it)" % path),
               d.output())
        lib.eq(d.connect_unix(path).request(), lib.GREY_DEFER, "served again")


def test_conn_acl_does_not_apply_to_the_socket():
    with daemon({"CONN_ACL": "192.0.2.1"}) as d:
        with d.connect() as c:
            lib.ok(c.request().startswith(lib.CLOSED), "TCP from 127.0.0.1 refused by CONN_ACL")
        with d.connect_unix(sock_path(d)) as c:
            lib.eq(c.request(), lib.GREY_DEFER, "the socket's client is not refused")
        out = d.output()
    lib.ok("WARNING: connection attempt from: 127.0.0.1" in out, out)
    lib.ok("connection attempt from: unix" not in out, out)


def first_client(d, path, limit=5.0):
    """The only client of a MAX_CONNECTIONS=1 daemon, once the start-up probe of lib.Daemon (a
    TCP connect) has been closed by the daemon too."""
    deadline = time.monotonic() + limit
    while True:
        c = d.connect_unix(path)
        reply = c.request()
        if reply == lib.GREY_DEFER or time.monotonic() > deadline:
            lib.eq(reply, lib.GREY_DEFER, "first client")
            return c
        c.close()
        time.sleep(0.05)


def test_max_connections_counts_the_socket_clients_too():
    with daemon({"MAX_CONNECTIONS": 1}) as d:
        path = sock_path(d)
        with first_client(d, path):
            with d.connect_unix(path) as second:
                lib.ok(second.request().startswith(lib.CLOSED), "second refused: limit 1")
        lib.ok(d.wait_for("WARNING: No free slots found, closing connection from unix:%s"
                             % path), d.output())


def test_stale_socket_from_a_crash_is_replaced():
    d = daemon(start=False)
    left_behind_socket(sock_path(d))
    with d:
        d.start()
        lib.ok(d.wait_for("removed stale socket %s (nothing listened on it)" % sock_path(d)),
               d.output())
        lib.eq(d.connect_unix(sock_path(d)).request(), lib.GREY_DEFER, "served")


def test_a_socket_someone_listens_on_is_never_taken():
    d = daemon(start=False)
    path = sock_path(d)
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(path)
    other.listen(5)
    try:
        status, out = start_fails(d)
        lib.eq(status, 1, "exit status")
        lib.ok("fatal: BINDSOCKET %s: another process listens on it" % path in out, out)
        lib.ok(stat.S_ISSOCK(os.lstat(path).st_mode), "the listener's socket is still there")
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(path)  # and still reaches its owner
        client.close()
    finally:
        other.close()


def test_a_second_daemon_on_the_same_path_leaves_the_first_serving():
    with daemon() as first:
        path = sock_path(first)
        second = lib.Daemon({"BINDSOCKET": path}, start=False)
        status, out = start_fails(second)
        lib.eq(status, 1, "the second daemon's exit status")
        lib.ok("another process listens on it" in out, out)
        with first.connect_unix(path) as c:
            lib.eq(c.request(), lib.GREY_DEFER, "the first still serves its socket")


def test_a_file_that_is_not_a_socket_is_never_replaced():
    for kind in ("regular file", "symbolic link", "directory"):
        d = daemon(start=False)
        path = sock_path(d)
        if kind == "regular file":
            with open(path, "w") as f:
                f.write("precious\n")
        elif kind == "symbolic link":
            target = os.path.join(d.workdir, "target.sock")
            left_behind_socket(target)
            os.symlink(target, path)
        else:
            os.mkdir(path)
        with d:
            status, out = start_fails(d)
        lib.eq(status, 1, "exit status with a %s there" % kind)
        lib.ok("fatal: BINDSOCKET %s exists and is not a socket; it is left alone" % path in out,
               out)
        if kind == "regular file":
            lib.eq(open(path).read(), "precious\n", "the file is untouched")
        elif kind == "symbolic link":
            lib.ok(os.path.islink(path) and stat.S_ISSOCK(os.lstat(target).st_mode),
                   "the link and its target are untouched")
        else:
            lib.ok(os.path.isdir(path), "the directory is untouched")


def test_removed_at_exit_and_after_a_failed_start():
    with daemon() as d:
        path = sock_path(d)
        lib.ok(os.path.exists(path), "created")
        lib.eq(d.request(), lib.GREY_DEFER, "serving (its signal handlers are installed)")
        lib.eq(d.stop(), 0, "SIGTERM: exit status")
    lib.ok(not os.path.exists(path), "removed after SIGTERM")
    # a start that fails after binding (the pid file cannot be written) leaves nothing either
    d = daemon({"PIDFILE": "/nonexistent/dir/policyd.pid"}, start=False)
    with d:
        status, out = start_fails(d)
    lib.ok(status != 0, "the start failed:\n" + out)
    lib.ok(not os.path.exists(sock_path(d)), "no socket left by the failed start")


def test_a_newer_daemons_socket_at_the_path_is_not_removed():
    with daemon() as d:
        path = sock_path(d)
        # meanwhile the file was replaced (another daemon took over the path)
        os.unlink(path)
        left_behind_socket(path)
        inode = os.lstat(path).st_ino
        lib.eq(d.request(), lib.GREY_DEFER, "serving (its signal handlers are installed)")
        lib.eq(d.stop(), 0, "exit status")
    lib.eq(os.lstat(path).st_ino, inode, "the other socket is still there")


def test_sighup_keeps_the_socket_where_it_is():
    with daemon({"GREYLIST_REJECTION": '"Before"'}) as d:
        path = sock_path(d)
        moved = sock_path(d, "moved.sock")
        inode = os.lstat(path).st_ino
        with d.connect_unix(path) as c:
            lib.eq(c.request(), "action=defer_if_permit Before", "before the reload")
            d.write_conf({"GREYLIST_REJECTION": '"After"', "BINDSOCKET": moved,
                          "BINDSOCKET_MODE": "0600"})
            d.signal(signal.SIGHUP)
            lib.ok(d.wait_for("reloaded configuration"), d.output())
            lib.eq(c.request({"recipient": "x@example.org"}), "action=defer_if_permit After",
                   "the open connection is kept and gets the new configuration")
        st = os.lstat(path)
        lib.eq((st.st_ino, oct(stat.S_IMODE(st.st_mode))), (inode, oct(0o660)),
               "the same socket, its mode unchanged (listener settings need a restart)")
        lib.ok(not os.path.exists(moved), "no socket at the new path before a restart")
        with d.connect_unix(path) as c:
            lib.eq(c.request({"recipient": "y@example.org"}), "action=defer_if_permit After",
                   "new connections after the reload")
        lib.eq(d.stop(), 0, "exit status")
    lib.ok(not os.path.exists(path), "removed at exit after the reload")


def test_bad_values_are_refused_naming_key_value_and_range():
    cases = [
        ({"BINDSOCKET": "relative/policyd.sock"}, "BINDSOCKET: 'relative/policyd.sock' is not an absolute path"),
        ({"BINDSOCKET": "/run/" + "x" * 110}, "BINDSOCKET: the path has 115 bytes; a socket path has at most 107"),
        ({"BINDSOCKET": "/run/a b"}, "BINDSOCKET: '/run/a b': a path without spaces is required"),
        ({"BINDSOCKET_MODE": "0668"}, "BINDSOCKET_MODE: '0668' is not an octal file mode: use 0000..0777"),
        ({"BINDSOCKET_MODE": "rw"}, "BINDSOCKET_MODE: 'rw' is not an octal file mode"),
        ({"BINDSOCKET_MODE": "01777"}, "BINDSOCKET_MODE: 01777 is out of range: use 0000..0777"),
    ]
    for overrides, message in cases:
        d = lib.Daemon(overrides, start=False)
        status, out = lib.run_policyd(["-t", "-c", d.conf_path])
        lib.eq(status, 1, "policyd -t with %r; output:\n%s" % (overrides, out))
        lib.ok(message in out, "%r: expected %r in:\n%s" % (overrides, message, out))
    d = lib.Daemon({"BINDSOCKET": "/run/policyd.sock # the comment", "BINDSOCKET_MODE": "0440"},
                   start=False)
    status, out = lib.run_policyd(["-t", "-c", d.conf_path])
    lib.eq(status, 0, "a trailing comment is fine; output:\n" + out)
    lib.ok("BINDSOCKET_MODE: 0440 lets no one but root connect" in out, out)
