/*
 * Guest page-table walker for instruction fetch. When the hypervisor has
 * to emulate an instruction (MMIO without decode assists), it knows only
 * the guest's linear RIP; this file translates that through the guest's
 * own paging structures, read from guest-physical memory by a callback,
 * and copies the instruction bytes out, page by page. The formats are
 * those of the Intel SDM vol. 3A chapter 4 (4.3 32-bit paging, 4.4 PAE,
 * 4.5 4/5-level paging) and the AMD APM vol. 2 chapter 5 (5.2-5.3 legacy,
 * 5.3.3 PSE-36, 5.4 long mode). Access rights and reserved bits are not
 * checked: the guest just ran the code, so the CPU already accepted them.
 */
#include <stdbool.h>
#include <stdint.h>

#include <keel/errno.h>
#include <keel/guest_walk.h>

#define GW_CR0_PG (1ull << 31)
#define GW_CR4_PSE (1ull << 4)
#define GW_CR4_PAE (1ull << 5)
#define GW_CR4_LA57 (1ull << 12)
#define GW_EFER_LMA (1ull << 10)

#define GW_P (1ull << 0)  /* present, in every format */
#define GW_PS (1ull << 7) /* large page, in PDEs (and PDPTEs in long mode) */

#define GW_PAGE_SHIFT 12
#define GW_PAGE_SIZE (1ull << GW_PAGE_SHIFT)
#define GW_ADDR_MASK 0x000FFFFFFFFFF000ull /* bits 51:12 of 64-bit entries */
#define GW_ADDR32_MASK 0xFFFFF000ull       /* bits 31:12 of 32-bit entries */
#define GW_PAE_CR3_MASK 0xFFFFFFE0ull      /* PAE PDPT base, SDM 4.4.1 */
#define GW_LOW32 0xFFFFFFFFull

/* Reads one paging entry of size 4 or 8 and checks its present bit. */
static int gw_entry(gpa_read_fn rd, void *ctx, uint64_t addr, uint32_t size,
		    uint64_t *entry)
{
	uint64_t e64 = 0;
	uint32_t e32 = 0;
	int rc;

	if (size == 4) {
		rc = rd(ctx, addr, &e32, 4);
		e64 = e32;
	} else {
		rc = rd(ctx, addr, &e64, 8);
	}
	if (rc || !(e64 & GW_P))
		return -EFAULT;
	*entry = e64;
	return 0;
}

/*
 * 32-bit paging (SDM vol. 3A 4.3, APM vol. 2 5.2-5.3): a PDE maps 4 MiB
 * when CR4.PSE and PDE.PS are set, with PSE-36 address bits 39:32 taken
 * from PDE bits 20:13; otherwise it points to a table of 4 KiB PTEs.
 */
static int gw_walk32(const struct guest_paging *p, uint32_t va,
		     gpa_read_fn rd, void *ctx, uint64_t *gpa)
{
	uint64_t pde, pte;
	uint64_t addr = (p->cr3 & GW_ADDR32_MASK) + ((uint64_t)(va >> 22) << 2);

	if (gw_entry(rd, ctx, addr, 4, &pde))
		return -EFAULT;
	if ((p->cr4 & GW_CR4_PSE) && (pde & GW_PS)) {
		*gpa = (pde & 0xFFC00000ull) | (((pde >> 13) & 0xFF) << 32) |
		       (va & 0x3FFFFFu);
		return 0;
	}
	addr = (pde & GW_ADDR32_MASK) + (((va >> 12) & 0x3FFu) << 2);
	if (gw_entry(rd, ctx, addr, 4, &pte))
		return -EFAULT;
	*gpa = (pte & GW_ADDR32_MASK) | (va & 0xFFFu);
	return 0;
}

/*
 * Walks 64-bit-entry tables (PAE below the PDPT, and long mode) from
 * table at level top (1 = PT, 2 = PD, 3 = PDPT, 4 = PML4, 5 = PML5).
 * PS makes an entry a leaf at levels 2..max_large (2 MiB, 1 GiB pages).
 */
static int gw_walk64(uint64_t table, uint64_t va, uint32_t top,
		     uint32_t max_large, gpa_read_fn rd, void *ctx,
		     uint64_t *gpa)
{
	uint32_t level, shift;
	uint64_t e, mask;

	for (level = top; level >= 1; level--) {
		shift = GW_PAGE_SHIFT + 9 * (level - 1);
		if (gw_entry(rd, ctx, table + (((va >> shift) & 0x1FF) << 3),
			     8, &e))
			return -EFAULT;
		if (level == 1 || (level <= max_large && (e & GW_PS))) {
			mask = (1ull << shift) - 1;
			*gpa = (e & GW_ADDR_MASK & ~mask) | (va & mask);
			return 0;
		}
		table = e & GW_ADDR_MASK;
	}
	return -EFAULT; /* not reached: level 1 always returns */
}

/* PAE paging (SDM vol. 3A 4.4): 4 PDPTEs at CR3[31:5], then PD and PT. */
static int gw_walk_pae(const struct guest_paging *p, uint32_t va,
		       gpa_read_fn rd, void *ctx, uint64_t *gpa)
{
	uint64_t pdpte;
	uint64_t addr = (p->cr3 & GW_PAE_CR3_MASK) + ((uint64_t)(va >> 30) << 3);

	if (gw_entry(rd, ctx, addr, 8, &pdpte))
		return -EFAULT;
	return gw_walk64(pdpte & GW_ADDR_MASK, va, 2, 2, rd, ctx, gpa);
}

/*
 * Whether va is canonical for the given number of linear-address bits
 * (48 with 4-level paging, 57 with 5-level): bits 63..bits-1 all equal
 * (SDM vol. 1 3.3.7.1, APM vol. 2 5.3.1).
 */
static bool gw_canonical(uint64_t va, uint32_t bits)
{
	uint32_t shift = 64 - bits;

	return (uint64_t)((int64_t)(va << shift) >> shift) == va;
}

/* Long mode (SDM vol. 3A 4.5): PML4 (PML5 with CR4.LA57) at CR3[51:12]. */
static int gw_walk_long(const struct guest_paging *p, uint64_t va,
			gpa_read_fn rd, void *ctx, uint64_t *gpa)
{
	bool la57 = (p->cr4 & GW_CR4_LA57) != 0;

	if (!gw_canonical(va, la57 ? 57 : 48))
		return -EFAULT;
	return gw_walk64(p->cr3 & GW_ADDR_MASK, va, la57 ? 5 : 4, 3, rd, ctx,
			 gpa);
}

/*
 * Translates a guest linear address to a guest-physical one; see
 * keel/guest_walk.h. p: guest CR0/CR3/CR4/EFER; rd/ctx: reader of guest
 * physical memory. Returns 0 with *gpa set, or -EFAULT.
 */
int guest_walk(const struct guest_paging *p, uint64_t gva, gpa_read_fn rd,
	       void *ctx, uint64_t *gpa)
{
	if (!(p->cr0 & GW_CR0_PG)) {
		*gpa = gva & GW_LOW32; /* LMA needs PG: addresses are 32-bit */
		return 0;
	}
	if (p->efer & GW_EFER_LMA)
		return gw_walk_long(p, gva, rd, ctx, gpa);
	if (p->cr4 & GW_CR4_PAE)
		return gw_walk_pae(p, (uint32_t)gva, rd, ctx, gpa);
	return gw_walk32(p, (uint32_t)gva, rd, ctx, gpa);
}

/*
 * Copies up to want bytes of guest code at linear_rip into buf, one 4 KiB
 * page at a time; see keel/guest_walk.h. Returns 0 with *got set (maybe
 * short), or -EFAULT if the first byte cannot be fetched (*got = 0).
 */
int guest_fetch(const struct guest_paging *p, uint64_t linear_rip, uint8_t *buf,
		uint32_t want, gpa_read_fn rd, void *ctx, uint32_t *got)
{
	uint64_t va, gpa;
	uint32_t done = 0, chunk;

	while (done < want) {
		va = linear_rip + done;
		chunk = (uint32_t)(GW_PAGE_SIZE - (va & (GW_PAGE_SIZE - 1)));
		if (chunk > want - done)
			chunk = want - done;
		if (guest_walk(p, va, rd, ctx, &gpa) ||
		    rd(ctx, gpa, buf + done, chunk))
			break;
		done += chunk;
	}
	*got = done;
	return (done == 0 && want > 0) ? -EFAULT : 0;
}
