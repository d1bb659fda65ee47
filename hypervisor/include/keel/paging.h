/*
 * Builder for x86-64 4-level page tables (PML4 -> PDPT -> PD -> PT), used
 * for the hypervisor's own address space and for AMD nested page tables,
 * which share the format. Tables are allocated and mapped through
 * caller-supplied callbacks so the code is independent of how the
 * hypervisor reaches physical memory. TLB invalidation is the caller's job.
 */
#ifndef KEEL_PAGING_H
#define KEEL_PAGING_H

#include <stdint.h>

/* Page table entry bits */
#define PT_PRESENT (1ull << 0)
#define PT_RW (1ull << 1)
#define PT_USER (1ull << 2)
#define PT_PWT (1ull << 3)
#define PT_PCD (1ull << 4)
#define PT_ACCESSED (1ull << 5)
#define PT_DIRTY (1ull << 6)
#define PT_PS (1ull << 7) /* large page (in PDPT and PD entries) */
#define PT_GLOBAL (1ull << 8)
#define PT_NX (1ull << 63)
#define PT_ADDR_MASK 0x000FFFFFFFFFF000ull /* bits 51:12 */
/* Flags a caller may pass to pt_map (PS and address bits are managed). */
#define PT_FLAGS_MASK (0xFFF0000000000FFFull & ~PT_PS)

#define PT_PAGE_SHIFT_4K 12
#define PT_PAGE_SHIFT_2M 21
#define PT_PAGE_SHIFT_1G 30
#define PT_PAGE_SIZE_4K (1ull << PT_PAGE_SHIFT_4K)
#define PT_PAGE_SIZE_2M (1ull << PT_PAGE_SHIFT_2M)
#define PT_PAGE_SIZE_1G (1ull << PT_PAGE_SHIFT_1G)
#define PT_ENTRIES 512
#define PT_MAX_PHYS_BYTES (1ull << 52)

/*
 * One set of page tables. root_pa is 0 until the first pt_map allocates
 * the top-level table (or the caller can set an existing one).
 */
struct pt_ctx {
	uint64_t root_pa;
	void *(*p2v)(uint64_t pa, void *ctx);
	uint64_t (*alloc_table)(void *ctx); /* zeroed 4 KiB page, 0 on failure */
	void (*free_table)(uint64_t pa, void *ctx);
	void *ctx;
};

int pt_map(struct pt_ctx *pt, uint64_t va, uint64_t pa, uint64_t size,
	   uint64_t flags, uint32_t max_page_shift);
int pt_unmap(struct pt_ctx *pt, uint64_t va, uint64_t size);
int pt_lookup(const struct pt_ctx *pt, uint64_t va, uint64_t *pa,
	      uint64_t *flags, uint32_t *page_shift);
void pt_destroy(struct pt_ctx *pt);

#endif /* KEEL_PAGING_H */
