# scripts/packages.sh - sourced by build.sh and tests/run.sh: install the
# Debian packages a script needs, the first time it runs.
#
# apt_refresh WHO HINT: as root, refreshes the package lists (apt-get
# update) and returns 0; otherwise prints WHO: HINT (what to run instead),
# or why the update failed, and returns 1.
apt_refresh() {
	if [ "$(id -u)" != 0 ]; then
		echo "$1: $2" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get update; then
		echo "$1: apt-get update failed: could not refresh the package lists (network or /etc/apt/sources.list?)" >&2
		return 1
	fi
}

# apt_ensure WHO PACKAGE...: installs those of PACKAGE... that are not
# installed (apt-get update, then apt-get install), as root. Returns 0 when
# all are there; otherwise prints what failed and what to run, prefixed
# with WHO (the calling script), and returns 1.
apt_ensure() {
	local who=$1 missing=() p
	shift
	for p in "$@"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} = 0 ] && return 0
	echo "==> $who: installing packages: ${missing[*]}"
	apt_refresh "$who" "missing packages ${missing[*]}; run it as root (sudo $who) or: apt-get install ${missing[*]}" ||
		return 1
	if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
		echo "$who: apt-get install ${missing[*]} failed (see apt's output above)" >&2
		return 1
	fi
}

# apt_ensure_min WHO PACKAGE MIN_VERSION REASON: makes sure PACKAGE is
# installed at MIN_VERSION or later. When this Debian release's own archive
# has only an older one (QEMU 7.2 on Debian 12), it adds the release's
# backports suite from Debian's archive (/etc/apt/sources.list.d/
# keel-backports.sources; backports are pinned low, so nothing else is
# upgraded) and installs PACKAGE from there, with the installed packages
# built from the same source (qemu-utils must match qemu-system-common).
# REASON says in a few words why an older version will not do. Returns 0
# when PACKAGE is new enough; otherwise prints what failed and what to run,
# prefixed with WHO, and returns 1.
apt_ensure_min() {
	local who=$1 pkg=$2 min=$3 why=$4 have cand codename src same=() p
	have=$(dpkg-query -W -f='${Version} ${Status}' "$pkg" 2>/dev/null)
	case $have in *" install ok installed") have=${have%% *} ;; *) have= ;; esac
	[ -n "$have" ] && dpkg --compare-versions "$have" ge "$min" && return 0
	echo "==> $who: needs $pkg $min or later ($why); installed: ${have:-none}"
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	apt_refresh "$who" "run it as root, or install $pkg $min or later (on Debian 12: apt-get install -t bookworm-backports $pkg)" ||
		return 1
	cand=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
	if [ -n "$cand" ] && [ "$cand" != "(none)" ] && dpkg --compare-versions "$cand" ge "$min"; then
		apt-get install -y --no-install-recommends "$pkg" || {
			echo "$who: apt-get install $pkg failed (see apt's output above)" >&2
			return 1
		}
		return 0
	fi
	if [ -z "$codename" ]; then
		echo "$who: the archive offers $pkg ${cand:-none}, older than $min, and this system names no release to take backports from; install $pkg $min or later" >&2
		return 1
	fi
	echo "==> $who: the $codename archive offers $pkg $cand: installing it from $codename-backports"
	src=/etc/apt/sources.list.d/keel-backports.sources
	if ! grep -rqs -- "$codename-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$codename" >"$src"
		if ! apt-get update; then
			echo "$who: apt-get update failed with $codename-backports added ($src): network or mirror?" >&2
			return 1
		fi
	fi
	if [ -n "$have" ]; then
		local source
		source=$(dpkg-query -W -f='${source:Package}' "$pkg")
		while read -r p s st; do
			[ "$s" = "$source" ] && [ "$st" = installed ] && [ "$p" != "$pkg" ] && same+=("$p")
		done < <(dpkg-query -W -f='${binary:Package} ${source:Package} ${db:Status-Status}\n')
	fi
	if ! apt-get install -y --no-install-recommends -t "$codename-backports" "$pkg" "${same[@]}"; then
		echo "$who: apt-get install -t $codename-backports $pkg failed (see apt's output above)" >&2
		return 1
	fi
	have=$(dpkg-query -W -f='${Version}' "$pkg")
	if ! dpkg --compare-versions "$have" ge "$min"; then
		echo "$who: $codename-backports has $pkg $have, still older than $min ($why)" >&2
		return 1
	fi
}
