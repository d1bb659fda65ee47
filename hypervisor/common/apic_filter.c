/*
 * The rule for dom0's interrupt-command-register writes (see
 * keel/apic_filter.h): dom0 may interrupt its own CPUs, never another one.
 * The destination is checked the way the local APIC would deliver it
 * (AMD APM vol. 2, 16.6 "Interprocessor Interrupts"; Intel SDM vol. 3A,
 * 10.6.2): a shorthand, or a physical or logical destination field.
 * Writes to the APIC base MSR are checked too, so that dom0 can neither
 * move the trapped page nor make the hypervisor's WRMSR fault.
 */
#include <keel/apic_filter.h>
#include <keel/errno.h>

/* The x2APIC logical id of physical id id (Intel SDM vol. 3A, 10.12.10.2:
 * cluster in bits 31:16, one bit of 16 in bits 15:0). */
static uint32_t x2apic_logical(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 15));
}

/* Dom0's CPUs that a logical destination names, or -EPERM (in *why) if it
 * also names any other CPU or none of dom0's. */
static int logical_targets(uint32_t dest, const struct apic_filter_cpus *c, uint32_t *t,
			   const char **why)
{
	uint32_t k, covered = 0, mask = 0, ldr;

	for (k = 0; k < c->n; k++) {
		ldr = c->x2apic ? x2apic_logical(c->apic_id[k]) : c->logical[k];
		if (!ldr)
			continue;
		if (c->x2apic && (ldr >> 16) != (dest >> 16))
			continue;
		if (ldr & dest & (c->x2apic ? 0xFFFFu : 0xFFu)) {
			mask |= 1u << k;
			covered |= ldr;
		}
	}
	if (!mask || (dest & ~covered & (c->x2apic ? 0xFFFFu : 0xFFu))) {
		*why = "the destination is not dom0's CPUs";
		return -EPERM;
	}
	*t = mask;
	return 0;
}

/* Dom0's CPUs that lo and dest address, into *t; -EPERM (why) if the IPI
 * would also reach another CPU. */
static int icr_targets(uint32_t lo, uint32_t dest, const struct apic_filter_cpus *c,
		       uint32_t *t, const char **why)
{
	uint32_t all = (c->n >= 32 ? ~0u : (1u << c->n) - 1), k;

	switch (lo & APIC_ICR_SHORTHAND_MASK) {
	case APIC_ICR_SHORTHAND_SELF:
		*t = 1u << c->self;
		return 0;
	case APIC_ICR_SHORTHAND_ALL:
		*t = all;
		return 0;
	case APIC_ICR_SHORTHAND_OTHERS:
		*t = all & ~(1u << c->self);
		return 0;
	default:
		break;
	}
	if (lo & APIC_ICR_DEST_LOGICAL)
		return logical_targets(dest, c, t, why);
	if (dest == (c->x2apic ? APIC_X2APIC_BROADCAST : APIC_XAPIC_BROADCAST)) {
		*why = "a broadcast would reach the hypervisor's CPUs";
		return -EPERM;
	}
	for (k = 0; k < c->n; k++) {
		if (c->apic_id[k] == dest) {
			*t = 1u << k;
			return 0;
		}
	}
	*why = "the destination is not dom0's CPU";
	return -EPERM;
}

/* Decide dom0's ICR write; see apic_filter.h. */
int apic_filter_icr(uint32_t lo, uint32_t dest, const struct apic_filter_cpus *cpus,
		    struct apic_filter_action *a, const char **why)
{
	uint32_t mode = lo & APIC_ICR_MODE_MASK, t = 0;
	bool start = mode == APIC_ICR_MODE_INIT || mode == APIC_ICR_MODE_STARTUP;
	int rc;

	if (mode != APIC_ICR_MODE_FIXED && mode != APIC_ICR_MODE_LOWEST &&
	    mode != APIC_ICR_MODE_NMI && !start) {
		*why = "SMI and the reserved delivery modes are not dom0's to send";
		return -EPERM;
	}
	if (mode == APIC_ICR_MODE_INIT && !(lo & APIC_ICR_LEVEL_ASSERT) &&
	    (lo & APIC_ICR_TRIGGER_LEVEL)) {
		a->lo = 0; /* INIT level de-assert: nothing on CPUs since the P4 */
		a->targets = 0;
		a->start = false;
		return 0;
	}
	rc = icr_targets(lo, dest, cpus, &t, why);
	if (rc)
		return rc;
	if (start && (t & (1u << cpus->self))) {
		*why = "INIT and start-up IPIs to dom0's own CPU would restart it";
		return -EPERM;
	}
	if (!t) {
		*why = "the IPI names no CPU of dom0";
		return -EPERM;
	}
	if (mode == APIC_ICR_MODE_LOWEST)
		t &= ~(t - 1); /* the first of them */
	a->lo = lo & ~(APIC_ICR_SHORTHAND_MASK | APIC_ICR_DEST_LOGICAL);
	a->targets = t;
	a->start = start;
	return 0;
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
