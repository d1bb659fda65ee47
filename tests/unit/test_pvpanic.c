/*
 * Unit tests for hypervisor/devices/pvpanic.c: identity and class in
 * configuration space at all access sizes, BAR0 sizing and moving, the
 * command register's memory-decode gate on MMIO hits, and the event
 * register.
 */
#include "../../hypervisor/devices/pvpanic.c"

#include <stdio.h>

#include "harness.h"

/* The driver's command and BAR survive a save and load; other command
 * bits and an unaligned BAR are refused, leaving the target unchanged. */
static void test_save_load(void)
{
	struct pvpanic p, copy, before;
	struct keel_state_pvpanic st, bad;

	pvpanic_init(&p, 0xFE000000);
	pvpanic_cfg_write(&p, 0x04, 2, 0x0006);
	pvpanic_cfg_write(&p, 0x10, 4, 0xFD000000);
	pvpanic_save(&p, &st);
	pvpanic_init(&copy, 0xFE000000);
	CHECK_EQ_U64(pvpanic_load(&copy, &st), 0);
	CHECK(memcmp(&copy, &p, sizeof(p)) == 0);
	CHECK(pvpanic_mmio_hit(&copy, 0xFD000004));
	before = copy;
	bad = st;
	bad.command |= 0x0001; /* I/O space: not this device's */
	CHECK_EQ_U64(pvpanic_load(&copy, &bad), (uint64_t)(int64_t)-EINVAL);
	bad = st;
	bad.bar0 |= 0x8;
	CHECK_EQ_U64(pvpanic_load(&copy, &bad), (uint64_t)(int64_t)-EINVAL);
	CHECK(memcmp(&copy, &before, sizeof(copy)) == 0);
}

int main(void)
{
	struct pvpanic p;

	test_save_load();

	pvpanic_init(&p, 0xFE000000);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0, 4), 0x00111B36);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 2, 2), 0x0011);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x08, 4) >> 8, 0x088000);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x0E, 1), 0);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x10, 4), 0xFE000000);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x3D, 1), 0);
	CHECK(pvpanic_mmio_hit(&p, 0xFE000000));
	CHECK(pvpanic_mmio_hit(&p, 0xFE00000F));
	CHECK(!pvpanic_mmio_hit(&p, 0xFE000010));
	CHECK(!pvpanic_mmio_hit(&p, 0xFDFFFFFF));
	/* sizing: all-ones reads back the size mask */
	pvpanic_cfg_write(&p, 0x10, 4, 0xFFFFFFFF);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x10, 4), 0xFFFFFFF0);
	pvpanic_cfg_write(&p, 0x10, 4, 0xC0001003);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x10, 4), 0xC0001000);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x11, 1), 0x10);
	CHECK(pvpanic_mmio_hit(&p, 0xC0001004));
	CHECK(!pvpanic_mmio_hit(&p, 0xFE000000));
	/* memory decoding off: no hits */
	pvpanic_cfg_write(&p, 0x04, 2, 0);
	CHECK(!pvpanic_mmio_hit(&p, 0xC0001004));
	pvpanic_cfg_write(&p, 0x04, 2, 0xFFFF);
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x04, 2), 0x0406);
	CHECK(pvpanic_mmio_hit(&p, 0xC0001004));
	CHECK_EQ_U64(pvpanic_mmio_read(&p), 3);
	CHECK(pvpanic_mmio_write(&p, PVPANIC_PANICKED));
	CHECK(!pvpanic_mmio_write(&p, PVPANIC_CRASH_LOADED));
	CHECK(!pvpanic_mmio_write(&p, 0));
	CHECK_EQ_U64(pvpanic_cfg_read(&p, 0x40, 4), 0);
	return harness_done("pvpanic");
}
