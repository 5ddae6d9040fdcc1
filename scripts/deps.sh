#!/bin/sh
# deps.sh -- the Debian 12 packages the build and the tests need.
#
#   sh scripts/deps.sh           install the missing ones (as root; run by
#                                `make deps`, `make run`, `make test`); as
#                                an ordinary user only name them and the
#                                command that installs them
#   sh scripts/deps.sh check CC  what `make` runs before compiling: probe
#                                the compiler CC, the pkg-config modules
#                                and the headers the build uses, and name
#                                each missing package instead of letting
#                                the compiler fail on it
#
# Installing waits up to DEPS_LOCK_WAIT seconds (default 600) while
# another apt or dpkg holds the package manager's lock, saying so.
set -eu

# One row per package: its Debian name, then how the build finds it:
# cc:NAME the compiler, cmd:PROGRAM, pc:MODULE (pkg-config), h:HEADER (a
# header the compiler includes), or "-" when only the tests use it, or
# nothing built links it yet (a helper that starts linking it changes
# its "-" to its probe).  See README.md for why each one.  A row
# starting with # is a comment.
PACKAGES='
gcc			cc:gcc
libc6-dev		h:stdio.h
make			-
pkg-config		cmd:pkg-config
libevent-dev		pc:libevent
libtls-dev		pc:libtls
libbsd-dev		pc:libbsd-overlay
libc-ares-dev		pc:libcares
libdb-dev		h:db_185.h
libsqlite3-dev		pc:sqlite3
libcrypt-dev		pc:libcrypt
libpq-dev		pc:libpq
libhiredis-dev		pc:hiredis
libmariadb-dev		pc:libmariadb
python3			-
clang			cc:clang
procps			-
iproute2		-
swaks			-
openssl			-
groff-base		-
postgresql		-
redis-server		-
mariadb-server-core	-
mariadb-client-core	-
dovecot-lmtpd		-
# dns slice: the DNS server the resolver tests run (regress/lib/dnsserver.py)
dnsmasq-base		-
# tls (issue 9 parts 4, 5): ca and the dispatcher link libcrypto
libssl-dev		pc:libcrypto
libnet-ssleay-perl	-
# bench: the durability test (regress/queue/test_durability.py) traces
# the daemon
strace			-
# ldap and socketmap (issue 10): table-ldap links libldap; its tests
# run a private slapd filled with ldapadd
libldap-dev		pc:ldap
slapd			-
ldap-utils		-
'
# (the tests' database servers are started privately by
# regress/lib/servers.py: own data dir, own port, own socket; Dovecot's
# LMTP server by regress/mda/test_lmtp.py on its own configuration)

LOCK_WAIT=${DEPS_LOCK_WAIT:-600}

# deps_check CC - the packages the build needs and cannot find, or none
deps_check() {
	cc=$1
	ccname=$(basename "${cc%% *}")
	case $ccname in
	clang*)	ccname=clang ;;
	*)	ccname=gcc ;;
	esac
	have_cc=1
	if ! command -v "${cc%% *}" >/dev/null 2>&1; then
		have_cc=0
	fi
	have_pc=1
	command -v pkg-config >/dev/null 2>&1 || have_pc=0
	echo "$PACKAGES" | while read -r pkg probe; do
		case $pkg in ''|\#*) continue ;; esac	# blank, comment
		case $probe in
		cc:"$ccname")
			[ "$have_cc" = 1 ] || echo "$pkg" ;;
		cmd:*)
			command -v "${probe#cmd:}" >/dev/null 2>&1 ||
			    echo "$pkg" ;;
		pc:*)
			# without pkg-config, it is the one to name
			[ "$have_pc" = 0 ] ||
			    pkg-config --exists "${probe#pc:}" || echo "$pkg" ;;
		h:*)
			[ "$have_cc" = 1 ] || continue
			printf '#include <%s>\n' "${probe#h:}" |
			    $cc -E -x c - >/dev/null 2>&1 || echo "$pkg" ;;
		esac
	done
}

# deps_missing - the packages dpkg does not list as installed
deps_missing() {
	echo "$PACKAGES" | while read -r pkg probe; do
		case $pkg in ''|\#*) continue ;; esac	# blank, comment
		dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
		    grep -q 'install ok installed' || echo "$pkg"
	done
}

# deps_apt ARGS - apt-get ARGS, waiting up to LOCK_WAIT seconds while
# another apt or dpkg holds its lock (apt-get's own DPkg::Lock::Timeout
# does not cover the lists lock of `apt-get update`)
deps_apt() {
	deadline=$(($(date +%s) + LOCK_WAIT))
	said=0
	while :; do
		if out=$(apt-get "$@" 2>&1); then
			return 0
		fi
		case $out in
		*"Could not get lock"*|*"Unable to lock"*|\
		*"Unable to acquire the dpkg frontend lock"*)
			;;
		*)
			printf '%s\n' "$out" >&2
			return 1 ;;
		esac
		holder=$(printf '%s\n' "$out" | grep -m 1 'lock' || true)
		# said first, even when apt-get itself took the whole wait
		if [ "$said" = 0 ]; then
			echo "deps: another apt or dpkg holds the package" \
			    "manager's lock; waiting up to ${LOCK_WAIT}s" \
			    "(DEPS_LOCK_WAIT): $holder" >&2
			said=1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "deps: the package manager's lock is still held" \
			    "after ${LOCK_WAIT}s: $holder" >&2
			echo "deps: when it is free, run 'make deps' again" >&2
			return 1
		fi
		sleep 5
	done
}

if [ "${1:-}" = check ]; then
	missing=$(deps_check "${2:-cc}" | tr '\n' ' ')
	[ -z "$missing" ] && exit 0
	echo "deps: the build needs Debian packages that are not installed:" \
	    "${missing% }" >&2
	echo "deps: install them with 'make deps' (as root), or:" \
	    "apt-get install ${missing% }" >&2
	exit 1
fi

missing=$(deps_missing | tr '\n' ' ')
missing=${missing% }
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages: $missing" >&2
	echo "deps: run 'make deps' as root, or: apt-get install $missing" >&2
	exit 1
fi
echo "deps: installing $missing"
export DEBIAN_FRONTEND=noninteractive
# The postinst of postgresql, redis-server and dovecot-core would start
# system-wide services on the default ports.  Tests never use them, so forbid every
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
deps_apt update -qq
# shellcheck disable=SC2086
deps_apt install -y -qq --no-install-recommends $missing
