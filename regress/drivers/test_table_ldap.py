"""regress/drivers/test_table_ldap.py -- our table-ldap helper against a
private OpenLDAP slapd (Debian's slapd package).

SlapdServer runs slapd from a slapd.conf of its own (mdb backend, data
and TLS certificate in a temporary directory, ldap:// and ldaps:// on
free loopback ports; as root it runs as the openldap account, else as
ourselves), filled with slapadd before the first start.  The tests
cover every key of the config (url in each form, username/password,
basedn, <service>_filter and _attributes, starttls, ldaps with
tls_ca_file, query_timeout), every service the filters express, keys
holding filter syntax (RFC 4515: * ( ) \\ are plain bytes of the key),
values that no service can use (NUL bytes, 1 MiB, incomplete records),
a referral loop (never followed: a temporary failure), a refused
password, FETCH rotation, UPDATE, and the outage tests of
dbtables.DriverTests (server absent at start, killed, frozen; our smtpd
through smtpctl).
"""
import base64
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dbtables  # noqa: E402
from dbtables import CHECK, LOOKUP, FETCH, UPDATE, CLOSE  # noqa: E402
import servers  # noqa: E402
import test_table_drivers as drivers  # noqa: E402

K_STRING = 0x400
K_REGEX = 0x800
SUFFIX = "dc=example,dc=com"
PEOPLE = "ou=people," + SUFFIX
ADMIN = "cn=admin," + SUFFIX
SMTPD_DN = "cn=smtpd," + SUFFIX
PASSWORD = "secret"
HASH = drivers.HASH
SCHEMAS = ("core", "cosine", "inetorgperson", "nis", "misc")
BIG = b"x" * (1 << 20)
ODD_KEY = "a*b(c)\\d"


def b64(data):
    return base64.b64encode(data).decode()



class SlapdServer(servers.Server):
    """slapd on ldap://127.0.0.1:port and ldaps://127.0.0.1:tls_port."""

    name = "slapd"
    accounts = ("openldap",)
    stop_signal = signal.SIGTERM

    def __init__(self, ldif):
        super().__init__()
        self.ldif = ldif
        self.tls_port = servers.free_port()

    def init_data(self):
        slapd = servers.which("/usr/sbin/slapd", "slapd")
        if slapd is None:
            raise servers.ServerError("slapd is not installed")
        os.mkdir(self.path("data"), 0o700)
        self.cert, self.key = self.path("cert.pem"), self.path("key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True, timeout=60)
        conf = ["include /etc/ldap/schema/%s.schema" % s for s in SCHEMAS]
        conf += [
            "pidfile %s" % self.path("slapd.pid"),
            "argsfile %s" % self.path("slapd.args"),
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            "TLSCertificateFile %s" % self.cert,
            "TLSCertificateKeyFile %s" % self.key,
            "sizelimit unlimited",
            "database mdb",
            "maxsize 67108864",
            "suffix \"%s\"" % SUFFIX,
            "rootdn \"%s\"" % ADMIN,
            "rootpw %s" % PASSWORD,
            "directory %s" % self.path("data"),
            ""]
        with open(self.path("slapd.conf"), "w") as f:
            f.write("\n".join(conf))
        with open(self.path("data.ldif"), "w") as f:
            f.write(self.ldif)
        for p in ("data", "slapd.conf", "data.ldif", "cert.pem", "key.pem"):
            if self.uid is not None:
                os.chown(self.path(p), self.uid, self.gid)
        self.run_as([slapd.replace("slapd", "slapadd"), "-q", "-f",
                     self.path("slapd.conf"), "-l", self.path("data.ldif")])

    def command(self):
        return [servers.which("/usr/sbin/slapd", "slapd"), "-d", "0",
                "-f", self.path("slapd.conf"), "-h",
                "ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/ %s" % (
                    self.port, self.tls_port, self.ldapi())]

    def ldapi(self):
        """The ldapi:// URL of the unix socket in the temporary dir."""
        return "ldapi://" + self.path("ldapi").replace("/", "%2F")

    def ready(self):
        p = self.client(["ldapsearch", "-x", "-H",
                         "ldap://127.0.0.1:%d" % self.port, "-b", "",
                         "-s", "base", "-o", "nettimeout=1", "-l", "2"],
                        check=False, timeout=5)
        return p.returncode == 0


def entry(dn, *pairs):
    out = "dn: %s\n" % dn
    for k, v in pairs:
        if isinstance(v, bytes):
            out += "%s:: %s\n" % (k, b64(v))
        else:
            out += "%s: %s\n" % (k, v)
    return out + "\n"


def device(cn, *pairs):
    return entry("cn=%s,%s" % (cn, PEOPLE), ("objectClass", "device"),
                 ("objectClass", "extensibleObject"), ("cn", cn), *pairs)


def user(uid, number, home, *pairs):
    return entry("uid=%s,%s" % (uid, PEOPLE), ("objectClass", "account"),
                 ("objectClass", "posixAccount"),
                 ("objectClass", "extensibleObject"), ("uid", uid),
                 ("cn", uid), ("uidNumber", number), ("gidNumber", number),
                 ("homeDirectory", home), *pairs)


LDIF = "".join([
    entry(SUFFIX, ("objectClass", "dcObject"),
          ("objectClass", "organization"), ("dc", "example"),
          ("o", "Example")),
    entry(PEOPLE, ("objectClass", "organizationalUnit"), ("ou", "people")),
    entry(SMTPD_DN, ("objectClass", "device"),
          ("objectClass", "simpleSecurityObject"), ("cn", "smtpd"),
          ("userPassword", PASSWORD)),
    user("vmail", "2000", "/var/vmail", ("mail", "vmail@example.com")),
    user("bob", "1001", "/home/bob", ("mail", "bob@example.com"),
         ("mail", "@example.net"), ("userPassword", HASH)),
    user("half", "1003", "/home/half"),
    entry("cn=postmaster@example.com," + PEOPLE,
          ("objectClass", "nisMailAlias"), ("cn", "postmaster@example.com"),
          ("rfc822MailMember", "bob@example.com"),
          ("rfc822MailMember", "alice@example.net")),
    entry("cn=postmaster@example.com+description=2," + PEOPLE,
          ("objectClass", "nisMailAlias"), ("objectClass", "extensibleObject"),
          ("cn", "postmaster@example.com"), ("description", "2"),
          ("rfc822MailMember", "carol@example.org")),
    device("example.com", ("associatedDomain", "example.com")),
    device("example.org", ("associatedDomain", "example.org"),
           ("labeledURI", "smtp+tls://mx.example.com:587")),
    device("net1", ("ipHostNumber", "192.0.2.1")),
    device("helo", ("ipHostNumber", "192.0.2.7"),
           ("host", "helo.example.com")),
    device("sources", ("ipHostNumber", "192.0.2.11"),
           ("ipHostNumber", "192.0.2.10"), ("ipHostNumber", "192.0.2.12")),
    device("tag-1"),
    device("odd1", ("cn", ODD_KEY), ("host", "odd.example.com")),
    device("odd2", ("cn", "o'brien \"q\" %s%%"), ("host", "quote.example")),
    device("star", ("host", "star.example")),
    device("nul", ("userPassword", b"a\0b")),
    device("big", ("userPassword", BIG)),
    device("utf8", ("userPassword", "h\u00e9llo".encode())),
    # a referral to itself: a search through it would never end
    entry("ou=loop," + SUFFIX, ("objectClass", "referral"),
          ("objectClass", "extensibleObject"), ("ou", "loop"),
          ("ref", "ldap://127.0.0.1:@PORT@/ou=loop," + SUFFIX)),
])

QUERIES = """\
alias_filter (&(objectClass=nisMailAlias)(cn=%u))
alias_attributes rfc822MailMember
domain_filter (&(objectClass=device)(associatedDomain=%u))
domain_attributes associatedDomain
credentials_filter: (&(objectClass=posixAccount)(uid=%u))
credentials_attributes: uid, userPassword
netaddr_filter (ipHostNumber=%u)
netaddr_attributes ipHostNumber
userinfo_filter (&(objectClass=posixAccount)(uid=%s))
userinfo_attributes uidNumber,gidNumber,homeDirectory
source_filter (cn=sources)
source_attributes ipHostNumber
mailaddr_filter (mail=%u)
mailaddr_attributes mail
addrname_filter (|(ipHostNumber=%u)(&(objectClass=device)(cn=%u)))
addrname_attributes host
mailaddrmap_filter (&(objectClass=posixAccount)(uid=%u))
mailaddrmap_attributes mail
relayhost_filter (associatedDomain=%u)
relayhost_attributes labeledURI
string_filter (&(objectClass=device)(cn=%u))
"""

CASES = [
    ("lookup alias joined", LOOKUP, "alias", b"postmaster@example.com",
     (1, "bob@example.com, alice@example.net, carol@example.org")),
    ("lookup alias absent", LOOKUP, "alias", b"nobody", 0),
    ("check alias", CHECK, "alias", b"postmaster@example.com", 1),
    ("check domain", CHECK, "domain", b"example.com", 1),
    ("check domain absent", CHECK, "domain", b"example.net", 0),
    ("lookup domain", LOOKUP, "domain", b"example.org", (1, "example.org")),
    ("lookup credentials", LOOKUP, "credentials", b"bob",
     (1, "bob:" + HASH)),
    ("lookup credentials absent", LOOKUP, "credentials", b"nobody", 0),
    ("lookup credentials incomplete", LOOKUP, "credentials", b"half", -1),
    ("check netaddr", CHECK, "netaddr", b"192.0.2.1", 1),
    ("check netaddr absent", CHECK, "netaddr", b"192.0.2.2", 0),
    ("lookup userinfo", LOOKUP, "userinfo", b"vmail",
     (1, "2000:2000:/var/vmail")),
    ("lookup userinfo absent", LOOKUP, "userinfo", b"nobody", 0),
    ("check mailaddr", CHECK, "mailaddr", b"bob@example.com", 1),
    ("check mailaddr absent", CHECK, "mailaddr", b"eve@example.com", 0),
    ("lookup addrname", LOOKUP, "addrname", b"192.0.2.7",
     (1, "helo.example.com")),
    ("lookup mailaddrmap", LOOKUP, "mailaddrmap", b"bob",
     (1, "bob@example.com, @example.net")),
    ("lookup mailaddrmap absent", LOOKUP, "mailaddrmap", b"nobody", 0),
    ("lookup relayhost", LOOKUP, "relayhost", b"example.org",
     (1, "smtp+tls://mx.example.com:587")),
    ("check string", CHECK, K_STRING, b"tag-1", 1),
    ("check string absent", CHECK, K_STRING, b"tag-2", 0),
    ("lookup string: no attributes", LOOKUP, K_STRING, b"tag-1", -1),
    ("check regex: not a service of ldap", CHECK, K_REGEX, b"x", -1),
    ("lookup with a parameter", LOOKUP, "userinfo", b"vmail",
     (1, "2000:2000:/var/vmail")),
]


class LdapDriverTests(dbtables.DriverTests, unittest.TestCase):
    DRIVER = "table-ldap"
    BACKEND = "ldap"
    PROBE = ("userinfo", "vmail", "2000:2000:/var/vmail")

    @classmethod
    def start_server(cls):
        if servers.which("/usr/sbin/slapd", "slapd") is None or \
                servers.which("ldapsearch") is None:
            raise unittest.SkipTest("slapd or ldap-utils not installed "
                                    "(scripts/deps.sh installs them)")
        port = servers.free_port()
        srv = SlapdServer(LDIF.replace("@PORT@", str(port)))
        srv.port = port
        return srv.__enter__()

    @classmethod
    def fill(cls):
        pass                    # slapadd filled it before the start

    @classmethod
    def config(cls, port=None, password=None, **over):
        text = ("# table-ldap test configuration\n"
                "url ldap://127.0.0.1:%d\n"
                "username %s\npassword %s\nbasedn %s\n%s" % (
                    port or cls.server.port, SMTPD_DN,
                    password or PASSWORD, PEOPLE, QUERIES))
        over.setdefault("query_timeout", dbtables.TIMEOUT)
        for k, v in over.items():
            text += "%s %s\n" % (k, v)
        return text

    # -- answers -------------------------------------------------------
    def test_every_service(self):
        h = self.helper()
        for what, mtype, service, key, want in CASES:
            params = ((b"foo", b"bar"),) if "parameter" in what else ()
            with self.subTest(case=what):
                self.assertEqual(h.request(mtype, service, key, params),
                                 want, h.stderr())
        self.assertIn("table spy: ldap: credentials: no entry holds every "
                      "attribute", h.stderr())
        self.assertIn("table spy: ldap: no attributes for service string",
                      h.stderr())
        h.send(UPDATE)
        self.assertEqual(h.result(), 1, h.stderr())
        h.send(CLOSE)
        self.assertEqual(h.wait(), 0, h.stderr())

    def test_odd_keys(self):
        """RFC 4515: a key holding filter syntax is only ever a value."""
        h = self.helper()
        for key, want in ((ODD_KEY.encode(), (1, "odd.example.com")),
                          (b"o'brien \"q\" %s%%", (1, "quote.example")),
                          (b"star", (1, "star.example")),
                          (b"*", 0), (b"a*", 0), (b"a*b(c)", 0),
                          (b"odd1)(cn=*", 0), (b"*)(|(cn=*", 0),
                          (b"\\2a", 0), (b"\x01", 0)):
            with self.subTest(key=key):
                self.assertEqual(h.request(LOOKUP, "addrname", key), want,
                                 h.stderr())
        self.assertNotIn("Bad search filter", h.stderr())

    def test_table_name_specifier(self):
        """%h is the table's name, %% a '%'."""
        conf = self.write("h.conf", self.config().replace(
            "string_filter (&(objectClass=device)(cn=%u))",
            "string_filter (&(objectClass=device)(cn=%h-%u)(!(cn=100%%)))"))
        h = self.start(conf, "tag")
        h.open(b"tag")
        self.assertEqual(h.recv(), (drivers.OK, b""), h.stderr())
        self.assertEqual(h.request(CHECK, K_STRING, b"1"), 1, h.stderr())
        self.assertEqual(h.request(CHECK, K_STRING, b"2"), 0)

    def test_value_shapes(self):
        """NUL bytes, 1 MiB, non-ASCII: -1 with a line naming the table
        for what no service can carry; the helper goes on."""
        conf = self.write("shapes.conf", self.config().replace(
            "addrname_attributes host", "addrname_attributes userPassword"))
        h = self.helper(conf)
        for key, want in ((b"nul", -1), (b"big", -1),
                          (b"utf8", (1, "h\u00e9llo"))):
            with self.subTest(key=key):
                self.assertEqual(h.request(LOOKUP, "addrname", key), want,
                                 h.stderr())
        err = h.stderr()
        self.assertIn("table spy: ldap: addrname: ", err)
        self.assertIn("NUL byte", err)
        self.assertIn("over the limit", err)
        self.assertEqual(self.probe(h), self.want(), "still serving")

    def test_fetch_rotation(self):
        h = self.helper()
        got = [h.request(FETCH, "source") for _ in range(4)]
        self.assertEqual(got, [(1, "192.0.2.10"), (1, "192.0.2.11"),
                               (1, "192.0.2.12"), (1, "192.0.2.10")])
        self.assertEqual(h.request(FETCH, "alias"), -1)
        conf = self.write("nofetch.conf", self.config().replace(
            "source_filter (cn=sources)\n", "").replace(
            "source_attributes ipHostNumber\n", ""))
        h = self.helper(conf)
        self.assertEqual(h.request(FETCH, "source"), -1)
        self.assertIn("no filter for service source", h.stderr())

    def test_update(self):
        path = self.write("update.conf", self.config())
        h = self.helper(path)
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.org"),
                         (1, "smtp+tls://mx.example.com:587"))
        self.write("update.conf", self.config().replace(
            "relayhost_attributes labeledURI",
            "relayhost_attributes associatedDomain"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 1, h.stderr())
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.org"),
                         (1, "example.org"))
        self.write("update.conf", self.config(domain_filter_bogus="x"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 0)
        self.write("update.conf", self.config(password="wrong"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 0)
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.org"),
                         (1, "example.org"), "the previous config stays")

    def test_url_forms_and_tls(self):
        """A bare host:port, ldap+tls:// and starttls (StartTLS),
        ldaps:// with tls_ca_file, ldapi:// (a unix socket); an untrusted
        certificate is -1."""
        port, tls = self.server.port, self.server.tls_port
        ca = "tls_ca_file %s\n" % self.server.cert
        plain = self.config()
        forms = {
            "bare": plain.replace("ldap://127.0.0.1", "127.0.0.1"),
            "ldap+tls": plain.replace("ldap://", "ldap+tls://") + ca,
            "starttls": plain + "starttls yes\n" + ca,
            "ldaps": plain.replace("ldap://127.0.0.1:%d" % port,
                                   "ldaps://127.0.0.1:%d" % tls) + ca,
            "ldapi": plain.replace("ldap://127.0.0.1:%d" % port,
                                   self.server.ldapi()),
        }
        for name, text in forms.items():
            with self.subTest(url=name):
                h = self.helper(self.write(name + ".conf", text))
                self.assertEqual(self.probe(h), self.want(), h.stderr())
        untrusted = plain.replace("ldap://127.0.0.1:%d" % port,
                                  "ldaps://127.0.0.1:%d" % tls)
        h = self.helper(self.write("untrusted.conf", untrusted))
        self.assertEqual(self.probe(h), -1)
        self.assertIn("table spy: ldap: connect to ldaps://", h.stderr())
        self.assert_alive(h)

    def test_tls_frozen_then_back(self):
        """A frozen server behind ldaps:// or StartTLS: -1 within
        query_timeout, also when the TLS handshake of a new connection
        is what waits (libldap alone would spin on it for ever); answers
        again after SIGCONT."""
        self.addCleanup(self.restore)
        port, tls = self.server.port, self.server.tls_port
        ca = "tls_ca_file %s\n" % self.server.cert
        forms = {
            "ldaps": self.config().replace(
                "ldap://127.0.0.1:%d" % port,
                "ldaps://127.0.0.1:%d" % tls) + ca,
            "starttls": self.config() + "starttls yes\n" + ca,
        }
        for name, text in forms.items():
            with self.subTest(url=name):
                h = self.helper(self.write(name + "-frozen.conf", text))
                self.assertEqual(self.probe(h), self.want(), h.stderr())
                self.freeze()
                for _ in range(3):
                    t0 = time.monotonic()
                    self.assertEqual(self.probe(h), -1, h.stderr())
                    self.assertLess(time.monotonic() - t0,
                                    dbtables.TIMEOUT + 1.5)
                self.assert_alive(h)
                self.thaw()
                self.wait_answer(h)

    def test_anonymous_bind(self):
        conf = self.write("anon.conf", self.config().replace(
            "username %s\npassword %s\n" % (SMTPD_DN, PASSWORD), ""))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), self.want(), h.stderr())

    # -- bad input -----------------------------------------------------
    def test_bad_configs(self):
        """Each broken key refuses the start, naming file and key."""
        bad = {
            "nourl": (self.config().replace(
                "url ldap://127.0.0.1:%d\n" % self.server.port, ""),
                "no url"),
            "badurl": (self.config().replace("ldap://", "http://"),
                       "is not an LDAP URL"),
            "nobase": (self.config().replace("basedn %s\n" % PEOPLE, ""),
                       "no basedn"),
            "pct": (self.config().replace("(cn=sources)", "(cn=%d)"),
                    "source_filter: unknown specifier %d"),
            "paren": (self.config().replace("(cn=sources)", "(cn=sources"),
                      "source_filter: unbalanced parentheses"),
            "attrs": (self.config().replace("uid, userPassword",
                                            "uid, userPassword, cn, sn"),
                      "credentials_attributes: more than 3"),
            "count": (self.config().replace("uidNumber,gidNumber,",
                                            "uidNumber,"),
                      "userinfo_attributes: 2 attributes, userinfo wants 3"),
            "attrname": (self.config().replace("attributes host",
                                               "attributes ho st"),
                         "is not an attribute name"),
            "orphan": (self.config() + "regex_filter (cn=%u)\n",
                       "unknown key regex_filter"),
            "noflt": (self.config().replace(
                "source_filter (cn=sources)\n", ""),
                "source_attributes without source_filter"),
            "tls": (self.config(starttls="maybe"), "starttls: yes or no"),
            "tlsurl": (self.config().replace("ldap://", "ldaps://") +
                       "starttls yes\n", "starttls wants an ldap:// url"),
            "pwonly": (self.config().replace("username %s\n" % SMTPD_DN,
                                             ""),
                       "password without username"),
        }
        for name, (text, why) in bad.items():
            with self.subTest(config=name):
                err = self.start_fails(self.write(name + ".conf", text), why)
                self.assertIn(name + ".conf", err)

    def test_password_rejected(self):
        conf = self.write("pw.conf", self.config(password="wrong-pw"))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), -1)
        self.assertIn("table spy: ldap: bind as \"%s\" refused: Invalid "
                      "credentials" % SMTPD_DN, h.stderr())
        self.assertNotIn("wrong-pw", h.stderr())
        self.assert_alive(h)

    def test_referral_loop(self):
        """A referral pointing back at itself is never followed: the
        search through it, or based under it, is -1 at once."""
        conf = self.write("loop.conf", self.config().replace(
            "basedn %s" % PEOPLE, "basedn %s" % SUFFIX))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), -1)
        self.assertIn("holds a referral, which is not followed", h.stderr())
        conf = self.write("under.conf", self.config().replace(
            "basedn %s" % PEOPLE, "basedn ou=x,ou=loop," + SUFFIX))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), -1)
        self.assertIn("referrals are not followed", h.stderr())
        self.assert_alive(h)

    # -- the extras' binary --------------------------------------------
    def test_extras_same_answers(self):
        """Debian 12's opensmtpd-extras table-ldap (6.7.1) and ours, one
        config (its syntax: %s, attributes without blanks), one
        directory: the same answers for the services it serves, except
        where table-ldap(5) says ours differs."""
        extras = drivers.fetch_extras()
        conf = self.write("both.conf", self.config().replace(
            "%u", "%s").replace(", ", ",").replace("query_timeout 1\n",
                                                    ""))
        served = ("alias", "domain", "credentials", "userinfo", "mailaddr")
        cases = [c for c in CASES if c[2] in served] + [
            ("check domain star", CHECK, "domain", b"*", 0),
            ("check mailaddr star", CHECK, "mailaddr", b"bob*", 0),
        ]
        differ = {
            # extras: the values of the last entry found only
            "lookup alias joined": (1, "carol@example.org"),
            # extras: the key unescaped, so * matches every entry
            "check domain star": 1,
            "check mailaddr star": 1,
        }
        answers = {}
        for impl, bindir in (("ours", dbtables.OURS), ("extras", extras)):
            h = drivers.Helper(os.path.join(bindir, self.DRIVER), "spy",
                               conf, self.tmp)
            self.addCleanup(h.close)
            h.open()
            self.assertEqual(h.recv(), (drivers.OK, b""), h.stderr())
            answers[impl] = {c[0]: h.request(c[1], c[2], c[3])
                             for c in cases}
            h.close()
        for what, _, _, _, want in cases:
            with self.subTest(case=what):
                self.assertEqual(answers["ours"][what], want)
                self.assertEqual(answers["extras"][what],
                                 differ.get(what, want))


if __name__ == "__main__":
    unittest.main()
