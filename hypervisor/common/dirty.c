/*
 * A guest's dirty page log, for a live save and live migration (issue 17):
 * dom0 copies the guest's RAM while it runs, then, in rounds, the pages it
 * wrote meanwhile. While the log is on, every 4 KiB page of the guest's
 * RAM is mapped read-only in its nested page table (AMD APM vol. 2, 15.25.5;
 * Intel SDM vol. 3C, 29.3.3.2, EPT violations) until the guest writes it:
 * the write faults, the page's bit is set and the page is mapped writable
 * again, so each page costs one exit per round. Writes the hypervisor
 * makes for the guest (device models through domain_map_ram,
 * domain_copy_to_guest) set bits without a fault. dirty_read hands dom0
 * the bits of a range and clears them, after write-protecting those pages
 * again and flushing every vCPU's stale translations, so a write that
 * comes after the read is marked again. Xen's log-dirty mode and KVM's
 * dirty bitmap work the same way when the CPU has no dirty bits to offer.
 *
 * Rules that keep it simple: the log starts only for a guest that holds
 * all of its RAM as its own 2 MiB chunks (no chunk shared with a clone,
 * none given back through its balloon), and while it is on, cloning the
 * guest and changing its balloon are refused (their callers test
 * dirty_on). The bitmap is changed with atomic operations; turning the log
 * on and off and reading it happen under the domain's lock.
 */
#include <keel/dirty.h>
#include <keel/domain.h>
#include <keel/vcpu_loop.h>
#include <keel/npt.h>
#include <keel/virt.h>
#include <keel/mm.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>

#define DIRTY_SYNC_TIMEOUT_NS 1000000000ull /* a vCPU leaves guest mode in microseconds */
#define DIRTY_CHUNK_PAGES (GUEST_CHUNK_BYTES / PAGE_SIZE_4K)

static uint64_t dirty_log_pages(const struct domain *d)
{
	uint64_t bytes = ALIGN_UP((uint64_t)d->nr_chunks * DIRTY_CHUNK_PAGES, 64) / 8;

	return ALIGN_UP(bytes, PAGE_SIZE_4K) / PAGE_SIZE_4K;
}

/* Whether the log of d is on; see dirty.h. */
bool dirty_on(const struct domain *d)
{
	return __atomic_load_n(&d->dirty, __ATOMIC_ACQUIRE) != 0;
}

/* Map page n of d's RAM (its chunk held) to its own memory, writable or not. */
static int dirty_map_page(struct domain *d, uint64_t n, bool writable)
{
	uint64_t c = n / DIRTY_CHUNK_PAGES;

	if (!d->chunks[c])
		return 0; /* given back by its balloon: nothing to protect */
	return npt_map(&d->npt, n * PAGE_SIZE_4K,
		       d->chunks[c] + (n % DIRTY_CHUNK_PAGES) * PAGE_SIZE_4K, PAGE_SIZE_4K,
		       writable ? virt->npt_flags_rwx : virt->npt_flags_ro, PT_PAGE_SHIFT_4K);
}

/* Map chunk c of d whole and writable again (the log is going off). */
static void dirty_unprotect_chunk(struct domain *d, uint32_t c)
{
	if (d->chunks[c] &&
	    npt_map(&d->npt, (uint64_t)c * GUEST_CHUNK_BYTES, d->chunks[c], GUEST_CHUNK_BYTES,
		    virt->npt_flags_rwx, PT_PAGE_SHIFT_2M))
		log_err("domain %u (%s): chunk %u could not be mapped whole again\n", d->id,
			d->name, c); /* a 2 MiB entry needs no new table: cannot happen */
}

/* Whether d holds every chunk of its RAM as its own. */
static bool dirty_owns_all(const struct domain *d)
{
	uint32_t c;

	if (d->cow_chunks)
		return false;
	for (c = 0; c < d->nr_chunks; c++)
		if (!d->chunks[c])
			return false;
	return true;
}

/* Turn the log of d on; see dirty.h. */
int dirty_start(struct domain *d)
{
	uint64_t pages = dirty_log_pages(d), pa, n;
	uint32_t c;
	int rc = 0;

	if (d->dirty || d->state != DOM_ACTIVE || !dirty_owns_all(d))
		return -EBUSY;
	pa = mm_alloc_pages(pages, 1);
	if (!pa)
		return -ENOMEM;
	memset(phys_to_virt(pa), 0, pages * PAGE_SIZE_4K);
	/* Split every chunk into read-only 4 KiB entries. */
	for (n = 0; rc == 0 && n < (uint64_t)d->nr_chunks * DIRTY_CHUNK_PAGES; n++)
		rc = dirty_map_page(d, n, false);
	if (rc == 0)
		rc = vcpu_loop_sync_npt(d, DIRTY_SYNC_TIMEOUT_NS);
	if (rc) {
		for (c = 0; c < d->nr_chunks; c++)
			dirty_unprotect_chunk(d, c);
		mm_free_pages(pa, pages);
		return rc;
	}
	d->dirty_pa = pa;
	d->hv_bytes += pages * PAGE_SIZE_4K;
	__atomic_store_n(&d->dirty, (uint64_t *)phys_to_virt(pa), __ATOMIC_RELEASE);
	log_info("domain %u (%s): dirty page log on (%u MiB of RAM)\n", d->id, d->name,
		 d->nr_chunks * 2);
	return 0;
}

/* Turn the log of d off; see dirty.h. */
void dirty_stop(struct domain *d)
{
	uint64_t pages = dirty_log_pages(d);
	uint32_t c;

	if (!d->dirty)
		return;
	__atomic_store_n(&d->dirty, (uint64_t *)0, __ATOMIC_RELEASE);
	if (d->chunks)
		for (c = 0; c < d->nr_chunks; c++)
			dirty_unprotect_chunk(d, c);
	/* Entries only became more permissive: a vCPU with a stale read-only
	 * one faults, and dirty_fault sees the page writable and lets it go. */
	mm_free_pages(d->dirty_pa, pages);
	d->dirty_pa = 0;
	d->hv_bytes -= pages * PAGE_SIZE_4K;
	log_info("domain %u (%s): dirty page log off\n", d->id, d->name);
}

/* Mark the pages [gpa, gpa + len) of d written; see dirty.h. */
void dirty_mark(struct domain *d, uint64_t gpa, uint64_t len)
{
	uint64_t *log = __atomic_load_n(&d->dirty, __ATOMIC_ACQUIRE);
	uint64_t n, last, limit = (uint64_t)d->nr_chunks * DIRTY_CHUNK_PAGES;

	if (!log || len == 0)
		return;
	last = (gpa + len - 1) / PAGE_SIZE_4K;
	for (n = gpa / PAGE_SIZE_4K; n <= last && n < limit; n++)
		__atomic_fetch_or(&log[n / 64], 1ull << (n % 64), __ATOMIC_RELAXED);
}

/* A write fault of v inside its RAM; see dirty.h. */
int dirty_fault(struct vcpu *v, uint64_t gpa)
{
	struct domain *d = v->dom;
	uint64_t n = gpa / PAGE_SIZE_4K, flags;
	int rc = 1;

	if (d->is_dom0 || gpa / GUEST_CHUNK_BYTES >= d->nr_chunks)
		return 1;
	spin_lock(&d->lock);
	if (d->dirty) {
		dirty_mark(d, gpa, 1);
		rc = dirty_map_page(d, n, true);
	} else if (pt_lookup(&d->npt, gpa, 0, &flags, 0) == 0 &&
		   (flags & (virt->npt_flags_rwx ^ virt->npt_flags_ro))) {
		rc = 0; /* writable now: a translation left from before dirty_stop */
	}
	spin_unlock(&d->lock);
	if (rc == 0)
		virt->vcpu_flush_npt(v);
	else if (rc < 0)
		log_warn("domain %u (%s): the page it wrote at %#llx could not be mapped writable (%d)\n",
			 d->id, d->name, (unsigned long long)gpa, rc);
	return rc;
}

/* Hand dom0 the marks of a range and clear them; see dirty.h. */
int dirty_read(struct domain *d, uint64_t first, uint32_t nr, uint8_t *out, uint32_t *count)
{
	uint64_t *log = d->dirty, w, bits, i;
	uint32_t k, set = 0;
	int rc;

	if (!log)
		return -ENODEV;
	if ((first | nr) % 64 || first > (uint64_t)d->nr_chunks * DIRTY_CHUNK_PAGES ||
	    nr > (uint64_t)d->nr_chunks * DIRTY_CHUNK_PAGES - first)
		return -EINVAL;
	/* Write-protect what was written, then make every vCPU forget its
	 * writable translations; only then take the marks, so that a write
	 * after this point is caught again and one before it is in the copy
	 * dom0 makes next. */
	for (i = 0; i < nr / 64; i++) {
		w = __atomic_load_n(&log[first / 64 + i], __ATOMIC_RELAXED);
		for (k = 0; k < 64; k++)
			if ((w >> k) & 1 && dirty_map_page(d, first + i * 64 + k, false))
				return -ENOMEM; /* the 4 KiB table exists: cannot happen */
	}
	rc = vcpu_loop_sync_npt(d, DIRTY_SYNC_TIMEOUT_NS);
	if (rc)
		return rc;
	for (i = 0; i < nr / 64; i++) {
		bits = __atomic_exchange_n(&log[first / 64 + i], 0, __ATOMIC_ACQ_REL);
		memcpy(out + i * 8, &bits, 8);
		set += bits_set64(bits);
	}
	*count = set;
	return 0;
}

/* Pages of RAM the log of d covers; see dirty.h. */
uint64_t dirty_ram_pages(const struct domain *d)
{
	return (uint64_t)d->nr_chunks * DIRTY_CHUNK_PAGES;
}
