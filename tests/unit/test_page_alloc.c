/*
 * Unit tests for hypervisor/common/page_alloc.c: setup errors, bitmap
 * placement, exhaustion, alignment, contiguity, zeroing, reserve, invalid
 * and double frees, pools above 4 GiB, a 1 TiB pool, and random
 * alloc/free sequences checked against a per-page model.
 */
#include "../../hypervisor/common/page_alloc.c"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define PAGE 0x1000ull

/* Fake physical memory: windows of host memory at physical addresses. */
struct fake_mem {
	uint32_t n;
	struct {
		uint64_t pa;
		uint64_t len;
		unsigned char *host;
	} win[4];
};

static void *fake_p2v(uint64_t pa, void *ctx)
{
	struct fake_mem *m = ctx;

	for (uint32_t i = 0; i < m->n; i++) {
		if (pa >= m->win[i].pa && pa - m->win[i].pa < m->win[i].len)
			return m->win[i].host + (pa - m->win[i].pa);
	}
	return NULL;
}

static void fake_add(struct fake_mem *m, uint64_t pa, uint64_t len)
{
	m->win[m->n].pa = pa;
	m->win[m->n].len = len;
	m->win[m->n].host = malloc(len);
	memset(m->win[m->n].host, 0xA5, len);
	m->n++;
}

static void fake_free(struct fake_mem *m)
{
	for (uint32_t i = 0; i < m->n; i++)
		free(m->win[i].host);
	m->n = 0;
}

static struct mem_range R(uint64_t base, uint64_t len)
{
	return (struct mem_range){ base, len, E820_RAM };
}

static void test_init(void)
{
	struct palloc *pa = malloc(sizeof(*pa));
	struct fake_mem m = { 0 };
	struct mem_range r[PALLOC_MAX_RANGES + 1];

	fake_add(&m, 0, 16 * MIB);
	/* Page 0 excluded, bitmap (4096 bits -> 1 page) at page 1. */
	r[0] = R(0, 16 * MIB);
	CHECK_EQ_INT(palloc_init(pa, r, 1, fake_p2v, &m), 0);
	CHECK_EQ_U64(pa->bitmap_pa, PAGE);
	CHECK_EQ_U64(palloc_total_pages(pa), 4096 - 2);
	CHECK_EQ_U64(palloc_free_pages(pa), 4096 - 2);
	CHECK_EQ_U64(pa->ranges[0].base_pfn, 2);
	/* Unaligned ranges shrink inward. */
	r[0] = R(0x10800, 0x40000);
	CHECK_EQ_INT(palloc_init(pa, r, 1, fake_p2v, &m), 0);
	CHECK_EQ_U64(pa->bitmap_pa, 0x11000);
	CHECK_EQ_U64(palloc_total_pages(pa), 0x3f - 1);
	/* The bitmap goes to the lowest range large enough. */
	r[0] = R(0x800000, 0x100000);
	r[1] = R(0x10000, 0x1000);
	r[2] = R(0x20000, 0x2000);
	CHECK_EQ_INT(palloc_init(pa, r, 3, fake_p2v, &m), 0);
	CHECK_EQ_U64(pa->bitmap_pa, 0x10000);
	CHECK_EQ_U64(pa->nr_ranges, 2); /* the first range is used up */
	CHECK_EQ_U64(palloc_total_pages(pa), 2 + 256);
	/* Errors. */
	CHECK_EQ_INT(palloc_init(pa, r, 0, fake_p2v, &m), -ENOMEM);
	r[0] = R(0, 0x1000); /* only page 0 */
	CHECK_EQ_INT(palloc_init(pa, r, 1, fake_p2v, &m), -ENOMEM);
	r[0] = R(0x1000, 0x1000); /* room for the bitmap only */
	CHECK_EQ_INT(palloc_init(pa, r, 1, fake_p2v, &m), -ENOMEM);
	r[0] = R(0x100000, 0x100000);
	r[1] = R(0x1ff000, 0x2000); /* overlaps */
	CHECK_EQ_INT(palloc_init(pa, r, 2, fake_p2v, &m), -EINVAL);
	r[1] = R(UINT64_MAX - 0xfff, 0x2000); /* wraps */
	CHECK_EQ_INT(palloc_init(pa, r, 2, fake_p2v, &m), -EINVAL);
	r[1] = R(1ull << 52, 0x2000); /* beyond 52-bit physical */
	CHECK_EQ_INT(palloc_init(pa, r, 2, fake_p2v, &m), -EINVAL);
	CHECK_EQ_INT(palloc_init(pa, r, 1, NULL, &m), -EINVAL);
	for (int i = 0; i <= PALLOC_MAX_RANGES; i++)
		r[i] = R((uint64_t)(i + 1) * 0x10000, 0x2000);
	CHECK_EQ_INT(palloc_init(pa, r, PALLOC_MAX_RANGES + 1, fake_p2v, &m),
		     -EINVAL);
	CHECK_EQ_INT(palloc_init(pa, r, PALLOC_MAX_RANGES, fake_p2v, &m), 0);
	CHECK_EQ_U64(palloc_total_pages(pa), 2 * PALLOC_MAX_RANGES - 1);
	/* Bitmap memory that p2v cannot reach. */
	r[0] = R(64 * MIB, MIB);
	CHECK_EQ_INT(palloc_init(pa, r, 1, fake_p2v, &m), -EFAULT);
	fake_free(&m);
	free(pa);
}

static void test_exhaust(void)
{
	struct palloc *pa = malloc(sizeof(*pa));
	struct fake_mem m = { 0 };
	struct mem_range r[2] = { R(0, MIB), R(3 * MIB, 0x5000) };
	static uint64_t got[1024];
	uint64_t total, n = 0, p;

	fake_add(&m, 0, 4 * MIB);
	CHECK_EQ_INT(palloc_init(pa, r, 2, fake_p2v, &m), 0);
	total = palloc_total_pages(pa);
	CHECK_EQ_U64(total, 256 - 2 + 5);
	while ((p = palloc_alloc(pa, 1, 0, 0)) != 0 && n < 1024)
		got[n++] = p;
	CHECK_EQ_U64(n, total);
	CHECK_EQ_U64(palloc_free_pages(pa), 0);
	CHECK_EQ_U64(palloc_alloc(pa, 1, 1, 0), 0);
	bool ok = true;
	for (uint64_t i = 0; i < n; i++) {
		ok &= got[i] % PAGE == 0 && got[i] >= 2 * PAGE;
		ok &= got[i] < MIB || (got[i] >= 3 * MIB &&
				       got[i] < 3 * MIB + 0x5000);
		for (uint64_t j = 0; j < i; j++)
			ok &= got[i] != got[j];
	}
	CHECK(ok);
	/* Free every other page: no two contiguous pages are left. */
	for (uint64_t i = 0; i < n; i++) {
		if (got[i] < MIB && (got[i] / PAGE) % 2 == 0)
			CHECK_EQ_INT(palloc_free(pa, got[i], 1), 0);
	}
	CHECK_EQ_U64(palloc_free_pages(pa), 127);
	CHECK_EQ_U64(palloc_alloc(pa, 2, 0, 0), 0);
	p = palloc_alloc(pa, 1, 0, 0);
	CHECK(p != 0 && (p / PAGE) % 2 == 0);
	/* Double free, freeing a run with an unallocated page. */
	CHECK_EQ_INT(palloc_free(pa, p, 1), 0);
	CHECK_EQ_INT(palloc_free(pa, p, 1), -EINVAL);
	CHECK_EQ_INT(palloc_free(pa, 3 * PAGE, 2), -EINVAL); /* 4 is free */
	CHECK_EQ_U64(palloc_free_pages(pa), 127); /* nothing changed */
	CHECK_EQ_INT(palloc_free(pa, 3 * PAGE, 1), 0);
	/* Outside the pool, the bitmap page, page 0, unaligned, 0 pages. */
	CHECK_EQ_INT(palloc_free(pa, 2 * MIB, 1), -EINVAL);
	CHECK_EQ_INT(palloc_free(pa, PAGE, 1), -EINVAL);
	CHECK_EQ_INT(palloc_free(pa, 0, 1), -EINVAL);
	CHECK_EQ_INT(palloc_free(pa, 5 * PAGE + 8, 1), -EINVAL);
	CHECK_EQ_INT(palloc_free(pa, 5 * PAGE, 0), -EINVAL);
	/* A run crossing the end of a range. */
	CHECK_EQ_INT(palloc_free(pa, MIB - PAGE, 2), -EINVAL);
	CHECK_EQ_INT(palloc_free(pa, 3 * MIB + 0x4000, 2), -EINVAL);
	CHECK_EQ_INT(palloc_free(pa, 3 * MIB + 0x4000, 1), 0);
	/* Bad allocation requests. */
	CHECK_EQ_U64(palloc_alloc(pa, 0, 0, 0), 0);
	CHECK_EQ_U64(palloc_alloc(pa, 1, 3, 0), 0);
	CHECK_EQ_U64(palloc_alloc(pa, UINT64_MAX, 1, 0), 0);
	fake_free(&m);
	free(pa);
}

static void test_align_contig_zero(void)
{
	struct palloc *pa = malloc(sizeof(*pa));
	struct fake_mem m = { 0 };
	struct mem_range r = R(0x3000, 16 * MIB - 0x3000);
	uint64_t a, b, c;

	fake_add(&m, 0, 16 * MIB);
	CHECK_EQ_INT(palloc_init(pa, &r, 1, fake_p2v, &m), 0);
	a = palloc_alloc(pa, 1, 512, 0);
	CHECK_EQ_U64(a % (2 * MIB), 0);
	CHECK(a != 0);
	b = palloc_alloc(pa, 512, 512, PALLOC_ZERO);
	CHECK_EQ_U64(b % (2 * MIB), 0);
	CHECK(b != 0 && b != a);
	bool zero = true;
	for (uint64_t i = 0; i < 2 * MIB; i++)
		zero &= ((unsigned char *)fake_p2v(b, &m))[i] == 0;
	CHECK(zero);
	/* Without PALLOC_ZERO the contents are left alone. */
	c = palloc_alloc(pa, 3, 0, 0);
	CHECK(c != 0);
	CHECK(((unsigned char *)fake_p2v(c, &m))[0] == 0xA5);
	c = palloc_alloc(pa, 16, 16, 0);
	CHECK_EQ_U64(c % (16 * PAGE), 0);
	/* The largest aligned run that can still exist. */
	CHECK_EQ_U64(palloc_alloc(pa, 4096, 1, 0), 0); /* 16 MiB: too big */
	uint64_t big = palloc_alloc(pa, 2048, 2048, 0);
	CHECK_EQ_U64(big, 8 * MIB);
	CHECK_EQ_U64(palloc_alloc(pa, 2048, 2048, 0), 0);
	CHECK_EQ_INT(palloc_free(pa, big, 2048), 0);
	CHECK_EQ_U64(palloc_alloc(pa, 2048, 2048, 0), 8 * MIB);
	/* p2v failing during zeroing: the allocation is not made. */
	uint64_t before = palloc_free_pages(pa);
	uint64_t saved_len = m.win[0].len;
	m.win[0].len = 4 * MIB;
	CHECK_EQ_U64(palloc_alloc(pa, 1, 1024, PALLOC_ZERO), 0);
	CHECK_EQ_U64(palloc_free_pages(pa), before);
	m.win[0].len = saved_len;
	fake_free(&m);
	free(pa);
}

static void test_reserve(void)
{
	struct palloc *pa = malloc(sizeof(*pa));
	struct fake_mem m = { 0 };
	struct mem_range r[2] = { R(MIB, MIB), R(4 * MIB, MIB) };
	uint64_t free0, p;

	fake_add(&m, MIB, MIB);
	CHECK_EQ_INT(palloc_init(pa, r, 2, fake_p2v, &m), 0);
	free0 = palloc_free_pages(pa);
	CHECK_EQ_U64(free0, 511);
	/* Straddles the end of range 0 and the start of range 1; unaligned. */
	CHECK_EQ_INT(palloc_reserve(pa, 2 * MIB - 0x1800, 2 * MIB + 0x2000),
		     0);
	CHECK_EQ_U64(palloc_free_pages(pa), free0 - 2 - 1);
	/* Reserving again changes nothing. */
	CHECK_EQ_INT(palloc_reserve(pa, 2 * MIB - PAGE, PAGE), 0);
	CHECK_EQ_U64(palloc_free_pages(pa), free0 - 3);
	CHECK_EQ_INT(palloc_reserve(pa, 0, 0), 0);
	CHECK_EQ_INT(palloc_reserve(pa, UINT64_MAX, 2), -EINVAL);
	CHECK_EQ_INT(palloc_reserve(pa, 8 * MIB, MIB), 0); /* outside */
	CHECK_EQ_U64(palloc_free_pages(pa), free0 - 3);
	/* Reserved pages are never handed out. */
	bool ok = true;
	while ((p = palloc_alloc(pa, 1, 0, 0)) != 0)
		ok &= p < 2 * MIB - 2 * PAGE ||
		      (p > 4 * MIB && p < 5 * MIB);
	CHECK(ok);
	CHECK_EQ_U64(palloc_free_pages(pa), 0);
	/* And can be released with palloc_free. */
	CHECK_EQ_INT(palloc_free(pa, 2 * MIB - 2 * PAGE, 2), 0);
	CHECK_EQ_INT(palloc_free(pa, 4 * MIB, 1), 0);
	CHECK_EQ_U64(palloc_free_pages(pa), 3);
	/* Reserving allocated pages is harmless. */
	CHECK_EQ_INT(palloc_reserve(pa, 4 * MIB, MIB), 0);
	CHECK_EQ_U64(palloc_free_pages(pa), 2);
	fake_free(&m);
	free(pa);
}

static void test_high_and_huge(void)
{
	struct palloc *pa = malloc(sizeof(*pa));
	struct fake_mem m = { 0 };
	struct mem_range r[2] = { R(8 * GIB, 32 * MIB), R(4 * GIB, 64 * MIB) };
	uint64_t p;

	fake_add(&m, 4 * GIB, 64 * MIB);
	fake_add(&m, 8 * GIB, 32 * MIB);
	CHECK_EQ_INT(palloc_init(pa, r, 2, fake_p2v, &m), 0);
	CHECK_EQ_U64(pa->bitmap_pa, 4 * GIB);
	CHECK_EQ_U64(palloc_total_pages(pa), (96 * MIB) / PAGE - 1);
	p = palloc_alloc(pa, 8192, 1, PALLOC_ZERO); /* 32 MiB contiguous */
	CHECK(p >= 4 * GIB && p + 32 * MIB <= 4 * GIB + 64 * MIB);
	p = palloc_alloc(pa, 8192, 8192, 0);
	CHECK_EQ_U64(p, 8 * GIB);
	fake_free(&m);

	/* 1 TiB above 4 GiB: 2^28 pages, a 32 MiB bitmap. */
	r[0] = R(4 * GIB, 1ull << 40);
	fake_add(&m, 4 * GIB, 40 * MIB);
	CHECK_EQ_INT(palloc_init(pa, r, 1, fake_p2v, &m), 0);
	CHECK_EQ_U64(pa->bitmap_bytes, 32 * MIB);
	CHECK_EQ_U64(palloc_total_pages(pa), (1ull << 28) - 8192);
	p = palloc_alloc(pa, 1, 0, PALLOC_ZERO);
	CHECK_EQ_U64(p, 4 * GIB + 32 * MIB);
	p = palloc_alloc(pa, 1ull << 18, 1ull << 18, 0); /* 1 GiB aligned */
	CHECK_EQ_U64(p, 5 * GIB);
	p = palloc_alloc(pa, 1ull << 27, 1, 0); /* 512 GiB */
	CHECK_EQ_U64(p, 6 * GIB);
	CHECK_EQ_U64(palloc_free_pages(pa),
		     (1ull << 28) - 8192 - 1 - (1ull << 18) - (1ull << 27));
	/* Next-fit continues after the last allocation... */
	p = palloc_alloc(pa, 1, 0, 0);
	CHECK_EQ_U64(p, 518 * GIB);
	/* ...and wraps around to the hole before 5 GiB once the rest is full. */
	CHECK_EQ_INT(palloc_reserve(pa, 518 * GIB, 510 * GIB), 0);
	CHECK_EQ_U64(palloc_alloc(pa, 1ull << 27, 1, 0), 0);
	p = palloc_alloc(pa, 1, 0, 0);
	CHECK_EQ_U64(p, 4 * GIB + 32 * MIB + PAGE);
	CHECK_EQ_INT(palloc_free(pa, 6 * GIB, 1ull << 27), 0);
	CHECK_EQ_INT(palloc_free(pa, 6 * GIB, 1), -EINVAL);
	CHECK_EQ_U64(palloc_free_pages(pa),
		     (1ull << 28) - 8192 - 2 - (1ull << 18) - 510 * (1ull << 18));
	CHECK_EQ_INT(palloc_free(pa, 518 * GIB, 510 * (1ull << 18)), 0);
	CHECK_EQ_INT(palloc_free(pa, 5 * GIB, 1ull << 18), 0);
	CHECK_EQ_INT(palloc_free(pa, 4 * GIB + 32 * MIB, 2), 0);
	CHECK_EQ_U64(palloc_free_pages(pa), palloc_total_pages(pa));
	fake_free(&m);
	free(pa);
}

#define MODEL_PAGES 2048

/* Random sequences against a per-page model. */
static void test_random(void)
{
	struct palloc *pa = malloc(sizeof(*pa));
	struct fake_mem m = { 0 };
	/* Four ranges with holes; pages [0, MODEL_PAGES) of fake memory. */
	struct mem_range r[4] = { R(0, 300 * PAGE), R(310 * PAGE, 700 * PAGE),
				  R(1024 * PAGE, 1000 * PAGE),
				  R(2030 * PAGE, 18 * PAGE) };
	static uint8_t used[MODEL_PAGES];  /* 1 = allocated by the test */
	static uint8_t valid[MODEL_PAGES]; /* managed by the allocator */
	static uint32_t range_of_page[MODEL_PAGES];
	struct { uint64_t pa, n; } live[512];
	uint32_t nlive = 0;

	fake_add(&m, 0, MODEL_PAGES * PAGE);
	CHECK_EQ_INT(palloc_init(pa, r, 4, fake_p2v, &m), 0);
	memset(used, 0, sizeof(used));
	for (uint32_t i = 0; i < pa->nr_ranges; i++) {
		for (uint64_t p = 0; p < pa->ranges[i].npages; p++) {
			valid[pa->ranges[i].base_pfn + p] = 1;
			range_of_page[pa->ranges[i].base_pfn + p] = i;
		}
	}
	for (int iter = 0; iter < 20000; iter++) {
		if (nlive < 512 && harness_rand_below(5) < 3) {
			uint64_t n = harness_rand_below(4) ? 1 +
				     harness_rand_below(8)
				   : 1 + harness_rand_below(200);
			uint64_t align = 1ull << harness_rand_below(7);
			uint64_t p = palloc_alloc(pa, n, align, 0);
			bool ok = true;

			if (p == 0)
				continue;
			p /= PAGE;
			ok &= p % align == 0 && p + n <= MODEL_PAGES;
			for (uint64_t k = 0; ok && k < n; k++) {
				ok &= valid[p + k] && !used[p + k] &&
				      range_of_page[p + k] == range_of_page[p];
				used[p + k] = 1;
			}
			CHECK_MSG(ok, "alloc %lu pages align %lu gave page %lu",
				  (unsigned long)n, (unsigned long)align,
				  (unsigned long)p);
			live[nlive].pa = p * PAGE;
			live[nlive].n = n;
			nlive++;
		} else if (nlive > 0) {
			uint32_t k = (uint32_t)harness_rand_below(nlive);

			CHECK_EQ_INT(palloc_free(pa, live[k].pa, live[k].n), 0);
			for (uint64_t j = 0; j < live[k].n; j++)
				used[live[k].pa / PAGE + j] = 0;
			live[k] = live[--nlive];
		}
		if (iter % 500 == 0) {
			uint64_t nfree = 0;

			for (uint32_t i = 0; i < MODEL_PAGES; i++)
				nfree += valid[i] && !used[i];
			CHECK_EQ_U64(palloc_free_pages(pa), nfree);
		}
	}
	/* A fully free model page range must be allocatable in one go. */
	while (nlive > 0) {
		nlive--;
		CHECK_EQ_INT(palloc_free(pa, live[nlive].pa, live[nlive].n), 0);
	}
	CHECK_EQ_U64(palloc_free_pages(pa), palloc_total_pages(pa));
	CHECK(palloc_alloc(pa, 1000, 1, 0) == 1024 * PAGE);
	fake_free(&m);
	free(pa);
}

int main(void)
{
	test_init();
	test_exhaust();
	test_align_contig_zero();
	test_reserve();
	test_high_and_huge();
	test_random();
	return harness_done("test_page_alloc");
}
