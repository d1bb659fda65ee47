#!/bin/sh
# Builds the tiny guest's disk root image: a small read-only squashfs
# (xz) <outdir>/tiny-root.squashfs holding a static busybox with its applet
# links, the tiny guest's /etc (rootfs/etc: inittab, profile, passwd, group,
# acpi scripts, so the shell on ttyS0 and keel shutdown/reboot work as in
# the initramfs) and root/ (files only the disk image has, such as the
# marker /etc/keel-image, "tiny-root"). The tiny initramfs boots from it
# with root=/dev/vda (see rootfs/init), under a RAM overlay.
#   guest-images/tiny/build-root.sh <outdir> <busybox path>
# <busybox path> must be a statically linked busybox (Debian: busybox-static,
# /bin/busybox). Needs mksquashfs (squashfs-tools). Deterministic: owners
# root, fixed timestamps, sorted by mksquashfs.
set -eu

usage() {
	echo "usage: $0 <outdir> <busybox path>" >&2
	exit 2
}

[ $# -eq 2 ] || usage
OUTDIR=$1
BUSYBOX=$2
HERE=$(cd "$(dirname "$0")" && pwd)

[ -x "$BUSYBOX" ] || { echo "$0: $BUSYBOX: not an executable" >&2; exit 1; }
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q "program interpreter"; then
	echo "$0: $BUSYBOX is dynamically linked; use the static busybox (busybox-static)" >&2
	exit 1
fi
command -v mksquashfs >/dev/null || {
	echo "$0: mksquashfs not found (install squashfs-tools)" >&2
	exit 1
}

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/keel-tiny-root.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT INT TERM

# Mount points for what the initramfs moves over (proc, sys, dev) and the
# usual directories; /tmp and the rest are writable through the overlay.
mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/usr/bin" "$ROOT/usr/sbin" \
	"$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/tmp" "$ROOT/root" \
	"$ROOT/etc" "$ROOT/run" "$ROOT/var/log" "$ROOT/var/run" "$ROOT/mnt"
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"
cp "$BUSYBOX" "$ROOT/bin/busybox"
chmod 0755 "$ROOT/bin/busybox"
cp -R "$HERE/rootfs/etc/." "$ROOT/etc/"
cp -R "$HERE/root/." "$ROOT/"
"$ROOT/bin/busybox" --list-full | while read -r applet; do
	[ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
[ -L "$ROOT/sbin/init" ] || [ -e "$ROOT/sbin/init" ] || { echo "$0: busybox has no init applet" >&2; exit 1; }

rm -f "$OUTDIR/tiny-root.squashfs.tmp"
mksquashfs "$ROOT" "$OUTDIR/tiny-root.squashfs.tmp" -noappend -all-root \
	-comp xz -mkfs-time 0 -all-time 0 -quiet -no-progress >/dev/null
mv -f "$OUTDIR/tiny-root.squashfs.tmp" "$OUTDIR/tiny-root.squashfs"
echo "$OUTDIR/tiny-root.squashfs: $(wc -c <"$OUTDIR/tiny-root.squashfs") bytes"
