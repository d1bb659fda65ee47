/*
 * CPUID policy for dom0. Dom0 sees the real CPU with three changes: the
 * hypervisor-present bit (CPUID 1 ECX bit 31), Keel's signature and version
 * at 0x40000000/0x40000001 (every other leaf of the 0x40000000 range reads
 * zero, which also ends Linux's scan for Xen and KVM), and no SVM or VMX,
 * since Keel does not offer nested virtualization (AMD APM vol. 3,
 * appendix E; Intel SDM vol. 2A, CPUID).
 */
#include <keel/cpuid_policy.h>
#include <keel/string.h>
#include <public/keel_abi.h>

#define LEAF_HV_FIRST 0x40000000u
#define LEAF_HV_LAST 0x4FFFFFFFu
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_EXT_ECX_SVM (1u << 2)

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
void cpuid_policy_dom0(uint32_t leaf, uint32_t subleaf, uint32_t hv_version,
		       struct cpuid_out *out)
{
	(void)subleaf;
	if (leaf >= LEAF_HV_FIRST && leaf <= LEAF_HV_LAST) {
		hv_leaves(leaf, hv_version, out);
		return;
	}
	switch (leaf) {
	case 0x1:
		out->ecx = (out->ecx & ~CPUID_1_ECX_VMX) | CPUID_1_ECX_HYPERVISOR;
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
