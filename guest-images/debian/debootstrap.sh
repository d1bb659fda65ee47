#!/bin/sh
# The Debian guests' slow step: debootstrap a Debian release (bookworm by
# default, variant minbase plus packages.txt, no recommends) from Debian's
# archive into <outdir>/rootfs, then bring it up to date with
# <suite>-updates and <suite>-security. build.sh caches the result (only
# packages.txt, this script and the mirrors make it run again); build.sh
# (the cheap step) turns a copy of it into <name>.squashfs.
#   guest-images/debian/debootstrap.sh [--suite S] [--kernel] <outdir> [<deb cache dir>]
# Writes <outdir>/rootfs and <outdir>/epoch (the build time, used as the
# image's timestamps). <deb cache dir> keeps the downloaded .debs for the
# next run. --kernel also fetches the release's own kernel package (what
# linux-image-amd64 depends on, downloaded and verified by the new
# system's apt) and unpacks it into <outdir>/kernel, with its release in
# <outdir>/kernel/release; the root file system itself gets no kernel.
# Environment:
#   KEEL_DEBIAN_MIRROR    default http://deb.debian.org/debian
#   KEEL_DEBIAN_SECURITY  default http://deb.debian.org/debian-security
# Needs root, debootstrap, wget and debian-archive-keyring.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

SUITE=bookworm
KERNEL=0
while [ $# -gt 0 ]; do
	case $1 in
	--suite) [ $# -ge 2 ] || die "--suite needs a release name (bookworm, trixie)"; SUITE=$2; shift 2 ;;
	--kernel) KERNEL=1; shift ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] && [ $# -le 2 ] ||
	{ echo "usage: $0 [--suite S] [--kernel] <outdir> [<deb cache dir>]" >&2; exit 2; }
OUT=$1
DEBCACHE=${2:-}
MIRROR=${KEEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${KEEL_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

need_root
need_tools debootstrap:debootstrap wget:wget chroot:coreutils depmod:kmod dpkg-deb:dpkg
[ -f "$KEYRING" ] || die "$KEYRING missing; install it: apt-get install debian-archive-keyring"

# Fail early, and clearly, when the archive cannot be reached.
say "checking $MIRROR"
if ! wget -q -T 20 -t 2 -O /dev/null "$MIRROR/dists/$SUITE/InRelease"; then
	die "cannot reach Debian's archive: $MIRROR/dists/$SUITE/InRelease could not be fetched (no network, a proxy needed in http_proxy, or a bad mirror). Fix the network, or point KEEL_DEBIAN_MIRROR at a reachable Debian mirror, and run build.sh again."
fi

PKGS=$(sed -e 's/#.*//' "$HERE/packages.txt" | tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//' | tr ' ' ',')
mkdir -p "$(dirname "$OUT")"
TMP=$OUT.tmp
trap 'chroot_leave_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm_tree "$TMP"
mkdir -p "$TMP"

say "debootstrap $SUITE (minbase + $(echo "$PKGS" | tr ',' ' ')) from $MIRROR"
if [ -n "$DEBCACHE" ]; then
	mkdir -p "$DEBCACHE"
	DEBCACHE=$(cd "$DEBCACHE" && pwd)
fi
if ! debootstrap --variant=minbase --components=main --include="$PKGS" \
	--keyring="$KEYRING" ${DEBCACHE:+--cache-dir="$DEBCACHE"} \
	"$SUITE" "$TMP/rootfs" "$MIRROR"; then
	if [ -f "$TMP/rootfs/debootstrap/debootstrap.log" ]; then
		echo "---- end of debootstrap.log ----" >&2
		tail -n 15 "$TMP/rootfs/debootstrap/debootstrap.log" >&2
	fi
	if grep -qs -e 'Failed getting release file' -e 'Couldn.t download' -e 'Could not resolve' \
		"$TMP/rootfs/debootstrap/debootstrap.log"; then
		die "debootstrap could not download from Debian's archive at $MIRROR (network, proxy or mirror problem); fix it or set KEEL_DEBIAN_MIRROR and run build.sh again"
	fi
	die "debootstrap $SUITE failed (see its output above)"
fi

say "updating from $SUITE-updates and $SUITE-security"
R=$TMP/rootfs
cat >"$R/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
chroot_enter "$R"
in_chroot "$R" apt-get -q --error-on=any update ||
	die "apt-get update in the new system failed: cannot reach $MIRROR or $SECURITY (set KEEL_DEBIAN_MIRROR / KEEL_DEBIAN_SECURITY)"
in_chroot "$R" apt-get -q -y -o Dpkg::Options::=--force-confold --no-install-recommends dist-upgrade ||
	die "apt-get dist-upgrade in the new system failed (see its output above)"
if [ "$KERNEL" = 1 ]; then
	# The release's own kernel: the image package linux-image-amd64 points
	# at, fetched by the new system's apt (verified against its signed
	# Release file) and unpacked beside the root file system, not in it.
	kpkg=$(in_chroot "$R" apt-cache depends linux-image-amd64 |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$kpkg" ] || die "linux-image-amd64 of $SUITE depends on no linux-image-<release> package"
	say "fetching $SUITE's kernel ($kpkg)"
	in_chroot "$R" sh -c "cd /tmp && apt-get -q download $kpkg" ||
		die "apt-get download $kpkg failed (see its output above)"
	mkdir -p "$TMP/kernel"
	dpkg-deb -x "$R"/tmp/"$kpkg"_*.deb "$TMP/kernel"
	rm -f "$R"/tmp/"$kpkg"_*.deb
	krel=${kpkg#linux-image-}
	krel=${krel%-unsigned}
	[ -f "$TMP/kernel/boot/vmlinuz-$krel" ] || die "$kpkg holds no boot/vmlinuz-$krel"
	# Releases after bookworm install the modules under /usr/lib/modules.
	if [ ! -d "$TMP/kernel/lib/modules/$krel" ] && [ -d "$TMP/kernel/usr/lib/modules/$krel" ]; then
		mkdir -p "$TMP/kernel/lib/modules"
		mv "$TMP/kernel/usr/lib/modules/$krel" "$TMP/kernel/lib/modules/"
	fi
	depmod -b "$TMP/kernel" "$krel"
	echo "$krel" >"$TMP/kernel/release"
fi
in_chroot "$R" apt-get clean
chroot_leave "$R"

date +%s >"$TMP/epoch"
rm_tree "$OUT"
mv "$TMP" "$OUT"
say "base system in $OUT/rootfs: $(du -sm "$OUT/rootfs" | cut -f1) MiB unpacked"
[ "$KERNEL" = 0 ] || say "$SUITE's kernel $(cat "$OUT/kernel/release") in $OUT/kernel"
