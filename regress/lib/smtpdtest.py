"""smtpdtest.py -- start real smtpd instances for integration tests.

Each Smtpd instance lives in its own temporary directory (spool, control
socket, pid file, log) started with `smtpd -d -r DIR`, so instances run
side by side without system paths.  Every process started here is
stopped by PID: the daemon by SIGTERM (SIGKILL after a bounded wait), and
the test checks its children are gone too.  Every wait is bounded.
"""
import atexit
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
SMTPD = os.path.join(BUILD, "smtpd")
SMTPCTL = os.path.join(BUILD, "smtpctl")
PROCS = ["parent", "control", "lookup", "queue", "scheduler", "dispatcher",
         "ca"]
USER, QUSER, EMPTY = "_smtpd", "_smtpq", "/var/empty"
START_TIMEOUT = 15
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")
STOP_TIMEOUT = 15
# a test whose optional input is absent raises SkipTest(NOT_RUN + why):
# regress/run.py reports it as not run, neither passed nor failed
NOT_RUN = "not run: "
# the shared corpus, optional: a clone on its own has no ../shared
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def is_root():
    return os.geteuid() == 0


def shared_path(*rel):
    """A path in the shared corpus beside the project; when it is absent
    the calling test is not run (raises unittest.SkipTest)."""
    path = os.path.join(SHARED, *rel)
    if not os.path.exists(path):
        raise unittest.SkipTest(NOT_RUN + "%s absent (the shared corpus "
                                "beside the project)" % path)
    return path


def others_can_run(path):
    """Whether an account other than the owner can reach and run PATH:
    every directory above it searchable, the file executable, by all."""
    path = os.path.abspath(path)
    try:
        if not os.stat(path).st_mode & stat.S_IXOTH:
            return False
        d = os.path.dirname(path)
        while True:
            if not os.stat(d).st_mode & stat.S_IXOTH:
                return False
            if d == os.path.dirname(d):
                return True
            d = os.path.dirname(d)
    except OSError:
        return False


_build_copy = []


def build_for(user):
    """The build directory as USER may run it.  The build itself when the
    caller runs it, or when every account can reach it; otherwise (the
    clone sits in root's home or any 0700 directory) a copy of smtpd,
    smtpctl, makemap and libexec/ in a temporary directory every account
    may enter, made once per run and removed at exit."""
    if user is None or others_can_run(SMTPD):
        return BUILD
    if not _build_copy:
        d = tempfile.mkdtemp(prefix="smtpd-build-")
        atexit.register(shutil.rmtree, d, True)
        for name in ("smtpd", "smtpctl"):
            shutil.copy(os.path.join(BUILD, name), d)
        if os.path.islink(os.path.join(BUILD, "makemap")):
            os.symlink("smtpctl", os.path.join(d, "makemap"))
        if os.path.isdir(os.path.join(BUILD, "libexec")):
            shutil.copytree(os.path.join(BUILD, "libexec"),
                            os.path.join(d, "libexec"))
        for top, dirs, files in os.walk(d):
            os.chmod(top, 0o755)
            for f in files:
                if not os.path.islink(os.path.join(top, f)):
                    os.chmod(os.path.join(top, f), 0o755)
        _build_copy.append(d)
    return _build_copy[0]


def sanitizer_build():
    """True if the smtpd under test was linked with AddressSanitizer."""
    try:
        with open(SMTPD, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def ensure_accounts():
    """As root, create the daemon's accounts and chroot when missing."""
    if not is_root():
        return
    with accounts_lock():
        try:
            pwd.getpwnam(USER)
            pwd.getpwnam(QUSER)
            if os.path.isdir(EMPTY):
                return
        except KeyError:
            pass
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "users.sh"),
                        USER, QUSER, EMPTY], check=True, timeout=60)


def daemon_env(privileged):
    """The environment for a daemon.  LeakSanitizer cannot inspect a
    process that has chrooted and dropped privileges (it reads /proc at
    exit), so leak checking is left on only for unprivileged runs."""
    e = dict(os.environ)
    if privileged:
        e["ASAN_OPTIONS"] = ":".join(filter(None, [
            e.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    return e


from ports import free_port  # noqa: E402,F401  (one port picker)
from accounts import accounts_lock, ensure_account  # noqa: E402,F401
from procs import stop_proc, wait_for  # noqa: E402,F401  (one copy)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def proc_children(ppid):
    """PIDs whose parent is ppid, from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid and fields[0] != "Z":
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            continue
    return out


def proc_title(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


class Smtpd:
    """One daemon in a temporary directory."""

    def __init__(self, conf=None, args=(), user=None):
        ensure_accounts()
        self.dir = tempfile.mkdtemp(prefix="smtpd-test-")
        os.chmod(self.dir, 0o755)
        self.user = user
        if user is not None:
            pw = pwd.getpwnam(user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.sock = os.path.join(self.dir, "smtpd.sock")
        self.pidfile = os.path.join(self.dir, "smtpd.pid")
        self.logpath = os.path.join(self.dir, "smtpd.log")
        self.args = list(args)
        self.proc = None
        self.child_pids = []
        if conf is not None:
            with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
                f.write(conf)

    def _preexec(self):
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)

    def start(self, wait=True, foreground=True):
        cmd = [os.path.join(getattr(self, "build", None) or
                            build_for(self.user), "smtpd")]
        if foreground:
            cmd.append("-d")
        cmd += ["-r", self.dir] + self.args
        # the built-in configuration listens on $smtpd_port (2525): a
        # port of this test's own, so daemons of other tests, or a
        # `make run`, never collide with it
        if not any("smtpd_port=" in a for a in self.args):
            self.port = free_port()
            cmd += ["-D", "smtpd_port=%d" % self.port]
        self.log_fd = open(self.logpath, "ab")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=self.log_fd,
            stderr=self.log_fd, preexec_fn=self._preexec,
            env=daemon_env(is_root() and self.user is None),
            start_new_session=True)
        if wait:
            ok = wait_for(lambda: "parent ready" in self.log() or
                          self.proc.poll() is not None, START_TIMEOUT)
            if not ok or self.proc.poll() is not None:
                raise RuntimeError("smtpd did not start:\n" + self.log())
            self.child_pids = proc_children(self.proc.pid)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def ctl(self, *args, user=None, timeout=30):
        def pre():
            if user is not None:
                pw = pwd.getpwnam(user)
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
        ctl = os.path.join(build_for(user), "smtpctl")
        return subprocess.run([ctl, "-s", self.sock] + list(args),
                              capture_output=True, text=True,
                              timeout=timeout, preexec_fn=pre)

    def status(self):
        """`smtpctl show status` parsed: {name: dict(pid, user, root,
        state)} and {agent: state}."""
        r = self.ctl("show", "status")
        if r.returncode != 0:
            raise RuntimeError("show status failed: %s" % r.stderr)
        procs, agents = {}, {}
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) == 2 and f[0] in ("MDA", "MTA", "SMTP"):
                agents[f[0]] = f[1]
            elif len(f) == 5 and f[0] in PROCS:
                procs[f[0]] = dict(pid=int(f[1]), user=f[2], root=f[3],
                                   state=f[4])
        return procs, agents

    def connect_control(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)    # blocking: waits while the backlog is full
        s.settimeout(10)
        return s

    def stop(self, sig=signal.SIGTERM):
        """Signal the daemon; return its exit status.  Kill on timeout."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        wait_for(lambda: not any(pid_alive(p) for p in self.child_pids),
                 STOP_TIMEOUT)
        return rc

    def kill(self):
        for p in [self.proc.pid] + self.child_pids:
            if p <= 1:
                continue
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        # SIGKILL is asynchronous: until every process is gone, its
        # sockets (the control socket above all) may still answer
        wait_for(lambda: not any(pid_alive(p) for p in self.child_pids),
                 STOP_TIMEOUT)

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        for p in self.child_pids:
            if pid_alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if getattr(self, "log_fd", None):
            self.log_fd.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        log = self.log()
        self.cleanup()
        if exc_type is None:
            for mark in SANITIZER_MARKS:
                if mark in log:
                    raise AssertionError("sanitizer report in the daemon's "
                                         "log:\n" + log[-20000:])
        return False


def run_smtpd(args, timeout=20, user=None, **kw):
    """Run smtpd to completion (-n, bad options, ...)."""
    def pre():
        if user is not None:
            pw = pwd.getpwnam(user)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
    smtpd = os.path.join(build_for(user), "smtpd")
    # smtpd -n checks and exits without dropping privileges: leak checks
    # work there, also as root
    privileged = is_root() and user is None and "-n" not in args
    return subprocess.run([smtpd] + list(args), capture_output=True,
                          text=True, timeout=timeout, preexec_fn=pre,
                          env=daemon_env(privileged), **kw)
