#!/bin/sh
# Builds the tiny guest's disk root image: a small read-only squashfs (xz)
# <outdir>/tiny-root.squashfs holding a static busybox with its applet
# links, the tiny guest's /etc (etc/: inittab, rcS, udhcpc script, profile,
# passwd, group, acpi scripts; the same userland the shared initramfs
# carries for the diskless tiny preset) and root/ (files only the disk image
# has, such as the marker /etc/keel-image, "tiny-root"). The shared guest
# initramfs boots it with root=/dev/vda, under a RAM overlay.
#   guest-images/tiny/build-root.sh <outdir> <busybox path>
# <busybox path> must be a statically linked busybox (Debian: busybox-static,
# /bin/busybox). Needs mksquashfs (squashfs-tools). Deterministic: owners
# root, timestamps 0, sorted by mksquashfs.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

[ $# -eq 2 ] || { echo "usage: $0 <outdir> <busybox path>" >&2; exit 2; }
OUTDIR=$1
BUSYBOX=$2

need_tools mksquashfs:squashfs-tools readelf:binutils
[ -x "$BUSYBOX" ] || die "$BUSYBOX: not an executable (install busybox-static)"
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q "program interpreter"; then
	die "$BUSYBOX is dynamically linked; use the static busybox (apt-get install busybox-static)"
fi

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/keel-tiny-root.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT INT TERM

# Mount points for what the initramfs moves over (proc, sys, dev) and the
# usual directories; /tmp and the rest are writable through the overlay.
busybox_tree "$ROOT" "$BUSYBOX" "$HERE/etc"
cp -R "$HERE/root/." "$ROOT/"
echo tiny >"$ROOT/etc/hostname"
busybox_links "$ROOT"
[ -L "$ROOT/sbin/init" ] || [ -e "$ROOT/sbin/init" ] || die "busybox has no init applet"

rm -f "$OUTDIR/tiny-root.squashfs.tmp"
mksquashfs "$ROOT" "$OUTDIR/tiny-root.squashfs.tmp" -noappend -all-root \
	-comp xz -mkfs-time 0 -all-time 0 -quiet -no-progress >/dev/null ||
	die "mksquashfs failed"
mv -f "$OUTDIR/tiny-root.squashfs.tmp" "$OUTDIR/tiny-root.squashfs"
say "tiny-root.squashfs: $(size_of "$OUTDIR/tiny-root.squashfs")"
