"""accounts.py -- system accounts for the tests and the benchmark, made
when missing (as root), one way for all of them.

The daemon's accounts are scripts/users.sh's (smtpdtest.ensure_accounts).
Here: the accounts of test users, and those another mail server's
programs need.  Postfix unpacked from Debian's package (debfetch.py)
is never installed, so its package scripts never ran and
a fresh machine has no `postfix` account nor `postdrop` group; Debian's
OpenSMTPD drops to `opensmtpd` and `opensmtpq`.  Accounts are made the
way those packages make them (system accounts, no home, no shell)."""
import contextlib
import fcntl
import grp
import pwd
import subprocess

POSTFIX_USERS = ("postfix",)
POSTFIX_GROUPS = ("postdrop",)
OPENSMTPD_USERS = ("opensmtpd", "opensmtpq")


@contextlib.contextmanager
def accounts_lock():
    """Held while an account is looked up and made: test modules run in
    parallel (regress/run.py -j), and two useradd at once fail."""
    try:
        f = open("/tmp/smtpd-regress-accounts.lock", "a")
    except OSError:         # another account's file: only root adds users
        yield
        return
    with f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_account(name, home="/nonexistent", check=True):
    """As root, system account NAME (no login, HOME its home directory),
    made or its home set when needed; its passwd entry.  With CHECK
    false a failing useradd returns its error text instead."""
    with accounts_lock():
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            r = subprocess.run(["useradd", "--system", "--no-create-home",
                                "--home-dir", home, "--shell",
                                "/usr/sbin/nologin", name],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                if check:
                    raise RuntimeError("useradd %s: %s" % (name, r.stderr))
                return r.stderr.strip()
            return pwd.getpwnam(name)
        if pw.pw_dir != home:
            subprocess.run(["usermod", "--home", home, name], check=True,
                           timeout=60)
            pw = pwd.getpwnam(name)
        return pw


def ensure_group(name):
    """As root, system group NAME, made when missing; True if made."""
    with accounts_lock():
        try:
            grp.getgrnam(name)
            return False
        except KeyError:
            subprocess.run(["groupadd", "--system", name], check=True,
                           timeout=60, capture_output=True)
            return True


def ensure(users=(), groups=(), notes=None):
    """As root, each of GROUPS and USERS that is missing, made (an
    existing one is left as it is); a line per creation appended to
    NOTES (a list) when given."""
    for g in groups:
        if ensure_group(g) and notes is not None:
            notes.append("created group %s" % g)
    for u in users:
        try:
            pwd.getpwnam(u)
            continue
        except KeyError:
            pass
        ensure_account(u)
        if notes is not None:
            notes.append("created system account %s" % u)
