/*
 * Copy-on-write guest RAM, for `keel clone`: a new domain starts with
 * every 2 MiB chunk of its source's RAM, mapped read-only in both nested
 * page tables and counted by the pool (mm_chunk_share), so a clone costs
 * its tables and devices, not its RAM. The first write to a shared chunk,
 * by a vCPU (a nested page fault) or by the hypervisor for the domain (a
 * device model writing into its rings, domain_map_ram), breaks the
 * sharing for that domain: it gets a private copy, or takes the chunk
 * back writable when no other domain still maps it. A chunk is freed when
 * the last domain that maps it lets go (mm_chunk_put).
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

static int cow_map(struct domain *d, uint32_t c, uint64_t pa, bool writable)
{
	return npt_map(&d->npt, (uint64_t)c * GUEST_CHUNK_BYTES, pa, GUEST_CHUNK_BYTES,
		       writable ? virt->npt_flags_rwx : virt->npt_flags_ro, PT_PAGE_SHIFT_2M);
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
	}
	spin_unlock(&src->lock);
	/* src's vCPUs flush before they enter again: none is in guest mode
	 * (the caller paused src), so this does not wait. */
	if (vcpu_loop_sync_npt(src, COW_SYNC_TIMEOUT_NS))
		rc = rc ? rc : -EBUSY;
	return rc;
}

/* Give d its own writable chunk c; see cow.h. */
int cow_break(struct domain *d, uint32_t c)
{
	uint64_t old = d->chunks[c], pa = old;
	int rc;

	if (!cow_chunk_shared(d, c))
		return 0;
	if (mm_chunk_shared(old)) {
		pa = mm_alloc_guest(COW_CHUNK_PAGES, COW_CHUNK_PAGES);
		if (!pa)
			return -ENOMEM;
		memcpy(phys_to_virt(pa), phys_to_virt(old), GUEST_CHUNK_BYTES);
	}
	rc = cow_map(d, c, pa, true);
	if (rc) {
		if (pa != old)
			mm_free_guest(pa, COW_CHUNK_PAGES);
		return rc;
	}
	d->chunks[c] = pa;
	cow_mark(d, c, false);
	if (pa == old)
		return 0; /* same page, now writable: a stale entry only faults again */
	/* A vCPU that still has the old translation would read the old copy:
	 * every one flushes before this domain writes the new one. */
	rc = vcpu_loop_sync_npt(d, COW_SYNC_TIMEOUT_NS);
	mm_chunk_put(old); /* after the copy, so the last sharer cannot change it first */
	return rc;
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
	rc = cow_break(d, c);
	spin_unlock(&d->lock);
	virt->vcpu_flush_npt(v); /* its own entry for the chunk is read-only */
	if (rc == -ENOMEM)
		log_warn("domain %u (%s) wrote to memory it shares with a clone at %#llx, and the pool has no 2 MiB left for its own copy\n",
			 d->id, d->name, (unsigned long long)gpa);
	else if (rc)
		log_warn("domain %u (%s): a vCPU did not leave guest mode while a shared chunk was copied (%d)\n",
			 d->id, d->name, rc);
	return rc;
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
