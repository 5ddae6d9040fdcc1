#!/usr/bin/env python3
"""A table helper for the OpenSMTPD 7.6+ text protocol, in 20 lines."""
import sys
TABLES = {"alias": {"postmaster": "bob", "abuse": "bob, alice@example.net"},
          "domain": {"example.com": "example.com"},
          "credentials": {"bob": "bob:$2b$08$ANGFKBL.BnDLL0bUdU3s6.OsBw."
                          "0HB7pxlbEb8sAUMp7UQmHTL9XS"}}
for line in sys.stdin:
    f = line.rstrip("\n").split("|")
    if f == ["config", "ready"]:                  # the handshake's end
        print("".join("register|%s\n" % s for s in TABLES) + "register|ready",
              flush=True)
    elif f[0] == "table" and f[4] == "update":    # table|0.1|T|NAME|update|ID
        print("update-result|%s|ok" % f[5], flush=True)
    elif f[0] == "table":                         # ...|OP|SERVICE|ID[|KEY]
        op, service, rid, key = f[4], f[5], f[6], "|".join(f[7:])
        value = TABLES.get(service, {}).get(key) if op != "fetch" else None
        result = ("not-found" if value is None else
                  "found" if op == "check" else "found|" + value)
        print("%s-result|%s|%s" % (op, rid, result), flush=True)
