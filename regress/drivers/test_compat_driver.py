"""Drivers written for OpenSMTPD's extras glue build, link and run here
(issue 7.2).  regress/drivers/compat_driver.c includes only
"smtpd-api.h", is compiled with api/ alone on the include path and uses
every helper that glue gives a driver; here it runs as a real helper
(`table NAME compat:FILE`, found as table-compat) under our daemon, and
each answer below depends on one family of those helpers: dict_* and
tree_* (sorted: walks in key order), the x-allocators, strip, lowercase,
base64, the evpid helpers, the limits and log_*/fatal*."""
import base64
import os
import shutil
import subprocess
import tempfile
import unittest

from smtpdtest import BUILD, SANITIZER_MARKS, Smtpd, free_port

DRIVER = os.path.join(BUILD, "regress", "drivers", "compat_driver")

DATA = """\
# a comment, and blank lines around
   
  Zeta   zeta@example.com  
alpha alice@example.com, bob@example.com
Mike  b64:%s
vmail 2000:2000:/var/vmail
toobig 4294967296:1:/x
example.com example
gone will-be-removed
!gone
carol@example.net x
@0000000100000001 first of message 1
@0000000100000007 second of message 1
@0000000200000003 message 2
@0000000300000001 message 3
!@0000000300000001
""" % base64.b64encode(b"mike@example.org").decode()


class CompatDriver(unittest.TestCase):

    def setUp(self):
        self.assertTrue(os.access(DRIVER, os.X_OK), DRIVER + " not built")
        self.tmp = tempfile.mkdtemp(prefix="smtpd-compat-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        self.libexec = os.path.join(self.tmp, "libexec")
        os.mkdir(self.libexec)
        os.chmod(self.libexec, 0o755)
        shutil.copy(DRIVER, os.path.join(self.libexec, "table-compat"))
        self.data = os.path.join(self.tmp, "data")
        self.write(DATA)

    def write(self, text):
        with open(self.data, "w") as f:
            f.write(text)
        os.chmod(self.data, 0o644)

    def daemon(self):
        d = Smtpd(conf="table compat compat:%s\n"
                  "listen on 127.0.0.1 port %d\n"
                  'action "local" mbox\n'
                  'match from local for local action "local"\n'
                  % (self.data, free_port()))
        self.addCleanup(d.cleanup)
        d.args = ["-o", "libexec=" + self.libexec]
        return d.start()

    def q(self, d, *args):
        r = d.ctl("table", *args)
        return r.returncode, r.stdout.strip()

    def test_answers_through_the_daemon(self):
        d = self.daemon()
        cases = [
            # dict_xset/xget, strip, lowercase of keys
            (("lookup", "compat", "alias", "zeta"), (0, "zeta@example.com")),
            (("lookup", "compat", "alias", "ALPHA"),
             (0, "alice@example.com, bob@example.com")),
            # base64_decode + xmemdup
            (("lookup", "compat", "alias", "mike"), (0, "mike@example.org")),
            # dict_pop of a removed key
            (("lookup", "compat", "alias", "gone"), (1, "not found")),
            # UID_MAX/GID_MAX bound the ids of a userinfo value
            (("lookup", "compat", "userinfo", "vmail"),
             (0, "2000:2000:/var/vmail")),
            (("lookup", "compat", "userinfo", "toobig"),
             (2, "")),
            # dict_check, and the SMTPD_MAX*PARTSIZE limits
            (("check", "compat", "domain", "example.com"), (0, "found")),
            (("check", "compat", "domain", "example.org"), (1, "not found")),
            (("check", "compat", "mailaddr", "carol@example.net"), (0, "found")),
            # table_api_get_name, dict_root (lowest key)
            (("lookup", "compat", "credentials", "=name"), (0, "compat")),
            (("lookup", "compat", "credentials", "=first"), (0, "alpha")),
            # dict_iter and dict_iterfrom walk in key order
            (("lookup", "compat", "credentials", "=keys"),
             (0, "alpha,carol@example.net,example.com,mike,toobig,vmail,"
                 "zeta")),
            (("lookup", "compat", "credentials", "=keysfrom.m"),
             (0, "mike,toobig,vmail,zeta")),
            # tree_xset, tree_pop, tree_iter in id order
            (("lookup", "compat", "credentials", "=ids"),
             (0, "0000000100000001,0000000100000007,0000000200000003")),
            # tree_check/tree_xget, or the message's first envelope
            # through tree_iterfrom and evpid_to_msgid/msgid_to_evpid
            (("lookup", "compat", "credentials", "=evp.0000000100000007"),
             (0, "second of message 1")),
            (("lookup", "compat", "credentials", "=evp.0000000100000005"),
             (0, "first of message 1")),
            (("lookup", "compat", "credentials", "=evp.0000000200000009"),
             (0, "message 2")),
            (("lookup", "compat", "credentials", "=evp.0000000300000001"),
             (1, "not found")),
            # base64_encode into an xmalloc'd buffer
            (("lookup", "compat", "credentials", "=b64.hello"),
             (0, base64.b64encode(b"hello").decode())),
            (("lookup", "compat", "credentials", "=b64.ab"),
             (0, base64.b64encode(b"ab").decode())),
        ]
        for args, want in cases:
            with self.subTest(args=args):
                self.assertEqual(self.q(d, *args), want)
        # update: dict_root/dict_xpop drain, dict_merge/tree_merge in
        self.write("Omega o@example.com\nomega again@example.com\n"
                   "@0000000900000001 nine\n")
        r = d.ctl("update", "table", "compat")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.q(d, "lookup", "compat", "alias", "omega"),
                         (0, "again@example.com"))
        self.assertEqual(self.q(d, "lookup", "compat", "alias", "zeta"),
                         (1, "not found"))
        self.assertEqual(self.q(d, "lookup", "compat", "credentials", "=ids"),
                         (0, "0000000900000001"))
        # a bad file: dict_poproot/tree_poproot drain it, old content
        self.write("nine b64:!!!\n")
        self.assertEqual(d.ctl("update", "table", "compat").returncode, 1)
        self.assertEqual(self.q(d, "lookup", "compat", "alias", "omega"),
                         (0, "again@example.com"))
        # smtpd-defines.h and log.h (api/compat): nitems, TRACE_*,
        # SMTPD_USER, TAG_CHAR; log_trace logs only the bits set
        self.assertEqual(self.q(d, "lookup", "compat", "credentials",
                                "=defines"), (0, "2 0x2000 _smtpd +"))
        log = d.log()
        self.assertIn("trace: tables bit set", log)
        self.assertNotIn("trace: io bit set", log)
        self.assertNotIn("trace: after verbosity 0", log)
        self.assertIn('key "omega" again, the last wins', log)
        self.assertIn("bad base64", log)
        self.assertIn("1 entries, 1 ids", log)
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())

    def test_fetch_rotates_in_key_order(self):
        """fetch walks the values with a dict_iter cursor, in key order
        (the extras' dict is sorted), and wraps around."""
        self.write("c 192.0.2.3\nA 192.0.2.1\nb 192.0.2.2\n")
        d = self.daemon()
        got = [self.q(d, "fetch", "compat", "source") for _ in range(4)]
        self.assertEqual(got, [(0, "192.0.2.1"), (0, "192.0.2.2"),
                               (0, "192.0.2.3"), (0, "192.0.2.1")])
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())

    def test_fatal_at_start(self):
        """fatalx on a bad command line, fatal (with strerror) on an
        unreadable file: exit 1 with the reason, at start only."""
        for args, why in (([], "bogus argument(s)"),
                          (["-x", self.data], "bad option"),
                          ([os.path.join(self.tmp, "nosuch")],
                           "No such file or directory")):
            with self.subTest(args=args):
                p = subprocess.run([DRIVER] + args, capture_output=True,
                                   text=True, timeout=10,
                                   stdin=subprocess.DEVNULL)
                self.assertEqual(p.returncode, 1)
                self.assertIn(why, p.stderr)

    def test_builds_from_the_glue_headers_alone(self):
        """The driver's source names no header of ours but the three the
        extras glue gives drivers (smtpd-defines.h and log.h, in
        api/compat/, as extras' table_postgres.c includes them)."""
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "compat_driver.c")
        with open(src) as f:
            ours = [l.split()[1] for l in f
                    if l.startswith("#include") and '"' in l]
        self.assertEqual(ours, ['"smtpd-defines.h"', '"smtpd-api.h"',
                                '"log.h"'])


if __name__ == "__main__":
    unittest.main()
