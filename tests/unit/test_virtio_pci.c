/*
 * Unit tests for hypervisor/devices/virtio_pci.c: PCI identity, sizing of
 * the I/O and memory BARs and their decode gates, a capability walk the
 * way Linux's pci_find_capability does it, the legacy registers (features,
 * queue select/size/PFN to virtq addresses, notify, status 0 reset, ISR
 * read-to-clear, the device configuration at 20 or 24 with MSI-X off or
 * on, vectors reading back NO_VECTOR when invalid, odd-sized and
 * straddling accesses), MSI-X table programming, per-vector and function
 * masking with the PBA, release of pending messages on unmask, and
 * virtio_pci_raise's results. A fake device model records its callbacks.
 */
#include "../../hypervisor/devices/virtio_pci.c"
#include "../../hypervisor/common/virtq.c"

#include <stdio.h>

#include "harness.h"

#define IO 0xC040u
#define MEM 0xFEBF1000u

struct fake_dev {
	uint8_t cfg[40];
	int notified[8];
	int resets;
	uint32_t last_off, last_size, last_value;
	int writes;
};

static uint32_t fd_cfg_read(void *dev, uint32_t off, uint32_t size)
{
	struct fake_dev *d = dev;
	uint32_t v = 0;

	d->last_off = off;
	d->last_size = size;
	for (uint32_t i = 0; i < size && off + i < sizeof(d->cfg); i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	return v;
}

static void fd_cfg_write(void *dev, uint32_t off, uint32_t size, uint32_t value)
{
	struct fake_dev *d = dev;

	d->last_off = off;
	d->last_size = size;
	d->last_value = value;
	d->writes++;
}

static void fd_notify(void *dev, uint16_t q)
{
	struct fake_dev *d = dev;

	if (q < 8)
		d->notified[q]++;
}

static void fd_reset(void *dev)
{
	((struct fake_dev *)dev)->resets++;
}

static const struct virtio_pci_dev_ops fd_ops = {
	fd_cfg_read, fd_cfg_write, fd_notify, fd_reset,
};

static struct fake_dev fd;
static struct virtio_pci vp;

static void setup(uint16_t nr_queues)
{
	memset(&fd, 0, sizeof(fd));
	for (uint32_t i = 0; i < sizeof(fd.cfg); i++)
		fd.cfg[i] = (uint8_t)(0x80 + i);
	virtio_pci_init(&vp, VIRTIO_PCI_DEVICE_BLK, VIRTIO_PCI_SUBSYS_BLK,
			VIRTIO_PCI_CLASS_BLK, 0x10000246u, nr_queues, IO, MEM,
			&fd_ops, &fd);
}

static uint32_t cfg(uint32_t reg, uint32_t size)
{
	return virtio_pci_cfg_read(&vp, reg, size);
}

static void cfgw(uint32_t reg, uint32_t size, uint32_t v)
{
	virtio_pci_cfg_write(&vp, reg, size, v);
}

static uint32_t ior(uint32_t off, uint8_t size)
{
	return virtio_pci_io_read(&vp, (uint16_t)(IO + off), size);
}

static void iow(uint32_t off, uint8_t size, uint32_t v)
{
	virtio_pci_io_write(&vp, (uint16_t)(IO + off), size, v);
}

static uint32_t mr(uint32_t off, uint8_t size)
{
	return virtio_pci_mmio_read(&vp, MEM + off, size);
}

static void mw(uint32_t off, uint8_t size, uint32_t v)
{
	virtio_pci_mmio_write(&vp, MEM + off, size, v);
}

static void test_identity(void)
{
	setup(1);
	CHECK_EQ_U64(cfg(0x00, 4), 0x10011AF4);
	CHECK_EQ_U64(cfg(0x02, 2), 0x1001);
	CHECK_EQ_U64(cfg(0x08, 1), 0); /* revision 0 */
	CHECK_EQ_U64(cfg(0x08, 4), 0x01000000);
	CHECK_EQ_U64(cfg(0x0E, 1), 0);
	CHECK_EQ_U64(cfg(0x2C, 4), 0x00021AF4);
	CHECK_EQ_U64(cfg(0x2E, 2), 2);
	CHECK_EQ_U64(cfg(0x3D, 1), 0); /* no INTx pin */
	CHECK_EQ_U64(cfg(0x04, 2), 3); /* I/O + memory, as firmware */
	CHECK(cfg(0x06, 2) & 0x10);
	CHECK_EQ_U64(cfg(0x100, 4), 0);
	cfgw(0x04, 2, 0xFFFF);
	CHECK_EQ_U64(cfg(0x04, 2), 0x0407);
	cfgw(0x00, 4, 0);
	CHECK_EQ_U64(cfg(0x00, 4), 0x10011AF4);
	cfgw(0x3C, 1, 11);
	CHECK_EQ_U64(cfg(0x3C, 4), 11);
	/* net identity */
	virtio_pci_init(&vp, VIRTIO_PCI_DEVICE_NET, VIRTIO_PCI_SUBSYS_NET,
			VIRTIO_PCI_CLASS_NET, 0, 3, IO, MEM, &fd_ops, &fd);
	CHECK_EQ_U64(cfg(0x00, 4), 0x10001AF4);
	CHECK_EQ_U64(cfg(0x0A, 2), 0x0200);
	CHECK_EQ_U64(cfg(0x2E, 2), 1);
	CHECK_EQ_U64(vp.msix_count, 4);
}

static void test_bars(void)
{
	uint32_t v;

	setup(1);
	CHECK_EQ_U64(cfg(0x10, 4), IO | 1);
	CHECK_EQ_U64(cfg(0x14, 4), MEM);
	CHECK(virtio_pci_io_hit(&vp, IO));
	CHECK(virtio_pci_io_hit(&vp, IO + 63));
	CHECK(!virtio_pci_io_hit(&vp, IO + 64));
	CHECK(!virtio_pci_io_hit(&vp, IO - 1));
	CHECK(virtio_pci_mmio_hit(&vp, MEM));
	CHECK(virtio_pci_mmio_hit(&vp, MEM + 4095));
	CHECK(!virtio_pci_mmio_hit(&vp, MEM + 4096));
	/* sizing: all-ones, read back, size = ~(mask) + 1 */
	cfgw(0x10, 4, 0xFFFFFFFF);
	v = cfg(0x10, 4);
	CHECK_EQ_U64(v, 0xFFFFFFC1);
	CHECK_EQ_U64(~(v & ~3u) + 1, 64);
	cfgw(0x14, 4, 0xFFFFFFFF);
	v = cfg(0x14, 4);
	CHECK_EQ_U64(v, 0xFFFFF000);
	CHECK_EQ_U64(~(v & ~0xFu) + 1, 4096);
	CHECK(!virtio_pci_io_hit(&vp, 0xFFC0)); /* above 64 KiB of ports */
	/* move both */
	cfgw(0x10, 4, 0x1000);
	cfgw(0x14, 4, 0xE0002FFF);
	CHECK_EQ_U64(cfg(0x10, 4), 0x1001);
	CHECK_EQ_U64(cfg(0x14, 4), 0xE0002000);
	CHECK(virtio_pci_io_hit(&vp, 0x1010));
	CHECK(!virtio_pci_io_hit(&vp, IO));
	CHECK(virtio_pci_mmio_hit(&vp, 0xE0002800));
	CHECK(!virtio_pci_mmio_hit(&vp, MEM));
	/* byte write into the BAR merges */
	cfgw(0x11, 1, 0x20);
	CHECK_EQ_U64(cfg(0x10, 4), 0x2001);
	/* decoding gates */
	cfgw(0x04, 2, VIRTIO_PCI_CMD_MEMORY);
	CHECK(!virtio_pci_io_hit(&vp, 0x2000));
	CHECK(virtio_pci_mmio_hit(&vp, 0xE0002000));
	cfgw(0x04, 2, VIRTIO_PCI_CMD_IO);
	CHECK(virtio_pci_io_hit(&vp, 0x2000));
	CHECK(!virtio_pci_mmio_hit(&vp, 0xE0002000));
	/* unimplemented BARs and ROM read 0 and stay 0 */
	for (uint32_t r = 0x18; r <= 0x30; r += 4) {
		if (r == 0x2C)
			continue;
		cfgw(r, 4, 0xFFFFFFFF);
		CHECK_EQ_U64(cfg(r, 4), 0);
	}
}

/* Linux's pci_find_capability: walk from 0x34, at most 48 steps. */
static uint32_t find_cap(uint8_t id)
{
	uint32_t pos;

	if (!(cfg(0x06, 2) & 0x10))
		return 0;
	pos = cfg(0x34, 1);
	for (int ttl = 48; ttl-- && pos >= 0x40;) {
		uint32_t ent = cfg(pos & ~3u, 2);

		if ((ent & 0xFF) == 0xFF)
			break;
		if ((ent & 0xFF) == id)
			return pos;
		pos = (ent >> 8) & ~3u;
	}
	return 0;
}

static void test_cap(void)
{
	uint32_t pos;

	setup(2);
	pos = find_cap(0x11);
	CHECK_EQ_U64(pos, VIRTIO_PCI_MSIX_CAP_OFF);
	CHECK_EQ_U64(find_cap(0x05), 0); /* no plain MSI */
	CHECK_EQ_U64(cfg(pos + 2, 2), 2); /* table size N-1 = nr_queues */
	CHECK_EQ_U64(cfg(pos + 4, 4), 0x00000001); /* table at 0 in BAR1 */
	CHECK_EQ_U64(cfg(pos + 8, 4), 0x00000801); /* PBA at 0x800 */
	cfgw(pos + 2, 2, 0xFFFF);
	CHECK_EQ_U64(cfg(pos + 2, 2), 0xC002);
	cfgw(pos, 4, 0x00000000); /* ID/next read-only; clears the bits */
	CHECK_EQ_U64(cfg(pos, 4), 0x00020011);
	cfgw(pos + 3, 1, 0x80);
	CHECK_EQ_U64(cfg(pos + 2, 2), 0x8002);
	CHECK(vp_msix_enabled(&vp));
}

static void test_registers(void)
{
	setup(2);
	CHECK_EQ_U64(ior(0, 4), 0x10000246);
	CHECK_EQ_U64(ior(1, 1), 0x02);
	CHECK_EQ_U64(ior(2, 2), 0x1000);
	iow(0, 4, 0); /* read-only */
	CHECK_EQ_U64(ior(0, 4), 0x10000246);
	iow(4, 4, 0xFFFFFFFF);
	CHECK_EQ_U64(ior(4, 4), 0x10000246); /* only offered bits stick */
	iow(4, 1, 0x00);
	CHECK_EQ_U64(ior(4, 4), 0x10000200);
	/* event_idx follows the feature */
	setup(2);
	vp.host_features |= 1u << VIRTIO_RING_F_EVENT_IDX;
	iow(4, 4, 1u << VIRTIO_RING_F_EVENT_IDX);
	CHECK(vp.vq[0].event_idx && vp.vq[1].event_idx);
	/* queue select / size / PFN */
	CHECK_EQ_U64(ior(14, 2), 0);
	CHECK_EQ_U64(ior(12, 2), 256);
	iow(14, 2, 1);
	CHECK_EQ_U64(ior(14, 2), 1);
	CHECK_EQ_U64(ior(8, 4), 0);
	iow(8, 4, 0x1234);
	CHECK_EQ_U64(ior(8, 4), 0x1234);
	CHECK_EQ_U64(vp.vq[1].size, 256);
	CHECK_EQ_U64(vp.vq[1].desc_gpa, 0x1234000);
	CHECK_EQ_U64(vp.vq[1].avail_gpa, 0x1235000);
	CHECK_EQ_U64(vp.vq[1].used_gpa, 0x1236000);
	CHECK_EQ_U64(vp.vq[0].size, 0);
	iow(14, 2, 2); /* no such queue */
	CHECK_EQ_U64(ior(12, 2), 0);
	iow(8, 4, 0x5000);
	CHECK_EQ_U64(ior(8, 4), 0);
	iow(14, 2, 0);
	iow(8, 4, 0x2000);
	CHECK_EQ_U64(vp.vq[0].desc_gpa, 0x2000000);
	iow(8, 4, 0); /* PFN 0 tears the queue down */
	CHECK_EQ_U64(vp.vq[0].size, 0);
	iow(8, 4, 0x2000);
	/* notify */
	iow(16, 2, 1);
	iow(16, 2, 0);
	iow(16, 2, 1);
	iow(16, 2, 2);
	iow(16, 2, 0xFFFF);
	CHECK_EQ_INT(fd.notified[0], 1);
	CHECK_EQ_INT(fd.notified[1], 2);
	CHECK_EQ_INT(fd.notified[2], 0);
	CHECK_EQ_U64(ior(16, 2), 0);
	/* status and ISR */
	iow(18, 1, 0x0F);
	CHECK_EQ_U64(ior(18, 1), 0x0F);
	CHECK_EQ_INT(fd.resets, 0);
	vp.isr = 3;
	CHECK_EQ_U64(ior(19, 1), 3);
	CHECK_EQ_U64(ior(19, 1), 0);
	vp.isr = 1;
	CHECK_EQ_U64(ior(16, 4), 0x010F0000); /* dword over notify/status/ISR */
	CHECK_EQ_U64(vp.isr, 0);
	vp.isr = 1;
	CHECK_EQ_U64(ior(18, 1), 0x0F); /* not the ISR: no clear */
	CHECK_EQ_U64(vp.isr, 1);
	iow(19, 1, 0); /* ISR is read-only */
	CHECK_EQ_U64(vp.isr, 1);
	/* reset */
	iow(18, 1, 0);
	CHECK_EQ_INT(fd.resets, 1);
	CHECK_EQ_U64(ior(18, 1), 0);
	CHECK_EQ_U64(ior(4, 4), 0);
	CHECK_EQ_U64(vp.isr, 0);
	CHECK_EQ_U64(vp.vq[0].size, 0);
	CHECK_EQ_U64(vp.vq[1].size, 0);
	CHECK(!vp.vq[0].event_idx);
	CHECK_EQ_U64(ior(8, 4), 0);
	CHECK_EQ_U64(vp.config_vector, VIRTIO_PCI_NO_VECTOR);
}

static void test_config_window(void)
{
	setup(2);
	/* MSI-X off: device config at 20 */
	CHECK_EQ_U64(ior(20, 4), 0x83828180);
	CHECK_EQ_U64(fd.last_off, 0);
	CHECK_EQ_U64(fd.last_size, 4);
	CHECK_EQ_U64(ior(26, 2), 0x8786);
	CHECK_EQ_U64(fd.last_off, 6);
	iow(22, 2, 0xBEEF);
	CHECK_EQ_U64(fd.last_off, 2);
	CHECK_EQ_U64(fd.last_value, 0xBEEF);
	CHECK_EQ_U64(vp.vq[0].msix_vector, VIRTIO_PCI_NO_VECTOR);
	/* a read straddling the ISR and the config */
	vp.isr = 1;
	CHECK_EQ_U64(ior(18, 4), 0x81800100);
	CHECK_EQ_U64(vp.isr, 0);
	/* beyond the BAR */
	CHECK_EQ_U64(ior(58, 4), 0xA7A6);  /* config bytes 38, 39, then 40, 41 */
	CHECK_EQ_U64(ior(62, 4), 0xFFFF0000); /* fake config ends at 40 */
	/* MSI-X on: vectors at 20/22, config at 24 */
	cfgw(VIRTIO_PCI_MSIX_CAP_OFF + 2, 2, VIRTIO_PCI_MSIX_ENABLE);
	CHECK_EQ_U64(ior(20, 2), 0xFFFF);
	CHECK_EQ_U64(ior(22, 2), 0xFFFF);
	CHECK_EQ_U64(ior(24, 4), 0x83828180);
	CHECK_EQ_U64(fd.last_off, 0);
	iow(20, 2, 0);
	CHECK_EQ_U64(ior(20, 2), 0);
	iow(20, 2, 3); /* nr_queues + 1 = 3 entries: 0..2 */
	CHECK_EQ_U64(ior(20, 2), 0xFFFF);
	iow(20, 2, 2);
	CHECK_EQ_U64(ior(20, 2), 2);
	iow(22, 2, 1);
	CHECK_EQ_U64(ior(22, 2), 1);
	CHECK_EQ_U64(vp.vq[0].msix_vector, 1);
	iow(14, 2, 1);
	CHECK_EQ_U64(ior(22, 2), 0xFFFF);
	iow(22, 2, 7);
	CHECK_EQ_U64(ior(22, 2), 0xFFFF);
	iow(22, 2, 0);
	CHECK_EQ_U64(vp.vq[1].msix_vector, 0);
	iow(14, 2, 3);
	CHECK_EQ_U64(ior(22, 2), 0xFFFF);
	iow(22, 2, 0);
	/* straddling the queue vector and the config */
	iow(14, 2, 0);
	CHECK_EQ_U64(ior(22, 4), 0x81800001);
	fd.writes = 0;
	iow(30, 2, 0x1234);
	CHECK_EQ_U64(fd.last_off, 6);
	CHECK_EQ_U64(fd.last_size, 2);
	CHECK_EQ_INT(fd.writes, 1);
	/* a dword write over both vectors sets both */
	iow(20, 4, 0x00020001);
	CHECK_EQ_U64(vp.config_vector, 1);
	CHECK_EQ_U64(vp.vq[0].msix_vector, 2);
	/* MSI-X off again: 20 is config once more */
	cfgw(VIRTIO_PCI_MSIX_CAP_OFF + 2, 2, 0);
	CHECK_EQ_U64(ior(20, 2), 0x8180);
}

/* Program entry v of the table. */
static void program(uint16_t v, uint32_t addr, uint32_t data, uint32_t ctrl)
{
	mw(16u * v, 4, addr);
	mw(16u * v + 4, 4, 0);
	mw(16u * v + 8, 4, data);
	mw(16u * v + 12, 4, ctrl);
}

static void test_msix(void)
{
	struct msi_msg m;

	setup(2);
	/* reset state: entries masked, PBA clear */
	CHECK_EQ_U64(mr(12, 4), 1);
	CHECK_EQ_U64(mr(16 + 12, 4), 1);
	CHECK_EQ_U64(mr(0x800, 4), 0);
	/* no MSI-X: nothing, but ISR is set */
	CHECK(!virtio_pci_raise(&vp, 0, &m));
	CHECK_EQ_U64(vp.isr, VIRTIO_PCI_ISR_QUEUE);
	CHECK(!virtio_pci_raise(&vp, VIRTIO_PCI_CONFIG_IRQ, &m));
	CHECK_EQ_U64(vp.isr, 3);
	/* program: address bits 1:0 read as 0; bytes read back */
	program(1, 0xFEE01007, 0x4041, 1);
	CHECK_EQ_U64(mr(16, 4), 0xFEE01004);
	CHECK_EQ_U64(mr(16 + 8, 1), 0x41);
	CHECK_EQ_U64(mr(16 + 9, 1), 0x40);
	CHECK_EQ_U64(mr(16 + 12, 4), 1);
	mw(16 + 12, 4, 0xFFFFFFFE); /* reserved bits stay 0 */
	CHECK_EQ_U64(mr(16 + 12, 4), 0);
	mw(16 + 12, 4, 1);
	program(0, 0xFEE00000, 0x30, 0);
	/* entries past the table and the PBA are read-only */
	mw(3 * 16, 4, 0x1234);
	CHECK_EQ_U64(mr(3 * 16, 4), 0);
	mw(0x800, 4, 0xFF);
	CHECK_EQ_U64(mr(0x800, 4), 0);
	/* enable; vector 1 for queue 0, 0 for config */
	cfgw(VIRTIO_PCI_MSIX_CAP_OFF + 2, 2, VIRTIO_PCI_MSIX_ENABLE);
	iow(22, 2, 1);
	iow(20, 2, 0);
	/* bus mastering off: no message */
	CHECK(!virtio_pci_raise(&vp, 0, &m));
	CHECK_EQ_U64(mr(0x800, 4), 0);
	cfgw(0x04, 2, 0x0007);
	/* masked: PBA bit, no message */
	CHECK(!virtio_pci_raise(&vp, 0, &m));
	CHECK_EQ_U64(mr(0x800, 4), 2);
	CHECK(!virtio_pci_take_msg(&vp, &m));
	/* unmask releases it once */
	mw(16 + 12, 4, 0);
	CHECK_EQ_U64(mr(0x800, 4), 0);
	memset(&m, 0, sizeof(m));
	CHECK(virtio_pci_take_msg(&vp, &m));
	CHECK_EQ_U64(m.address, 0xFEE01004);
	CHECK_EQ_U64(m.data, 0x4041);
	CHECK_EQ_U64(m.data & 0xFF, 0x41);           /* vector */
	CHECK_EQ_U64((m.address >> 12) & 0xFF, 1);    /* destination */
	CHECK(m.address & 4);                        /* logical */
	CHECK(!virtio_pci_take_msg(&vp, &m));
	/* unmasked: delivered directly */
	memset(&m, 0, sizeof(m));
	CHECK(virtio_pci_raise(&vp, 0, &m));
	CHECK_EQ_U64(m.data, 0x4041);
	CHECK(virtio_pci_raise(&vp, VIRTIO_PCI_CONFIG_IRQ, &m));
	CHECK_EQ_U64(m.data, 0x30);
	CHECK_EQ_U64(m.address, 0xFEE00000);
	/* no vector for queue 1, or no such queue */
	CHECK(!virtio_pci_raise(&vp, 1, &m));
	CHECK(!virtio_pci_raise(&vp, 2, &m));
	CHECK(!virtio_pci_raise(&vp, 5, &m));
	CHECK_EQ_U64(mr(0x800, 4), 0);
	/* function mask: both pending, released together on clear */
	cfgw(VIRTIO_PCI_MSIX_CAP_OFF + 2, 2,
	     VIRTIO_PCI_MSIX_ENABLE | VIRTIO_PCI_MSIX_FMASK);
	CHECK(!virtio_pci_raise(&vp, 0, &m));
	CHECK(!virtio_pci_raise(&vp, VIRTIO_PCI_CONFIG_IRQ, &m));
	CHECK(!virtio_pci_raise(&vp, 0, &m)); /* coalesced */
	CHECK_EQ_U64(mr(0x800, 4), 3);
	CHECK(!virtio_pci_take_msg(&vp, &m));
	cfgw(VIRTIO_PCI_MSIX_CAP_OFF + 2, 2, VIRTIO_PCI_MSIX_ENABLE);
	CHECK_EQ_U64(mr(0x800, 4), 0);
	CHECK(virtio_pci_take_msg(&vp, &m));
	CHECK_EQ_U64(m.data, 0x30);
	CHECK(virtio_pci_take_msg(&vp, &m));
	CHECK_EQ_U64(m.data, 0x4041);
	CHECK(!virtio_pci_take_msg(&vp, &m));
	/* released but re-masked before draining: back to pending */
	mw(12, 4, 1);
	CHECK(!virtio_pci_raise(&vp, VIRTIO_PCI_CONFIG_IRQ, &m));
	mw(12, 4, 0);
	mw(12, 4, 1);
	CHECK(!virtio_pci_take_msg(&vp, &m));
	CHECK_EQ_U64(mr(0x800, 4), 1);
	/* MSI-X disabled: nothing; virtio reset clears the PBA */
	cfgw(VIRTIO_PCI_MSIX_CAP_OFF + 2, 2, 0);
	CHECK(!virtio_pci_raise(&vp, 0, &m));
	iow(18, 1, 0);
	CHECK_EQ_U64(mr(0x800, 4), 0);
	/* memory BAR sub-dword write merges */
	mw(8 + 1, 1, 0x77);
	CHECK_EQ_U64(mr(8, 4), 0x7730);
	CHECK_EQ_U64(mr(0x900, 4), 0);
}

/* A driven transport (MSI-X on and programmed, two rings set up and
 * partly used, features and status) saves and loads into a fresh device
 * of the same config unchanged; a device of another config, and every
 * field a guest could not have produced, is refused with the target left
 * as it was. */
static void test_save_load(void)
{
	struct keel_state_virtio_pci st, bad;
	struct virtio_pci orig, before;

	setup(2);
	cfgw(VIRTIO_PCI_MSIX_CAP_OFF, 4, (uint32_t)VIRTIO_PCI_MSIX_ENABLE << 16);
	mw(0x10, 4, 0xFEE00000u);  /* entry 1 address */
	mw(0x18, 4, 0x4041);       /* entry 1 data */
	mw(0x1C, 4, 0);            /* entry 1 unmasked */
	iow(VIRTIO_PCI_REG_GUEST_FEATURES, 4, 0x46);
	iow(VIRTIO_PCI_REG_QUEUE_SEL, 2, 0);
	iow(VIRTIO_PCI_REG_QUEUE_PFN, 4, 0x1234);
	iow(VIRTIO_PCI_REG_QUEUE_VECTOR, 2, 1);
	iow(VIRTIO_PCI_REG_QUEUE_SEL, 2, 1);
	iow(VIRTIO_PCI_REG_QUEUE_PFN, 4, 0x2000);
	iow(VIRTIO_PCI_REG_CONFIG_VECTOR, 2, 0);
	iow(VIRTIO_PCI_REG_STATUS, 1, 7);
	vp.vq[0].last_avail = 300;  /* as the device model leaves them */
	vp.vq[0].used_idx = 299;
	vp.vq[0].signalled_used = 298;
	vp.vq[0].signalled_valid = true;
	vp.isr = VIRTIO_PCI_ISR_QUEUE;
	virtio_pci_save(&vp, &st);
	CHECK_EQ_U64(st.vq[0].pfn, 0x1234);
	CHECK_EQ_U64(st.vq[1].pfn, 0x2000);
	CHECK_EQ_U64(st.vq[2].pfn, 0);
	orig = vp;

	setup(2);
	CHECK_EQ_INT(virtio_pci_load(&vp, &st), 0);
	CHECK(memcmp(&vp, &orig, sizeof(vp)) == 0);
	CHECK_EQ_U64(vp.vq[1].used_gpa, orig.vq[1].used_gpa);
	CHECK_EQ_U64(mr(0x18, 4), 0x4041);
	CHECK_EQ_U64(ior(VIRTIO_PCI_REG_STATUS, 1), 7);

	/* a device of another config: refused */
	setup(3);
	before = vp;
	CHECK_EQ_INT(virtio_pci_load(&vp, &st), -EINVAL);
	CHECK(memcmp(&vp, &before, sizeof(vp)) == 0);

	setup(2);
	before = vp;
	for (int i = 0; i < 14; i++) {
		bad = st;
		switch (i) {
		case 0: bad.host_features |= 1; break;
		case 1: bad.command |= 0x8; break;              /* special cycles */
		case 2: bad.bar0 &= ~1u; break;                 /* not an I/O BAR */
		case 3: bad.bar1 |= 0x10; break;                /* below the BAR's size */
		case 4: bad.guest_features |= 1u << 30; break;  /* never offered */
		case 5: bad.isr = 4; break;
		case 6: bad.config_vector = 3; break;           /* the table has 3 */
		case 7: bad.msix_pba = 1u << 3; break;
		case 8: bad.msix[1].ctrl = 2; break;
		case 9: bad.msix[4].data = 1; break;            /* beyond the table */
		case 10: bad.vq[0].last_avail = 0x10000; break;
		case 11: bad.vq[2].pfn = 5; break;              /* no queue 2 */
		case 12: bad.vq[1].pfn = 0; break;              /* indices, no ring */
		case 13: bad.vq[0].signalled_valid = 2; break;
		}
		if (i == 12)
			bad.vq[1].used_idx = 1;
		CHECK_MSG(virtio_pci_load(&vp, &bad) == -EINVAL, "case %d accepted", i);
		CHECK(memcmp(&vp, &before, sizeof(vp)) == 0);
	}
}

int main(void)
{
	test_identity();
	test_save_load();
	test_bars();
	test_cap();
	test_registers();
	test_config_window();
	test_msix();
	return harness_done("virtio_pci");
}
