"""Every shared conf-examples file checked AS WRITTEN, with its real
/etc/mail and /etc/ssl paths, as `smtpd -n -f FILE` (issue 3 item 7;
CONF-06, CONF-15).

The fixtures (tables, Berkeley DB maps made by our makemap, certificates
and keys made by openssl, including the /etc/mail/certs/NAME.{crt,key}
files that legacy `certificate NAME` implies) go into a copy of /etc that
is bind-mounted over /etc in a private mount and network namespace, so
the host's /etc is never touched and no check can reach the network.
Verdicts are the "new server" column of conf-examples/README.md.
"""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from smtpdtest import BUILD, ROOT, SMTPD, is_root, shared_path

SHARED = os.path.join(os.path.dirname(ROOT), "shared", "spec",
                      "conf-examples")

# seeds that must fail as written: placeholders, typos, never-shipped
# syntax, operands lost in conversion (README, "New server" column)
SEED_FAIL = {"seed-10", "seed-16", "seed-17", "seed-18", "seed-19",
             "seed-22", "seed-25"}
# fragments: refused alone (no rule, or an undeclared pki)
SEED_FRAGMENT = {"seed-11", "seed-12", "seed-13", "seed-14", "seed-15",
                 "seed-20", "seed-21", "seed-23", "seed-24", "seed-26"}
# legacy `certificate NAME` means /etc/mail/certs/NAME.{crt,key}
LEGACY_CERTS = ("my.cert", "example", "mail.mydomain.org")
SSL_CERTS = {
    "mail.example.com.crt": "private/mail.example.com.key",
    "mx.example.net.crt": "private/mx.example.net.key",
    "example.org.crt": "private/example.org.key",
    "ca.pem": "private/ca.key",
    "acme/poolp.org/fullchain.pem": "acme/private/poolp.org/privkey.pem",
}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          **kw)


def mkcert(cert, key, cn):
    os.makedirs(os.path.dirname(cert), exist_ok=True)
    os.makedirs(os.path.dirname(key), exist_ok=True)
    r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
             "-subj", "/CN=" + cn, "-keyout", key, "-out", cert])
    if r.returncode != 0:
        raise RuntimeError("openssl: " + r.stderr)
    os.chmod(key, 0o600)


@unittest.skipUnless(is_root(), "private mount namespaces need root")
class TestSharedCorpusAsWritten(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        shared_path("spec", "conf-examples")    # else: not run
        cls.tmp = tempfile.mkdtemp(prefix="smtpd-corpus-")
        etc = os.path.join(cls.tmp, "etc")
        r = run(["cp", "-a", "/etc", etc])
        if r.returncode != 0:
            raise RuntimeError("copy of /etc: " + r.stderr)
        mail, ssl = os.path.join(etc, "mail"), os.path.join(etc, "ssl")
        shutil.rmtree(mail, ignore_errors=True)
        shutil.copytree(os.path.join(SHARED, "fixtures", "etc", "mail"),
                        mail)
        os.makedirs(os.path.join(mail, "smtpd"), exist_ok=True)
        for src, dst in (("secrets", "secret"), ("pdomains", "shithole"),
                         ("aliases", "smtpd/aliases"),
                         ("aliases2", "smtpd/aliases2"),
                         ("pdomains", "smtpd/primary-domains"),
                         ("vdomains", "smtpd/virtual-domains"),
                         ("virtual", "smtpd/virtual-users"),
                         ("bdomains", "smtpd/backup-domains")):
            shutil.copy(os.path.join(mail, src), os.path.join(mail, dst))
        makemap = os.path.join(BUILD, "makemap")
        for args in (["-t", "aliases", "-o", "aliases.db", "aliases"],
                     ["-t", "set", "-o", "domains.db", "domains"],
                     ["-o", "secrets.db", "secrets"]):
            r = run([makemap] + args, cwd=mail)
            if r.returncode != 0:
                raise RuntimeError("makemap %s: %s" % (args, r.stderr))
        for cert, key in SSL_CERTS.items():
            mkcert(os.path.join(ssl, cert), os.path.join(ssl, key),
                   cert.split("/")[-1].rsplit(".", 1)[0])
        shutil.copy(os.path.join(ssl, "ca.pem"),
                    os.path.join(ssl, "myca.pem"))
        for name in LEGACY_CERTS:
            mkcert(os.path.join(mail, "certs", name + ".crt"),
                   os.path.join(mail, "certs", name + ".key"), name)
        cls.etc = etc

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, path):
        # helpers (modern-03's table-sqlite) are found where -o libexec
        # says, as the README's reference daemon found extras' helpers
        script = ('mount --bind "$1" /etc && ip link set lo up && '
                  'exec "$2" -n -o libexec="$4" -f "$3"')
        return run(["unshare", "-m", "-n", "sh", "-c", script, "sh",
                    self.etc, SMTPD, path, os.path.join(BUILD, "libexec")])

    def test_modern_files(self):
        files = sorted(glob.glob(os.path.join(SHARED, "modern-*.conf")))
        self.assertEqual(len(files), 36)
        for path in files:
            with self.subTest(name=os.path.basename(path)):
                r = self.check(path)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("configuration OK", r.stderr)

    def test_seed_files(self):
        files = sorted(glob.glob(os.path.join(SHARED, "seed-*.conf")))
        self.assertEqual(len(files), 30)
        for path in files:
            name = os.path.basename(path)
            with self.subTest(name=name):
                r = self.check(path)
                if name[:7] in SEED_FAIL or name[:7] in SEED_FRAGMENT:
                    self.assertNotEqual(r.returncode, 0)
                    self.assertRegex(r.stderr.splitlines()[0],
                                     r"^%s:\d+: " % path)
                else:
                    self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_files(self):
        files = sorted(glob.glob(os.path.join(SHARED, "bad-*.conf")))
        self.assertEqual(len(files), 30)
        for path in files:
            with self.subTest(name=os.path.basename(path)):
                r = self.check(path)
                self.assertEqual(r.returncode, 1)
                self.assertRegex(r.stderr.splitlines()[0],
                                 r"^%s:\d+: " % path)


if __name__ == "__main__":
    unittest.main()
