#!/usr/bin/env python3
"""bench/tables.py -- make bench-tables: look-ups per second through each
table driver, as the daemon's lookup process makes them (issue 10
part 5).

    make bench-tables                  every driver, both protocols
    python3 bench/tables.py --help     drivers, sizes, repetitions

Never part of make test.  What is measured: obj/bench/tables (bench/
tables.c) drives the daemon's own table layer (smtpd/table/table.h) on a
libevent loop, so a helper is started, spoken to and timed exactly as
in smtpd: the embedded file: backend (the baseline, no helper), then
each helper in the 6.x imsg protocol (proc-NAME) and in the 7.6+ text
protocol (text-NAME), sequentially (1 in flight) and with 16 look-ups
outstanding (queued in the helper's FIFO; a helper is sent one at a
time, as both protocols require).  table-file as a helper answers from
memory, so its rows are the helper protocol's own cost; the 20-line
Python table (regress/tables/text_table.py) shows a scripted driver.
The database drivers run against private servers started by
regress/lib/servers.py (PostgreSQL, MariaDB, Redis, with the fixtures of
regress/drivers/test_table_*.py); a server that cannot start makes its
rows "not run", never a number.  Each configuration runs --reps times,
interleaved, and the median run is reported; a run with any failed
look-up is reported as failed.  The table is printed, written to
bench/results/tables.md, and (with --readme) put in README.md between
<!-- bench-tables:begin --> and <!-- bench-tables:end -->.
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
sys.path.insert(0, os.path.join(ROOT, "regress", "drivers"))
import test_table_drivers as drivers  # noqa: E402

RUN_TIMEOUT = 300       # seconds for one run of obj/bench/tables
BEGIN, END = "<!-- bench-tables:begin -->", "<!-- bench-tables:end -->"


class Fixtures:
    """Files of the server-less drivers, in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bench-tables.")
        os.chmod(self.dir, 0o755)
        self.map = self.write("map", "".join(
            "user%d user%d@example.com\n" % (i, i) for i in range(1000)) +
            "postmaster bob@example.com\n")
        db = os.path.join(self.dir, "t.sqlite")
        drivers.make_sqlite_db(db)
        self.sqlite = self.write("sqlite.conf",
                                 drivers.SQLITE_CONF.format(db=db))
        self.pytable = os.path.join(self.dir, "text_table.py")
        shutil.copy(os.path.join(ROOT, "regress", "tables",
                                 "text_table.py"), self.pytable)
        os.chmod(self.pytable, 0o755)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def server_driver(modname, clsname):
    """(config path, cleanup) of a database driver's test fixture: its
    private server started and filled as its tests do."""
    mod = __import__(modname)
    cls = getattr(mod, clsname)
    cls.setUpClass()
    return cls.conf, cls.PROBE, cls.tearDownClass


def drivers_list(fx, wanted, n):
    """(label, backends, config, service, key, n) per driver; backends
    maps a protocol name to the backend string."""
    both = lambda name: {"imsg": "proc-" + name, "text": "text-" + name}
    out = [
        ("file: (embedded)", {"embedded": "file"}, fx.map, "alias",
         "postmaster", n),
        ("table-file (memory)", both("file"), fx.map, "alias",
         "postmaster", n),
        ("Python, 20 lines", {"text": "proc"}, fx.pytable, "alias",
         "postmaster", n // 2),
        ("table-sqlite", both("sqlite"), fx.sqlite, "userinfo", "vmail",
         n // 2),
    ]
    return [d for d in out if wanted is None or any(
        w in d[0] for w in wanted)]


SERVERS = [
    ("table-postgres", "postgres", "test_table_postgres",
     "PostgresDriverTests"),
    ("table-mysql", "mysql", "test_table_mysql", "MySQLDriverTests"),
    ("table-redis", "redis", "test_table_redis", "RedisDriverTests"),
]


def run_one(build, backend, config, service, key, n, inflight):
    """One run: its JSON result, or a dict with "error"."""
    cmd = [os.path.join(build, "bench", "tables"),
           os.path.join(build, "libexec"), backend, config, service, key,
           str(n), str(inflight)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    if p.returncode != 0:
        return {"error": "exit %d: %s" % (p.returncode,
                                          p.stderr.strip()[-200:])}
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "no result: " + p.stdout[-200:]}


def median_run(runs):
    ok = [r for r in runs if "error" not in r]
    if len(ok) != len(runs):
        return [r for r in runs if "error" in r][0]
    ok.sort(key=lambda r: r["lookups_per_s"])
    return ok[len(ok) // 2]


def cell(r):
    if r is None:
        return "—"
    if "error" in r:
        return "failed"
    return "%s (%.0f / %.0f µs)" % ("{:,.0f}".format(r["lookups_per_s"]),
                                    r["mean_us"], r["p99_us"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "obj"))
    ap.add_argument("-n", type=int, default=20000,
                    help="look-ups per run of a memory driver (database "
                    "drivers and the Python table do fewer)")
    ap.add_argument("--inflight", default="1,16")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--drivers", default=None,
                    help="comma-separated substrings of driver names")
    ap.add_argument("--no-servers", action="store_true",
                    help="skip PostgreSQL, MariaDB and Redis")
    ap.add_argument("--readme", action="store_true",
                    help="put the table in README.md")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    if not os.access(os.path.join(build, "bench", "tables"), os.X_OK):
        sys.exit("%s/bench/tables is not built (make)" % build)
    wanted = args.drivers.split(",") if args.drivers else None
    inflights = [int(x) for x in args.inflight.split(",")]
    fx = Fixtures()
    cleanups = [fx.cleanup]
    rows = []           # (label, backends, config, service, key, n)
    notrun = []
    try:
        rows = drivers_list(fx, wanted, args.n)
        for label, name, mod, cls in ([] if args.no_servers else SERVERS):
            if wanted is not None and not any(w in label for w in wanted):
                continue
            try:
                conf, probe, cleanup = server_driver(mod, cls)
            except Exception as e:      # no server: not run, said so
                notrun.append("%s: not run (%s)" % (label,
                                                    str(e)[:120]))
                continue
            cleanups.append(cleanup)
            rows.append((label, {"imsg": "proc-" + name,
                                 "text": "text-" + name}, conf, probe[0],
                         probe[1], args.n // 4))
        results = {}
        for rep in range(args.reps):
            for label, backends, config, service, key, n in rows:
                for proto, backend in backends.items():
                    for k in inflights:
                        r = run_one(build, backend, config, service, key,
                                    n, k)
                        results.setdefault((label, proto, k),
                                           []).append(r)
                        print("# %s %s %d in flight: %s" % (
                            label, proto, k, json.dumps(r)),
                            file=sys.stderr)
    finally:
        for c in reversed(cleanups):
            c()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    head = "| driver | n |" + "".join(
        " %s, %d in flight |" % (p, k) for p in ("imsg", "text")
        for k in inflights) + "\n|---|---|" + "---|" * (2 *
                                                       len(inflights))
    lines = [head]
    for label, backends, config, service, key, n in rows:
        cells = []
        for p in ("imsg", "text"):
            for k in inflights:
                if "embedded" in backends and p == "text":
                    cells.append("(no helper)")
                    continue
                if "embedded" in backends:
                    r = median_run(results[(label, "embedded", k)])
                else:
                    r = (median_run(results[(label, p, k)])
                         if p in backends else None)
                cells.append(cell(r))
        lines.append("| %s (%s) | %d | %s |" % (label, service, n,
                                                " | ".join(cells)))
    for s in notrun:
        lines.append("| %s | | | | | |" % s)
    table = "\n".join(lines)
    text = ("Look-ups per second through the table layer (mean / p99 "
            "latency), median of %d runs, %s, `%s`:\n\n%s\n" % (
                args.reps, stamp, " ".join(["python3", "bench/tables.py"] +
                                           sys.argv[1:]), table))
    print(text)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "tables.md"), "w") as f:
        f.write(text)
    if args.readme:
        path = os.path.join(ROOT, "README.md")
        with open(path) as f:
            readme = f.read()
        if BEGIN in readme and END in readme:
            a = readme.index(BEGIN) + len(BEGIN)
            b = readme.index(END)
            readme = readme[:a] + "\n" + text + readme[b:]
            with open(path, "w") as f:
                f.write(readme)
        else:
            print("README.md has no %s ... %s markers" % (BEGIN, END),
                  file=sys.stderr)


if __name__ == "__main__":
    main()
