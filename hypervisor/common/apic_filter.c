/*
 * The rule for dom0's interrupt-command-register writes (see
 * keel/apic_filter.h): dom0 may interrupt its own CPU, never another one.
 * The destination is checked the way the local APIC would deliver it
 * (AMD APM vol. 2, 16.6 "Interprocessor Interrupts"; Intel SDM vol. 3A,
 * 10.6.2): a shorthand, or a physical or logical destination field.
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
