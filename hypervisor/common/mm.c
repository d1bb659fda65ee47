/*
 * Hypervisor memory management: the global pool allocator (page_alloc.c
 * under a spinlock), the share counts of guest chunks, a slab of 4 KiB
 * guest pages packed into 2 MiB chunks, page-table contexts that take
 * their tables from the pool, and the extension of the boot page tables
 * so that the hypervisor can reach all RAM, including RAM above 4 GiB.
 */
#include <keel/mm.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>
#include <keel/watchdog.h>
#include <keel/errno.h>
#include <keel/log.h>
#include <keel/string.h>
#include <keel/compiler.h>

static struct palloc pool;
static struct spinlock pool_lock;
static uint64_t hv_pages; /* pages allocated for the hypervisor itself */
/* Copy-on-write sharing of guest chunks (mm_chunk_share): for each 2 MiB
 * of physical memory, how many domains beyond the first map that chunk
 * (0: one owner). Under pool_lock. */
static uint8_t *chunk_extra;
static uint64_t chunk_extra_n;

/* Single guest pages (copies of shared pages, cow.c) come from slabs: 2 MiB
 * chunks whose first page is this header and whose other 511 pages are
 * handed out, so that thousands of them do not break up the 2 MiB runs
 * guests and their copies need. A slab's chunk_extra byte is SLAB_MARK
 * (share counts stay below MM_CHUNK_MAX_SHARERS - 1). Slabs with a free
 * page are on a list; an empty one goes back to the pool. Under pool_lock. */
#define SLAB_MARK 0xFFu
#define SLAB_PAGES (MM_CHUNK_BYTES / PAGE_SIZE_4K)
struct slab_hdr {
	uint64_t used[SLAB_PAGES / 64]; /* bit per page; page 0 (this) always */
	uint64_t nused;
	uint64_t prev, next;            /* slabs with a free page: their addresses */
};
static uint64_t slab_partial;           /* the first of them, 0 if none */

/* The share counts: one byte per 2 MiB up to the end of the pool. */
static int mm_chunk_init(const struct mem_range *ranges, uint32_t n)
{
	uint64_t end = 0, pa;
	uint32_t i;

	for (i = 0; i < n; i++)
		end = MAX(end, ranges[i].base + ranges[i].len);
	chunk_extra_n = ALIGN_UP(end, MM_CHUNK_BYTES) / MM_CHUNK_BYTES;
	pa = palloc_alloc(&pool, ALIGN_UP(chunk_extra_n, PAGE_SIZE_4K) / PAGE_SIZE_4K, 1, 0);
	if (!pa)
		return -ENOMEM;
	chunk_extra = phys_to_virt(pa);
	memset(chunk_extra, 0, chunk_extra_n);
	return 0;
}

static void *pool_p2v(uint64_t pa, void *ctx)
{
	(void)ctx;
	return phys_to_virt(pa);
}

/* Take the pool ranges into the allocator. 0 or -errno. */
int mm_init(const struct mem_range *ranges, uint32_t n)
{
	int rc = palloc_init(&pool, ranges, n, pool_p2v, 0);

	if (rc == 0)
		rc = mm_chunk_init(ranges, n);
	if (rc == 0)
		hv_pages = palloc_total_pages(&pool) - palloc_free_pages(&pool);
	watchdog_track_lock(&pool_lock, "memory pool");
	return rc;
}

/* Allocate npages zeroed, contiguous pages aligned to align_pages pages for
 * the hypervisor's own use. Return the physical address, or 0 if the pool is
 * exhausted. */
uint64_t mm_alloc_pages(uint64_t npages, uint64_t align_pages)
{
	uint64_t pa;

	spin_lock(&pool_lock);
	pa = palloc_alloc(&pool, npages, align_pages, 0);
	if (pa)
		hv_pages += npages;
	spin_unlock(&pool_lock);
	if (pa) /* outside the lock: other CPUs need the pool meanwhile */
		memset(phys_to_virt(pa), 0, npages * PAGE_SIZE_4K);
	return pa;
}

/* Return npages pages at pa to the pool; a bad free is a hypervisor bug. */
void mm_free_pages(uint64_t pa, uint64_t npages)
{
	int rc;

	spin_lock(&pool_lock);
	rc = palloc_free(&pool, pa, npages);
	if (rc == 0)
		hv_pages -= npages;
	spin_unlock(&pool_lock);
	if (rc)
		panic("mm: bad free of %llu pages at %#llx\n",
		      (unsigned long long)npages, (unsigned long long)pa);
}

/* Allocate npages zeroed, contiguous pages aligned to align_pages for a
 * guest's RAM (not counted as the hypervisor's own). 0 if exhausted. */
uint64_t mm_alloc_guest(uint64_t npages, uint64_t align_pages)
{
	uint64_t pa;

	spin_lock(&pool_lock);
	pa = palloc_alloc(&pool, npages, align_pages, 0);
	spin_unlock(&pool_lock);
	if (pa)
		memset(phys_to_virt(pa), 0, npages * PAGE_SIZE_4K);
	return pa;
}

/* Return guest pages to the pool. They are not scrubbed here: every
 * allocation from the pool is zeroed (above), and nothing but the
 * hypervisor can reach free pool memory, so a destroyed guest's data is
 * never seen by anyone; scrubbing here too doubled the time dom0 waited. */
void mm_free_guest(uint64_t pa, uint64_t npages)
{
	int rc;

	spin_lock(&pool_lock);
	rc = palloc_free(&pool, pa, npages);
	spin_unlock(&pool_lock);
	if (rc)
		panic("mm: bad free of %llu guest pages at %#llx\n",
		      (unsigned long long)npages, (unsigned long long)pa);
}

static uint8_t *chunk_count(uint64_t pa)
{
	uint64_t i = pa / MM_CHUNK_BYTES;

	if (pa % MM_CHUNK_BYTES || i >= chunk_extra_n)
		panic("mm: %#llx is not a guest chunk\n", (unsigned long long)pa);
	return &chunk_extra[i];
}

/* One more domain maps the guest chunk at pa (2 MiB, from mm_alloc_guest)
 * read-only. 0, or -ENOSPC if it has MM_CHUNK_MAX_SHARERS already. */
int mm_chunk_share(uint64_t pa)
{
	int rc = 0;
	uint8_t *c;

	spin_lock(&pool_lock);
	c = chunk_count(pa);
	if (*c + 1u >= MM_CHUNK_MAX_SHARERS)
		rc = -ENOSPC;
	else
		(*c)++;
	spin_unlock(&pool_lock);
	return rc;
}

/* Whether a domain other than the caller also maps the chunk at pa. */
bool mm_chunk_shared(uint64_t pa)
{
	bool shared;

	spin_lock(&pool_lock);
	shared = *chunk_count(pa) != 0;
	spin_unlock(&pool_lock);
	return shared;
}

/* A domain stops mapping the guest chunk at pa: the last one to do so
 * returns it to the pool. Returns true if it was freed. */
bool mm_chunk_put(uint64_t pa)
{
	bool last;
	uint8_t *c;
	int rc = 0;

	spin_lock(&pool_lock);
	c = chunk_count(pa);
	last = *c == 0;
	if (last)
		rc = palloc_free(&pool, pa, MM_CHUNK_BYTES / PAGE_SIZE_4K);
	else
		(*c)--;
	spin_unlock(&pool_lock);
	if (rc)
		panic("mm: bad free of guest chunk %#llx\n", (unsigned long long)pa);
	return last;
}

static struct slab_hdr *slab_of(uint64_t pa)
{
	return phys_to_virt(pa);
}

static void slab_link(uint64_t pa)
{
	struct slab_hdr *h = slab_of(pa);

	h->prev = 0;
	h->next = slab_partial;
	if (slab_partial)
		slab_of(slab_partial)->prev = pa;
	slab_partial = pa;
}

static void slab_unlink(uint64_t pa)
{
	struct slab_hdr *h = slab_of(pa);

	if (h->prev)
		slab_of(h->prev)->next = h->next;
	else
		slab_partial = h->next;
	if (h->next)
		slab_of(h->next)->prev = h->prev;
	h->prev = h->next = 0;
}

/* A new slab from the pool, on the list; 0 if the pool has no 2 MiB. */
static uint64_t slab_new(void)
{
	uint64_t pa = palloc_alloc(&pool, SLAB_PAGES, SLAB_PAGES, 0);
	struct slab_hdr *h;

	if (!pa)
		return 0;
	h = slab_of(pa);
	memset(h, 0, sizeof(*h));
	h->used[0] = 1;
	h->nused = 1;
	chunk_extra[pa / MM_CHUNK_BYTES] = SLAB_MARK;
	slab_link(pa);
	return pa;
}

/* Take a free page of the slab at pa. */
static uint64_t slab_take(uint64_t pa)
{
	struct slab_hdr *h = slab_of(pa);
	uint32_t w, b;

	for (w = 0; h->used[w] == ~0ull; w++)
		;
	b = (uint32_t)__builtin_ctzll(~h->used[w]);
	h->used[w] |= 1ull << b;
	if (++h->nused == SLAB_PAGES)
		slab_unlink(pa);
	return pa + ((uint64_t)w * 64 + b) * PAGE_SIZE_4K;
}

/* One 4 KiB page of guest memory, not zeroed (the caller fills it): from
 * a slab, or, when the pool has no 2 MiB left for a new one, any page.
 * 0 if the pool is exhausted. */
uint64_t mm_alloc_guest_page(void)
{
	uint64_t pa;

	spin_lock(&pool_lock);
	if (slab_partial || slab_new())
		pa = slab_take(slab_partial);
	else
		pa = palloc_alloc(&pool, 1, 1, 0);
	spin_unlock(&pool_lock);
	return pa;
}

/* Return a page of mm_alloc_guest_page; its slab goes back to the pool
 * when it was the last page in use. A bad free is a hypervisor bug. */
void mm_free_guest_page(uint64_t pa)
{
	uint64_t i = pa / MM_CHUNK_BYTES, slab = i * MM_CHUNK_BYTES, page;
	struct slab_hdr *h;
	int rc = 0;

	spin_lock(&pool_lock);
	if (i >= chunk_extra_n || chunk_extra[i] != SLAB_MARK) {
		rc = palloc_free(&pool, pa, 1);
		goto out;
	}
	h = slab_of(slab);
	page = (pa - slab) / PAGE_SIZE_4K;
	if (pa % PAGE_SIZE_4K || page == 0 || !(h->used[page / 64] & (1ull << (page % 64)))) {
		rc = -EINVAL;
		goto out;
	}
	h->used[page / 64] &= ~(1ull << (page % 64));
	if (h->nused-- == SLAB_PAGES)
		slab_link(slab);
	if (h->nused == 1) {
		slab_unlink(slab);
		chunk_extra[i] = 0;
		rc = palloc_free(&pool, slab, SLAB_PAGES);
	}
out:
	spin_unlock(&pool_lock);
	if (rc)
		panic("mm: bad free of guest page %#llx\n", (unsigned long long)pa);
}

/* Keep [pa, pa+len) out of the pool (boot modules still in use). */
int mm_reserve(uint64_t pa, uint64_t len)
{
	int rc;

	spin_lock(&pool_lock);
	rc = palloc_reserve(&pool, pa, len);
	spin_unlock(&pool_lock);
	return rc;
}

/* Bytes free in the pool. */
uint64_t mm_free_bytes(void)
{
	return palloc_free_pages(&pool) * PAGE_SIZE_4K;
}

/* Bytes the pool has in all. */
uint64_t mm_total_bytes(void)
{
	return palloc_total_pages(&pool) * PAGE_SIZE_4K;
}

/* Bytes of the pool the hypervisor uses for itself (tables, stacks...). */
uint64_t mm_hv_bytes(void)
{
	return hv_pages * PAGE_SIZE_4K;
}

static uint64_t pt_alloc_table(void *ctx)
{
	(void)ctx;
	return mm_alloc_pages(1, 1);
}

static void pt_free_table(uint64_t pa, void *ctx)
{
	(void)ctx;
	mm_free_pages(pa, 1);
}

/* Set up pt to allocate its tables from the pool; root is allocated here
 * if pt->root_pa is 0. */
void mm_pt_init(struct pt_ctx *pt)
{
	pt->p2v = pool_p2v;
	pt->alloc_table = pt_alloc_table;
	pt->free_table = pt_free_table;
	pt->ctx = 0;
	if (!pt->root_pa)
		pt->root_pa = pt_alloc_table(0);
}
