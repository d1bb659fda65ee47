"""Boot tests under UEFI (issue 14): QEMU with Debian's OVMF firmware boots
out/keel.iso through its El Torito EFI image (GRUB, iso/grub.cfg) as a CD,
and through the GPT's EFI partition as a hard disk (the layout a USB stick
written with dd has). GRUB's multiboot2 command starts the hypervisor,
which reads the memory map, the ACPI RSDP (through the EFI system table)
and the framebuffer from the Multiboot2 information.

The uefi-q35-nodom0-* boots type the default entry's multiboot2 line
(console=com1,vga) alone on GRUB's command line, without the module2
lines of dom0's kernel and initrd: the hypervisor stops
with an error and never hands the screen to dom0, so what it drew on the
framebuffer stays there, and a screendump is read back with the same PSF
font (screen.py).

Registered into test_boot's table (imported at its end); select them with
-k uefi."""

import os
import re
import time

import screen
import test_boot
from harness import LOG_DIR, ROOT, Machine
from test_boot import check, guest_run, keel_info, test, wait_guest_ready


def uefi_fixture(name, machine, media, smp=4, mem=2048):
    def boot():
        m = Machine(name, cpu="max", smp=smp, mem=mem, machine=machine, firmware="uefi",
                    media=media).start()
        m.boot_entry("keel-serial", timeout=180)
        m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner 'Keel hypervisor v'")
        m.wait_shell()
        return m
    return boot


test_boot.FIXTURES["uefi-q35-cd"] = uefi_fixture("uefi-q35-cd", "q35", "cdrom")
test_boot.FIXTURES["uefi-pc-disk"] = uefi_fixture("uefi-pc-disk", "pc", "disk", smp=2, mem=1024)


@test("uefi_q35_cd_grub_menu_and_dom0_on_svm", "uefi-q35-cd")
def t_uefi_menu(m):
    for entry in ("Keel", "Keel, serial console", "Keel safe mode",
                  "Dom0 Linux without hypervisor"):
        check(m.seen(re.escape(entry)),
              "GRUB's menu lacks the entry %r" % entry)
    check(m.seen(r"virtualization: svm"), "the hypervisor did not start AMD-V under UEFI")
    check(m.seen(r"ACPI: RSDP 0x"), "dom0 found no ACPI RSDP (it must come from the "
          "EFI system table through the hypervisor)")
    test_boot.check_compat_report(m, r"firmware: UEFI", r"virtualization: AMD-V, enabled",
                                  r"Guests: yes$")
    test_boot.check_dom0_compat(m, r"^firmware: UEFI \(Secure Boot off: an unsigned loader")
    info, raw = keel_info(m)
    check(info.get("backend") == "svm", "keel info does not say 'backend: svm':\n%s" % raw)
    check(info.get("nr_cpus") == "4",
          "keel info does not count the 4 CPUs of ACPI's MADT:\n%s" % raw)


test("uefi_q35_cd_hidden_memory", "uefi-q35-cd")(test_boot.t_isolation)


@test("uefi_q35_cd_tiny_guest_answers", "uefi-q35-cd")
def t_uefi_guest(m):
    out, rc = m.run("keel create tiny", timeout=120)
    check(rc == 0 and "Started domain tiny" in out, "keel create tiny failed: %r" % out)
    wait_guest_ready(m, "tiny", timeout=300)
    out = guest_run(m, "tiny", "echo answer-$(hostname)", timeout=120)
    check("answer-tiny" in out, "tiny did not answer on its console: %r" % out[-300:])
    out, rc = m.run("keel destroy tiny && echo destroyed", timeout=60)
    check("destroyed" in out, "keel destroy tiny failed: %r" % out)


@test("uefi_q35_cd_framebuffer_console_shows_the_starter", "uefi-q35-cd")
def t_uefi_fb(m):
    # no VGA text mode under UEFI: dom0's consoles are on GOP's framebuffer,
    # which the hypervisor hands over in screen_info (efifb)
    out, rc = m.run("cat /sys/class/graphics/fb0/name; stty -F /dev/tty1 size")
    check(rc == 0 and "EFI VGA" in out,
          "dom0 has no EFI framebuffer (fb0): %r" % out)
    cols = int(out.split()[-1])
    text = ""
    for _ in range(20):             # the starter may still draw its first frame
        text, _ = m.run("fold -w %d /dev/vcs1" % cols)
        if "Keel guest starter" in text:
            break
        time.sleep(2)
    check("Keel guest starter" in text,
          "tty1, on the framebuffer, does not show the guest starter:\n%s" % text)


@test("uefi_pc_disk_boots_through_gpt_and_mounts_the_medium", "uefi-pc-disk")
def t_uefi_disk(m):
    check(m.seen(r"virtualization: svm"), "the hypervisor did not start AMD-V under UEFI")
    check(m.seen(r"Boot medium \S+ mounted at /run/keel/medium"),
          "dom0 did not find and mount the KEEL medium on the disk")
    out, rc = m.run("ls /run/keel/medium/keel.gz && echo medium-ok")
    check("medium-ok" in out, "the medium's files are not there: %r" % out)


def boot_uefi_linux():
    m = Machine("uefi-q35-linux", cpu="max", smp=2, mem=1024, machine="q35", firmware="uefi",
                media="cdrom").start()
    m.boot_entry("linux", timeout=180)
    m.wait_shell()
    return m


test_boot.FIXTURES["uefi-q35-linux"] = boot_uefi_linux


@test("uefi_q35_linux_entry_boots_dom0_without_hypervisor", "uefi-q35-linux")
def t_uefi_linux(m):
    check(not m.seen(r"Keel hypervisor v"), "the hypervisor ran in the 'without hypervisor' entry")
    out, rc = m.run("keel info")
    check(rc != 0 and "not running on the Keel hypervisor" in out,
          "keel info should say 'not running on the Keel hypervisor': rc=%d %r" % (rc, out))
    out, rc = m.run("echo alive-$(hostname)")
    check("alive-dom0" in out, "dom0's shell did not answer: %r" % out)


# ---------------------------------------------------------------- Secure Boot
# OVMF's Secure Boot build with Microsoft's keys (OVMF_VARS_4M.ms.fd), as on
# a PC sold with Windows: the firmware runs Debian's signed shim, which runs
# Debian's signed GRUB; GRUB is in lockdown and shows iso/grub-secureboot.cfg.
SECURE_BOOT_MENU = [
    ("keel", "Keel (Secure Boot is on: read how to run guests)"),
    ("keel-serial", "Keel, serial console (Secure Boot is on: read how)"),
    ("keel-safe", "Keel safe mode (Secure Boot is on: read how)"),
    ("linux", "Dom0 Linux without hypervisor (Debian's signed kernel)"),
    ("fwsetup", "Firmware setup (to turn Secure Boot off)"),
]


def boot_uefi_secureboot():
    m = Machine("uefi-secureboot", cpu="max", smp=2, mem=1024, machine="q35",
                firmware="uefi-secureboot").start()
    # the Keel entry (the default) explains; Esc returns to the menu
    m.grub_entry("keel", timeout=240, entries=SECURE_BOOT_MENU, countdown=False)
    m.wait_for(r"Secure Boot is on, and Keel cannot start its hypervisor", 30,
               "the Keel entry's explanation under Secure Boot")
    m.wait_for(r"Press Esc to return to the menu", 30, "the end of the explanation")
    time.sleep(0.5)
    m.send("\x1b")
    m.grub_entry("linux", timeout=60, entries=SECURE_BOOT_MENU, countdown=False)
    m.wait_shell()
    return m


test_boot.FIXTURES["uefi-secureboot"] = boot_uefi_secureboot


@test("uefi_secureboot_keel_entry_explains_and_linux_boots", "uefi-secureboot")
def t_uefi_secureboot(m):
    for line in ("Keel's hypervisor is not signed by Microsoft or Debian",
                 "turn Secure Boot off",
                 "Debian's signed kernel: a shell and the network, but no guests"):
        check(m.seen(re.escape(line)), "the Secure Boot explanation lacks %r" % line)
    check(m.seen(r"secureboot: Secure boot enabled"),
          "dom0's kernel did not report 'Secure boot enabled' (is Secure Boot on in OVMF?)")
    check(m.seen(r"dom0 is running without the Keel hypervisor"),
          "init did not say dom0 runs without the hypervisor")
    check(m.seen(r"Secure Boot is on: Keel's hypervisor cannot run"),
          "dom0's welcome does not say why there is no hypervisor")
    out, rc = m.run("mount -t securityfs securityfs /sys/kernel/security 2>/dev/null; "
                    "cat /sys/kernel/security/lockdown")
    check("[integrity]" in out or "[confidentiality]" in out,
          "the signed kernel is not in lockdown under Secure Boot: %r" % out)
    out, rc = m.run("ip -4 -o addr show dev eth0; sleep 5; ip -4 -o addr show dev eth0")
    check("10.0.2.15/" in out, "dom0's uplink got no address under Secure Boot: %r" % out)

def default_multiboot2_line():
    """The multiboot2 command of iso/grub.cfg's default entry ("Keel")."""
    with open(os.path.join(ROOT, "iso", "grub.cfg")) as f:
        cfg = f.read()
    entry = re.search(r'menuentry "Keel" --id keel \{(.*?)\}', cfg, re.S).group(1)
    return re.search(r"^\s*(multiboot2 .*)$", entry, re.M).group(1)


def uefi_nodom0_fixture(name, cpu):
    def boot():
        m = Machine(name, cpu=cpu, smp=2, mem=1024, machine="q35", firmware="uefi",
                    media="cdrom").start()
        # the default entry's hypervisor line alone: no module2 for dom0
        m.grub_commands([default_multiboot2_line(), "boot"], timeout=180)
        m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner 'Keel hypervisor v'")
        m.wait_for(r"PANIC on CPU \d+: dom0 could not be", 120,
                   "the hypervisor's panic for the missing dom0 kernel")
        return m
    return boot


test_boot.FIXTURES["uefi-q35-nodom0-svm"] = uefi_nodom0_fixture("uefi-q35-nodom0-svm", "max")
test_boot.FIXTURES["uefi-q35-nodom0-novirt"] = uefi_nodom0_fixture("uefi-q35-nodom0-novirt",
                                                                   "qemu64")


def screen_rows(m, want, tries=10):
    """The text the framebuffer shows, as rows, read until every regex in
    want is on it (the last lines may still be drawn after the serial
    port's) or tries screendumps are taken."""
    font = screen.load_font()
    path = os.path.join(LOG_DIR, "%s.screen.ppm" % m.name)
    rows = []
    for _ in range(tries):
        try:
            rows = screen.screen_text(screen.read_ppm(m.screendump(path)), font)
        except (ValueError, IndexError):
            rows = []               # a screendump still being written
        text = "\n".join(rows)
        if all(re.search(w, text, re.M) for w in want):
            break
        time.sleep(1)
    m.note("the framebuffer reads:\n" + "\n".join(rows))
    return rows


def check_on_screen(m, want):
    rows = screen_rows(m, want)
    text = "\n".join(rows)
    for w in want:
        check(re.search(w, text, re.M), "the framebuffer does not show %r; it reads:\n%s"
              % (w, "\n".join(r for r in rows if r) or "(nothing)"))


@test("uefi_q35_framebuffer_shows_the_hypervisor_panic", "uefi-q35-nodom0-svm")
def t_uefi_fb_panic(m):
    check_on_screen(m, [r"^\(keel\) Keel hypervisor v\d", r"^\(keel\) virtualization: svm",
                        r"^\(keel\) ERROR: no dom0 kernel",
                        r"^\(keel\) PANIC on CPU \d+: dom0 could not be started"])


@test("uefi_q35_framebuffer_shows_no_usable_virtualization", "uefi-q35-nodom0-novirt")
def t_uefi_fb_novirt(m):
    check_on_screen(m, [r"^\(keel\) Keel hypervisor v\d",
                        r"^\(keel\) WARNING: no usable hardware virtualization: ",
                        r"^\(keel\) PANIC on CPU \d+: dom0 could not be loaded"])


def boot_uefi_default():
    m = Machine("uefi-q35-default", cpu="max", smp=4, mem=2048, machine="q35",
                firmware="uefi", media="cdrom").start()
    m.boot_entry("keel", timeout=180)  # console=com1,vga: the framebuffer console
    m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner 'Keel hypervisor v'")
    m.wait_for(r"starting dom0", 120, "'starting dom0' from the hypervisor")
    m.wait_shell_prompt(240)    # dom0's console is tty0; init's shell is on ttyS0 too
    return m


test_boot.FIXTURES["uefi-q35-default"] = boot_uefi_default


@test("uefi_q35_default_entry_hands_the_framebuffer_to_dom0", "uefi-q35-default")
def t_uefi_fb_handover(m):
    # the hypervisor logs when a domain is created; after dom0 started it
    # must not draw that on dom0's framebuffer console any more
    out, rc = m.run("keel create tiny && keel destroy tiny && echo made-and-gone", timeout=180)
    check("made-and-gone" in out, "keel create/destroy tiny failed: %r" % out)
    check(m.seen(r"\(keel\) domain \d+ \(tiny\) created"),
          "the hypervisor did not log the creation of tiny on the serial port")
    out, rc = m.run("cat /sys/class/graphics/fb0/name")
    check(rc == 0 and "EFI VGA" in out, "dom0 has no EFI framebuffer (fb0): %r" % out)
    rows = screen_rows(m, [], tries=1)
    drawn = [r for r in rows if "(keel)" in r]
    check(not drawn, "the hypervisor still draws on the framebuffer after dom0 took it "
          "over:\n%s" % "\n".join(drawn))
