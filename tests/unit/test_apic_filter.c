/*
 * Unit tests for hypervisor/common/apic_filter.c: which of dom0's ICR
 * writes reach the hardware, for one dom0 CPU and for two, and the APIC
 * base writes dom0 may make.
 */
#include "../../hypervisor/common/apic_filter.c"

#include <stdio.h>

#include "harness.h"

/* One dom0 CPU: APIC id 0, logical id 0x01 (pool CPUs are 1..3). */
static const struct apic_filter_cpus one = { .n = 1, .self = 0, .apic_id = { 0 },
					     .logical = { 0x01 } };
/* Two dom0 CPUs, APIC ids 1 and 2 (CPU 0 idle, 3 in the pool), writing
 * from the first; logical ids 0x01 and 0x02 (Linux's flat mode). */
static const struct apic_filter_cpus two = { .n = 2, .self = 0, .apic_id = { 1, 2 },
					     .logical = { 0x01, 0x02 } };

static int icr(const struct apic_filter_cpus *c, uint32_t lo, uint32_t dest,
	       struct apic_filter_action *a)
{
	const char *why = 0;
	int rc;

	memset(a, 0xA5, sizeof(*a));
	rc = apic_filter_icr(lo, dest, c, a, &why);
	CHECK(rc == 0 || (rc == -EPERM && why && why[0]));
	return rc;
}

static void test_own_cpu(void)
{
	struct apic_filter_action a;

	CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_FIXED | 0xF0, 0, &a), 0);
	CHECK_EQ_U64(a.lo, APIC_ICR_MODE_FIXED | 0xF0);
	CHECK_EQ_U64(a.targets, 1);
	CHECK(!a.start);
	CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_NMI, 0, &a), 0);
	CHECK_EQ_INT(icr(&one, APIC_ICR_SHORTHAND_SELF | 0x30, 7, &a), 0);
	CHECK_EQ_U64(a.lo, 0x30); /* shorthand taken out: the caller sends to each target */
	CHECK_EQ_U64(a.targets, 1);
	CHECK_EQ_INT(icr(&one, APIC_ICR_SHORTHAND_ALL | 0x31, 0, &a), 0); /* all = dom0's */
	CHECK_EQ_U64(a.targets, 1);
	CHECK_EQ_INT(icr(&one, APIC_ICR_DEST_LOGICAL | APIC_ICR_MODE_LOWEST | 0x40, 0x01, &a), 0);
	CHECK_EQ_U64(a.lo, APIC_ICR_MODE_LOWEST | 0x40);
	/* INIT level de-assert: allowed, and nothing to do */
	CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_INIT | APIC_ICR_TRIGGER_LEVEL, 3, &a), 0);
	CHECK_EQ_U64(a.targets, 0);
	CHECK(!a.start);
}

static void test_refused(void)
{
	struct apic_filter_action a;
	uint32_t id;

	for (id = 1; id <= 3; id++) {
		CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_FIXED | 0x10, id, &a), -EPERM);
		CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_NMI, id, &a), -EPERM);
	}
	CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_FIXED | 0x30, 0xFF, &a), -EPERM); /* broadcast */
	CHECK_EQ_INT(icr(&one, APIC_ICR_SHORTHAND_OTHERS | 0x30, 0, &a), -EPERM); /* nobody */
	/* INIT, SIPI: never to dom0's own CPU, nor to another's; SMI never */
	CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_INIT | APIC_ICR_LEVEL_ASSERT, 0, &a), -EPERM);
	CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_INIT | APIC_ICR_LEVEL_ASSERT, 1, &a), -EPERM);
	CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_STARTUP | 0x9A, 2, &a), -EPERM);
	CHECK_EQ_INT(icr(&one, APIC_ICR_MODE_SMI, 0, &a), -EPERM);
	CHECK_EQ_INT(icr(&one, APIC_ICR_SHORTHAND_SELF | APIC_ICR_MODE_INIT |
			 APIC_ICR_LEVEL_ASSERT, 0, &a), -EPERM);
	CHECK_EQ_INT(icr(&one, 7u << 8, 0, &a), -EPERM);  /* ExtINT */
	CHECK_EQ_INT(icr(&one, 3u << 8, 0, &a), -EPERM);  /* reserved */
	/* logical: a mask with any other CPU, and none when dom0 set no id */
	CHECK_EQ_INT(icr(&one, APIC_ICR_DEST_LOGICAL | 0x40, 0x03, &a), -EPERM);
	CHECK_EQ_INT(icr(&one, APIC_ICR_DEST_LOGICAL | 0x40, 0xFF, &a), -EPERM);
	{
		struct apic_filter_cpus unset = one;

		unset.logical[0] = 0;
		CHECK_EQ_INT(icr(&unset, APIC_ICR_DEST_LOGICAL | 0x40, 0, &a), -EPERM);
		CHECK_EQ_INT(icr(&unset, APIC_ICR_DEST_LOGICAL | 0x40, 0x01, &a), -EPERM);
	}
}

/* Two dom0 CPUs: IPIs between them pass, INIT/SIPI to the other is
 * emulated, shorthands become dom0's CPUs, the rest is refused. */
static void test_two_cpus(void)
{
	struct apic_filter_action a;

	CHECK_EQ_INT(icr(&two, APIC_ICR_MODE_FIXED | 0xFB, 2, &a), 0);
	CHECK_EQ_U64(a.targets, 2);
	CHECK_EQ_INT(icr(&two, APIC_ICR_SHORTHAND_OTHERS | 0xFD, 0, &a), 0);
	CHECK_EQ_U64(a.targets, 2);
	CHECK_EQ_U64(a.lo, 0xFD);
	CHECK_EQ_INT(icr(&two, APIC_ICR_SHORTHAND_ALL | APIC_ICR_MODE_NMI, 0, &a), 0);
	CHECK_EQ_U64(a.targets, 3);
	CHECK_EQ_INT(icr(&two, APIC_ICR_DEST_LOGICAL | 0xF1, 0x03, &a), 0);
	CHECK_EQ_U64(a.targets, 3);
	CHECK_EQ_U64(a.lo, 0xF1); /* sent physically to each */
	CHECK_EQ_INT(icr(&two, APIC_ICR_DEST_LOGICAL | APIC_ICR_MODE_LOWEST | 0xF1, 0x03, &a), 0);
	CHECK_EQ_U64(a.targets, 1); /* lowest priority: one of them */
	CHECK_EQ_INT(icr(&two, APIC_ICR_MODE_INIT | APIC_ICR_LEVEL_ASSERT, 2, &a), 0);
	CHECK(a.start);
	CHECK_EQ_U64(a.targets, 2);
	CHECK_EQ_INT(icr(&two, APIC_ICR_MODE_STARTUP | 0x9A, 2, &a), 0);
	CHECK(a.start);
	CHECK_EQ_U64(a.lo & 0xFF, 0x9A);
	/* refused: the idle CPU 0, the pool CPU 3, a mask beyond dom0, INIT to
	 * all (that includes the sender), INIT to itself */
	CHECK_EQ_INT(icr(&two, APIC_ICR_MODE_FIXED | 0x30, 0, &a), -EPERM);
	CHECK_EQ_INT(icr(&two, APIC_ICR_MODE_INIT | APIC_ICR_LEVEL_ASSERT, 3, &a), -EPERM);
	CHECK_EQ_INT(icr(&two, APIC_ICR_MODE_STARTUP | 0x9A, 0, &a), -EPERM);
	CHECK_EQ_INT(icr(&two, APIC_ICR_DEST_LOGICAL | 0x30, 0x07, &a), -EPERM);
	CHECK_EQ_INT(icr(&two, APIC_ICR_SHORTHAND_ALL | APIC_ICR_MODE_INIT |
			 APIC_ICR_LEVEL_ASSERT, 0, &a), -EPERM);
	CHECK_EQ_INT(icr(&two, APIC_ICR_MODE_INIT | APIC_ICR_LEVEL_ASSERT, 1, &a), -EPERM);
	/* x2APIC: cluster logical ids ((id >> 4) << 16 | 1 << (id & 15)) */
	{
		struct apic_filter_cpus x2 = two;

		x2.x2apic = true;
		CHECK_EQ_INT(icr(&x2, APIC_ICR_DEST_LOGICAL | 0xF1, 0x00000006, &a), 0);
		CHECK_EQ_U64(a.targets, 3);
		CHECK_EQ_INT(icr(&x2, APIC_ICR_DEST_LOGICAL | 0xF1, 0x0000000E, &a), -EPERM);
		CHECK_EQ_INT(icr(&x2, APIC_ICR_DEST_LOGICAL | 0xF1, 0x00010006, &a), -EPERM);
		CHECK_EQ_INT(icr(&x2, APIC_ICR_MODE_FIXED | 0x30, 0xFFFFFFFF, &a), -EPERM);
		CHECK_EQ_INT(icr(&x2, APIC_ICR_MODE_FIXED | 0x30, 0xFF, &a), -EPERM);
	}
}

/* Every low word with every destination, for one and two dom0 CPUs: a
 * send never targets a CPU that is not dom0's, carries no shorthand or
 * logical mode, is never SMI, and INIT/SIPI are only ever emulated, never
 * for the sender. */
static void test_exhaustive(void)
{
	const struct apic_filter_cpus *sets[] = { &one, &two };
	uint32_t lo, dest, s;

	for (s = 0; s < 2; s++) {
		const struct apic_filter_cpus *c = sets[s];
		uint32_t all = (1u << c->n) - 1;

		for (lo = 0; lo < (1u << 20); lo += 0x37) {
			for (dest = 0; dest < 256; dest += 5) {
				struct apic_filter_action a;
				const char *why;
				uint32_t mode;

				if (apic_filter_icr(lo, dest, c, &a, &why))
					continue;
				mode = a.lo & APIC_ICR_MODE_MASK;
				CHECK((a.targets & ~all) == 0);
				CHECK((a.lo & (APIC_ICR_SHORTHAND_MASK | APIC_ICR_DEST_LOGICAL)) == 0);
				CHECK(mode != APIC_ICR_MODE_SMI);
				if (mode == APIC_ICR_MODE_INIT || mode == APIC_ICR_MODE_STARTUP)
					CHECK(!a.targets || (a.start &&
						!(a.targets & (1u << c->self))));
				else
					CHECK(!a.start);
			}
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
	test_two_cpus();
	test_exhaustive();
	return harness_done("apic_filter");
}
