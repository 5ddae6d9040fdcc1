#!/bin/sh
# users.sh USER QUEUEUSER CHROOTDIR -- create the unprivileged accounts
# and the empty chroot directory smtpd needs when started as root.
# Used by `make install`, `make run` (as root) and the test harness;
# idempotent.  It says what it creates; when it cannot (not root, no
# useradd, /etc read-only), it names the exact commands to run instead
# and exits 1.
set -eu
user=${1:-_smtpd}
quser=${2:-_smtpq}
empty=${3:-/var/empty}

# users_howto - the commands that do by hand what this script could not
users_howto() {
	echo "users.sh: smtpd started as root needs the accounts $user and" \
	    "$quser and the directory $empty; as root, run:" >&2
	for u in "$user" "$quser"; do
		getent passwd "$u" >/dev/null 2>&1 ||
		    echo "    useradd --system --no-create-home --home-dir" \
		    "$empty --shell /usr/sbin/nologin --user-group $u" >&2
	done
	echo "    mkdir -p $empty && chown root:root $empty &&" \
	    "chmod 0755 $empty" >&2
	echo "users.sh: (or run smtpd as an ordinary user: it then runs" \
	    "without privilege separation)" >&2
	exit 1
}

if [ "$(id -u)" != 0 ]; then
	echo "users.sh: only root can create accounts" >&2
	users_howto
fi
for u in "$user" "$quser"; do
	getent passwd "$u" >/dev/null && continue
	if ! command -v useradd >/dev/null 2>&1; then
		echo "users.sh: no useradd on this system (Debian: package" \
		    "passwd)" >&2
		users_howto
	fi
	if ! useradd --system --no-create-home --home-dir "$empty" \
	    --shell /usr/sbin/nologin --user-group "$u"; then
		echo "users.sh: useradd $u failed" >&2
		users_howto
	fi
	echo "users.sh: created the system account $u (home $empty," \
	    "no login shell)"
done
if [ ! -d "$empty" ]; then
	mkdir -p "$empty" || users_howto
	echo "users.sh: created $empty"
fi
if ! chown root:root "$empty" || ! chmod 0755 "$empty"; then
	users_howto
fi
