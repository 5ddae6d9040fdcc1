#!/usr/bin/env python3
"""regress/tables/text_bad_helper.py -- a 7.6+ text table helper that
misbehaves on demand, for regress/tables/test_table_text.py.

argv[1] picks the handshake: "ok" (register|string, register|domain,
register|alias, register|ready), "noready" (registers, never says
ready), "badservice" (registers a service that does not exist), "exit"
(exits before registering), "garbage" (answers the config with a line
that is not register|), "none" (register|ready alone).  Once ready, the
key of a request picks the answer: "wrongid" (another request's id),
"wrongop" (check-result to a lookup), "empty" (found with an empty
value), "garbage" (a line that is no reply), "long" (a reply of 20,000
bytes), "nul" (a NUL byte in the value), "die" (exits), "hang"
(never answers), "error" (error|db down, a fair answer), "vtwo" (answers
twice); "yes" or "v..." found ("value-of-v..." for a lookup), anything
else not-found.  Update answers ok.  It appends its PID to
argv[2]/pids when argv[2] is given, so a test can see every helper
reaped.
"""
import os
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "ok"
if len(sys.argv) > 2:
    try:
        with open(os.path.join(sys.argv[2], "pids"), "a") as f:
            f.write("%d\n" % os.getpid())
    except OSError:
        pass


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def handshake():
    if MODE == "exit":
        sys.exit(3)
    if MODE == "garbage":
        say("hello there")
    elif MODE == "badservice":
        say("register|frobnicate")
        say("register|ready")
    elif MODE == "none":
        say("register|ready")
    else:
        for s in ("string", "domain", "alias"):
            say("register|" + s)
        if MODE != "noready":
            say("register|ready")


def answer(f):
    op = f[4]
    if op == "update":
        say("update-result|%s|ok" % f[5])
        return
    rid = f[6]
    key = "|".join(f[7:])
    if key == "wrongid":
        say("%s-result|%08x|found|x" % (op, (int(rid, 16) + 1) % 2**32))
    elif key == "wrongop":
        say("check-result|%s|found" % rid)
    elif key == "empty":
        say("%s-result|%s|found|" % (op, rid))
    elif key == "garbage":
        say("\x01\x02 not a reply")
    elif key == "long":
        say("%s-result|%s|found|%s" % (op, rid, "x" * 20000))
    elif key == "nul":
        say("%s-result|%s|found|a\0b" % (op, rid))
    elif key == "die":
        sys.exit(0)
    elif key == "hang":
        time.sleep(3600)
    elif key == "error":
        say("%s-result|%s|error|db down" % (op, rid))
    elif key == "yes" or key.startswith("v"):
        value = "" if op == "check" else "|value-of-" + key
        say("%s-result|%s|found%s" % (op, rid, value))
        if key == "vtwo":
            say("%s-result|%s|found%s" % (op, rid, value))
    else:
        say("%s-result|%s|not-found" % (op, rid))


for line in sys.stdin:
    fields = line.rstrip("\n").split("|")
    if fields == ["config", "ready"]:
        handshake()
    elif fields[0] == "table":
        answer(fields)
