#!/bin/sh
# extras_build.sh -- build OpenSMTPD-extras table drivers, unmodified,
# against our api/ and libsmtpd-api.a (issue 7.2).
#
#   regress/drivers/extras_build.sh SRCDIR [OUTDIR]
#
# SRCDIR holds extras' table_passwd.c, table_sqlite.c, table_redis.c and
# table_postgres.c (flat, or anywhere below it, as in an extras checkout:
# extras/tables/table-sqlite/table_sqlite.c).  Their code is not ours and
# is never copied into this tree: keep it outside (e.g. under /tmp).
# Each found driver is compiled with api/ and api/compat/ on the include
# path (the glue's smtpd-api.h, smtpd-defines.h and log.h), linked with
# $BUILD/libsmtpd-api.a and its database library, into OUTDIR/table-NAME
# (default: SRCDIR/build).  BUILD is $SMTPD_BUILD or ./obj; run `make`
# first.  CC defaults to cc.
#
# extras' own "includes.h" (its autoconf config.h and openbsd-compat)
# belongs to extras' build, not to the glue: a one-line stand-in is
# written to OUTDIR/include, and strlcpy/strlcat/strtonum come from
# libbsd-overlay, as for our own build.
#
# Prints one line per driver: "built", "FAILED (...)" or "skipped
# (...)", the exact commands with -x.  Exit status: 0 when every driver
# found built, 1 otherwise (or when none was found), 2 on a usage
# error.  Touches nothing outside OUTDIR.
set -u

usage() {
	echo "usage: $0 [-x] SRCDIR [OUTDIR]" >&2
	exit 2
}

trace=0
if [ "${1:-}" = "-x" ]; then
	trace=1
	shift
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
src=$1
[ -d "$src" ] || { echo "$0: $src: not a directory" >&2; exit 2; }
out=${2:-$src/build}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SMTPD_BUILD:-$root/obj}
lib=$build/libsmtpd-api.a
cc=${CC:-cc}
if [ ! -f "$lib" ]; then
	echo "$0: $lib missing: run make first" >&2
	exit 2
fi
if ! pkg-config --exists libbsd-overlay; then
	echo "$0: libbsd-overlay missing: apt-get install libbsd-dev" >&2
	exit 2
fi

mkdir -p "$out/include" || exit 2
cat > "$out/include/includes.h" <<'EOF'
/* stand-in for OpenSMTPD-extras' build header (config.h, openbsd-compat):
 * libbsd-overlay on the command line provides what it provided */
EOF

bsdcflags=$(pkg-config --cflags libbsd-overlay)
bsdlibs=$(pkg-config --libs libbsd-overlay)
status=0
found=0
for name in passwd sqlite redis postgres; do
	file=$(find "$src" -name "table_$name.c" -type f 2>/dev/null | \
	    sort | head -n 1)
	if [ -z "$file" ]; then
		echo "table-$name: skipped (no table_$name.c under $src)"
		continue
	fi
	found=$((found + 1))
	case $name in
	sqlite)		pkg=sqlite3;	dev=libsqlite3-dev ;;
	redis)		pkg=hiredis;	dev=libhiredis-dev ;;
	postgres)	pkg=libpq;	dev=libpq-dev ;;
	*)		pkg=;		dev= ;;
	esac
	dbcflags=''
	dblibs=''
	if [ -n "$pkg" ]; then
		if ! pkg-config --exists "$pkg"; then
			echo "table-$name: FAILED (no $pkg: apt-get install $dev)"
			status=1
			continue
		fi
		dbcflags=$(pkg-config --cflags "$pkg")
		dblibs=$(pkg-config --libs "$pkg")
	fi
	# shellcheck disable=SC2086 # the pkg-config flags are word lists
	set -- $cc -std=gnu11 -D_GNU_SOURCE $bsdcflags $dbcflags \
	    -I"$out/include" -I"$root/api" -I"$root/api/compat" \
	    -o "$out/table-$name" "$file" "$lib" $dblibs $bsdlibs
	[ $trace -eq 1 ] && echo "+ $*"
	if "$@" 2> "$out/table-$name.log"; then
		n=$(grep -c 'warning:' "$out/table-$name.log")
		echo "table-$name: built ($n compiler warnings of the" \
		    "driver's own code, see $out/table-$name.log)"
	else
		if grep -q 'undefined reference' "$out/table-$name.log"; then
			why="link: $(grep -o "undefined reference to \`[^']*'" \
			    "$out/table-$name.log" | sort -u | \
			    sed "s/undefined reference to //" | tr '\n' ' ')"
		else
			why="compile: $(grep -m1 'error' "$out/table-$name.log")"
		fi
		echo "table-$name: FAILED ($why)"
		status=1
	fi
done
if [ $found -eq 0 ]; then
	echo "$0: no extras driver source under $src" >&2
	exit 1
fi
exit $status
