/*
 * Unit tests for hypervisor/devices/virtio_balloon.c on the real transport
 * (virtio_pci.c) and ring code (virtq.c), with a fake guest RAM made of
 * separately allocated 2 MiB chunks. A driver written here programs the
 * device through its PCI configuration space, MSI-X table and legacy I/O
 * registers the way Linux's virtio_pci_legacy and virtio_balloon do, puts
 * arrays of little-endian PFNs on the inflate and deflate queues and
 * kicks; a page callback records what reaches the caller. Checked: PCI
 * identity, features and queues, the configuration (num_pages read-only
 * to the driver, actual writable in part or whole), set_target and its
 * configuration interrupt, PFNs in order and direction (buffers split
 * over descriptors and guest chunks, more than one read's worth), the
 * used ring, MSI messages, counters and refused PFNs, the per-call
 * budget, buffers that break the device and recovery by reset,
 * DRIVER_OK gating, and save/load with the records it must refuse.
 */
#include "../../hypervisor/common/virtq.c"
#include "../../hypervisor/devices/virtio_pci.c"
#include "../../hypervisor/devices/virtio_balloon.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- fake guest RAM: GUEST_CHUNKS separate 2 MiB host blocks ---- */

#define GUEST_CHUNKS 4u
#define GUEST_BYTES ((uint64_t)GUEST_CHUNKS * VIRTQ_CHUNK_BYTES)

static uint8_t *guest_chunk[GUEST_CHUNKS];

static void *guest_map(void *ctx, uint64_t gpa, uint32_t len)
{
	(void)ctx;
	if (gpa >= GUEST_BYTES || len > GUEST_BYTES - gpa ||
	    gpa / VIRTQ_CHUNK_BYTES != (gpa + (len ? len - 1 : 0)) / VIRTQ_CHUNK_BYTES)
		return NULL;
	return guest_chunk[gpa / VIRTQ_CHUNK_BYTES] + gpa % VIRTQ_CHUNK_BYTES;
}

static const struct guest_mem_ops gmem = { guest_map, NULL };

/* Test-side access to guest RAM, any range inside it. */
static void gcopy(uint64_t gpa, void *buf, uint64_t len, bool to_guest)
{
	uint8_t *b = buf;

	while (len) {
		uint64_t n = VIRTQ_CHUNK_BYTES - gpa % VIRTQ_CHUNK_BYTES;
		uint8_t *p = guest_chunk[gpa / VIRTQ_CHUNK_BYTES] + gpa % VIRTQ_CHUNK_BYTES;

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

static void gw(uint64_t gpa, const void *buf, uint64_t len) { gcopy(gpa, (void *)buf, len, true); }
static void gr(uint64_t gpa, void *buf, uint64_t len) { gcopy(gpa, buf, len, false); }

static void gw_le(uint64_t gpa, uint64_t v, uint32_t n)
{
	uint8_t b[8];

	le_put(b, v, n);
	gw(gpa, b, n);
}

static uint64_t gr_le(uint64_t gpa, uint32_t n)
{
	uint8_t b[8];

	gr(gpa, b, n);
	return le_get(b, n);
}

static void guest_init(void)
{
	for (uint32_t i = 0; i < GUEST_CHUNKS; i++) {
		guest_chunk[i] = aligned_alloc(4096, VIRTQ_CHUNK_BYTES);
		memset(guest_chunk[i], 0, VIRTQ_CHUNK_BYTES);
	}
}

static void guest_fini(void)
{
	for (uint32_t i = 0; i < GUEST_CHUNKS; i++)
		free(guest_chunk[i]);
}

/* ---- the page callback: a record of every call ---- */

#define MAX_RECS 4096u
#define BAD_PFN 0x80000000u /* PFNs with this bit are refused */

static struct {
	uint32_t pfn;
	bool inflate;
} recs[MAX_RECS];
static uint32_t nrecs;
static void *seen_ctx;

static int page_cb(void *ctx, uint32_t pfn, bool inflate)
{
	seen_ctx = ctx;
	if (nrecs < MAX_RECS) {
		recs[nrecs].pfn = pfn;
		recs[nrecs].inflate = inflate;
	}
	nrecs++;
	return pfn & BAD_PFN ? -EINVAL : 0;
}

/* The PFN test buffers hold: a pattern per buffer, from base. */
static uint32_t pfn_at(uint32_t base, uint32_t i)
{
	return base + i * 3u;
}

/* Whether records from..from+count are pfn_at(base, 0..) in direction
 * inflate. */
static bool recs_are(uint32_t from, uint32_t base, uint32_t count, bool inflate)
{
	if (from + count > nrecs || from + count > MAX_RECS)
		return false;
	for (uint32_t i = 0; i < count; i++)
		if (recs[from + i].pfn != pfn_at(base, i) || recs[from + i].inflate != inflate)
			return false;
	return true;
}

/* Write count PFNs pfn_at(base, ..) little-endian at gpa. */
static void put_pfns(uint64_t gpa, uint32_t base, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		gw_le(gpa + 4ull * i, pfn_at(base, i), 4);
}

/* ---- the driver ---- */

#define IO_BAR 0xC400u
#define MEM_BAR 0xFE030000u
#define RING_GPA 0x10000ull   /* queue q's ring at RING_GPA + q * RING_STRIDE */
#define RING_STRIDE 0x8000ull
#define DATA_GPA 0x40000ull   /* PFN arrays */
#define MSI_ADDR 0xFEE01000u
#define MSI_CFG_DATA 0x41u
#define MSI_INF_DATA 0x42u
#define MSI_DEF_DATA 0x43u
#define CTX ((void *)0x5EED)

struct drv_q {
	uint16_t avail_idx, next_desc;
	uint64_t desc, avail, used;
};

struct drv {
	struct virtio_balloon *b;
	uint16_t qsize;
	bool msix;
	struct drv_q q[VIRTIO_BALLOON_QUEUES];
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
	return d->msix ? VIRTIO_PCI_CONFIG_OFF_MSIX : VIRTIO_PCI_CONFIG_OFF_NOMSIX;
}

static uint32_t cfg_rd(struct drv *d, uint32_t off, uint8_t size)
{
	return io_rd(d, dev_cfg_off(d) + off, size);
}

static void cfg_wr(struct drv *d, uint32_t off, uint8_t size, uint32_t v)
{
	io_wr(d, dev_cfg_off(d) + off, size, v);
}

static void drv_status(struct drv *d, uint32_t status)
{
	io_wr(d, VIRTIO_PCI_REG_STATUS, 1, status);
}

/* MSI-X as Linux sets it up: enable, entry 0 for the configuration and
 * 1, 2 for the queues, all unmasked, configuration vector 0. */
static void drv_msix(struct drv *d)
{
	static const uint32_t data[3] = { MSI_CFG_DATA, MSI_INF_DATA, MSI_DEF_DATA };
	struct virtio_pci *vp = &d->b->vp;
	uint32_t ctrl = virtio_pci_cfg_read(vp, VIRTIO_PCI_MSIX_CAP_OFF, 4);

	virtio_pci_cfg_write(vp, VIRTIO_PCI_MSIX_CAP_OFF, 4,
			     ctrl | (uint32_t)VIRTIO_PCI_MSIX_ENABLE << 16);
	for (uint32_t v = 0; v < 3; v++) {
		uint64_t e = MEM_BAR + v * 16;

		virtio_pci_mmio_write(vp, e + 0, 4, MSI_ADDR);
		virtio_pci_mmio_write(vp, e + 4, 4, 0);
		virtio_pci_mmio_write(vp, e + 8, 4, data[v]);
		virtio_pci_mmio_write(vp, e + 12, 4, 0);
	}
	d->msix = true;
	io_wr(d, VIRTIO_PCI_REG_CONFIG_VECTOR, 2, 0);
	CHECK_EQ_U64(io_rd(d, VIRTIO_PCI_REG_CONFIG_VECTOR, 2), 0);
}

/* Queue q: its vector (with MSI-X), a zeroed ring laid out as vring_init
 * does, its PFN. */
static void drv_queue(struct drv *d, uint16_t q)
{
	struct drv_q *dq = &d->q[q];
	uint64_t ring = RING_GPA + q * RING_STRIDE, avail_end;

	io_wr(d, VIRTIO_PCI_REG_QUEUE_SEL, 2, q);
	d->qsize = (uint16_t)io_rd(d, VIRTIO_PCI_REG_QUEUE_SIZE, 2);
	if (d->msix) {
		io_wr(d, VIRTIO_PCI_REG_QUEUE_VECTOR, 2, q + 1u);
		CHECK_EQ_U64(io_rd(d, VIRTIO_PCI_REG_QUEUE_VECTOR, 2), q + 1u);
	}
	for (uint64_t a = ring; a < ring + RING_STRIDE; a += 8)
		gw_le(a, 0, 8);
	memset(dq, 0, sizeof(*dq));
	dq->desc = ring;
	dq->avail = ring + 16ull * d->qsize;
	avail_end = dq->avail + 4 + 2ull * d->qsize + 2;
	dq->used = (avail_end + 4095) & ~4095ull;
	io_wr(d, VIRTIO_PCI_REG_QUEUE_PFN, 4, (uint32_t)(ring >> 12));
}

/* Bring the device up: bus mastering, reset, ACK, DRIVER, no features,
 * MSI-X (if msix), both queues, DRIVER_OK (if ok). */
static void drv_setup(struct drv *d, struct virtio_balloon *b, bool msix, bool ok)
{
	const uint32_t ack = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint32_t cmd;

	memset(d, 0, sizeof(*d));
	d->b = b;
	cmd = virtio_pci_cfg_read(&b->vp, 0x04, 2);
	virtio_pci_cfg_write(&b->vp, 0x04, 2, cmd | VIRTIO_PCI_CMD_MASTER | VIRTIO_PCI_CMD_IO);
	drv_status(d, 0);
	drv_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	drv_status(d, ack);
	CHECK_EQ_U64(io_rd(d, VIRTIO_PCI_REG_HOST_FEATURES, 4), 0);
	io_wr(d, VIRTIO_PCI_REG_GUEST_FEATURES, 4, 0);
	if (msix)
		drv_msix(d);
	for (uint16_t q = 0; q < VIRTIO_BALLOON_QUEUES; q++)
		drv_queue(d, q);
	if (ok)
		drv_status(d, ack | VIRTIO_STATUS_DRIVER_OK);
}

/* One readable buffer of a chain. */
struct buf {
	uint64_t gpa;
	uint32_t len;
};

static void put_desc(struct drv_q *dq, uint16_t i, uint64_t gpa, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint64_t a = dq->desc + 16ull * i;

	gw_le(a, gpa, 8);
	gw_le(a + 8, len, 4);
	gw_le(a + 12, flags, 2);
	gw_le(a + 14, next, 2);
}

/* Make head available on queue q (no kick). */
static void drv_publish(struct drv *d, uint16_t q, uint16_t head)
{
	struct drv_q *dq = &d->q[q];

	gw_le(dq->avail + 4 + 2ull * (dq->avail_idx % d->qsize), head, 2);
	dq->avail_idx++;
	gw_le(dq->avail + 2, dq->avail_idx, 2);
}

/* Put n readable buffers as one chain on queue q and make it available
 * (no kick). Returns the head. */
static uint16_t drv_add(struct drv *d, uint16_t q, const struct buf *bufs, uint32_t n)
{
	struct drv_q *dq = &d->q[q];
	uint16_t head = dq->next_desc;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % d->qsize);

		put_desc(dq, idx, bufs[i].gpa, bufs[i].len, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0,
			 (uint16_t)((idx + 1) % d->qsize));
	}
	dq->next_desc = (uint16_t)((head + n) % d->qsize);
	drv_publish(d, q, head);
	return head;
}

/* One buffer of count PFNs from base at gpa on queue q. Returns the head. */
static uint16_t drv_pfns(struct drv *d, uint16_t q, uint64_t gpa, uint32_t base, uint32_t count)
{
	struct buf one = { gpa, 4 * count };

	put_pfns(gpa, base, count);
	return drv_add(d, q, &one, 1);
}

static void drv_kick(struct drv *d, uint16_t q)
{
	io_wr(d, VIRTIO_PCI_REG_QUEUE_NOTIFY, 2, q);
}

static struct msi_msg msgs[VIRTIO_BALLOON_MAX_MSGS];
static uint32_t nmsgs;

static int run(struct drv *d)
{
	memset(msgs, 0, sizeof(msgs));
	nmsgs = ~0u;
	return virtio_balloon_process(d->b, &gmem, page_cb, CTX, msgs, &nmsgs);
}

static uint16_t used_idx(struct drv *d, uint16_t q)
{
	return (uint16_t)gr_le(d->q[q].used + 2, 2);
}

static uint32_t used_id(struct drv *d, uint16_t q, uint16_t n)
{
	return (uint32_t)gr_le(d->q[q].used + 4 + 8ull * (n % d->qsize), 4);
}

static uint32_t used_len(struct drv *d, uint16_t q, uint16_t n)
{
	return (uint32_t)gr_le(d->q[q].used + 8 + 8ull * (n % d->qsize), 4);
}

/* Whether any of the n messages has data. */
static bool has_msg(uint32_t data)
{
	for (uint32_t i = 0; i < nmsgs && i < VIRTIO_BALLOON_MAX_MSGS; i++)
		if (msgs[i].data == data && msgs[i].address == MSI_ADDR)
			return true;
	return false;
}

static struct virtio_balloon bal;

/* ---- tests ---- */

/* Identity, features and queues as a driver finds them. */
static void test_identity(void)
{
	struct drv d;

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	CHECK_EQ_U64(virtio_pci_cfg_read(&bal.vp, 0x00, 4), 0x10051AF4u);
	CHECK_EQ_U64(virtio_pci_cfg_read(&bal.vp, 0x2C, 4), 0x00051AF4u);
	CHECK_EQ_U64(virtio_pci_cfg_read(&bal.vp, 0x08, 4), 0xFF000000u); /* class, rev 0 */
	CHECK_EQ_U64(bal.vp.device_id, VIRTIO_PCI_DEVICE_BALLOON);
	CHECK_EQ_U64(bal.vp.subsys_id, VIRTIO_PCI_SUBSYS_BALLOON);
	CHECK_EQ_U64(bal.vp.class_code, VIRTIO_PCI_CLASS_BALLOON);
	CHECK_EQ_U64(bal.vp.host_features, 0);
	CHECK_EQ_U64(bal.vp.nr_queues, 2);
	/* MSI-X table: two queues + configuration (size field is N - 1). */
	CHECK_EQ_U64(virtio_pci_cfg_read(&bal.vp, VIRTIO_PCI_MSIX_CAP_OFF + 2, 2) & 0x7FFu, 2);
	drv_setup(&d, &bal, false, false);
	CHECK_EQ_U64(io_rd(&d, VIRTIO_PCI_REG_HOST_FEATURES, 4), 0);
	for (uint16_t q = 0; q < 4; q++) {
		io_wr(&d, VIRTIO_PCI_REG_QUEUE_SEL, 2, q);
		CHECK_EQ_U64(io_rd(&d, VIRTIO_PCI_REG_QUEUE_SIZE, 2),
			     q < 2 ? VIRTIO_BALLOON_QUEUE_SIZE : 0);
	}
	CHECK_EQ_U64(bal.num_pages, 0);
	CHECK_EQ_U64(bal.actual, 0);
	CHECK(!virtio_balloon_driver_ok(&bal));
}

/* num_pages and actual at their offsets in every access size, with and
 * without MSI-X; only actual is writable, in part or whole. */
static void check_config(struct drv *d)
{
	uint32_t n;

	virtio_balloon_set_target(&bal, 0x11223344u, msgs, &n);
	cfg_wr(d, VIRTIO_BALLOON_CFG_ACTUAL, 4, 0xA1B2C3D4u);
	CHECK_EQ_U64(bal.actual, 0xA1B2C3D4u);
	CHECK_EQ_U64(cfg_rd(d, 0, 4), 0x11223344u);
	CHECK_EQ_U64(cfg_rd(d, 4, 4), 0xA1B2C3D4u);
	CHECK_EQ_U64(cfg_rd(d, 0, 2), 0x3344u);
	CHECK_EQ_U64(cfg_rd(d, 2, 2), 0x1122u);
	CHECK_EQ_U64(cfg_rd(d, 6, 2), 0xA1B2u);
	CHECK_EQ_U64(cfg_rd(d, 1, 1), 0x33u);
	CHECK_EQ_U64(cfg_rd(d, 7, 1), 0xA1u);
	CHECK_EQ_U64(cfg_rd(d, 2, 4), 0xC3D41122u); /* straddles both */
	/* num_pages is the host's: whole, partial and straddling writes
	 * leave it alone. */
	cfg_wr(d, 0, 4, 0);
	cfg_wr(d, 1, 1, 0xFF);
	cfg_wr(d, 2, 2, 0xBEEF);
	CHECK_EQ_U64(cfg_rd(d, 0, 4), 0x11223344u);
	CHECK_EQ_U64(bal.num_pages, 0x11223344u);
	cfg_wr(d, 3, 2, 0x5577); /* byte 3 ignored, byte 4 = 0x55 */
	CHECK_EQ_U64(bal.num_pages, 0x11223344u);
	CHECK_EQ_U64(bal.actual, 0xA1B2C355u);
	/* actual: one-byte and two-byte writes merge. */
	cfg_wr(d, 5, 1, 0x66);
	CHECK_EQ_U64(bal.actual, 0xA1B26655u);
	cfg_wr(d, 6, 2, 0x0102);
	CHECK_EQ_U64(cfg_rd(d, 4, 4), 0x01026655u);
	cfg_wr(d, 4, 2, 0x0304);
	CHECK_EQ_U64(cfg_rd(d, 4, 4), 0x01020304u);
	/* Writes past the 8 bytes change nothing; reads there give 0. */
	cfg_wr(d, 8, 4, 0xFFFFFFFFu);
	cfg_wr(d, 7, 2, 0xEE09); /* byte 7 = 0x09, byte 8 nowhere */
	CHECK_EQ_U64(cfg_rd(d, 4, 4), 0x09020304u);
	CHECK_EQ_U64(cfg_rd(d, 0, 4), 0x11223344u);
	for (uint32_t off = 8; off < 16; off++) {
		CHECK_EQ_U64(cfg_rd(d, off, 1), 0);
		CHECK_EQ_U64(cfg_rd(d, off, 4), 0);
	}
	CHECK_EQ_U64(cfg_rd(d, 8, 2), 0);
	/* A read crossing the end gives the bytes it covers inside. */
	CHECK_EQ_U64(cfg_rd(d, 6, 4), 0x0902u);
	CHECK_EQ_U64(cfg_rd(d, 7, 2), 0x09u);
	/* The model itself: past the end, 0. */
	CHECK_EQ_U64(bal.vp.ops->cfg_read(&bal, 8, 4), 0);
	CHECK_EQ_U64(bal.vp.ops->cfg_read(&bal, 0xFFFFFFFFu, 4), 0);
	bal.vp.ops->cfg_write(&bal, 0xFFFFFFFEu, 4, 0);
	CHECK_EQ_U64(bal.actual, 0x09020304u);
}

static void test_config(void)
{
	struct drv d;

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	drv_setup(&d, &bal, false, true);
	check_config(&d); /* at offset 20 */
	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	drv_setup(&d, &bal, true, true);
	check_config(&d); /* at offset 24 */
	/* A reset clears actual but not the host's target. */
	drv_status(&d, 0);
	CHECK_EQ_U64(bal.actual, 0);
	CHECK_EQ_U64(bal.num_pages, 0x11223344u);
}

/* set_target: new num_pages and one configuration message with MSI-X
 * and a configuration vector, none otherwise (the ISR bit either way). */
static void test_set_target(void)
{
	struct drv d;

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	drv_setup(&d, &bal, false, true);
	nmsgs = ~0u;
	virtio_balloon_set_target(&bal, 1000, msgs, &nmsgs);
	CHECK_EQ_U64(nmsgs, 0);
	CHECK_EQ_U64(bal.num_pages, 1000);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BALLOON_CFG_NUM_PAGES, 4), 1000);
	CHECK_EQ_U64(io_rd(&d, VIRTIO_PCI_REG_ISR, 1), VIRTIO_PCI_ISR_CONFIG);

	drv_setup(&d, &bal, true, true);
	memset(msgs, 0, sizeof(msgs));
	virtio_balloon_set_target(&bal, 0x40000, msgs, &nmsgs);
	CHECK_EQ_U64(nmsgs, 1);
	CHECK_EQ_U64(msgs[0].address, MSI_ADDR);
	CHECK_EQ_U64(msgs[0].data, MSI_CFG_DATA);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BALLOON_CFG_NUM_PAGES, 4), 0x40000);
	CHECK_EQ_U64(io_rd(&d, VIRTIO_PCI_REG_ISR, 1), VIRTIO_PCI_ISR_CONFIG);
	/* Shrinking the target back to 0 is a change too. */
	virtio_balloon_set_target(&bal, 0, msgs, &nmsgs);
	CHECK_EQ_U64(nmsgs, 1);
	CHECK_EQ_U64(bal.num_pages, 0);
	/* No configuration vector: no message. */
	io_wr(&d, VIRTIO_PCI_REG_CONFIG_VECTOR, 2, VIRTIO_PCI_NO_VECTOR);
	virtio_balloon_set_target(&bal, 7, msgs, &nmsgs);
	CHECK_EQ_U64(nmsgs, 0);
	CHECK_EQ_U64(bal.num_pages, 7);
	/* A masked vector latches; unmasking releases it. */
	io_wr(&d, VIRTIO_PCI_REG_CONFIG_VECTOR, 2, 0);
	virtio_pci_mmio_write(&bal.vp, MEM_BAR + 12, 4, 1);
	virtio_balloon_set_target(&bal, 8, msgs, &nmsgs);
	CHECK_EQ_U64(nmsgs, 0);
	virtio_pci_mmio_write(&bal.vp, MEM_BAR + 12, 4, 0);
	CHECK(virtio_pci_take_msg(&bal.vp, &msgs[0]));
	CHECK_EQ_U64(msgs[0].data, MSI_CFG_DATA);
	/* Setting the target does not touch the queues. */
	CHECK_EQ_U64(bal.pending, 0);
	CHECK_EQ_U64(nrecs, 0);
}

/* Inflate and deflate buffers: every PFN in order and direction, heads
 * returned with 0 bytes, one message per queue, counters. */
static void test_queues(void)
{
	struct drv d;
	uint16_t h[6];
	uint32_t r0;

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	drv_setup(&d, &bal, true, true);
	nrecs = 0;
	/* Inflate: 3 PFNs; 5 PFNs split 6 + 14 bytes (a PFN across two
	 * descriptors); 300 PFNs (more than one read); 4 PFNs across a
	 * guest chunk boundary. */
	h[0] = drv_pfns(&d, 0, DATA_GPA, 0x1000, 3);
	put_pfns(DATA_GPA + 0x100, 0x2000, 5);
	{
		struct buf split[2] = { { DATA_GPA + 0x100, 6 }, { DATA_GPA + 0x106, 14 } };

		h[1] = drv_add(&d, 0, split, 2);
	}
	h[2] = drv_pfns(&d, 0, DATA_GPA + 0x1000, 0x3000, 300);
	h[3] = drv_pfns(&d, 0, VIRTQ_CHUNK_BYTES - 8, 0x4000, 4);
	/* Deflate: 2 PFNs, and 257 PFNs. */
	h[4] = drv_pfns(&d, 1, DATA_GPA + 0x2000, 0x1000, 2);
	h[5] = drv_pfns(&d, 1, DATA_GPA + 0x3000, 0x5000, 257);
	/* Kicked queues only: nothing moves before a kick. */
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(nrecs, 0);
	CHECK_EQ_U64(nmsgs, 0);
	drv_kick(&d, 0);
	drv_kick(&d, 1);
	CHECK_EQ_U64(bal.pending, 3);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(bal.pending, 0);
	CHECK(seen_ctx == CTX);
	CHECK_EQ_U64(nrecs, 3 + 5 + 300 + 4 + 2 + 257);
	r0 = 0;
	CHECK(recs_are(r0, 0x1000, 3, true));
	CHECK(recs_are(r0 += 3, 0x2000, 5, true));
	CHECK(recs_are(r0 += 5, 0x3000, 300, true));
	CHECK(recs_are(r0 += 300, 0x4000, 4, true));
	CHECK(recs_are(r0 += 4, 0x1000, 2, false));
	CHECK(recs_are(r0 += 2, 0x5000, 257, false));
	CHECK_EQ_U64(used_idx(&d, 0), 4);
	CHECK_EQ_U64(used_idx(&d, 1), 2);
	for (uint16_t i = 0; i < 4; i++) {
		CHECK_EQ_U64(used_id(&d, 0, i), h[i]);
		CHECK_EQ_U64(used_len(&d, 0, i), 0);
	}
	for (uint16_t i = 0; i < 2; i++) {
		CHECK_EQ_U64(used_id(&d, 1, i), h[4 + i]);
		CHECK_EQ_U64(used_len(&d, 1, i), 0);
	}
	CHECK_EQ_U64(nmsgs, 2);
	CHECK(has_msg(MSI_INF_DATA));
	CHECK(has_msg(MSI_DEF_DATA));
	CHECK_EQ_U64(bal.stats.inflated, 312);
	CHECK_EQ_U64(bal.stats.deflated, 259);
	CHECK_EQ_U64(bal.stats.bad_pfns, 0);
	CHECK_EQ_U64(bal.stats.broken, 0);
	CHECK(!bal.broken);
	CHECK_EQ_U64(io_rd(&d, VIRTIO_PCI_REG_ISR, 1), VIRTIO_PCI_ISR_QUEUE);

	/* A kick with nothing new: no call, no message. */
	drv_kick(&d, 0);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(nrecs, 571);
	CHECK_EQ_U64(nmsgs, 0);
	CHECK_EQ_U64(bal.pending, 0);

	/* An empty buffer: returned, nothing called. */
	{
		struct buf empty = { DATA_GPA, 0 };
		uint16_t head = drv_add(&d, 1, &empty, 1);

		drv_kick(&d, 1);
		CHECK_EQ_INT(run(&d), 0);
		CHECK_EQ_U64(nrecs, 571);
		CHECK_EQ_U64(used_idx(&d, 1), 3);
		CHECK_EQ_U64(used_id(&d, 1, 2), head);
		CHECK(!bal.broken);
	}

	/* Refused PFNs are counted and skipped; the rest of the buffer and
	 * the device go on. */
	put_pfns(DATA_GPA, 0x10, 4);
	gw_le(DATA_GPA + 4, BAD_PFN | 1, 4);
	gw_le(DATA_GPA + 12, 0xFFFFFFFFu, 4);
	{
		struct buf one = { DATA_GPA, 16 };

		drv_add(&d, 0, &one, 1);
	}
	drv_kick(&d, 0);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(nrecs, 575);
	CHECK_EQ_U64(recs[571].pfn, 0x10);
	CHECK_EQ_U64(recs[572].pfn, BAD_PFN | 1);
	CHECK_EQ_U64(recs[573].pfn, pfn_at(0x10, 2));
	CHECK_EQ_U64(recs[574].pfn, 0xFFFFFFFFu);
	CHECK_EQ_U64(bal.stats.bad_pfns, 2);
	CHECK_EQ_U64(bal.stats.inflated, 314);
	CHECK_EQ_U64(used_idx(&d, 0), 5);
	CHECK(!bal.broken);
	drv_pfns(&d, 1, DATA_GPA, 0x77, 1);
	drv_kick(&d, 1);
	CHECK_EQ_INT(run(&d), 0);
	CHECK(recs_are(575, 0x77, 1, false));
	CHECK_EQ_U64(bal.stats.deflated, 260);

	/* The driver asks for no interrupts on the deflate queue. */
	gw_le(d.q[1].avail, VIRTQ_AVAIL_F_NO_INTERRUPT, 2);
	drv_pfns(&d, 1, DATA_GPA, 0x78, 1);
	drv_kick(&d, 1);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(nmsgs, 0);
	CHECK_EQ_U64(used_idx(&d, 1), 5);
}

/* At most 64 chains per queue per call; the rest stay pending and are
 * served by the next call without a new kick. */
static void test_budget(void)
{
	struct drv d;

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	drv_setup(&d, &bal, true, true);
	nrecs = 0;
	for (uint32_t i = 0; i < 100; i++)
		drv_pfns(&d, 0, DATA_GPA + 8ull * i, 0x100 * i, 2);
	drv_kick(&d, 0);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(used_idx(&d, 0), BUDGET_CHAINS);
	CHECK_EQ_U64(nrecs, 2 * BUDGET_CHAINS);
	CHECK_EQ_U64(bal.pending, 1);
	CHECK_EQ_U64(nmsgs, 1);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(used_idx(&d, 0), 100);
	CHECK_EQ_U64(nrecs, 200);
	CHECK_EQ_U64(bal.pending, 0);
	CHECK(recs_are(198, 0x100 * 99, 2, true));
	CHECK_EQ_U64(bal.stats.inflated, 200);
}

/* After a break: -EIO, config interrupt, later processing refused (the
 * kick remembered but nothing served), and status 0 clears broken,
 * pending and actual; set up again, the device works. */
static void expect_broken(struct drv *d, int rc, uint32_t recs_before)
{
	uint16_t used0 = used_idx(d, 0), used1 = used_idx(d, 1);

	CHECK_EQ_INT(rc, -EIO);
	CHECK(bal.broken);
	CHECK_EQ_U64(bal.stats.broken, 1);
	CHECK(nmsgs >= 1 && nmsgs <= VIRTIO_BALLOON_MAX_MSGS);
	CHECK_EQ_U64(msgs[nmsgs - 1].data, MSI_CFG_DATA);
	CHECK(io_rd(d, VIRTIO_PCI_REG_ISR, 1) & VIRTIO_PCI_ISR_CONFIG);
	CHECK_EQ_U64(nrecs, recs_before);
	/* Further buffers are left alone. */
	drv_pfns(d, 1, DATA_GPA + 0x800, 0x900, 2);
	drv_kick(d, 1);
	CHECK_EQ_INT(run(d), -EIO);
	CHECK_EQ_U64(nmsgs, 0);
	CHECK_EQ_INT(run(d), -EIO);
	CHECK_EQ_U64(nrecs, recs_before);
	CHECK_EQ_U64(used_idx(d, 0), used0);
	CHECK_EQ_U64(used_idx(d, 1), used1);
	CHECK(bal.broken);
	/* Reset: broken, pending and actual gone, the target kept. */
	cfg_wr(d, VIRTIO_BALLOON_CFG_ACTUAL, 4, 1234);
	CHECK_EQ_U64(bal.actual, 1234);
	drv_status(d, 0);
	CHECK(!bal.broken);
	CHECK_EQ_U64(bal.pending, 0);
	CHECK_EQ_U64(bal.actual, 0);
	CHECK_EQ_U64(bal.num_pages, 99);
	CHECK_EQ_U64(bal.stats.broken, 1);
	CHECK_EQ_INT(run(d), 0);
	/* Set up again: works. */
	drv_setup(d, &bal, true, true);
	drv_pfns(d, 0, DATA_GPA, 0xAB, 3);
	drv_kick(d, 0);
	CHECK_EQ_INT(run(d), 0);
	CHECK(recs_are(recs_before, 0xAB, 3, true));
	CHECK_EQ_U64(used_idx(d, 0), 1);
}

static void broken_setup(struct drv *d)
{
	uint32_t n;

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	drv_setup(d, &bal, true, true);
	virtio_balloon_set_target(&bal, 99, msgs, &n);
	(void)io_rd(d, VIRTIO_PCI_REG_ISR, 1);
	nrecs = 0;
}

static void test_broken(void)
{
	struct drv d;

	/* 6 bytes: not a whole number of PFNs. Handed back with 0 bytes,
	 * no page called, queue and configuration messages. */
	broken_setup(&d);
	{
		uint16_t head;
		int rc;

		put_pfns(DATA_GPA, 0x50, 2);
		{
			struct buf odd = { DATA_GPA, 6 };

			head = drv_add(&d, 0, &odd, 1);
		}
		drv_kick(&d, 0);
		rc = run(&d);
		CHECK_EQ_U64(used_idx(&d, 0), 1);
		CHECK_EQ_U64(used_id(&d, 0, 0), head);
		CHECK_EQ_U64(used_len(&d, 0, 0), 0);
		CHECK_EQ_U64(nmsgs, 2);
		CHECK_EQ_U64(msgs[0].data, MSI_INF_DATA);
		expect_broken(&d, rc, 0);
	}
	/* Split so that the total is 4k + 2 on the deflate queue, after a
	 * good buffer that is served first. */
	broken_setup(&d);
	{
		struct buf odd[2] = { { DATA_GPA + 0x100, 4 }, { DATA_GPA + 0x104, 6 } };
		int rc;

		drv_pfns(&d, 1, DATA_GPA, 0x60, 2);
		put_pfns(DATA_GPA + 0x100, 0x70, 3);
		drv_add(&d, 1, odd, 2);
		drv_kick(&d, 1);
		rc = run(&d);
		CHECK(recs_are(0, 0x60, 2, false));
		CHECK_EQ_U64(used_idx(&d, 1), 2);
		CHECK_EQ_U64(bal.stats.deflated, 2);
		expect_broken(&d, rc, 2);
	}
	/* The inflate queue breaks; the deflate queue, kicked too, is not
	 * looked at. */
	broken_setup(&d);
	{
		struct buf odd = { DATA_GPA, 1 };
		int rc;

		drv_add(&d, 0, &odd, 1);
		drv_pfns(&d, 1, DATA_GPA + 0x100, 0x80, 1);
		drv_kick(&d, 0);
		drv_kick(&d, 1);
		rc = run(&d);
		CHECK_EQ_U64(used_idx(&d, 0), 1);
		CHECK_EQ_U64(used_idx(&d, 1), 0);
		expect_broken(&d, rc, 0);
	}
	/* A malformed ring: a head beyond the table. */
	broken_setup(&d);
	{
		gw_le(d.q[0].avail + 4, d.qsize + 1u, 2);
		gw_le(d.q[0].avail + 2, 1, 2);
		drv_kick(&d, 0);
		expect_broken(&d, run(&d), 0);
	}
	/* A buffer outside guest RAM. */
	broken_setup(&d);
	{
		struct buf out = { GUEST_BYTES - 4, 8 };

		drv_add(&d, 0, &out, 1);
		drv_kick(&d, 0);
		expect_broken(&d, run(&d), 0);
	}
	/* A descriptor loop. */
	broken_setup(&d);
	{
		put_desc(&d.q[0], 0, DATA_GPA, 4, VIRTQ_DESC_F_NEXT, 0);
		drv_publish(&d, 0, 0);
		drv_kick(&d, 0);
		expect_broken(&d, run(&d), 0);
	}
}

/* Nothing is served before DRIVER_OK (the kick is kept), nor with FAILED
 * or without bus mastering; virtio_balloon_driver_ok follows. */
static void test_driver_ok_gate(void)
{
	const uint32_t ack = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	struct drv d;
	uint32_t cmd;

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	CHECK(!virtio_balloon_driver_ok(&bal));
	drv_setup(&d, &bal, true, false);
	CHECK(!virtio_balloon_driver_ok(&bal));
	nrecs = 0;
	drv_pfns(&d, 0, DATA_GPA, 0x30, 2);
	drv_kick(&d, 0);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(nrecs, 0);
	CHECK_EQ_U64(nmsgs, 0);
	CHECK_EQ_U64(used_idx(&d, 0), 0);
	CHECK_EQ_U64(bal.pending, 1);
	drv_status(&d, ack | VIRTIO_STATUS_DRIVER_OK);
	CHECK(virtio_balloon_driver_ok(&bal));
	CHECK_EQ_INT(run(&d), 0);
	CHECK(recs_are(0, 0x30, 2, true));
	CHECK_EQ_U64(used_idx(&d, 0), 1);
	/* FAILED stops it. */
	drv_status(&d, ack | VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED);
	CHECK(!virtio_balloon_driver_ok(&bal));
	drv_pfns(&d, 0, DATA_GPA, 0x40, 1);
	drv_kick(&d, 0);
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(nrecs, 2);
	/* So does bus mastering off. */
	drv_status(&d, ack | VIRTIO_STATUS_DRIVER_OK);
	cmd = virtio_pci_cfg_read(&bal.vp, 0x04, 2);
	virtio_pci_cfg_write(&bal.vp, 0x04, 2, cmd & ~VIRTIO_PCI_CMD_MASTER);
	CHECK(!virtio_balloon_driver_ok(&bal));
	CHECK_EQ_INT(run(&d), 0);
	CHECK_EQ_U64(nrecs, 2);
	virtio_pci_cfg_write(&bal.vp, 0x04, 2, cmd);
	CHECK(virtio_balloon_driver_ok(&bal));
	CHECK_EQ_INT(run(&d), 0);
	CHECK(recs_are(2, 0x40, 1, true));
	/* A reset: no longer running. */
	drv_status(&d, 0);
	CHECK(!virtio_balloon_driver_ok(&bal));
	/* A notify of a queue the device lacks is ignored. */
	io_wr(&d, VIRTIO_PCI_REG_QUEUE_NOTIFY, 2, 2);
	CHECK_EQ_U64(bal.pending, 0);
	bal.vp.ops->notify(&bal, 5);
	CHECK_EQ_U64(bal.pending, 0);
}

/* A record another device could have saved: a virtio-blk-like transport
 * (one queue, other identity) under the balloon's own fields. */
static void other_device_record(struct keel_state_balloon *st)
{
	static struct virtio_pci other;

	virtio_pci_init(&other, VIRTIO_PCI_DEVICE_BLK, VIRTIO_PCI_SUBSYS_BLK,
			VIRTIO_PCI_CLASS_BLK, 0, 1, IO_BAR, MEM_BAR, NULL, NULL);
	virtio_pci_save(&other, &st->vp);
}

/* Load records that must be refused; b must stay as it was. */
static void check_refused(const struct keel_state_balloon *good)
{
	static struct virtio_balloon before;
	struct keel_state_balloon bad;

	memcpy(&before, &bal, sizeof(bal));
	for (int i = 0; i < 6; i++) {
		bad = *good;
		if (i == 0)
			bad.pending = 4;
		else if (i == 1)
			bad.pending = 0x80000001u;
		else if (i == 2)
			bad.broken = 2;
		else if (i == 3)
			bad.vp.device_id = VIRTIO_PCI_DEVICE_BLK;
		else if (i == 4)
			bad.vp.nr_queues = 1;
		else
			other_device_record(&bad);
		CHECK_EQ_INT(virtio_balloon_load(&bal, &bad), -EINVAL);
		CHECK(memcmp(&bal, &before, sizeof(bal)) == 0);
	}
}

/* Save, back to power-on, load: target, actual, pending kicks and the
 * broken state come back, and pending buffers are then served. */
static void test_save_load(void)
{
	struct keel_state_balloon st;
	struct drv d;
	uint32_t n;

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	drv_setup(&d, &bal, true, true);
	nrecs = 0;
	virtio_balloon_set_target(&bal, 5000, msgs, &n);
	cfg_wr(&d, VIRTIO_BALLOON_CFG_ACTUAL, 4, 4321);
	drv_pfns(&d, 0, DATA_GPA, 0x111, 1);
	drv_kick(&d, 0);
	CHECK_EQ_INT(run(&d), 0);
	drv_pfns(&d, 0, DATA_GPA + 0x100, 0x222, 2);
	drv_pfns(&d, 1, DATA_GPA + 0x200, 0x333, 3);
	drv_kick(&d, 0);
	drv_kick(&d, 1); /* kicked, not yet processed */
	CHECK_EQ_U64(bal.pending, 3);
	virtio_balloon_save(&bal, &st);
	CHECK_EQ_U64(st.num_pages, 5000);
	CHECK_EQ_U64(st.actual, 4321);
	CHECK_EQ_U64(st.pending, 3);
	CHECK_EQ_U64(st.broken, 0);
	CHECK_EQ_U64(st.max_bytes, 0);
	CHECK_EQ_U64(st.vp.device_id, VIRTIO_PCI_DEVICE_BALLOON);
	CHECK_EQ_U64(st.vp.vq[0].used_idx, 1);

	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	CHECK_EQ_INT(virtio_balloon_load(&bal, &st), 0);
	CHECK_EQ_U64(bal.num_pages, 5000);
	CHECK_EQ_U64(bal.actual, 4321);
	CHECK_EQ_U64(bal.pending, 3);
	CHECK(!bal.broken);
	CHECK(virtio_balloon_driver_ok(&bal));
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BALLOON_CFG_NUM_PAGES, 4), 5000);
	CHECK_EQ_U64(cfg_rd(&d, VIRTIO_BALLOON_CFG_ACTUAL, 4), 4321);
	CHECK_EQ_INT(run(&d), 0);
	CHECK(recs_are(1, 0x222, 2, true));
	CHECK(recs_are(3, 0x333, 3, false));
	CHECK_EQ_U64(used_idx(&d, 0), 2);
	CHECK_EQ_U64(used_idx(&d, 1), 1);
	CHECK_EQ_U64(nmsgs, 2);
	check_refused(&st);

	/* The broken state round trip: still broken after loading, until
	 * reset. */
	{
		struct buf odd = { DATA_GPA, 3 };

		drv_add(&d, 0, &odd, 1);
		drv_kick(&d, 0);
		CHECK_EQ_INT(run(&d), -EIO);
	}
	drv_pfns(&d, 1, DATA_GPA + 0x300, 0x444, 1);
	drv_kick(&d, 1);
	virtio_balloon_save(&bal, &st);
	CHECK_EQ_U64(st.broken, 1);
	CHECK_EQ_U64(st.pending, 2);
	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	CHECK_EQ_INT(virtio_balloon_load(&bal, &st), 0);
	CHECK(bal.broken);
	CHECK_EQ_U64(bal.pending, 2);
	CHECK_EQ_U64(bal.num_pages, 5000);
	CHECK_EQ_INT(run(&d), -EIO);
	CHECK_EQ_U64(nrecs, 6);
	check_refused(&st);
	drv_status(&d, 0);
	CHECK(!bal.broken);
	CHECK_EQ_U64(bal.pending, 0);
	CHECK_EQ_U64(bal.actual, 0);
	/* A record from a device never touched by a driver loads too. */
	virtio_balloon_init(&bal, IO_BAR, MEM_BAR);
	virtio_balloon_save(&bal, &st);
	bal.num_pages = 1;
	CHECK_EQ_INT(virtio_balloon_load(&bal, &st), 0);
	CHECK_EQ_U64(bal.num_pages, 0);
}

int main(void)
{
	guest_init();
	test_identity();
	test_config();
	test_set_target();
	test_queues();
	test_budget();
	test_broken();
	test_driver_ok_gate();
	test_save_load();
	guest_fini();
	return harness_done("test_virtio_balloon");
}
