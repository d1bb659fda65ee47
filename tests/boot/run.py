#!/usr/bin/env python3
"""Run the Keel boot tests against out/keel.iso (QEMU TCG; Bochs for VT-x).

Usage: tests/boot/run.py [-k PATTERN] [--list] [--iso PATH]

Prints PASS/FAIL per test and ends with the line "N passed, N failed".
Exit status 0 only if every selected test passed. Serial logs go to
tests/boot/logs/<boot>.log. Set KEEL_TIMEOUT_SCALE=2 on a slow machine.

QEMU boots run one at a time. Bochs boots (fixtures named bochs-*) run
after them, KEEL_BOCHS_JOBS at a time (default: one per CPU, at most 2):
Bochs is single-threaded and its guests' clocks count instructions, not
host time, so two of them on two CPUs neither slow each other's guests
nor change what they measure. The QEMU fixtures of test_boot.BESIDE_BOCHS
(boot-and-look ones that measure no time) take the place of a Bochs
boot there when one is free, one QEMU machine at a time: the long VT-x
boot leaves the other CPU idle for minutes. Each runs in a child
process; its lines are printed together when it ends.
"""

import argparse
import os
import re
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
    # alone, in their place; with one, after the Bochs machines in its queue
    beside = any(bochs_fixture(f) for f in order)
    for fixture in [f for f in order if not (beside and parallel_fixture(f))]:
        p, f = run_fixture(fixture, [t for t in tests if t[1] == fixture])
        passed, failed = passed + p, failed + f
    queue = [f for f in order if bochs_fixture(f)]
    if beside:
        queue += [f for f in order if parallel_fixture(f) and not bochs_fixture(f)]
    p, f = run_parallel(queue, tests)
    passed, failed = passed + p, failed + f
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


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


def run_parallel(fixtures, tests):
    """Run fixtures (all parallel_fixture) in child processes in their
    order, KEEL_BOCHS_JOBS at a time and at most one QEMU machine among
    them. Returns (passed, failed)."""
    jobs = int(os.environ.get("KEEL_BOCHS_JOBS", min(2, os.cpu_count() or 1)))
    queue, running = list(fixtures), {}
    passed = failed = 0

    def next_fixture():
        """The first queued fixture that may start now: never two QEMU
        machines at once."""
        qemu_running = any(not bochs_fixture(f) for f, _, _ in running.values())
        for i, f in enumerate(queue):
            if bochs_fixture(f) or not qemu_running:
                return queue.pop(i)
        return None

    try:
        while queue or running:
            while queue and len(running) < max(1, jobs):
                fixture = next_fixture()
                if fixture is None:
                    break
                group = [t for t in tests if t[1] == fixture]
                pid, out = start_child(fixture, group)
                running[pid] = (fixture, group, out)
                print("... boot %s started (pid %d; its lines follow when it ends)"
                      % (fixture, pid), flush=True)
            pid, _ = os.wait()
            if pid in running:
                p, f = child_counts(*running.pop(pid))
                passed, failed = passed + p, failed + f
    finally:
        for pid in running:  # interrupted: the children stop their machines
            os.kill(pid, signal.SIGTERM)
    return passed, failed


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        harness._kill_all()
