"""dnsserver.py -- DNS servers on a loopback port for the tests.

A zone is data: a list of records, each a tuple

    (name, "MX", preference, target)     target "." is a null MX
    (name, "A", "127.0.0.10")            (name, "AAAA", "::1")
    (name, "CNAME", target)
    (name, "TXT", "text")                a name with no MX and no address
    (address, "PTR", name)               the address in numeric form

Names under a domain of `local` (default: "test", and the reverse trees)
that have no record are NXDOMAIN; a name with records of other types
only is NODATA.

    with DnsServer(records) as dns:      # dnsmasq (Debian's dnsmasq-base)
        dns.port, dns.servers            # "127.0.0.1:PORT", for -o resolver
    with MiniDns(records, faults) as dns:
        ...                              # our own UDP server, same records,
                                         # plus faults per query name:
                                         # servfail, refused, truncate,
                                         # garbage, short, drop (no answer)

DnsServer runs the real server and is what relaying tests should use;
MiniDns exists for the answers a sane server never gives.  Both run as
child processes on 127.0.0.1 on a port found free, are stopped by their
PID (SIGTERM, SIGKILL after a bound) and wait for readiness with a bound.
A test without dnsmasq installed is "not run" (DnsUnavailable is a
unittest.SkipTest with smtpdtest's NOT_RUN prefix).

Run as a script (`python3 dnsserver.py --mini CONF`) it is MiniDns's
server process.
"""
import ipaddress
import json
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from procs import stop_proc  # noqa: E402  (one copy)

START_TIMEOUT = 10
STOP_TIMEOUT = 5
NOT_RUN = "not run: "

TYPES = {"A": 1, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}


class DnsUnavailable(unittest.SkipTest):
    pass


def reverse_name(addr):
    """The PTR name of a numeric address."""
    return ipaddress.ip_address(addr).reverse_pointer


def free_udp_port():
    """A UDP port of 127.0.0.1 free at the moment (its TCP twin too)."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


# ---- the wire format, as much as the tests need ----

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def decode_question(pkt):
    """(id, flags, qname, qtype) of a query, or None."""
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if qd != 1:
        return None
    labels, off = [], 12
    while off < len(pkt) and pkt[off] != 0:
        n = pkt[off]
        if n & 0xc0 or off + 1 + n > len(pkt):
            return None
        labels.append(pkt[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    if off + 5 > len(pkt):
        return None
    qtype, = struct.unpack("!H", pkt[off + 1:off + 3])
    return qid, flags, ".".join(labels).lower(), qtype, pkt[12:off + 5]


def rdata(rtype, value):
    if rtype == "A":
        return ipaddress.IPv4Address(value).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if rtype == "MX":
        pref, target = value
        return struct.pack("!H", pref) + (b"\0" if target == "." else
                                          encode_name(target))
    if rtype == "TXT":
        return bytes([len(value)]) + value.encode()
    return encode_name(value)   # CNAME, PTR


def rr(name, rtype, value, ttl=60):
    data = rdata(rtype, value)
    return (encode_name(name) + struct.pack("!HHIH", TYPES[rtype], 1, ttl,
                                            len(data)) + data)


class Zone:
    """Records by (name, type), and the names that exist."""

    def __init__(self, records, local=("test", "in-addr.arpa", "ip6.arpa")):
        self.records = {}
        self.local = [d.lower().strip(".") for d in local]
        for r in records:
            name, rtype = r[0].lower().rstrip("."), r[1]
            if rtype == "PTR":
                name = reverse_name(r[0])
            value = (r[2], r[3]) if rtype == "MX" else r[2]
            self.records.setdefault((name, rtype), []).append(value)

    def exists(self, name):
        return any(n == name for (n, _t) in self.records)

    def answer(self, name, qtype):
        """(rcode, answer records) for NAME and type number QTYPE."""
        tname = [k for k, v in TYPES.items() if v == qtype]
        out, seen = [], 0
        while seen < 8:
            seen += 1
            cname = self.records.get((name, "CNAME"))
            if cname and tname != ["CNAME"]:
                out.append(rr(name, "CNAME", cname[0]))
                name = cname[0].lower().rstrip(".")
                continue
            for value in self.records.get((name, tname[0] if tname else ""),
                                          []):
                out.append(rr(name, tname[0], value))
            break
        if out or self.exists(name):
            return 0, out
        return 3, []     # NXDOMAIN


# ---- dnsmasq ----

class DnsServer:
    """dnsmasq serving RECORDS on 127.0.0.1:PORT, authoritative for
    LOCAL (unknown names there are NXDOMAIN)."""

    def __init__(self, records, local=("test", "in-addr.arpa", "ip6.arpa")):
        self.records = list(records)
        self.local = local
        self.proc = None
        self.port = None
        self.dir = None

    @property
    def servers(self):
        return "127.0.0.1:%d" % self.port

    def _conf(self):
        lines = ["no-resolv", "no-hosts", "bind-interfaces",
                 "listen-address=127.0.0.1", "log-queries"]
        lines += ["local=/%s/" % d for d in self.local]
        addrs = {}
        for r in self.records:
            name, rtype = r[0], r[1]
            if rtype == "MX" and r[3] == ".":
                lines.append("dns-rr=%s,15,%04x00" % (name, r[2]))
            elif rtype == "MX":
                lines.append("mx-host=%s,%s,%d" % (name, r[3], r[2]))
            elif rtype in ("A", "AAAA"):
                addrs.setdefault(name, []).append(r[2])
            elif rtype == "CNAME":
                lines.append("cname=%s,%s" % (name, r[2]))
            elif rtype == "TXT":
                lines.append("txt-record=%s,%s" % (name, r[2]))
            elif rtype == "PTR":
                lines.append("ptr-record=%s,%s" % (reverse_name(name),
                                                   r[2]))
            else:
                raise ValueError("record type %s" % rtype)
        # host-record: one IPv4 and one IPv6 per line (it adds their PTR)
        for name, lst in addrs.items():
            for a in lst:
                lines.append("host-record=%s,%s" % (name, a))
        return "\n".join(lines) + "\n"

    def start(self):
        exe = shutil.which("dnsmasq") or (
            "/usr/sbin/dnsmasq" if os.access("/usr/sbin/dnsmasq", os.X_OK)
            else None)
        if exe is None:
            raise DnsUnavailable(NOT_RUN + "dnsmasq absent (Debian package "
                                 "dnsmasq-base, scripts/deps.sh)")
        self.dir = tempfile.mkdtemp(prefix="smtpd-dns-")
        os.chmod(self.dir, 0o755)
        conf = os.path.join(self.dir, "dnsmasq.conf")
        with open(conf, "w") as f:
            f.write(self._conf())
        os.chmod(conf, 0o644)
        self.log = os.path.join(self.dir, "dnsmasq.log")
        self.port = free_udp_port()
        args = [exe, "--keep-in-foreground", "-C", conf, "--pid-file=",
                "--port=%d" % self.port, "--log-facility=" + self.log]
        if os.geteuid() == 0:
            # it drops to this account after reading its configuration
            args.append("--user=" + pwd.getpwuid(65534).pw_name)
        with open(self.log + ".err", "w") as errf:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=errf)
        wait_ready(self.port, self.proc, self)
        return self

    def stop(self):
        stop_proc(self.proc, STOP_TIMEOUT)
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, True)
            self.dir = None

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---- MiniDns ----

class MiniDns:
    """Our own UDP server on 127.0.0.1: the records of a Zone, and FAULTS
    {query name: "servfail" | "refused" | "truncate" | "garbage" |
    "short" | "drop"} for every type asked of that name."""

    def __init__(self, records=(), faults=None,
                 local=("test", "in-addr.arpa", "ip6.arpa")):
        self.conf = {"records": [list(r) for r in records],
                     "faults": dict(faults or {}), "local": list(local)}
        self.proc = None
        self.port = None
        self.dir = None

    @property
    def servers(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="smtpd-minidns-")
        conf = os.path.join(self.dir, "conf.json")
        with open(conf, "w") as f:
            json.dump(self.conf, f)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--mini", conf],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        line = b""
        deadline = time.monotonic() + START_TIMEOUT
        os.set_blocking(self.proc.stdout.fileno(), False)
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            try:
                chunk = self.proc.stdout.read()
            except BlockingIOError:
                chunk = None
            if chunk:
                line += chunk
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.02)
        if not line.startswith(b"port "):
            self.stop()
            raise RuntimeError("MiniDns did not start")
        self.port = int(line.split()[1])
        return self

    def stop(self):
        stop_proc(self.proc, STOP_TIMEOUT)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def mini_reply(zone, faults, pkt):
    """The datagram MiniDns answers PKT with, or None."""
    q = decode_question(pkt)
    if q is None:
        return None
    qid, flags, name, qtype, question = q
    fault = faults.get(name)
    rd = flags & 0x0100
    head = lambda rcode, an, tc=0: struct.pack(
        "!HHHHHH", qid, 0x8000 | 0x0400 | rd | (0x0200 if tc else 0) | rcode,
        1, an, 0, 0)
    if fault == "drop":
        return None
    if fault == "servfail":
        return head(2, 0) + question
    if fault == "refused":
        return head(5, 0) + question
    if fault == "truncate":
        return head(0, 0, tc=1) + question
    if fault == "garbage":
        # says two answers, holds a compression loop
        return head(0, 2) + question + b"\xc0\x0c\x00\x0f\x00\x01" + \
            b"\x00\x00\x00\x3c\x00\x04\x00\x0a\xc0\xff"
    if fault == "short":
        return head(0, 1) + question + b"\xc0\x0c\x00"
    rcode, answers = zone.answer(name, qtype)
    return head(rcode, len(answers)) + question + b"".join(answers)


def mini_serve(conf_path):
    with open(conf_path) as f:
        conf = json.load(f)
    zone = Zone([tuple(r) for r in conf["records"]], conf["local"])
    faults = {k.lower(): v for k, v in conf["faults"].items()}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    sys.stdout.write("port %d\n" % s.getsockname()[1])
    sys.stdout.flush()
    while True:
        pkt, peer = s.recvfrom(4096)
        try:
            out = mini_reply(zone, faults, pkt)
        except Exception:      # a test server: never die on a query
            out = None
        if out is not None:
            s.sendto(out, peer)


# ---- processes ----

def wait_ready(port, proc, server):
    """Bounded wait until a query on PORT gets any answer."""
    probe = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
        encode_name("ready.probe.test") + struct.pack("!HH", 1, 1)
    deadline = time.monotonic() + START_TIMEOUT
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.1)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                s.sendto(probe, ("127.0.0.1", port))
                s.recvfrom(4096)
                return
            except OSError:
                continue
    err = ""
    try:
        with open(server.log + ".err", errors="replace") as f:
            err = f.read()
    except OSError:
        pass
    server.stop()
    raise RuntimeError("DNS server did not start: %s" % err.strip())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--mini":
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        mini_serve(sys.argv[2])
    else:
        sys.stderr.write("usage: dnsserver.py --mini CONF.json\n")
        sys.exit(1)
