"""The kiosk mode's soak (issue 18): boot the "Keel kiosk" entry in QEMU,
let configs/demo.keel run unattended for a given time on the screen
(tty1), then check what an exhibitor needs after hours at a stand:
- dom0 answered all along, and every guest answers at the end;
- the console never blanked (consoleblank=0) and showed the loop;
- the counter guest's count, printed once a second on its console, has
  no gap in its console ring;
- the hog guest was crashed on purpose and restarted (on_crash), and the
  others kept running;
- a key press leaves the loop for the guest starter (checked first, so
  that the loop crashes no guest while they are asked to answer);
- once every guest is destroyed, the pool's free memory is what it was
  at boot.
CI runs 2 minutes of it (kiosk_soak_two_minutes, fixture keel-kiosk, in
run.py's second lane); bench/soak.sh runs it for longer:
python3 tests/boot/test_kiosk.py --minutes 30. Registered into test_boot's
table (imported at its end)."""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_boot  # noqa: E402
from harness import LOG_DIR, Machine, TestFailure, parse_info, mib  # noqa: E402
from test_boot import check, guest_run, list_states, test  # noqa: E402

GUESTS = ("counter", "hog", "web")


def boot_keel_kiosk():
    m = Machine("keel-kiosk", cpu="max", smp=4, mem=2048).start()
    m.boot_entry("keel-kiosk")
    m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner 'Keel hypervisor v'")
    m.wait_shell()
    return m


test_boot.FIXTURES["keel-kiosk"] = boot_keel_kiosk


def vcs1(m):
    out, rc = m.run("fold -w 80 /dev/vcs1")
    check(rc == 0, "cannot read /dev/vcs1: %r" % out)
    return out


def counts(m, name):
    """The counts guest name printed, in its console ring's order."""
    out, _ = m.run("keel console %s </dev/null 2>&1 | tr -d '\\r' | grep -o 'count [0-9][0-9]*'"
                   % name, timeout=60)
    return [int(x) for x in re.findall(r"count (\d+)", out)]


def soak(m, minutes, say=print):
    """Run the soak on machine m (booted to the kiosk entry) for minutes."""
    info = parse_info(m.buf[m.buf.find("Welcome to Keel dom0"):])
    check("free_memory" in info, "no free_memory in the banner's keel info")
    free_at_boot = mib(info["free_memory"])
    out, _ = m.run("cat /sys/module/kernel/parameters/consoleblank; cat /proc/cmdline")
    check(out.split()[0] == "0", "the console may blank: consoleblank=%r" % out.split()[0])
    hog_ids, t0, saw_loop = set(), time.time(), False
    end = t0 + minutes * 60
    while time.time() < end:
        out, rc = m.run("echo dom0-alive; keel list", timeout=60)
        check("dom0-alive" in out, "dom0 did not answer %.0f s into the soak" % (time.time() - t0))
        mh = re.search(r"^hog\s+(\d+)\s", out, re.M)
        if mh:
            hog_ids.add(mh.group(1))
        saw_loop |= "Keel kiosk" in vcs1(m) or "keel top" in vcs1(m)
        time.sleep(min(15, max(0, end - time.time())))
    # a short soak may end before the loop's first crash: wait for it
    deadline = time.time() + 240
    while len(hog_ids) < 2 and time.time() < deadline:
        out, _ = m.run("keel list", timeout=60)
        mh = re.search(r"^hog\s+(\d+)\s", out, re.M)
        if mh:
            hog_ids.add(mh.group(1))
        time.sleep(5)
    say("    soak: %.1f min; hog ran as domain(s) %s" % ((time.time() - t0) / 60,
                                                       ", ".join(sorted(hog_ids))))
    check(saw_loop, "the screen never showed the kiosk loop:\n%s" % vcs1(m))
    states, raw = list_states(m)
    for name in ("counter", "web"):
        check(name in states and "c" not in states[name],
              "%s does not run at the end of the soak:\n%s" % (name, raw))
    check(len(hog_ids) >= 2, "hog was not crashed and restarted (domain ids %s)"
          % sorted(hog_ids))
    # a key leaves the loop for the starter (and the crashes stop)
    m.monitor("sendkey spc")
    deadline = time.time() + 60
    while "Keel guest starter" not in vcs1(m) or "Keel kiosk" in vcs1(m):
        check(time.time() < deadline, "a key did not leave the kiosk for the starter:\n%s"
              % vcs1(m))
        time.sleep(2)
    shot = m.screendump(os.path.join(LOG_DIR, "kiosk-after-key.ppm"))
    say("    a key left the loop for the starter (%s)" % shot)
    n = counts(m, "counter")
    check(len(n) > 10, "the counter printed %d counts" % len(n))
    gaps = [(a, b) for a, b in zip(n, n[1:]) if b != a + 1]
    check(not gaps, "the counter's console has gaps: %s" % gaps[:5])
    say("    counter: %d to %d with no gap in its console ring" % (n[0], n[-1]))
    # every guest answers (hog may be starting again)
    for name in GUESTS:
        deadline = time.time() + 120
        while True:
            try:
                out = guest_run(m, name, "echo alive-$(hostname)", timeout=60)
                if "alive-" + name in out:
                    break
            except TestFailure:
                pass
            check(time.time() < deadline, "%s does not answer at the end of the soak" % name)
            time.sleep(5)
    # nothing is lost: destroy everything, the pool is whole again
    for name in GUESTS:
        m.run("keel destroy %s" % name, timeout=60)
    deadline = time.time() + 60
    while True:
        info = parse_info(m.run("keel info")[0])
        free_now = mib(info["free_memory"])
        if free_now == free_at_boot:
            break
        check(time.time() < deadline, "free memory %s MiB after every guest was destroyed, "
              "%s MiB at boot" % (free_now, free_at_boot))
        time.sleep(3)
    say("    free memory back to %s MiB" % free_now)


@test("kiosk_soak_two_minutes", "keel-kiosk")
def t_kiosk_soak(m):
    soak(m, 2)


def main():
    ap = argparse.ArgumentParser(description="Soak the kiosk mode: boot out/keel.iso's "
                                 "\"Keel kiosk\" entry in QEMU, run configs/demo.keel for "
                                 "MINUTES and check dom0, the guests, the counter's console "
                                 "and the free memory (docs/dashboard.md).")
    ap.add_argument("--minutes", type=float, default=30, help="how long (default 30)")
    ap.add_argument("--iso", help="ISO to boot (default out/keel.iso)")
    args = ap.parse_args()
    if args.iso:
        os.environ["KEEL_ISO"] = os.path.abspath(args.iso)
    m = boot_keel_kiosk()
    try:
        soak(m, args.minutes)
    except TestFailure as e:
        print("FAIL soak: %s" % e)
        return 1
    finally:
        m.close()
    print("PASS soak of %.0f minutes" % args.minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
