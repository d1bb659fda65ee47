/*
 * Unit tests for the slab of single guest pages in
 * hypervisor/common/mm.c (mm_alloc_guest_page, mm_free_guest_page), over
 * the real pool allocator (page_alloc.c) on 16 MiB of host memory mapped
 * at a low fixed address (the pool's share counts take a byte per 2 MiB
 * up to the pool's end): pages come from one 2 MiB slab until it is full,
 * never its header page, and never twice; the slab goes back to the pool
 * when its last page is freed, so whole 2 MiB chunks stay allocatable;
 * with no 2 MiB left, a page still comes from anywhere in the pool.
 */
#include "../../hypervisor/common/page_alloc.c"
#include "../../hypervisor/common/mm.c"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "harness.h"

#define POOL_BASE 0x40000000ull
#define POOL_BYTES (16ull << 20)

void watchdog_track_lock(struct spinlock *l, const char *what)
{
	(void)l, (void)what;
}

void log_printf(int level, const char *fmt, ...)
{
	(void)level, (void)fmt;
}

static int panics;
static jmp_buf panic_jmp;

void panic(const char *fmt, ...)
{
	(void)fmt;
	panics++;
	longjmp(panic_jmp, 1);
}

static uint64_t chunks_free(void)
{
	uint64_t got[8], n = 0, i;

	while (n < 8 && (got[n] = mm_alloc_guest(SLAB_PAGES, SLAB_PAGES)) != 0)
		n++;
	for (i = 0; i < n; i++)
		mm_free_guest(got[i], SLAB_PAGES);
	return n;
}

int main(void)
{
	struct mem_range r = { POOL_BASE, POOL_BYTES, E820_RAM };
	static uint64_t pages[SLAB_PAGES + 8];
	uint64_t slab, whole, i, j;
	void *m = mmap((void *)(uintptr_t)POOL_BASE, POOL_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (m != (void *)(uintptr_t)POOL_BASE) {
		printf("test_mm_slab: cannot map the pool at %#llx; 0 passed, 1 failed\n",
		       POOL_BASE);
		return 1;
	}
	CHECK_EQ_INT(mm_init(&r, 1), 0);
	whole = chunks_free();
	CHECK(whole >= 6); /* the bitmap and share counts take the first one */
	/* the first page makes a slab; the next 510 come from it */
	for (i = 0; i < SLAB_PAGES - 1; i++) {
		pages[i] = mm_alloc_guest_page();
		CHECK(pages[i] != 0);
		memset((void *)(uintptr_t)pages[i], (int)i, PAGE_SIZE_4K);
	}
	slab = pages[0] & ~(MM_CHUNK_BYTES - 1);
	for (i = 0; i < SLAB_PAGES - 1; i++) {
		CHECK((pages[i] & ~(MM_CHUNK_BYTES - 1)) == slab);
		CHECK(pages[i] != slab); /* the header page is never handed out */
		for (j = 0; j < i; j++)
			CHECK_MSG(pages[j] != pages[i], "page %#llx handed out twice",
				  (unsigned long long)pages[i]);
	}
	CHECK_EQ_U64(slab_of(slab)->nused, SLAB_PAGES);
	CHECK_EQ_U64(chunks_free(), whole - 1);
	/* a page freed in the full slab is reused before any new slab */
	mm_free_guest_page(pages[7]);
	pages[7] = mm_alloc_guest_page();
	CHECK((pages[7] & ~(MM_CHUNK_BYTES - 1)) == slab);
	CHECK_EQ_U64(chunks_free(), whole - 1);
	/* the 512th page opens a second slab */
	pages[SLAB_PAGES - 1] = mm_alloc_guest_page();
	CHECK((pages[SLAB_PAGES - 1] & ~(MM_CHUNK_BYTES - 1)) != slab);
	CHECK_EQ_U64(chunks_free(), whole - 2);
	mm_free_guest_page(pages[9]);
	pages[9] = mm_alloc_guest_page();
	CHECK_EQ_U64(chunks_free(), whole - 2);
	/* freeing everything gives both slabs back whole */
	for (i = 0; i < SLAB_PAGES; i++)
		mm_free_guest_page(pages[i]);
	CHECK_EQ_U64(chunks_free(), whole);
	CHECK_EQ_U64(slab_partial, 0);
	/* a bad free is caught */
	if (!setjmp(panic_jmp))
		mm_free_guest_page(slab + PAGE_SIZE_4K); /* not in use */
	CHECK_EQ_INT(panics, 1);
	/* with no 2 MiB left a page still comes, from anywhere */
	{
		uint64_t held[8], n = 0, p;

		while (n < 8 && (held[n] = mm_alloc_guest(SLAB_PAGES, SLAB_PAGES)) != 0)
			n++;
		p = mm_alloc_guest_page();
		CHECK(p != 0);
		CHECK(chunk_extra[p / MM_CHUNK_BYTES] != SLAB_MARK);
		mm_free_guest_page(p);
		for (i = 0; i < n; i++)
			mm_free_guest(held[i], SLAB_PAGES);
	}
	CHECK_EQ_U64(chunks_free(), whole);
	munmap(m, POOL_BYTES);
	return harness_done("test_mm_slab");
}
