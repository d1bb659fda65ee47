"""Dom0 with two CPUs (issue 11, item 3): QEMU -smp 5, where the
hypervisor keeps CPU 0 idle (QEMU TCG), gives dom0 CPUs 1 and 2 by default
(2 CPUs once 4 or more are there for dom0 and guests) and the guest pool
CPUs 3 and 4. Dom0's kernel starts its second CPU itself, with INIT and
start-up IPIs the hypervisor emulates; every IPI for a CPU that is not
dom0's is still dropped. Registered into test_boot's table (imported at
its end)."""

import re

import test_boot
from test_boot import (boot_keel_serial_shell, check, cpu_list, dom0_ipis_to_other_cpus,
                       guest_run, keel_info, test, wait_guest_ready)


def boot_keel_dom0_smp():
    return boot_keel_serial_shell("keel-dom0-smp", smp=5, mem=2048)


test_boot.FIXTURES["keel-dom0-smp"] = boot_keel_dom0_smp


@test("dom0_smp_two_cpus_by_default", "keel-dom0-smp")
def t_dom0_two_cpus(m):
    info, raw = keel_info(m)
    check(cpu_list(info["dom0_cpus"]) == [1, 2], "dom0_cpus is %r, expected CPUs 1 and 2:\n%s"
          % (info["dom0_cpus"], raw))
    check(cpu_list(info["pool_cpus"]) == [3, 4], "pool_cpus is %r, expected CPUs 3 and 4"
          % info["pool_cpus"])
    check(m.seen(r"dom0 started its CPU 2 \(vCPU 1\)"),
          "the hypervisor did not say that dom0 started its second CPU")
    out, _ = m.run("grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online")
    lines = out.split()
    check(lines[:2] == ["2", "0-1"], "dom0 does not run on two CPUs: %r" % out)


@test("dom0_smp_both_cpus_work", "keel-dom0-smp")
def t_dom0_both_busy(m):
    # Two busy loops, one per CPU (taskset), for 3 s: both of dom0's CPUs
    # must have counted user time in /proc/stat. Cross-CPU IPIs (TLB
    # shootdowns, wakeups, the scheduler's) keep flowing while they run.
    out, rc = m.run("head -3 /proc/stat | tail -2 > /tmp/s0; "
                    "for c in 0 1; do taskset -c $c sh -c 'i=0; while [ $i -lt 200000 ]; "
                    "do i=$((i+1)); done' & done; wait; "
                    "head -3 /proc/stat | tail -2 > /tmp/s1; paste /tmp/s0 /tmp/s1", timeout=300)
    check(rc == 0, "the busy loops failed: %r" % out)
    rows = [l.split() for l in out.strip().splitlines() if l.startswith("cpu")]
    check(len(rows) == 2, "no per-CPU lines in /proc/stat: %r" % out)
    for r in rows:
        before, after = int(r[1]), int(r[12])  # user ticks, before and after
        check(after - before >= 50, "%s counted only %d ticks of user time: %r"
              % (r[0], after - before, out))


@test("dom0_smp_guests_run_and_other_cpus_stay_out_of_reach", "keel-dom0-smp")
def t_dom0_smp_guests(m):
    out, rc = m.run("keel create tiny name=smp1 vcpus=2", timeout=180)
    check(rc == 0 and "Started domain smp1" in out, "keel create: %r" % out[-300:])
    wait_guest_ready(m, "smp1")
    out = guest_run(m, "smp1", "echo cpus=$(grep -c ^processor /proc/cpuinfo)")
    check("cpus=2" in out, "the guest does not see its 2 vCPUs: %r" % out[-300:])
    dom0_ipis_to_other_cpus(m, ("smp1",))
    out, _ = m.run("cat /sys/devices/system/cpu/online")
    check(out.strip() == "0-1", "dom0 lost a CPU: %r" % out)
