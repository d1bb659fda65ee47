#!/usr/bin/env python3
"""Run the Keel boot tests against out/keel.iso (QEMU TCG; Bochs for VT-x).

Usage: tests/boot/run.py [-k PATTERN] [--list] [--iso PATH]

Prints PASS/FAIL per test and ends with the line "N passed, N failed".
Exit status 0 only if every selected test passed. Serial logs go to
tests/boot/logs/<boot>.log. Set KEEL_TIMEOUT_SCALE=2 on a slow machine.

QEMU boots run one at a time. Bochs boots (fixtures named bochs-*) run
in a second lane from the start, at nice 19, one at a time beside the
QEMU boots and KEEL_BOCHS_JOBS at a time once those have ended (default:
one per CPU, at most 2). Bochs is single-threaded and its guests' clocks
count instructions, not host time, and its waits count the CPU time it
had (bochs.BochsMachine.clock): beside a QEMU boot it takes only the CPU
time QEMU leaves idle, neither timing out nor changing what the QEMU
tests measure. The QEMU fixtures of test_boot.BESIDE_BOCHS (boot-and-look
ones that measure no time) join that lane once the other QEMU boots have
ended, two at a time (KEEL_BOCHS_JOBS), the kiosk soak first
(BESIDE_LONG) and the BESIDE_ALONE ones with no other QEMU machine
beside them; docs/testing.md. Each fixture of the lane runs in a
child process; its lines are printed together when it ends, and those
that end while the QEMU boots still run are held until they have ended.
"""

import argparse
import os
import re
import select
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bochs  # noqa: E402
import harness  # noqa: E402
import test_boot  # noqa: E402


def report_state(machine, name):
    """After a failure: print where each CPU of the machine is (see
    harness.Machine.dump_state), so a CI log shows a hang's place."""
    try:
        for line in machine.dump_state("after FAIL %s" % name):
            print("    " + line, flush=True)
    except Exception as e:  # the report must never hide the failure itself
        print("    (no state dump: %s)" % e, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Tests:\n" + "\n".join(
                                     "  %-40s (boot: %s)" % (n, f) for n, f, _ in test_boot.TESTS))
    ap.add_argument("-k", metavar="PATTERN", action="append",
                    help="run only tests whose name or boot matches this regex (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--iso", help="ISO to boot (default: out/keel.iso)")
    args = ap.parse_args()

    if args.iso:
        os.environ["KEEL_ISO"] = os.path.abspath(args.iso)
    tests = test_boot.TESTS
    if args.k:
        tests = [t for t in tests if any(re.search(p, t[0]) or re.search(p, t[1]) for p in args.k)]
    if args.list:
        for name, fixture, _ in tests:
            print("%s (boot: %s)" % (name, fixture))
        return 0
    if not tests:
        print("no boot test matches %s" % " ".join(args.k or []))
        print("0 passed, 1 failed")
        return 1

    harness.install_signal_handlers()
    # group by fixture, keeping the order in which fixtures first appear
    order = []
    for _, fixture, _ in tests:
        if fixture not in order:
            order.append(fixture)
    passed = failed = 0
    # without a Bochs machine to run beside, the BESIDE_BOCHS fixtures run
    # alone, in their place; with one, in its lane after the Bochs machines
    beside = any(bochs_fixture(f) for f in order)
    main_line = [f for f in order if not (beside and parallel_fixture(f))]
    queue = [f for f in order if bochs_fixture(f)]
    if beside:
        qemu = [f for f in order if parallel_fixture(f) and not bochs_fixture(f)]
        queue += sorted(qemu, key=lambda f: f not in test_boot.BESIDE_LONG)  # stable
    lane = start_lane(queue, tests) if queue else None
    try:
        for fixture in main_line:
            p, f = run_fixture(fixture, [t for t in tests if t[1] == fixture])
            passed, failed = passed + p, failed + f
        if lane:
            p, f = finish_lane(lane)
            passed, failed = passed + p, failed + f
            lane = None
    finally:
        if lane:  # interrupted: the lane stops its machines
            os.kill(lane[0], signal.SIGTERM)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def start_lane(queue, tests):
    """Fork the process that runs the fixtures of queue (all
    parallel_fixture) beside the QEMU ones (run_parallel). Returns (pid,
    gate, counts): closing gate (a pipe's write end) tells it the main
    line has ended; it writes its (passed, failed) to counts."""
    gate_r, gate_w = os.pipe()
    counts_r, counts_w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        status = 3
        try:
            os.close(gate_w)
            os.close(counts_r)
            harness.install_signal_handlers()
            p, f = run_parallel(queue, tests, gate_r)
            os.write(counts_w, b"%d %d\n" % (p, f))
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            os._exit(status)
    os.close(gate_r)
    os.close(counts_w)
    return pid, gate_w, counts_r


def finish_lane(lane):
    """Open the lane's gate and wait for it to end. Returns its (passed,
    failed); a lane that ended without counts fails once."""
    pid, gate_w, counts_r = lane
    os.close(gate_w)
    with os.fdopen(counts_r, "rb") as f:
        text = f.read().decode()
    os.waitpid(pid, 0)
    mt = re.match(r"(\d+) (\d+)", text)
    if mt is None:
        print("FAIL the Bochs lane ended without its counts", flush=True)
        return 0, 1
    return int(mt.group(1)), int(mt.group(2))


def bochs_fixture(fixture):
    """Whether a fixture is a Bochs machine."""
    return fixture.startswith("bochs-")


def parallel_fixture(fixture):
    """Whether a fixture may run beside another: a Bochs machine, or a
    QEMU one of test_boot.BESIDE_BOCHS when Bochs machines run too."""
    return bochs_fixture(fixture) or fixture in test_boot.BESIDE_BOCHS


def run_fixture(fixture, group):
    """Boot fixture and run its tests (group: (name, fixture, fn)),
    printing a line each. Returns (passed, failed)."""
    passed = failed = 0
    t0 = time.monotonic()
    print("--- boot %s (%d test%s)" % (fixture, len(group), "" if len(group) == 1 else "s"),
          flush=True)
    machine = None
    boot_error = None
    try:
        machine = test_boot.FIXTURES[fixture]()
    except harness.TestFailure as e:
        boot_error = str(e)
    except Exception:  # harness bug or similar: report, do not hide
        boot_error = traceback.format_exc()
    if boot_error is not None:
        print("boot %s failed: %s" % (fixture, boot_error), flush=True)
        for m in list(harness._running):
            report_state(m, "boot " + fixture)
    try:
        for name, _, fn in group:
            if boot_error is not None:
                print("FAIL %s: boot '%s' failed: %s" % (name, fixture, boot_error), flush=True)
                failed += 1
                continue
            test_t0 = time.monotonic()
            try:
                fn(machine)
                # the time each test takes, to find what makes the suite slow
                print("PASS %s (%.0f s)" % (name, time.monotonic() - test_t0), flush=True)
                passed += 1
            except harness.TestFailure as e:
                print("FAIL %s: %s" % (name, e), flush=True)
                failed += 1
                report_state(machine, name)
            except Exception:
                print("FAIL %s: %s" % (name, traceback.format_exc()), flush=True)
                failed += 1
                report_state(machine, name)
    finally:
        if machine is not None:
            machine.close()
        elif boot_error is not None:
            harness._kill_all()
    print("    (boot %s: %.0f s, log tests/boot/logs/)" % (fixture, time.monotonic() - t0),
          flush=True)
    return passed, failed


def start_child(fixture, group):
    """Run fixture in a child process whose output goes to a temporary
    file; its exit status carries no counts, the file's last line does."""
    out = tempfile.TemporaryFile(mode="w+b")
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        status = 3
        try:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            sys.stderr = sys.stdout
            harness.install_signal_handlers()
            bochs.install_signal_handlers()
            p, f = run_fixture(fixture, group)
            print("@@counts %d %d" % (p, f), flush=True)
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            harness._kill_all()
            bochs.kill_all()   # os._exit skips the atexit hook that would
            os._exit(status)
    return pid, out


def child_counts(fixture, group, out):
    """Print a finished child's lines; its (passed, failed)."""
    out.seek(0)
    text = out.read().decode("utf-8", "replace")
    out.close()
    mt = re.search(r"^@@counts (\d+) (\d+)$", text, re.M)
    print(re.sub(r"^@@counts .*\n?", "", text, flags=re.M), end="", flush=True)
    if mt is None:
        print("FAIL boot %s: its test process ended without counts" % fixture, flush=True)
        return 0, len(group)
    return int(mt.group(1)), int(mt.group(2))


def run_parallel(fixtures, tests, gate):
    """Run fixtures (all parallel_fixture) in child processes in their
    order: while gate (a pipe's read end) is open, the QEMU fixtures of
    the main line run, and one Bochs machine at a time runs beside them
    (at nice 19, counting its own CPU time); once it is closed, up to
    KEEL_BOCHS_JOBS Bochs machines and as many QEMU ones (next_fixture),
    the QEMU ones at nice 0 taking the CPUs first. A finished fixture's
    lines are printed once the gate is closed. Returns (passed, failed)."""
    jobs = max(1, int(os.environ.get("KEEL_BOCHS_JOBS", min(2, os.cpu_count() or 1))))
    queue, running, done = list(fixtures), {}, []
    passed = failed = 0
    gated = True

    def next_fixture():
        """The first queued fixture that may start now: a Bochs machine
        while fewer than one (gate open) or jobs (closed) run; a QEMU one
        once the gate is closed, while fewer than jobs QEMU machines run,
        none of them, nor it, being one of test_boot.BESIDE_ALONE."""
        qemu = [f for f, _, _ in running.values() if not bochs_fixture(f)]
        n_bochs = len(running) - len(qemu)
        alone = any(f in test_boot.BESIDE_ALONE for f in qemu)
        for i, f in enumerate(queue):
            if bochs_fixture(f):
                ok = n_bochs < (1 if gated else jobs)
            else:
                ok = not gated and not alone and len(qemu) < jobs and \
                    not (qemu and f in test_boot.BESIDE_ALONE)
            if ok:
                return queue.pop(i)
        return None

    try:
        while queue or running or done:
            if gated and select.select([gate], [], [], 0)[0]:
                os.read(gate, 1)    # closed: the main line has ended
                gated = False
            while queue:
                fixture = next_fixture()
                if fixture is None:
                    break
                group = [t for t in tests if t[1] == fixture]
                pid, out = start_child(fixture, group)
                running[pid] = (fixture, group, out)
                print("... boot %s started (pid %d; its lines follow when %s)"
                      % (fixture, pid, "the QEMU boots have ended and it has" if gated
                         else "it ends"), flush=True)
            if not gated:
                for d in done:
                    p, f = child_counts(*d)
                    passed, failed = passed + p, failed + f
                done = []
            if gated and select.select([gate], [], [], 1.0)[0]:
                continue
            pid, _ = os.waitpid(-1, os.WNOHANG if gated else 0) if running else (0, 0)
            if pid in running:
                done.append(running.pop(pid))
    finally:
        for pid in running:  # interrupted: the children stop their machines
            os.kill(pid, signal.SIGTERM)
    return passed, failed


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        harness._kill_all()
