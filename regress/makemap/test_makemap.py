"""regress/makemap/test_makemap.py -- makemap(8): ours, and 6.8's beside it.

Our makemap is $SMTPD_BUILD/makemap, the symlink to smtpctl that `make`
makes (COMPAT-08).  RoundTrip: text -> db -> `makemap -U` gives back the
input's records, for hash and btree, plain maps, `-t set` and
`-t aliases`, and bad inputs exit 1 with file:line and leave nothing
behind.  Fixtures: our db of regress/tables/fixtures/makemap-*.txt dumps
to the same records as the .db Debian's 6.8 makemap made of it.
Real68: Debian's opensmtpd 6.8 package is fetched with `apt-get
download` into $SMTPD_BUILD/cache/opensmtpd/ and its smtpctl unpacked;
run as makemap it insists on a group named opensmtpq and on being setgid
to it, so it runs inside `unshare -m` with a copy of /etc/group that
adds the group bind-mounted over the real one, under `setpriv --regid`
(root needed; nothing on the host changes).  Its -U dump of our db must
equal its dump of its own db, and ours of both; the differences we
chose (DIVERGENCES) are asserted as measured.  If the package cannot be
fetched or run the tests fail saying why; they are skipped only for an
ordinary user (a failure as root, regress/run.py).  Every subprocess
has a timeout.
"""
import os
import shutil
import subprocess
import tempfile
import unittest
from debfetch import fetch_unpacked  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
FIXTURES = os.path.join(ROOT, "regress", "tables", "fixtures")
TIMEOUT = 20
QUEUE_GROUP = "opensmtpq"

# name, makemap options, input, expected records (key, value)
CASES = [
    ("map-hash", [], b"# a map\nRoot  bob\nPostMaster: root\n"
     b"k3: : v3\nk4::v4\n\nvmail\t2000:2000:/var/vmail# comment\n",
     [(b"root", b"bob"), (b"postmaster", b"root"), (b"k3", b"v3"),
      (b"k4", b"v4"), (b"vmail", b"2000:2000:/var/vmail")]),
    ("map-btree", ["-d", "btree"], b"b 2\nA 1\nc  x y z\n",
     [(b"a", b"1"), (b"b", b"2"), (b"c", b"x y z")]),
    ("set-hash", ["-t", "set"], b"Example.COM\n*.example.org\n"
     b"192.0.2.0/24\nk v\n",
     [(b"example.com", b"<set>"), (b"*.example.org", b"<set>"),
      (b"192.0.2.0/24", b"<set>"), (b"k v", b"<set>")]),
    ("set-btree", ["-t", "set", "-d", "btree"], b"zeta\nAlpha\n# c\n",
     [(b"alpha", b"<set>"), (b"zeta", b"<set>")]),
    ("aliases", ["-t", "aliases"],
     b"Root: bob, Alice\nstaff: carol,\\\n  dave@example.com\n"
     b"x: \"|cmd arg\", /var/mail/x, :include:/etc/foo, u@Example.com\n"
     b"e: error:550 gone \\# away\nroot@example.com: bob\n",
     [(b"root", b"bob, Alice"), (b"staff", b"carol,  dave@example.com"),
      (b"x", b"\"|cmd arg\", /var/mail/x, :include:/etc/foo, "
       b"u@Example.com"),
      (b"e", b"error:550 gone # away"), (b"root@example.com", b"bob")]),
    ("aliases-btree", ["-t", "aliases", "-d", "btree"],
     b"a: b\nc: d, e\n", [(b"a", b"b"), (b"c", b"d, e")]),
    ("escapes", [], b"k a\\\\b\nl a \\ b\nm a\\\\\\\nn b\n",
     [(b"k", b"a\\\\b"), (b"l", b"a \\ b"), (b"m", b"a\\\\n b")]),
]

# inputs both programs refuse (exit 1, no output)
BAD = [
    ("no-value", [], b"k v\njustakey\n", b"bad:2:"),
    ("comment-eats-value", [], b"k #v\n", b"bad:1:"),
    ("alias-trailing-comma", ["-t", "aliases"], b"root: bob,\n", b"bad:1:"),
    ("alias-bad-address", ["-t", "aliases"], b"root: @@@\n", b"bad:1:"),
    ("alias-indented-continuation", ["-t", "aliases"],
     b"root: bob\n  carol\n", b"bad:2:"),
]

# inputs on which we differ from 6.8 on purpose: (options, input, 6.8's
# records or None if it refuses the file, our records or None)
DIVERGENCES = [
    ("trailing-blanks", [], b"k1 v1 # c\nk2   v2   \nk3\tv3\t\n",
     [(b"k1", b"v1 "), (b"k2", b"v2   "), (b"k3", b"v3\t")],
     [(b"k1", b"v1"), (b"k2", b"v2"), (b"k3", b"v3")]),
    ("crlf", [], b"k1 v1\r\nk2 v2\r\n",
     [(b"k1", b"v1\r"), (b"k2", b"v2\r")], [(b"k1", b"v1"), (b"k2", b"v2")]),
    ("duplicate", [], b"a 1\nA 2\n", None, [(b"a", b"1")]),
    ("nul-byte", [], b"k v\0x\n", [(b"k", b"v")], None),
    ("long-key", [], b"k" * 2000 + b" v\n", [(b"k" * 2000, b"v")], None),
    # 6.8 skips every ':' after the key, turning ":include:" into
    # "include:"; we split as the daemon's file tables do (4.1)
    ("include", ["-t", "aliases"], b"staff:   :include:/etc/staff\n",
     [(b"staff", b"include:/etc/staff")],
     [(b"staff", b":include:/etc/staff")]),
]


def run(argv, cwd, **kw):
    return subprocess.run(argv, cwd=cwd, capture_output=True,
                          timeout=TIMEOUT, **kw)


def parse_dump(out):
    """Records of a `makemap -U` dump."""
    recs = []
    for line in out.split(b"\n")[:-1]:
        k, sep, v = line.partition(b"\t")
        if not sep:
            raise AssertionError("dump line without a tab: %r" % line)
        recs.append((k, v))
    return recs


class Ours:
    """Our makemap: the build's makemap, make's symlink to smtpctl."""

    def __init__(self, tmp):
        self.path = os.path.join(BUILD, "makemap")
        if not os.access(self.path, os.X_OK):
            raise AssertionError("%s not built" % self.path)
        if os.readlink(self.path) != "smtpctl":
            raise AssertionError("%s is not a symlink to smtpctl"
                                 % self.path)

    def run(self, args, cwd):
        return run([self.path] + args, cwd)

    def dump(self, db, cwd, opts=()):
        p = self.run(["-U", db], cwd)
        if p.returncode != 0:
            raise AssertionError("our makemap -U %s: %r" % (db, p.stderr))
        return parse_dump(p.stdout)


def fetch_opensmtpd():
    """Debian's 6.8 smtpctl, unpacked under $SMTPD_BUILD/cache, or raise."""
    try:
        return fetch_unpacked("opensmtpd", "usr/sbin/smtpctl")
    except RuntimeError as e:
        raise AssertionError(str(e))


class Real68:
    """Debian's 6.8 makemap in a private mount namespace (see above)."""

    def __init__(self, tmp):
        if os.geteuid() != 0:
            raise AssertionError("running 6.8's makemap needs root "
                                 "(unshare -m, setpriv --regid)")
        for tool in ("unshare", "setpriv", "mount"):
            if shutil.which(tool) is None:
                raise AssertionError("%s not installed" % tool)
        ctl = fetch_opensmtpd()
        self.path = os.path.join(tmp, "real", "makemap")
        os.makedirs(os.path.dirname(self.path))
        os.symlink(ctl, self.path)
        with open("/etc/group") as f:
            groups = f.read()
        used = {int(line.split(":")[2]) for line in groups.splitlines()
                if line.count(":") >= 3 and line.split(":")[2].isdigit()}
        self.gid = next(g for g in range(64999, 60000, -1) if g not in used)
        if not any(line.startswith(QUEUE_GROUP + ":")
                   for line in groups.splitlines()):
            groups += "%s:x:%d:\n" % (QUEUE_GROUP, self.gid)
        else:
            self.gid = next(int(line.split(":")[2])
                            for line in groups.splitlines()
                            if line.startswith(QUEUE_GROUP + ":"))
        self.group = os.path.join(tmp, "real", "group")
        with open(self.group, "w") as f:
            f.write(groups)

    def run(self, args, cwd):
        # setpriv runs the symlink so that 6.8 sees argv[0] = makemap
        argv = ["unshare", "-m", "sh", "-c",
                'mount --bind "$0" /etc/group && gid=$1 && prog=$2 && '
                'shift 2 && exec setpriv --regid "$gid" --clear-groups '
                '"$prog" "$@"', self.group, str(self.gid), self.path] + args
        return run(argv, cwd)

    def dump(self, db, cwd, opts=()):
        p = self.run(["-U"] + list(opts) + [db], cwd)
        if p.returncode != 0:
            raise AssertionError("6.8 makemap -U %s: %r" % (db, p.stderr))
        return parse_dump(p.stdout)


def dbtype_opts(opts):
    return ["-d", "btree"] if "btree" in opts else []


class MakemapCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="makemap-")
        self.ours = Ours(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, data):
        with open(os.path.join(self.tmp, name), "wb") as f:
            f.write(data)

    def build(self, prog, opts, name, data, out):
        self.write(name, data)
        return prog.run(list(opts) + ["-o", out, name], self.tmp)


class RoundTrip(MakemapCase):
    def test_round_trip(self):
        for name, opts, data, want in CASES:
            with self.subTest(case=name):
                p = self.build(self.ours, opts, name, data, name + ".db")
                self.assertEqual(p.returncode, 0, p.stderr)
                got = self.ours.dump(name + ".db", self.tmp)
                if "btree" in opts:
                    self.assertEqual(got, sorted(want))
                else:
                    self.assertEqual(sorted(got), sorted(want))

    def test_default_output_and_mode(self):
        self.write("plain", b"Key value\n")
        os.chmod(os.path.join(self.tmp, "plain"), 0o640)
        p = self.ours.run(["plain"], self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        st = os.stat(os.path.join(self.tmp, "plain.db"))
        self.assertEqual(st.st_mode & 0o777, 0o640,
                         "the db takes the input's mode, as 6.8 does")
        self.assertEqual(self.ours.dump("plain.db", self.tmp),
                         [(b"key", b"value")])

    def test_bad_inputs(self):
        for name, opts, data, where in BAD:
            with self.subTest(case=name):
                p = self.build(self.ours, opts, "bad", data, "bad.db")
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(where, p.stderr)
                self.assertFalse(os.path.exists(
                    os.path.join(self.tmp, "bad.db")))
        for name, data in [("long line", b"k " + b"v" * 20000 + b"\n"),
                           ("binary", b"k v\x01\n"),
                           ("nul", b"k v\0\n")]:
            with self.subTest(case=name):
                p = self.build(self.ours, [], "bad", data, "bad.db")
                self.assertEqual(p.returncode, 1)
                self.assertRegex(p.stderr, rb"bad:1: (line longer|binary)")
        p = self.ours.run(["missing"], self.tmp)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"missing: No such file", p.stderr)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["bad"],
                         "no output and no temporary file left")

    def test_usage(self):
        for args in ([], ["-t", "foo", "x"], ["-d", "dbm", "x"], ["a", "b"],
                     ["-U"]):
            with self.subTest(args=args):
                p = self.ours.run(args, self.tmp)
                self.assertEqual(p.returncode, 1)
                self.assertTrue(p.stderr.startswith(b"usage: makemap") or
                                b"unsupported" in p.stderr, p.stderr)

    def test_dump_not_a_db(self):
        self.write("text", b"not a database, just text\n")
        p = self.ours.run(["-U", "text"], self.tmp)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"not a Berkeley DB", p.stderr)

    def test_duplicate_warns_first_wins(self):
        p = self.build(self.ours, [], "dup", b"a 1\nb 2\nA 3\n", "dup.db")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"dup:3: duplicate entry for \"a\" ignored, line 1 "
                      b"wins", p.stderr)
        self.assertEqual(sorted(self.ours.dump("dup.db", self.tmp)),
                         [(b"a", b"1"), (b"b", b"2")])


class Fixtures(MakemapCase):
    """The committed .db files were made by Debian's 6.8 makemap."""

    def test_fixtures(self):
        for base, opts in [("makemap-hash", []),
                           ("makemap-set-btree", ["-t", "set", "-d",
                                                  "btree"])]:
            with self.subTest(fixture=base):
                with open(os.path.join(FIXTURES, base + ".txt"), "rb") as f:
                    data = f.read()
                p = self.build(self.ours, opts, base, data, base + ".db")
                self.assertEqual(p.returncode, 0, p.stderr)
                ours = self.ours.dump(base + ".db", self.tmp)
                theirs = self.ours.dump(os.path.join(FIXTURES, base + ".db"),
                                        self.tmp)
                self.assertTrue(ours)
                self.assertEqual(sorted(ours), sorted(theirs))


@unittest.skipUnless(os.geteuid() == 0, "6.8's makemap needs root "
                     "(unshare -m, setpriv --regid)")
class Real68Compat(MakemapCase):
    def setUp(self):
        super().setUp()
        self.real = Real68(self.tmp)

    def test_real_runs(self):
        self.write("probe", b"k v\n")
        p = self.real.run(["probe"], self.tmp)
        self.assertEqual(p.returncode, 0,
                         "6.8 makemap does not run: %r" % p.stderr)

    def test_same_records(self):
        cases = list(CASES)
        for base in ("makemap-hash", "makemap-set-btree"):
            with open(os.path.join(FIXTURES, base + ".txt"), "rb") as f:
                cases.append((base, ["-t", "set", "-d", "btree"]
                              if "set" in base else [], f.read(), None))
        for name, opts, data, want in cases:
            with self.subTest(case=name):
                p = self.build(self.ours, opts, name, data, "ours.db")
                self.assertEqual(p.returncode, 0, p.stderr)
                p = self.build(self.real, opts, name, data, "real.db")
                self.assertEqual(p.returncode, 0, p.stderr)
                d = dbtype_opts(opts)
                real_of_real = self.real.dump("real.db", self.tmp, d)
                real_of_ours = self.real.dump("ours.db", self.tmp, d)
                ours_of_real = self.ours.dump("real.db", self.tmp)
                ours_of_ours = self.ours.dump("ours.db", self.tmp)
                self.assertTrue(real_of_real)
                self.assertEqual(sorted(real_of_ours), sorted(real_of_real),
                                 "6.8 reads our db as its own")
                self.assertEqual(sorted(ours_of_real), sorted(real_of_real),
                                 "our -U reads 6.8's db as 6.8 does")
                self.assertEqual(sorted(ours_of_ours), sorted(real_of_real))
                if want is not None:
                    self.assertEqual(sorted(real_of_real), sorted(want))

    def test_both_refuse(self):
        for name, opts, data, where in BAD:
            with self.subTest(case=name):
                for prog in (self.ours, self.real):
                    p = self.build(prog, opts, "bad", data, "bad.db")
                    self.assertEqual(p.returncode, 1, (prog, p.stderr))
                    self.assertIn(where, p.stderr)
                    self.assertFalse(os.path.exists(
                        os.path.join(self.tmp, "bad.db")))
        for prog in (self.ours, self.real):
            p = prog.run(["missing"], self.tmp)
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"missing: No such file", p.stderr)

    def test_divergences_as_measured(self):
        for name, opts, data, real_want, ours_want in DIVERGENCES:
            with self.subTest(case=name):
                for prog, want, out in ((self.real, real_want, "real.db"),
                                        (self.ours, ours_want, "ours.db")):
                    p = self.build(prog, opts, name, data, out)
                    if want is None:
                        self.assertEqual(p.returncode, 1, p.stderr)
                        continue
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertEqual(sorted(self.ours.dump(out, self.tmp)),
                                     sorted(want))
                    os.unlink(os.path.join(self.tmp, out))

    def test_dump_needs_type_in_68(self):
        self.write("b", b"b 1\na 2\n")
        p = self.real.run(["-d", "btree", "-o", "b.db", "b"], self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.real.run(["-U", "b.db"], self.tmp).returncode,
                         1, "6.8 -U without -d btree fails on a btree")
        self.assertEqual(self.ours.dump("b.db", self.tmp),
                         [(b"a", b"2"), (b"b", b"1")],
                         "ours finds the type in the file")


if __name__ == "__main__":
    unittest.main()
