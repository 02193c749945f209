#!/usr/bin/env python3
"""scripts/bench_compare.py - the tables of scripts/bench-compare.sh from its runs' JSON.

Usage: bench_compare.py RUNS_DIR SUMMARY_JSON [--baseline-label L] [--flushes "1 2"]
                        [--mixes "new retry ..."] [--rounds N] [--markdown]

RUNS_DIR holds one policyd-bench JSON per run, named FLUSH.MIX.SERVER.ROUND.json (the seeding
runs, .seed1/.seed2.json, are not read). For every flush setting and mix it prints one row per
server: requests/s (median over the rounds), policyd's requests/s over the server's within each
round (median, and the range when there are several rounds), MariaDB Questions per request,
mariadbd CPU microseconds per request and policyd's over the server's (within each round; only
for servers that send statements), the server process's own CPU per request, and the replies by
verdict (policyd-bench's classes, summed over the rounds). A round missing a server's run leaves
that round out of its ratios. SUMMARY_JSON gets the same figures as one object. --markdown
prints the tables as Markdown (for docs/PERFORMANCE.md), e.g. again from a finished run's
BUILDDIR/work/bench-compare/runs.
"""

import argparse
import json
import os
import re
import statistics
import sys

RUN = re.compile(r"^([0-2])\.([a-z0-9-]+)\.([a-z0-9]+)\.([0-9]+)\.json$")
VERDICTS = ("pass", "defer", "reject", "other")
# Below this many statements per request a server does not use the database: its mariadbd
# CPU is the idle server's, not a cost to compare.
USES_DATABASE = 0.5
# Servers whose watched process is not all of the server: postfwd2's master, whose pre-forked
# children do the work.
PARTIAL_CPU = {"postfwd2"}


def load_runs(directory):
    """{(flush, mix): {server: {round: report}}}, servers in the order they first ran."""
    runs = {}
    for name in sorted(os.listdir(directory), key=lambda n: os.path.getmtime(os.path.join(directory, n))):
        m = RUN.match(name)
        if not m:
            continue
        flush, mix, server, round_ = m.group(1), m.group(2), m.group(3), int(m.group(4))
        with open(os.path.join(directory, name)) as f:
            runs.setdefault((flush, mix), {}).setdefault(server, {})[round_] = json.load(f)
    return runs


def statements(report):
    db = report.get("database") or {}
    return db.get("round_trips_per_request")


def watched(report, i):
    values = report["cpu_us_per_request"]["watched"]
    return values[i] if len(values) > i else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def within_rounds(ours, theirs, value):
    """Our value over theirs in every round both ran and both values are known and positive."""
    ratios = []
    for round_, report in theirs.items():
        if round_ not in ours:
            continue
        a, b = value(ours[round_]), value(report)
        if a is not None and b:
            ratios.append(a / b)
    return ratios


def summarize(runs, ours="policyd"):
    summary = {}
    for (flush, mix), servers in runs.items():
        rows = {}
        mine = servers.get(ours, {})
        for server, by_round in servers.items():
            reports = list(by_round.values())
            stmts = median([statements(r) for r in reports])
            verdicts = {v: sum(r.get("verdicts", {}).get(v, 0) for r in reports) for v in VERDICTS}
            row = {
                "rounds": len(reports),
                "requests_per_second": median([r["requests_per_second"] for r in reports]),
                "statements_per_request": stmts,
                "mariadb_cpu_us_per_request": median([watched(r, 1) for r in reports]),
                "server_cpu_us_per_request": None if server in PARTIAL_CPU else median([watched(r, 0) for r in reports]),
                "verdicts": verdicts,
                "timeouts_errors": sum(r["requests"]["timeouts"] + r["requests"]["errors"] for r in reports),
            }
            if server != ours and mine:
                tput = within_rounds(mine, by_round, lambda r: r["requests_per_second"])
                row["throughput_ratio"] = median(tput)
                row["throughput_ratio_range"] = [min(tput), max(tput)] if tput else None
                if stmts is not None and stmts >= USES_DATABASE:
                    cpu = within_rounds(mine, by_round, lambda r: watched(r, 1))
                    row["mariadb_cpu_ratio"] = median(cpu)
                    row["mariadb_cpu_ratio_range"] = [min(cpu), max(cpu)] if cpu else None
            rows[server] = row
        summary.setdefault(flush, {})[mix] = rows
    return summary


def fmt(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def ratio_text(row, key):
    value, span = row.get(key), row.get(key + "_range")
    if value is None:
        return "-"
    text = "%.2f" % value
    if span and span[1] - span[0] > 0.005:
        text += " [%.2f-%.2f]" % tuple(span)
    return text


def verdict_text(verdicts):
    total = sum(verdicts.values())
    if not total:
        return "no replies"
    return ", ".join("%s %.0f%%" % (v, 100.0 * n / total) for v, n in verdicts.items() if n)


COLUMNS = ("mix", "server", "req/s", "policyd/it", "stmt/req", "db us/req", "db cpu policyd/it",
           "srv us/req", "verdicts")
TEXT_ROW = "%-12s %-18s %8s %-20s %8s %9s %-20s %10s  %s"
LEGEND = ("policyd/it: this build's figure over that server's, within each round (median"
          " [range]); for db cpu, mariadbd CPU per request (below 1: this build costs the"
          " database less). stmt/req = MariaDB Questions per request; db and srv us/req ="
          " mariadbd's and the server process's CPU microseconds per request.")


def cells(mix, server, row, labels):
    ours = server == "policyd"
    return (mix, labels.get(server, server), fmt(row["requests_per_second"], ".0f"),
            "" if ours else ratio_text(row, "throughput_ratio"),
            fmt(row["statements_per_request"], ".2f"), fmt(row["mariadb_cpu_us_per_request"], ".1f"),
            "" if ours else ratio_text(row, "mariadb_cpu_ratio"),
            fmt(row["server_cpu_us_per_request"], ".1f"),
            verdict_text(row["verdicts"]) +
            ("  (%d timeouts/errors)" % row["timeouts_errors"] if row["timeouts_errors"] else ""))


def print_tables(summary, labels, flushes, mixes, markdown=False, out=sys.stdout):
    """One table per flush setting: text, or Markdown for docs/PERFORMANCE.md."""
    for flush in flushes:
        if flush not in summary:
            continue
        print("innodb_flush_log_at_trx_commit=%s" % flush, file=out)
        if markdown:
            print("\n| " + " | ".join(COLUMNS) + " |\n" + "|---" * len(COLUMNS) + "|", file=out)
        else:
            print(TEXT_ROW % COLUMNS, file=out)
        for mix in mixes:
            rows = summary[flush].get(mix, {})
            # this build, the baseline, then the peers in the order they first ran
            for server in sorted(rows, key=lambda name: (name != "policyd", name != "baseline")):
                c = cells(mix, server, rows[server], labels)
                print("| " + " | ".join(c) + " |" if markdown else TEXT_ROW % c, file=out)
        print(file=out)
    print(LEGEND, file=out)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs")
    p.add_argument("summary")
    p.add_argument("--baseline-label", default="")
    p.add_argument("--flushes", default="1 2")
    p.add_argument("--mixes", default="new retry throttled all-modules")
    p.add_argument("--rounds", type=int, default=0)
    p.add_argument("--markdown", action="store_true", help="Markdown tables instead of text")
    a = p.parse_args(argv)
    summary = summarize(load_runs(a.runs))
    labels = {"policyd": "policyd", "baseline": "baseline " + a.baseline_label}
    with open(a.summary, "w") as f:
        json.dump({"baseline": a.baseline_label, "rounds": a.rounds, "flush": summary}, f, indent=1)
    print_tables(summary, labels, a.flushes.split(), a.mixes.split(), a.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
