/*
 * Unit tests for hypervisor/common/cow.c, the copy-on-write sharing of
 * guest RAM chunks behind `keel clone`, against a fake pool (chunks are
 * host buffers with a sharer count, as mm.c keeps them) and a fake nested
 * page table (the last mapping of each chunk index and whether it was
 * writable): sharing maps both domains read-only and counts the chunk
 * once more, skips chunks a balloon returned; the first write of one
 * sharer gets it a copy with the same bytes, mapped writable, and drops
 * its count, after its vCPUs were made to flush; the last sharer takes
 * the chunk back writable without a copy or a flush; what each writes
 * afterwards stays its own; a pool with no chunk for the copy changes
 * nothing; a chunk a balloon gives back and takes again keeps its
 * sharing; and too many sharers are refused. Page by page (the fake
 * table keeps every 4 KiB entry): a write copies one page and leaves the
 * rest shared; past COW_PROMOTE_PAGES copies the chunk becomes the
 * writer's own with its copies folded in and freed; the last sharer
 * folds its copies into the shared chunk itself; a clone of a domain
 * that copied pages sees them; and a domain going frees its copies.
 */
#include "../../hypervisor/common/cow.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NCHUNKS 4u
#define MAXCHUNKS 32u

/* ---- the fake pool ---- */

struct fake_chunk {
	uint8_t *mem;
	uint32_t extra; /* sharers beyond the first */
	bool live;
};

static struct fake_chunk pool[MAXCHUNKS];
static uint32_t pool_n, pool_allocs, pool_frees;
static bool pool_empty, chunks_empty;
static int32_t pages_live, hv_pages_live; /* 4 KiB copies and list pages */

static struct fake_chunk *chunk_of(uint64_t pa)
{
	uint32_t i;

	for (i = 0; i < pool_n; i++)
		if (pool[i].live && (uint64_t)(uintptr_t)pool[i].mem == pa)
			return &pool[i];
	CHECK_MSG(0, "%#llx is not a live chunk", (unsigned long long)pa);
	return &pool[0];
}

static uint64_t page_alloc(int32_t *live)
{
	void *p;

	if (pool_empty)
		return 0;
	p = aligned_alloc(PAGE_SIZE_4K, PAGE_SIZE_4K);
	memset(p, 0, PAGE_SIZE_4K);
	(*live)++;
	return (uint64_t)(uintptr_t)p;
}

uint64_t mm_alloc_pages(uint64_t npages, uint64_t align_pages)
{
	CHECK_EQ_U64(npages, 1);
	CHECK_EQ_U64(align_pages, 1);
	return page_alloc(&hv_pages_live);
}

void mm_free_pages(uint64_t pa, uint64_t npages)
{
	CHECK_EQ_U64(npages, 1);
	free((void *)(uintptr_t)pa);
	hv_pages_live--;
}

uint64_t mm_alloc_guest_page(void)
{
	return page_alloc(&pages_live);
}

void mm_free_guest_page(uint64_t pa)
{
	free((void *)(uintptr_t)pa);
	pages_live--;
}

uint64_t mm_alloc_guest(uint64_t npages, uint64_t align_pages)
{
	struct fake_chunk *c;

	(void)align_pages;
	CHECK_EQ_U64(npages, GUEST_CHUNK_BYTES / PAGE_SIZE_4K);
	if (pool_empty || chunks_empty || pool_n == MAXCHUNKS)
		return 0;
	c = &pool[pool_n++];
	c->mem = aligned_alloc(GUEST_CHUNK_BYTES, GUEST_CHUNK_BYTES); /* as the pool's */
	memset(c->mem, 0, GUEST_CHUNK_BYTES);
	c->extra = 0;
	c->live = true;
	pool_allocs++;
	return (uint64_t)(uintptr_t)c->mem;
}

void mm_free_guest(uint64_t pa, uint64_t npages)
{
	struct fake_chunk *c = chunk_of(pa);


	CHECK_EQ_U64(npages, GUEST_CHUNK_BYTES / PAGE_SIZE_4K);
	CHECK_EQ_INT(c->extra, 0);
	free(c->mem);
	c->live = false;
	pool_frees++;
}

int mm_chunk_share(uint64_t pa)
{
	struct fake_chunk *c = chunk_of(pa);

	if (c->extra + 1 >= MM_CHUNK_MAX_SHARERS)
		return -ENOSPC;
	c->extra++;
	return 0;
}

bool mm_chunk_shared(uint64_t pa)
{
	return chunk_of(pa)->extra != 0;
}

bool mm_chunk_put(uint64_t pa)
{
	struct fake_chunk *c = chunk_of(pa);

	if (c->extra) {
		c->extra--;
		return false;
	}
	mm_free_guest(pa, GUEST_CHUNK_BYTES / PAGE_SIZE_4K);
	return true;
}

/* ---- the fake nested page table, backend and vCPU loop ---- */

#define PAGES (GUEST_CHUNK_BYTES / PAGE_SIZE_4K)

struct fake_map {
	uint64_t pa;
	bool writable;
};

static struct fake_map maps[2][NCHUNKS][PAGES]; /* by domain (0 src, 1 dst) */
static struct domain doms[2];
static uint32_t syncs[2], flushes, map_fail_after = ~0u;

static const struct virt_ops fake_virt_ops = { .npt_flags_rwx = 7, .npt_flags_ro = 5 };
const struct virt_ops *virt = &fake_virt_ops;

static uint32_t dom_of(const struct pt_ctx *pt)
{
	CHECK(pt == &doms[0].npt || pt == &doms[1].npt);
	return pt == &doms[0].npt ? 0 : 1;
}

int npt_map(struct pt_ctx *pt, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perm,
	    uint32_t max_page_shift)
{
	uint32_t d = dom_of(pt), c = (uint32_t)(gpa / GUEST_CHUNK_BYTES), i;
	uint32_t first = (uint32_t)(gpa % GUEST_CHUNK_BYTES / PAGE_SIZE_4K);

	CHECK(c < NCHUNKS);
	if (max_page_shift == PT_PAGE_SHIFT_2M)
		CHECK(size == GUEST_CHUNK_BYTES && first == 0);
	else
		CHECK(max_page_shift == PT_PAGE_SHIFT_4K && size == PAGE_SIZE_4K);
	CHECK(perm == 7 || perm == 5);
	if (map_fail_after-- == 0)
		return -ENOMEM;
	for (i = 0; i < size / PAGE_SIZE_4K; i++) {
		maps[d][c][first + i].pa = hpa + (uint64_t)i * PAGE_SIZE_4K;
		maps[d][c][first + i].writable = perm == 7;
	}
	return 0;
}

int pt_lookup(const struct pt_ctx *pt, uint64_t va, uint64_t *pa, uint64_t *flags,
	      uint32_t *page_shift)
{
	uint32_t d = dom_of(pt), c = (uint32_t)(va / GUEST_CHUNK_BYTES);
	const struct fake_map *m = &maps[d][c][va % GUEST_CHUNK_BYTES / PAGE_SIZE_4K];

	(void)page_shift;
	if (c >= NCHUNKS || !m->pa)
		return -ENOENT;
	*pa = m->pa + (va & (PAGE_SIZE_4K - 1));
	*flags = m->writable ? 7 : 5;
	return 0;
}

/* Whether d maps all of chunk c as one run at pa, writable or not. */
static bool mapped_whole(uint32_t d, uint32_t c, uint64_t pa, bool writable)
{
	uint32_t i;

	for (i = 0; i < PAGES; i++)
		if (maps[d][c][i].pa != pa + (uint64_t)i * PAGE_SIZE_4K ||
		    maps[d][c][i].writable != writable)
			return false;
	return true;
}

static bool sync_fails;

int vcpu_loop_sync_npt(struct domain *d, uint64_t timeout_ns)
{
	(void)timeout_ns;
	syncs[d == &doms[0] ? 0 : 1]++;
	return sync_fails ? -EBUSY : 0;
}

static void fake_flush(struct vcpu *v)
{
	(void)v;
	flushes++;
}

static uint32_t warnings;

void log_printf(int level, const char *fmt, ...)
{
	(void)level, (void)fmt;
	warnings++;
}

/* ---- set-up ---- */

static uint64_t cow_words[2][1];
static uint16_t cow_priv[2][NCHUNKS];
static uint64_t chunk_pa[2][NCHUNKS];

/* src with NCHUNKS chunks, each filled with its index, chunk 2 returned
 * by its balloon; dst of the same size, holding none. */
static void setup(void)
{
	uint32_t c;

	memset(pool, 0, sizeof(pool));
	pool_n = pool_allocs = pool_frees = 0;
	pool_empty = chunks_empty = false;
	pages_live = hv_pages_live = 0;
	memset(maps, 0, sizeof(maps));
	memset(doms, 0, sizeof(doms));
	memset(syncs, 0, sizeof(syncs));
	memset(cow_words, 0, sizeof(cow_words));
	memset(cow_priv, 0, sizeof(cow_priv));
	memset(chunk_pa, 0, sizeof(chunk_pa));
	map_fail_after = ~0u;
	for (c = 0; c < 2; c++) {
		doms[c].nr_chunks = NCHUNKS;
		doms[c].chunks = chunk_pa[c];
		doms[c].cow = cow_words[c];
		doms[c].cow_priv = cow_priv[c];
	}
	for (c = 0; c < NCHUNKS; c++) {
		if (c == 2)
			continue;
		chunk_pa[0][c] = mm_alloc_guest(GUEST_CHUNK_BYTES / PAGE_SIZE_4K, 512);
		memset((void *)(uintptr_t)chunk_pa[0][c], 'a' + (int)c, GUEST_CHUNK_BYTES);
		npt_map(&doms[0].npt, (uint64_t)c * GUEST_CHUNK_BYTES, chunk_pa[0][c],
			GUEST_CHUNK_BYTES, 7, PT_PAGE_SHIFT_2M);
	}
	pool_allocs = 0;
}

static void teardown(void)
{
	uint32_t d, c;

	for (d = 0; d < 2; d++)
		for (c = 0; c < NCHUNKS; c++) {
			cow_drop_copies(&doms[d], c);
			if (chunk_pa[d][c])
				mm_chunk_put(chunk_pa[d][c]);
		}
	for (c = 0; c < pool_n; c++)
		CHECK_MSG(!pool[c].live, "chunk %u leaked", c);
	CHECK_EQ_INT(pages_live, 0);
	CHECK_EQ_INT(hv_pages_live, 0);
	CHECK_EQ_INT(doms[0].cow_pages, 0);
	CHECK_EQ_INT(doms[1].cow_pages, 0);
}

static uint8_t byte_at(uint32_t d, uint32_t c, uint32_t off)
{
	return ((uint8_t *)(uintptr_t)doms[d].chunks[c])[off];
}

/* ---- tests ---- */

static void test_share(void)
{
	uint32_t c;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	for (c = 0; c < NCHUNKS; c++) {
		if (c == 2) {
			CHECK_EQ_U64(chunk_pa[1][2], 0);
			CHECK(!cow_chunk_shared(&doms[0], 2) && !cow_chunk_shared(&doms[1], 2));
			continue;
		}
		CHECK_EQ_U64(chunk_pa[1][c], chunk_pa[0][c]);
		CHECK(mapped_whole(0, c, chunk_pa[0][c], false));
		CHECK(mapped_whole(1, c, chunk_pa[0][c], false));
		CHECK(cow_chunk_shared(&doms[0], c) && cow_chunk_shared(&doms[1], c));
		CHECK_EQ_INT(chunk_of(chunk_pa[0][c])->extra, 1);
	}
	CHECK_EQ_INT(doms[0].cow_chunks, 3);
	CHECK_EQ_INT(doms[1].cow_chunks, 3);
	CHECK_EQ_INT(pool_allocs, 0);
	CHECK_EQ_INT(syncs[0], 1); /* the source's vCPUs flush before they enter */
	CHECK(!cow_chunk_shared(&doms[0], NCHUNKS)); /* out of range */
	teardown();
}

static void test_break_copy_then_take(void)
{
	uint64_t old;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	old = chunk_pa[0][1];
	/* the clone writes first: it gets a copy */
	CHECK_EQ_INT(cow_break(&doms[1], 1), 0);
	CHECK(chunk_pa[1][1] != old);
	CHECK_EQ_INT(pool_allocs, 1);
	CHECK(mapped_whole(1, 1, chunk_pa[1][1], true));
	CHECK(!cow_chunk_shared(&doms[1], 1));
	CHECK_EQ_INT(doms[1].cow_chunks, 2);
	CHECK_EQ_INT(byte_at(1, 1, 0), 'b');
	CHECK_EQ_INT(byte_at(1, 1, GUEST_CHUNK_BYTES - 1), 'b');
	CHECK_EQ_INT(chunk_of(old)->extra, 0);
	CHECK_EQ_INT(syncs[1], 1);
	/* the source writes next: the last sharer takes it back, no copy */
	CHECK_EQ_INT(cow_break(&doms[0], 1), 0);
	CHECK_EQ_U64(chunk_pa[0][1], old);
	CHECK(mapped_whole(0, 1, old, true));
	CHECK_EQ_INT(pool_allocs, 1);
	CHECK_EQ_INT(syncs[0], 1); /* (the share's) none more: same page */
	/* what each writes now is its own */
	((uint8_t *)(uintptr_t)chunk_pa[0][1])[100] = 'S';
	((uint8_t *)(uintptr_t)chunk_pa[1][1])[100] = 'C';
	CHECK_EQ_INT(byte_at(0, 1, 100), 'S');
	CHECK_EQ_INT(byte_at(1, 1, 100), 'C');
	/* a chunk not shared breaks as a no-op */
	CHECK_EQ_INT(cow_break(&doms[0], 1), 0);
	CHECK_EQ_INT(cow_break(&doms[0], 2), 0);
	CHECK_EQ_INT(pool_allocs, 1);
	/* the others are still shared */
	CHECK(cow_chunk_shared(&doms[0], 0) && cow_chunk_shared(&doms[1], 3));
	teardown();
}

static void test_break_without_memory(void)
{
	uint64_t old;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	old = chunk_pa[1][0];
	pool_empty = true;
	CHECK_EQ_INT(cow_break(&doms[1], 0), -ENOMEM);
	CHECK_EQ_U64(chunk_pa[1][0], old);
	CHECK(cow_chunk_shared(&doms[1], 0) && mapped_whole(1, 0, old, false));
	CHECK_EQ_INT(chunk_of(old)->extra, 1);
	/* a map that fails gives the copy back and changes nothing */
	pool_empty = false;
	map_fail_after = 0;
	CHECK_EQ_INT(cow_break(&doms[1], 0), -ENOMEM);
	CHECK_EQ_U64(chunk_pa[1][0], old);
	CHECK(cow_chunk_shared(&doms[1], 0));
	CHECK_EQ_INT(pool_frees, 1);
	teardown();
}

static void test_fault(void)
{
	struct virt_ops ops = fake_virt_ops;
	const struct virt_ops *saved = virt;
	struct vcpu v = { .dom = &doms[1] };

	ops.vcpu_flush_npt = fake_flush;
	virt = &ops;
	setup();
	flushes = 0;
	CHECK_EQ_INT(cow_fault(&v, 3 * GUEST_CHUNK_BYTES + 4096), 1); /* not shared yet */
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	CHECK_EQ_INT(cow_fault(&v, 3 * GUEST_CHUNK_BYTES + 4096), 0);
	CHECK(maps[1][3][1].writable && maps[1][3][1].pa != chunk_pa[0][3] + PAGE_SIZE_4K);
	CHECK(mapped_whole(0, 3, chunk_pa[0][3], false)); /* the rest stays shared */
	CHECK(maps[1][3][0].pa == chunk_pa[0][3] && !maps[1][3][0].writable);
	CHECK(maps[1][3][2].pa == chunk_pa[0][3] + 2 * PAGE_SIZE_4K && !maps[1][3][2].writable);
	CHECK_EQ_INT(cow_chunk_copied(&doms[1], 3), 1);
	CHECK_EQ_INT(flushes, 1);
	CHECK_EQ_INT(cow_fault(&v, 2 * GUEST_CHUNK_BYTES), 1); /* in the pool: the balloon's */
	teardown();
	virt = saved;
}

static uint8_t *page_at(uint32_t d, uint32_t c, uint32_t i)
{
	return (uint8_t *)(uintptr_t)maps[d][c][i].pa;
}

/* A write copies one 4 KiB page; the rest of the chunk stays shared. */
static void test_page_copy(void)
{
	uint64_t old;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	old = chunk_pa[0][1];
	CHECK_EQ_INT(cow_break_page(&doms[1], GUEST_CHUNK_BYTES + 5 * PAGE_SIZE_4K + 123), 0);
	CHECK_EQ_INT(pages_live, 1);
	CHECK_EQ_INT(pool_allocs, 0); /* no 2 MiB copy */
	CHECK(maps[1][1][5].writable && maps[1][1][5].pa != old + 5 * PAGE_SIZE_4K);
	CHECK(!maps[1][1][4].writable && maps[1][1][4].pa == old + 4 * PAGE_SIZE_4K);
	CHECK(!maps[1][1][6].writable && maps[1][1][6].pa == old + 6 * PAGE_SIZE_4K);
	CHECK_EQ_U64(chunk_pa[1][1], old);
	CHECK(cow_chunk_shared(&doms[1], 1));
	CHECK_EQ_INT(cow_chunk_copied(&doms[1], 1), 1);
	CHECK_EQ_INT(doms[1].cow_pages, 1);
	CHECK_EQ_INT(chunk_of(old)->extra, 1); /* both still map the chunk */
	CHECK_EQ_INT(syncs[1], 1);
	CHECK_EQ_INT(page_at(1, 1, 5)[0], 'b');
	CHECK_EQ_INT(page_at(1, 1, 5)[PAGE_SIZE_4K - 1], 'b');
	page_at(1, 1, 5)[7] = 'C';
	CHECK_EQ_INT(page_at(0, 1, 5)[7], 'b');
	/* the same page again (a stale entry): nothing new */
	CHECK_EQ_INT(cow_break_page(&doms[1], GUEST_CHUNK_BYTES + 5 * PAGE_SIZE_4K), 0);
	CHECK_EQ_INT(pages_live, 1);
	CHECK_EQ_INT(syncs[1], 1);
	/* no page in the pool: -ENOMEM, nothing changed */
	pool_empty = true;
	CHECK_EQ_INT(cow_break_page(&doms[1], GUEST_CHUNK_BYTES + 9 * PAGE_SIZE_4K), -ENOMEM);
	CHECK(!maps[1][1][9].writable && maps[1][1][9].pa == old + 9 * PAGE_SIZE_4K);
	CHECK_EQ_INT(cow_chunk_copied(&doms[1], 1), 1);
	pool_empty = false;
	/* not shared: nothing to do */
	CHECK_EQ_INT(cow_break_page(&doms[0], 2 * GUEST_CHUNK_BYTES), 0);
	teardown();
}

/* Past COW_PROMOTE_PAGES copies the chunk becomes the writer's own 2 MiB,
 * its copies folded in and freed; without 2 MiB in the pool it goes on
 * page by page. */
static void test_promote(void)
{
	uint64_t old, base = GUEST_CHUNK_BYTES;
	uint32_t i;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	old = chunk_pa[0][1];
	for (i = 0; i + 1 < COW_PROMOTE_PAGES; i++) {
		CHECK_EQ_INT(cow_break_page(&doms[1], base + (uint64_t)i * 2 * PAGE_SIZE_4K), 0);
		page_at(1, 1, i * 2)[1] = (uint8_t)('0' + i % 10);
	}
	CHECK_EQ_INT(pages_live, COW_PROMOTE_PAGES - 1);
	chunks_empty = true;
	CHECK_EQ_INT(cow_break_page(&doms[1], base + 1 * PAGE_SIZE_4K), 0);
	CHECK_EQ_INT(pages_live, COW_PROMOTE_PAGES); /* page by page still */
	CHECK(cow_chunk_shared(&doms[1], 1));
	/* the failed promotion left its copies read-only: a write makes
	 * them writable again, with no copy */
	CHECK(!maps[1][1][0].writable && maps[1][1][0].pa != old);
	CHECK_EQ_INT(cow_break_page(&doms[1], base), 0);
	CHECK(maps[1][1][0].writable);
	CHECK_EQ_INT(pages_live, COW_PROMOTE_PAGES);
	chunks_empty = false;
	CHECK_EQ_INT(cow_break_page(&doms[1], base + 3 * PAGE_SIZE_4K), 0);
	CHECK(chunk_pa[1][1] != old);
	CHECK(mapped_whole(1, 1, chunk_pa[1][1], true));
	CHECK(!cow_chunk_shared(&doms[1], 1));
	CHECK_EQ_INT(cow_chunk_copied(&doms[1], 1), 0);
	CHECK_EQ_INT(pages_live, 0);
	CHECK_EQ_INT(hv_pages_live, 0);
	CHECK_EQ_INT(doms[1].cow_pages, 0);
	CHECK_EQ_INT(chunk_of(old)->extra, 0);
	for (i = 0; i + 1 < COW_PROMOTE_PAGES; i++) {
		CHECK_EQ_INT(page_at(1, 1, i * 2)[1], '0' + i % 10);
		CHECK_EQ_INT(page_at(1, 1, i * 2)[0], 'b');
	}
	CHECK_EQ_INT(page_at(1, 1, PAGES - 1)[0], 'b');
	CHECK_EQ_INT(page_at(0, 1, 0)[1], 'b'); /* the source's is untouched */
	teardown();
}

/* The last sharer folds its copies into the shared chunk itself. */
static void test_last_sharer_folds(void)
{
	uint64_t old;
	uint32_t syncs_before;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	old = chunk_pa[0][3];
	CHECK_EQ_INT(cow_break_page(&doms[1], 3 * GUEST_CHUNK_BYTES + 7 * PAGE_SIZE_4K), 0);
	CHECK_EQ_INT(cow_break_page(&doms[1], 3 * GUEST_CHUNK_BYTES + 8 * PAGE_SIZE_4K), 0);
	page_at(1, 3, 7)[0] = 'X';
	page_at(1, 3, 8)[100] = 'Y';
	/* the source lets go of the chunk (it takes a copy) */
	CHECK_EQ_INT(cow_break(&doms[0], 3), 0);
	CHECK(chunk_pa[0][3] != old);
	CHECK_EQ_INT(chunk_of(old)->extra, 0);
	pool_allocs = 0;
	syncs_before = syncs[1];
	CHECK_EQ_INT(cow_break_page(&doms[1], 3 * GUEST_CHUNK_BYTES + 20 * PAGE_SIZE_4K), 0);
	CHECK_EQ_INT(pool_allocs, 0);
	CHECK_EQ_U64(chunk_pa[1][3], old);
	CHECK(mapped_whole(1, 3, old, true));
	CHECK_EQ_INT(pages_live, 0);
	CHECK_EQ_INT(syncs[1] - syncs_before, 2); /* before the fold, and before the free */
	CHECK_EQ_INT(((uint8_t *)(uintptr_t)old)[7 * PAGE_SIZE_4K], 'X');
	CHECK_EQ_INT(((uint8_t *)(uintptr_t)old)[8 * PAGE_SIZE_4K + 100], 'Y');
	CHECK_EQ_INT(((uint8_t *)(uintptr_t)old)[8 * PAGE_SIZE_4K], 'd');
	CHECK_EQ_INT(page_at(0, 3, 7)[0], 'd');
	teardown();
}

/* A vCPU that does not flush stops a promotion before anything moves:
 * the copies stay (read-only until written again), the chunk shared. */
static void test_promote_without_flush(void)
{
	uint64_t old;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	old = chunk_pa[0][1];
	CHECK_EQ_INT(cow_break_page(&doms[1], GUEST_CHUNK_BYTES + 2 * PAGE_SIZE_4K), 0);
	page_at(1, 1, 2)[0] = 'Z';
	sync_fails = true;
	CHECK_EQ_INT(cow_break(&doms[1], 1), -EBUSY);
	sync_fails = false;
	CHECK_EQ_INT(pool_allocs, 0);
	CHECK_EQ_U64(chunk_pa[1][1], old);
	CHECK(cow_chunk_shared(&doms[1], 1));
	CHECK_EQ_INT(cow_chunk_copied(&doms[1], 1), 1);
	CHECK_EQ_INT(page_at(1, 1, 2)[0], 'Z');
	CHECK(!maps[1][1][2].writable);
	CHECK_EQ_INT(cow_break_page(&doms[1], GUEST_CHUNK_BYTES + 2 * PAGE_SIZE_4K), 0);
	CHECK(maps[1][1][2].writable);
	CHECK_EQ_INT(pages_live, 1);
	teardown();
}

/* A clone of a domain that copied pages sees them; a domain going frees
 * its copies (teardown checks none is left). */
static void test_clone_of_split(void)
{
	uint64_t old;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	old = chunk_pa[0][0];
	/* the source copies a page and writes it */
	CHECK_EQ_INT(cow_break_page(&doms[0], 11 * PAGE_SIZE_4K), 0);
	page_at(0, 0, 11)[0] = 'S';
	/* the clone goes: its share of the chunk with it */
	mm_chunk_put(chunk_pa[1][0]);
	chunk_pa[1][0] = 0;
	memset(maps[1], 0, sizeof(maps[1]));
	doms[1].cow_chunks = 0;
	cow_words[1][0] = 0;
	/* clone the source again: chunk 0 is shared as the source sees it,
	 * the rest of the chunk shared and the source's copy copied */
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	CHECK_EQ_U64(chunk_pa[0][0], old);
	CHECK_EQ_U64(chunk_pa[1][0], old);
	CHECK_EQ_INT(chunk_of(old)->extra, 1);
	CHECK_EQ_INT(pool_allocs, 0);
	CHECK_EQ_INT(pages_live, 2);
	CHECK_EQ_INT(cow_chunk_copied(&doms[0], 0), 1);
	CHECK_EQ_INT(cow_chunk_copied(&doms[1], 0), 1);
	CHECK(maps[1][0][11].writable && maps[1][0][11].pa != maps[0][0][11].pa);
	CHECK_EQ_INT(page_at(1, 0, 11)[0], 'S');
	CHECK(!maps[1][0][10].writable && maps[1][0][10].pa == old + 10 * PAGE_SIZE_4K);
	page_at(1, 0, 11)[0] = 'C';
	CHECK_EQ_INT(page_at(0, 0, 11)[0], 'S');
	/* both copy a page; teardown frees them */
	CHECK_EQ_INT(cow_break_page(&doms[1], 12 * PAGE_SIZE_4K), 0);
	CHECK_EQ_INT(cow_break_page(&doms[0], 13 * PAGE_SIZE_4K), 0);
	CHECK_EQ_INT(pages_live, 4);
	teardown();
	/* no page for the copy: the clone fails, what it got is its to free */
	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	CHECK_EQ_INT(cow_break_page(&doms[0], 11 * PAGE_SIZE_4K), 0);
	mm_chunk_put(chunk_pa[1][0]);
	mm_chunk_put(chunk_pa[1][1]);
	mm_chunk_put(chunk_pa[1][3]);
	memset(chunk_pa[1], 0, sizeof(chunk_pa[1]));
	memset(maps[1], 0, sizeof(maps[1]));
	doms[1].cow_chunks = 0;
	cow_words[1][0] = 0;
	pool_empty = true;
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), -ENOMEM);
	pool_empty = false;
	teardown();
}

static void test_balloon_round_trip(void)
{
	uint64_t pa;

	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	/* the clone's balloon gives chunk 0 back: it is no longer shared there */
	pa = chunk_pa[1][0];
	chunk_pa[1][0] = 0;
	cow_forget(&doms[1], 0);
	CHECK(!cow_chunk_shared(&doms[1], 0));
	CHECK_EQ_INT(doms[1].cow_chunks, 2);
	/* a flush failed: it goes back, read-only again since src maps it */
	CHECK_EQ_INT(cow_remap(&doms[1], 0, pa), 0);
	CHECK(cow_chunk_shared(&doms[1], 0) && mapped_whole(1, 0, pa, false));
	CHECK_EQ_U64(chunk_pa[1][0], pa);
	/* once the source let it go, a remap is writable */
	CHECK_EQ_INT(cow_break(&doms[0], 0), 0);
	chunk_pa[1][0] = 0;
	cow_forget(&doms[1], 0);
	CHECK_EQ_INT(cow_remap(&doms[1], 0, pa), 0);
	CHECK(!cow_chunk_shared(&doms[1], 0) && mapped_whole(1, 0, pa, true));
	teardown();
}

static void test_too_many_sharers(void)
{
	uint32_t c;

	setup();
	for (c = 0; c < NCHUNKS; c++)
		if (chunk_pa[0][c])
			chunk_of(chunk_pa[0][c])->extra = MM_CHUNK_MAX_SHARERS - 1;
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), -ENOSPC);
	CHECK_EQ_U64(chunk_pa[1][0], 0);
	for (c = 0; c < NCHUNKS; c++)
		if (chunk_pa[0][c])
			chunk_of(chunk_pa[0][c])->extra = 0;
	teardown();
	setup();
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), 0);
	doms[1].nr_chunks = NCHUNKS - 1;
	CHECK_EQ_INT(cow_share(&doms[1], &doms[0]), -EINVAL); /* sizes differ */
	doms[1].nr_chunks = NCHUNKS;
	teardown();
}

int main(void)
{
	test_share();
	test_break_copy_then_take();
	test_break_without_memory();
	test_fault();
	test_page_copy();
	test_promote();
	test_last_sharer_folds();
	test_clone_of_split();
	test_promote_without_flush();
	test_balloon_round_trip();
	test_too_many_sharers();
	return harness_done("test_cow");
}
