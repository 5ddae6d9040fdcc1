#!/bin/sh
# deps.sh -- install the Debian 12 packages the build and the tests need,
# only those missing.  Run by `make run` and `make test`; as an ordinary
# user it only checks, and names what root must install.
set -eu

# build: compiler, libraries (see README.md for why each one)
BUILD="gcc make pkg-config libevent-dev libtls-dev libbsd-dev libc-ares-dev
libdb-dev libsqlite3-dev libpq-dev libhiredis-dev libmariadb-dev
libcrypt-dev"
# tests: interpreter, clang for the second build and the fuzzers, peers;
# real database servers for the extras table helpers (regress/lib/servers.py
# starts private instances: own data dir, own port, own socket)
TEST="python3 clang procps iproute2 swaks
postgresql redis-server mariadb-server-core mariadb-client-core"

missing=""
for p in $BUILD $TEST; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run 'make deps' as root, or: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# The postinst of postgresql and redis-server would start system-wide
# services on the default ports.  Tests never use them, so forbid every
# service start for the length of the install with a policy-rc.d (honoured
# by invoke-rc.d and deb-systemd-invoke), unless the machine has its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	trap 'rm -f "$policy"' EXIT
	trap 'exit 1' INT TERM
	printf '#!/bin/sh\n# deps.sh: no service starts during install\nexit 101\n' \
	    >"$policy"
	chmod 0755 "$policy"
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
