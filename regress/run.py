#!/usr/bin/env python3
"""regress/run.py -- run every test of the project and count them.

Unit tests are the C programs built from regress/unit/*_test.c: each
prints "ok N - ..." / "not ok N - ..." lines (regress/lib/test.h).
Integration tests are Python unittest modules regress/integ/test_*.py
(and regress/*/test_*.py), which start real daemons through
regress/lib/smtpdtest.py.  The last line printed is "N passed, N failed",
followed by ", N skipped" and ", N not run" when there are any; the exit
status is non-zero when anything failed.

Two kinds of tests may not run, and neither counts as passed or failed:
  - skipped: a test that needs root (another account, a namespace, a
    privilege drop), run by an ordinary user.  As root a skip is a
    failure, so CI never skips silently.
  - not run: a test whose input is optional and absent from this clone
    (the shared corpus beside the project, ../shared): a unit test prints
    "# not run: why", an integration test raises
    unittest.SkipTest("not run: why") (smtpdtest.NOT_RUN).  One line per
    reason says what did not run.

Tests run in parallel (-j, default 3 or REGRESS_JOBS): unit test
programs in a pool of threads, integration modules each in its own
`run.py --module` process, the modules of SERIAL_MODULES alone at the
end; each one's output is printed whole when it ends.

Sanitizer reports (a sanitizer build: make SAN=1) of every process the
run starts -- unit tests, daemons and their children, smtpctl, helpers,
whether or not a test reads their output -- are written to one
directory (ASAN_OPTIONS / UBSAN_OPTIONS log_path) that every account may
write; each report is printed with the test during which it appeared
and counts as a failure.  LeakSanitizer cannot inspect a process that
chrooted and dropped privileges, so daemons started by root run without
leak checks (smtpdtest.daemon_env); run the suite as an ordinary user as
well (.ci/run does) for leak checks of every process.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT_TIMEOUT = 300
NOT_RUN = "not run: "
SANITIZER_ERRORS = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|"
                              r"runtime error:")


class SanitizerReports:
    """The sanitizers' log directory of this run, and what appeared in it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="smtpd-sanitizer-")
        # processes dropped to _smtpd, _smtpq or nobody write here too
        os.chmod(self.dir, 0o1777)
        self.seen = set()
        self.errors = 0
        # report.PROGRAM.PID
        log = "log_path=%s:log_exe_name=1" % os.path.join(self.dir, "report")
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            os.environ[var] = ":".join(filter(None, [os.environ.get(var),
                                                     log]))

    def subdir(self, name):
        """A directory of its own for one test's reports."""
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o1777)
        return d

    def collect(self, where, sub=None):
        """Print the reports that appeared since the last call (in SUB
        only when given), naming WHERE; return how many are errors."""
        found = 0
        d = self.dir if sub is None else os.path.join(self.dir, sub)
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if path in self.seen or os.path.isdir(path):
                continue
            self.seen.add(path)
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            error = bool(SANITIZER_ERRORS.search(text))
            found += error
            lines = text.strip().splitlines()
            print("%s  sanitizer %s (%s) during %s" % (
                "FAIL" if error else "note", "report" if error else "output",
                name, where))
            for line in lines[:60]:
                print("      | " + line)
            if len(lines) > 60:
                print("      | ... %d more lines" % (len(lines) - 60))
            sys.stdout.flush()
        self.errors += found
        return found

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


UNIT_SLOW_FIRST = ("queue_fs_test", "table_proc_test", "parent_forward_test",
                   "queue_conformance_test", "api_host_test")


def unit_one(path, san):
    """Run one unit test binary with its own sanitizer log directory:
    (output, exit status, seconds)."""
    env = dict(os.environ)
    logdir = san.subdir(os.path.basename(path))
    log = "log_path=%s:log_exe_name=1" % os.path.join(logdir, "report")
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env[var] = ":".join(filter(None, [env.get(var), log]))
    t0 = time.monotonic()
    try:
        p = subprocess.run([path], cwd=ROOT, capture_output=True,
                           text=True, errors="replace", env=env,
                           timeout=UNIT_TIMEOUT)
        out, rc = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(
            e.stdout, bytes) else (e.stdout or "")
        out += "\nTIMEOUT after %ds" % UNIT_TIMEOUT
        rc = -1
    return out, rc, time.monotonic() - t0


def run_unit(build, pattern, notrun, san, jobs=1):
    passed = failed = 0
    udir = os.path.join(build, "regress", "unit")
    if not os.path.isdir(udir):
        return 0, 0
    if os.geteuid() == 0:
        # as root, a unit test that drops privileges needs the daemon's
        # accounts (queue_conformance_test: queue-fs as the queue user),
        # made as `make run` and the integration tests make them
        os.environ["SMTPD_BUILD"] = os.path.abspath(build)
        sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
        import smtpdtest
        smtpdtest.ensure_accounts()
    names = []
    for name in sorted(os.listdir(udir)):
        path = os.path.join(udir, name)
        if not name.endswith("_test") or not os.access(path, os.X_OK):
            continue
        if pattern and not re.search(pattern, name):
            continue
        names.append(name)
    # the slowest first, so the pool ends together
    order = sorted(names, key=lambda n: (n not in UNIT_SLOW_FIRST, n))
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        futures = {name: pool.submit(unit_one, os.path.join(udir, name),
                                     san) for name in order}
        for name in names:
            out, rc, secs = futures[name].result()
            ok = len(re.findall(r"^ok \d+", out, re.M))
            bad = re.findall(r"^not ok \d+.*$", out, re.M)
            if rc != 0 and not bad:
                bad = ["%s exited with status %d" % (name, rc)]
            passed += ok
            failed += len(bad)
            for why in re.findall(r"^# not run: (.*)$", out, re.M):
                notrun.setdefault(why.strip(), []).append(name)
            san.collect(name, name)
            status = "FAIL" if bad else "ok"
            print("unit  %-32s %4d passed %3d failed  %5.1fs  %s" % (
                name, ok, len(bad), secs, status))
            if bad:
                for line in bad:
                    print("      " + line)
                tail = out.strip().splitlines()[-15:]
                for line in tail:
                    print("      | " + line)
            sys.stdout.flush()
    return passed, failed


class CountingResult(unittest.TextTestResult):
    san = None

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.npassed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.npassed += 1

    def stopTest(self, test):
        super().stopTest(test)
        if self.san is not None:
            self.san.collect(test.id())


# Integration modules that run alone, after the others: they assert
# bounds on latency, or load the machine on purpose
SERIAL_MODULES = ("test_table_async.py", "test_crash.py")
# modules long enough to be run a test class per process
SPLIT_MODULES = ("test_bounce.py", "test_process.py", "test_smtp_server.py")
# the slowest modules start first, so the pool ends together
SLOW_FIRST = ("test_bounce.py", "test_crash.py", "test_methods.py",
              "test_mailflow.py", "test_process.py", "test_tables.py",
              "test_smtpctl_queue.py", "test_forward.py")


def integ_modules():
    """Every integration test module: regress/*/test_*.py."""
    mods = []
    for sub in sorted(os.listdir(os.path.join(ROOT, "regress"))):
        d = os.path.join(ROOT, "regress", sub)
        if not os.path.isdir(d) or sub in ("lib", "unit", "fuzz"):
            continue
        mods += [os.path.join(d, f) for f in sorted(os.listdir(d))
                 if f.startswith("test_") and f.endswith(".py")]
    return mods


def module_classes(path):
    """The names of the TestCase classes a module defines (by reading
    it: importing would run its set-up code in the pool's process)."""
    with open(path) as f:
        text = f.read()
    return re.findall(r"^class (\w+)\((?:unittest\.TestCase|\w+)\):",
                      text, re.M)


def run_integ_pool(build, pattern, notrun, jobs):
    """Each module (or each class of a SPLIT_MODULES one) in its own
    `run.py --module` process, JOBS at a time (the serial ones alone at
    the end); each one's output printed whole when it ends.  Returns
    passed, failed, skipped."""
    mods = integ_modules()
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    par = []
    for m in sorted((m for m in mods
                     if os.path.basename(m) not in SERIAL_MODULES),
                    key=lambda m: rank.get(os.path.basename(m), len(rank))):
        if os.path.basename(m) in SPLIT_MODULES:
            par += ["%s::%s" % (m, c) for c in module_classes(m)]
        else:
            par.append(m)
    ser = [m for m in mods if os.path.basename(m) in SERIAL_MODULES]
    totals = [0, 0, 0]
    for group, width in ((par, jobs), (ser, 1)):
        queue = list(group)
        running = []
        while queue or running:
            while queue and len(running) < width:
                m = queue.pop(0)
                out = tempfile.TemporaryFile(mode="w+", errors="replace")
                argv = [sys.executable, os.path.abspath(__file__),
                        "--build", build, "--module", m]
                if pattern:
                    argv += ["-k", pattern]
                running.append((m, out, time.monotonic(),
                                subprocess.Popen(argv, stdout=out,
                                                 stderr=subprocess.STDOUT)))
            for item in list(running):
                m, out, t0, proc = item
                if proc.poll() is None:
                    continue
                running.remove(item)
                out.seek(0)
                text = out.read()
                out.close()
                res = re.search(r"^MODULE-RESULT (.*)$", text, re.M)
                body = text[:res.start()] if res else text
                if body.strip():
                    sys.stdout.write(body if body.endswith("\n") else
                                     body + "\n")
                if res:
                    r = json.loads(res.group(1))
                    totals[0] += r["passed"]
                    totals[1] += r["failed"]
                    totals[2] += r["skipped"]
                    for why, where in r["notrun"].items():
                        notrun.setdefault(why, []).extend(where)
                else:
                    totals[1] += 1
                    print("FAIL  %s: exited %s without a result" % (
                        os.path.relpath(m, ROOT), proc.returncode))
                if body.strip() or not res:
                    print("integ %-40s %5.1fs" % (
                        os.path.relpath(m, ROOT), time.monotonic() - t0))
                sys.stdout.flush()
            time.sleep(0.05)
    return tuple(totals)


def run_integ(build, pattern, notrun, san, module=None):
    os.environ["SMTPD_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    cls = None
    if module is not None and "::" in module:
        module, cls = module.split("::", 1)
    for m in integ_modules() if module is None else [module]:
        d = os.path.dirname(m)
        found = loader.discover(d, pattern=os.path.basename(m),
                                top_level_dir=d)
        suite.addTests(found)

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t
    tests = [t for t in flatten(suite)
             if (not pattern or re.search(pattern, t.id())) and
             (cls is None or type(t).__name__ == cls)]
    CountingResult.san = san
    if module is not None and not tests:
        return 0, 0, 0          # a pool worker with nothing to say
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                     resultclass=CountingResult)
    result = runner.run(unittest.TestSuite(tests))
    failed = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    # a skipped test is not a pass.  Only tests that need root may skip,
    # and only when not run as root; as root (CI) a skip is a failure.
    # A test whose optional input is absent is "not run", never a failure
    skipped = 0
    for test, reason in result.skipped:
        if reason.startswith(NOT_RUN):
            notrun.setdefault(reason[len(NOT_RUN):].strip(), []).append(
                test.id())
        else:
            skipped += 1
    if os.geteuid() == 0:
        failed += skipped
        skipped = 0
    return result.npassed, failed, skipped


def run_module(build, args, notrun, san):
    """One module (run_integ_pool's worker): its tests, its sanitizer
    reports, then a MODULE-RESULT line for the pool."""
    try:
        p, f, sk = run_integ(build, args.pattern, notrun, san, args.module)
        time.sleep(0.2)
        san.collect("the end of %s" % os.path.basename(args.module))
    finally:
        san.remove()
    sys.stdout.flush()
    print("MODULE-RESULT " + json.dumps({
        "passed": p, "failed": f + san.errors, "skipped": sk,
        "notrun": notrun}))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="obj")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integ-only", action="store_true")
    ap.add_argument("-k", dest="pattern", default=None)
    ap.add_argument("-j", "--jobs", type=int,
                    default=int(os.environ.get("REGRESS_JOBS", "3")),
                    help="integration modules run at once (default 3, "
                    "or REGRESS_JOBS)")
    ap.add_argument("--module", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(
        args.build) else args.build
    notrun = {}
    san = SanitizerReports()
    if args.module is not None:
        return run_module(build, args, notrun, san)
    try:
        p1 = f1 = 0
        if not args.integ_only:
            p1, f1 = run_unit(build, args.pattern, notrun, san,
                              args.jobs)
        p2 = f2 = s2 = 0
        if not args.unit_only and args.jobs > 1:
            p2, f2, s2 = run_integ_pool(build, args.pattern, notrun,
                                        args.jobs)
        elif not args.unit_only:
            p2, f2, s2 = run_integ(build, args.pattern, notrun, san)
        # a daemon stopped at the very end may still be writing
        time.sleep(0.5)
        san.collect("the end of the run")
    finally:
        san.remove()
    passed, failed = p1 + p2, f1 + f2 + san.errors
    if san.errors:
        print("(%d sanitizer reports, each counted as a failure)"
              % san.errors)
    for why, where in sorted(notrun.items()):
        print("not run: %s (%s)" % (why, ", ".join(sorted(set(where)))))
    if s2:
        print("(skipped tests need root)")
    summary = "%d passed, %d failed" % (passed, failed)
    if s2:
        summary += ", %d skipped" % s2
    if notrun:
        summary += ", %d not run" % sum(len(w) for w in notrun.values())
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
