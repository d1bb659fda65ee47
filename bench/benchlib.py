"""What the bench/ programs share: booting out/keel.iso in QEMU (TCG)
through the boot-test harness (tests/boot/harness.py) to dom0's shell on
its serial console."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "boot"))

import harness  # noqa: E402
from harness import Machine  # noqa: E402


def boot_dom0(label, iso_arg, smp, mem, log):
    """Boot the ISO (iso_arg, else $KEEL_ISO, else out/keel.iso) with
    -cpu max -smp smp -m mem through its keel-serial entry until dom0's
    shell answers, and return the harness Machine (the caller closes it).
    Exits with a message if the ISO is missing."""
    if iso_arg:
        os.environ["KEEL_ISO"] = os.path.abspath(iso_arg)
    iso = os.environ.get("KEEL_ISO", os.path.join(ROOT, "out", "keel.iso"))
    if not os.path.exists(iso):
        sys.exit("bench: %s does not exist; build it first with ./build.sh" % iso)
    harness.install_signal_handlers()
    log("booting %s (QEMU TCG, -cpu max -smp %d -m %d)" % (iso, smp, mem))
    m = Machine(label, cpu="max", smp=smp, mem=mem).start()
    try:
        m.boot_entry("keel-serial")
        m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner")
        m.wait_shell()
    except BaseException:
        m.close()
        raise
    return m
