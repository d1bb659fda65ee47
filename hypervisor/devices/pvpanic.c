/*
 * pvpanic as a PCI device (vendor 0x1B36, device 0x0011, as QEMU's
 * pvpanic-pci). Configuration space is a type 0 header (PCI Local Bus 3.0,
 * 6.1) with one 16-byte, 32-bit, non-prefetchable memory BAR whose size is
 * found the usual way (write all-ones, read back the mask, 6.2.5.1). Its
 * first byte reads the events the device supports; a guest writes
 * PVPANIC_PANICKED there from its panic notifier. Pure code.
 */
#include <keel/errno.h>
#include <keel/pvpanic.h>
#include <keel/string.h>
#include <keel/le.h>

#define CFG_VENDOR 0x00
#define CFG_COMMAND 0x04
#define CFG_REVISION 0x08
#define CFG_CLASS_PROG 0x09
#define CFG_HEADER_TYPE 0x0E
#define CFG_BAR0 0x10
#define CFG_SUBSYS_VENDOR 0x2C
#define CFG_INT_PIN 0x3D
#define CMD_MEMORY 0x0002
#define CMD_WRITABLE 0x0406 /* memory, bus master, interrupt disable */
#define CLASS_SYSTEM_OTHER 0x088000u
#define BAR_MASK (~(PVPANIC_BAR_BYTES - 1))

static void put16(uint8_t *p, uint32_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}


/* Reset p with its BAR at bar0_pa and memory decoding on, as firmware
 * would leave it. */
void pvpanic_init(struct pvpanic *p, uint32_t bar0_pa)
{
	memset(p, 0, sizeof(*p));
	put16(p->cfg, CFG_VENDOR, PVPANIC_VENDOR_ID);
	put16(p->cfg, CFG_VENDOR + 2, PVPANIC_DEVICE_ID);
	put16(p->cfg, CFG_COMMAND, CMD_MEMORY);
	p->cfg[CFG_REVISION] = 1;
	p->cfg[CFG_CLASS_PROG] = (uint8_t)CLASS_SYSTEM_OTHER;
	p->cfg[CFG_CLASS_PROG + 1] = (uint8_t)(CLASS_SYSTEM_OTHER >> 8);
	p->cfg[CFG_CLASS_PROG + 2] = (uint8_t)(CLASS_SYSTEM_OTHER >> 16);
	p->cfg[CFG_HEADER_TYPE] = 0;
	put16(p->cfg, CFG_SUBSYS_VENDOR, 0x1AF4);
	put16(p->cfg, CFG_SUBSYS_VENDOR + 2, 0x1100);
	p->cfg[CFG_INT_PIN] = 0;
	p->bar0 = bar0_pa & BAR_MASK;
}

/* Configuration read of size bytes at reg (naturally aligned, < 256). */
uint32_t pvpanic_cfg_read(void *ctx, uint32_t reg, uint32_t size)
{
	struct pvpanic *p = ctx;
	uint8_t bar[4];

	if (reg >= CFG_BAR0 && reg < CFG_BAR0 + 4) {
		bar[0] = (uint8_t)p->bar0;
		bar[1] = (uint8_t)(p->bar0 >> 8);
		bar[2] = (uint8_t)(p->bar0 >> 16);
		bar[3] = (uint8_t)(p->bar0 >> 24);
		return (uint32_t)le_get(bar + reg - CFG_BAR0, size);
	}
	if (reg + size > PVPANIC_CFG_BYTES)
		return 0;
	return (uint32_t)le_get(p->cfg + reg, size);
}

/* Configuration write: the command register's writable bits and BAR0
 * (the low bits are read-only: a 16-byte memory BAR). */
void pvpanic_cfg_write(void *ctx, uint32_t reg, uint32_t size, uint32_t value)
{
	struct pvpanic *p = ctx;

	if (reg == CFG_COMMAND && size >= 2) {
		put16(p->cfg, CFG_COMMAND, (uint16_t)(value & CMD_WRITABLE));
	} else if (reg == CFG_BAR0 && size == 4) {
		p->bar0 = value & BAR_MASK;
	}
}

/* Whether guest-physical gpa falls in the enabled BAR. */
bool pvpanic_mmio_hit(const struct pvpanic *p, uint64_t gpa)
{
	return ((uint32_t)le_get(p->cfg + CFG_COMMAND, 2) & CMD_MEMORY) && p->bar0 &&
	       gpa >= p->bar0 && gpa < (uint64_t)p->bar0 + PVPANIC_BAR_BYTES;
}

/* A read of the register: the events this device can report. */
uint8_t pvpanic_mmio_read(const struct pvpanic *p)
{
	(void)p;
	return PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

/* A write of the register. Returns true if it reports a panic. */
bool pvpanic_mmio_write(struct pvpanic *p, uint8_t value)
{
	(void)p;
	return (value & PVPANIC_PANICKED) != 0;
}

/* Copy p's state (command register, BAR0) into its save record. */
void pvpanic_save(const struct pvpanic *p, struct keel_state_pvpanic *st)
{
	st->command = (uint32_t)le_get(p->cfg + CFG_COMMAND, 2);
	st->bar0 = p->bar0;
}

/*
 * Replace p's state with the record st, which may come from a file: only
 * the command register's writable bits and a BAR0 aligned to the BAR's
 * size. Returns 0, or -EINVAL with p unchanged.
 */
int pvpanic_load(struct pvpanic *p, const struct keel_state_pvpanic *st)
{
	if ((st->command & ~(uint32_t)CMD_WRITABLE) || (st->bar0 & ~(uint32_t)BAR_MASK))
		return -EINVAL;
	put16(p->cfg, CFG_COMMAND, (uint16_t)st->command);
	p->bar0 = st->bar0;
	return 0;
}
