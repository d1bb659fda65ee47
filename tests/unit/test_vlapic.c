/*
 * Unit tests for hypervisor/devices/lapic.c, the virtual xAPIC: reset
 * values, register masks and read-only registers, TPR/PPR and priority
 * class masking of pending vectors, IRR -> ISR -> EOI with nested vectors,
 * level EOI reporting, ICR writes (fixed, INIT, SIPI, NMI, shorthands,
 * reserved modes), physical and logical flat/cluster destination matching,
 * one-shot/periodic/TSC-deadline timers with current-count reads over
 * simulated TSC time, divide changes, mode-change disarming, a masked
 * timer, and SVR software disable.
 */
#include "../../hypervisor/devices/lapic.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

#define TSC_KHZ 2000000ull /* a 2 GHz guest TSC */
#define T0 1000000ull      /* arbitrary start time in TSC ticks */

static struct vlapic_effects fx;

static uint32_t rd(struct vlapic *l, uint32_t off)
{
	return vlapic_read(l, off, T0);
}

static void wr(struct vlapic *l, uint32_t off, uint32_t v)
{
	vlapic_write(l, off, v, T0, &fx);
}

/* Bit `v` of the 256-bit register array at base (ISR, TMR or IRR), read
 * through the register page: word v / 32 at base + 0x10 * (v / 32). */
static bool vec_bit(struct vlapic *l, uint32_t base, uint32_t v)
{
	return (rd(l, base + 0x10 * (v / 32)) >> (v % 32)) & 1;
}

/* An enabled APIC with spurious vector 0xFF. */
static void setup(struct vlapic *l, uint32_t id)
{
	vlapic_init(l, id, TSC_KHZ);
	wr(l, VLAPIC_REG_SVR, VLAPIC_SVR_ENABLE | 0xFF);
}

static void test_reset(void)
{
	struct vlapic l;

	memset(&l, 0xA5, sizeof(l));
	vlapic_init(&l, 3, TSC_KHZ);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ID), 3u << 24);
	CHECK_EQ_U64(vlapic_apic_id(&l), 3);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_VERSION), 0x00050014u);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TPR), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_APR), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_LDR), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_DFR), 0xFFFFFFFFu);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_SVR), 0xFF);
	CHECK(!vlapic_sw_enabled(&l));
	for (uint32_t off = 0x100; off < 0x280; off += 0x10)
		CHECK_EQ_U64(rd(&l, off), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ESR), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ICR_LO), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ICR_HI), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_LVT_CMCI), VLAPIC_LVT_MASKED);
	for (uint32_t off = VLAPIC_REG_LVT_TIMER; off <= VLAPIC_REG_LVT_ERROR; off += 0x10)
		CHECK_EQ_U64(rd(&l, off), VLAPIC_LVT_MASKED);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TIMER_ICR), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TIMER_CCR), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TIMER_DCR), 0);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&l), 0);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	CHECK_EQ_U64(l.tsc_khz, TSC_KHZ);
}

static void test_register_masks(void)
{
	struct vlapic l;

	setup(&l, 1);
	wr(&l, VLAPIC_REG_ID, 0x12345678);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ID), 0x12000000u);
	wr(&l, VLAPIC_REG_TPR, 0xFFFFFF3A);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TPR), 0x3A);
	wr(&l, VLAPIC_REG_LDR, 0xFFFFFFFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_LDR), 0xFF000000u);
	wr(&l, VLAPIC_REG_DFR, 0x0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_DFR), 0x0FFFFFFFu);
	wr(&l, VLAPIC_REG_SVR, 0xFFFFFFFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_SVR), 0x3FF);
	/* Read-only registers ignore writes. */
	wr(&l, VLAPIC_REG_VERSION, 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_VERSION), VLAPIC_VERSION_VALUE);
	wr(&l, VLAPIC_REG_PPR, 0xFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0x3A);
	wr(&l, VLAPIC_REG_APR, 0xFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_APR), 0);
	wr(&l, VLAPIC_REG_IRR0 + 0x10, 0xFFFFFFFF);
	wr(&l, VLAPIC_REG_ISR0 + 0x10, 0xFFFFFFFF);
	wr(&l, VLAPIC_REG_TMR0 + 0x10, 0xFFFFFFFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_IRR0 + 0x10), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ISR0 + 0x10), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TMR0 + 0x10), 0);
	wr(&l, VLAPIC_REG_TIMER_CCR, 1234);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TIMER_CCR), 0);
	/* ESR: write-then-read semantics, always 0 here. */
	wr(&l, VLAPIC_REG_ESR, 0xFFFFFFFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ESR), 0);
	/* LVT writable bits per entry. */
	wr(&l, VLAPIC_REG_LVT_LINT0, 0xFFFFFFFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_LVT_LINT0), 0x0001A7FFu);
	wr(&l, VLAPIC_REG_LVT_ERROR, 0xFFFFFFFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_LVT_ERROR), 0x000100FFu);
	wr(&l, VLAPIC_REG_LVT_CMCI, 0xFFFFFFFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_LVT_CMCI), 0x000107FFu);
	wr(&l, VLAPIC_REG_LVT_PERF, 0x400 | 0xEE); /* NMI delivery, unmasked */
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_LVT_PERF), 0x4EE);
	wr(&l, VLAPIC_REG_TIMER_DCR, 0xFFFFFFFF);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TIMER_DCR), 0xB);
	/* Reserved, x2APIC-only, misaligned and out-of-page offsets. */
	wr(&l, 0x3F0, 0x30); /* x2APIC SELF IPI: no IPI in xAPIC mode */
	CHECK(!fx.ipi.valid);
	CHECK_EQ_U64(rd(&l, 0x3F0), 0);
	CHECK_EQ_U64(rd(&l, 0x3D0), 0);
	CHECK_EQ_U64(rd(&l, 0x400), 0);
	CHECK_EQ_U64(rd(&l, 0x24), 0);
	CHECK_EQ_U64(rd(&l, 0x1000), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_EOI), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_RRD), 0);
	wr(&l, 0x84, 0x77); /* misaligned TPR write ignored */
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TPR), 0x3A);
}

static void test_priority(void)
{
	struct vlapic l;

	setup(&l, 0);
	vlapic_accept(&l, 0x45, false);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_IRR0 + 0x20), 1u << 5);
	CHECK_EQ_INT(vlapic_pending(&l), 0x45);
	/* TPR class 4 blocks class 4, class 3 does not. */
	wr(&l, VLAPIC_REG_TPR, 0x40);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0x40);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	wr(&l, VLAPIC_REG_TPR, 0x4F);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	wr(&l, VLAPIC_REG_TPR, 0x3F);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0x3F);
	CHECK_EQ_INT(vlapic_pending(&l), 0x45);
	/* The highest vector wins regardless of arrival order. */
	vlapic_accept(&l, 0x81, false);
	vlapic_accept(&l, 0x30, false);
	CHECK_EQ_INT(vlapic_pending(&l), 0x81);
	/* In service 0x81: PPR = 0x80, which blocks class 4 too. */
	vlapic_ack(&l, 0x81);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0x80);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ISR0 + 0x40), 1u << 1);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	/* A same-class vector is blocked, a higher class passes. */
	vlapic_accept(&l, 0x8F, false);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	vlapic_accept(&l, 0x90, false);
	CHECK_EQ_INT(vlapic_pending(&l), 0x90);
	/* TPR above ISR class: PPR follows TPR. */
	wr(&l, VLAPIC_REG_TPR, 0xA5);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0xA5);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	/* Illegal vectors 0-15 are never accepted. */
	vlapic_accept(&l, 0x0E, false);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_IRR0), 0);
}

static void test_nested_eoi(void)
{
	struct vlapic l;

	setup(&l, 0);
	vlapic_accept(&l, 0x41, false);
	CHECK_EQ_INT(vlapic_pending(&l), 0x41);
	vlapic_ack(&l, 0x41);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_IRR0 + 0x20), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ISR0 + 0x20), 1u << 1);
	/* Higher class nests on top. */
	vlapic_accept(&l, 0x61, false);
	vlapic_accept(&l, 0x42, false); /* blocked by ISR 0x41's class */
	CHECK_EQ_INT(vlapic_pending(&l), 0x61);
	vlapic_ack(&l, 0x61);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0x60);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	/* First EOI retires 0x61 (highest), not 0x41. */
	wr(&l, VLAPIC_REG_EOI, 0);
	CHECK_EQ_INT(fx.eoi_level_vector, -1);
	CHECK(!fx.ipi.valid);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ISR0 + 0x30), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ISR0 + 0x20), 1u << 1);
	CHECK(vec_bit(&l, VLAPIC_REG_ISR0, 0x41));
	CHECK(!vec_bit(&l, VLAPIC_REG_ISR0, 0x61));
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0x40);
	CHECK_EQ_INT(vlapic_pending(&l), -1); /* 0x42 same class as 0x41 */
	/* TPR class equal to the ISR class: PPR is the TPR (low bits too). */
	wr(&l, VLAPIC_REG_TPR, 0x47);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0x47);
	wr(&l, VLAPIC_REG_TPR, 0x3F);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0x40);
	wr(&l, VLAPIC_REG_TPR, 0);
	wr(&l, VLAPIC_REG_EOI, 0);
	CHECK(!vec_bit(&l, VLAPIC_REG_ISR0, 0x41));
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_PPR), 0);
	CHECK_EQ_INT(vlapic_pending(&l), 0x42);
	/* EOI with nothing in service does nothing. */
	vlapic_ack(&l, 0x42);
	wr(&l, VLAPIC_REG_EOI, 0);
	wr(&l, VLAPIC_REG_EOI, 0);
	CHECK_EQ_INT(fx.eoi_level_vector, -1);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
}

static void test_level_eoi(void)
{
	struct vlapic l;

	setup(&l, 0);
	vlapic_accept(&l, 0x51, true);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TMR0 + 0x20), 1u << 17);
	vlapic_ack(&l, 0x51);
	vlapic_accept(&l, 0x71, false);
	vlapic_ack(&l, 0x71);
	wr(&l, VLAPIC_REG_EOI, 0);
	CHECK_EQ_INT(fx.eoi_level_vector, -1); /* 0x71 was edge */
	wr(&l, VLAPIC_REG_EOI, 0);
	CHECK_EQ_INT(fx.eoi_level_vector, 0x51);
	/* An edge arrival of the same vector clears its TMR bit. */
	vlapic_accept(&l, 0x51, false);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_TMR0 + 0x20), 0);
	vlapic_ack(&l, 0x51);
	wr(&l, VLAPIC_REG_EOI, 0);
	CHECK_EQ_INT(fx.eoi_level_vector, -1);
	/* Other writes report no EOI. */
	wr(&l, VLAPIC_REG_TPR, 0);
	CHECK_EQ_INT(fx.eoi_level_vector, -1);
}

static void test_icr(void)
{
	struct vlapic l;

	setup(&l, 0);
	/* Fixed, physical, to APIC 2. */
	wr(&l, VLAPIC_REG_ICR_HI, 0x02ABCDEF);
	CHECK(!fx.ipi.valid);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ICR_HI), 0x02000000u);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00004000 | 0xFD);
	CHECK(fx.ipi.valid);
	CHECK_EQ_U64(fx.ipi.vector, 0xFD);
	CHECK_EQ_U64(fx.ipi.delivery, VLAPIC_DM_FIXED);
	CHECK(!fx.ipi.logical);
	CHECK(fx.ipi.level_assert);
	CHECK_EQ_U64(fx.ipi.shorthand, VLAPIC_SH_NONE);
	CHECK_EQ_U64(fx.ipi.dest, 2);
	/* Delivery status never reads 1. */
	wr(&l, VLAPIC_REG_ICR_LO, 0x000FFFFF & ~0x700u);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ICR_LO) & (1u << 12), 0);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ICR_LO), 0x000CC8FFu);
	/* INIT assert, level de-assert, SIPI as Linux sends them. */
	wr(&l, VLAPIC_REG_ICR_HI, 0x01000000);
	wr(&l, VLAPIC_REG_ICR_LO, 0x0000C500);
	CHECK(fx.ipi.valid);
	CHECK_EQ_U64(fx.ipi.delivery, VLAPIC_DM_INIT);
	CHECK(fx.ipi.level_assert);
	CHECK_EQ_U64(fx.ipi.dest, 1);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00008500);
	CHECK(fx.ipi.valid);
	CHECK_EQ_U64(fx.ipi.delivery, VLAPIC_DM_INIT);
	CHECK(!fx.ipi.level_assert);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00000600 | 0x9A);
	CHECK(fx.ipi.valid);
	CHECK_EQ_U64(fx.ipi.delivery, VLAPIC_DM_STARTUP);
	CHECK_EQ_U64(fx.ipi.vector, 0x9A);
	CHECK_EQ_U64(fx.ipi.dest, 1);
	/* NMI, logical destination. */
	wr(&l, VLAPIC_REG_ICR_HI, 0x0C000000);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00004C00);
	CHECK(fx.ipi.valid);
	CHECK_EQ_U64(fx.ipi.delivery, VLAPIC_DM_NMI);
	CHECK(fx.ipi.logical);
	CHECK_EQ_U64(fx.ipi.dest, 0x0C);
	/* Shorthands. */
	wr(&l, VLAPIC_REG_ICR_LO, 0x00044000 | 0xF1);
	CHECK_EQ_U64(fx.ipi.shorthand, VLAPIC_SH_SELF);
	CHECK_EQ_U64(fx.ipi.vector, 0xF1);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00084000 | 0xF2);
	CHECK_EQ_U64(fx.ipi.shorthand, VLAPIC_SH_ALL_INCL_SELF);
	wr(&l, VLAPIC_REG_ICR_LO, 0x000C4000 | 0xF3);
	CHECK_EQ_U64(fx.ipi.shorthand, VLAPIC_SH_ALL_EXCL_SELF);
	CHECK(fx.ipi.valid);
	/* Lowest priority and SMI pass through; reserved modes do not. */
	wr(&l, VLAPIC_REG_ICR_LO, 0x00004100 | 0x33);
	CHECK(fx.ipi.valid);
	CHECK_EQ_U64(fx.ipi.delivery, VLAPIC_DM_LOWEST);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00004200);
	CHECK(fx.ipi.valid);
	CHECK_EQ_U64(fx.ipi.delivery, VLAPIC_DM_SMI);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00004300);
	CHECK(!fx.ipi.valid);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00004700);
	CHECK(!fx.ipi.valid);
	/* IPIs can be sent while software-disabled (SDM 10.4.7.2). */
	wr(&l, VLAPIC_REG_SVR, 0xFF);
	wr(&l, VLAPIC_REG_ICR_LO, 0x00004000 | 0x40);
	CHECK(fx.ipi.valid);
	/* A NULL effects pointer is tolerated. */
	vlapic_write(&l, VLAPIC_REG_ICR_LO, 0x4041, T0, NULL);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_ICR_LO), 0x4041);
}

static void test_match_dest(void)
{
	struct vlapic l;

	setup(&l, 5);
	/* Physical. */
	CHECK(vlapic_match_dest(&l, 5, false));
	CHECK(!vlapic_match_dest(&l, 4, false));
	CHECK(vlapic_match_dest(&l, 0xFF, false));
	CHECK(vlapic_match_dest(&l, 0x105, false)); /* only 8 bits count */
	wr(&l, VLAPIC_REG_ID, 0x07000000);
	CHECK(vlapic_match_dest(&l, 7, false));
	CHECK(!vlapic_match_dest(&l, 5, false));
	/* Logical flat: LDR bit set per CPU, as Linux's flat mode does. */
	wr(&l, VLAPIC_REG_DFR, 0xFFFFFFFF);
	wr(&l, VLAPIC_REG_LDR, 0x20000000);
	CHECK(vlapic_match_dest(&l, 0x20, true));
	CHECK(vlapic_match_dest(&l, 0x23, true));
	CHECK(!vlapic_match_dest(&l, 0x1F, true));
	CHECK(!vlapic_match_dest(&l, 0x00, true));
	CHECK(vlapic_match_dest(&l, 0xFF, true));
	CHECK(!vlapic_match_dest(&l, 0x20, false)); /* physical id is 7 */
	/* Logical cluster: cluster 3, member bit 1. */
	wr(&l, VLAPIC_REG_DFR, 0x0FFFFFFF);
	wr(&l, VLAPIC_REG_LDR, 0x32000000);
	CHECK(vlapic_match_dest(&l, 0x32, true));
	CHECK(vlapic_match_dest(&l, 0x3F, true));
	CHECK(!vlapic_match_dest(&l, 0x31, true));
	CHECK(!vlapic_match_dest(&l, 0x22, true));
	CHECK(!vlapic_match_dest(&l, 0x02, true));
	CHECK(vlapic_match_dest(&l, 0xFF, true));
	/* LDR 0 matches no logical destination but the broadcast. */
	wr(&l, VLAPIC_REG_LDR, 0);
	wr(&l, VLAPIC_REG_DFR, 0xFFFFFFFF);
	CHECK(!vlapic_match_dest(&l, 0xFE, true));
	CHECK(vlapic_match_dest(&l, 0xFF, true));
}

/* One-shot timer: counts down once per `divide` TSC ticks. */
static void test_timer_oneshot(void)
{
	struct vlapic l;
	uint64_t t = T0;

	setup(&l, 0);
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0x3, t, &fx); /* divide 16 */
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEC, t, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 1000, t, &fx);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_ICR, t), 1000);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t), 1000);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 15), 1000);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 16), 999);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 16 * 400), 600);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 16 * 999), 1);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 16 * 1000 - 1), 1);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 16 * 1000), 0);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 16000);
	/* Not yet expired: nothing. */
	vlapic_timer_update(&l, t + 15999);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	vlapic_timer_update(&l, t + 16005);
	CHECK_EQ_INT(vlapic_pending(&l), 0xEC);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 20000), 0);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_ICR, t + 20000), 1000);
	/* Fires once only. */
	vlapic_ack(&l, 0xEC);
	vlapic_write(&l, VLAPIC_REG_EOI, 0, t + 20000, &fx);
	vlapic_timer_update(&l, t + 100000);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	/* Rewriting the initial count restarts; writing 0 stops. */
	t += 200000;
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 10, t, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 160);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 0, t + 80, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 100), 0);
	vlapic_timer_update(&l, t + 1000);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	/* Divide 1 (DCR 1011b) and divide 128 (1010b). */
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0xB, t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 100, t, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 100);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 37), 63);
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0xA, t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 100, t, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 12800);
	/* Divide 2 (0000b): change mid-count keeps the remaining count. */
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0x0, t + 128 * 40, &fx);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 128 * 40), 60);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 128 * 40 + 2 * 60);
}

static void test_timer_periodic(void)
{
	struct vlapic l;
	uint64_t t = T0, period = 8 * 250;

	setup(&l, 0);
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0x2, t, &fx); /* divide 8 */
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, (1u << 17) | 0xEF, t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 250, t, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + period);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 8 * 100), 150);
	/* Reading past the reload without an update still wraps. */
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + period), 250);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + period + 8 * 10), 240);
	vlapic_timer_update(&l, t + period + 3);
	CHECK_EQ_INT(vlapic_pending(&l), 0xEF);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 2 * period);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + period + 8), 249);
	vlapic_ack(&l, 0xEF);
	vlapic_write(&l, VLAPIC_REG_EOI, 0, t + period + 10, &fx);
	/* Several missed periods: one interrupt, next expiry stays on grid. */
	vlapic_timer_update(&l, t + 5 * period + 7);
	CHECK_EQ_INT(vlapic_pending(&l), 0xEF);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 6 * period);
	vlapic_ack(&l, 0xEF);
	vlapic_write(&l, VLAPIC_REG_EOI, 0, t + 5 * period + 8, &fx);
	vlapic_timer_update(&l, t + 6 * period - 1);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	vlapic_timer_update(&l, t + 6 * period);
	CHECK_EQ_INT(vlapic_pending(&l), 0xEF);
	/* Stop with initial count 0. */
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 0, t + 6 * period + 1, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 7 * period), 0);
	/* Changing mode periodic -> one-shot disarms (SDM 10.5.4.1). */
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 250, t, &fx);
	CHECK(vlapic_timer_next(&l) != 0);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEF, t + 8, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_ICR, t + 8), 0);
	/* Rewriting the same mode (e.g. a new vector) keeps it running. */
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 250, t, &fx);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEE, t + 8, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + period);
	/* Reserved mode 3 leaves the mode as it was. */
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, (3u << 17) | 0xEE, t + 8, &fx);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_LVT_TIMER, t + 8), 0xEE);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + period);
}

static void test_timer_deadline(void)
{
	struct vlapic l;
	uint64_t t = T0;

	setup(&l, 0);
	/* Not in deadline mode: MSR writes ignored, reads 0. */
	vlapic_tsc_deadline_write(&l, t + 500, t);
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&l), 0);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, (2u << 17) | 0xEC, t, &fx);
	vlapic_tsc_deadline_write(&l, t + 500, t);
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&l), t + 500);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 500);
	/* Initial count ignored, current count 0 in deadline mode. */
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 100, t, &fx);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_ICR, t), 0);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 1), 0);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 500);
	vlapic_timer_update(&l, t + 499);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	vlapic_timer_update(&l, t + 500);
	CHECK_EQ_INT(vlapic_pending(&l), 0xEC);
	/* Firing clears the MSR and disarms. */
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&l), 0);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	vlapic_ack(&l, 0xEC);
	vlapic_write(&l, VLAPIC_REG_EOI, 0, t + 510, &fx);
	/* Moving the deadline; then 0 disarms. */
	vlapic_tsc_deadline_write(&l, t + 2000, t + 600);
	vlapic_tsc_deadline_write(&l, t + 1500, t + 700);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 1500);
	vlapic_tsc_deadline_write(&l, 0, t + 800);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	vlapic_timer_update(&l, t + 5000);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	/* A deadline already in the past fires at once. */
	vlapic_tsc_deadline_write(&l, t + 10, t + 6000);
	CHECK_EQ_INT(vlapic_pending(&l), 0xEC);
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&l), 0);
	vlapic_ack(&l, 0xEC);
	vlapic_write(&l, VLAPIC_REG_EOI, 0, t + 6000, &fx);
	/* Leaving deadline mode clears the deadline; coming back too. */
	vlapic_tsc_deadline_write(&l, t + 9000, t + 6000);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEC, t + 6001, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&l), 0);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 100, t + 6002, &fx);
	CHECK(vlapic_timer_next(&l) != 0);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, (2u << 17) | 0xEC, t + 6003, &fx);
	CHECK_EQ_U64(vlapic_timer_next(&l), 0);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_ICR, t + 6003), 0);
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&l), 0);
	vlapic_timer_update(&l, t + 100000);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
}

static void test_timer_masked(void)
{
	struct vlapic l;
	uint64_t t = T0;

	setup(&l, 0);
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0xB, t, &fx);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_MASKED | 0xEC, t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 100, t, &fx);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t + 40), 60);
	vlapic_timer_update(&l, t + 100);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	CHECK(!vec_bit(&l, VLAPIC_REG_IRR0, 0xEC));
	CHECK_EQ_U64(vlapic_timer_next(&l), 0); /* the one-shot expired */
	/* Masked deadline: expires, clears the MSR, no interrupt. */
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER,
		     VLAPIC_LVT_MASKED | (2u << 17) | 0xEC, t, &fx);
	vlapic_tsc_deadline_write(&l, t + 300, t + 200);
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 300);
	vlapic_timer_update(&l, t + 300);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&l), 0);
}

static void test_svr_disable(void)
{
	struct vlapic l;
	uint64_t t = T0;

	setup(&l, 0);
	vlapic_write(&l, VLAPIC_REG_LVT_LINT0, 0x700, t, &fx); /* ExtINT */
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, (1u << 17) | 0xEF, t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0xB, t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 100, t, &fx);
	vlapic_accept(&l, 0x60, false);
	CHECK_EQ_INT(vlapic_pending(&l), 0x60);
	/* Disable: every LVT masked, nothing delivered, IRR held. */
	vlapic_write(&l, VLAPIC_REG_SVR, 0xFF, t, &fx);
	CHECK(!vlapic_sw_enabled(&l));
	for (uint32_t off = VLAPIC_REG_LVT_TIMER; off <= VLAPIC_REG_LVT_ERROR; off += 0x10)
		CHECK(vlapic_read(&l, off, t) & VLAPIC_LVT_MASKED);
	CHECK(vlapic_read(&l, VLAPIC_REG_LVT_CMCI, t) & VLAPIC_LVT_MASKED);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_LVT_LINT0, t), 0x10700);
	CHECK_EQ_INT(vlapic_pending(&l), -1);
	CHECK_EQ_U64(rd(&l, VLAPIC_REG_IRR0 + 0x30), 1);
	/* Unmasking is refused while disabled. */
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, (1u << 17) | 0xEF, t, &fx);
	CHECK_EQ_U64(vlapic_read(&l, VLAPIC_REG_LVT_TIMER, t),
		     VLAPIC_LVT_MASKED | (1u << 17) | 0xEF);
	/* The timer runs but raises nothing; new fixed interrupts dropped. */
	vlapic_timer_update(&l, t + 100);
	vlapic_accept(&l, 0x70, false);
	CHECK(!vec_bit(&l, VLAPIC_REG_IRR0, 0xEF));
	CHECK(!vec_bit(&l, VLAPIC_REG_IRR0, 0x70));
	CHECK(vec_bit(&l, VLAPIC_REG_IRR0, 0x60));
	CHECK_EQ_U64(vlapic_timer_next(&l), t + 200);
	/* Re-enable: the held IRR bit is deliverable again, LVTs stay masked. */
	vlapic_write(&l, VLAPIC_REG_SVR, 0x1FF, t, &fx);
	CHECK_EQ_INT(vlapic_pending(&l), 0x60);
	CHECK(vlapic_read(&l, VLAPIC_REG_LVT_TIMER, t) & VLAPIC_LVT_MASKED);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, (1u << 17) | 0xEF, t, &fx);
	vlapic_timer_update(&l, t + 200);
	vlapic_ack(&l, 0x60);
	wr(&l, VLAPIC_REG_EOI, 0);
	CHECK_EQ_INT(vlapic_pending(&l), 0xEF);
}

/* Random register traffic must never break invariants or crash. */
static void test_random_traffic(void)
{
	struct vlapic l;
	uint64_t t = T0;

	setup(&l, 1);
	for (int i = 0; i < 20000; i++) {
		uint32_t off = (uint32_t)harness_rand_below(0x41) * 0x10;
		uint32_t val = (uint32_t)harness_rand();
		int v;

		t += harness_rand_below(5000);
		if (off == VLAPIC_REG_SVR)
			val |= VLAPIC_SVR_ENABLE;
		switch (harness_rand_below(6)) {
		case 0:
			vlapic_write(&l, off, val, t, &fx);
			break;
		case 1:
			(void)vlapic_read(&l, off, t);
			break;
		case 2:
			vlapic_accept(&l, (uint8_t)val, val & 0x100);
			break;
		case 3:
			v = vlapic_pending(&l);
			if (v >= 0) {
				CHECK((uint32_t)(v & 0xF0) > (vlapic_ppr(&l) & 0xF0));
				vlapic_ack(&l, (uint8_t)v);
			}
			break;
		case 4:
			vlapic_timer_update(&l, t);
			CHECK(vlapic_timer_next(&l) == 0 || vlapic_timer_next(&l) > t);
			break;
		default:
			vlapic_tsc_deadline_write(&l, t + harness_rand_below(10000), t);
			break;
		}
		CHECK(vlapic_read(&l, VLAPIC_REG_TIMER_CCR, t) <= l.timer_initial);
	}
}

/* A one-shot timer saved half way on a 2 GHz TSC runs out its other half
 * on a 1 GHz TSC at another time base; registers, pending and in-service
 * vectors carry over; periodic and deadline timers resume too. */
static void test_save_load(void)
{
	struct vlapic l, copy, before;
	struct keel_state_lapic st, bad;
	const uint64_t t1 = 77777777ull; /* the new machine's TSC at load */
	uint64_t t = T0;

	setup(&l, 2);
	wr(&l, VLAPIC_REG_TPR, 0x20);
	wr(&l, VLAPIC_REG_LDR, 0x04000000);
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0x3, t, &fx); /* divide 16 */
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEC, t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 1000, t, &fx); /* 16000 ticks = 8 us */
	vlapic_accept(&l, 0x41, true);
	vlapic_accept(&l, 0x62, false);
	vlapic_ack(&l, 0x62); /* in service */
	vlapic_save(&l, t + 8000, &st);
	CHECK_EQ_U64(st.timer_left_ns, 4000);
	CHECK_EQ_U64(st.timer_armed, 1);

	vlapic_init(&copy, 2, TSC_KHZ / 2);
	CHECK_EQ_U64(vlapic_load(&copy, &st, t1), 0);
	CHECK_EQ_U64(copy.tsc_khz, TSC_KHZ / 2); /* the new machine's rate stays */
	CHECK_EQ_U64(vlapic_timer_next(&copy), t1 + 4000);
	CHECK_EQ_U64(vlapic_read(&copy, VLAPIC_REG_TIMER_CCR, t1), 250); /* 4000 / 16 */
	CHECK_EQ_U64(vlapic_read(&copy, VLAPIC_REG_TPR, t1), 0x20);
	CHECK_EQ_U64(vlapic_read(&copy, VLAPIC_REG_LDR, t1), 0x04000000);
	CHECK_EQ_U64(vlapic_read(&copy, VLAPIC_REG_SVR, t1), VLAPIC_SVR_ENABLE | 0xFF);
	CHECK_EQ_U64(vlapic_ppr(&copy), 0x60);
	CHECK(vec_bit(&copy, VLAPIC_REG_ISR0, 0x62));
	CHECK(vec_bit(&copy, VLAPIC_REG_TMR0, 0x41));
	vlapic_timer_update(&copy, t1 + 3999);
	CHECK_EQ_U64(copy.irr[0xEC / 32] >> (0xEC % 32) & 1, 0);
	vlapic_timer_update(&copy, t1 + 4000);
	CHECK_EQ_U64(copy.irr[0xEC / 32] >> (0xEC % 32) & 1, 1);

	/* periodic: the period is in the new ticks */
	setup(&l, 0);
	vlapic_write(&l, VLAPIC_REG_TIMER_DCR, 0xB, t, &fx); /* divide 1 */
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEC | (1u << 17), t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 2000, t, &fx); /* 1 us */
	vlapic_save(&l, t + 500, &st);
	CHECK_EQ_U64(st.timer_left_ns, 750);
	vlapic_init(&copy, 0, TSC_KHZ);
	CHECK_EQ_U64(vlapic_load(&copy, &st, t1), 0);
	vlapic_timer_update(&copy, t1 + 1500);
	CHECK_EQ_U64(vlapic_timer_next(&copy), t1 + 1500 + 2000);

	/* TSC deadline: the MSR reads the new expiry */
	setup(&l, 0);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEC | (2u << 17), t, &fx);
	vlapic_tsc_deadline_write(&l, t + 6000, t);
	vlapic_save(&l, t + 2000, &st);
	CHECK_EQ_U64(st.timer_left_ns, 2000);
	vlapic_init(&copy, 0, TSC_KHZ);
	CHECK_EQ_U64(vlapic_load(&copy, &st, t1), 0);
	CHECK_EQ_U64(vlapic_tsc_deadline_read(&copy), t1 + 4000);
	/* a disarmed timer stays disarmed */
	setup(&l, 0);
	vlapic_save(&l, t, &st);
	CHECK_EQ_U64(vlapic_load(&copy, &st, t1), 0);
	CHECK_EQ_U64(vlapic_timer_next(&copy), 0);

	/* each impossible field is refused, the target unchanged */
	setup(&l, 1);
	vlapic_write(&l, VLAPIC_REG_LVT_TIMER, 0xEC, t, &fx);
	vlapic_write(&l, VLAPIC_REG_TIMER_ICR, 1000, t, &fx);
	vlapic_save(&l, t, &st);
	vlapic_init(&copy, 1, TSC_KHZ);
	before = copy;
	for (int i = 0; i < 14; i++) {
		bad = st;
		switch (i) {
		case 0: bad.id |= 1; break;
		case 1: bad.tpr = 0x100; break;
		case 2: bad.dfr = 0xF0000000u; break;         /* low bits read as ones */
		case 3: bad.svr |= 0x400; break;
		case 4: bad.irr[0] |= 1u << 3; break;         /* vector 3 */
		case 5: bad.isr[0] |= 1u << 15; break;
		case 6: bad.lvt[VLAPIC_LVT_TIMER] |= 3u << 17; break; /* reserved mode */
		case 7: bad.lvt[VLAPIC_LVT_ERROR] |= 1u << 8; break;  /* no delivery mode */
		case 8: bad.timer_dcr = 0x4; break;
		case 9: bad.timer_armed = 2; break;
		case 10: bad.timer_initial = 0; break;        /* armed with no count */
		case 11: bad.timer_left_ns = KEEL_STATE_LAPIC_MAX_NS + 1; break;
		case 12: bad.timer_armed = 0; break;          /* time left, not armed */
		case 13: bad.reserved = 1; break;
		}
		CHECK_EQ_U64(vlapic_load(&copy, &bad, t1), (uint64_t)(int64_t)-EINVAL);
		CHECK(memcmp(&copy, &before, sizeof(copy)) == 0);
	}
}

int main(void)
{
	test_reset();
	test_save_load();
	test_register_masks();
	test_priority();
	test_nested_eoi();
	test_level_eoi();
	test_icr();
	test_match_dest();
	test_timer_oneshot();
	test_timer_periodic();
	test_timer_deadline();
	test_timer_masked();
	test_svr_disable();
	test_random_traffic();
	return harness_done("test_vlapic");
}
