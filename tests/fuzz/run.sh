#!/bin/bash
# tests/fuzz/run.sh - build every libFuzzer target in tests/fuzz/ (clang,
# with ASan and UBSan) and run each for a given time.
set -u

usage() {
	cat <<'USAGE'
Usage: tests/fuzz/run.sh [--seconds N] [TARGET...]

Builds tests/fuzz/fuzz_*.c with clang -fsanitize=fuzzer,address,undefined
into build/fuzz/ and runs each target (all, or the TARGETs named, e.g.
fuzz_decode) for N seconds (default 10). Each target keeps its corpus in
build/fuzz/corpus/<target>/, so later runs start from what earlier ones
found; a finding leaves build/fuzz/<target>-crash-* (replay it with
build/fuzz/<target> <file>).

Prints one line per target ("fuzz_decode: 16654992 inputs in 61 s, no
finding") and ends with "N passed, N failed" (one count per target).
Targets run KEEL_FUZZ_JOBS at a time (default: one per CPU, at most 2).
tests/run.sh runs it with 10 s each as the CI smoke; the long runs
(KEEL_FUZZ_SECONDS=3600 or --seconds 3600) are for outside CI.

Needs clang and its fuzzer runtime (apt-get install clang libclang-rt-dev);
tests/run.sh installs them.
USAGE
}

SECONDS_EACH=${KEEL_FUZZ_SECONDS:-10}
TARGETS=()
while [ $# -gt 0 ]; do
	case "$1" in
		-h|--help) usage; exit 0 ;;
		--seconds) [ $# -ge 2 ] || { echo "run.sh: --seconds needs a number" >&2; exit 2; }
			SECONDS_EACH=$2; shift ;;
		--seconds=*) SECONDS_EACH=${1#--seconds=} ;;
		-*) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
		*) TARGETS+=("${1%.c}") ;;
	esac
	shift
done
case "$SECONDS_EACH" in
	''|*[!0-9]*) echo "run.sh: --seconds wants a whole number of seconds, not '$SECONDS_EACH'" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/fuzz
cd "$ROOT" || exit 1
if ! command -v clang >/dev/null; then
	echo "run.sh: clang not found (apt-get install clang libclang-rt-dev)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ${#TARGETS[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do TARGETS+=("$(basename "$f" .c)"); done
fi
mkdir -p "$OUT"
# fuzz_one TARGET: build and run one target; its report lines go to
# $OUT/TARGET.result, whose first word is PASS or FAIL.
fuzz_one() {
	local t=$1 src=tests/fuzz/$1.c res=$OUT/$1.result rc runs
	if [ ! -f "$src" ]; then
		echo "FAIL $t: no such target ($src)" >"$res"; return
	fi
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Ihypervisor/include -Ihypervisor/arch/x86/include -Ilib \
		-Itoolstack/cli -Itoolstack/core -Itoolstack/domain -Itoolstack/tui -Itoolstack/netd -Itoolstack/dash \
		"$src" -o "$OUT/$t" 2>"$OUT/$t.build.log"; then
		{ echo "FAIL $t: does not build:"; sed 's/^/    /' "$OUT/$t.build.log" | head -20; } >"$res"
		return
	fi
	mkdir -p "$OUT/corpus/$t"
	(cd "$OUT" && "./$t" -max_total_time="$SECONDS_EACH" -max_len=4096 \
		-artifact_prefix="$OUT/$t-" "corpus/$t" >"$OUT/$t.log" 2>&1)
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 inputs in \2 s/p' "$OUT/$t.log" | tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "PASS $t: $runs, no finding" >"$res"
	else
		{ echo "FAIL $t: FINDING (exit $rc); the end of build/fuzz/$t.log:"
		  tail -n 30 "$OUT/$t.log" | sed 's/^/    /'; } >"$res"
	fi
}

# Targets run KEEL_FUZZ_JOBS at a time (default: one per CPU, at most 2;
# each libFuzzer process is single-threaded); reports in the targets' order.
JOBS=${KEEL_FUZZ_JOBS:-$(nproc)}
[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
[ "$JOBS" -le 2 ] || [ -n "${KEEL_FUZZ_JOBS:-}" ] || JOBS=2
for t in "${TARGETS[@]}"; do
	rm -f "$OUT/$t.result"
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	fuzz_one "$t" &
done
wait
passed=0 failed=0
for t in "${TARGETS[@]}"; do
	if [ "$(head -c 4 "$OUT/$t.result" 2>/dev/null)" = PASS ]; then
		sed '1s/^PASS //' "$OUT/$t.result"
		passed=$((passed + 1))
	else
		sed '1s/^FAIL //' "$OUT/$t.result" 2>/dev/null || echo "$t: no result"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
