#!/bin/sh
# Status page of the Keel web appliance (lighttpd CGI, run for every GET of
# /): the guest's host name (the Keel domain name), uptime and addresses,
# read at request time.
set -eu
host=$(hostname)
up=$(cut -d' ' -f1 /proc/uptime)
up=${up%.*}
uptime_text=$(printf '%d s (%d days %02d:%02d:%02d)' "$up" $((up / 86400)) \
	$((up % 86400 / 3600)) $((up % 3600 / 60)) $((up % 60)))
addr=$(ip -o addr show scope global 2>/dev/null |
	awk '{ sub(/\/.*/, "", $4); printf "%s%s (%s)", sep, $4, $2; sep = ", " }')
[ -n "$addr" ] || addr="none yet (no DHCP lease)"
printf 'Content-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n\r\n'
cat <<HTML
<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>$host - Keel web appliance</title></head>
<body>
<h1>Keel web appliance $host</h1>
<pre>
hostname: $host
uptime:   $uptime_text
address:  $addr
</pre>
<p>lighttpd on Debian 12, running as a Keel guest: a small squashfs layer
over the Debian image that every Debian guest shares.</p>
</body>
</html>
HTML
