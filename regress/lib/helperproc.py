"""regress/lib/helperproc.py -- a libexec helper as a real process, seen
from the daemon's end of its socketpair (libexec-protocols.md 1.2, 1.3).

The helper runs with the socket on fd 0 and its stdout and stderr in a
temporary log file; frames are built and parsed byte for byte here with
struct (never with our C library), fds travel as SCM_RIGHTS both ways.
Every wait has a timeout and the helper is stopped by its PID only.
The protocol classes of regress/drivers and regress/helpers derive from
HelperProcess and add their requests and reply checks.
"""
import array
import os
import signal
import socket
import struct
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
TIMEOUT = 10

HDR = struct.Struct("=IHHII")        # type, len, flags, peerid, pid
MAX_IMSG = 16384
HASFD = 1


class HelperProcess:
    """One helper on the far end of a socketpair, daemon style."""

    def __init__(self, path, argv, logdir, env=None):
        self.sock, child = socket.socketpair(socket.AF_UNIX,
                                             socket.SOCK_STREAM)
        self.log = tempfile.TemporaryFile(dir=logdir)
        try:
            self.proc = subprocess.Popen(argv, executable=path,
                                         stdin=child, stdout=self.log,
                                         stderr=self.log, close_fds=True,
                                         env=env)
        finally:
            child.close()
        self.sock.settimeout(TIMEOUT)
        self.status = None
        self.buf = b""
        self.fds = []

    def send(self, mtype, payload=b"", fd=None, flags=None, length=None):
        """One frame; length and flags may lie (default: the truth)."""
        n = HDR.size + len(payload) if length is None else length
        if flags is None:
            flags = HASFD if fd is not None else 0
        frame = HDR.pack(mtype, n, flags, 0, os.getpid()) + payload
        if fd is None:
            self.sock.sendall(frame)
        else:
            self.sock.sendmsg([frame], [(socket.SOL_SOCKET,
                                         socket.SCM_RIGHTS,
                                         array.array("i", [fd]))])

    def _fill(self):
        data, anc, _, _ = self.sock.recvmsg(65535, socket.CMSG_SPACE(16))
        for level, ctype, cdata in anc:
            if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(cdata[:len(cdata) - len(cdata) % 4])
                self.fds.extend(fds)
        if not data:
            return False
        self.buf += data
        return True

    def recv_frame(self):
        """(type, flags, payload, fd or None) of one reply, None at EOF."""
        while len(self.buf) < HDR.size:
            if not self._fill():
                return None
        mtype, n, flags, _, _ = HDR.unpack(self.buf[:HDR.size])
        if n < HDR.size or n > MAX_IMSG or flags & ~HASFD:
            raise AssertionError("bad reply header %r" % self.buf[:16])
        while len(self.buf) < n:
            if not self._fill():
                raise AssertionError("short reply")
        payload, self.buf = self.buf[HDR.size:n], self.buf[n:]
        fd = None
        if flags & HASFD:
            if not self.fds:
                raise AssertionError("fd flag without an fd")
            fd = self.fds.pop(0)
        return mtype, flags, payload, fd

    def wait(self):
        """Exit status once the helper exits by itself (negative: signal)."""
        try:
            self.status = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("helper did not exit")
        return self.status

    def stop(self):
        """Close our end, then the exit status (SIGKILL after TIMEOUT)."""
        try:
            self.sock.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=TIMEOUT)
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.status = self.proc.returncode
        return self.status

    def close(self):
        self.stop()
        self.log.close()

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")
