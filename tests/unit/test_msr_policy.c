/*
 * Unit tests for hypervisor/common/msr_policy.c: which configuration MSRs
 * dom0 may only set bits in, what its writes to them become, and which
 * values the PAT takes.
 */
#include "../../hypervisor/common/msr_policy.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

/* The shared configuration MSRs are known by name; their neighbours, the
 * per-thread IBS MSRs and the architectural MSRs are not. */
static void test_which(void)
{
	CHECK(msr_policy_shared_cfg(0xC0011029u) && !strcmp(msr_policy_shared_cfg(0xC0011029u), "DE_CFG"));
	CHECK(msr_policy_shared_cfg(0xC0011020u) && !strcmp(msr_policy_shared_cfg(0xC0011020u), "LS_CFG"));
	CHECK(msr_policy_shared_cfg(0xC001102Au) != 0);
	CHECK(msr_policy_shared_cfg(0xC00110E3u) != 0);
	CHECK(msr_policy_shared_cfg(0xC0011030u) == 0); /* IBS_FETCH_CTL: per thread */
	CHECK(msr_policy_shared_cfg(0xC001101Fu) == 0);
	CHECK(msr_policy_shared_cfg(0xC0010020u) == 0); /* the patch loader: its own rule */
	CHECK(msr_policy_shared_cfg(0x1Bu) == 0);
	CHECK(msr_policy_shared_cfg(0x48u) == 0);        /* SPEC_CTRL: per thread */
}

/* A write may set bits, never clear one that is set. */
static void test_write(void)
{
	CHECK_EQ_U64(msr_policy_shared_cfg_write(0, 0x2), 0x2);           /* LFENCE serialising */
	CHECK_EQ_U64(msr_policy_shared_cfg_write(0x2, 0x202), 0x202);     /* and Zenbleed's bit */
	CHECK_EQ_U64(msr_policy_shared_cfg_write(0x202, 0), 0x202);       /* clearing refused */
	CHECK_EQ_U64(msr_policy_shared_cfg_write(1ull << 54, 0x10), (1ull << 54) | 0x10); /* SSBD kept */
	CHECK_EQ_U64(msr_policy_shared_cfg_write(~0ull, 0), ~0ull);
}

/* The PAT takes the six defined memory types in each entry, nothing else. */
static void test_pat(void)
{
	CHECK(msr_policy_pat_valid(0x0007040600070406ull));  /* the power-on value */
	CHECK(msr_policy_pat_valid(0x0007010600070106ull));  /* Linux's, with WC */
	CHECK(msr_policy_pat_valid(0x0505050505050505ull));  /* WP everywhere */
	CHECK(msr_policy_pat_valid(0));                      /* UC everywhere */
	CHECK(!msr_policy_pat_valid(0x0007040600070402ull)); /* type 2 is reserved */
	CHECK(!msr_policy_pat_valid(0x0307040600070406ull)); /* type 3 too */
	CHECK(!msr_policy_pat_valid(0x0807040600070406ull)); /* reserved bit 59 */
	CHECK(!msr_policy_pat_valid(0x00070406000704F6ull)); /* reserved bits of PA0 */
	CHECK(!msr_policy_pat_valid(~0ull));
}

/* XCR0 takes what the CPU has, in the combinations SDM vol. 1, 13.3 allows. */
static void test_xcr0(void)
{
	uint64_t cpu = 0xE7; /* x87 SSE AVX + AVX-512 */

	CHECK(msr_policy_xcr0_valid(0x1, cpu));
	CHECK(msr_policy_xcr0_valid(0x3, cpu));
	CHECK(msr_policy_xcr0_valid(0x7, cpu));
	CHECK(msr_policy_xcr0_valid(0xE7, cpu));
	CHECK(!msr_policy_xcr0_valid(0x0, cpu));     /* x87 is never off */
	CHECK(!msr_policy_xcr0_valid(0x2, cpu));
	CHECK(!msr_policy_xcr0_valid(0x5, cpu));     /* AVX without SSE */
	CHECK(!msr_policy_xcr0_valid(0x27, cpu));    /* part of AVX-512 */
	CHECK(!msr_policy_xcr0_valid(0xE3, cpu));    /* AVX-512 without AVX */
	CHECK(!msr_policy_xcr0_valid(0x207, cpu));   /* PKRU: the CPU lacks it */
	CHECK(msr_policy_xcr0_valid(0x1B, 0x1F));    /* MPX pair */
	CHECK(!msr_policy_xcr0_valid(0x0B, 0x1F));   /* half of MPX */
}

int main(void)
{
	test_xcr0();
	test_which();
	test_write();
	test_pat();
	return harness_done("test_msr_policy");
}
