"""bench/servers.py -- the three mail servers the benchmark drives, each
with a private configuration, spool and loopback port, and what the
harness measures of them.

Used only by bench/bench.py (make bench).  Every server runs in a cgroup
of its own (cgroup v1 cpuacct, or v2 when it has the cpu controller), so
its CPU time (user+sys of all its processes, those that exited included)
and its memory (PSS and RSS summed over its live processes) are read,
not estimated; the same cgroup lists every process to stop.  Processes
are stopped by PID only: SIGTERM to the server, then SIGKILL to whatever
of its cgroup is left.  Nothing here touches the system's own mail
configuration: OpenSMTPD 6.8 has its spool, control socket and chroot
compiled in (/var/spool/smtpd, /var/run, /var/lib/opensmtpd/empty), so it
runs in a private mount namespace (unshare -m) where those paths are bind
mounts of its own directory; Postfix gets its own config_directory,
queue_directory and data_directory.
"""
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "regress", "lib"))
import accounts  # noqa: E402
from procs import wait_for  # noqa: E402,F401  (one copy, with the tests')

CG_V1 = "/sys/fs/cgroup/cpuacct"
CG_V2 = "/sys/fs/cgroup"
START_TIMEOUT = 30
STOP_TIMEOUT = 20
BENCH_USER = "benchmail"        # the recipient, a system account
DOMAIN = "bench.test"


SOURCES = 200   # loadgen -A: client addresses 127.1.x.y of the runs


def source_addr(a):
    return "127.1.%d.%d" % (a // 250, 1 + a % 250)


def port_busy(port):
    """Whether something listens on 127.0.0.1:PORT, or it cannot be bound
    (as a server binds: SO_REUSEADDR)."""
    c = socket.socket()
    c.settimeout(1)
    try:
        c.connect(("127.0.0.1", port))
        return True
    except OSError:
        pass
    finally:
        c.close()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def free_port():
    """A port below the ephemeral range (the load generator's many client
    connections use that one) that nothing listens on."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    import random
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        if not port_busy(port):
            return port
    raise RuntimeError("no free port below %d" % low)


def run_as_root_setup(notes):
    """As root: the accounts the three servers need, created when missing
    (said in NOTES): benchmail (the recipient), postfix and postdrop,
    opensmtpd and opensmtpq (the accounts Debian's OpenSMTPD drops to)."""
    accounts.ensure(users=(BENCH_USER,) + accounts.POSTFIX_USERS +
                    accounts.OPENSMTPD_USERS,
                    groups=accounts.POSTFIX_GROUPS, notes=notes)


class Cgroup:
    """A cgroup of one server: CPU time and member processes."""

    def __init__(self, name):
        self.v2 = os.path.exists(os.path.join(CG_V2, "cgroup.controllers")) \
            and "cpu" in open(os.path.join(CG_V2,
                                           "cgroup.controllers")).read()
        base = CG_V2 if self.v2 else CG_V1
        self.path = os.path.join(base, name)
        os.makedirs(self.path, exist_ok=True)

    def enter(self):
        """In the child before exec: join the cgroup."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def pids(self):
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split() if int(x) > 1]
        except OSError:
            return []

    def cpu_us(self):
        """(user, sys) microseconds used by every process ever in it."""
        if self.v2:
            st = dict(line.split() for line in
                      open(os.path.join(self.path, "cpu.stat")))
            return int(st["user_usec"]), int(st["system_usec"])
        u = int(open(os.path.join(self.path, "cpuacct.usage_user")).read())
        s = int(open(os.path.join(self.path, "cpuacct.usage_sys")).read())
        return u // 1000, s // 1000

    def memory_kib(self):
        """(pss, rss) KiB summed over its live processes."""
        pss = rss = 0
        for pid in self.pids():
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1])
                        elif line.startswith("Rss:"):
                            rss += int(line.split()[1])
            except OSError:
                continue
        return pss, rss

    def kill_all(self):
        for pid in self.pids():
            if pid > 1:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def remove(self):
        wait_for(lambda: not self.pids(), STOP_TIMEOUT)
        try:
            os.rmdir(self.path)
        except OSError:
            pass


class Server:
    """What the three servers share: a directory, a port, a cgroup, a
    process started and stopped by PID."""
    name = "?"

    def __init__(self, workdir, tag):
        self.dir = os.path.join(workdir, "%s-%s" % (self.name, tag))
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.proc = None
        self.cg = None
        self.maildir = os.path.join(self.dir, "mail", BENCH_USER)
        mail = os.path.join(self.dir, "mail")
        os.mkdir(mail)
        pw = pwd.getpwnam(BENCH_USER)
        os.chown(mail, pw.pw_uid, pw.pw_gid)
        self.logpath = os.path.join(self.dir, "server.log")
        self.tag = tag
        self.service = "mda"    # what start(paused=True) holds back

    def env(self):
        return dict(os.environ)

    def start(self, paused):
        if port_busy(self.port):
            raise RuntimeError("port %d is busy: refusing to run" %
                               self.port)
        self.cg = Cgroup("smtpd-bench-%d-%s-%s" % (os.getpid(), self.name,
                                                   self.tag))
        cmd = self.command(paused)
        log = open(self.logpath, "ab")

        def pre():
            self.cg.enter()
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, env=self.env(),
                                     preexec_fn=pre, start_new_session=True)
        log.close()
        # polled every 10 ms: F's time to first delivery counts from
        # here, so a coarser step would be added to every server's figure
        ok = wait_for(lambda: self.proc.poll() is not None or
                      self.ready(), START_TIMEOUT, 0.01)
        if not ok or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("%s did not start: %s" % (
                self.name, self.log()[-800:]))

    def ready(self):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", self.port))
            return s.recv(64).startswith(b"220")
        except OSError:
            return False
        finally:
            s.close()

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.pid > 1 and \
                self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        if self.cg is not None:
            if not wait_for(lambda: not self.cg.pids(), 5):
                self.cg.kill_all()
            if self.proc is not None and self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
            self.cg.remove()
            self.cg = None

    def delivered(self):
        try:
            return len(os.listdir(os.path.join(self.maildir, "new")))
        except OSError:
            return 0

    def relay_to(self, port):
        """Relay DOMAIN to 127.0.0.1:PORT instead of delivering it
        (scenarios C and E): the same smtpd.conf for ours and OpenSMTPD;
        a paused start then holds the relay back."""
        self.service = "mta"
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "out" relay host smtp://127.0.0.1:%d\n'
                    'match from any for domain "%s" action "out"\n'
                    % (self.port, port, DOMAIN))

    def spool_bytes(self):
        total = 0
        for top, dirs, files in os.walk(self.spool()):
            for f in files + dirs:
                try:
                    total += os.lstat(os.path.join(top, f)).st_blocks * 512
                except OSError:
                    pass
        return total


class Ours(Server):
    name = "ours"

    def __init__(self, workdir, tag, build):
        super().__init__(workdir, tag)
        self.build = build
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "local" maildir "%s/mail/%%{user.username}"\n'
                    'match from any for domain "%s" action "local"\n'
                    % (self.port, self.dir, DOMAIN))

    def use_tls(self, cert, key):
        """STARTTLS on the listener with CERT and KEY (scenario T)."""
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write('pki bench cert "%s"\n'
                    'pki bench key "%s"\n'
                    'listen on 127.0.0.1 port %d tls pki bench\n'
                    'action "local" maildir "%s/mail/%%{user.username}"\n'
                    'match from any for domain "%s" action "local"\n'
                    % (cert, key, self.port, self.dir, DOMAIN))

    def command(self, paused):
        # the same private resolver as OpenSMTPD's below: 127.0.0.1, where
        # nothing answers (refused at once), so that no server's greeting
        # waits for the machine's DNS on each client's PTR
        with open(os.path.join(self.dir, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")
        cmd = [os.path.join(self.build, "smtpd"), "-d", "-r", self.dir,
               "-f", os.path.join(self.dir, "smtpd.conf"), "-o",
               "libexec=%s" % os.path.join(self.build, "libexec"), "-o",
               "resolv-conf=%s" % os.path.join(self.dir, "resolv.conf")]
        return cmd + (["-P", self.service] if paused else [])

    def ctl(self, *args, timeout=120):
        return subprocess.run([os.path.join(self.build, "smtpctl"), "-s",
                               os.path.join(self.dir, "smtpd.sock")] +
                              list(args), capture_output=True, text=True,
                              timeout=timeout)

    def show_queue(self):
        return self.ctl("show", "queue")

    def resume(self):
        return self.ctl("resume", self.service).returncode == 0

    def spool(self):
        return os.path.join(self.dir, "spool")


class OpenSMTPD(Server):
    name = "opensmtpd"

    def __init__(self, workdir, tag, root):
        super().__init__(workdir, tag)
        self.root = root
        for d in ("varspool/smtpd", "run", "varlib/opensmtpd/empty"):
            os.makedirs(os.path.join(self.dir, d))
        os.chmod(os.path.join(self.dir, "varspool/smtpd"), 0o711)
        # it looks up each client's name (PTR, then forward) with its own
        # resolver, which asks DNS before /etc/hosts unless told; the DNS
        # server here answers some queries after 5 s or never, which held
        # banners back for minutes.  The benchmark needs no DNS: a private
        # resolv.conf says "lookup file bind" and names 127.0.0.1, where
        # nothing answers (refused at once), and a private hosts file
        # names the load generator's source addresses
        with open(os.path.join(self.dir, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\nlookup file bind\n")
        with open("/etc/hosts") as f:
            hosts = f.read()
        with open(os.path.join(self.dir, "hosts"), "w") as f:
            f.write(hosts + "\n" + "".join(
                "%s lg%d.%s\n" % (source_addr(a), a, DOMAIN)
                for a in range(SOURCES)))
        # smtpctl must be setgid opensmtpq, which dpkg -x does not keep
        self.smtpctl = os.path.join(self.dir, "smtpctl")
        shutil.copy(os.path.join(root, "usr/sbin/smtpctl"), self.smtpctl)
        os.chown(self.smtpctl, 0, grp.getgrnam("opensmtpq").gr_gid)
        os.chmod(self.smtpctl, 0o2555)
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "local" maildir "%s/mail/%%{user.username}"\n'
                    'match from any for domain "%s" action "local"\n'
                    % (self.port, self.dir, DOMAIN))

    def ns_prefix(self):
        """mount --bind its own directories over the compiled-in paths,
        in a private mount namespace."""
        d = self.dir
        return ("mount --make-rprivate / && "
                "mount --bind %s/varspool /var/spool && "
                "mount --bind %s/run /run && "
                "mount --bind %s/varlib /var/lib && "
                "mount --bind %s/resolv.conf /etc/resolv.conf && "
                "mount --bind %s/hosts /etc/hosts && "
                "mount --bind %s/usr/libexec /usr/libexec && " %
                (d, d, d, d, d, self.root))

    def command(self, paused):
        smtpd = os.path.join(self.root, "usr/sbin/smtpd")
        return ["unshare", "-m", "sh", "-c", self.ns_prefix() +
                "exec %s -d -f %s/smtpd.conf%s" % (
                    smtpd, self.dir,
                    " -P " + self.service if paused else "")]

    def ctl(self, *args, timeout=120):
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m",
                               self.smtpctl]
                              + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def show_queue(self):
        return self.ctl("show", "queue")

    def resume(self):
        return self.ctl("resume", self.service).returncode == 0

    def spool(self):
        return os.path.join(self.dir, "varspool/smtpd")


MASTER_CF = """\
%(port)d  inet  n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
tlsmgr    unix  - - n 1000? 1 tlsmgr
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
qmgr      unix  n - n 300 1 qmgr
pickup    unix  n - n 60 1 pickup
"""


class Postfix(Server):
    name = "postfix"

    def __init__(self, workdir, tag, root):
        super().__init__(workdir, tag)
        self.root = root
        self.etc = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        os.makedirs(self.etc)
        pf = pwd.getpwnam("postfix")
        drop = grp.getgrnam("postdrop").gr_gid
        bm = pwd.getpwnam(BENCH_USER)
        for sub, mode, gid in (
                ("active", 0o700, None), ("bounce", 0o700, None),
                ("corrupt", 0o700, None), ("defer", 0o700, None),
                ("deferred", 0o700, None), ("flush", 0o700, None),
                ("hold", 0o700, None), ("incoming", 0o700, None),
                ("private", 0o700, None), ("saved", 0o700, None),
                ("trace", 0o700, None), ("maildrop", 0o730, drop),
                ("public", 0o710, drop)):
            p = os.path.join(self.queue, sub)
            os.makedirs(p)
            os.chown(p, pf.pw_uid, pf.pw_gid if gid is None else gid)
            os.chmod(p, mode)
        os.makedirs(os.path.join(self.queue, "pid"))
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        os.chown(data, pf.pw_uid, pf.pw_gid)
        os.chmod(data, 0o700)
        lib = os.path.join(root, "usr/lib/postfix")
        main = {
            "compatibility_level": "3.6",
            "config_directory": self.etc,
            "queue_directory": self.queue,
            "data_directory": data,
            "command_directory": os.path.join(root, "usr/sbin"),
            "daemon_directory": os.path.join(lib, "sbin"),
            "shlib_directory": lib,
            "meta_directory": os.path.join(root, "etc/postfix"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ "
                                  "LANG=C LD_LIBRARY_PATH=" + lib,
            "maillog_file": os.path.join(self.dir, "maillog"),
            "myhostname": "mx." + DOMAIN,
            "mydomain": DOMAIN,
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtputf8_enable": "no",
            "biff": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "append_dot_mydomain": "no",
            "smtpd_client_connection_count_limit": "0",
            "smtpd_client_connection_rate_limit": "0",
            "virtual_mailbox_domains": DOMAIN,
            "virtual_mailbox_base": os.path.join(self.dir, "mail"),
            "virtual_mailbox_maps": "static:%s/" % BENCH_USER,
            "virtual_uid_maps": "static:%d" % bm.pw_uid,
            "virtual_gid_maps": "static:%d" % bm.pw_gid,
            "virtual_minimum_uid": "1",
            "virtual_destination_concurrency_limit": "20",
            "default_process_limit": "100",
        }
        self.main = main

    def use_tls(self, cert, key):
        """STARTTLS offered with CERT and KEY (scenario T)."""
        self.main["smtpd_tls_cert_file"] = cert
        self.main["smtpd_tls_key_file"] = key
        self.main["smtpd_tls_security_level"] = "may"

    def relay_to(self, port):
        """Relay DOMAIN to 127.0.0.1:PORT (scenarios C and E): a
        transport map ahead of the virtual domain."""
        self.service = "smtp"
        self.main["transport_maps"] = "inline:{ %s=smtp:[127.0.0.1]:%d }" \
            % (DOMAIN, port)
        self.main["smtp_destination_concurrency_limit"] = "20"

    def write_main(self, paused):
        """main.cf; paused: the transport in use deferred (qmgr keeps
        running: without it cleanup waits on its trigger)"""
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in self.main.items():
                f.write("%s = %s\n" % (k, v))
            if paused:
                f.write("defer_transports = %s\n" % (
                    "virtual" if self.service == "mda" else "smtp"))

    def env(self):
        e = dict(os.environ)
        e["LD_LIBRARY_PATH"] = os.path.join(self.root, "usr/lib/postfix")
        e["MAIL_CONFIG"] = self.etc
        return e

    def command(self, paused):
        self.write_main(paused)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF % {"port": self.port})
        return [os.path.join(self.root, "usr/lib/postfix/sbin/master"),
                "-c", self.etc, "-d"]

    def log(self):
        text = super().log()
        try:
            with open(os.path.join(self.dir, "maillog"),
                      errors="replace") as f:
                text += f.read()
        except OSError:
            pass
        return text

    def show_queue(self):
        return subprocess.run(
            [os.path.join(self.root, "usr/sbin/postqueue"), "-c", self.etc,
             "-p"], capture_output=True, text=True, timeout=120,
            env=self.env())

    def resume(self):
        """defer_transports gone (master and its children re-read
        main.cf on SIGHUP), then the deferred queue flushed."""
        self.write_main(False)
        os.kill(self.proc.pid, signal.SIGHUP)
        time.sleep(1)   # the reload is asynchronous; nothing to poll
        r = subprocess.run(
            [os.path.join(self.root, "usr/sbin/postqueue"), "-c", self.etc,
             "-f"], capture_output=True, text=True, timeout=120,
            env=self.env())
        return r.returncode == 0

    def spool(self):
        return self.queue
