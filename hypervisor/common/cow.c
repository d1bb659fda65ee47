/*
 * Copy-on-write guest RAM, for `keel clone`: a new domain starts with
 * every 2 MiB chunk of its source's RAM, mapped read-only in both nested
 * page tables and counted by the pool (mm_chunk_share), so a clone costs
 * its tables and devices, not its RAM. The first write to a 4 KiB page of
 * a shared chunk, by a vCPU (a nested page fault) or by the hypervisor for
 * the domain (domain_copy_to_guest, or a device model writing into one
 * page of its rings through domain_map_ram), copies that page alone: the
 * chunk's 2 MiB entry is split into 4 KiB ones, the copy is mapped
 * writable and the rest stays shared. Once a domain has copied
 * COW_PROMOTE_PAGES pages of a chunk, or writes across pages in one go,
 * or is the last domain that maps it, the chunk becomes its own 2 MiB
 * again (a copy, or the shared chunk itself taken back writable, with the
 * copied pages folded in and freed). A chunk is freed when the last
 * domain that maps it lets go (mm_chunk_put); a domain's copied pages are
 * its own and go with it.
 */
#include <keel/cow.h>
#include <keel/domain.h>
#include <keel/vcpu_loop.h>
#include <keel/sched.h>
#include <keel/npt.h>
#include <keel/virt.h>
#include <keel/mm.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/compiler.h>

#define COW_SYNC_TIMEOUT_NS 1000000000ull /* a vCPU leaves guest mode in microseconds */
#define COW_CHUNK_PAGES (GUEST_CHUNK_BYTES / PAGE_SIZE_4K)
/* Pages of a chunk a domain copies one by one before it takes the whole
 * chunk: past half, 4 KiB copies save little and cost a fault each. */
#define COW_PROMOTE_PAGES (COW_CHUNK_PAGES / 2)

static bool cow_test(const struct domain *d, uint32_t c)
{
	return d->cow && (d->cow[c / 64] >> (c % 64)) & 1;
}

static void cow_mark(struct domain *d, uint32_t c, bool on)
{
	if (on) {
		d->cow[c / 64] |= 1ull << (c % 64);
		d->cow_chunks++;
	} else {
		d->cow[c / 64] &= ~(1ull << (c % 64));
		d->cow_chunks--;
	}
}

/* Whether chunk c of d is shared copy-on-write; see cow.h. */
bool cow_chunk_shared(const struct domain *d, uint32_t c)
{
	return c < d->nr_chunks && cow_test(d, c);
}

/* Pages of chunk c that d has copied (its 2 MiB entry is split); see cow.h. */
uint32_t cow_chunk_copied(const struct domain *d, uint32_t c)
{
	return cow_chunk_shared(d, c) ? d->cow_priv[c] : 0;
}

static int cow_map(struct domain *d, uint32_t c, uint64_t pa, bool writable)
{
	return npt_map(&d->npt, (uint64_t)c * GUEST_CHUNK_BYTES, pa, GUEST_CHUNK_BYTES,
		       writable ? virt->npt_flags_rwx : virt->npt_flags_ro, PT_PAGE_SHIFT_2M);
}

static int cow_map_page(struct domain *d, uint64_t gpa, uint64_t pa, bool writable)
{
	return npt_map(&d->npt, gpa, pa, PAGE_SIZE_4K,
		       writable ? virt->npt_flags_rwx : virt->npt_flags_ro, PT_PAGE_SHIFT_4K);
}

/* Where d's page at gpa (4 KiB-aligned, in chunk c, which is shared)
 * lives: *pa, and whether it is a copy of d's own (outside the chunk)
 * and mapped writable. 0 or -EFAULT (not mapped: a hypervisor bug). */
static int cow_page(const struct domain *d, uint32_t c, uint64_t gpa, uint64_t *pa,
		    bool *copied, bool *writable)
{
	uint64_t flags;

	if (pt_lookup(&d->npt, gpa, pa, &flags, 0))
		return -EFAULT;
	*copied = (*pa & ~(GUEST_CHUNK_BYTES - 1)) != d->chunks[c];
	*writable = (flags & (virt->npt_flags_rwx ^ virt->npt_flags_ro)) != 0;
	return 0;
}

/* Make every page d copied out of chunk c read-only and list them in
 * list (host address | page index). Returns how many. d->lock held. */
static uint32_t cow_freeze(struct domain *d, uint32_t c, uint64_t *list)
{
	uint64_t base = (uint64_t)c * GUEST_CHUNK_BYTES, pa;
	bool copied, writable;
	uint32_t i, n = 0;

	for (i = 0; i < COW_CHUNK_PAGES; i++) {
		uint64_t gpa = base + (uint64_t)i * PAGE_SIZE_4K;

		if (cow_page(d, c, gpa, &pa, &copied, &writable) || !copied)
			continue;
		list[n++] = pa | i;
		if (writable)
			cow_map_page(d, gpa, pa, false); /* the table exists: cannot fail */
	}
	return n;
}

/* dst, which now shares chunk c with src, gets its own copy of each page
 * src copied out of it (src is paused: they do not change meanwhile). 0,
 * or -ENOMEM (those copied so far are dst's, counted, to free). */
static int cow_copy_copies(struct domain *dst, struct domain *src, uint32_t c)
{
	uint64_t base = (uint64_t)c * GUEST_CHUNK_BYTES, pa, copy;
	bool copied, writable;
	uint32_t i;

	for (i = 0; i < COW_CHUNK_PAGES; i++) {
		uint64_t gpa = base + (uint64_t)i * PAGE_SIZE_4K;

		if (cow_page(src, c, gpa, &pa, &copied, &writable) || !copied)
			continue;
		copy = mm_alloc_guest_page();
		if (!copy)
			return -ENOMEM;
		memcpy(phys_to_virt(copy), phys_to_virt(pa), PAGE_SIZE_4K);
		if (cow_map_page(dst, gpa, copy, true)) {
			mm_free_guest_page(copy);
			return -ENOMEM;
		}
		dst->cow_priv[c]++;
		dst->cow_pages++;
	}
	return 0;
}

/* Share src's RAM with dst; see cow.h. */
int cow_share(struct domain *dst, struct domain *src)
{
	uint32_t c;
	int rc;

	if (dst->nr_chunks != src->nr_chunks || !dst->cow || !src->cow)
		return -EINVAL;
	spin_lock(&src->lock);
	for (c = 0, rc = 0; c < src->nr_chunks && rc == 0; c++) {
		uint64_t pa = src->chunks[c];

		if (!pa || dst->chunks[c])
			continue; /* in the pool (the balloon gave it back) */
		if (!cow_test(src, c)) {
			rc = cow_map(src, c, pa, false);
			if (rc)
				break;
			cow_mark(src, c, true);
		}
		rc = mm_chunk_share(pa);
		if (rc)
			break;
		rc = cow_map(dst, c, pa, false);
		if (rc) {
			mm_chunk_put(pa);
			break;
		}
		dst->chunks[c] = pa;
		cow_mark(dst, c, true);
		/* A chunk src copied pages of is shared as src sees it: the
		 * rest of the chunk, and copies of src's copies. */
		if (cow_chunk_copied(src, c))
			rc = cow_copy_copies(dst, src, c);
	}
	spin_unlock(&src->lock);
	/* src's vCPUs flush before they enter again: none is in guest mode
	 * (the caller paused src), so this does not wait. */
	if (vcpu_loop_sync_npt(src, COW_SYNC_TIMEOUT_NS))
		rc = rc ? rc : -EBUSY;
	return rc;
}

/* Fold the n pages in list (cow_freeze) into the chunk at pa. */
static void cow_fold(uint64_t pa, const uint64_t *list, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		memcpy(phys_to_virt(pa + (list[i] & (PAGE_SIZE_4K - 1)) * PAGE_SIZE_4K),
		       phys_to_virt(list[i] & ~(PAGE_SIZE_4K - 1)), PAGE_SIZE_4K);
}

/* Chunk c of d, with the n copied pages in list folded into pa, is d's
 * own 2 MiB at pa now: map it writable, and once every vCPU of d has
 * flushed, free the copies and let go of the old chunk. */
static int cow_own(struct domain *d, uint32_t c, uint64_t pa, const uint64_t *list, uint32_t n)
{
	uint64_t old = d->chunks[c];
	uint32_t i;
	int rc = cow_map(d, c, pa, true);

	if (rc)
		return rc;
	d->chunks[c] = pa;
	cow_mark(d, c, false);
	d->cow_pages -= d->cow_priv[c];
	d->cow_priv[c] = 0;
	if (pa == old && n == 0)
		return 0; /* same pages, now writable: a stale entry only faults again */
	/* A vCPU that still has an old translation would read the old copy. */
	rc = vcpu_loop_sync_npt(d, COW_SYNC_TIMEOUT_NS);
	if (rc) { /* it may still read them: they are lost, not handed on */
		log_warn("domain %u (%s): a vCPU did not flush; %u KiB of copied memory kept out of the pool\n",
			 d->id, d->name, (uint32_t)(n + (pa != old ? COW_CHUNK_PAGES : 0)) * 4);
		return rc;
	}
	for (i = 0; i < n; i++)
		mm_free_guest_page(list[i] & ~(PAGE_SIZE_4K - 1));
	if (pa != old)
		mm_chunk_put(old); /* after the copy, so the last sharer cannot change it first */
	return 0;
}

/* Give d its own writable 2 MiB chunk c; see cow.h. */
int cow_break(struct domain *d, uint32_t c)
{
	uint64_t old, pa, list_pa = 0, *list = 0;
	uint32_t n = 0;
	int rc;

	if (!cow_chunk_shared(d, c))
		return 0;
	old = pa = d->chunks[c];
	if (d->cow_priv[c]) {
		list_pa = mm_alloc_pages(1, 1);
		if (!list_pa)
			return -ENOMEM;
		list = phys_to_virt(list_pa);
		n = cow_freeze(d, c, list);
		/* no vCPU writes a copied page while it is folded in */
		rc = vcpu_loop_sync_npt(d, COW_SYNC_TIMEOUT_NS);
		if (rc)
			goto out; /* read-only copies are made writable again on a fault */
	}
	if (mm_chunk_shared(old)) {
		pa = mm_alloc_guest(COW_CHUNK_PAGES, COW_CHUNK_PAGES);
		rc = -ENOMEM;
		if (!pa)
			goto out;
		memcpy(phys_to_virt(pa), phys_to_virt(old), GUEST_CHUNK_BYTES);
	}
	cow_fold(pa, list, n);
	rc = cow_own(d, c, pa, list, n);
	if (rc == -ENOMEM && pa != old)
		mm_free_guest(pa, COW_CHUNK_PAGES); /* the map failed: nothing changed */
out:
	if (list_pa)
		mm_free_pages(list_pa, 1);
	return rc;
}

/* Give d its own writable copy of the page at gpa; see cow.h. */
int cow_break_page(struct domain *d, uint64_t gpa)
{
	uint32_t c = (uint32_t)(gpa / GUEST_CHUNK_BYTES);
	uint64_t pa, copy;
	bool copied, writable, alone;
	int rc;

	gpa &= ~(PAGE_SIZE_4K - 1);
	if (!cow_chunk_shared(d, c))
		return 0;
	rc = cow_page(d, c, gpa, &pa, &copied, &writable);
	if (rc || writable)
		return rc; /* a stale entry: the caller's flush is all it needs */
	if (copied) /* left read-only by a cow_break that could not finish */
		return cow_map_page(d, gpa, pa, true);
	alone = !mm_chunk_shared(d->chunks[c]);
	if (alone || d->cow_priv[c] + 1u >= COW_PROMOTE_PAGES) {
		rc = cow_break(d, c);
		if (alone || rc != -ENOMEM)
			return rc;
	}
	copy = mm_alloc_guest_page();
	if (!copy)
		return -ENOMEM;
	memcpy(phys_to_virt(copy), phys_to_virt(pa), PAGE_SIZE_4K);
	rc = cow_map_page(d, gpa, copy, true);
	if (rc) {
		mm_free_guest_page(copy);
		return rc;
	}
	d->cow_priv[c]++;
	d->cow_pages++;
	/* A vCPU that still maps the shared page would read it, not the copy. */
	return vcpu_loop_sync_npt(d, COW_SYNC_TIMEOUT_NS);
}

/* A nested page fault inside d's RAM; see cow.h. */
int cow_fault(struct vcpu *v, uint64_t gpa)
{
	struct domain *d = v->dom;
	uint32_t c = (uint32_t)(gpa / GUEST_CHUNK_BYTES);
	int rc;

	if (!cow_chunk_shared(d, c))
		return 1;
	spin_lock(&d->lock);
	rc = cow_break_page(d, gpa);
	spin_unlock(&d->lock);
	virt->vcpu_flush_npt(v); /* its own entry for the page is read-only */
	if (rc == -ENOMEM)
		log_warn("domain %u (%s) wrote to memory it shares with a clone at %#llx, and the pool has no page left for its own copy\n",
			 d->id, d->name, (unsigned long long)gpa);
	else if (rc)
		log_warn("domain %u (%s): a vCPU did not leave guest mode while a shared page was copied (%d)\n",
			 d->id, d->name, rc);
	return rc;
}

/* Free the pages d copied out of chunk c as it goes; see cow.h. */
void cow_drop_copies(struct domain *d, uint32_t c)
{
	uint64_t base = (uint64_t)c * GUEST_CHUNK_BYTES, pa;
	bool copied, writable;
	uint32_t i;

	if (!cow_chunk_copied(d, c))
		return;
	for (i = 0; i < COW_CHUNK_PAGES; i++)
		if (cow_page(d, c, base + (uint64_t)i * PAGE_SIZE_4K, &pa, &copied, &writable) == 0 &&
		    copied)
			mm_free_guest_page(pa);
	d->cow_pages -= d->cow_priv[c];
	d->cow_priv[c] = 0;
}

/* Chunk c leaves d (its balloon returns it); see cow.h. */
void cow_forget(struct domain *d, uint32_t c)
{
	if (cow_chunk_shared(d, c))
		cow_mark(d, c, false);
}

/* Map chunk pa back at c of d; see cow.h. */
int cow_remap(struct domain *d, uint32_t c, uint64_t pa)
{
	bool shared = mm_chunk_shared(pa);
	int rc = cow_map(d, c, pa, !shared);

	if (rc)
		return rc;
	d->chunks[c] = pa;
	if (shared)
		cow_mark(d, c, true);
	return 0;
}
