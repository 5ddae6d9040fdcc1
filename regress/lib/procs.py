"""procs.py -- waiting for a condition and stopping a child we started,
for the tests and the benchmark alike (one copy of each): standard
library only, so anything may import it."""
import signal
import subprocess
import time

STOP_TIMEOUT = 10


def wait_for(pred, timeout, step=0.05):
    """Poll pred() until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def stop_proc(proc, timeout=STOP_TIMEOUT):
    """Stop a child we started (a Popen), by its PID: SIGTERM, then
    SIGKILL after TIMEOUT seconds; bounded, and quiet if it is gone."""
    if proc is None or proc.pid <= 1:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
