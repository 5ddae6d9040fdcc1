"""mdatest.py -- what the local delivery tests share (regress/mda).

Runs the delivery programs of obj/libexec (mail.maildir, mail.mboxfile,
mail.lmtp) on a message given on stdin, as the current user or, as root,
as a test account this module creates once (`_smtpdmda`, a system account
without a home, left in place like the daemon's own accounts).  Every
run has a timeout; every process started is stopped by PID.
"""
import array
import os
import pwd
import shutil
import socket
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


class Agent:
    """PROGRAM -A (mail.maildir, mail.mboxfile) driven as the parent
    drives it: one SOCK_SEQPACKET socket on its stdin, a request packet
    and the message's descriptor per delivery (api/mda_util.h); stopped
    by closing the socket, then by PID."""

    def __init__(self, test, program, user=None):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX,
                                              socket.SOCK_SEQPACKET)
        kw = {}
        if user is not None:
            kw = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        self.proc = subprocess.Popen([program, "-A"], stdin=theirs.fileno(),
                                     stderr=subprocess.PIPE,
                                     env={"PATH": "/usr/bin:/bin"}, **kw)
        theirs.close()
        self.sock.settimeout(RUN_TIMEOUT)
        test.addCleanup(self.stop)

    def packet(self, args, size=None):
        return (b"MDA1\0" + (b"-" if size is None else str(size).encode()) +
                b"\0" + b"".join(a.encode() + b"\0" for a in args))

    def deliver(self, args, message, size=None, raw=None, fd=True):
        r, w = os.pipe()
        try:
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    array.array("i", [r]))] if fd else []
            self.sock.sendmsg([raw if raw is not None else
                               self.packet(args, size)], anc)
        finally:
            os.close(r)
        try:
            os.write(w, message)
        except BrokenPipeError:
            pass
        os.close(w)
        code, _, line = self.sock.recv(4096).decode().partition(" ")
        return int(code), line

    def fds(self):
        return sorted(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self):
        """Close the socket: the agent exits; what it printed"""
        if self.sock.fileno() == -1:
            return self.err
        self.sock.close()
        try:
            self.proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            if self.proc.pid > 1:
                self.proc.kill()
            self.proc.wait()
        self.err = self.proc.stderr.read()
        self.proc.stderr.close()
        return self.err
