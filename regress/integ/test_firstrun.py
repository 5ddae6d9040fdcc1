"""A first run as a new user tries it (issue 7.6): `smtpd -h` and
`smtpctl -h` print the version, which is written in one place
(SMTPD_VERSION in smtpd/common/smtpd.h) and is the one the daemon logs
(OPS-01)."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

from smtpdtest import (BUILD, EMPTY, QUSER, ROOT, SMTPCTL, USER, Smtpd,
                       daemon_env, free_port, is_root, run_smtpd, wait_for)


def source_version():
    """SMTPD_VERSION as smtpd.h defines it: the one place it is written."""
    with open(os.path.join(ROOT, "smtpd", "common", "smtpd.h")) as f:
        m = re.search(r'^#define\s+SMTPD_VERSION\s+"([^"]+)"', f.read(),
                      re.M)
    if m is None:
        raise AssertionError("no SMTPD_VERSION in smtpd.h")
    return m.group(1)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          **kw)


class TestVersion(unittest.TestCase):

    def test_smtpd_h(self):
        r = run([os.path.join(BUILD, "smtpd"), "-h"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "smtpd %s\n" % source_version())
        self.assertTrue(r.stderr.startswith("usage: smtpd [-dFhnv]"),
                        r.stderr)

    def test_smtpctl_h(self):
        r = run([os.path.join(BUILD, "smtpctl"), "-h"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "smtpctl %s\n" % source_version())
        self.assertTrue(r.stderr.startswith("usage: smtpctl [-hv]"),
                        r.stderr)
        # a bad option is still an error, with the same synopsis
        r = run([os.path.join(BUILD, "smtpctl"), "-Z"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn("usage: smtpctl [-hv]", r.stderr)

    def test_daemon_logs_the_same_version(self):
        with Smtpd() as d:
            d.start()
            self.assertIn("version=%s" % source_version(), d.log())
            self.assertEqual(d.stop(), 0)


def make(args, env=None, timeout=120):
    """make in the project with ARGS; its result."""
    return subprocess.run(["make", "--no-print-directory"] + args,
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def san_args():
    return ["SAN=1"] if "san" in os.path.basename(BUILD) else []


class TestDepsProbe(unittest.TestCase):
    """A plain `make` without a package the build needs names it and the
    command that installs it, instead of failing in the compiler: the
    missing packages are simulated with an empty pkg-config search path,
    a compiler sysroot without headers, a compiler that is not there."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smtpd-deps-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.empty = os.path.join(self.tmp, "empty")
        os.mkdir(self.empty)

    def build(self, env_extra=(), args=()):
        env = dict(os.environ, **dict(env_extra))
        r = make(["O=" + os.path.join(self.tmp, "obj")] + list(args),
                 env=env)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        # nothing was compiled: the check comes first
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "obj", "o")))
        self.assertNotIn("error:", r.stderr)
        self.assertIn("install them with 'make deps' (as root), or: "
                      "apt-get install", r.stderr)
        m = re.search(r"^deps: the build needs Debian packages that are not "
                      r"installed: (.*)$", r.stderr, re.M)
        self.assertIsNotNone(m, r.stderr)
        return m.group(1).split()

    def test_no_pkgconfig_modules(self):
        got = self.build({"PKG_CONFIG_LIBDIR": self.empty,
                          "PKG_CONFIG_PATH": ""})
        self.assertEqual(got, ["libevent-dev", "libtls-dev", "libbsd-dev",
                               "libc-ares-dev", "libsqlite3-dev",
                               "libcrypt-dev", "libpq-dev",
                               "libhiredis-dev", "libmariadb-dev",
                               "libssl-dev", "libldap-dev"])

    def test_one_module_missing(self):
        # every .pc file of the machine but libevent's
        pcdir = os.path.join(self.tmp, "pc")
        os.mkdir(pcdir)
        path = subprocess.run(["pkg-config", "--variable", "pc_path",
                               "pkg-config"], capture_output=True,
                              text=True, timeout=30).stdout.strip()
        for d in path.split(":"):
            if not os.path.isdir(d):
                continue
            for f in os.listdir(d):
                dst = os.path.join(pcdir, f)
                if (f.endswith(".pc") and f != "libevent.pc" and
                        not os.path.exists(dst)):
                    os.symlink(os.path.join(d, f), dst)
        got = self.build({"PKG_CONFIG_LIBDIR": pcdir, "PKG_CONFIG_PATH": ""})
        self.assertEqual(got, ["libevent-dev"])

    def test_no_headers(self):
        got = self.build(args=["CC=gcc --sysroot=" + self.empty])
        self.assertEqual(got, ["libc6-dev", "libdb-dev"])

    def test_no_compiler(self):
        self.assertEqual(self.build(args=["CC=/nonexistent/gcc"]), ["gcc"])
        self.assertEqual(self.build(args=["CC=/nonexistent/clang"]),
                         ["clang"])

    def test_every_module_of_the_makefile_is_probed(self):
        with open(os.path.join(ROOT, "Makefile")) as f:
            m = re.search(r"^PKGS\s*:=\s*(.*)$", f.read(), re.M)
        with open(os.path.join(ROOT, "scripts", "deps.sh")) as f:
            probed = set(re.findall(r"\spc:(\S+)", f.read()))
        self.assertTrue(m)
        for mod in m.group(1).split():
            self.assertIn(mod, probed, "Makefile PKGS %s has no pc: row in "
                          "scripts/deps.sh" % mod)

    def test_the_real_machine_passes(self):
        r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "deps.sh"),
                            "check", "cc"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual((r.returncode, r.stderr), (0, ""))




class TestMakeRun(unittest.TestCase):
    """`make run` on a machine without the daemon's accounts.  As root, in
    a private mount namespace whose /etc is a copy without _smtpd and
    _smtpq (nothing on the host changes): make run creates them, as make
    install does, and the daemon starts privilege-separated; when /etc
    cannot be written, it names the exact commands to run and starts
    nothing.  As an ordinary user it starts without privilege separation
    and needs no account."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smtpd-makerun-")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.run_dir = os.path.join(self.tmp, "run")
        os.mkdir(self.run_dir)
        # its own port: a developer's `make run` may hold 2525
        with open(os.path.join(self.run_dir, "smtpd.conf"), "w") as f:
            f.write("listen on 127.0.0.1 port %d\n"
                    "action \"local\" mbox\n"
                    "match from local for local action \"local\"\n"
                    % free_port())
        self.proc = None

    def etc_without_accounts(self):
        etc = os.path.join(self.tmp, "etc")
        r = subprocess.run(["cp", "-a", "/etc", etc], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("passwd", "group", "shadow", "gshadow"):
            path = os.path.join(etc, name)
            if not os.path.exists(path):
                continue
            with open(path) as f:
                lines = f.read().splitlines(True)
            with open(path, "w") as f:
                f.writelines(x for x in lines
                             if x.split(":")[0] not in (USER, QUSER))
        return etc

    def start(self, argv):
        self.log = open(os.path.join(self.tmp, "out"), "w+")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
            env=daemon_env(is_root()))
        self.addCleanup(self.stop)

    def out(self):
        with open(os.path.join(self.tmp, "out")) as f:
            return f.read()

    def stop(self):
        """SIGTERM to make and the daemon (their own process group), by
        the group make leads; SIGKILL after a bounded wait."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            rc = self.proc.wait(timeout=30)
        self.log.close()
        self.proc = None
        return rc

    def make_run(self):
        return ["make", "-s", "--no-print-directory", "run",
                "O=" + BUILD, "RUNLOCAL=" + self.run_dir] + san_args()

    def in_namespace(self, etc, readonly=False):
        script = 'mount --bind "$1" /etc && '
        if readonly:
            script += 'mount -o remount,ro,bind /etc && '
        script += 'ip link set lo up && shift && exec "$@"'
        return ["unshare", "-m", "-n", "sh", "-c", script, "sh", etc]

    def wait_ready(self):
        ok = wait_for(lambda: "parent ready" in self.out() or
                      self.proc.poll() is not None, 120, 0.2)
        self.assertTrue(ok and self.proc.poll() is None, self.out())

    def test_make_run(self):
        sock = os.path.join(self.run_dir, "smtpd.sock")
        if is_root():
            etc = self.etc_without_accounts()
            self.start(self.in_namespace(etc) + self.make_run())
            self.wait_ready()
            self.assertIn("users.sh: created the system account %s" % USER,
                          self.out())
            self.assertIn("users.sh: created the system account %s" % QUSER,
                          self.out())
            self.assertIn("privsep=yes", self.out())
            with open(os.path.join(etc, "passwd")) as f:
                names = [x.split(":")[0] for x in f]
            self.assertIn(USER, names)
            self.assertIn(QUSER, names)
        else:
            self.start(self.make_run())
            self.wait_ready()
            self.assertRegex(self.out(), r"parent unprivileged uid=\d+ "
                             r"privsep=no")
        r = subprocess.run([SMTPCTL, "-s", sock, "show", "status"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("lookup", r.stdout)
        self.stop()
        self.assertIn("parent stopped status=0", self.out())

    @unittest.skipUnless(is_root(), "needs root: a private mount namespace")
    def test_make_run_names_what_to_run(self):
        etc = self.etc_without_accounts()
        self.start(self.in_namespace(etc, readonly=True) + self.make_run())
        self.assertTrue(wait_for(lambda: self.proc.poll() is not None, 120,
                                 0.2), self.out())
        self.assertNotEqual(self.proc.returncode, 0)
        out = self.out()
        for u in (USER, QUSER):
            self.assertIn("    useradd --system --no-create-home --home-dir "
                          "%s --shell /usr/sbin/nologin --user-group %s\n"
                          % (EMPTY, u), out)
        self.assertIn("    mkdir -p %s && chown root:root %s && chmod 0755 %s"
                      % (EMPTY, EMPTY, EMPTY), out)
        self.assertNotIn("parent starting", out)


class TestErrorPaths(unittest.TestCase):
    """Error and exit paths a new user meets first, with a clear message
    and exit status.  In a sanitizer build regress/run.py also counts the
    leak reports of these paths (issue 7, "Bad input": parser after a NUL
    or an over-long line, smtpctl on a lost connection)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smtpd-errpath-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def conf(self, data):
        path = os.path.join(self.tmp, "smtpd.conf")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_conf_nul_byte(self):
        path = self.conf(b"table t { a = b }\nlisten on 127.0.0.1\0 x\n")
        r = run_smtpd(["-n", "-f", path])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:2: NUL byte in configuration" % path, r.stderr)

    def test_conf_long_line(self):
        path = self.conf(b"# " + b"x" * 20000 + b"\n")
        r = run_smtpd(["-n", "-f", path])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s:1: line longer than" % path, r.stderr)

    def test_smtpctl_lost_connection(self):
        path = os.path.join(self.tmp, "smtpd.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(srv.close)
        srv.bind(path)
        srv.listen(1)
        p = subprocess.Popen([SMTPCTL, "-s", path, "show", "status"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        srv.settimeout(10)
        c, _ = srv.accept()
        c.settimeout(10)
        c.recv(64)                      # its hello, then nothing back
        c.close()
        try:
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("smtpctl: connection to smtpd lost", err)
