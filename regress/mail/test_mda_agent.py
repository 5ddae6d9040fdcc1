"""The long-lived delivery agents through the whole daemon (issue 8: no
fork and exec per delivery where a long-lived agent serves; MDA-01,
MDA-02, MDA-16): the parent starts `mail.maildir -A` (or `mail.mboxfile
-A`) as the recipient once, and it delivers one message after the
other; an agent that dies, idle or in the middle of a delivery, costs
at most a temporary failure and is replaced; an idle one leaves after
`-o mda-agent-idle`; with 0 a process per delivery as before.  Bounded
waits; every daemon is stopped by PID (the agents leave with it: their
socket closes).
"""
import os
import pwd
import re
import signal
import smtplib
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from test_mailflow import (DELIVERY_TIMEOUT, MailFlowBase,  # noqa: E402
                           recipient_user)
from smtpdtest import (Smtpd, free_port, is_root, pid_alive,  # noqa: E402
                       wait_for)

STARTED = r"delivery agent pid=(\d+) started for uid=(\d+)"


def proc_ids(pid):
    """(ppid, real uid) of PID from /proc"""
    with open("/proc/%d/status" % pid) as f:
        st = dict(line.split(":", 1) for line in f if ":" in line)
    return int(st["PPid"]), int(st["Uid"].split()[0])


class AgentBase(MailFlowBase):

    _args = ("-v", "-T", "imsg")

    def send(self, subject):
        with self.client() as c:
            c.sendmail("alice@example.net", ["%s@example.org" % self.user],
                       ("Subject: %s\r\n\r\nbody\r\n" % subject).encode())

    def agents(self):
        return [int(p) for p, _ in re.findall(STARTED, self.smtpd.log())]

    def uid(self):
        return pwd.getpwnam(self.user).pw_uid


class Agent(AgentBase):

    def test_one_agent_delivers_one_after_the_other(self):
        for i in range(4):
            self.send("m%d" % i)
            self.delivered(i + 1)
        self.assertEqual(len(self.agents()), 1, self.smtpd.log()[-3000:])
        pid = self.agents()[0]
        self.assertEqual(proc_ids(pid), (self.smtpd.pid, self.uid()))
        subjects = sorted(m["Subject"] for m in self.delivered(4))
        self.assertEqual(subjects, ["m0", "m1", "m2", "m3"])
        # the fourth file can be in new/ before its outcome is logged
        wait_for(lambda: self.smtpd.log().count("result=ok") >= 4, 10)
        self.assertEqual(self.smtpd.log().count("result=ok"), 4)

    def idle_after_first(self):
        """'first' delivered and its outcome in: the agent is idle (the
        file is in new/ a moment before the agent's answer reaches the
        parent; one killed in between has not finished that delivery,
        which fails and is retried)"""
        self.send("first")
        self.delivered(1)
        self.assertTrue(wait_for(lambda: "result=ok" in self.smtpd.log(),
                                 DELIVERY_TIMEOUT), self.smtpd.log()[-3000:])
        return self.agents()[0]

    def test_agent_killed_while_idle_is_replaced(self):
        pid = self.idle_after_first()
        os.kill(pid, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: not pid_alive(pid), 10))
        self.send("second")
        self.delivered(2)
        self.assertEqual(len(self.agents()), 2, self.smtpd.log()[-3000:])
        self.assertNotIn("result=tempfail", self.smtpd.log())

    def test_agent_killed_during_a_delivery(self):
        """the delivery fails temporarily, naming the agent; the retry
        goes to a new agent and the message is there once"""
        pid = self.idle_after_first()
        os.kill(pid, signal.SIGSTOP)
        try:
            self.send("second")
            # the parent gave the dispatcher the pipe: the request is
            # in the stopped agent's socket
            self.assertTrue(wait_for(lambda: len(re.findall(
                r"<- parent: \S*FORK_MDA_RESULT", self.smtpd.log(),
                re.I)) >= 2, DELIVERY_TIMEOUT), self.smtpd.log()[-3000:])
        finally:
            os.kill(pid, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: "result=tempfail" in
                                 self.smtpd.log(), DELIVERY_TIMEOUT),
                        self.smtpd.log()[-3000:])
        self.assertRegex(self.smtpd.log(),
                         r"delivery agent pid=%d uid=%d: the delivery agent "
                         r"exited" % (pid, self.uid()))
        r = self.smtpd.ctl("schedule", "all")
        self.assertEqual(r.returncode, 0, r.stderr)
        msgs = self.delivered(2)
        self.assertEqual(sorted(m["Subject"] for m in msgs),
                         ["first", "second"])
        self.assertEqual(len(self.agents()), 2)


class IdleAgent(AgentBase):

    _args = ("-v", "-o", "mda-agent-idle=1")

    def test_idle_agent_leaves(self):
        self.send("one")
        self.delivered(1)
        pid = self.agents()[0]
        self.assertTrue(wait_for(lambda: not pid_alive(pid), 10),
                        self.smtpd.log()[-3000:])
        self.assertRegex(self.smtpd.log(),
                         r"delivery agent pid=%d uid=\d+ closed: idle" % pid)
        # the next delivery starts another
        self.send("two")
        self.delivered(2)
        self.assertEqual(len(self.agents()), 2)


class NoAgent(AgentBase):

    _args = ("-v", "-o", "mda-agent-idle=0")

    def test_a_process_per_delivery(self):
        for i in range(3):
            self.send("m%d" % i)
        self.delivered(3)
        self.assertEqual(self.agents(), [])
        self.assertNotIn("delivery agent", self.smtpd.log())



class MboxAgent(unittest.TestCase):
    """mbox deliveries go to an agent too (root: /var/mail is root's;
    the mailbox is made for the test account and removed after)."""

    def setUp(self):
        if not is_root():
            self.skipTest("needs root: /var/mail is root's")
        self.user = recipient_user()
        self.path = "/var/mail/" + self.user
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.addCleanup(lambda: os.path.exists(self.path) and
                        os.unlink(self.path))
        self.port = free_port()
        self.smtpd = Smtpd(args=("-v",), conf=(
            'listen on 127.0.0.1 port %d\n'
            'action "m" mbox\n'
            'match from any for domain "example.org" action "m"\n'
            % self.port))
        self.addCleanup(self.smtpd.cleanup)
        self.smtpd.start()

    def count(self):
        try:
            with open(self.path, "rb") as f:
                return len(re.findall(rb"(?m)^From alice@example\.net ",
                                      f.read()))
        except OSError:
            return 0

    def test_one_agent_appends_one_after_the_other(self):
        for i in range(3):
            with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
                c.sendmail("alice@example.net",
                           ["%s@example.org" % self.user],
                           b"Subject: m%d\r\n\r\nbody\r\n" % i)
            self.assertTrue(wait_for(lambda: self.count() == i + 1,
                                     DELIVERY_TIMEOUT),
                            self.smtpd.log()[-3000:])
        started = re.findall(STARTED, self.smtpd.log())
        self.assertEqual(len(started), 1, self.smtpd.log()[-3000:])
        self.assertEqual(int(started[0][1]),
                         pwd.getpwnam(self.user).pw_uid)
        self.assertFalse(os.path.exists(self.path + ".lock"))


if __name__ == "__main__":
    unittest.main()
