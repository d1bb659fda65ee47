/*
 * Unit tests for hypervisor/common/mtrr.c: the memory type the MTRRs give
 * a physical address and how far it reaches, which the VT-x backend copies
 * into dom0's EPT leaves (a wrong answer makes RAM uncached or, worse, a
 * device's registers write-back).
 */
#include "../../hypervisor/common/mtrr.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

#define E_FE ((1ull << 11) | (1ull << 10))
#define VALID (1ull << 11)
#define PHYS39 ((1ull << 39) - 1)

/* A typical PC: WB by default, fixed ranges (WB below 640 KiB, UC for
 * the VGA hole, WP for the ROMs), a UC hole from 3 GiB to 4 GiB. */
static void pc_state(struct mtrr_state *m)
{
	memset(m, 0, sizeof(*m));
	m->def_type = E_FE | MTRR_TYPE_WB;
	m->fixed_supported = true;
	memset(m->fixed, MTRR_TYPE_WB, sizeof(m->fixed));
	memset(m->fixed + 8 + 8, MTRR_TYPE_UC, 8); /* 0xA0000-0xBFFFF */
	memset(m->fixed + 24, MTRR_TYPE_WP, 64);   /* 0xC0000-0xFFFFF */
	m->phys_mask = PHYS39;
	m->nr_var = 8;
	m->var_base[0] = 0xC0000000ull | MTRR_TYPE_UC;
	m->var_mask[0] = (PHYS39 & ~(0x40000000ull - 1)) | VALID;
}

static void test_pc(void)
{
	struct mtrr_state m;
	uint8_t t = 0xff;

	pc_state(&m);
	CHECK_EQ_U64(mtrr_type_run(&m, 0, 0xA0000, &t), 0xA0000);
	CHECK_EQ_U64(t, MTRR_TYPE_WB);
	CHECK_EQ_U64(mtrr_type_run(&m, 0, 0x200000, &t), 0xA0000);  /* stops at the VGA hole */
	CHECK_EQ_U64(mtrr_type_run(&m, 0xA0000, 0x60000, &t), 0x20000);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);
	CHECK_EQ_U64(mtrr_type_run(&m, 0xC0000, 0x100000, &t), 0x40000);
	CHECK_EQ_U64(t, MTRR_TYPE_WP);
	/* From 1 MiB: WB up to the hole, then UC to 4 GiB, then WB again. */
	CHECK_EQ_U64(mtrr_type_run(&m, 0x100000, 0x200000000ull, &t), 0xC0000000ull - 0x100000);
	CHECK_EQ_U64(t, MTRR_TYPE_WB);
	CHECK_EQ_U64(mtrr_type_run(&m, 0xC0000000ull, 0x200000000ull, &t), 0x40000000ull);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);
	CHECK_EQ_U64(mtrr_type_run(&m, 0x100000000ull, 0x40000000ull, &t), 0x40000000ull);
	CHECK_EQ_U64(t, MTRR_TYPE_WB);
	CHECK_EQ_U64(mtrr_type_run(&m, 0xFEE00000ull, 0x1000, &t), 0x1000);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);
	t = 0x55;
	CHECK_EQ_U64(mtrr_type_run(&m, 0x1000, 0, &t), 0);
	CHECK_EQ_U64(t, 0x55);
}

/* MTRRs off: everything UC (12.11.2.1), in one run. Fixed ranges off
 * (FE=0): the variable ranges and default rule below 1 MiB too. */
static void test_disabled(void)
{
	struct mtrr_state m;
	uint8_t t;

	pc_state(&m);
	m.def_type = MTRR_TYPE_WB;
	CHECK_EQ_U64(mtrr_type_run(&m, 0, 1ull << 40, &t), 1ull << 40);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);
	pc_state(&m);
	m.def_type = (1ull << 11) | MTRR_TYPE_WB;
	CHECK_EQ_U64(mtrr_type_run(&m, 0xA0000, 0x1000, &t), 0x1000);
	CHECK_EQ_U64(t, MTRR_TYPE_WB);
	CHECK_EQ_U64(mtrr_type_run(&m, 0, 0x80000000ull, &t), 0x80000000ull);
}

/* Overlaps (12.11.4.1): UC wins, WT beats WB, other mixes are UC. */
static void test_overlap(void)
{
	struct mtrr_state m;
	uint8_t t;

	pc_state(&m);
	m.var_base[1] = 0xC0000000ull | MTRR_TYPE_WC;           /* under the UC hole */
	m.var_mask[1] = (PHYS39 & ~(0x10000000ull - 1)) | VALID;
	CHECK_EQ_U64(mtrr_type_run(&m, 0xC0000000ull, 0x1000, &t), 0x1000);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);
	m.def_type = E_FE | MTRR_TYPE_UC;
	m.var_base[0] = 0 | MTRR_TYPE_WB;                        /* 0 - 2 GiB WB */
	m.var_mask[0] = (PHYS39 & ~(0x80000000ull - 1)) | VALID;
	m.var_base[1] = 0x40000000ull | MTRR_TYPE_WT;           /* 1 GiB - 1.25 GiB WT */
	m.var_mask[1] = (PHYS39 & ~(0x10000000ull - 1)) | VALID;
	m.var_base[2] = 0x60000000ull | MTRR_TYPE_WC;           /* WC over WB: undefined */
	m.var_mask[2] = (PHYS39 & ~(0x10000000ull - 1)) | VALID;
	CHECK_EQ_U64(mtrr_type_run(&m, 0x40000000ull, 0x40000000ull, &t), 0x10000000ull);
	CHECK_EQ_U64(t, MTRR_TYPE_WT);
	CHECK_EQ_U64(mtrr_type_run(&m, 0x50000000ull, 0x40000000ull, &t), 0x10000000ull);
	CHECK_EQ_U64(t, MTRR_TYPE_WB);
	CHECK_EQ_U64(mtrr_type_run(&m, 0x60000000ull, 0x1000, &t), 0x1000);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);
	CHECK_EQ_U64(mtrr_type_run(&m, 0x80000000ull, 0x80000000ull, &t), 0x80000000ull);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);                           /* the default */
	m.var_mask[2] &= ~VALID;                                 /* an invalid range is ignored */
	CHECK_EQ_U64(mtrr_type_run(&m, 0x60000000ull, 0x1000, &t), 0x1000);
	CHECK_EQ_U64(t, MTRR_TYPE_WB);
}

/* A mask that is not contiguous matches a set of blocks: every other
 * 4 KiB page here. */
static void test_sparse_mask(void)
{
	struct mtrr_state m;
	uint8_t t;

	memset(&m, 0, sizeof(m));
	m.def_type = (1ull << 11) | MTRR_TYPE_WB;
	m.phys_mask = PHYS39;
	m.nr_var = 1;
	m.var_base[0] = 0x1000 | MTRR_TYPE_UC;
	m.var_mask[0] = 0x1000 | VALID;
	CHECK_EQ_U64(mtrr_type_run(&m, 0, 0x10000, &t), 0x1000);
	CHECK_EQ_U64(t, MTRR_TYPE_WB);
	CHECK_EQ_U64(mtrr_type_run(&m, 0x1000, 0x10000, &t), 0x1000);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);
	CHECK_EQ_U64(mtrr_type_run(&m, 0x3000, 0x1000, &t), 0x1000);
	CHECK_EQ_U64(t, MTRR_TYPE_UC);
}

/* Every run is one type throughout, checked page by page over the first
 * 8 GiB of the PC layout, and runs tile the range. */
static void test_runs_are_uniform(void)
{
	struct mtrr_state m;
	uint64_t pa = 0, end = 0x200000000ull, len, off;
	uint8_t t, u;
	uint32_t runs = 0;

	pc_state(&m);
	m.var_base[1] = 0x1FFF00000ull | MTRR_TYPE_WC;  /* 1 MiB WC at 8 GiB - 1 MiB */
	m.var_mask[1] = (PHYS39 & ~(0x100000ull - 1)) | VALID;
	while (pa < end) {
		len = mtrr_type_run(&m, pa, end - pa, &t);
		CHECK(len > 0 && len <= end - pa);
		for (off = 0; off < len; off += 0x100000) {
			mtrr_type_run(&m, pa + off, 0x1000, &u);
			if (u != t) {
				CHECK_EQ_U64(u, t);
				break;
			}
		}
		pa += len;
		runs++;
	}
	CHECK_EQ_U64(runs, 7); /* WB, UC (VGA), WP (ROM), WB, UC (hole), WB, WC */
}

int main(void)
{
	test_pc();
	test_disabled();
	test_overlap();
	test_sparse_mask();
	test_runs_are_uniform();
	return harness_done("mtrr");
}
