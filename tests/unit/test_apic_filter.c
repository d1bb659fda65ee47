/*
 * Unit tests for hypervisor/common/apic_filter.c: which of dom0's ICR
 * writes reach the hardware. Dom0's CPU has APIC id 0 and logical id 0x01
 * in these tests; pool CPUs are 1..3.
 */
#include "../../hypervisor/common/apic_filter.c"

#include <stdio.h>

#include "harness.h"

static int check_icr(uint32_t lo, uint32_t dest, uint32_t *send)
{
	const char *why = 0;
	int rc;

	*send = 0xdeadbeef;
	rc = apic_filter_icr(lo, dest, 0, 0x01, send, &why);
	CHECK(rc == 0 || (rc == -EPERM && why && why[0]));
	return rc;
}

static void test_own_cpu(void)
{
	uint32_t send;

	CHECK_EQ_U64(check_icr(APIC_ICR_MODE_FIXED | 0xF0, 0, &send), 0);
	CHECK_EQ_U64(send, APIC_ICR_MODE_FIXED | 0xF0);
	CHECK_EQ_U64(check_icr(APIC_ICR_MODE_NMI, 0, &send), 0);
	CHECK_EQ_U64(check_icr(APIC_ICR_SHORTHAND_SELF | 0x30, 7, &send), 0);
	CHECK_EQ_U64(send, APIC_ICR_SHORTHAND_SELF | 0x30);
	/* all including self: only self */
	CHECK_EQ_U64(check_icr(APIC_ICR_SHORTHAND_ALL | 0x31, 0, &send), 0);
	CHECK_EQ_U64(send, APIC_ICR_SHORTHAND_SELF | 0x31);
	/* logical, exactly dom0's logical id */
	CHECK_EQ_U64(check_icr(APIC_ICR_DEST_LOGICAL | APIC_ICR_MODE_LOWEST | 0x40, 0x01, &send), 0);
}

static void test_refused(void)
{
	uint32_t send, id;

	for (id = 1; id <= 3; id++) {
		CHECK_EQ_U64(check_icr(APIC_ICR_MODE_FIXED | 0x10, id, &send), (uint64_t)-EPERM);
		CHECK_EQ_U64(check_icr(APIC_ICR_MODE_NMI, id, &send), (uint64_t)-EPERM);
	}
	CHECK_EQ_U64(check_icr(APIC_ICR_MODE_FIXED | 0x30, 0xFF, &send), (uint64_t)-EPERM);
	CHECK_EQ_U64(check_icr(APIC_ICR_SHORTHAND_OTHERS | 0x30, 0, &send), (uint64_t)-EPERM);
	/* INIT, SIPI, SMI: never, not even to dom0's own CPU (it is the hypervisor's) */
	CHECK_EQ_U64(check_icr(APIC_ICR_MODE_INIT | 0x4000, 0, &send), (uint64_t)-EPERM);
	CHECK_EQ_U64(check_icr(APIC_ICR_MODE_INIT | 0x4000, 1, &send), (uint64_t)-EPERM);
	CHECK_EQ_U64(check_icr(APIC_ICR_MODE_STARTUP | 0x9A, 2, &send), (uint64_t)-EPERM);
	CHECK_EQ_U64(check_icr(APIC_ICR_MODE_SMI, 0, &send), (uint64_t)-EPERM);
	CHECK_EQ_U64(check_icr(APIC_ICR_SHORTHAND_SELF | APIC_ICR_MODE_INIT, 0, &send),
		     (uint64_t)-EPERM);
	/* logical: any other mask, and none when dom0 set no logical id */
	CHECK_EQ_U64(check_icr(APIC_ICR_DEST_LOGICAL | 0x40, 0x03, &send), (uint64_t)-EPERM);
	CHECK_EQ_U64(check_icr(APIC_ICR_DEST_LOGICAL | 0x40, 0xFF, &send), (uint64_t)-EPERM);
	{
		const char *why;

		CHECK_EQ_U64(apic_filter_icr(APIC_ICR_DEST_LOGICAL | 0x40, 0, 0, 0, &send, &why),
			     (uint64_t)-EPERM);
	}
}

/* Every low word with every destination: a send never targets anyone but
 * dom0's CPU, and is never INIT/SIPI/SMI. */
static void test_exhaustive(void)
{
	uint32_t lo, dest, send;

	for (lo = 0; lo < (1u << 20); lo += 0x37) {
		for (dest = 0; dest < 256; dest += 5) {
			const char *why;
			uint32_t sh, mode;

			if (apic_filter_icr(lo, dest, 0, 0x01, &send, &why))
				continue;
			sh = send & APIC_ICR_SHORTHAND_MASK;
			mode = send & APIC_ICR_MODE_MASK;
			CHECK(mode == APIC_ICR_MODE_FIXED || mode == APIC_ICR_MODE_LOWEST ||
			      mode == APIC_ICR_MODE_NMI);
			CHECK(sh == APIC_ICR_SHORTHAND_SELF ||
			      (sh == APIC_ICR_SHORTHAND_NONE &&
			       ((send & APIC_ICR_DEST_LOGICAL) ? dest == 0x01 : dest == 0)));
		}
	}
}

#define PA 0xFEE00000ull
#define XAPIC (PA | APIC_BASE_EN)
#define X2APIC (PA | APIC_BASE_EN | APIC_BASE_EXTD)

static int base(uint64_t cur, uint64_t val, bool has_x2apic)
{
	const char *why = 0;
	int rc = apic_filter_base(cur, val, PA, has_x2apic, &why);

	CHECK(rc == 0 || ((rc == -EPERM || rc == -EINVAL) && why && why[0]));
	return rc;
}

/* IA32_APIC_BASE writes: what the CPU accepts passes, what it would #GP
 * on (which would fault in the hypervisor's WRMSR) and moves are refused. */
static void test_base(void)
{
	uint64_t bsp = APIC_BASE_BSP;

	CHECK_EQ_INT(base(XAPIC, XAPIC, false), 0);                 /* no change */
	CHECK_EQ_INT(base(XAPIC | bsp, XAPIC | bsp, false), 0);
	CHECK_EQ_INT(base(XAPIC, PA, false), 0);                    /* disable */
	CHECK_EQ_INT(base(PA, XAPIC, false), 0);                    /* enable */
	CHECK_EQ_INT(base(XAPIC, X2APIC, true), 0);                 /* xAPIC -> x2APIC */
	CHECK_EQ_INT(base(X2APIC, PA, true), 0);                    /* x2APIC -> off */
	CHECK_EQ_INT(base(X2APIC, X2APIC, true), 0);
	/* moving the page, or any reserved bit */
	CHECK_EQ_INT(base(XAPIC, 0xFEC00000ull | APIC_BASE_EN, false), -EPERM);
	CHECK_EQ_INT(base(XAPIC, APIC_BASE_EN, false), -EPERM);
	CHECK_EQ_INT(base(XAPIC, XAPIC | 1, false), -EINVAL);
	CHECK_EQ_INT(base(XAPIC, XAPIC | (1ull << 9), false), -EINVAL);
	CHECK_EQ_INT(base(XAPIC, XAPIC | (1ull << 52), false), -EINVAL);
	CHECK_EQ_INT(base(XAPIC, XAPIC | (1ull << 63), false), -EINVAL);
	/* the BSP flag, x2APIC without the feature, forbidden transitions */
	CHECK_EQ_INT(base(XAPIC, XAPIC | bsp, false), -EINVAL);
	CHECK_EQ_INT(base(XAPIC | bsp, XAPIC, false), -EINVAL);
	CHECK_EQ_INT(base(XAPIC, X2APIC, false), -EINVAL);
	CHECK_EQ_INT(base(X2APIC, XAPIC, true), -EINVAL);            /* x2APIC -> xAPIC */
	CHECK_EQ_INT(base(PA, X2APIC, true), -EINVAL);               /* off -> x2APIC */
	CHECK_EQ_INT(base(XAPIC, PA | APIC_BASE_EXTD, true), -EINVAL); /* EXTD without EN */
}

int main(void)
{
	test_base();
	test_own_cpu();
	test_refused();
	test_exhaustive();
	return harness_done("apic_filter");
}
