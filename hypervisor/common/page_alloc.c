/*
 * Bitmap page allocator for the hypervisor's pool of physical memory. Each
 * pool range owns a 64-bit-aligned stretch of one bitmap (bit set = page in
 * use); the bitmap lives in the first pool pages large enough to hold it.
 * Allocation is a next-fit search for a run of free pages, which skips
 * full 64-page words at once. Page 0 is never managed, so 0 can mean
 * failure. No locking here: callers hold a lock.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/compiler.h>
#include <keel/errno.h>
#include <keel/memmap.h>
#include <keel/page_alloc.h>
#include <keel/string.h>

#define PALLOC_WORD_BITS 64ull
#define PALLOC_MAX_PFN (1ull << (52 - PALLOC_PAGE_SHIFT)) /* 52-bit phys */

static uint64_t palloc_round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) / align * align;
}

/* Mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64. */
static uint64_t palloc_mask(uint64_t lo, uint64_t hi)
{
	uint64_t upper = hi == PALLOC_WORD_BITS ? ~0ull : (1ull << hi) - 1;

	return upper & ~((1ull << lo) - 1);
}

/*
 * Sets (set = true) or clears bits [start, start + count); returns how many
 * bits changed.
 */
static uint64_t palloc_bits_update(uint64_t *bm, uint64_t start,
				   uint64_t count, bool set)
{
	uint64_t changed = 0, bit = start, end = start + count;

	while (bit < end) {
		uint64_t w = bit / PALLOC_WORD_BITS, lo = bit % PALLOC_WORD_BITS;
		uint64_t hi = end - bit + lo < PALLOC_WORD_BITS
				      ? end - bit + lo : PALLOC_WORD_BITS;
		uint64_t mask = palloc_mask(lo, hi);

		if (set) {
			changed += bits_set64(mask & ~bm[w]);
			bm[w] |= mask;
		} else {
			changed += bits_set64(mask & bm[w]);
			bm[w] &= ~mask;
		}
		bit += hi - lo;
	}
	return changed;
}

/*
 * First bit in [start, end) whose value is want (true = set), scanning a
 * word at a time. Returns end if there is none.
 */
static uint64_t palloc_find(const uint64_t *bm, uint64_t start, uint64_t end,
			    bool want)
{
	uint64_t bit = start;

	while (bit < end) {
		uint64_t w = bit / PALLOC_WORD_BITS;
		uint64_t word = want ? bm[w] : ~bm[w];

		word &= ~0ull << (bit % PALLOC_WORD_BITS);
		if (word != 0) {
			uint64_t found = w * PALLOC_WORD_BITS +
					 (uint64_t)__builtin_ctzll(word);

			return found < end ? found : end;
		}
		bit = (w + 1) * PALLOC_WORD_BITS;
	}
	return end;
}

/* Index of the range holding pfn, or nr_ranges. */
static uint32_t palloc_range_of(const struct palloc *pa, uint64_t pfn)
{
	for (uint32_t i = 0; i < pa->nr_ranges; i++) {
		const struct palloc_range *r = &pa->ranges[i];

		if (pfn >= r->base_pfn && pfn - r->base_pfn < r->npages)
			return i;
	}
	return pa->nr_ranges;
}

/* Copies the ranges as whole pages (minus page 0), sorted by address. */
static int palloc_load_ranges(struct palloc *pa, const struct mem_range *ranges,
			      uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t first = palloc_round_up(ranges[i].base,
						 PALLOC_PAGE_SIZE_BYTES);
		uint64_t last, j;

		if (ranges[i].len > UINT64_MAX - ranges[i].base)
			return -EINVAL;
		last = (ranges[i].base + ranges[i].len) >> PALLOC_PAGE_SHIFT;
		first >>= PALLOC_PAGE_SHIFT;
		if (first == 0)
			first = 1;
		if (last > PALLOC_MAX_PFN)
			return -EINVAL;
		if (last <= first)
			continue;
		for (j = pa->nr_ranges; j > 0 &&
		     pa->ranges[j - 1].base_pfn > first; j--)
			pa->ranges[j] = pa->ranges[j - 1];
		pa->ranges[j] = (struct palloc_range){ first, last - first, 0 };
		pa->nr_ranges++;
	}
	for (uint32_t i = 1; i < pa->nr_ranges; i++) {
		const struct palloc_range *p = &pa->ranges[i - 1];

		if (p->base_pfn + p->npages > pa->ranges[i].base_pfn)
			return -EINVAL;
	}
	return pa->nr_ranges ? 0 : -ENOMEM;
}

/* Assigns bit positions; returns the number of bits needed. */
static uint64_t palloc_layout(struct palloc *pa)
{
	uint64_t bits = 0;

	for (uint32_t i = 0; i < pa->nr_ranges; i++) {
		pa->ranges[i].bit_base = bits;
		bits += palloc_round_up(pa->ranges[i].npages, PALLOC_WORD_BITS);
	}
	return bits;
}

/* Takes the bitmap's pages from the start of the first range they fit. */
static int palloc_carve_bitmap(struct palloc *pa, uint64_t pages)
{
	for (uint32_t i = 0; i < pa->nr_ranges; i++) {
		struct palloc_range *r = &pa->ranges[i];

		if (r->npages < pages)
			continue;
		pa->bitmap_pa = r->base_pfn << PALLOC_PAGE_SHIFT;
		r->base_pfn += pages;
		r->npages -= pages;
		if (r->npages == 0) {
			for (uint32_t j = i; j + 1 < pa->nr_ranges; j++)
				pa->ranges[j] = pa->ranges[j + 1];
			pa->nr_ranges--;
		}
		return pa->nr_ranges ? 0 : -ENOMEM;
	}
	return -ENOMEM;
}

/*
 * Sets up the allocator over the given pool ranges.
 * pa: allocator state to fill; ranges/n: pool ranges (any order, no
 * overlaps, at most PALLOC_MAX_RANGES; rounded inward to pages, page 0
 * excluded, type ignored); p2v(pa, ctx): pointer to physical address pa,
 * must map the bitmap contiguously and every page handed out with
 * PALLOC_ZERO; ctx: passed to p2v.
 * The bitmap takes the first pages of the lowest range that can hold it.
 * Returns 0, -EINVAL for overlapping or invalid ranges, -ENOMEM if there
 * are no pages or no room for the bitmap, -EFAULT if p2v fails.
 */
int palloc_init(struct palloc *pa, const struct mem_range *ranges, uint32_t n,
		void *(*p2v)(uint64_t pa, void *ctx), void *ctx)
{
	uint64_t bits, pages;
	int err;

	memset(pa, 0, sizeof(*pa));
	if (n > PALLOC_MAX_RANGES || p2v == NULL)
		return -EINVAL;
	pa->p2v = p2v;
	pa->ctx = ctx;
	err = palloc_load_ranges(pa, ranges, n);
	if (err)
		return err;
	bits = palloc_layout(pa);
	pages = palloc_round_up(bits / 8, PALLOC_PAGE_SIZE_BYTES) >>
		PALLOC_PAGE_SHIFT;
	err = palloc_carve_bitmap(pa, pages);
	if (err)
		return err;
	pa->bitmap_bytes = pages << PALLOC_PAGE_SHIFT;
	pa->bitmap = p2v(pa->bitmap_pa, ctx);
	if (pa->bitmap == NULL)
		return -EFAULT;
	pa->nr_bits = palloc_layout(pa);
	memset(pa->bitmap, 0, pa->nr_bits / 8);
	for (uint32_t i = 0; i < pa->nr_ranges; i++) {
		const struct palloc_range *r = &pa->ranges[i];

		palloc_bits_update(pa->bitmap, r->bit_base + r->npages,
				   palloc_round_up(r->npages, PALLOC_WORD_BITS) -
					   r->npages, true);
		pa->total_pages += r->npages;
	}
	pa->free_pages = pa->total_pages;
	return 0;
}

/*
 * Looks for npages free pages in range r, starting at a page index >= from
 * whose pfn is a multiple of align. Returns the page index or UINT64_MAX.
 */
static uint64_t palloc_search(const struct palloc *pa,
			      const struct palloc_range *r, uint64_t from,
			      uint64_t npages, uint64_t align)
{
	uint64_t idx = palloc_round_up(r->base_pfn + from, align) - r->base_pfn;

	while (idx < r->npages && r->npages - idx >= npages) {
		uint64_t bit = r->bit_base + idx;
		uint64_t busy = palloc_find(pa->bitmap, bit, bit + npages, true);
		uint64_t next_free;

		if (busy == bit + npages)
			return idx;
		next_free = palloc_find(pa->bitmap, busy,
					r->bit_base + r->npages, false);
		idx = palloc_round_up(r->base_pfn + next_free - r->bit_base,
				      align) - r->base_pfn;
	}
	return UINT64_MAX;
}

/* Next-fit over all ranges, starting at the cursor and wrapping once. */
static bool palloc_find_run(const struct palloc *pa, uint64_t npages,
			    uint64_t align, uint32_t *ri, uint64_t *idx)
{
	uint32_t r0 = 0;
	uint64_t from0 = 0;

	for (uint32_t i = 0; i < pa->nr_ranges; i++) {
		const struct palloc_range *r = &pa->ranges[i];

		if (pa->next_bit >= r->bit_base &&
		    pa->next_bit < r->bit_base + r->npages) {
			r0 = i;
			from0 = pa->next_bit - r->bit_base;
		}
	}
	for (uint32_t k = 0; k <= pa->nr_ranges; k++) {
		uint32_t i = (r0 + k) % pa->nr_ranges;
		uint64_t from = k == 0 ? from0 : 0;

		*idx = palloc_search(pa, &pa->ranges[i], from, npages, align);
		if (*idx != UINT64_MAX) {
			*ri = i;
			return true;
		}
	}
	return false;
}

/* Zeroes npages pages from phys through p2v; false if p2v fails. */
static bool palloc_zero(const struct palloc *pa, uint64_t phys,
			uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++) {
		void *p = pa->p2v(phys + (i << PALLOC_PAGE_SHIFT), pa->ctx);

		if (p == NULL)
			return false;
		memset(p, 0, PALLOC_PAGE_SIZE_BYTES);
	}
	return true;
}

/*
 * Allocates npages physically contiguous pages.
 * pa: the allocator; npages: >= 1; align_pages: the first page's physical
 * address is a multiple of align_pages pages (0 or 1: any; must be a power
 * of two); flags: PALLOC_ZERO to zero the pages.
 * Returns the physical address of the first page, or 0 if there is no
 * such run or the arguments are invalid.
 */
uint64_t palloc_alloc(struct palloc *pa, uint64_t npages, uint64_t align_pages,
		      uint32_t flags)
{
	uint64_t idx, bit, phys;
	uint32_t ri;

	if (align_pages == 0)
		align_pages = 1;
	if (npages == 0 || npages > pa->free_pages ||
	    (align_pages & (align_pages - 1)) != 0 ||
	    align_pages > PALLOC_MAX_PFN)
		return 0;
	if (!palloc_find_run(pa, npages, align_pages, &ri, &idx))
		return 0;
	bit = pa->ranges[ri].bit_base + idx;
	phys = (pa->ranges[ri].base_pfn + idx) << PALLOC_PAGE_SHIFT;
	if ((flags & PALLOC_ZERO) && !palloc_zero(pa, phys, npages))
		return 0;
	palloc_bits_update(pa->bitmap, bit, npages, true);
	pa->free_pages -= npages;
	pa->next_bit = bit + npages;
	return phys;
}

/*
 * Returns npages pages starting at phys to the pool.
 * Returns 0, or -EINVAL (and changes nothing) if phys is not page-aligned,
 * npages is 0, the pages are not all inside one pool range, or any of
 * them is not allocated (double free): the caller should panic.
 */
int palloc_free(struct palloc *pa, uint64_t phys, uint64_t npages)
{
	uint64_t pfn = phys >> PALLOC_PAGE_SHIFT, bit;
	uint32_t ri = palloc_range_of(pa, pfn);
	const struct palloc_range *r;

	if ((phys & (PALLOC_PAGE_SIZE_BYTES - 1)) != 0 || npages == 0 ||
	    ri == pa->nr_ranges)
		return -EINVAL;
	r = &pa->ranges[ri];
	if (npages > r->npages - (pfn - r->base_pfn))
		return -EINVAL;
	bit = r->bit_base + (pfn - r->base_pfn);
	if (palloc_find(pa->bitmap, bit, bit + npages, false) != bit + npages)
		return -EINVAL;
	palloc_bits_update(pa->bitmap, bit, npages, false);
	pa->free_pages += npages;
	return 0;
}

/*
 * Marks every pool page overlapping [phys, phys + len) as in use (pages
 * already in use and parts outside the pool are ignored), e.g. for boot
 * modules still lying in the pool. Reserved pages may later be given back
 * with palloc_free.
 * Returns 0, or -EINVAL if phys + len overflows.
 */
int palloc_reserve(struct palloc *pa, uint64_t phys, uint64_t len)
{
	uint64_t first, last;

	if (len == 0)
		return 0;
	if (len > UINT64_MAX - phys)
		return -EINVAL;
	first = phys >> PALLOC_PAGE_SHIFT;
	last = ((phys + len - 1) >> PALLOC_PAGE_SHIFT) + 1;
	for (uint32_t i = 0; i < pa->nr_ranges; i++) {
		const struct palloc_range *r = &pa->ranges[i];
		uint64_t lo = first > r->base_pfn ? first : r->base_pfn;
		uint64_t hi = last < r->base_pfn + r->npages
				      ? last : r->base_pfn + r->npages;

		if (lo < hi)
			pa->free_pages -= palloc_bits_update(
				pa->bitmap, r->bit_base + (lo - r->base_pfn),
				hi - lo, true);
	}
	return 0;
}

/* Returns the number of free pages. */
uint64_t palloc_free_pages(const struct palloc *pa)
{
	return pa->free_pages;
}

/* Returns the number of pages managed (pool pages minus the bitmap). */
uint64_t palloc_total_pages(const struct palloc *pa)
{
	return pa->total_pages;
}
