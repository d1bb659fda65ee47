"""Boot tests of the preset guests on the CD (issue 5): the Debian preset
boots to its login with apt and a running systemd, Debian 13 boots its own
kernel and memtest86+ runs (issue 16), two Debian instances and
a tiny guest run at once in 2 GiB, and the web appliance's page (with its
own hostname) is fetched from dom0 and from another guest. Registered into
test_boot's table (imported at its end); the tests share the "keel-presets"
boot and run in the order below."""

import re
import time

import test_boot
from test_boot import (boot_keel_serial_shell, check, guest_background, guest_run,
                       guest_wait_file, list_states, test, wait_guest_ready)


def boot_keel_presets():
    return boot_keel_serial_shell("keel-presets")


test_boot.FIXTURES["keel-presets"] = boot_keel_presets


def create(m, args):
    out, rc = m.run("keel create %s" % args, timeout=180)
    check(rc == 0 and "Started domain" in out, "keel create %s failed: %r" % (args, out[-600:]))


@test("presets_debian_boots_with_apt_and_systemd", "keel-presets")
def t_debian(m):
    create(m, "debian")
    wait_guest_ready(m, "debian", kind="debian")
    guest_background(m, "debian", "apt-get --version | head -n 1; "
                     "echo state=$(systemctl is-system-running --wait); "
                     "echo host=$(hostname)", "/tmp/check.out")
    out = guest_wait_file(m, "debian", "/tmp/check.out", r"host=[a-z]", 240)
    check(re.search(r"apt \d+\.\d+", out) is not None, "apt-get --version failed: %r" % out[-400:])
    check(re.search(r"state=(running|degraded)", out) is not None,
          "systemd is not running: %r" % out[-400:])
    check("host=debian" in out, "the hostname is not the domain name: %r" % out[-400:])


# Debian 13 boots its own kernel (issue 16): not dom0's, a release Keel
# was not built around. It must reach systemd's running state, say its own
# kernel release, take a second vCPU by ACPI CPU hotplug and give it back
# (6.12 counts a hot-pluggable CPU only if the FADT says ACPI 6.3; its udev
# rule onlines it), and go away again (the next tests need its memory).
@test("presets_trixie_boots_its_own_kernel", "keel-presets")
def t_trixie(m):
    import test_vcpu  # registered on keel-guests by test_boot; only its helpers here
    dom0_rel = m.run("uname -r")[0].strip().splitlines()[-1]
    create(m, "trixie maxvcpus=2")
    wait_guest_ready(m, "trixie", kind="trixie")
    guest_background(m, "trixie", "echo state=$(systemctl is-system-running --wait); "
                     "echo debian=$(cat /etc/debian_version); echo kernel=$(uname -r)",
                     "/tmp/check.out")
    out = guest_wait_file(m, "trixie", "/tmp/check.out", r"kernel=\S", 240)
    check(re.search(r"state=(running|degraded)", out) is not None,
          "systemd is not running in trixie: %r" % out[-400:])
    check(re.search(r"debian=13\.", out) is not None, "trixie is not Debian 13: %r" % out[-400:])
    mt = re.search(r"kernel=(\S+)", out)
    check(mt is not None and mt.group(1).startswith("6.12.") and mt.group(1) != dom0_rel,
          "trixie does not run its own 6.12 kernel (dom0 runs %s): %r" % (dom0_rel, out[-400:]))
    print("    trixie runs kernel %s (dom0: %s)" % (mt.group(1), dom0_rel))
    for n in (2, 1, 2):
        test_vcpu.vcpu_set(m, n, "trixie")
        test_vcpu.expect(m, n, "trixie")
    out, rc = m.run("keel destroy trixie", timeout=60)
    check(rc == 0, "keel destroy trixie failed: %r" % out)


def memtest_status(m):
    """memtest86+'s elapsed seconds and error count from the last status
    line on its console, or None before it drew one."""
    out, _ = m.run("keel console memtest </dev/null 2>&1 | tail -c 3000")
    times = re.findall(r"Time:\s+(\d+):(\d\d):(\d\d)\s+Status: Testing", out)
    errors = re.findall(r"Errors:\s+(\d+)", out)
    if not times or not errors:
        return None, out
    h, mi, se = (int(x) for x in times[-1])
    return (h * 3600 + mi * 60 + se, int(errors[-1])), out


# memtest86+, a program that is not Linux, runs as a guest (issue 16): it
# loads by the Linux boot protocol, measures its clock against PIT channel
# 2 (which Keel's virtual PC had not modelled: it spun on port 0x61
# forever) and draws its screen on the serial console. Its clock must
# advance with the wall clock and it must find no error.
@test("presets_memtest_runs_as_a_guest", "keel-presets")
def t_memtest(m):
    create(m, "memtest")
    first = None
    end = time.time() + 120
    while first is None and time.time() < end:
        first, out = memtest_status(m)
        time.sleep(2)
    check(first is not None, "memtest86+ drew no status line in 120 s: %r" % out[-600:])
    t0 = time.time()
    time.sleep(10)
    second, out = memtest_status(m)
    check(second is not None, "memtest86+'s status line went away: %r" % out[-600:])
    ran = second[0] - first[0]
    wall = time.time() - t0
    check(wall - 4 <= ran <= wall + 4, "memtest86+'s clock ran %d s in %.0f s of wall time"
          % (ran, wall))
    check(second[1] == 0, "memtest86+ reports %d error(s): %r" % (second[1], out[-600:]))
    print("    memtest86+ runs: its clock %d s over %.0f s, 0 errors" % (ran, wall))
    out, rc = m.run("keel destroy memtest", timeout=60)
    check(rc == 0, "keel destroy memtest failed: %r" % out)


@test("presets_two_debian_and_a_tiny_at_once", "keel-presets")
def t_two_debian(m):
    create(m, "debian name=deb2")
    create(m, "tiny")
    wait_guest_ready(m, "deb2", kind="debian")
    wait_guest_ready(m, "tiny", kind="tiny")
    out = guest_run(m, "deb2", "echo host=$(hostname) mac=$(cat /sys/class/net/eth0/address)")
    mt = re.search(r"host=deb2 mac=([0-9a-f:]{17})", out)
    check(mt is not None, "deb2 has the wrong hostname or no eth0: %r" % out[-400:])
    other = guest_run(m, "debian", "echo mac=$(cat /sys/class/net/eth0/address)")
    check("mac=" + mt.group(1) not in other, "debian and deb2 share MAC %s" % mt.group(1))
    states, raw = list_states(m)
    for name in ("debian", "deb2", "tiny"):
        check(states.get(name, "")[:2].strip("-") in ("r", "b"),
              "%s is not running in keel list:\n%s" % (name, raw))


@test("presets_web_page_from_dom0_and_another_guest", "keel-presets")
def t_web(m):
    create(m, "web")
    wait_guest_ready(m, "web", kind="web")
    out = ""
    # (busybox 1.35's wget crashes with -T, so dom0 bounds it with timeout)
    for _ in range(30):  # until DHCP gave it an address and lighttpd runs
        out, rc = m.run("timeout 20 wget -q -O- http://web/ 2>&1", timeout=60)
        if "hostname: web" in out:
            break
        time.sleep(3)
    check("hostname: web" in out, "dom0 did not get the web page naming its host: %r" % out[-600:])
    guest_background(m, "deb2", "wget -q -T 20 -O- http://web.keel/", "/tmp/web.out")
    out = guest_wait_file(m, "deb2", "/tmp/web.out", r"hostname: web", 90)
    check("hostname: web" in out, "deb2 did not get the web page: %r" % out[-600:])
    check(re.search(r"address:\s+10\.77\.0\.\d+", out) is not None,
          "the page does not show the guest's address: %r" % out[-600:])
