"""test_config.py -- `smtpd -n -f FILE` on the project corpus.

regress/config/ok/*.conf must print "configuration OK" and exit 0, and
with -v print exactly NAME.dump; regress/config/bad/*.conf must exit
non-zero with NAME.err as the first line of stderr.  -n loads every pki
as 6.8 does, so each file is copied into a temporary root with
/etc/ssl/ and /etc/mail/ moved there, where openssl made a certificate
and a 0600 key under the names the files use; files are checked from
that directory (messages carry the bare file name) and the root is
removed from what smtpd prints before comparing.
"""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))


def checker():
    return [os.path.join(BUILD, "smtpd")]


def run(args, cwd):
    return subprocess.run(checker() + args, cwd=cwd, capture_output=True,
                          text=True, errors="replace", timeout=30)


CERTS = ["mx.crt", "mail.example.com.crt", "ca.pem"]
KEYS = ["private/mx.key", "private/mail.example.com.key"]


class ConfigCorpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="test_config.")
        ssl = os.path.join(cls.root, "etc", "ssl")
        os.makedirs(os.path.join(ssl, "private"))
        os.makedirs(os.path.join(cls.root, "etc", "mail"))
        os.makedirs(os.path.join(cls.root, "run"))
        crt, key = os.path.join(ssl, "base.crt"), os.path.join(ssl, "base.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-days", "1", "-subj", "/CN=mx.example.org",
                        "-keyout", key, "-out", crt], check=True,
                       capture_output=True)
        for c in CERTS:
            shutil.copy(crt, os.path.join(ssl, c))
        for k in KEYS:
            shutil.copy(key, os.path.join(ssl, k))
            os.chmod(os.path.join(ssl, k), 0o600)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def copy(self, path):
        """PATH into the temporary root, /etc/ paths moved there"""
        with open(path) as f:
            text = f.read()
        for d in ("/etc/ssl/", "/etc/mail/"):
            text = text.replace(d, self.root + d)
        run_dir = os.path.join(self.root, "run")
        with open(os.path.join(run_dir, os.path.basename(path)), "w") as f:
            f.write(text)
        return run_dir

    def test_ok_files(self):
        d = os.path.join(ROOT, "regress", "config", "ok")
        files = sorted(glob.glob(os.path.join(d, "*.conf")))
        self.assertTrue(files)
        for path in files:
            name = os.path.basename(path)
            with self.subTest(name=name):
                rd = self.copy(path)
                p = run(["-n", "-f", name], rd)
                self.assertEqual(p.returncode, 0, p.stderr)
                # as OpenSMTPD 6.8 does: the verdict on stderr
                self.assertIn("configuration OK", p.stderr)
                dump = path[:-5] + ".dump"
                if os.path.exists(dump):
                    p = run(["-n", "-v", "-f", name], rd)
                    got = p.stdout.replace(self.root, "")
                    with open(dump) as f:
                        self.assertEqual(got, f.read())

    def test_bad_files(self):
        d = os.path.join(ROOT, "regress", "config", "bad")
        files = sorted(glob.glob(os.path.join(d, "*.conf")))
        self.assertTrue(files)
        for path in files:
            name = os.path.basename(path)
            with self.subTest(name=name):
                p = run(["-n", "-f", name], self.copy(path))
                self.assertNotEqual(p.returncode, 0)
                with open(path[:-5] + ".err") as f:
                    want = f.readline().rstrip("\n")
                first = (p.stderr.splitlines() or [""])[0]
                self.assertEqual(first.replace(self.root, ""), want)

    def test_pki_files_are_loaded(self):
        """-n loads certificates and keys (CONF-06): a missing one, or a
        key readable by others (TLS-01), is FILE:LINE of the pki."""
        rd = os.path.join(self.root, "run")
        ssl = os.path.join(self.root, "etc", "ssl")
        shutil.copy(os.path.join(ssl, "base.key"),
                    os.path.join(ssl, "private", "open.key"))
        os.chmod(os.path.join(ssl, "private", "open.key"), 0o644)
        cases = [
            ("nocert.conf", 'pki p cert "%s/nosuch.crt"\n'
             'pki p key "%s/private/mx.key"\n',
             "nocert.conf:1: pki p: certificate %s/nosuch.crt: "
             "No such file or directory"),
            ("openkey.conf", 'pki p cert "%s/mx.crt"\n'
             'pki p key "%s/private/open.key"\n',
             "openkey.conf:2: pki p: key %s/private/open.key: insecure "
             "permissions 0644, must be at most 0740"),
        ]
        for name, pki, want in cases:
            with self.subTest(name=name):
                with open(os.path.join(rd, name), "w") as f:
                    f.write(pki % (ssl, ssl) + 'listen on 127.0.0.1 '
                            'port 2525 tls pki p\naction "l" mbox\n'
                            'match for local action "l"\n')
                p = run(["-n", "-f", name], rd)
                self.assertEqual(p.returncode, 1, p.stderr)
                first = (p.stderr.splitlines() or [""])[0]
                self.assertEqual(first, want % ssl)
                self.assertNotIn("configuration OK", p.stderr)

    def test_unused_macro_warning(self):
        """-v reports a macro that is never expanded (CONF-03), as a
        warning: the verdict stays OK; without -v nothing is said."""
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.conf")
            with open(path, "w") as f:
                f.write('spare = "x"\naction "l" mbox\n'
                        'match for local action "l"\n')
            p = run(["-n", "-v", "-f", "m.conf"], d)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("m.conf:1: warning: macro 'spare' not used",
                          p.stderr)
            self.assertIn("configuration OK", p.stderr)
            p = run(["-n", "-f", "m.conf"], d)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn("not used", p.stderr)

    def test_fifo_is_refused(self):
        """A FIFO as the configuration or as an include is refused at
        once, with -n and at start alike (issue 7, bad input): opening
        it for reading blocked for ever with no log line."""
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "fifo")
            os.mkfifo(fifo)
            with open(os.path.join(d, "inc.conf"), "w") as f:
                f.write('include "%s"\naction "l" mbox\n'
                        'match for local action "l"\n' % fifo)
            for args, want in ((["-n", "-f", fifo], fifo),
                               (["-d", "-f", fifo], fifo),
                               (["-n", "-f", "inc.conf"],
                                "inc.conf:1: " + fifo)):
                with self.subTest(args=args):
                    p = run(args, d)
                    self.assertEqual(p.returncode, 1, p.stderr)
                    first = (p.stderr.splitlines() or [""])[0]
                    self.assertEqual(first, want + ": not a regular file")

    def test_n_and_start_agree(self):
        """What start-up refuses, -n refuses with the same message: the
        bad files that lookup used to refuse only at start."""
        d = os.path.join(ROOT, "regress", "config", "bad")
        for name in ("table-name-empty.conf", "table-name-long.conf",
                     "table-key-long.conf"):
            with self.subTest(name=name):
                rd = self.copy(os.path.join(d, name))
                n = run(["-n", "-f", name], rd)
                start = run(["-d", "-f", name], rd)
                self.assertEqual(n.returncode, 1, n.stderr)
                self.assertEqual(start.returncode, 1, start.stderr)
                self.assertEqual(n.stderr.splitlines()[0],
                                 start.stderr.splitlines()[0])
                self.assertNotIn("configuration OK", n.stderr)


if __name__ == "__main__":
    unittest.main()
