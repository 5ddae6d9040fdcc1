"""regress/lib/texthelper.py -- a table helper seen from the end of its
socketpair that an OpenSMTPD 7.6+ daemon holds (libexec-protocols.md 7).

The helper runs with the socket on fd 0 AND fd 1, as 7.6 spawns table
helpers, its stderr in a temporary log file; the daemon's lines
(config|..., table|0.1|...) are written and the helper's (register|...,
OP-result|ID|...) parsed here with plain string operations, never with
our C codec, so that the two cannot agree by sharing a bug.  No 7.6
daemon is packaged for this system, so this client is the 7.6 side of
the tests of our glue (api/table_api.c).  Every wait has a timeout and
the helper is stopped by its PID only.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time

TIMEOUT = 10


class TextHelper:
    """One table helper, spoken to in the 7.6+ text protocol."""

    def __init__(self, path, argv, logdir, env=None):
        self.sock, child = socket.socketpair(socket.AF_UNIX,
                                             socket.SOCK_STREAM)
        self.log = tempfile.TemporaryFile(dir=logdir)
        try:
            self.proc = subprocess.Popen(argv, executable=path,
                                         stdin=child, stdout=child,
                                         stderr=self.log, close_fds=True,
                                         env=env)
        finally:
            child.close()
        self.sock.settimeout(TIMEOUT)
        self.buf = b""
        self.seq = 0

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def line(self):
        """The next line without its LF; None at EOF."""
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def handshake(self, tname="spy"):
        """config| lines as 7.6 writes them; the services registered."""
        for line in ("config|smtpd-version|7.6.0", "config|protocol|0.1",
                     "config|tablename|" + tname, "config|ready"):
            self.send(line)
        services = []
        while True:
            line = self.line()
            if line is None:
                raise AssertionError("EOF in the handshake\n" +
                                     self.stderr())
            if line == "register|ready":
                return services
            if not line.startswith("register|"):
                raise AssertionError("not a register line: %r" % line)
            services.append(line[len("register|"):])

    def request(self, op, service=None, key=None, tname="spy"):
        """One request; the reply's payload after its id (checked)."""
        self.seq += 1
        rid = "%08x" % (0x1000 + self.seq)
        now = time.time()
        fields = ["table", "0.1", "%d.%06d" % (int(now), int(now % 1 *
                                                           1e6)),
                  tname, op]
        if op != "update":
            fields.append(service)
        fields.append(rid)
        if key is not None:
            fields.append(key)
        self.send("|".join(fields))
        line = self.line()
        if line is None:
            raise AssertionError("EOF after %s\n%s" % (op, self.stderr()))
        head = "%s-result|%s|" % (op, rid)
        if not line.startswith(head):
            raise AssertionError("reply %r to %s id %s" % (line, op, rid))
        return line[len(head):]

    def stop(self):
        """Close our end (a helper leaves on EOF): its exit status,
        SIGKILL by PID after TIMEOUT."""
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(timeout=TIMEOUT)

    def close(self):
        self.stop()
        self.log.close()

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")
