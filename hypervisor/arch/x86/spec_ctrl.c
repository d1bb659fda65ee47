/*
 * Speculation controls of guest vCPUs: SPEC_CTRL (IBRS, STIBP, SSBD) and
 * the IBPB command in PRED_CMD (Intel SDM vol. 4, 2.1 "Architectural MSRs";
 * AMD's "Software Techniques for Managing Speculation", and APM vol. 3,
 * CPUID Fn8000_0008 EBX). A guest sees these features only when the CPU
 * has them (its CPUID passes the bits through), and then they work: the
 * guest's SPEC_CTRL is in the MSR while it runs and the host's (0) while
 * the hypervisor does, an IBPB it asks for is issued, and a CPU that
 * switches from one domain's vCPU to another's issues one itself, so one
 * domain cannot train the branch predictors against the next.
 */
#include <keel/arch.h>
#include <keel/cpu.h>
#include <asm/x86.h>

#define MSR_SPEC_CTRL 0x48u
#define MSR_PRED_CMD 0x49u
#define PRED_CMD_IBPB 1ull
#define SPEC_CTRL_IBRS (1ull << 0)
#define SPEC_CTRL_STIBP (1ull << 1)
#define SPEC_CTRL_SSBD (1ull << 2)
/* CPUID.(EAX=7,ECX=0):EDX (Intel SDM vol. 2A, CPUID). */
#define C7_EDX_IBRS_IBPB (1u << 26)
#define C7_EDX_STIBP (1u << 27)
#define C7_EDX_SSBD (1u << 31)
/* CPUID Fn8000_0008 EBX (AMD APM vol. 3, E.4.7). */
#define E8_EBX_IBPB (1u << 12)
#define E8_EBX_IBRS (1u << 14)
#define E8_EBX_STIBP (1u << 15)
#define E8_EBX_SSBD (1u << 24)

static bool probed, ibpb;
static uint64_t ctrl_bits; /* SPEC_CTRL bits the CPU implements */

static void spec_probe(void)
{
	struct cpuid_regs r;
	uint32_t e7 = 0, e8 = 0;

	cpuid_count(0, 0, &r);
	if (r.eax >= 7) {
		cpuid_count(7, 0, &r);
		e7 = r.edx;
	}
	cpuid_count(0x80000000, 0, &r);
	if (r.eax >= 0x80000008) {
		cpuid_count(0x80000008, 0, &r);
		e8 = r.ebx;
	}
	ibpb = (e7 & C7_EDX_IBRS_IBPB) || (e8 & E8_EBX_IBPB);
	ctrl_bits = ((e7 & C7_EDX_IBRS_IBPB) || (e8 & E8_EBX_IBRS) ? SPEC_CTRL_IBRS : 0) |
		    ((e7 & C7_EDX_STIBP) || (e8 & E8_EBX_STIBP) ? SPEC_CTRL_STIBP : 0) |
		    ((e7 & C7_EDX_SSBD) || (e8 & E8_EBX_SSBD) ? SPEC_CTRL_SSBD : 0);
	probed = true;
}

/* The SPEC_CTRL bits a guest may set: those the CPU implements; 0 when it
 * has no SPEC_CTRL MSR at all (then the guest's accesses raise #GP). */
uint64_t arch_spec_ctrl_bits(void)
{
	if (!probed)
		spec_probe();
	return ctrl_bits;
}

/* Whether the CPU has the IBPB command (PRED_CMD bit 0). */
bool arch_has_ibpb(void)
{
	if (!probed)
		spec_probe();
	return ibpb;
}

/* Issue an IBPB if the CPU has one: branch predictions made before it do
 * not steer execution after it. */
void arch_ibpb(void)
{
	if (arch_has_ibpb())
		wrmsr(MSR_PRED_CMD, PRED_CMD_IBPB);
}

/* Before entering a vCPU whose SPEC_CTRL is guest_val: load it (the host
 * runs with 0, so a guest that never set it costs nothing). */
void arch_spec_ctrl_enter(uint64_t guest_val)
{
	if (guest_val)
		wrmsr(MSR_SPEC_CTRL, guest_val);
}

/* After the exit of a vCPU whose SPEC_CTRL is guest_val: back to the
 * host's 0. (The MSR is intercepted, so the guest cannot have changed it
 * without the hypervisor knowing.) */
void arch_spec_ctrl_exit(uint64_t guest_val)
{
	if (guest_val)
		wrmsr(MSR_SPEC_CTRL, 0);
}
