/*
 * System-wide hypervisor state set up at boot: options, version, how the
 * machine's CPUs and memory were split, and dom0.
 */
#ifndef KEEL_HV_H
#define KEEL_HV_H

#include <stdint.h>
#include <keel/cmdline.h>

#define KEEL_VERSION_MAJOR 0
#define KEEL_VERSION_MINOR 1
#define KEEL_VERSION_PATCH 0
#define KEEL_VERSION_STR "0.1.0"
#define KEEL_VERSION ((KEEL_VERSION_MAJOR << 16) | (KEEL_VERSION_MINOR << 8) | \
		      KEEL_VERSION_PATCH)

struct domain;

struct hv_state {
	struct hv_options opts;
	uint64_t mem_total_bytes;
	uint64_t mem_dom0_bytes;
	uint64_t image_base_pa;
	uint64_t image_bytes;
	uint64_t marker_pa;
	uint32_t cpus_dom0, cpus_pool;
	uint64_t cpu_mask_dom0, cpu_mask_pool;
	bool bsp_idle; /* CPU 0 runs no domain (see cpu_plan.h) */
	uint32_t dom0_first_cpu; /* dom0's boot CPU; its others follow */
	struct domain *dom0;
	uint64_t boot_id; /* differs between boots: saved guest state names it */
};

extern struct hv_state hv;

#endif
