/*
 * libFuzzer target for the guest-facing register interfaces of the virtio
 * devices: the legacy virtio-pci transport (hypervisor/devices/virtio_pci.c:
 * PCI configuration space, the I/O BAR0 registers and device
 * configuration, the MSI-X table and PBA in memory BAR1) with the device
 * models plugged into it (hypervisor/devices/virtio_blk.c on a read-only
 * image or a RAM disk, hypervisor/devices/virtio_net.c on a switch port,
 * hypervisor/devices/virtio_balloon.c with a page callback), over the
 * real ring code, disk images and switch. The first input byte picks the
 * device; the rest is a program of 8-byte operations: configuration,
 * port and MMIO reads and writes of any size at any offset, raw,
 * descriptor and available-ring writes into a 64 KiB guest RAM
 * (allocated to its exact size; rings may also be placed outside it), a
 * Linux-like driver bring-up, device processing, interrupts raised,
 * frames from dom0, link changes and balloon targets. After each step
 * the contract is checked: nothing crashes or leaves its bounds (ASan, UBSan; the disk
 * images' unused tails are poisoned and the read-only image is
 * write-protected), a read returns no bits beyond its width and what
 * one-byte reads give, and changes nothing but the ISR, which a read
 * covering it returns and clears; queue sizes stay within the maximum;
 * identity, BAR type, capability and table-size fields stay read-only;
 * vectors stay in range; status 0 resets the device; MSI messages come
 * only from unmasked entries in range with MSI-X enabled and bus
 * mastering on, and no pending bit survives an unmask; the device models
 * leave guest RAM alone before DRIVER_OK and while broken; only the
 * balloon's actual is driver-writable and its num_pages is the host's;
 * every PFN the balloon hands over is counted once. Run with
 * tests/fuzz/run.sh, or by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_virtio.c -o /tmp/fuzz_virtio
 */
#include "../../hypervisor/common/disk.c"
#include "../../hypervisor/common/vswitch.c"
#include "../../hypervisor/common/virtq.c"
#include "../../hypervisor/devices/virtio_pci.c"
#include "../../hypervisor/devices/virtio_blk.c"
#include "../../hypervisor/devices/virtio_net.c"
#undef BUDGET_CHAINS /* virtio_blk.c's; virtio_balloon.c defines its own */
#include "../../hypervisor/devices/virtio_balloon.c"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FUZZ_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#endif
#endif
#ifndef FUZZ_POISON
#define FUZZ_POISON(p, n) ((void)(p), (void)(n))
#endif

#define FUZZ_IO_BAR 0xC040u
#define FUZZ_MEM_BAR 0xFEB00000u
#define FUZZ_RAM_BYTES 0x10000u         /* guest RAM at gpa 0: 16 pages */
#define FUZZ_RING_PAGES 3u              /* queue q's ring: pages 1 + 4q.. */
#define FUZZ_INDIRECT_GPA 0x8000u       /* where OP_DESC puts indirect tables */
#define FUZZ_BUF_GPA 0x9000u            /* OP_CHAIN's buffers, to the end */
#define FUZZ_IMAGE_BYTES (0x10000u + 700u) /* read-only, partial last sector */
#define FUZZ_RAMDISK_BYTES 0x10000u
#define FUZZ_SW_SLOTS 8u                /* per switch port: fills up quickly */
#define FUZZ_SW_POOL (2u * FUZZ_SW_SLOTS) /* the switch's frames: both ports full */
#define FUZZ_MSI_ADDR 0xFEE00000u
#define FUZZ_MSI_DATA 0x40u
#define FUZZ_OP_BYTES 8u
#define FUZZ_ROUNDS 4u                  /* process rounds per OUT, as blkdev.c */
#define FUZZ_CFG_REACH (VIRTIO_PCI_IO_BAR_BYTES - VIRTIO_PCI_CONFIG_OFF_NOMSIX)
#define FUZZ_MSIX_CTRL (VIRTIO_PCI_MSIX_CAP_OFF + 2u)
#define FUZZ_ENTRY(v, dw) (16u * (v) + 4u * (dw)) /* BAR1 offset of a dword */
#define FUZZ_PFN_MAX 300u               /* PFNs per OP_CHAIN buffer, below it */

enum fuzz_kind { FUZZ_BLK_IMAGE, FUZZ_BLK_RAM, FUZZ_NET, FUZZ_BALLOON, FUZZ_KINDS };

enum fuzz_op {
	OP_CFG_READ, OP_CFG_WRITE, OP_IO_READ, OP_IO_WRITE, OP_MMIO_READ,
	OP_MMIO_WRITE, OP_PROCESS, OP_RAISE, OP_POKE, OP_DESC, OP_AVAIL,
	OP_SETUP, OP_CHAIN, OP_FRAME, OP_LINK, OP_TARGET, OP_COUNT
};

/* One buffer of a chain OP_CHAIN builds; host is filled in by layout. */
struct fuzz_seg {
	uint32_t len;
	bool write;
	uint8_t *host;
};

/* Access sizes an operation can ask for: mostly 1, 2, 4, sometimes not. */
static const uint8_t fuzz_sizes[8] = { 1, 2, 4, 1, 2, 4, 3, 0 };
static const uint8_t fuzz_mac[VSWITCH_ETH_ALEN] = { 0x02, 0x4b, 0x45, 0, 0, 0x0a };
static const uint8_t fuzz_dom0_mac[VSWITCH_ETH_ALEN] = { 0x02, 0x4b, 0x45, 0, 0, 0x01 };

/* The device under test and what the checks know of it. */
static struct {
	enum fuzz_kind kind;
	struct virtio_pci *vp;
	uint32_t id, subsys, class_rev; /* configuration dwords 0x00, 0x2C, 0x08 */
	uint32_t host_features;         /* as offered at reset */
	uint16_t qsize;                 /* the device's queue size */
	int port, dom0_port;            /* switch ports (net) */
	uint64_t now;                   /* switch clock (net) */
	uint64_t maps;                  /* guest RAM map calls so far */
	uint16_t next_desc[2];          /* OP_CHAIN's next descriptor per queue */
	uint32_t next_buf;              /* and its next buffer */
	uint32_t target;                /* balloon num_pages the host set */
	uint64_t pages[2];              /* balloon page calls: deflate, inflate */
	uint64_t taken[2];              /* of which the callback accepted */
} fz;

static uint8_t *ram;
static struct virtio_blk blk;
static struct virtio_net net;
static struct virtio_balloon balloon;
static struct disk_image image, ramdisk;
static bool ramdisk_dirty;
static struct vswitch sw;
static struct spinlock sw_lock;
static void *sw_pool;

/* ---- what the code under test calls: guest RAM and disk memory ---- */

/* guest_mem_ops.map over the fake guest RAM; counts calls, so that a
 * check can tell whether a device model touched guest memory. */
static void *fuzz_map(void *ctx, uint64_t gpa, uint32_t len)
{
	(void)ctx;
	fz.maps++;
	if (gpa >= FUZZ_RAM_BYTES || len > FUZZ_RAM_BYTES - gpa)
		return NULL;
	return ram + gpa;
}

static const struct guest_mem_ops fuzz_mem = { fuzz_map, NULL };

/* disk_mem_ops: zeroed, page-aligned 2 MiB chunks from the host heap,
 * host-physical address = pointer. The images live for the whole run. */
static uint64_t fuzz_chunk_alloc(void *ctx)
{
	void *p = aligned_alloc(4096, DISK_CHUNK_BYTES);

	(void)ctx;
	if (p)
		memset(p, 0, DISK_CHUNK_BYTES);
	return (uint64_t)(uintptr_t)p;
}

static void fuzz_chunk_free(void *ctx, uint64_t pa)
{
	(void)ctx;
	free((void *)(uintptr_t)pa);
}

static void *fuzz_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

static const struct disk_mem_ops fuzz_disk_ops = {
	fuzz_chunk_alloc, fuzz_chunk_free, fuzz_p2v, NULL,
};

/* Poison what a one-chunk image holds beyond its capacity (the rest of
 * its data chunk and of its chunk table), so ASan sees any access past
 * the disk's end. */
static void fuzz_poison_image(struct disk_image *img)
{
	uint64_t cap = ALIGN_UP(img->bytes, DISK_SECTOR_BYTES);
	uint8_t *data = fuzz_p2v(NULL, img->chunk_pa[0]);

	FUZZ_POISON(data + cap, DISK_CHUNK_BYTES - cap);
	FUZZ_POISON((uint8_t *)img->chunk_pa + sizeof(uint64_t),
		    DISK_CHUNK_BYTES - sizeof(uint64_t));
}

/* Fill the read-only image with a pattern, complete it and make its
 * memory read-only, so that any write to it faults. */
static void fuzz_image_fill(struct disk_image *img)
{
	static uint8_t piece[4096];
	uint64_t off, n, i;

	for (off = 0; off < img->bytes; off += n) {
		n = MIN(sizeof(piece), img->bytes - off);
		for (i = 0; i < n; i++)
			piece[i] = (uint8_t)((off + i) * 7 + ((off + i) >> 9));
		FUZZ_ASSERT(disk_image_upload(img, off, piece, n) == 0);
	}
	FUZZ_ASSERT(disk_image_complete(img) == 0);
	FUZZ_ASSERT(mprotect(fuzz_p2v(NULL, img->chunk_pa[0]), DISK_CHUNK_BYTES,
			     PROT_READ) == 0);
}

/* Once per run: guest RAM, the two disk images and the switch queues. */
static void fuzz_once(void)
{
	if (ram)
		return;
	ram = malloc(FUZZ_RAM_BYTES);
	sw_pool = malloc(VSWITCH_POOL_BYTES(FUZZ_SW_POOL));
	FUZZ_ASSERT(ram && sw_pool);
	FUZZ_ASSERT(disk_image_init(&image, &fuzz_disk_ops, "root",
				    FUZZ_IMAGE_BYTES, true) == 0);
	FUZZ_ASSERT(disk_image_init(&ramdisk, &fuzz_disk_ops, NULL,
				    FUZZ_RAMDISK_BYTES, false) == 0);
	fuzz_image_fill(&image);
	fuzz_poison_image(&image);
	fuzz_poison_image(&ramdisk);
}

/* ---- the device under test ---- */

/* A virtio-blk function on img (the RAM disk zeroed if an earlier input
 * wrote to it, so that every input starts alike). */
static void fuzz_blk_init(struct disk_image *img)
{
	static const uint8_t zero[FUZZ_RAMDISK_BYTES];

	if (img == &ramdisk && ramdisk_dirty) {
		FUZZ_ASSERT(disk_image_write(img, 0, zero, sizeof(zero)) == 0);
		ramdisk_dirty = false;
	}
	FUZZ_ASSERT(virtio_blk_init(&blk, img, NULL, FUZZ_IO_BAR, FUZZ_MEM_BAR) == 0);
	fz.vp = &blk.vp;
	fz.qsize = VIRTIO_BLK_QUEUE_SIZE;
	fz.id = VIRTIO_PCI_VENDOR_ID | VIRTIO_PCI_DEVICE_BLK << 16;
	fz.subsys = VIRTIO_PCI_VENDOR_ID | VIRTIO_PCI_SUBSYS_BLK << 16;
	fz.class_rev = VIRTIO_PCI_CLASS_BLK << 8;
}

/* A virtio-net function on a fresh switch whose other port is dom0's,
 * the guest's port bound to its MAC as common/netdev.c does. */
static void fuzz_net_init(void)
{
	FUZZ_ASSERT(vswitch_init(&sw, 0, sw_pool, VSWITCH_POOL_BYTES(FUZZ_SW_POOL)) == 0);
	fz.dom0_port = vswitch_port_add(&sw, FUZZ_SW_SLOTS);
	fz.port = vswitch_port_add(&sw, FUZZ_SW_SLOTS);
	FUZZ_ASSERT(fz.dom0_port >= 0 && fz.port >= 0);
	FUZZ_ASSERT(vswitch_port_bind(&sw, (uint32_t)fz.port, fuzz_mac) == 0);
	virtio_net_init(&net, fuzz_mac, FUZZ_IO_BAR, FUZZ_MEM_BAR, &sw,
			(uint32_t)fz.port, &sw_lock);
	fz.vp = &net.vp;
	fz.qsize = VIRTIO_NET_QUEUE_SIZE;
	fz.id = VIRTIO_PCI_VENDOR_ID | VIRTIO_PCI_DEVICE_NET << 16;
	fz.subsys = VIRTIO_PCI_VENDOR_ID | VIRTIO_PCI_SUBSYS_NET << 16;
	fz.class_rev = VIRTIO_PCI_CLASS_NET << 8;
}

/* A virtio-balloon function with target 0. */
static void fuzz_balloon_init(void)
{
	virtio_balloon_init(&balloon, FUZZ_IO_BAR, FUZZ_MEM_BAR);
	fz.vp = &balloon.vp;
	fz.qsize = VIRTIO_BALLOON_QUEUE_SIZE;
	fz.id = VIRTIO_PCI_VENDOR_ID | VIRTIO_PCI_DEVICE_BALLOON << 16;
	fz.subsys = VIRTIO_PCI_VENDOR_ID | VIRTIO_PCI_SUBSYS_BALLOON << 16;
	fz.class_rev = VIRTIO_PCI_CLASS_BALLOON << 8;
	fz.target = 0;
	memset(fz.pages, 0, sizeof(fz.pages));
	memset(fz.taken, 0, sizeof(fz.taken));
}

/* A fresh device of kind k over zeroed guest RAM. */
static void fuzz_dev_init(enum fuzz_kind k)
{
	memset(ram, 0, FUZZ_RAM_BYTES);
	fz.kind = k;
	fz.now = 1000;
	fz.next_desc[0] = fz.next_desc[1] = 0;
	fz.next_buf = FUZZ_BUF_GPA;
	if (k == FUZZ_NET)
		fuzz_net_init();
	else if (k == FUZZ_BALLOON)
		fuzz_balloon_init();
	else
		fuzz_blk_init(k == FUZZ_BLK_RAM ? &ramdisk : &image);
	fz.host_features = fz.vp->host_features;
}

/* Whether the device model has a kick, a broken state or (balloon) a
 * driver's report to forget. */
static bool fuzz_dev_busy(void)
{
	if (fz.kind == FUZZ_NET)
		return net.tx_pending || net.broken;
	if (fz.kind == FUZZ_BALLOON)
		return balloon.pending || balloon.broken || balloon.actual;
	return blk.pending || blk.broken;
}

/* ---- guest-visible state, read without side effects ---- */

/* Whether size is one an access may have (1, 2 or 4 bytes). */
static bool fuzz_valid_size(uint32_t size)
{
	return size == 1 || size == 2 || size == 4;
}

/* The port of BAR0 offset off where vp's BAR0 now is. */
static uint16_t fuzz_port(const struct virtio_pci *vp, uint32_t off)
{
	return (uint16_t)((vp->bar0 & ~(VIRTIO_PCI_IO_BAR_BYTES - 1)) + off);
}

/* A configuration read (no side effects). */
static uint32_t fuzz_cfg(uint32_t reg, uint32_t size)
{
	return virtio_pci_cfg_read(fz.vp, reg, size);
}

/* The BAR1 dword at off (MSI-X table or PBA). */
static uint32_t fuzz_msix(uint32_t off)
{
	return virtio_pci_mmio_read(fz.vp, (uint64_t)fz.vp->bar1 + off, 4);
}

/* What a size-byte IN at BAR0 offset off returns, taken on a copy of the
 * transport (its BAR0 moved back to FUZZ_IO_BAR, wherever the guest put
 * it) so that an ISR read does not clear the real one. */
static uint32_t fuzz_peek(uint32_t off, uint8_t size)
{
	static struct virtio_pci copy;

	memcpy(&copy, fz.vp, sizeof(copy));
	copy.bar0 = FUZZ_IO_BAR | 1u;
	return virtio_pci_io_read(&copy, fuzz_port(&copy, off), size);
}

/* The first bytes of the device configuration as the model shows them:
 * as many as BAR0 can reach. */
static void fuzz_dev_config(uint8_t buf[FUZZ_CFG_REACH])
{
	for (uint32_t i = 0; i < FUZZ_CFG_REACH; i++)
		buf[i] = (uint8_t)fz.vp->ops->cfg_read(fz.vp->dev, i, 1);
}

/* Whether the MSI-X capability's enable bit is set. */
static bool fuzz_msix_enabled(void)
{
	return fuzz_cfg(FUZZ_MSIX_CTRL, 2) & VIRTIO_PCI_MSIX_ENABLE;
}

/* Whether the function may signal at all: MSI-X enabled, bus master. */
static bool fuzz_can_signal(void)
{
	return fuzz_msix_enabled() &&
	       (fuzz_cfg(0x04, 2) & VIRTIO_PCI_CMD_MASTER);
}

/* Whether entry v is masked, by the function mask or its own bit. */
static bool fuzz_masked(uint32_t v)
{
	return (fuzz_cfg(FUZZ_MSIX_CTRL, 2) & VIRTIO_PCI_MSIX_FMASK) ||
	       (fuzz_msix(FUZZ_ENTRY(v, 3)) & 1u);
}

/* Whether m is the message table entry v holds. */
static bool fuzz_msg_is(const struct msi_msg *m, uint32_t v)
{
	uint64_t addr = (uint64_t)fuzz_msix(FUZZ_ENTRY(v, 1)) << 32 |
			fuzz_msix(FUZZ_ENTRY(v, 0));

	return m->address == addr && m->data == fuzz_msix(FUZZ_ENTRY(v, 2));
}

/* ---- checks ---- */

/* A read of size bytes has no bits beyond its width. */
static void fuzz_check_width(uint32_t v, uint32_t size)
{
	if (size < 4)
		FUZZ_ASSERT((v >> (8 * size)) == 0);
}

/* A message handed to the hypervisor is the one of an unmasked entry in
 * range (entry v, or any if v < 0) while MSI-X is enabled and bus
 * mastering on (PCI 3.0, 6.8.2), with a dword-aligned address. */
static void fuzz_check_msg(const struct msi_msg *m, int32_t v)
{
	bool found = false;

	FUZZ_ASSERT(fuzz_can_signal());
	FUZZ_ASSERT((m->address & 3u) == 0);
	for (uint32_t i = 0; i < fz.vp->msix_count; i++)
		found |= (v < 0 || (uint32_t)v == i) && !fuzz_masked(i) &&
			 fuzz_msg_is(m, i);
	FUZZ_ASSERT(found);
}

/* fuzz_check_msg for n messages a device model handed back. */
static void fuzz_check_msgs(const struct msi_msg *m, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		fuzz_check_msg(&m[i], -1);
}

/* Take every released message, as the hypervisor does after each MMIO
 * and configuration write; each entry is released at most once. */
static void fuzz_drain(void)
{
	struct msi_msg m;
	uint32_t n = 0;

	while (virtio_pci_take_msg(fz.vp, &m)) {
		fuzz_check_msg(&m, -1);
		FUZZ_ASSERT(++n <= fz.vp->msix_count);
	}
}

/* The configuration header's read-only fields (PCI 3.0, 6.1, 6.2, 6.8.2):
 * identity and revision 0, command bits only those implemented, the
 * capability list holding just the MSI-X capability with a table of
 * nr_queues + 1 entries in BAR1 and the PBA at 0x800, no INTx pin, and
 * the BARs' type and size bits. */
static void fuzz_check_pci(void)
{
	FUZZ_ASSERT(fuzz_cfg(0x00, 4) == fz.id);
	FUZZ_ASSERT(fuzz_cfg(0x08, 4) == fz.class_rev);
	FUZZ_ASSERT(fuzz_cfg(0x2C, 4) == fz.subsys);
	FUZZ_ASSERT((fuzz_cfg(0x04, 2) & ~(uint32_t)(VIRTIO_PCI_CMD_IO |
			VIRTIO_PCI_CMD_MEMORY | VIRTIO_PCI_CMD_MASTER |
			VIRTIO_PCI_CMD_INTX_DISABLE)) == 0);
	FUZZ_ASSERT(fuzz_cfg(0x06, 2) & 0x10u); /* capabilities list */
	FUZZ_ASSERT((fuzz_cfg(0x10, 4) & (VIRTIO_PCI_IO_BAR_BYTES - 1)) == 1u);
	FUZZ_ASSERT((fuzz_cfg(0x14, 4) & (VIRTIO_PCI_MEM_BAR_BYTES - 1)) == 0);
	FUZZ_ASSERT(fuzz_cfg(0x34, 1) == VIRTIO_PCI_MSIX_CAP_OFF);
	FUZZ_ASSERT(fuzz_cfg(0x3D, 1) == 0);
	FUZZ_ASSERT(fuzz_cfg(VIRTIO_PCI_MSIX_CAP_OFF, 2) == 0x11u); /* last */
	FUZZ_ASSERT((fuzz_cfg(FUZZ_MSIX_CTRL, 2) & 0x7FFu) == fz.vp->nr_queues);
	FUZZ_ASSERT(fuzz_cfg(VIRTIO_PCI_MSIX_CAP_OFF + 4, 4) ==
		    (VIRTIO_PCI_MSIX_TABLE_OFF | 1u));
	FUZZ_ASSERT(fuzz_cfg(VIRTIO_PCI_MSIX_CAP_OFF + 8, 4) ==
		    (VIRTIO_PCI_MSIX_PBA_OFF | 1u));
}

/* Whether v is a vector a register may hold: an entry, or none. */
static bool fuzz_vector_ok(uint16_t v)
{
	return v == VIRTIO_PCI_NO_VECTOR || v < fz.vp->msix_count;
}

/* The legacy registers' invariants: the ISR holds only its two bits, the
 * offered features never change and the accepted ones are among them,
 * vectors are entries in range or NO_VECTOR, and a queue is either not
 * set up or of the device's size. */
static void fuzz_check_virtio(void)
{
	const struct virtio_pci *vp = fz.vp;

	FUZZ_ASSERT((vp->isr & ~(VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG)) == 0);
	FUZZ_ASSERT(fuzz_peek(VIRTIO_PCI_REG_HOST_FEATURES, 4) == fz.host_features);
	FUZZ_ASSERT((vp->guest_features & ~fz.host_features) == 0);
	FUZZ_ASSERT(fuzz_vector_ok(vp->config_vector));
	for (uint16_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		FUZZ_ASSERT(fuzz_vector_ok(vp->vq[i].msix_vector));
		FUZZ_ASSERT(vp->vq[i].size == 0 ||
			    (i < vp->nr_queues && vp->vq[i].size == fz.qsize));
	}
}

/* MSI-X after a drain: nothing left to take, pending bits only for
 * entries that exist and only while masked or with MSI-X off (PCI 3.0,
 * 6.8.2.9: a pending vector is sent once unmasked), reserved bits of the
 * vector control and the upper PBA dword read 0. */
static void fuzz_check_msix(void)
{
	const struct virtio_pci *vp = fz.vp;
	uint32_t pba = fuzz_msix(VIRTIO_PCI_MSIX_PBA_OFF);
	bool enabled = fuzz_msix_enabled();

	FUZZ_ASSERT(vp->msix_ready == 0);
	FUZZ_ASSERT((pba >> vp->msix_count) == 0);
	FUZZ_ASSERT(fuzz_msix(VIRTIO_PCI_MSIX_PBA_OFF + 4) == 0);
	for (uint32_t v = 0; v < vp->msix_count; v++) {
		FUZZ_ASSERT((fuzz_msix(FUZZ_ENTRY(v, 3)) & ~1u) == 0);
		if (pba & (1u << v))
			FUZZ_ASSERT(!enabled || fuzz_masked(v));
	}
}

/* Decoding follows the command register and the BARs (PCI 3.0, 6.2.2):
 * nothing just outside a BAR hits, a BAR hits only with its decoding on,
 * and all of a usable (nonzero, in range) BAR hits when it is on. */
static void fuzz_check_decode(void)
{
	const struct virtio_pci *vp = fz.vp;
	uint32_t io = vp->bar0 & ~(VIRTIO_PCI_IO_BAR_BYTES - 1);
	uint64_t mem = vp->bar1;
	uint32_t cmd = fuzz_cfg(0x04, 2);
	bool io_on = cmd & VIRTIO_PCI_CMD_IO, mem_on = cmd & VIRTIO_PCI_CMD_MEMORY;

	if (io && io <= 0x10000u - VIRTIO_PCI_IO_BAR_BYTES) {
		FUZZ_ASSERT(!virtio_pci_io_hit(vp, (uint16_t)(io - 1)));
		FUZZ_ASSERT(virtio_pci_io_hit(vp, (uint16_t)io) == io_on);
		FUZZ_ASSERT(virtio_pci_io_hit(vp, (uint16_t)(io + 63)) == io_on);
		if (io + VIRTIO_PCI_IO_BAR_BYTES < 0x10000u)
			FUZZ_ASSERT(!virtio_pci_io_hit(vp, (uint16_t)(io + 64)));
	}
	FUZZ_ASSERT(!virtio_pci_mmio_hit(vp, mem + VIRTIO_PCI_MEM_BAR_BYTES));
	if (mem) {
		FUZZ_ASSERT(!virtio_pci_mmio_hit(vp, mem - 1));
		FUZZ_ASSERT(virtio_pci_mmio_hit(vp, mem) == mem_on);
		FUZZ_ASSERT(virtio_pci_mmio_hit(vp, mem + 4095) == mem_on);
	}
}

/* The balloon's own state: kicks only for its two queues, num_pages as
 * the host set it (the driver cannot change it, 5.5.6) and shown at
 * offset 0, and the counters matching the page callback's calls. */
static void fuzz_check_balloon(void)
{
	const struct virtio_balloon_stats *s = &balloon.stats;

	FUZZ_ASSERT((balloon.pending >> VIRTIO_BALLOON_QUEUES) == 0);
	FUZZ_ASSERT(balloon.num_pages == fz.target);
	FUZZ_ASSERT(balloon.vp.ops->cfg_read(&balloon, VIRTIO_BALLOON_CFG_NUM_PAGES, 4) ==
		    fz.target);
	FUZZ_ASSERT(s->inflated == fz.taken[1] && s->deflated == fz.taken[0]);
	FUZZ_ASSERT(s->bad_pfns == fz.pages[0] + fz.pages[1] - fz.taken[0] - fz.taken[1]);
}

/* Everything that holds between steps. */
static void fuzz_check_all(void)
{
	fuzz_check_pci();
	fuzz_check_virtio();
	fuzz_check_msix();
	fuzz_check_decode();
	FUZZ_ASSERT(!sw_lock.locked);
	FUZZ_ASSERT(fz.kind != FUZZ_BLK_IMAGE || blk.stats.writes == 0);
	if (fz.kind == FUZZ_BALLOON)
		fuzz_check_balloon();
}

/* A queue size read (4.1.4.8; 0 = no such queue): the device's size for
 * an existing queue, a power of two no larger than the maximum. */
static void fuzz_check_qsize(uint32_t n)
{
	FUZZ_ASSERT(n <= VIRTIO_PCI_QUEUE_SIZE_MAX && (n & (n - 1)) == 0);
	FUZZ_ASSERT(n == (fz.vp->queue_sel < fz.vp->nr_queues ? fz.qsize : 0u));
}

/* After an OUT that wrote status byte s (virtio 1.x, 2.1, 4.1.4.8): s
 * reads back, and s = 0 reset the device: ISR, features, queues and their
 * vectors cleared and the model's kick and broken state forgotten (the
 * configuration vector too, unless the same OUT went on to write it). */
static void fuzz_check_status_write(uint32_t off, uint8_t size, uint32_t value)
{
	const struct virtio_pci *vp = fz.vp;
	const uint32_t st = VIRTIO_PCI_REG_STATUS;
	uint8_t s;

	if (off > st || off + size <= st)
		return;
	s = (uint8_t)(value >> (8 * (st - off)));
	FUZZ_ASSERT(fuzz_peek(st, 1) == s);
	if (s)
		return;
	FUZZ_ASSERT(vp->isr == 0 && vp->guest_features == 0 && !fuzz_dev_busy());
	for (uint16_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		FUZZ_ASSERT(vp->vq[i].size == 0 &&
			    vp->vq[i].msix_vector == VIRTIO_PCI_NO_VECTOR);
	if (off + size <= VIRTIO_PCI_REG_CONFIG_VECTOR || !fuzz_msix_enabled())
		FUZZ_ASSERT(vp->config_vector == VIRTIO_PCI_NO_VECTOR);
}

/* After a naturally aligned OUT of a whole read/write register (as the
 * legacy interface is driven): queue address (0 for a queue that does
 * not exist) and select read back, a vector reads back as written or as
 * NO_VECTOR (4.1.5.1.2). */
static void fuzz_check_readback(uint32_t off, uint8_t size, uint32_t value)
{
	bool sel_ok = fz.vp->queue_sel < fz.vp->nr_queues;
	uint32_t got;

	if (off == VIRTIO_PCI_REG_QUEUE_PFN && size == 4)
		FUZZ_ASSERT(fuzz_peek(off, 4) == (sel_ok ? value : 0u));
	if (off == VIRTIO_PCI_REG_QUEUE_SEL && size == 2)
		FUZZ_ASSERT(fuzz_peek(off, 2) == (value & 0xFFFFu));
	if (size == 2 && fuzz_msix_enabled() &&
	    (off == VIRTIO_PCI_REG_CONFIG_VECTOR ||
	     off == VIRTIO_PCI_REG_QUEUE_VECTOR)) {
		got = fuzz_peek(off, 2);
		FUZZ_ASSERT(got == (value & 0xFFFFu) || got == VIRTIO_PCI_NO_VECTOR);
	}
}

/* ---- the device models, run as the hypervisor runs them ---- */

/* One virtio_blk_process call: its result, the messages it hands back,
 * and no guest memory touched before DRIVER_OK, with FAILED, without bus
 * mastering or while broken. */
static int fuzz_blk_process(void)
{
	struct msi_msg out[VIRTIO_BLK_MAX_MSGS];
	bool was_broken = blk.broken;
	bool gated = was_broken || !(blk.vp.status & VIRTIO_STATUS_DRIVER_OK) ||
		     (blk.vp.status & VIRTIO_STATUS_FAILED) ||
		     !(blk.vp.command & VIRTIO_PCI_CMD_MASTER);
	uint64_t maps = fz.maps;
	uint32_t n = ~0u;
	int rc = virtio_blk_process(&blk, &fuzz_mem, out, &n);

	FUZZ_ASSERT(rc == 0 || rc == 1 || rc == -EIO);
	FUZZ_ASSERT((rc == -EIO) == blk.broken);
	FUZZ_ASSERT(n <= VIRTIO_BLK_MAX_MSGS);
	if (gated)
		FUZZ_ASSERT(n == 0 && fz.maps == maps && rc == (was_broken ? -EIO : 0));
	fuzz_check_msgs(out, n);
	return rc;
}

/* One virtio_net_process call: as fuzz_blk_process (the rings also left
 * alone without bus mastering or with FAILED, virtio_net.h), and frames
 * the guest sent reach only dom0's port, never back to its own. */
static int fuzz_net_process(void)
{
	struct msi_msg out[VIRTIO_NET_MAX_MSGS];
	uint8_t st = net.vp.status;
	bool was_broken = net.broken;
	bool gated = was_broken || !(st & VIRTIO_STATUS_DRIVER_OK) ||
		     (st & VIRTIO_STATUS_FAILED) ||
		     !(net.vp.command & VIRTIO_PCI_CMD_MASTER);
	uint64_t maps = fz.maps, woke = ~0ull;
	uint32_t n = ~0u;
	int rc = virtio_net_process(&net, &fuzz_mem, fz.now, out, &n, &woke);

	FUZZ_ASSERT(rc == 0 || rc == 1 || rc == -EIO);
	FUZZ_ASSERT((rc == -EIO) == net.broken);
	FUZZ_ASSERT(n <= VIRTIO_NET_MAX_MSGS);
	FUZZ_ASSERT((woke & ~(1ull << fz.dom0_port)) == 0);
	if (gated)
		FUZZ_ASSERT(n == 0 && fz.maps == maps && rc == (was_broken ? -EIO : 0));
	fuzz_check_msgs(out, n);
	return rc;
}

/* virtio_balloon_page_fn: count the call; PFNs beyond guest RAM are
 * refused, as common/balloon.c does. */
static int fuzz_page(void *ctx, uint32_t pfn, bool inflate)
{
	FUZZ_ASSERT(ctx == &fz);
	fz.pages[inflate]++;
	if (pfn >= FUZZ_RAM_BYTES / VIRTIO_BALLOON_PAGE_BYTES)
		return -EINVAL;
	fz.taken[inflate]++;
	return 0;
}

/* One virtio_balloon_process call: as fuzz_blk_process (no page handed
 * over while gated either). Returns 1 while kicks are left with the
 * rings usable, as common/balloon.c's loop goes on while pending. */
static int fuzz_balloon_process(void)
{
	struct msi_msg out[VIRTIO_BALLOON_MAX_MSGS];
	bool was_broken = balloon.broken;
	bool gated = was_broken || !(balloon.vp.status & VIRTIO_STATUS_DRIVER_OK) ||
		     (balloon.vp.status & VIRTIO_STATUS_FAILED) ||
		     !(balloon.vp.command & VIRTIO_PCI_CMD_MASTER);
	uint64_t maps = fz.maps, pages = fz.pages[0] + fz.pages[1];
	uint32_t n = ~0u;
	int rc = virtio_balloon_process(&balloon, &fuzz_mem, fuzz_page, &fz, out, &n);

	FUZZ_ASSERT(rc == 0 || rc == -EIO);
	FUZZ_ASSERT((rc == -EIO) == balloon.broken);
	FUZZ_ASSERT(n <= VIRTIO_BALLOON_MAX_MSGS);
	if (gated)
		FUZZ_ASSERT(n == 0 && fz.maps == maps && fz.pages[0] + fz.pages[1] == pages &&
			    rc == (was_broken ? -EIO : 0));
	fuzz_check_msgs(out, n);
	return rc == 0 && balloon.pending && !gated ? 1 : rc;
}

/* One process call of the device at hand. */
static int fuzz_dev_process(void)
{
	if (fz.kind == FUZZ_NET)
		return fuzz_net_process();
	if (fz.kind == FUZZ_BALLOON)
		return fuzz_balloon_process();
	return fuzz_blk_process();
}

/* OP_PROCESS, and what follows every OUT: process while work is left, at
 * most FUZZ_ROUNDS times (common/blkdev.c's blk_service). */
static void fuzz_process(void)
{
	for (uint32_t r = 0; r < FUZZ_ROUNDS; r++)
		if (fuzz_dev_process() != 1)
			break;
}

/* ---- the guest's accesses ---- */

/* OP_CFG_READ: a configuration read at reg (0..511) of size 0..4: no
 * side effect, no bits beyond the width, the same as one-byte reads. */
static void fuzz_cfg_read(uint32_t reg, uint32_t size)
{
	static struct virtio_pci before;
	uint32_t v, want = 0;

	memcpy(&before, fz.vp, sizeof(before));
	v = virtio_pci_cfg_read(fz.vp, reg, size);
	FUZZ_ASSERT(memcmp(&before, fz.vp, sizeof(before)) == 0);
	fuzz_check_width(v, size);
	if (reg + size > 256)
		return;
	for (uint32_t i = 0; i < size; i++)
		want |= fuzz_cfg(reg + i, 1) << (8 * i);
	FUZZ_ASSERT(v == want);
}

/* OP_CFG_WRITE: a configuration write, then the drain the hypervisor
 * does. A dword written to a BAR keeps its type bits and the size its
 * lowest writable address bit shows (PCI 3.0, 6.2.5.1). */
static void fuzz_cfg_write(uint32_t reg, uint32_t size, uint32_t value)
{
	virtio_pci_cfg_write(fz.vp, reg, size, value);
	fuzz_drain();
	if (size == 4 && reg == 0x10)
		FUZZ_ASSERT((fuzz_cfg(0x10, 4) & 0x7Fu) == ((value & 0x40u) | 1u));
	if (size == 4 && reg == 0x14)
		FUZZ_ASSERT((fuzz_cfg(0x14, 4) & 0x1FFFu) == (value & 0x1000u));
}

/* What a size-byte IN at off must return by virtio_pci.h: the one-byte
 * INs at each offset, 0xFF past the BAR. */
static uint32_t fuzz_io_bytes(uint32_t off, uint8_t size)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < size; i++)
		v |= (off + i < VIRTIO_PCI_IO_BAR_BYTES ? fuzz_peek(off + i, 1)
							 : 0xFFu) << (8 * i);
	return v;
}

/* OP_IO_READ: an IN of size bytes at BAR0 offset off (if it hits). It
 * changes nothing but the ISR, which a read covering it returns and
 * clears (4.1.4.5); valid sizes read no more than their width, what the
 * one-byte reads give, and a queue size within the maximum. */
static void fuzz_io_read(uint32_t off, uint8_t size)
{
	static struct virtio_pci before;
	const uint32_t isr = VIRTIO_PCI_REG_ISR, qs = VIRTIO_PCI_REG_QUEUE_SIZE;
	uint16_t port = fuzz_port(fz.vp, off);
	bool valid = fuzz_valid_size(size);
	uint32_t v, want;

	if (!virtio_pci_io_hit(fz.vp, port))
		return;
	memcpy(&before, fz.vp, sizeof(before));
	want = valid ? fuzz_io_bytes(off, size) : 0;
	v = virtio_pci_io_read(fz.vp, port, size);
	if (valid && off <= isr && off + size > isr) {
		FUZZ_ASSERT(((v >> (8 * (isr - off))) & 0xFFu) == before.isr);
		before.isr = 0;
	} else if (!valid) {
		before.isr = fz.vp->isr;
	}
	FUZZ_ASSERT(memcmp(&before, fz.vp, sizeof(before)) == 0);
	if (!valid)
		return;
	fuzz_check_width(v, size);
	FUZZ_ASSERT(v == want);
	if (off <= qs && off + size >= qs + 2)
		fuzz_check_qsize((v >> (8 * (qs - off))) & 0xFFFFu);
}

/* What the device configuration cfg must read after a valid OUT of size
 * bytes at BAR0 offset off: as before, but for the balloon's actual
 * (5.5.4), which a reset (status 0) clears and the OUT's bytes over it
 * replace; the device configuration's place in BAR0 does not move. */
static void fuzz_cfg_expect(uint8_t cfg[FUZZ_CFG_REACH], uint32_t off, uint8_t size,
			    uint32_t value)
{
	const uint32_t st = VIRTIO_PCI_REG_STATUS, at = VIRTIO_BALLOON_CFG_ACTUAL;
	uint32_t base = fuzz_msix_enabled() ? VIRTIO_PCI_CONFIG_OFF_MSIX
					    : VIRTIO_PCI_CONFIG_OFF_NOMSIX;

	if (fz.kind != FUZZ_BALLOON || !fuzz_valid_size(size))
		return;
	if (off <= st && off + size > st && !((value >> (8 * (st - off))) & 0xFFu))
		memset(cfg + at, 0, 4);
	for (uint32_t i = 0; i < size; i++) {
		uint32_t o = off + i;

		if (o >= base + at && o < base + at + 4 && o - base < FUZZ_CFG_REACH)
			cfg[o - base] = (uint8_t)(value >> (8 * i));
	}
}

/* OP_IO_WRITE: an OUT of size bytes at BAR0 offset off (if it hits),
 * then the processing the hypervisor runs after every OUT. The device
 * configuration is not writable (virtio_blk.c, virtio_net.c) but for the
 * balloon's actual (fuzz_cfg_expect); an invalid size changes nothing. */
static void fuzz_io_write(uint32_t off, uint8_t size, uint32_t value)
{
	static struct virtio_pci before;
	uint8_t cfg_before[FUZZ_CFG_REACH], cfg_after[FUZZ_CFG_REACH];
	uint16_t port = fuzz_port(fz.vp, off);

	if (!virtio_pci_io_hit(fz.vp, port))
		return;
	memcpy(&before, fz.vp, sizeof(before));
	fuzz_dev_config(cfg_before);
	fuzz_cfg_expect(cfg_before, off, size, value);
	virtio_pci_io_write(fz.vp, port, size, value);
	fuzz_dev_config(cfg_after);
	FUZZ_ASSERT(memcmp(cfg_before, cfg_after, sizeof(cfg_after)) == 0);
	if (!fuzz_valid_size(size)) {
		FUZZ_ASSERT(memcmp(&before, fz.vp, sizeof(before)) == 0);
		return;
	}
	fuzz_check_status_write(off, size, value);
	fuzz_check_readback(off, size, value);
	fuzz_process();
}

/* OP_MMIO_READ: a read of size bytes at BAR1 offset off (if it hits):
 * no side effect, no bits beyond the width, the same as one-byte reads,
 * and 0 outside the table's entries and the PBA (virtio_pci.h). */
static void fuzz_mmio_read(uint32_t off, uint8_t size)
{
	static struct virtio_pci before;
	uint64_t gpa = (uint64_t)fz.vp->bar1 + off;
	uint32_t table_end = 16u * fz.vp->msix_count, v, b;

	if (!virtio_pci_mmio_hit(fz.vp, gpa))
		return;
	memcpy(&before, fz.vp, sizeof(before));
	v = virtio_pci_mmio_read(fz.vp, gpa, size);
	FUZZ_ASSERT(memcmp(&before, fz.vp, sizeof(before)) == 0);
	if (!fuzz_valid_size(size))
		return;
	fuzz_check_width(v, size);
	for (uint32_t i = 0, o = off; i < size; i++, o++) {
		b = (v >> (8 * i)) & 0xFFu;
		FUZZ_ASSERT(b == (o < VIRTIO_PCI_MEM_BAR_BYTES
				  ? virtio_pci_mmio_read(fz.vp, gpa + i, 1) : 0u));
		if (o >= table_end && (o < VIRTIO_PCI_MSIX_PBA_OFF ||
				       o >= VIRTIO_PCI_MSIX_PBA_OFF + 8))
			FUZZ_ASSERT(b == 0);
	}
}

/* After an aligned dword write to a table entry: address, upper address
 * and data read back (the address dword-aligned), the vector control
 * keeps only its mask bit (PCI 3.0, 6.8.2.6-6.8.2.9). */
static void fuzz_check_entry_write(uint32_t off, uint32_t value)
{
	uint32_t got = fuzz_msix(off);

	switch (off % 16) {
	case 0:
		FUZZ_ASSERT((got & ~3u) == (value & ~3u));
		break;
	case 12:
		FUZZ_ASSERT(got == (value & 1u));
		break;
	default:
		FUZZ_ASSERT(got == value);
		break;
	}
}

/* OP_MMIO_WRITE: a write of size bytes at BAR1 offset off (if it hits),
 * then the drain. Writes past the table (PBA, unused space) and of an
 * invalid size change nothing. */
static void fuzz_mmio_write(uint32_t off, uint8_t size, uint32_t value)
{
	static struct virtio_pci before;
	uint64_t gpa = (uint64_t)fz.vp->bar1 + off;
	uint32_t table_end = 16u * fz.vp->msix_count;

	if (!virtio_pci_mmio_hit(fz.vp, gpa))
		return;
	memcpy(&before, fz.vp, sizeof(before));
	virtio_pci_mmio_write(fz.vp, gpa, size, value);
	fuzz_drain();
	if (off >= table_end || !fuzz_valid_size(size))
		FUZZ_ASSERT(memcmp(&before, fz.vp, sizeof(before)) == 0);
	else if (size == 4 && off % 4 == 0)
		fuzz_check_entry_write(off, value);
}

/* ---- the host's side: interrupts, frames, link ---- */

/* OP_RAISE: the device model raises queue q's interrupt or the
 * configuration interrupt; checked against virtio_pci.h: the ISR bit is
 * set, a message comes back exactly when MSI-X and bus mastering are on
 * and the vector is in range and unmasked (then it is that entry's), and
 * a masked one leaves its PBA bit set. No such queue raises nothing. */
static void fuzz_raise(uint16_t q)
{
	const struct virtio_pci *vp = fz.vp;
	bool config = q == VIRTIO_PCI_CONFIG_IRQ, ok, deliver, masked;
	struct msi_msg m;
	uint16_t v;

	if (!config && q >= vp->nr_queues) {
		FUZZ_ASSERT(!virtio_pci_raise(fz.vp, q, &m));
		return;
	}
	v = config ? vp->config_vector : vp->vq[q].msix_vector;
	deliver = fuzz_can_signal() && v < vp->msix_count;
	masked = deliver && fuzz_masked(v);
	ok = virtio_pci_raise(fz.vp, q, &m);
	FUZZ_ASSERT(vp->isr & (config ? VIRTIO_PCI_ISR_CONFIG : VIRTIO_PCI_ISR_QUEUE));
	FUZZ_ASSERT(ok == (deliver && !masked));
	if (ok)
		fuzz_check_msg(&m, v);
	if (masked)
		FUZZ_ASSERT(fuzz_msix(VIRTIO_PCI_MSIX_PBA_OFF) & (1u << v));
}

/* OP_FRAME (net): dom0 sends a frame of len bytes (runts and oversize
 * included) to the guest's MAC, to everyone or to an unknown address;
 * it can only wake the guest's port. */
static void fuzz_frame(uint8_t how, uint32_t len)
{
	static const uint8_t bcast[VSWITCH_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t other[VSWITCH_ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x99 };
	static uint8_t f[VSWITCH_FRAME_MAX + 64];
	uint64_t woke;

	if (fz.kind != FUZZ_NET)
		return;
	memset(f, how, sizeof(f));
	memcpy(f, how % 3 == 0 ? fuzz_mac : how % 3 == 1 ? bcast : other,
	       VSWITCH_ETH_ALEN);
	memcpy(f + VSWITCH_ETH_ALEN, fuzz_dom0_mac, VSWITCH_ETH_ALEN);
	spin_lock(&sw_lock);
	woke = vswitch_input(&sw, (uint32_t)fz.dom0_port, f, len % sizeof(f), fz.now);
	spin_unlock(&sw_lock);
	FUZZ_ASSERT((woke & ~(1ull << fz.port)) == 0);
}

/* OP_LINK (net): the toolstack sets the link; the status field shows it
 * and a message, if any, is the configuration vector's. */
static void fuzz_link(bool up)
{
	struct msi_msg m;

	if (fz.kind != FUZZ_NET)
		return;
	if (virtio_net_set_link(&net, up, &m))
		fuzz_check_msg(&m, net.vp.config_vector);
	FUZZ_ASSERT(net.vp.ops->cfg_read(&net, VIRTIO_NET_CFG_STATUS, 2) ==
		    (up ? VIRTIO_NET_S_LINK_UP : 0u));
}

/* OP_TARGET (balloon): the host asks for a balloon of pages pages; the
 * configuration shows it, the ISR has its bit and a message comes back
 * exactly when the configuration vector can deliver one (5.5.6, 4.1.4.5). */
static void fuzz_target(uint32_t pages)
{
	struct msi_msg out[VIRTIO_BALLOON_MAX_MSGS];
	uint16_t v = balloon.vp.config_vector;
	bool deliver;
	uint32_t n = ~0u;

	if (fz.kind != FUZZ_BALLOON)
		return;
	deliver = fuzz_can_signal() && v < balloon.vp.msix_count && !fuzz_masked(v);
	virtio_balloon_set_target(&balloon, pages, out, &n);
	fz.target = pages;
	FUZZ_ASSERT(n == (deliver ? 1u : 0u));
	if (n)
		fuzz_check_msg(&out[0], v);
	FUZZ_ASSERT(balloon.vp.isr & VIRTIO_PCI_ISR_CONFIG);
}

/* ---- the driver's side: guest memory and bring-up ---- */

/* OP_POKE: the guest stores value at RAM offset off (any alignment). */
static void fuzz_poke(uint32_t off, uint32_t value)
{
	le_put(ram + off % (FUZZ_RAM_BYTES - 3), value, 4);
}

/* Host pointer to descriptor idx of queue q's table, NULL if the queue
 * is not set up or the slot is not in RAM. */
static uint8_t *fuzz_desc_at(uint16_t q, uint16_t idx)
{
	const struct virtq *vq = &fz.vp->vq[q];

	if (!vq->size)
		return NULL;
	return fuzz_map(NULL, vq->desc_gpa + VIRTQ_DESC_BYTES * (idx % vq->size),
			VIRTQ_DESC_BYTES);
}

/* Write a descriptor (virtio 1.x, 2.6.5) at d. */
static void fuzz_put_desc(uint8_t *d, uint64_t addr, uint32_t len,
			  uint16_t flags, uint16_t next)
{
	le_put(d, addr, 8);
	le_put(d + 8, len, 4);
	le_put(d + 12, flags, 2);
	le_put(d + 14, next, 2);
}

/* OP_DESC: the driver writes descriptor idx of queue (how bit 0)'s table,
 * or with how bit 4 of the indirect table at FUZZ_INDIRECT_GPA: buffer at
 * value & 0xFFFF, length value >> 16, flags how bits 1-3, next. */
static void fuzz_desc(uint8_t how, uint8_t idx, uint8_t next, uint32_t value)
{
	uint8_t *d = how & 0x10 ? ram + FUZZ_INDIRECT_GPA + VIRTQ_DESC_BYTES * idx
			       : fuzz_desc_at(how & 1, idx);

	if (d)
		fuzz_put_desc(d, value & 0xFFFFu, value >> 16, (how >> 1) & 7u, next);
}

/* Host pointer to queue q's available ring (flags, idx, ring, used_event),
 * NULL if the queue is not set up or the ring is not in RAM. */
static uint8_t *fuzz_avail_ring(uint16_t q)
{
	const struct virtq *vq = &fz.vp->vq[q];

	if (!vq->size)
		return NULL;
	return fuzz_map(NULL, vq->avail_gpa, 6u + 2u * vq->size);
}

/* Put head in queue q's available ring and bump its index (2.6.6). */
static void fuzz_publish(uint16_t q, uint16_t head)
{
	uint16_t size = fz.vp->vq[q].size;
	uint8_t *a = fuzz_avail_ring(q);
	uint16_t idx;

	if (!a)
		return;
	idx = (uint16_t)le_get(a + 2, 2);
	le_put(a + 4 + 2u * (idx % size), head, 2);
	le_put(a + 2, (uint16_t)(idx + 1), 2);
}

/* OP_AVAIL: the driver makes head available on queue (how bit 0); how
 * bit 1 keeps head as is instead of reducing it below the size, bit 2
 * sets the flags to NO_INTERRUPT or 0 (bit 3), bit 4 sets used_event to
 * value. */
static void fuzz_avail(uint8_t how, uint16_t head, uint32_t value)
{
	uint16_t q = how & 1, size = fz.vp->vq[q].size;
	uint8_t *a = fuzz_avail_ring(q);

	if (!a)
		return;
	fuzz_publish(q, how & 2 ? head : head % size);
	if (how & 4)
		le_put(a, (how >> 3) & 1u, 2);
	if (how & 0x10)
		le_put(a + 4 + 2u * size, value & 0xFFFFu, 2);
}

/* A buffer of len (at most RAM - FUZZ_BUF_GPA) bytes in OP_CHAIN's area,
 * handed out in turn and wrapping around. */
static uint64_t fuzz_buf(uint32_t len)
{
	uint64_t gpa;

	if (fz.next_buf + len > FUZZ_RAM_BYTES)
		fz.next_buf = FUZZ_BUF_GPA;
	gpa = fz.next_buf;
	fz.next_buf += len;
	return gpa;
}

/* Lay n buffers out as one chain on queue q (descriptors at the next free
 * slots, linked in order) and fill in their host pointers. Returns the
 * head, or -1 if queue q has no descriptor table in RAM. */
static int32_t fuzz_chain_layout(uint16_t q, struct fuzz_seg *s, uint32_t n)
{
	uint16_t size = fz.vp->vq[q].size, head, idx;
	uint64_t gpa;
	uint8_t *d;

	if (!size)
		return -1;
	head = fz.next_desc[q] % size;
	for (uint32_t i = 0; i < n; i++) {
		idx = (uint16_t)((head + i) % size);
		d = fuzz_desc_at(q, idx);
		if (!d)
			return -1;
		gpa = fuzz_buf(s[i].len);
		s[i].host = ram + gpa;
		fuzz_put_desc(d, gpa, s[i].len,
			      (s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
			      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
			      (uint16_t)((idx + 1) % size));
	}
	fz.next_desc[q] = (uint16_t)(head + n);
	return head;
}

/* Make the chain at head available on queue q and kick it. */
static void fuzz_kick(uint16_t q, int32_t head)
{
	if (head < 0)
		return;
	fuzz_publish(q, (uint16_t)head);
	fuzz_io_write(VIRTIO_PCI_REG_QUEUE_NOTIFY, 2, q);
}

/* OP_CHAIN on virtio-blk: a request as Linux's virtio_blk sends it
 * (5.2.6): 16-byte header with type (how bits 0-1, or value's top byte
 * with bit 5) and sector arg, data of value & 7 sectors (any value & 0xFFF
 * bytes with bit 4) in one buffer or two (bit 2), a status byte. */
static void fuzz_blk_chain(uint8_t how, uint16_t arg, uint32_t value)
{
	static const uint32_t types[4] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
					   VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID };
	uint32_t type = how & 0x20 ? value >> 24 : types[how & 3];
	uint32_t data = how & 0x10 ? value & 0xFFFu : 512u * (value & 7u);
	bool in = type != VIRTIO_BLK_T_OUT;
	struct fuzz_seg s[4] = { { VIRTIO_BLK_HDR_BYTES, false, NULL } };
	uint32_t n = 1;
	int32_t head;

	if (data && (how & 4) && data / 2)
		s[n++] = (struct fuzz_seg){ data / 2, in, NULL };
	if (data)
		s[n++] = (struct fuzz_seg){ data - (how & 4 ? data / 2 : 0), in, NULL };
	s[n++] = (struct fuzz_seg){ 1, true, NULL };
	head = fuzz_chain_layout(0, s, n);
	if (head < 0)
		return;
	le_put(s[0].host, type, 4);
	le_put(s[0].host + 4, 0, 4);
	le_put(s[0].host + 8, arg, 8);
	fuzz_kick(0, head);
}

/* OP_CHAIN on virtio-net: on queue 1 (how bit 0) a frame of arg bytes to
 * send (5.1.6.2) after a 10-byte header, in one buffer or two (bit 1),
 * from the guest's MAC to dom0, everyone or an unknown address; on queue
 * 0 a receive buffer of arg bytes. */
static void fuzz_net_chain(uint8_t how, uint16_t arg)
{
	static const uint8_t bcast[VSWITCH_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t len = arg % (VIRTIO_NET_HDR_BYTES + VSWITCH_FRAME_MAX + 16);
	struct fuzz_seg s[2] = { { len, !(how & 1), NULL } };
	uint32_t n = 1;
	uint8_t *frame;
	int32_t head;

	if ((how & 3) == 3 && len > VIRTIO_NET_HDR_BYTES) {
		s[0].len = VIRTIO_NET_HDR_BYTES;
		s[n++] = (struct fuzz_seg){ len - VIRTIO_NET_HDR_BYTES, false, NULL };
	}
	head = fuzz_chain_layout(how & 1, s, n);
	if (head < 0)
		return;
	if ((how & 1) && len >= VIRTIO_NET_HDR_BYTES + 2 * VSWITCH_ETH_ALEN) {
		frame = n == 2 ? s[1].host : s[0].host + VIRTIO_NET_HDR_BYTES;
		memcpy(frame, how & 4 ? bcast : fuzz_dom0_mac, VSWITCH_ETH_ALEN);
		memcpy(frame + VSWITCH_ETH_ALEN, fuzz_mac, VSWITCH_ETH_ALEN);
	}
	fuzz_kick(how & 1, head);
}

/* OP_CHAIN on virtio-balloon: on the inflate or deflate queue (how bit
 * 0) arg % FUZZ_PFN_MAX little-endian PFNs counting up from value (from
 * value & 15, mostly inside guest RAM, without bit 4), so more than one
 * read's worth at times (5.5.6), with how bits 2-3 bytes more (a buffer
 * that is not whole PFNs), in one buffer or (bit 1) split in two at a
 * byte that need not be a PFN boundary. */
static void fuzz_balloon_chain(uint8_t how, uint16_t arg, uint32_t value)
{
	uint32_t count = arg % FUZZ_PFN_MAX, first = how & 0x10 ? value : value & 15u;
	uint32_t len = 4 * count + ((how >> 2) & 3u), cut = len / 3 + ((how >> 5) & 3u);
	struct fuzz_seg s[2] = { { len, false, NULL } };
	uint32_t n = 1;
	int32_t head;

	if ((how & 2) && cut < len) {
		s[0].len = cut;
		s[n++] = (struct fuzz_seg){ len - cut, false, NULL };
	}
	head = fuzz_chain_layout(how & 1, s, n);
	if (head < 0)
		return;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t *p = i < s[0].len ? s[0].host + i : s[1].host + (i - s[0].len);

		*p = i / 4 < count ? (uint8_t)((first + i / 4) >> (8 * (i % 4))) : how;
	}
	fuzz_kick(how & 1, head);
}

/* OP_CHAIN: a well-formed request for the device at hand. */
static void fuzz_chain(uint8_t how, uint16_t arg, uint32_t value)
{
	if (fz.kind == FUZZ_NET)
		fuzz_net_chain(how, arg);
	else if (fz.kind == FUZZ_BALLOON)
		fuzz_balloon_chain(how, arg, value);
	else
		fuzz_blk_chain(how, arg, value);
}

/* MSI-X as Linux's PCI core sets it up: enable, program every entry
 * (masked or not), configuration vector 0. */
static void fuzz_setup_msix(bool masked)
{
	fuzz_cfg_write(FUZZ_MSIX_CTRL, 2, VIRTIO_PCI_MSIX_ENABLE);
	for (uint32_t v = 0; v < fz.vp->msix_count; v++) {
		fuzz_mmio_write(FUZZ_ENTRY(v, 0), 4, FUZZ_MSI_ADDR | v << 12);
		fuzz_mmio_write(FUZZ_ENTRY(v, 1), 4, 0);
		fuzz_mmio_write(FUZZ_ENTRY(v, 2), 4, FUZZ_MSI_DATA + v);
		fuzz_mmio_write(FUZZ_ENTRY(v, 3), 4, masked);
	}
	fuzz_io_write(VIRTIO_PCI_REG_CONFIG_VECTOR, 2, 0);
}

/* OP_SETUP: bring the device up as Linux's virtio_pci_legacy does,
 * through the same checked accesses: bus mastering (how bit 0), reset,
 * ACKNOWLEDGE and DRIVER, the offered features value allows, MSI-X
 * (bit 1; entries masked with bit 2) with queue q on vector q + 1, queue
 * q's ring freshly zeroed at page 1 + 4q of guest RAM, DRIVER_OK (bit 3). */
static void fuzz_setup(uint8_t how, uint32_t value)
{
	const uint32_t ack = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint32_t cmd = fuzz_cfg(0x04, 2) | VIRTIO_PCI_CMD_IO | VIRTIO_PCI_CMD_MEMORY;

	fuzz_cfg_write(0x04, 2, how & 1 ? cmd | VIRTIO_PCI_CMD_MASTER
					: cmd & ~VIRTIO_PCI_CMD_MASTER);
	fuzz_io_write(VIRTIO_PCI_REG_STATUS, 1, 0);
	fuzz_io_write(VIRTIO_PCI_REG_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	fuzz_io_write(VIRTIO_PCI_REG_STATUS, 1, ack);
	fuzz_io_write(VIRTIO_PCI_REG_GUEST_FEATURES, 4,
		      fuzz_peek(VIRTIO_PCI_REG_HOST_FEATURES, 4) & value);
	if (how & 2)
		fuzz_setup_msix(how & 4);
	for (uint32_t q = 0; q < fz.vp->nr_queues; q++) {
		memset(ram + (1 + 4 * q) * VIRTQ_LEGACY_ALIGN, 0,
		       FUZZ_RING_PAGES * VIRTQ_LEGACY_ALIGN);
		fz.next_desc[q] = 0;
		fuzz_io_write(VIRTIO_PCI_REG_QUEUE_SEL, 2, q);
		if (how & 2)
			fuzz_io_write(VIRTIO_PCI_REG_QUEUE_VECTOR, 2, q + 1);
		fuzz_io_write(VIRTIO_PCI_REG_QUEUE_PFN, 4, 1 + 4 * q);
	}
	if (how & 8)
		fuzz_io_write(VIRTIO_PCI_REG_STATUS, 1, ack | VIRTIO_STATUS_DRIVER_OK);
}

/* ---- the target ---- */

/* One operation: op byte, a flags/size byte, a 16-bit offset or
 * argument, a 32-bit value. */
static void fuzz_step(const uint8_t *p)
{
	uint8_t how = p[1], size = fuzz_sizes[how & 7];
	uint16_t arg = (uint16_t)le_get(p + 2, 2);
	uint32_t val = (uint32_t)le_get(p + 4, 4);
	static const uint16_t raise_q[8] = { 0, 1, 2, 3, 4, VIRTIO_PCI_CONFIG_IRQ,
					     VIRTIO_PCI_CONFIG_IRQ, 0x8000 };

	fz.now += 1000;
	switch (p[0] % OP_COUNT) {
	case OP_CFG_READ:
		fuzz_cfg_read(arg & 0x1FFu, (how & 7u) % 5u);
		break;
	case OP_CFG_WRITE:
		fuzz_cfg_write(arg & 0x1FFu, (how & 7u) % 5u, val);
		break;
	case OP_IO_READ:
		fuzz_io_read(arg % VIRTIO_PCI_IO_BAR_BYTES, size);
		break;
	case OP_IO_WRITE:
		fuzz_io_write(arg % VIRTIO_PCI_IO_BAR_BYTES, size, val);
		break;
	case OP_MMIO_READ:
		fuzz_mmio_read(arg % VIRTIO_PCI_MEM_BAR_BYTES, size);
		break;
	case OP_MMIO_WRITE:
		fuzz_mmio_write(arg % VIRTIO_PCI_MEM_BAR_BYTES, size, val);
		break;
	case OP_PROCESS:
		fuzz_process();
		break;
	case OP_RAISE:
		fuzz_raise(how & 8 ? arg : raise_q[how & 7]);
		break;
	case OP_POKE:
		fuzz_poke(arg | (uint32_t)(how & 1) << 16, val);
		break;
	case OP_DESC:
		fuzz_desc(how, p[2], p[3], val);
		break;
	case OP_AVAIL:
		fuzz_avail(how, arg, val);
		break;
	case OP_SETUP:
		fuzz_setup(how, val);
		break;
	case OP_CHAIN:
		fuzz_chain(how, arg, val);
		break;
	case OP_FRAME:
		fuzz_frame(how, val);
		break;
	case OP_LINK:
		fuzz_link(how & 1);
		break;
	default:
		fuzz_target(val);
		break;
	}
}

/* libFuzzer entry point: a device byte, then 8-byte operations. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	if (size < 1)
		return 0;
	fuzz_once();
	fuzz_dev_init((enum fuzz_kind)(data[0] % FUZZ_KINDS));
	fuzz_check_all();
	for (i = 1; i + FUZZ_OP_BYTES <= size; i += FUZZ_OP_BYTES) {
		fuzz_step(data + i);
		fuzz_check_all();
	}
	if (fz.kind == FUZZ_BLK_RAM)
		ramdisk_dirty = blk.stats.writes != 0;
	return 0;
}
