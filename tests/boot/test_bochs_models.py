"""Boot tests on Bochs CPU models other than the VT-x one (issue 13).

- ryzen: AMD-V with NRIPS and FlushByAsid, which QEMU's TCG lacks, so the
  SVM backend takes the code paths real AMD CPUs take (instruction lengths
  from the VMCB's next RIP, TLB flushes by ASID). Dom0 runs under SVM and
  one tiny guest boots and answers.
- core2_penryn_t9600 (VT-x without EPT) and corei5_lynnfield_750 (VT-x
  with EPT but without unrestricted guest): the hypervisor names what the
  CPU lacks and hands the machine to dom0 natively, whose kernel then
  boots. These wait only for the kernel's own first lines: a native dom0
  reaching its shell is covered on QEMU (keel_serial_*_boots_natively),
  and Bochs needs minutes for it.

Registered into test_boot's table (imported at its end); select them with
-k bochs (all Bochs tests), -k ryzen or -k fallback."""

import re

import harness
import test_boot
from bochs import BochsMachine
from test_boot import check, guest_run, test, wait_guest_ready
from test_vmx import bochs_dom0_fixture, check_backend


# 2 CPUs: one for dom0, one for the pool (the tiny guest)
test_boot.FIXTURES["bochs-ryzen"] = bochs_dom0_fixture("bochs-ryzen", "ryzen", 2, 1024, "svm")


@test("ryzen_dom0_and_guest_on_svm_with_nrips", "bochs-ryzen")
def t_ryzen(m):
    check_backend(m, "svm", ("npt", "nrips"))
    out, rc = m.run("keel create tiny", timeout=300)
    check(rc == 0 and "Started domain tiny" in out, "keel create tiny failed: %r" % out)
    wait_guest_ready(m, "tiny", timeout=900)
    out = guest_run(m, "tiny", "echo answer-$(hostname)", timeout=300)
    check("answer-tiny" in out, "tiny did not answer on its console: %r" % out[-300:])
    check_stalls_are_bochs_svm_if0(m)
    out, rc = m.run("keel destroy tiny && echo destroyed", timeout=120)
    check("destroyed" in out, "keel destroy tiny failed: %r" % out)


def check_stalls_are_bochs_svm_if0(m):
    """Bochs 2.7's VMRUN loads the guest's RFLAGS before it marks the CPU as
    in guest mode (svm.cc: SvmEnterLoadCheckGuestState, then in_svm_guest =
    1), so a guest entered with IF=0 masks the host's interrupts, and the
    #VMEXIT(INTR) that APM vol. 2 15.21.1 promises under V_INTR_MASKING
    never comes until the guest sets IF. A Linux guest decompresses itself
    with IF=0, so its pool CPU misses its scheduler ticks for seconds, and
    the watchdog reports it and gets it back with an NMI. Accept exactly
    that: every report is about a guest vCPU with IF clear, and every one
    ends with the CPU making progress again. Anything else fails."""
    text = harness.strip_ansi(m.buf)
    reports = re.findall(r"has made no progress.*?end of the report", text, re.S)
    recovered = re.findall(r"watchdog: CPU \d+ makes progress again", text)
    for r in reports:
        fl = re.search(r"domain \d+ \(tiny\) vCPU \d+ as of its last exit:.*?"
                       r"RFLAGS ([0-9a-f]+)", r, re.S)
        check(fl is not None and not int(fl.group(1), 16) & 0x200,
              "a watchdog report that is not Bochs 2.7's IF=0 guest stall:\n%s" % r[:1500])
    check(len(recovered) == len(reports),
          "%d watchdog report(s), %d recovered" % (len(reports), len(recovered)))
    if reports:
        m.note("%d watchdog report(s) of a guest vCPU entered with IF=0 (Bochs 2.7 "
               "SVM), each recovered" % len(reports))


def fallback_fixture(name, cpu):
    def boot():
        # 2 CPUs, not 1: a lone Bochs CPU that halts skips its clock ahead
        # to the next timer, so isolinux's 5 s countdown ends before the
        # harness's Esc arrives
        m = BochsMachine(name=name, cpu=cpu, smp=2, mem=512).start()
        m.boot_entry("keel-serial", timeout=300)
        m.wait_for(r"Keel hypervisor v", 300, "the hypervisor banner 'Keel hypervisor v'")
        return m
    return boot


def check_fallback(m, lacks_re, lacks_text):
    m.wait_for(r"CPU: GenuineIntel", 120, "the hypervisor to see an Intel CPU")
    m.wait_for(r"no usable hardware virtualization: " + lacks_re, 120,
               "'no usable hardware virtualization: %s'" % lacks_text)
    m.wait_for(r"booting dom0 natively", 120, "'booting dom0 natively' from the hypervisor")
    # dom0's kernel, on the bare CPU: its first console lines, then the
    # CPU it found (which still has VMX: nothing hid it)
    m.wait_for(r"Linux version", 600, "dom0's kernel banner 'Linux version'")
    m.wait_for(r"smpboot: CPU0: Intel", 900, "dom0's kernel naming the Intel CPU it runs on")


for _name, _cpu, _re, _text in (
        ("bochs-penryn", "core2_penryn_t9600", r"the CPU's VT-x has no EPT",
         "the CPU's VT-x has no EPT"),
        ("bochs-lynnfield", "corei5_lynnfield_750",
         r"the CPU's VT-x has no unrestricted guest mode",
         "the CPU's VT-x has no unrestricted guest mode")):
    test_boot.FIXTURES[_name] = fallback_fixture(_name, _cpu)
    test("fallback_%s_%s_boots_natively" % (_cpu, "no_ept" if "EPT" in _text
                                             else "no_unrestricted_guest"), _name)(
        lambda m, _re=_re, _text=_text: check_fallback(m, _re, _text))
