"""scripts/deps.sh waits while another apt or dpkg holds the package
manager's lock (issue 7 item 6), tested with the real apt-get and
dpkg-query, unchanged deps.sh, and a lock of our own.

apt and dpkg are pointed at a private root in a temporary directory by
their own environment variables (APT_CONFIG: an apt.conf whose Dir is
that root, no sources; DPKG_ADMINDIR: an empty status file, so every
package looks missing and deps.sh goes to apt-get).  A small program of
ours holds that root's lists lock with fcntl, as apt does, and is
stopped by its PID.  deps.sh runs in a private mount namespace with a
temporary directory over /usr/sbin, so the policy-rc.d it writes for the
length of an install lands there; nothing outside the temporary
directories is touched and nothing is downloaded (no sources).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from smtpdtest import ROOT, is_root

DEPS = os.path.join(ROOT, "scripts", "deps.sh")

# holds an fcntl write lock on argv[1] for argv[2] seconds, says "locked"
HOLDER = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o640)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@unittest.skipUnless(is_root(), "a private mount namespace needs root")
@unittest.skipUnless(shutil.which("apt-get") and shutil.which("unshare"),
                     "needs apt-get and unshare")
class DepsLockWait(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smtpd-deps-lock-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        t = self.tmp
        for d in ("etc/apt/sources.list.d", "etc/apt/apt.conf.d",
                  "etc/apt/preferences.d", "var/lib/apt/lists/partial",
                  "var/cache/apt/archives/partial", "var/lib/dpkg/updates",
                  "var/log/apt", "sbin"):
            os.makedirs(os.path.join(t, d))
        for f in ("etc/apt/sources.list", "var/lib/dpkg/status"):
            open(os.path.join(t, f), "w").close()
        self.conf = os.path.join(t, "apt.conf")
        with open(self.conf, "w") as f:
            f.write('Dir "%s/";\n'
                    'Dir::State "var/lib/apt/";\n'
                    'Dir::State::status "%s/var/lib/dpkg/status";\n'
                    'Dir::Cache "var/cache/apt/";\n'
                    'Dir::Etc "etc/apt/";\n'
                    'Dir::Log "var/log/apt/";\n'
                    'Dir::Bin::methods "/usr/lib/apt/methods/";\n'
                    'Dir::Bin::dpkg "/usr/bin/dpkg";\n'
                    'DPkg::Options:: "--admindir=%s/var/lib/dpkg";\n'
                    % (t, t, t))
        self.lock = os.path.join(t, "var", "lib", "apt", "lists", "lock")
        self.holder = None

    def tearDown(self):
        p = self.holder
        if p is not None and p.poll() is None and p.pid > 1:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
        if p is not None:
            p.stdout.close()

    def hold(self, seconds):
        """the lists lock held by our program for SECONDS"""
        self.holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, self.lock, str(seconds)],
            stdout=subprocess.PIPE, text=True)
        self.assertEqual(self.holder.stdout.readline().strip(), "locked")

    def deps(self, lock_wait):
        """deps.sh as root against the private root: (rc, stderr, s)"""
        env = dict(os.environ, APT_CONFIG=self.conf,
                   DPKG_ADMINDIR=os.path.join(self.tmp, "var/lib/dpkg"),
                   DEPS_LOCK_WAIT=str(lock_wait))
        script = 'mount --bind "$1" /usr/sbin && exec sh "$2"'
        t0 = time.monotonic()
        r = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh",
                            os.path.join(self.tmp, "sbin"), DEPS],
                           capture_output=True, text=True, env=env,
                           timeout=120)
        return r.returncode, r.stderr, time.monotonic() - t0

    def test_waits_for_the_lock_then_goes_on(self):
        self.hold(2)
        rc, err, dt = self.deps(60)
        self.assertIn("deps: another apt or dpkg holds the package "
                      "manager's lock; waiting up to 60s (DEPS_LOCK_WAIT)",
                      err)
        self.assertIn("Could not get lock " + self.lock, err)
        self.assertNotIn("still held", err)
        # the update went through once the lock was free: the install
        # ran, and found nothing to install in a root without sources
        self.assertIn("Unable to locate package", err)
        self.assertEqual(rc, 1)
        self.assertTrue(4 <= dt < 60, dt)
        # the policy-rc.d of the install was removed at exit
        self.assertEqual(os.listdir(os.path.join(self.tmp, "sbin")), [])

    def test_gives_up_after_deps_lock_wait(self):
        self.hold(60)
        rc, err, dt = self.deps(1)
        self.assertIn("waiting up to 1s", err)
        self.assertIn("deps: the package manager's lock is still held "
                      "after 1s: E: Could not get lock " + self.lock, err)
        self.assertIn("deps: when it is free, run 'make deps' again", err)
        self.assertNotIn("Unable to locate package", err)
        self.assertEqual(rc, 1)
        self.assertLess(dt, 30)


if __name__ == "__main__":
    unittest.main()
