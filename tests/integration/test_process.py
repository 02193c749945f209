"""tests/integration/test_process.py - signals and resource exhaustion under load.

SIGTERM while requests are in flight answers every request already sent, then exits 0.
SIGHUP under load reloads without dropping a connection; a bad file on SIGHUP keeps the running
configuration and says why. SIGHUP or SIGUSR1 sent while the daemon is still starting (the port
may already listen) never kills it, and SIGUSR1 then is answered once the daemon serves. Running out of file descriptors is survived: the daemon pauses
accepting, serves the clients it has and takes new ones once descriptors are free again.
"""

import os
import resource
import signal
import time

import lib
import load


def test_sigterm_under_load_answers_every_request_sent_and_exits_zero():
    clients, burst = 20, 50
    with lib.Daemon() as d:
        conns = [d.connect(timeout=15) for _ in range(clients)]
        for i, c in enumerate(conns):  # every connection accepted and working
            lib.eq(c.request({"recipient": "c%d@example.org" % i}), lib.GREY_DEFER)
        # the database stalls meanwhile: the requests are queued, in flight, held back by the
        # in-flight bound or still in the sockets when SIGTERM comes
        with load.stalled_database():
            for i, c in enumerate(conns):
                c.send(b"".join(lib.request_bytes({"recipient": "c%d-%d@example.org" % (i, k)})
                                for k in range(burst)))
            time.sleep(0.2)
            d.signal(signal.SIGTERM)
            time.sleep(0.3)
        replies = [[c.reply() for _ in range(burst)] + [c.reply(timeout=5)] for c in conns]
        status = d.wait(15)
        before, _, _ = d.output().partition("shutting down..")
    decided = before.count("greylist=new")
    lib.ok(decided < clients + burst, "requests were in flight at SIGTERM (%d decided)" % decided)
    answered = [sum(1 for r in got[:burst] if r == lib.GREY_DEFER) for got in replies]
    lib.eq(answered, [burst] * clients, "requests answered per client")
    for i, got in enumerate(replies):
        lib.ok(got[burst].startswith(lib.CLOSED), "client %d: then closed (%r)" % (i, got[burst]))
    lib.eq(status, 0, "exit status after SIGTERM")
    lib.eq(lib.sql("SELECT COUNT(*) FROM triplet"), [[str(clients * (burst + 1))]],
           "every request was decided")


def test_sighup_under_load_drops_no_connection():
    first, second = "action=defer_if_permit First", "action=defer_if_permit Second"
    with lib.Daemon({"GREYLIST_REJECTION": '"First"'}) as d:
        with load.Clients(d.port, clients=8, pause=0.005) as clients:
            time.sleep(0.5)
            for n in range(10):
                d.write_conf({"GREYLIST_REJECTION": '"%s"' % ("Second" if n % 2 == 0 else "First")})
                d.signal(signal.SIGHUP)
                time.sleep(0.25)
            d.write_conf({"GREYLIST_REJECTION": '"Second"'})
            d.signal(signal.SIGHUP)
            lib.ok(d.wait_for("reloaded configuration", 5), "reload logged")
            time.sleep(0.5)
            t_last = time.monotonic()
            time.sleep(0.5)
        results = clients.results
        out = d.output()
        lib.eq(d.proc.poll(), None, "daemon alive")
    lib.eq(sorted({r.reply for r in results} - {first, second}), [],
           "every reply was a policy reply (no close, no timeout)")
    lib.eq(out.count("connection from:"), 8 + 1, "no client had to reconnect")
    lib.eq(out.count("reloaded configuration"), 11, "every SIGHUP reloaded")
    lib.eq({r.reply for r in results if r.sent > t_last}, {second}, "the last file applies")
    lib.ok(len(results) > 200, "requests during the reloads: %d" % len(results))


def test_reload_names_the_keys_that_apply_only_after_a_restart():
    # A reload applies the reply texts at once; a changed database or worker count it cannot
    # apply must be named in the log, not silently ignored (the daemon goes on with the old one).
    with lib.Daemon({"WORKERS": "4"}) as d:
        lib.eq(d.request(), lib.GREY_DEFER, "answered before the reload")
        d.write_conf({"WORKERS": "7", "GREYLIST_REJECTION": '"Changed"', "MYSQLPASS": '"second-secret"'})
        d.signal(signal.SIGHUP)
        lib.ok(d.wait_for("reloaded configuration", 5), "reload logged")
        out = d.output()
        lib.ok("warning: WORKERS changed (4 -> 7): applies after a restart, the daemon goes on "
               "with the running value" in out, "the worker count is named:\n" + out)
        lib.ok("warning: MYSQLPASS changed: applies after a restart" in out,
               "the password is named:\n" + out)
        lib.ok("second-secret" not in out, "no password value in the log:\n" + out)
        lib.ok("GREYLIST_REJECTION changed" not in out, "a key the reload applies is not named")
        reply = d.request({"sender": "reload-%d@example.com" % os.getpid()})
        lib.eq(reply, "action=defer_if_permit Changed", "the reload applied the reply text")
        lib.eq(d.proc.poll(), None, "daemon alive")


def test_reload_and_stats_signals_during_start_up_do_not_kill_the_daemon():
    # The port listens (init systems and monitoring see the daemon up) before the signal handlers
    # are installed; SIGHUP and SIGUSR1 terminate by default, so until then they must be held.
    # A FIFO as PIDFILE holds start-up at that point: open() waits for a reader.
    for sig in (signal.SIGHUP, signal.SIGUSR1):
        d = lib.Daemon(start=False)
        fifo = os.path.join(d.workdir, "policyd.pid")
        os.mkfifo(fifo)
        d.write_conf({"PIDFILE": fifo})
        with d:
            d.start()  # listening, now blocked opening the pid file
            d.signal(sig)
            time.sleep(0.3)
            lib.ok(d.proc.poll() is None, "daemon killed by %s while starting (exit %s):\n%s"
                   % (sig.name, d.proc.returncode, d.output()))
            with open(fifo, "rb"):  # releases open(); the FIFO is then refused as a pid file
                lib.eq(d.proc.wait(timeout=10), 1, "exit status after the refused pid file")
            lib.ok("is not a regular file" in d.output(), "the pid file refusal is logged")


def test_bad_config_on_sighup_keeps_the_running_one_and_says_why():
    with lib.Daemon({"GREYLIST_REJECTION": '"Old text"'}) as d:
        lib.eq(d.request({"recipient": "a@example.org"}), "action=defer_if_permit Old text")
        d.write_conf({"GREYLIST_REJECTION": '"New text"', "TRIPLET_TIME": "240"})
        d.signal(signal.SIGHUP)
        lib.ok(d.wait_for("reload failed"), "the failed reload is logged")
        lib.eq(d.request({"recipient": "b@example.org"}), "action=defer_if_permit Old text",
               "the running configuration is kept")
        line = [l for l in d.output().splitlines() if "reload failed" in l][0]
        lib.ok("TRIPLET_TIME" in line and "keeping the running configuration" in line,
               "the line says why: %r" % line)
        os.unlink(d.conf_path)
        d.signal(signal.SIGHUP)
        lib.ok(d.wait_for("No such file"), "a missing file is logged too")
        lib.eq(d.request({"recipient": "c@example.org"}), "action=defer_if_permit Old text")
        d.write_conf({"GREYLIST_REJECTION": '"New text"', "TRIPLET_TIME": "4m"})
        d.signal(signal.SIGHUP)
        lib.ok(d.wait_for("reloaded configuration"), "a good file is taken again")
        lib.eq(d.request({"recipient": "d@example.org"}), "action=defer_if_permit New text")
        lib.eq(d.proc.poll(), None, "daemon alive")


def test_out_of_file_descriptors_is_survived():
    with lib.Daemon({"WORKERS": 2}) as d:
        with d.connect() as c:  # the workers' database connections are open
            lib.eq(c.request({"recipient": "first@example.org"}), lib.GREY_DEFER)
        time.sleep(0.2)
        in_use = len(os.listdir("/proc/%d/fd" % d.proc.pid))
        limit = in_use + 10
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (limit, limit))
        t0 = time.monotonic()
        conns = [d.connect(timeout=3) for _ in range(30)]
        for i, c in enumerate(conns):
            c.send(lib.request_bytes({"recipient": "fd%d@example.org" % i}))
        deadline = time.monotonic() + 3
        first = [c.reply(timeout=max(0.05, deadline - time.monotonic())) for c in conns]
        served = [c for c, r in zip(conns, first) if r == lib.GREY_DEFER]
        waiting = [c for c, r in zip(conns, first) if r == lib.TIMEOUT]
        lib.ok(5 <= len(served) <= 10, "served with %d descriptors free: %d" % (10, len(served)))
        lib.eq(len(served) + len(waiting), 30, "the others wait (replies %r)" % sorted(set(first)))
        out = d.output()
        lib.ok("Too many open files" in out, "running out of descriptors is logged")
        lib.eq(d.proc.poll(), None, "daemon alive")
        for c in served:
            c.close()
        # the waiting clients' requests are still in their sockets: they get accepted and served
        # once descriptors are free (the daemon retries accepting every second)
        later = []
        for c in waiting[:len(served) - 1]:
            later.append(c.reply(timeout=5))
        lib.eq(later, [lib.GREY_DEFER] * len(later), "waiting clients served once others closed")
        for c in conns:
            c.close()
        time.sleep(1.5)
        lib.eq(d.request({"recipient": "after@example.org"}), lib.GREY_DEFER,
               "serves again once the clients closed")
        pauses = d.output().count("pausing new connections")
        elapsed = time.monotonic() - t0
        lib.ok(pauses <= elapsed + 1, "at most one accept warning a second: %d in %.1fs"
               % (pauses, elapsed))
