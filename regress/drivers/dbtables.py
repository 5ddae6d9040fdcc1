"""regress/drivers/dbtables.py -- what the tests of our database table
helpers share (test_table_postgres.py, test_table_redis.py).

DriverTests is a mixin: a subclass names its helper (DRIVER, BACKEND),
starts its server (regress/lib/servers.py) and fills it, writes its
config (config(**over)), and says how to freeze and thaw the server.
The mixin's tests then drive our helper (obj/libexec/table-NAME) the
way OpenSMTPD 6.8's lookup process does (test_table_drivers.Helper):

  - a config that is missing, unreadable or has an unknown key: exit 1
    at start with a line naming the file;
  - a server that does not listen at start: the helper starts and
    answers -1 with a log line naming the table;
  - the server killed mid-run, between requests or while one waits in
    it: -1 at once, then answers again without restarting the helper,
    once it is back;
  - the server frozen (SIGSTOP): -1 within query_timeout, then answers
    after SIGCONT;
  - the helper under a 7.6-style daemon (the text protocol of
    libexec-protocols.md 7, regress/lib/texthelper.py), and our smtpd
    speaking text to it (`table db text-NAME:CONFIG`): the same answer;
  - our smtpd using the helper: `smtpctl table lookup` answers,
    `smtpctl update table` reloads (and keeps the old config when the
    new one is broken), a look-up is a temporary failure (exit 2) while
    the server is down and answers again when it is back, smtpd never
    restarted.

Every wait is bounded; processes are stopped by PID.
"""
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
sys.path.insert(0, HERE)
import servers  # noqa: E402
import test_table_drivers as drivers  # noqa: E402
from smtpdtest import Smtpd, build_for, free_port, proc_children  # noqa: E402,E501
from texthelper import TextHelper  # noqa: E402

BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
OURS = os.path.join(BUILD, "libexec")
CHECK, LOOKUP, FETCH, UPDATE, CLOSE = (drivers.CHECK, drivers.LOOKUP,
                                       drivers.FETCH, drivers.UPDATE,
                                       drivers.CLOSE)
RECOVER = 15            # seconds for a helper to answer again
TIMEOUT = 1             # query_timeout of the test configs, seconds


def closed_port():
    """A loopback port nobody listens on (nothing is bound to it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_stopped(pid, limit=5.0):
    """Wait until every thread of PID is stopped (SIGSTOP is delivered
    asynchronously: a request sent before would be read and left
    unanswered, never seen waiting in the socket)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            states = []
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
        except OSError:
            return
        if all(st in ("T", "t") for st in states):
            return
        time.sleep(0.01)


class DriverTests:
    DRIVER = None               # "table-postgres"
    BACKEND = None              # "postgres"
    PROBE = None                # (service, key, value) found when all is well

    # -- set-up --------------------------------------------------------
    @classmethod
    def setUpClass(cls):
        path = os.path.join(OURS, cls.DRIVER)
        if not os.access(path, os.X_OK):
            raise RuntimeError("%s is not built" % path)
        cls.tmp = tempfile.mkdtemp(prefix="dbtables.")
        os.chmod(cls.tmp, 0o755)
        try:
            cls.server = cls.start_server()
            cls.fill()
            cls.conf = cls.write("table.conf", cls.config())
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        srv = getattr(cls, "server", None)
        if srv is not None:
            srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def restore(self):
        """The server running, thawed, with its data, for the next test."""
        self.thaw()
        if not self.server.running():
            self.server.start()
            self.refill()

    def refill(self):
        pass

    # a server of one process leading its own group (the default):
    # frozen with SIGSTOP, which reaches its threads asynchronously, so
    # wait until all are stopped (one still running answers a query)
    def freeze(self):
        self.server.freeze()
        wait_stopped(self.server.proc.pid)

    def thaw(self):
        if self.server.running():
            os.killpg(self.server.proc.pid, signal.SIGCONT)

    # a request that waits in the server (the default: the server is
    # frozen first, the request waits unread in its socket)
    def slow_config(self):
        return self.config(query_timeout=10)

    def send_slow(self, h):
        self.freeze()
        h.request_nowait(LOOKUP, "userinfo", b"vmail")

    def gate_reached(self):
        return self.server.pending_requests() > 0

    # -- helpers -------------------------------------------------------
    def start(self, config, tname="spy"):
        h = drivers.Helper(os.path.join(OURS, self.DRIVER), tname, config,
                           self.tmp)
        self.addCleanup(h.close)
        return h

    def helper(self, config=None):
        h = self.start(config or self.conf)
        h.open()
        self.assertEqual(h.recv(), (drivers.OK, b""),
                         "OPEN -> empty OK\n" + h.stderr())
        return h

    def probe(self, h):
        service, key, value = self.PROBE
        return h.request(LOOKUP, service, key.encode())

    def want(self):
        return (1, self.PROBE[2])

    def wait_answer(self, h):
        """Poll until the probe answers again: seconds it took."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < RECOVER:
            if self.probe(h) == self.want():
                return time.monotonic() - t0
            time.sleep(0.1)
        self.fail("no answer %ds after the server came back\n%s" % (
            RECOVER, h.stderr()))

    def assert_alive(self, h):
        self.assertIsNone(h.proc.poll(), "the helper exited\n" + h.stderr())

    def start_fails(self, config, why):
        h = self.start(config)
        try:
            h.open()
            self.assertIsNone(h.recv(), "no OPEN reply expected")
        except OSError:
            pass                # gone before OPEN was written
        self.assertEqual(h.wait(), 1, "exit 1\n" + h.stderr())
        self.assertIn(why, h.stderr())
        return h.stderr()

    # -- tests ---------------------------------------------------------
    def test_bad_config_files(self):
        """Missing, unreadable (a directory), unknown key, no value: the
        helper refuses to start, naming the file."""
        missing = os.path.join(self.tmp, "missing.conf")
        self.start_fails(missing, missing)
        self.start_fails(self.tmp, self.tmp)
        bogus = self.write("bogus.conf", self.config() + "bogus_key 1\n")
        self.start_fails(bogus, "bogus.conf:%d: unknown key bogus_key" % (
            len(self.config().splitlines()) + 1))
        novalue = self.write("novalue.conf", self.config() + "query_alias\n")
        self.start_fails(novalue, "novalue.conf")
        badnum = self.write("badnum.conf", self.config(query_timeout="x"))
        self.start_fails(badnum, "query_timeout")

    def test_unreachable_at_start(self):
        """Nothing listens on the configured port: the helper starts,
        answers -1 with a line naming the table, and stays up."""
        conf = self.write("closed.conf", self.config(port=closed_port()))
        h = self.helper(conf)
        for _ in range(3):
            self.assertEqual(self.probe(h), -1)
        self.assert_alive(h)
        self.assertIn("table spy:", h.stderr())
        self.assertIn("connect", h.stderr())

    def test_killed_then_back(self):
        """The server dies (SIGKILL) between requests: -1, then answers
        again when it is back, the same helper."""
        self.addCleanup(self.restore)
        h = self.helper()
        self.assertEqual(self.probe(h), self.want())
        self.server.kill()
        t0 = time.monotonic()
        for _ in range(5):
            self.assertEqual(self.probe(h), -1, h.stderr())
        self.assertLess(time.monotonic() - t0, TIMEOUT * 5 + 2)
        h.send(UPDATE)
        self.assertEqual(h.result(), 0, "UPDATE with the server down")
        self.assert_alive(h)
        self.restore()
        took = self.wait_answer(h)
        print("# %s answers %.2f s after its server is back" % (
            self.DRIVER, took))
        self.assert_alive(h)
        self.assertIn("table spy:", h.stderr())

    def test_killed_mid_request(self):
        """The server dies (SIGKILL) while a request waits in it: that
        request is -1 at once, not at query_timeout (10 s here), and the
        same helper answers again once the server is back."""
        self.addCleanup(self.restore)
        h = self.helper(self.write("gate.conf", self.slow_config()))
        self.assertEqual(self.probe(h), self.want())
        self.send_slow(h)
        deadline = time.monotonic() + 10
        while not self.gate_reached():
            self.assertLess(time.monotonic(), deadline,
                            "the request never reached the server")
            time.sleep(0.05)
        t0 = time.monotonic()
        self.server.kill()
        self.assertEqual(h.result(), -1, h.stderr())
        self.assertLess(time.monotonic() - t0, 5, "answered at once")
        self.assert_alive(h)
        self.restore()
        self.wait_answer(h)

    def test_frozen_then_back(self):
        """The server stops answering (SIGSTOP): each request is -1
        within query_timeout; answers again after SIGCONT."""
        self.addCleanup(self.restore)
        h = self.helper()
        self.assertEqual(self.probe(h), self.want())
        self.freeze()
        for _ in range(2):
            t0 = time.monotonic()
            self.assertEqual(self.probe(h), -1, h.stderr())
            took = time.monotonic() - t0
            self.assertLess(took, TIMEOUT + 1.5, "deadline kept")
        self.assert_alive(h)
        self.assertRegex(h.stderr(), "table spy: .*(no answer|timed out)")
        self.thaw()
        self.wait_answer(h)

    def test_text_protocol(self):
        """The 7.6+ text protocol: the helper under a 7.6-style daemon
        registers the service and answers it; our smtpd declared
        text-NAME: answers it through smtpctl."""
        service, key, value = self.PROBE
        h = TextHelper(os.path.join(OURS, self.DRIVER), ["spy", self.conf],
                       self.tmp)
        self.addCleanup(h.close)
        self.assertIn(service, h.handshake(), h.stderr())
        self.assertEqual(h.request("lookup", service, key), "found|" + value,
                         h.stderr())
        self.assertEqual(h.request("update"), "ok", h.stderr())
        self.assertEqual(h.stop(), 0, h.stderr())
        conf = ("table db text-%s:%s\n"
                "listen on 127.0.0.1 port %d\n"
                "action \"local\" mbox\n"
                "match from local for local action \"local\"\n" % (
                    self.BACKEND, self.conf, free_port()))
        d = Smtpd(conf=conf, args=["-o", "libexec=" + os.path.join(
            build_for(None), "libexec")])
        self.addCleanup(d.cleanup)
        d.start()

        def lookup():
            r = d.ctl("table", "lookup", "db", service, key)
            return r.returncode, r.stdout.strip()
        deadline = time.monotonic() + RECOVER
        while lookup() != (0, value) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(lookup(), (0, value), d.log()[-3000:])
        self.assertEqual(d.stop(), 0)

    def test_smtpd_table_lookup(self):
        """Our smtpd hosting the helper: smtpctl table lookup answers,
        update table takes a good config and refuses a broken one, a
        look-up is a temporary failure while the server is down and
        answers again once it is back, smtpd never restarted."""
        self.addCleanup(self.restore)
        service, key, value = self.PROBE
        port = free_port()
        tconf = self.write("smtpd-table.conf", self.config())
        conf = ("table db %s:%s\n"
                "listen on 127.0.0.1 port %d\n"
                "action \"local\" mbox\n"
                "match from local for local action \"local\"\n" % (
                    self.BACKEND, tconf, port))
        d = Smtpd(conf=conf, args=["-o", "libexec=" + os.path.join(
            build_for(None), "libexec")])
        self.addCleanup(d.cleanup)
        d.start()
        pid = d.pid

        def lookup():
            r = d.ctl("table", "lookup", "db", service, key)
            return r.returncode, r.stdout.strip(), r.stderr.strip()
        deadline = time.monotonic() + RECOVER
        while lookup()[:2] != (0, value) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(lookup()[:2], (0, value), d.log()[-3000:])
        helpers = sorted(proc_children(d.status()[0]["lookup"]["pid"]))
        # update table: a good config is taken, a broken one refused
        # while the previous one goes on serving, same helper
        r = d.ctl("update", "table", "db")
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, "command succeeded"), r.stderr)
        self.write("smtpd-table.conf", self.config() + "bogus_key 1\n")
        r = d.ctl("update", "table", "db")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertEqual(lookup()[:2], (0, value))
        self.assertIn("unknown key bogus_key", d.log())
        self.assertEqual(sorted(proc_children(
            d.status()[0]["lookup"]["pid"])),
                         helpers, "the helper was not restarted")
        self.server.kill()
        rc, out, err = lookup()
        self.assertEqual(rc, 2, out + err)
        self.assertIn("temporary failure", err)
        self.restore()
        deadline = time.monotonic() + RECOVER
        while lookup()[:2] != (0, value) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(lookup()[:2], (0, value), d.log()[-3000:])
        self.assertEqual(d.pid, pid)
        self.assertIsNone(d.proc.poll(), "smtpd still running")
        self.assertIn("table db:", d.log())
