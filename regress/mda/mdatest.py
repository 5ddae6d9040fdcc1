"""mdatest.py -- what the local delivery tests share (regress/mda).

Runs the delivery programs of obj/libexec (mail.maildir, mail.mboxfile,
mail.lmtp) on a message given on stdin, as the current user or, as root,
as a test account this module creates once (`_smtpdmda`, a system account
without a home, left in place like the daemon's own accounts).  Every
run has a timeout; every process started is stopped by PID.
"""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import build_for, ensure_account  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
LIBEXEC = os.path.join(BUILD, "libexec")
TEST_USER = "_smtpdmda"
RUN_TIMEOUT = 30
EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER = 0, 64, 65, 67
EX_CANTCREAT, EX_TEMPFAIL, EX_NOPERM = 73, 75, 77
NOT_RUN = "not run: "


def program(name):
    """The delivery program NAME where the test account can run it (a
    copy when the clone sits in a 0700 directory: smtpdtest.build_for)."""
    return os.path.join(build_for(TEST_USER), "libexec", name)


def is_root():
    return os.geteuid() == 0


def test_account():
    """As root, the test account (created when missing): its passwd
    entry; None for an ordinary user."""
    if not is_root():
        return None
    pw = ensure_account(TEST_USER, check=False)
    if isinstance(pw, str):
        raise unittest.SkipTest(NOT_RUN + "useradd %s: %s"
                                % (TEST_USER, pw))
    return pw


def run(argv, message, user=None, env=None, timeout=RUN_TIMEOUT):
    """Run ARGV with MESSAGE (bytes) on stdin, as USER (a passwd entry)
    when given: (status, stdout, stderr text)."""
    kw = {}
    if user is not None:
        kw = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    e = {"PATH": "/usr/bin:/bin"}
    e.update(env or {})
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=e, **kw)
    try:
        out, err = p.communicate(message, timeout=timeout)
    except subprocess.TimeoutExpired:
        if p.pid > 1:
            p.kill()
        p.communicate()
        raise
    return p.returncode, out, err.decode("utf-8", "replace")


class TempDir:
    """A temporary directory owned by USER (None: the caller), removed
    at the end."""

    def __init__(self, user=None):
        self.path = tempfile.mkdtemp(prefix="smtpd-mda-")
        if user is not None:
            os.chown(self.path, user.pw_uid, user.pw_gid)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, True)


def one_line(test, err):
    """The failure report is one line without control characters."""
    test.assertTrue(err.endswith("\n"), repr(err))
    test.assertEqual(err.count("\n"), 1, repr(err))
    test.assertFalse(any(ord(c) < 32 for c in err[:-1]), repr(err))
