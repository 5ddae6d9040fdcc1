"""The relay's fetched tables (issue 9 part 2; MTA-09, MTA-10, MTA-06):
`relay ... src <t>` and `relay host <t>` naming a table that is not an
inline list -- a file, our sqlite helper (table-sqlite's fetch_source),
a 7.6-style proc: helper written here in Python -- are fetched through
the lookup process (IMSG_LOOKUP_RELAY_LIST) until the values come round,
and the relay takes its turns over them.  Before, such a `src` table was
ignored without a word and such a `relay host` table failed every
envelope.  The next hops are fakesmtp.py servers on 127.0.0.1; the
sources are other loopback addresses (127.0.0.2, 127.0.0.3: Linux
answers the whole 127/8), so the fake sees which one connected.  Every
wait is bounded; every daemon is stopped by PID (smtpdtest.Smtpd).
"""
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mail"))
import test_mta_relay  # noqa: E402
from test_mta_relay import RelayBase  # noqa: E402
from smtpdtest import build_for, wait_for  # noqa: E402

# a proc: table (the 7.6+ text protocol) whose fetches go round VALUES
# by service; "fail" as a value makes that fetch an error (the helper
# stays: an error is an answer, not garbage)
PROC_TABLE = r'''#!/usr/bin/env python3
import sys
VALUES = %r
turn = {}
for line in sys.stdin:
    f = line.rstrip("\n").split("|")
    if f == ["config", "ready"]:
        print("".join("register|%%s\n" %% s for s in VALUES) +
              "register|ready", flush=True)
    elif f[0] == "table" and f[4] == "update":
        print("update-result|%%s|ok" %% f[5], flush=True)
    elif f[0] == "table" and f[4] == "fetch":
        service, rid = f[5], f[6]
        values = VALUES.get(service, [])
        if not values:
            print("fetch-result|%%s|not-found" %% rid, flush=True)
            continue
        v = values[turn.get(service, 0) %% len(values)]
        turn[service] = turn.get(service, 0) + 1
        if v == "fail":
            print("fetch-result|%%s|error|no fetch now" %% rid, flush=True)
        else:
            print("fetch-result|%%s|found|%%s" %% (rid, v), flush=True)
    elif f[0] == "table":
        print("%%s-result|%%s|not-found" %% (f[4], f[6]), flush=True)
'''


def proc_table(d, name, values):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(PROC_TABLE % (values,))
    os.chmod(path, 0o755)
    return path


class TablesBase(RelayBase):
    """RelayBase with tables in a directory of the test's own (readable
    by the daemon's accounts) declared before the rules."""

    def tables(self, d):
        return ""

    def setUp(self):
        self.tdir = tempfile.mkdtemp(prefix="mta-tables.")
        os.chmod(self.tdir, 0o755)
        self.addCleanup(shutil.rmtree, self.tdir, True)
        super().setUp()

    def extra_conf(self):
        return self.tables(self.tdir)


class SrcFile(TablesBase):
    """`src <t>` from a file, with `helo-src <t>` from a file: each
    connection comes from an address of the list, never another, and
    says the name its address has."""

    action_opts = " src <srcs> helo-src <names>"

    def tables(self, d):
        with open(os.path.join(d, "srcs"), "w") as f:
            f.write("127.0.0.2\n127.0.0.3\n")
        with open(os.path.join(d, "names"), "w") as f:
            f.write("127.0.0.2 two.example\n127.0.0.3 three.example\n")
        return ("table srcs file:%s/srcs\ntable names file:%s/names\n"
                % (d, d))

    def test_sources_from_the_file(self):
        self.send(["a@example.net"])
        self.transactions(1)
        self.log_has(r"mta delivery .* result=ok")
        self.assertTrue(self.fake.peers)
        self.assertLessEqual(set(self.fake.peers),
                             {"127.0.0.2", "127.0.0.3"})
        names = {"127.0.0.2": b"two.example", "127.0.0.3": b"three.example"}
        for peer, helo in zip(self.fake.peers, self.fake.helos):
            self.assertIn(names[peer], helo)


class SrcSqlite(TablesBase):
    """`src <t>` from our sqlite helper (fetch_source, as table-sqlite
    of opensmtpd-extras is configured): the addresses come from the
    database; two messages in turn use both."""

    action_opts = " src <srcs>"
    args = ("-o", "mta-timeout=2", "-o", "libexec=" + os.path.join(
        build_for(None), "libexec"))
    limits = ("mta limit session-keepalive 0\n"
              "mta limit max-conn-per-route 2\n")

    def tables(self, d):
        db = os.path.join(d, "src.sqlite")
        c = sqlite3.connect(db)
        c.executescript("CREATE TABLE sources (addr TEXT);"
                        "INSERT INTO sources VALUES ('127.0.0.2'),"
                        " ('127.0.0.3');")
        c.commit()
        c.close()
        os.chmod(db, 0o644)
        conf = os.path.join(d, "sqlite.conf")
        with open(conf, "w") as f:
            f.write("dbpath %s\nfetch_source SELECT addr FROM sources "
                    "ORDER BY rowid\n" % db)
        return "table srcs sqlite:%s\n" % conf

    def test_sources_from_the_database(self):
        self.send(["a@example.net"])
        self.transactions(1)
        self.send(["b@example.net"])
        self.transactions(2)
        self.log_has(r"mta delivery .* result=ok", count=2)
        self.assertEqual(sorted(self.fake.peers), ["127.0.0.2", "127.0.0.3"])


class SrcFileUpdated(TablesBase):
    """`smtpctl update table` on a `src` table, then on its `helo-src`
    table: the next connection comes from the new address, then says
    the new name, at once, not once what the route took is 60 s old
    (the default)."""

    action_opts = " src <srcs> helo-src <names>"
    limits = "mta limit session-keepalive 0\n"

    def tables(self, d):
        self.srcs = os.path.join(d, "srcs")
        self.names = os.path.join(d, "names")
        with open(self.srcs, "w") as f:
            f.write("127.0.0.2\n")
        with open(self.names, "w") as f:
            f.write("127.0.0.2 two.example\n127.0.0.3 three.example\n")
        return ("table srcs file:%s\ntable names file:%s\n" %
                (self.srcs, self.names))

    def update(self, name):
        r = self.smtpd.ctl("update", "table", name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_update_table(self):
        self.send(["a@example.net"])
        self.transactions(1)
        self.assertEqual(self.fake.peers, ["127.0.0.2"])
        with open(self.srcs, "w") as f:
            f.write("127.0.0.3\n")
        self.update("srcs")
        self.log_has(r"mta: table srcs updated")
        self.send(["b@example.net"])
        self.transactions(2)
        self.assertEqual(self.fake.peers, ["127.0.0.2", "127.0.0.3"])
        with open(self.names, "w") as f:
            f.write("127.0.0.3 renamed.example\n")
        self.update("names")
        self.send(["c@example.net"])
        self.transactions(3)
        self.log_has(r"mta delivery .* result=ok", count=3)
        self.assertEqual(self.fake.peers[2], "127.0.0.3")
        self.assertIn(b"two.example", self.fake.helos[0])
        self.assertIn(b"three.example", self.fake.helos[1])
        self.assertIn(b"renamed.example", self.fake.helos[2])


class SrcEmpty(TablesBase):
    """An empty `src` table: the envelope fails for now, saying why; no
    connection from any other address."""

    action_opts = " src <srcs>"

    def tables(self, d):
        open(os.path.join(d, "srcs"), "w").close()
        return "table srcs file:%s/srcs\n" % d

    def test_no_source_tempfails(self):
        self.send(["a@example.net"])
        self.log_has(r"result=tempfail stat=\"?451 4\.3\.0 No source "
                     r"address in the src table srcs")
        self.assertFalse(self.fake.connections)


class SrcProcFailing(TablesBase):
    """A proc: `src` table whose fetch fails: the envelope fails for
    now, the failure named in the log; no connection."""

    action_opts = " src <srcs>"

    def tables(self, d):
        return "table srcs proc:%s\n" % proc_table(d, "srcs.py", {
            "source": ["fail"]})

    def test_failure_tempfails(self):
        self.send(["a@example.net"])
        self.log_has(r"result=tempfail stat=\"?451 4\.3\.0 Temporary "
                     r"failure fetching the src table srcs")
        self.log_has(r"lookup: relay: table srcs: temporary failure")
        self.assertFalse(self.fake.connections)


class SrcProcRefreshFailing(TablesBase):
    """A `src` list fetched once, whose refreshes then fail: the old
    values keep serving, and a failed refresh is asked again after a
    growing delay (5 s, then 10), not at each use (MTA-09, TABLE-14).
    The list is used 1 s (-o mta-list-ttl=1); a route asks for it again
    when it has no connection (kept 2 s after the last mail)."""

    action_opts = " src <srcs>"
    args = ("-o", "mta-timeout=2", "-o", "mta-list-ttl=1")

    def tables(self, d):
        # a fetch of the list takes two turns (until a value repeats)
        return "table srcs proc:%s\n" % proc_table(d, "srcs.py", {
            "source": ["127.0.0.2", "127.0.0.2"] + ["fail"] * 40})

    def test_refresh_backs_off(self):
        failed = r"table srcs: fetching it failed, its values of \d+ s " \
            r"ago are used, asked again in (\d+) s"
        self.send(["a@example.net"])
        self.transactions(1)
        for n in (2, 3):
            time.sleep(3)       # the connection gone, the list stale
            self.send(["a@example.net"])
            self.transactions(n)
        # the second use came 3 s after the failed refresh: not asked
        self.assertEqual(self.log_has(failed), ["5"])
        time.sleep(3)           # past the 5 s: asked again, failed again
        self.send(["a@example.net"])
        self.transactions(4)
        self.assertEqual(self.log_has(failed, count=2), ["5", "10"])
        self.assertEqual(set(self.fake.peers), {"127.0.0.2"})
        self.log_has(r"mta delivery .* result=ok", count=4)


class SrcProcBadValue(TablesBase):
    """A proc: `src` table that hands out a value that is not an
    address: the table layer refuses it (the value's fault named in the
    log) and the envelope fails for now; never a connection from an
    address nobody listed."""

    action_opts = " src <srcs>"

    def tables(self, d):
        return "table srcs proc:%s\n" % proc_table(d, "srcs.py", {
            "source": ["127.0.0.3", "not-an-address"]})

    def test_bad_value_tempfails(self):
        self.send(["a@example.net"])
        self.log_has(r"table srcs: source fetch: bad value: source: not "
                     r"an IP address")
        self.log_has(r"result=tempfail stat=\"?451 4\.3\.0 Temporary "
                     r"failure fetching the src table srcs")
        self.assertFalse(self.fake.connections)


class HostProc(TablesBase, test_mta_relay.HostList):
    """`relay host <t>` from a proc: helper with two URLs: each message
    the next one, a message's envelopes the same (MTA-06), as with an
    inline list (HostList's test, on this table)."""

    relay_host = "<hops>"

    def tables(self, d):
        return "table hops proc:%s\n" % proc_table(d, "hops.py", {
            "relayhost": ["smtp://127.0.0.1:%d" % self.fake.port,
                          "smtp://127.0.0.1:%d" % self.other.port]})


class HostEmpty(TablesBase):
    """`relay host <t>` from an empty proc: table: a temporary failure
    that says so."""

    relay_host = "<hops>"

    def tables(self, d):
        return "table hops proc:%s\n" % proc_table(d, "hops.py", {
            "relayhost": []})

    def test_no_url_tempfails(self):
        self.send(["a@example.net"])
        self.log_has(r"result=tempfail stat=\"?451 4\.3\.0 No relay URL in "
                     r"the relay host table hops")
        self.assertFalse(wait_for(lambda: self.fake.connections, 0.5))


if __name__ == "__main__":
    unittest.main()
