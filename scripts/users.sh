#!/bin/sh
# users.sh USER QUEUEUSER CHROOTDIR -- create the unprivileged accounts
# and the empty chroot directory smtpd needs when started as root.
# Used by `make install` and by the test harness; idempotent.
set -eu
user=${1:-_smtpd}
quser=${2:-_smtpq}
empty=${3:-/var/empty}

for u in "$user" "$quser"; do
	if ! getent passwd "$u" >/dev/null; then
		useradd --system --no-create-home --home-dir "$empty" \
		    --shell /usr/sbin/nologin --user-group "$u"
	fi
done
if [ ! -d "$empty" ]; then
	mkdir -p "$empty"
fi
chown root:root "$empty"
chmod 0755 "$empty"
