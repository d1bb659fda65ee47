#!/usr/bin/env python3
"""Boot-time ratio of Keel against its "without hypervisor" entry.

Boots out/keel.iso in QEMU (TCG) twice, one after the other, through the
boot-test harness (tests/boot/harness.py):

  1. the "keel-serial" entry (hypervisor, then dom0) until the serial menu
     is up, then picks 1 and waits for the guest starter's first screen;
  2. the "linux" entry (dom0's kernel and initramfs without the hypervisor)
     until the same serial menu is up, then Enter and waits for the shell.

Times are measured from the Enter at isolinux's boot: prompt. Prints both
times and their ratio (Keel / Linux alone) for "to the menu" and "to the
program". Serial logs go to tests/boot/logs/bench-*.log.

Usage: bench/boot-ratio.py [--iso PATH] [--runs N] [--smp N] [--mem MiB]
"""

import argparse
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "boot"))

import harness  # noqa: E402

MENU = r"Choose 1-3"
STARTER = r"Enter start  1-9 pick"   # the starter's keys line: frame complete


def boot_once(label, keys, ready, what, args, run):
    """Boot entry label; return (seconds to the menu, seconds to ready)."""
    m = harness.Machine("bench-%s-%d" % (label, run), cpu="max", smp=args.smp,
                        mem=args.mem).start()
    try:
        m.boot_entry(label)
        t0 = time.monotonic()
        m.wait_for(MENU, 600, "the serial menu")
        t_menu = time.monotonic() - t0
        m.send(keys)
        m.wait_for(ready, 120, what)
        return t_menu, time.monotonic() - t0
    finally:
        m.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iso", help="ISO to boot (default: out/keel.iso)")
    ap.add_argument("--runs", type=int, default=1, help="boots per entry (median is shown)")
    ap.add_argument("--smp", type=int, default=2, help="QEMU CPUs (default 2)")
    ap.add_argument("--mem", type=int, default=2048, help="QEMU memory in MiB (default 2048)")
    args = ap.parse_args()
    if args.iso:
        os.environ["KEEL_ISO"] = os.path.abspath(args.iso)
    harness.install_signal_handlers()
    res = {"keel": [], "linux": []}
    try:
        for run in range(args.runs):
            res["keel"].append(boot_once("keel-serial", "1\r", STARTER,
                                         "the guest starter", args, run))
            res["linux"].append(boot_once("linux", "\r", re.escape(harness.PROMPT),
                                          "the shell prompt", args, run))
    except harness.TestFailure as e:
        print("boot-ratio: %s" % e, file=sys.stderr)
        return 1
    finally:
        harness._kill_all()
    med = {k: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v))
           for k, v in res.items()}
    print("QEMU TCG, -cpu max -smp %d -m %d, %d run(s) per entry (median)"
          % (args.smp, args.mem, args.runs))
    print("%-34s %10s %12s" % ("entry", "to menu", "to program"))
    print("%-34s %9.1fs %11.1fs" % ("keel-serial (Keel) -> starter", *med["keel"]))
    print("%-34s %9.1fs %11.1fs" % ("linux (no hypervisor) -> shell", *med["linux"]))
    print("ratio Keel / without hypervisor: %.2f to the menu, %.2f to the program"
          % (med["keel"][0] / med["linux"][0], med["keel"][1] / med["linux"][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
