#!/usr/bin/env bash
# build.sh - build the Keel live CD (out/keel.iso).
#
# Stages, in order: download, hypervisor, dom0, guests, iso. Each stage keeps
# a hash of its inputs in build/stamps/<stage> and is skipped when nothing it
# reads has changed. Run `./build.sh --help` for the options.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$ROOT/build
OUT=$ROOT/out
CACHE=$ROOT/cache
STAMPS=$BUILD/stamps
LOGS=$BUILD/logs
# shellcheck source=scripts/packages.sh
. "$ROOT/scripts/packages.sh"

STAGES=(download hypervisor dom0 modules guests iso)
declare -A STAGE_NEEDS=(
	[download]=""
	[hypervisor]=""
	[dom0]="download"
	[modules]="download"
	[guests]="download"
	[iso]="hypervisor dom0 modules guests"
)
declare -A STAGE_ACTION=(
	[download]="fetching Debian's kernel and signed boot packages"
	[hypervisor]="compiling"
	[dom0]="building keel.ko, the toolstack and the initramfs"
	[modules]="packing the kernel's modules and NIC firmware for dom0"
	[guests]="building guest images"
	[iso]="writing out/keel.iso"
)
declare -A STAGE_DESC=(
	[download]="fetch Debian's kernel and signed boot (shim, GRUB) packages into cache/, verify, extract to build/kernel/ and build/signed/"
	[hypervisor]="make -C hypervisor -> build/hypervisor/keel.gz, keel.elf32"
	[dom0]="keel.ko, keel toolstack, dom0 initramfs -> build/dom0/{vmlinuz,initrd.img}"
	[modules]="the kernel's modules but dom0-rootfs/modules-exclude.txt's, and Debian's NIC firmware (firmware-realtek) -> build/modules/modules.squashfs"
	[guests]="guest initramfs, tiny/debian/web images, Debian 13 with its kernel (debootstraps cached in cache/debian/, cache/trixie/), configs/ -> build/guests/"
	[iso]="isolinux and GRUB (UEFI) staging tree build/iso-root/ -> out/keel.iso"
)

# Host packages build.sh needs (Debian 12).
HOST_PACKAGES=(gcc make libc6-dev libelf1 xorriso isolinux syslinux-common
	squashfs-tools busybox-static cpio kmod xz-utils gzip iptables dropbear-bin
	debootstrap debian-archive-keyring wget attr patch
	grub-efi-amd64-bin grub-common mtools dosfstools
	console-setup-linux)  # the framebuffer console's PSF font (hypervisor/Makefile)

# Kernel modules in dom0's initramfs (with their dependencies from
# modules.dep): only what finds and mounts the boot medium. Every other
# module (NICs, NAT, USB network adapters, ...) is on the medium in
# /dom0/modules.squashfs (stage modules), which dom0's init mounts and
# loads from by modalias (docs/architecture.md, "Dom0's drivers").
DOM0_MODULES=(
	# CD, SATA/IDE disk, NVMe, USB stick, SD card
	sr_mod cdrom isofs ata_piix ahci libahci libata scsi_mod sd_mod
	nvme nvme-core
	usb-storage uas xhci-pci xhci-hcd ehci-pci ehci-hcd uhci-hcd ohci-pci
	mmc_block sdhci-pci sdhci-acpi rtsx_pci_sdmmc
	virtio_pci virtio_blk virtio_scsi
	# keyboards, for the consoles before the medium is found
	usbhid hid-generic
	# USB sticks written with a FAT or ext4 copy of the CD
	vfat nls_cp437 nls_ascii nls_iso8859-1 nls_utf8 ext4 crc32c_generic
	# the live system and the modules' squashfs
	loop squashfs overlay
)

# Firmware on the medium for common NICs, from Debian's non-free-firmware
# component. A default Debian 12 sources.list lacks that component, so the
# package is fetched from the archive's pool at a pinned version and
# checked against its sha256 (from the bookworm Packages index).
FIRMWARE_DEBS=(
	"pool/non-free-firmware/f/firmware-nonfree/firmware-realtek_20230210-5_all.deb 586ce39fc23f8b1d121bd430f5e187c80701df650f4baba05771d828444b075c"
)

# libmicrohttpd, the HTTP server of `keel dashboard` (docs/dashboard.md):
# Debian's source package, pinned (the bookworm Sources index's sha256),
# with Debian's patches, built as a static library without HTTPS. Debian's
# binary package pulls in GnuTLS and seven more libraries (2.9 MB
# compressed), which the CD's 150 MB budget has no room for; the
# dashboard serves plain HTTP, and its token guards control.
MHD_SOURCES=(
	"pool/main/libm/libmicrohttpd/libmicrohttpd_0.9.75.orig.tar.xz 796e7e217a4802679fcac667a4e98501c53185dcf50ca0583870e84192620131"
	"pool/main/libm/libmicrohttpd/libmicrohttpd_0.9.75-6.debian.tar.xz 566c247bfbf67e20858705ae695f58db747d50ed8512f2bc46a28bef9086e5af"
)

# The dashboard page's libraries from npm, pinned (the registry's tarball
# and its sha256): NAME VERSION SHA256 FILE:AS... (FILE in the package,
# AS its name in /usr/share/keel/dashboard/). uPlot draws the charts,
# xterm.js the guests' consoles.
NPM_PACKAGES=(
	"uplot 1.6.31 015d4be9095072922bc31d8c63f93bc1b7cd5b27d14d17a1708ff76775f9eb90 dist/uPlot.iife.min.js:uplot.js dist/uPlot.min.css:uplot.css LICENSE:uplot.LICENSE"
	"@xterm/xterm 5.5.0 bd954fa721872170188cc5d7e83e88db3c83c9a18a4e8d24c2783d26491f59d2 lib/xterm.js:xterm.js css/xterm.css:xterm.css LICENSE:xterm.LICENSE"
)
NPM_REGISTRY=${KEEL_NPM_REGISTRY:-https://registry.npmjs.org}

# Dynamically linked host programs copied into dom0 with their libraries
# (the busybox userland has no NAT tool and no SSH), and the iptables
# extensions the NAT rule needs. Dropbear's server, client and key tool
# carry `keel migrate` (docs/save-restore.md, "Migration").
DOM0_PROGRAMS=(/usr/sbin/xtables-legacy-multi /usr/sbin/dropbear /usr/bin/dbclient
	/usr/bin/dropbearkey)
DOM0_XTABLES=(libxt_MASQUERADE.so libxt_standard.so libipt_MASQUERADE.so)

JOBS=$(nproc 2>/dev/null || echo 2)
VERBOSE=0
ONLY_STAGE=""
ACTION=build
CURRENT_STAGE=""
TMP_PATHS=()

usage() {
	cat <<EOF
Usage: ./build.sh [OPTIONS]

Builds out/keel.iso: the Keel hypervisor, Debian's stock kernel as dom0 with
a busybox initramfs, and an isolinux (BIOS) and GRUB (UEFI) boot menu. Run as root on Debian 12; the
first run installs the host packages it needs with apt-get.

Stages (run in this order; an unchanged stage is skipped):
EOF
	local i=1 s
	for s in "${STAGES[@]}"; do
		printf '  %d. %-11s %s\n' "$i" "$s" "${STAGE_DESC[$s]}"
		i=$((i + 1))
	done
	cat <<EOF

Options:
  --stage NAME   run only stage NAME (and the stages it needs whose outputs
                 are missing)
  --clean        remove build/ and out/ (keeps cache/: the kernel packages
                 and the debootstrapped Debian base)
  --distclean    remove build/, out/ and cache/
  -j N           parallel make jobs (default: $(nproc 2>/dev/null || echo 2))
  --verbose      show the commands' output (default: build/logs/<stage>.log)
  -h, --help     show this help

Environment: KEEL_DEBIAN_MIRROR (default http://deb.debian.org/debian) and
KEEL_DEBIAN_SECURITY (default http://deb.debian.org/debian-security): the
Debian archive the guest images are built from.

Outputs: out/keel.iso; intermediate files in build/; downloads and the
debootstrapped Debian base (cache/debian/) in cache/.
EOF
}

# ---------------------------------------------------------------- messages
log() { printf '%s\n' "$*"; }
vlog() { if [ "$VERBOSE" = 1 ]; then printf '    %s\n' "$*"; fi; }

# fail COMMAND CAUSE: print the failure line and exit non-zero.
fail() {
	trap - ERR
	set -- "${1//"$ROOT"\//}" "${2//"$ROOT"\//}"
	if [ -n "$CURRENT_STAGE" ]; then
		printf "build.sh: stage '%s' failed: %s: %s\n" "$CURRENT_STAGE" "$1" "$2" >&2
	else
		printf 'build.sh: %s: %s\n' "$1" "$2" >&2
	fi
	exit 1
}

on_err() {
	local rc=$1 cmd=$2
	fail "$cmd" "exit status $rc${LOGFILE:+ (see ${LOGFILE#"$ROOT"/})}"
}
trap 'on_err $? "$BASH_COMMAND"' ERR

cleanup() {
	local p
	for p in "${TMP_PATHS[@]+"${TMP_PATHS[@]}"}"; do
		rm -rf -- "$p"
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LOGFILE=""

# run CMD...: run a command, its output to the stage log (or the terminal
# with --verbose). On failure show the end of the log and stop.
run() {
	vlog "+ $*"
	local rc=0
	if [ "$VERBOSE" = 1 ]; then
		"$@" || rc=$?
	else
		printf '+ %s\n' "$*" >>"$LOGFILE"
		"$@" >>"$LOGFILE" 2>&1 || rc=$?
	fi
	if [ "$rc" != 0 ]; then
		if [ "$VERBOSE" != 1 ]; then
			echo "---- last lines of ${LOGFILE#"$ROOT"/} ----" >&2
			tail -n 25 "$LOGFILE" >&2 || true
			echo "----" >&2
		fi
		fail "$*" "exit status $rc${LOGFILE:+ (full log: ${LOGFILE#"$ROOT"/})}"
	fi
}

tmp_path() { # register a temporary path removed on exit
	TMP_PATHS+=("$1")
}

# ---------------------------------------------------------------- hashing
# hash_tree DIR...: hash of the paths, sizes, mtimes and contents of the
# files under the given directories (missing ones hash as "missing").
hash_tree() {
	local d
	for d in "$@"; do
		if [ -e "$d" ]; then
			(cd "$ROOT" && find "${d#"$ROOT"/}" \( -name .git -o -name '__pycache__' \) -prune -o \
				\( -type f -o -type l \) -printf '%p %s %T@\n' | LC_ALL=C sort)
			(cd "$ROOT" && find "${d#"$ROOT"/}" \( -name .git -o -name '__pycache__' \) -prune -o \
				-type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
		else
			echo "missing $d"
		fi
	done | sha256sum | cut -d' ' -f1
}

hash_files() { # hash_files FILE...: content hashes of output files
	local f
	for f in "$@"; do
		if [ -f "$f" ]; then sha256sum "$f"; else echo "missing $f"; fi
	done | sha256sum | cut -d' ' -f1
}

recipe_hash() { # the stage function's own text, so editing build.sh counts
	declare -f "stage_$1" | sha256sum | cut -d' ' -f1
}

stamp_ok() { # stamp_ok STAGE HASH
	[ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]
}

stamp_write() {
	mkdir -p "$STAMPS"
	printf '%s\n' "$2" >"$STAMPS/$1.tmp"
	mv -f "$STAMPS/$1.tmp" "$STAMPS/$1"
}

# ---------------------------------------------------------------- host setup
ensure_host_packages() {
	apt_ensure ./build.sh "${HOST_PACKAGES[@]}" ||
		fail "installing host packages" "see the message above"
}

apt_lists_ok() {
	apt-cache show --no-all-versions linux-image-amd64 >/dev/null 2>&1
}

# ---------------------------------------------------------------- stages
# Each stage has: stage_X (does the work), inputs_X (prints the input hash),
# outputs_X (lists output files that must exist).

# -- download
DEBS=()      # "name=version" of the packages downloaded, set by resolve_debs
DEB_SHA=()   # expected sha256 for each
DEB_ARCH=()
DEB_KIND=()  # kernel (extracted to build/kernel/), signed (build/signed/) or memtest
KREL=""

# Debian's signed UEFI boot chain for Secure Boot machines: shim (signed by
# Microsoft's UEFI CA), its MokManager, and GRUB signed by Debian
# (docs/architecture.md, "Secure Boot").
SIGNED_EFI_PKGS=(shim-signed shim-helpers-amd64-signed grub-efi-amd64-signed)

# apt_resolve KIND NAME...: append the candidate version of each package,
# with the sha256 and architecture apt's lists give for exactly that
# version, to DEBS, DEB_SHA, DEB_ARCH and DEB_KIND.
apt_resolve() {
	local kind=$1 recs specs=() p v s a
	shift
	recs=$(apt-cache show --no-all-versions "$@" 2>/dev/null) || true
	for p in "$@"; do
		v=$(rec_field "$recs" "$p" Version)
		[ -n "$v" ] || fail "apt-cache show $p" "package not known to apt (run apt-get update)"
		specs+=("$p=$v")
	done
	recs=$(apt-cache show --no-all-versions "${specs[@]}" 2>/dev/null) ||
		fail "apt-cache show --no-all-versions ${specs[*]}" "apt does not know these versions (run apt-get update)"
	for p in "${specs[@]}"; do
		s=$(rec_field "$recs" "${p%%=*}" SHA256)
		a=$(rec_field "$recs" "${p%%=*}" Architecture)
		[ -n "$s" ] || fail "apt-cache show --no-all-versions $p" "no SHA256 field, cannot verify the download"
		DEBS+=("$p")
		DEB_SHA+=("$s")
		DEB_ARCH+=("$a")
		DEB_KIND+=("$kind")
	done
}

# The kernel release linux-image-amd64 points at, and the packages to fetch.
resolve_debs() {
	[ -n "$KREL" ] && return 0
	if ! apt_lists_ok; then
		log "    apt lists do not know linux-image-amd64; running apt-get update"
		apt-get update >/dev/null || fail "apt-get update" "could not refresh the package lists"
	fi
	local img
	img=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$img" ] || fail "apt-cache depends linux-image-amd64" "no linux-image-<release> dependency found (is Debian's main archive in /etc/apt/sources.list?)"
	KREL=${img#linux-image-}          # e.g. 6.1.0-56-amd64
	local abi=${KREL%-*}              # 6.1.0-56
	local series
	series=$(echo "$KREL" | cut -d. -f1,2) # 6.1
	apt_resolve kernel "linux-image-$KREL" "linux-headers-$KREL" "linux-headers-$abi-common" "linux-kbuild-$series"
	apt_resolve signed "${SIGNED_EFI_PKGS[@]}"
	apt_resolve memtest memtest86+
}

rec_field() { # rec_field RECORDS PACKAGE FIELD: FIELD of PACKAGE's record
	printf '%s\n' "$1" | awk -v pkg="$2" -v f="$3" -F': ' '
		$1 == "Package" { cur = $2 }
		cur == pkg && $1 == f { print $2; exit }'
}

deb_path() { # deb_path INDEX
	local spec=${DEBS[$1]}
	local p=${spec%%=*} v=${spec#*=}
	echo "$CACHE/${p}_${v//:/%3a}_${DEB_ARCH[$1]}.deb"
}

inputs_download() {
	resolve_debs
	{
		recipe_hash download
		local i
		for i in "${!DEBS[@]}"; do echo "${DEBS[$i]} ${DEB_SHA[$i]}"; done
	} | sha256sum | cut -d' ' -f1
}
outputs_download() { echo "$BUILD/kernel/release" "$BUILD/signed/BOOTX64.EFI" "$BUILD/memtest/memtest86+x64.bin"; }

# cache_get FILE SHA256 WHAT CMD...: make sure cache/ holds FILE with that
# sha256. A cached copy with another hash is deleted; a missing file is
# fetched by running CMD... in an empty temporary directory, where it must
# leave the one file, which is then checked and moved to FILE.
cache_get() {
	local file=$1 sha=$2 what=$3 got dl f why
	shift 3
	if [ -f "$file" ]; then
		got=$(sha256sum "$file" | cut -d' ' -f1)
		if [ "$got" = "$sha" ]; then
			log "    $what: cached, sha256 ok"
			return 0
		fi
		log "    $what: cached file has sha256 $got, expected $sha; deleting and fetching again"
		rm -f "$file"
	fi
	log "    $what: downloading"
	mkdir -p "$CACHE"
	dl=$(mktemp -d "$CACHE/.dl.XXXXXX")
	tmp_path "$dl"
	tmp_path "$dl.log"
	chmod 755 "$dl"
	if ! (cd "$dl" && "$@") >"$dl.log" 2>&1; then
		why=$(grep -E '^(E|Err):|ERROR' "$dl.log" | head -n 3 | tr '\n' ' ')
		fail "$*" "download failed: ${why:-see its output}; check the network, or run apt-get update if the version is gone from the mirror"
	fi
	f=$(find "$dl" -maxdepth 1 -type f | head -n 1)
	[ -n "$f" ] || fail "$*" "reported success but wrote no file"
	got=$(sha256sum "$f" | cut -d' ' -f1)
	if [ "$got" != "$sha" ]; then
		fail "sha256 check of $what" "downloaded file has sha256 $got, expected $sha (corrupt download, or stale apt lists or pins: run apt-get update and retry)"
	fi
	mv -f "$f" "$file"
	rm -rf "$dl" "$dl.log"
}

stage_download() {
	resolve_debs
	local i
	for i in "${!DEBS[@]}"; do
		cache_get "$(deb_path "$i")" "${DEB_SHA[$i]}" "${DEBS[$i]}" \
			apt-get download "${DEBS[$i]}"
	done
	download_signed
	download_memtest

	log "    extracting into build/kernel/ (release $KREL)"
	local x=$BUILD/kernel.tmp
	debs_extract kernel "$x"
	local hdr=$x/usr/src/linux-headers-$KREL
	[ -f "$hdr/Makefile" ] || fail "dpkg-deb -x" "headers package did not contain usr/src/linux-headers-$KREL/Makefile"
	[ -f "$x/boot/vmlinuz-$KREL" ] || fail "dpkg-deb -x" "image package did not contain boot/vmlinuz-$KREL"
	# The headers' Makefile includes the common tree by absolute path
	# (/usr/src/...); point it at our extracted copy instead of the host's.
	sed -i "s|^include /usr/src/|include $BUILD/kernel/usr/src/|" "$hdr/Makefile"
	# The image package ships no modules.dep; generate it.
	run depmod -b "$x" "$KREL"
	echo "$KREL" >"$x/release"
	rm -rf "$BUILD/kernel"
	mv "$x" "$BUILD/kernel"
}

# debs_extract KIND DIR: unpack the downloaded packages of KIND into a
# fresh DIR (removed if the build stops), without running their scripts.
debs_extract() {
	local i
	rm -rf "$2"
	tmp_path "$2"
	mkdir -p "$2"
	for i in "${!DEBS[@]}"; do
		if [ "${DEB_KIND[$i]}" = "$1" ]; then run dpkg-deb -x "$(deb_path "$i")" "$2"; fi
	done
}

# debs_pick KIND DIR SRC:NAME...: the files SRC of the downloaded packages
# of KIND, copied to DIR/NAME (DIR replaced whole; fails naming a missing
# SRC).
debs_pick() {
	local kind=$1 dir=$2 x=$2.tmp f
	shift 2
	rm -rf "$x"
	tmp_path "$x"
	debs_extract "$kind" "$x/deb"
	for f in "$@"; do
		[ -f "$x/deb/${f%%:*}" ] || fail "dpkg-deb -x ($kind packages)" "the packages do not contain /${f%%:*}"
		cp "$x/deb/${f%%:*}" "$x/${f#*:}"
	done
	rm -rf "$x/deb" "$dir"
	mv "$x" "$dir"
}

# The signed boot files, extracted from their packages into build/signed/
# under the names the EFI image gives them: shim as BOOTX64.EFI, the GRUB
# it loads as grubx64.efi (Debian's CD build, which finds the medium by
# /.disk/info), MokManager as mmx64.efi.
download_signed() {
	debs_pick signed "$BUILD/signed" usr/lib/shim/shimx64.efi.signed:BOOTX64.EFI \
		usr/lib/shim/mmx64.efi.signed:mmx64.efi \
		usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed:grubx64.efi
}

# memtest86+'s 64-bit image, a guest of the memtest preset (configs/memtest.cfg;
# it loads by the Linux boot protocol), into build/memtest/.
download_memtest() {
	debs_pick memtest "$BUILD/memtest" boot/memtest86+x64.bin:memtest86+x64.bin
}

# -- hypervisor
inputs_hypervisor() {
	{ recipe_hash hypervisor; hash_tree "$ROOT/hypervisor" "$ROOT/lib"; } | sha256sum | cut -d' ' -f1
}
outputs_hypervisor() { echo "$BUILD/hypervisor/keel.gz" "$BUILD/hypervisor/keel.elf32" "$BUILD/hypervisor/font/console.psf"; }

stage_hypervisor() {
	[ -f "$ROOT/hypervisor/Makefile" ] || fail "make -C hypervisor" \
		"hypervisor/Makefile does not exist yet (the hypervisor is written by the lead in hypervisor/); nothing to build until it lands"
	mkdir -p "$BUILD/hypervisor"
	run make -C "$ROOT/hypervisor" OUT="$BUILD/hypervisor" -j"$JOBS"
	local f
	for f in keel.gz keel.elf32; do
		[ -s "$BUILD/hypervisor/$f" ] || fail "make -C hypervisor" "make succeeded but did not produce build/hypervisor/$f"
	done
	gzip -t "$BUILD/hypervisor/keel.gz" 2>/dev/null || fail "gzip -t build/hypervisor/keel.gz" "keel.gz is not a valid gzip file (mboot.c32 needs a gzipped ELF)"
}

# -- dom0
inputs_dom0() {
	{
		recipe_hash dom0
		printf '%s\n' "${DOM0_MODULES[@]}" "${DOM0_PROGRAMS[@]}" "${MHD_SOURCES[@]}" \
			"${NPM_PACKAGES[@]}"
		cat "$BUILD/kernel/release" 2>/dev/null || echo "no kernel"
		cat "$STAMPS/download" 2>/dev/null || echo "no download stamp"
		dpkg-query -W -f='${Version}\n' busybox-static dropbear-bin iptables 2>/dev/null || true
		hash_tree "$ROOT/dom0-rootfs" "$ROOT/toolstack" "$ROOT/hypervisor/include/public" \
			"$ROOT/hypervisor/include/keel" "$ROOT/lib" "$ROOT"/bench/keel-*.c \
			"$ROOT/scripts/kbuild.mk" "$ROOT/scripts/out-dir.mk"
	} | sha256sum | cut -d' ' -f1
}
outputs_dom0() { echo "$BUILD/dom0/initrd.img" "$BUILD/dom0/vmlinuz"; }

stage_dom0() {
	local rel kdir
	rel=$(cat "$BUILD/kernel/release")
	kdir=$BUILD/kernel/usr/src/linux-headers-$rel
	[ -f "$ROOT/dom0-rootfs/driver/Makefile" ] || fail "make -C dom0-rootfs/driver" \
		"dom0-rootfs/driver/Makefile does not exist yet (the keel.ko driver is written in dom0-rootfs/driver/)"
	[ -f "$ROOT/toolstack/Makefile" ] || fail "make -C toolstack" \
		"toolstack/Makefile does not exist yet (the keel command is written in toolstack/)"

	log "    building keel.ko against $rel"
	mkdir -p "$BUILD/driver" "$BUILD/toolstack"
	run make -C "$ROOT/dom0-rootfs/driver" KDIR="$kdir" OUT="$BUILD/driver" -j"$JOBS"
	[ -f "$BUILD/driver/keel.ko" ] || fail "make -C dom0-rootfs/driver" "make succeeded but did not produce build/driver/keel.ko"
	local vm
	vm=$(modinfo -F vermagic "$BUILD/driver/keel.ko" | cut -d' ' -f1)
	[ "$vm" = "$rel" ] || fail "modinfo keel.ko" "keel.ko was built for '$vm', dom0 runs $rel"

	build_mhd
	log "    building the keel toolstack"
	run make -C "$ROOT/toolstack" OUT="$BUILD/toolstack" MHD_DIR="$BUILD/mhd" -j"$JOBS"
	[ -x "$BUILD/toolstack/keel" ] || fail "make -C toolstack" "make succeeded but did not produce build/toolstack/keel"
	if ! file_is_static "$BUILD/toolstack/keel"; then
		fail "readelf -l build/toolstack/keel" "keel is dynamically linked; the initramfs has no libc, link it with -static"
	fi

	log "    assembling the initramfs"
	local r=$BUILD/dom0/rootfs
	rm -rf "$r"
	mkdir -p "$r"
	(cd "$r" && mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys run tmp root mnt var/log \
		"lib/modules/$rel/extra")
	chmod 1777 "$r/tmp"
	ln -s ../run "$r/var/run"
	# busybox and its applets
	local bb=/bin/busybox
	[ -x "$bb" ] || bb=$(command -v busybox)
	file_is_static "$bb" || fail "check $bb" "busybox is not the static build; install busybox-static"
	cp "$bb" "$r/bin/busybox"
	local a
	while read -r a; do
		a=${a#/}
		[ -e "$r/$a" ] || [ -L "$r/$a" ] || ln -s /bin/busybox "$r/$a"
	done < <("$r/bin/busybox" --list-full)
	# skeleton
	cp -a "$ROOT/dom0-rootfs/skel/." "$r/"
	[ -x "$r/init" ] || fail "check dom0-rootfs/skel/init" "init is missing or not executable"
	# Keel pieces
	install -m 0755 "$BUILD/toolstack/keel" "$r/usr/bin/keel"
	build_benchtools
	install -m 0755 "${BENCH_TOOLS[@]}" "$r/usr/bin/"
	dom0_copy_programs "$r"
	dom0_dashboard "$r/usr/share/keel/dashboard"
	install -m 0644 "$BUILD/driver/keel.ko" "$r/lib/modules/$rel/extra/keel.ko"
	# kernel modules with their dependencies
	local m line path n=0
	for m in "${DOM0_MODULES[@]}"; do
		if ! modprobe -d "$BUILD/kernel" -S "$rel" --show-depends "$m" >"$BUILD/dom0/deps.txt" 2>/dev/null; then
			vlog "module $m: not in $rel, skipped"
			continue
		fi
		while read -r line; do
			case $line in
			insmod\ *)
				path=${line#insmod }
				path=${path%% *}
				path=${path#"$BUILD/kernel"}
				if [ ! -f "$r$path" ]; then
					mkdir -p "$(dirname "$r$path")"
					cp "$BUILD/kernel$path" "$r$path"
					n=$((n + 1))
				fi
				;;
			esac
		done <"$BUILD/dom0/deps.txt"
	done
	rm -f "$BUILD/dom0/deps.txt"
	cp "$BUILD/kernel/lib/modules/$rel/"modules.{order,builtin,builtin.modinfo} "$r/lib/modules/$rel/"
	run depmod -b "$r" "$rel"
	vlog "$n kernel modules copied"
	# /dev/console so the kernel can give init a console before devtmpfs
	mknod -m 600 "$r/dev/console" c 5 1 2>/dev/null || true
	mknod -m 666 "$r/dev/null" c 1 3 2>/dev/null || true

	local img=$BUILD/dom0/initrd.img
	tmp_path "$img.tmp"
	(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n >"$img.tmp") ||
		fail "cpio | gzip" "could not write the initramfs"
	tmp_path "$BUILD/dom0/vmlinuz.tmp"
	cp "$BUILD/kernel/boot/vmlinuz-$rel" "$BUILD/dom0/vmlinuz.tmp"
	mv -f "$img.tmp" "$img"
	mv -f "$BUILD/dom0/vmlinuz.tmp" "$BUILD/dom0/vmlinuz"
	log "    initrd.img: $(du -h "$img" | cut -f1), $n modules + keel.ko"
}

# build_mhd: MHD_SOURCES -> build/mhd/{include,lib} (libmicrohttpd.a, no
# HTTPS); skipped when build/mhd/.sources names the same sources.
build_mhd() {
	local d=$BUILD/mhd entry t src x
	if [ -f "$d/lib/libmicrohttpd.a" ] && [ "$(cat "$d/.sources" 2>/dev/null)" = "${MHD_SOURCES[*]}" ]; then
		vlog "libmicrohttpd: built, unchanged"
		return 0
	fi
	log "    building libmicrohttpd from Debian's source, without HTTPS (about 30 s)"
	x=$BUILD/mhd.tmp
	rm -rf "$x" "$d"
	tmp_path "$x"
	mkdir -p "$x/src"
	for entry in "${MHD_SOURCES[@]}"; do
		t=${entry%% *}
		cache_get "$CACHE/${t##*/}" "${entry#* }" "${t##*/}" wget -q "$DEBIAN_MIRROR/$t"
	done
	t=${MHD_SOURCES[0]%% *}
	run tar -xf "$CACHE/${t##*/}" -C "$x/src" --strip-components=1
	t=${MHD_SOURCES[1]%% *}
	run tar -xf "$CACHE/${t##*/}" -C "$x/src"
	src=$x/src
	while read -r t; do
		case $t in ''|\#*) continue ;; esac
		run patch -d "$src" -p1 -i "$src/debian/patches/$t"
	done <"$src/debian/patches/series"
	run env -C "$src" ./configure --prefix="$x/inst" --disable-https --without-gnutls \
		--disable-shared --enable-static --disable-doc --disable-examples --disable-curl \
		--disable-dauth --disable-bauth
	run make -C "$src/src/microhttpd" -j"$JOBS"
	run make -C "$src/src/microhttpd" install
	run make -C "$src/src/include" install
	[ -f "$x/inst/lib/libmicrohttpd.a" ] || fail "make -C libmicrohttpd" "no libmicrohttpd.a"
	mkdir -p "$d"
	mv "$x/inst/include" "$x/inst/lib" "$d/"
	printf '%s' "${MHD_SOURCES[*]}" >"$d/.sources"
	rm -rf "$x"
}

# dom0_dashboard DIR: the dashboard's page (dom0-rootfs/dashboard/) and
# NPM_PACKAGES' files into DIR.
dom0_dashboard() {
	local dir=$1 entry name base ver sha tgz f x
	mkdir -p "$dir"
	cp "$ROOT"/dom0-rootfs/dashboard/* "$dir/"
	for entry in "${NPM_PACKAGES[@]}"; do
		read -r name ver sha _ <<<"$entry"
		base=${name##*/} # a scoped package's tarball drops its @scope/
		tgz=$CACHE/npm-$base-$ver.tgz
		cache_get "$tgz" "$sha" "$name $ver (npm)" wget -q "$NPM_REGISTRY/$name/-/$base-$ver.tgz"
		x=$BUILD/dom0/npm-$base
		rm -rf "$x"
		tmp_path "$x"
		mkdir -p "$x"
		run tar -xzf "$tgz" -C "$x"
		for f in ${entry#* * * }; do
			[ -f "$x/package/${f%%:*}" ] || fail "tar -x $tgz" "$name $ver has no ${f%%:*}"
			cp "$x/package/${f%%:*}" "$dir/${f#*:}"
		done
		rm -rf "$x"
	done
}

dom0_copy_lib() { # dom0_copy_lib ROOT PATH: a shared library, as its real file name
	local real
	real=$(readlink -f "$2")
	mkdir -p "$1$(dirname "$2")"
	[ -e "$1$2" ] || cp "$real" "$1$2"
}

build_benchtools() { # build_benchtools: bench/keel-*.c -> build/bench/ (static); sets BENCH_TOOLS
	local src name
	mkdir -p "$BUILD/bench"
	BENCH_TOOLS=()
	for src in "$ROOT"/bench/keel-*.c; do
		name=$(basename "$src" .c)
		run gcc -static -O2 -s -Wall -Wextra -Werror -o "$BUILD/bench/$name" "$src"
		BENCH_TOOLS+=("$BUILD/bench/$name")
	done
}

dom0_copy_programs() { # dom0_copy_programs ROOT: DOM0_PROGRAMS with libraries
	local prog lib x dir
	for prog in "${DOM0_PROGRAMS[@]}"; do
		[ -x "$prog" ] || fail "check $prog" "$prog is missing; install the package that has it (dpkg -S $prog on a machine that has it: iptables or dropbear-bin)"
		cp "$prog" "$1$prog"
		while read -r lib; do
			dom0_copy_lib "$1" "$lib"
		done < <(ldd "$prog" | grep -o '/[^ ]*')
	done
	dir=$(dirname "$(readlink -f /usr/lib/x86_64-linux-gnu/xtables/libxt_standard.so)")
	mkdir -p "$1$dir"
	for x in "${DOM0_XTABLES[@]}"; do
		[ -e "$dir/$x" ] || continue
		cp "$dir/$x" "$1$dir/$x"
		while read -r lib; do
			dom0_copy_lib "$1" "$lib"
		done < <(ldd "$dir/$x" | grep -o '/[^ ]*')
	done
	for x in iptables iptables-save iptables-restore; do
		ln -sf xtables-legacy-multi "$1/usr/sbin/$x"
	done
}

file_is_static() { # no PT_INTERP program header
	local hdrs
	hdrs=$(readelf -l "$1" 2>/dev/null) || return 1
	case $hdrs in *"program interpreter"*) return 1 ;; esac
	return 0
}

# -- modules
inputs_modules() {
	{
		recipe_hash modules
		resolve_debs
		local i
		for i in "${!DEBS[@]}"; do
			if [ "${DEB_KIND[$i]}" = kernel ]; then echo "${DEBS[$i]} ${DEB_SHA[$i]}"; fi
		done
		printf '%s\n' "${FIRMWARE_DEBS[@]}"
		cat "$MODULES_EXCLUDE"
	} | sha256sum | cut -d' ' -f1
}
outputs_modules() { echo "$BUILD/modules/modules.squashfs"; }
MODULES_EXCLUDE=$ROOT/dom0-rootfs/modules-exclude.txt

# modules_exclude TREE: remove from the module tree TREE (lib/modules/<rel>)
# the trees of dom0-rootfs/modules-exclude.txt, except the modules a kept
# one depends on (modules.dep lists every module's dependencies), and
# rebuild the indexes. Prints how many modules went.
modules_exclude() {
	local m=$1 rel=${1##*/} p
	: >"$m/.excluded"
	for p in $(sed -e 's/#.*//' "$MODULES_EXCLUDE"); do
		[ -d "$m/kernel/$p" ] || continue
		(cd "$m" && find "kernel/$p" -name '*.ko*') >>"$m/.excluded"
	done
	sort -u -o "$m/.excluded" "$m/.excluded"
	awk 'NR == FNR { ex[$0] = 1; next }
	     { sub(":", "", $1); if (!($1 in ex)) for (i = 2; i <= NF; i++) print $i }' \
		"$m/.excluded" "$m/modules.dep" | sort -u >"$m/.needed"
	comm -23 "$m/.excluded" "$m/.needed" | (cd "$m" && xargs -r rm -f)
	find "$m/kernel" -type d -empty -delete
	comm -23 "$m/.excluded" "$m/.needed" | wc -l
	rm -f "$m/.excluded" "$m/.needed"
	depmod -b "${m%/lib/modules/*}" "$rel"
}

# Debian's kernel modules but those dom0-rootfs/modules-exclude.txt leaves
# out (with the modules.* indexes depmod wrote) and the NIC firmware, as
# one squashfs that dom0 mounts from the medium.
stage_modules() {
	local rel d=$BUILD/modules t entry deb n gone
	rel=$(cat "$BUILD/kernel/release")
	rm -rf "$d"
	mkdir -p "$d/tree/lib/modules" "$d/tree/lib/firmware" "$d/fw"
	cp -a "$BUILD/kernel/lib/modules/$rel" "$d/tree/lib/modules/"
	gone=$(modules_exclude "$d/tree/lib/modules/$rel")
	for entry in "${FIRMWARE_DEBS[@]}"; do
		t=${entry%% *}
		deb=$CACHE/${t##*/}
		cache_get "$deb" "${entry#* }" "${t##*/}" wget -q "$DEBIAN_MIRROR/$t"
		run dpkg-deb -x "$deb" "$d/fw"
	done
	# bookworm's firmware packages install to /lib/firmware, later ones to
	# /usr/lib/firmware
	for t in "$d/fw/lib/firmware" "$d/fw/usr/lib/firmware"; do
		[ -d "$t" ] && cp -a "$t/." "$d/tree/lib/firmware/"
	done
	n=$(find "$d/tree/lib/modules" -name '*.ko*' | wc -l)
	log "    writing modules.squashfs: $n modules of $rel ($gone left out: dom0-rootfs/modules-exclude.txt) and $(find "$d/tree/lib/firmware" -type f | wc -l) firmware files (about two minutes)"
	tmp_path "$d/modules.squashfs.tmp"
	run mksquashfs "$d/tree" "$d/modules.squashfs.tmp" -comp xz -Xbcj x86 -noappend -all-root -no-progress
	mv -f "$d/modules.squashfs.tmp" "$d/modules.squashfs"
	rm -rf "$d/tree" "$d/fw"
	log "    modules.squashfs: $(du -h "$d/modules.squashfs" | cut -f1)"
}

# -- guests
# Guest images (guest-images/README.md): one shared initramfs, the tiny
# busybox root, Debian 12 (debootstrap) and the web appliance layer over it,
# and Debian 13 with its own kernel and initramfs.
# Each recipe has its own stamp (build/stamps/guests-<recipe>) and runs only
# when its inputs changed. The debootstrap (slow, network) is cached in
# cache/debian/base with its stamp inside (key), so --clean keeps it; --distclean
# or a change to guest-images/debian/{debootstrap.sh,packages.txt} or the
# mirrors redoes it.
DEBIAN_MIRROR=${KEEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY=${KEEL_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
GUEST_IMAGES=(guest-initrd.img tiny-root.squashfs debian.squashfs web.squashfs
	trixie.squashfs trixie/vmlinuz trixie/guest-initrd.img memtest86+x64.bin)

inputs_guests() {
	{
		recipe_hash guests
		declare -f guest_hash guest_current guest_built guest_size guest_step
		cat "$BUILD/kernel/release" 2>/dev/null || echo "no kernel"
		cat "$STAMPS/download" 2>/dev/null || echo "no download stamp"
		dpkg-query -W -f='${Version}\n' busybox-static 2>/dev/null || true
		echo "$DEBIAN_MIRROR $DEBIAN_SECURITY"
		# the guest initramfs carries the bench programs (step 1 below)
		hash_tree "$ROOT/configs" "$ROOT/guest-images" "$ROOT"/bench/keel-*.c \
			"$ROOT/hypervisor/include/public"
	} | sha256sum | cut -d' ' -f1
}
outputs_guests() {
	local f
	echo "$BUILD/guests/iso-root/configs"
	for f in "${GUEST_IMAGES[@]}"; do echo "$BUILD/guests/iso-root/guests/$f"; done
}

guest_hash() { # guest_hash WORD... -- PATH...: hash of the words and trees
	local words=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do words+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	{ printf '%s\n' "${words[@]}"; hash_tree "$@"; } | sha256sum | cut -d' ' -f1
}

guest_current() { # guest_current STAMPFILE HASH OUTPUT...: built and unchanged?
	local st=$1 h=$2 f
	shift 2
	[ -f "$st" ] && [ "$(cat "$st")" = "$h" ] || return 1
	for f in "$@"; do [ -e "$f" ] || return 1; done
}

guest_built() { # guest_built STAMPFILE HASH
	mkdir -p "$(dirname "$1")"
	printf '%s\n' "$2" >"$1.tmp"
	mv -f "$1.tmp" "$1"
}

guest_size() { # guest_size FILE: e.g. 29.4 MiB
	awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MiB", b / 1048576 }'
}

# guest_step STEP HASH IMAGE DOING [OUTPUT...] -- COMMAND...: one cached
# recipe. Unless IMAGE (and the other outputs) exist and the stamp
# build/stamps/guests-STEP holds HASH, log "STEP: DOING", run COMMAND and
# write the stamp; either way log IMAGE's size.
guest_step() {
	local step=$1 h=$2 image=$3 doing=$4 outputs=()
	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do outputs+=("$1"); shift; done
	shift
	if guest_current "$STAMPS/guests-$step" "$h" "$image" "${outputs[@]}"; then
		log "    $step: up to date, ${image##*/} $(guest_size "$image")"
		return 0
	fi
	log "    $step: $doing"
	run "$@"
	guest_built "$STAMPS/guests-$step" "$h"
	log "    $step: ${image##*/} $(guest_size "$image")"
}

stage_guests() {
	local rel gi=$ROOT/guest-images img=$BUILD/guests/images bb=/bin/busybox
	local h hbase hdeb hweb st f recipe
	rel=$(cat "$BUILD/kernel/release")
	recipe=$(recipe_hash guests) # how this stage calls the cheap recipes
	[ -x "$bb" ] || bb=$(command -v busybox)
	mkdir -p "$img"

	# 1. the initramfs every guest boots with (modules, /init, tiny userland)
	h=$(guest_hash "$recipe" "$rel" "$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null)" -- \
		"$gi/lib.sh" "$gi/initramfs" "$gi/tiny/etc" "$ROOT"/bench/keel-*.c \
		"$ROOT/hypervisor/include/public")
	build_benchtools
	guest_step initramfs "$h" "$img/guest-initrd.img" \
		"building guest-initrd.img (busybox, /init, modules of $rel)" -- \
		"$gi/initramfs/build.sh" "$img" "$bb" "$BUILD/kernel" "$rel" \
		"${BENCH_TOOLS[@]}"

	# 2. tiny: busybox root image (the diskless tiny preset needs only 1.)
	h=$(guest_hash "$recipe" "$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null)" -- \
		"$gi/lib.sh" "$gi/tiny")
	guest_step tiny "$h" "$img/tiny-root.squashfs" "building tiny-root.squashfs (busybox)" -- \
		"$gi/tiny/build-root.sh" "$img" "$bb"

	# 3a. debian, slow part: debootstrap, cached in cache/debian/base
	hbase=$(guest_hash "$DEBIAN_MIRROR" "$DEBIAN_SECURITY" -- \
		"$gi/lib.sh" "$gi/debian/debootstrap.sh" "$gi/debian/packages.txt")
	st=$CACHE/debian/base/key # in the tree debootstrap.sh replaces on success
	if guest_current "$st" "$hbase" "$CACHE/debian/base/rootfs/usr" "$CACHE/debian/base/epoch"; then
		log "    debian: debootstrap cached in cache/debian/base (made $(date -u -d "@$(cat "$CACHE/debian/base/epoch")" '+%F %H:%M UTC'))"
	else
		log "    debian: debootstrap bookworm from $DEBIAN_MIRROR (a few minutes; cached in cache/debian/)"
		run "$gi/debian/debootstrap.sh" "$CACHE/debian/base" "$CACHE/debian/debs"
		guest_built "$st" "$hbase"
	fi
	# 3b. debian, cheap part: configure and squash a copy (no network)
	hdeb=$(guest_hash "$recipe" "$hbase" "$(cat "$CACHE/debian/base/epoch")" -- \
		"$gi/lib.sh" "$gi/debian/build.sh" "$gi/debian/rootfs")
	guest_step debian "$hdeb" "$img/debian.squashfs" "configuring and writing debian.squashfs" \
		"$BUILD/guests/debian/rootfs/etc/keel-image" -- \
		"$gi/debian/build.sh" "$CACHE/debian/base" "$BUILD/guests/debian" "$img"

	# 4. web: lighttpd layer over the debian tree (apt-get: network)
	hweb=$(guest_hash "$hdeb" "$DEBIAN_MIRROR" "$DEBIAN_SECURITY" -- "$gi/lib.sh" "$gi/web")
	guest_step web "$hweb" "$img/web.squashfs" \
		"installing lighttpd over the debian tree, writing web.squashfs (a layer over debian.squashfs)" -- \
		"$gi/web/build.sh" "$BUILD/guests/debian/rootfs" "$BUILD/guests/web" "$img"

	# 5. trixie: Debian 13 with its own kernel. Its debootstrap (with the
	# kernel package, unpacked beside the tree) is cached in
	# cache/trixie/base; its initramfs is the shared recipe with trixie's
	# modules; its image is debian/build.sh's, named trixie.
	local tb=$CACHE/trixie/base trel htb hti htr
	htb=$(guest_hash trixie "$DEBIAN_MIRROR" "$DEBIAN_SECURITY" -- \
		"$gi/lib.sh" "$gi/debian/debootstrap.sh" "$gi/debian/packages.txt")
	if guest_current "$tb/key" "$htb" "$tb/rootfs/usr" "$tb/epoch" "$tb/kernel/release"; then
		log "    trixie: debootstrap and kernel cached in cache/trixie/base (made $(date -u -d "@$(cat "$tb/epoch")" '+%F %H:%M UTC'))"
	else
		log "    trixie: debootstrap trixie and its kernel from $DEBIAN_MIRROR (a few minutes; cached in cache/trixie/)"
		run "$gi/debian/debootstrap.sh" --suite trixie --kernel "$tb" "$CACHE/trixie/debs"
		guest_built "$tb/key" "$htb"
	fi
	trel=$(cat "$tb/kernel/release")
	hti=$(guest_hash "$recipe" "$htb" "$trel" "$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null)" -- \
		"$gi/lib.sh" "$gi/initramfs" "$gi/tiny/etc" "$ROOT"/bench/keel-*.c \
		"$ROOT/hypervisor/include/public")
	guest_step trixie-initramfs "$hti" "$img/trixie/guest-initrd.img" \
		"building trixie/guest-initrd.img (busybox, /init, modules of $trel)" "$img/trixie/vmlinuz" -- \
		sh -c 'mkdir -p "$1" && cp "$2" "$1/vmlinuz" && shift 2 && exec "$@"' sh \
		"$img/trixie" "$tb/kernel/boot/vmlinuz-$trel" \
		"$gi/initramfs/build.sh" "$img/trixie" "$bb" "$tb/kernel" "$trel" "${BENCH_TOOLS[@]}"
	htr=$(guest_hash "$recipe" "$htb" "$(cat "$tb/epoch")" -- \
		"$gi/lib.sh" "$gi/debian/build.sh" "$gi/debian/rootfs" "$gi/trixie")
	guest_step trixie "$htr" "$img/trixie.squashfs" "configuring and writing trixie.squashfs" -- \
		"$gi/debian/build.sh" "$tb" "$BUILD/guests/trixie" "$img" trixie

	# 6. memtest: memtest86+ as Debian packages it (the download stage)
	cp "$BUILD/memtest/memtest86+x64.bin" "$img/memtest86+x64.bin"

	# The medium's /configs and /guests. The guest kernel is the dom0
	# kernel, /vmlinuz on the medium (configs use /run/keel/medium/vmlinuz),
	# except trixie's: /guests/trixie/ holds its kernel and initramfs.
	local g=$BUILD/guests/iso-root
	rm -rf "$g.tmp"
	tmp_path "$g.tmp"
	mkdir -p "$g.tmp/configs" "$g.tmp/guests"
	if [ -d "$ROOT/configs" ]; then
		cp -a "$ROOT/configs/." "$g.tmp/configs/"
	fi
	for f in "${GUEST_IMAGES[@]}"; do
		mkdir -p "$(dirname "$g.tmp/guests/$f")"
		ln "$img/$f" "$g.tmp/guests/$f" 2>/dev/null || cp "$img/$f" "$g.tmp/guests/$f"
	done
	rm -rf "$g"
	mv "$g.tmp" "$g"
	log "    guests on the medium: $(du -shL "$g/guests" | cut -f1) in /guests, $(ls "$g/configs" | grep -c '\.cfg$') configs in /configs"
}

# -- iso
ISOLINUX_FILES=(/usr/lib/ISOLINUX/isolinux.bin
	/usr/lib/syslinux/modules/bios/ldlinux.c32
	/usr/lib/syslinux/modules/bios/mboot.c32
	/usr/lib/syslinux/modules/bios/menu.c32
	/usr/lib/syslinux/modules/bios/libcom32.c32
	/usr/lib/syslinux/modules/bios/libutil.c32)
ISOHDPFX=/usr/lib/ISOLINUX/isohdpfx.bin
# GRUB's modules for the UEFI path (BOOTX64.EFI, grub-mkstandalone)
GRUB_EFI_DIR=/usr/lib/grub/x86_64-efi
GRUB_EFI_MODULES="part_gpt part_msdos iso9660 fat search search_fs_file configfile normal
	echo test serial terminal multiboot2 linux gzio all_video efi_gop efi_uga gfxterm"
# The EFI system partition image holds the three signed files and FAT's
# own structures: their size plus this much (the rest of an ISO's bytes
# count against its 150 MB budget).
EFI_IMG_SLACK_KIB=512

inputs_iso() {
	{
		recipe_hash iso
		declare -f make_efi_image
		echo "$EFI_IMG_SLACK_KIB"
		cat "$STAMPS/hypervisor" "$STAMPS/dom0" "$STAMPS/modules" "$STAMPS/guests" 2>/dev/null || true
		hash_tree "$ROOT/iso" "$BUILD/guests/iso-root"
		dpkg-query -W grub-efi-amd64-bin 2>/dev/null
		hash_files "$BUILD/hypervisor/keel.gz" "$BUILD/signed/"* "$BUILD/dom0/vmlinuz" "$BUILD/dom0/initrd.img" \
			"${ISOLINUX_FILES[@]}" "$ISOHDPFX"
	} | sha256sum | cut -d' ' -f1
}
outputs_iso() { echo "$OUT/keel.iso"; }

# The UEFI boot chain (docs/architecture.md, "Secure Boot"): a small FAT
# file system, which the ISO carries as its El Torito EFI image and, through
# -isohybrid-gpt-basdat, as a GPT partition for USB sticks (the layout of
# Debian's own images), holds Debian's signed shim as EFI/BOOT/BOOTX64.EFI
# and the Debian-signed GRUB it loads (grubx64.efi), whose menu is
# iso/grub-secureboot.cfg. With Secure Boot off that GRUB chainloads Keel's
# own GRUB (OUTPUT_GRUB: x86_64-efi with multiboot2, iso/grub-efi-embedded.cfg
# built in), which shows iso/grub.cfg.
make_efi_image() { # make_efi_image OUTPUT_FAT OUTPUT_GRUB
	local out=$1 tmp=$BUILD/efi f
	[ -d "$GRUB_EFI_DIR" ] || fail "apt-get install grub-efi-amd64-bin" "GRUB for x86_64-efi is missing ($GRUB_EFI_DIR)"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# shellcheck disable=SC2086
	run grub-mkstandalone -O x86_64-efi -o "$2" \
		--modules="$(echo $GRUB_EFI_MODULES)" --locales= --themes= --fonts= \
		"boot/grub/grub.cfg=$ROOT/iso/grub-efi-embedded.cfg"
	local kib=$EFI_IMG_SLACK_KIB
	for f in BOOTX64.EFI grubx64.efi mmx64.efi; do
		kib=$((kib + ($(stat -c %s "$BUILD/signed/$f") + 1023) / 1024))
	done
	run mkfs.vfat -C -n KEEL_EFI "$out" "$kib"
	run mmd -i "$out" ::/EFI ::/EFI/BOOT
	for f in BOOTX64.EFI grubx64.efi mmx64.efi; do
		run mcopy -i "$out" "$BUILD/signed/$f" "::/EFI/BOOT/$f"
	done
}

stage_iso() {
	local s=$BUILD/iso-root f
	[ -f "$ROOT/iso/isolinux.cfg" ] || fail "check iso/isolinux.cfg" "the boot menu iso/isolinux.cfg is missing"
	for f in "${ISOLINUX_FILES[@]}" "$ISOHDPFX"; do
		[ -f "$f" ] || fail "check $f" "isolinux file missing; install the isolinux and syslinux-common packages"
	done
	rm -rf "$s"
	mkdir -p "$s/isolinux"
	cp "${ISOLINUX_FILES[@]}" "$s/isolinux/"
	cp "$ROOT/iso/isolinux.cfg" "$s/isolinux/isolinux.cfg"
	cp "$BUILD/hypervisor/keel.gz" "$s/keel.gz"
	cp "$BUILD/dom0/vmlinuz" "$s/vmlinuz"
	cp "$BUILD/dom0/initrd.img" "$s/initrd.img"
	mkdir -p "$s/dom0"
	ln "$BUILD/modules/modules.squashfs" "$s/dom0/modules.squashfs" 2>/dev/null ||
		cp "$BUILD/modules/modules.squashfs" "$s/dom0/modules.squashfs"
	cp -a "$BUILD/guests/iso-root/." "$s/"
	mkdir -p "$s/boot/grub"
	cp "$ROOT/iso/grub.cfg" "$s/boot/grub/grub.cfg"
	# Debian's signed GRUB finds the medium by /.disk/info and reads
	# x86_64-efi/grub.cfg before grub.cfg
	mkdir -p "$s/.disk" "$s/boot/grub/x86_64-efi"
	echo "Keel live CD" >"$s/.disk/info"
	cp "$ROOT/iso/grub-secureboot.cfg" "$s/boot/grub/x86_64-efi/grub.cfg"
	rm -f "$s/boot/grub/efi.img"
	make_efi_image "$s/boot/grub/efi.img" "$s/boot/grub/keel-grubx64.efi"
	mkdir -p "$OUT"
	tmp_path "$OUT/keel.iso.tmp"
	rm -f "$OUT/keel.iso.tmp"
	run xorriso -as mkisofs -iso-level 3 -V KEEL \
		-isohybrid-mbr "$ISOHDPFX" \
		-c isolinux/boot.cat -b isolinux/isolinux.bin \
		-no-emul-boot -boot-load-size 4 -boot-info-table \
		-eltorito-alt-boot -e boot/grub/efi.img -no-emul-boot \
		-isohybrid-gpt-basdat \
		-o "$OUT/keel.iso.tmp" "$s"
	mv -f "$OUT/keel.iso.tmp" "$OUT/keel.iso"
	log "    out/keel.iso: $(du -h "$OUT/keel.iso" | cut -f1)"
}

# ---------------------------------------------------------------- driver
outputs_present() {
	local f
	for f in $("outputs_$1"); do
		[ -e "$f" ] || return 1
	done
}

run_stage() { # run_stage INDEX NAME
	local idx=$1 st=$2 t0 h
	CURRENT_STAGE=$st
	LOGFILE=$LOGS/$st.log
	mkdir -p "$LOGS"
	: >"$LOGFILE"
	t0=$(date +%s.%N)
	if [ "$st" = download ]; then resolve_debs; fi
	h=$("inputs_$st")
	if stamp_ok "$st" "$h" && outputs_present "$st"; then
		log "==> [$idx/${#STAGES[@]}] $st: up to date, skipped"
		CURRENT_STAGE=""
		return 0
	fi
	log "==> [$idx/${#STAGES[@]}] $st: ${STAGE_ACTION[$st]}"
	rm -f "$STAMPS/$st"
	"stage_$st"
	# recompute: a stage may change what later hashes see (e.g. kernel release)
	h=$("inputs_$st")
	stamp_write "$st" "$h"
	log "    $st done in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
	CURRENT_STAGE=""
}

stage_index() {
	local i
	for i in "${!STAGES[@]}"; do
		[ "${STAGES[$i]}" = "$1" ] && { echo $((i + 1)); return 0; }
	done
	return 1
}

# stages_for NAME: NAME plus (recursively) the needed stages whose outputs are
# missing, in build order.
declare -A WANT=()
want_stage() {
	local st=$1 dep
	for dep in ${STAGE_NEEDS[$st]}; do
		if ! outputs_present "$dep"; then want_stage "$dep"; fi
	done
	WANT[$st]=1
}

main() {
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) trap - ERR; usage || true; exit 0 ;;
		--stage)
			[ $# -ge 2 ] || fail "--stage" "needs a stage name (${STAGES[*]})"
			stage_index "$2" >/dev/null || fail "--stage $2" "unknown stage; stages are: ${STAGES[*]}"
			ONLY_STAGE=$2; shift ;;
		--stage=*)
			ONLY_STAGE=${1#--stage=}
			stage_index "$ONLY_STAGE" >/dev/null || fail "$1" "unknown stage; stages are: ${STAGES[*]}" ;;
		--clean) ACTION=clean ;;
		--distclean) ACTION=distclean ;;
		-j)
			[ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || fail "-j" "needs a positive number"
			JOBS=$2; shift ;;
		-j[0-9]*) JOBS=${1#-j} ;;
		-v | --verbose) VERBOSE=1 ;;
		*) fail "$1" "unknown option (see ./build.sh --help)" ;;
		esac
		shift
	done

	case $ACTION in
	clean)
		rm -rf "$BUILD" "$OUT"
		log "removed build/ and out/ (kept cache/)"
		exit 0 ;;
	distclean)
		rm -rf "$BUILD" "$OUT" "$CACHE"
		log "removed build/, out/ and cache/"
		exit 0 ;;
	esac

	local t0
	t0=$(date +%s)
	ensure_host_packages
	if [ "$(id -u)" != 0 ]; then
		fail "id -u" "build.sh must run as root (it creates device nodes in the initramfs); run: sudo ./build.sh"
	fi

	if [ -n "$ONLY_STAGE" ]; then
		want_stage "$ONLY_STAGE"
	else
		local s
		for s in "${STAGES[@]}"; do WANT[$s]=1; done
	fi
	local st
	for st in "${STAGES[@]}"; do
		[ -n "${WANT[$st]:-}" ] || continue
		run_stage "$(stage_index "$st")" "$st"
	done
	if [ -z "$ONLY_STAGE" ] || [ "$ONLY_STAGE" = iso ]; then
		log "==> out/keel.iso ready ($(($(date +%s) - t0)) s)"
	else
		log "==> stage $ONLY_STAGE done ($(($(date +%s) - t0)) s)"
	fi
}

main "$@"
