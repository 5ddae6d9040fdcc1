"""A damaged Berkeley DB is a start-up error or a temporary failure,
never a crash of a daemon process (issue 7, "Bad input").

libdb trusts its pages: one makemap file in about eight with a few
flipped bits makes a plain get or seq read out of bounds (ASan:
heap-buffer-overflow inside libdb).  The db backend runs libdb's
verifier before every open.  The corpus: a makemap-made hash of 300
keys, one flip known to crash an unverified lookup, and seeded random
flips at 1, 2, 4 or 8 offsets.  Every file is put to `smtpd -n`; the
ones it accepts are then all served by one daemon (embedded and as
proc-db helpers) and every key is looked up and a pattern check walks
each database; the lookup process must stay the same process
throughout.  Run under the sanitizer build, this also catches a read
out of bounds that does not crash."""
import os
import random
import subprocess
import tempfile
import unittest

from smtpdtest import (BUILD, SANITIZER_MARKS, Smtpd,  # noqa: E402
                       free_port, run_smtpd)

NKEYS = 300
NVARIANTS = 40
# one flip that makes an unverified lookup read out of bounds
# (found by flipping bits of this very file; page layout is stable)
CRASHER = (16557, 0x40)

TAIL = ('listen on 127.0.0.1 port 25994\n'
        'action "local" mbox alias <base>\n'
        'match from local for local action "local"\n')
TAIL = TAIL.replace("port 25994", "port %d" % free_port())


def build_db(d):
    src = os.path.join(d, "src")
    with open(src, "w") as f:
        for i in range(NKEYS):
            f.write("key%d value%d@example.com\n" % (i, i))
    link = os.path.join(d, "makemap")
    os.symlink(os.path.join(BUILD, "smtpctl"), link)
    db = os.path.join(d, "base.db")
    p = subprocess.run([link, "-o", db, src], capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("makemap: %s" % p.stderr)
    os.unlink(link)
    with open(db, "rb") as f:
        return db, f.read()


def variants(data):
    """(name, bytes): the known crasher, then seeded random flips."""
    b = bytearray(data)
    off, bit = CRASHER
    b[off] ^= bit
    yield "crasher", bytes(b)
    rnd = random.Random(7)
    for i in range(NVARIANTS):
        b = bytearray(data)
        for _ in range(rnd.choice((1, 2, 4, 8))):
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        yield "v%02d" % i, bytes(b)


class DamagedDb(unittest.TestCase):

    def test_damaged_db_corpus(self):
        d = Smtpd()
        self.addCleanup(d.cleanup)
        base, data = build_db(d.dir)
        accepted, refused = [], []
        for name, blob in variants(data):
            path = os.path.join(d.dir, name + ".db")
            with open(path, "wb") as f:
                f.write(blob)
            conf = os.path.join(d.dir, name + ".conf")
            with open(conf, "w") as f:
                f.write("table base db:%s\ntable %s db:%s\n%s" %
                        (base, name, path, TAIL))
            r = run_smtpd(["-n", "-f", conf], errors="replace")
            with self.subTest(variant=name):
                # an exit, never a signal; a refusal names the table
                self.assertIn(r.returncode, (0, 1), r.stderr)
                self.assertNotIn("\ufffd", r.stderr)   # printable
                if r.returncode == 1:
                    self.assertIn('table "%s"' % name, r.stderr)
                    refused.append(name)
                else:
                    accepted.append(name)
        self.assertIn("crasher", refused)
        self.assertIn("damaged database", run_smtpd(
            ["-n", "-f", os.path.join(d.dir, "crasher.conf")]).stderr)
        # the verifier is not vacuous on this corpus, nor all-refusing
        self.assertGreater(len(refused), 5)
        self.assertGreater(len(accepted), 5)

        # every accepted file served, embedded and by a helper; the
        # crasher only by a helper, which refuses it and is restarted
        with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
            f.write("table base db:%s\n" % base)
            for name in accepted:
                path = os.path.join(d.dir, name + ".db")
                f.write("table %s db:%s\n" % (name, path))
                f.write("table p%s proc-db:%s\n" % (name, path))
            f.write("table pcrasher proc-db:%s\n" %
                    os.path.join(d.dir, "crasher.db"))
            f.write(TAIL)
        for f in os.listdir(d.dir):
            os.chmod(os.path.join(d.dir, f), 0o644)
        d.args = ["-o", "libexec=" + os.path.join(BUILD, "libexec")]
        d.start()
        lookup = d.status()[0]["lookup"]["pid"]
        for name in accepted:
            for t in (name, "p" + name):
                with self.subTest(table=t):
                    for i in range(0, NKEYS, 37):
                        r = d.ctl("table", "lookup", t, "alias",
                                  "key%d" % i)
                        self.assertIn(r.returncode, (0, 1, 2), r.stderr)
                    # a domain check misses, then scans every record
                    r = d.ctl("table", "check", t, "domain", "nosuch")
                    self.assertIn(r.returncode, (0, 1, 2), r.stderr)
        r = d.ctl("table", "lookup", "pcrasher", "alias", "key1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("temporary failure", r.stderr)
        self.assertIn("damaged database", d.log())
        self.assertEqual(d.status()[0]["lookup"]["pid"], lookup)
        self.assertEqual(len(d.status()[0]), 7)
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())


if __name__ == "__main__":
    unittest.main()
