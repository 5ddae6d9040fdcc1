"""Rules and expansion in the running daemon: the lookup process builds
its rules over the configuration's tables at start-up (every criterion,
negation, regex and anonymous operands, alias, virtual, userbase,
forward-only, expand-only, relay), stays up, and stops cleanly (issue 8
part 4; RULE-*, EXP-*).  Matching and expansion themselves are tested in
regress/unit/lookup_expand_test.c and, through the imsg handler, in
lookup_rcpt_test.c: no SMTP server exists yet to drive them end to end.
"""
import os
import unittest

from smtpdtest import Smtpd, free_port

CONF = """
table aliases file:%(dir)s/aliases
table virt { "alice@virt.example" = "alice", "@virt.example" = "bob" }
table users { "alice" = "1000:1000:/home/alice", "bob" = "1001:1001:/home/bob" }
table nets { "192.0.2.0/24", "[2001:db8::]/32" }
table badsenders { "@junk.example", "spammer" }
table domains { "example.org", "*.example.org" }
listen on 127.0.0.1 port 25998 tag inbound
action "local" mbox alias <aliases>
action "virtual" maildir virtual <virt> userbase <users>
action "fwd" forward-only alias <aliases>
action "exp" expand-only alias <aliases>
action "out" relay
match from any mail-from <badsenders> reject
match !from src <nets> for domain regex "^bad\\." reject
match from rdns "*.example.net" for domain <domains> action "local"
match from auth { "alice" } for any action "out"
match from mail-from "@example.com" for rcpt-to "x@example.org" action "out"
match from any for domain "virt.example" action "virtual"
match from any for domain "fwd.example" action "fwd"
match from any for domain "exp.example" action "exp"
match from socket for any tag regex "^in" helo "*.example" action "out"
match from any for any !auth tls reject
match from any for local action "local"
match from local for any action "out"
"""
CONF = CONF.replace("port 25998", "port %d" % free_port())


class TestRulesDaemon(unittest.TestCase):

    def test_rules_load_and_lookup_runs(self):
        with Smtpd() as d:
            with open(os.path.join(d.dir, "aliases"), "w") as f:
                f.write("postmaster: alice\nstaff: alice, bob\n"
                        "list: :include:%s/list\n" % d.dir)
            with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
                f.write(CONF % {"dir": d.dir})
            d.start()
            procs, _ = d.status()
            self.assertIn("lookup", procs, d.log())
            self.assertNotIn("lookup: rules:", d.log())
            self.assertEqual(d.stop(), 0, d.log())
            self.assertNotIn("fatal", d.log().lower())


if __name__ == "__main__":
    unittest.main()
