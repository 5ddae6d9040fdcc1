"""The configuration reaches every process after the re-exec, each with
only what it may see: secrets stay in parent and lookup (issue 3 item 6;
SEC-01).  Checked by searching each process's memory for the secret."""
import os
import re
import unittest

from smtpdtest import PROCS, Smtpd, is_root

SECRET = "Zq7-srs-secret-value-41"
CONF = """
srs key "%s"
listen on 127.0.0.1 port 25999
action "local" mbox
action "out" relay srs
match from local for local action "local"
match from local for any action "out"
""" % SECRET


def memory_has(pid, needle):
    """True if needle is in any readable writable mapping of pid."""
    needle = needle.encode()
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if "r" not in f[1] or "w" not in f[1]:
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if hi - lo > 256 * 1024 * 1024:
                continue
            try:
                mem.seek(lo)
                if needle in mem.read(hi - lo):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


class TestConfTransport(unittest.TestCase):

    def test_every_child_gets_its_config(self):
        with Smtpd(conf=CONF, args=["-v"]) as d:
            d.start()
            got = dict(re.findall(r"(\w+): configuration received "
                                  r"bytes=(\d+)", d.log()))
            self.assertEqual(sorted(got), sorted(PROCS[1:]))
            # the redacted text is shorter where the secret was left out
            self.assertGreater(int(got["lookup"]), int(got["control"]))
            self.assertEqual(d.stop(), 0)

    @unittest.skipUnless(is_root(), "reading another process's memory")
    def test_secret_only_in_parent_and_lookup(self):
        with Smtpd(conf=CONF) as d:
            d.start()
            procs, _ = d.status()
            seen = {n: memory_has(p["pid"], SECRET)
                    for n, p in procs.items()}
            self.assertEqual(seen, {n: n in ("parent", "lookup")
                                    for n in PROCS})
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
