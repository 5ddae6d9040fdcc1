"""regress/lib/servers.py -- private PostgreSQL, Redis and MariaDB servers.

Context managers that start a real database server from Debian's
packages for one test, and take it away afterwards:

    with PostgresServer() as pg:        # pg.port, pg.conninfo(), pg.sql()
    with RedisServer() as rd:           # rd.port, rd.socket, rd.cmd()
    with MariaDBServer() as my:         # my.port, my.socket, my.sql()

Each one initialises a data directory in a fresh temporary directory,
listens on 127.0.0.1 on a free port and on a unix socket inside that
directory (never a default port, never a system-wide data dir or
socket), waits until the server answers, creates a database and a user
"smtpd" with password "secret" for the test, and on exit stops the
server by its PID (its shutdown signal, then SIGKILL after a bound),
kills what is left of its process group, and removes the directory.
When run as root the servers run as an unprivileged account (the
package's own: postgres, redis, mysql; or nobody), which owns the
temporary directory.  stop() and start() may be called in between to
take the server away and bring it back on the same port and data.
Every wait is bounded in time and count; a failure raises ServerError
with the tail of the server's log.
"""
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

START_TIMEOUT = 30      # seconds for a server to answer after start
STOP_TIMEOUT = 10       # seconds between the shutdown signal and SIGKILL
CMD_TIMEOUT = 30        # seconds for one client command
POLL = 0.05             # seconds between two readiness probes

DB_NAME = "smtpd"
DB_USER = "smtpd"
DB_PASSWORD = "secret"


class ServerError(RuntimeError):
    pass


from ports import free_port  # noqa: E402,F401  (one port picker)


def _stat(pid):
    """(state, start time) of PID from /proc, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return None


def descendants(pid):
    """[(pid, start time)] of PID's children, their children and so on
    (/proc): the start time tells a process from a later one that got
    its number."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            st = _stat(k)
            if st is not None:
                out.append((k, st[1]))
            todo.append(k)
    return out


def which(*names):
    """First existing executable among names (paths or PATH entries)."""
    for n in names:
        if os.path.isabs(n):
            if os.access(n, os.X_OK):
                return n
            continue
        p = shutil.which(n, path=os.environ.get("PATH", "") +
                         ":/usr/sbin:/sbin")
        if p:
            return p
    raise ServerError("none of %s is installed (scripts/deps.sh installs "
                      "them)" % ", ".join(names))


class PrivateNetwork:
    """The calling process, and every process it starts from now on, in
    a new network namespace of its own where only lo (127.0.0.1, ::1)
    exists; on exit the process goes back to its original namespace.
    For programs that can only reach a fixed address and port (Debian's
    table-redis always connects to 127.0.0.1:6379): a server there
    cannot collide with anything on the machine.  Needs root
    (CAP_SYS_ADMIN); otherwise raises ServerError."""

    CLONE_NEWNET = 0x40000000

    def __init__(self):
        self.orig = None

    def __enter__(self):
        if os.geteuid() != 0:
            raise ServerError("a private network namespace needs root")
        libc = ctypes.CDLL(None, use_errno=True)
        self.orig = os.open("/proc/self/ns/net", os.O_RDONLY)
        if libc.unshare(self.CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            os.close(self.orig)
            self.orig = None
            raise ServerError("unshare(CLONE_NEWNET): %s" % os.strerror(e))
        try:
            subprocess.run([which("ip"), "link", "set", "lo", "up"],
                           check=True, capture_output=True, timeout=10)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.orig is None:
            return False
        libc = ctypes.CDLL(None, use_errno=True)
        r = libc.setns(self.orig, self.CLONE_NEWNET)
        e = ctypes.get_errno()
        os.close(self.orig)
        self.orig = None
        if r != 0:
            raise ServerError("setns back: %s" % os.strerror(e))
        return False


class Server:
    """What the three servers share: temp dir, account, process, stop."""

    name = "server"
    accounts = ()               # preferred unprivileged accounts, in order
    stop_signal = signal.SIGTERM

    def __init__(self, port=None):
        self.tmp = None
        self.proc = None
        self.port = port                # None: a free port
        self.start_seconds = None       # last start, readiness included
        self.init_seconds = None        # data dir creation
        self.uid = self.gid = None
        self.logpath = None
        self._log = None

    # -- life cycle --------------------------------------------------
    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def setup(self):
        """Temp dir, data dir, start, wait, create the test's db/user."""
        self.tmp = tempfile.mkdtemp(prefix="srv-%s." % self.name)
        os.chmod(self.tmp, 0o700)
        self.logpath = os.path.join(self.tmp, "server.log")
        self._log = open(self.logpath, "ab")
        self._pick_account()
        if self.uid is not None:
            os.chown(self.tmp, self.uid, self.gid)
            os.chown(self.logpath, self.uid, self.gid)
        if self.port is None:
            self.port = free_port()
        t0 = time.monotonic()
        self.init_data()
        self.init_seconds = time.monotonic() - t0
        self.start()
        self.create_db()

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.tmp = None

    def start(self):
        """Start the server on the same port and data; wait until ready."""
        if self.running():
            raise ServerError("%s already running" % self.name)
        t0 = time.monotonic()
        self.proc = self._spawn(self.command(), stdout=self._log,
                                stderr=self._log, new_session=True)
        deadline = t0 + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise ServerError("%s exited with status %d at start\n%s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            if self.ready():
                break
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError("%s not ready after %ds\n%s" % (
                    self.name, START_TIMEOUT, self.log_tail()))
            time.sleep(POLL)
        self.start_seconds = time.monotonic() - t0

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=None):
        """Shut the server down by PID: its signal, then SIGKILL."""
        if self.proc is None:
            return None
        pid = self.proc.pid
        # its workers (postgres backends), wherever their group is: a
        # backend that outlives a killed postmaster answers one more
        # query before it notices
        family = [(k, t) for k, t in descendants(pid) if k > 1]
        if self.proc.poll() is None:
            try:
                os.kill(pid, sig or self.stop_signal)
                os.killpg(pid, signal.SIGCONT)      # if frozen
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
        # children (postgres backends) share the group the server leads
        self._kill_group(pid)
        if sig == signal.SIGKILL:
            self._kill_pids(family)
        status = self.proc.returncode
        self.proc = None
        return status

    def kill(self):
        """The server dies at once (SIGKILL), as in a crash."""
        return self.stop(signal.SIGKILL)

    def freeze(self):
        """SIGSTOP the server and its children: connections are still
        accepted by the kernel, requests wait unread.  kill() or stop()
        afterwards (stop sends SIGCONT after its signal)."""
        if self.running():
            os.killpg(self.proc.pid, signal.SIGSTOP)

    def pending_requests(self):
        """Connections to our port holding unread request bytes."""
        n = 0
        for name in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(name) as f:
                    lines = f.readlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                port = int(fields[1].rsplit(":", 1)[1], 16)
                rxq = int(fields[4].split(":")[1], 16)
                if port == self.port and fields[3] == "01" and rxq > 0:
                    n += 1
        return n

    @staticmethod
    def _kill_pids(family):
        """SIGKILL each of FAMILY [(pid, start time)], the server's
        descendants, still the same process, once; wait until none is
        left but a zombie (init reaps the orphans)."""
        for p, t in family:
            st = _stat(p)
            if st is not None and st[1] == t:
                try:
                    os.kill(p, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        for _ in range(int(STOP_TIMEOUT / POLL)):
            alive = []
            for p, t in family:
                st = _stat(p)
                if st is not None and st[1] == t and st[0] != "Z":
                    alive.append(p)
            if not alive:
                return
            time.sleep(POLL)
        raise ServerError("processes %s survive SIGKILL" % alive)

    @staticmethod
    def _kill_group(pgid):
        for _ in range(int(STOP_TIMEOUT / POLL)):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                return
            except PermissionError:
                return
            time.sleep(POLL)
        raise ServerError("process group %d survives SIGKILL" % pgid)

    # -- helpers -----------------------------------------------------
    def _pick_account(self):
        if os.geteuid() != 0:
            return
        for name in self.accounts + ("nobody",):
            try:
                pw = pwd.getpwnam(name)
            except KeyError:
                continue
            if pw.pw_uid != 0:
                self.uid, self.gid = pw.pw_uid, pw.pw_gid
                return
        raise ServerError("no unprivileged account to run %s" % self.name)

    def _spawn(self, argv, new_session=False, **kw):
        extra = {}
        if self.uid is not None:
            extra = dict(user=self.uid, group=self.gid, extra_groups=[])
        env = dict(os.environ, LC_ALL="C", TZ="UTC")
        if self.uid is not None:
            env["HOME"] = self.tmp
        return subprocess.Popen(argv, cwd=self.tmp, env=env,
                                stdin=subprocess.DEVNULL, close_fds=True,
                                start_new_session=new_session, **extra,
                                **kw)

    def run_as(self, argv, timeout=CMD_TIMEOUT):
        """Run a setup program as the server's account; raise on failure."""
        p = self._spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate(timeout=STOP_TIMEOUT)
            raise ServerError("%s timed out" % argv[0])
        if p.returncode != 0:
            raise ServerError("%s failed (%d):\n%s" % (
                " ".join(argv), p.returncode,
                out.decode(errors="replace")[-2000:]))
        return out.decode(errors="replace")

    def client(self, argv, stdin=None, env=None, timeout=CMD_TIMEOUT,
               check=True):
        """Run a client program (as ourselves); its stdout, or raise."""
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True,
                               text=True, timeout=timeout,
                               env=dict(os.environ, **(env or {})))
        except subprocess.TimeoutExpired:
            raise ServerError("%s timed out" % " ".join(argv))
        if check and p.returncode != 0:
            raise ServerError("%s failed (%d): %s" % (
                " ".join(argv), p.returncode, (p.stderr + p.stdout)[-2000:]))
        return p.stdout if check else p

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def log_tail(self, n=30):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # -- per server --------------------------------------------------
    def init_data(self):
        pass

    def command(self):
        raise NotImplementedError

    def ready(self):
        raise NotImplementedError

    def create_db(self):
        pass


class PostgresServer(Server):
    """postgres -D tmp/data on 127.0.0.1:port and tmp/.s.PGSQL.port."""

    name = "postgres"
    accounts = ("postgres",)
    stop_signal = signal.SIGINT         # "fast" shutdown: ends sessions

    def _bin(self, prog):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + prog),
                       key=lambda p: int(p.split("/")[4]))
        if not found:
            raise ServerError("PostgreSQL %s not found (install postgresql)"
                              % prog)
        return found[-1]

    def init_data(self):
        self.run_as([self._bin("initdb"), "-D", self.path("data"),
                     "-U", "postgres", "-E", "UTF8", "--locale=C",
                     "--no-sync", "--auth-local=trust",
                     "--auth-host=scram-sha-256"], timeout=120)

    def command(self):
        return [self._bin("postgres"), "-D", self.path("data"),
                "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=" + self.tmp,
                "-c", "fsync=off",
                "-c", "full_page_writes=off", "-c", "logging_collector=off",
                "-c", "max_connections=20", "-c", "shared_buffers=16MB"]

    def psql(self, db="postgres"):
        return [which("psql"), "-X", "-q", "-A", "-t", "-v",
                "ON_ERROR_STOP=1", "-h", self.tmp, "-p", str(self.port),
                "-U", "postgres", "-d", db]

    def ready(self):
        p = self.client(self.psql() + ["-c", "SELECT 1"], check=False,
                        timeout=5)
        return p.returncode == 0

    def sql(self, text, db=DB_NAME):
        """Run SQL as the superuser through the unix socket; its output."""
        return self.client(self.psql(db), stdin=text)

    def create_db(self):
        self.sql("CREATE ROLE %s LOGIN PASSWORD '%s';\n"
                 "CREATE DATABASE %s OWNER %s;\n" % (
                     DB_USER, DB_PASSWORD, DB_NAME, DB_USER), db="postgres")

    def conninfo(self):
        """libpq conninfo for the test user, over TCP with a password."""
        return "host=127.0.0.1 port=%d dbname=%s user=%s password=%s" % (
            self.port, DB_NAME, DB_USER, DB_PASSWORD)


class RedisServer(Server):
    """redis-server on 127.0.0.1:port and tmp/redis.sock; password
    DB_PASSWORD unless password=None; the test uses database self.db."""

    name = "redis"
    accounts = ("redis",)
    stop_signal = signal.SIGTERM

    def __init__(self, port=None, password=DB_PASSWORD, db=1):
        super().__init__(port)
        self.password = password
        self.db = db

    def init_data(self):
        self.socket = self.path("redis.sock")
        conf = self.path("redis.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                "bind 127.0.0.1",
                "port %d" % self.port,
                "unixsocket %s" % self.socket,
                "unixsocketperm 700",
                "dir %s" % self.tmp,
                "daemonize no",
                "supervised no",
                "pidfile %s" % self.path("redis.pid"),
                "logfile \"\"",
                "save \"\"",
                "appendonly no",
                "databases 4"] + (
                    ["requirepass %s" % self.password] if self.password
                    else []) + [""]))
        if self.uid is not None:
            os.chown(conf, self.uid, self.gid)

    def command(self):
        return [which("redis-server"), self.path("redis.conf")]

    def cmd(self, *args, check=True):
        """One command through redis-cli on TCP; its raw output."""
        argv = [which("redis-cli"), "--no-auth-warning", "-h", "127.0.0.1",
                "-p", str(self.port), "-n", str(self.db)] + [
                    str(a) for a in args]
        env = {"REDISCLI_AUTH": self.password} if self.password else {}
        out = self.client(argv, env=env, check=check, timeout=10)
        if check and out.startswith(("ERR", "WRONGTYPE", "NOAUTH")):
            raise ServerError("redis %s: %s" % (args, out.strip()))
        return out

    def ready(self):
        p = self.cmd("PING", check=False)
        return p.returncode == 0 and p.stdout.strip() == "PONG"


class MariaDBServer(Server):
    """mariadbd on 127.0.0.1:port and tmp/mysqld.sock."""

    name = "mariadb"
    accounts = ("mysql",)
    stop_signal = signal.SIGTERM

    def init_data(self):
        self.socket = self.path("mysqld.sock")
        self.run_as([which("mariadb-install-db", "mysql_install_db"),
                     "--no-defaults", "--datadir=" + self.path("data"),
                     "--auth-root-authentication-method=normal",
                     "--skip-test-db", "--skip-name-resolve",
                     # its own temporary files: other servers and test
                     # modules run beside it (regress/run.py -j)
                     "--tmpdir=" + self.path("data"),
                     "--innodb-buffer-pool-size=16M"], timeout=120)

    def command(self):
        return [which("mariadbd", "/usr/sbin/mariadbd", "mysqld"),
                "--no-defaults", "--datadir=" + self.path("data"),
                "--socket=" + self.socket, "--port=%d" % self.port,
                "--bind-address=127.0.0.1", "--skip-name-resolve",
                "--tmpdir=" + self.path("data"),
                "--pid-file=" + self.path("mysqld.pid"),
                "--log-error=" + self.logpath,
                "--innodb-buffer-pool-size=16M", "--skip-log-bin",
                # 2: each commit reaches the system at once, so the data
                # a test wrote outlives the SIGKILL of the next test (0
                # lost rows written less than a second before it)
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-doublewrite=0", "--performance-schema=OFF"]

    def mariadb(self, db=None):
        argv = [which("mariadb", "mysql"), "--no-defaults", "-S",
                self.socket, "-u", "root", "-N", "-B"]
        return argv + ([db] if db else [])

    def ready(self):
        p = self.client(self.mariadb() + ["-e", "SELECT 1"], check=False,
                        timeout=5)
        return p.returncode == 0

    def sql(self, text, db=DB_NAME):
        """Run SQL as root through the unix socket; its output."""
        return self.client(self.mariadb(db), stdin=text)

    def create_db(self):
        self.sql("CREATE DATABASE %s;\n"
                 "CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s';\n"
                 "CREATE USER '%s'@'localhost' IDENTIFIED BY '%s';\n"
                 "GRANT ALL ON %s.* TO '%s'@'127.0.0.1';\n"
                 "GRANT ALL ON %s.* TO '%s'@'localhost';\n" % (
                     DB_NAME, DB_USER, DB_PASSWORD, DB_USER, DB_PASSWORD,
                     DB_NAME, DB_USER, DB_NAME, DB_USER), db="")

    def client_env(self, tcp=True):
        """Environment telling libmariadb where this server is (a client
        that passes port 0 / no socket, like table-mysql, reads it)."""
        if tcp:
            return {"MYSQL_TCP_PORT": str(self.port)}
        return {"MYSQL_UNIX_PORT": self.socket}
