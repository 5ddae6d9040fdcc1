"""SMTP AUTH through the daemon, as far as this branch can go without
TLS (AUTH-03, LSN-22/23/24, SEC-08, CTL-24): listeners with `tls pki`
and `auth <creds>` / `auth-optional` start; on a session that is not
secure AUTH is neither advertised nor accepted (503, a clear reply),
`auth` refuses MAIL before AUTH (530) and `auth-optional` lets it
through; `auth` without a TLS mode is a configuration error; the
password never reaches the log.  smtpctl encrypt: one $6$ hash per
argument or stdin line, each salted, verified with crypt(3) when Python
still has it.  The exchange itself, the checks and the rules are tested
in regress/unit/smtp_auth_test.c and lookup_auth_test.c; AUTH end to end
over STARTTLS comes with the TLS layer.  Every daemon is stopped by PID.
"""
import base64
import os
import shutil
import smtplib
import ssl
import subprocess
import sys
import threading
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import Smtpd, build_for, free_port, run_smtpd  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt
    except ImportError:
        crypt = None

PLAIN = base64.b64encode(b"\0alice\0hunter2-secret").decode()


def encrypt(*args, stdin=None):
    ctl = os.path.join(build_for(None), "smtpctl")
    return subprocess.run([ctl, "encrypt"] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=20)


class Encrypt(unittest.TestCase):

    def test_argument(self):
        r = encrypt("hunter2")
        self.assertEqual(r.returncode, 0, r.stderr)
        h = r.stdout.strip()
        self.assertTrue(h.startswith("$6$") and "\n" not in h, h)
        self.assertNotIn("hunter2", r.stdout + r.stderr)
        if crypt is not None:
            self.assertEqual(crypt.crypt("hunter2", h), h)

    def test_stdin_lines(self):
        r = encrypt(stdin="one\ntwo words\nlast")
        self.assertEqual(r.returncode, 0, r.stderr)
        hashes = r.stdout.splitlines()
        self.assertEqual(len(hashes), 3, r.stdout)
        self.assertEqual(len(set(h.split("$")[2] for h in hashes)), 3,
                         "each hash has its own salt")
        if crypt is not None:
            for pw, h in zip(["one", "two words", "last"], hashes):
                self.assertEqual(crypt.crypt(pw, h), h)

    def test_usage(self):
        r = encrypt("a", "b")
        self.assertEqual(r.returncode, 1)
        self.assertIn("usage: smtpctl encrypt", r.stderr)


class AuthBase(unittest.TestCase):
    """A daemon with a table listener and an optional one (AUTH)."""

    def setUp(self):
        if shutil.which("openssl") is None:
            self.skipTest("not run: openssl is needed for the pki")
        self.d = Smtpd()
        self.addCleanup(self.d.cleanup)
        key = os.path.join(self.d.dir, "key.pem")
        cert = os.path.join(self.d.dir, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days",
                        "2", "-subj", "/CN=mx.test.example"],
                       check=True, capture_output=True, timeout=60)
        os.chmod(key, 0o600)
        with open(os.path.join(self.d.dir, "creds"), "w") as f:
            f.write("alice %s\n" % encrypt("hunter2-secret").stdout.strip())
        self.port_req, self.port_opt = free_port(), free_port()
        with open(os.path.join(self.d.dir, "smtpd.conf"), "w") as f:
            f.write('pki mx.test.example cert "%s"\n'
                    'pki mx.test.example key "%s"\n'
                    'table creds file:%s/creds\n'
                    'listen on 127.0.0.1 port %d tls pki mx.test.example '
                    '%s received-auth\n'
                    'listen on 127.0.0.1 port %d tls pki mx.test.example '
                    'auth-optional <creds>\n'
                    'action "out" relay\n'
                    'match from any for any action "out"\n'
                    % (cert, key, self.d.dir, self.port_req, self.AUTH,
                       self.port_opt))
        self.d.start()

    AUTH = "auth <creds>"

    def tls_client(self, port):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = smtplib.SMTP("127.0.0.1", port, timeout=20)
        c.ehlo("client.example")
        c.starttls(context=ctx)
        c.ehlo("client.example")
        return c


class AuthDaemon(AuthBase):

    def test_not_secure_no_auth(self):
        with smtplib.SMTP("127.0.0.1", self.port_req, timeout=20) as c:
            c.ehlo("client.example")
            self.assertFalse(c.has_extn("auth"), c.esmtp_features)
            code, text = c.docmd("AUTH", "PLAIN " + PLAIN)
            self.assertEqual(code, 503, text)
            self.assertIn(b"5.5.1", text)
            self.assertIn(b"secure channel", text)
            code, text = c.docmd("MAIL", "FROM:<alice@example.org>")
            self.assertEqual(code, 530, text)
            self.assertIn(b"Must issue an AUTH command first", text)
        with smtplib.SMTP("127.0.0.1", self.port_opt, timeout=20) as c:
            c.ehlo("client.example")
            self.assertFalse(c.has_extn("auth"), c.esmtp_features)
            code, text = c.docmd("MAIL", "FROM:<alice@example.org>")
            self.assertEqual(code, 250, text)
        self.assertIsNone(self.d.proc.poll(), "the daemon is up")
        log = self.d.log()
        self.assertNotIn("hunter2", log)
        self.assertNotIn(PLAIN, log)


    def test_auth_over_starttls(self):
        # AUTH-01/02/07, end to end: offered once TLS is up, a wrong
        # password refused after the delay, PLAIN and LOGIN accepted
        with self.tls_client(self.port_req) as c:
            self.assertTrue(c.has_extn("auth"), c.esmtp_features)
            self.assertEqual(c.esmtp_features["auth"].split(),
                             ["PLAIN", "LOGIN"])
            c.user, c.password = "alice", "wrong"
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                c.auth("PLAIN", c.auth_plain)
            self.assertEqual(e.exception.smtp_code, 535)
            c.user, c.password = "alice", "hunter2-secret"
            code, text = c.auth("PLAIN", c.auth_plain)
            self.assertEqual(code, 235, text)
            code, text = c.docmd("AUTH", "PLAIN " + PLAIN)
            self.assertEqual(code, 503, text)       # already done
            code, text = c.docmd("MAIL", "FROM:<alice@example.org>")
            self.assertEqual(code, 250, text)
        with self.tls_client(self.port_opt) as c:
            code, text = c.login("alice", "hunter2-secret")  # LOGIN or PLAIN
            self.assertEqual(code, 235, text)
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                            str(self.port_req), "--tls", "--auth", "LOGIN",
                            "--auth-user", "alice", "--auth-password",
                            "hunter2-secret", "--quit-after", "AUTH",
                            "--timeout", "20"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("235 2.0.0", r.stdout)
        log = self.d.log()
        self.assertIn("user=alice result=ok", log)
        self.assertIn("user=alice result=permfail", log)
        self.assertNotIn("hunter2", log)


class AuthSystem(AuthBase):
    """`auth` with no table: system accounts, checked by the parent in
    a short-lived child (AUTH-04): right, wrong, unknown, several at
    once; the password never logged.  Root only (an account and its
    shadow entry are made)."""

    AUTH = "auth"
    USER = "smtpd-auth1"
    SECRET = "s3cret-system-pw"

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("not run: system accounts need root")
        from smtpdtest import ensure_account
        ensure_account(self.USER)
        hashed = encrypt(self.SECRET).stdout.strip()
        subprocess.run(["usermod", "-p", hashed, self.USER], check=True,
                       timeout=60)
        super().setUp()

    def check(self, user, password):
        with self.tls_client(self.port_req) as c:
            c.user, c.password = user, password
            try:
                return c.auth("PLAIN", c.auth_plain)[0]
            except smtplib.SMTPAuthenticationError as e:
                return e.smtp_code

    def test_system_accounts(self):
        self.assertEqual(self.check(self.USER, self.SECRET), 235)
        self.assertEqual(self.check(self.USER, "wrong"), 535)
        self.assertEqual(self.check("smtpd-no-such-user", self.SECRET), 535)
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            self.check(self.USER, self.SECRET))) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results, [235] * 6)
        self.assertIsNone(self.d.proc.poll(), "the daemon is up")
        log = self.d.log()
        self.assertIn("user=%s result=ok" % self.USER, log)
        self.assertIn("user=%s result=permfail" % self.USER, log)
        self.assertNotIn(self.SECRET, log)


class AuthConfig(unittest.TestCase):

    def test_auth_without_tls_refused(self):
        d = Smtpd(conf="listen on 127.0.0.1 port %d auth\n" % free_port())
        self.addCleanup(d.cleanup)
        r = run_smtpd(["-n", "-f", os.path.join(d.dir, "smtpd.conf")])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("auth requires tls/smtps", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
