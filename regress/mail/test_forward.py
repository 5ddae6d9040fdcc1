"""~/.forward and aliases in a running daemon (issue 8 part 4; EXP-01,
EXP-02, EXP-03, EXP-06, EXP-14): mail sent over SMTP is expanded by the
lookup process, whose ~/.forward is opened by the parent as the user,
and delivered as the user (a Maildir in the home, a |command, a /file).

Needs root: two test accounts, smtpd-fwd1 and smtpd-fwd2, are made once
(system accounts without a login shell) and their homes pointed at a
temporary directory for the run; each test makes the homes afresh.  As
an ordinary user every test is reported as not run.  Every wait is
bounded; every daemon is stopped by PID (smtpdtest.Smtpd).
"""
import email
import os
import pwd
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import (NOT_RUN, Smtpd, ensure_account,  # noqa: E402
                       is_root, wait_for)
from test_mailflow import free_port  # noqa: E402

USERS = ("smtpd-fwd1", "smtpd-fwd2")
DELIVERY_TIMEOUT = 20


def account(name, home):
    """NAME exists with HOME as its home directory."""
    ensure_account(name, home)


class ForwardBase(unittest.TestCase):
    """One daemon per test; @example.org goes to ~/Maildir, through the
    aliases file ALIASES."""

    ALIASES = ""

    @classmethod
    def setUpClass(cls):
        if not is_root():
            raise unittest.SkipTest(NOT_RUN + "needs root (test accounts "
                                    "and deliveries as another user)")
        cls.homes = tempfile.mkdtemp(prefix="smtpd-fwd-homes-")
        os.chmod(cls.homes, 0o755)
        for u in USERS:
            account(u, os.path.join(cls.homes, u))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.homes, True)

    def setUp(self):
        self.pw = {}
        for u in USERS:
            pw = pwd.getpwnam(u)
            home = pw.pw_dir
            shutil.rmtree(home, True)
            os.mkdir(home, 0o755)
            os.chown(home, pw.pw_uid, pw.pw_gid)
            self.pw[u] = pw
        self.port = free_port()
        self.smtpd = Smtpd(args=("-v",))   # -v: the .forward lines
        with open(os.path.join(self.smtpd.dir, "aliases"), "w") as f:
            f.write(self.ALIASES)
        conf = ('table aliases file:%s/aliases\n'
                'listen on 127.0.0.1 port %d\n'
                'action "local" maildir alias <aliases>\n'
                'match from any for domain "example.org" action "local"\n'
                % (self.smtpd.dir, self.port))
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write(conf)
        self.smtpd.start()

    def tearDown(self):
        rc = self.smtpd.stop()
        log = self.smtpd.log()
        self.smtpd.__exit__(None, None, None)
        self.assertEqual(rc, 0, log[-4000:])
        self.assertNotIn("fatal", log.lower())

    def home(self, user):
        return self.pw[user].pw_dir

    def write_forward(self, user, text, mode=0o644, name=".forward"):
        path = os.path.join(self.home(user), name)
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, self.pw[user].pw_uid, self.pw[user].pw_gid)
        os.chmod(path, mode)
        return path

    def send(self, rcpt, subject):
        """RCPT's reply code; the message is sent when it is 250."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.ehlo("client.example.net")
            self.assertEqual(c.mail("sender@example.net")[0], 250)
            code, msg = c.rcpt(rcpt)
            if code != 250:
                return code
            code, msg = c.data(("Subject: %s\r\n\r\nbody of %s\r\n" %
                                (subject, subject)).encode())
            self.assertEqual(code, 250, msg)
        return 250

    def maildir(self, user, n=1, timeout=DELIVERY_TIMEOUT):
        """The N messages in USER's ~/Maildir/new, waited for."""
        new = os.path.join(self.home(user), "Maildir", "new")

        def count():
            try:
                return len(os.listdir(new)) >= n
            except OSError:
                return False
        self.assertTrue(wait_for(count, timeout),
                        "nothing in %s in %ds:\n%s" %
                        (new, timeout, self.smtpd.log()[-4000:]))
        out = []
        for name in sorted(os.listdir(new)):
            path = os.path.join(new, name)
            self.assertEqual(os.stat(path).st_uid, self.pw[user].pw_uid)
            with open(path, "rb") as f:
                out.append(email.message_from_bytes(f.read()))
        return out

    def no_maildir(self, user):
        new = os.path.join(self.home(user), "Maildir", "new")
        self.assertFalse(os.path.isdir(new) and os.listdir(new),
                         "%s got mail" % user)

    def file_of(self, path, owner, timeout=DELIVERY_TIMEOUT):
        """PATH's content once written, checked to be OWNER's."""
        def done():
            try:
                return os.path.getsize(path) > 0
            except OSError:
                return False
        self.assertTrue(wait_for(done, timeout),
                        "%s not written in %ds:\n%s" %
                        (path, timeout, self.smtpd.log()[-4000:]))
        time.sleep(0.2)
        self.assertEqual(os.stat(path).st_uid, self.pw[owner].pw_uid)
        with open(path) as f:
            return f.read()


class Forward(ForwardBase):
    """~/.forward: read as the user, obeyed, or ignored when unsafe."""

    def test_no_forward_mailbox(self):
        self.assertEqual(self.send("smtpd-fwd1@example.org", "plain"), 250)
        (m,) = self.maildir("smtpd-fwd1")
        self.assertEqual(m["Subject"], "plain")
        # a user just found without a .forward is not asked again for a
        # while (lookup's cache): one opener for two messages
        self.assertEqual(self.send("smtpd-fwd1@example.org", "again"), 250)
        self.maildir("smtpd-fwd1", 2)
        self.assertEqual(self.smtpd.log().count(
            "parent: .forward of smtpd-fwd1: "), 1, self.smtpd.log())

    def test_forward_to_another_user(self):
        self.write_forward("smtpd-fwd1", "# elsewhere\nsmtpd-fwd2\n")
        self.assertEqual(self.send("smtpd-fwd1@example.org", "fwd"), 250)
        (m,) = self.maildir("smtpd-fwd2")
        self.assertEqual(m["Subject"], "fwd")
        self.assertEqual(m.get_payload(), "body of fwd\n")
        self.no_maildir("smtpd-fwd1")

    def test_forward_keeps_a_copy_by_name_or_address(self):
        self.write_forward("smtpd-fwd1", "smtpd-fwd1@example.org, "
                           "smtpd-fwd2\n")
        self.assertEqual(self.send("smtpd-fwd1@example.org", "copy"), 250)
        self.assertEqual(self.maildir("smtpd-fwd1")[0]["Subject"], "copy")
        self.assertEqual(self.maildir("smtpd-fwd2")[0]["Subject"], "copy")

    def test_forward_to_command_runs_as_the_user(self):
        home = self.home("smtpd-fwd1")
        self.write_forward("smtpd-fwd1", '"|id -u > %s/uid; cat > %s/piped"'
                           '\n' % (home, home))
        self.assertEqual(self.send("smtpd-fwd1@example.org", "pipe"), 250)
        body = self.file_of(os.path.join(home, "piped"), "smtpd-fwd1")
        self.assertIn("Subject: pipe", body)
        self.assertIn("body of pipe", body)
        uid = self.file_of(os.path.join(home, "uid"), "smtpd-fwd1")
        self.assertEqual(uid.strip(), str(self.pw["smtpd-fwd1"].pw_uid))
        self.no_maildir("smtpd-fwd1")

    def test_forward_to_file_appends_as_the_user(self):
        home = self.home("smtpd-fwd1")
        mbox = os.path.join(home, "saved mail")
        self.write_forward("smtpd-fwd1", '"%s"\n' % mbox)
        self.assertEqual(self.send("smtpd-fwd1@example.org", "one"), 250)
        self.assertIn("body of one", self.file_of(mbox, "smtpd-fwd1"))
        self.assertEqual(self.send("smtpd-fwd1@example.org", "two"), 250)
        self.assertTrue(wait_for(lambda: "body of two" in open(mbox).read(),
                                 DELIVERY_TIMEOUT), self.smtpd.log())
        text = self.file_of(mbox, "smtpd-fwd1")
        self.assertTrue(text.startswith("From sender@example.net "), text)
        self.assertEqual(text.count("\nFrom sender@example.net "), 1, text)
        self.no_maildir("smtpd-fwd1")

    def test_chain_runs_each_target_as_its_forward_owner(self):
        home2 = self.home("smtpd-fwd2")
        self.write_forward("smtpd-fwd1", "smtpd-fwd2\n")
        self.write_forward("smtpd-fwd2", '"|cat > %s/chained"\n' % home2)
        self.assertEqual(self.send("smtpd-fwd1@example.org", "chain"), 250)
        body = self.file_of(os.path.join(home2, "chained"), "smtpd-fwd2")
        self.assertIn("body of chain", body)
        self.no_maildir("smtpd-fwd1")
        self.no_maildir("smtpd-fwd2")

    def test_loop_refused_at_rcpt(self):
        self.write_forward("smtpd-fwd1", "smtpd-fwd2\n")
        self.write_forward("smtpd-fwd2", "smtpd-fwd1@example.org\n")
        self.assertEqual(self.send("smtpd-fwd1@example.org", "loop"), 524)
        self.assertEqual(self.send("smtpd-fwd2@example.org", "loop"), 524)

    def test_symlink_forward_ignored(self):
        real = self.write_forward("smtpd-fwd1", "smtpd-fwd2\n",
                                  name="real-forward")
        link = os.path.join(self.home("smtpd-fwd1"), ".forward")
        os.symlink(real, link)
        os.lchown(link, self.pw["smtpd-fwd1"].pw_uid,
                  self.pw["smtpd-fwd1"].pw_gid)
        self.assertEqual(self.send("smtpd-fwd1@example.org", "sym"), 250)
        self.assertEqual(self.maildir("smtpd-fwd1")[0]["Subject"], "sym")
        self.no_maildir("smtpd-fwd2")
        self.assertRegex(self.smtpd.log(), r"parent forward-refused "
                         r"user=smtpd-fwd1 .*symbolic link")

    def test_group_writable_forward_ignored(self):
        self.write_forward("smtpd-fwd1", "smtpd-fwd2\n", mode=0o664)
        self.assertEqual(self.send("smtpd-fwd1@example.org", "gw"), 250)
        self.assertEqual(self.maildir("smtpd-fwd1")[0]["Subject"], "gw")
        self.no_maildir("smtpd-fwd2")
        self.assertRegex(self.smtpd.log(), r"parent forward-refused "
                         r"user=smtpd-fwd1 .*group or world writable")

    def test_group_writable_home_ignored(self):
        self.write_forward("smtpd-fwd1", "smtpd-fwd2\n")
        os.chmod(self.home("smtpd-fwd1"), 0o775)
        self.assertEqual(self.send("smtpd-fwd1@example.org", "hgw"), 250)
        self.assertEqual(self.maildir("smtpd-fwd1")[0]["Subject"], "hgw")
        self.no_maildir("smtpd-fwd2")

    def test_forward_of_another_owner_ignored(self):
        path = self.write_forward("smtpd-fwd1", "smtpd-fwd2\n")
        os.chown(path, self.pw["smtpd-fwd2"].pw_uid,
                 self.pw["smtpd-fwd2"].pw_gid)
        self.assertEqual(self.send("smtpd-fwd1@example.org", "own"), 250)
        self.assertEqual(self.maildir("smtpd-fwd1")[0]["Subject"], "own")
        self.no_maildir("smtpd-fwd2")


class AliasToSelf(ForwardBase):
    """A user aliased to its own address keeps its mailbox (EXP-01)."""

    ALIASES = ("smtpd-fwd1: smtpd-fwd1@example.org, smtpd-fwd2\n"
               "smtpd-fwd2: smtpd-fwd2@example.org\n")

    def test_alias_to_own_address_and_another(self):
        self.assertEqual(self.send("smtpd-fwd1@example.org", "both"), 250)
        self.assertEqual(self.maildir("smtpd-fwd1")[0]["Subject"], "both")
        self.assertEqual(self.maildir("smtpd-fwd2")[0]["Subject"], "both")

    def test_alias_to_own_address_only(self):
        self.assertEqual(self.send("smtpd-fwd2@example.org", "self"), 250)
        self.assertEqual(self.maildir("smtpd-fwd2")[0]["Subject"], "self")
        self.no_maildir("smtpd-fwd1")


if __name__ == "__main__":
    unittest.main()
