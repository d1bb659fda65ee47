/*
 * Unit tests for hypervisor/common/cpu_plan.c: where dom0 runs and which
 * CPUs form the guest pool, for every bsp= mode, with and without QEMU
 * TCG, from one CPU to MAX_CPUS, with and without max_guest_cpus.
 */
#include "../../hypervisor/common/cpu_plan.c"

#include <stdio.h>

#include "harness.h"

static struct cpu_plan plan_d(uint32_t n, uint32_t bsp, bool tcg, uint32_t max_guest,
			      uint32_t dom0_cpus)
{
	struct cpu_plan_input in = { .nr_cpus = n, .max_guest_cpus = max_guest,
				     .bsp = bsp, .qemu_tcg = tcg, .dom0_cpus = dom0_cpus };
	struct cpu_plan p;

	memset(&p, 0xAB, sizeof(p));
	cpu_plan_make(&in, &p);
	return p;
}

/* The layout with dom0's one CPU (dom0_cpus=1). */
static struct cpu_plan plan(uint32_t n, uint32_t bsp, bool tcg, uint32_t max_guest)
{
	return plan_d(n, bsp, tcg, max_guest, 1);
}

/* Real hardware: dom0 on CPU 0, the rest for guests, whatever the count. */
static void test_hardware(void)
{
	struct cpu_plan p = plan(4, HV_BSP_AUTO, false, 0);

	CHECK(!p.bsp_idle);
	CHECK_EQ_U64(p.dom0_cpu, 0);
	CHECK_EQ_U64(p.mask_dom0, 0x1);
	CHECK_EQ_U64(p.mask_pool, 0xE);
	CHECK_EQ_U64(p.cpus_pool, 3);
	CHECK_EQ_INT(p.note, CPU_PLAN_NOTE_NONE);
	p = plan(1, HV_BSP_AUTO, false, 0);
	CHECK_EQ_U64(p.mask_dom0, 0x1);
	CHECK_EQ_U64(p.mask_pool, 0);
	CHECK_EQ_U64(p.cpus_pool, 0);
	p = plan(64, HV_BSP_AUTO, false, 0);
	CHECK_EQ_U64(p.mask_pool, ~1ull);
	CHECK_EQ_U64(p.cpus_pool, 63);
	p = plan(200, HV_BSP_AUTO, false, 0); /* more than MAX_CPUS: capped */
	CHECK_EQ_U64(p.cpus_pool, 63);
}

/* QEMU TCG: CPU 0 idle as soon as a guest CPU is left, dom0 on CPU 1. */
static void test_tcg_auto(void)
{
	struct cpu_plan p = plan(4, HV_BSP_AUTO, true, 0);

	CHECK(p.bsp_idle);
	CHECK_EQ_U64(p.dom0_cpu, 1);
	CHECK_EQ_U64(p.mask_dom0, 0x2);
	CHECK_EQ_U64(p.mask_pool, 0xC);
	CHECK_EQ_U64(p.cpus_pool, 2);
	CHECK_EQ_INT(p.note, CPU_PLAN_NOTE_TCG_IDLE);
	CHECK_EQ_U64(p.mask_pool & 1, 0); /* CPU 0 never in the pool */
	p = plan(3, HV_BSP_AUTO, true, 0);
	CHECK(p.bsp_idle);
	CHECK_EQ_U64(p.mask_pool, 0x4);
	/* Two CPUs: idling CPU 0 would leave no CPU for guests. */
	p = plan(2, HV_BSP_AUTO, true, 0);
	CHECK(!p.bsp_idle);
	CHECK_EQ_U64(p.mask_dom0, 0x1);
	CHECK_EQ_U64(p.mask_pool, 0x2);
	CHECK_EQ_INT(p.note, CPU_PLAN_NOTE_TCG_TOO_FEW);
	p = plan(1, HV_BSP_AUTO, true, 0); /* one CPU: no other thread, no race */
	CHECK(!p.bsp_idle);
	CHECK_EQ_INT(p.note, CPU_PLAN_NOTE_NONE);
	p = plan(4, HV_BSP_DOM0, true, 0); /* the override */
	CHECK(!p.bsp_idle);
	CHECK_EQ_U64(p.mask_pool, 0xE);
	CHECK_EQ_INT(p.note, CPU_PLAN_NOTE_NONE);
}

/* bsp=idle on any machine, including the two-CPU and one-CPU cases. */
static void test_forced_idle(void)
{
	struct cpu_plan p = plan(2, HV_BSP_IDLE, false, 0);

	CHECK(p.bsp_idle);
	CHECK_EQ_U64(p.mask_dom0, 0x2);
	CHECK_EQ_U64(p.mask_pool, 0);
	CHECK_EQ_U64(p.cpus_pool, 0);
	CHECK_EQ_INT(p.note, CPU_PLAN_NOTE_NONE);
	p = plan(1, HV_BSP_IDLE, true, 0);
	CHECK(!p.bsp_idle);
	CHECK_EQ_U64(p.mask_dom0, 0x1);
	CHECK_EQ_INT(p.note, CPU_PLAN_NOTE_IDLE_ONE_CPU);
}

/* max_guest_cpus counts pool CPUs, after dom0's CPU. */
static void test_limit(void)
{
	struct cpu_plan p = plan(8, HV_BSP_AUTO, false, 2);

	CHECK_EQ_U64(p.mask_pool, 0x6);
	CHECK_EQ_U64(p.cpus_pool, 2);
	p = plan(8, HV_BSP_AUTO, true, 2);
	CHECK_EQ_U64(p.mask_pool, 0xC);
	p = plan(8, HV_BSP_AUTO, true, 64);
	CHECK_EQ_U64(p.mask_pool, 0xFC);
	/* Masks never overlap and never name a CPU that does not exist. */
	for (uint32_t n = 1; n <= 70; n++)
		for (uint32_t bsp = 0; bsp < 3; bsp++)
			for (int tcg = 0; tcg < 2; tcg++) {
				p = plan_d(n, bsp, tcg, n % 5, n % 4);
				CHECK((p.mask_dom0 & p.mask_pool) == 0);
				CHECK((uint32_t)__builtin_popcountll(p.mask_dom0) == p.cpus_dom0);
				CHECK(p.cpus_dom0 >= 1 && p.cpus_dom0 <= CPU_PLAN_MAX_DOM0_CPUS);
				CHECK((p.mask_dom0 & 1) == !p.bsp_idle);
				if (n - p.bsp_idle >= 2) /* a CPU is always left for guests */
					CHECK(p.cpus_pool >= 1);
				CHECK(p.dom0_cpu < (n ? n : 1));
				CHECK((uint32_t)__builtin_popcountll(p.mask_pool) == p.cpus_pool);
				if (n < 64)
					CHECK((p.mask_pool >> n) == 0);
			}
}

/* dom0_cpus: the default (2 from 4 usable CPUs), asked counts, caps. */
static void test_dom0_cpus(void)
{
	struct cpu_plan p = plan_d(4, HV_BSP_AUTO, false, 0, 0); /* a 4-core machine */

	CHECK_EQ_U64(p.cpus_dom0, 2);
	CHECK_EQ_U64(p.mask_dom0, 0x3);
	CHECK_EQ_U64(p.mask_pool, 0xC);
	CHECK(!p.dom0_capped);
	p = plan_d(3, HV_BSP_AUTO, false, 0, 0);
	CHECK_EQ_U64(p.cpus_dom0, 1);
	p = plan_d(4, HV_BSP_AUTO, true, 0, 0); /* QEMU -smp 4: 3 usable, dom0 1 */
	CHECK_EQ_U64(p.mask_dom0, 0x2);
	CHECK_EQ_U64(p.mask_pool, 0xC);
	p = plan_d(5, HV_BSP_AUTO, true, 0, 0); /* QEMU -smp 5: dom0 on 1-2 */
	CHECK_EQ_U64(p.cpus_dom0, 2);
	CHECK_EQ_U64(p.mask_dom0, 0x6);
	CHECK_EQ_U64(p.mask_pool, 0x18);
	p = plan_d(4, HV_BSP_AUTO, true, 0, 2); /* asked: 2 of 3 usable */
	CHECK_EQ_U64(p.mask_dom0, 0x6);
	CHECK_EQ_U64(p.mask_pool, 0x8);
	CHECK(!p.dom0_capped);
	p = plan_d(4, HV_BSP_AUTO, true, 0, 3); /* one CPU stays for guests */
	CHECK_EQ_U64(p.cpus_dom0, 2);
	CHECK(p.dom0_capped);
	p = plan_d(64, HV_BSP_AUTO, false, 0, 64); /* at most 8 */
	CHECK_EQ_U64(p.cpus_dom0, CPU_PLAN_MAX_DOM0_CPUS);
	CHECK_EQ_U64(p.mask_dom0, 0xFF);
	CHECK(p.dom0_capped);
	p = plan_d(1, HV_BSP_AUTO, false, 0, 4); /* one CPU: dom0 has it */
	CHECK_EQ_U64(p.cpus_dom0, 1);
	CHECK_EQ_U64(p.mask_pool, 0);
	p = plan_d(2, HV_BSP_IDLE, false, 0, 2); /* CPU 0 idle, CPU 1 only */
	CHECK_EQ_U64(p.cpus_dom0, 1);
	CHECK_EQ_U64(p.mask_dom0, 0x2);
}

int main(void)
{
	test_dom0_cpus();
	test_hardware();
	test_tcg_auto();
	test_forced_idle();
	test_limit();
	return harness_done("test_cpu_plan");
}
