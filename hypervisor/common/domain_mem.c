/*
 * A domain's memory as the hypervisor reaches it: copying between
 * hypervisor memory and a domain's guest-physical RAM (checked against the
 * domain's RAM list and translated through its nested page table, so a bad
 * address can only fail, never reach other memory), mapping guest RAM for
 * the device models' ring code, and fetching the instruction at a vCPU's
 * RIP through its own page tables. Before the hypervisor writes a page
 * a guest shares with a clone, the guest gets its own copy (cow.h).
 * A leaf: it calls nothing of domain.c.
 */
#include <keel/domain.h>
#include <keel/mm.h>
#include <keel/errno.h>
#include <keel/compiler.h>
#include <asm/boot.h>
#include <keel/string.h>
#include <keel/virt.h>
#include <keel/guest_walk.h>
#include <keel/decode.h>
#include <keel/cow.h>
#include <keel/dirty.h>
#include <keel/log.h>
#include <asm/x86.h>

/* Make every page of guest d that [gpa, gpa+len) touches its own before
 * the hypervisor writes there. d->lock held if d shares memory. 0 or
 * -errno (cow_break_page). */
static int domain_unshare(struct domain *d, uint64_t gpa, uint64_t len)
{
	uint64_t p, last = (gpa + len - 1) & ~(PAGE_SIZE_4K - 1);
	int rc = 0;

	if (!d->cow_chunks)
		return 0;
	for (p = gpa & ~(PAGE_SIZE_4K - 1); p <= last && rc == 0; p += PAGE_SIZE_4K)
		rc = cow_break_page(d, p);
	return rc;
}

/* Walk [gpa, gpa+len) of d page by page; call fn on each host chunk; for
 * a write, shared pages are copied first. While d shares memory with a
 * clone, another CPU's fault may fold a page copy into its chunk and free
 * it at any moment, so the lookups and copies then run under d's lock
 * (no caller holds it). */
static int domain_walk(struct domain *d, uint64_t gpa, uint64_t len, bool write,
		       void (*fn)(void *host, uint64_t off, uint64_t n, void *arg),
		       void *arg)
{
	uint64_t off = 0;
	bool locked;
	int rc = 0;

	if (len == 0)
		return 0;
	if (!memmap_contains(d->ram, d->nr_ram, gpa, len))
		return -EFAULT;
	locked = !d->is_dom0 && d->cow_chunks;
	if (locked)
		spin_lock(&d->lock);
	if (write && domain_unshare(d, gpa, len))
		rc = -ENOMEM;
	while (rc == 0 && off < len) {
		uint64_t g = gpa + off, hpa, flags;
		uint64_t n = MIN(len - off, PAGE_SIZE_4K - (g & (PAGE_SIZE_4K - 1)));
		uint32_t shift;

		if (pt_lookup(&d->npt, g, &hpa, &flags, &shift)) {
			rc = -EFAULT;
			break;
		}
		fn(phys_to_virt(hpa), off, n, arg);
		off += n;
	}
	if (write && rc == 0)
		dirty_mark(d, gpa, len); /* after the copy: see dirty.h */
	if (locked)
		spin_unlock(&d->lock);
	return rc;
}

static void chunk_from_guest(void *host, uint64_t off, uint64_t n, void *arg)
{
	memcpy((uint8_t *)arg + off, host, n);
}

static void chunk_to_guest(void *host, uint64_t off, uint64_t n, void *arg)
{
	memcpy(host, (const uint8_t *)arg + off, n);
}

/* Copy len bytes at guest-physical gpa of d into dst; see domain.h. */
int domain_copy_from_guest(struct domain *d, void *dst, uint64_t gpa, uint64_t len)
{
	return domain_walk(d, gpa, len, false, chunk_from_guest, dst);
}

static int gpa_read(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	return domain_copy_from_guest(ctx, buf, gpa, len);
}

static enum cpu_mode mode_of(const struct vcpu_paging_state *ps)
{
	if ((ps->efer & EFER_LMA) && ps->cs_long)
		return CPU_MODE_LONG64;
	if (!(ps->cr0 & CR0_PE))
		return CPU_MODE_REAL;
	return ps->cs_db ? CPU_MODE_PROT32 : CPU_MODE_PROT16;
}

/* Fetch the instruction at v's RIP; see domain.h. */
int domain_fetch_insn(struct vcpu *v, uint8_t code[DECODE_MAX_INSN_LEN], uint32_t *got,
		      enum cpu_mode *mode, uint64_t *rip)
{
	struct vcpu_paging_state ps;
	struct guest_paging gp;

	virt->vcpu_paging_state(v, &ps);
	*mode = mode_of(&ps);
	gp.cr0 = ps.cr0;
	gp.cr3 = ps.cr3;
	gp.cr4 = ps.cr4;
	gp.efer = ps.efer;
	*rip = (*mode == CPU_MODE_LONG64) ? v->regs.rip : ps.cs_base + (uint32_t)v->regs.rip;
	return guest_fetch(&gp, *rip, code, DECODE_MAX_INSN_LEN, gpa_read, v->dom, got);
}

/* Copy len bytes from src to guest-physical gpa of d; see domain.h. */
int domain_copy_to_guest(struct domain *d, uint64_t gpa, const void *src, uint64_t len)
{
	return domain_walk(d, gpa, len, true, chunk_to_guest, (void *)(uintptr_t)src);
}

/* Guest RAM for device models' ring code (struct guest_mem_ops.map, ctx =
 * the domain, whose lock is held): a host pointer for [gpa, gpa+len) if it
 * lies inside one 2 MiB chunk of the guest's RAM that the guest holds
 * (not one its balloon returned to the pool), else NULL. The models write
 * through it, so memory shared with a clone is made the guest's own
 * first: the page alone if the range lies in one, else the chunk; if the
 * pool has no memory for that copy, NULL. With the dirty page log on, the
 * range is marked written (reads too: the models do not say which). */
void *domain_map_ram(void *ctx, uint64_t gpa, uint32_t len)
{
	struct domain *d = ctx;
	uint64_t chunk = gpa / GUEST_CHUNK_BYTES, off = gpa % GUEST_CHUNK_BYTES, hpa;
	int rc;

	if (chunk >= d->nr_chunks || off + len > GUEST_CHUNK_BYTES || len == 0 ||
	    !d->chunks[chunk])
		return 0;
	/* The model may write there before d->lock is dropped, and the log
	 * is read under that lock: marked now, the write cannot be missed. */
	dirty_mark(d, gpa, len);
	if (!cow_chunk_shared(d, (uint32_t)chunk))
		return (uint8_t *)phys_to_virt(d->chunks[chunk]) + off;
	if ((gpa & (PAGE_SIZE_4K - 1)) + len <= PAGE_SIZE_4K)
		rc = cow_break_page(d, gpa);
	else
		rc = cow_break(d, (uint32_t)chunk);
	if (rc == 0)
		rc = pt_lookup(&d->npt, gpa, &hpa, 0, 0);
	if (rc) {
		log_warn("domain %u (%s): a device wrote to memory shared with a clone at %#llx, and it could not have its own copy (%d)\n",
			 d->id, d->name, (unsigned long long)gpa, rc);
		return 0;
	}
	return phys_to_virt(hpa);
}
