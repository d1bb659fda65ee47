/*
 * The memory type the MTRRs give a physical address (Intel SDM vol. 3A,
 * 12.11 "Memory Type Range Registers"; AMD APM vol. 2, 7.7). With AMD's
 * nested paging the CPU still applies the host's MTRRs to guest accesses,
 * but an Intel EPT leaf entry replaces them with its own memory type
 * (SDM vol. 3C, 29.3.7.2), so the VT-x backend copies the MTRRs' answer
 * into every leaf it maps: dom0 then sees the memory types it would see on
 * bare metal. Pure logic over a snapshot of the MTRR MSRs, so that the
 * host unit tests can check it.
 */
#ifndef KEEL_MTRR_H
#define KEEL_MTRR_H

#include <stdint.h>
#include <stdbool.h>

/* Memory types (SDM vol. 3A, table 12-8). */
#define MTRR_TYPE_UC 0u
#define MTRR_TYPE_WC 1u
#define MTRR_TYPE_WT 4u
#define MTRR_TYPE_WP 5u
#define MTRR_TYPE_WB 6u

#define MTRR_MAX_VAR 32u   /* MTRRcap.VCNT is 8 bits; real CPUs have <= 32 */
#define MTRR_FIXED_BYTES 88u /* 11 fixed-range MSRs of 8 one-byte fields */

/* A snapshot of the MTRR MSRs of one CPU. */
struct mtrr_state {
	uint64_t def_type;          /* IA32_MTRR_DEF_TYPE (0x2FF) */
	bool fixed_supported;       /* IA32_MTRRCAP.FIX */
	uint8_t fixed[MTRR_FIXED_BYTES]; /* types of the fixed ranges below 1 MiB, in address order */
	uint32_t nr_var;            /* IA32_MTRRCAP.VCNT, at most MTRR_MAX_VAR */
	uint64_t var_base[MTRR_MAX_VAR]; /* IA32_MTRR_PHYSBASEn */
	uint64_t var_mask[MTRR_MAX_VAR]; /* IA32_MTRR_PHYSMASKn */
	uint64_t phys_mask;         /* the CPU's physical address bits, as a mask */
};

/*
 * The memory type of the physical bytes [pa, pa + size) as far as they
 * share one: returns how many bytes from pa have the type stored in
 * *type (at least 1 if size > 0, at most size). size 0 returns 0 and
 * leaves *type alone.
 */
uint64_t mtrr_type_run(const struct mtrr_state *m, uint64_t pa, uint64_t size, uint8_t *type);

#endif
