/*
 * A guest's memory balloon: the virtio-balloon device (devices/
 * virtio_balloon.c) every guest has, and what the pages it moves mean for
 * the guest's RAM, which is allocated in 2 MiB chunks. The guest gives
 * 4 KiB pages (a bit each in in_balloon); a chunk whose 512 pages are all
 * given is unmapped from the nested page table and, once every vCPU of the
 * guest has left guest mode and will flush its TLB before it runs again
 * (sched_flush_lazy), returned to the pool. That release runs in dom0's
 * KEEL_HC_DOMAIN_BALLOON calls (keel mem-set waits in them), never on a
 * guest's own CPU. A page the guest takes back, or touches, in a returned
 * chunk brings a zeroed chunk back: one of the spares keel mem-set set
 * aside when it grew the guest, or one from the pool.
 * The device's calls run under the domain's lock (vpci.c).
 */
#include <keel/balloon.h>
#include <keel/domain.h>
#include <keel/dirty.h>
#include <keel/vpc.h>
#include <keel/vpci.h>
#include <keel/irq_route.h>
#include <keel/sched.h>
#include <keel/npt.h>
#include <keel/cow.h>
#include <keel/virt.h>
#include <keel/mm.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/compiler.h>

#define PAGES_PER_CHUNK (GUEST_CHUNK_BYTES / PAGE_SIZE_4K)
#define WORDS_PER_CHUNK (PAGES_PER_CHUNK / 64u)
#define RECLAIM_BATCH 32u
#define FLUSH_TIMEOUT_NS 200000000ull /* a pool CPU answers in microseconds */

static uint64_t self_bytes(uint32_t nr_chunks)
{
	return ALIGN_UP(sizeof(struct balloon), 64) +
	       (uint64_t)nr_chunks * (WORDS_PER_CHUNK + 1) * sizeof(uint64_t);
}

static void deliver(struct domain *d, const struct msi_msg *m, uint32_t n, uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		irq_route_msi(d, m[i].address, m[i].data, kick);
}

/* Map a zeroed chunk at chunk index c, which is in the pool: a spare
 * first, else a fresh one. d->lock held. 0 or -ENOMEM. */
static int chunk_populate(struct domain *d, uint32_t c)
{
	struct balloon *b = d->pc->balloon;
	uint64_t pa = b->nr_spare ? b->spare[--b->nr_spare] : mm_alloc_guest(PAGES_PER_CHUNK, PAGES_PER_CHUNK);
	int rc;

	if (!pa)
		return -ENOMEM;
	rc = npt_map(&d->npt, (uint64_t)c * GUEST_CHUNK_BYTES, pa, GUEST_CHUNK_BYTES,
		     virt->npt_flags_rwx, PT_PAGE_SHIFT_2M);
	if (rc) {
		mm_free_guest(pa, PAGES_PER_CHUNK);
		return rc;
	}
	d->chunks[c] = pa;
	b->released--;
	return 0;
}

/* virtio_balloon_page_fn: pfn given to (inflate) or taken back from the
 * balloon. ctx is the domain. */
static int balloon_page(void *ctx, uint32_t pfn, bool inflate)
{
	struct domain *d = ctx;
	struct balloon *b = d->pc->balloon;
	uint32_t c = (uint32_t)(pfn / PAGES_PER_CHUNK);
	uint64_t bit = 1ull << (pfn % 64);

	if (c >= d->nr_chunks)
		return -EINVAL;
	if (inflate) {
		b->in_balloon[pfn / 64] |= bit;
		return 0;
	}
	b->in_balloon[pfn / 64] &= ~bit;
	return d->chunks[c] ? 0 : chunk_populate(d, c);
}

/* The guest wrote the balloon's I/O BAR (vpci_notified_fn). d->lock held. */
static void balloon_notified(struct domain *d, uint32_t index, uint32_t *kick)
{
	struct guest_mem_ops mem = { .map = domain_map_ram, .ctx = d };
	struct balloon *b = d->pc->balloon;
	struct msi_msg msgs[VIRTIO_BALLOON_MAX_MSGS];
	uint32_t n, round;

	(void)index;
	for (round = 0; round < 8 && b->dev.pending; round++) {
		if (virtio_balloon_process(&b->dev, &mem, balloon_page, d, msgs, &n))
			round = 8;
		deliver(d, msgs, n, kick);
	}
}

/* Give d its balloon device; see balloon.h. */
int balloon_attach(struct domain *d)
{
	uint64_t pages = ALIGN_UP(self_bytes(d->nr_chunks), PAGE_SIZE_4K) / PAGE_SIZE_4K;
	uint64_t pa = mm_alloc_pages(pages, 1);
	struct balloon *b;
	int rc;

	if (!pa)
		return -ENOMEM;
	b = phys_to_virt(pa);
	b->self_pages = pages;
	b->in_balloon = (uint64_t *)((uint8_t *)b + ALIGN_UP(sizeof(*b), 64));
	b->spare = b->in_balloon + (uint64_t)d->nr_chunks * WORDS_PER_CHUNK;
	b->max_bytes = d->ram_bytes;
	virtio_balloon_init(&b->dev, BALLOON_IO_BASE, BALLOON_MEM_BASE);
	rc = vpci_add(d, BALLOON_PCI_DEV, &b->dev.vp, balloon_notified, 0);
	if (rc) {
		mm_free_pages(pa, pages);
		return rc;
	}
	d->pc->balloon = b;
	d->hv_bytes += pages * PAGE_SIZE_4K;
	return 0;
}

/* Take over src's balloon pages for its clone dst; see balloon.h. */
void balloon_clone(struct domain *dst, const struct domain *src)
{
	struct balloon *b = dst->pc->balloon;
	uint32_t c;

	memcpy(b->in_balloon, src->pc->balloon->in_balloon,
	       (uint64_t)dst->nr_chunks * WORDS_PER_CHUNK * sizeof(uint64_t));
	b->released = 0;
	for (c = 0; c < dst->nr_chunks; c++)
		b->released += !dst->chunks[c];
}

/* Free d's balloon and spares; see balloon.h. */
void balloon_detach(struct domain *d)
{
	struct balloon *b = d->pc->balloon;

	if (!b)
		return;
	while (b->nr_spare)
		mm_free_guest(b->spare[--b->nr_spare], PAGES_PER_CHUNK);
	d->pc->balloon = 0;
	mm_free_pages(virt_to_phys(b), b->self_pages);
}

static bool chunk_all_given(const struct balloon *b, uint32_t c)
{
	const uint64_t *w = b->in_balloon + (uint64_t)c * WORDS_PER_CHUNK;
	uint32_t i;

	for (i = 0; i < WORDS_PER_CHUNK; i++)
		if (w[i] != ~0ull)
			return false;
	return true;
}

/* Have every vCPU of d leave guest mode and flush its TLB before it next
 * enters. false if one did not answer. */
static bool vcpus_flush(struct domain *d)
{
	bool ok = true;
	uint32_t i;

	for (i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpus[i];

		if (v->cpu && sched_flush_lazy(v, FLUSH_TIMEOUT_NS))
			ok = false; /* (no CPU: never ran, holds nothing) */
	}
	return ok;
}

struct reclaim_batch {
	uint32_t n;
	uint32_t chunk[RECLAIM_BATCH];
	uint64_t pa[RECLAIM_BATCH];
};

/* Unmap up to RECLAIM_BATCH chunks the guest gave whole. d->lock held. */
static void reclaim_collect(struct domain *d, struct reclaim_batch *r)
{
	struct balloon *b = d->pc->balloon;
	uint32_t c;

	r->n = 0;
	for (c = 0; c < d->nr_chunks && r->n < RECLAIM_BATCH; c++) {
		if (!d->chunks[c] || !chunk_all_given(b, c) || cow_chunk_copied(d, c))
			continue; /* (a chunk with copied pages stays: cow.h) */
		if (pt_unmap(&d->npt, (uint64_t)c * GUEST_CHUNK_BYTES, GUEST_CHUNK_BYTES))
			break;
		cow_forget(d, c);
		r->chunk[r->n] = c;
		r->pa[r->n++] = d->chunks[c];
		d->chunks[c] = 0;
		b->released++;
	}
}

/* A vCPU did not answer the flush: the chunks go back where they were
 * (or, if the guest took one back meanwhile, become its spares). */
static void reclaim_undo(struct domain *d, const struct reclaim_batch *r)
{
	struct balloon *b = d->pc->balloon;
	uint32_t i;

	spin_lock(&d->lock);
	for (i = 0; i < r->n; i++) {
		uint32_t c = r->chunk[i];

		if (!d->chunks[c] && cow_remap(d, c, r->pa[i]) == 0) {
			b->released--;
		} else if (mm_chunk_shared(r->pa[i])) {
			mm_chunk_put(r->pa[i]); /* another domain keeps it */
		} else if (b->nr_spare < d->nr_chunks) {
			b->spare[b->nr_spare++] = r->pa[i];
		} else { /* cannot happen: kept out of the pool, never freed */
			log_warn("domain %u: balloon chunk %#llx kept\n", d->id,
				 (unsigned long long)r->pa[i]);
		}
	}
	spin_unlock(&d->lock);
}

/* Return to the pool every chunk the guest gave whole. */
static void balloon_reclaim(struct domain *d)
{
	struct reclaim_batch r;
	uint32_t i;

	do {
		spin_lock(&d->lock);
		reclaim_collect(d, &r);
		spin_unlock(&d->lock);
		if (!r.n)
			return;
		if (!vcpus_flush(d)) {
			log_warn("domain %u (%s): a vCPU did not leave guest mode; its balloon keeps %u chunks\n",
				 d->id, d->name, r.n);
			reclaim_undo(d, &r);
			return;
		}
		for (i = 0; i < r.n; i++)
			mm_chunk_put(r.pa[i]); /* a clone may still map it */
	} while (r.n == RECLAIM_BATCH);
}

/* Spares are for a growth in progress; once the guest has deflated to its
 * target they go back to the pool. A spare was never mapped, except one
 * from reclaim_undo, so they are freed after a flush. */
static void balloon_trim(struct domain *d)
{
	struct balloon *b = d->pc->balloon;

	if (!b->nr_spare || b->dev.actual > b->dev.num_pages || !vcpus_flush(d))
		return;
	spin_lock(&d->lock);
	while (b->nr_spare && b->dev.actual <= b->dev.num_pages)
		mm_free_guest(b->spare[--b->nr_spare], PAGES_PER_CHUNK);
	spin_unlock(&d->lock);
}

/* Chunks a growth to num_pages may bring back: one per 512 pages the
 * guest deflates, at most the chunks in the pool. */
static uint32_t growth_chunks(const struct balloon *b, uint32_t num_pages)
{
	uint64_t deflate = b->dev.actual > num_pages ? b->dev.actual - num_pages : 0;
	uint64_t need = (deflate + PAGES_PER_CHUNK - 1) / PAGES_PER_CHUNK;

	return (uint32_t)MIN(need, (uint64_t)b->released);
}

/* Set aside spares for a growth to num_pages. 0 or -ENOMEM (none kept). */
static int balloon_reserve(struct domain *d, uint32_t num_pages)
{
	struct balloon *b = d->pc->balloon;
	uint32_t want = growth_chunks(b, num_pages), got = 0;
	uint64_t pa[RECLAIM_BATCH];

	while (b->nr_spare < want) {
		pa[got] = mm_alloc_guest(PAGES_PER_CHUNK, PAGES_PER_CHUNK);
		if (!pa[got])
			break;
		if (++got == RECLAIM_BATCH || b->nr_spare + got == want) {
			spin_lock(&d->lock);
			while (got)
				b->spare[b->nr_spare++] = pa[--got];
			spin_unlock(&d->lock);
		}
	}
	if (b->nr_spare + got >= want)
		return 0;
	while (got)
		mm_free_guest(pa[--got], PAGES_PER_CHUNK);
	return -ENOMEM;
}

static int target_check(const struct domain *d, uint64_t bytes, uint64_t ceiling)
{
	if (bytes == d->ram_bytes && bytes <= ceiling)
		return 0; /* all of it, even for a guest below the minimum */
	if (bytes % GUEST_CHUNK_BYTES || bytes < KEEL_BALLOON_MIN_BYTES || bytes > ceiling)
		return -EINVAL;
	return 0;
}

/* Ask the guest for a balloon of num_pages and interrupt it. */
static void balloon_ask(struct domain *d, uint32_t num_pages)
{
	struct msi_msg msgs[VIRTIO_BALLOON_MAX_MSGS];
	uint32_t n, kick = 0;

	spin_lock(&d->lock);
	virtio_balloon_set_target(&d->pc->balloon->dev, num_pages, msgs, &n);
	deliver(d, msgs, n, &kick);
	spin_unlock(&d->lock);
	irq_kick(d, kick);
}

static int balloon_set_target(struct domain *d, uint64_t bytes)
{
	struct balloon *b = d->pc->balloon;
	uint32_t num_pages = (uint32_t)((d->ram_bytes - bytes) / PAGE_SIZE_4K);
	int rc = target_check(d, bytes, b->max_bytes);

	if (rc)
		return rc;
	rc = balloon_reserve(d, num_pages);
	if (rc)
		return rc;
	balloon_ask(d, num_pages);
	log_info("domain %u (%s): memory target %llu MiB\n", d->id, d->name,
		 (unsigned long long)(bytes >> 20));
	return 0;
}

static int balloon_set_max(struct domain *d, uint64_t bytes)
{
	struct balloon *b = d->pc->balloon;
	int rc = target_check(d, bytes, d->ram_bytes);

	if (rc)
		return rc;
	b->max_bytes = bytes;
	if (d->ram_bytes - (uint64_t)b->dev.num_pages * PAGE_SIZE_4K > bytes)
		return balloon_set_target(d, bytes);
	return 0;
}

static void balloon_describe(const struct domain *d, struct keel_domain_balloon *o)
{
	const struct balloon *b = d->pc->balloon;
	uint64_t given = MIN((uint64_t)b->dev.actual * PAGE_SIZE_4K, d->ram_bytes);

	o->target_bytes = d->ram_bytes - (uint64_t)b->dev.num_pages * PAGE_SIZE_4K;
	o->max_bytes = b->max_bytes;
	o->ram_bytes = d->ram_bytes;
	o->guest_bytes = d->ram_bytes - given;
	o->held_bytes = ((uint64_t)d->nr_chunks - b->released + b->nr_spare) * GUEST_CHUNK_BYTES;
	o->driver_ok = virtio_balloon_driver_ok(&b->dev);
	o->reserved = 0;
}

/* KEEL_HC_DOMAIN_BALLOON; see balloon.h. */
int balloon_ctl(uint32_t domid, struct keel_domain_balloon *o)
{
	struct domain *d = domain_get(domid);
	int rc = 0;

	if (!d || d->is_dom0)
		return -ENOENT;
	if (!d->pc->balloon || d->state == DOM_DYING)
		return -EBUSY;
	/* While a live save or migration copies d, its RAM stays as it is:
	 * no chunk is given back, and no new target is set. */
	if (dirty_on(d) && o->op != KEEL_BALLOON_GET)
		return -EBUSY;
	if (d->state == DOM_ACTIVE && !dirty_on(d)) {
		balloon_reclaim(d);
		balloon_trim(d);
	}
	if (o->op == KEEL_BALLOON_SET_TARGET)
		rc = d->state == DOM_ACTIVE ? balloon_set_target(d, o->target_bytes) : -EBUSY;
	else if (o->op == KEEL_BALLOON_SET_MAX)
		rc = d->state == DOM_ACTIVE ? balloon_set_max(d, o->max_bytes) : -EBUSY;
	else if (o->op != KEEL_BALLOON_GET)
		return -EINVAL;
	balloon_describe(d, o);
	return rc;
}

/* A nested page fault inside RAM; see balloon.h. */
int balloon_fault(struct vcpu *v, uint64_t gpa)
{
	struct domain *d = v->dom;
	uint32_t c = (uint32_t)(gpa / GUEST_CHUNK_BYTES);
	int rc = 0;

	if (!d->pc->balloon || c >= d->nr_chunks)
		return -EFAULT;
	spin_lock(&d->lock);
	if (!d->chunks[c])
		rc = chunk_populate(d, c);
	else if (pt_lookup(&d->npt, gpa, 0, 0, 0))
		rc = -EFAULT; /* held but not mapped: a hypervisor bug */
	spin_unlock(&d->lock);
	if (rc == 0)
		virt->vcpu_flush_npt(v); /* a stale translation, if it was mapped */
	else if (rc == -EFAULT)
		log_warn("domain %u (%s): guest RAM at %#llx is not mapped\n", d->id, d->name,
			 (unsigned long long)gpa);
	else
		log_warn("domain %u (%s) touched memory its balloon had given back at %#llx, and the pool has none left to give it\n",
			 d->id, d->name, (unsigned long long)gpa);
	return rc;
}

/* Whether gpa's chunk is in the pool; see balloon.h. */
bool balloon_released(const struct domain *d, uint64_t gpa)
{
	uint64_t c = gpa / GUEST_CHUNK_BYTES;

	return c < d->nr_chunks && !d->chunks[c];
}

/* Save d's balloon; see balloon.h. */
void balloon_save(const struct domain *d, struct keel_state_balloon *st)
{
	virtio_balloon_save(&d->pc->balloon->dev, st);
	st->max_bytes = d->pc->balloon->max_bytes;
}

/* Load d's balloon; see balloon.h. */
int balloon_load(struct domain *d, const struct keel_state_balloon *st)
{
	struct balloon *b = d->pc->balloon;

	uint64_t target = d->ram_bytes - MIN((uint64_t)st->num_pages * PAGE_SIZE_4K, d->ram_bytes);

	if (target_check(d, st->max_bytes, d->ram_bytes) ||
	    (uint64_t)st->num_pages * PAGE_SIZE_4K % GUEST_CHUNK_BYTES ||
	    target_check(d, target, st->max_bytes) ||
	    (uint64_t)st->actual * PAGE_SIZE_4K > d->ram_bytes)
		return -EINVAL;
	if (virtio_balloon_load(&b->dev, st))
		return -EINVAL;
	b->max_bytes = st->max_bytes;
	return 0;
}
