/*
 * EPT memory types for the VMX backend. An EPT leaf entry's type replaces
 * the MTRRs for guest accesses (Intel SDM vol. 3C, 29.3.7.2 "Memory Type
 * Used for Translated Guest-Physical Addresses"; the guest's PAT still
 * combines with it, as IPAT stays 0), so each leaf gets the type the
 * host's MTRRs give its memory: dom0 sees device memory uncached and RAM
 * write-back exactly as on bare metal. The MTRRs are read once, on the
 * boot CPU (firmware programs them alike on every CPU, 12.11.8).
 */
#include <keel/mtrr.h>
#include <asm/x86.h>
#include "vmcs.h"
#include "vmx_priv.h"

#define MTRRCAP_VCNT_MASK 0xFFull
#define MTRRCAP_FIX (1ull << 8)

static struct mtrr_state host_mtrr;

/* Physical address width from CPUID 0x80000008 (36 if it is missing). */
static uint64_t phys_addr_mask(void)
{
	struct cpuid_regs r;
	uint32_t bits = 36;

	cpuid_count(0x80000000, 0, &r);
	if (r.eax >= 0x80000008) {
		cpuid_count(0x80000008, 0, &r);
		bits = r.eax & 0xFF;
	}
	return (1ull << bits) - 1;
}

/* Copy the eleven fixed-range MSRs' bytes in address order (12.11.2.2). */
static void read_fixed(struct mtrr_state *m)
{
	uint32_t i, b;
	uint64_t val;

	for (i = 0; i < 11; i++) {
		uint32_t msr = i == 0 ? MSR_MTRR_FIX64K_00000 :
			       i < 3 ? MSR_MTRR_FIX16K_80000 + (i - 1) :
			       MSR_MTRR_FIX4K_C0000 + (i - 3);

		val = rdmsr(msr);
		for (b = 0; b < 8; b++)
			m->fixed[i * 8 + b] = (uint8_t)(val >> (8 * b));
	}
}

/* Take the snapshot of the boot CPU's MTRRs. */
void vmx_ept_init(void)
{
	uint64_t cap = rdmsr(MSR_MTRR_CAP);
	uint32_t i;

	host_mtrr.def_type = rdmsr(MSR_MTRR_DEF_TYPE);
	host_mtrr.fixed_supported = (cap & MTRRCAP_FIX) != 0;
	host_mtrr.nr_var = (uint32_t)(cap & MTRRCAP_VCNT_MASK);
	if (host_mtrr.nr_var > MTRR_MAX_VAR)
		host_mtrr.nr_var = MTRR_MAX_VAR;
	host_mtrr.phys_mask = phys_addr_mask();
	if (host_mtrr.fixed_supported)
		read_fixed(&host_mtrr);
	for (i = 0; i < host_mtrr.nr_var; i++) {
		host_mtrr.var_base[i] = rdmsr(MSR_MTRR_PHYSBASE0 + 2 * i);
		host_mtrr.var_mask[i] = rdmsr(MSR_MTRR_PHYSBASE0 + 2 * i + 1);
	}
}

/* The run of one memory type at hpa and its EPT leaf bits (29.3.2:
 * bits 5:3); see virt_ops.npt_mem_run. */
uint64_t vmx_ept_mem_run(uint64_t hpa, uint64_t size, uint64_t *flags)
{
	uint8_t type = MTRR_TYPE_UC;
	uint64_t len = mtrr_type_run(&host_mtrr, hpa, size, &type);

	*flags = (uint64_t)type << EPT_MEMTYPE_SHIFT;
	return len;
}
