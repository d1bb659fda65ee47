/*
 * The hypervisor's memory: one page allocator over the pool (all RAM that
 * is neither dom0's nor the hypervisor image), shared by all CPUs under a
 * lock; identity-mapped physical access; page-table contexts whose tables
 * come from the pool; and the accounting `keel info` reports.
 */
#ifndef KEEL_MM_H
#define KEEL_MM_H

#include <stdint.h>
#include <stdbool.h>
#include <keel/memmap.h>
#include <keel/paging.h>

/* Identity mapping: a physical address is a valid hypervisor pointer. */
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

static inline uint64_t virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

int mm_init(const struct mem_range *pool, uint32_t n);
uint64_t mm_alloc_pages(uint64_t npages, uint64_t align_pages);
void mm_free_pages(uint64_t pa, uint64_t npages);
uint64_t mm_alloc_guest(uint64_t npages, uint64_t align_pages);
void mm_free_guest(uint64_t pa, uint64_t npages);

/* Guest RAM chunks shared copy-on-write between domains (common/cow.c):
 * the pool counts the domains that map each 2 MiB chunk, and the last
 * one to let go frees it. */
#define MM_CHUNK_BYTES (2ull << 20)
#define MM_CHUNK_MAX_SHARERS 255u
int mm_chunk_share(uint64_t pa);
bool mm_chunk_shared(uint64_t pa);
bool mm_chunk_put(uint64_t pa);

/* Single 4 KiB guest pages (cow.c's copies), packed into 2 MiB slabs so
 * that they leave the pool's 2 MiB runs whole; not zeroed. */
uint64_t mm_alloc_guest_page(void);
void mm_free_guest_page(uint64_t pa);

int mm_reserve(uint64_t pa, uint64_t len);
uint64_t mm_free_bytes(void);
uint64_t mm_total_bytes(void);
uint64_t mm_hv_bytes(void);
void mm_pt_init(struct pt_ctx *pt);

#endif
