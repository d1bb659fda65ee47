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
 * sharing; and too many sharers are refused.
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
static bool pool_empty;

static struct fake_chunk *chunk_of(uint64_t pa)
{
	uint32_t i;

	for (i = 0; i < pool_n; i++)
		if (pool[i].live && (uint64_t)(uintptr_t)pool[i].mem == pa)
			return &pool[i];
	CHECK_MSG(0, "%#llx is not a live chunk", (unsigned long long)pa);
	return &pool[0];
}

uint64_t mm_alloc_guest(uint64_t npages, uint64_t align_pages)
{
	struct fake_chunk *c;

	(void)align_pages;
	CHECK_EQ_U64(npages, GUEST_CHUNK_BYTES / PAGE_SIZE_4K);
	if (pool_empty || pool_n == MAXCHUNKS)
		return 0;
	c = &pool[pool_n++];
	c->mem = calloc(1, GUEST_CHUNK_BYTES);
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

struct fake_map {
	uint64_t pa;
	bool writable;
};

static struct fake_map maps[2][NCHUNKS]; /* by domain (0 src, 1 dst) */
static struct domain doms[2];
static uint32_t syncs[2], flushes, map_fail_after = ~0u;

static const struct virt_ops fake_virt_ops = { .npt_flags_rwx = 7, .npt_flags_ro = 5 };
const struct virt_ops *virt = &fake_virt_ops;

int npt_map(struct pt_ctx *pt, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perm,
	    uint32_t max_page_shift)
{
	uint32_t d = pt == &doms[0].npt ? 0 : 1, c = (uint32_t)(gpa / GUEST_CHUNK_BYTES);

	CHECK(pt == &doms[0].npt || pt == &doms[1].npt);
	CHECK_EQ_U64(size, GUEST_CHUNK_BYTES);
	CHECK_EQ_INT(max_page_shift, PT_PAGE_SHIFT_2M);
	CHECK(perm == 7 || perm == 5);
	if (map_fail_after-- == 0)
		return -ENOMEM;
	maps[d][c].pa = hpa;
	maps[d][c].writable = perm == 7;
	return 0;
}

int vcpu_loop_sync_npt(struct domain *d, uint64_t timeout_ns)
{
	(void)timeout_ns;
	syncs[d == &doms[0] ? 0 : 1]++;
	return 0;
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
static uint64_t chunk_pa[2][NCHUNKS];

/* src with NCHUNKS chunks, each filled with its index, chunk 2 returned
 * by its balloon; dst of the same size, holding none. */
static void setup(void)
{
	uint32_t c;

	memset(pool, 0, sizeof(pool));
	pool_n = pool_allocs = pool_frees = 0;
	pool_empty = false;
	memset(maps, 0, sizeof(maps));
	memset(doms, 0, sizeof(doms));
	memset(syncs, 0, sizeof(syncs));
	memset(cow_words, 0, sizeof(cow_words));
	memset(chunk_pa, 0, sizeof(chunk_pa));
	map_fail_after = ~0u;
	for (c = 0; c < 2; c++) {
		doms[c].nr_chunks = NCHUNKS;
		doms[c].chunks = chunk_pa[c];
		doms[c].cow = cow_words[c];
	}
	for (c = 0; c < NCHUNKS; c++) {
		if (c == 2)
			continue;
		chunk_pa[0][c] = mm_alloc_guest(GUEST_CHUNK_BYTES / PAGE_SIZE_4K, 512);
		memset((void *)(uintptr_t)chunk_pa[0][c], 'a' + (int)c, GUEST_CHUNK_BYTES);
		maps[0][c].pa = chunk_pa[0][c];
		maps[0][c].writable = true;
	}
	pool_allocs = 0;
}

static void teardown(void)
{
	uint32_t d, c;

	for (d = 0; d < 2; d++)
		for (c = 0; c < NCHUNKS; c++)
			if (chunk_pa[d][c])
				mm_chunk_put(chunk_pa[d][c]);
	for (c = 0; c < pool_n; c++)
		CHECK_MSG(!pool[c].live, "chunk %u leaked", c);
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
		CHECK(!maps[0][c].writable && !maps[1][c].writable);
		CHECK_EQ_U64(maps[1][c].pa, chunk_pa[0][c]);
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
	CHECK(maps[1][1].writable && maps[1][1].pa == chunk_pa[1][1]);
	CHECK(!cow_chunk_shared(&doms[1], 1));
	CHECK_EQ_INT(doms[1].cow_chunks, 2);
	CHECK_EQ_INT(byte_at(1, 1, 0), 'b');
	CHECK_EQ_INT(byte_at(1, 1, GUEST_CHUNK_BYTES - 1), 'b');
	CHECK_EQ_INT(chunk_of(old)->extra, 0);
	CHECK_EQ_INT(syncs[1], 1);
	/* the source writes next: the last sharer takes it back, no copy */
	CHECK_EQ_INT(cow_break(&doms[0], 1), 0);
	CHECK_EQ_U64(chunk_pa[0][1], old);
	CHECK(maps[0][1].writable && maps[0][1].pa == old);
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
	CHECK(cow_chunk_shared(&doms[1], 0) && !maps[1][0].writable);
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
	CHECK(maps[1][3].writable && chunk_pa[1][3] != chunk_pa[0][3]);
	CHECK_EQ_INT(flushes, 1);
	CHECK_EQ_INT(cow_fault(&v, 2 * GUEST_CHUNK_BYTES), 1); /* in the pool: the balloon's */
	teardown();
	virt = saved;
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
	CHECK(cow_chunk_shared(&doms[1], 0) && !maps[1][0].writable);
	CHECK_EQ_U64(chunk_pa[1][0], pa);
	/* once the source let it go, a remap is writable */
	CHECK_EQ_INT(cow_break(&doms[0], 0), 0);
	chunk_pa[1][0] = 0;
	cow_forget(&doms[1], 0);
	CHECK_EQ_INT(cow_remap(&doms[1], 0, pa), 0);
	CHECK(!cow_chunk_shared(&doms[1], 0) && maps[1][0].writable);
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
	test_balloon_round_trip();
	test_too_many_sharers();
	return harness_done("test_cow");
}
