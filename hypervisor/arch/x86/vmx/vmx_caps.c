/*
 * The VMX capability rules (see vmx_caps.h): adjusting control fields to
 * what the CPU allows, and the fixed bits of CR0 and CR4 (Intel SDM vol.
 * 3D, A.3-A.8).
 */
#include "vmx_caps.h"

/* A control field's value with want; see vmx_caps.h. */
uint32_t vmx_ctl_adjust(uint64_t cap, uint32_t want, uint32_t *out)
{
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);

	*out = (want | must1) & may1;
	return want & ~may1;
}

/* Bits the CPU forces to 1 beyond want; see vmx_caps.h. */
uint32_t vmx_ctl_forced(uint64_t cap, uint32_t want)
{
	return (uint32_t)cap & ~want;
}

/* CR0/CR4 with the VMX fixed bits applied; see vmx_caps.h. */
uint64_t vmx_cr_fixed(uint64_t val, uint64_t fixed0, uint64_t fixed1, uint64_t relaxed)
{
	uint64_t fixed = ((val | fixed0) & fixed1) & ~relaxed;

	return fixed | (val & relaxed);
}
