"""ports.py -- free loopback TCP ports for the tests.

Test modules run in parallel (regress/run.py -j), so a port the kernel
hands out for bind(port 0) and that is released at once may be handed
to another test before the daemon that was meant to get it binds it.
Ports are drawn at random below the kernel's ephemeral range instead
(where bind(0) and outgoing connections never go), checked free, and
never handed out twice by one process.
"""
import random
import socket

_given = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


LOW = 10000
HIGH = max(LOW + 1000, _ephemeral_low())


def _bindable(port):
    for family, addr in ((socket.AF_INET, "127.0.0.1"),
                         (socket.AF_INET6, "::1")):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.bind((addr, port))
        except OSError as e:
            # no IPv6 on this host is not a reason to refuse the port
            if family == socket.AF_INET6 and e.errno in (97, 99):
                continue
            return False
    return True


def free_port():
    """A TCP port of 127.0.0.1 (and ::1) that nobody uses right now."""
    for _ in range(1000):
        port = random.randrange(LOW, HIGH)
        if port not in _given and _bindable(port):
            _given.add(port)
            return port
    raise RuntimeError("no free port found in %d-%d" % (LOW, HIGH))
