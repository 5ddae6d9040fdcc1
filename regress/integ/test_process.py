"""Process skeleton: start, status, privilege separation, shutdown, and
bad input on every channel, the control socket's limits above all (SEC-01
SEC-02 SEC-03 SEC-04 SEC-06 SEC-07 CTL-06 CTL-23 CTL-27 OPS-01 OPS-03,
issue 7 parts 3 and 6)."""
import os
import pwd
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from smtpdtest import (EMPTY, PROCS, QUSER, ROOT, SMTPCTL, SMTPD, USER, Smtpd,
                       daemon_env,
                       ensure_accounts, is_root, pid_alive, proc_title,
                       run_smtpd, wait_for)

UNPRIV = "nobody"


def imsg_types():
    """Message numbers, in the order of the catalogue in imsg.h."""
    with open(os.path.join(ROOT, "smtpd", "common", "imsg.h")) as f:
        text = f.read()
    body = text[text.index("#define IMSG_LIST(X)"):]
    body = body[:body.index("enum imsg_type")]
    names = re.findall(r"X\((IMSG_[A-Z_]+),", body)
    return {n: i + 1 for i, n in enumerate(names)}


IMSG = imsg_types()


def imsg_version():
    with open(os.path.join(ROOT, "smtpd", "common", "imsg.h")) as f:
        return int(re.search(r"#define IMSG_VERSION\s+(\d+)",
                             f.read()).group(1))


def table_limits():
    """TABLE_NAME_MAX and TABLE_KEY_MAX, with their NUL (defined with
    the backends, table_backends.h)."""
    with open(os.path.join(ROOT, "smtpd", "table",
                           "table_backends.h")) as f:
        text = f.read()
    return tuple(int(re.search(r"#define %s\s+(\d+)" % n, text).group(1))
                 for n in ("TABLE_NAME_MAX", "TABLE_KEY_MAX"))


def control_idle():
    with open(os.path.join(ROOT, "smtpd", "common", "smtpd_limits.h")) as f:
        return int(re.search(r"#define CONTROL_IDLE_TIMEOUT\s+(\d+)",
                             f.read()).group(1))


TABLE_NAME_MAX, TABLE_KEY_MAX = table_limits()
CONTROL_IDLE = control_idle()


def tagged(s):
    """A string as the control protocol encodes it (NULL: one zero)."""
    return b"\0" if s is None else b"s" + s + b"\0"


def hello():
    return frame(IMSG["IMSG_CTL_HELLO"], struct.pack("=I", imsg_version()))


def table_query(table, key, service=b"alias", op=1):
    return frame(IMSG["IMSG_CTL_TABLE_QUERY"], struct.pack("=i", op) +
                 tagged(table) + tagged(service) + tagged(key))


def update_table(table):
    return frame(IMSG["IMSG_CTL_UPDATE_TABLE"], tagged(table))


def exchange(sock, data, answers=2, timeout=10):
    """Send data, then read frames until `answers` of them were OK or
    FAIL (each request ends with one), EOF or timeout."""
    sock.sendall(data)
    sock.settimeout(timeout)
    buf, out, ends = b"", [], 0
    deadline = time.monotonic() + timeout
    while ends < answers and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 16:
            t, n = struct.unpack_from("=IH", buf)
            if len(buf) < n:
                break
            out.append((t, buf[16:n]))
            ends += t in (IMSG["IMSG_CTL_OK"], IMSG["IMSG_CTL_FAIL"])
            buf = buf[n:]
    return out


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def frame(type_, payload=b"", flags=0, length=None):
    n = 16 + len(payload) if length is None else length
    return struct.pack("=IHHII", type_, n, flags, 0, os.getpid()) + payload


def read_frames(sock, timeout=5):
    """Frames until EOF or timeout: list of (type, payload)."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
            if len(buf) >= 16:
                t, n = struct.unpack_from("=IH", buf)
                if len(buf) >= n and t in (IMSG["IMSG_CTL_OK"],
                                           IMSG["IMSG_CTL_FAIL"]):
                    # enough for one request/answer exchange
                    if len(buf) == n:
                        break
    except socket.timeout:
        pass
    out = []
    while len(buf) >= 16:
        t, n = struct.unpack_from("=IH", buf)
        out.append((t, buf[16:n]))
        buf = buf[n:]
    return out


class TestLifecycle(unittest.TestCase):

    def test_status_privsep_and_clean_stop(self):
        with Smtpd() as d:
            d.start()
            procs, agents = d.status()
            self.assertEqual(sorted(procs), sorted(PROCS))
            # CTL-06: the three agents, all running
            self.assertEqual(agents, {"MDA": "running", "MTA": "running",
                                      "SMTP": "running"})
            for name, p in procs.items():
                self.assertEqual(p["state"], "running", name)
                self.assertTrue(pid_alive(p["pid"]), name)
                self.assertEqual(proc_title(p["pid"]), "smtpd: " + name)
            self.assertEqual(procs["parent"]["pid"], d.pid)
            self.assertEqual(sorted(p["pid"] for n, p in procs.items()
                                    if n != "parent"), sorted(d.child_pids))
            if is_root():
                want_user = {n: USER for n in PROCS}
                want_user.update(parent="root", queue=QUSER)
                want_root = {n: EMPTY for n in PROCS}
                want_root.update(parent="/", lookup="/",
                                 queue=os.path.join(d.dir, "spool"))
                for name, p in procs.items():
                    self.assertEqual(p["user"], want_user[name], name)
                    self.assertEqual(p["root"], want_root[name], name)
                    # the kernel agrees with what the daemon reports
                    real = os.readlink("/proc/%d/root" % p["pid"])
                    self.assertEqual(real, want_root[name], name)
                    with open("/proc/%d/status" % p["pid"]) as f:
                        uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)",
                                        f.read(), re.M)
                    want_uid = pwd.getpwnam(want_user[name]).pw_uid
                    self.assertEqual({int(x) for x in uid.groups()},
                                     {want_uid}, name)
            # fresh address space per child: re-exec, not just fork
            maps = set()
            for p in procs.values():
                exe = os.readlink("/proc/%d/exe" % p["pid"])
                with open("/proc/%d/maps" % p["pid"]) as f:
                    maps.add([ln.split("-")[0] for ln in f
                              if ln.rstrip().endswith(exe)][0])
            self.assertEqual(len(maps), len(procs))
            rc = d.stop()
            self.assertEqual(rc, 0)
            for p in procs.values():
                self.assertFalse(pid_alive(p["pid"]))
            self.assertFalse(os.path.exists(d.sock))
            self.assertFalse(os.path.exists(d.pidfile))
            log = d.log()
            self.assertIn("parent stopping reason=\"SIGTERM\"", log)
            self.assertIn("parent stopped status=0", log)
            self.assertNotIn("warn:", log)
            self.assertNotIn("fatal:", log)

    def test_process_group_signal_is_a_clean_stop(self):
        # systemd and timeout(1) signal the whole group at once
        with Smtpd() as d:
            d.start()
            os.killpg(d.pid, signal.SIGTERM)
            self.assertEqual(d.proc.wait(timeout=15), 0)
            self.assertNotIn("died", d.log())

    def test_sighup_is_ignored(self):
        with Smtpd() as d:
            d.start()
            os.kill(d.pid, signal.SIGHUP)
            self.assertTrue(wait_for(lambda: "SIGHUP ignored" in d.log(), 5))
            procs, _ = d.status()
            self.assertEqual(len(procs), len(PROCS))
            self.assertEqual(d.stop(), 0)

    def test_dead_child_is_named_and_stops_daemon(self):
        with Smtpd() as d:
            d.start()
            procs, _ = d.status()
            os.kill(procs["queue"]["pid"], signal.SIGKILL)
            rc = d.proc.wait(timeout=15)
            self.assertEqual(rc, 1)
            self.assertTrue(wait_for(lambda: not any(
                pid_alive(p["pid"]) for p in procs.values()), 10))
            self.assertRegex(d.log(), r"child process queue \(pid %d\) "
                             r"died, signal=9" % procs["queue"]["pid"])

    def test_status_reports_agents_and_processes(self):
        # CTL-06: the agents as OpenSMTPD prints them ("MDA paused"), -P
        # honoured, then the process table
        with Smtpd(args=["-P", "mda", "-P", "smtp"]) as d:
            d.start()
            r = d.ctl("show", "status")
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.splitlines()
            self.assertEqual(lines[:3], ["MDA paused", "MTA running",
                                         "SMTP paused"])
            self.assertEqual(lines[3].split(),
                             ["PROCESS", "PID", "USER", "ROOT", "STATE"])
            self.assertEqual(sorted(ln.split()[0] for ln in lines[4:]),
                             sorted(PROCS))
            self.assertEqual(d.ctl("resume", "mda").returncode, 0)
            self.assertEqual(d.ctl("pause", "mta").returncode, 0)
            self.assertEqual(d.status()[1], {"MDA": "running",
                                             "MTA": "paused",
                                             "SMTP": "paused"})

    def test_trace_imsg(self):
        with Smtpd(args=["-T", "imsg"]) as d:
            d.start()
            d.status()
            self.assertRegex(d.log(), r"trace: imsg: control <- client: "
                             r"IMSG_CTL_SHOW_STATUS")

    def test_two_instances_side_by_side(self):
        # b listens elsewhere: two daemons cannot share a port
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with Smtpd() as a, Smtpd(conf="listen on 127.0.0.1 port %d\n"
                                 "action l mbox\nmatch for local action l\n"
                                 % port) as b:
            a.start()
            b.start()
            self.assertNotEqual(a.status()[0]["parent"]["pid"],
                                b.status()[0]["parent"]["pid"])
            # a third on a's socket is refused
            r = run_smtpd(["-d", "-r", b.dir, "-o", "socket=" + a.sock])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("another smtpd is running", r.stderr)
            self.assertEqual(a.stop(), 0)
            self.assertEqual(b.stop(), 0)

    def test_daemon_mode(self):
        with Smtpd() as d:
            d.start(wait=False, foreground=False)
            self.assertEqual(d.proc.wait(timeout=15), 0)
            self.assertTrue(wait_for(lambda: os.path.exists(d.pidfile) and
                                     os.path.exists(d.sock), 10))
            with open(d.pidfile) as f:
                pid = int(f.read())
            procs = wait_for(lambda: d.ctl("show", "status").returncode
                             == 0, 10)
            self.assertTrue(procs)
            procs, _ = d.status()
            self.assertEqual(procs["parent"]["pid"], pid)
            os.kill(pid, signal.SIGTERM)
            self.assertTrue(wait_for(lambda: not any(
                pid_alive(p["pid"]) for p in procs.values()), 15))
            self.assertFalse(os.path.exists(d.pidfile))


@unittest.skipUnless(is_root(), "needs root to test another user")
class TestUnprivileged(unittest.TestCase):

    def test_runs_without_privilege_separation(self):
        with Smtpd(user=UNPRIV) as d:
            d.start()
            self.assertRegex(d.log(), r"parent unprivileged uid=\d+ "
                             r"privsep=no chroot=no setuid=no")
            procs, _ = d.ctl_user_status = d.status()
            for name, p in procs.items():
                self.assertEqual(p["user"], UNPRIV, name)
                self.assertEqual(p["root"], "/", name)
            # the user who started it may control it, and root may
            r = d.ctl("show", "status", user=UNPRIV)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(d.stop(), 0)


@unittest.skipUnless(is_root(), "needs root to test another user")
class TestControlPrivilege(unittest.TestCase):

    def test_unprivileged_client_refused(self):
        with Smtpd() as d:
            d.start()
            r = d.ctl("show", "status", user=UNPRIV)
            self.assertEqual(r.returncode, 1)
            self.assertIn("permission denied", r.stderr)
            self.assertEqual(d.ctl("show", "status").returncode, 0)


class TestControlBadInput(unittest.TestCase):
    """No control client can bring the daemon down (SEC-06)."""

    def alive_after(self, d, send):
        s = d.connect_control()
        try:
            s.sendall(send)
            frames = read_frames(s, timeout=3)
        finally:
            s.close()
        procs, _ = d.status()
        self.assertEqual(len(procs), len(PROCS))
        return frames

    def test_garbage_and_malformed_frames(self):
        with Smtpd() as d:
            d.start()
            # random bytes, a short length, an oversized length, bad flags
            self.alive_after(d, os.urandom(4096))
            self.alive_after(d, frame(IMSG["IMSG_CTL_HELLO"], length=8))
            self.alive_after(d, frame(IMSG["IMSG_CTL_HELLO"],
                                      length=65000) + b"x" * 100)
            self.alive_after(d, frame(IMSG["IMSG_CTL_HELLO"],
                                      struct.pack("=I", 1), flags=0x80))
            # a message a client may not send, and an unknown type
            self.alive_after(d, frame(IMSG["IMSG_PARENT_START"]))
            self.alive_after(d, frame(99999))
            # truncated and trailing-garbage payloads
            self.alive_after(d, frame(IMSG["IMSG_CTL_HELLO"], b"\1\0"))
            self.alive_after(d, frame(IMSG["IMSG_CTL_HELLO"],
                                      struct.pack("=I", 1) + b"junk"))
            # a half frame, then the client vanishes
            self.alive_after(d, frame(IMSG["IMSG_CTL_HELLO"],
                                      struct.pack("=I", 1))[:10])
            log = d.log()
            self.assertIn("dropping client: malformed frame", log)
            self.assertIn("dropping client: unexpected", log)
            self.assertIn("dropping client: malformed payload", log)
            self.assertNotIn("fatal", log)
            self.assertEqual(d.stop(), 0)

    def test_protocol_order_and_version(self):
        with Smtpd() as d:
            d.start()
            # a request before hello is refused, not obeyed
            fr = self.alive_after(d, frame(IMSG["IMSG_CTL_SHOW_STATUS"]))
            self.assertEqual(fr[0][0], IMSG["IMSG_CTL_FAIL"])
            self.assertIn(b"no hello", fr[0][1])
            fr = self.alive_after(d, frame(IMSG["IMSG_CTL_HELLO"],
                                           struct.pack("=I", 999)))
            self.assertEqual(fr[0][0], IMSG["IMSG_CTL_FAIL"])
            self.assertIn(b"version mismatch", fr[0][1])

    def test_many_clients(self):
        with Smtpd() as d:
            d.start()
            socks = []
            try:
                for _ in range(200):
                    socks.append(d.connect_control())
                # the refusal comes when control accepts one too many:
                # waited for while every socket is still open
                wait_for(lambda: "clients already, refusing one" in
                         d.log(), 10)
            finally:
                for s in socks:
                    s.close()
            self.assertTrue(wait_for(
                lambda: d.ctl("show", "status").returncode == 0, 10))
            self.assertIn("clients already, refusing one", d.log())


TABLE_CONF = """
table aliases { "root" = "alice" }
action "local" mbox alias <aliases>
match from local for local action "local"
"""

# a local user holding connections: prints how many stayed open, then
# holds them until its stdin closes (bounded by the caller's timeout)
HOLDER = r"""
import select, socket, sys, time
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    socks.append(s)
time.sleep(1)
# a connection control refused is closed: readable, at EOF
print(sum(1 for s in socks if not select.select([s], [], [], 0)[0]),
      flush=True)
sys.stdin.read()
"""


class TestControlLimits(unittest.TestCase):
    """What a control client sends, and what one local user holds, is
    bounded; over-long arguments are refused where they enter (issue 7,
    "Bad input", the control socket)."""

    def test_table_key_limit(self):
        top = TABLE_KEY_MAX - 1             # the longest key accepted
        with Smtpd(conf=TABLE_CONF) as d:
            d.start()
            for n in (top - 1, top):
                r = d.ctl("table", "lookup", "aliases", "alias", "k" * n)
                self.assertEqual((r.returncode, r.stdout), (1, "not found\n"),
                                 (n, r.stderr))
            r = d.ctl("table", "lookup", "aliases", "alias", "k" * (top + 1))
            self.assertEqual(r.returncode, 2)
            self.assertIn("key too long: %d bytes, at most %d" %
                          (top + 1, top), r.stderr)
            # a client that skips smtpctl's check: refused by control; the
            # old fatal range (16,348-16,352 bytes, in a table "t": the
            # longest that fit in one frame) among them
            for n in (top - 1, top, top + 1, 16348, 16350, 16352):
                s = d.connect_control()
                try:
                    fr = exchange(s, hello() + table_query(
                        b"aliases" if n <= top + 1 else b"t", b"k" * n))
                finally:
                    s.close()
                self.assertEqual(fr[0][0], IMSG["IMSG_CTL_OK"], n)
                if n <= top:
                    self.assertEqual(fr[1][0], IMSG["IMSG_CTL_TABLE_RESULT"],
                                     n)
                    self.assertEqual(fr[2][0], IMSG["IMSG_CTL_OK"], n)
                else:
                    self.assertEqual(fr[1][0], IMSG["IMSG_CTL_FAIL"], n)
                    self.assertIn(b"table key too long", fr[1][1], n)
            procs, _ = d.status()
            self.assertEqual(len(procs), len(PROCS))
            log = d.log()
            self.assertIn("key too long (%d bytes, at most %d) "
                          "table=aliases" % (top + 1, top), log)
            self.assertIn("key too long (16352 bytes, at most %d) table=t\n"
                          % top, log)
            self.assertNotIn("fatal", log)
            self.assertEqual(d.stop(), 0)

    def test_table_name_limit(self):
        top = TABLE_NAME_MAX - 1            # the longest name accepted
        with Smtpd(conf=TABLE_CONF) as d:
            d.start()
            for n in (top - 1, top):
                r = d.ctl("update", "table", "n" * n)
                self.assertEqual(r.returncode, 1)
                self.assertIn("no such table", r.stderr)
                r = d.ctl("table", "check", "n" * n, "alias", "root")
                self.assertEqual(r.returncode, 2)
                self.assertIn("no such table", r.stderr)
            r = d.ctl("update", "table", "n" * (top + 1))
            self.assertEqual(r.returncode, 1)
            self.assertIn("table name too long: %d bytes, at most %d" %
                          (top + 1, top), r.stderr)
            r = d.ctl("table", "fetch", "n" * (top + 1), "alias")
            self.assertEqual(r.returncode, 2)
            self.assertIn("table name too long", r.stderr)
            # raw clients, the old fatal range (16,359-16,366) among them
            for n in (top - 1, top, top + 1, 16359, 16362, 16366):
                reqs = [update_table(b"n" * n)]
                if n < 16000:       # a fetch has room for less
                    reqs.append(table_query(b"n" * n, None, op=3))
                for req in reqs:
                    s = d.connect_control()
                    try:
                        fr = exchange(s, hello() + req)
                    finally:
                        s.close()
                    self.assertEqual(fr[1][0], IMSG["IMSG_CTL_FAIL"], n)
                    self.assertIn(b"no such table" if n <= top else
                                  b"table name too long", fr[1][1], n)
            procs, _ = d.status()
            self.assertEqual(len(procs), len(PROCS))
            log = d.log()
            self.assertIn("table name too long (%d bytes, at most %d) "
                          "table=nnnn" % (top + 1, top), log)
            self.assertIn("table name too long (16366 bytes", log)
            self.assertNotIn("fatal", log)
            self.assertEqual(d.stop(), 0)

    def test_answer_for_a_client_that_left(self):
        # the relay routes answers by request id: one whose client has
        # gone is dropped, and the next client is answered as usual
        with Smtpd(args=["-v"]) as d:
            d.start()
            for _ in range(20):
                s = d.connect_control()
                s.sendall(hello() + frame(IMSG["IMSG_CTL_SHOW_STATUS"]))
                s.close()
                if wait_for(lambda: "whose client left" in d.log(), 0.5):
                    break
            self.assertRegex(d.log(), r"control: "
                             r"IMSG_PARENT_GET_STATUS_RESULT for request "
                             r"\d+, whose client left")
            procs, _ = d.status()
            self.assertEqual(len(procs), len(PROCS))
            self.assertNotIn("fatal", d.log())

    def test_unknown_service_refused(self):
        with Smtpd(conf=TABLE_CONF) as d:
            d.start()
            r = d.ctl("table", "lookup", "aliases", "bogus", "root")
            self.assertEqual(r.returncode, 2)
            self.assertIn("unknown table service", r.stderr)
            s = d.connect_control()
            try:
                fr = exchange(s, hello() + table_query(b"aliases", b"root",
                                                       service=b"x" * 16000))
            finally:
                s.close()
            self.assertEqual(fr[1][0], IMSG["IMSG_CTL_FAIL"])
            self.assertIn(b"unknown table service", fr[1][1])
            self.assertEqual(d.ctl("table", "lookup", "aliases", "alias",
                                   "root").stdout, "alice\n")

    def test_unread_replies_are_bounded(self):
        # requests sent without ever reading a reply: the backlog grows to
        # a bound, then the client is dropped; control stays small.  Each
        # request is refused (before hello, or busy after it): before the
        # bound, 256 MB of them grew control by 1.5 GB.
        with Smtpd() as d:
            d.start()
            control = d.status()[0]["control"]["pid"]
            before = rss_kb(control)
            for first in (b"", hello()):
                s = d.connect_control()
                s.settimeout(2)
                burst = frame(IMSG["IMSG_CTL_SHOW_STATUS"]) * 4096
                sent, deadline = 0, time.monotonic() + 15
                try:
                    s.sendall(first)
                    while sent < 256 << 20 and time.monotonic() < deadline:
                        s.sendall(burst)
                        sent += len(burst)
                except (BrokenPipeError, ConnectionResetError,
                        socket.timeout):
                    pass
                finally:
                    s.close()
                self.assertLess(sent, 16 << 20)
            self.assertTrue(wait_for(lambda: d.log().count(
                "does not read its replies") == 2, 10), d.log())
            after = rss_kb(control)
            self.assertLess(after - before, 16 * 1024,
                            "control grew from %d to %d kB" % (before, after))
            procs, _ = d.status()
            self.assertEqual(len(procs), len(PROCS))
            self.assertNotIn("fatal", d.log())

    def test_idle_clients_time_out(self):
        with Smtpd() as d:
            d.start()
            control = d.status()[0]["control"]["pid"]
            before = rss_kb(control)
            silent = d.connect_control()
            greeted = d.connect_control()
            try:
                self.assertEqual(exchange(greeted, hello(), answers=1)[0][0],
                                 IMSG["IMSG_CTL_OK"])
                t0 = time.monotonic()
                for s in (silent, greeted):
                    s.settimeout(CONTROL_IDLE + 10)
                    while s.recv(4096):
                        pass
                waited = time.monotonic() - t0
            finally:
                silent.close()
                greeted.close()
            self.assertGreater(waited, CONTROL_IDLE - 2)
            self.assertLess(waited, CONTROL_IDLE + 5)
            self.assertEqual(d.log().count("idle for %ds, dropping it" %
                                           CONTROL_IDLE), 2)
            self.assertLess(rss_kb(control) - before, 16 * 1024)
            self.assertEqual(d.ctl("show", "status").returncode, 0)

    @unittest.skipUnless(is_root(), "needs root to act as other users")
    def test_connections_per_uid_and_room_for_root(self):
        with Smtpd() as d:
            d.start()
            control = d.status()[0]["control"]["pid"]
            before = rss_kb(control)
            holders = []

            def hold(uid, n):
                def pre():
                    os.setgroups([])
                    os.setgid(uid)
                    os.setuid(uid)
                p = subprocess.Popen(["python3", "-c", HOLDER, d.sock,
                                      str(n)], preexec_fn=pre,
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
                holders.append(p)
                return int(p.stdout.readline())

            try:
                # one uid gets its share of 16, no more
                self.assertEqual(hold(60001, 24), 16)
                # seven more uids: 120 in all, 8 kept for root
                held = [hold(uid, 16) for uid in range(60002, 60009)]
                self.assertEqual(held, [16] * 6 + [8])
                # root still gets in, while every share is held
                r = d.ctl("show", "status")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertLess(rss_kb(control) - before, 16 * 1024)
            finally:
                for p in holders:
                    p.stdin.close()
                    p.wait(timeout=10)
            log = d.log()
            self.assertIn("uid=60001 holds 16 connections already, "
                          "refusing one", log)
            self.assertIn("the last 8 connections are kept for root, "
                          "refusing uid=60008", log)


class TestSmtpctlLostConnection(unittest.TestCase):
    """smtpctl on a connection that goes away: a clear error, exit 1, and
    nothing leaked (checked by LeakSanitizer when smtpctl is built with
    SAN=1: detect_leaks is forced on for it here)."""

    def run_against(self, answer):
        d = tempfile.mkdtemp(prefix="smtpctl-test-")
        path = os.path.join(d, "fake.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(10)
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":detect_leaks=1").lstrip(":")
        p = subprocess.Popen([SMTPCTL, "-s", path, "show", "status"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
        try:
            c, _ = srv.accept()
            c.settimeout(5)
            c.recv(4096)
            if answer:
                c.sendall(answer)
            c.close()
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
            srv.close()
            os.unlink(path)
            os.rmdir(d)
        if "LeakSanitizer has encountered a fatal error" in err:
            self.skipTest("leak detection cannot run here")
        return p.returncode, err

    def test_closed_before_answering(self):
        rc, err = self.run_against(b"")
        self.assertEqual(rc, 1, err)
        self.assertIn("connection to smtpd lost", err)
        self.assertNotIn("LeakSanitizer", err)

    def test_closed_mid_answer(self):
        ok = frame(IMSG["IMSG_CTL_OK"])
        row = frame(IMSG["IMSG_CTL_PROC_STATUS"], struct.pack(
            "=iiII", 0, 1, 0, 0) + tagged(b"/") + tagged(b"running"))
        rc, err = self.run_against(ok + row)
        self.assertEqual(rc, 1, err)
        self.assertIn("connection to smtpd lost", err)
        self.assertNotIn("LeakSanitizer", err)

    def test_garbage_answer(self):
        rc, err = self.run_against(frame(IMSG["IMSG_CTL_OK"], length=8))
        self.assertEqual(rc, 1, err)
        self.assertIn("connection to smtpd lost", err)
        self.assertNotIn("LeakSanitizer", err)


class TestStartupErrors(unittest.TestCase):

    def test_unknown_process_name(self):
        r = run_smtpd(["-x", "bogus"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("-x bogus: unknown process name", r.stderr)

    def test_child_role_without_parent(self):
        r = run_smtpd(["-x", "control", "-d"], stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is for smtpd's own use", r.stderr)

    def test_missing_config_file(self):
        r = run_smtpd(["-d", "-f", "/nonexistent/smtpd.conf"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent/smtpd.conf: No such file or directory",
                      r.stderr)

    def test_bad_options(self):
        for args, msg in ((["-T", "bogus"], "unknown trace subsystem"),
                          (["-P", "bogus"], "expected mda, mta or smtp"),
                          (["-o", "bogus=1"], "unknown key"),
                          (["-o", "spool=relative"], "must be absolute"),
                          (["-o", "mta-timeout=0"],
                           "expected 1 to 3600 seconds"),
                          (["-o", "mta-port=65536"],
                           "expected a port, 1 to 65535"),
                          (["-o", "mda-agent-idle=-1"],
                           "expected 0 to 3600 seconds"),
                          (["-o", "mta-list-ttl=1x"],
                           "expected 1 to 86400 seconds"),
                          (["-o", "mta-list-ttl="],
                           "expected 1 to 86400 seconds"),
                          (["-D", "novalue"], "expected name=value"),
                          (["-q"], "unknown option -q"),
                          (["extra"], "unexpected argument")):
            r = run_smtpd(args)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(msg, r.stderr, args)

    @unittest.skipUnless(is_root(), "accounts are only checked as root")
    def test_missing_account(self):
        with Smtpd(args=["-o", "user=no_such_user_x"]) as d:
            d.start(wait=False)
            self.assertEqual(d.proc.wait(timeout=15), 1)
            self.assertIn("user no_such_user_x does not exist", d.log())


class TestChildChannel(unittest.TestCase):
    """A child fed bad imsg by its parent stops with a log line, never a
    crash (an internal inconsistency is fatal, SEC-06)."""

    def run_child(self, data, role="scheduler"):
        ensure_accounts()
        a, b = socket.socketpair()
        fd = b.fileno()

        p = subprocess.Popen([SMTPD, "-x", role, "-X%d" % fd, "-d"],
                             pass_fds=(fd,), env=daemon_env(is_root()),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        b.close()
        try:
            if data is not None:
                a.sendall(data)
            time.sleep(0.3)
            a.close()
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        return p.returncode, err

    def test_malformed_frame(self):
        rc, err = self.run_child(frame(1, length=8))
        self.assertEqual(rc, 1)
        self.assertIn("malformed frame", err)

    def test_unknown_message(self):
        rc, err = self.run_child(frame(4242))
        self.assertEqual(rc, 1)
        self.assertIn("unexpected IMSG_UNKNOWN from parent", err)

    def test_bad_payload(self):
        rc, err = self.run_child(frame(IMSG["IMSG_PARENT_PEER_FD"],
                                       struct.pack("=i", -5)))
        self.assertEqual(rc, 1)
        self.assertIn("malformed payload in IMSG_PARENT_PEER_FD from "
                      "parent", err)

    def test_parent_closes(self):
        rc, err = self.run_child(None)
        self.assertEqual(rc, 0)
        self.assertNotIn("fatal", err)


if __name__ == "__main__":
    unittest.main()
