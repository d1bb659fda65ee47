"""Boot test of `keel vcpu-pin` (issue 16 part 4), on the keel-guests
machine after its own tests: a running two-vCPU guest whose vCPUs are both
busy is pinned, vCPU by vCPU and then whole, to one pool CPU and back to
any. `keel vcpu-list` must show each vCPU move to the CPUs it was given and
stay there while the other pool CPU idles (balancing keeps to the pin),
then spread again once unpinned; the guest keeps answering. Bad input is
refused by name. Registered into test_boot's table after test_mem
(imported at its end)."""

import re
import time

from test_boot import check, guest_run, keel_info, test, vcpu_homes, wait_guest_ready

NAME = "pinned"
MOVE_S = 20     # a pinned vCPU moves at its CPU's next pick: well within this


def pin(m, vcpu, cpus):
    out, rc = m.run("keel vcpu-pin %s %s %s" % (NAME, vcpu, cpus), timeout=60)
    check(rc == 0, "keel vcpu-pin %s %s %s failed: %r" % (NAME, vcpu, cpus, out[-300:]))


def wait_homes(m, want, what):
    """Wait until each (vCPU: CPU) of want shows in keel vcpu-list."""
    deadline = time.time() + MOVE_S
    while True:
        homes, raw = vcpu_homes(m)
        if all(homes.get((NAME, v)) == c for v, c in want.items()):
            return raw
        check(time.time() < deadline, "%s: vCPUs not where pinned after %d s:\n%s"
              % (what, MOVE_S, raw))
        time.sleep(1)


def affinity(raw, vcpu):
    for line in raw.splitlines():
        f = line.split()
        if len(f) >= 7 and f[0] == NAME and f[2] == str(vcpu):
            return f[6]
    return None


@test("vcpu_pin_moves_running_vcpus_and_balancing_keeps_to_it", "keel-guests")
def t_vcpu_pin(m):
    info, _ = keel_info(m)
    low, high = [int(c) for c in re.search(r"\((\d+)-(\d+)\)", info["pool_cpus"]).groups()]
    check(high == low + 1, "this test wants two pool CPUs: %r" % info["pool_cpus"])
    out, rc = m.run("keel create tiny name=%s vcpus=2" % NAME, timeout=180)
    check(rc == 0, "keel create failed: %r" % out[-400:])
    try:
        wait_guest_ready(m, NAME)
        guest_run(m, NAME, "for c in 0 1; do (while :; do :; done) >/dev/null 2>&1 & done")
        pin(m, 0, high)
        raw = wait_homes(m, {0: high}, "vCPU 0 to CPU %d" % high)
        check(affinity(raw, 0) == str(high) and affinity(raw, 1) == "any",
              "the affinities are not CPU %d and any:\n%s" % (high, raw))
        pin(m, "all", low)
        raw = wait_homes(m, {0: low, 1: low}, "both vCPUs to CPU %d" % low)
        for _ in range(5):  # CPU high idles, yet balancing must not take one
            time.sleep(1)
            homes, raw = vcpu_homes(m)
            check(homes[(NAME, 0)] == low and homes[(NAME, 1)] == low,
                  "a vCPU pinned to CPU %d left it:\n%s" % (low, raw))
        pin(m, "all", "all")
        deadline = time.time() + MOVE_S
        while True:  # two busy vCPUs, two pool CPUs: balancing spreads them
            homes, raw = vcpu_homes(m)
            if homes[(NAME, 0)] != homes[(NAME, 1)]:
                break
            check(time.time() < deadline, "unpinned, the busy vCPUs still share a CPU "
                  "after %d s:\n%s" % (MOVE_S, raw))
            time.sleep(1)
        check(affinity(raw, 0) == "any", "the affinity is not back to any:\n%s" % raw)
        out = guest_run(m, NAME, "echo alive-after-pinning; nproc", timeout=120)
        check("alive-after-pinning" in out, "the guest does not answer: %r" % out)
        vcpu_pin_refusals(m, low)
    finally:
        m.run("keel destroy %s" % NAME, timeout=60)


def vcpu_pin_refusals(m, low):
    for args, words in [("%s 2 %d" % (NAME, low), ["from 0 to 1"]),
                        ("%s 0 0" % NAME, ["not the guests' pool"]),
                        ("%s 0 x" % NAME, ["not a CPU list"]),
                        ("Domain-0 0 %d" % low, ["Domain-0"]),
                        ("nosuchguest 0 %d" % low, ["nosuchguest"]),
                        ("%s 0" % NAME, ["needs <domain> <vcpu|all> <cpus|all>"])]:
        out, rc = m.run("keel vcpu-pin %s" % args, timeout=60)
        check(rc != 0, "keel vcpu-pin %s was accepted: %r" % (args, out[-300:]))
        for w in words:
            check(w in out, "keel vcpu-pin %s does not say %r: %r" % (args, w, out[-300:]))
    out, rc = m.run("keel vcpu-pin --help")
    check(rc == 0 and "Usage: keel vcpu-pin" in out, "no help: %r" % out)
