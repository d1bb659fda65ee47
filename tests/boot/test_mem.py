"""Boot tests of `keel mem-set` and `keel mem-max` (issue 16 part 3), on
the keel-guests machine after its own tests: a tiny guest of 256 MiB with
two vCPUs gives memory back through its virtio-balloon driver and takes
it again. The pool's free memory must move by exactly what Keel says it
holds for the guest, nearly all of what was asked must come back to the
pool (it comes in whole 2 MiB chunks), the guest's own MemTotal must
follow, and growing back must return the pool to where it started. Both
vCPUs are kept busy meanwhile, so chunks are taken from a guest whose
vCPUs are in guest mode. Then each kind of bad input is refused by name
with nothing changed. Registered into test_boot's table after
test_save (imported at its end)."""

import re

from test_boot import check, free_mib, guest_run, list_states, test, wait_guest_ready

NAME = "balloon"
RAM_MIB = 256
SMALL_MIB = 128
# Of the memory the guest gives back, at least this much must return to
# the pool: only chunks whose 512 pages are all in the balloon can go, and
# an idle guest's free memory is mostly whole 2 MiB blocks.
RETURNED_MIN = 0.75
STATE = {}


def balloon_state(m):
    """(MEM column of keel list, the line) for the guest."""
    out, _ = m.run("keel list")
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0] == NAME:
            return int(f[2]), line
    check(False, "%s is not in keel list: %r" % (NAME, out))
    return None


def mem_total_mib(m):
    out = guest_run(m, NAME, "grep MemTotal /proc/meminfo", timeout=120)
    mt = re.search(r"MemTotal:\s+(\d+) kB", out)
    check(mt is not None, "no MemTotal from the guest: %r" % out)
    return int(mt.group(1)) // 1024


def mem_set(m, size):
    out, rc = m.run("keel mem-set %s %d" % (NAME, size), timeout=180)
    check(rc == 0, "keel mem-set %s %d failed: %r" % (NAME, size, out[-600:]))
    mt = re.search(r"Keel holds (\d+) MiB for it", out)
    check(mt is not None, "keel mem-set did not say what Keel holds: %r" % out[-400:])
    return int(mt.group(1)), out


@test("mem_set_gives_memory_back_to_the_pool_and_takes_it_again", "keel-guests")
def t_mem_set(m):
    STATE["free_before_create"] = free_mib(m)
    out, rc = m.run("keel create tiny name=%s memory=%d vcpus=2" % (NAME, RAM_MIB),
                    timeout=180)
    check(rc == 0, "keel create failed: %r" % out[-400:])
    wait_guest_ready(m, NAME)
    guest_run(m, NAME, "grep -c virtio_balloon /proc/modules; "
              "for c in 0 1; do (while :; do :; done) & done")
    free0 = free_mib(m)
    total0 = mem_total_mib(m)
    held0, out = mem_set(m, SMALL_MIB)
    free1 = free_mib(m)
    check(free1 - free0 == RAM_MIB - held0,
          "the pool grew by %d MiB, but Keel says it holds %d MiB for the guest "
          "instead of %d:\n%s" % (free1 - free0, held0, RAM_MIB, out))
    asked = RAM_MIB - SMALL_MIB
    check(free1 - free0 >= asked * RETURNED_MIN,
          "only %d MiB of the %d MiB given back reached the pool:\n%s"
          % (free1 - free0, asked, out))
    shown, line = balloon_state(m)
    check(shown == SMALL_MIB, "keel list shows %d MiB, not %d:\n%s" % (shown, SMALL_MIB, line))
    total1 = mem_total_mib(m)
    check(abs((total0 - total1) - asked) <= 2,
          "the guest's MemTotal went from %d to %d MiB, not down by %d"
          % (total0, total1, asked))
    out = guest_run(m, NAME, "echo alive-after-shrink", timeout=120)
    check("alive-after-shrink" in out, "the guest does not answer: %r" % out)

    held2, out = mem_set(m, RAM_MIB)
    check(held2 == RAM_MIB, "Keel holds %d MiB after growing back, not %d:\n%s"
          % (held2, RAM_MIB, out))
    free2 = free_mib(m)
    check(free2 == free0, "the pool has %d MiB free after growing back, %d before"
          % (free2, free0))
    total2 = mem_total_mib(m)
    check(total2 == total0, "the guest's MemTotal is %d MiB after growing back, %d before"
          % (total2, total0))
    # the memory it took back is usable: 64 MiB in its RAM file system
    # (which may take at most half of its RAM, less what it holds already)
    out = guest_run(m, NAME, "dd if=/dev/zero of=/tmp/fill bs=1M count=%d 2>&1 | tail -n 3; "
                    "[ $(wc -c < /tmp/fill) -eq $((%d << 20)) ] && echo filled-ok; "
                    "rm -f /tmp/fill" % (64, 64), timeout=240)
    check("filled-ok" in out, "the guest could not use its memory again: %r" % out[-300:])


def refused(m, command, words, what):
    out, rc = m.run(command, timeout=60)
    check(rc != 0, "%s was accepted (%s): %r" % (command, what, out[-300:]))
    for w in words:
        check(w in out, "%s: the message does not say %r: %r" % (command, w, out[-300:]))


@test("mem_set_refuses_bad_input", "keel-guests")
def t_mem_bad(m):
    refused(m, "keel mem-set %s 129" % NAME, ["steps of 2 MiB", "try 128 or 130"], "odd size")
    refused(m, "keel mem-set %s 32" % NAME, ["below the smallest", "64 MiB"], "too small")
    refused(m, "keel mem-set %s 512" % NAME, ["above its maximum", "256 MiB"], "too big")
    refused(m, "keel mem-set %s lots" % NAME, ["not a memory size"], "not a number")
    refused(m, "keel mem-set Domain-0 512", ["Domain-0's memory is fixed"], "dom0")
    refused(m, "keel mem-set nosuchguest 128", ["nosuchguest"], "no such guest")
    refused(m, "keel mem-max %s 512" % NAME, ["above its maximum", "cannot grow"],
            "a ceiling above its RAM")
    out, rc = m.run("keel mem-max %s 192" % NAME, timeout=60)
    check(rc == 0 and "maximum 192 MiB" in out, "keel mem-max 192 failed: %r" % out)
    refused(m, "keel mem-set %s 256" % NAME, ["above its maximum", "192 MiB", "keel mem-max"],
            "above the new ceiling")
    out, rc = m.run("keel mem-max %s 256" % NAME, timeout=60)
    check(rc == 0, "keel mem-max 256 failed: %r" % out)
    out, rc = m.run("keel mem-set --help")
    check(rc == 0 and "Usage: keel mem-set" in out, "no help: %r" % out)
    out, rc = m.run("keel destroy %s" % NAME, timeout=60)
    check(rc == 0, "keel destroy failed: %r" % out)
    free1, before = free_mib(m), STATE.get("free_before_create")
    check(free1 == before,
          "the pool has %s MiB free after destroying the guest, %s MiB before creating it"
          % (free1, before))
    states, raw = list_states(m)
    check(NAME not in states, "the guest is still listed:\n%s" % raw)
