/*
 * Unit tests for hypervisor/devices/virtio_blk.c on the real transport
 * (virtio_pci.c) and ring code (virtq.c), with a fake guest RAM made of
 * separately allocated 2 MiB chunks (so a buffer crossing a guest chunk
 * is not contiguous on the host). A driver written here programs the
 * device through its PCI configuration space, MSI-X table and legacy I/O
 * registers the way Linux's virtio_pci_legacy and virtio_blk do, builds
 * request chains in a legacy split ring and kicks. Checked: identity,
 * features and configuration, reads of a shared read-only image across
 * disk and guest chunk boundaries, RAM disk writes, RO rejection, GET_ID,
 * FLUSH, out-of-range, badly sized and unknown requests, chains that
 * break the device (no status byte, short header, a buffer outside RAM,
 * a descriptor loop, a runaway avail index) and recovery by reset, the
 * used ring, MSI messages and their suppression, DRIVER_OK gating, the
 * per-call budget, counters, and image references.
 */
#include "../../hypervisor/common/disk.c"
#include "../../hypervisor/common/virtq.c"
#include "../../hypervisor/devices/virtio_pci.c"
#include "../../hypervisor/devices/virtio_blk.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- fake host chunk allocator for disk images ---- */

static uint32_t chunks_live;

static uint64_t fake_alloc(void *ctx)
{
	void *p = aligned_alloc(4096, DISK_CHUNK_BYTES);

	(void)ctx;
	if (!p)
		return 0;
	memset(p, 0, DISK_CHUNK_BYTES);
	chunks_live++;
	return (uint64_t)(uintptr_t)p;
}

static void fake_free(void *ctx, uint64_t pa)
{
	(void)ctx;
	chunks_live--;
	free((void *)(uintptr_t)pa);
}

static void *fake_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

static const struct disk_mem_ops dops = { fake_alloc, fake_free, fake_p2v,
					  NULL };

/* ---- fake guest RAM: GUEST_CHUNKS separate 2 MiB host blocks ---- */

#define GUEST_CHUNKS 16u
#define GUEST_BYTES ((uint64_t)GUEST_CHUNKS * VIRTQ_CHUNK_BYTES)

static uint8_t *guest_chunk[GUEST_CHUNKS];
static uint32_t bad_maps; /* map calls that had to be refused */

static void *guest_map(void *ctx, uint64_t gpa, uint32_t len)
{
	(void)ctx;
	if (gpa >= GUEST_BYTES || len > GUEST_BYTES - gpa ||
	    (gpa & ~(uint64_t)(VIRTQ_CHUNK_BYTES - 1)) !=
		    ((gpa + (len ? len - 1 : 0)) &
		     ~(uint64_t)(VIRTQ_CHUNK_BYTES - 1))) {
		bad_maps++;
		return NULL;
	}
	return guest_chunk[gpa / VIRTQ_CHUNK_BYTES] +
	       (gpa % VIRTQ_CHUNK_BYTES);
}

static const struct guest_mem_ops gmem = { guest_map, NULL };

/* Test-side access to guest RAM, any range inside it. */
static void gcopy(uint64_t gpa, void *buf, uint64_t len, bool to_guest)
{
	uint8_t *b = buf;

	while (len) {
		uint64_t n = VIRTQ_CHUNK_BYTES - gpa % VIRTQ_CHUNK_BYTES;
		uint8_t *p = guest_chunk[gpa / VIRTQ_CHUNK_BYTES] +
			     gpa % VIRTQ_CHUNK_BYTES;

		if (n > len)
			n = len;
		if (to_guest)
			memcpy(p, b, n);
		else
			memcpy(b, p, n);
		gpa += n;
		b += n;
		len -= n;
	}
}

static void gw(uint64_t gpa, const void *buf, uint64_t len)
{
	gcopy(gpa, (void *)buf, len, true);
}

static void gr(uint64_t gpa, void *buf, uint64_t len)
{
	gcopy(gpa, buf, len, false);
}

static void gw16(uint64_t gpa, uint16_t v) { gw(gpa, &v, 2); }
static void gw32(uint64_t gpa, uint32_t v) { gw(gpa, &v, 4); }
static void gw64(uint64_t gpa, uint64_t v) { gw(gpa, &v, 8); }
static uint16_t gr16(uint64_t gpa) { uint16_t v; gr(gpa, &v, 2); return v; }
static uint32_t gr32(uint64_t gpa) { uint32_t v; gr(gpa, &v, 4); return v; }
static uint8_t gr8(uint64_t gpa) { uint8_t v; gr(gpa, &v, 1); return v; }

static void guest_init(void)
{
	uint32_t i;

	for (i = 0; i < GUEST_CHUNKS; i++) {
		guest_chunk[i] = aligned_alloc(4096, VIRTQ_CHUNK_BYTES);
		memset(guest_chunk[i], 0, VIRTQ_CHUNK_BYTES);
	}
}

static void guest_fini(void)
{
	uint32_t i;

	for (i = 0; i < GUEST_CHUNKS; i++)
		free(guest_chunk[i]);
}

/* ---- the driver ---- */

#define IO_BAR 0xC040u
#define MEM_BAR 0xFEB00000u
#define RING_GPA 0x10000ull  /* ring at PFN 0x10 */
#define HDR_GPA 0x20000ull   /* request headers, 16 bytes each */
#define STATUS_GPA 0x28000ull /* status bytes */
#define DATA_GPA 0x30000ull
#define MSI_ADDR 0xFEE01000u /* APIC ID 1 */
#define MSI_CFG_DATA 0x41u
#define MSI_Q_DATA 0x42u

struct drv {
	struct virtio_blk *b;
	uint16_t qsize;
	uint16_t avail_idx; /* driver's next avail index */
	uint16_t next_desc; /* next free descriptor (simple bump) */
	uint16_t used_seen;
	bool msix;
	uint64_t desc, avail, used;
};

static uint32_t io_rd(struct drv *d, uint32_t reg, uint8_t size)
{
	return virtio_pci_io_read(&d->b->vp, (uint16_t)(IO_BAR + reg), size);
}

static void io_wr(struct drv *d, uint32_t reg, uint8_t size, uint32_t v)
{
	CHECK(virtio_pci_io_hit(&d->b->vp, (uint16_t)(IO_BAR + reg)));
	virtio_pci_io_write(&d->b->vp, (uint16_t)(IO_BAR + reg), size, v);
}

static uint32_t dev_cfg_off(struct drv *d)
{
	return d->msix ? VIRTIO_PCI_CONFIG_OFF_MSIX
		       : VIRTIO_PCI_CONFIG_OFF_NOMSIX;
}

static uint32_t cfg_rd(struct drv *d, uint32_t off, uint8_t size)
{
	return io_rd(d, dev_cfg_off(d) + off, size);
}

/* MSI-X setup as Linux does it: enable in the capability, fill entries
 * 0 (config) and 1 (queue 0), unmask, assign the vectors. */
static void drv_msix(struct drv *d)
{
	struct virtio_pci *vp = &d->b->vp;
	uint32_t ctrl = virtio_pci_cfg_read(vp, VIRTIO_PCI_MSIX_CAP_OFF, 4);

	virtio_pci_cfg_write(vp, VIRTIO_PCI_MSIX_CAP_OFF, 4,
			     ctrl | (uint32_t)VIRTIO_PCI_MSIX_ENABLE << 16);
	for (uint32_t v = 0; v < 2; v++) {
		uint64_t e = MEM_BAR + v * 16;

		virtio_pci_mmio_write(vp, e + 0, 4, MSI_ADDR);
		virtio_pci_mmio_write(vp, e + 4, 4, 0);
		virtio_pci_mmio_write(vp, e + 8, 4,
				      v ? MSI_Q_DATA : MSI_CFG_DATA);
		virtio_pci_mmio_write(vp, e + 12, 4, 0);
	}
	d->msix = true;
	io_wr(d, VIRTIO_PCI_REG_CONFIG_VECTOR, 2, 0);
	CHECK_EQ_U64(io_rd(d, VIRTIO_PCI_REG_CONFIG_VECTOR, 2), 0);
}

/* Bring the device up: reset, ACK, DRIVER, features (masked by want),
 * MSI-X (if msix), queue 0, DRIVER_OK (if ok). */
static void drv_setup(struct drv *d, struct virtio_blk *b, uint32_t want,
		      bool msix, bool ok)
{
	uint32_t cmd, host;
	uint64_t avail_end;

	memset(d, 0, sizeof(*d));
	d->b = b;
	cmd = virtio_pci_cfg_read(&b->vp, 0x04, 2);
	virtio_pci_cfg_write(&b->vp, 0x04, 2,
			     cmd | VIRTIO_PCI_CMD_MASTER | VIRTIO_PCI_CMD_IO);
	io_wr(d, VIRTIO_PCI_REG_STATUS, 1, 0);
	io_wr(d, VIRTIO_PCI_REG_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	io_wr(d, VIRTIO_PCI_REG_STATUS, 1,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	host = io_rd(d, VIRTIO_PCI_REG_HOST_FEATURES, 4);
	io_wr(d, VIRTIO_PCI_REG_GUEST_FEATURES, 4, host & want);
	if (msix)
		drv_msix(d);
	io_wr(d, VIRTIO_PCI_REG_QUEUE_SEL, 2, 0);
	d->qsize = (uint16_t)io_rd(d, VIRTIO_PCI_REG_QUEUE_SIZE, 2);
	if (msix) {
		io_wr(d, VIRTIO_PCI_REG_QUEUE_VECTOR, 2, 1);
		CHECK_EQ_U64(io_rd(d, VIRTIO_PCI_REG_QUEUE_VECTOR, 2), 1);
	}
	/* Clear the ring area and lay it out as vring_init does. */
	for (uint64_t a = RING_GPA; a < RING_GPA + 0x8000; a += 8)
		gw64(a, 0);
	d->desc = RING_GPA;
	d->avail = RING_GPA + 16ull * d->qsize;
	avail_end = d->avail + 4 + 2ull * d->qsize + 2;
	d->used = (avail_end + 4095) & ~4095ull;
	io_wr(d, VIRTIO_PCI_REG_QUEUE_PFN, 4, (uint32_t)(RING_GPA >> 12));
	if (ok)
		io_wr(d, VIRTIO_PCI_REG_STATUS, 1,
		      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_DRIVER_OK);
}

static void drv_driver_ok(struct drv *d)
{
	io_wr(d, VIRTIO_PCI_REG_STATUS, 1,
	      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		      VIRTIO_STATUS_DRIVER_OK);
}

/* One buffer of a chain being built. */
struct buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static void put_desc(struct drv *d, uint16_t i, uint64_t gpa, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint64_t a = d->desc + 16ull * i;

	gw64(a, gpa);
	gw32(a + 8, len);
	gw16(a + 12, flags);
	gw16(a + 14, next);
}

/* Put n buffers as a descriptor chain and make it available (no kick).
 * Returns the head. */
static uint16_t drv_add(struct drv *d, const struct buf *bufs, uint32_t n)
{
	uint16_t head = d->next_desc;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % d->qsize);
		uint16_t flags = bufs[i].write ? VIRTQ_DESC_F_WRITE : 0;

		if (i + 1 < n)
			flags |= VIRTQ_DESC_F_NEXT;
		put_desc(d, idx, bufs[i].gpa, bufs[i].len, flags,
			 (uint16_t)((idx + 1) % d->qsize));
	}
	d->next_desc = (uint16_t)((head + n) % d->qsize);
	gw16(d->avail + 4 + 2ull * (d->avail_idx % d->qsize), head);
	d->avail_idx++;
	gw16(d->avail + 2, d->avail_idx);
	return head;
}

static void drv_kick(struct drv *d)
{
	io_wr(d, VIRTIO_PCI_REG_QUEUE_NOTIFY, 2, 0);
}

static struct msi_msg msgs[VIRTIO_BLK_MAX_MSGS];
static uint32_t nmsgs;

static int run(struct drv *d)
{
	memset(msgs, 0, sizeof(msgs));
	return virtio_blk_process(d->b, &gmem, msgs, &nmsgs);
}

static int kick_run(struct drv *d)
{
	drv_kick(d);
	return run(d);
}

static uint16_t used_idx(struct drv *d)
{
	return gr16(d->used + 2);
}

static uint32_t used_id(struct drv *d, uint16_t n)
{
	return gr32(d->used + 4 + 8ull * (n % d->qsize));
}

static uint32_t used_len(struct drv *d, uint16_t n)
{
	return gr32(d->used + 4 + 8ull * (n % d->qsize) + 4);
}

/* Write request header slot k (16 bytes at HDR_GPA + 16k). */
static uint64_t hdr(uint32_t k, uint32_t type, uint64_t sector)
{
	uint64_t a = HDR_GPA + 16ull * k;

	gw32(a, type);
	gw32(a + 4, 0);
	gw64(a + 8, sector);
	return a;
}

/* Status slot k, preset to 0xEE so an unwritten status shows. */
static uint64_t st(uint32_t k)
{
	uint64_t a = STATUS_GPA + k;
	uint8_t v = 0xEE;

	gw(a, &v, 1);
	return a;
}

/* Submit one simple request (header, optional data, status), kick, run.
 * Returns the status byte. */
static uint8_t req(struct drv *d, uint32_t type, uint64_t sector,
		   uint64_t data, uint32_t len)
{
	struct buf bufs[3];
	uint32_t n = 0;

	bufs[n++] = (struct buf){ hdr(0, type, sector), 16, false };
	if (len)
		bufs[n++] = (struct buf){ data, len,
					  type != VIRTIO_BLK_T_OUT };
	bufs[n++] = (struct buf){ st(0), 1, true };
	drv_add(d, bufs, n);
	CHECK_EQ_INT(kick_run(d), 0);
	return gr8(STATUS_GPA);
}

/* ---- images ---- */

static struct disk_registry reg;

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 13 + (off >> 9) * 3 + 5);
}

/* A complete read-only image "name" of bytes filled with pat(). */
static struct disk_image *make_image(const char *name, uint64_t bytes)
{
	static uint8_t piece[DISK_UPLOAD_PIECE_BYTES];
	struct disk_image *img = NULL;
	uint64_t off;

	CHECK_EQ_INT(disk_registry_create(&reg, name, bytes, &img), 0);
	for (off = 0; off < bytes; off += sizeof(piece)) {
		uint64_t n = bytes - off < sizeof(piece) ? bytes - off
							 : sizeof(piece);

		for (uint64_t i = 0; i < n; i++)
			piece[i] = pat(off + i);
		CHECK_EQ_INT(disk_image_upload(img, off, piece, n), 0);
	}
	CHECK_EQ_INT(disk_image_complete(img), 0);
	return img;
}

static bool all_zero(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool guest_has_pat(uint64_t gpa, uint64_t disk_off, uint64_t len)
{
	uint8_t *buf = malloc(len);
	bool ok = true;

	gr(gpa, buf, len);
	for (uint64_t i = 0; i < len && ok; i++)
		ok = buf[i] == pat(disk_off + i);
	free(buf);
	return ok;
}

/* ---- tests ---- */

static const uint32_t all_features = 0xFFFFFFFFu;
static const uint32_t no_event_idx =
	~(1u << VIRTIO_RING_F_EVENT_IDX);

static void test_identity_config(void)
{
	struct virtio_blk b;
	struct disk_image *img, *ram = NULL, *g = NULL;
	struct drv d;
	uint32_t host;

	img = make_image("root", 3 * DISK_CHUNK_BYTES + 700);
	CHECK_EQ_INT(disk_registry_open(&reg, "root", &g), 0);
	CHECK_EQ_INT(virtio_blk_init(&b, g, NULL, IO_BAR, MEM_BAR), 0);
	CHECK_EQ_U64(virtio_pci_cfg_read(&b.vp, 0, 4), 0x10011AF4u);
	CHECK_EQ_U64(virtio_pci_cfg_read(&b.vp, 0x2E, 2), 2);
	CHECK_EQ_U64(virtio_pci_cfg_read(&b.vp, 0x08, 1), 0); /* revision */
	drv_setup(&d, &b, all_features, false, false);
	host = io_rd(&d, VIRTIO_PCI_REG_HOST_FEATURES, 4);
	CHECK(host & (1u << VIRTIO_BLK_F_RO));
	CHECK(host & (1u << VIRTIO_BLK_F_SEG_MAX));
	CHECK(host & (1u << VIRTIO_BLK_F_BLK_SIZE));
	CHECK(host & (1u << VIRTIO_BLK_F_FLUSH));
	CHECK(host & (1u << VIRTIO_BLK_F_SIZE_MAX));
	CHECK(!(host & (1u << 0))); /* no barriers */
	CHECK(!(host & (1u << 7))); /* no SCSI */
	CHECK_EQ_U64(d.qsize, VIRTIO_BLK_QUEUE_SIZE);
	/* Without MSI-X the config starts at 20. */
	CHECK_EQ_U64(cfg_rd(&d, 0, 4), (3 * DISK_CHUNK_BYTES) / 512 + 2);
	CHECK_EQ_U64(cfg_rd(&d, 4, 4), 0);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BLK_CFG_SIZE_MAX, 4), VIRTIO_BLK_SIZE_MAX);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BLK_CFG_SEG_MAX, 4), VIRTIO_BLK_SEG_MAX);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BLK_CFG_HEADS, 1), 16);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BLK_CFG_SECTORS, 1), 63);
	/* Chain limits: what is advertised fits the ring code. */
	CHECK((VIRTIO_BLK_SEG_MAX + 2) * 2 <= VIRTQ_MAX_SEGS);
	CHECK((uint64_t)VIRTIO_BLK_SEG_MAX * VIRTIO_BLK_SIZE_MAX + 17 <=
	      VIRTQ_MAX_CHAIN_BYTES);
	/* With MSI-X the config moves to 24. */
	drv_msix(&d);
	CHECK_EQ_U64(cfg_rd(&d, 0, 4), (3 * DISK_CHUNK_BYTES) / 512 + 2);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BLK_CFG_BLK_SIZE, 2), 512);
	/* Writes to the config change nothing; reads past it are 0. */
	io_wr(&d, dev_cfg_off(&d), 4, 0x12345678);
	CHECK_EQ_U64(cfg_rd(&d, 0, 4), (3 * DISK_CHUNK_BYTES) / 512 + 2);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BLK_CONFIG_BYTES - 4, 4), 0);
	virtio_blk_destroy(&b);

	/* A RAM disk: writable, no RO bit. */
	CHECK_EQ_INT(disk_registry_create_ram(&reg, 1 << 20, &ram), 0);
	CHECK_EQ_INT(virtio_blk_init(&b, ram, NULL, IO_BAR, MEM_BAR), 0);
	drv_setup(&d, &b, all_features, true, false);
	CHECK(!(io_rd(&d, VIRTIO_PCI_REG_HOST_FEATURES, 4) &
		(1u << VIRTIO_BLK_F_RO)));
	CHECK_EQ_U64(cfg_rd(&d, 0, 4), 2048);
	virtio_blk_destroy(&b);

	/* An image still being uploaded cannot back a device. */
	CHECK_EQ_INT(disk_registry_create(&reg, "partial", 4096, &g), 0);
	memset(&b, 0x5A, sizeof(b));
	CHECK_EQ_INT(virtio_blk_init(&b, g, NULL, IO_BAR, MEM_BAR), -EBUSY);
	CHECK_EQ_U64(g->refs, 1);
	CHECK_EQ_INT(disk_registry_remove(&reg, "partial"), 0);
	(void)img;
	CHECK_EQ_INT(disk_registry_remove(&reg, "root"), 0);
	CHECK_EQ_U64(chunks_live, 0);
}

/* Reads from a shared image across its chunk boundaries into guest
 * buffers crossing guest chunks; the used ring and the MSI message. */
static void test_read_image(void)
{
	struct virtio_blk b;
	struct disk_image *g = NULL;
	struct drv d;
	const uint64_t sect = (DISK_CHUNK_BYTES - 4096) / 512;
	const uint64_t data = 2 * VIRTQ_CHUNK_BYTES - 2048; /* crosses */
	struct buf bufs[4];
	uint16_t head;

	make_image("sq", 2 * DISK_CHUNK_BYTES + 8192);
	CHECK_EQ_INT(disk_registry_open(&reg, "sq", &g), 0);
	CHECK_EQ_INT(virtio_blk_init(&b, g, NULL, IO_BAR, MEM_BAR), 0);
	drv_setup(&d, &b, no_event_idx, true, true);

	/* 12 KiB from 4 KiB before the first disk chunk end, in two data
	 * descriptors the second of which crosses a guest chunk. */
	bufs[0] = (struct buf){ hdr(0, VIRTIO_BLK_T_IN, sect), 16, false };
	bufs[1] = (struct buf){ DATA_GPA, 4096, true };
	bufs[2] = (struct buf){ data, 8192, true };
	bufs[3] = (struct buf){ st(0), 1, true };
	head = drv_add(&d, bufs, 4);
	CHECK_EQ_INT(kick_run(&d), 0);
	CHECK_EQ_U64(gr8(STATUS_GPA), VIRTIO_BLK_S_OK);
	CHECK(guest_has_pat(DATA_GPA, sect * 512, 4096));
	CHECK(guest_has_pat(data, sect * 512 + 4096, 8192));
	CHECK_EQ_U64(used_idx(&d), 1);
	CHECK_EQ_U64(used_id(&d, 0), head);
	CHECK_EQ_U64(used_len(&d, 0), 4096 + 8192 + 1);
	CHECK_EQ_U64(nmsgs, 1);
	CHECK_EQ_U64(msgs[0].address, MSI_ADDR);
	CHECK_EQ_U64(msgs[0].data, MSI_Q_DATA);
	CHECK_EQ_U64(b.stats.reads, 1);
	CHECK_EQ_U64(b.stats.read_bytes, 12288);
	CHECK_EQ_U64(b.stats.errors, 0);
	/* The ISR shows the queue interrupt and clears on read. */
	CHECK_EQ_U64(io_rd(&d, VIRTIO_PCI_REG_ISR, 1), VIRTIO_PCI_ISR_QUEUE);
	CHECK_EQ_U64(io_rd(&d, VIRTIO_PCI_REG_ISR, 1), 0);

	/* The last sector of the disk reads fine; the image's size is a
	 * whole number of sectors here. */
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, (2 * DISK_CHUNK_BYTES + 8192) / 512
			 - 1, DATA_GPA, 512), VIRTIO_BLK_S_OK);
	CHECK(guest_has_pat(DATA_GPA, 2 * DISK_CHUNK_BYTES + 7680, 512));
	/* Kicking with nothing new does nothing. */
	CHECK_EQ_INT(kick_run(&d), 0);
	CHECK_EQ_U64(nmsgs, 0);
	CHECK_EQ_U64(used_idx(&d), 2);
	/* Without a kick nothing is looked at. */
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(b.stats.reads, 2);

	/* The driver asks for no interrupts: none comes. */
	gw16(d.avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512),
		     VIRTIO_BLK_S_OK);
	CHECK_EQ_U64(nmsgs, 0);
	CHECK_EQ_U64(used_idx(&d), 3);
	gw16(d.avail, 0);
	/* A masked vector latches; unmasking releases the message. */
	virtio_pci_mmio_write(&b.vp, MEM_BAR + 16 + 12, 4, 1);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512),
		     VIRTIO_BLK_S_OK);
	CHECK_EQ_U64(nmsgs, 0);
	virtio_pci_mmio_write(&b.vp, MEM_BAR + 16 + 12, 4, 0);
	CHECK(virtio_pci_take_msg(&b.vp, &msgs[0]));
	CHECK_EQ_U64(msgs[0].data, MSI_Q_DATA);
	virtio_blk_destroy(&b);
	CHECK_EQ_INT(disk_registry_remove(&reg, "sq"), 0);
	CHECK_EQ_U64(chunks_live, 0);
}

static void test_ram_write(void)
{
	struct virtio_blk b;
	struct disk_image *ram = NULL;
	struct drv d;
	uint8_t buf[8192], back[8192];
	uint64_t sect = DISK_CHUNK_BYTES / 512 - 8; /* 4 KiB before end */
	const uint64_t data = VIRTQ_CHUNK_BYTES - 1024; /* crosses */

	CHECK_EQ_INT(disk_registry_create_ram(&reg, 4 * DISK_CHUNK_BYTES, &ram),
		     0);
	CHECK_EQ_INT(virtio_blk_init(&b, ram, NULL, IO_BAR, MEM_BAR), 0);
	drv_setup(&d, &b, all_features, true, true);
	for (uint32_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	gw(data, buf, sizeof(buf));
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_OUT, sect, data, sizeof(buf)),
		     VIRTIO_BLK_S_OK);
	CHECK_EQ_U64(used_len(&d, 0), 1); /* only the status byte */
	CHECK_EQ_INT(disk_image_read(ram, sect * 512, back, sizeof(back)), 0);
	CHECK(memcmp(buf, back, sizeof(buf)) == 0);
	CHECK_EQ_U64(b.stats.writes, 1);
	CHECK_EQ_U64(b.stats.write_bytes, 8192);
	/* Read it back through the device. */
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, sect + 2, DATA_GPA, 4096),
		     VIRTIO_BLK_S_OK);
	gr(DATA_GPA, back, 4096);
	CHECK(memcmp(buf + 1024, back, 4096) == 0);
	/* The last sector is writable, the next is not. */
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_OUT, 4 * DISK_CHUNK_BYTES / 512 - 1,
			 data, 512), VIRTIO_BLK_S_OK);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_OUT, 4 * DISK_CHUNK_BYTES / 512 - 1,
			 data, 1024), VIRTIO_BLK_S_IOERR);
	CHECK_EQ_U64(b.stats.errors, 1);
	/* T_OUT with a device-writable buffer besides the status, or data
	 * not a whole number of sectors: IOERR, the disk unchanged. */
	{
		struct buf bufs[4] = {
			{ hdr(0, VIRTIO_BLK_T_OUT, 0), 16, false },
			{ data, 512, false },
			{ DATA_GPA, 512, true },
			{ st(0), 1, true },
		};

		drv_add(&d, bufs, 4);
		CHECK_EQ_INT(kick_run(&d), 0);
		CHECK_EQ_U64(gr8(STATUS_GPA), VIRTIO_BLK_S_IOERR);
	}
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_OUT, 0, data, 700),
		     VIRTIO_BLK_S_IOERR);
	CHECK_EQ_INT(disk_image_read(ram, 0, back, 1024), 0);
	CHECK(all_zero(back, 1024));
	CHECK_EQ_U64(b.stats.errors, 3);
	CHECK_EQ_U64(b.stats.writes, 2);
	/* FLUSH: header and status only. */
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	CHECK_EQ_U64(b.stats.flushes, 1);
	/* FLUSH with a data buffer is malformed. */
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_FLUSH, 0, DATA_GPA, 512),
		     VIRTIO_BLK_S_IOERR);
	/* GET_ID of a RAM disk. */
	memset(back, 0xAA, 32);
	gw(DATA_GPA, back, 32);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 20),
		     VIRTIO_BLK_S_OK);
	gr(DATA_GPA, back, 21);
	CHECK(memcmp(back, "keel-ram\0\0\0\0\0\0\0\0\0\0\0\0", 20) == 0);
	CHECK_EQ_U64(back[20], 0xAA); /* status lives elsewhere */
	CHECK_EQ_U64(used_len(&d, (uint16_t)(used_idx(&d) - 1)), 21);
	virtio_blk_destroy(&b);
	CHECK_EQ_U64(chunks_live, 0); /* the device held the last reference */
}

static void test_ro_get_id_errors(void)
{
	struct virtio_blk b;
	struct disk_image *g = NULL;
	struct drv d;
	uint8_t before[512], after[512], id[21];
	const uint64_t cap = 4096 / 512;
	uint64_t errors;

	make_image("debian-12-generic-amd64.squashfs", 4096);
	CHECK_EQ_INT(disk_registry_open(&reg, "debian-12-generic-amd64.squashfs",
					&g), 0);
	CHECK_EQ_INT(virtio_blk_init(&b, g, NULL, IO_BAR, MEM_BAR), 0);
	drv_setup(&d, &b, all_features, true, true);

	/* A write to a read-only image fails and changes nothing. */
	CHECK_EQ_INT(disk_image_read(g, 0, before, 512), 0);
	memset(after, 0x77, sizeof(after));
	gw(DATA_GPA, after, 512);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512),
		     VIRTIO_BLK_S_IOERR);
	CHECK_EQ_INT(disk_image_read(g, 0, after, 512), 0);
	CHECK(memcmp(before, after, 512) == 0);
	CHECK_EQ_U64(b.stats.writes, 0);
	CHECK_EQ_U64(b.stats.errors, 1);
	CHECK_EQ_U64(used_len(&d, 0), 1);

	/* GET_ID: "keel-" + name, cut at 20 bytes, no NUL. */
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 20),
		     VIRTIO_BLK_S_OK);
	gr(DATA_GPA, id, 20);
	CHECK(memcmp(id, "keel-debian-12-gener", 20) == 0);
	CHECK_EQ_U64(b.stats.get_ids, 1);
	/* A shorter buffer gets what fits. */
	memset(id, 0, sizeof(id));
	gw(DATA_GPA, id, 21);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 4),
		     VIRTIO_BLK_S_OK);
	gr(DATA_GPA, id, 5);
	CHECK(memcmp(id, "keel\0", 5) == 0);

	errors = b.stats.errors;
	/* Out of range: at, across and far beyond the end. */
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, cap, DATA_GPA, 512),
		     VIRTIO_BLK_S_IOERR);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, cap - 1, DATA_GPA, 1024),
		     VIRTIO_BLK_S_IOERR);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, UINT64_MAX, DATA_GPA, 512),
		     VIRTIO_BLK_S_IOERR);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, DATA_GPA,
			 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_OUT, UINT64_MAX - 1, DATA_GPA, 512),
		     VIRTIO_BLK_S_IOERR);
	/* Data not a whole number of sectors. */
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, 0, DATA_GPA, 1000),
		     VIRTIO_BLK_S_IOERR);
	/* T_IN with device-readable data after the header. */
	{
		struct buf bufs[3] = {
			{ hdr(0, VIRTIO_BLK_T_IN, 0), 16, false },
			{ DATA_GPA, 512, false },
			{ st(0), 1, true },
		};

		drv_add(&d, bufs, 3);
		CHECK_EQ_INT(kick_run(&d), 0);
		CHECK_EQ_U64(gr8(STATUS_GPA), VIRTIO_BLK_S_IOERR);
	}
	CHECK_EQ_U64(b.stats.errors, errors + 7);
	/* Unknown and legacy SCSI types: UNSUPP. */
	CHECK_EQ_U64(req(&d, 99, 0, 0, 0), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ_U64(req(&d, 2, 0, DATA_GPA, 512), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ_U64(b.stats.unsupported, 2);
	CHECK_EQ_U64(b.stats.reads, 0);
	CHECK(!b.broken);
	/* Every request got its used element, in order. */
	CHECK_EQ_U64(used_idx(&d), 12);
	virtio_blk_destroy(&b);
	CHECK_EQ_INT(disk_registry_remove(&reg,
					  "debian-12-generic-amd64.squashfs"), 0);
	CHECK_EQ_U64(chunks_live, 0);
}

/* Bring a fresh device on a RAM disk up for the broken-chain tests. */
static void broken_setup(struct virtio_blk *b, struct drv *d)
{
	struct disk_image *ram = NULL;

	CHECK_EQ_INT(disk_registry_create_ram(&reg, 1 << 20, &ram), 0);
	CHECK_EQ_INT(virtio_blk_init(b, ram, NULL, IO_BAR, MEM_BAR), 0);
	drv_setup(d, b, no_event_idx, true, true);
}

/* After a break: -EIO, a config interrupt, later kicks ignored, and a
 * reset plus new setup brings the device back. */
static void expect_broken(struct virtio_blk *b, struct drv *d, int rc)
{
	uint64_t used = used_idx(d);

	CHECK_EQ_INT(rc, -EIO);
	CHECK(b->broken);
	CHECK_EQ_U64(b->stats.broken, 1);
	CHECK(nmsgs >= 1);
	CHECK_EQ_U64(msgs[nmsgs - 1].data, MSI_CFG_DATA);
	CHECK(io_rd(d, VIRTIO_PCI_REG_ISR, 1) & VIRTIO_PCI_ISR_CONFIG);
	/* Further requests are left alone. */
	hdr(1, VIRTIO_BLK_T_FLUSH, 0);
	{
		struct buf bufs[2] = { { HDR_GPA + 16, 16, false },
				       { st(1), 1, true } };

		drv_add(d, bufs, 2);
	}
	CHECK_EQ_INT(kick_run(d), -EIO);
	CHECK_EQ_U64(used_idx(d), used);
	CHECK_EQ_U64(gr8(STATUS_GPA + 1), 0xEE);
	/* Reset and set up again: works. */
	drv_setup(d, b, no_event_idx, true, true);
	CHECK(!b->broken);
	CHECK_EQ_U64(req(d, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	CHECK_EQ_U64(used_idx(d), 1);
	virtio_blk_destroy(b);
	CHECK_EQ_U64(chunks_live, 0);
}

static void test_broken_chains(void)
{
	struct virtio_blk b;
	struct drv d;

	/* No device-writable byte: nowhere to put a status. */
	broken_setup(&b, &d);
	{
		struct buf bufs[2] = { { hdr(0, VIRTIO_BLK_T_IN, 0), 16, false },
				       { DATA_GPA, 512, false } };
		uint16_t head = drv_add(&d, bufs, 2);
		int rc = kick_run(&d);

		CHECK_EQ_U64(used_idx(&d), 1); /* handed back, 0 bytes */
		CHECK_EQ_U64(used_id(&d, 0), head);
		CHECK_EQ_U64(used_len(&d, 0), 0);
		CHECK_EQ_U64(nmsgs, 2);
		CHECK_EQ_U64(msgs[0].data, MSI_Q_DATA);
		expect_broken(&b, &d, rc);
	}
	/* A header shorter than 16 bytes. */
	broken_setup(&b, &d);
	{
		struct buf bufs[2] = { { hdr(0, VIRTIO_BLK_T_IN, 0), 8, false },
				       { st(0), 1, true } };

		int rc;

		drv_add(&d, bufs, 2);
		rc = kick_run(&d);
		CHECK_EQ_U64(gr8(STATUS_GPA), 0xEE);
		CHECK_EQ_U64(used_len(&d, 0), 0);
		expect_broken(&b, &d, rc);
	}
	/* A buffer outside guest RAM: rejected by the ring code. */
	broken_setup(&b, &d);
	{
		struct buf bufs[3] = {
			{ hdr(0, VIRTIO_BLK_T_IN, 0), 16, false },
			{ GUEST_BYTES - 512, 1024, true },
			{ st(0), 1, true },
		};

		bad_maps = 0;
		drv_add(&d, bufs, 3);
		expect_broken(&b, &d, kick_run(&d));
		CHECK(bad_maps > 0);
	}
	/* A wrapping address. */
	broken_setup(&b, &d);
	{
		struct buf bufs[3] = {
			{ hdr(0, VIRTIO_BLK_T_IN, 0), 16, false },
			{ UINT64_MAX - 100, 512, true },
			{ st(0), 1, true },
		};

		drv_add(&d, bufs, 3);
		expect_broken(&b, &d, kick_run(&d));
	}
	/* A descriptor loop. */
	broken_setup(&b, &d);
	{
		put_desc(&d, 0, hdr(0, VIRTIO_BLK_T_IN, 0), 16,
			 VIRTQ_DESC_F_NEXT, 1);
		put_desc(&d, 1, DATA_GPA, 512, VIRTQ_DESC_F_NEXT |
			 VIRTQ_DESC_F_WRITE, 1);
		gw16(d.avail + 4, 0);
		gw16(d.avail + 2, 1);
		expect_broken(&b, &d, kick_run(&d));
	}
	/* The available index runs far ahead of the queue size. */
	broken_setup(&b, &d);
	{
		gw16(d.avail + 2, (uint16_t)(d.qsize + 5));
		expect_broken(&b, &d, kick_run(&d));
	}
	/* A head index beyond the table. */
	broken_setup(&b, &d);
	{
		gw16(d.avail + 4, (uint16_t)(d.qsize + 1));
		gw16(d.avail + 2, 1);
		expect_broken(&b, &d, kick_run(&d));
	}
}

/* Nothing is served before DRIVER_OK; the kick is remembered. */
static void test_driver_ok_gate(void)
{
	struct virtio_blk b;
	struct disk_image *ram = NULL;
	struct drv d;

	CHECK_EQ_INT(disk_registry_create_ram(&reg, 1 << 20, &ram), 0);
	CHECK_EQ_INT(virtio_blk_init(&b, ram, NULL, IO_BAR, MEM_BAR), 0);
	drv_setup(&d, &b, all_features, true, false);
	{
		struct buf bufs[2] = { { hdr(0, VIRTIO_BLK_T_FLUSH, 0), 16, false },
				       { st(0), 1, true } };

		drv_add(&d, bufs, 2);
	}
	CHECK_EQ_INT(kick_run(&d), 0);
	CHECK_EQ_U64(used_idx(&d), 0);
	CHECK_EQ_U64(gr8(STATUS_GPA), 0xEE);
	drv_driver_ok(&d);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(used_idx(&d), 1);
	CHECK_EQ_U64(gr8(STATUS_GPA), VIRTIO_BLK_S_OK);
	/* Event index negotiated: the empty ring publishes avail_event. */
	CHECK_EQ_U64(gr16(d.used + 4 + 8ull * d.qsize), 1);
	/* A queue notify for a queue that does not exist is ignored. */
	io_wr(&d, VIRTIO_PCI_REG_QUEUE_NOTIFY, 2, 3);
	CHECK(!b.pending);
	virtio_blk_destroy(&b);
	CHECK_EQ_U64(chunks_live, 0);
}

/* Work per call is bounded in chains and bytes; the rest follows on the
 * next call. */
static void test_budget(void)
{
	struct virtio_blk b;
	struct disk_image *ram = NULL;
	struct drv d;
	const uint32_t big = 6u << 20;
	uint32_t i;
	int rc;

	CHECK_EQ_INT(disk_registry_create_ram(&reg, 8 << 20, &ram), 0);
	CHECK_EQ_INT(virtio_blk_init(&b, ram, NULL, IO_BAR, MEM_BAR), 0);
	drv_setup(&d, &b, no_event_idx, true, true);
	/* Four 6 MiB reads: the byte budget stops after three. */
	for (i = 0; i < 4; i++) {
		struct buf bufs[3] = {
			{ hdr(i, VIRTIO_BLK_T_IN, 0), 16, false },
			{ DATA_GPA + (uint64_t)(i % 2) * big, big, true },
			{ st(i), 1, true },
		};

		drv_add(&d, bufs, 3);
	}
	rc = kick_run(&d);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_U64(used_idx(&d), 3);
	CHECK_EQ_U64(nmsgs, 1);
	CHECK(b.pending);
	CHECK_EQ_INT(run(&d), 0); /* no new kick needed */
	CHECK_EQ_U64(used_idx(&d), 4);
	CHECK_EQ_U64(b.stats.read_bytes, 4ull * big);
	/* A full queue of flushes, each an indirect table of two (header,
	 * status): one call serves at most the queue size. */
	for (i = 0; i < d.qsize; i++) {
		uint64_t table = DATA_GPA + 32ull * i;
		struct buf one = { table, 32, false };
		uint16_t head;

		gw64(table, hdr(0, VIRTIO_BLK_T_FLUSH, 0));
		gw32(table + 8, 16);
		gw16(table + 12, VIRTQ_DESC_F_NEXT);
		gw16(table + 14, 1);
		gw64(table + 16, st(0));
		gw32(table + 24, 1);
		gw16(table + 28, VIRTQ_DESC_F_WRITE);
		gw16(table + 30, 0);
		head = drv_add(&d, &one, 1);
		gw16(d.desc + 16ull * head + 12, VIRTQ_DESC_F_INDIRECT);
	}
	rc = kick_run(&d);
	CHECK_EQ_INT(rc, 1);
	CHECK_EQ_U64(used_idx(&d), 4 + d.qsize);
	CHECK_EQ_U64(b.stats.flushes, d.qsize);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(used_idx(&d), 4 + d.qsize);
	CHECK(!b.pending);
	virtio_blk_destroy(&b);
	CHECK_EQ_U64(chunks_live, 0);
}

/* Ten guests on one image cost one copy; references come and go. */
static void test_sharing(void)
{
	static struct virtio_blk devs[10];
	struct disk_image *img, *g;
	uint32_t live, i;
	bool ok = true;

	img = make_image("shared", 3 * DISK_CHUNK_BYTES);
	live = chunks_live;
	for (i = 0; i < 10; i++) {
		g = NULL;
		if (disk_registry_open(&reg, "shared", &g) ||
		    virtio_blk_init(&devs[i], g, NULL, IO_BAR, MEM_BAR))
			ok = false;
	}
	CHECK(ok);
	CHECK_EQ_U64(chunks_live, live);
	CHECK_EQ_U64(img->refs, 11);
	CHECK_EQ_INT(disk_registry_remove(&reg, "shared"), 0);
	for (i = 0; i < 10; i++)
		virtio_blk_destroy(&devs[i]);
	CHECK_EQ_U64(chunks_live, 0);
	CHECK_EQ_U64(disk_registry_count(&reg), 0);
}

/* A RAM disk written through the device is saved, the device reset to
 * power-on and loaded: the next request reads the data back and its
 * used entry follows the saved index. Bad flags or transport: refused. */
static void test_save_load(void)
{
	struct keel_state_virtio_blk st, bad;
	struct virtio_blk b, before;
	struct disk_image *ram = NULL;
	struct drv d;
	uint8_t buf[4096], back[4096];

	CHECK_EQ_INT(disk_registry_create_ram(&reg, DISK_CHUNK_BYTES, &ram), 0);
	CHECK_EQ_INT(virtio_blk_init(&b, ram, NULL, IO_BAR, MEM_BAR), 0);
	drv_setup(&d, &b, all_features, true, true);
	for (uint32_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	gw(DATA_GPA, buf, sizeof(buf));
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_OUT, 8, DATA_GPA, sizeof(buf)), VIRTIO_BLK_S_OK);
	virtio_blk_save(&b, &st);
	CHECK_EQ_U64(st.vp.vq[0].used_idx, 1);
	/* the device back at power-on (a RAM disk backs one device only, so
	 * reset this one rather than make another) */
	io_wr(&d, VIRTIO_PCI_REG_STATUS, 1, 0);
	virtio_pci_cfg_write(&b.vp, 0x04, 2, VIRTIO_PCI_CMD_IO | VIRTIO_PCI_CMD_MEMORY);
	CHECK_EQ_U64(b.vp.vq[0].size, 0);
	CHECK_EQ_INT(virtio_blk_load(&b, &st), 0);
	memset(back, 0, sizeof(back));
	gw(DATA_GPA, back, sizeof(back));
	CHECK_EQ_U64(req(&d, VIRTIO_BLK_T_IN, 8, DATA_GPA, sizeof(back)), VIRTIO_BLK_S_OK);
	gr(DATA_GPA, back, sizeof(back));
	CHECK(memcmp(buf, back, sizeof(buf)) == 0);
	CHECK_EQ_U64(b.vp.vq[0].used_idx, 2);

	before = b;
	for (int i = 0; i < 3; i++) {
		bad = st;
		if (i == 0)
			bad.pending = 2;
		else if (i == 1)
			bad.broken = 2;
		else
			bad.vp.device_id = VIRTIO_PCI_DEVICE_NET; /* another device's */
		CHECK_EQ_INT(virtio_blk_load(&b, &bad), -EINVAL);
		CHECK(memcmp(&b, &before, sizeof(b)) == 0);
	}
	virtio_blk_destroy(&b);
}

int main(void)
{
	guest_init();
	disk_registry_init(&reg, &dops);
	test_identity_config();
	test_read_image();
	test_ram_write();
	test_ro_get_id_errors();
	test_broken_chains();
	test_driver_ok_gate();
	test_budget();
	test_sharing();
	test_save_load();
	guest_fini();
	return harness_done("test_virtio_blk");
}
