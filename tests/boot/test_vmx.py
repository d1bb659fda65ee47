"""Boot tests on Intel VT-x (issue 13): Bochs with cpu model
corei7_skylake_x (VMX with EPT, VPID and unrestricted guest), driven like
the QEMU machines (tests/boot/bochs.py's BochsMachine is a harness.Machine).
Bochs runs about 100 million instructions per second, so dom0 takes about
4 minutes to reach its shell; the tests share that one boot. Registered into
test_boot's table (imported at its end); select them with -k vmx."""

import atexit
import os
import re
import shutil
import tempfile
import time

import test_boot
import test_hostile
from bochs import BochsMachine
from test_boot import (check, free_mib, guest_console, guest_run, keel_info, list_states,
                       test, wait_guest_ready, wait_seen, vcpu_homes)

VMX_STATE = {}
# Bochs sizes a flat disk image by its own geometry (16 heads, 63 sectors)
ATA_CYLINDER_BYTES = 16 * 63 * 512
BOCHS_PROBE_MS = 1000   # the hostile probes' spin, in guest time


def hostile_kit_ata():
    """Build the hostile-guest kit (tests/hostile) and return bochsrc lines
    that attach a copy of its tar image, padded to whole cylinders, as the
    second ATA disk (dom0 sees it as /dev/sda). The copy is made in a new
    directory each time, removed at exit: Bochs locks a disk image with
    <image>.lock, which a killed Bochs leaves behind."""
    test_hostile.build_kit()
    tmp = tempfile.mkdtemp(prefix="keel-kit-ata-")
    atexit.register(shutil.rmtree, tmp, True)
    path = os.path.join(tmp, "hostile-ata.img")
    shutil.copyfile(test_hostile.IMG, path)
    size = os.path.getsize(path)
    os.truncate(path, -(-size // ATA_CYLINDER_BYTES) * ATA_CYLINDER_BYTES)
    return ['ata0-slave: type=disk, path="%s", mode=flat' % path]


def bochs_dom0_fixture(name, cpu, smp, mem, backend, kit=False):
    """A fixture: Bochs `cpu` with smp CPUs and mem MiB boots the serial
    entry, the hypervisor says `virtualization: <backend>`, and dom0
    reaches its shell. With kit, the hostile-guest kit is attached as an
    ATA disk and dom0 copies it to /tmp/hostile.img."""
    def boot():
        extra = hostile_kit_ata() if kit else []
        m = BochsMachine(name=name, cpu=cpu, smp=smp, mem=mem, extra_rc=extra).start()
        m.boot_entry("keel-serial", timeout=300)
        m.wait_for(r"virtualization: " + backend, 300,
                   "'virtualization: %s' from the hypervisor" % backend)
        m.wait_shell(timeout=1200)
        if kit:
            test_hostile.copy_kit_to_dom0(m)
        return m
    return boot


def check_backend(m, backend, features):
    """keel info names the backend and lists every one of features."""
    info, raw = keel_info(m)
    check(info.get("backend") == backend,
          "keel info does not say 'backend: %s':\n%s" % (backend, raw))
    feats = info.get("features", "").split()
    for f in features:
        check(f in feats, "keel info's features lack %r:\n%s" % (f, raw))


test_boot.FIXTURES["bochs-vmx"] = bochs_dom0_fixture("bochs-vmx", "corei7_skylake_x", 3, 2048,
                                                     "vmx", kit=True)


@test("vmx_dom0_runs_on_vtx", "bochs-vmx")
def t_vmx_dom0(m):
    check_backend(m, "vmx", ("npt", "unrestricted_guest"))
    out, rc = m.run("grep -c vmx /proc/cpuinfo; echo rc=$?")
    check(out.strip().startswith("0"), "dom0 sees VMX in /proc/cpuinfo: %r" % out)


# The hidden-memory test of the AMD machine, unchanged, on VT-x: EPT must
# hide the hypervisor and the pool from dom0 the way NPT does.
test("vmx_hidden_memory", "bochs-vmx")(test_boot.t_isolation)


# Guests on VT-x: the isolated profile (every port and MSR exits, HLT and
# external interrupts exit, interrupts injected through the VM-entry
# interruption field). Two guests at once, one with 2 vCPUs, on the two
# pool CPUs of this 3-CPU machine (a guest gets at most as many vCPUs as
# the pool has CPUs). Both get the hostile kit as a disk, for the CR2 check.
@test("vmx_guests_boot_and_answer", "bochs-vmx")
def t_vmx_guests(m):
    VMX_STATE["free_before"] = free_mib(m)
    out, rc = m.run("keel create tiny \"%s\"" % test_hostile.KIT_DISK, timeout=300)
    check(rc == 0 and "Started domain tiny" in out, "keel create tiny failed: %r" % out)
    out, rc = m.run("keel create tiny name=tiny2 vcpus=2 on_crash=preserve \"%s\""
                    % test_hostile.KIT_DISK, timeout=300)
    check(rc == 0 and "Started domain tiny2" in out, "keel create tiny2 failed: %r" % out)
    wait_guest_ready(m, "tiny", timeout=900)
    wait_guest_ready(m, "tiny2", timeout=900)
    out = guest_run(m, "tiny", "echo answer-$(hostname)", timeout=300)
    check("answer-tiny" in out, "tiny did not answer on its console: %r" % out[-300:])
    out = guest_run(m, "tiny2", "echo cpus=$(grep -c ^processor /proc/cpuinfo)", timeout=300)
    check("cpus=2" in out, "tiny2 does not see 2 CPUs: %r" % out[-300:])
    check(not m.seen(r"watchdog: CPU \d+ has made no progress"),
          "the watchdog saw a CPU stuck while the guests booted")


def vcpu_cpus(m, name):
    """The pool CPUs guest name's vCPUs are homed on, from keel vcpu-list."""
    out, rc = m.run("keel vcpu-list %s" % name)
    check(rc == 0, "keel vcpu-list %s failed: %r" % (name, out))
    return {int(f[3]) for f in (line.split() for line in out.splitlines())
            if len(f) >= 5 and f[0] == name and f[3].isdigit()}


# VT-x does not switch CR2 (the VMCS has no field for it): the hypervisor
# must, or a guest reads another's page-fault addresses. tiny (the spy)
# and tiny2 (the victim, faulting on both its vCPUs) share a pool CPU.
@test("vmx_hostile_guest_reads_no_cr2_of_another", "bochs-vmx")
def t_vmx_cr2(m):
    for name in ("tiny", "tiny2"):
        test_hostile.load_kit(m, name, timeout=300)
    shared = vcpu_cpus(m, "tiny") & vcpu_cpus(m, "tiny2")
    check(shared, "tiny and tiny2 share no pool CPU, so the check would prove nothing:\n%s"
          % m.run("keel vcpu-list")[0])
    # one victim per vCPU (the status check reads the first one's file);
    # they end with tiny2, which the next test crashes. A guest second is
    # about 5 s here (3 CPUs of 200 M instructions each per guest second).
    guest_run(m, "tiny2", "for f in victim victim2; do ( /t/hostile victim /tmp/$f.status "
              "</dev/null >/dev/null 2>&1 & ); done; sleep 1", timeout=300)
    test_hostile.check_cr2_probe(m, spy="tiny", victim="tiny2", ms=BOCHS_PROBE_MS)


# A VMCS may be cached by the CPU that last ran it until that CPU clears
# it (SDM 24.11.1), so a vCPU moves between CPUs only through a VMCLEAR on
# its old CPU (vmx_vcpu_unload). keel vcpu-pin moves one of tiny2's busy
# vCPUs (its victim programs run on both) to the other pool CPU and back;
# the guest must go on answering with both CPUs.
@test("vmx_vcpu_pin_moves_a_running_vcpu", "bochs-vmx")
def t_vmx_pin(m):
    info, _ = keel_info(m)
    low, high = [int(c) for c in re.search(r"\((\d+)-(\d+)\)", info["pool_cpus"]).groups()]
    pool = list(range(low, high + 1))
    homes, raw = vcpu_homes(m)
    here = homes.get(("tiny2", 1))
    check(here in pool, "tiny2's vCPU 1 has no pool CPU:\n%s" % raw)
    for target in ([c for c in pool if c != here][0], here):
        out, rc = m.run("keel vcpu-pin tiny2 1 %d" % target, timeout=120)
        check(rc == 0, "keel vcpu-pin tiny2 1 %d failed: %r" % (target, out[-300:]))
        deadline = m.deadline(300)
        while vcpu_homes(m)[0].get(("tiny2", 1)) != target:
            check(not deadline.passed(), "tiny2's vCPU 1 did not move to CPU %d:\n%s"
                  % (target, m.run("keel vcpu-list")[0]))
            time.sleep(5)
        out = guest_run(m, "tiny2", "echo moved-$(hostname) cpus=$(grep -c ^processor "
                        "/proc/cpuinfo)", timeout=300)
        check("moved-tiny2 cpus=2" in out, "tiny2 does not answer after its vCPU moved "
              "to CPU %d: %r" % (target, out[-300:]))
    check(not m.seen(r"VMCS is active on CPU"), "a vCPU moved without its VMCS being cleared")


# Save and restore on VT-x: keel save has each vCPU's VMCS cleared on the
# CPU that last ran it (sched_flush_lazy) and reads it on dom0's CPU; the
# restored record reaches a new VMCS at the vCPU's first entry. tiny2 has
# 2 vCPUs, both busy in the victim program, which checks its own XMM
# registers and memory every round.
@test("vmx_save_restore_goes_on_where_it_was", "bochs-vmx")
def t_vmx_save(m):
    guest_run(m, "tiny2", "echo written-before-save > /tmp/marker", timeout=300)
    before = test_hostile.victim_status(m, "tiny2")
    out, rc = m.run("keel save tiny2 /tmp/tiny2.sav", timeout=900)
    check(rc == 0 and "Saved domain tiny2" in out, "keel save tiny2 failed: %r" % out[-600:])
    states, raw = list_states(m)
    check("tiny2" not in states, "the saved guest is still there:\n%s" % raw)
    out, rc = m.run("keel restore /tmp/tiny2.sav && rm /tmp/tiny2.sav", timeout=900)
    check(rc == 0 and "Restored domain tiny2" in out, "keel restore failed: %r" % out[-600:])
    out = guest_run(m, "tiny2", "cat /tmp/marker; echo cpus=$(grep -c ^processor /proc/cpuinfo)",
                    timeout=300)
    check("written-before-save" in out and "cpus=2" in out,
          "tiny2 is not where it was after the restore: %r" % out[-300:])
    test_hostile.check_victim_went_on(m, before, "tiny2", wait_s=10)
    check(not m.seen(r"VM entry failed|VMCS is still active"),
          "a restored vCPU did not enter, or a VMCS was not cleared for the save")


@test("vmx_guest_crash_leaves_others_running", "bochs-vmx")
def t_vmx_crash(m):
    guest_console(m, "tiny2", "echo c > /proc/sysrq-trigger", timeout=120)
    wait_seen(m, r"domain \d+ \(tiny2\) crashed", 300, "the hypervisor reporting tiny2 crashed")
    states, raw = list_states(m)
    check("c" in states.get("tiny2", ""), "tiny2 is not shown crashed:\n%s" % raw)
    out = guest_run(m, "tiny", "echo still-$(hostname)", timeout=300)
    check("still-tiny" in out, "tiny stopped answering after tiny2 crashed: %r" % out[-300:])
    out, rc = m.run("echo dom0-alive")
    check("dom0-alive" in out, "dom0 stopped answering")


@test("vmx_destroy_returns_memory", "bochs-vmx")
def t_vmx_destroy(m):
    for name in ("tiny2", "tiny"):
        out, rc = m.run("keel destroy %s" % name, timeout=120)
        check(rc == 0, "keel destroy %s failed: %r" % (name, out))
    states, raw = list_states(m)
    check(set(states) == {"Domain-0"}, "domains left after destroying all:\n%s" % raw)
    before = VMX_STATE.get("free_before")
    check(before is not None, "no starting free_memory recorded")
    after = free_mib(m)
    check(after == before, "free_memory is %s MiB after destroying the guests, %s MiB before"
          % (after, before))
