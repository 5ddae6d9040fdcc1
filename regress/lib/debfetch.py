"""debfetch.py -- Debian packages unpacked without installing them, for the
tests and the benchmark that run another mail server's programs beside
ours (OpenSMTPD 6.8 and its extras, Postfix and its smtp-sink):
installing those would make them this machine's MTA and start their
services.  The one implementation: tests and `make bench` alike.

Each package is downloaded once with `apt-get download` into CACHE/debs
and unpacked with `dpkg -x` into CACHE/root, where a marker file
CACHE/root/.PACKAGE says it is done; programs then run from CACHE/root
(Postfix with LD_LIBRARY_PATH naming CACHE/root/usr/lib/postfix).  The
default CACHE is $SMTPD_BUILD/cache/debunpack.  On a machine whose
package lists are missing, root refreshes them once and tries again.
Failing to get a package raises RuntimeError with the reason; a test
says "not run" with it (unpack_or_skip) or fails, never skips
silently."""
import glob
import os
import re
import subprocess
import unittest

TIMEOUT = 180
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "obj"))
CACHE = os.path.join(BUILD, "cache", "debunpack")


def apt_download(package, cwd):
    """`apt-get download PACKAGE` in cwd; the last CompletedProcess."""
    def attempt():
        return subprocess.run(["apt-get", "download", package], cwd=cwd,
                              capture_output=True, text=True,
                              timeout=TIMEOUT)
    p = attempt()
    if p.returncode != 0 and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True,
                       text=True, timeout=TIMEOUT)
        p = attempt()
    return p


def unpack(packages, cache=CACHE):
    """CACHE/root, with each of PACKAGES unpacked into it."""
    debs = os.path.join(cache, "debs")
    root = os.path.join(cache, "root")
    os.makedirs(debs, exist_ok=True)
    os.makedirs(root, exist_ok=True)
    for package in packages:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", package):
            raise RuntimeError("bad package name: %r" % package)
        marker = os.path.join(root, "." + package)
        if os.path.exists(marker):
            continue
        found = glob.glob(os.path.join(debs, package + "_*.deb"))
        if not found:
            try:
                p = apt_download(package, debs)
            except (OSError, subprocess.TimeoutExpired) as e:
                raise RuntimeError("cannot run apt-get download %s: %s"
                                   % (package, e))
            found = glob.glob(os.path.join(debs, package + "_*.deb"))
            if p.returncode != 0 or not found:
                raise RuntimeError(
                    "apt-get download %s failed (status %d): %s"
                    % (package, p.returncode,
                       (p.stderr or p.stdout).strip()[-500:]))
        deb = max(found, key=os.path.getmtime)
        try:
            p = subprocess.run(["dpkg", "-x", deb, root],
                               capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise RuntimeError("cannot run dpkg -x: %s" % e)
        if p.returncode != 0:
            raise RuntimeError("dpkg -x %s failed: %s" % (deb, p.stderr))
        open(marker, "w").close()
    return root


def member_of(root, member, packages):
    """Path of the program MEMBER in ROOT, where PACKAGES were unpacked
    (RuntimeError if it is not there)."""
    path = os.path.join(root, member)
    if not os.access(path, os.X_OK):
        raise RuntimeError("no %s in %s" % (member, " ".join(packages)))
    return path


def unpacked(packages, member, cache=CACHE):
    """Path of the program MEMBER (e.g. usr/sbin/smtpctl) in CACHE/root,
    PACKAGES unpacked there first."""
    return member_of(unpack(packages, cache), member, packages)


def fetch_unpacked(package, member):
    """Path of MEMBER unpacked from PACKAGE (RuntimeError if it cannot)."""
    return unpacked([package], member)


def unpack_or_skip(packages, member, not_run="not run: "):
    """CACHE/root with PACKAGES unpacked and the program MEMBER in it;
    a package that cannot be had is SkipTest with NOT_RUN and the
    reason: the test is reported as not run."""
    try:
        root = unpack(packages)
        member_of(root, member, packages)
    except RuntimeError as e:
        raise unittest.SkipTest("%s%s unavailable: %s" %
                                (not_run, " ".join(packages), e))
    return root
