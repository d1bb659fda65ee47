# guest-images/lib.sh - shell helpers shared by the guest image recipes
# (sourced, not run): messages, tool checks, chroot mounts that are always
# undone, tree removal that refuses to cross a mount, and the squashfs
# writer. The recipes run as root (debootstrap, chroot, mknod).

# die MESSAGE: print "<recipe>: MESSAGE" on stderr and exit 1.
die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# say MESSAGE: a progress line.
say() {
	echo "${0##*/}: $*"
}

# need_tools TOOL:PACKAGE...: fail naming the Debian package of a missing tool.
need_tools() {
	for tp in "$@"; do
		command -v "${tp%%:*}" >/dev/null 2>&1 ||
			die "${tp%%:*} not found; install it: apt-get install ${tp#*:}"
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (chroot, mknod, mount); run it through sudo ./build.sh"
}

# mounts_under DIR: the mount points at or below DIR (none: no output).
# /proc/self/mounts names them by their physical path, so DIR is resolved
# first: reached through a symbolic link (a cache/ linked elsewhere), its
# mounts would otherwise go unseen, stay mounted, and a later cp -a of the
# tree would copy the live /proc.
mounts_under() {
	d=$(cd "$1" 2>/dev/null && pwd -P) || d=$1
	awk -v d="$d" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts
}

# rm_tree DIR: rm -rf DIR, but never through a mount point below it (a
# leftover /proc or bind mount from an interrupted build).
rm_tree() {
	[ -e "$1" ] || return 0
	m=$(mounts_under "$1")
	[ -z "$m" ] || die "refusing to remove $1: still mounted below it: $m (umount them first)"
	rm -rf -- "$1"
}

# chroot_enter DIR: mount /proc and a private /dev/pts in DIR and forbid
# service starts (policy-rc.d), for apt/dpkg inside. Undo with chroot_leave.
CHROOTS=""
chroot_enter() {
	mkdir -p "$1/proc" "$1/dev/pts" "$1/usr/sbin"
	mount -t proc proc "$1/proc"
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$1/dev/pts" 2>/dev/null || true
	printf '#!/bin/sh\n# keel build: no service starts inside the build chroot\nexit 101\n' \
		>"$1/usr/sbin/policy-rc.d"
	chmod 0755 "$1/usr/sbin/policy-rc.d"
	# The image's resolv.conf may point into /run (systemd-resolved):
	# use the build host's name servers meanwhile.
	if [ -e "$1/etc/resolv.conf" ] || [ -L "$1/etc/resolv.conf" ]; then
		mv -f "$1/etc/resolv.conf" "$1/etc/resolv.conf.keel-build"
	fi
	cp -L /etc/resolv.conf "$1/etc/resolv.conf" 2>/dev/null || : >"$1/etc/resolv.conf"
	CHROOTS="$1 $CHROOTS"
}

# chroot_leave DIR: undo chroot_enter (also called from the EXIT trap).
chroot_leave() {
	rm -f "$1/usr/sbin/policy-rc.d"
	if [ -e "$1/etc/resolv.conf.keel-build" ] || [ -L "$1/etc/resolv.conf.keel-build" ]; then
		mv -f "$1/etc/resolv.conf.keel-build" "$1/etc/resolv.conf"
	fi
	for mp in $(mounts_under "$1" | grep -vx "$1" | sort -r); do
		umount "$mp" 2>/dev/null || umount -l "$mp"
	done
}

chroot_leave_all() {
	for c in $CHROOTS; do chroot_leave "$c"; done
	CHROOTS=""
}

# in_chroot DIR CMD...: run CMD in DIR with a clean, non-interactive
# environment.
in_chroot() {
	d=$1
	shift
	chroot "$d" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
		"$@"
}

# make_squashfs DIR OUT EPOCH: DIR -> OUT (xz, x86 BCJ filter, owners kept,
# every timestamp EPOCH so the image only changes when its files do).
make_squashfs() {
	rm -f "$2.tmp"
	mksquashfs "$1" "$2.tmp" -noappend -comp xz -Xbcj x86 -b 256K \
		-mkfs-time "$3" -all-time "$3" -quiet -no-progress >/dev/null ||
		die "mksquashfs $1 failed"
	mv -f "$2.tmp" "$2"
}

# size_of FILE: "12.3 MiB (12895744 bytes)"
size_of() {
	b=$(wc -c <"$1")
	awk -v b="$b" 'BEGIN { printf "%.1f MiB (%d bytes)", b / 1048576, b }'
}

# busybox_tree ROOT BUSYBOX ETC: the busybox userland both tiny trees share
# (the initramfs and tiny-root.squashfs): the usual directories and mount
# points, the static busybox with a link for each applet, and the files of
# ETC in /etc. Files already in ROOT (an /init, say) take an applet's place.
busybox_tree() {
	mkdir -p "$1/bin" "$1/sbin" "$1/usr/bin" "$1/usr/sbin" \
		"$1/proc" "$1/sys" "$1/dev" "$1/tmp" "$1/root" \
		"$1/etc" "$1/run" "$1/var/log" "$1/mnt"
	ln -s ../run "$1/var/run"
	chmod 1777 "$1/tmp"
	chmod 0700 "$1/root"
	cp "$2" "$1/bin/busybox"
	chmod 0755 "$1/bin/busybox"
	cp -R "$3/." "$1/etc/"
}

# busybox_links ROOT: a link to /bin/busybox for every applet not in ROOT.
busybox_links() {
	"$1/bin/busybox" --list-full | while read -r applet; do
		[ -e "$1/$applet" ] || [ -L "$1/$applet" ] || ln -s /bin/busybox "$1/$applet"
	done
}
