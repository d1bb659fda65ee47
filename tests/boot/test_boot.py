"""Boot tests for out/keel.iso. Each test names the boot ("fixture") it
needs; tests sharing a fixture share one QEMU run, in the order below."""

import re

from harness import Machine, TestFailure, parse_info, mib

# ---------------------------------------------------------------- fixtures
# name -> (description, function that boots a Machine and returns it)


def boot_linux():
    m = Machine("linux-entry", cpu="max", smp=2, mem=1024).start()
    m.boot_entry("linux")
    m.wait_shell()
    return m


def boot_keel_serial_max():
    m = Machine("keel-serial-max", cpu="max", smp=4, mem=2048).start()
    m.boot_entry("keel-serial")
    m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner 'Keel hypervisor v'")
    m.wait_shell()
    return m


def boot_keel_serial_qemu64():
    m = Machine("keel-serial-qemu64", cpu="qemu64", smp=2, mem=1024).start()
    m.boot_entry("keel-serial")
    m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner 'Keel hypervisor v'")
    return m


def boot_keel_default():
    # No key pressed: the menu's timeout must pick the default entry.
    m = Machine("keel-default", cpu="max", smp=2, mem=1024).start()
    m.wait_for(r"Keel live CD|Press \[Tab\]", 120, "the isolinux menu")
    return m


FIXTURES = {
    "linux": boot_linux,
    "keel-serial-max": boot_keel_serial_max,
    "keel-serial-qemu64": boot_keel_serial_qemu64,
    "keel-default": boot_keel_default,
}

TESTS = []  # (name, fixture, function)


def test(name, fixture):
    def deco(fn):
        TESTS.append((name, fixture, fn))
        return fn
    return deco


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


# ---------------------------------------------------------------- tests

@test("linux_entry_boots_to_shell", "linux")
def t_linux_shell(m):
    out, rc = m.run("echo hello-from-$(hostname)")
    check(rc == 0 and "hello-from-dom0" in out,
          "expected 'hello-from-dom0' from the dom0 shell, got rc=%d %r" % (rc, out))
    check(m.seen(r"dom0 is running without the Keel hypervisor"),
          "init did not say 'dom0 is running without the Keel hypervisor'")
    out, rc = m.run("grep -c ' /run/keel/medium iso9660 ' /proc/mounts")
    check(out.strip() == "1", "boot CD not mounted at /run/keel/medium: %r" % out)


@test("linux_entry_keel_info_fails", "linux")
def t_linux_keel_info(m):
    out, rc = m.run("keel info")
    check(rc != 0, "keel info succeeded without the hypervisor (rc=0): %r" % out)
    check("not running on the Keel hypervisor" in out,
          "keel info did not say 'not running on the Keel hypervisor': %r" % out)


def keel_info(m):
    out, rc = m.run("keel info")
    check(rc == 0, "keel info failed (rc=%d): %r" % (rc, out))
    return parse_info(out), out


@test("keel_serial_info_cpus_memory", "keel-serial-max")
def t_keel_info(m):
    check(m.seen(r"Keel hypervisor v"), "no hypervisor banner")
    info, raw = keel_info(m)
    for key, want in (("nr_cpus", "4"), ("dom0_cpus", "1"), ("pool_cpus", "3")):
        check(key in info, "keel info has no '%s' line:\n%s" % (key, raw))
        got = info[key].split()[0]
        check(got == want, "%s is %r, expected %s" % (key, info[key], want))
    for key in ("dom0_memory", "pool_memory", "free_memory", "total_memory",
                "hypervisor_memory"):
        check(key in info, "keel info has no '%s' line:\n%s" % (key, raw))
    dom0, pool = mib(info["dom0_memory"]), mib(info["pool_memory"])
    hv, total = mib(info["hypervisor_memory"]), mib(info["total_memory"])
    free = mib(info["free_memory"])
    # dom0_mem defaults to 1 GiB; its top end is rounded up to 2 MiB
    check(1024 <= dom0 <= 1026, "dom0_memory is %s MiB, expected 1024 (+2 MiB rounding)" % dom0)
    check(1800 <= total <= 2048, "total_memory %s MiB is not close to the 2048 MiB of the VM" % total)
    check(abs(dom0 + pool + hv - total) <= 0.02 * total + 8,
          "dom0 %s + pool %s + hypervisor %s = %s MiB, far from total_memory %s MiB"
          % (dom0, pool, hv, dom0 + pool + hv, total))
    check(0 <= free <= pool, "free_memory %s MiB is not within pool_memory %s MiB" % (free, pool))
    # dom0's own view: Linux must see about 1024 MiB, not the whole VM
    out, _ = m.run("grep MemTotal /proc/meminfo")
    kb = int(re.search(r"(\d+)", out).group(1))
    check(kb <= 1026 * 1024, "dom0's MemTotal is %d kB, more than its 1026 MiB" % kb)
    out, _ = m.run("grep -c ^processor /proc/cpuinfo")
    check(out.strip() == "1", "dom0 sees %r CPUs, expected 1" % out.strip())


@test("keel_serial_hidden_memory", "keel-serial-max")
def t_isolation(m):
    info, raw = keel_info(m)
    check("hidden_marker_pa" in info, "keel info has no 'hidden_marker_pa' line:\n%s" % raw)
    pa = int(info["hidden_marker_pa"].split()[0], 16)
    check(pa >= 0x100000, "hidden_marker_pa %#x is implausible" % pa)
    page = pa // 4096
    count = 2 if pa % 4096 > 4096 - 32 else 1
    # Linux's read() of /dev/mem stops at the end of dom0's RAM by itself, so
    # use mmap (busybox devmem), which reaches nested paging. Control: the
    # same path reads real data from dom0's own memory (the BIOS area).
    out, _ = m.run("devmem 0xF0000 32")
    check(re.search(r"^0x[0-9A-Fa-f]{8}\s*$", out, re.M) is not None,
          "control read with devmem at 0xF0000 failed: %r" % out)
    words = []
    for off in (0, 4, 8):
        out, _ = m.run("devmem %#x 32" % (pa + off))
        mt = re.search(r"^0x([0-9A-Fa-f]{8})\s*$", out, re.M)
        check(mt is not None, "devmem of the hidden page at %#x gave %r" % (pa + off, out))
        words.append(int(mt.group(1), 16))
    m.note("words read at the hidden marker %#x: %s" % (pa, " ".join("%08x" % w for w in words)))
    marker = b"KEEL-HIDDEN-MEMORY-MARKER"
    real = [int.from_bytes(marker[i:i + 4], "little") for i in (0, 4, 8)]
    check(words != real, "dom0 read the hidden marker at %#x through /dev/mem" % pa)
    check(all(w == 0xFFFFFFFF for w in words),
          "the hidden page at %#x read %s, expected the junk page's 0xffffffff"
          % (pa, " ".join("%08x" % w for w in words)))
    check(m.seen(r"dom0 touched hidden memory"), "the hypervisor did not log dom0's access")
    out, _ = m.run("cat /proc/iomem")
    for line in out.splitlines():
        mt = re.match(r"^\s*([0-9a-f]+)-([0-9a-f]+) : (.*)$", line)
        if mt and int(mt.group(1), 16) <= pa <= int(mt.group(2), 16):
            check(mt.group(3).strip() != "System RAM",
                  "dom0's /proc/iomem lists %#x as System RAM: %s" % (pa, line.strip()))


@test("keel_serial_no_svm_boots_natively", "keel-serial-qemu64")
def t_no_svm(m):
    m.wait_for(r"no usable hardware virtualization", 120,
               "'no usable hardware virtualization' from the hypervisor")
    m.wait_for(r"booting dom0 natively", 60, "'booting dom0 natively' from the hypervisor")
    m.wait_shell()
    out, rc = m.run("echo alive-$(hostname)")
    check("alive-dom0" in out, "dom0 shell did not answer: %r" % out)


@test("keel_default_entry_boots", "keel-default")
def t_default(m):
    m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner after the menu timeout")
    m.wait_for(r"starting dom0", 120, "'starting dom0' from the hypervisor")
    # dom0's console is tty0 in this entry, but init also puts a shell on ttyS0
    m.wait_shell_prompt(240)
    out, rc = m.run("echo alive-$(hostname)")
    check("alive-dom0" in out, "dom0 shell on ttyS0 did not answer: %r" % out)
