"""test_dns_resolver.py -- the lookup process's resolver (smtpd/lookup/
lookup_dns.h: MTA-01, MTA-02, SMTP-30) against real DNS servers.

Each test runs regress/dns/dns_query (the resolver module on its own
event loop, as lookup runs it; with -m behind lookup's imsg handlers) against dnsmasq serving a zone built by
regress/lib/dnsserver.py, or against MiniDns, our own UDP server, for
what dnsmasq never sends (SERVFAIL, REFUSED, truncated, malformed, no
answer).  Every server is on 127.0.0.1 on a free port and stopped by
PID; every run of dns_query is bounded in time.
"""
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
import dnsserver  # noqa: E402

BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
QUERY = os.path.join(BUILD, "regress", "dns", "dns_query")
RUN_TIMEOUT = 30

ZONE = [
    # several preferences, two equal at 20, a host in both families
    ("multi.test", "MX", 30, "mx30.multi.test"),
    ("multi.test", "MX", 10, "mx10.multi.test"),
    ("multi.test", "MX", 20, "mx20a.multi.test"),
    ("multi.test", "MX", 20, "mx20b.multi.test"),
    ("mx10.multi.test", "A", "127.0.0.10"),
    ("mx20a.multi.test", "A", "127.0.0.21"),
    ("mx20b.multi.test", "A", "127.0.0.22"),
    ("mx30.multi.test", "A", "127.0.0.30"),
    ("mx30.multi.test", "AAAA", "::1"),
    # an MX to a CNAME, and a domain that is a CNAME
    ("cname.test", "MX", 10, "alias.cname.test"),
    ("alias.cname.test", "CNAME", "real.cname.test"),
    ("real.cname.test", "A", "127.0.0.40"),
    ("aliasdomain.test", "CNAME", "real.cname.test"),
    # an MX to an address literal
    ("literal.test", "MX", 10, "127.0.0.50"),
    # a dead host (no address at all) before a live one
    ("dead.test", "MX", 10, "nowhere.dead.test"),
    ("dead.test", "MX", 20, "live.dead.test"),
    ("live.dead.test", "A", "127.0.0.60"),
    # every MX host without address
    ("allgone.test", "MX", 10, "gone1.allgone.test"),
    ("allgone.test", "MX", 20, "gone2.allgone.test"),
    # no MX: implicit MX, IPv6 only
    ("implicit.test", "AAAA", "::1"),
    ("implicit4.test", "A", "127.0.0.70"),
    # no MX and no address (exists through another record)
    ("bare.test", "TXT", "no mail here"),
    # null MX (RFC 7505), and an MX of localhost
    ("nullmx.test", "MX", 0, "."),
    ("localmx.test", "MX", 10, "localhost"),
    # more MX hosts and addresses than handled; the answer is above 512
    # bytes, so it comes over TCP after a truncated one
] + [("many.test", "MX", 100 + i, "host%02d.many.test" % i)
     for i in range(24)] + [
    ("host%02d.many.test" % i, "A", "127.0.%d.%d" % (i + 1, j))
    for i in range(24) for j in (1, 2, 3)] + [
    # reverse names: confirmed, unconfirmed
    ("127.0.0.10", "PTR", "mx10.multi.test"),
    ("127.0.0.99", "PTR", "liar.test"),
]


def query(servers, kind, *names, extra=()):
    """Run dns_query; {index: [lines]} of its answers."""
    p = subprocess.run([QUERY, "-s", servers] + list(extra) + [kind] +
                       list(names), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
    out = collections.defaultdict(list)
    for line in p.stdout.decode().splitlines():
        line = line.rstrip(" ")
        idx, rest = line.split(" ", 1)
        out[int(idx)].append(rest)
    if p.returncode != 0:
        raise AssertionError("dns_query exit %d: %s" % (
            p.returncode, p.stderr.decode()[-2000:]))
    return out


def addrs(lines):
    """[(pref, host, addr)] and (status, error) of one MX/host answer."""
    a, end = [], None
    for line in lines:
        f = line.split(" ", 3)
        if f[0] == "ADDR":
            a.append((int(f[1]), f[2], f[3]))
        elif f[0] == "END":
            end = (f[1], f[3] if len(f) > 3 else "")
    return a, end


class ResolverBuilt(unittest.TestCase):
    # () the resolver called directly; ("-m",) through lookup's imsg
    # handlers, as the dispatcher asks (lookup_dns_msg.c)
    EXTRA = ()

    def setUp(self):
        if not os.access(QUERY, os.X_OK):
            self.fail("%s not built" % QUERY)


class TestMx(ResolverBuilt):
    @classmethod
    def setUpClass(cls):
        cls.dns = dnsserver.DnsServer(ZONE)
        cls.dns.start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def mx(self, *domains):
        out = query(self.dns.servers, "mx", *domains, extra=self.EXTRA)
        return [addrs(out[i]) for i in range(len(domains))]

    def test_preference_order_and_families(self):
        (a, end), = self.mx("multi.test")
        self.assertEqual(end[0], "OK")
        self.assertEqual([x[0] for x in a], [10, 20, 20, 30, 30])
        self.assertEqual(a[0][1:], ("mx10.multi.test", "127.0.0.10"))
        self.assertEqual({x[1] for x in a[1:3]},
                         {"mx20a.multi.test", "mx20b.multi.test"})
        # IPv4 first, then IPv6, for one host
        self.assertEqual(a[3:], [(30, "mx30.multi.test", "127.0.0.30"),
                                 (30, "mx30.multi.test", "::1")])

    def test_equal_preferences_shuffled(self):
        firsts = set()
        for _ in range(4):
            out = self.mx(*(["multi.test"] * 8))
            for a, end in out:
                firsts.add(a[1][1])
            if len(firsts) == 2:
                break
        self.assertEqual(firsts, {"mx20a.multi.test", "mx20b.multi.test"})

    def test_cname_followed(self):
        (a, end), (b, end2) = self.mx("cname.test", "aliasdomain.test")
        self.assertEqual(end[0], "OK")
        self.assertEqual(a, [(10, "alias.cname.test", "127.0.0.40")])
        # a domain that is a CNAME without MX: implicit MX through it
        self.assertEqual(end2[0], "OK")
        self.assertEqual(b, [(0, "aliasdomain.test", "127.0.0.40")])

    def test_mx_address_literal(self):
        (a, end), = self.mx("literal.test")
        self.assertEqual((a, end[0]), ([(10, "127.0.0.50", "127.0.0.50")],
                                       "OK"))

    def test_dead_host_skipped(self):
        (a, end), = self.mx("dead.test")
        self.assertEqual((a, end[0]), ([(20, "live.dead.test",
                                         "127.0.0.60")], "OK"))

    def test_no_mx_host_resolves_is_permanent(self):
        (a, end), = self.mx("allgone.test")
        self.assertEqual((a, end[0]), ([], "NOTFOUND"))

    def test_implicit_mx(self):
        (a, end), (b, end2) = self.mx("implicit.test", "implicit4.test")
        self.assertEqual((a, end[0]), ([(0, "implicit.test", "::1")], "OK"))
        self.assertEqual((b, end2[0]),
                         ([(0, "implicit4.test", "127.0.0.70")], "OK"))

    def test_no_mx_no_address_is_temporary(self):
        (a, end), = self.mx("bare.test")
        self.assertEqual(a, [])
        self.assertEqual(end[0], "TEMPFAIL")
        self.assertIn("No MX found for domain", end[1])

    def test_nxdomain(self):
        (a, end), = self.mx("nosuchdomain.test")
        self.assertEqual((a, end[0]), ([], "NOTFOUND"))
        self.assertIn("Domain does not exist", end[1])

    def test_null_mx_and_localhost(self):
        (a, end), (b, end2) = self.mx("nullmx.test", "localmx.test")
        self.assertEqual((a, end[0]), ([], "NULLMX"))
        self.assertEqual((b, end2[0]), ([], "NULLMX"))
        self.assertIn("does not accept mail", end[1])

    def test_domain_literal_and_bad_name(self):
        (a, end), (b, end2) = self.mx("[127.0.0.80]", "bad..name")
        self.assertEqual((a, end[0]), ([(0, "[127.0.0.80]", "127.0.0.80")],
                                       "OK"))
        self.assertEqual((b, end2[0]), ([], "NOTFOUND"))

    def test_caps_and_tcp(self):
        (a, end), = self.mx("many.test")
        self.assertEqual(end[0], "OK")
        # 32 addresses at most: the 3 of each of the first 10 hosts, 2 of
        # the 11th, in preference order
        self.assertEqual(len(a), 32)
        self.assertEqual([x[0] for x in a], sorted(x[0] for x in a))
        self.assertEqual({x for x in a[:3]},
                         {(100, "host00.many.test", "127.0.1.%d" % j)
                          for j in (1, 2, 3)})
        self.assertEqual(a[-1][1], "host10.many.test")

    def test_many_at_once(self):
        names = ["multi.test", "nosuchdomain.test", "nullmx.test",
                 "implicit.test"] * 25
        out = self.mx(*names)
        want = {"multi.test": "OK", "nosuchdomain.test": "NOTFOUND",
                "nullmx.test": "NULLMX", "implicit.test": "OK"}
        for name, (a, end) in zip(names, out):
            self.assertEqual(end[0], want[name], name)


class TestHostAndPtr(ResolverBuilt):
    @classmethod
    def setUpClass(cls):
        cls.dns = dnsserver.DnsServer(ZONE)
        cls.dns.start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def test_host(self):
        out = query(self.dns.servers, "host", "mx30.multi.test",
                    "alias.cname.test", "[IPv6:::1]", "192.0.2.1",
                    "nosuch.test", "multi.test", extra=self.EXTRA)
        res = [addrs(out[i]) for i in range(6)]
        self.assertEqual(res[0], ([(0, "mx30.multi.test", "127.0.0.30"),
                                   (0, "mx30.multi.test", "::1")],
                                  ("OK", "")))
        self.assertEqual(res[1][0], [(0, "alias.cname.test", "127.0.0.40")])
        self.assertEqual(res[2][0], [(0, "[IPv6:::1]", "::1")])
        self.assertEqual(res[3][0], [(0, "192.0.2.1", "192.0.2.1")])
        self.assertEqual(res[4][1][0], "NOTFOUND")
        self.assertIn("does not exist", res[4][1][1])
        self.assertEqual(res[5][1][0], "NOTFOUND")
        self.assertIn("has no address", res[5][1][1])

    def test_ptr(self):
        out = query(self.dns.servers, "ptr", "127.0.0.10", "127.0.0.99",
                    "127.0.0.123", "not-an-address", extra=self.EXTRA)
        ptr = [out[i][0].split(" ") for i in range(4)]
        self.assertEqual(ptr[0][:4], ["PTR", "OK", "1", "mx10.multi.test"])
        self.assertEqual(ptr[1][:4], ["PTR", "OK", "0", "liar.test"])
        self.assertEqual(ptr[2][:4], ["PTR", "NOTFOUND", "0", "-"])
        self.assertEqual(ptr[3][:2], ["PTR", "NOTFOUND"])


class TestSystemResolver(ResolverBuilt):
    """Without -s: loopback reverse names never leave the process."""

    def test_loopback_is_localhost(self):
        d = tempfile.mkdtemp(prefix="smtpd-resolv-")
        try:
            conf = os.path.join(d, "resolv.conf")
            with open(conf, "w") as f:
                f.write("nameserver 127.0.0.1\noptions timeout:1 "
                        "attempts:1\n")
            p = subprocess.run([QUERY, "-c", conf, "ptr", "127.0.0.9", "::1",
                                "127.255.0.1"], stdout=subprocess.PIPE,
                               timeout=RUN_TIMEOUT)
        finally:
            shutil.rmtree(d, True)
        lines = sorted(p.stdout.decode().splitlines())
        self.assertEqual([x.split(" ")[1:5] for x in lines],
                         [["PTR", "OK", "1", "localhost"]] * 3)


class TestMxImsg(TestMx):
    """The same, through IMSG_LOOKUP_DNS_MX / _ADDR / _END."""
    EXTRA = ("-m",)


class TestHostAndPtrImsg(TestHostAndPtr):
    """The same, through IMSG_LOOKUP_DNS_HOST / _PTR and their answers."""
    EXTRA = ("-m",)


class TestBadServers(ResolverBuilt):
    """What a sane server never sends, from MiniDns."""

    FAULTS = {"servfail.test": "servfail", "refused.test": "refused",
              "trunc.test": "truncate", "garbage.test": "garbage",
              "short.test": "short", "silent.test": "drop",
              "slowmx.partial.test": "drop",
              "4.0.0.127.in-addr.arpa": "garbage"}
    RECORDS = [("partial.test", "MX", 10, "slowmx.partial.test"),
               ("partial.test", "MX", 20, "ok.partial.test"),
               ("ok.partial.test", "A", "127.0.0.90"),
               ("onlyslow.test", "MX", 10, "slowmx.partial.test"),
               ("127.0.0.3", "PTR", "mini.test"),
               ("mini.test", "A", "127.0.0.3")]

    @classmethod
    def setUpClass(cls):
        cls.dns = dnsserver.MiniDns(cls.RECORDS, cls.FAULTS)
        cls.dns.start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def test_faults_are_temporary(self):
        names = ["servfail.test", "refused.test", "trunc.test",
                 "garbage.test", "short.test"]
        out = query(self.dns.servers, "mx", *names,
                    extra=["-t", "300", "-T", "1"])
        for i, name in enumerate(names):
            a, end = addrs(out[i])
            self.assertEqual((a, end[0]), ([], "TEMPFAIL"), name)

    def test_timeout_is_bounded(self):
        out = query(self.dns.servers, "mx", "silent.test",
                    extra=["-t", "200", "-T", "2"])
        a, end = addrs(out[0])
        self.assertEqual(end[0], "TEMPFAIL")
        # 200 ms then 400 ms: c-ares's bound, well under a second
        self.assertLess(int(out[0][-1].split(" ")[2]), 2000)

    def test_request_bound(self):
        # c-ares would try for 1.5 + 3 s; the request's own bound is
        # 500 ms; -q: the resolver is freed with the query still out
        out = query(self.dns.servers, "mx", "silent.test",
                    extra=["-q", "-t", "1500", "-T", "2", "-R", "500"])
        line = out[0][-1].split(" ", 3)
        self.assertEqual(line[1], "TEMPFAIL")
        self.assertGreaterEqual(int(line[2]), 450)
        self.assertLess(int(line[2]), 1500)
        self.assertIn("timed out", line[3])

    def test_one_host_failing_others_used(self):
        out = query(self.dns.servers, "mx", "partial.test", "onlyslow.test",
                    extra=["-t", "200", "-T", "1"])
        a, end = addrs(out[0])
        self.assertEqual((a, end[0]), ([(20, "ok.partial.test",
                                         "127.0.0.90")], "OK"))
        a, end = addrs(out[1])
        self.assertEqual((a, end[0]), ([], "TEMPFAIL"))

    def test_ptr_faults(self):
        out = query(self.dns.servers, "ptr", "127.0.0.3", "127.0.0.4",
                    extra=["-t", "300", "-T", "1"])
        self.assertEqual(out[0][0].split(" ")[:4],
                         ["PTR", "OK", "1", "mini.test"])
        self.assertEqual(out[1][0].split(" ")[:2], ["PTR", "TEMPFAIL"])

    def test_unusable_resolver(self):
        p = subprocess.run([QUERY, "-s", "not an address", "mx", "x.test"],
                           stdout=subprocess.PIPE, timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"ERROR resolver not an address", p.stdout)


if __name__ == "__main__":
    unittest.main()
