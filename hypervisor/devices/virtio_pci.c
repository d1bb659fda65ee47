/*
 * Legacy virtio-pci transport (virtio 1.x, 4.1.4.8 "Legacy Interfaces: A
 * Note on PCI Device Layout") with an MSI-X capability (PCI Local Bus
 * 3.0, 6.8.2). Configuration space is a type 0 header (6.1) with an I/O
 * BAR0 of VIRTIO_PCI_IO_BAR_BYTES holding the legacy registers and the
 * device-specific configuration, and a 32-bit memory BAR1 of one page
 * holding the MSI-X table and PBA; both are sized the usual way (6.2.5.1).
 * Register accesses of any size at any offset are split into the
 * registers they touch, partial writes merging into the current value.
 * Interrupts are MSI-X messages handed back to the caller; a masked
 * vector latches its PBA bit and its message is released on unmask
 * through virtio_pci_take_msg. Pure code.
 */
#include <keel/virtio_pci.h>
#include <keel/compiler.h>
#include <keel/errno.h>
#include <keel/string.h>

#include <stddef.h>

/* Type 0 header (PCI 3.0, 6.1). */
#define CFG_BYTES 256u
#define CFG_ID 0x00u
#define CFG_COMMAND 0x04u
#define CFG_CLASS 0x08u
#define CFG_BAR0 0x10u
#define CFG_BAR1 0x14u
#define CFG_SUBSYS 0x2Cu
#define CFG_CAP_PTR 0x34u
#define CFG_INT 0x3Cu
#define CFG_STATUS_CAP_LIST 0x0010u
#define CMD_WRITABLE                                                         \
	(VIRTIO_PCI_CMD_IO | VIRTIO_PCI_CMD_MEMORY | VIRTIO_PCI_CMD_MASTER | \
	 VIRTIO_PCI_CMD_INTX_DISABLE)
#define BAR_IO_SPACE 0x1u

/* MSI-X capability (6.8.2.1-6.8.2.5): ID, next, message control, table
 * offset/BIR, PBA offset/BIR. */
#define MSIX_CAP_ID 0x11u
#define MSIX_BIR 1u /* BAR1 */
#define MSIX_CAP_TABLE (VIRTIO_PCI_MSIX_CAP_OFF + 4u)
#define MSIX_CAP_PBA (VIRTIO_PCI_MSIX_CAP_OFF + 8u)
#define MSIX_ENTRY_BYTES 16u
#define MSIX_ENTRY_MASKED 0x1u
#define MSIX_PBA_BYTES 8u

/* One legacy register: offset and width in bytes. */
struct vp_reg {
	uint8_t off;
	uint8_t width;
};

static const struct vp_reg vp_regs[] = {
	{ VIRTIO_PCI_REG_HOST_FEATURES, 4 }, { VIRTIO_PCI_REG_GUEST_FEATURES, 4 },
	{ VIRTIO_PCI_REG_QUEUE_PFN, 4 },     { VIRTIO_PCI_REG_QUEUE_SIZE, 2 },
	{ VIRTIO_PCI_REG_QUEUE_SEL, 2 },     { VIRTIO_PCI_REG_QUEUE_NOTIFY, 2 },
	{ VIRTIO_PCI_REG_STATUS, 1 },        { VIRTIO_PCI_REG_ISR, 1 },
	{ VIRTIO_PCI_REG_CONFIG_VECTOR, 2 }, { VIRTIO_PCI_REG_QUEUE_VECTOR, 2 },
};

/* Replace the bytes of the dword at dw that the access [off, off+size)
 * covers with the matching bytes of value. */
static uint32_t vp_merge(uint32_t old, uint32_t dw, uint32_t off,
			 uint32_t size, uint32_t value)
{
	for (uint32_t i = 0; i < size; i++) {
		uint32_t o = off + i;

		if (o < dw || o >= dw + 4)
			continue;
		old &= ~(0xFFu << (8 * (o - dw)));
		old |= ((value >> (8 * i)) & 0xFFu) << (8 * (o - dw));
	}
	return old;
}

static bool vp_msix_enabled(const struct virtio_pci *vp)
{
	return vp->msix_ctrl & VIRTIO_PCI_MSIX_ENABLE;
}

/* ---- MSI-X ---- */

static bool vp_vector_masked(const struct virtio_pci *vp, uint16_t v)
{
	return (vp->msix_ctrl & VIRTIO_PCI_MSIX_FMASK) ||
	       (vp->msix[v].ctrl & MSIX_ENTRY_MASKED);
}

static bool vp_can_signal(const struct virtio_pci *vp)
{
	return vp_msix_enabled(vp) && (vp->command & VIRTIO_PCI_CMD_MASTER);
}

static void vp_fill_msg(const struct virtio_pci *vp, uint16_t v,
			struct msi_msg *msg)
{
	msg->address = (uint64_t)vp->msix[v].addr_hi << 32 | vp->msix[v].addr_lo;
	msg->data = vp->msix[v].data;
}

/* Move pending vectors that are no longer masked to msix_ready (6.8.2.9:
 * the function sends a pending message once unmasked). */
static void vp_msix_release(struct virtio_pci *vp)
{
	if (!vp_msix_enabled(vp))
		return;
	for (uint16_t v = 0; v < vp->msix_count; v++) {
		uint32_t bit = 1u << v;

		if ((vp->msix_pba & bit) && !vp_vector_masked(vp, v)) {
			vp->msix_pba &= ~bit;
			vp->msix_ready |= bit;
		}
	}
}

/* See virtio_pci.h. */
bool virtio_pci_rings_usable(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vp->status & VIRTIO_STATUS_FAILED) &&
	       (vp->command & VIRTIO_PCI_CMD_MASTER);
}

/* Next released message (see virtio_pci.h). */
bool virtio_pci_take_msg(struct virtio_pci *vp, struct msi_msg *msg)
{
	while (vp->msix_ready) {
		uint16_t v = (uint16_t)__builtin_ctz(vp->msix_ready);

		vp->msix_ready &= ~(1u << v);
		if (!vp_can_signal(vp))
			continue;
		if (vp_vector_masked(vp, v)) {
			vp->msix_pba |= 1u << v;
			continue;
		}
		vp_fill_msg(vp, v, msg);
		return true;
	}
	return false;
}

/* Interrupt for queue q or the configuration (see virtio_pci.h). */
bool virtio_pci_raise(struct virtio_pci *vp, uint16_t q, struct msi_msg *msg)
{
	uint16_t v;

	if (q == VIRTIO_PCI_CONFIG_IRQ) {
		vp->isr |= VIRTIO_PCI_ISR_CONFIG;
		v = vp->config_vector;
	} else if (q < vp->nr_queues) {
		vp->isr |= VIRTIO_PCI_ISR_QUEUE;
		v = vp->vq[q].msix_vector;
	} else {
		return false;
	}
	if (!vp_can_signal(vp) || v >= vp->msix_count)
		return false;
	if (vp_vector_masked(vp, v)) {
		vp->msix_pba |= 1u << v;
		return false;
	}
	vp_fill_msg(vp, v, msg);
	return true;
}

/* ---- virtio reset and init ---- */

/* Status 0 (virtio 1.x, 2.1.1, 4.1.4.8): forget the driver's setup. */
static void vp_virtio_reset(struct virtio_pci *vp)
{
	vp->guest_features = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->queue_sel = 0;
	vp->config_vector = VIRTIO_PCI_NO_VECTOR;
	for (uint16_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		virtq_setup_legacy(&vp->vq[i], 0, 0);
		vp->vq[i].msix_vector = VIRTIO_PCI_NO_VECTOR;
		vp->vq[i].event_idx = false;
	}
	vp->msix_pba = 0;
	vp->msix_ready = 0;
}

/* Power-on state (see virtio_pci.h). */
void virtio_pci_init(struct virtio_pci *vp, uint16_t device_id,
		     uint16_t subsys_id, uint32_t class_code,
		     uint32_t host_features, uint16_t nr_queues,
		     uint16_t io_bar, uint32_t mem_bar,
		     const struct virtio_pci_dev_ops *ops, void *dev)
{
	memset(vp, 0, sizeof(*vp));
	vp->device_id = device_id;
	vp->subsys_id = subsys_id;
	vp->class_code = class_code & 0xFFFFFFu;
	vp->command = VIRTIO_PCI_CMD_IO | VIRTIO_PCI_CMD_MEMORY;
	vp->bar0 = (io_bar & ~(VIRTIO_PCI_IO_BAR_BYTES - 1)) | BAR_IO_SPACE;
	vp->bar1 = mem_bar & ~(VIRTIO_PCI_MEM_BAR_BYTES - 1);
	vp->host_features = host_features;
	if (nr_queues < 1)
		nr_queues = 1;
	if (nr_queues > VIRTIO_PCI_MAX_QUEUES)
		nr_queues = VIRTIO_PCI_MAX_QUEUES;
	vp->nr_queues = nr_queues;
	vp->queue_size_max = VIRTIO_PCI_QUEUE_SIZE_MAX;
	vp->msix_count = (uint16_t)(nr_queues + 1);
	for (uint16_t v = 0; v < VIRTIO_PCI_MSIX_VECTORS; v++)
		vp->msix[v].ctrl = MSIX_ENTRY_MASKED; /* 6.8.2.9 reset */
	vp->ops = ops;
	vp->dev = dev;
	vp_virtio_reset(vp);
}

/* ---- PCI configuration space ---- */

static uint32_t vp_cfg_msix_dword(const struct virtio_pci *vp, uint32_t dw)
{
	uint32_t ctrl = (uint32_t)(vp->msix_count - 1) | vp->msix_ctrl;

	if (dw == VIRTIO_PCI_MSIX_CAP_OFF)
		return MSIX_CAP_ID | ctrl << 16; /* next pointer 0: last */
	if (dw == MSIX_CAP_TABLE)
		return VIRTIO_PCI_MSIX_TABLE_OFF | MSIX_BIR;
	if (dw == MSIX_CAP_PBA)
		return VIRTIO_PCI_MSIX_PBA_OFF | MSIX_BIR;
	return 0;
}

/* The configuration dword at dw (a multiple of 4, < 256). */
static uint32_t vp_cfg_dword(const struct virtio_pci *vp, uint32_t dw)
{
	switch (dw) {
	case CFG_ID:
		return VIRTIO_PCI_VENDOR_ID | (uint32_t)vp->device_id << 16;
	case CFG_COMMAND:
		return vp->command | (uint32_t)CFG_STATUS_CAP_LIST << 16;
	case CFG_CLASS:
		return vp->class_code << 8; /* revision 0 (4.1.2.1) */
	case CFG_BAR0:
		return vp->bar0;
	case CFG_BAR1:
		return vp->bar1;
	case CFG_SUBSYS:
		return VIRTIO_PCI_VENDOR_ID | (uint32_t)vp->subsys_id << 16;
	case CFG_CAP_PTR:
		return VIRTIO_PCI_MSIX_CAP_OFF;
	case CFG_INT:
		return vp->int_line; /* interrupt pin 0: no INTx */
	default:
		return vp_cfg_msix_dword(vp, dw);
	}
}

/* Configuration read (see virtio_pci.h). */
uint32_t virtio_pci_cfg_read(void *ctx, uint32_t reg, uint32_t size)
{
	const struct virtio_pci *vp = ctx;
	uint32_t v = 0;

	if (size > 4 || reg >= CFG_BYTES || size > CFG_BYTES - reg)
		return 0;
	for (uint32_t i = 0; i < size; i++) {
		uint32_t o = reg + i;
		uint32_t b = vp_cfg_dword(vp, o & ~3u) >> (8 * (o & 3u));

		v |= (b & 0xFFu) << (8 * i);
	}
	return v;
}

/* Store merged value v into configuration dword dw's writable bits. */
static void vp_cfg_store(struct virtio_pci *vp, uint32_t dw, uint32_t v)
{
	switch (dw) {
	case CFG_COMMAND:
		vp->command = (uint16_t)(v & CMD_WRITABLE);
		break;
	case CFG_BAR0:
		vp->bar0 = (v & ~(VIRTIO_PCI_IO_BAR_BYTES - 1)) | BAR_IO_SPACE;
		break;
	case CFG_BAR1:
		vp->bar1 = v & ~(VIRTIO_PCI_MEM_BAR_BYTES - 1);
		break;
	case CFG_INT:
		vp->int_line = (uint8_t)v;
		break;
	case VIRTIO_PCI_MSIX_CAP_OFF:
		vp->msix_ctrl = (uint16_t)(v >> 16) &
				(VIRTIO_PCI_MSIX_ENABLE | VIRTIO_PCI_MSIX_FMASK);
		vp_msix_release(vp);
		break;
	default:
		break;
	}
}

/* Configuration write (see virtio_pci.h); each dword touched is merged. */
void virtio_pci_cfg_write(void *ctx, uint32_t reg, uint32_t size,
			  uint32_t value)
{
	struct virtio_pci *vp = ctx;

	if (size > 4 || !size || reg >= CFG_BYTES || size > CFG_BYTES - reg)
		return;
	for (uint32_t dw = reg & ~3u; dw < reg + size; dw += 4)
		vp_cfg_store(vp, dw,
			     vp_merge(vp_cfg_dword(vp, dw), dw, reg, size, value));
}

/* ---- I/O BAR0: legacy registers and device configuration ---- */

static uint32_t vp_io_base(const struct virtio_pci *vp)
{
	return vp->bar0 & ~(VIRTIO_PCI_IO_BAR_BYTES - 1);
}

/* Whether port is in BAR0 and I/O decoding is on. */
bool virtio_pci_io_hit(const struct virtio_pci *vp, uint16_t port)
{
	uint32_t base = vp_io_base(vp);

	return (vp->command & VIRTIO_PCI_CMD_IO) && base &&
	       base + VIRTIO_PCI_IO_BAR_BYTES <= 0x10000u && port >= base &&
	       port < base + VIRTIO_PCI_IO_BAR_BYTES;
}

/* Start of the device-specific configuration (4.1.4.8). */
static uint32_t vp_dev_cfg_off(const struct virtio_pci *vp)
{
	return vp_msix_enabled(vp) ? VIRTIO_PCI_CONFIG_OFF_MSIX
				   : VIRTIO_PCI_CONFIG_OFF_NOMSIX;
}

/* The register holding byte off (< vp_dev_cfg_off), or NULL. */
static const struct vp_reg *vp_reg_at(uint32_t off)
{
	for (uint32_t i = 0; i < ARRAY_SIZE(vp_regs); i++)
		if (off >= vp_regs[i].off &&
		    off < (uint32_t)vp_regs[i].off + vp_regs[i].width)
			return &vp_regs[i];
	return NULL;
}

static bool vp_sel_ok(const struct virtio_pci *vp)
{
	return vp->queue_sel < vp->nr_queues;
}

/* Current value of the register at off, without side effects. */
static uint32_t vp_reg_value(const struct virtio_pci *vp, uint32_t off)
{
	const struct virtq *q = vp_sel_ok(vp) ? &vp->vq[vp->queue_sel] : NULL;

	switch (off) {
	case VIRTIO_PCI_REG_HOST_FEATURES:
		return vp->host_features;
	case VIRTIO_PCI_REG_GUEST_FEATURES:
		return vp->guest_features;
	case VIRTIO_PCI_REG_QUEUE_PFN:
		return q && q->size ? (uint32_t)(q->desc_gpa / VIRTQ_LEGACY_ALIGN)
				    : 0;
	case VIRTIO_PCI_REG_QUEUE_SIZE:
		return q ? vp->queue_size_max : 0;
	case VIRTIO_PCI_REG_QUEUE_SEL:
		return vp->queue_sel;
	case VIRTIO_PCI_REG_STATUS:
		return vp->status;
	case VIRTIO_PCI_REG_ISR:
		return vp->isr;
	case VIRTIO_PCI_REG_CONFIG_VECTOR:
		return vp->config_vector;
	case VIRTIO_PCI_REG_QUEUE_VECTOR:
		return q ? q->msix_vector : VIRTIO_PCI_NO_VECTOR;
	default:
		return 0; /* queue notify reads 0 */
	}
}

/* A vector the guest wrote, or NO_VECTOR if there is no such entry. */
static uint16_t vp_vector(const struct virtio_pci *vp, uint32_t v)
{
	return v < vp->msix_count ? (uint16_t)v : VIRTIO_PCI_NO_VECTOR;
}

static void vp_write_features(struct virtio_pci *vp, uint32_t v)
{
	bool event_idx;

	vp->guest_features = v & vp->host_features;
	event_idx = vp->guest_features & (1u << VIRTIO_RING_F_EVENT_IDX);
	for (uint16_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vp->vq[i].event_idx = event_idx;
}

static void vp_write_status(struct virtio_pci *vp, uint8_t v)
{
	if (v) {
		vp->status = v;
		return;
	}
	vp_virtio_reset(vp);
	if (vp->ops && vp->ops->reset)
		vp->ops->reset(vp->dev);
}

/* Apply a write of v to the register at off. */
static void vp_reg_write(struct virtio_pci *vp, uint32_t off, uint32_t v)
{
	struct virtq *q = vp_sel_ok(vp) ? &vp->vq[vp->queue_sel] : NULL;

	switch (off) {
	case VIRTIO_PCI_REG_GUEST_FEATURES:
		vp_write_features(vp, v);
		break;
	case VIRTIO_PCI_REG_QUEUE_PFN:
		if (q)
			virtq_setup_legacy(q, vp->queue_size_max, v);
		break;
	case VIRTIO_PCI_REG_QUEUE_SEL:
		vp->queue_sel = (uint16_t)v;
		break;
	case VIRTIO_PCI_REG_QUEUE_NOTIFY:
		if (v < vp->nr_queues && vp->ops && vp->ops->notify)
			vp->ops->notify(vp->dev, (uint16_t)v);
		break;
	case VIRTIO_PCI_REG_STATUS:
		vp_write_status(vp, (uint8_t)v);
		break;
	case VIRTIO_PCI_REG_CONFIG_VECTOR:
		vp->config_vector = vp_vector(vp, v);
		break;
	case VIRTIO_PCI_REG_QUEUE_VECTOR:
		if (q)
			q->msix_vector = vp_vector(vp, v);
		break;
	default:
		break; /* host features, queue size, ISR: read-only */
	}
}

static uint32_t vp_dev_cfg_read(struct virtio_pci *vp, uint32_t off,
				uint32_t size)
{
	if (!vp->ops || !vp->ops->cfg_read)
		return 0;
	return vp->ops->cfg_read(vp->dev, off, size);
}

static void vp_dev_cfg_write(struct virtio_pci *vp, uint32_t off,
			     uint32_t size, uint32_t value)
{
	if (vp->ops && vp->ops->cfg_write)
		vp->ops->cfg_write(vp->dev, off, size, value);
}

/* One byte of BAR0 at off for a read that straddles regions. */
static uint8_t vp_io_byte(struct virtio_pci *vp, uint32_t off)
{
	uint32_t cfg = vp_dev_cfg_off(vp);
	const struct vp_reg *r;

	if (off >= VIRTIO_PCI_IO_BAR_BYTES)
		return 0xFF;
	if (off >= cfg)
		return (uint8_t)vp_dev_cfg_read(vp, off - cfg, 1);
	r = vp_reg_at(off);
	return r ? (uint8_t)(vp_reg_value(vp, r->off) >> (8 * (off - r->off)))
		 : 0;
}

/* Guest IN from BAR0 (see virtio_pci.h). */
uint32_t virtio_pci_io_read(struct virtio_pci *vp, uint16_t port, uint8_t size)
{
	uint32_t off = port - vp_io_base(vp), cfg = vp_dev_cfg_off(vp);
	uint32_t v = 0;

	if (size != 1 && size != 2 && size != 4)
		return 0xFFFFFFFFu;
	if (off >= cfg && off + size <= VIRTIO_PCI_IO_BAR_BYTES)
		return vp_dev_cfg_read(vp, off - cfg, size);
	for (uint32_t i = 0; i < size; i++)
		v |= (uint32_t)vp_io_byte(vp, off + i) << (8 * i);
	/* Reading the ISR acknowledges it (4.1.4.5). */
	if (off <= VIRTIO_PCI_REG_ISR && off + size > VIRTIO_PCI_REG_ISR)
		vp->isr = 0;
	return v;
}

/* Guest OUT to BAR0 (see virtio_pci.h). */
void virtio_pci_io_write(struct virtio_pci *vp, uint16_t port, uint8_t size,
			 uint32_t value)
{
	uint32_t off = port - vp_io_base(vp), cfg = vp_dev_cfg_off(vp);

	if (size != 1 && size != 2 && size != 4)
		return;
	if (off >= cfg && off + size <= VIRTIO_PCI_IO_BAR_BYTES) {
		vp_dev_cfg_write(vp, off - cfg, size, value);
		return;
	}
	for (uint32_t i = 0; i < size; i++) {
		uint32_t o = off + i;
		const struct vp_reg *r;
		uint32_t old, v;

		if (o >= VIRTIO_PCI_IO_BAR_BYTES)
			break;
		if (o >= cfg) {
			vp_dev_cfg_write(vp, o - cfg, 1, (value >> (8 * i)) & 0xFFu);
			continue;
		}
		r = vp_reg_at(o);
		if (!r || (o != r->off && o != off))
			continue; /* each register once, at its first byte hit */
		old = vp_reg_value(vp, r->off);
		v = vp_merge(old, r->off, off, size, value);
		if (r->width < 4)
			v &= (1u << (8 * r->width)) - 1;
		vp_reg_write(vp, r->off, v);
	}
}

/* ---- memory BAR1: MSI-X table and PBA ---- */

/* Whether gpa is in BAR1 and memory decoding is on. */
bool virtio_pci_mmio_hit(const struct virtio_pci *vp, uint64_t gpa)
{
	return (vp->command & VIRTIO_PCI_CMD_MEMORY) && vp->bar1 &&
	       gpa >= vp->bar1 && gpa < (uint64_t)vp->bar1 + VIRTIO_PCI_MEM_BAR_BYTES;
}

/* The BAR1 dword at dw (a multiple of 4). The table starts at offset 0
 * (VIRTIO_PCI_MSIX_TABLE_OFF). */
static uint32_t vp_msix_dword(const struct virtio_pci *vp, uint32_t dw)
{
	uint32_t table_end = (uint32_t)vp->msix_count * MSIX_ENTRY_BYTES;
	const struct virtio_msix_entry *e;

	if (dw >= VIRTIO_PCI_MSIX_PBA_OFF &&
	    dw < VIRTIO_PCI_MSIX_PBA_OFF + MSIX_PBA_BYTES)
		return dw == VIRTIO_PCI_MSIX_PBA_OFF ? vp->msix_pba : 0;
	if (dw >= table_end)
		return 0;
	e = &vp->msix[dw / MSIX_ENTRY_BYTES];
	switch (dw % MSIX_ENTRY_BYTES) {
	case 0:
		return e->addr_lo;
	case 4:
		return e->addr_hi;
	case 8:
		return e->data;
	default:
		return e->ctrl;
	}
}

/* Guest read from BAR1 (see virtio_pci.h). */
uint32_t virtio_pci_mmio_read(struct virtio_pci *vp, uint64_t gpa,
			      uint8_t size)
{
	uint32_t off = (uint32_t)(gpa - vp->bar1), v = 0;

	if (size != 1 && size != 2 && size != 4)
		return 0;
	for (uint32_t i = 0; i < size; i++) {
		uint32_t o = off + i;

		if (o < VIRTIO_PCI_MEM_BAR_BYTES)
			v |= ((vp_msix_dword(vp, o & ~3u) >> (8 * (o & 3u))) &
			      0xFFu) << (8 * i);
	}
	return v;
}

/* Store merged value v into table dword dw (6.8.2.6-6.8.2.9). */
static void vp_msix_store(struct virtio_pci *vp, uint32_t dw, uint32_t v)
{
	uint32_t table_end = (uint32_t)vp->msix_count * MSIX_ENTRY_BYTES;
	struct virtio_msix_entry *e;

	if (dw >= table_end)
		return; /* PBA and unused space are read-only */
	e = &vp->msix[dw / MSIX_ENTRY_BYTES];
	switch (dw % MSIX_ENTRY_BYTES) {
	case 0:
		e->addr_lo = v & ~3u; /* dword-aligned address */
		break;
	case 4:
		e->addr_hi = v;
		break;
	case 8:
		e->data = v;
		break;
	default:
		e->ctrl = v & MSIX_ENTRY_MASKED;
		vp_msix_release(vp);
		break;
	}
}

/* Guest write to BAR1 (see virtio_pci.h). */
void virtio_pci_mmio_write(struct virtio_pci *vp, uint64_t gpa, uint8_t size,
			   uint32_t value)
{
	uint32_t off = (uint32_t)(gpa - vp->bar1);

	if (size != 1 && size != 2 && size != 4)
		return;
	for (uint32_t dw = off & ~3u;
	     dw < off + size && dw < VIRTIO_PCI_MEM_BAR_BYTES; dw += 4)
		vp_msix_store(vp, dw,
			      vp_merge(vp_msix_dword(vp, dw), dw, off, size, value));
}

/* ---- save and load (docs/save-restore.md) ---- */

_Static_assert(KEEL_STATE_VIRTIO_QUEUES == VIRTIO_PCI_MAX_QUEUES &&
		       KEEL_STATE_VIRTIO_VECTORS == VIRTIO_PCI_MSIX_VECTORS,
	       "the virtio-pci record holds every queue and vector");

/* Save vp's transport; see virtio_pci.h. */
void virtio_pci_save(const struct virtio_pci *vp, struct keel_state_virtio_pci *st)
{
	memset(st, 0, sizeof(*st));
	st->device_id = vp->device_id;
	st->host_features = vp->host_features;
	st->nr_queues = vp->nr_queues;
	st->queue_size = vp->queue_size_max;
	st->command = vp->command;
	st->int_line = vp->int_line;
	st->bar0 = vp->bar0;
	st->bar1 = vp->bar1;
	st->guest_features = vp->guest_features;
	st->status = vp->status;
	st->isr = vp->isr;
	st->queue_sel = vp->queue_sel;
	st->config_vector = vp->config_vector;
	st->msix_ctrl = vp->msix_ctrl;
	st->msix_pba = vp->msix_pba;
	st->msix_ready = vp->msix_ready;
	for (uint32_t v = 0; v < VIRTIO_PCI_MSIX_VECTORS; v++) {
		st->msix[v].addr_lo = vp->msix[v].addr_lo;
		st->msix[v].addr_hi = vp->msix[v].addr_hi;
		st->msix[v].data = vp->msix[v].data;
		st->msix[v].ctrl = vp->msix[v].ctrl;
	}
	for (uint32_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		const struct virtq *q = &vp->vq[i];

		st->vq[i].pfn = q->size ? (uint32_t)(q->desc_gpa / VIRTQ_LEGACY_ALIGN) : 0;
		st->vq[i].last_avail = q->last_avail;
		st->vq[i].used_idx = q->used_idx;
		st->vq[i].msix_vector = q->msix_vector;
		st->vq[i].signalled_used = q->signalled_used;
		st->vq[i].signalled_valid = q->signalled_valid;
	}
}

/* True if v names an MSI-X table entry of vp, or is "no vector". */
static bool vp_state_vector_ok(const struct virtio_pci *vp, uint32_t v)
{
	return v == VIRTIO_PCI_NO_VECTOR || v < vp->msix_count;
}

/* True if st's PCI configuration and virtio registers could be vp's. */
static bool vp_state_regs_ok(const struct virtio_pci *vp,
			     const struct keel_state_virtio_pci *st)
{
	const uint32_t vectors = (1u << vp->msix_count) - 1u;

	return st->device_id == vp->device_id && st->host_features == vp->host_features &&
	       st->nr_queues == vp->nr_queues && st->queue_size == vp->queue_size_max &&
	       !(st->command & ~CMD_WRITABLE) && st->int_line <= 0xFF &&
	       (st->bar0 & (VIRTIO_PCI_IO_BAR_BYTES - 1)) == BAR_IO_SPACE &&
	       !(st->bar1 & (VIRTIO_PCI_MEM_BAR_BYTES - 1)) &&
	       !(st->guest_features & ~vp->host_features) && st->status <= 0xFF &&
	       !(st->isr & ~(VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG)) &&
	       st->queue_sel <= 0xFFFF && vp_state_vector_ok(vp, st->config_vector) &&
	       !(st->msix_ctrl & ~(VIRTIO_PCI_MSIX_ENABLE | VIRTIO_PCI_MSIX_FMASK)) &&
	       !(st->msix_pba & ~vectors) && !(st->msix_ready & ~vectors);
}

/* True if st's MSI-X table could be vp's: entries beyond the table as
 * reset left them, and only the mask bit in each entry's control. */
static bool vp_state_msix_ok(const struct virtio_pci *vp,
			     const struct keel_state_virtio_pci *st)
{
	for (uint32_t v = 0; v < VIRTIO_PCI_MSIX_VECTORS; v++) {
		if (st->msix[v].ctrl & ~MSIX_ENTRY_MASKED)
			return false;
		if (v >= vp->msix_count &&
		    (st->msix[v].addr_lo || st->msix[v].addr_hi || st->msix[v].data ||
		     st->msix[v].ctrl != MSIX_ENTRY_MASKED))
			return false;
	}
	return true;
}

/* True if queue i of st could be vp's: a queue not set up has no indices,
 * and a queue the device lacks was never given a vector. */
static bool vp_state_queue_ok(const struct virtio_pci *vp,
			      const struct keel_state_virtq *q, uint32_t i)
{
	if (q->last_avail > 0xFFFF || q->used_idx > 0xFFFF || q->signalled_used > 0xFFFF ||
	    q->signalled_valid > 1 || !vp_state_vector_ok(vp, q->msix_vector))
		return false;
	if (i >= vp->nr_queues && (q->pfn || q->msix_vector != VIRTIO_PCI_NO_VECTOR))
		return false;
	return q->pfn || (!q->last_avail && !q->used_idx && !q->signalled_used &&
			  !q->signalled_valid);
}

/* Load vp's transport; see virtio_pci.h. */
int virtio_pci_load(struct virtio_pci *vp, const struct keel_state_virtio_pci *st)
{
	bool event_idx = st->guest_features & (1u << VIRTIO_RING_F_EVENT_IDX);

	if (!vp_state_regs_ok(vp, st) || !vp_state_msix_ok(vp, st))
		return -EINVAL;
	for (uint32_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		if (!vp_state_queue_ok(vp, &st->vq[i], i))
			return -EINVAL;
	vp->command = (uint16_t)st->command;
	vp->int_line = (uint8_t)st->int_line;
	vp->bar0 = st->bar0;
	vp->bar1 = st->bar1;
	vp->guest_features = st->guest_features;
	vp->status = (uint8_t)st->status;
	vp->isr = (uint8_t)st->isr;
	vp->queue_sel = (uint16_t)st->queue_sel;
	vp->config_vector = (uint16_t)st->config_vector;
	vp->msix_ctrl = (uint16_t)st->msix_ctrl;
	vp->msix_pba = st->msix_pba;
	vp->msix_ready = st->msix_ready;
	for (uint32_t v = 0; v < VIRTIO_PCI_MSIX_VECTORS; v++) {
		vp->msix[v].addr_lo = st->msix[v].addr_lo;
		vp->msix[v].addr_hi = st->msix[v].addr_hi;
		vp->msix[v].data = st->msix[v].data;
		vp->msix[v].ctrl = st->msix[v].ctrl;
	}
	for (uint32_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		struct virtq *q = &vp->vq[i];
		const struct keel_state_virtq *s = &st->vq[i];

		virtq_setup_legacy(q, s->pfn ? vp->queue_size_max : 0, s->pfn);
		q->last_avail = (uint16_t)s->last_avail;
		q->used_idx = (uint16_t)s->used_idx;
		q->msix_vector = (uint16_t)s->msix_vector;
		q->signalled_used = (uint16_t)s->signalled_used;
		q->signalled_valid = s->signalled_valid;
		q->event_idx = event_idx;
	}
	return 0;
}
