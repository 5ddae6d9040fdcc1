"""regress/drivers/test_table_socketmap.py -- our table-socketmap helper
against a socketmap server written here (Postfix ships no socketmap
server; Sendmail's and Postfix's clients speak the protocol this one
answers).

SocketmapServer runs this file as a separate process (`--serve`), so
that the outage tests of dbtables.DriverTests can kill it (SIGKILL) and
freeze it (SIGSTOP) like a real server: one thread per connection, at
most MAX_CONNS connections, netstrings of at most 64 KiB read, every
connection closed after IDLE seconds without a request, and the whole
process gone after LIFETIME seconds or when its parent is.  Its maps
come from a JSON file: map -> key -> the reply's payload, or one of the
misbehaviours in MISBEHAVE (garbage, a netstring without its comma, an
over-long one, two replies, no reply, the connection closed).

The tests cover every key of table-socketmap(5) (server as host:port,
inet:host:port, [::1]:port, a unix socket path; timeout; a map per
service), every service, keys with odd characters, each reply status,
each misbehaviour (a temporary failure naming the table, never a
crash), UPDATE, the outage tests (absent at start, killed, frozen; our
smtpd through smtpctl), and Postfix's own socketmap client (postmap -q,
unpacked by regress/lib/debfetch.py; "not run" without it) answering as
ours does from the same server.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MAX_CONNS = 32          # connections served at once
IDLE = 30               # seconds a connection may stay without a request
LIFETIME = 600          # seconds the server process may live
NETSTRING_MAX = 65536   # bytes of a request the server reads

MISBEHAVE = {
    "@garbage": b"hello world\r\n",
    "@nocomma": b"6:OK abc;",
    "@overlong": b"100001:OK " + b"x" * 100,
    "@hugevalue": b"100001:OK " + b"x" * 99998 + b",",
    "@leadingzero": b"06:OK abc,",
    "@two": b"6:OK abc,6:OK def,",
    "@badstatus": b"7:MAYBE x,",
    "@silent": None,
    "@close": b"",
}


# -- the server (run as its own process) ---------------------------------
def netstring(data):
    return b"%d:%s," % (len(data), data)


def serve_reply(conn, maps, payload):
    """Answer one request payload "map key" on conn; False: close."""
    name, _, key = payload.partition(b" ")
    entry = maps.get(name.decode("latin-1"), {}).get(key.decode("latin-1"))
    if entry is None:
        conn.sendall(netstring(b"NOTFOUND "))
        return True
    if entry == "@bye":         # answer, then close as an idle server does
        conn.sendall(netstring(b"OK bye"))
        return False
    if entry in MISBEHAVE:
        raw = MISBEHAVE[entry]
        if raw is None:         # no answer: the client's timeout
            time.sleep(5)
            return False
        conn.sendall(raw)
        return raw != b""
    conn.sendall(netstring(entry.encode("latin-1")))
    return True


def serve_conn(conn, maps, slots):
    buf = b""
    try:
        conn.settimeout(IDLE)
        while True:
            colon = buf.find(b":")
            if colon < 0 and len(buf) > 12 or colon == 0 or \
                    colon > 0 and not buf[:colon].isdigit():
                return          # not a netstring: hang up
            if colon > 0:
                n = int(buf[:colon])
                if n > NETSTRING_MAX:
                    return
                if len(buf) >= colon + n + 2:
                    if buf[colon + 1 + n:colon + 2 + n] != b",":
                        return
                    payload = buf[colon + 1:colon + 1 + n]
                    buf = buf[colon + n + 2:]
                    if not serve_reply(conn, maps, payload):
                        return
                    continue
            data = conn.recv(65536)
            if not data:
                return
            buf += data
    except OSError:
        pass
    finally:
        conn.close()
        slots.release()


def serve(port, unix_path, mapfile):
    """The socketmap server: TCP port and unix socket, bounded."""
    with open(mapfile) as f:
        maps = json.load(f)
    parent = os.getppid()
    slots = threading.BoundedSemaphore(MAX_CONNS)
    socks = []
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", port))
    socks.append(tcp)
    if socket.has_ipv6:
        try:
            t6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            t6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t6.bind(("::1", port))
            socks.append(t6)
        except OSError:
            pass
    if os.path.exists(unix_path):
        os.unlink(unix_path)
    ux = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ux.bind(unix_path)
    socks.append(ux)
    for s in socks:
        s.listen(16)
        s.settimeout(0.5)

    def accept_loop(s):
        while True:
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if not slots.acquire(blocking=False):
                conn.close()
                continue
            threading.Thread(target=serve_conn, args=(conn, maps, slots),
                             daemon=True).start()
    for s in socks:
        threading.Thread(target=accept_loop, args=(s,), daemon=True).start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < LIFETIME and os.getppid() == parent:
        time.sleep(0.5)


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    serve(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    sys.exit(0)


# -- the tests ------------------------------------------------------------
import dbtables  # noqa: E402
from dbtables import CHECK, LOOKUP, FETCH, UPDATE, CLOSE  # noqa: E402
import servers  # noqa: E402
import test_table_drivers as drivers  # noqa: E402
from debfetch import unpack_or_skip  # noqa: E402

K_STRING = 0x400
K_REGEX = 0x800
HASH = drivers.HASH
ODD = "o'brien \"q\" a*b(c)\\d %s,: x"

MAPS = {
    "aliases": {"postmaster@example.com":
                "OK bob@example.com, alice@example.net",
                "busy": "TEMP database busy",
                "slow": "TIMEOUT backend slow",
                "broken": "PERM no such table \x01\x02"},
    "domains": {"example.com": "OK example.com", ODD: "OK odd",
                "sp ace": "OK space"},
    "creds": {"bob": "OK bob:" + HASH},
    "nets": {"192.0.2.1": "OK 192.0.2.1"},
    "users": {"vmail": "OK 2000:2000:/var/vmail", "bad": "OK x:1:/h"},
    "sources": {},
    "mailaddrs": {"bob@example.com": "OK bob@example.com"},
    "helo": {"192.0.2.7": "OK helo.example.com"},
    "senders": {"bob": "OK bob@example.com, @example.net"},
    "relays": {"example.org": "OK smtp+tls://mx.example.com:587"},
    "tags": {"tag-1": "OK tag-1", "empty": "OK"},
    "regexes": {"subject spam": "OK matched"},
    "odd": {"garbage": "@garbage", "nocomma": "@nocomma",
            "overlong": "@overlong", "hugevalue": "@hugevalue",
            "leadingzero": "@leadingzero", "two": "@two",
            "badstatus": "@badstatus", "silent": "@silent",
            "close": "@close", "nul": "OK a\0b", "bye": "@bye"},
}

MAP_KEYS = """\
alias_map aliases
domain_map domains
credentials_map creds
netaddr_map nets
userinfo_map users
mailaddr_map mailaddrs
addrname_map helo
mailaddrmap_map senders
relayhost_map relays
string_map tags
regex_map regexes
"""

CASES = [
    ("lookup alias", LOOKUP, "alias", b"postmaster@example.com",
     (1, "bob@example.com, alice@example.net")),
    ("lookup alias absent", LOOKUP, "alias", b"nobody", 0),
    ("check alias", CHECK, "alias", b"postmaster@example.com", 1),
    ("lookup alias TEMP", LOOKUP, "alias", b"busy", -1),
    ("lookup alias TIMEOUT", LOOKUP, "alias", b"slow", -1),
    ("check alias PERM", CHECK, "alias", b"broken", -1),
    ("check domain", CHECK, "domain", b"example.com", 1),
    ("check domain absent", CHECK, "domain", b"example.net", 0),
    ("lookup domain", LOOKUP, "domain", b"example.com", (1, "example.com")),
    ("lookup credentials", LOOKUP, "credentials", b"bob",
     (1, "bob:" + HASH)),
    ("check netaddr", CHECK, "netaddr", b"192.0.2.1", 1),
    ("check netaddr absent", CHECK, "netaddr", b"192.0.2.2", 0),
    ("lookup userinfo", LOOKUP, "userinfo", b"vmail",
     (1, "2000:2000:/var/vmail")),
    ("lookup userinfo bad uid", LOOKUP, "userinfo", b"bad", -1),
    ("lookup userinfo absent", LOOKUP, "userinfo", b"nobody", 0),
    ("check mailaddr", CHECK, "mailaddr", b"bob@example.com", 1),
    ("check mailaddr absent", CHECK, "mailaddr", b"eve@example.com", 0),
    ("lookup addrname", LOOKUP, "addrname", b"192.0.2.7",
     (1, "helo.example.com")),
    ("lookup mailaddrmap", LOOKUP, "mailaddrmap", b"bob",
     (1, "bob@example.com, @example.net")),
    ("lookup relayhost", LOOKUP, "relayhost", b"example.org",
     (1, "smtp+tls://mx.example.com:587")),
    ("check string", CHECK, K_STRING, b"tag-1", 1),
    ("check string absent", CHECK, K_STRING, b"tag-2", 0),
    ("check string empty OK", CHECK, K_STRING, b"empty", 1),
    ("check regex", CHECK, K_REGEX, b"subject spam", 1),
    ("check regex absent", CHECK, K_REGEX, b"subject ham", 0),
    ("lookup source: no map", LOOKUP, "source", b"x", -1),
    ("fetch source: never", FETCH, "source", None, -1),
    ("lookup with a parameter", LOOKUP, "userinfo", b"vmail",
     (1, "2000:2000:/var/vmail")),
]



def postfix_postmap(confdir):
    """Postfix's postmap and its environment, with a main.cf in
    CONFDIR; SkipTest ("not run") when the package cannot be fetched."""
    root = unpack_or_skip(["postfix"], "usr/sbin/postmap")
    postmap = os.path.join(root, "usr", "sbin", "postmap")
    # postmap only checks that these name accounts, distinct from
    # default_privs (nobody); the unpacked package made no `postfix`
    # nor `postdrop`, so take two that every Debian system has
    with open(os.path.join(confdir, "main.cf"), "w") as f:
        f.write("mail_owner = daemon\nsetgid_group = mail\n")
    return postmap, dict(os.environ, LD_LIBRARY_PATH=os.path.join(
        root, "usr", "lib", "postfix"))


class SocketmapServer(servers.Server):
    """This file's --serve process on 127.0.0.1:port, [::1]:port and
    tmp/socketmap.sock.  Run as ourselves: it is our own test code."""

    name = "socketmap"

    def _pick_account(self):
        pass

    def init_data(self):
        self.socket = self.path("socketmap.sock")
        with open(self.path("maps.json"), "w") as f:
            json.dump(MAPS, f)

    def command(self):
        return [sys.executable, os.path.abspath(__file__), "--serve",
                str(self.port), self.socket, self.path("maps.json")]

    def ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port),
                                          timeout=1) as s:
                s.sendall(b"15:domains example,")
                return s.recv(64) == b"9:NOTFOUND ,"
        except OSError:
            return False


class SocketmapDriverTests(dbtables.DriverTests, unittest.TestCase):
    DRIVER = "table-socketmap"
    BACKEND = "socketmap"
    PROBE = ("userinfo", "vmail", "2000:2000:/var/vmail")

    @classmethod
    def start_server(cls):
        return SocketmapServer().__enter__()

    @classmethod
    def fill(cls):
        pass                    # the maps are the server's own file

    @classmethod
    def config(cls, port=None, server=None, **over):
        text = ("# table-socketmap test configuration\n"
                "server %s\n%s" % (
                    server or "127.0.0.1:%d" % (port or cls.server.port),
                    MAP_KEYS))
        over.setdefault("timeout", dbtables.TIMEOUT)
        if "query_timeout" in over:
            over["timeout"] = over.pop("query_timeout")
        for k, v in over.items():
            text += "%s %s\n" % (k, v)
        return text

    def slow_config(self):
        return self.config(timeout=10)

    # -- answers -------------------------------------------------------
    def test_every_service(self):
        h = self.helper()
        for what, mtype, service, key, want in CASES:
            params = ((b"foo", b"bar"),) if "parameter" in what else ()
            with self.subTest(case=what):
                self.assertEqual(h.request(mtype, service, key, params),
                                 want, h.stderr())
        err = h.stderr()
        for line in ("table spy: socketmap: map aliases: TEMP database busy",
                     "table spy: socketmap: map aliases: TIMEOUT backend "
                     "slow",
                     "table spy: socketmap: map aliases: PERM no such "
                     "table ??",
                     "table spy: socketmap: no map for service source",
                     "a socketmap cannot be listed"):
            self.assertIn(line, err)
        h.send(UPDATE)
        self.assertEqual(h.result(), 1, h.stderr())
        h.send(CLOSE)
        self.assertEqual(h.wait(), 0, h.stderr())

    def test_odd_keys(self):
        """Spaces, quotes, colons, commas, percent signs: the key is
        the rest of the netstring, whatever it holds."""
        h = self.helper()
        for key, want in ((ODD.encode(), (1, "odd")),
                          (b"sp ace", (1, "space")), (b"sp", 0),
                          (b"x" * 1000, 0)):
            with self.subTest(key=key[:20]):
                self.assertEqual(h.request(LOOKUP, "domain", key), want,
                                 h.stderr())

    def test_misbehaving_server(self):
        """Garbage, a netstring without its comma, an over-long one, a
        leading zero, two replies, an unknown status, NUL bytes, no
        answer, the connection closed: each -1 with a line naming the
        table, and the next request answered."""
        h = self.helper(self.write("odd.conf", self.config().replace(
            "domain_map domains", "domain_map odd")))
        reasons = {
            b"garbage": "garbled reply: netstring length is not a number",
            b"nocomma": "garbled reply: netstring not closed by a comma",
            b"overlong": "garbled reply: netstring longer than the limit",
            b"hugevalue": "garbled reply: netstring longer than the limit",
            b"leadingzero": "garbled reply: netstring length has a "
                            "leading zero",
            b"two": "garbled reply: bytes after the reply",
            b"badstatus": "garbled reply: reply is not OK",
            b"nul": "NUL byte",
            b"silent": "no answer in time",
            b"close": "connection closed by the server",
        }
        for key, why in reasons.items():
            with self.subTest(key=key):
                t0 = time.monotonic()
                self.assertEqual(h.request(LOOKUP, "domain", key), -1,
                                 h.stderr())
                self.assertLess(time.monotonic() - t0, dbtables.TIMEOUT + 1)
                self.assertIn("table spy: socketmap: ", h.stderr())
                self.assertIn(why, h.stderr())
                self.assertEqual(self.probe(h), self.want(), h.stderr())
        self.assert_alive(h)

    def test_server_closes_idle_connection(self):
        """The server closes after a reply: the next request goes out
        on a new connection, answered, no failure."""
        h = self.helper(self.write("bye.conf", self.config().replace(
            "domain_map domains", "domain_map odd")))
        for _ in range(3):
            self.assertEqual(h.request(LOOKUP, "domain", b"bye"),
                             (1, "bye"), h.stderr())
            self.assertEqual(self.probe(h), self.want(), h.stderr())
        self.assertNotIn("socketmap:", h.stderr())

    def test_server_forms(self):
        """inet:host:port, [::1]:port, a socket path, unix:path."""
        forms = {"inet": "inet:127.0.0.1:%d" % self.server.port,
                 "path": self.server.socket,
                 "unix": "unix:" + self.server.socket}
        if socket.has_ipv6 and os.path.exists("/proc/net/if_inet6"):
            forms["v6"] = "[::1]:%d" % self.server.port
        for name, server in forms.items():
            with self.subTest(server=name):
                h = self.helper(self.write(name + ".conf",
                                           self.config(server=server)))
                self.assertEqual(self.probe(h), self.want(), h.stderr())

    def test_update(self):
        path = self.write("update.conf", self.config())
        h = self.helper(path)
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.org"),
                         (1, "smtp+tls://mx.example.com:587"))
        self.write("update.conf", self.config().replace(
            "relayhost_map relays", "relayhost_map domains"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 1, h.stderr())
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.org"), 0)
        self.write("update.conf", self.config(bogus_key="x"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 0)
        self.write("update.conf", self.config(
            port=dbtables.closed_port()))
        h.send(UPDATE)
        self.assertEqual(h.result(), 0)
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.org"), 0,
                         "the previous config stays")

    # -- Postfix's socketmap client --------------------------------------
    def test_postfix_client_agrees(self):
        """Postfix's own socketmap client (postmap -q, from Debian's
        postfix package unpacked by regress/lib/debfetch.py) and ours ask
        the same server the same keys: the same values, not-founds and
        failures; so the test server speaks the protocol Postfix does."""
        postmap, env = postfix_postmap(self.tmp)
        h = self.helper()
        cases = [("domain", "domains", "example.com"),
                 ("domain", "domains", ODD),
                 ("domain", "domains", "sp ace"),
                 ("domain", "domains", "example.net"),
                 ("userinfo", "users", "vmail"),
                 ("alias", "aliases", "postmaster@example.com"),
                 ("alias", "aliases", "busy"),
                 ("alias", "aliases", "broken")]
        for service, name, key in cases:
            with self.subTest(key=key):
                p = subprocess.run(
                    [postmap, "-c", self.tmp, "-q", key,
                     "socketmap:inet:127.0.0.1:%d:%s" % (
                         self.server.port, name)],
                    capture_output=True, text=True, env=env, timeout=30)
                # postmap exits 1 both for "not found" and, after a
                # "fatal:" line, for a failed query
                theirs = (-1 if "fatal:" in p.stderr else
                          (1, p.stdout.rstrip("\n")) if p.returncode == 0
                          else 0 if p.returncode == 1 else "exit %d" %
                          p.returncode)
                self.assertEqual(h.request(LOOKUP, service, key.encode()),
                                 theirs, p.stderr)

    # -- bad input -----------------------------------------------------
    def test_bad_config_files(self):
        """Missing, unreadable, unknown key, no value, bad numbers and
        servers: the helper refuses to start, naming file and key."""
        missing = os.path.join(self.tmp, "missing.conf")
        self.start_fails(missing, missing)
        self.start_fails(self.tmp, self.tmp)
        bad = {
            "bogus": (self.config() + "bogus_key 1\n",
                      "bogus.conf:%d: unknown key bogus_key" % (
                          len(self.config().splitlines()) + 1)),
            "novalue": (self.config() + "alias_map\n", "novalue.conf"),
            "timeout": (self.config(timeout="x"), "timeout"),
            "timeout0": (self.config(timeout=0), "timeout"),
            "noserver": (MAP_KEYS, "no server"),
            "noport": (self.config(server="127.0.0.1"), "want host:port"),
            "badport": (self.config(server="127.0.0.1:70000"),
                        "bad port"),
            "longpath": (self.config(server="/" + "x" * 200),
                         "socket path too long"),
            "mapname": (self.config().replace("aliases", "ali:ases"),
                        "alias_map: a map name holds no blank"),
            "fetch": (self.config() + "fetch_source x\n",
                      "unknown key fetch_source"),
        }
        for name, (text, why) in bad.items():
            with self.subTest(config=name):
                err = self.start_fails(self.write(name + ".conf", text), why)
                self.assertIn(name + ".conf", err)


if __name__ == "__main__":
    unittest.main()
