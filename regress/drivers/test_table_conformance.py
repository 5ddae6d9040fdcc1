"""One backend, hosted two ways (issue 7.2, TABLE-01..06): the file and
db backends answer the same cases identically when linked into the
daemon (`file:`, `db:`) and when run as helpers (`proc-file:`,
`proc-db:`, libexec/table-file and table-db, the same objects wrapped
by the api/ glue).

One daemon declares every data set four times (file, proc-file, db,
proc-db), and a getpwnam table twice (getpwnam, proc-getpwnam); every case is asked through `smtpctl table` of each and the
answers are compared to the expected one, so embedded and helper-hosted
can never drift apart: lookup per service, pattern checks (domain
wildcards, CIDR, mailaddr, regex), missing keys, case folding, fetch
rotation, long values and `update table` after the data changed."""
import os
import pwd
import subprocess
import tempfile
import unittest

from smtpdtest import (BUILD, SANITIZER_MARKS, Smtpd,  # noqa: E402
                       free_port, proc_children)

HOSTS = ("file", "proc-file", "db", "proc-db")
# a valid alias list of about 12 kB: values are parsed before they answer
LONG = ", ".join("user%04d@example.com" % i for i in range(560))

# name -> (makemap type, lines); the same text feeds file and db tables
DATA = {
    "aliases": ("hash", [
        "root alice, bob",
        "postmaster root",
        "alice 1000:1000:/home/alice",
        "long " + LONG,
    ]),
    "domains": ("set", ["example.com", "*.example.org"]),
    "nets": ("set", ["192.0.2.0/24", "[2001:db8::]/32"]),
    "senders": ("set", ["@example.net", "bob"]),
    "regexes": ("set", ["^ab+c$", "(?i)^mail[0-9]+\\.example$"]),
    "sources": ("set", ["192.0.2.10", "192.0.2.11"]),
}

CASES = [
    # (verb, table, service, key) -> (exit code, output)
    (("lookup", "aliases", "alias", "root"), (0, "alice, bob")),
    (("lookup", "aliases", "alias", "ROOT"), (0, "alice, bob")),
    (("lookup", "aliases", "alias", "nobody"), (1, "not found")),
    (("lookup", "aliases", "userinfo", "alice"),
     (0, "1000:1000:/home/alice")),
    (("lookup", "aliases", "alias", "long"), (0, LONG)),
    (("check", "aliases", "alias", "postmaster"), (0, "found")),
    (("check", "domains", "domain", "example.com"), (0, "found")),
    (("check", "domains", "domain", "a.b.example.org"), (0, "found")),
    (("check", "domains", "domain", "example.org"), (1, "not found")),
    (("check", "domains", "domain", "example.net"), (1, "not found")),
    (("check", "nets", "netaddr", "192.0.2.77"), (0, "found")),
    (("check", "nets", "netaddr", "2001:db8::1"), (0, "found")),
    (("check", "nets", "netaddr", "198.51.100.1"), (1, "not found")),
    (("check", "senders", "mailaddr", "anyone@example.net"), (0, "found")),
    (("check", "senders", "mailaddr", "bob@example.com"), (0, "found")),
    (("check", "senders", "mailaddr", "bob+tag@example.com"),
     (0, "found")),
    (("check", "senders", "mailaddr", "eve@example.com"),
     (1, "not found")),
    (("check", "regexes", "regex", "abbbc"), (0, "found")),
    (("check", "regexes", "regex", "MAIL7.example"), (0, "found")),
    (("check", "regexes", "regex", "abd"), (1, "not found")),
]


def makemap(kind, src, db):
    """Our makemap (smtpctl through a symlink named makemap)."""
    with tempfile.TemporaryDirectory() as tmp:
        link = os.path.join(tmp, "makemap")
        os.symlink(os.path.join(BUILD, "smtpctl"), link)
        makemap_run(link, kind, src, db)


def makemap_run(link, kind, src, db):
    args = [link]
    if kind == "set":
        args += ["-t", "set"]
    p = subprocess.run(args + ["-o", db, src], capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("makemap %s: %s" % (src, p.stderr))


def write_data(d):
    """Every data set as text and as db; returns the table lines."""
    lines = []
    for name, (kind, rows) in sorted(DATA.items()):
        src = os.path.join(d, name)
        with open(src, "w") as f:
            f.write("".join(r + "\n" for r in rows))
        makemap(kind, src, src + ".db")
        for host in HOSTS:
            path = src + ".db" if host.endswith("db") else src
            lines.append("table %s_%s %s:%s\n" %
                         (name, host.replace("-", "_"), host, path))
    for host in ("getpwnam", "proc-getpwnam"):
        lines.append("table users_%s %s\n" % (host.replace("-", "_"), host))
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    return "".join(lines)


class TableConformance(unittest.TestCase):

    def daemon(self):
        d = Smtpd()
        self.addCleanup(d.cleanup)
        with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
            f.write(write_data(d.dir))
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "local" mbox alias <aliases_file>\n'
                    'match from local for local action "local"\n'
                    % free_port())
        d.args = ["-o", "libexec=" + os.path.join(BUILD, "libexec")]
        return d.start()

    def q(self, d, verb, table, host, *rest):
        r = d.ctl("table", verb, "%s_%s" % (table, host.replace("-", "_")),
                  *rest)
        return r.returncode, r.stdout.strip()

    def test_same_answers_embedded_and_helper(self):
        d = self.daemon()
        for (verb, table, svc, key), want in CASES:
            for host in HOSTS:
                with self.subTest(host=host, q=(verb, table, svc, key)):
                    self.assertEqual(self.q(d, verb, table, host, svc, key),
                                     want)
        # one helper runs per helper-hosted table
        lookup = d.status()[0]["lookup"]["pid"]
        self.assertEqual(len(proc_children(lookup)), 2 * len(DATA) + 1)
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())

    def test_getpwnam_embedded_and_helper(self):
        """The getpwnam backend answers the same from a helper: the
        system's users, as uid:gid:home, and nothing else."""
        d = self.daemon()
        pw = pwd.getpwnam("root")
        want = "%d:%d:%s" % (pw.pw_uid, pw.pw_gid, pw.pw_dir)
        for host in ("getpwnam", "proc-getpwnam"):
            with self.subTest(host=host):
                self.assertEqual(self.q(d, "lookup", "users", host,
                                        "userinfo", "root"), (0, want))
                self.assertEqual(self.q(d, "lookup", "users", host,
                                        "userinfo", "no-such-user-x"),
                                 (1, "not found"))
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())

    def test_fetch_rotates_the_same_way(self):
        d = self.daemon()
        for host in HOSTS:
            with self.subTest(host=host):
                got = [self.q(d, "fetch", "sources", host, "source")
                       for _ in range(3)]
                self.assertEqual([rc for rc, _ in got], [0, 0, 0])
                vals = [v for _, v in got]
                self.assertEqual(sorted(set(vals)),
                                 ["192.0.2.10", "192.0.2.11"])
                self.assertEqual(vals[0], vals[2])
                self.assertNotEqual(vals[0], vals[1])
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())

    def test_update_reloads_both_ways(self):
        d = self.daemon()
        for host in HOSTS:
            self.assertEqual(self.q(d, "lookup", "aliases", host, "alias",
                                    "carol"), (1, "not found"))
        src = os.path.join(d.dir, "aliases")
        with open(src, "a") as f:
            f.write("carol carol@example.net\n")
        makemap("hash", src, src + ".db")
        for host in HOSTS:
            with self.subTest(host=host):
                r = d.ctl("update", "table",
                          "aliases_" + host.replace("-", "_"))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(self.q(d, "lookup", "aliases", host,
                                        "alias", "carol"),
                                 (0, "carol@example.net"))
        # a broken file is refused the same way: the old content stays
        with open(src, "a") as f:
            f.write("bad\0line\n")
        for host in ("file", "proc-file"):
            with self.subTest(host=host, broken=True):
                r = d.ctl("update", "table",
                          "aliases_" + host.replace("-", "_"))
                self.assertEqual(r.returncode, 1)
                self.assertEqual(self.q(d, "lookup", "aliases", host,
                                        "alias", "carol"),
                                 (0, "carol@example.net"))
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())

    def test_helper_refuses_a_bad_file_at_start(self):
        """The helper opens its data as the embedded backend does: a
        file that is not a table makes table-file and table-db exit 1
        with the reason, before serving anything."""
        with tempfile.TemporaryDirectory() as tmp:
            bad = os.path.join(tmp, "bad")
            with open(bad, "wb") as f:
                f.write(b"key\0value\n")
            for helper, why in (("table-file", "binary data"),
                                ("table-db", "not a Berkeley DB")):
                with self.subTest(helper=helper):
                    p = subprocess.run(
                        [os.path.join(BUILD, "libexec", helper), bad],
                        stdin=subprocess.DEVNULL, capture_output=True,
                        text=True, timeout=10)
                    self.assertEqual(p.returncode, 1)
                    self.assertIn(why, p.stderr)


if __name__ == "__main__":
    unittest.main()
