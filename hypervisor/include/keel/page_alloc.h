/*
 * The hypervisor's physical page allocator: one bit per 4 KiB page over
 * the pool ranges (see memmap_split), the bitmap itself carved from the
 * start of the pool. It hands out physically contiguous, optionally
 * aligned runs of pages with a next-fit search. It does no locking; the
 * caller serializes calls with a spinlock.
 */
#ifndef KEEL_PAGE_ALLOC_H
#define KEEL_PAGE_ALLOC_H

#include <stdint.h>

#include <keel/memmap.h>

#define PALLOC_PAGE_SIZE_BYTES 0x1000ull
#define PALLOC_PAGE_SHIFT 12
#define PALLOC_MAX_RANGES 64

/* palloc_alloc flags */
#define PALLOC_ZERO (1u << 0) /* fill the pages with zeros */

/* One contiguous pool range and where its bits start in the bitmap. */
struct palloc_range {
	uint64_t base_pfn;
	uint64_t npages;
	uint64_t bit_base; /* multiple of 64 */
};

struct palloc {
	struct palloc_range ranges[PALLOC_MAX_RANGES];
	uint32_t nr_ranges;
	uint64_t *bitmap;      /* 1 = in use or not allocatable */
	uint64_t bitmap_pa;    /* physical address of the bitmap */
	uint64_t bitmap_bytes; /* page-rounded */
	uint64_t nr_bits;      /* bits in use by the ranges, padding included */
	uint64_t total_pages;  /* allocatable pages (bitmap excluded) */
	uint64_t free_pages;
	uint64_t next_bit;     /* next-fit cursor */
	void *(*p2v)(uint64_t pa, void *ctx);
	void *ctx;
};

int palloc_init(struct palloc *pa, const struct mem_range *ranges, uint32_t n,
		void *(*p2v)(uint64_t pa, void *ctx), void *ctx);
uint64_t palloc_alloc(struct palloc *pa, uint64_t npages, uint64_t align_pages,
		      uint32_t flags);
int palloc_free(struct palloc *pa, uint64_t phys, uint64_t npages);
int palloc_reserve(struct palloc *pa, uint64_t phys, uint64_t len);
uint64_t palloc_free_pages(const struct palloc *pa);
uint64_t palloc_total_pages(const struct palloc *pa);

#endif /* KEEL_PAGE_ALLOC_H */
