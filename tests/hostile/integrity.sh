#!/bin/sh
# integrity.sh - the workloads of Keel's integrity stress test, run inside a
# tiny guest from the hostile kit (tests/hostile/, unpacked at /t). For
# SECONDS it keeps, all at once:
#   - /t/hostile victim: XMM0-15/MXCSR, DR0-DR3 and 4 MiB of memory full
#     of known values, checked all the time;
#   - a fork loop (ten /bin/true per round);
#   - a disk loop: 1 MiB of random data written to /dev/vdb, the page cache
#     dropped, read back and compared (md5);
#   - a network loop: /t/hostile sent to the next guest (TO) over TCP port
#     7100 while the one before sends it here; what arrives is compared
#     with /t/hostile (md5).
# Counts go to /tmp/integrity/status (rewritten as they change):
#   victim: rounds= xmm_bad= mem_bad=; fork_rounds=; disk_ok= disk_bad=;
#   net_ok= net_bad=; and at the end oops= segv= from the kernel log.
# Usage: integrity.sh TO SECONDS    (--help: this text)
case "${1:-}" in -h|--help) sed -n '2,18p' "$0" | cut -c3-; exit 0 ;; esac
[ $# -eq 2 ] || { echo "usage: integrity.sh TO SECONDS (see --help)" >&2; exit 2; }
to=$1
secs=$2
st=/tmp/integrity
mkdir -p $st
ref=$(md5sum < /t/hostile | cut -c1-32)
end=$(( $(date +%s) + secs ))

/t/hostile victim $st/victim "$secs" </dev/null >/dev/null 2>&1 &

(n=0
while [ "$(date +%s)" -lt $end ]; do
	for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true || echo x >> $st/fork.bad; done
	n=$((n + 1)); echo $n > $st/fork.rounds
done) </dev/null >/dev/null 2>&1 &

(ok=0 bad=0
while [ "$(date +%s)" -lt $end ]; do
	head -c 1048576 /dev/urandom > $st/blk
	a=$(md5sum < $st/blk | cut -c1-32)
	dd if=$st/blk of=/dev/vdb bs=65536 conv=fsync 2>/dev/null
	echo 3 > /proc/sys/vm/drop_caches
	b=$(dd if=/dev/vdb bs=65536 count=16 2>/dev/null | md5sum | cut -c1-32)
	if [ "$a" = "$b" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	echo "disk_ok=$ok disk_bad=$bad" > $st/disk
done) </dev/null >/dev/null 2>&1 &

# receiver: a FIFO opened read-write is nc's stdin (never ends, never has
# data), so nc ends when the sender closes
(ok=0 bad=0
mkfifo $st/nc.in
while [ "$(date +%s)" -lt $end ]; do
	timeout 60 nc -l -p 7100 0<>$st/nc.in > $st/rx 2>/dev/null || continue
	[ -s $st/rx ] || continue
	if [ "$(md5sum < $st/rx | cut -c1-32)" = "$ref" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	echo "net_ok=$ok net_bad=$bad" > $st/net
done) </dev/null >/dev/null 2>&1 &

(while [ "$(date +%s)" -lt $end ]; do
	timeout 60 nc "$to" 7100 < /t/hostile >/dev/null 2>&1 || sleep 1
done) </dev/null >/dev/null 2>&1 &

(sleep "$secs"; sleep 5
oops=$(dmesg | grep -c -E 'Oops|BUG:|general protection fault|Call Trace')
segv=$(dmesg | grep -c 'segfault at')
echo "oops=$oops segv=$segv" > $st/kernel) </dev/null >/dev/null 2>&1 &
echo "integrity: started for $secs s, sending to $to"
