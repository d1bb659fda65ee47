/*
 * Unit tests for hypervisor/common/guest_walk.c: page tables are built in
 * a sparse fake guest-physical memory (read through the gpa_read_fn
 * callback, which fails outside the pages that exist) for each paging
 * mode: paging off, 32-bit with 4 KiB, 4 MiB and PSE-36 pages, PAE with
 * 4 KiB and 2 MiB pages, and 4/5-level long mode with 4 KiB, 2 MiB and
 * 1 GiB pages. Checked: translations, flag and NX bits kept out of
 * addresses, non-present entries and failed reads (-EFAULT), canonical
 * checks, and guest_fetch across page boundaries with unmapped or
 * unreadable second pages.
 */
#include "../../hypervisor/common/guest_walk.c"

#include <string.h>

#include "harness.h"

#define PAGE 0x1000ull
#define MAX_PAGES 64

#define CR0_PG (1ull << 31)
#define CR0_PE (1ull << 0)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define P 0x001ull
#define RW 0x002ull
#define US 0x004ull
#define A 0x020ull
#define PS 0x080ull
#define NX (1ull << 63)

/* Sparse guest-physical memory: only the pages created exist. */
struct fake_mem {
	uint64_t gpa[MAX_PAGES];
	uint8_t data[MAX_PAGES][PAGE];
	uint32_t n;
	uint32_t reads;
};

static struct fake_mem mem;

static void mem_reset(void)
{
	memset(&mem, 0, sizeof(mem));
}

static uint8_t *mem_find(uint64_t gpa)
{
	uint32_t i;

	for (i = 0; i < mem.n; i++)
		if (mem.gpa[i] == (gpa & ~(PAGE - 1)))
			return mem.data[i];
	return NULL;
}

/* The page containing gpa, created zeroed if missing. */
static uint8_t *mem_page(uint64_t gpa)
{
	uint8_t *pg = mem_find(gpa);

	if (pg)
		return pg;
	if (mem.n == MAX_PAGES) {
		printf("fake_mem: out of pages\n");
		return mem.data[0];
	}
	mem.gpa[mem.n] = gpa & ~(PAGE - 1);
	return mem.data[mem.n++];
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(mem_page(gpa) + (gpa & (PAGE - 1)), &v, 4);
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(mem_page(gpa) + (gpa & (PAGE - 1)), &v, 8);
}

/* gpa_read_fn over the fake memory; ctx must be &mem. */
static int mem_read(void *ctx, uint64_t gpa, void *buf, uint32_t len)
{
	uint8_t *out = buf;
	uint8_t *pg;
	uint32_t chunk;

	CHECK(ctx == &mem);
	mem.reads++;
	while (len) {
		pg = mem_find(gpa);
		if (!pg)
			return -EFAULT;
		chunk = (uint32_t)(PAGE - (gpa & (PAGE - 1)));
		if (chunk > len)
			chunk = len;
		memcpy(out, pg + (gpa & (PAGE - 1)), chunk);
		out += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

/* Translates gva; returns the gpa, or ~0 on -EFAULT (checks the code). */
static uint64_t walk(const struct guest_paging *p, uint64_t gva)
{
	uint64_t gpa = 0x5A5A5A5A;
	int rc = guest_walk(p, gva, mem_read, &mem, &gpa);

	if (rc) {
		CHECK_EQ_INT(rc, -EFAULT);
		CHECK_EQ_U64(gpa, 0x5A5A5A5A); /* not written on failure */
		return ~0ull;
	}
	return gpa;
}

static void test_paging_off(void)
{
	struct guest_paging p = { .cr0 = CR0_PE };

	mem_reset();
	CHECK_EQ_U64(walk(&p, 0x12345678), 0x12345678);
	CHECK_EQ_U64(walk(&p, 0xFEE00300), 0xFEE00300);
	CHECK_EQ_U64(walk(&p, 0x100001000ull), 0x1000); /* 32-bit linear */
	CHECK_EQ_U64(walk(&p, 0), 0);
	CHECK_EQ_U64(mem.reads, 0);
	p.cr0 = 0; /* real mode */
	CHECK_EQ_U64(walk(&p, 0xFFFF0), 0xFFFF0);
	p.cr4 = CR4_PAE; /* PAE without PG is still no paging */
	CHECK_EQ_U64(walk(&p, 0x7C00), 0x7C00);
}

/* 32-bit paging, PD at 0x1000 (SDM vol. 3A 4.3). */
static void test_32bit(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x1000 | 0x18 };

	mem_reset();
	/* 0xC0101234: PDE 0x300 at 0x1C00 -> PT 0x2000, PTE 0x101 at 0x2404. */
	put32(0x1C00, 0x2000 | P | RW | A);
	put32(0x2404, 0x5000 | 0x167); /* flags incl. G must not leak */
	CHECK_EQ_U64(walk(&p, 0xC0101234), 0x5234);
	CHECK_EQ_U64(walk(&p, 0xC0101000), 0x5000);
	CHECK_EQ_U64(walk(&p, 0xC0101FFF), 0x5FFF);
	CHECK_EQ_U64(walk(&p, 0xFFFFFFFFC0101234ull), 0x5234); /* upper ignored */
	/* Neighbouring PTE not present; PDE not present. */
	CHECK_EQ_U64(walk(&p, 0xC0102000), ~0ull);
	CHECK_EQ_U64(walk(&p, 0xC0501234), ~0ull);
	put32(0x2408, 0xFFFFF000 | RW); /* everything but P */
	CHECK_EQ_U64(walk(&p, 0xC0102000), ~0ull);
	put32(0x2408, 0xFFFFF000 | P);
	CHECK_EQ_U64(walk(&p, 0xC0102ABC), 0xFFFFFABCull);

	/* 4 MiB page for 0x00400000..0x007FFFFF (PDE 1 at 0x1004). */
	put32(0x1004, 0x00C00000 | PS | P | RW);
	p.cr4 = CR4_PSE;
	CHECK_EQ_U64(walk(&p, 0x00512345), 0x00D12345);
	CHECK_EQ_U64(walk(&p, 0x007FFFFF), 0x00FFFFFF);
	/* PSE-36: PDE bits 20:13 are address bits 39:32. */
	put32(0x1004, 0x00C00000 | (0x12u << 13) | PS | P);
	CHECK_EQ_U64(walk(&p, 0x00512345), 0x1200D12345ull);
	put32(0x1004, 0x00C00000 | (0xFFu << 13) | PS | P);
	CHECK_EQ_U64(walk(&p, 0x00400000), 0xFF00C00000ull);
	/* PAT bit (12) of a 4 MiB PDE is not an address bit. */
	put32(0x1004, 0x00C00000 | (1u << 12) | PS | P);
	CHECK_EQ_U64(walk(&p, 0x00400010), 0x00C00010);

	/* Without CR4.PSE, PS is ignored: the PDE points to a table. */
	p.cr4 = 0;
	put32(0x1004, 0x3000 | PS | P);
	put32(0x3000 + 0x112 * 4, 0x9000 | P);
	CHECK_EQ_U64(walk(&p, 0x00512345), 0x9345);
	/* PD itself unreadable. */
	p.cr3 = 0x800000;
	CHECK_EQ_U64(walk(&p, 0xC0101234), ~0ull);
	/* PT unreadable. */
	p.cr3 = 0x1000;
	put32(0x1C00, 0x7777000 | P);
	CHECK_EQ_U64(walk(&p, 0xC0101234), ~0ull);
}

/* PAE paging, PDPT at CR3 0x4020 (32-byte aligned, SDM vol. 3A 4.4). */
static void test_pae(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x4020,
				  .cr4 = CR4_PAE };
	const uint64_t gva = 0xC0201234; /* PDPTE 3, PDE 1, PTE 1 */

	mem_reset();
	put64(0x4020 + 3 * 8, 0x6000 | P);
	put64(0x6000 + 1 * 8, 0x7000 | P | RW | A);
	put64(0x7000 + 1 * 8, NX | 0x123456000ull | P | RW | 0x100);
	CHECK_EQ_U64(walk(&p, gva), 0x123456234ull);
	CHECK_EQ_U64(walk(&p, 0xFFFFFFFF00000000ull | gva), 0x123456234ull);
	/* Other PDPTEs (at 0x4020.. not 0x4000..) are not present. */
	put64(0x4000 + 3 * 8, 0x6000 | P); /* decoy where CR3 & ~0xFFF points */
	CHECK_EQ_U64(walk(&p, 0x00201234), ~0ull);
	CHECK_EQ_U64(walk(&p, 0x80201234), ~0ull);
	/* 2 MiB page: PDE 2 of the same PD, above 4 GiB, with PAT bit 12. */
	put64(0x6000 + 2 * 8, NX | 0x240600000ull | (1ull << 12) | PS | P);
	CHECK_EQ_U64(walk(&p, 0xC0400000), 0x240600000ull);
	CHECK_EQ_U64(walk(&p, 0xC05ABCDE), 0x2407ABCDEull);
	/* PSE in CR4 does not matter for PAE; PS is honoured anyway. */
	p.cr4 |= CR4_PSE;
	CHECK_EQ_U64(walk(&p, 0xC05ABCDE), 0x2407ABCDEull);
	/* Non-present PDE and PTE. */
	CHECK_EQ_U64(walk(&p, 0xC0601234), ~0ull);
	CHECK_EQ_U64(walk(&p, 0xC0202000), ~0ull);
	/* PDPTE not present. */
	put64(0x4020 + 3 * 8, 0x6000);
	CHECK_EQ_U64(walk(&p, gva), ~0ull);
}

/* Index of va at level (1 = PT .. 5 = PML5). */
static uint64_t idx(uint64_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 0x1FF;
}

/* Long mode, 4-level, PML4 at 0x10000 (SDM vol. 3A 4.5). */
static void test_long(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x10000 | 0x5,
				  .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA };
	const uint64_t k = 0xFFFFFFFF81234567ull; /* kernel text: 511/510/9/0x34 */
	const uint64_t dm = 0xFFFF888000000000ull; /* direct map: 1 GiB pages */
	const uint64_t user = 0x00007FFFF7FF3123ull;

	mem_reset();
	CHECK_EQ_U64(idx(k, 4), 511);
	CHECK_EQ_U64(idx(k, 3), 510);
	CHECK_EQ_U64(idx(k, 2), 9);
	CHECK_EQ_U64(idx(k, 1), 0x34);
	put64(0x10000 + 511 * 8, 0x11000 | P | RW);
	put64(0x11000 + 510 * 8, 0x12000 | P | RW);
	put64(0x12000 + 9 * 8, 0x13000 | P | RW);
	put64(0x13000 + 0x34 * 8, NX | (0x7Full << 52) | 0xABCDE000ull | P | 0x100);
	CHECK_EQ_U64(walk(&p, k), 0xABCDE567ull);
	/* 2 MiB page in the same PD (PDE 10). */
	put64(0x12000 + 10 * 8, 0x3FE00000ull | (1ull << 12) | PS | P);
	CHECK_EQ_U64(walk(&p, 0xFFFFFFFF81400000ull), 0x3FE00000ull);
	CHECK_EQ_U64(walk(&p, 0xFFFFFFFF815FFFFFull), 0x3FFFFFFFull);
	/* 1 GiB page for the direct map (PML4 273, PDPTE 0 and 3). */
	put64(0x10000 + idx(dm, 4) * 8, 0x14000 | P | RW);
	put64(0x14000 + 0 * 8, 0x0 | PS | P | RW);
	put64(0x14000 + 3 * 8, 0xFC0000000ull | (1ull << 12) | PS | P);
	CHECK_EQ_U64(walk(&p, dm + 0x12345678), 0x12345678);
	CHECK_EQ_U64(walk(&p, dm + 0xFEE00300), 0xFFEE00300ull);
	CHECK_EQ_U64(walk(&p, dm + 0xC0000000 + 0x3FFFFFFF), 0xFFFFFFFFFull);
	CHECK_EQ_U64(walk(&p, dm + 0x40000000), ~0ull); /* PDPTE 1 absent */
	/* User-space 4 KiB mapping of the IOAPIC page (devmem). */
	put64(0x10000 + idx(user, 4) * 8, 0x15000 | P | RW | US);
	put64(0x15000 + idx(user, 3) * 8, 0x16000 | P | RW | US);
	put64(0x16000 + idx(user, 2) * 8, 0x17000 | P | RW | US);
	put64(0x17000 + idx(user, 1) * 8, 0xFEC00000ull | P | RW | US | 0x18);
	CHECK_EQ_U64(walk(&p, user), 0xFEC00123ull);
	/* Non-canonical addresses fault without reading anything. */
	mem.reads = 0;
	CHECK_EQ_U64(walk(&p, 0x0000800000000000ull), ~0ull);
	CHECK_EQ_U64(walk(&p, 0xFFFF7FFFFFFFFFFFull), ~0ull);
	CHECK_EQ_U64(walk(&p, 0x8000000000000000ull), ~0ull);
	CHECK_EQ_U64(walk(&p, 0x00FFFFFF81234567ull), ~0ull);
	CHECK_EQ_U64(mem.reads, 0);
	/* Canonical but unmapped at each level. */
	CHECK_EQ_U64(walk(&p, 0x0000000000400000ull), ~0ull);
	CHECK_EQ_U64(walk(&p, 0xFFFFFFFF40000000ull), ~0ull);
	CHECK_EQ_U64(walk(&p, 0xFFFFFFFF81800000ull), ~0ull);
	CHECK_EQ_U64(walk(&p, 0xFFFFFFFF81235000ull), ~0ull);
	/* A table that cannot be read. */
	put64(0x12000 + 11 * 8, 0x7FFF000000ull | P);
	CHECK_EQ_U64(walk(&p, 0xFFFFFFFF81600000ull), ~0ull);
	/* PS in a PML4E is not a 512 GiB page (reserved; walked as a table). */
	put64(0x10000 + 1 * 8, 0x18000 | PS | P);
	put64(0x18000, 0x19000 | P);
	put64(0x19000, 0x200000 | PS | P);
	CHECK_EQ_U64(walk(&p, 0x0000008000012345ull), 0x212345);
}

/* 5-level paging with CR4.LA57: 57-bit canonical addresses. */
static void test_la57(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x20000,
				  .cr4 = CR4_PAE | CR4_LA57, .efer = EFER_LMA };
	const uint64_t va = 0x0002000000001234ull; /* PML5 index 2 */

	mem_reset();
	put64(0x20000 + 2 * 8, 0x21000 | P);
	put64(0x21000, 0x22000 | P);
	put64(0x22000, 0x23000 | P);
	put64(0x23000, 0x24000 | P);
	put64(0x24000 + 1 * 8, 0x99000 | P);
	CHECK_EQ_U64(walk(&p, va), 0x99234);
	CHECK_EQ_U64(walk(&p, 0xFF00000000000000ull), ~0ull); /* canonical, absent */
	CHECK_EQ_U64(walk(&p, 0x0100000000000000ull << 1), ~0ull); /* not canonical */
	p.cr4 = CR4_PAE; /* 4-level: the same address is not canonical */
	CHECK_EQ_U64(walk(&p, va), ~0ull);
}

/* Fetches through guest_fetch; returns rc, fills got. */
static int fetch(const struct guest_paging *p, uint64_t rip, uint8_t *buf,
		 uint32_t want, uint32_t *got)
{
	*got = 0xFFFF;
	return guest_fetch(p, rip, buf, want, mem_read, &mem, got);
}

static void fill_code(uint64_t gpa, uint32_t n, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		mem_page(gpa + i)[(gpa + i) & (PAGE - 1)] = (uint8_t)(seed + i);
}

static void test_fetch(void)
{
	struct guest_paging p = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x10000,
				  .cr4 = CR4_PAE, .efer = EFER_LMA };
	const uint64_t k = 0xFFFFFFFF81000000ull; /* 511/510/8/0.. */
	uint8_t buf[32];
	uint32_t got, i;
	bool ok;

	mem_reset();
	put64(0x10000 + 511 * 8, 0x11000 | P);
	put64(0x11000 + 510 * 8, 0x12000 | P);
	put64(0x12000 + 8 * 8, 0x13000 | P);
	/* Page 0 -> 0x40000, page 1 -> 0x30000 (physically not contiguous),
	 * page 2 -> unreadable gpa, page 3 absent. */
	put64(0x13000 + 0 * 8, 0x40000 | P);
	put64(0x13000 + 1 * 8, 0x30000 | P);
	put64(0x13000 + 2 * 8, 0x7000000 | P);
	fill_code(0x40FF0, 16, 0x10);
	fill_code(0x30000, 32, 0x80);

	/* Inside one page. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(fetch(&p, k + 0xFF0, buf, 15, &got), 0);
	CHECK_EQ_U64(got, 15);
	for (ok = true, i = 0; i < 15; i++)
		ok = ok && buf[i] == 0x10 + i;
	CHECK(ok);
	/* Across the boundary: 6 bytes from 0x40FFA, 9 from 0x30000. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ_INT(fetch(&p, k + 0xFFA, buf, 15, &got), 0);
	CHECK_EQ_U64(got, 15);
	for (ok = true, i = 0; i < 6; i++)
		ok = ok && buf[i] == 0x10 + 10 + i;
	for (i = 6; i < 15; i++)
		ok = ok && buf[i] == 0x80 + (i - 6);
	CHECK(ok);
	CHECK_EQ_U64(buf[15], 0); /* nothing beyond want */
	/* Last byte of a page, then the next. */
	CHECK_EQ_INT(fetch(&p, k + 0xFFF, buf, 2, &got), 0);
	CHECK_EQ_U64(got, 2);
	CHECK(buf[0] == 0x1F && buf[1] == 0x80);
	/* Second page maps to unreadable memory: short fetch. */
	CHECK_EQ_INT(fetch(&p, k + 0x1FFD, buf, 15, &got), 0);
	CHECK_EQ_U64(got, 3);
	/* Second page not present: short fetch. */
	put64(0x13000 + 2 * 8, 0x50000 | P);
	fill_code(0x50FF8, 8, 0x40);
	CHECK_EQ_INT(fetch(&p, k + 0x2FF8, buf, 15, &got), 0);
	CHECK_EQ_U64(got, 8);
	CHECK(buf[0] == 0x40 && buf[7] == 0x47);
	/* First page not present, or unreadable: -EFAULT, nothing got. */
	CHECK_EQ_INT(fetch(&p, k + 0x3000, buf, 15, &got), -EFAULT);
	CHECK_EQ_U64(got, 0);
	put64(0x13000 + 3 * 8, 0x6000000 | P);
	CHECK_EQ_INT(fetch(&p, k + 0x3000, buf, 15, &got), -EFAULT);
	CHECK_EQ_U64(got, 0);
	/* want = 0. */
	CHECK_EQ_INT(fetch(&p, k, buf, 0, &got), 0);
	CHECK_EQ_U64(got, 0);
	/* Running into the non-canonical hole ends the fetch. */
	{
		const uint64_t top = 0x00007FFFFFFFF000ull;

		put64(0x10000 + 255 * 8, 0x1A000 | P);
		put64(0x1A000 + 511 * 8, 0x1B000 | P);
		put64(0x1B000 + 511 * 8, 0x1C000 | P);
		put64(0x1C000 + 511 * 8, 0x30000 | P);
		CHECK_EQ_U64(walk(&p, top), 0x30000);
		CHECK_EQ_INT(fetch(&p, top + 0xFF8, buf, 15, &got), 0);
		CHECK_EQ_U64(got, 8);
	}
	/* A long want spanning three pages. */
	{
		static uint8_t big[2 * PAGE + 16];

		put64(0x13000 + 3 * 8, 0x41000 | P);
		fill_code(0x41000, 16, 0);
		CHECK_EQ_INT(fetch(&p, k + 0x1000 - 8, big, PAGE + 24, &got), 0);
		CHECK_EQ_U64(got, PAGE + 24);
		CHECK_EQ_INT(fetch(&p, k + 0x1000 - 8, big, 2 * PAGE + 16, &got), 0);
		CHECK_EQ_U64(got, 2 * PAGE + 16);
		CHECK(big[0] == 0x18 && big[8] == 0x80 && big[2 * PAGE] == 0x40 &&
		      big[2 * PAGE + 9] == 1);
	}
}

/* Fetch with paging off, and 32-bit wrap-around of linear addresses. */
static void test_fetch_legacy(void)
{
	struct guest_paging p = { .cr0 = CR0_PE };
	uint8_t buf[16];
	uint32_t got;

	mem_reset();
	fill_code(0x7FF8, 16, 0x20);
	CHECK_EQ_INT(fetch(&p, 0x7FF8, buf, 15, &got), 0);
	CHECK_EQ_U64(got, 15);
	CHECK(buf[0] == 0x20 && buf[8] == 0x28 && buf[14] == 0x2E);
	/* 0x9000 does not exist: short. */
	CHECK_EQ_INT(fetch(&p, 0x8FFC, buf, 15, &got), 0);
	CHECK_EQ_U64(got, 4);

	/* 32-bit paging: 0xFFFFFFFC wraps to 0x00000000. */
	mem_reset();
	p.cr0 = CR0_PG | CR0_PE;
	p.cr3 = 0x1000;
	put32(0x1000 + 1023 * 4, 0x2000 | P);
	put32(0x2000 + 1023 * 4, 0x5000 | P);
	put32(0x1000 + 0, 0x3000 | P);
	put32(0x3000 + 0, 0x6000 | P);
	fill_code(0x5FFC, 4, 0xA0);
	fill_code(0x6000, 8, 0xB0);
	CHECK_EQ_INT(fetch(&p, 0xFFFFFFFC, buf, 10, &got), 0);
	CHECK_EQ_U64(got, 10);
	CHECK(buf[0] == 0xA0 && buf[3] == 0xA3 && buf[4] == 0xB0 && buf[9] == 0xB5);
}

int main(void)
{
	test_paging_off();
	test_32bit();
	test_pae();
	test_long();
	test_la57();
	test_fetch();
	test_fetch_legacy();
	return harness_done("test_guest_walk");
}
