/*
 * Unit tests for hypervisor/common/paging.c: page sizes chosen only when
 * aligned, raw entry formats, splitting large pages on partial remap and
 * unmap, freeing of replaced tables, argument errors, allocation failure,
 * high-half addresses, and long random map/unmap sequences compared with
 * a per-page model; every table must be freed by pt_destroy.
 */
#include "../../hypervisor/common/paging.c"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PAGE 0x1000ull
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define ARENA_PAGES 4096
#define ARENA_PA 0x7000000000ull /* tables' fake physical addresses */

/* Table memory for the tests, with allocation accounting. */
struct arena {
	unsigned char *mem;
	uint8_t in_use[ARENA_PAGES];
	uint32_t next;
	uint64_t allocated, freed, limit; /* limit: max live tables */
	bool bad_free;
};

static struct arena arena;

static void *arena_p2v(uint64_t pa, void *ctx)
{
	struct arena *a = ctx;

	if (pa < ARENA_PA || pa >= ARENA_PA + ARENA_PAGES * PAGE) {
		printf("p2v of non-table address %#llx\n",
		       (unsigned long long)pa);
		abort();
	}
	return a->mem + (pa - ARENA_PA);
}

static uint64_t arena_alloc(void *ctx)
{
	struct arena *a = ctx;

	if (a->allocated - a->freed >= a->limit)
		return 0;
	for (uint32_t i = 0; i < ARENA_PAGES; i++) {
		uint32_t k = (a->next + i) % ARENA_PAGES;

		if (!a->in_use[k]) {
			a->in_use[k] = 1;
			a->next = k + 1;
			a->allocated++;
			memset(a->mem + k * PAGE, 0, PAGE);
			return ARENA_PA + k * PAGE;
		}
	}
	return 0;
}

static void arena_free(uint64_t pa, void *ctx)
{
	struct arena *a = ctx;
	uint64_t k = (pa - ARENA_PA) / PAGE;

	if (pa < ARENA_PA || k >= ARENA_PAGES || !a->in_use[k] ||
	    pa % PAGE != 0) {
		a->bad_free = true;
		return;
	}
	a->in_use[k] = 0;
	a->freed++;
	memset(a->mem + k * PAGE, 0xCC, PAGE); /* catch use after free */
}

static struct pt_ctx new_ctx(void)
{
	memset(arena.in_use, 0, sizeof(arena.in_use));
	arena.allocated = arena.freed = 0;
	arena.limit = ARENA_PAGES;
	arena.bad_free = false;
	return (struct pt_ctx){ 0, arena_p2v, arena_alloc, arena_free, &arena };
}

static uint64_t live_tables(void)
{
	return arena.allocated - arena.freed;
}

static void check_destroy(struct pt_ctx *pt)
{
	pt_destroy(pt);
	CHECK_EQ_U64(pt->root_pa, 0);
	CHECK_EQ_U64(live_tables(), 0);
	CHECK(!arena.bad_free);
}

/* Raw entry at level for va (must exist). */
static uint64_t raw_entry(const struct pt_ctx *pt, uint64_t va, uint32_t lvl)
{
	uint64_t *t = arena_p2v(pt->root_pa, &arena);

	for (uint32_t l = 4; l > lvl; l--)
		t = arena_p2v(t[pt_index(va, l)] & PT_ADDR_MASK, &arena);
	return t[pt_index(va, lvl)];
}

static void expect(const struct pt_ctx *pt, uint64_t va, uint64_t want_pa,
		   uint64_t want_flags, uint32_t want_shift, int line)
{
	uint64_t pa = 0, flags = 0;
	uint32_t shift = 0;
	int err = pt_lookup(pt, va, &pa, &flags, &shift);

	CHECK_MSG(err == 0 && pa == want_pa && flags == want_flags &&
			  shift == want_shift,
		  "line %d va %#llx: err %d pa %#llx flags %#llx shift %u; "
		  "want pa %#llx flags %#llx shift %u", line,
		  (unsigned long long)va, err, (unsigned long long)pa,
		  (unsigned long long)flags, shift,
		  (unsigned long long)want_pa, (unsigned long long)want_flags,
		  want_shift);
}

#define EXPECT(pt, va, pa, flags, shift) \
	expect(pt, va, pa, flags, shift, __LINE__)
#define RW (PT_PRESENT | PT_RW)

static void test_page_sizes(void)
{
	struct pt_ctx pt = new_ctx();

	/* 1 GiB page when everything is 1 GiB-aligned and allowed. */
	CHECK_EQ_INT(pt_map(&pt, GIB, 3 * GIB, GIB, PT_RW, 30), 0);
	EXPECT(&pt, GIB, 3 * GIB, RW, 30);
	EXPECT(&pt, GIB + 0x12345, 3 * GIB + 0x12345, RW, 30);
	CHECK_EQ_U64(live_tables(), 2); /* PML4 + PDPT */
	CHECK_EQ_U64(raw_entry(&pt, GIB, 3), 3 * GIB | RW | PT_PS);
	CHECK_EQ_U64(raw_entry(&pt, GIB, 4) & ~PT_ADDR_MASK,
		     PT_PRESENT | PT_RW | PT_USER);
	check_destroy(&pt);

	/* max_page_shift limits the page size. */
	pt = new_ctx();
	CHECK_EQ_INT(pt_map(&pt, GIB, 3 * GIB, GIB, PT_RW, 21), 0);
	EXPECT(&pt, GIB + GIB - 1, 4 * GIB - 1, RW, 21);
	CHECK_EQ_U64(live_tables(), 3);
	CHECK_EQ_U64(raw_entry(&pt, GIB + 4 * MIB, 2),
		     (3 * GIB + 4 * MIB) | RW | PT_PS);
	CHECK_EQ_INT(pt_map(&pt, 0, 0, 4 * MIB, PT_RW, 12), 0);
	EXPECT(&pt, 2 * MIB, 2 * MIB, RW, 12);
	CHECK_EQ_U64(raw_entry(&pt, 2 * MIB + PAGE, 1), (2 * MIB + PAGE) | RW);
	check_destroy(&pt);

	/* Misaligned pa (va aligned) forces 4 KiB pages; so does va. */
	pt = new_ctx();
	CHECK_EQ_INT(pt_map(&pt, 2 * MIB, 2 * MIB + PAGE, 2 * MIB, 0, 30), 0);
	EXPECT(&pt, 2 * MIB, 2 * MIB + PAGE, PT_PRESENT, 12);
	EXPECT(&pt, 4 * MIB - PAGE, 4 * MIB, PT_PRESENT, 12);
	CHECK_EQ_INT(pt_map(&pt, GIB + PAGE, 2 * GIB + PAGE, GIB, 0, 30), 0);
	EXPECT(&pt, GIB + PAGE, 2 * GIB + PAGE, PT_PRESENT, 12);
	/* va - pa is 2 MiB-aligned: 2 MiB pages once both are aligned. */
	EXPECT(&pt, GIB + 2 * MIB - PAGE, 2 * GIB + 2 * MIB - PAGE, PT_PRESENT,
	       12);
	EXPECT(&pt, GIB + 2 * MIB, 2 * GIB + 2 * MIB, PT_PRESENT, 21);
	EXPECT(&pt, 2 * GIB - PAGE, 3 * GIB - PAGE, PT_PRESENT, 21);
	EXPECT(&pt, 2 * GIB, 3 * GIB, PT_PRESENT, 12);
	check_destroy(&pt);

	/* Mixed: 4K head, 2M body, 1G middle, 2M and 4K tail. */
	pt = new_ctx();
	uint64_t va = GIB - 2 * MIB - PAGE, size = GIB + 4 * MIB + 2 * PAGE;
	CHECK_EQ_INT(pt_map(&pt, va, va + 8 * GIB, size,
			    PT_RW | PT_NX | PT_USER, 30), 0);
	uint64_t f = RW | PT_NX | PT_USER;
	EXPECT(&pt, va, va + 8 * GIB, f, 12);
	EXPECT(&pt, GIB - 2 * MIB, 9 * GIB - 2 * MIB, f, 21);
	EXPECT(&pt, GIB, 9 * GIB, f, 30);
	EXPECT(&pt, 2 * GIB, 10 * GIB, f, 21);
	EXPECT(&pt, 2 * GIB + 2 * MIB, 10 * GIB + 2 * MIB, f, 12);
	CHECK_EQ_INT(pt_lookup(&pt, 2 * GIB + 2 * MIB + PAGE, NULL, NULL,
			       NULL), -ENOENT);
	CHECK_EQ_INT(pt_lookup(&pt, va - PAGE, NULL, NULL, NULL), -ENOENT);
	check_destroy(&pt);
}

static void test_split_and_replace(void)
{
	struct pt_ctx pt = new_ctx();
	uint64_t f = RW | PT_USER | PT_NX;

	/* A 4K page inside a 1G page: 1G -> 2M pages -> 4K pages. */
	CHECK_EQ_INT(pt_map(&pt, 0, 4 * GIB, GIB, PT_RW | PT_USER | PT_NX, 30),
		     0);
	CHECK_EQ_INT(pt_map(&pt, 3 * MIB, 0x55555000, PAGE, PT_RW, 30), 0);
	EXPECT(&pt, 3 * MIB, 0x55555000, RW, 12);
	EXPECT(&pt, 3 * MIB - PAGE, 4 * GIB + 3 * MIB - PAGE, f, 12);
	EXPECT(&pt, 3 * MIB + PAGE, 4 * GIB + 3 * MIB + PAGE, f, 12);
	EXPECT(&pt, 0, 4 * GIB, f, 21);
	EXPECT(&pt, 4 * MIB, 4 * GIB + 4 * MIB, f, 21);
	EXPECT(&pt, GIB - 1, 5 * GIB - 1, f, 21);
	CHECK_EQ_U64(live_tables(), 4);
	/* Other flags of the split large pages are preserved (PWT/PCD). */
	CHECK_EQ_INT(pt_map(&pt, GIB, GIB, GIB, PT_PCD | PT_PWT, 30), 0);
	CHECK_EQ_INT(pt_map(&pt, GIB + 6 * MIB, 0, 2 * MIB, 0, 21), 0);
	EXPECT(&pt, GIB + 4 * MIB, GIB + 4 * MIB, PT_PRESENT | PT_PCD | PT_PWT,
	       21);
	EXPECT(&pt, GIB + 6 * MIB, 0, PT_PRESENT, 21);

	/* A large page over existing tables replaces and frees them. */
	uint64_t before = live_tables();
	CHECK_EQ_INT(pt_map(&pt, 2 * MIB, 2 * MIB, 2 * MIB, PT_RW, 21), 0);
	EXPECT(&pt, 3 * MIB, 3 * MIB, RW, 21);
	CHECK_EQ_U64(live_tables(), before - 1);
	CHECK_EQ_INT(pt_map(&pt, 0, 0, GIB, PT_RW, 30), 0);
	CHECK_EQ_U64(live_tables(), before - 2);
	EXPECT(&pt, 3 * MIB, 3 * MIB, RW, 30);
	CHECK(!arena.bad_free);

	/* Unmapping part of a large page splits it; the rest stays. */
	CHECK_EQ_INT(pt_unmap(&pt, 5 * MIB, PAGE), 0);
	CHECK_EQ_INT(pt_lookup(&pt, 5 * MIB, NULL, NULL, NULL), -ENOENT);
	EXPECT(&pt, 5 * MIB + PAGE, 5 * MIB + PAGE, RW, 12);
	EXPECT(&pt, 5 * MIB - PAGE, 5 * MIB - PAGE, RW, 12);
	EXPECT(&pt, 6 * MIB, 6 * MIB, RW, 21);
	EXPECT(&pt, GIB - PAGE, GIB - PAGE, RW, 21);
	/* Unmapping an aligned 1 GiB frees the tables under it. */
	CHECK_EQ_INT(pt_unmap(&pt, 0, GIB), 0);
	CHECK_EQ_INT(pt_lookup(&pt, 6 * MIB, NULL, NULL, NULL), -ENOENT);
	CHECK_EQ_U64(live_tables(), 2 + 1); /* PML4, PDPT, PD of 2nd GiB */
	/* Unmapping holes is fine, also across unmapped PML4 slots. */
	CHECK_EQ_INT(pt_unmap(&pt, 0, 1ull << 47), 0);
	CHECK_EQ_U64(live_tables(), 1);
	CHECK_EQ_INT(pt_lookup(&pt, GIB, NULL, NULL, NULL), -ENOENT);
	check_destroy(&pt);

	/* Unmap with nothing mapped, and on an empty context. */
	pt = new_ctx();
	CHECK_EQ_INT(pt_unmap(&pt, 0, GIB), 0);
	CHECK_EQ_INT(pt_lookup(&pt, 0, NULL, NULL, NULL), -ENOENT);
	check_destroy(&pt);
}

static void test_errors(void)
{
	struct pt_ctx pt = new_ctx();

	CHECK_EQ_INT(pt_map(&pt, 0x800, 0, PAGE, 0, 12), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 0, 0x800, PAGE, 0, 12), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 0, 0, 0x800, 0, 12), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 0, 0, PAGE, PT_PS, 12), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 0, 0, PAGE, 0x1000, 12), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 0, 0, PAGE, 0, 13), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 0, 0, PAGE, 0, 39), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 0, 1ull << 52, PAGE, 0, 12), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 0, (1ull << 52) - PAGE, 2 * PAGE, 0, 12),
		     -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, 1ull << 48, 0, PAGE, 0, 12), -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, (1ull << 48) - PAGE, 0, 2 * PAGE, 0, 12),
		     -EINVAL);
	CHECK_EQ_INT(pt_map(&pt, UINT64_MAX - PAGE + 1, 0, 2 * PAGE, 0, 12),
		     -EINVAL);
	CHECK_EQ_INT(pt_unmap(&pt, 0x800, PAGE), -EINVAL);
	CHECK_EQ_INT(pt_unmap(&pt, 1ull << 50, PAGE), -EINVAL);
	CHECK_EQ_INT(pt_lookup(&pt, 1ull << 50, NULL, NULL, NULL), -EINVAL);
	CHECK_EQ_U64(live_tables(), 0); /* nothing allocated on errors */
	CHECK_EQ_INT(pt_map(&pt, 0, 0, 0, 0, 12), 0);
	CHECK_EQ_INT(pt_unmap(&pt, 0, 0), 0);

	/* Out of table memory: -ENOMEM, then recovery once memory is back. */
	arena.limit = 0;
	CHECK_EQ_INT(pt_map(&pt, 0, 0, PAGE, 0, 12), -ENOMEM);
	arena.limit = 3;
	CHECK_EQ_INT(pt_map(&pt, 0, 0, PAGE, 0, 12), -ENOMEM);
	arena.limit = 4;
	CHECK_EQ_INT(pt_map(&pt, 0, 0, PAGE, 0, 12), 0);
	EXPECT(&pt, 0, 0, PT_PRESENT, 12);
	CHECK_EQ_INT(pt_map(&pt, 2 * MIB, 0, 2 * MIB, 0, 21), 0);
	CHECK_EQ_INT(pt_unmap(&pt, 2 * MIB, PAGE), -ENOMEM); /* split */
	EXPECT(&pt, 2 * MIB, 0, PT_PRESENT, 21);
	CHECK_EQ_INT(pt_map(&pt, 3 * MIB, 0, PAGE, 0, 12), -ENOMEM);
	arena.limit = ARENA_PAGES;
	CHECK_EQ_INT(pt_unmap(&pt, 2 * MIB, PAGE), 0);
	check_destroy(&pt);

	/* A caller-provided root is used and freed by pt_destroy. */
	pt = new_ctx();
	pt.root_pa = arena_alloc(&arena);
	CHECK_EQ_INT(pt_map(&pt, 0, 0, PAGE, 0, 12), 0);
	CHECK_EQ_U64(live_tables(), 4);
	check_destroy(&pt);
}

static void test_high_half(void)
{
	struct pt_ctx pt = new_ctx();
	uint64_t hv = 0xffffffff80000000ull;

	CHECK_EQ_INT(pt_map(&pt, hv, 0x1000000, 64 * MIB,
			    PT_RW | PT_GLOBAL, 21), 0);
	EXPECT(&pt, hv + 0x123456, 0x1123456, RW | PT_GLOBAL, 21);
	CHECK_EQ_INT(pt_lookup(&pt, hv - PAGE, NULL, NULL, NULL), -ENOENT);
	CHECK_EQ_INT(pt_lookup(&pt, 0x7fff80000000ull, NULL, NULL, NULL),
		     -ENOENT);
	CHECK_EQ_INT(pt_map(&pt, 0xfffffffffffff000ull, 0, PAGE, 0, 12), 0);
	EXPECT(&pt, UINT64_MAX, PAGE - 1, PT_PRESENT, 12);
	CHECK_EQ_INT(pt_unmap(&pt, 0xfffffffffffff000ull, PAGE), 0);
	CHECK_EQ_INT(pt_lookup(&pt, UINT64_MAX, NULL, NULL, NULL), -ENOENT);
	CHECK_EQ_INT(pt_unmap(&pt, 0xffff800000000000ull, 1ull << 47), 0);
	CHECK_EQ_U64(live_tables(), 1);
	check_destroy(&pt);
}

#define MODEL_SPACE (8 * GIB)
#define MODEL_PAGES (MODEL_SPACE / PAGE)

struct model_page {
	uint64_t pa;    /* 0 = not mapped (the test never maps pa 0) */
	uint64_t flags;
};

static struct model_page *model;

static uint64_t rand_aligned(uint64_t limit)
{
	static const uint64_t aligns[] = { PAGE, 2 * MIB, GIB };
	uint64_t a = aligns[harness_rand_below(3)];

	return harness_rand_below(limit / a) * a;
}

static void check_page(const struct pt_ctx *pt, uint64_t page)
{
	uint64_t va = page * PAGE, pa, flags;
	uint32_t shift;
	int err = pt_lookup(pt, va, &pa, &flags, &shift);

	if (model[page].pa == 0) {
		CHECK_MSG(err == -ENOENT, "va %#llx should be unmapped (%d)",
			  (unsigned long long)va, err);
		return;
	}
	CHECK_MSG(err == 0 && pa == model[page].pa &&
			  flags == model[page].flags,
		  "va %#llx: err %d pa %#llx flags %#llx, model %#llx %#llx",
		  (unsigned long long)va, err, (unsigned long long)pa,
		  (unsigned long long)flags,
		  (unsigned long long)model[page].pa,
		  (unsigned long long)model[page].flags);
	/* A large page must map a run that the model agrees on. */
	if (err == 0 && shift > 12) {
		uint64_t n = 1ull << (shift - 12), first = page & ~(n - 1);

		CHECK(model[first].pa % (1ull << shift) == 0);
		CHECK(model[first + n - 1].pa == model[first].pa +
							 (n - 1) * PAGE);
		CHECK(model[first + n - 1].flags == model[first].flags);
	}
}

static void test_random(void)
{
	static const uint64_t flag_choices[] = {
		PT_PRESENT, RW, RW | PT_USER, RW | PT_NX, PT_PRESENT | PT_PCD,
	};
	struct pt_ctx pt = new_ctx();

	model = calloc(MODEL_PAGES, sizeof(*model));
	for (int iter = 0; iter < 400; iter++) {
		uint64_t va = rand_aligned(MODEL_SPACE);
		uint64_t size = rand_aligned(MODEL_SPACE / 4) + PAGE *
				harness_rand_below(3);
		int err;

		if (size == 0)
			size = PAGE;
		if (va + size > MODEL_SPACE)
			size = MODEL_SPACE - va;
		if (harness_rand_below(3) != 0) {
			uint64_t pa = rand_aligned(64 * GIB) + GIB;
			uint64_t f = flag_choices[harness_rand_below(5)];
			static const uint32_t shifts[] = { 12, 21, 30 };

			err = pt_map(&pt, va, pa, size, f & ~PT_PRESENT,
				     shifts[harness_rand_below(3)]);
			CHECK_EQ_INT(err, 0);
			for (uint64_t p = 0; p < size / PAGE; p++)
				model[va / PAGE + p] =
					(struct model_page){ pa + p * PAGE, f };
		} else {
			err = pt_unmap(&pt, va, size);
			CHECK_EQ_INT(err, 0);
			memset(&model[va / PAGE], 0,
			       size / PAGE * sizeof(*model));
		}
		/* Boundaries of this operation and random pages. */
		check_page(&pt, va / PAGE);
		check_page(&pt, (va + size) / PAGE - 1);
		if (va >= PAGE)
			check_page(&pt, va / PAGE - 1);
		if (va + size < MODEL_SPACE)
			check_page(&pt, (va + size) / PAGE);
		for (int k = 0; k < 300; k++)
			check_page(&pt, harness_rand_below(MODEL_PAGES));
	}
	/* Full comparison, a page at a time (all 2M pages). */
	unsigned long before = harness_failed;
	for (uint64_t p = 0; p < MODEL_PAGES && harness_failed == before; p++)
		check_page(&pt, p);
	CHECK(!arena.bad_free);
	check_destroy(&pt);
	free(model);
}

int main(void)
{
	arena.mem = aligned_alloc(PAGE, ARENA_PAGES * PAGE);
	test_page_sizes();
	test_split_and_replace();
	test_errors();
	test_high_half();
	test_random();
	free(arena.mem);
	return harness_done("test_paging");
}
