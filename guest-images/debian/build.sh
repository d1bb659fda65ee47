#!/bin/sh
# The Debian guest's cheap step: turns a copy of the debootstrapped base
# (debootstrap.sh's <base>/rootfs) into the guest's root image
# <outdir>/debian.squashfs (xz). No network needed. It
#  - adds this directory's rootfs/ (networkd DHCP on eth0, journald in RAM,
#    logind button actions, root autologin on ttyS0, /etc/issue banner,
#    apt and dpkg settings that keep the image small, keel-announce);
#  - sets root's password to empty, enables systemd-networkd, resolved and
#    keel-announce, masks what a short-lived RAM-backed guest does not need
#    (apt/dpkg/e2scrub/fstrim timers, network wait-online, hwdb rebuild) and
#    the VT gettys;
#  - removes documentation, manual pages, translations (dpkg path-exclude,
#    rootfs/etc/dpkg/dpkg.cfg.d/keel-nodoc), package lists and caches,
#    logs, udev's hardware database and the machine id (the initramfs
#    writes a fresh one for every instance).
# The customized tree stays in <workdir>/rootfs: the web appliance layer is
# built on top of it (guest-images/web/build.sh).
#   guest-images/debian/build.sh <base> <workdir> <outdir> [<name>]
# <name> (default debian) names the image, <outdir>/<name>.squashfs; for
# another release, guest-images/<name>/rootfs goes over this directory's
# rootfs/ (its /etc/keel-image, /etc/issue, motd and apt sources).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"

[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: $0 <base> <workdir> <outdir> [<name>]" >&2; exit 2; }
BASE=$1
WORK=$2
OUTDIR=$3
NAME=${4:-debian}

need_root
need_tools mksquashfs:squashfs-tools chroot:coreutils
[ -d "$BASE/rootfs/usr" ] && [ -f "$BASE/epoch" ] ||
	die "$BASE is not a debootstrapped base (no rootfs/ or epoch; run debootstrap.sh first)"
EPOCH=$(cat "$BASE/epoch")
trap 'chroot_leave_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$WORK" "$OUTDIR"
R=$WORK/rootfs
rm_tree "$R"
say "copying the base system"
cp -a "$BASE/rootfs" "$R"
cp -R --remove-destination "$HERE/rootfs/." "$R/"
if [ "$NAME" != debian ]; then
	[ -d "$HERE/../$NAME/rootfs" ] || die "no guest-images/$NAME/rootfs for the image $NAME"
	cp -R --remove-destination "$HERE/../$NAME/rootfs/." "$R/"
fi

say "configuring"
chroot_enter "$R"
in_chroot "$R" passwd -q -d root
in_chroot "$R" systemctl -q enable systemd-networkd.service systemd-resolved.service \
	keel-announce.service keel-net.service
for u in systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
	systemd-hwdb-update.service getty@tty1.service; do
	in_chroot "$R" systemctl -q mask "$u"
done
chroot_leave "$R"
# resolved's stub (the DHCP server's DNS and search domain keel)
ln -sf ../run/systemd/resolve/stub-resolv.conf "$R/etc/resolv.conf"

say "removing documentation, translations, caches and logs"
# what rootfs/etc/dpkg/dpkg.cfg.d/keel-nodoc excludes from now on
find "$R/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$R/usr/share/man" "$R/usr/share/info" "$R/usr/share/groff" "$R/usr/share/lintian" \
	"$R/usr/share/linda"
find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf "$R/var/lib/apt/lists" "$R/var/cache/apt" "$R/var/cache/debconf"/*-old \
	"$R/var/lib/dpkg"/*-old "$R/debootstrap"
mkdir -p "$R/var/lib/apt/lists/partial" "$R/var/cache/apt/archives/partial"
find "$R/var/log" -type f -delete
rm -rf "$R/var/log/journal"  # journald keeps its journal in /run (Storage=volatile)
rm -f "$R/etc/udev/hwdb.bin" "$R/usr/lib/udev/hwdb.bin"
rm -rf "$R/usr/lib/udev/hwdb.d"
rm -f "$R/root/.bash_history" "$R/etc/ssh"/ssh_host_* 2>/dev/null || true
# An empty machine id: the initramfs writes a fresh one at every boot.
: >"$R/etc/machine-id"
ln -sf /etc/machine-id "$R/var/lib/dbus/machine-id"
# systemd never lets the clock start before this file's time (for a
# machine whose RTC is wrong: the guest's virtual RTC follows the machine's).
touch -d "@$EPOCH" "$R/usr/lib/clock-epoch"

say "writing $NAME.squashfs"
make_squashfs "$R" "$OUTDIR/$NAME.squashfs" "$EPOCH"
say "$NAME.squashfs: $(size_of "$OUTDIR/$NAME.squashfs") ($(du -sm "$R" | cut -f1) MiB unpacked)"
