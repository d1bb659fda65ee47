#!/bin/sh
# Builds the initramfs every Keel guest boots with: <outdir>/guest-initrd.img
# (gzipped cpio, newc). It holds a static busybox with its applet links,
# /init (this directory's init: root image + layers under a RAM overlay, or
# the tiny shell), the tiny guest's userland (../tiny/etc) and the kernel
# modules of modules.txt with their dependencies (modules.dep and modinfo
# softdeps), taken from the unpacked linux-image package, and, if given,
# the static bench programs (bench/keel-*.c, built by build.sh) in /usr/bin.
#   guest-images/initramfs/build.sh <outdir> <busybox> <kernel tree> <release> [<program>...]
# <busybox> must be statically linked (Debian: busybox-static, /bin/busybox);
# <kernel tree> is the unpacked image package (<tree>/lib/modules/<release>
# with modules.dep; compressed modules, .ko.xz or .ko.zst, are stored
# uncompressed). Needs cpio, gzip, kmod (modprobe, modinfo, depmod), xz.
# Deterministic: fixed owners, sorted entries, gzip -n.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

[ $# -ge 4 ] ||
	{ echo "usage: $0 <outdir> <busybox> <kernel tree> <release> [<program>...]" >&2; exit 2; }
OUTDIR=$1
BUSYBOX=$2
KTREE=$(cd "$3" && pwd)
KREL=$4
shift 4

need_tools cpio:cpio gzip:gzip xz:xz-utils modprobe:kmod modinfo:kmod depmod:kmod readelf:binutils
[ -x "$BUSYBOX" ] || die "$BUSYBOX: not an executable (install busybox-static)"
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q "program interpreter"; then
	die "$BUSYBOX is dynamically linked; use the static busybox (apt-get install busybox-static)"
fi
MODDIR=$KTREE/lib/modules/$KREL
[ -f "$MODDIR/modules.dep" ] || die "$MODDIR/modules.dep missing (run build.sh's download stage)"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/keel-initramfs.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT INT TERM

busybox_tree "$ROOT" "$BUSYBOX" "$HERE/../tiny/etc"
cp "$HERE/init" "$ROOT/init"
chmod 0755 "$ROOT/init"
if [ $# -gt 0 ]; then
	mkdir -p "$ROOT/usr/bin"
	install -m 0755 "$@" "$ROOT/usr/bin/"
fi
busybox_links "$ROOT"

# Modules: each one of modules.txt, what modprobe says it needs (modules.dep
# and softdep pre:/post: from modinfo), written in load order to
# /etc/keel-modules for /init.
MODS=$(sed -e 's/#.*//' "$HERE/modules.txt" | tr -s ' \t' '\n\n' | grep -v '^$')
n=0
add_module() {
	deps=$(modprobe -d "$KTREE" -S "$KREL" --show-depends "$1" 2>/dev/null) ||
		die "module $1 (modules.txt) is not in $MODDIR"
	for f in $(echo "$deps" | awk '$1 == "insmod" { print $2 }'); do
		rel=${f#"$KTREE"}
		ko=${rel%.xz}
		ko=${ko%.zst}
		[ -f "$ROOT$ko" ] && continue
		mkdir -p "$(dirname "$ROOT$rel")"
		cp "$f" "$ROOT$rel"
		# Releases after bookworm compress their modules; busybox's
		# modprobe loads plain ones (depmod below indexes what is here).
		case $rel in
		*.xz) xz -d "$ROOT$rel" ;;
		*.zst) zstd -q -d --rm "$ROOT$rel" ;;
		esac
		n=$((n + 1))
	done
}
for m in $MODS; do
	add_module "$m"
	for s in $(modinfo -b "$KTREE" -k "$KREL" -F softdep "$m" 2>/dev/null |
		tr ' ' '\n' | grep -v -e ':$' -e '^$'); do
		add_module "$s"
	done
done
echo $MODS >"$ROOT/etc/keel-modules"
cp "$MODDIR/modules.order" "$MODDIR/modules.builtin" "$MODDIR/modules.builtin.modinfo" \
	"$ROOT/lib/modules/$KREL/"
depmod -b "$ROOT" "$KREL"

# /dev/console for the kernel to open before devtmpfs is mounted.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true

(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$OUTDIR/guest-initrd.img.tmp"
mv -f "$OUTDIR/guest-initrd.img.tmp" "$OUTDIR/guest-initrd.img"
say "guest-initrd.img: $(size_of "$OUTDIR/guest-initrd.img"), $n modules"
