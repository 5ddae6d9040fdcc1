"""The configuration reaches every process after the re-exec, each with
only what it may see: secrets stay in parent and lookup (issue 3 item 6;
SEC-01).  Checked by searching each process's memory for the secret."""
import os
import re
import smtplib
import ssl
import subprocess
import unittest

from smtpdtest import PROCS, Smtpd, free_port, is_root

SECRET = "Zq7-srs-secret-value-41"
CONF = """
srs key "%s"
listen on 127.0.0.1 port 25999
action "local" mbox
action "out" relay srs
match from local for local action "local"
match from local for any action "out"
""" % SECRET
CONF = CONF.replace("port 25999", "port %d" % free_port())


def memory_has(pid, needle):
    """True if needle is in any readable writable mapping of pid."""
    if isinstance(needle, str):
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


def key_secrets(keyfile):
    """Byte strings only a holder of the RSA key in KEYFILE has: its
    primes and private exponent, big-endian and in OpenSSL's limb order
    (little-endian on this machine), and a line of its PEM text."""
    text = subprocess.run(["openssl", "pkey", "-in", keyfile, "-noout",
                           "-text"], capture_output=True, text=True,
                          check=True, timeout=30).stdout
    out = []
    for name in ("privateExponent", "prime1", "prime2"):
        m = re.search(name + r":\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
        raw = bytes.fromhex(re.sub(r"[\s:]", "", m.group(1))).lstrip(b"\0")
        out += [raw, raw[::-1]]
    with open(keyfile) as f:
        out.append(f.read().splitlines()[2].encode())
    return out


class TestPrivateKeyIsolation(unittest.TestCase):
    """TLS-11: the private key is in ca (and read by the parent at
    start), never in the dispatcher, which signs through ca, nor in any
    other process, even after a TLS handshake has used it."""

    @unittest.skipUnless(is_root(), "reading another process's memory")
    def test_private_key_only_in_ca(self):
        d = Smtpd()
        with d:
            subprocess.run(["openssl", "req", "-x509", "-newkey",
                            "rsa:2048", "-nodes", "-keyout", "k.pem",
                            "-out", "c.pem", "-days", "2", "-subj",
                            "/CN=mx.example.org"], cwd=d.dir, check=True,
                           capture_output=True, timeout=60)
            key = os.path.join(d.dir, "k.pem")
            os.chmod(key, 0o600)
            port = free_port()
            with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
                f.write('pki mxrsa cert "%s/c.pem"\npki mxrsa key "%s"\n'
                        'listen on 127.0.0.1 port %d tls pki mxrsa\n'
                        'action "local" mbox\n'
                        'match from local for local action "local"\n'
                        % (d.dir, key, port))
            d.start()
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
                c.starttls(context=ctx)     # the key has signed by now
                self.assertEqual(c.noop()[0], 250)
            secrets = key_secrets(key)
            procs, _ = d.status()
            seen = {n: any(memory_has(p["pid"], s) for s in secrets)
                    for n, p in procs.items() if n != "parent"}
            self.assertEqual(seen, {n: n == "ca" for n in PROCS[1:]})
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
