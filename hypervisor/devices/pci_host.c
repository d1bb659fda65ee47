/*
 * PCI host bridge on configuration mechanism #1 (PCI Local Bus
 * Specification 3.0, 3.2.2.3.2 "Software Generation of Configuration
 * Transactions"). A dword write to 0xCF8 latches CONFIG_ADDRESS and a
 * dword read returns it; other accesses to 0xCF8-0xCFB are ordinary I/O
 * that nothing claims. CONFIG_DATA accesses with the enable bit set turn
 * into type 0 configuration cycles on bus 0, addressed to the built-in
 * host bridge at 00:00.0 or to a registered function; everything else is
 * a master abort (reads all-ones, writes dropped; PCI 3.0, 6.1). Guests
 * on AMD CPUs of family 10h and later also put register bits 11:8 into
 * CONFIG_ADDRESS bits 27:24 (AMD's "EnableCf8ExtCfg" extension, which
 * Linux uses there), so those bits are kept: an extended access then
 * reads all-ones instead of aliasing onto registers 0-255.
 */
#include <keel/pci_host.h>
#include <keel/errno.h>

#include <stddef.h>

/* Type 0 configuration header offsets (PCI 3.0, 6.1). */
#define PCI_CFG_VENDOR 0x00u
#define PCI_CFG_DEVICE 0x02u
#define PCI_CFG_COMMAND 0x04u
#define PCI_CFG_REVISION 0x08u
#define PCI_CFG_CLASS 0x09u /* prog-if, subclass, base class: 3 bytes */
#define PCI_CFG_HEADER_TYPE 0x0Eu
#define PCI_CFG_INT_LINE 0x3Cu

/* Writable command bits of the bridge: I/O, memory, bus master (6.2.2). */
#define PCI_BRIDGE_COMMAND_WMASK 0x07u

#define PCI_HOST_ADDR_EXT_SHIFT 16u /* CF8 bits 27:24 -> register bits 11:8 */
#define PCI_HOST_ADDR_BUS_SHIFT 16u
#define PCI_HOST_ADDR_DEV_SHIFT 11u
#define PCI_HOST_ADDR_FN_SHIFT 8u

/* Where a CONFIG_DATA access goes. */
struct pci_cfg_target {
	uint8_t dev;
	uint8_t fn;
	uint32_t reg; /* byte offset in the function's configuration space */
};

static uint32_t pci_ones(uint8_t size)
{
	if (size == 1)
		return 0xFFu;
	if (size == 2)
		return 0xFFFFu;
	return 0xFFFFFFFFu;
}

static bool pci_size_ok(uint32_t size)
{
	return size == 1 || size == 2 || size == 4;
}

static void pci_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Bits of the bridge's configuration byte at reg that software may set. */
static uint8_t pci_bridge_wmask(uint32_t reg)
{
	if (reg == PCI_CFG_COMMAND)
		return PCI_BRIDGE_COMMAND_WMASK;
	if (reg == PCI_CFG_INT_LINE)
		return 0xFFu;
	return 0;
}

static uint32_t pci_bridge_read(const struct pci_host *h, uint32_t reg,
				uint32_t size)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < size; i++)
		v |= (uint32_t)h->bridge_cfg[reg + i] << (8u * i);
	return v;
}

static void pci_bridge_write(struct pci_host *h, uint32_t reg, uint32_t size,
			     uint32_t value)
{
	for (uint32_t i = 0; i < size; i++) {
		uint8_t mask = pci_bridge_wmask(reg + i);
		uint8_t b = (uint8_t)(value >> (8u * i));

		h->bridge_cfg[reg + i] =
			(uint8_t)((h->bridge_cfg[reg + i] & ~mask) | (b & mask));
	}
}

/* 00:00.0's power-on configuration header; all other bytes read 0. */
static void pci_bridge_reset(struct pci_host *h)
{
	uint8_t *c = h->bridge_cfg;

	for (uint32_t i = 0; i < PCI_HOST_CFG_BYTES; i++)
		c[i] = 0;
	pci_put16(c + PCI_CFG_VENDOR, PCI_HOST_BRIDGE_VENDOR);
	pci_put16(c + PCI_CFG_DEVICE, PCI_HOST_BRIDGE_DEVICE);
	c[PCI_CFG_REVISION] = 0;
	c[PCI_CFG_CLASS] = (uint8_t)PCI_HOST_BRIDGE_CLASS;
	c[PCI_CFG_CLASS + 1] = (uint8_t)(PCI_HOST_BRIDGE_CLASS >> 8);
	c[PCI_CFG_CLASS + 2] = (uint8_t)(PCI_HOST_BRIDGE_CLASS >> 16);
	c[PCI_CFG_HEADER_TYPE] = 0; /* type 0, single function */
}

/* Reset the host bridge; see pci_host.h. */
void pci_host_init(struct pci_host *h)
{
	h->addr = 0;
	h->nr_funcs = 0;
	pci_bridge_reset(h);
}

static struct pci_func *pci_host_find(struct pci_host *h, uint8_t dev,
				      uint8_t fn)
{
	for (uint32_t i = 0; i < h->nr_funcs; i++)
		if (h->funcs[i].dev == dev && h->funcs[i].fn == fn)
			return &h->funcs[i];
	return NULL;
}

/* Register a function; see pci_host.h. */
int pci_host_add(struct pci_host *h, const struct pci_func *f)
{
	if (f->dev > PCI_HOST_MAX_DEV || f->fn > PCI_HOST_MAX_FN ||
	    !f->cfg_read || !f->cfg_write)
		return -EINVAL;
	if ((f->dev == 0 && f->fn == 0) || pci_host_find(h, f->dev, f->fn))
		return -EEXIST;
	if (h->nr_funcs >= PCI_HOST_MAX_FUNCS)
		return -ENOSPC;
	h->funcs[h->nr_funcs++] = *f;
	return 0;
}

/* Ports 0xCF8..0xCFF; see pci_host.h. */
bool pci_host_handles(uint16_t port)
{
	return port >= PCI_HOST_ADDR_PORT && port <= PCI_HOST_LAST_PORT;
}

/*
 * Decode a CONFIG_DATA access of size bytes at port into t. False when it
 * makes no configuration cycle on bus 0 or is not naturally aligned.
 */
static bool pci_host_target(const struct pci_host *h, uint16_t port,
			    uint8_t size, struct pci_cfg_target *t)
{
	uint32_t a = h->addr;
	uint32_t byte = (uint32_t)port - PCI_HOST_DATA_PORT;

	if (port < PCI_HOST_DATA_PORT || port > PCI_HOST_LAST_PORT ||
	    !pci_size_ok(size) || (byte & (size - 1u)))
		return false;
	if (!(a & PCI_HOST_ADDR_ENABLE) || (a & PCI_HOST_ADDR_BUS))
		return false;
	t->dev = (uint8_t)((a & PCI_HOST_ADDR_DEV) >> PCI_HOST_ADDR_DEV_SHIFT);
	t->fn = (uint8_t)((a & PCI_HOST_ADDR_FN) >> PCI_HOST_ADDR_FN_SHIFT);
	t->reg = ((a & PCI_HOST_ADDR_EXT_REG) >> PCI_HOST_ADDR_EXT_SHIFT) |
		 (a & PCI_HOST_ADDR_REG) | byte;
	return t->reg < PCI_HOST_CFG_BYTES;
}

/* Configuration read of a decoded target; all-ones if nothing answers. */
static uint32_t pci_host_cfg_read(struct pci_host *h,
				  const struct pci_cfg_target *t, uint8_t size)
{
	const struct pci_func *f;

	if (t->dev == 0 && t->fn == 0)
		return pci_bridge_read(h, t->reg, size);
	f = pci_host_find(h, t->dev, t->fn);
	if (!f)
		return pci_ones(size);
	return f->cfg_read(f->ctx, t->reg, size) & pci_ones(size);
}

/* Read a port; see pci_host.h. */
uint32_t pci_host_read(struct pci_host *h, uint16_t port, uint8_t size)
{
	struct pci_cfg_target t;

	if (port == PCI_HOST_ADDR_PORT && size == 4)
		return h->addr;
	if (!pci_host_target(h, port, size, &t))
		return pci_ones(size);
	return pci_host_cfg_read(h, &t, size);
}

/* Write a port; see pci_host.h. */
void pci_host_write(struct pci_host *h, uint16_t port, uint8_t size,
		    uint32_t value)
{
	struct pci_cfg_target t;
	struct pci_func *f;

	if (port == PCI_HOST_ADDR_PORT && size == 4) {
		h->addr = value & PCI_HOST_ADDR_WRITABLE;
		return;
	}
	if (!pci_host_target(h, port, size, &t))
		return;
	value &= pci_ones(size);
	if (t.dev == 0 && t.fn == 0) {
		pci_bridge_write(h, t.reg, size, value);
		return;
	}
	f = pci_host_find(h, t.dev, t.fn);
	if (f)
		f->cfg_write(f->ctx, t.reg, size, value);
}
