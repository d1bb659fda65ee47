#!/usr/bin/env bash
# bench/soak.sh [MINUTES] - the kiosk mode's soak: boots out/keel.iso's
# "Keel kiosk" entry in QEMU (TCG), lets configs/demo.keel run for MINUTES
# (default 30), then checks that dom0 and every guest answer, that the
# counter guest's count has no gap in its console ring, that the crashed
# guest came back, that a key leaves the loop, and that the pool's free
# memory is back to its boot value once every guest is destroyed
# (tests/boot/test_kiosk.py; docs/dashboard.md). CI runs 2 minutes of it.
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f out/keel.iso ] || { echo "soak.sh: out/keel.iso not found; run ./build.sh first" >&2; exit 1; }
exec python3 tests/boot/test_kiosk.py --minutes "${1:-30}"
