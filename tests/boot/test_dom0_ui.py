"""Boot tests of dom0's user interface (issue 6): the serial menu, the VGA
consoles (starter on tty1, monitor on tty2, shell on tty3, read back through
/dev/vcsN), the guest starter driven with keys over the serial console, and
`keel top -b` figures (CPU% of a busy and an idle guest, network and disk
counters, states after pause/unpause from the starter). Registered into
test_boot's table (imported at its end); most tests share the "keel-ui" boot
and run in the order below, one on the existing "linux" boot."""

import re
import time

import test_boot
from harness import TestFailure, PROMPT
from test_boot import check, guest_run, guest_wait_file, test, wait_guest_ready

STARTER_KEYS = "Enter start"
VGA_HINT = "Alt-F1 starter  Alt-F2 monitor  Alt-F3 shell"
UI_STATE = {}


def boot_keel_ui():
    return test_boot.boot_keel_serial_shell("keel-ui")


test_boot.FIXTURES["keel-ui"] = boot_keel_ui


# ---------------------------------------------------------------- helpers

def mark(m):
    """Make the next wait_for() look only at output from now on."""
    with m.lock:
        m.pos = len(m.buf)


def vcs_text(m, n):
    """The text on VGA console n (/dev/vcsN), one screen line per line."""
    out, rc = m.run("fold -w 80 /dev/vcs%d" % n)
    check(rc == 0, "cannot read /dev/vcs%d: %r" % (n, out))
    return out


def vcs_wait(m, n, pattern, tries=20):
    """Read VGA console n every 2 s until regex pattern (multi-line) is on
    it, at most tries times; return the last text read."""
    text = ""
    for _ in range(tries):
        text = vcs_text(m, n)
        if re.search(pattern, text, re.M):
            break
        time.sleep(2)
    return text


def starter(m, args=""):
    """Start the full-screen starter on the serial console."""
    mark(m)
    m.sendline("keel starter %s" % args)
    m.wait_for(r"Keel guest starter", 60, "the starter's title")
    m.wait_for(re.escape(STARTER_KEYS), 30, "the starter's keys line")
    time.sleep(1)


def quit_tui(m):
    """Press q in a full-screen program and wait for the shell again."""
    mark(m)
    m.send("q")
    m.wait_for(re.escape(PROMPT), 30, "the shell prompt after q")
    time.sleep(0.5)
    mark(m)


def key(m, keys, pattern, what, timeout=60):
    """Send keys to a full-screen program and wait for pattern."""
    mark(m)
    m.send(keys)
    return m.wait_for(pattern, timeout, what)


def top_blocks(text):
    """Parse `keel top -b` output: a list of blocks, each a dict
    name -> {column: value}."""
    blocks, header = [], None
    for line in text.splitlines():
        f = line.split()
        if f[:2] == ["NAME", "STATE"]:
            header = f
            blocks.append({})
        elif header and len(f) == len(header) and blocks:
            blocks[-1][f[0]] = dict(zip(header, f))
        elif header and (not f or f[0] == "CPU"):
            header = None
    return blocks


def top_once(m, args="-b -n 2 -d 1"):
    """Run `keel top` in batch mode; return its last block."""
    out, rc = m.run("keel top %s" % args, timeout=60)
    check(rc == 0, "keel top %s failed (rc=%d): %r" % (args, rc, out[-600:]))
    blocks = top_blocks(out)
    check(blocks, "no blocks in the output of keel top %s: %r" % (args, out[-600:]))
    return blocks[-1], out


def cpu_pct(block, name, out):
    check(name in block, "keel top does not show %s:\n%s" % (name, out[-1500:]))
    return float(block[name]["CPU(%)"])


# ---------------------------------------------------------------- the boot flow

@test("ui_serial_menu_offers_starter_monitor_shell", "keel-ui")
def t_serial_menu(m):
    for text in ("1) Guest starter", "2) Monitor", "3) Shell", "4) This machine",
                 "Enter: shell"):
        check(m.seen(re.escape(text)), "the serial menu did not offer %r" % text)
    # the compatibility report comes before the menu (issue 14)
    check(m.seen(r"This machine \(keel info --compat\):\s*\n\s*CPU: AuthenticAMD(.*\n)+?"
                 r"\s*Guests: yes\s*\n\s*network: eth0 \(e1000, [0-9a-f:]{17}\)(.*\n)+?"
                 r".*Keel dom0 on the serial console"),
          "the serial menu does not start with the compatibility report and the NIC")
    # leave the shell: the menu comes back; 2 runs the monitor, q returns
    mark(m)
    m.sendline("exit")
    m.wait_for(r"Choose 1-4", 30, "the serial menu after leaving the shell")
    key(m, "2\r", r"keel top - Keel", "the monitor from the menu")
    m.wait_for(r"q: back to the menu", 30, "the monitor's hint line")
    key(m, "q", r"Choose 1-4", "the serial menu after q in the monitor")
    m.send("\r")
    m.wait_shell_prompt(30)


@test("ui_vga_consoles_starter_monitor_shell", "keel-ui")
def t_vga(m):
    t1 = vcs_wait(m, 1, "Keel guest starter")  # it may still be drawing its first frame
    check("Keel guest starter" in t1 and STARTER_KEYS in t1,
          "tty1 does not show the guest starter:\n%s" % t1)
    # the monitor is live: after its second sample dom0's row has a CPU%
    t2 = vcs_wait(m, 2, r"^\s+0 Domain-0\s+r-----\s+[\d.]+\s+[\d.]+\s")
    check("keel top - Keel" in t2 and re.search(r"^\s+0 Domain-0\s+r-----\s+[\d.]+\s+[\d.]+\s",
                                                 t2, re.M),
          "tty2 does not show the monitor with a CPU%% for Domain-0:\n%s" % t2)
    t3 = vcs_text(m, 3)
    check("Keel dom0 shell." in t3, "tty3 does not show the shell's greeting:\n%s" % t3)
    for n, text in ((1, t1), (2, t2), (3, t3)):
        check(VGA_HINT in text, "tty%d has no hint line %r:\n%s" % (n, VGA_HINT, text))


@test("ui_vga_starter_not_overwritten_after_boot", "keel-default")
def t_vga_clean(m):
    """On the default (VGA) entry dom0's console is tty1, where the starter
    runs: nothing printed in the background after boot (the uplink's DHCP)
    may land on its screen."""
    m.run("for i in $(seq 30); do grep -q 'uplink eth0' /run/keel/net/network.log "
          "2>/dev/null && break; sleep 1; done; sleep 3", timeout=60)
    t1 = vcs_wait(m, 1, "Keel guest starter")
    lines = t1.rstrip("\n").split("\n")
    check("Keel guest starter" in t1, "tty1 does not show the guest starter:\n%s" % t1)
    check("keel-network" not in t1 and VGA_HINT in lines[-1],
          "a message overwrote the starter on tty1 (its last line should be the hint "
          "%r):\n%s" % (VGA_HINT, t1))


# ---------------------------------------------------------------- starter

@test("ui_starter_starts_tiny_guests_with_free_names", "keel-ui")
def t_starter_start(m):
    m.run("mkdir -p /tmp/presets && cp /run/keel/medium/configs/tiny.cfg /tmp/presets/")
    starter(m, "-C /tmp/presets")
    check(m.seen(r"1\s+tiny\s+\d+ MiB\s+1\s+[1-9]\d*\s+Tiny"),
          "the starter does not list the tiny preset with its memory, vCPUs and fit")
    check(m.seen(r"Guests: yes; AMD-V, enabled; NPT yes"),
          "the starter's second row does not summarize the compatibility report")
    key(m, "\r", r"Started tiny \(id=\d+\)", "'Started tiny (id=N)' after Enter", 180)
    key(m, "\r", r"Started tiny2 \(id=\d+\)", "'Started tiny2 (id=N)' after a second Enter", 180)
    quit_tui(m)
    states, raw = test_boot.list_states(m)
    check("tiny" in states and "tiny2" in states, "keel list lacks tiny or tiny2:\n%s" % raw)
    # a preset that cannot fit is refused in plain words, and nothing starts
    m.run("mkdir -p /tmp/big && sed 's/^memory.*/memory = 3000/' "
          "/run/keel/medium/configs/tiny.cfg > /tmp/big/big.cfg")
    out, rc = m.run("keel starter -C /tmp/big --start big")
    check(rc != 0 and re.search(r"Not enough free memory for big \(needs 3000 MiB, \d+ MiB free\)",
                                out), "no plain-words memory error: rc=%d %r" % (rc, out))


# ---------------------------------------------------------------- monitor

@test("ui_top_busy_guest_near_100_idle_near_0", "keel-ui")
def t_top_cpu(m):
    wait_guest_ready(m, "tiny")
    wait_guest_ready(m, "tiny2")
    guest_run(m, "tiny", "while :; do :; done > /dev/null 2>&1 & echo $! > /tmp/busy.pid")
    time.sleep(3)
    block, out = top_once(m)
    busy, idle = cpu_pct(block, "tiny", out), cpu_pct(block, "tiny2", out)
    m.note("busy tiny %.1f%%, idle tiny2 %.1f%%" % (busy, idle))
    check(80 <= busy <= 110, "a guest spinning on its one vCPU reads %.1f%% CPU, "
          "expected about 100:\n%s" % (busy, out[-1500:]))
    # Under QEMU TCG an idle Linux guest still spends 10-25% of the time in
    # guest mode: every timer tick (HZ=250, ~2000 exits/s) is emulated
    # slowly, and more so on a loaded host (issue 15 has the profile). The
    # hypervisor accounts that truthfully, so "about 0" is judged side by
    # side: an idle guest reads at most half of what the busy one does.
    check(idle <= busy / 2, "an idle guest reads %.1f%% CPU next to %.1f%% for a busy "
          "one: expected about 0, at most half the busy guest's" % (idle, busy))
    check(block["tiny"]["STATE"].startswith("r"), "the busy guest is not shown running: %r"
          % block["tiny"])
    guest_run(m, "tiny", "kill $(cat /tmp/busy.pid); echo stopped")
    time.sleep(3)
    block, out = top_once(m)
    after = cpu_pct(block, "tiny", out)
    check(after <= busy / 2, "after the busy loop ended tiny still reads %.1f%% CPU "
          "(%.1f%% while busy)" % (after, busy))
    d0 = cpu_pct(block, "Domain-0", out)
    check(0 <= d0 <= 100, "Domain-0's CPU%% is %.1f, not within 0-100" % d0)
    out1, _ = m.run("keel top -b -n 1")
    first = top_blocks(out1)
    check(first and float(first[0]["tiny"]["CPU(%)"]) == 0.0,
          "the first block of keel top -b is not CPU%% 0.0 for tiny: %r" % out1[-800:])


@test("ui_top_net_disk_counters_rise", "keel-ui")
def t_top_io(m):
    out, rc = m.run("keel starter --start tiny-disk", timeout=180)
    check(rc == 0 and "Started domain tinydisk" in out, "keel starter --start tiny-disk: %r" % out)
    wait_guest_ready(m, "tinydisk")
    before, out0 = top_once(m, "-b -n 1")
    for name in ("tiny", "tiny2", "tinydisk"):
        check(name in before, "keel top does not list %s:\n%s" % (name, out0[-1500:]))
    if before["tiny"]["NETTX(k)"] == "-":
        raise TestFailure("keel top shows no network/disk counters ('-'): the hypervisor "
                          "does not implement KEEL_HC_DOMAIN_STATS yet")
    for name, ip in (("tiny", "10.99.0.1"), ("tiny2", "10.99.0.2")):
        guest_run(m, name, "ifconfig eth0 up; ifconfig eth0:9 %s netmask 255.255.255.0 up;"
                      " echo up" % ip)
    guest_run(m, "tiny", "(ping -c 20 -i 0.2 -s 1000 10.99.0.2 > /tmp/p.out 2>&1 &)")
    out = guest_run(m, "tinydisk", "echo 3 > /proc/sys/vm/drop_caches; "
                        "echo vda=$(cat /sys/block/vda/size); "
                        "dd if=/dev/vda of=/dev/null bs=64k 2>&1 | tail -1; "
                        "dd if=/dev/zero of=/dev/vdb bs=64k count=64 2>&1 | tail -1; sync")
    mt = re.search(r"vda=(\d+)", out)
    check(mt is not None, "tinydisk did not report the size of /dev/vda: %r" % out[-400:])
    vda_sectors = int(mt.group(1))
    out = guest_wait_file(m, "tiny", "/tmp/p.out", r"packets transmitted", 60)
    check("20 packets transmitted" in out, "tiny's 20 pings did not finish: %r" % out[-400:])
    after, out1 = top_once(m, "-b -n 1")
    for name, col in (("tiny", "NETTX(k)"), ("tiny", "NETTX_PKT"), ("tiny2", "NETRX_PKT"),
                      ("tinydisk", "VBD_RD"), ("tinydisk", "VBD_WR"), ("tinydisk", "VBD_RSECT"),
                      ("tinydisk", "VBD_WSECT")):
        a, b = int(before[name][col]), int(after[name][col])
        check(b > a, "%s's %s did not rise: %d -> %d\n%s" % (name, col, a, b, out1[-1500:]))
    rsect = int(after["tinydisk"]["VBD_RSECT"]) - int(before["tinydisk"]["VBD_RSECT"])
    check(rsect >= vda_sectors * 9 // 10, "all of /dev/vda (%d sectors) was read with "
          "cold caches, but VBD_RSECT rose by %d" % (vda_sectors, rsect))
    wsect = int(after["tinydisk"]["VBD_WSECT"]) - int(before["tinydisk"]["VBD_WSECT"])
    check(wsect >= 64 * 128, "4 MiB were written to /dev/vdb, but VBD_WSECT rose by %d"
          % wsect)


@test("ui_top_x_shows_the_exit_profile", "keel-ui")
def t_top_exits(m):
    # x in keel top shows the selected domain's exits over the last
    # interval (the exit profile), and x again hides them.
    mark(m)
    m.sendline("keel top -d 1")
    m.wait_for(r"keel top - Keel", 60, "the monitor's title")
    key(m, "x", r"Exits of \S+: measuring", "the exit view after x", 30)
    m.wait_for(r"Exits of \S+: \d+ per second, handling them takes [\d.]+% of one CPU",
               30, "the exit view's figures after the next refresh")
    m.wait_for(r"KIND\s+TARGET\s+PER_S\s+AVG_US\s+TIME%", 10, "the exit view's header")
    m.wait_for(r"(hlt|hypercall|wrmsr|mmio|interrupt)\s+\S+.*\s[\d.]+\s+[\d.]+\s+[\d.]+%",
               10, "a row of the exit view")
    quit_tui(m)


@test("ui_starter_console_attach_and_back", "keel-ui")
def t_starter_console(m):
    starter(m)
    key(m, "\t", r"p pause/unpause", "the guest list's keys after Tab")
    key(m, "c", r"Console of tiny\. Ctrl-\] returns to the starter", "the console of tiny")
    time.sleep(2)
    key(m, "echo from-$((6*7))-$(hostname)\r", r"from-42-tiny", "tiny's answer on its console")
    key(m, "\x1d", r"Back from the console", "the starter after Ctrl-]")
    m.wait_for(re.escape(STARTER_KEYS) + "|" + re.escape("c console  p pause"), 30,
               "the starter's keys line again")
    quit_tui(m)


@test("ui_starter_pause_unpause_shown_by_top", "keel-ui")
def t_starter_pause(m):
    starter(m)
    key(m, "\t", r"p pause/unpause", "the guest list's keys after Tab")
    key(m, "p", r"Paused tiny\b", "'Paused tiny' after p")
    quit_tui(m)
    block, out = top_once(m, "-b -n 1")
    check("p" in block["tiny"]["STATE"], "keel top does not show tiny paused: %r" % block["tiny"])
    starter(m)
    key(m, "\t", r"p pause/unpause", "the guest list's keys after Tab")
    key(m, "p", r"Unpaused tiny\b", "'Unpaused tiny' after p")
    quit_tui(m)
    block, out = top_once(m, "-b -n 1")
    check("p" not in block["tiny"]["STATE"], "tiny still paused in keel top: %r" % block["tiny"])
    # destroy tiny2 from the starter: d asks, n keeps it, d y destroys it
    starter(m)
    key(m, "\t", r"p pause/unpause", "the guest list's keys after Tab")
    key(m, "j", r"tiny2", "moving to tiny2")
    key(m, "d", r"Destroy tiny2\? .*y/n", "the destroy question")
    key(m, "n", r"Destroy cancelled", "'Destroy cancelled' after n")
    key(m, "d", r"Destroy tiny2\?", "the destroy question again")
    key(m, "y", r"Destroyed tiny2", "'Destroyed tiny2' after y")
    quit_tui(m)
    states, raw = test_boot.list_states(m)
    check("tiny2" not in states and "tiny" in states, "after destroying tiny2:\n%s" % raw)


@test("ui_starter_saves_a_guest_and_resumes_it", "keel-ui")
def t_starter_save(m):
    # v saves tiny (it stops), the saved guest shows among the presets, and
    # Enter on it brings it back where it was, with the file gone
    guest_run(m, "tiny", "echo written-before-v > /tmp/mark", timeout=120)
    starter(m)
    key(m, "\t", r"v save", "the guest list's keys after Tab")
    key(m, "v", r"Saved tiny: it stopped", "'Saved tiny: it stopped' after v", 300)
    quit_tui(m)
    states, raw = test_boot.list_states(m)
    check("tiny" not in states, "tiny is still running after v:\n%s" % raw)
    out, rc = m.run("keel starter --list")
    rows = [line for line in out.splitlines() if re.match(r"^\S", line) and
            not line.startswith(("PRESET", "free memory"))]
    idx = [i for i, line in enumerate(rows) if line.startswith("tiny [saved]")]
    check(len(idx) == 1 and idx[0] < 9, "keel starter --list does not show 'tiny [saved]' "
          "once among its first 9 presets:\n%s" % out)
    starter(m)
    key(m, str(idx[0] + 1) + "\r", r"Restored tiny \(id=\d+\) where it stopped",
        "'Restored tiny (id=N) where it stopped' after Enter on the saved guest", 300)
    quit_tui(m)
    states, raw = test_boot.list_states(m)
    check("tiny" in states, "tiny is not running after the restore:\n%s" % raw)
    out, rc = m.run("ls /run/keel/saves/")
    check("tiny.sav" not in out, "the save file is still there after the restore: %r" % out)
    out = guest_run(m, "tiny", "cat /tmp/mark", timeout=120)
    check("written-before-v" in out, "the file written before the save is gone: %r" % out)


# ---------------------------------------------------------------- without Keel

@test("linux_entry_starter_says_hypervisor_not_running", "linux")
def t_linux_starter(m):
    text = vcs_wait(m, 1, "Keel hypervisor not running", tries=15)
    check("Keel hypervisor not running" in text and VGA_HINT in text,
          "tty1 does not say 'Keel hypervisor not running' with the hint:\n%s" % text)
    out, rc = m.run("keel top -b -n 1")
    check(rc == 1 and "not running on the Keel hypervisor" in out,
          "keel top -b without the hypervisor: rc=%d %r" % (rc, out))
