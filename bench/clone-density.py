#!/usr/bin/env python3
"""How many Debian guests fit in a pool of 2 GiB: booted one by one, against
cloned from one running guest (`keel clone`, RAM shared copy-on-write).

Boots out/keel.iso once in QEMU (TCG) through the boot-test harness and
trims the hypervisor's free pool to --pool MiB (2048 by default) with a
paused tiny guest as ballast, so the figure does not depend on how much
memory dom0 took. Then, in the same boot:

1. Booting: `keel create debian name=bootN` until keel refuses for lack of
   memory; every guest started must reach its ready line and answer a ping
   from dom0. They are destroyed, and the pool must be back where it was.
2. Cloning: one Debian guest boots, settles and is paused as a template
   (--running-source keeps it running), then `keel clone` copies it again
   and again. A paused source writes nothing, so every clone starts from
   the same shared RAM; a running one keeps writing, and each later clone
   also copies the pages it wrote since the first. Each clone gets
   --settle seconds to take its own MAC, address and host name (the
   guest's keel-net.service); cloning stops when keel refuses, or when the
   pool has less than --reserve MiB left (clones keep writing: a copy the
   pool cannot give kills the writer, so a user keeps some room). Then
   every clone must run and answer a ping by name within 5 minutes.

It prints both counts and what each guest cost the pool, and writes them as
JSON (bench/results/clone-density.json by default).
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "boot"))

import benchlib  # noqa: E402
import test_boot as tb  # noqa: E402

DEBIAN_MIB = 256  # configs/debian.cfg
FINAL_WAIT_S = 300  # for the last clones to answer


def log(msg):
    print("bench: " + msg, flush=True)


def free_mib(m):
    return tb.free_mib(m)


def running(m):
    """Names of the guests that are running or blocked (not paused or dead)."""
    states, _ = tb.list_states(m)
    return {n for n, st in states.items()
            if n != "Domain-0" and ("r" in st or "b" in st) and "p" not in st}


def answers(m, name):
    out, rc = m.run("ping -c 1 -W 5 %s" % name, timeout=30)
    return rc == 0


def trim_pool(m, pool_mib):
    """Start a paused tiny guest holding what is free beyond pool_mib."""
    extra = free_mib(m) - pool_mib
    if extra < 0:
        sys.exit("bench: the pool has only %d MiB free, less than --pool %d; give QEMU "
                 "more memory (--mem)" % (free_mib(m), pool_mib))
    # the ballast's own tables and devices come out of the pool too: trim
    # in two steps, the second by what the first one missed
    ballast = extra - extra % 2
    if ballast >= 32:
        out, rc = m.run("keel create tiny name=ballast memory=%d" % ballast, timeout=180)
        if rc != 0:
            sys.exit("bench: could not start the ballast: %s" % out[-400:])
        m.run("keel pause ballast", timeout=60)
    return free_mib(m)


def phase_boot(m, pool_mib):
    """Boot Debian guests until keel refuses; all must come up."""
    names, refusal = [], ""
    while True:
        name = "boot%d" % (len(names) + 1)
        before = free_mib(m)
        out, rc = m.run("keel create debian name=%s" % name, timeout=300)
        if rc != 0:
            refusal = out.strip().splitlines()[-1] if out.strip() else "rc=%d" % rc
            log("keel create %s refused with %d MiB free: %s" % (name, before, refusal))
            break
        names.append(name)
        log("%s started; the pool gave %d MiB, %d MiB left" % (name, before - free_mib(m),
                                                                free_mib(m)))
    full = free_mib(m)
    for name in names:
        tb.wait_guest_ready(m, name, timeout=600, kind="debian")
    alive = [n for n in names if n in running(m) and answers(m, n)]
    log("%d of %d booted guests run and answer" % (len(alive), len(names)))
    for name in names:
        m.run("keel destroy %s" % name, timeout=120)
    return {"started": len(names), "alive": len(alive), "refusal": refusal,
            "per_guest_mib": round((pool_mib - full) / max(len(names), 1), 1),
            "pool_back_mib": free_mib(m)}


def all_answer(m, names, wait_s):
    """The guests of names that run and answer a ping by name within
    wait_s seconds (the last clones take their identity slowly when dozens
    of guests share two emulated CPUs)."""
    alive, end = [], time.time() + wait_s
    while True:
        live = running(m)
        alive += [n for n in names if n not in alive and n in live and answers(m, n)]
        if len(alive) == len(names) or time.time() > end:
            return [n for n in names if n in alive]
        time.sleep(10)


def clone_cost(m, free_before, settle):
    time.sleep(settle)
    return free_before - free_mib(m)


def phase_clone(m, pool_mib, reserve, settle, max_clones, template):
    """Boot one Debian guest, then clone it until the pool nears its end."""
    out, rc = m.run("keel create debian name=base", timeout=300)
    if rc != 0:
        sys.exit("bench: keel create debian name=base failed: %s" % out[-400:])
    tb.wait_guest_ready(m, "base", timeout=600, kind="debian")
    time.sleep(settle)
    base_cost = pool_mib - free_mib(m)
    log("base booted and settled: it cost the pool %d MiB" % base_cost)
    if template:
        m.run("keel pause base", timeout=60)
        log("base paused: the template of the clones")
    clones, costs, refusal = [], [], ""
    while len(clones) < max_clones:
        before = free_mib(m)
        if before < reserve:
            refusal = "stopped: %d MiB left, under the reserve of %d MiB" % (before, reserve)
            break
        t0 = time.time()
        out, rc = m.run("keel clone base", timeout=180)
        took = time.time() - t0
        if rc != 0:
            refusal = out.strip().splitlines()[-1] if out.strip() else "rc=%d" % rc
            break
        mt = re.search(r"as (\S+)", out)
        name = mt.group(1) if mt else "?"
        clones.append(name)
        cost = clone_cost(m, before, settle)
        costs.append(cost)
        log("%s in %.1f s; after %d s it cost the pool %d MiB, %d MiB left"
            % (name, took, settle, cost, free_mib(m)))
    log("cloning ended: %s" % (refusal or "--max-clones reached"))
    names = clones if template else ["base"] + clones
    alive = all_answer(m, names, FINAL_WAIT_S)
    dead = sorted(set(names) - set(alive))
    log("%d of %d Debian guests run and answer by name%s" % (
        len(alive), len(names), "; not: " + ", ".join(dead) if dead else ""))
    return {"base_cost_mib": base_cost, "template": template, "clones": len(clones),
            "alive": len(alive),
            "guests": len(names), "not_answering": dead, "stop": refusal,
            "clone_cost_mib": costs,
            "clone_cost_median_mib": statistics.median(costs) if costs else None,
            "free_at_end_mib": free_mib(m)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--pool", type=int, default=2048, help="the pool to fill, MiB (default 2048)")
    ap.add_argument("--reserve", type=int, default=128,
                    help="stop cloning below this many MiB free (default 128)")
    ap.add_argument("--settle", type=int, default=15,
                    help="seconds each clone gets before the next (default 15)")
    ap.add_argument("--max-clones", type=int, default=62,
                    help="stop after this many clones (default 62: Keel runs 63 guests)")
    ap.add_argument("--skip-boot", action="store_true", help="measure only the clones")
    ap.add_argument("--running-source", action="store_true",
                    help="clone a running guest (counted among the guests), not a paused "
                    "template")
    ap.add_argument("--iso", help="ISO to boot (default: out/keel.iso)")
    ap.add_argument("--mem", type=int, default=4096, help="QEMU memory in MiB (default 4096)")
    ap.add_argument("--smp", type=int, default=4,
                    help="QEMU CPUs (default 4: under TCG, CPU 0 runs no domain, "
                    "docs/architecture.md)")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "clone-density.json"),
                    help="where to write the result (default bench/results/clone-density.json)")
    args = ap.parse_args()
    t0 = time.time()
    m = benchlib.boot_dom0("bench-clones", args.iso, args.smp, args.mem, log)
    try:
        pool = trim_pool(m, args.pool)
        log("the free pool is %d MiB" % pool)
        boot = None if args.skip_boot else phase_boot(m, pool)
        pool2 = free_mib(m)
        clone = phase_clone(m, pool2, args.reserve, args.settle, args.max_clones,
                            not args.running_source)
    finally:
        m.close()
    print()
    print("Keel clone density, %s, QEMU TCG -cpu max -smp %d, a %d MiB pool, Debian guests of "
          "%d MiB" % (time.strftime("%Y-%m-%d"), args.smp, pool, DEBIAN_MIB))
    if boot:
        print("  booted: %d fit (%d ran and answered), each %s MiB of the pool; keel then "
              "said: %s" % (boot["started"], boot["alive"], boot["per_guest_mib"],
                            boot["refusal"]))
    print("  cloned: %d running (%s, %d ran and answered), each clone %s MiB of the pool "
          "(median, %d s after it was made); %s"
          % (clone["guests"], "clones of a paused template that cost %d MiB"
             % clone["base_cost_mib"] if clone["template"] else "1 booted + its clones",
             clone["alive"], clone["clone_cost_median_mib"], args.settle,
             clone["stop"] or "the clone limit"))
    doc = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "pool_mib": pool,
           "reserve_mib": args.reserve, "settle_s": args.settle, "smp": args.smp,
           "mem_mib": args.mem, "machine": platform.machine(), "debian_mib": DEBIAN_MIB,
           "boot": boot, "clone": clone, "seconds": round(time.time() - t0)}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
    log("written to %s (%d s in all)" % (args.json, doc["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
