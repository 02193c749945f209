#!/usr/bin/env python3
"""tests/conformance/run.py - run the recorded reference scenarios against our policyd.

Usage (from the repo root):
  tests/conformance/run.py --mysql-socket work/mariadb/mysqld.sock --mysql-port 13306 \
      [--start './src/policyd -c {conf}'] [--port 0] [--db policyd_conformance] \
      [--keep-going] [--verbose] [-k TEXT] [--check] [paths...]

Paths are scenario files or directories (default tests/conformance/scenarios).  The scenario
format is described in /work/shared/conformance/README.md; in short, for every scenario:

  1. the database --db is dropped and recreated from --schema (CREATE DATABASE / USE lines
     ignored, TYPE= read as ENGINE=) and the scenario's sql_setup statements are run;
  2. a complete policyd.conf is written: the reference's shipped keys in the shipped order with
     the shipped values, then the harness values (DEBUG=0, DAEMON=0, BINDHOST, BINDPORT, PIDFILE,
     CHROOT=/, UID/GID, MYSQL*), then the scenario's "config" replaces values in place (null
     removes a key, unknown keys are appended);
  3. the daemon is started from --start ({conf}, {port}, {db}, {workdir} substituted), the port
     is polled every 20 ms, the steps run, the daemon is stopped (SIGTERM, SIGKILL after 3 s).

Output: "PASS name" or "FAIL name: step N expected X got Y" per scenario (step 0 = start-up or
harness trouble) and a last line "N passed, M failed".  Exit status 0 only when all passed.

SQL goes through the mariadb/mysql command line client.  The harness's own SQL (drop/create,
setup, checks) uses --admin-user (default: root over --mysql-socket, else --mysql-user); the
daemon is given --mysql-user/--mysql-password on 127.0.0.1:--mysql-port.  Our daemon never uses
INSERT DELAYED, so there is nothing to wait for between a reply and the next step.

--check only loads and validates every scenario file (no database, no daemon).
Python 3 standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The reference's shipped policyd.conf: every key, in its order, with its value.  Order matters
# because some values are composed while the file is read (BLACKLIST_REJECTION takes its action
# from the BLACKLIST_TEMP_REJECT line above it), so overrides replace values in place.
REFERENCE_CONF = """\
MYSQLHOST="127.0.0.1"
MYSQLDBASE="policyd"
MYSQLUSER="postfix"
MYSQLPASS="p0stf1x"
MYSQLOPT=""
FAILSAFE=1
DATABASE_KEEPALIVE=0
DEBUG=3
DAEMON=0
BINDHOST=127.0.0.1
BINDPORT=10031
PIDFILE=/var/run/policyd.pid
SYSLOG_FACILITY="LOG_MAIL | LOG_INFO"
CHROOT=/
UID=0
GID=0
CONN_ACL="::1 127.0.0.1 192.168.0.0/24"
WHITELISTING=1
WHITELISTNULL=0
WHITELISTSENDER=0
WHITELISTDNSNAME=0
AUTO_WHITE_LISTING=0
AUTO_WHITELIST_NUMBER=500
AUTO_WHITELIST_NETBLOCK=0
AUTO_WHITELIST_EXPIRE=7d
BLACKLISTING=0
BLACKLISTDNSNAME=0
BLACKLIST_TEMP_REJECT=1
BLACKLIST_NETBLOCK=0
BLACKLIST_REJECTION="Policyd Rejection: Abuse. Go away."
AUTO_BLACK_LISTING=0
AUTO_BLACKLIST_NUMBER=500
AUTO_BLACKLIST_EXPIRE=7d
RCPT_ACL=0
BLACKLIST_HELO=0
BLACKLIST_HELO_AUTO_EXPIRE=0
BLACKLISTSENDER=0
HELO_CHECK=0
HELO_MAX_COUNT=10
HELO_BLACKLIST_AUTO_EXPIRE=14d
HELO_AUTO_EXPIRE=7d
SPAMTRAPPING=0
SPAMTRAP_REJECTION="Policy rejection: Abuse. Go away."
SPAMTRAP_AUTO_EXPIRE=7d
GREYLISTING=1
GREYLIST_REJECTION="Policy rejection: Please try later."
GREYLIST_X_HEADER=0
GREYLIST_HOSTADDR=3
TRAINING_MODE=0
TRAINING_POLICY_TIMEOUT=0
TRIPLET_TIME=4m
OPTINOUT=0
OPTINOUTALL=0
TRIPLET_AUTH_TIMEOUT=30d
TRIPLET_UNAUTH_TIMEOUT=2d
SENDERTHROTTLE=0
SENDER_THROTTLE_ENVELOPE=0
SENDER_THROTTLE_SASL=0
SENDER_THROTTLE_HOST=1
QUOTA_EXCEEDED_TEMP_REJECT=1
SENDER_QUOTA_REJECTION="Policy rejection: Quota Exceeded."
SENDER_SIZE_REJECTION="Policy rejection: Message size too big."
SENDERMSGLIMIT=512
SENDERRCPTLIMIT=3600
SENDERQUOTALIMIT=250000000
SENDERTIMELIMIT=1h
SENDERMSGSIZE=10240000
SENDERMSGSIZE_WARN=50
SENDERMSGSIZE_PANIC=90
SENDER_INACTIVE_EXPIRE=31d
SENDER_THROTTLE_AUTOBLACKLIST=0
SENDER_THROTTLE_AUTOBLACKLIST_NUMBER=3
SENDER_THROTTLE_AUTOBLACKLIST_EXPIRE=6h
RECIPIENTTHROTTLE=0
RECIPIENTMSGLIMIT=64
RECIPIENTTIMELIMIT=1h
RECIPIENT_QUOTA_REJECTION="Policy rejection: Quota Exceeded."
RECIPIENT_INACTIVE_EXPIRE=31d
"""

# The default request, in this order; scenario "defaults" then the step's "request" are laid
# over it (a key keeps its position, new keys are appended, null drops the attribute).
DEFAULT_REQUEST = """\
request=smtpd_access_policy
protocol_state=RCPT
protocol_name=ESMTP
client_address=192.0.2.10
client_name=mail.example.com
helo_name=mail.example.com
sender=alice@example.com
recipient=bob@example.org
instance=1a2b.3c4d5e6f.0
size=0
"""

CLOSED = "<closed>"
TIMEOUT = "<timeout>"
POLL = 0.02  # seconds between port probes
REQUEST_STEP_KEYS = {"request", "pipeline", "raw"}
STEP_OPTIONS = {"expect", "new_connection", "conn", "half_close", "timeout", "close_after"}


class Trouble(Exception):
    """The scenario could not be run as written (SQL error, bad file, busy port...)."""


def parse_pairs(text):
    """'KEY=value' lines -> list of [key, value] (first '=' splits)."""
    return [line.split("=", 1) for line in text.splitlines() if line]


def as_text(value):
    """JSON scalar -> the text a config line or request attribute carries."""
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def overlay(pairs, layer):
    """Replace values of existing keys in place, append new keys, drop keys set to None."""
    index = {k: i for i, (k, _v) in enumerate(pairs)}
    for key, value in (layer or {}).items():
        if key in index:
            pairs[index[key]][1] = value
        else:
            index[key] = len(pairs)
            pairs.append([key, value])
    return [(k, as_text(v)) for k, v in pairs if v is not None]


def policyd_conf(opts, workdir, overrides):
    pairs = parse_pairs(REFERENCE_CONF)
    harness = {
        "MYSQLHOST": '"%s"' % opts.mysql_host,
        "MYSQLDBASE": '"%s"' % opts.db,
        "MYSQLUSER": '"%s"' % opts.mysql_user,
        "MYSQLPASS": '"%s"' % opts.mysql_password,
        "DEBUG": "0",
        "DAEMON": "0",
        "BINDHOST": "127.0.0.1",
        "BINDPORT": str(opts.port),
        "PIDFILE": os.path.join(workdir, "policyd.pid"),
        "CHROOT": "/",
        "UID": str(os.getuid()),
        "GID": str(os.getgid()),
    }
    pairs = [[k, harness.get(k, v)] for k, v in pairs]
    # MYSQLPORT is read by the reference but absent from its shipped file: right after MYSQLOPT
    at = [k for k, _v in pairs].index("MYSQLOPT") + 1
    pairs.insert(at, ["MYSQLPORT", str(opts.mysql_port)])
    return "".join("%s=%s\n" % kv for kv in overlay(pairs, overrides))


def request_bytes(defaults, request):
    pairs = overlay(parse_pairs(DEFAULT_REQUEST), defaults)
    pairs = overlay([list(p) for p in pairs], request)
    return ("".join("%s=%s\n" % kv for kv in pairs) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# SQL through the command line client
# ---------------------------------------------------------------------------------------------
class Database:
    def __init__(self, opts):
        self.client = opts.mysql_client or shutil.which("mariadb") or shutil.which("mysql")
        if not self.client:
            raise Trouble("no mariadb/mysql command line client found")
        self.db = opts.db
        if not re.match(r"^[A-Za-z0-9_]+$", self.db):
            raise Trouble("refusing database name %r" % self.db)
        user = opts.admin_user or ("root" if opts.mysql_socket else opts.mysql_user)
        password = opts.admin_password
        if password is None:
            password = "" if (opts.mysql_socket and user == "root") else opts.mysql_password
        self.base = [self.client, "--no-defaults", "--batch", "--raw", "--skip-column-names",
                     "--user=" + user]
        if opts.mysql_socket:
            self.base += ["--protocol=socket", "--socket=" + opts.mysql_socket]
        else:
            self.base += ["--protocol=tcp", "--host=" + opts.mysql_host,
                          "--port=%d" % opts.mysql_port]
        self.env = dict(os.environ, MYSQL_PWD=password)
        self.admin_is_daemon_user = (user == opts.mysql_user)
        self.opts = opts
        with open(opts.schema, encoding="utf-8", errors="replace") as f:
            self.schema = self.adapt_schema(f.read())

    @staticmethod
    def adapt_schema(text):
        kept = [line for line in text.split("\n")
                if not re.match(r"^\s*(CREATE\s+DATABASE\b|USE\s)", line, re.I)]
        return re.sub(r"\bTYPE\s*=", "ENGINE=", "\n".join(kept), flags=re.I)

    def run(self, statement=None, script=None, use_db=True):
        """Run one statement (or a script on stdin); return rows as lists of str/None."""
        cmd = list(self.base)
        if use_db:
            cmd.append(self.db)
        if statement is not None:
            cmd += ["-e", statement]
        p = subprocess.run(cmd, input=(script or "").encode("utf-8"), env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0:
            what = statement if statement is not None else "<script>"
            raise Trouble("SQL error: %s [%s]" % (
                p.stderr.decode("utf-8", "replace").strip(), what[:200]))
        lines = p.stdout.decode("utf-8", "replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [[None if c == "NULL" else c for c in line.split("\t")] for line in lines]

    def grant_daemon_user(self):
        """Let the daemon's user use --db (grants survive DROP DATABASE: done once)."""
        if self.admin_is_daemon_user:
            return
        stmts = []
        for host in ("127.0.0.1", "localhost"):
            stmts.append("CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s';" % (
                self.opts.mysql_user, host, self.opts.mysql_password))
            stmts.append("GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s';" % (
                self.db, self.opts.mysql_user, host))
        self.run(script="\n".join(stmts), use_db=False)

    def recreate(self, setup):
        """Drop and recreate the database from the schema, then run the setup statements."""
        self.run(script="DROP DATABASE IF EXISTS `{0}`;\nCREATE DATABASE `{0}`;\nUSE `{0}`;\n{1}\n"
                 .format(self.db, self.schema), use_db=False)
        for statement in setup or []:
            self.run(statement)


# ---------------------------------------------------------------------------------------------
# Policy protocol connections
# ---------------------------------------------------------------------------------------------
class Connection:
    """A policy connection to 127.0.0.1:port, or to the Unix-domain socket `unix_path`."""

    def __init__(self, port, timeout, source=None, unix_path=None):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(unix_path)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                                 source_address=(source, 0) if source else None)
        self.pending = b""
        self.dead = False

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.dead = True

    def shut_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def reply(self, timeout):
        """One reply: the lines before an empty line, joined by newline; or CLOSED / TIMEOUT.
        Bytes before a close that never became a full reply are shown after CLOSED."""
        deadline = time.monotonic() + timeout
        while b"\n\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                self.dead = True
                return TIMEOUT
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                self.dead = True
                return TIMEOUT
            except OSError:
                data = b""
            if not data:
                self.dead = True
                rest = self.pending.decode("utf-8", "replace").strip("\n")
                self.pending = b""
                return CLOSED + (" " + rest if rest.strip() else "")
            self.pending += data
        text, self.pending = self.pending.split(b"\n\n", 1)
        return text.decode("utf-8", "replace")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def port_accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# The daemon
# ---------------------------------------------------------------------------------------------
class Daemon:
    def __init__(self, opts, workdir, conf):
        command = (opts.start.replace("{conf}", conf).replace("{port}", str(opts.port))
                   .replace("{db}", opts.db).replace("{workdir}", workdir))
        self.port = opts.port
        self.log_path = os.path.join(workdir, "daemon.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["/bin/sh", "-c", "exec " + command], cwd=REPO,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait_listening(self, limit):
        """None once the port accepts; otherwise why not."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            status = self.proc.poll()
            if status is not None:
                return "daemon exited with status %d before accepting connections" % status
            if port_accepts(self.port):
                return None
            time.sleep(POLL)
        return "daemon did not accept connections within %gs" % limit

    def _signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)  # its own session: the daemon and any children
        except OSError:
            pass

    def stop(self):
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(timeout=5)
        else:
            self._signal(signal.SIGKILL)  # leftovers of an exited shell, if any
        self.log.close()

    def output(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()[-lines:]
        except OSError:
            return []


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
def validate(scenario):
    """Raise Trouble if the scenario uses something this runner does not know."""
    if not isinstance(scenario, dict) or not isinstance(scenario.get("steps", []), list):
        raise Trouble("not a scenario object with a steps list")
    for n, step in enumerate(scenario.get("steps", []), 1):
        kinds = [k for k in ("request", "pipeline", "raw", "sql", "expect_sql", "sleep") if k in step]
        if len(kinds) != 1:
            raise Trouble("step %d: expected exactly one step type, got %s" % (n, kinds or "none"))
        kind = kinds[0]
        allowed = {kind} | (STEP_OPTIONS if kind in REQUEST_STEP_KEYS else set())
        if kind == "expect_sql":
            allowed.add("rows")
        extra = set(step) - allowed
        if extra:
            raise Trouble("step %d: unknown keys %s" % (n, sorted(extra)))
        if kind in ("request", "pipeline") and "expect" not in step:
            raise Trouble("step %d: %s without expect" % (n, kind))
        if kind == "pipeline" and (not isinstance(step["expect"], list)
                                   or len(step["expect"]) != len(step["pipeline"])):
            raise Trouble("step %d: pipeline needs one expected reply per request" % n)
        if kind == "expect_sql" and not isinstance(step.get("rows"), list):
            raise Trouble("step %d: expect_sql without rows" % n)
    if scenario.get("startup") not in (None, "fails"):
        raise Trouble("unknown startup value %r" % scenario.get("startup"))


def expected_rows(rows):
    return [[None if c is None else as_text(c) for c in row] for row in rows]


class Run:
    """One scenario: its database, daemon and connections."""

    def __init__(self, opts, db, scenario):
        self.opts, self.db, self.scenario = opts, db, scenario
        self.connections = {}
        self.failures = []  # (step number, expected, got)
        self.daemon = None

    def connection(self, step):
        name = step.get("conn", "main")
        conn = self.connections.get(name)
        if conn is not None and (step.get("new_connection") or conn.dead):
            conn.close()
            conn = None
        if conn is None:
            conn = self.connections[name] = Connection(self.opts.port, self.opts.timeout)
        return conn

    def request_step(self, n, step):
        defaults = self.scenario.get("defaults") or {}
        conn = self.connection(step)
        if "pipeline" in step:
            data = b"".join(request_bytes(defaults, r) for r in step["pipeline"])
            count = len(step["pipeline"])
        elif "raw" in step:
            data = step["raw"].encode("utf-8")
            count = 1 if "expect" in step else 0
        else:
            data = request_bytes(defaults, step["request"])
            count = 1
        conn.send(data)
        if step.get("half_close"):
            conn.shut_write()
        timeout = float(step.get("timeout", self.opts.timeout))
        got = []
        while len(got) < count:
            got.append(conn.reply(timeout))
            if got[-1] == TIMEOUT or got[-1].startswith(CLOSED):
                break
        if step.get("close_after"):
            conn.close()
            self.connections.pop(step.get("conn", "main"), None)
        if count == 0:
            return
        if "pipeline" in step:
            filler = CLOSED if got[-1].startswith(CLOSED) else TIMEOUT
            actual = got + [filler] * (count - len(got))
        else:
            actual = got[0]
        if actual != step["expect"]:
            self.failures.append((n, step["expect"], actual))

    def sql_check(self, n, step):
        try:
            actual = self.db.run(step["expect_sql"])
        except Trouble as e:
            actual = [["<error> %s" % e]]
        if actual != expected_rows(step["rows"]):
            self.failures.append((n, step["rows"], actual))

    def execute(self, workdir):
        self.db.recreate(self.scenario.get("sql_setup"))
        conf = os.path.join(workdir, "policyd.conf")
        with open(conf, "w") as f:
            f.write(policyd_conf(self.opts, workdir, self.scenario.get("config")))
        deadline = time.monotonic() + 5
        while port_accepts(self.opts.port):  # e.g. the previous daemon still closing
            if time.monotonic() > deadline:
                raise Trouble("port %d is in use by another process" % self.opts.port)
            time.sleep(POLL)

        self.daemon = Daemon(self.opts, workdir, conf)
        why = self.daemon.wait_listening(self.opts.start_timeout)
        if self.scenario.get("startup") == "fails":
            status = self.daemon.proc.poll()
            if why is None:
                self.failures.append((0, "daemon refuses to start", "daemon accepted connections"))
            elif status is None:
                self.failures.append((0, "daemon refuses to start", why))
            elif status == 0:
                self.failures.append((0, "non-zero exit status", "exit status 0"))
            return
        if why is not None:
            self.failures.append((0, "daemon starts", why))
            return

        for n, step in enumerate(self.scenario.get("steps", []), 1):
            if REQUEST_STEP_KEYS & set(step):
                self.request_step(n, step)
            elif "sql" in step:
                self.db.run(step["sql"])
            elif "expect_sql" in step:
                self.sql_check(n, step)
            else:
                time.sleep(float(step["sleep"]))

    def close(self):
        for conn in self.connections.values():
            conn.close()
        if self.daemon is not None:
            self.daemon.stop()


def collect(paths):
    files = set()
    for path in paths:
        if os.path.isdir(path):
            for root, _dirs, names in os.walk(path):
                files.update(os.path.join(root, n) for n in names if n.endswith(".json"))
        elif os.path.exists(path):
            files.add(path)
        else:
            raise SystemExit("run.py: no such file or directory: %s" % path)
    return sorted(files, key=lambda f: (os.path.basename(f), f))


def load(path):
    with open(path, encoding="utf-8") as f:
        scenario = json.load(f)
    validate(scenario)
    return scenario


def show(value):
    return json.dumps(value, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser(description="policyd conformance runner",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--start", default="./src/policyd -c {conf}",
                    help="daemon command template, run in the repo root (default: %(default)s)")
    ap.add_argument("--port", type=int, default=0,
                    help="policy port given as BINDPORT (default: a free port)")
    ap.add_argument("--db", default="policyd_conformance",
                    help="database dropped and recreated for every scenario (default: %(default)s)")
    ap.add_argument("--schema", default=os.path.join(REPO, "DATABASE.mysql"))
    ap.add_argument("--mysql-socket", help="server socket for the runner's own SQL (as root)")
    ap.add_argument("--mysql-host", default="127.0.0.1", help="MYSQLHOST for the daemon")
    ap.add_argument("--mysql-port", type=int, default=13306, help="MYSQLPORT for the daemon")
    ap.add_argument("--mysql-user", default="postfix")
    ap.add_argument("--mysql-password", default="p0stf1x")
    ap.add_argument("--admin-user", help="user for the runner's SQL (default: root with "
                    "--mysql-socket, else --mysql-user)")
    ap.add_argument("--admin-password")
    ap.add_argument("--mysql-client", help="mariadb/mysql client binary")
    ap.add_argument("--keep-going", action="store_true", help="do not stop at the first failure")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="every failing step and the daemon's output of failed scenarios")
    ap.add_argument("-k", dest="filter", help="only scenarios whose name contains this text")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a reply")
    ap.add_argument("--start-timeout", type=float, default=15.0,
                    help="seconds to wait for the daemon to listen")
    ap.add_argument("--keep-temp", action="store_true", help="keep each scenario's conf and log")
    ap.add_argument("--check", action="store_true",
                    help="only load and validate the scenario files")
    ap.add_argument("paths", nargs="*")
    opts = ap.parse_args()

    files = collect(opts.paths or [os.path.join(REPO, "tests", "conformance", "scenarios")])
    if opts.port == 0:
        opts.port = free_port()
    passed = failed = 0
    db = None
    for path in files:
        stem = os.path.splitext(os.path.basename(path))[0]
        if opts.filter and opts.filter not in stem:
            continue
        try:
            scenario = load(path)
        except (OSError, ValueError, Trouble) as e:
            print("FAIL %s: step 0 expected a valid scenario file got %s" % (stem, e), flush=True)
            failed += 1
            if not opts.keep_going:
                break
            continue
        name = scenario.get("name") or stem
        if opts.filter and opts.filter not in name:
            continue
        if opts.check:
            passed += 1
            print("OK %s (%d steps)" % (name, len(scenario.get("steps", []))), flush=True)
            continue

        workdir = tempfile.mkdtemp(prefix="policyd-conformance-")
        run = None
        try:
            if db is None:
                db = Database(opts)
                db.grant_daemon_user()
            run = Run(opts, db, scenario)
            run.execute(workdir)
            failures = run.failures
        except (Trouble, OSError, subprocess.SubprocessError) as e:
            failures = [(0, "the scenario runs", "%s: %s" % (type(e).__name__, e))]
        finally:
            if run is not None:
                run.close()

        if failures:
            failed += 1
            n, expected, got = failures[0]
            print("FAIL %s: step %d expected %s got %s" % (name, n, show(expected), show(got)),
                  flush=True)
            if opts.verbose:
                for n, expected, got in failures[1:]:
                    print("     also step %d expected %s got %s" % (n, show(expected), show(got)))
                if run is not None and run.daemon is not None:
                    print("     --- daemon output (last lines) ---")
                    for line in run.daemon.output():
                        print("     | " + line)
        else:
            passed += 1
            print("PASS %s" % name, flush=True)
        if opts.keep_temp:
            print("     (kept %s)" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        if failures and not opts.keep_going:
            break

    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    main()
