"""The MTA (issue 9 part 2; MTA-04, 09, 10, 11, 12, 14, 18, 20, 25): a real
daemon relays (`action "out" relay host smtp://127.0.0.1:PORT`) to a
scripted fake SMTP server in the test (fakesmtp.py), which records what
it got and answers each stage as the test says: content sent byte-exact
(CRLF, dot-stuffing), recipients of one message in one transaction,
messages sharing a connection and the keep-alive, the connection
limit, DSN parameters, src, mail-from, pause, what needs TLS, LMTP.
RelayBase is shared with test_mta_failures.py (every reply class at
every stage, bad replies, stalls with smtpd -o mta-timeout=2, a refused
connection, SIZE).  Bounces come back to a local Maildir and are read
with the email package.  Every wait is bounded (no fixed sleeps), every
daemon is stopped by PID (smtpdtest.Smtpd).
"""
import email
import email.policy
import os
import pwd
import re
import smtplib
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mail"))
from fakesmtp import FakeSMTP  # noqa: E402
from smtpdtest import Smtpd, free_port, wait_for  # noqa: E402
from test_mailflow import recipient_user  # noqa: E402

TIMEOUT = 20
# complete headers: the loopback listener adds none (SMTP-22)
BODY = (b"Date: Thu, 03 Dec 2026 08:00:00 +0000\r\n"
        b"Message-ID: <t@example.com>\r\n"
        b"Subject: relay test\r\nX-Test: 1\r\n\r\nfirst line\r\n"
        b".leading dot\r\n..two dots\r\n.\r\nlast line\r\n")


class RelayBase(unittest.TestCase):
    """One fake next hop and one daemon relaying @example.net to it;
    @example.org is local (a Maildir), for bounces."""

    scheme = "smtp"
    action_opts = ""
    limits = ("mta limit session-keepalive 2\n"
              "mta limit max-conn-per-route 2\n")
    args = ("-o", "mta-timeout=2")
    fake_args = {}

    def setUp(self):
        self.fake = FakeSMTP(**self.fake_args)
        self.addCleanup(self.fake.stop)
        self.user = recipient_user()
        self.port = free_port()
        self.smtpd = Smtpd(args=self.args)
        self.mail = os.path.join(self.smtpd.dir, "mail")
        os.mkdir(self.mail)
        pw = pwd.getpwnam(self.user)
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        extra = self.extra_conf()
        if getattr(self, "relay_host", None):
            host = self.relay_host
        elif hasattr(self, "other"):
            host = "<hops>"
            self.limits += ('table hops { "smtp://127.0.0.1:%d", '
                            '"smtp://127.0.0.1:%d" }\n'
                            % (self.fake.port, self.other.port))
        else:
            host = "%s://127.0.0.1:%d" % (self.scheme, self.fake.port)
        conf = ('%s'
                'listen on 127.0.0.1 port %d\n'
                'action "local" maildir "%s/%%{user.username}"\n'
                'action "out" relay host %s helo relay.test.example%s\n'
                'match from any for domain "example.org" action "local"\n'
                'match from any for domain "example.net" action "out"\n'
                % (self.limits + extra, self.port, self.mail, host,
                   self.action_opts))
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write(conf)
        self.smtpd.start()
        self.maildir = os.path.join(self.mail, self.user)
        self.sender = "%s@example.org" % self.user

    def extra_conf(self):
        """Lines before the rules (tables), once the fake runs."""
        return ""

    def tearDown(self):
        rc = self.smtpd.stop()
        log = self.smtpd.log()
        self.smtpd.__exit__(None, None, None)
        self.assertEqual(rc, 0, log[-4000:])

    def send(self, rcpts, body=BODY, sender=None, mail_opts=(),
             rcpt_opts=()):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.ehlo("client.example.com")
            code, msg = c.mail(self.sender if sender is None else sender,
                               list(mail_opts))
            self.assertEqual(code, 250, msg)
            for r in rcpts:
                code, msg = c.rcpt(r, list(rcpt_opts))
                self.assertEqual(code, 250, msg)
            code, msg = c.data(body)
            self.assertEqual(code, 250, msg)

    def log_has(self, pattern, timeout=TIMEOUT, count=1):
        ok = wait_for(lambda: len(re.findall(pattern, self.smtpd.log()))
                      >= count, timeout)
        self.assertTrue(ok, "no %r (x%d) in the log:\n%s" %
                        (pattern, count, self.smtpd.log()[-5000:]))
        return re.findall(pattern, self.smtpd.log())

    def transactions(self, n, timeout=TIMEOUT):
        ok = wait_for(lambda: len(self.fake.transactions) >= n, timeout)
        self.assertTrue(ok, "%d transactions, not %d:\n%s" %
                        (len(self.fake.transactions), n,
                         self.smtpd.log()[-5000:]))
        return self.fake.transactions

    def reports(self, n=1, timeout=TIMEOUT):
        new = os.path.join(self.maildir, "new")

        def got():
            try:
                return len(os.listdir(new)) >= n
            except OSError:
                return False
        self.assertTrue(wait_for(got, timeout), "no bounce:\n" +
                        self.smtpd.log()[-5000:])
        out = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                out.append(email.message_from_bytes(
                    f.read(), policy=email.policy.compat32))
        return out

    def status_of(self, report):
        """{final recipient: (action, status, diagnostic)} of a report."""
        _, status, _ = report.get_payload()
        out = {}
        for g in status.get_payload()[1:]:
            out[g["Final-Recipient"].split(";", 1)[1].strip()] = (
                g["Action"], g["Status"], g["Diagnostic-Code"])
        return out


class Relay(RelayBase):

    def test_content_crlf_dot_stuffed(self):
        self.send(["a@example.net"])
        (tx,) = self.transactions(1)
        self.assertEqual(tx["sender"], b"<%s>" % self.sender.encode())
        self.assertEqual(tx["rcpts"], ["a@example.net"])
        data = tx["data"]
        # our own Received: first, then the message as sent, dot-stuffed
        self.assertTrue(data.startswith(b"Received: "), data[:200])
        self.assertTrue(data.endswith(
            b"Subject: relay test\r\nX-Test: 1\r\n\r\nfirst line\r\n"
            b"..leading dot\r\n...two dots\r\n..\r\nlast line\r\n"), data)
        # CRLF-clean: no bare LF, no bare CR
        self.assertNotIn(b"\n", data.replace(b"\r\n", b""))
        self.assertNotIn(b"\r", data.replace(b"\r\n", b""))
        self.assertEqual(self.fake.helos, [b"EHLO relay.test.example"])
        self.log_has(r"mta delivery evpid=[0-9a-f]{16} to=<a@example.net> "
                     r"relay=smtp://127.0.0.1:\d+ result=ok "
                     r"stat=\"250 2.0.0 Ok: queued\"")
        self.log_has(r"mta connected relay=\S+ address=127.0.0.1:\d+ "
                     r"host=127.0.0.1 source=127.0.0.1:\d+ ext=P\b")
        stats = self.smtpd.ctl("show", "stats").stdout
        self.assertIn("mta.delivery.ok=1\n", stats)
        self.assertIn("mta.session.total=1\n", stats)

    def test_many_recipients_gathered(self):
        # MTA-14: the queue hands one message's 30 envelopes out one by
        # one; the relay gathers them while they keep coming (20 ms
        # after each, 250 ms at most), so they make one transaction.
        # A host loaded enough to pause the queue longer than that
        # between two of them splits it (seen once in CI, under the
        # sanitizers as an ordinary user): then two or three, on the
        # one connection, each recipient once.
        rcpts = ["r%d@example.net" % i for i in range(30)]
        self.send(rcpts)
        self.log_has(r"mta delivery .* result=ok", count=30)
        txs = self.fake.transactions
        self.assertLessEqual(len(txs), 3, txs)
        self.assertEqual(sorted(a for t in txs for a in t["rcpts"]),
                         sorted(rcpts))
        stats = self.smtpd.ctl("show", "stats").stdout
        self.assertIn("mta.session.total=1\n", stats)

    def test_more_than_100_recipients_split(self):
        self.fake.ehlo_ext = [b"PIPELINING", b"DSN"]
        rcpts = ["s%d@example.net" % i for i in range(130)]
        self.send(rcpts, mail_opts=["RET=HDRS"])
        self.log_has(r"mta delivery .* result=ok", count=130)
        txs = self.fake.transactions
        # at most 100 a transaction (so two at least); usually 100 and
        # 30, but the queue hands the envelopes out in batches, and a
        # batch that comes after the relay's 20 ms gathering makes a
        # transaction of its own (seen under the sanitizers: 100, 25, 5)
        self.assertLessEqual(max(len(t["ok"]) for t in txs), 100)
        self.assertEqual(sorted(a for t in txs for a in t["ok"]),
                         sorted(rcpts))
        self.assertEqual([t["sender"] for t in txs],
                         [b"<%s> RET=HDRS" % self.sender.encode()] *
                         len(txs))

    def test_messages_share_a_connection_then_keepalive_quit(self):
        for i in range(5):
            self.send(["m%d@example.net" % i])
        self.transactions(5)
        # later mail reuses the kept session
        self.send(["late@example.net"])
        self.transactions(6)
        self.assertLessEqual(self.fake.connections, 2)
        # the idle session says QUIT after session-keepalive (2 s)
        self.log_has(r"mta disconnected relay=\S+ address=\S+ host=\S+ "
                     r"messages=\d+ "
                     r"reason=quit", timeout=10)
        self.assertIn(b"QUIT", self.fake.commands)


    def test_dsn_parameters_relayed_when_offered(self):
        self.fake.ehlo_ext = [b"PIPELINING", b"DSN"]
        self.send(["a@example.net"], mail_opts=["RET=HDRS", "ENVID=env+2B1"],
                  rcpt_opts=["NOTIFY=FAILURE,DELAY",
                             "ORCPT=rfc822;orig+2Bx@example.net"])
        self.transactions(1)
        self.assertIn(b"MAIL FROM:<%s> RET=HDRS ENVID=env+2B1" %
                      self.sender.encode(), self.fake.commands)
        self.assertIn(b"RCPT TO:<a@example.net> NOTIFY=FAILURE,DELAY "
                      b"ORCPT=rfc822;orig+2Bx@example.net",
                      self.fake.commands)
        # a next hop without DSN gets none of them (a new session)
        self.log_has(r"mta disconnected .*reason=quit", timeout=10)
        self.fake.ehlo_ext = [b"PIPELINING"]
        self.fake.commands.clear()
        self.send(["b@example.net"], mail_opts=["RET=HDRS"],
                  rcpt_opts=["NOTIFY=FAILURE"])
        self.transactions(2)
        self.assertIn(b"RCPT TO:<b@example.net>", self.fake.commands)

    def test_success_notice_relayed_or_left_to_the_next_hop(self):
        # MTA-18: NOTIFY=SUCCESS to a next hop without DSN: we send a
        # "relayed" notice, once
        self.fake.ehlo_ext = [b"PIPELINING"]
        self.send(["s1@example.net"], rcpt_opts=["NOTIFY=SUCCESS"])
        self.transactions(1)
        report, = self.reports(1)
        self.assertEqual(self.status_of(report),
                         {"s1@example.net": ("relayed", "2.0.0", None)})
        self.assertIn("Success", report["Subject"])
        self.log_has(r"bounce report .*type=relayed rcpts=1 .*result=ok")
        # to a next hop with DSN, NOTIFY goes along and the next hop
        # reports: no notice of ours (it was sent twice before)
        self.log_has(r"mta disconnected .*reason=quit", timeout=10)
        self.fake.ehlo_ext = [b"PIPELINING", b"DSN"]
        self.send(["s2@example.net"], rcpt_opts=["NOTIFY=SUCCESS"])
        self.transactions(2)
        self.assertIn(b"RCPT TO:<s2@example.net> NOTIFY=SUCCESS",
                      self.fake.commands)
        evpid, = self.log_has(r"mta delivery evpid=(\S+) "
                              r"to=<s2@example.net> .*result=ok")
        self.log_has(r"queue delivery evpid=%s status=ok" % evpid)
        self.assertNotIn("queue bounce evpid=%s" % evpid, self.smtpd.log())
        self.assertEqual(len(os.listdir(os.path.join(self.maildir, "new"))),
                         1, "one notice only: " + self.smtpd.log()[-3000:])

    def test_mta_limit_max_conn_per_route(self):
        # eight messages waiting at once: connections up to the limit
        self.fake.eod_delay = 0.3
        self.assertEqual(self.smtpd.ctl("pause", "mta").returncode, 0)
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.ehlo("client.example.com")
            for i in range(8):
                c.sendmail(self.sender, ["p%d@example.net" % i], BODY)
        self.log_has(r"smtp message msgid=", count=8)
        self.assertEqual(self.smtpd.ctl("resume", "mta").returncode, 0)
        self.transactions(8)
        self.assertEqual(self.fake.max_concurrent, 2)
        self.log_has(r"mta delivery .* result=ok", count=8)


class Options(RelayBase):
    """src, mail-from, pause and resume (MTA-09, MTA-11, CTL-12)."""

    action_opts = (' src { "::1", "127.0.0.1" } mail-from '
                   '"@relay.example"')
    args = ("-o", "mta-timeout=2", "-P", "mta")

    def test_paused_then_resumed_src_and_mail_from(self):
        self.send(["a@example.net"])
        self.send(["b@example.net"], sender="")
        self.log_has(r"smtp message msgid=", count=2)
        # paused: nothing goes out
        self.assertFalse(wait_for(lambda: self.fake.connections, 1))
        r = self.smtpd.ctl("resume", "mta")
        self.assertEqual(r.returncode, 0, r.stderr)
        txs = self.transactions(2)
        senders = sorted(t["sender"] for t in txs)
        # the user kept, the domain rewritten; the null sender left alone
        self.assertEqual(senders, [b"<>", b"<%s@relay.example>" %
                                   self.user.encode()])
        # the IPv4 source of the list, for an IPv4 next hop
        self.assertEqual(set(self.fake.peers), {"127.0.0.1"})


class HostList(RelayBase):
    """`relay host <list>`: each message the next URL (MTA-06)."""

    def setUp(self):
        self.other = FakeSMTP()
        self.addCleanup(self.other.stop)
        self.action_opts = ""
        super().setUp()

    def test_messages_alternate(self):
        for i in range(4):
            self.send(["h%d@example.net" % i, "k%d@example.net" % i])
        self.log_has(r"mta delivery .* result=ok", count=8)
        for f in (self.fake, self.other):
            self.assertEqual(len(f.transactions), 2)
            for t in f.transactions:
                self.assertEqual(len(t["ok"]), 2)
                self.assertEqual(t["ok"][0][1:], t["ok"][1][1:])


class HostStats(RelayBase):
    """`smtpctl show hoststats` (MTA-23): the last outcome per recipient
    domain, one "domain|time|status" line each."""

    def hoststats(self):
        r = self.smtpd.ctl("show", "hoststats")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def test_last_outcome_per_domain(self):
        self.assertEqual(self.hoststats(), [])
        t0 = int(time.time())
        self.send(["a@example.net"])
        self.log_has(r"mta delivery .* result=ok")
        lines = self.hoststats()
        self.assertEqual(len(lines), 1, lines)
        domain, when, status = lines[0].split("|", 2)
        self.assertEqual(domain, "example.net")
        self.assertTrue(t0 <= int(when) <= time.time() + 1, lines)
        self.assertTrue(status.startswith("250"), lines)
        # the next outcome for the domain replaces it
        self.fake.rcpt_reply = lambda a: b"550 5.1.1 No such user\r\n"
        self.send(["b@example.net"])
        self.log_has(r"mta delivery .* result=permfail")
        lines = self.hoststats()
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^example\.net\|\d+\|550 5\.1\.1 ")


class Routes(RelayBase):
    """`smtpctl show routes` and `resume route` (MTA-15): a host that
    keeps failing is set aside ("D"), and the administrator can put it
    back at once."""

    def routes(self):
        r = self.smtpd.ctl("show", "routes")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def test_failing_host_shown_aside_then_resumed(self):
        self.assertEqual(self.routes(), [])
        self.send(["a@example.net"])
        self.log_has(r"mta delivery .* result=ok")
        lines = self.routes()
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^(\d+) smtp://127\.0\.0\.1:%d "
                         r"127\.0\.0\.1 127\.0\.0\.1:%d - conns=\d+ "
                         r"failures=0 aside=0s$"
                         % (self.fake.port, self.fake.port))
        route = lines[0].split()[0]
        # the next hop goes away: two failures in a row set it aside
        self.fake.stop()
        for i, rcpt in enumerate(("b@example.net", "c@example.net")):
            self.send([rcpt])
            self.log_has(r"mta delivery .* result=tempfail", count=i + 1)
        self.assertTrue(wait_for(lambda: " D " in "".join(self.routes()),
                                 TIMEOUT), self.routes())
        self.assertRegex(self.routes()[0], r" D conns=0 failures=[2-9]\d* "
                                           r"aside=[1-9]\d*s$")
        r = self.smtpd.ctl("resume", "route", route)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(self.routes()[0], r" - conns=\d+ failures=0 "
                                           r"aside=0s$")
        self.log_has(r"mta route resumed id=%s dest=" % route)
        r = self.smtpd.ctl("resume", "route", "999")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no route 999", r.stderr)
        r = self.smtpd.ctl("resume", "route", "x1")
        self.assertNotEqual(r.returncode, 0)


class PauseFromFor(RelayBase):
    """`smtpctl pause mta from ADDR for DOMAIN`, `resume mta from ...`,
    `show mta paused` (MTA-22, CTL-11, CTL-15): the relay no longer
    connects from that `src` address to that destination (a smarthost's
    host here); its mail waits without failing and goes once resumed;
    a pause for another destination holds nothing."""

    action_opts = " src 127.0.0.1"

    def ctl(self, *args, ok=True):
        r = self.smtpd.ctl(*args)
        if ok:
            self.assertEqual(r.returncode, 0, r.stderr)
        else:
            self.assertNotEqual(r.returncode, 0, r.stdout)
        return r

    def test_paused_route_waits_then_goes(self):
        self.assertEqual(self.ctl("show", "mta", "paused").stdout, "")
        self.ctl("pause", "mta", "from", "127.0.0.1", "for", "127.0.0.1")
        self.assertEqual(self.ctl("show", "mta", "paused").stdout,
                         "127.0.0.1 for 127.0.0.1\n")
        self.assertIn("already paused", self.ctl(
            "pause", "mta", "from", "127.0.0.1", "for", "127.0.0.1",
            ok=False).stderr)
        self.log_has(r"mta paused from=127\.0\.0\.1 for=127\.0\.0\.1")
        self.send(["a@example.net"])
        self.log_has(r"smtp message msgid=")
        # held: no connection, no failure
        self.assertFalse(wait_for(lambda: self.fake.connections, 1.5))
        self.assertNotIn("result=tempfail", self.smtpd.log())
        self.ctl("resume", "mta", "from", "127.0.0.1", "for", "127.0.0.1")
        self.transactions(1)
        self.log_has(r"mta delivery .* result=ok")
        self.log_has(r"mta resumed from=127\.0\.0\.1 for=127\.0\.0\.1")
        self.assertEqual(self.ctl("show", "mta", "paused").stdout, "")
        self.assertIn("not paused", self.ctl(
            "resume", "mta", "from", "127.0.0.1", "for", "127.0.0.1",
            ok=False).stderr)

    def test_other_destination_not_held(self):
        self.ctl("pause", "mta", "from", "127.0.0.1", "for",
                 "other.example")
        self.ctl("pause", "mta", "from", "::1", "for", "127.0.0.1")
        self.assertEqual(sorted(self.ctl("show", "mta",
                                         "paused").stdout.splitlines()),
                         ["127.0.0.1 for other.example", "::1 for 127.0.0.1"])
        self.send(["b@example.net"])
        self.transactions(1)
        self.log_has(r"mta delivery .* result=ok")

    def test_bad_arguments_refused(self):
        for args, why in ((("from", "nohost", "for", "x.example"),
                           "not an IPv4 or IPv6 address"),
                          (("to", "127.0.0.1", "for", "x.example"),
                           "expected from ADDR for DOMAIN"),
                          (("from", "127.0.0.1", "for", "a b"),
                           "not a domain"),
                          (("from", "127.0.0.1", "for", "x" * 256),
                           "not a domain")):
            r = self.ctl("pause", "mta", *args, ok=False)
            self.assertIn(why, r.stderr, args)
        self.assertIn("only show mta paused",
                      self.ctl("show", "mta", "routes", ok=False).stderr)
        self.assertEqual(self.ctl("show", "mta", "paused").stdout, "")


class HostsAndRelays(RelayBase):
    """`smtpctl show hosts` and `show relays` (CTL-07, CTL-09): the
    next-hop addresses known, and the routes at work with their
    connectors, shown while a next hop stalls a transaction."""

    action_opts = " src 127.0.0.1"

    def show(self, what):
        r = self.smtpd.ctl("show", what)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def test_hosts_and_relays(self):
        self.assertEqual(self.show("hosts"), [])
        self.assertEqual(self.show("relays"), [])
        self.send(["a@example.net"])
        self.log_has(r"mta delivery .* result=ok")
        hosts = self.show("hosts")
        self.assertEqual(len(hosts), 1, hosts)
        self.assertRegex(hosts[0], r"^127\.0\.0\.1 127\.0\.0\.1 refs=1 "
                                   r"conns=[01] last=\d+s$")
        # the next hop stalls after DATA: the route is at work
        self.fake.replies["data"] = None
        self.send(["b@example.net"])
        self.assertTrue(wait_for(lambda: sum(
            1 for c in self.fake.commands if c.startswith(b"DATA")) == 2,
            TIMEOUT))
        relays = self.show("relays")
        self.assertEqual(len(relays), 2, relays)
        self.assertRegex(relays[0], r"^\d+ smtp://127\.0\.0\.1:%d "
                                    r"action=out state=active messages=0 "
                                    r"envelopes=0 conns=1 hosts=1$"
                         % self.fake.port)
        self.assertEqual(relays[1], "    from 127.0.0.1 conns=1")
        self.smtpd.ctl("pause", "mta", "from", "127.0.0.1", "for",
                       "127.0.0.1")
        self.assertEqual(self.show("relays")[1],
                         "    from 127.0.0.1 conns=1 paused")
        self.assertIn("state=paused-from-for", self.show("relays")[0])


class Deferred(RelayBase):
    """`mta max-deferred` (MTA-16): an envelope that failed for now is
    remembered by its domain; once the domain takes mail again, it is
    tried at once, not at its retry time (400 s away here)."""

    def test_deferred_go_once_the_domain_takes_mail(self):
        port = self.fake.port
        self.fake.stop()
        self.send(["a@example.net"])
        self.log_has(r"to=<a@example.net> .*result=tempfail")
        self.log_has(r"queue delivery .* status=tempfail retry=1")
        # the next hop is back, and its route in use again
        self.fake = FakeSMTP(port=port)
        self.addCleanup(self.fake.stop)
        route = self.smtpd.ctl("show", "routes").stdout.split()[0]
        self.assertEqual(self.smtpd.ctl("resume", "route",
                                        route).returncode, 0)
        self.send(["b@example.net"])
        self.log_has(r"mta rescheduled domain=example\.net envelopes=1")
        txs = self.transactions(2)
        self.assertEqual(sorted(t["ok"][0] for t in txs),
                         ["a@example.net", "b@example.net"])


class NotDeferred(RelayBase):
    """`mta max-deferred 0`: nothing remembered, the retry time holds."""

    limits = RelayBase.limits + "mta max-deferred 0\n"

    def test_retry_time_holds(self):
        port = self.fake.port
        self.fake.stop()
        self.send(["a@example.net"])
        self.log_has(r"queue delivery .* status=tempfail retry=1")
        self.fake = FakeSMTP(port=port)
        self.addCleanup(self.fake.stop)
        route = self.smtpd.ctl("show", "routes").stdout.split()[0]
        self.smtpd.ctl("resume", "route", route)
        self.send(["b@example.net"])
        self.transactions(1)
        self.assertFalse(wait_for(lambda: len(self.fake.transactions) > 1,
                                  2))
        self.assertNotIn("mta rescheduled", self.smtpd.log())


class Inet6Only(RelayBase):
    """`mta limit inet6` with an IPv4 next hop: nothing to connect to
    (MTA-13)."""

    limits = "mta limit inet6\n"

    def test_family_refused(self):
        self.send(["a@example.net"])
        self.log_has(r"to=<a@example.net> relay=\S+ result=tempfail "
                     r"stat=\"no address of the family the mta limit "
                     r"inet4/inet6 allows\"")
        self.assertEqual(self.fake.connections, 0)


class MxRelay(RelayBase):
    """A plain `relay` (MX): the domain's MXs are asked of lookup; an
    answer that gives none fails the mail (temporarily, or for good
    when the domain does not exist) and no process dies (MTA-01)."""

    def setUp(self):
        super().setUp()
        self.smtpd.stop()
        self.smtpd.__exit__(None, None, None)
        self.smtpd = Smtpd(args=self.args, conf=(
            'listen on 127.0.0.1 port %d\n'
            'action "mx" relay\n'
            'match from any for domain "mx.invalid" action "mx"\n'
            % self.port))
        self.smtpd.start()

    def test_no_mx_answer(self):
        self.send(["a@mx.invalid"])
        self.log_has(r"mta delivery evpid=[0-9a-f]{16} to=<a@mx.invalid> "
                     r"relay=mx.invalid result=(tempfail|permfail) "
                     r"stat=\"[45]\d\d ", timeout=40)
        procs, _ = self.smtpd.status()
        self.assertIn("lookup", procs)
        self.assertEqual(self.fake.connections, 0)


class NoTls(RelayBase):
    """smtp+tls:// to a next hop without STARTTLS: a temporary failure
    that says so, no transaction (TLS itself: test_mta_tls.py)."""

    scheme = "smtp+tls"

    def test_tls_scheme_tempfails(self):
        self.send(["a@example.net"])
        self.log_has(r"to=<a@example.net> relay=\S+ result=tempfail "
                     r"stat=\"127.0.0.1: TLS required but not supported by "
                     r"127.0.0.1:\d+ \(no STARTTLS\)\"")
        self.assertEqual(self.fake.transactions, [])


class RelayTlsOption(RelayBase):
    """`relay ... tls` (MTA-25): the same temporary failure."""

    action_opts = " tls"

    def test_relay_tls_tempfails(self):
        self.send(["a@example.net"])
        self.log_has(r"to=<a@example.net> relay=\S+ result=tempfail "
                     r"stat=\"127.0.0.1: TLS required but not supported")
        self.assertEqual(self.fake.transactions, [])


class StartTlsOffered(RelayBase):
    """smtp:// to a next hop offering STARTTLS and refusing it (454):
    the MTA connects again in clear and says why in the log."""

    fake_args = {"ehlo_ext": (b"PIPELINING", b"STARTTLS")}

    def test_clear_with_a_log_line(self):
        self.send(["a@example.net"])
        self.transactions(1)
        self.log_has(r"mta tls-fallback relay=\S+ address=\S+ host=\S+ "
                     r"reason=\"STARTTLS refused by \S+ 454 4.7.0 TLS not "
                     r"available\"")
        self.assertEqual(self.fake.commands.count(b"STARTTLS"), 1)
        self.assertEqual(self.fake.connections, 2)


class Lmtp(RelayBase):
    """lmtp://: LHLO and one reply per recipient after the data."""

    scheme = "lmtp"
    fake_args = {"lmtp": True}

    def test_lmtp_per_recipient(self):
        self.fake.lmtp_reply = lambda a: (
            b"550 5.1.1 mailbox unknown\r\n" if a.startswith("no")
            else b"250 2.0.0 stored\r\n")
        self.send(["yes@example.net", "no@example.net"])
        (tx,) = self.transactions(1)
        self.assertTrue(self.fake.helos[0].startswith(b"LHLO "))
        self.log_has(r"to=<yes@example.net> relay=lmtp://\S+ result=ok "
                     r"stat=\"250 2.0.0 stored")
        self.log_has(r"to=<no@example.net> relay=\S+ result=permfail "
                     r"stat=\"550 5.1.1 mailbox unknown")
        (m,) = self.reports()
        self.assertEqual(list(self.status_of(m)), ["no@example.net"])


if __name__ == "__main__":
    unittest.main()
