/*
 * Physical memory maps and the decisions made on them at boot: cleaning up
 * the firmware (e820) map, splitting RAM between dom0 and the hypervisor's
 * pool, building the e820 table dom0 sees, and checking that a physical
 * range lies inside a set of ranges. All functions here are pure (no
 * hardware access) so they are unit-tested on the host.
 */
#ifndef KEEL_MEMMAP_H
#define KEEL_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>

/* struct mem_range.type: the e820 type numbers. */
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4
#define E820_UNUSABLE 5

#define MEMMAP_PAGE_SIZE_BYTES 0x1000ull
#define MEMMAP_LARGE_PAGE_BYTES 0x200000ull  /* dom0's top end aligns to this */
#define MEMMAP_LOW_MEM_END_BYTES 0x100000ull /* RAM below this goes to dom0 */
#define MEMMAP_DOM0_MIN_BYTES (64ull << 20)
#define MEMMAP_DOM0_DEFAULT_MAX_BYTES (1ull << 30)
#define MEMMAP_POOL_MIN_BYTES (16ull << 20) /* the hypervisor needs some */
#define MEMMAP_SPLIT_MAX_RANGES 64

/* One physical range [base, base + len) of one e820 type. */
struct mem_range {
	uint64_t base;
	uint64_t len;
	uint32_t type;
};

/* How RAM is divided between dom0 and the hypervisor's pool. */
struct mem_split {
	uint64_t total_ram;  /* all RAM in the map, hidden ranges included */
	uint64_t dom0_bytes; /* sum of dom0[] */
	uint64_t pool_bytes; /* sum of pool[] */
	uint32_t n_dom0;
	uint32_t n_pool;
	struct mem_range dom0[MEMMAP_SPLIT_MAX_RANGES]; /* sorted, E820_RAM */
	struct mem_range pool[MEMMAP_SPLIT_MAX_RANGES]; /* sorted, E820_RAM */
};

int memmap_sanitize(struct mem_range *r, uint32_t *n, uint32_t max);
int memmap_split(const struct mem_range *ram_map, uint32_t n,
		 uint64_t dom0_mem_bytes, const struct mem_range *hv_hidden,
		 uint32_t n_hidden, struct mem_split *out);
int memmap_dom0_e820(const struct mem_range *firmware_map, uint32_t n,
		     const struct mem_split *split, struct mem_range *out,
		     uint32_t *n_out, uint32_t max);
bool memmap_contains(const struct mem_range *r, uint32_t n, uint64_t base,
		     uint64_t len);

#endif /* KEEL_MEMMAP_H */
