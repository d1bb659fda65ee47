#!/bin/sh
# Builds the tiny guest's initramfs: a static busybox with its applet links,
# /init (rootfs/init) and a few files from rootfs/, packed as a gzipped cpio
# (newc) archive <outdir>/tiny-initrd.img. With a kernel tree (the unpacked
# linux-image package: <kernel tree>/lib/modules/<release>), the modules in
# modules.txt and their dependencies (from modules.dep) are added.
#   guest-images/tiny/build.sh <outdir> <busybox path> [<kernel tree> <release>]
# <busybox path> must be a statically linked busybox (Debian: busybox-static,
# /bin/busybox). Needs cpio and gzip. Deterministic: fixed owners, sorted
# entries, gzip -n.
set -eu

usage() {
	echo "usage: $0 <outdir> <busybox path>" >&2
	exit 2
}

[ $# -eq 2 ] || [ $# -eq 4 ] || usage
OUTDIR=$1
BUSYBOX=$2
KTREE=${3:-}
KREL=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)

[ -x "$BUSYBOX" ] || { echo "$0: $BUSYBOX: not an executable" >&2; exit 1; }
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q "program interpreter"; then
	echo "$0: $BUSYBOX is dynamically linked; use the static busybox (busybox-static)" >&2
	exit 1
fi
for tool in cpio gzip; do
	command -v $tool >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/keel-tiny.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT INT TERM

mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/usr/bin" "$ROOT/usr/sbin" \
	"$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/tmp" "$ROOT/root" \
	"$ROOT/etc" "$ROOT/run"
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
chmod 0755 "$ROOT/bin/busybox"
# rootfs/ first: its files (e.g. sbin/poweroff) take the place of applets.
cp -R "$HERE/rootfs/." "$ROOT/"
chmod 0755 "$ROOT/init"
"$ROOT/bin/busybox" --list-full | while read -r applet; do
	[ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done

# add_module NAME: copy the module and what modules.dep says it needs.
add_module() {
	moddir=$KTREE/lib/modules/$KREL
	line=$(grep -E "(^|/)$(echo "$1" | sed 's/[-_]/[-_]/g')\.ko(\.[a-z]+)?:" "$moddir/modules.dep") || {
		echo "$0: module $1 not found in $moddir/modules.dep" >&2
		exit 1
	}
	for f in ${line%%:*} ${line#*:}; do
		mkdir -p "$ROOT/lib/modules/$KREL/$(dirname "$f")"
		cp "$moddir/$f" "$ROOT/lib/modules/$KREL/$f"
	done
}
if [ -n "$KTREE" ]; then
	for m in $(grep -v '^#' "$HERE/modules.txt"); do
		add_module "$m"
	done
	cp "$KTREE/lib/modules/$KREL/modules.order" "$KTREE/lib/modules/$KREL/modules.builtin" \
		"$ROOT/lib/modules/$KREL/" 2>/dev/null || true
	depmod -b "$ROOT" "$KREL"
fi
# /dev/console for the kernel to open before devtmpfs is mounted (needs
# root; the kernel falls back to devtmpfs's own node otherwise).
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true

(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$OUTDIR/tiny-initrd.img.tmp"
mv -f "$OUTDIR/tiny-initrd.img.tmp" "$OUTDIR/tiny-initrd.img"
echo "$OUTDIR/tiny-initrd.img: $(wc -c <"$OUTDIR/tiny-initrd.img") bytes"
