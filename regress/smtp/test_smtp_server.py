"""test_smtp_server.py -- the SMTP server library (smtpd/dispatcher/smtp.h)
on 127.0.0.1, driven by Python's smtplib, by swaks and by raw sockets.

Each test starts regress/smtp/smtp_host (built as BUILD/regress/smtp/
smtp_host): a real server on an ephemeral loopback port with an
in-memory host behind the hooks (bodies written to a temporary
directory; recipient "unknown" gets 550 5.1.1, "tempfail" 451).  The
host logs every hook to DIR/events.log, which the tests read.  Every
process started here is stopped by its PID; every wait is bounded.
"""
import os
import re
import resource
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
HOST = os.path.join(BUILD, "regress", "smtp", "smtp_host")
NAME = "mx.test.example"
IO_TIMEOUT = 20


def smtpdtest_not_run(why):
    """The reason text regress/run.py counts as not run."""
    return "not run: " + why
REPLY = re.compile(rb"^(\d{3})([ -])(.*)$")
ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3} ")


class Host:
    """One smtp_host process and its directory."""

    def __init__(self, *args, nofile=None, env=None):
        self.dir = tempfile.mkdtemp(prefix="smtp-host-")
        self.clients = []
        self.stderr = open(os.path.join(self.dir, "stderr"), "w")

        def limit():
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen([HOST, "-d", self.dir] + list(args),
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.stderr, preexec_fn=limit,
                                     env=env)
        deadline = time.monotonic() + 10
        path = os.path.join(self.dir, "port")
        while not os.path.exists(path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("smtp_host did not start")
            time.sleep(0.02)
        with open(path) as f:
            self.port = int(f.read())

    def stop(self):
        for s in self.clients:
            s.close()
        self.clients = []
        pid = self.proc.pid
        if pid > 1 and self.proc.poll() is None:
            os.kill(pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                self.proc.wait(10)
        self.stderr.close()
        rc = self.proc.returncode
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def events(self):
        with open(os.path.join(self.dir, "events.log")) as f:
            return f.read().splitlines()

    def wait_event(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pred(e) for e in self.events()):
                return True
            time.sleep(0.02)
        return False

    def messages(self):
        return sorted(f for f in os.listdir(self.dir) if f.endswith(".eml"))

    def message(self, name):
        with open(os.path.join(self.dir, name), "rb") as f:
            return f.read()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), IO_TIMEOUT)
        self.clients.append(s)
        return Client(s)

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


class Client:
    """A raw SMTP client: send bytes, read whole replies."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """(code, [texts]) of the next reply, multi-line joined."""
        texts = []
        while True:
            m = REPLY.match(self.line())
            if m is None:
                raise AssertionError("not a reply line")
            texts.append(m.group(3).decode())
            if m.group(2) == b" ":
                return int(m.group(1)), texts

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def closed(self):
        """True when the server closed (after what it still sends); a
        reset counts: the server closed with our bytes unread."""
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class SmtpCase(unittest.TestCase):
    args = ()

    def setUp(self):
        if not os.path.exists(HOST):
            self.fail("%s not built (make)" % HOST)
        self.host = Host(*self.args)

    def tearDown(self):
        self.assertEqual(self.host.stop(), 0)

    def hello(self, c=None):
        c = c or self.host.connect()
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd("EHLO client.example")[0], 250)
        return c

    def assertReply(self, got, code, text=None):
        self.assertEqual(got[0], code, got)
        if text is not None:
            self.assertIn(text, got[1][-1])
        if code not in (220, 354) and not got[1][-1].startswith(NAME):
            self.assertRegex(got[1][-1], ENHANCED)


class TestDialogue(SmtpCase):
    args = ("-e", "100")     # these tests make many errors on purpose

    def test_greeting_and_ehlo(self):
        c = self.host.connect()
        self.assertEqual(c.reply(), (220, [NAME + " ESMTP OpenSMTPD"]))
        code, lines = c.cmd("EHLO client.example")
        self.assertEqual(code, 250)
        self.assertEqual(lines[0], NAME + " Hello client.example "
                         "[127.0.0.1], pleased to meet you")
        self.assertEqual(lines[1:], ["8BITMIME", "ENHANCEDSTATUSCODES",
                                     "SIZE 36700160", "DSN", "PIPELINING",
                                     "HELP"])
        self.assertEqual(c.cmd("HELO client.example"),
                         (250, [NAME + " Hello client.example [127.0.0.1]"
                                ", pleased to meet you"]))
        self.assertReply(c.cmd("EHLO"), 501, "5.5.4")
        self.assertReply(c.cmd("HELO x..y"), 501, "Invalid domain name")
        self.assertReply(c.cmd("HELO [127.0.0.1]"), 250)
        self.assertReply(c.cmd("EHLO a.example b.example"), 501)
        self.assertEqual(c.cmd("EHLO trailing.example  ")[1][0],
                         NAME + " Hello trailing.example [127.0.0.1], "
                         "pleased to meet you")
        self.assertReply(c.cmd("QUIT"), 221, "2.0.0 Bye")
        self.assertTrue(c.closed())

    def test_verbs_and_ordering(self):
        c = self.host.connect()
        c.reply()
        self.assertReply(c.cmd("MAIL FROM:<a@b.example>"), 503,
                         "5.5.1 Invalid command: Polite people say HELO")
        self.assertEqual(c.cmd("EHLO client.example")[0], 250)
        self.assertReply(c.cmd("RCPT TO:<a@b.example>"), 503, "5.5.1")
        self.assertReply(c.cmd("DATA"), 503, "5.5.1")
        self.assertReply(c.cmd("VRFY root"), 500,
                         "5.5.1 Invalid command: Command unrecognized")
        self.assertReply(c.cmd("EXPN root"), 500, "5.5.1")
        self.assertReply(c.cmd("BDAT 10"), 500, "5.5.1")
        self.assertReply(c.cmd("NOOP"), 250, "2.0.0 Ok")
        self.assertReply(c.cmd("NOOP with args"), 250, "2.0.0 Ok")
        code, lines = c.cmd("HELP")
        self.assertEqual(code, 214)
        self.assertTrue(all(ENHANCED.match(x) for x in lines))
        self.assertReply(c.cmd("RSET"), 250, "2.0.0")
        self.assertReply(c.cmd("MAIL FROM:<a@b.example>"), 250, "2.0.0 Ok")
        self.assertReply(c.cmd("MAIL FROM:<a@b.example>"), 503, "5.5.1")
        self.assertReply(c.cmd("DATA"), 503,
                         "5.5.1 Invalid command: No recipient specified")
        self.assertReply(c.cmd("RCPT TO:<x@y.example>"), 250,
                         "2.1.5 Destination address valid: Recipient ok")
        self.assertReply(c.cmd("RCPT TO:<unknown@y.example>"), 550,
                         "5.1.1")
        self.assertReply(c.cmd("RCPT TO:<tempfail@y.example>"), 451,
                         "4.3.0 Temporary lookup failure??X")
        self.assertReply(c.cmd("RSET"), 250)
        self.assertTrue(self.host.wait_event(
            lambda e: e.startswith("tx_abort msgid=00000001")))
        self.assertReply(c.cmd("MAIL FROM:<tempfail@b.example>"), 451)
        self.assertReply(c.cmd("RCPT TO:<x@y.example>"), 503, "5.5.1")
        self.assertReply(c.cmd("QUIT"), 221)

    def test_addresses(self):
        c = self.hello()
        for bad in ("<a@b@c>", "<@bleh>", "<\"ab@c.d>", "a@b.example",
                    "<a@b.example", "<a..b@c.d>", "<a@b.example>x"):
            self.assertReply(c.cmd("MAIL FROM:" + bad), 553,
                             "5.1.0 Sender address syntax error")
        self.assertReply(c.cmd("MAIL FROM:<>"), 250)
        for bad in ("<>", "<a@b@c>", "<@bleh>", "<\"ab@c.d>", "<a@>",
                    "<a\x01b@c.d>"):
            self.assertReply(c.cmd("RCPT TO:" + bad), 501,
                             "5.1.3 Recipient address syntax error")
        self.assertReply(c.cmd("RCPT TO:<root>"), 250)
        self.assertReply(c.cmd("RCPT TO:<@a.example,@b.example:u@d.example>"),
                         250)
        self.assertReply(c.cmd("RCPT TO:<u%v@w.example>"), 250)
        self.assertReply(c.cmd("RCPT TO:<\"q u\"@w.example>"), 250)
        self.assertReply(c.cmd("RCPT TO: <sp@w.example>"), 250)
        ev = self.host.events()
        self.assertIn("tx_begin", ev[-6])
        self.assertIn("sender=@ ", ev[-6])
        self.assertIn("rcpt=root@" + NAME + " ", ev[-5])
        self.assertIn("rcpt=u@d.example ", ev[-4])
        self.assertIn("rcpt=u%v@w.example ", ev[-3])
        self.assertIn("rcpt=\"q u\"@w.example ", ev[-2])
        c.cmd("QUIT")

    def test_params(self):
        c = self.hello()
        self.assertReply(c.cmd("MAIL FROM:<a@b.example> SIZE=36700161"), 552,
                         "5.3.4")
        self.assertReply(c.cmd("MAIL FROM:<a@b.example> "
                               "SIZE=99999999999999999999"), 552, "5.3.4")
        self.assertReply(c.cmd("MAIL FROM:<a@b.example> SIZE=1x"), 501,
                         "5.5.4")
        self.assertReply(c.cmd("MAIL FROM:<a@b.example> FOO=1"), 503,
                         "5.5.4 Unsupported option FOO=1")
        self.assertReply(c.cmd("MAIL FROM:<a@b.example> ENVID=a=b"), 501)
        self.assertReply(c.cmd("MAIL FROM:<a@b.example> SIZE=36700160 "
                               "BODY=8BITMIME AUTH=<> RET=HDRS ENVID=x+2By"),
                         250)
        self.assertIn("ret=2 envid=x+2By",
                      self.host.events()[-1])
        self.assertReply(c.cmd("RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS"),
                         553, "5.5.4")
        self.assertReply(c.cmd("RCPT TO:<a@b.example> ORCPT=x400;a"), 553,
                         "5.5.4")
        self.assertReply(c.cmd("RCPT TO:<a@b.example> NOTIFY=SUCCESS,DELAY "
                               "ORCPT=rfc822;o+2Bx@b.example"), 250)
        self.assertIn("notify=5 orcpt=o+x@b.example", self.host.events()[-1])
        c.cmd("QUIT")

    def test_no_echo_of_control_bytes(self):
        c = self.hello()
        c.send(b"MAIL FROM:<a@b.example> X\x01\x7f=\x00\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 500)   # a NUL in a command line
        code, lines = c.cmd("MAIL FROM:<a@b.example> X\x01\x7f=1")
        self.assertEqual(code, 503)
        self.assertNotRegex(lines[0], "[\x00-\x1f\x7f]")
        c.cmd("QUIT")

    def test_bare_lf_command(self):
        c = self.hello()
        c.send(b"NOOP\n")
        self.assertReply(c.reply(), 500, "5.5.2")
        c.send(b"NO\rOP\r\n")
        self.assertReply(c.reply(), 500, "5.5.2")
        self.assertReply(c.cmd("NOOP"), 250)
        c.cmd("QUIT")


class TestMail(SmtpCase):

    def test_smtplib_normal_mail(self):
        body = ("From: a@b.example\r\nBcc: hidden@x.example\r\n"
                "Subject: hi\r\n\r\n.leading dot\r\nline two\r\n")
        with smtplib.SMTP("127.0.0.1", self.host.port, timeout=IO_TIMEOUT) as s:
            s.ehlo("client.example")
            refused = s.sendmail("a@b.example", ["r@d.example"], body)
            self.assertEqual(refused, {})
        (name,) = self.host.messages()
        data = self.host.message(name)
        self.assertNotIn(b"\r", data)
        lines = data.split(b"\n")
        self.assertEqual(lines[0], b"Received: from client.example "
                         b"(<unknown> [127.0.0.1])")
        self.assertEqual(lines[1], b"\tby " + NAME.encode() +
                         b" (OpenSMTPD) with ESMTP id 00000001")
        self.assertEqual(lines[2], b"\tfor <r@d.example>;")
        self.assertRegex(lines[3].decode(), r"^\t\w{3}, \d\d \w{3} \d{4} "
                         r"\d\d:\d\d:\d\d [+-]\d{4}$")
        self.assertEqual(lines[4:], [b"From: a@b.example", b"Subject: hi",
                                     b"", b".leading dot", b"line two", b""])

    def test_swaks(self):
        swaks = shutil.which("swaks")
        if swaks is None:
            self.fail("swaks missing: sh scripts/deps.sh installs it")
        out = subprocess.run(
            [swaks, "--server", "127.0.0.1:%d" % self.host.port,
             "--from", "s@a.example", "--to", "r1@b.example,r2@b.example",
             "--helo", "swaks.example", "--pipeline",
             "--body", "hello\n.dot\n"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("250 2.0.0 00000001 Message accepted for delivery",
                      out.stdout)
        data = self.host.message("00000001.eml")
        self.assertTrue(data.startswith(b"Received: from swaks.example"))
        self.assertNotIn(b"\tfor <", data)   # two recipients
        self.assertIn(b"\nhello\n.dot\n", data)
        # swaks --pipeline says so when EHLO lacks PIPELINING
        self.assertNotIn("does not support PIPELINING", out.stdout)

    def swaks(self, *args, timeout=120):
        swaks = shutil.which("swaks")
        if swaks is None:
            self.fail("swaks missing: sh scripts/deps.sh installs it")
        return subprocess.run([swaks, "--server", "127.0.0.1:%d" %
                               self.host.port, "--helo", "swaks.example"] +
                              list(args), capture_output=True, text=True,
                              timeout=timeout)

    def test_swaks_1000_recipients(self):
        rcpts = ",".join("r%d@d.example" % i for i in range(1000))
        out = self.swaks("--from", "s@a.example", "--to", rcpts,
                         "--pipeline")
        self.assertEqual(out.returncode, 0, out.stdout[-2000:])
        self.assertIn("00000001 Message accepted", out.stdout)
        self.assertIn("data_begin msgid=00000001 nrcpt=1000",
                      self.host.events())

    def test_swaks_50mib_over_limit(self):
        self.host.stop()
        self.host = Host("-s", str(10 << 20))
        path = os.path.join(self.host.dir, "big.txt")
        with open(path, "wb") as f:
            line = b"w" * 1000 + b"\n"
            f.write(line * (50 * 1024 * 1024 // len(line)))
        out = self.swaks("--from", "s@a.example", "--to", "r@d.example",
                         "--body", "@" + path, "--suppress-data")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("554 5.3.4 Message too big", out.stdout)
        self.assertTrue(self.host.wait_event(
            lambda e: e == "tx_abort msgid=00000001"))
        self.assertEqual(self.host.messages(), [])

    def test_1000_recipients(self):
        rcpts = ["r%d@d.example" % i for i in range(1000)]
        with smtplib.SMTP("127.0.0.1", self.host.port, timeout=60) as s:
            self.assertEqual(s.sendmail("a@b.example", rcpts, "x\r\n"), {})
            code = s.docmd("MAIL", "FROM:<a@b.example>")[0]
            self.assertEqual(code, 250)
            for r in rcpts:
                s.docmd("RCPT", "TO:<%s>" % r)
            code, text = s.docmd("RCPT", "TO:<extra@d.example>")
            self.assertEqual((code, text), (451, b"4.5.3 Too many recipients"))
        ev = self.host.events()
        self.assertEqual(sum(e.startswith("rcpt msgid=00000001") for e in ev),
                         1000)
        self.assertIn("data_begin msgid=00000001 nrcpt=1000", ev)

    def test_pipelining_one_packet(self):
        for args in ((), ("-A",)):
            self.host.stop()
            self.host = Host(*args)
            c = self.host.connect()
            c.reply()
            c.send(b"EHLO p.example\r\nMAIL FROM:<a@b.example>\r\n"
                   b"RCPT TO:<c@d.example>\r\nRCPT TO:<unknown@d.example>\r\n"
                   b"RCPT TO:<e@d.example>\r\nDATA\r\n")
            self.assertEqual(c.reply()[0], 250)
            self.assertReply(c.reply(), 250, "2.0.0 Ok")
            self.assertReply(c.reply(), 250, "2.1.5")
            self.assertReply(c.reply(), 550, "5.1.1")
            self.assertReply(c.reply(), 250, "2.1.5")
            self.assertReply(c.reply(), 354)
            c.send(b"Subject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<>\r\n"
                   b"RCPT TO:<f@d.example>\r\nDATA\r\n")
            self.assertReply(c.reply(), 250, "00000001 Message accepted")
            self.assertReply(c.reply(), 250)
            self.assertReply(c.reply(), 250)
            self.assertReply(c.reply(), 354)
            c.send(b"two\r\n.\r\nQUIT\r\n")
            self.assertReply(c.reply(), 250, "00000002 Message accepted")
            self.assertReply(c.reply(), 221)
            self.assertTrue(c.closed())
            self.assertEqual(self.host.messages(),
                             ["00000001.eml", "00000002.eml"])

    def test_half_close_after_pipelined_commands(self):
        for args in ((), ("-A",)):
            self.host.stop()
            self.host = Host(*args)
            c = self.host.connect()
            c.send(b"EHLO p.example\r\nMAIL FROM:<a@b.example>\r\n"
                   b"RCPT TO:<c@d.example>\r\nDATA\r\nhi\r\n.\r\n"
                   b"QUIT\r\n")
            c.sock.shutdown(socket.SHUT_WR)
            self.assertEqual([c.reply()[0] for _ in range(7)],
                             [220, 250, 250, 250, 354, 250, 221])
            self.assertTrue(c.closed())
            self.assertEqual(self.host.messages(), ["00000001.eml"])

    def test_client_gone_while_hook_pending(self):
        self.host.stop()
        self.host = Host("-A")
        c = self.hello()
        c.send(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n")
        c.close()
        self.assertTrue(self.host.wait_event(lambda e: e == "session_end"))
        ev = self.host.events()
        self.assertIn("tx_abort msgid=00000001", ev)
        self.assertLess(ev.index("tx_abort msgid=00000001"),
                        ev.index("session_end"))

    def test_big_message(self):
        self.host.stop()
        self.host = Host("-s", str(10 << 20))
        chunk = (b"x" * 998 + b"\r\n") * 1024          # 1000 KiB
        with smtplib.SMTP("127.0.0.1", self.host.port, timeout=60) as s:
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                s.sendmail("a@b.example", ["c@d.example"], b"x" * (50 << 20))
            self.assertEqual(cm.exception.smtp_code, 552)
        c = self.hello()
        c.cmd("MAIL FROM:<a@b.example>")
        c.cmd("RCPT TO:<c@d.example>")
        self.assertReply(c.cmd("DATA"), 354)
        start = time.monotonic()
        for _ in range(52):
            c.send(chunk)
        c.send(b".\r\n")
        self.assertReply(c.reply(), 554, "5.3.4 Message too big")
        elapsed = time.monotonic() - start
        self.assertTrue(self.host.wait_event(
            lambda e: e == "tx_abort msgid=00000001"))
        self.assertEqual(self.host.messages(), [])
        self.assertReply(c.cmd("NOOP"), 250)
        c.cmd("QUIT")
        print("50 MiB refused in %.2f s" % elapsed)

    def test_large_message_accepted(self):
        lines = 400000                       # 32 MB under the 35 MiB default
        c = self.hello()
        c.cmd("MAIL FROM:<a@b.example> SIZE=%d" % (lines * 80))
        c.cmd("RCPT TO:<c@d.example>")
        self.assertReply(c.cmd("DATA"), 354)
        chunk = (b"z" * 78 + b"\r\n") * 10000
        start = time.monotonic()
        for _ in range(lines // 10000):
            c.send(chunk)
        c.send(b".\r\n")
        self.assertReply(c.reply(), 250, "Message accepted")
        elapsed = time.monotonic() - start
        data = self.host.message("00000001.eml")
        self.assertTrue(data.startswith(b"Received: "))
        received = data.index(b"\n\t", data.index(b"\tfor <")) + 1
        received = data.index(b"\n", received) + 1   # 4 lines
        self.assertEqual(data[received:], b"z" * 78 + b"\n" * 1 +
                         (b"z" * 78 + b"\n") * (lines - 1))
        c.cmd("QUIT")
        print("%d MB accepted in %.2f s" % (lines * 80 // 10**6, elapsed))

    def test_200_concurrent_sessions(self):
        self.host.stop()
        self.host = Host("-p", "1000", "-A")
        clients = [self.host.connect() for _ in range(200)]
        for c in clients:
            self.assertEqual(c.reply()[0], 220)
        for i, c in enumerate(clients):
            c.send(b"EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n"
                   b"RCPT TO:<r%d@d.example>\r\nDATA\r\n" % i)
        for c in clients:
            self.assertEqual([c.reply()[0] for _ in range(4)],
                             [250, 250, 250, 354])
            c.send(b"hi\r\n.\r\nQUIT\r\n")
        for c in clients:
            self.assertReply(c.reply(), 250)
            self.assertReply(c.reply(), 221)
            c.close()
        self.assertEqual(len(self.host.messages()), 200)

    def test_client_vanishes_mid_data(self):
        c = self.hello()
        c.cmd("MAIL FROM:<a@b.example>")
        c.cmd("RCPT TO:<c@d.example>")
        self.assertReply(c.cmd("DATA"), 354)
        c.send(b"Subject: half\r\n\r\nsome of the body\r\n")
        c.close()
        self.assertTrue(self.host.wait_event(
            lambda e: e == "tx_abort msgid=00000001"))
        self.assertTrue(self.host.wait_event(lambda e: e == "session_end"))
        self.assertFalse(any(e.startswith("data_end")
                             for e in self.host.events()))
        self.assertEqual(self.host.messages(), [])

    def test_smuggling(self):
        shapes = [b"a\n.\nMAIL FROM:<s@x.example>\n",
                  b"a\r.\rMAIL FROM:<s@x.example>\r",
                  b"a\r\n.\nMAIL FROM:<s@x.example>\r\n",
                  b"a\n.\r\nMAIL FROM:<s@x.example>\r\n"]
        c = self.hello()
        for n, shape in enumerate(shapes, 1):
            c.cmd("MAIL FROM:<a@b.example>")
            c.cmd("RCPT TO:<c@d.example>")
            self.assertReply(c.cmd("DATA"), 354)
            c.send(b"Subject: s\r\n\r\n" + shape + b"RCPT TO:<v@x.example>"
                   b"\r\nDATA\r\n.\r\n")
            self.assertReply(c.reply(), 550, "5.6.11")
            self.assertTrue(self.host.wait_event(
                lambda e: e == "tx_abort msgid=%08x" % n))
        self.assertReply(c.cmd("NOOP"), 250)
        ev = self.host.events()
        self.assertFalse(any("s@x.example" in e or "v@x.example" in e
                             for e in ev))
        self.assertEqual(self.host.messages(), [])
        c.cmd("QUIT")

    def test_loop_and_enospc(self):
        c = self.hello()
        c.cmd("MAIL FROM:<a@b.example>")
        c.cmd("RCPT TO:<c@d.example>")
        c.cmd("DATA")
        c.send(b"Received: x\r\n" * 100 + b"\r\n.\r\n")
        self.assertReply(c.reply(), 500, "5.4.6 Loop detected")
        c.cmd("MAIL FROM:<a@b.example>")
        c.cmd("RCPT TO:<c@d.example>")
        c.cmd("DATA")
        c.send(b" X: y\r\n\r\n.\r\n")
        self.assertReply(c.reply(), 550, "5.7.1")
        c.cmd("MAIL FROM:<enospc@b.example>")
        c.cmd("RCPT TO:<c@d.example>")
        self.assertReply(c.cmd("DATA"), 354)
        c.send(b"hello\r\n" * 20000 + b".\r\n")
        self.assertReply(c.reply(), 452, "4.3.1")
        self.assertTrue(self.host.wait_event(
            lambda e: e == "tx_abort msgid=00000003"))
        self.assertFalse(any(e.startswith("data_end")
                             for e in self.host.events()))
        c.cmd("QUIT")

    def test_mask_src(self):
        self.host.stop()
        self.host = Host("-M")
        with smtplib.SMTP("127.0.0.1", self.host.port, timeout=IO_TIMEOUT) as s:
            s.sendmail("a@b.example", ["r@d.example"], "x\r\n")
        data = self.host.message("00000001.eml")
        self.assertTrue(data.startswith(b"Received: by " + NAME.encode()))
        self.assertNotIn(b"127.0.0.1", data)

    def test_rcpt_store_failure_421(self):
        c = self.hello()
        c.cmd("MAIL FROM:<a@b.example>")
        self.assertReply(c.cmd("RCPT TO:<broken@d.example>"), 421, "4.3.0")
        self.assertTrue(c.closed())
        self.assertTrue(self.host.wait_event(
            lambda e: e == "tx_abort msgid=00000001"))


class TestLimits(SmtpCase):

    def test_errors_max(self):
        self.host.stop()
        self.host = Host("-e", "3")
        c = self.hello()
        self.assertReply(c.cmd("FOO"), 500)
        self.assertReply(c.cmd("FOO"), 500)
        self.assertReply(c.cmd("NOOP"), 250)
        self.assertReply(c.cmd("FOO"), 500)
        self.assertReply(c.reply(), 421, "Too many errors")
        self.assertTrue(c.closed())

    def test_timeout(self):
        self.host.stop()
        self.host = Host("-t", "300")
        c = self.hello()
        self.assertReply(c.cmd("NOOP"), 250)
        start = time.monotonic()
        self.assertReply(c.reply(), 421, "Timeout exceeded")
        self.assertTrue(c.closed())
        self.assertLess(time.monotonic() - start, 5)

    def test_line_max(self):
        self.host.stop()
        self.host = Host("-l", "100")
        c = self.hello()
        self.assertReply(c.cmd("NOOP " + "x" * 94), 250)     # 99
        self.assertReply(c.cmd("NOOP " + "x" * 95), 250)     # 100
        self.assertReply(c.cmd("NOOP " + "x" * 96), 500,     # 101
                         "5.0.0 Line too long")
        self.assertTrue(c.closed())
        c = self.hello()
        c.send(b"NOOP" + b"x" * 70000)
        self.assertReply(c.reply(), 500, "5.0.0 Line too long")
        self.assertTrue(c.closed())

    def test_mails_and_rcpt_max(self):
        self.host.stop()
        self.host = Host("-m", "2", "-r", "2")
        c = self.hello()
        for _ in range(2):
            self.assertReply(c.cmd("MAIL FROM:<a@b.example>"), 250)
            self.assertReply(c.cmd("RCPT TO:<c@d.example>"), 250)
            self.assertReply(c.cmd("RCPT TO:<e@d.example>"), 250)
            self.assertReply(c.cmd("RCPT TO:<f@d.example>"), 451,
                             "4.5.3 Too many recipients")
            self.assertReply(c.cmd("RSET"), 250)
        self.assertReply(c.cmd("MAIL FROM:<a@b.example>"), 452,
                         "4.5.3 Too many messages sent")
        c.cmd("QUIT")

    def test_sessions_per_addr(self):
        self.host.stop()
        self.host = Host("-p", "2")
        a, b = self.host.connect(), self.host.connect()
        self.assertEqual(a.reply()[0], 220)
        self.assertEqual(b.reply()[0], 220)
        c = self.host.connect()
        self.assertReply(c.reply(), 421, "Too many connections")
        self.assertTrue(c.closed())
        a.cmd("QUIT")
        self.assertTrue(a.closed())
        self.assertTrue(self.host.wait_event(lambda e: e == "session_end"))
        deadline = time.monotonic() + 5
        while True:
            d = self.host.connect()
            if d.reply()[0] == 220 or time.monotonic() > deadline:
                break
        self.assertEqual(d.cmd("QUIT")[0], 221)

    def test_descriptor_exhaustion(self):
        self.host.stop()
        self.host = Host("-p", "1000", nofile=32)
        clients = [self.host.connect() for _ in range(40)]
        greeted, waiting = [], []
        for c in clients:
            c.sock.settimeout(0.1)
            try:
                self.assertEqual(c.reply()[0], 220)
                greeted.append(c)
            except socket.timeout:
                waiting.append(c)
        self.assertTrue(greeted and waiting, (len(greeted), len(waiting)))
        for c in greeted[:len(waiting)]:
            c.sock.settimeout(IO_TIMEOUT)
            self.assertEqual(c.cmd("QUIT")[0], 221)
        for c in waiting:            # accepted once descriptors are free
            c.sock.settimeout(IO_TIMEOUT)
            self.assertEqual(c.reply()[0], 220)
        last = greeted[-1]
        last.sock.settimeout(IO_TIMEOUT)
        self.assertEqual(last.cmd("EHLO c.example")[0], 250)
        with open(os.path.join(self.host.dir, "stderr")) as f:
            self.assertIn("accept", f.read())

    def test_pause_resume(self):
        a = self.hello()
        os.kill(self.host.proc.pid, signal.SIGUSR1)
        self.assertTrue(self.host.wait_event(lambda e: e == "paused 1"))
        b = self.host.connect()              # queued by the kernel
        b.sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            b.reply()
        self.assertReply(a.cmd("NOOP"), 250)  # sessions go on
        os.kill(self.host.proc.pid, signal.SIGUSR2)
        b.sock.settimeout(IO_TIMEOUT)
        self.assertEqual(b.reply()[0], 220)
        self.assertTrue(self.host.wait_event(lambda e: e == "resumed 1"))
        a.cmd("QUIT")
        b.cmd("QUIT")

    def test_ipv6(self):
        try:
            socket.create_connection(("::1", 9), 1).close()
        except ConnectionRefusedError:
            pass
        except OSError:
            raise unittest.SkipTest(smtpdtest_not_run("no ::1 here"))
        self.host.stop()
        self.host = Host("-6")
        s = socket.create_connection(("::1", self.host.port), IO_TIMEOUT)
        self.host.clients.append(s)
        c = Client(s)
        c.reply()
        code, lines = c.cmd("EHLO [IPv6:::1]")
        self.assertEqual(lines[0], NAME + " Hello [IPv6:::1] [IPv6:::1], "
                         "pleased to meet you")
        c.cmd("MAIL FROM:<a@[IPv6:::1]>")
        c.cmd("RCPT TO:<b@d.example>")
        c.cmd("DATA")
        self.assertReply(c.cmd("x\r\n."), 250)
        self.assertTrue(self.host.message("00000001.eml").startswith(
            b"Received: from [IPv6:::1] (<unknown> [IPv6:::1])"))
        c.cmd("QUIT")

    def test_no_dsn(self):
        self.host.stop()
        self.host = Host("-D")
        c = self.host.connect()
        c.reply()
        code, lines = c.cmd("EHLO c.example")
        self.assertNotIn("DSN", lines)
        self.assertReply(c.cmd("MAIL FROM:<a@b.example> RET=FULL"), 503,
                         "5.5.4")
        self.assertReply(c.cmd("MAIL FROM:<a@b.example>"), 250)
        self.assertReply(c.cmd("RCPT TO:<a@b.example> NOTIFY=NEVER"), 503,
                         "5.5.4")
        c.cmd("QUIT")

    def test_client_not_reading_replies(self):
        # under AddressSanitizer, freed memory is held in its quarantine
        # (256 MiB by default) and counts in the RSS measured below: a
        # small one, so that only memory in use is measured
        self.host.stop()
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(
            x for x in (env.get("ASAN_OPTIONS", ""),
                        "quarantine_size_mb=1") if x)
        self.host = Host(env=env)
        c = self.hello()
        before = self.host.rss_kib()
        c.sock.setblocking(False)
        sent, deadline = 0, time.monotonic() + 2
        noops, rest = b"NOOP\r\n" * 10000, b""
        while sent < (20 << 20) and time.monotonic() < deadline:
            # a send may take part of the buffer, ending inside a NOOP:
            # the rest goes first, or the server reads "NONOOP" (500)
            rest = rest or noops
            try:
                k = c.sock.send(rest)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            sent += k
            rest = rest[k:]
        grown = self.host.rss_kib() - before
        c.sock.setblocking(True)
        c.sock.settimeout(IO_TIMEOUT)
        self.assertLess(sent, 20 << 20)      # the server stopped reading
        self.assertLess(grown, 8 * 1024)     # KiB: replies did not pile up
        c.sock.shutdown(socket.SHUT_WR)
        n = 0
        while True:
            try:
                code, _ = c.reply()
            except EOFError:
                break
            self.assertEqual(code, 250)
            n += 1
        self.assertEqual(n, sent // 6)       # every whole NOOP answered
        print("client not reading: %d bytes sent, server grew %d KiB" %
              (sent, grown))

    def test_idle_session_memory(self):
        self.host.stop()
        self.host = Host("-p", "5000")
        n = 1000
        before = self.host.rss_kib()
        clients = [self.host.connect() for _ in range(n)]
        for c in clients:
            self.assertEqual(c.reply()[0], 220)
        for c in clients:
            c.send(b"EHLO c.example\r\n")
        for c in clients:
            self.assertEqual(c.reply()[0], 250)
        per = (self.host.rss_kib() - before) * 1024 / n
        for c in clients:
            c.close()
        print("idle session: %.0f bytes of process memory each" % per)
        self.assertLess(per, 33 * 1024)


if __name__ == "__main__":
    unittest.main()
