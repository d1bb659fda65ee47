"""Boot tests of `keel vcpu-set` (issue 16 part 4), on the keel-guests
machine (two pool CPUs) after its vcpu-pin test: a tiny guest started with one vCPU of at
most two (maxvcpus = 2) gets its second vCPU by ACPI CPU hotplug, loses it
and gets it back, its kernel onlining and offlining it by itself (the
guest image's uevent rule), with `nproc`, /sys's online list, `keel list`
and `keel vcpu-list` following each step. Then the bad input of the
command is refused by name with nothing changed. Registered into
test_boot's table after test_pin (imported at its end)."""

import re
import time

from test_boot import check, check_refusals, guest_run, test, wait_guest_ready

NAME = "hot"


def guest_cpus(m, name=NAME):
    """(nproc, /sys/devices/system/cpu/online) inside guest name."""
    out = guest_run(m, name, "echo cpus=$(nproc) online=$(cat /sys/devices/system/cpu/online)",
                    timeout=120)
    mt = re.search(r"cpus=(\d+) online=(\S+)", out)
    check(mt is not None, "%s did not say its CPUs: %r" % (name, out[-300:]))
    return int(mt.group(1)), mt.group(2)


def listed_vcpus(m, name=NAME):
    """The VCPUs column of keel list for guest name."""
    out, _ = m.run("keel list")
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == name:
            return int(f[3])
    check(False, "%s is not in keel list: %r" % (name, out))
    return None


def vcpu_states(m, name=NAME):
    """vCPU number -> State column of keel vcpu-list for guest name."""
    out, rc = m.run("keel vcpu-list %s" % name)
    check(rc == 0, "keel vcpu-list %s failed: %r" % (name, out[-300:]))
    states = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0] == name:
            states[int(f[2])] = f[4]
    return states


def vcpu_set(m, n, name=NAME):
    out, rc = m.run("keel vcpu-set %s %d" % (name, n), timeout=90)
    check(rc == 0 and "%s: %d vCPU(s) online" % (name, n) in out,
          "keel vcpu-set %s %d failed: %r" % (name, n, out[-600:]))


def expect(m, n, name=NAME):
    """Guest name, keel list and keel vcpu-list all show n vCPUs. keel
    vcpu-set returns once the vCPU runs; the guest's kernel finishes
    bringing it up (calibration, its online file) a moment later."""
    want = "0" if n == 1 else "0-%d" % (n - 1)
    end = time.time() + 30
    while True:
        cpus, online = guest_cpus(m, name)
        if (cpus == n and online == want) or time.time() > end:
            break
        time.sleep(1)
    check(cpus == n and online == want, "after vcpu-set %d the guest has %d CPU(s) online (%s)"
          % (n, cpus, online))
    check(listed_vcpus(m, name) == n, "keel list does not show %d vCPU(s) for %s" % (n, name))
    states = vcpu_states(m, name)
    check(len(states) == 2, "keel vcpu-list does not show both vCPUs: %r" % states)
    check((states[1] == "off") == (n == 1), "keel vcpu-list shows vCPU 1 as %r with %d "
          "vCPU(s) plugged in" % (states[1], n))


@test("vcpu_set_plugs_vcpus_in_and_out", "keel-guests")
def t_vcpu_set(m):
    out, rc = m.run("keel create tiny name=%s maxvcpus=2" % NAME, timeout=180)
    check(rc == 0 and "Started domain" in out, "keel create failed: %r" % out[-600:])
    wait_guest_ready(m, NAME)
    expect(m, 1)
    vcpu_set(m, 2)
    expect(m, 2)
    # the new vCPU runs work: a busy loop pinned to it ends
    out = guest_run(m, NAME, "taskset -c 1 sh -c 'i=0; while [ $i -lt 2000 ]; do "
                    "i=$((i+1)); done; echo ran-on-cpu1'", timeout=120)
    check("ran-on-cpu1" in out, "nothing ran on the plugged-in vCPU: %r" % out[-300:])
    vcpu_set(m, 1)
    expect(m, 1)
    vcpu_set(m, 2)  # back after its eject
    expect(m, 2)
    vcpu_set(m, 1)
    expect(m, 1)


@test("vcpu_set_refuses_bad_input", "keel-guests")
def t_vcpu_set_bad(m):
    cases = [
        ("keel vcpu-set %s 3" % NAME, ["may have 1 to 2 vCPU(s)", "maxvcpus"]),
        ("keel vcpu-set %s 0" % NAME, ["1 to 8"]),
        ("keel vcpu-set %s two" % NAME, ["1 to 8"]),
        ("keel vcpu-set Domain-0 1", ["Domain-0's CPUs are chosen at boot"]),
        ("keel vcpu-set nosuch 1", ["no domain named 'nosuch'"]),
        ("keel vcpu-set %s" % NAME, ["needs <domain> <n>"]),
        ("keel create tiny name=bad vcpus=2 maxvcpus=1", ["maxvcpus = 1 is below vcpus = 2"]),
    ]
    check_refusals(m, cases, "command")
    check(guest_cpus(m)[0] == 1, "a refused vcpu-set changed the guest's CPUs")
    out, rc = m.run("keel vcpu-set --help")
    check(rc == 0 and "Usage: keel vcpu-set" in out, "keel vcpu-set --help: %r" % out[-400:])
    out, rc = m.run("keel destroy %s" % NAME, timeout=60)
    check(rc == 0, "keel destroy %s failed: %r" % (NAME, out))
