"""Boot tests for out/keel.iso. Each test names the boot ("fixture") it
needs; tests sharing a fixture share one QEMU run, in the order below."""

import re
import time

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


def boot_keel_guests():
    m = Machine("keel-guests", cpu="max", smp=4, mem=2048).start()
    m.boot_entry("keel-serial")
    m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner 'Keel hypervisor v'")
    m.wait_shell()
    return m


FIXTURES = {
    "linux": boot_linux,
    "keel-serial-max": boot_keel_serial_max,
    "keel-serial-qemu64": boot_keel_serial_qemu64,
    "keel-default": boot_keel_default,
    "keel-guests": boot_keel_guests,
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


# ---------------------------------------------------------------- guests
# One boot: "tiny" (1 vCPU) and "tiny2" (2 vCPUs, on_crash=preserve), both
# from configs/tiny.cfg on the CD, driven through `keel console` in a pipe.

GUEST_STATE = {}


def guest_console(m, name, line=None, timeout=90):
    """Send line (if any) to the guest's console; return what it printed."""
    feed = "printf '%%s\\n' %s | " % shell_quote(line) if line else "true | "
    out, _ = m.run(feed + "keel console %s 2>&1 | tr -d '\\r' | tail -n 60" % name,
                   timeout=timeout)
    return out


def shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def wait_guest_ready(m, name, timeout=300):
    out, rc = m.run("for i in $(seq %d); do keel console %s </dev/null 2>&1 | "
                    "grep -q 'Keel tiny guest %s ready' && echo READY-%s && break; "
                    "sleep 2; done" % (timeout // 3, name, name, name), timeout=timeout + 30)
    check("READY-%s" % name in out, "guest %s did not reach its shell: %r" % (name, out[-300:]))


def wait_seen(m, pattern, timeout, what):
    """Wait until pattern appears anywhere in the serial log so far."""
    end = time.time() + timeout
    while time.time() < end:
        if m.seen(pattern):
            return
        time.sleep(1)
    raise TestFailure("timed out after %d s waiting for %s" % (timeout, what))


def free_mib(m):
    info, raw = keel_info(m)
    return mib(info["free_memory"])


def list_states(m):
    out, _ = m.run("keel list")
    states = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[1].isdigit():
            states[f[0]] = f[4]
    return states, out


@test("guests_two_tiny_run_commands", "keel-guests")
def t_guests_two(m):
    GUEST_STATE["free_before"] = free_mib(m)
    out, rc = m.run("keel create tiny", timeout=120)
    check(rc == 0 and "Started domain tiny" in out, "keel create tiny failed: %r" % out)
    out, rc = m.run("keel create tiny name=tiny2 vcpus=2 on_crash=preserve", timeout=120)
    check(rc == 0 and "Started domain tiny2" in out, "keel create tiny2 failed: %r" % out)
    wait_guest_ready(m, "tiny")
    wait_guest_ready(m, "tiny2")
    for name in ("tiny", "tiny2"):
        out = guest_console(m, name, "echo out-$(hostname)-$((6*7))")
        check("out-%s-42" % name in out, "guest %s did not run the command: %r" % (name, out[-400:]))
    states, raw = list_states(m)
    for name in ("tiny", "tiny2"):
        check(name in states and states[name][:2].strip("-") in ("r", "b"),
              "%s not running or blocked in keel list:\n%s" % (name, raw))


@test("guests_smp_guest_sees_two_cpus", "keel-guests")
def t_guests_smp(m):
    out = guest_console(m, "tiny2", "echo cpus=$(grep -c ^processor /proc/cpuinfo)")
    check("cpus=2" in out, "the vcpus=2 guest does not see 2 CPUs: %r" % out[-400:])


@test("net_two_guests_ping_over_switch", "keel-guests")
def t_net_ping(m):
    for name, ip in (("tiny", "10.9.0.1"), ("tiny2", "10.9.0.2")):
        out = guest_console(m, name, "ifconfig eth0 %s netmask 255.255.255.0 up && "
                            "echo up-$(cat /sys/class/net/eth0/address)" % ip)
        check(re.search(r"up-02:4b:45:", out) is not None,
              "%s has no eth0 with a Keel MAC address: %r" % (name, out[-400:]))
    # keel console (pipe mode) returns after 1 s without output, so ping runs
    # in the background and its summary is read afterwards.
    guest_console(m, "tiny", "ping -c 3 -W 5 10.9.0.2 > /tmp/ping.out 2>&1 &")
    m.run("sleep 8")
    out = guest_console(m, "tiny", "tail -2 /tmp/ping.out")
    check(re.search(r"3 packets transmitted, [123] (packets )?received", out) is not None,
          "tiny cannot ping tiny2 over the virtual switch: %r" % out[-400:])


@test("guests_no_data_beyond_guest_ram", "keel-guests")
def t_guests_isolation(m):
    # tiny has 128 MiB; 0x10000000 (256 MiB) and 0x40222000 (dom0/pool
    # memory on the host) are outside it. Control: the guest's own MP table
    # at 0xF0000 ("_MP_").
    out = guest_console(m, "tiny", "for a in 0x10000000 0x40222000 0xF0000; do "
                        "echo at-$a=$(devmem $a 32); done")
    for addr in ("0x10000000", "0x40222000"):
        mt = re.search(r"at-%s=(0x[0-9A-Fa-f]+)" % addr, out)
        check(mt is not None, "no devmem answer for %s: %r" % (addr, out[-400:]))
        check(int(mt.group(1), 16) == 0xFFFFFFFF,
              "guest read %s at %s outside its RAM, expected 0xFFFFFFFF" % (mt.group(1), addr))
    check(re.search(r"at-0xF0000=0x5F504D5F", out) is not None,
          "control read of the guest's MP table did not give '_MP_': %r" % out[-400:])


@test("guests_crash_leaves_others_running", "keel-guests")
def t_guests_crash(m):
    guest_console(m, "tiny2", "echo c > /proc/sysrq-trigger", timeout=60)
    wait_seen(m, r"domain \d+ \(tiny2\) crashed", 120, "the hypervisor reporting tiny2 crashed")
    states, raw = list_states(m)
    check(states.get("tiny2", "").find("c") >= 0, "tiny2 is not shown crashed:\n%s" % raw)
    out = guest_console(m, "tiny", "echo still-$(hostname)")
    check("still-tiny" in out, "tiny stopped answering after tiny2 crashed: %r" % out[-300:])
    out, rc = m.run("echo dom0-alive")
    check("dom0-alive" in out, "dom0 stopped answering")


@test("guests_pause_unpause", "keel-guests")
def t_guests_pause(m):
    out, rc = m.run("keel pause tiny")
    check(rc == 0, "keel pause tiny failed: %r" % out)
    states, raw = list_states(m)
    check("p" in states.get("tiny", ""), "tiny not shown paused:\n%s" % raw)
    t1, _ = m.run("keel list | awk '$1==\"tiny\"{print $6}'")
    time.sleep(3)
    t2, _ = m.run("keel list | awk '$1==\"tiny\"{print $6}'")
    check(t1.strip() == t2.strip(), "a paused guest used CPU time: %s -> %s" % (t1.strip(), t2.strip()))
    out, rc = m.run("keel unpause tiny")
    check(rc == 0, "keel unpause tiny failed: %r" % out)
    out = guest_console(m, "tiny", "echo resumed-$(hostname)")
    check("resumed-tiny" in out, "tiny does not answer after unpause: %r" % out[-300:])


@test("guests_reboot_request_restarts", "keel-guests")
def t_guests_reboot(m):
    # keel reboot -> ACPI sleep button -> the guest's acpid reboots it
    # cleanly -> the reset register -> on_reboot=restart by the monitor
    out, _ = m.run("keel list | awk '$1==\"tiny\"{print $2}'")
    old_id = out.strip()
    out, rc = m.run("keel reboot tiny")
    check(rc == 0, "keel reboot tiny failed: %r" % out)
    wait_seen(m, r"domain %s \(tiny\) asked to reboot" % old_id, 120,
              "the hypervisor reporting tiny's reboot")
    out, _ = m.run("for i in $(seq 60); do id=$(keel list | awk '$1==\"tiny\"{print $2}'); "
                   "[ -n \"$id\" ] && [ \"$id\" != %s ] && { echo NEWID-$id; break; }; sleep 1; done"
                   % old_id, timeout=90)
    check("NEWID-" in out, "tiny was not restarted with a new id (on_reboot=restart): %r" % out)
    wait_guest_ready(m, "tiny")


@test("guests_shutdown_request_powers_off", "keel-guests")
def t_guests_poweroff(m):
    # keel shutdown -> ACPI power button -> the guest's acpid powers off
    # (ACPI S5) -> on_poweroff=destroy by the monitor
    out, rc = m.run("keel shutdown tiny")
    check(rc == 0, "keel shutdown tiny failed: %r" % out)
    wait_seen(m, r"domain \d+ \(tiny\) powered off", 120, "the hypervisor reporting tiny powered off")
    out, _ = m.run("for i in $(seq 20); do keel list | grep -q '^tiny ' || { echo GONE; break; }; "
                   "sleep 1; done")
    check("GONE" in out, "tiny is still listed after powering off (on_poweroff=destroy)")


@test("guests_destroy_returns_memory", "keel-guests")
def t_guests_destroy(m):
    out, rc = m.run("keel destroy tiny2")
    check(rc == 0, "keel destroy tiny2 failed: %r" % out)
    states, raw = list_states(m)
    check(set(states) == {"Domain-0"}, "domains left after destroying all:\n%s" % raw)
    before = GUEST_STATE.get("free_before")
    check(before is not None, "no starting free_memory recorded")
    after = free_mib(m)
    check(after == before, "free_memory is %s MiB after destroying all guests, %s MiB before"
          % (after, before))


# ---------------------------------------------------------------- disks
# Same boot as the guest tests, after them: configs/tiny-disk.cfg boots the
# tiny initramfs with root=/dev/vda from the shared squashfs image.

@test("disks_root_from_image_with_overlay", "keel-guests")
def t_disks_root(m):
    GUEST_STATE["disk_free0"] = free_mib(m)
    out, rc = m.run("keel create tiny-disk", timeout=180)
    check(rc == 0 and "Started domain tinydisk" in out, "keel create tiny-disk failed: %r" % out)
    GUEST_STATE["disk_free1"] = free_mib(m)
    wait_guest_ready(m, "tinydisk")
    out = guest_console(m, "tinydisk", "echo img=$(cat /etc/keel-image); echo written > /probe; "
                        "echo back=$(cat /probe); grep -c overlay /proc/mounts; "
                        "echo vdb=$(cat /sys/block/vdb/size)")
    check("img=tiny-root" in out, "the guest's root is not the disk image: %r" % out[-500:])
    check("back=written" in out, "the overlay root is not writable: %r" % out[-500:])
    check("vdb=131072" in out, "the 64 MiB RAM disk is not /dev/vdb: %r" % out[-500:])


@test("disks_second_instance_shares_image", "keel-guests")
def t_disks_share(m):
    free1 = GUEST_STATE.get("disk_free1")
    out, rc = m.run("keel create tiny-disk name=tinydisk2", timeout=180)
    check(rc == 0 and "Started domain tinydisk2" in out, "second instance failed: %r" % out)
    free2 = free_mib(m)
    first = GUEST_STATE["disk_free0"] - free1
    second = free1 - free2
    m.note("pool cost: first instance %s MiB, second %s MiB" % (first, second))
    # each instance: 128 MiB RAM + 64 MiB RAM disk; the image only once
    check(190 <= second <= 194, "the second instance cost %s MiB, expected 192 (no image copy)" % second)
    check(first > second, "the first instance (%s MiB) did not pay for the image" % first)
    wait_guest_ready(m, "tinydisk2")
    out = guest_console(m, "tinydisk2", "echo img2=$(cat /etc/keel-image); ls /probe 2>&1")
    check("img2=tiny-root" in out, "second instance does not see the image: %r" % out[-400:])
    check("No such file" in out, "the first instance's overlay leaked into the second: %r" % out[-400:])
    for name in ("tinydisk", "tinydisk2"):
        m.run("keel destroy %s" % name)
    after = free_mib(m)
    check(after == GUEST_STATE["disk_free0"], "free memory %s MiB after destroying both, %s before"
          % (after, GUEST_STATE["disk_free0"]))
