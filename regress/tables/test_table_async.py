"""regress/tables/test_table_async.py -- tables never block the lookup
process, helpers are contained, and none outlives the daemon (issue 7
part 1, the table items of "Bad input", the helper-exec part of part 6;
TABLE-12..16).

Real daemons with table helpers: regress/tables/fake_table_helper.py
copied as table-fake into a private libexec directory, and our
table-sqlite.  Look-ups go through smtpctl.  Every daemon and helper is
stopped by PID; every wait is bounded.
"""
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from smtpdtest import (BUILD, SANITIZER_MARKS, Smtpd,  # noqa: E402
                       free_port, is_root, pid_alive, proc_children, run_smtpd,
                       wait_for)

FAKE = os.path.join(HERE, "fake_table_helper.py")
TIMEOUT_MS = 5000       # TABLE_PROC_TIMEOUT_MS: one helper request
VALUE_MAX = 16353       # TABLE_VALUE_MAX - 1: the longest value
# what a look-up in a healthy table may take, smtpctl's start included
# (wall time): far below TIMEOUT_MS, which a look-up that waited behind
# a hung helper would take; not a speed target (a sanitizer build on a
# loaded 2-core machine took 162 ms for one)
FAST_MS = 1000


def make_libexec(parent, mode=0o755):
    """A libexec directory with table-fake (a #! script) and a copy of
    our table-sqlite, both readable and executable by everyone."""
    d = os.path.join(parent, "libexec")
    os.mkdir(d)
    shutil.copy(FAKE, os.path.join(d, "table-fake"))
    shutil.copy(os.path.join(BUILD, "libexec", "table-sqlite"),
                os.path.join(d, "table-sqlite"))
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o755)
    os.chmod(d, mode)
    return d


def make_state(parent, name, *flags):
    """A state directory for one fake helper (writable by its user)."""
    d = os.path.join(parent, name)
    os.mkdir(d)
    os.chmod(d, 0o777)
    for f in flags:
        open(os.path.join(d, f), "w").close()
    return d


def make_sqlite(parent):
    d = os.path.join(parent, "sql")
    os.mkdir(d)
    db = os.path.join(d, "t.sqlite")
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE domains (domain TEXT);"
                      "INSERT INTO domains VALUES ('example.com');")
    con.commit()
    con.close()
    conf = os.path.join(d, "sqlite.conf")
    with open(conf, "w") as f:
        f.write("dbpath %s\nquery_domain SELECT domain FROM domains "
                "WHERE domain=?;\n" % db)
    for p in (d, db, conf):
        os.chmod(p, 0o755 if p == d else 0o644)
    return conf


def helper_pids(lookup, state):
    """Helpers of lookup started with STATE as their argument."""
    out = []
    for pid in proc_children(lookup):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if state.encode() in args:
            out.append(pid)
    return out


def all_helpers(lookup):
    return proc_children(lookup)


def signal_state(pid):
    """(SigIgn, SigBlk) of a process, as integers."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return int(out["SigIgn"], 16), int(out["SigBlk"], 16)


RULES = """listen on 127.0.0.1 port %(port)d
action "local" mbox
match from local for local action "local"
"""


class AsyncTables(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="table-async.")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def daemon(self, tables, libexec, port):
        d = Smtpd(conf=tables + RULES % {"port": port},
                  args=["-o", "libexec=" + libexec])
        self.addCleanup(d.cleanup)
        self.addCleanup(self.no_sanitizer_report, d)
        return d.start()

    def no_sanitizer_report(self, d):
        log = d.log()
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, log, log[-20000:])

    def q(self, d, *args, timeout=30):
        t0 = time.monotonic()
        r = d.ctl("table", *args, timeout=timeout)
        ms = (time.monotonic() - t0) * 1000
        return r.returncode, r.stdout.strip(), r.stderr.strip(), ms

    def lookup_pid(self, d):
        return d.status()[0]["lookup"]["pid"]

    def test_frozen_helper_blocks_nobody(self):
        """One helper stopped (SIGSTOP): every other table answers at
        once (FAST_MS, far below the helper timeout); the frozen one's look-ups time out as temporary
        failures; after SIGCONT, or the kill and restart, it answers."""
        libexec = make_libexec(self.tmp)
        sa = make_state(self.tmp, "sa")
        sb = make_state(self.tmp, "sb")
        with open(os.path.join(self.tmp, "users"), "w") as f:
            f.write("alice 1000:1000:/home/alice\n")
        os.chmod(os.path.join(self.tmp, "users"), 0o644)
        tables = ("table inl { \"example.com\", \"example.org\" }\n"
                  "table users file:%s/users\n"
                  "table fa fake:%s\n"
                  "table fb fake:%s\n"
                  "table sql sqlite:%s\n"
                  % (self.tmp, sa, sb, make_sqlite(self.tmp)))
        d = self.daemon(tables, libexec, free_port())
        lookup = self.lookup_pid(d)
        healthy = [
            (("check", "inl", "domain", "example.com"), 0, "found"),
            (("lookup", "users", "userinfo", "alice"), 0,
             "1000:1000:/home/alice"),
            (("check", "fb", "domain", "yes"), 0, "found"),
            (("check", "sql", "domain", "example.com"), 0, "found"),
        ]
        # every helper up and answering before one is frozen
        for args, rc, out in healthy + [(("check", "fa", "domain", "yes"),
                                         0, "found")]:
            self.assertTrue(wait_for(lambda: self.q(d, *args)[:2] ==
                                     (rc, out), 10, 0.2), args)
        # lookup ignores TERM, HUP and INT; its helpers must not
        stop_sigs = sum(1 << (s - 1) for s in (signal.SIGTERM,
                                               signal.SIGHUP,
                                               signal.SIGINT))
        self.assertEqual(signal_state(lookup)[0] & stop_sigs, stop_sigs)
        helpers = all_helpers(lookup)
        self.assertEqual(len(helpers), 3)
        for pid in helpers:
            ign, blk = signal_state(pid)
            self.assertEqual((ign & stop_sigs, blk), (0, 0), pid)
        frozen = helper_pids(lookup, sa)
        self.assertEqual(len(frozen), 1)
        os.kill(frozen[0], signal.SIGSTOP)
        try:
            slow = subprocess.Popen(
                [os.path.join(BUILD, "smtpctl"), "-s", d.sock, "table",
                 "check", "fa", "domain", "yes"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            t0 = time.monotonic()
            time.sleep(0.2)     # the frozen request is in flight
            worst = 0.0
            while time.monotonic() - t0 < 3:
                for args, rc, out in healthy:
                    got = self.q(d, *args)
                    self.assertEqual(got[:2], (rc, out), args)
                    self.assertLess(got[3], FAST_MS, args)
                    worst = max(worst, got[3])
            print("# worst healthy look-up behind a frozen helper: "
                  "%.1f ms" % worst)
            out, err = slow.communicate(timeout=TIMEOUT_MS / 1000 + 10)
            waited = time.monotonic() - t0 + 0.2
            self.assertEqual(slow.returncode, 2, out + err)
            self.assertIn("temporary failure", err)
            self.assertGreater(waited, TIMEOUT_MS / 1000 - 0.5)
            self.assertLess(waited, TIMEOUT_MS / 1000 + 3)
        finally:
            try:                # the daemon may kill it at any moment
                os.kill(frozen[0], signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.assertIn("table fa: ", d.log())
        self.assertRegex(d.log(), r"table fa: helper .* request not "
                         r"answered within %d ms" % TIMEOUT_MS)
        # killed and restarted with backoff: the table answers again
        self.assertTrue(wait_for(lambda: self.q(d, "check", "fa", "domain",
                                                "yes")[:2] == (0, "found"),
                                 10, 0.2))
        self.assertFalse(pid_alive(frozen[0]))
        self.assertEqual(len(d.status()[0]), 7)
        self.assertEqual(d.stop(), 0)

    def test_frozen_then_continued_recovers(self):
        """SIGSTOP then SIGCONT before the timer: the queued look-up is
        answered and nothing was restarted."""
        libexec = make_libexec(self.tmp)
        sa = make_state(self.tmp, "sa")
        d = self.daemon("table fa fake:%s\n" % sa, libexec, free_port())
        self.assertTrue(wait_for(lambda: self.q(d, "check", "fa", "domain",
                                                "yes")[:2] == (0, "found"),
                                 10, 0.2))
        pid = helper_pids(self.lookup_pid(d), sa)[0]
        os.kill(pid, signal.SIGSTOP)
        slow = subprocess.Popen(
            [os.path.join(BUILD, "smtpctl"), "-s", d.sock, "table",
             "check", "fa", "domain", "yes"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        os.kill(pid, signal.SIGCONT)
        out, err = slow.communicate(timeout=10)
        self.assertEqual((slow.returncode, out.strip()), (0, "found"), err)
        self.assertEqual(helper_pids(self.lookup_pid(d), sa), [pid])
        self.assertEqual(d.stop(), 0)

    def test_no_helper_outlives_the_daemon(self):
        """At stop, a helper busy in a request and a frozen one are
        closed, signalled and reaped by lookup before the daemon ends."""
        libexec = make_libexec(self.tmp)
        sa = make_state(self.tmp, "sa")
        sb = make_state(self.tmp, "sb")
        sc = make_state(self.tmp, "sc")
        d = self.daemon("table fa fake:%s\ntable fb fake:%s\n"
                        "table fc fake:%s\n" % (sa, sb, sc), libexec, free_port())
        lookup = self.lookup_pid(d)
        for t in ("fa", "fb", "fc"):
            self.assertTrue(wait_for(lambda: self.q(d, "check", t, "domain",
                                                    "yes")[0] == 0, 10, 0.2))
        helpers = all_helpers(lookup)
        self.assertEqual(len(helpers), 3)
        busy = subprocess.Popen(
            [os.path.join(BUILD, "smtpctl"), "-s", d.sock, "table",
             "check", "fa", "domain", "hang"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.addCleanup(busy.wait, 30)
        os.kill(helper_pids(lookup, sb)[0], signal.SIGSTOP)
        time.sleep(0.3)
        t0 = time.monotonic()
        self.assertEqual(d.stop(), 0)
        took = time.monotonic() - t0
        print("# stop with a busy and a frozen helper: %.2f s" % took)
        self.assertLess(took, 5)
        for pid in helpers:
            self.assertFalse(pid_alive(pid), "helper %d outlived" % pid)
        self.assertNotIn("children still running", d.log())

    def test_seven_helpers_hanging_at_start(self):
        """Seven helpers that never answer OPEN: the daemon is ready at
        once, names each hung table in the log when its timer fires, and
        keeps serving its other tables."""
        libexec = make_libexec(self.tmp)
        names = ["h%d" % i for i in range(7)]
        tables = "table inl { \"example.com\" }\n" + "".join(
            "table %s fake:%s\n" % (n, make_state(self.tmp, n, "hangopen"))
            for n in names)
        t0 = time.monotonic()
        d = self.daemon(tables, libexec, free_port())
        ready = time.monotonic() - t0
        print("# ready with seven hung helpers in %.2f s" % ready)
        self.assertLess(ready, 3)
        rc, out, _, ms = self.q(d, "check", "inl", "domain", "example.com")
        self.assertEqual((rc, out), (0, "found"))
        self.assertLess(ms, FAST_MS)
        rc, _, err, _ = self.q(d, "check", "h3", "domain", "yes")
        self.assertEqual(rc, 2)
        self.assertIn("temporary failure", err)
        self.assertTrue(wait_for(lambda: all(
            "table %s: helper" % n in d.log() for n in names),
            TIMEOUT_MS / 1000 + 5, 0.2), d.log())
        for n in names:
            self.assertRegex(d.log(), r"table %s: helper .* OPEN not "
                             r"answered within" % n)
        self.assertEqual(len(d.status()[0]), 7)
        self.assertEqual(d.stop(), 0)

    def test_helper_values_at_the_size_limit(self):
        """A helper value of the longest size -1, 0 and +1: whole, whole,
        temporary failure with a log line; lookup keeps running."""
        libexec = make_libexec(self.tmp)
        sa = make_state(self.tmp, "sa")
        d = self.daemon("table fa fake:%s\n" % sa, libexec, free_port())
        lookup = self.lookup_pid(d)
        for n in (VALUE_MAX - 1, VALUE_MAX):
            rc, out, err, _ = self.q(d, "lookup", "fa", "string",
                                     "big%d" % n)
            self.assertEqual((rc, len(out)), (0, n), err)
        rc, _, err, _ = self.q(d, "lookup", "fa", "string",
                               "big%d" % (VALUE_MAX + 1))
        self.assertEqual(rc, 2)
        self.assertIn("temporary failure", err)
        self.assertIn("table fa: helper answered a value of %d bytes, over "
                      "the limit of %d" % (VALUE_MAX + 1, VALUE_MAX),
                      d.log())
        self.assertEqual(self.q(d, "check", "fa", "domain", "yes")[:2],
                         (0, "found"))
        self.assertEqual(self.lookup_pid(d), lookup)
        self.assertEqual(len(d.status()[0]), 7)
        self.assertEqual(d.stop(), 0)

    def test_file_values_at_the_size_limit(self):
        """A file table value of the longest size -1 and 0 is served
        whole; +1 is refused at start-up, naming the table and line."""
        path = os.path.join(self.tmp, "vals")
        with open(path, "w") as f:
            f.write("a %s\nb %s\n" % ("x" * (VALUE_MAX - 1), "y" * VALUE_MAX))
        os.chmod(path, 0o644)
        d = self.daemon("table v file:%s\n" % path, make_libexec(self.tmp),
                        free_port())
        for key, n in (("a", VALUE_MAX - 1), ("b", VALUE_MAX)):
            rc, out, err, _ = self.q(d, "lookup", "v", "string", key)
            self.assertEqual((rc, len(out)), (0, n), err)
        self.assertEqual(d.stop(), 0)
        with open(path, "a") as f:
            f.write("c %s\n" % ("z" * (VALUE_MAX + 1)))
        conf = os.path.join(self.tmp, "big.conf")
        with open(conf, "w") as f:
            f.write("table v file:%s\n" % path + RULES % {"port": free_port()})
        r = run_smtpd(["-n", "-f", conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn('table "v": %s:3: value longer than %d bytes'
                      % (path, VALUE_MAX), r.stderr)

    def test_helper_found_in_any_libexec_directory(self):
        """A helper whose name no list knows is found in -o libexec, at
        parse time as at run time; a missing one names where it looked."""
        libexec = make_libexec(self.tmp)
        os.rename(os.path.join(libexec, "table-fake"),
                  os.path.join(libexec, "table-homegrown"))
        sa = make_state(self.tmp, "sa")
        conf = os.path.join(self.tmp, "smtpd.conf")
        with open(conf, "w") as f:
            f.write("table t homegrown:%s\n" % sa + RULES % {"port": free_port()})
        r = run_smtpd(["-n", "-o", "libexec=" + libexec, "-f", conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run_smtpd(["-n", "-o", "libexec=" + self.tmp, "-f", conf])
        self.assertEqual(r.returncode, 1)
        self.assertIn('table backend "homegrown" does not exist: no helper '
                      'table-homegrown in %s' % self.tmp, r.stderr)
        d = self.daemon("table t homegrown:%s\n" % sa, libexec, free_port())
        self.assertTrue(wait_for(lambda: self.q(d, "check", "t", "domain",
                                                "yes")[:2] == (0, "found"),
                                 10, 0.2))
        self.assertEqual(d.stop(), 0)

    @unittest.skipUnless(is_root(), "needs root to drop to the daemon's "
                         "user")
    def test_helpers_in_a_private_directory(self):
        """Helpers under a 0700 directory (a clone in /root): lookup opens
        them while still root and execs them by descriptor as _smtpd, a
        #! script and a native binary alike, also after a restart."""
        private = os.path.join(self.tmp, "private")
        os.mkdir(private, 0o700)
        libexec = make_libexec(private, mode=0o700)
        sa = make_state(self.tmp, "sa")
        tables = "table fa fake:%s\ntable sql sqlite:%s\n" % (
            sa, make_sqlite(self.tmp))
        d = self.daemon(tables, libexec, free_port())
        self.assertEqual(d.status()[0]["lookup"]["user"], "_smtpd")
        for args in (("check", "fa", "domain", "yes"),
                     ("check", "sql", "domain", "example.com")):
            self.assertTrue(wait_for(lambda: self.q(d, *args)[:2] ==
                                     (0, "found"), 10, 0.2),
                            "%s\n%s" % (args, d.log()))
        lookup = self.lookup_pid(d)
        for pid in all_helpers(lookup):
            self.assertNotEqual(os.stat("/proc/%d" % pid).st_uid, 0)
        # restarted from the pinned executable after a crash
        os.kill(helper_pids(lookup, sa)[0], signal.SIGKILL)
        self.assertTrue(wait_for(lambda: self.q(d, "check", "fa", "domain",
                                                "yes")[:2] == (0, "found"),
                                 10, 0.2))
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
