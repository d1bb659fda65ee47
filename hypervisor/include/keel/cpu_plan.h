/*
 * How the physical CPUs are shared out at boot: which CPU runs dom0,
 * which form the guest pool, and whether the boot CPU (CPU 0) is kept
 * idle. Pure logic, so that the host unit tests can check every layout.
 *
 * Why CPU 0 may be kept idle: QEMU 7.2's multi-threaded TCG writes CPU 0's
 * hflags2 from every vCPU thread without a lock (cpu_clear_ignne, run on
 * each FXRSTOR, XRSTOR, FRSTOR and FLDENV). A late write brings nested
 * paging back into CPU 0's host mode after a #VMEXIT, and the next exit
 * then overwrites the running domain's state with the hypervisor's own
 * (docs/architecture.md, "The dom0 crash under QEMU"). A CPU 0 that never
 * enters guest mode has no such state to lose, so under QEMU TCG (with a
 * CPU left for guests) dom0 moves to CPU 1.
 */
#ifndef KEEL_CPU_PLAN_H
#define KEEL_CPU_PLAN_H

#include <stdint.h>
#include <stdbool.h>

#define CPU_PLAN_MAX_CPUS 64u /* the masks are 64 bits wide (MAX_CPUS) */

struct cpu_plan_input {
	uint32_t nr_cpus;        /* CPUs online, CPU 0 is the boot CPU */
	uint32_t max_guest_cpus; /* 0 = no limit */
	uint32_t dom0_cpus;      /* 0 = the default (see cpu_plan.c) */
	uint32_t bsp;            /* HV_BSP_* (keel/cmdline.h) */
	bool qemu_tcg;           /* running under QEMU's TCG (the race above) */
};

/* Why the plan differs from what was asked or from the usual layout. */
enum cpu_plan_note {
	CPU_PLAN_NOTE_NONE,
	CPU_PLAN_NOTE_TCG_IDLE,     /* auto: CPU 0 kept idle under QEMU TCG */
	CPU_PLAN_NOTE_TCG_TOO_FEW,  /* auto under TCG, 2 CPUs: CPU 0 runs dom0 */
	CPU_PLAN_NOTE_IDLE_ONE_CPU, /* bsp=idle with one CPU: CPU 0 runs dom0 */
};

#define CPU_PLAN_MAX_DOM0_CPUS 8u /* dom0_cpus above this is capped */

struct cpu_plan {
	uint32_t dom0_cpu;   /* index of dom0's first CPU (its boot CPU) */
	uint32_t cpus_dom0;  /* dom0's CPUs: dom0_cpu and the ones after it */
	bool dom0_capped;    /* fewer dom0 CPUs than dom0_cpus asked for */
	bool bsp_idle;       /* CPU 0 runs no domain */
	uint32_t cpus_pool;  /* number of bits set in mask_pool */
	uint64_t mask_dom0;  /* bit i = CPU i */
	uint64_t mask_pool;
	enum cpu_plan_note note;
};

void cpu_plan_make(const struct cpu_plan_input *in, struct cpu_plan *out);

#endif /* KEEL_CPU_PLAN_H */
