/*
 * Which interrupt-command-register writes dom0 may make. Dom0 owns the
 * local APIC of its CPU, but the ICR can address every CPU, including the
 * hypervisor's pool CPUs: an INIT or start-up IPI there would restart the
 * CPU outside the hypervisor's control, any other IPI disturbs it. The
 * hypervisor traps dom0's ICR writes (the xAPIC page is mapped read-only,
 * the x2APIC ICR MSR is intercepted) and asks apic_filter_icr() whether
 * to send them. Pure: no hardware is touched.
 */
#ifndef KEEL_APIC_FILTER_H
#define KEEL_APIC_FILTER_H

#include <stdbool.h>
#include <stdint.h>

/* Fields of the ICR's low word (AMD APM vol. 2, 16.5; Intel SDM vol. 3A,
 * 10.6.1). */
#define APIC_ICR_MODE_SHIFT 8
#define APIC_ICR_MODE_MASK (7u << 8)
#define APIC_ICR_MODE_FIXED (0u << 8)
#define APIC_ICR_MODE_LOWEST (1u << 8)
#define APIC_ICR_MODE_SMI (2u << 8)
#define APIC_ICR_MODE_NMI (4u << 8)
#define APIC_ICR_MODE_INIT (5u << 8)
#define APIC_ICR_MODE_STARTUP (6u << 8)
#define APIC_ICR_DEST_LOGICAL (1u << 11)
#define APIC_ICR_SHORTHAND_MASK (3u << 18)
#define APIC_ICR_SHORTHAND_NONE (0u << 18)
#define APIC_ICR_SHORTHAND_SELF (1u << 18)
#define APIC_ICR_SHORTHAND_ALL (2u << 18)
#define APIC_ICR_SHORTHAND_OTHERS (3u << 18)

#define APIC_ICR_LEVEL_ASSERT (1u << 14)
#define APIC_ICR_TRIGGER_LEVEL (1u << 15)
#define APIC_XAPIC_BROADCAST 0xFFu         /* physical destination "all" */
#define APIC_X2APIC_BROADCAST 0xFFFFFFFFu

#define APIC_FILTER_MAX_CPUS 8 /* dom0 CPUs the filter knows */

/* Dom0's CPUs as the filter sees them. */
struct apic_filter_cpus {
	uint32_t n;    /* how many (1..APIC_FILTER_MAX_CPUS) */
	uint32_t self; /* which of them wrote the ICR */
	uint32_t apic_id[APIC_FILTER_MAX_CPUS]; /* physical (x2)APIC ids */
	uint32_t logical[APIC_FILTER_MAX_CPUS]; /* logical ids (xAPIC: LDR bits
						 * 31:24, 0 if unset; x2APIC: the LDR) */
	bool x2apic;   /* the ICR came through the x2APIC MSR */
};

/* What to do with an ICR write the filter allowed. */
struct apic_filter_action {
	uint32_t lo;      /* the low word to send to each target, with no
			   * shorthand and a physical destination */
	uint32_t targets; /* bit k: dom0's CPU k (none for an INIT de-assert) */
	bool start;       /* INIT or start-up IPI for dom0's other CPUs: the
			   * hypervisor emulates it instead of sending it */
};

/*
 * Decide dom0's ICR write: lo is the low word written, dest the
 * destination field (xAPIC: ICR high bits 31:24; x2APIC: the MSR's bits
 * 63:32), cpus describes dom0's CPUs. Fixed, lowest-priority and NMI IPIs
 * may go to any of dom0's CPUs (a lowest-priority one to the first of
 * them); INIT and start-up IPIs only to dom0's other CPUs, which the
 * hypervisor starts itself; shorthands become the list of dom0's CPUs
 * they mean. Anything that would reach a CPU that is not dom0's, SMI,
 * and the reserved modes are refused. Returns 0 with *a filled, or
 * -EPERM with the reason in *why.
 */
int apic_filter_icr(uint32_t lo, uint32_t dest, const struct apic_filter_cpus *cpus,
		    struct apic_filter_action *a, const char **why);

/* The bits of the x2APIC ICR's low word that may be set (Intel SDM vol.
 * 3A, 10.12.9: the others are reserved and a WRMSR setting them faults). */
#define APIC_X2APIC_ICR_LO_VALID 0x000CCFFFu

/* IA32_APIC_BASE (Intel SDM vol. 3A, 10.4.4; AMD APM vol. 2, 16.3.1). */
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_ADDR_MASK 0x000FFFFFFFFFF000ull

/*
 * Decide dom0's write of val to IA32_APIC_BASE, which holds cur now.
 * lapic_pa is the only base address allowed (the page the hypervisor
 * maps read-only); has_x2apic says whether the CPU has x2APIC mode.
 * Returns 0 if val may be written to the real MSR; -EPERM (why: the base
 * would move) or -EINVAL (why: the real CPU would raise #GP: reserved
 * bits, a changed BSP flag, x2APIC without the feature, or a mode change
 * the SDM forbids, 10.12.5) otherwise. The caller gives dom0 a #GP then.
 */
int apic_filter_base(uint64_t cur, uint64_t val, uint64_t lapic_pa, bool has_x2apic,
		     const char **why);

#endif /* KEEL_APIC_FILTER_H */
