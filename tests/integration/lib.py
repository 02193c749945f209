"""tests/integration/lib.py - a small framework for behaviour tests of the policyd daemon.

Tests are plain functions named test_* in tests/integration/test_*.py, run by
tests/integration/run.py, which calls configure() once and reset_db() before every test.
A test fails by raising (assert, or lib.Failure).

    import lib

    def test_example():
        lib.sql("INSERT INTO whitelist (_whitelist,_description,_expire) VALUES ('192.0.2.10','',0)")
        with lib.Daemon({"GREYLISTING": 1}) as d:          # config overrides, in place
            lib.eq(d.request(), "action=dunno")            # default request on one connection
            c = d.connect()                                # another connection
            c.send(lib.request_bytes({"recipient": "x@example.org"}, crlf=True))
            lib.eq(c.reply(), lib.GREY_DEFER)
        # leaving the block sends SIGTERM (SIGKILL after 5 s)

Every daemon gets a free port, a complete policyd.conf (the reference's shipped keys and
values, DEBUG=0, DAEMON=0, BINDHOST=127.0.0.1, the private MariaDB) in its own temporary
directory, and its stdout/stderr captured in a log file (Daemon.output()).
Python 3 standard library only; SQL through the mariadb client as in the conformance runner.
"""

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
POLICYD = os.environ.get("POLICYD", os.path.join(REPO, "src", "policyd"))

# the conformance runner owns the reference configuration, request defaults and SQL helper
_spec = importlib.util.spec_from_file_location(
    "conformance_run", os.path.join(REPO, "tests", "conformance", "run.py"))
conformance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conformance)

CLOSED = conformance.CLOSED
TIMEOUT = conformance.TIMEOUT
GREY_DEFER = "action=defer_if_permit Policy rejection: Please try later."

_settings = None    # set by configure()
_database = None
_daemons = []       # every Daemon started by the current test


class Failure(AssertionError):
    pass


def eq(got, expected, what="value"):
    if got != expected:
        raise Failure("%s: expected %r got %r" % (what, expected, got))


def ok(condition, message):
    if not condition:
        raise Failure(message)


def configure(mysql_socket=None, mysql_port=13306, db="policyd_integration",
              mysql_host="127.0.0.1", mysql_user="postfix", mysql_password="p0stf1x"):
    """Where the private MariaDB is (called once by run.py)."""
    global _settings, _database
    _settings = types.SimpleNamespace(
        mysql_socket=mysql_socket, mysql_port=mysql_port, db=db, mysql_host=mysql_host,
        mysql_user=mysql_user, mysql_password=mysql_password, admin_user=None,
        admin_password=None, mysql_client=None, schema=os.path.join(REPO, "DATABASE.mysql"),
        port=0)
    _database = conformance.Database(_settings)
    _database.grant_daemon_user()


def reset_db(setup=()):
    """Drop and recreate the test database from DATABASE.mysql, then run setup statements."""
    _database.recreate(list(setup))


def sql(statement):
    """Run SQL in the test database; rows as lists of str (None for NULL)."""
    return _database.run(statement)


@contextlib.contextmanager
def row_locked(table, where):
    """Another client holds SELECT ... FOR UPDATE on the rows until the block ends."""
    db = _database
    proc = subprocess.Popen(db.base + ["--unbuffered", db.db], env=db.env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        proc.stdin.write(("BEGIN; SELECT COUNT(*) FROM %s WHERE %s FOR UPDATE; SELECT 'locked';\n"
                          % (table, where)).encode())
        proc.stdin.flush()
        while True:
            line = proc.stdout.readline()
            ok(line, "the locking client ended early")
            if line.strip() == b"locked":
                break
        yield
    finally:
        proc.stdin.close()  # end of the session: its transaction rolls back
        proc.wait(timeout=30)


def lock_waiters(limit=10.0, count=1):
    """The connection ids of the transactions waiting for a row lock, once there are `count`."""
    deadline = time.monotonic() + limit
    while True:
        ids = [row[0] for row in sql("SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX "
                                     "WHERE trx_state='LOCK WAIT'")]
        if len(ids) >= count:
            return ids
        ok(time.monotonic() < deadline, "not %d waiting for a row lock within %gs" % (count, limit))
        # InnoDB refreshes INNODB_TRX only when nobody has read it for 0.1 s
        time.sleep(0.15)


def request_bytes(attrs=None, crlf=False):
    """The default request with attrs laid over it (None drops a key), as wire bytes."""
    data = conformance.request_bytes({}, attrs or {})
    return data.replace(b"\n", b"\r\n") if crlf else data


def free_port():
    return conformance.free_port()


class Client:
    """One policy protocol connection: TCP to 127.0.0.1:port, or to the socket unix_path."""

    def __init__(self, port, source=None, timeout=5.0, unix_path=None):
        self.timeout = timeout
        self._conn = conformance.Connection(port, timeout, source, unix_path)

    def send(self, data):
        self._conn.send(data)

    def shut_write(self):
        self._conn.shut_write()

    def reply(self, timeout=None):
        """Text up to the empty line (lines joined by newline), CLOSED or TIMEOUT."""
        return self._conn.reply(self.timeout if timeout is None else timeout)

    def request(self, attrs=None, crlf=False, timeout=None):
        self.send(request_bytes(attrs, crlf))
        return self.reply(timeout)

    def close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Daemon:
    """src/policyd -c <generated conf> in the foreground; a context manager."""

    def __init__(self, overrides=None, extra_args=(), start=True):
        if _settings is None:
            raise Failure("lib.configure() was not called")
        self.overrides = dict(overrides or {})
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="policyd-it-")
        self.conf_path = os.path.join(self.workdir, "policyd.conf")
        self.log_path = os.path.join(self.workdir, "daemon.log")
        self.proc = None
        self._client = None
        self.write_conf()
        _daemons.append(self)
        if start:
            self.start()

    def conf_text(self, overrides=None):
        opts = types.SimpleNamespace(**vars(_settings))
        opts.port = self.port
        return conformance.policyd_conf(opts, self.workdir, overrides or {})

    def write_conf(self, overrides=None):
        """(Re)write the config file; overrides are merged into the ones given at creation."""
        self.overrides.update(overrides or {})
        with open(self.conf_path, "w") as f:
            f.write(self.conf_text(self.overrides))

    def start(self, wait=True, limit=15.0):
        if not os.access(POLICYD, os.X_OK):
            raise Failure("daemon binary %s not found (not built?)" % POLICYD)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([POLICYD, *self.extra_args, "-c", self.conf_path],
                                     cwd=REPO, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        if wait:
            self.wait_listening(limit)
        return self

    def wait_listening(self, limit=15.0):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure("daemon exited with status %d before listening:\n%s"
                              % (self.proc.returncode, self.output()))
            if conformance.port_accepts(self.port):
                return
            time.sleep(conformance.POLL)
        raise Failure("daemon did not listen on port %d within %gs" % (self.port, limit))

    def connect(self, source=None, timeout=5.0):
        return Client(self.port, source=source, timeout=timeout)

    def connect_unix(self, path, timeout=5.0):
        """A connection to the daemon's BINDSOCKET `path`."""
        return Client(None, timeout=timeout, unix_path=path)

    def request(self, attrs=None, crlf=False, timeout=5.0):
        """Send one request on this daemon's shared connection and return the reply."""
        if self._client is None or self._client._conn.dead:
            self._client = self.connect(timeout=timeout)
        return self._client.request(attrs, crlf, timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10.0):
        """Exit status, or None if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=5.0):
        """SIGTERM, SIGKILL after timeout; returns the exit status."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode

    def wait_for(self, text, limit=5.0):
        """True once `text` appears in the daemon's output, False after `limit` seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            time.sleep(0.05)
        return False

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_policyd(args, timeout=15.0):
    """Run src/policyd with args to completion; returns (exit status, stdout+stderr)."""
    if not os.access(POLICYD, os.X_OK):
        raise Failure("daemon binary %s not found (not built?)" % POLICYD)
    p = subprocess.run([POLICYD, *args], cwd=REPO, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def run_tool(binary, overrides=None, args=None, timeout=60):
    """A command-line program (cleanup, stats) with `-c <a policyd.conf like the daemon's>`
    (or `args` instead); returns (exit status, stdout+stderr)."""
    if not os.access(binary, os.X_OK):
        raise Failure("binary %s not found (not built?)" % binary)
    if args is None:
        args = ["-c", Daemon(overrides, start=False).conf_path]
    p = subprocess.run([binary, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def started_daemons():
    return list(_daemons)


def cleanup():
    """Stop whatever the last test left running and remove its temporary directories."""
    while _daemons:
        d = _daemons.pop()
        try:
            d.stop()
        except Exception:  # noqa: BLE001 - best effort during cleanup
            pass
        shutil.rmtree(d.workdir, ignore_errors=True)
