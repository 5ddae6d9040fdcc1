"""debfetch.py -- download a Debian package (.deb) for tests that compare
with OpenSMTPD's own binaries.  `apt-get download` needs the package
lists; on a machine that has none yet, root refreshes them once and
tries again.  Returns the CompletedProcess of the last attempt."""
import os
import subprocess

TIMEOUT = 180


def apt_download(package, cwd):
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
