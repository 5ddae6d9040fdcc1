#!/bin/sh
# debunpack.sh -- fetch Debian packages and unpack them, without
# installing them, for the tests and the benchmark that need another
# mail server's programs beside ours (Postfix's smtp-sink, Postfix
# itself, OpenSMTPD 6.8): installing those would make them this
# machine's MTA and start their services.
#
#   sh scripts/debunpack.sh DIR PACKAGE...
#
# Each PACKAGE is downloaded once into DIR/debs (apt-get download, as
# root or as an ordinary user) and unpacked with dpkg -x into DIR/root;
# a second call finds DIR/root/.PACKAGE and does nothing.  Programs are
# then run from DIR/root with LD_LIBRARY_PATH naming their private
# library folders (Postfix: DIR/root/usr/lib/postfix).  Prints DIR/root
# on success; exits 1, naming the package, when one cannot be fetched
# (no network, no such package): callers report their test as not run.
set -eu

if [ $# -lt 2 ]; then
	echo "usage: debunpack.sh DIR PACKAGE..." >&2
	exit 2
fi
dir=$1
shift
mkdir -p "$dir/debs" "$dir/root"
dir=$(cd "$dir" && pwd)

for pkg in "$@"; do
	case $pkg in
	*[!a-z0-9.+-]*|'')
		echo "debunpack: bad package name: $pkg" >&2
		exit 2;;
	esac
	[ -e "$dir/root/.$pkg" ] && continue
	# apt-get download writes into the current directory
	if ! (cd "$dir/debs" && apt-get -q download "$pkg" \
	    >/dev/null 2>"$dir/debs/$pkg.err"); then
		echo "debunpack: cannot download $pkg:" \
		    "$(tail -n 1 "$dir/debs/$pkg.err")" >&2
		exit 1
	fi
	deb=$(ls -t "$dir/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ] || ! dpkg -x "$deb" "$dir/root"; then
		echo "debunpack: cannot unpack $pkg" >&2
		exit 1
	fi
	: >"$dir/root/.$pkg"
done
echo "$dir/root"
