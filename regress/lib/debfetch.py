"""debfetch.py -- Debian packages of OpenSMTPD for tests that compare
with, or run, its own binaries (opensmtpd 6.8, opensmtpd-extras 6.7).

A package is downloaded once with `apt-get download` into
$SMTPD_BUILD/cache/PACKAGE/ and unpacked there with `dpkg -x`.  On a
machine whose package lists are missing, root refreshes them once and
tries again.  Failing to get a package raises RuntimeError with the
reason: a test that needs one never skips silently."""
import glob
import os
import subprocess

TIMEOUT = 180
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "obj"))


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


def fetch_unpacked(package, member):
    """Path of MEMBER (e.g. usr/sbin/smtpctl) unpacked from PACKAGE."""
    cache = os.path.join(BUILD, "cache", package)
    root = os.path.join(cache, "root")
    path = os.path.join(root, member)
    if os.access(path, os.X_OK):
        return path
    os.makedirs(cache, exist_ok=True)
    debs = glob.glob(os.path.join(cache, package + "_*.deb"))
    if not debs:
        try:
            p = apt_download(package, cache)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise RuntimeError("cannot run apt-get download %s: %s"
                               % (package, e))
        debs = glob.glob(os.path.join(cache, package + "_*.deb"))
        if p.returncode != 0 or not debs:
            raise RuntimeError(
                "apt-get download %s failed (status %d): %s"
                % (package, p.returncode,
                   (p.stderr or p.stdout).strip()[-500:]))
    try:
        p = subprocess.run(["dpkg", "-x", debs[0], root],
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RuntimeError("cannot run dpkg -x: %s" % e)
    if p.returncode != 0:
        raise RuntimeError("dpkg -x %s failed: %s" % (debs[0], p.stderr))
    if not os.access(path, os.X_OK):
        raise RuntimeError("no %s in %s" % (member, debs[0]))
    return path
