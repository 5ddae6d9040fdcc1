"""fakesmtp.py -- a scripted SMTP server on 127.0.0.1 for the relay tests.

FakeSMTP listens on a free loopback port in a thread of the test and
answers each stage from its `replies` (raw bytes, CRLF included, so a
test can send any malformed reply), records what the client sent (the
commands, each transaction's sender, recipients and raw DATA bytes) and
counts connections.  A reply of None at a stage means: stall (say
nothing, keep the connection open).  Every socket has a timeout; stop()
closes the listener and every connection and joins the threads.
"""
import base64
import socket
import threading
import time

TIMEOUT = 30


class FakeSMTP:

    def __init__(self, ehlo_ext=(b"PIPELINING", b"8BITMIME"), lmtp=False,
                 port=0):
        self.replies = {
            "banner": b"220 fake.example ESMTP\r\n",
            "helo": b"250 fake.example\r\n",
            "mail": b"250 2.1.0 Ok\r\n",
            "data": b"354 End data with <CR><LF>.<CR><LF>\r\n",
            "eod": b"250 2.0.0 Ok: queued\r\n",
            "rset": b"250 2.0.0 Ok\r\n",
            "quit": b"221 2.0.0 Bye\r\n",
        }
        self.ehlo_ext = list(ehlo_ext)
        self.ehlo_reply = None      # raw bytes overriding the EHLO reply
        self.rcpt_reply = lambda addr: b"250 2.1.5 Ok\r\n"
        self.lmtp_reply = lambda addr: b"250 2.0.0 Ok delivered\r\n"
        self.lmtp = lmtp
        self.eod_delay = 0          # seconds before the end-of-data reply
        self.stall_after = None     # a stage: after its reply, stall
        self.close_after_tx = False  # close after each end-of-data reply
        self.starttls_garbage = None  # sent for the client's ClientHello
        # TLS: with an ssl.SSLContext (server side), a 220 to STARTTLS
        # starts a real handshake; EHLO then offers ehlo_ext_tls
        self.tls_context = None
        self.ehlo_ext_tls = [b"PIPELINING", b"AUTH LOGIN"]
        self.auths = []             # (mechanism, user, password, tls)
        self.lock = threading.Lock()
        self.connections = 0
        self.concurrent = 0
        self.max_concurrent = 0
        self.commands = []
        self.transactions = []      # dict(sender, rcpts, data)
        self.helos = []
        self.peers = []             # client addresses, one per connection
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.conns = []
        self.threads = []
        self.accept_thread = threading.Thread(target=self._accept,
                                              daemon=True)
        self.accept_thread.start()

    def stop(self):
        self.running = False
        self.accept_thread.join(5)
        for c in list(self.conns):
            try:
                c.close()
            except OSError:
                pass
        for t in self.threads:
            t.join(5)
        self.sock.close()

    def _accept(self):
        while self.running:
            try:
                c, peer = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(TIMEOUT)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
                self.peers.append(peer[0])
                self.concurrent += 1
                self.max_concurrent = max(self.max_concurrent,
                                          self.concurrent)
                self.conns.append(c)
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    def _send(self, c, stage, default=None):
        r = self.replies.get(stage, default) if isinstance(stage, str) \
            else stage
        if r is None:
            return False        # stall
        c.sendall(r)
        return stage != self.stall_after

    def _ehlo(self, c, tls=False):
        if self.ehlo_reply is not None:
            return self._send(c, self.ehlo_reply)
        lines = [b"fake.example"] + (self.ehlo_ext_tls if tls
                                     else self.ehlo_ext)
        out = b"".join(b"250-" + l + b"\r\n" for l in lines[:-1])
        out += b"250 " + lines[-1] + b"\r\n"
        c.sendall(out)
        return True

    def _readline(self, c, buf):
        while b"\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return None, buf
            buf += d
        line, buf = buf.split(b"\r\n", 1)
        return line, buf

    def _auth(self, c, line, buf, tls):
        """AUTH PLAIN (initial response) or LOGIN: 235 when the
        credentials are bob / s3cret, else 535."""
        words = line.split()
        mech = words[1].upper().decode() if len(words) > 1 else ""
        if mech == "PLAIN" and len(words) == 3:
            f = base64.b64decode(words[2]).split(b"\0")
            user, pw = (f[1], f[2]) if len(f) == 3 else (b"", b"")
        elif mech == "LOGIN":
            c.sendall(b"334 VXNlcm5hbWU6\r\n")
            u, buf = self._readline(c, buf)
            c.sendall(b"334 UGFzc3dvcmQ6\r\n")
            p, buf = self._readline(c, buf)
            if u is None or p is None:
                return None
            user, pw = base64.b64decode(u), base64.b64decode(p)
        else:
            c.sendall(b"504 5.5.4 mechanism\r\n")
            return buf
        with self.lock:
            self.auths.append((mech, user, pw, tls))
        c.sendall(b"235 2.7.0 ok\r\n" if (user, pw) == (b"bob", b"s3cret")
                  else b"535 5.7.8 no\r\n")
        return buf

    def _serve(self, c):
        buf = b""
        tx = None
        tls = False
        try:
            if not self._send(c, "banner"):
                self._hold(c)
                return
            while self.running:
                while b"\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                line, buf = buf.split(b"\r\n", 1)
                with self.lock:
                    self.commands.append(line)
                verb = line[:4].upper()
                if verb == b"MAIL" and self.replies["mail"].startswith(
                        b"421"):
                    c.sendall(self.replies["mail"])
                    return
                if verb in (b"EHLO", b"LHLO"):
                    self.helos.append(line)
                    tx = None
                    if not self._ehlo(c, tls):
                        self._hold(c)
                        return
                elif verb == b"HELO":
                    self.helos.append(line)
                    if not self._send(c, "helo"):
                        return self._hold(c)
                elif verb == b"MAIL":
                    tx = dict(sender=line[10:], rcpts=[], ok=[], data=None)
                    if not self._send(c, "mail"):
                        return self._hold(c)
                    if not self.replies["mail"].startswith(b"2"):
                        tx = None
                elif verb == b"RCPT":
                    addr = line[8:].split(b">")[0].lstrip(b"<").decode()
                    r = self.rcpt_reply(addr)
                    if r is None:
                        return self._hold(c)
                    c.sendall(r)
                    if tx is not None:
                        tx["rcpts"].append(addr)
                        if r.startswith(b"2"):
                            tx["ok"].append(addr)
                elif verb == b"DATA":
                    if tx is None or not tx["ok"]:
                        c.sendall(b"554 5.5.1 No valid recipients\r\n")
                        continue
                    if not self._send(c, "data"):
                        return self._hold(c)
                    if not self.replies["data"].startswith(b"354"):
                        continue
                    while b"\r\n.\r\n" not in b"\r\n" + buf:
                        d = c.recv(65536)
                        if not d:
                            return
                        buf += d
                    i = (b"\r\n" + buf).index(b"\r\n.\r\n")
                    tx["data"] = buf[:i]
                    buf = buf[i + 3:]
                    with self.lock:
                        self.transactions.append(tx)
                    if self.eod_delay:
                        time.sleep(self.eod_delay)
                    if self.lmtp:
                        for a in tx["ok"]:
                            c.sendall(self.lmtp_reply(a))
                    elif not self._send(c, "eod"):
                        return self._hold(c)
                    tx = None
                    if self.close_after_tx:
                        return
                elif verb == b"STAR" and line.upper() == b"STARTTLS":
                    # no TLS here: a refusal, or a 220 then garbage in
                    # place of a ServerHello (None: a 220, then stall)
                    r = self.replies.get("starttls",
                                         b"454 4.7.0 TLS not available\r\n")
                    c.sendall(r)
                    if r.startswith(b"220") and self.tls_context:
                        c = self.tls_context.wrap_socket(c, server_side=True)
                        tls, buf = True, b""
                        continue
                    if r.startswith(b"220"):
                        if self.starttls_garbage is not None:
                            c.recv(65536)       # the ClientHello
                            c.sendall(self.starttls_garbage)
                        return self._hold(c)
                elif verb == b"AUTH":
                    buf = self._auth(c, line, buf, tls)
                    if buf is None:
                        return
                elif verb == b"RSET":
                    tx = None
                    self._send(c, "rset")
                elif verb == b"QUIT":
                    if not self._send(c, "quit"):
                        self._hold(c)
                    return
                else:
                    c.sendall(b"502 5.5.2 unknown\r\n")
        except OSError:
            pass
        finally:
            with self.lock:
                self.concurrent -= 1
            try:
                c.close()
            except OSError:
                pass

    def _hold(self, c):
        """Stall: read and ignore until the client leaves or we stop."""
        try:
            while self.running:
                try:
                    if not c.recv(65536):
                        return
                except socket.timeout:
                    return
        except OSError:
            return
