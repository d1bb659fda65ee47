#!/bin/sh
# The web appliance: a small squashfs layer <outdir>/web.squashfs that goes
# on top of the Debian guest image (the guest boots with root=/dev/vda, the
# Debian image, and keel.layers=/dev/vdb, this layer). Only what differs
# from the Debian image is in it: lighttpd (packages.txt) and this
# directory's rootfs/ (lighttpd.conf, the status page index.cgi, /etc/issue,
# /etc/keel-image). Built by installing into an overlay mount whose lower
# layer is the customized Debian tree (guest-images/debian/build.sh's
# <workdir>/rootfs) and keeping the overlay's upper directory, whiteouts
# and opaque directories included, which the guest's overlay honours in a
# lower layer. Needs the network (apt-get) and root.
#   guest-images/web/build.sh <debian rootfs> <workdir> <outdir>
# Environment: KEEL_DEBIAN_MIRROR, KEEL_DEBIAN_SECURITY as for
# guest-images/debian/debootstrap.sh (the image's own sources.list is kept).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

[ $# -eq 3 ] || { echo "usage: $0 <debian rootfs> <workdir> <outdir>" >&2; exit 2; }
LOWER=$(cd "$1" && pwd)
WORK=$2
OUTDIR=$3
MIRROR=${KEEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${KEEL_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}

need_root
need_tools mksquashfs:squashfs-tools chroot:coreutils getfattr:attr setfattr:attr
[ -f "$LOWER/etc/keel-image" ] || die "$LOWER is not the Debian guest tree (run guest-images/debian/build.sh first)"

mkdir -p "$WORK" "$OUTDIR"
WORK=$(cd "$WORK" && pwd)
UPPER=$WORK/upper
MERGED=$WORK/merged
cleanup() {
	chroot_leave_all
	if mountpoint -q "$MERGED" 2>/dev/null; then umount "$MERGED" || umount -l "$MERGED"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm_tree "$MERGED"
rm_tree "$UPPER"
rm_tree "$WORK/ovl-work"
mkdir -p "$UPPER" "$WORK/ovl-work" "$MERGED"
mount -t overlay overlay \
	-o "lowerdir=$LOWER,upperdir=$UPPER,workdir=$WORK/ovl-work" "$MERGED" ||
	die "cannot mount an overlay on $WORK (the build needs overlayfs: modprobe overlay)"

PKGS=$(sed -e 's/#.*//' "$HERE/packages.txt" | tr -s ' \t\n' '   ')
say "installing $PKGS"
chroot_enter "$MERGED"
SRC=$MERGED/etc/apt/sources.list
mv "$SRC" "$SRC.keel-image"
cat >"$SRC" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
EOF
in_chroot "$MERGED" apt-get -q --error-on=any update ||
	die "apt-get update failed: cannot reach Debian's archive at $MIRROR or $SECURITY (network, proxy or mirror; set KEEL_DEBIAN_MIRROR / KEEL_DEBIAN_SECURITY)"
# shellcheck disable=SC2086
in_chroot "$MERGED" apt-get -q -y --no-install-recommends install $PKGS ||
	die "apt-get install $PKGS failed (see its output above)"
mv -f "$SRC.keel-image" "$SRC"
cp -R "$HERE/rootfs/." "$MERGED/"
in_chroot "$MERGED" systemctl -q enable lighttpd.service
chroot_leave "$MERGED"
umount "$MERGED"

say "trimming the layer"
# Caches, package lists and logs: dropping them from the upper directory
# shows the (already clean) Debian image's versions again.
rm -rf "$UPPER/var/lib/apt/lists" "$UPPER/var/cache/apt" "$UPPER/var/log" \
	"$UPPER/var/cache/debconf"/*-old "$UPPER/var/lib/dpkg"/*-old "$UPPER/root/.bash_history"
# Files the build moved aside and put back are copies of the image's own.
for f in etc/resolv.conf etc/apt/sources.list; do
	if [ -L "$UPPER/$f" ] && [ -L "$LOWER/$f" ]; then
		[ "$(readlink "$UPPER/$f")" != "$(readlink "$LOWER/$f")" ] || rm -f "$UPPER/$f"
	elif [ -f "$UPPER/$f" ] && [ -f "$LOWER/$f" ] && cmp -s "$UPPER/$f" "$LOWER/$f"; then
		rm -f "$UPPER/$f"
	fi
done
# Keep only the overlay attribute the guest needs (opaque directories);
# origin/impure/uuid describe this build host's file systems.
getfattr -R -h -m '^trusted\.overlay\.' --absolute-names "$UPPER" 2>/dev/null |
	awk '/^# file: / { f = substr($0, 9) } /^trusted\.overlay\./ && $0 != "trusted.overlay.opaque" { print $0 "\t" f }' |
	while IFS="$(printf '\t')" read -r attr file; do
		setfattr -h -x "$attr" "$file"
	done

say "writing web.squashfs"
make_squashfs "$UPPER" "$OUTDIR/web.squashfs" "$(stat -c %Y "$LOWER/usr/lib/clock-epoch")"
say "web.squashfs: $(size_of "$OUTDIR/web.squashfs") (a layer over debian.squashfs)"
