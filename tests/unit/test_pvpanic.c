/*
 * Unit tests for hypervisor/devices/pvpanic.c: identity and class in
 * configuration space at all access sizes, BAR0 sizing and moving, the
 * command register's memory-decode gate on MMIO hits, and the event
 * register.
 */
#include "../../hypervisor/devices/pvpanic.c"

#include <stdio.h>

#include "harness.h"

int main(void)
{
	struct pvpanic p;

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
