/*
 * CPUID policy for dom0. Dom0 sees the real CPU with three changes: the
 * hypervisor-present bit (CPUID 1 ECX bit 31), Keel's signature and version
 * at 0x40000000/0x40000001 (every other leaf of the 0x40000000 range reads
 * zero, which also ends Linux's scan for Xen and KVM), and no SVM or VMX,
 * since Keel does not offer nested virtualization (AMD APM vol. 3,
 * appendix E; Intel SDM vol. 2A, CPUID). Both kinds of domain also lose
 * the TSC frequency leaves 0x15 and 0x16 where they contradict the rate the
 * hypervisor measured (cpuid_policy_tsc).
 */
#include <keel/cpuid_policy.h>
#include <keel/string.h>
#include <public/keel_abi.h>

#define LEAF_HV_FIRST 0x40000000u
#define LEAF_HV_LAST 0x4FFFFFFFu
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_EXT_ECX_SVM (1u << 2)
#define BIT(n) (1u << (n))
/* Leaf 1 ECX: MONITOR 3, DS-CPL 4, VMX 5, SMX 6, EST 7, TM2 8, PDCM 15,
 * x2APIC 21, OSXSAVE 27 (recomputed); EDX: MCE 7, MTRR 12, MCA 14, DS 21,
 * ACPI 22, HTT 28, TM 29, PBE 31 (no machine-check banks are modelled). */
#define G1_ECX_HIDE (BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | \
		     BIT(15) | BIT(21) | BIT(27))
#define G1_ECX_TSC_DEADLINE BIT(24)
#define G1_ECX_OSXSAVE BIT(27)
#define G1_EDX_HIDE (BIT(7) | BIT(12) | BIT(14) | BIT(21) | BIT(22) | BIT(28) | \
		     BIT(29) | BIT(31))
/* Leaf 7 ECX: PKU 3, OSPKE 4, WAITPKG 5, LA57 16. EDX: the MSRs guests do
 * not get: L1D_FLUSH 28, ARCH_CAPABILITIES 29, CORE_CAPABILITIES 30. The
 * speculation controls IBRS/IBPB 26, STIBP 27 and SSBD 31 pass: guests get
 * them exactly when the CPU has them (arch/x86/spec_ctrl.c). */
#define G7_ECX_HIDE (BIT(3) | BIT(4) | BIT(5) | BIT(16))
#define G7_EDX_HIDE (BIT(28) | BIT(29) | BIT(30))
/* 0x80000008 EBX: VIRT_SSBD 25 (its MSR, VIRT_SPEC_CTRL, is not emulated;
 * IBPB 12, IBRS 14, STIBP 15 and AMD_SSBD 24 work through SPEC_CTRL). */
#define GE8_EBX_HIDE BIT(25)
/* 0x80000001 ECX: CmpLegacy 1, SVM 2, IBS 10, SKINIT 12, WDT 13,
 * TOPOEXT 22, PERFCTR_CORE 23, PERFCTR_NB 24, MWAITX 29; EDX: MCE 7,
 * MTRR 12, MCA 14. */
#define GE1_ECX_HIDE (BIT(1) | BIT(2) | BIT(10) | BIT(12) | BIT(13) | BIT(22) | \
		      BIT(23) | BIT(24) | BIT(29))
#define GE1_EDX_HIDE (BIT(7) | BIT(12) | BIT(14))
#define G6_EAX_ARAT BIT(2)
#define GE7_EDX_INVTSC BIT(8)
#define CR4_OSXSAVE_BIT (1ull << 18)
#define CR4_PKE_BIT (1ull << 22)
#define G7_ECX_OSPKE BIT(4)
/* How far (in percent) leaf 0x15's or 0x16's frequency may lie from the
 * measured TSC rate before the leaf is hidden. */
#define TSC_LEAF_TOLERANCE_PCT 5u
#define LEAF_TSC_CRYSTAL 0x15u
#define LEAF_FREQ 0x16u

static void hv_leaves(uint32_t leaf, uint32_t hv_version, struct cpuid_out *o)
{
	memset(o, 0, sizeof(*o));
	if (leaf == KEEL_CPUID_BASE) {
		o->eax = KEEL_CPUID_VERSION;
		memcpy(&o->ebx, KEEL_CPUID_SIGNATURE, 4);
		memcpy(&o->ecx, KEEL_CPUID_SIGNATURE + 4, 4);
		memcpy(&o->edx, KEEL_CPUID_SIGNATURE + 8, 4);
	} else if (leaf == KEEL_CPUID_VERSION) {
		o->eax = hv_version;
		o->ebx = KEEL_ABI_VERSION;
	}
}

/* Apply dom0's CPUID policy; see cpuid_policy.h. */
void cpuid_policy_dom0(uint32_t leaf, uint32_t subleaf, uint64_t dom0_cr4,
		       uint32_t hv_version, struct cpuid_out *out)
{
	if (leaf >= LEAF_HV_FIRST && leaf <= LEAF_HV_LAST) {
		hv_leaves(leaf, hv_version, out);
		return;
	}
	switch (leaf) {
	case 0x1:
		out->ecx = (out->ecx & ~(CPUID_1_ECX_VMX | G1_ECX_OSXSAVE)) | CPUID_1_ECX_HYPERVISOR |
			   ((dom0_cr4 & CR4_OSXSAVE_BIT) ? G1_ECX_OSXSAVE : 0);
		break;
	case 0x7:
		if (subleaf == 0)
			out->ecx = (out->ecx & ~G7_ECX_OSPKE) |
				   ((dom0_cr4 & CR4_PKE_BIT) ? G7_ECX_OSPKE : 0);
		break;
	case 0x80000001:
		out->ecx &= ~CPUID_EXT_ECX_SVM;
		break;
	case 0x8000000A:
		memset(out, 0, sizeof(*out));
		break;
	default:
		break;
	}
}

static void guest_leaf1(uint32_t vcpu_id, uint64_t cr4, struct cpuid_out *o)
{
	o->ebx = (vcpu_id << 24) | (1u << 16) | (o->ebx & 0xFFFF);
	o->ecx = (o->ecx & ~G1_ECX_HIDE) | G1_ECX_TSC_DEADLINE | CPUID_1_ECX_HYPERVISOR |
		 ((cr4 & CR4_OSXSAVE_BIT) ? G1_ECX_OSXSAVE : 0);
	o->edx &= ~G1_EDX_HIDE;
}

/* Apply a guest's CPUID policy; see cpuid_policy.h. */
void cpuid_policy_guest(uint32_t leaf, uint32_t subleaf, uint32_t vcpu_id,
			uint64_t guest_cr4, uint32_t hv_version, struct cpuid_out *out)
{
	if (leaf >= LEAF_HV_FIRST && leaf <= LEAF_HV_LAST) {
		hv_leaves(leaf, hv_version, out);
		return;
	}
	switch (leaf) {
	case 0x1:
		guest_leaf1(vcpu_id, guest_cr4, out);
		break;
	case 0x6:
		memset(out, 0, sizeof(*out));
		out->eax = G6_EAX_ARAT;
		break;
	case 0x7:
		if (subleaf == 0) {
			out->ecx &= ~G7_ECX_HIDE;
			out->edx &= ~G7_EDX_HIDE;
		}
		break;
	case 0x4: case 0x5: case 0xA: case 0xB: case 0x1F:
	case 0x8000000A: case 0x8000001D: case 0x8000001E: case 0x8000001F:
		memset(out, 0, sizeof(*out));
		break;
	case 0x80000001:
		out->ecx &= ~GE1_ECX_HIDE;
		out->edx &= ~GE1_EDX_HIDE;
		break;
	case 0x80000007:
		memset(out, 0, sizeof(*out));
		out->edx = GE7_EDX_INVTSC;
		break;
	case 0x80000008:
		out->ebx &= ~GE8_EBX_HIDE;
		out->ecx = 0;
		break;
	default:
		break;
	}
}

/* Whether claimed_khz lies within TSC_LEAF_TOLERANCE_PCT of measured_khz. */
static bool tsc_claim_agrees(uint64_t claimed_khz, uint64_t measured_khz)
{
	uint64_t diff = claimed_khz > measured_khz ? claimed_khz - measured_khz
						   : measured_khz - claimed_khz;

	return diff * 100 <= measured_khz * TSC_LEAF_TOLERANCE_PCT;
}

/* Hide leaf 0x15 or 0x16 where it contradicts the measured TSC; see
 * cpuid_policy.h. */
void cpuid_policy_tsc(uint32_t leaf, uint64_t measured_tsc_khz, struct cpuid_out *out)
{
	uint64_t claimed_khz;

	if (!measured_tsc_khz)
		return;
	if (leaf == LEAF_TSC_CRYSTAL) {
		/* EAX/EBX: the TSC/crystal ratio; ECX: the crystal in Hz, 0 when
		 * not enumerated (then Linux derives it from leaf 0x16, which is
		 * judged on its own). */
		if (!out->eax || !out->ebx || !out->ecx)
			return;
		claimed_khz = (uint64_t)out->ecx * out->ebx / out->eax / 1000u;
	} else if (leaf == LEAF_FREQ) {
		if (!(out->eax & 0xFFFFu))      /* EAX[15:0]: base frequency, MHz */
			return;
		claimed_khz = (uint64_t)(out->eax & 0xFFFFu) * 1000u;
	} else {
		return;
	}
	if (!tsc_claim_agrees(claimed_khz, measured_tsc_khz))
		memset(out, 0, sizeof(*out));
}
