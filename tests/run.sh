#!/usr/bin/env bash
# tests/run.sh - run every Keel test: build (incremental), unit tests, a
# short smoke of every fuzz target, boot tests. The last line is "N passed, N failed" (sum of all); the exit status
# is non-zero if anything failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DO_BUILD=1 DO_UNIT=1 DO_BOOT=1
BOOT_ARGS=()

usage() {
	cat <<EOF
Usage: ./tests/run.sh [OPTIONS]

Runs, in order:
  1. ./build.sh                 (incremental; counts as one test)
  2. make -C tests/unit check   (host unit tests)
  3. tests/fuzz/run.sh          (each libFuzzer target for KEEL_FUZZ_SECONDS,
                                default 10; counts one test per target; runs
                                at nice 19 while ./build.sh runs, on the CPU
                                time the build leaves, and is reported here)
  4. tests/boot/run.py          (boots out/keel.iso in QEMU/TCG with SeaBIOS
                                and OVMF (UEFI: -k uefi), and in Bochs
                                for Intel VT-x and other CPU models: -k bochs)
and prints a summary whose last line is "N passed, N failed".

Options:
  --unit-only     only the unit and fuzz tests (no build, no boot tests)
  --boot-only     only the build and the boot tests
  --no-build      do not run ./build.sh (boot the existing out/keel.iso)
  -k PATTERN      run only the boot tests matching PATTERN (regex on the
                  test name or its boot; repeatable); see tests/boot/run.py --list
  -h, --help      show this help

Run as root on Debian 12, it first installs the packages it needs with
apt-get (QEMU 8.2 or later, from bookworm-backports on Debian 12; OVMF, Bochs,
python3, gcc, make, clang); ./build.sh installs the build's own.

Boot test logs (everything seen on the serial port): tests/boot/logs/.
On a slow machine, KEEL_TIMEOUT_SCALE=2 doubles the boot tests' timeouts.
KEEL_STRESS_ROUNDS=N sets the rounds of the Debian stress test (default 2):
  KEEL_STRESS_ROUNDS=25 ./tests/run.sh --boot-only -k stress_debian
KEEL_INTEGRITY_SECONDS=N sets the length of the integrity stress (default 90):
  KEEL_INTEGRITY_SECONDS=1800 ./tests/run.sh --boot-only -k integrity
KEEL_FUZZ_SECONDS=N sets how long each fuzz target runs (default 10).
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--unit-only) DO_BUILD=0 DO_BOOT=0 ;;
	--boot-only) DO_UNIT=0 ;;
	--no-build) DO_BUILD=0 ;;
	-k)
		[ $# -ge 2 ] || { echo "tests/run.sh: -k needs a pattern" >&2; exit 2; }
		BOOT_ARGS+=(-k "$2"); shift ;;
	*) echo "tests/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

# What the tests need on the host (./build.sh installs what the build needs):
# QEMU for the boot tests, python3 for their harness, a C toolchain for the
# unit tests, binutils' nm to name the hypervisor function a hung CPU is in,
# clang with its fuzzer runtime for tests/fuzz, Bochs (with its BIOS, VGA
# BIOS and a display plugin package) for the VT-x boot tests, OVMF (UEFI
# firmware) for the UEFI boot tests, headless Chromium for the dashboard's
# browser test.
TEST_PACKAGES=(gdb python3 gcc make libc6-dev binutils clang libclang-rt-dev
	bochs bochsbios vgabios bochs-x ovmf chromium)

# shellcheck source=../scripts/packages.sh
. "$ROOT/scripts/packages.sh"
# QEMU 8.2 or later: QEMU 7.2 (Debian 12's own) segfaults now and then when
# one vCPU changes the memory map (a PCI BAR being sized) while another
# touches MMIO (docs/architecture.md, "QEMU 7.2 segfaults while Linux sizes
# PCI BARs"); on Debian 12 it comes from bookworm-backports.
if ! apt_ensure ./tests/run.sh "${TEST_PACKAGES[@]}" ||
	! apt_ensure_min ./tests/run.sh qemu-system-x86 1:8.2 \
		"QEMU 7.2's TCG races on memory-map changes and segfaults"; then
	echo "0 passed, 1 failed"
	exit 1
fi

PASSED=0 FAILED=0
SUMMARY=()

# add_result NAME PASSED FAILED NOTE
add_result() {
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	SUMMARY+=("$(printf '%-8s %4d passed, %4d failed  %s' "$1" "$2" "$3" "$4")")
}

# last "N passed, N failed" in a file -> "N N"
counts_in() {
	sed -n 's/^.*\b\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*$/\1 \2/p' "$1" | tail -n 1
}

TMP=$(mktemp -d)
# (an interrupted run stops the fuzz smoke beside the build; each target
# ends by itself within KEEL_FUZZ_SECONDS)
trap '[ -n "${FUZZ_PID:-}" ] && { pkill -P "$FUZZ_PID"; kill "$FUZZ_PID"; } 2>/dev/null; rm -rf "$TMP"' EXIT

# The fuzz smoke needs nothing the build makes: it runs beside the build,
# at nice 19 (the build's downloads and single-threaded steps leave a CPU
# idle for minutes), and its lines are printed in their place below.
FUZZ_PID=
if [ "$DO_UNIT" = 1 ] && [ "$DO_BUILD" = 1 ]; then
	echo "=== fuzz: tests/fuzz/run.sh started beside the build (its lines follow the unit tests)"
	nice -n 19 tests/fuzz/run.sh >"$TMP/fuzz.out" 2>&1 </dev/null &
	FUZZ_PID=$!
fi

BUILD_OK=1
if [ "$DO_BUILD" = 1 ]; then
	echo "=== build: ./build.sh"
	if ./build.sh; then
		add_result build 1 0 "out/keel.iso"
	else
		add_result build 0 1 "./build.sh failed (see above)"
		BUILD_OK=0
	fi
fi

if [ "$DO_UNIT" = 1 ]; then
	echo "=== unit: make -C tests/unit check"
	# Let the Linux-loader tests also parse Debian's real kernel when the
	# build has fetched it.
	if [ -r build/kernel/release ]; then
		KEEL_TEST_VMLINUZ=$PWD/build/kernel/boot/vmlinuz-$(cat build/kernel/release)
		export KEEL_TEST_VMLINUZ
	fi
	if [ -f tests/unit/Makefile ]; then
		make -s -C tests/unit check 2>&1 | tee "$TMP/unit.out"
		rc=${PIPESTATUS[0]}
		res=$(counts_in "$TMP/unit.out")
		if [ -n "$res" ]; then
			p=${res% *} f=${res#* }
			if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
			add_result unit "$p" "$f" "tests/unit"
		elif [ "$rc" = 0 ]; then
			add_result unit 1 0 "tests/unit (no counts printed)"
		else
			add_result unit 0 1 "make -C tests/unit check failed (exit $rc) without a summary"
		fi
	else
		echo "unit: SKIPPED: tests/unit/Makefile does not exist yet"
		SUMMARY+=("unit     skipped: tests/unit/Makefile does not exist yet")
	fi
fi

if [ "$DO_UNIT" = 1 ]; then
	echo "=== fuzz: tests/fuzz/run.sh (${KEEL_FUZZ_SECONDS:-10} s each)"
	if [ -n "$FUZZ_PID" ]; then
		wait "$FUZZ_PID"
		cat "$TMP/fuzz.out"
	else
		tests/fuzz/run.sh 2>&1 | tee "$TMP/fuzz.out"
	fi
	res=$(counts_in "$TMP/fuzz.out")
	if [ -n "$res" ]; then
		add_result fuzz "${res% *}" "${res#* }" "tests/fuzz (build/fuzz/*.log)"
	else
		add_result fuzz 0 1 "tests/fuzz/run.sh gave no summary"
	fi
fi

if [ "$DO_BOOT" = 1 ]; then
	echo "=== boot: tests/boot/run.py ${BOOT_ARGS[*]}"
	if [ "$BUILD_OK" = 0 ]; then
		echo "boot: not run, the build failed"
		add_result boot 0 1 "not run: the build failed"
	elif ! command -v qemu-system-x86_64 >/dev/null; then
		echo "boot: qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
		add_result boot 0 1 "not run: qemu-system-x86_64 missing"
	else
		python3 tests/boot/run.py "${BOOT_ARGS[@]+"${BOOT_ARGS[@]}"}" 2>&1 | tee "$TMP/boot.out"
		rc=${PIPESTATUS[0]}
		res=$(counts_in "$TMP/boot.out")
		if [ -n "$res" ]; then
			p=${res% *} f=${res#* }
			if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
			add_result boot "$p" "$f" "tests/boot (logs in tests/boot/logs/)"
		else
			add_result boot 0 1 "tests/boot/run.py exited $rc without a summary"
		fi
	fi
fi

echo
echo "=== summary"
for line in "${SUMMARY[@]}"; do echo "$line"; done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
