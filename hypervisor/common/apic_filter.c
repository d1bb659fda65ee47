/*
 * The rule for dom0's interrupt-command-register writes (see
 * keel/apic_filter.h): dom0 may interrupt its own CPU, never another one.
 * The destination is checked the way the local APIC would deliver it
 * (AMD APM vol. 2, 16.6 "Interprocessor Interrupts"; Intel SDM vol. 3A,
 * 10.6.2): a shorthand, or a physical or logical destination field.
 * Writes to the APIC base MSR are checked too, so that dom0 can neither
 * move the trapped page nor make the hypervisor's WRMSR fault.
 */
#include <keel/apic_filter.h>
#include <keel/errno.h>

/* Whether the destination of a no-shorthand IPI is exactly dom0's CPU. */
static bool dest_is_own(uint32_t lo, uint32_t dest, uint32_t own_id, uint32_t own_logical)
{
	if (lo & APIC_ICR_DEST_LOGICAL)
		return own_logical != 0 && dest == own_logical;
	return dest == own_id;
}

/* Decide dom0's ICR write; see apic_filter.h. */
int apic_filter_icr(uint32_t lo, uint32_t dest, uint32_t own_id, uint32_t own_logical,
		    uint32_t *send, const char **why)
{
	uint32_t mode = lo & APIC_ICR_MODE_MASK;

	if (mode != APIC_ICR_MODE_FIXED && mode != APIC_ICR_MODE_LOWEST &&
	    mode != APIC_ICR_MODE_NMI) {
		*why = "INIT, start-up and SMI IPIs are not dom0's to send";
		return -EPERM;
	}
	switch (lo & APIC_ICR_SHORTHAND_MASK) {
	case APIC_ICR_SHORTHAND_SELF:
		*send = lo;
		return 0;
	case APIC_ICR_SHORTHAND_ALL:
		*send = (lo & ~APIC_ICR_SHORTHAND_MASK) | APIC_ICR_SHORTHAND_SELF;
		return 0;
	case APIC_ICR_SHORTHAND_OTHERS:
		*why = "a broadcast to the other CPUs would reach the hypervisor's";
		return -EPERM;
	default:
		if (!dest_is_own(lo, dest, own_id, own_logical)) {
			*why = "the destination is not dom0's CPU";
			return -EPERM;
		}
		*send = lo;
		return 0;
	}
}

/* The APIC mode of an IA32_APIC_BASE value: 0 disabled, 1 xAPIC, 2 x2APIC,
 * 3 the invalid EXTD-without-EN state. */
static uint32_t base_mode(uint64_t v)
{
	if (!(v & APIC_BASE_EN))
		return (v & APIC_BASE_EXTD) ? 3u : 0u;
	return (v & APIC_BASE_EXTD) ? 2u : 1u;
}

/* Decide dom0's IA32_APIC_BASE write; see apic_filter.h. */
int apic_filter_base(uint64_t cur, uint64_t val, uint64_t lapic_pa, bool has_x2apic,
		     const char **why)
{
	uint64_t valid = APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN | APIC_BASE_ADDR_MASK;
	uint32_t from = base_mode(cur), to = base_mode(val);

	if (val & ~valid) {
		*why = "reserved bits are set";
		return -EINVAL;
	}
	if ((val & APIC_BASE_ADDR_MASK) != lapic_pa) {
		*why = "the local APIC may not move";
		return -EPERM;
	}
	if ((val ^ cur) & APIC_BASE_BSP) {
		*why = "the BSP flag cannot change";
		return -EINVAL;
	}
	if ((val & APIC_BASE_EXTD) && !has_x2apic) {
		*why = "this CPU has no x2APIC mode";
		return -EINVAL;
	}
	/* Allowed: to disabled, staying, disabled -> xAPIC, xAPIC -> x2APIC. */
	if (to == 3 || (to != 0 && to != from && !(from == 0 && to == 1) &&
			!(from == 1 && to == 2))) {
		*why = "the SDM forbids this APIC mode change (10.12.5)";
		return -EINVAL;
	}
	return 0;
}
