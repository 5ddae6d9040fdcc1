"""Interop over TLS with a real Postfix (issue 9 part 8; MTA-04, TLS-03,
TLS-12): Postfix unpacked from Debian's package (regress/lib/debfetch.py,
not installed; without it the test is reported not run) runs with a
private config_directory, queue and a loopback port, STARTTLS offered
with a certificate of our test CA.

 - our smtpd relays to Postfix with smtp+tls:// verified against the
   `ca`: Postfix logs the TLS connection and delivers to a Maildir;
 - Postfix relays to our smtpd with smtp_tls_security_level=encrypt:
   our listener logs the TLS session and the message says so;
 - Postfix answers 450 to a recipient: we retry, and once Postfix's
   rule is gone (main.cf rewritten, master reloaded) the mail arrives;
 - Postfix answers 550: our bounce (multipart/report) reaches the
   sender with Postfix's status and text.

Postfix's master must start as root: as an ordinary user the test is
reported not run.  Every wait is bounded, every process is stopped by
PID (Postfix's master by its own PID; its children follow it).
"""
import os
import pwd
import email
import email.policy
import grp
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mail"))
from smtpdtest import NOT_RUN, Smtpd, free_port, is_root, \
    wait_for  # noqa: E402
from test_mailflow import recipient_user  # noqa: E402
import accounts  # noqa: E402
from test_mta_peers import postfix_root  # noqa: E402
from test_mta_tls import make_certs  # noqa: E402

TIMEOUT = 30

MASTER_CF = """\
%(port)d  inet  n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
tlsmgr    unix  - - n 1000? 1 tlsmgr
postlog   unix-dgram n - n - 1 postlogd
qmgr      unix  n - n 300 1 qmgr
pickup    unix  n - n 60 1 pickup
"""


class Postfix:
    """One private Postfix in DIR: STARTTLS with mx.crt, pf.test
    delivered to DIR/mail/USER/, back.test relayed to 127.0.0.1:BACK."""

    def __init__(self, root, d, certs, user, back):
        self.root, self.dir = root, d
        self.port = free_port()
        self.etc = os.path.join(d, "etc")
        queue = os.path.join(d, "queue")
        os.makedirs(self.etc)
        pf = pwd.getpwnam("postfix")
        drop = grp.getgrnam("postdrop").gr_gid
        for sub in ("active", "bounce", "corrupt", "defer", "deferred",
                    "flush", "hold", "incoming", "private", "saved",
                    "trace", "maildrop", "public"):
            p = os.path.join(queue, sub)
            os.makedirs(p)
            pub = sub in ("maildrop", "public")
            os.chown(p, pf.pw_uid, drop if pub else pf.pw_gid)
            os.chmod(p, 0o730 if sub == "maildrop" else 0o710 if pub
                     else 0o700)
        os.makedirs(os.path.join(queue, "pid"))
        data = os.path.join(d, "data")
        os.makedirs(data)
        os.chown(data, pf.pw_uid, pf.pw_gid)
        mail = os.path.join(d, "mail")
        os.makedirs(mail)
        u = pwd.getpwnam(user)
        os.chown(mail, u.pw_uid, u.pw_gid)
        self.maildir = os.path.join(mail, user, "new")
        lib = os.path.join(root, "usr/lib/postfix")
        self.lib = lib
        main = {
            "compatibility_level": "3.6",
            "config_directory": self.etc,
            "queue_directory": queue,
            "data_directory": data,
            "command_directory": os.path.join(root, "usr/sbin"),
            "daemon_directory": os.path.join(lib, "sbin"),
            "shlib_directory": lib,
            "meta_directory": os.path.join(root, "etc/postfix"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ "
                                  "LANG=C LD_LIBRARY_PATH=" + lib,
            "maillog_file": os.path.join(d, "maillog"),
            "maillog_file_prefixes": d,
            "myhostname": "postfix.example.org",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtputf8_enable": "no",
            "alias_maps": "",
            "alias_database": "",
            "append_dot_mydomain": "no",
            "relay_domains": "back.test",
            "transport_maps": "inline:{ back.test=smtp:[127.0.0.1]:%d }"
                              % back,
            "virtual_mailbox_domains": "pf.test",
            "virtual_mailbox_base": mail,
            "virtual_mailbox_maps": "static:%s/" % user,
            "virtual_uid_maps": "static:%d" % u.pw_uid,
            "virtual_gid_maps": "static:%d" % u.pw_gid,
            "virtual_minimum_uid": "1",
            "smtpd_tls_cert_file": os.path.join(certs, "mx.crt"),
            "smtpd_tls_key_file": os.path.join(certs, "mx.key"),
            "smtpd_tls_security_level": "may",
            "smtpd_tls_received_header": "yes",
            "smtpd_tls_loglevel": "1",
            "smtp_tls_security_level": "encrypt",
            "smtp_tls_loglevel": "1",
            "smtp_tls_CAfile": os.path.join(certs, "ca.crt"),
            "smtpd_recipient_restrictions": "check_recipient_access "
            "inline:{ {nobody@pf.test = 550 5.1.1 no such user here}, "
            "{later@pf.test = 450 4.2.0 try again later} } "
            "permit_mynetworks reject_unauth_destination",
        }
        self.main = main
        self.write_main()
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF % {"port": self.port})
        self.proc = None

    def write_main(self):
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in self.main.items():
                f.write("%s = %s\n" % (k, v))

    def reload(self):
        """main.cf again: master and its children re-read it (SIGHUP)"""
        self.write_main()
        if self.proc.pid > 1 and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def start(self):
        env = dict(os.environ, LD_LIBRARY_PATH=self.lib,
                   MAIL_CONFIG=self.etc)
        self.out = open(os.path.join(self.dir, "master.out"), "wb")
        self.proc = subprocess.Popen(
            [os.path.join(self.lib, "sbin", "master"), "-c", self.etc,
             "-d"], stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=subprocess.STDOUT, env=env, start_new_session=True)

        def ready():
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=2):
                    return True
            except OSError:
                return self.proc.poll() is not None
        if not wait_for(ready, TIMEOUT, 0.1) or self.proc.poll() is not None:
            raise RuntimeError("postfix did not start:\n" + self.log())

    def stop(self):
        if self.proc is None:
            return
        if self.proc.pid > 1 and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            if self.proc.pid > 1:
                self.proc.kill()
            self.proc.wait(TIMEOUT)
        self.out.close()

    def log(self):
        text = ""
        for n in ("master.out", "maillog"):
            try:
                with open(os.path.join(self.dir, n), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text


OURS = """\
mta limit session-keepalive 0
pki mx.example.org cert "{d}/mx.crt"
pki mx.example.org key "{d}/mx.key"
ca corpca cert "{d}/ca.crt"
listen on 127.0.0.1 port {port} tls pki mx.example.org
action "local" maildir "{d}/mail/%{{user.username}}"
action "topf" relay host "smtp+tls://127.0.0.1:{pf}" ca corpca
match from any for domain "pf.test" action "topf"
match from any for domain "back.test" action "local"
"""


class TestPostfixTLS(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not is_root():
            raise unittest.SkipTest(NOT_RUN + "Postfix's master needs "
                                    "root")
        root = postfix_root()
        # never installed: its package made no accounts (regress/lib)
        accounts.ensure(accounts.POSTFIX_USERS, accounts.POSTFIX_GROUPS)
        cls.user = recipient_user()
        cls.tmp = tempfile.mkdtemp(prefix="pftls-")
        os.chmod(cls.tmp, 0o755)
        cls.smtpd = Smtpd()
        cls.pf = None
        try:
            d = cls.smtpd.dir
            os.chmod(d, 0o755)
            make_certs(d)
            cls.port = free_port()
            cls.pf = Postfix(root, cls.tmp, d, cls.user, cls.port)
            mail = os.path.join(d, "mail")
            os.mkdir(mail)
            pw = pwd.getpwnam(cls.user)
            os.chown(mail, pw.pw_uid, pw.pw_gid)
            cls.maildir = os.path.join(mail, cls.user, "new")
            with open(os.path.join(d, "smtpd.conf"), "w") as f:
                f.write(OURS.format(d=d, port=cls.port, pf=cls.pf.port))
            cls.pf.start()
            cls.smtpd.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.pf is not None:
            cls.pf.stop()
        rc = cls.smtpd.stop()
        log = cls.smtpd.log()
        cls.smtpd.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc in (0, None), log[-4000:]

    def find(self, maildir, marker, timeout=TIMEOUT):
        def look():
            try:
                names = os.listdir(maildir)
            except OSError:
                return None
            for n in names:
                with open(os.path.join(maildir, n), "rb") as f:
                    data = f.read()
                if marker in data:
                    return data
            return None
        return wait_for(look, timeout, 0.1)

    def test_relay_to_postfix(self):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=TIMEOUT) as c:
            c.sendmail("s@example.com", ["%s@pf.test" % self.user],
                       b"Subject: to postfix\r\n\r\nmarker-to-pf\r\n")
        data = self.find(self.pf.maildir, b"marker-to-pf")
        self.assertIsNotNone(data, self.smtpd.log()[-3000:] +
                             self.pf.log()[-3000:])
        self.assertRegex(data, rb"\(using TLSv1\.[23]")
        self.assertRegex(self.smtpd.log(), r"mta tls address=127\.0\.0\.1:"
                         r"%d .* verified=yes" % self.pf.port)
        self.assertRegex(self.pf.log(), r"TLS connection established from")

    def test_postfix_relays_to_us(self):
        with smtplib.SMTP("127.0.0.1", self.pf.port, timeout=TIMEOUT) as c:
            c.sendmail("s@example.com", ["%s@back.test" % self.user],
                       b"Subject: from postfix\r\n\r\nmarker-from-pf\r\n")
        data = self.find(self.maildir, b"marker-from-pf")
        self.assertIsNotNone(data, self.pf.log()[-3000:] +
                             self.smtpd.log()[-3000:])
        self.assertIn(b"TLS version=TLSv1.", data)
        self.assertRegex(self.pf.log(), r"TLS connection established to "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]:%d" % self.port)
        self.assertTrue(re.search(r"smtp tls ciphers=", self.smtpd.log()))


    def test_tempfail_then_success(self):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=TIMEOUT) as c:
            c.sendmail("s@example.com", ["later@pf.test"],
                       b"Subject: later\r\n\r\nmarker-later\r\n")
        self.assertTrue(wait_for(lambda: re.search(
            r"to=<later@pf.test> \S+ result=tempfail stat=\"450 4.2.0 "
            r"<later@pf.test>: Recipient address rejected: try again later",
            self.smtpd.log()), TIMEOUT), self.smtpd.log()[-3000:])
        self.pf.main["smtpd_recipient_restrictions"] = \
            self.pf.main["smtpd_recipient_restrictions"].replace(
                "{later@pf.test = 450 4.2.0 try again later}", "")
        self.pf.reload()

        def retried():
            # the reload reaches Postfix's smtpd processes at their own
            # pace: ask for the retry until the mail is in
            self.smtpd.ctl("schedule", "all")
            return self.find(self.pf.maildir, b"marker-later", 2)
        data = wait_for(retried, TIMEOUT, 0.5)
        self.assertIsNotNone(data, self.smtpd.log()[-3000:])
        self.assertRegex(data, rb"\(using TLSv1\.[23]")

    def test_permanent_failure_bounces(self):
        sender = "%s@back.test" % self.user
        with smtplib.SMTP("127.0.0.1", self.port, timeout=TIMEOUT) as c:
            c.sendmail(sender, ["nobody@pf.test"],
                       b"Subject: doomed\r\n\r\nmarker-doomed\r\n")
        data = self.find(self.maildir, b"nobody@pf.test")
        self.assertIsNotNone(data, self.smtpd.log()[-3000:])
        m = email.message_from_bytes(data, policy=email.policy.compat32)
        self.assertEqual(m.get_content_type(), "multipart/report")
        _, status, original = m.get_payload()
        rcpts = status.get_payload()[1:]
        self.assertEqual(len(rcpts), 1)
        self.assertEqual(rcpts[0]["Action"], "failed")
        self.assertEqual(rcpts[0]["Status"], "5.1.1")
        self.assertIn("nobody@pf.test", rcpts[0]["Final-Recipient"])
        self.assertIn("no such user here", rcpts[0]["Diagnostic-Code"])
        self.assertIn(b"marker-doomed", original.as_bytes())


if __name__ == "__main__":
    unittest.main()
