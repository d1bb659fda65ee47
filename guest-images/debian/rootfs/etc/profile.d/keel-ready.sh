# Keel guest: root's login shell on the serial console says the guest is
# ready, once it is: this shell reads what is typed from now on, and
# systemd-logind, which turns keel shutdown / keel reboot's ACPI buttons
# into a power-off or a reboot, is running (the getty waits for it, see
# serial-getty@ttyS0.service.d/keel-after-logind.conf). /etc/issue, shown
# before the login, says who the guest is but not yet "ready".
if [ "$(tty 2>/dev/null)" = /dev/ttyS0 ]; then
	keel_kind=$(cat /etc/keel-image 2>/dev/null || echo debian)
	case $keel_kind in
	web) keel_what="lighttpd serves the status page at http://<eth0 address>/" ;;
	*) keel_what="Debian $(cut -d. -f1 /etc/debian_version), kernel $(uname -r)" ;;
	esac
	echo "Keel $keel_kind guest $(hostname) ready: $keel_what; root shell on ttyS0 (no password)"
	unset keel_kind keel_what
fi
