# scripts/packages.sh - sourced by build.sh and tests/run.sh: install the
# Debian packages a script needs, the first time it runs.
#
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
	if [ "$(id -u)" != 0 ]; then
		echo "$who: missing packages ${missing[*]}; run it as root (sudo $who) or: apt-get install ${missing[*]}" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get update; then
		echo "$who: apt-get update failed: could not refresh the package lists (network or /etc/apt/sources.list?)" >&2
		return 1
	fi
	if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
		echo "$who: apt-get install ${missing[*]} failed (see apt's output above)" >&2
		return 1
	fi
}
