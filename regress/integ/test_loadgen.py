"""The benchmark's load generator (bench/loadgen.c, issue 11), against its
own sink: every message asked for is sent and counted once, over the
connections its per-connection count implies, and the run's time is the
messages' time.  The time a run reported used to end at the threads'
exit, up to 100 ms after the last message (an idle epoll_wait before
they looked again), which cut a 200-message run's rate by a quarter; the
check here is that one session's reported time is no more than its
messages one after the other can take.  Bounded: every process has a timeout
and is stopped by PID."""
import json
import os
import subprocess
import time
import unittest

from smtpdtest import BUILD
from ports import free_port

LOADGEN = os.path.join(BUILD, "bench", "loadgen")


class Loadgen(unittest.TestCase):
    def setUp(self):
        if not os.access(LOADGEN, os.X_OK):
            self.fail("no %s: build with make" % LOADGEN)
        self.port = free_port()
        self.sink = subprocess.Popen([LOADGEN, "-S", str(self.port), "-T",
                                      "60"], stdout=subprocess.PIPE,
                                     text=True)
        self.addCleanup(self.stop_sink)
        line = self.sink.stdout.readline()
        self.assertTrue(line, "the sink said nothing")

    def stop_sink(self):
        self.sink.kill()
        self.sink.wait(timeout=10)
        self.sink.stdout.close()

    def run_loadgen(self, *args):
        t0 = time.monotonic()
        p = subprocess.run([LOADGEN, "-p", str(self.port), "-T", "30",
                            "-W", "10"] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=60)
        wall = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout.strip().splitlines()[-1]), wall

    def test_counts(self):
        r, _ = self.run_loadgen("-c", 4, "-n", 200, "-m", 10, "-s", 2048)
        self.assertEqual((r["ok"], r["failed"], r["conn_failed"]),
                         (200, 0, 0), r)
        # 20 at least; a session that ends its ten may reconnect while
        # others take the last messages
        self.assertTrue(20 <= r["connections"] <= 24, r)
        self.assertGreater(r["rate"], 0, r)
        self.assertTrue(0 < r["lat_us"]["p50"] <= r["lat_us"]["max"], r)

    def test_time_is_the_messages(self):
        # one session, the last QUIT and close after the last message:
        # the reported time stops at that message
        r, wall = self.run_loadgen("-c", 1, "-n", 50, "-m", 50)
        self.assertEqual(r["ok"], 50, r)
        self.assertLess(r["elapsed_s"], wall, r)
        # one session: its messages one after the other, each no longer
        # than the longest, after a connect, a banner and an EHLO (a few
        # more); a tail of 100 ms on top would not fit
        bound = (55 * r["lat_us"]["max"]) / 1e6 + 0.02
        self.assertLessEqual(r["elapsed_s"], bound, r)


if __name__ == "__main__":
    unittest.main()
