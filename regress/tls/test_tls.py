"""TLS server and the ca process (issue 9 parts 4, 5; TLS-01, TLS-04,
TLS-05, TLS-09, TLS-10, TLS-11, TLS-12): STARTTLS and smtps served by a
real daemon whose dispatcher signs through ca, checked with smtplib,
swaks and openssl s_client.

Certificates are made at test time with the openssl CLI in the daemon's
temporary directory: a CA, an RSA server certificate, an ECDSA one
(chosen by SNI), a client certificate signed by the CA.  One daemon for
the whole class (four listeners); every wait is bounded and every
process is stopped by PID (smtpdtest.Smtpd).
"""
import os
import pwd
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time
import unittest

from smtpdtest import NOT_RUN, Smtpd, free_port, is_root, run_smtpd, \
    wait_for

MAIL_USER = "smtpd-mail"
TIMEOUT = 10


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def make_certs(d):
    """CA, server RSA (mx.example.org), server EC (ec.example.org),
    client (signed by the CA) in D; keys 0600."""
    ext = os.path.join(d, "san.ext")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
            "ca.key", "-out", "ca.crt", "-days", "2", "-subj",
            "/CN=Test CA", cwd=d)
    for name, cn, alg in (("rsa", "mx.example.org", ["-newkey",
                                                     "rsa:2048"]),
                          ("ec", "ec.example.org", ["-newkey", "ec",
                           "-pkeyopt", "ec_paramgen_curve:P-256"]),
                          ("client", "client.example.org", ["-newkey",
                                                            "rsa:2048"])):
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\n" % cn)
        openssl("req", "-new", *alg, "-nodes", "-keyout", name + ".key",
                "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", ext, "-out", name + ".crt", cwd=d)
    for f in os.listdir(d):
        if f.endswith(".key"):
            os.chmod(os.path.join(d, f), 0o600)


def recipient_user():
    if not is_root():
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell",
                        "/usr/sbin/nologin", MAIL_USER], check=True,
                       timeout=60)
    return MAIL_USER


def client_context(cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(cert + ".crt", cert + ".key")
    return ctx


CONF = """\
pki mxrsa cert "{d}/rsa.crt"
pki mxrsa key "{d}/rsa.key"
pki mxec cert "{d}/ec.crt"
pki mxec key "{d}/ec.key"
pki mxrsa dhe auto
ca corpca cert "{d}/ca.crt"
listen on 127.0.0.1 port {tls} tls pki mxrsa pki mxec hostname mx.example.org
listen on 127.0.0.1 port {smtps} smtps pki mxec hostname mx.example.org
listen on 127.0.0.1 port {req} tls-require pki mxrsa hostname mx.example.org
listen on 127.0.0.1 port {verify} tls-require verify ca corpca pki mxrsa \
hostname mx.example.org
action "local" maildir "{d}/mail/%{{user.username}}"
match from any for domain "example.org" action "local"
"""


class TestTLS(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.user = recipient_user()
        cls.d = Smtpd()
        cls.dir = cls.d.dir
        make_certs(cls.dir)
        cls.ports = dict(tls=free_port(), smtps=free_port(),
                         req=free_port(), verify=free_port())
        mail = os.path.join(cls.dir, "mail")
        os.mkdir(mail)
        pw = pwd.getpwnam(cls.user)
        os.chown(mail, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(cls.dir, "smtpd.conf"), "w") as f:
            f.write(CONF.format(d=cls.dir, **cls.ports))
        try:
            cls.d.start()
        except Exception:
            cls.d.cleanup()
            raise
        cls.maildir = os.path.join(mail, cls.user)

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        log = cls.d.log()
        cls.d.__exit__(None, None, None)
        assert rc == 0, log[-4000:]

    def path(self, name):
        return os.path.join(self.dir, name)

    def smtp(self, which):
        return smtplib.SMTP("127.0.0.1", self.ports[which], timeout=TIMEOUT)

    def delivered(self, marker):
        """The text of the delivered mail holding MARKER."""
        found = []

        def look():
            new = os.path.join(self.maildir, "new")
            for f in os.listdir(new) if os.path.isdir(new) else []:
                with open(os.path.join(new, f), errors="replace") as fp:
                    text = fp.read()
                if marker in text:
                    found.append(text)
                    return True
            return False
        self.assertTrue(wait_for(look, 20), self.d.log()[-3000:])
        return found[0]

    def s_client(self, port, *args, starttls=True):
        cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port]
        if starttls:
            cmd += ["-starttls", "smtp"]
        r = subprocess.run(cmd + list(args), input="QUIT\r\n",
                           capture_output=True, text=True, timeout=TIMEOUT)
        return r.returncode, r.stdout + r.stderr

    def test_starttls_smtplib_delivers_with_received_clause(self):
        with self.smtp("tls") as c:
            c.ehlo("client.test")
            self.assertTrue(c.has_extn("starttls"))
            c.starttls(context=client_context())
            c.ehlo("client.test")
            self.assertFalse(c.has_extn("starttls"))
            c.sendmail("a@example.net", ["%s@example.org" % self.user],
                       "Subject: tls-1\r\n\r\nover TLS\r\n")
        text = self.delivered("tls-1")
        self.assertRegex(text, r"with ESMTPS id [0-9a-f]{8}\s*\(TLS "
                         r"version=TLSv1\.3 cipher=\S+ bits=\d+ "
                         r"verify=NO\)")
        self.assertRegex(self.d.log(), r"smtp tls ciphers=TLSv1\.3:\S+:\d+")

    def test_swaks_tls(self):
        r = subprocess.run(["swaks", "--support"], capture_output=True,
                           text=True, timeout=TIMEOUT)
        if "TLS supported" not in r.stdout + r.stderr:
            raise unittest.SkipTest(NOT_RUN + "swaks without TLS "
                                    "(libnet-ssleay-perl)")
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                            str(self.ports["tls"]), "--tls", "--from",
                            "a@example.net", "--to",
                            "%s@example.org" % self.user, "--helo",
                            "client.test", "--header", "Subject: swaks-1"],
                           capture_output=True, text=True,
                           timeout=TIMEOUT * 2)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("TLS started", r.stdout)
        self.assertIn("ESMTPS", self.delivered("swaks-1"))

    def test_smtps(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.ports["smtps"],
                              timeout=TIMEOUT,
                              context=client_context()) as c:
            code, _ = c.ehlo("client.test")
            self.assertEqual(code, 250)
            self.assertFalse(c.has_extn("starttls"))
            self.assertEqual(c.docmd("STARTTLS")[0], 503)
            self.assertEqual(c.noop()[0], 250)
        # the handshake's signature was ca's (smtpctl show stats)
        out = self.d.ctl("show", "stats").stdout
        m = re.search(r"^ca\.operation=(\d+)$", out, re.M)
        self.assertTrue(m and int(m.group(1)) > 0, out)
        self.assertRegex(out, r"(?m)^ca\.operation\.mean_usec=\d+$")

    def test_tls_require_refuses_mail_in_clear(self):
        with self.smtp("req") as c:
            c.ehlo("client.test")
            self.assertTrue(c.has_extn("starttls"))
            code, text = c.docmd("MAIL FROM:<a@example.net>")
            self.assertEqual(code, 530)
            self.assertIn(b"5.7.0", text)
            self.assertEqual(c.docmd("RCPT TO:<b@example.org>")[0], 530)
            c.starttls(context=client_context())
            c.ehlo("client.test")
            self.assertEqual(c.docmd("MAIL FROM:<a@example.net>")[0], 250)

    def test_plain_listener_has_no_starttls_word_twice(self):
        with self.smtp("tls") as c:
            c.ehlo("client.test")
            c.starttls(context=client_context())
            c.ehlo("client.test")
            code, _ = c.docmd("STARTTLS")
            self.assertEqual(code, 503)
            self.assertEqual(c.noop()[0], 250)

    def test_starttls_before_helo_and_with_argument(self):
        with self.smtp("tls") as c:
            self.assertEqual(c.docmd("STARTTLS")[0], 503)
            c.ehlo("client.test")
            self.assertEqual(c.docmd("STARTTLS", "now")[0], 501)

    def test_pipelined_after_starttls_is_discarded(self):
        s = socket.create_connection(("127.0.0.1", self.ports["tls"]),
                                     timeout=TIMEOUT)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220 "))
        s.sendall(b"EHLO client.test\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@example.net>\r\n")
        self.assertTrue(f.readline().startswith(b"220 2.0.0"))
        ss = client_context().wrap_socket(s, server_hostname="mx.example.org")
        g = ss.makefile("rb")
        ss.sendall(b"EHLO client.test\r\n")
        while not g.readline().startswith(b"250 "):
            pass
        # had the injected MAIL run inside TLS, RCPT would be accepted
        ss.sendall(b"RCPT TO:<%s@example.org>\r\n" % self.user.encode())
        self.assertTrue(g.readline().startswith(b"503 5.5.1"))
        ss.sendall(b"QUIT\r\n")
        self.assertTrue(g.readline().startswith(b"221"))
        ss.close()
        self.assertTrue(wait_for(lambda: re.search(
            r"smtp tls-discard bytes=3[0-9]", self.d.log()), TIMEOUT),
            self.d.log()[-2000:])
        self.assertNotIn("injected@", self.d.log())

    def test_sni_chooses_pki_and_both_key_kinds_sign(self):
        for args, cn, suite in (
                (["-servername", "mx.example.org", "-tls1_2"],
                 "mx.example.org", "ECDHE-RSA-"),
                # RSA PKCS#1 v1.5 signature, then RSA key exchange (ca
                # decrypts)
                (["-tls1_2", "-sigalgs", "RSA+SHA256"], "mx.example.org",
                 "ECDHE-RSA-"),
                (["-tls1_2", "-cipher", "AES256-SHA"], "mx.example.org",
                 "AES256-SHA"),
                # `pki mxrsa dhe auto` (TLS-02)
                (["-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"],
                 "mx.example.org", "DHE-RSA-AES256-GCM-SHA384"),
                (["-servername", "ec.example.org", "-tls1_2"],
                 "ec.example.org", "ECDHE-ECDSA-"),
                (["-servername", "ec.example.org", "-tls1_3"],
                 "ec.example.org", "TLS_"),
                (["-tls1_3"], "mx.example.org", "TLS_")):
            rc, out = self.s_client(self.ports["tls"], *args)
            self.assertRegex(out, r"subject=CN\s*=\s*" + re.escape(cn),
                             out)
            self.assertIn("Cipher is " + suite, out)
            self.assertIn("250 HELP", out)     # EHLO again inside TLS

    def test_tls_1_1_refused(self):
        rc, out = self.s_client(self.ports["tls"], "-tls1_1")
        # no reply to QUIT: no line starting "221" (s_client's output
        # has timestamps, which may hold those digits anywhere)
        self.assertNotRegex(out, r"(?m)^221[ -]")
        self.assertNotEqual(rc, 0)
        rc, out = self.s_client(self.ports["smtps"], "-tls1_1",
                                starttls=False)
        self.assertNotEqual(rc, 0)
        self.assertTrue(wait_for(lambda: "unsupported protocol" in
                                 self.d.log(), TIMEOUT))

    def test_client_certificate_verify(self):
        with self.smtp("verify") as c:
            c.ehlo("client.test")
            c.starttls(context=client_context(self.path("client")))
            c.ehlo("client.test")
            c.sendmail("a@example.net", ["%s@example.org" % self.user],
                       "Subject: verify-1\r\n\r\nwith a certificate\r\n")
        self.assertIn("verify=YES)", self.delivered("verify-1"))
        # without a certificate: the handshake fails, MAIL never runs
        with self.smtp("verify") as c:
            c.ehlo("client.test")
            with self.assertRaises((ssl.SSLError, OSError,
                                    smtplib.SMTPException)):
                c.starttls(context=client_context())
                c.ehlo("client.test")
                c.docmd("MAIL FROM:<a@example.net>")
        self.assertTrue(wait_for(lambda: "tls-error" in self.d.log(),
                                 TIMEOUT))


class TestImplicitPki(unittest.TestCase):
    """TLS-04, as OpenSMTPD 6.x: a TLS listener given no pki uses the
    pki named like its host name (the server name unless `hostname`
    says otherwise), else the catch-all pki "*"; the key stays in ca,
    which signs for either."""

    def test_hostname_pki_and_catch_all(self):
        d = Smtpd()
        try:
            make_certs(d.dir)
            ports = dict(star=free_port(), named=free_port())
            with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
                f.write('pki "*" cert "{d}/rsa.crt"\n'
                        'pki "*" key "{d}/rsa.key"\n'
                        'pki ec.example.org cert "{d}/ec.crt"\n'
                        'pki ec.example.org key "{d}/ec.key"\n'
                        'listen on 127.0.0.1 port {star} tls\n'
                        'listen on 127.0.0.1 port {named} smtps '
                        'hostname ec.example.org\n'
                        'action "local" mbox\n'
                        'match from local for local action "local"\n'
                        .format(d=d.dir, **ports))
            d.start()
            for port, starttls, cn in ((ports["star"], True,
                                        "mx.example.org"),
                                       (ports["named"], False,
                                        "ec.example.org")):
                cmd = ["openssl", "s_client", "-connect",
                       "127.0.0.1:%d" % port]
                if starttls:
                    cmd += ["-starttls", "smtp"]
                r = subprocess.run(cmd, input="QUIT\r\n",
                                   capture_output=True, text=True,
                                   timeout=TIMEOUT)
                out = r.stdout + r.stderr
                self.assertRegex(out, r"subject=CN\s*=\s*" +
                                 re.escape(cn), out)
                self.assertIn("Cipher is ", out)
            self.assertEqual(d.stop(), 0, d.log()[-3000:])
        finally:
            d.cleanup()


class TestKeyFile(unittest.TestCase):
    """TLS-01: a key others can read is a start-up error."""

    def test_key_mode_0644_refused(self):
        d = Smtpd()
        try:
            make_certs(d.dir)
            key = os.path.join(d.dir, "rsa.key")
            os.chmod(key, 0o644)
            conf = os.path.join(d.dir, "smtpd.conf")
            with open(conf, "w") as f:
                f.write('pki mxrsa cert "%s/rsa.crt"\n'
                        'pki mxrsa key "%s"\n'
                        'listen on 127.0.0.1 port %d tls pki mxrsa\n'
                        'action "local" mbox\n'
                        'match from local for local action "local"\n'
                        % (d.dir, key, free_port()))
            r = run_smtpd(["-n", "-f", conf])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("insecure permissions 0644", r.stderr)
            with self.assertRaises(RuntimeError) as e:
                d.start()
            self.assertIn("insecure permissions", str(e.exception))
            os.chmod(key, 0o600)
            d.start()       # the same files with the key closed: fine
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()


class TestCaStalled(unittest.TestCase):
    """A ca that does not answer: the handshakes waiting for a signature
    are paused, not waited on, so the dispatcher serves every other
    session meanwhile (a plain session's greeting and NOOP come at once,
    several handshakes wait side by side); each paused handshake fails
    after DISPATCHER_CA_TIMEOUT_MS (3 s), the daemon goes on, and once
    ca answers again (its late answers dropped) TLS works."""

    HANDSHAKES = 4

    def start(self, d, more=""):
        """D with an smtps listener (EC key) and MORE: its port and the
        ca process's pid."""
        make_certs(d.dir)
        port = free_port()
        with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
            f.write('pki mxec cert "%s/ec.crt"\n'
                    'pki mxec key "%s/ec.key"\n'
                    'listen on 127.0.0.1 port %d smtps pki mxec\n%s'
                    'action "local" mbox\n'
                    'match from local for local action "local"\n'
                    % (d.dir, d.dir, port, more))
        d.start()
        procs, _ = d.status()
        self.assertGreater(procs["ca"]["pid"], 1)
        return port, procs["ca"]["pid"]

    def test_stalled_ca_pauses_handshakes_only(self):
        d = Smtpd()
        with d:
            plain = free_port()
            port, ca = self.start(d, 'listen on 127.0.0.1 port %d\n' % plain)
            outcomes = []

            def handshake():
                t0 = time.monotonic()
                try:
                    smtplib.SMTP_SSL("127.0.0.1", port, timeout=TIMEOUT,
                                     context=client_context()).close()
                    outcomes.append(("ok", time.monotonic() - t0))
                except (ssl.SSLError, OSError) as e:
                    outcomes.append((type(e).__name__,
                                     time.monotonic() - t0))

            os.kill(ca, signal.SIGSTOP)
            try:
                threads = [threading.Thread(target=handshake)
                           for _ in range(self.HANDSHAKES)]
                for t in threads:
                    t.start()
                # let the handshakes reach ca and pause; a plain session
                # is served meanwhile
                time.sleep(0.3)
                t0 = time.monotonic()
                with smtplib.SMTP("127.0.0.1", plain, timeout=TIMEOUT) as c:
                    self.assertEqual(c.noop()[0], 250)
                served = time.monotonic() - t0
                self.assertEqual(outcomes, [])
                for t in threads:
                    t.join(TIMEOUT + 5)
            finally:
                os.kill(ca, signal.SIGCONT)
            self.assertLess(served, 0.5)
            self.assertEqual(len(outcomes), self.HANDSHAKES, outcomes)
            for what, took in outcomes:
                self.assertNotEqual(what, "ok")
                # side by side: each about 3 s, not one after the other
                self.assertGreater(took, 2.5)
                self.assertLess(took, 6)
            log = d.log()
            self.assertIn("no answer from ca in 3000 ms", log)
            self.assertIn("private-key operation by ca failed", log)
            with smtplib.SMTP_SSL("127.0.0.1", port, timeout=TIMEOUT,
                                  context=client_context()) as c:
                self.assertEqual(c.noop()[0], 250)
            self.assertTrue(wait_for(lambda: "late answer from ca dropped"
                                     in d.log(), TIMEOUT), d.log())
            self.assertEqual(d.stop(), 0)

    def test_client_gone_while_paused(self):
        """A client that closes during a paused handshake: its session
        is freed once ca's wait ends, nothing else is disturbed."""
        d = Smtpd()
        with d:
            port, ca = self.start(d)
            os.kill(ca, signal.SIGSTOP)
            try:
                ctx = client_context()
                with socket.create_connection(("127.0.0.1", port),
                                              timeout=0.5) as raw:
                    tls = ctx.wrap_socket(raw, server_hostname="mx.test",
                                          do_handshake_on_connect=False)
                    with self.assertRaises((socket.timeout, ssl.SSLError,
                                            OSError)):
                        tls.do_handshake()
            finally:
                os.kill(ca, signal.SIGCONT)
            with smtplib.SMTP_SSL("127.0.0.1", port, timeout=TIMEOUT,
                                  context=client_context()) as c:
                self.assertEqual(c.noop()[0], 250)
            procs, _ = d.status()
            self.assertEqual(procs["ca"]["pid"], ca)
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
