#!/usr/bin/env python3
"""regress/tables/fake_table_helper.py -- a table helper that misbehaves.

Speaks the 6.x imsg table protocol (libexec-protocols.md 4) on fd 0 like
a real helper, and misbehaves on demand so that the daemon's proc
backend (smtpd/table/table_proc.c) can be tested against every failure
it must survive.  Started by regress/unit/table_proc_test.c through a
wrapper script; argv[1] is a state directory, where the helper appends
its PID to "pids" (so the test can check every helper was reaped) and
where a file "badopen" makes it exit before answering OPEN.

The key of a CHECK or LOOKUP chooses the behaviour: "die" exits at once,
"hang" sleeps, "garbage" writes an invalid frame, "badtype" answers with
type 1, "extra" sends a value after r = 0, "two" answers twice, "later"
answers and then sends a reply to a request never sent, "half" writes
half a frame and stalls, "slow" answers after 200 ms, "big<N>" answers
a value of N bytes, "sigs" answers the ignored and blocked signal masks
it was started with ("SigIgn SigBlk" of /proc/self/status, in hex),
"stubborn" ignores SIGTERM from then on (and says so with a file
"stubborn" in the state directory) and hangs.
Other keys: CHECK "yes" -> 1, else 0; LOOKUP "v..." -> 1
"value-of-v...", else 0.  FETCH rotates over two addresses; UPDATE
answers 1.  A state directory it cannot write to is ignored, so that it
also runs as another user.  A file "hangopen" makes it never answer
OPEN.
"""
import os
import signal
import struct
import sys
import time

HDR = struct.Struct("=IHHII")
OK, OPEN, CLOSE, UPDATE, CHECK, LOOKUP, FETCH = 0, 2, 3, 4, 5, 6, 7


def read_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = os.read(0, n - len(buf))
        if not chunk:
            sys.exit(0)
        buf += chunk
    return buf


def send(mtype, payload=b""):
    os.write(0, HDR.pack(mtype, HDR.size + len(payload), 0, 0,
                         os.getpid()) + payload)


def signal_masks():
    """SigIgn and SigBlk as the kernel saw them before Python ran."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return "%s %s" % (out.get("SigIgn", "?"), out.get("SigBlk", "?"))


def main():
    state = sys.argv[1] if len(sys.argv) > 1 else "."
    masks = signal_masks()
    try:
        with open(os.path.join(state, "pids"), "a") as f:
            f.write("%d\n" % os.getpid())
    except OSError:
        pass
    if os.path.exists(os.path.join(state, "badopen")):
        sys.exit(2)
    if os.path.exists(os.path.join(state, "hangopen")):
        time.sleep(60)
    sources = [b"192.0.2.1", b"192.0.2.2"]
    nfetch = 0
    while True:
        mtype, length, _, _, _ = HDR.unpack(read_exact(HDR.size))
        payload = read_exact(length - HDR.size)
        if mtype == OPEN:
            send(OK)
            continue
        if mtype == CLOSE:
            sys.exit(0)
        if mtype == UPDATE:
            send(OK, struct.pack("=i", 1))
            continue
        if mtype == FETCH:
            send(OK, struct.pack("=i", 1) + sources[nfetch % 2] + b"\0")
            nfetch += 1
            continue
        key = payload[12:-1]
        if key == b"die":
            sys.exit(3)
        if key == b"stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            try:
                open(os.path.join(state, "stubborn"), "w").close()
            except OSError:
                pass
            key = b"hang"
        if key == b"hang":
            time.sleep(60)
        if key == b"garbage":
            os.write(0, b"\xff" * 40)
            continue
        if key == b"badtype":
            send(1, struct.pack("=i", 0))
            continue
        if key == b"extra":
            send(OK, struct.pack("=i", 0) + b"junk\0")
            continue
        if key == b"later":
            send(OK, struct.pack("=i", 0))
            time.sleep(0.1)
            send(OK, struct.pack("=i", 0))
            continue
        if key == b"half":
            os.write(0, HDR.pack(OK, HDR.size + 4, 0, 0, os.getpid())[:8])
            time.sleep(60)
        if key == b"slow":
            time.sleep(0.2)
            send(OK, struct.pack("=i", 1 if mtype == CHECK else 0))
            continue
        if key.startswith(b"big"):
            send(OK, struct.pack("=i", 1) + b"a" * int(key[3:]) + b"\0")
            continue
        if key == b"sigs":
            send(OK, struct.pack("=i", 1) + masks.encode() + b"\0")
            continue
        if key == b"two":
            # both answers in one write, so they arrive together
            one = struct.pack("=i", 0)
            frame = HDR.pack(OK, HDR.size + 4, 0, 0, os.getpid()) + one
            os.write(0, frame + frame)
            continue
        if mtype == CHECK:
            send(OK, struct.pack("=i", 1 if key == b"yes" else 0))
        elif key.startswith(b"v"):
            send(OK, struct.pack("=i", 1) + b"value-of-" + key + b"\0")
        else:
            send(OK, struct.pack("=i", 0))


if __name__ == "__main__":
    main()
