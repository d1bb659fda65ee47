/*
 * Unit tests for hypervisor/devices/virtio_net.c on the real transport
 * (virtio_pci.c), ring code (virtq.c) and switch (vswitch.c). Each guest
 * has its own RAM and drives its device through the legacy registers the
 * way Linux's virtio_pci_legacy and virtio_net do: reset, ACKNOWLEDGE and
 * DRIVER, feature negotiation, MSI-X vectors, queue set-up by PFN, the MAC
 * and link status from the configuration, DRIVER_OK, receive buffers
 * posted and kicked. Covered: identity and configuration, transmit into
 * the switch (header in its own descriptor or in front of the frame),
 * receive from the switch into guest buffers, two guests and dom0's port
 * exchanging an ARP-like broadcast then unicast, malformed chains
 * (runts, oversize, writable transmit buffers, small receive buffers,
 * buffers outside RAM, descriptor loops) and recovery by reset, MSI
 * messages (vectors, NO_INTERRUPT, masking and the PBA), budgets, link
 * down, counters, and a random run of garbage rings.
 */
#include "../../hypervisor/common/vswitch.c"
#include "../../hypervisor/common/virtq.c"
#include "../../hypervisor/devices/virtio_pci.c"
#include "../../hypervisor/devices/virtio_net.c"

#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define G_RAM (2u << 20)
#define G_RING0 0x10000u    /* receive ring (4 pages) */
#define G_RING1 0x20000u    /* transmit ring */
#define G_BUF0 0x100000u    /* receive buffers, 2 KiB per descriptor */
#define G_BUF1 0x180000u    /* transmit buffers */
#define G_SLOT 2048u
#define G_RXBUF (VIRTIO_NET_HDR_BYTES + 1518u) /* Linux's small buffers */
#define MSI_BASE 0xFEE00000u
#define VEC_BASE 0x40u

struct seg {
	uint32_t len;
	bool write;
};

struct guest {
	uint8_t *ram;
	struct guest_mem_ops mem;
	struct virtio_net n;
	uint16_t io;
	uint32_t bar1;
	uint8_t mac[6];
	int port;
	uint16_t size[2];
	uint16_t avail_idx[2], used_seen[2], next_desc[2];
	struct msi_msg msgs[64];
	uint32_t nmsgs;
	uint64_t woke;
	int rc;
};

static struct vswitch sw;
static void *sw_pool;
static struct spinlock sw_lock;
static struct guest ga, gb;
static int dom0;
static uint64_t now = 1000;

static void *g_map(void *ctx, uint64_t gpa, uint32_t len)
{
	struct guest *g = ctx;

	if (gpa >= G_RAM || len > G_RAM - gpa)
		return NULL;
	if (len && gpa / VIRTQ_CHUNK_BYTES != (gpa + len - 1) / VIRTQ_CHUNK_BYTES)
		return NULL;
	return g->ram + gpa;
}

static void put_le(uint8_t *p, uint64_t v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint32_t io_r(struct guest *g, uint16_t off, uint8_t size)
{
	CHECK(virtio_pci_io_hit(&g->n.vp, (uint16_t)(g->io + off)));
	return virtio_pci_io_read(&g->n.vp, (uint16_t)(g->io + off), size);
}

/* What the caller (the lead's exit handler) does per device. */
static int run(struct guest *g)
{
	struct msi_msg out[VIRTIO_NET_MAX_MSGS];
	uint32_t n_out = 99, i;

	g->rc = virtio_net_process(&g->n, &g->mem, now, out, &n_out, &g->woke);
	CHECK(n_out <= VIRTIO_NET_MAX_MSGS);
	for (i = 0; i < n_out && g->nmsgs < 64; i++)
		g->msgs[g->nmsgs++] = out[i];
	CHECK_EQ_U64(sw_lock.locked, 0);
	return g->rc;
}

static void io_w(struct guest *g, uint16_t off, uint8_t size, uint32_t v)
{
	virtio_pci_io_write(&g->n.vp, (uint16_t)(g->io + off), size, v);
	run(g);
}

static uint64_t ring_avail(struct guest *g, int q)
{
	return (q ? G_RING1 : G_RING0) + 16u * g->size[q];
}

static uint64_t ring_used(struct guest *g, int q)
{
	return ALIGN_UP(ring_avail(g, q) + 6 + 2u * g->size[q], 4096);
}

/* Program MSI-X entry v as Linux's PCI core would: address, data, unmask. */
static void msix_entry(struct guest *g, uint32_t v, bool masked)
{
	uint32_t e = g->bar1 + v * 16;

	virtio_pci_mmio_write(&g->n.vp, e, 4, MSI_BASE | (v << 12));
	virtio_pci_mmio_write(&g->n.vp, e + 4, 4, 0);
	virtio_pci_mmio_write(&g->n.vp, e + 8, 4, VEC_BASE + v);
	virtio_pci_mmio_write(&g->n.vp, e + 12, 4, masked);
}

/* vp_legacy setup_vq: select, size, vector, PFN. */
static void setup_queue(struct guest *g, int q, uint16_t vector)
{
	io_w(g, VIRTIO_PCI_REG_QUEUE_SEL, 2, (uint32_t)q);
	g->size[q] = (uint16_t)io_r(g, VIRTIO_PCI_REG_QUEUE_SIZE, 2);
	CHECK_EQ_U64(g->size[q], VIRTIO_NET_QUEUE_SIZE);
	CHECK_EQ_U64(io_r(g, VIRTIO_PCI_REG_QUEUE_PFN, 4), 0);
	io_w(g, VIRTIO_PCI_REG_QUEUE_VECTOR, 2, vector);
	CHECK_EQ_U64(io_r(g, VIRTIO_PCI_REG_QUEUE_VECTOR, 2), vector);
	io_w(g, VIRTIO_PCI_REG_QUEUE_PFN, 4, (q ? G_RING1 : G_RING0) >> 12);
	g->avail_idx[q] = g->used_seen[q] = g->next_desc[q] = 0;
}

/* Reset the device and bring it up as Linux's virtio_net probe does. */
static void probe(struct guest *g)
{
	uint32_t f, i;
	uint8_t m[6];

	memset(g->ram + G_RING0, 0, 0x20000);
	io_w(g, VIRTIO_PCI_REG_STATUS, 1, 0);
	io_w(g, VIRTIO_PCI_REG_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	io_w(g, VIRTIO_PCI_REG_STATUS, 1,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	f = io_r(g, VIRTIO_PCI_REG_HOST_FEATURES, 4);
	f &= (1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_STATUS) |
	     (1u << VIRTIO_F_ANY_LAYOUT) | (1u << VIRTIO_NET_F_MRG_RXBUF);
	io_w(g, VIRTIO_PCI_REG_GUEST_FEATURES, 4, f);
	/* MSI-X: enable, program config + 2 queue vectors */
	virtio_pci_cfg_write(&g->n.vp, VIRTIO_PCI_MSIX_CAP_OFF + 2, 2,
			     VIRTIO_PCI_MSIX_ENABLE);
	for (i = 0; i < 3; i++)
		msix_entry(g, i, false);
	io_w(g, VIRTIO_PCI_REG_CONFIG_VECTOR, 2, 0);
	CHECK_EQ_U64(io_r(g, VIRTIO_PCI_REG_CONFIG_VECTOR, 2), 0);
	setup_queue(g, VIRTIO_NET_RXQ, 1);
	setup_queue(g, VIRTIO_NET_TXQ, 2);
	for (i = 0; i < 6; i++)
		m[i] = (uint8_t)io_r(g, (uint16_t)(VIRTIO_PCI_CONFIG_OFF_MSIX + i),
				     1);
	CHECK(memcmp(m, g->mac, 6) == 0);
	CHECK_EQ_U64(io_r(g, VIRTIO_PCI_CONFIG_OFF_MSIX + 6, 2),
		     VIRTIO_NET_S_LINK_UP);
	io_w(g, VIRTIO_PCI_REG_STATUS, 1,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		     VIRTIO_STATUS_DRIVER_OK);
	g->nmsgs = 0;
}

static void guest_new(struct guest *g, uint8_t id, uint16_t io,
		      uint32_t bar1)
{
	static const uint8_t prefix[3] = { 0x02, 0x4b, 0x45 }; /* local */

	memset(g, 0, sizeof(*g));
	g->ram = calloc(1, G_RAM);
	g->mem.map = g_map;
	g->mem.ctx = g;
	g->io = io;
	g->bar1 = bar1;
	memcpy(g->mac, prefix, 3);
	g->mac[3] = 0;
	g->mac[4] = 0;
	g->mac[5] = id;
	g->port = vswitch_port_add(&sw, VSWITCH_QUEUE_DEFAULT);
	CHECK(g->port >= 0);
	virtio_net_init(&g->n, g->mac, io, bar1, &sw, (uint32_t)g->port,
			&sw_lock);
	/* the PCI core turns on bus mastering */
	virtio_pci_cfg_write(&g->n.vp, 0x04, 2,
			     VIRTIO_PCI_CMD_IO | VIRTIO_PCI_CMD_MEMORY |
				     VIRTIO_PCI_CMD_MASTER);
}

static void guest_free(struct guest *g)
{
	CHECK_EQ_INT(vswitch_port_remove(&sw, (uint32_t)g->port), 0);
	free(g->ram);
	g->ram = NULL;
}

static uint64_t buf_gpa(int q, uint16_t desc)
{
	return (q ? G_BUF1 : G_BUF0) + (uint64_t)desc * G_SLOT;
}

static void put_desc(struct guest *g, int q, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = g->ram + (q ? G_RING1 : G_RING0) + 16u * i;

	put_le(d, addr, 8);
	put_le(d + 8, len, 4);
	put_le(d + 12, flags, 2);
	put_le(d + 14, next, 2);
}

static void publish(struct guest *g, int q, uint16_t head)
{
	uint8_t *a = g->ram + ring_avail(g, q);

	put_le(a + 4 + 2u * (g->avail_idx[q] % g->size[q]), head, 2);
	g->avail_idx[q]++;
	put_le(a + 2, g->avail_idx[q], 2);
}

/* Post a chain of n segments on queue q; segment data comes from data
 * (read segments, concatenated). Returns the head. */
static uint16_t add_chain(struct guest *g, int q, const struct seg *s,
			  uint32_t n, const uint8_t *data)
{
	uint16_t head = g->next_desc[q], idx, i;
	uint32_t off = 0;

	for (i = 0; i < n; i++) {
		idx = (uint16_t)((head + i) % g->size[q]);
		if (!s[i].write && data) {
			memcpy(g->ram + buf_gpa(q, idx), data + off, s[i].len);
			off += s[i].len;
		}
		put_desc(g, q, idx, buf_gpa(q, idx), s[i].len,
			 (uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				    ((uint32_t)i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			 (uint16_t)((idx + 1) % g->size[q]));
	}
	g->next_desc[q] = (uint16_t)((head + n) % g->size[q]);
	publish(g, q, head);
	return head;
}

static void kick(struct guest *g, int q)
{
	io_w(g, VIRTIO_PCI_REG_QUEUE_NOTIFY, 2, (uint32_t)q);
}

/* Post count receive buffers like add_recvbuf_small and kick. */
static void post_rx(struct guest *g, uint32_t count, uint32_t len)
{
	struct seg s = { len, true };
	uint32_t i;

	for (i = 0; i < count; i++)
		add_chain(g, VIRTIO_NET_RXQ, &s, 1, NULL);
	kick(g, VIRTIO_NET_RXQ);
}

/* Transmit frame f: header in its own descriptor (split) or in front of
 * the frame in one descriptor (ANY_LAYOUT). Does not kick. */
static uint16_t queue_tx(struct guest *g, const uint8_t *f, uint32_t len,
			 bool split)
{
	uint8_t pkt[VIRTIO_NET_HDR_BYTES + 2048];
	struct seg s[2];

	memset(pkt, 0, VIRTIO_NET_HDR_BYTES);
	memcpy(pkt + VIRTIO_NET_HDR_BYTES, f, len);
	if (split) {
		s[0] = (struct seg){ VIRTIO_NET_HDR_BYTES, false };
		s[1] = (struct seg){ len, false };
		return add_chain(g, VIRTIO_NET_TXQ, s, 2, pkt);
	}
	s[0] = (struct seg){ VIRTIO_NET_HDR_BYTES + len, false };
	return add_chain(g, VIRTIO_NET_TXQ, s, 1, pkt);
}

/* Next used element of queue q: returns false if none. */
static bool used_pop(struct guest *g, int q, uint32_t *id, uint32_t *len)
{
	uint8_t *u = g->ram + ring_used(g, q);
	uint16_t i = g->used_seen[q];

	if ((uint16_t)get_le(u + 2, 2) == i)
		return false;
	*id = (uint32_t)get_le(u + 4 + 8u * (i % g->size[q]), 4);
	*len = (uint32_t)get_le(u + 8 + 8u * (i % g->size[q]), 4);
	g->used_seen[q]++;
	return true;
}

/* Next received frame: copies it (without header) into f, returns its
 * length, or -1 if the used ring is empty. Checks the zero header. */
static int rx_frame(struct guest *g, uint8_t *f)
{
	static const uint8_t zero[VIRTIO_NET_HDR_BYTES];
	uint32_t id, len;
	const uint8_t *b;

	if (!used_pop(g, VIRTIO_NET_RXQ, &id, &len))
		return -1;
	if (len == 0)
		return 0;
	b = g->ram + buf_gpa(VIRTIO_NET_RXQ, (uint16_t)id);
	CHECK(memcmp(b, zero, VIRTIO_NET_HDR_BYTES) == 0);
	CHECK(len >= VIRTIO_NET_HDR_BYTES);
	memcpy(f, b + VIRTIO_NET_HDR_BYTES, len - VIRTIO_NET_HDR_BYTES);
	return (int)(len - VIRTIO_NET_HDR_BYTES);
}

static uint32_t make_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src,
			   uint16_t type, uint8_t tag, uint32_t len)
{
	uint32_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(tag + i);
	return len;
}

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Whether msg is vector v of g's MSI-X table. */
static bool is_vec(const struct msi_msg *m, uint32_t v)
{
	return m->data == VEC_BASE + v && m->address == (MSI_BASE | (v << 12));
}

static bool got_vec(const struct guest *g, uint32_t v)
{
	uint32_t i;

	for (i = 0; i < g->nmsgs; i++)
		if (is_vec(&g->msgs[i], v))
			return true;
	return false;
}

static void setup(void)
{
	sw_pool = malloc(VSWITCH_POOL_BYTES(VSWITCH_POOL_DEFAULT));
	CHECK_EQ_INT(vswitch_init(&sw, 0, sw_pool,
				  VSWITCH_POOL_BYTES(VSWITCH_POOL_DEFAULT)), 0);
	sw_lock.locked = 0;
	dom0 = vswitch_port_add(&sw, VSWITCH_QUEUE_DEFAULT);
	CHECK_EQ_INT(dom0, 0);
	guest_new(&ga, 0xa, 0xc000, 0xfe000000);
	guest_new(&gb, 0xb, 0xc040, 0xfe001000);
	probe(&ga);
	probe(&gb);
}

static void teardown(void)
{
	guest_free(&ga);
	guest_free(&gb);
	CHECK_EQ_INT(vswitch_port_remove(&sw, (uint32_t)dom0), 0);
	free(sw_pool);
}

static void drain_dom0(void)
{
	uint8_t f[VSWITCH_FRAME_MAX];

	while (vswitch_dequeue(&sw, (uint32_t)dom0, f, sizeof(f)))
		;
}

static void test_identity(void)
{
	struct virtio_pci *vp = &ga.n.vp;
	uint32_t f;

	setup();
	CHECK_EQ_U64(virtio_pci_cfg_read(vp, 0, 4), 0x10001AF4);
	CHECK_EQ_U64(virtio_pci_cfg_read(vp, 0x2E, 2), 1);
	CHECK_EQ_U64(virtio_pci_cfg_read(vp, 0x08, 4), 0x02000000);
	f = io_r(&ga, VIRTIO_PCI_REG_HOST_FEATURES, 4);
	CHECK(f & (1u << VIRTIO_NET_F_MAC));
	CHECK(f & (1u << VIRTIO_NET_F_STATUS));
	CHECK(!(f & (1u << VIRTIO_NET_F_MRG_RXBUF)));
	CHECK(!(f & 1u)); /* no CSUM */
	CHECK(!(f & (1u << 17))); /* no CTRL_VQ */
	CHECK(!(f & (1u << 22))); /* no MQ */
	CHECK(!(f & (1u << VIRTIO_RING_F_EVENT_IDX)));
	/* configuration: dword reads, status, bytes past the end */
	CHECK_EQ_U64(io_r(&ga, VIRTIO_PCI_CONFIG_OFF_MSIX, 4), 0x00454b02);
	CHECK_EQ_U64(io_r(&ga, VIRTIO_PCI_CONFIG_OFF_MSIX + 4, 4),
		     0x00010a00);
	CHECK_EQ_U64(io_r(&ga, VIRTIO_PCI_CONFIG_OFF_MSIX + 8, 4), 0);
	/* the MAC is not writable */
	io_w(&ga, VIRTIO_PCI_CONFIG_OFF_MSIX, 1, 0x77);
	CHECK_EQ_U64(io_r(&ga, VIRTIO_PCI_CONFIG_OFF_MSIX, 1), 0x02);
	/* without MSI-X the configuration starts at 20 */
	virtio_pci_cfg_write(vp, VIRTIO_PCI_MSIX_CAP_OFF + 2, 2, 0);
	CHECK_EQ_U64(io_r(&ga, VIRTIO_PCI_CONFIG_OFF_NOMSIX + 5, 1), 0xa);
	CHECK_EQ_U64(io_r(&ga, VIRTIO_PCI_CONFIG_OFF_NOMSIX + 6, 2), 1);
	teardown();
}

static void test_tx(void)
{
	uint8_t f[VSWITCH_FRAME_MAX], out[VSWITCH_FRAME_MAX];
	uint32_t id, len, head;
	struct virtio_net_stats st;

	setup();
	/* split header and frame, as without ANY_LAYOUT */
	make_frame(f, bcast, ga.mac, 0x0806, 1, 60);
	head = queue_tx(&ga, f, 60, true);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_INT(ga.rc, 0);
	CHECK_EQ_U64(ga.woke, (1ull << dom0) | (1ull << gb.port));
	CHECK_EQ_U64(vswitch_dequeue(&sw, (uint32_t)dom0, out, sizeof(out)),
		     60);
	CHECK(memcmp(out, f, 60) == 0);
	CHECK(used_pop(&ga, VIRTIO_NET_TXQ, &id, &len));
	CHECK_EQ_U64(id, head);
	CHECK_EQ_U64(len, 0);
	CHECK(!used_pop(&ga, VIRTIO_NET_TXQ, &id, &len));
	CHECK_EQ_U64(ga.nmsgs, 1);
	CHECK(is_vec(&ga.msgs[0], 2));
	CHECK_EQ_INT(vswitch_lookup(&sw, ga.mac, now), ga.port);
	/* header in front of a full-size frame, one descriptor */
	make_frame(f, bcast, ga.mac, 0x0800, 2, VSWITCH_FRAME_MAX);
	queue_tx(&ga, f, VSWITCH_FRAME_MAX, false);
	make_frame(f, bcast, ga.mac, 0x0800, 3, 14);
	queue_tx(&ga, f, 14, false);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_U64(vswitch_dequeue(&sw, (uint32_t)dom0, out, sizeof(out)),
		     VSWITCH_FRAME_MAX);
	CHECK_EQ_U64(out[100], (uint8_t)(2 + 100));
	CHECK_EQ_U64(vswitch_dequeue(&sw, (uint32_t)dom0, out, sizeof(out)),
		     14);
	virtio_net_get_stats(&ga.n, &st);
	CHECK_EQ_U64(st.tx_packets, 3);
	CHECK_EQ_U64(st.tx_bytes, 60 + VSWITCH_FRAME_MAX + 14);
	CHECK_EQ_U64(st.tx_drops, 0);
	/* no kick, nothing happens; a kick of the receive queue does not
	 * transmit */
	queue_tx(&ga, f, 14, false);
	run(&ga);
	kick(&ga, VIRTIO_NET_RXQ);
	CHECK(!vswitch_pending(&sw, (uint32_t)dom0));
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK(vswitch_pending(&sw, (uint32_t)dom0));
	teardown();
}

static void test_rx(void)
{
	uint8_t f[VSWITCH_FRAME_MAX], got[2048];
	uint8_t d0mac[6] = { 0x02, 0x4b, 0x45, 0, 0, 0xd0 };
	struct virtio_net_stats st;
	uint64_t woke;

	setup();
	/* frames waiting before buffers are posted stay queued */
	make_frame(f, ga.mac, d0mac, 0x0800, 5, 100);
	woke = vswitch_input(&sw, (uint32_t)dom0, f, 100, now);
	CHECK_EQ_U64(woke, (1ull << ga.port) | (1ull << gb.port)); /* unknown */
	CHECK_EQ_INT(run(&ga), 0);
	CHECK_EQ_INT(rx_frame(&ga, got), -1);
	post_rx(&ga, 4, G_RXBUF);
	CHECK_EQ_INT(rx_frame(&ga, got), 100);
	CHECK(memcmp(got, f, 100) == 0);
	CHECK_EQ_INT(rx_frame(&ga, got), -1);
	CHECK_EQ_U64(ga.nmsgs, 1);
	CHECK(is_vec(&ga.msgs[0], 1));
	/* the switch wakes us for a new frame; a full-size one fits */
	make_frame(f, ga.mac, d0mac, 0x0800, 6, VSWITCH_FRAME_MAX);
	woke = vswitch_input(&sw, (uint32_t)dom0, f, VSWITCH_FRAME_MAX, now);
	/* a has sent nothing yet: its address is unknown, so flooded */
	CHECK_EQ_U64(woke, (1ull << ga.port) | (1ull << gb.port));
	run(&ga);
	CHECK_EQ_INT(rx_frame(&ga, got), VSWITCH_FRAME_MAX);
	CHECK(memcmp(got, f, VSWITCH_FRAME_MAX) == 0);
	virtio_net_get_stats(&ga.n, &st);
	CHECK_EQ_U64(st.rx_packets, 2);
	CHECK_EQ_U64(st.rx_bytes, 100 + VSWITCH_FRAME_MAX);
	CHECK_EQ_U64(st.rx_drops, 0);
	/* more frames than buffers: the rest wait for the next kick */
	make_frame(f, ga.mac, d0mac, 0x0800, 7, 64);
	vswitch_input(&sw, (uint32_t)dom0, f, 64, now);
	vswitch_input(&sw, (uint32_t)dom0, f, 64, now);
	vswitch_input(&sw, (uint32_t)dom0, f, 64, now);
	run(&ga);
	CHECK_EQ_INT(rx_frame(&ga, got), 64);
	CHECK_EQ_INT(rx_frame(&ga, got), 64);
	CHECK_EQ_INT(rx_frame(&ga, got), -1);
	CHECK(vswitch_pending(&sw, (uint32_t)ga.port));
	post_rx(&ga, 1, G_RXBUF);
	CHECK_EQ_INT(rx_frame(&ga, got), 64);
	CHECK(!vswitch_pending(&sw, (uint32_t)ga.port));
	teardown();
}

/* a and b find each other by broadcast, then talk unicast. */
static void test_two_guests(void)
{
	uint8_t f[VSWITCH_FRAME_MAX], got[2048], out[VSWITCH_FRAME_MAX];

	setup();
	post_rx(&ga, 8, G_RXBUF);
	post_rx(&gb, 8, G_RXBUF);
	/* a: who-has b? (broadcast ARP request) */
	make_frame(f, bcast, ga.mac, 0x0806, 0x10, 60);
	queue_tx(&ga, f, 60, false);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_U64(ga.woke, (1ull << dom0) | (1ull << gb.port));
	CHECK_EQ_INT(rx_frame(&ga, got), -1); /* not reflected */
	run(&gb);                              /* the caller wakes b */
	CHECK_EQ_INT(rx_frame(&gb, got), 60);
	CHECK(memcmp(got, f, 60) == 0);
	CHECK(got_vec(&gb, 1));
	CHECK_EQ_U64(vswitch_dequeue(&sw, (uint32_t)dom0, out, sizeof(out)),
		     60);
	/* b: is-at (unicast reply, split header) */
	make_frame(f, ga.mac, gb.mac, 0x0806, 0x20, 60);
	queue_tx(&gb, f, 60, true);
	kick(&gb, VIRTIO_NET_TXQ);
	CHECK_EQ_U64(gb.woke, 1ull << ga.port);
	CHECK(!vswitch_pending(&sw, (uint32_t)dom0));
	run(&ga);
	CHECK_EQ_INT(rx_frame(&ga, got), 60);
	CHECK(memcmp(got, f, 60) == 0);
	/* a -> b unicast, many frames both ways */
	for (uint32_t i = 0; i < 6; i++) {
		make_frame(f, gb.mac, ga.mac, 0x0800, (uint8_t)i, 200 + i);
		queue_tx(&ga, f, 200 + i, false);
	}
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_U64(ga.woke, 1ull << gb.port);
	run(&gb);
	for (uint32_t i = 0; i < 6; i++) {
		make_frame(f, gb.mac, ga.mac, 0x0800, (uint8_t)i, 200 + i);
		CHECK_EQ_INT(rx_frame(&gb, got), 200 + i);
		CHECK(memcmp(got, f, 200 + i) == 0);
	}
	CHECK(!vswitch_pending(&sw, (uint32_t)dom0));
	/* dom0 answers a directly */
	{
		uint8_t d0mac[6] = { 0x02, 0x4b, 0x45, 0, 0, 0xd0 };

		make_frame(f, ga.mac, d0mac, 0x0800, 9, 70);
		CHECK_EQ_U64(vswitch_input(&sw, (uint32_t)dom0, f, 70, now),
			     1ull << ga.port);
		run(&ga);
		CHECK_EQ_INT(rx_frame(&ga, got), 70);
	}
	teardown();
}

static void test_malformed(void)
{
	uint8_t f[2048], got[2048];
	struct virtio_net_stats st;
	struct seg s[2];
	uint32_t id, len;

	setup();
	post_rx(&gb, 4, G_RXBUF);
	make_frame(f, bcast, ga.mac, 0x0800, 0, 1600);
	/* runt: 13-byte frame; header only; shorter than a header */
	queue_tx(&ga, f, 13, false);
	s[0] = (struct seg){ VIRTIO_NET_HDR_BYTES, false };
	add_chain(&ga, VIRTIO_NET_TXQ, s, 1, f);
	s[0] = (struct seg){ 5, false };
	add_chain(&ga, VIRTIO_NET_TXQ, s, 1, f);
	/* oversize: 1519 bytes and 1600 bytes */
	queue_tx(&ga, f, VSWITCH_FRAME_MAX + 1, true);
	queue_tx(&ga, f, 1600, false);
	/* a device-writable buffer in a transmit chain */
	s[0] = (struct seg){ 70, false };
	s[1] = (struct seg){ 64, true };
	add_chain(&ga, VIRTIO_NET_TXQ, s, 2, f);
	/* then a good one */
	queue_tx(&ga, f, 60, false);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_INT(ga.rc, 0);
	virtio_net_get_stats(&ga.n, &st);
	CHECK_EQ_U64(st.tx_drops, 6);
	CHECK_EQ_U64(st.tx_packets, 1);
	CHECK_EQ_U64(st.broken, 0);
	for (uint32_t i = 0; i < 7; i++) {
		CHECK(used_pop(&ga, VIRTIO_NET_TXQ, &id, &len));
		CHECK_EQ_U64(len, 0);
	}
	run(&gb);
	CHECK_EQ_INT(rx_frame(&gb, got), 60);
	CHECK_EQ_INT(rx_frame(&gb, got), -1);
	/* receive buffers too small or read-only: frame dropped, buffer
	 * returned empty, the next buffer gets the next frame */
	{
		struct seg r = { 30, true };
		struct seg ro = { 2000, false };

		add_chain(&gb, VIRTIO_NET_RXQ, &r, 1, NULL);
		add_chain(&gb, VIRTIO_NET_RXQ, &ro, 1, f);
		kick(&gb, VIRTIO_NET_RXQ);
		queue_tx(&ga, f, 60, false);
		queue_tx(&ga, f, 61, false);
		queue_tx(&ga, f, 62, false);
		kick(&ga, VIRTIO_NET_TXQ);
		run(&gb);
		CHECK_EQ_INT(rx_frame(&gb, got), 60); /* 3 buffers left */
		CHECK_EQ_INT(rx_frame(&gb, got), 61);
		CHECK_EQ_INT(rx_frame(&gb, got), 62);
		CHECK_EQ_INT(rx_frame(&gb, got), -1);
		queue_tx(&ga, f, 63, false);
		queue_tx(&ga, f, 64, false);
		queue_tx(&ga, f, 65, false);
		kick(&ga, VIRTIO_NET_TXQ);
		run(&gb);
		CHECK_EQ_INT(rx_frame(&gb, got), 0);  /* 30-byte buffer */
		CHECK_EQ_INT(rx_frame(&gb, got), 0);  /* read-only buffer */
		CHECK_EQ_INT(rx_frame(&gb, got), -1); /* 65 waits */
		virtio_net_get_stats(&gb.n, &st);
		CHECK_EQ_U64(st.rx_drops, 2);
		CHECK_EQ_U64(st.broken, 0);
		post_rx(&gb, 1, G_RXBUF);
		CHECK_EQ_INT(rx_frame(&gb, got), 65);
	}
	/* a buffer outside guest RAM: the device breaks, says so with the
	 * configuration interrupt and ignores the rings until reset */
	ga.nmsgs = 0;
	put_desc(&ga, VIRTIO_NET_TXQ, ga.next_desc[1], G_RAM - 8, 100, 0, 0);
	publish(&ga, VIRTIO_NET_TXQ, ga.next_desc[1]);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_INT(ga.rc, -EIO);
	CHECK(got_vec(&ga, 0));
	CHECK(used_pop(&ga, VIRTIO_NET_TXQ, &id, &len)); /* handed back */
	queue_tx(&ga, f, 60, false);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_INT(ga.rc, -EIO);
	virtio_net_get_stats(&ga.n, &st);
	CHECK_EQ_U64(st.broken, 1);
	CHECK_EQ_U64(st.tx_packets, 7); /* the good one, 60..62, 63..65 */
	/* reset and probe again: it works */
	probe(&ga);
	queue_tx(&ga, f, 60, false);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_INT(ga.rc, 0);
	/* a descriptor loop in the receive ring */
	drain_dom0();
	put_desc(&ga, VIRTIO_NET_RXQ, 0, buf_gpa(0, 0), 100,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	publish(&ga, VIRTIO_NET_RXQ, 0);
	kick(&ga, VIRTIO_NET_RXQ);
	CHECK_EQ_INT(ga.rc, 0); /* nothing to receive: ring not read */
	make_frame(f, ga.mac, gb.mac, 0x0800, 0, 60);
	queue_tx(&gb, f, 60, false);
	kick(&gb, VIRTIO_NET_TXQ);
	CHECK(gb.woke & (1ull << ga.port));
	CHECK_EQ_INT(run(&ga), -EIO);
	/* an available index far ahead of the ring */
	probe(&gb);
	put_le(gb.ram + ring_avail(&gb, 1) + 2, 1000, 2);
	kick(&gb, VIRTIO_NET_TXQ);
	CHECK_EQ_INT(gb.rc, -EIO);
	teardown();
}

static void test_interrupts(void)
{
	uint8_t f[128], got[2048];
	uint32_t id, len;
	struct msi_msg m;

	setup();
	post_rx(&gb, 4, G_RXBUF);
	make_frame(f, bcast, ga.mac, 0x0806, 0, 60);
	/* the driver suppresses transmit interrupts (NO_INTERRUPT) */
	put_le(ga.ram + ring_avail(&ga, 1), VIRTQ_AVAIL_F_NO_INTERRUPT, 2);
	queue_tx(&ga, f, 60, false);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_U64(ga.nmsgs, 0);
	CHECK(used_pop(&ga, VIRTIO_NET_TXQ, &id, &len));
	put_le(ga.ram + ring_avail(&ga, 1), 0, 2);
	/* b's receive vector masked: PBA bit, message on unmask */
	msix_entry(&gb, 1, true);
	run(&gb);
	CHECK_EQ_INT(rx_frame(&gb, got), 60);
	CHECK_EQ_U64(gb.nmsgs, 0);
	CHECK_EQ_U64(gb.n.vp.msix_pba, 1u << 1);
	msix_entry(&gb, 1, false);
	CHECK(virtio_pci_take_msg(&gb.n.vp, &m));
	CHECK(is_vec(&m, 1));
	CHECK(!virtio_pci_take_msg(&gb.n.vp, &m));
	/* both queues in one call: two messages, distinct vectors */
	make_frame(f, bcast, gb.mac, 0x0806, 0, 60);
	queue_tx(&gb, f, 60, false);
	kick(&ga, VIRTIO_NET_RXQ); /* no-op for a */
	make_frame(f, gb.mac, ga.mac, 0x0800, 0, 60);
	queue_tx(&ga, f, 60, false);
	virtio_pci_io_write(&ga.n.vp, (uint16_t)(ga.io + 16), 2, 1);
	run(&ga);
	virtio_pci_io_write(&gb.n.vp, (uint16_t)(gb.io + 16), 2, 1);
	gb.nmsgs = 0;
	run(&gb);
	CHECK_EQ_U64(gb.nmsgs, 2);
	CHECK(got_vec(&gb, 1) && got_vec(&gb, 2));
	CHECK_EQ_INT(rx_frame(&gb, got), 60);
	CHECK(used_pop(&gb, VIRTIO_NET_TXQ, &id, &len));
	/* link down: configuration interrupt, status 0, frames dropped */
	CHECK(virtio_net_set_link(&gb.n, false, &m));
	CHECK(is_vec(&m, 0));
	CHECK_EQ_U64(io_r(&gb, VIRTIO_PCI_REG_ISR, 1) & VIRTIO_PCI_ISR_CONFIG,
		     VIRTIO_PCI_ISR_CONFIG);
	CHECK_EQ_U64(io_r(&gb, VIRTIO_PCI_CONFIG_OFF_MSIX + 6, 2), 0);
	CHECK(!virtio_net_set_link(&gb.n, false, &m));
	queue_tx(&ga, f, 60, false);
	kick(&ga, VIRTIO_NET_TXQ);
	run(&gb);
	CHECK(!vswitch_pending(&sw, (uint32_t)gb.port));
	CHECK_EQ_INT(rx_frame(&gb, got), -1);
	CHECK_EQ_U64(gb.n.stats.rx_drops, 1);
	make_frame(f, bcast, gb.mac, 0x0800, 0, 60);
	queue_tx(&gb, f, 60, false);
	kick(&gb, VIRTIO_NET_TXQ);
	CHECK_EQ_U64(gb.n.stats.tx_drops, 1);
	CHECK_EQ_U64(gb.woke, 0);
	CHECK(virtio_net_set_link(&gb.n, true, &m));
	CHECK_EQ_U64(io_r(&gb, VIRTIO_PCI_CONFIG_OFF_MSIX + 6, 2), 1);
	teardown();
}

static void test_budget_and_state(void)
{
	uint8_t f[128], got[2048];
	struct virtio_net_stats st;
	uint32_t i;

	setup();
	/* 200 frames: one call moves VIRTIO_NET_BUDGET, the next the rest */
	make_frame(f, gb.mac, ga.mac, 0x0800, 0, 60);
	for (i = 0; i < 200; i++)
		queue_tx(&ga, f, 60, false);
	virtio_pci_io_write(&ga.n.vp, (uint16_t)(ga.io + 16), 2, 1);
	CHECK_EQ_INT(run(&ga), 1);
	CHECK_EQ_U64(ga.n.stats.tx_packets, VIRTIO_NET_BUDGET);
	CHECK_EQ_INT(run(&ga), 0);
	CHECK_EQ_U64(ga.n.stats.tx_packets, 200);
	/* b's queue took its fair share, the rest counted as drops */
	virtio_net_get_stats(&gb.n, &st);
	CHECK(st.rx_queue_drops > 0);
	CHECK_EQ_U64(st.rx_queue_drops + sw.ports[gb.port].count, 200);
	/* b gets the 128 queued frames in one call (exactly the budget,
	 * nothing left, so 0) */
	post_rx(&gb, 200, G_RXBUF);
	CHECK_EQ_INT(gb.rc, 0); /* fewer than the budget were queued */
	for (i = 0; rx_frame(&gb, got) == 60; i++)
		;
	CHECK_EQ_U64(i, 200 - st.rx_queue_drops);
	/* before DRIVER_OK the rings are not touched */
	io_w(&gb, VIRTIO_PCI_REG_STATUS, 1, 0);
	io_w(&gb, VIRTIO_PCI_REG_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	queue_tx(&ga, f, 60, false);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_INT(run(&gb), 0);
	CHECK(vswitch_pending(&sw, (uint32_t)gb.port));
	/* nor without bus mastering */
	probe(&gb);
	virtio_pci_cfg_write(&gb.n.vp, 0x04, 2, VIRTIO_PCI_CMD_IO);
	post_rx(&gb, 4, G_RXBUF);
	CHECK_EQ_INT(rx_frame(&gb, got), -1);
	virtio_pci_cfg_write(&gb.n.vp, 0x04, 2,
			     VIRTIO_PCI_CMD_IO | VIRTIO_PCI_CMD_MEMORY |
				     VIRTIO_PCI_CMD_MASTER);
	run(&gb);
	CHECK_EQ_INT(rx_frame(&gb, got), 60);
	/* no switch lock given: still works, caller serialises */
	gb.n.sw_lock = NULL;
	queue_tx(&ga, f, 60, false);
	kick(&ga, VIRTIO_NET_TXQ);
	run(&gb);
	CHECK_EQ_INT(rx_frame(&gb, got), 60);
	teardown();
}

/* Garbage in the transmit and receive rings never crashes the device or
 * touches memory outside guest RAM (ASan watches). */
static void test_random_rings(void)
{
	uint32_t round, i, q, bad = 0;
	uint8_t *d;

	setup();
	for (round = 0; round < 3000; round++) {
		q = (uint32_t)harness_rand_below(2);
		d = ga.ram + (q ? G_RING1 : G_RING0);
		for (i = 0; i < 8; i++) {
			uint32_t k = (uint32_t)harness_rand_below(256);
			uint64_t addr = harness_rand_below(4)
						? buf_gpa((int)q, (uint16_t)k)
						: harness_rand();

			put_le(d + 16 * k, addr, 8);
			put_le(d + 16 * k + 8, harness_rand_below(4) ?
				       harness_rand_below(2100) : harness_rand(), 4);
			put_le(d + 16 * k + 12, harness_rand_below(8), 2);
			put_le(d + 16 * k + 14, harness_rand_below(300), 2);
			publish(&ga, (int)q, (uint16_t)harness_rand_below(300));
		}
		if (harness_rand_below(2)) {
			uint8_t f[64];

			make_frame(f, ga.mac, gb.mac, 0x0800, 0, 60);
			vswitch_input(&sw, (uint32_t)gb.port, f, 60, now);
		}
		kick(&ga, (int)q);
		if (ga.rc < -EIO || ga.rc > 1)
			bad++;
		if (ga.rc < 0 || harness_rand_below(50) == 0)
			probe(&ga);
	}
	CHECK_EQ_U64(bad, 0);
	teardown();
}

/* A NIC that has sent frames is saved, its device put back to power-on
 * (as a restore's fresh domain has it) and loaded: the guest's next frame
 * goes out and its used ring continues where it was. A record for another
 * MAC, a bad link or flag, or a bad transport is refused unchanged. */
static void test_save_load(void)
{
	uint8_t f[VSWITCH_FRAME_MAX], out[VSWITCH_FRAME_MAX];
	struct keel_state_virtio_net st, bad;
	struct virtio_net before;
	uint32_t id, len, head;

	setup();
	make_frame(f, bcast, ga.mac, 0x0800, 1, 60);
	for (int i = 0; i < 3; i++) {
		queue_tx(&ga, f, 60, false);
		kick(&ga, VIRTIO_NET_TXQ);
		CHECK(used_pop(&ga, VIRTIO_NET_TXQ, &id, &len));
	}
	drain_dom0();
	virtio_net_save(&ga.n, &st);
	CHECK_EQ_U64(st.vp.vq[VIRTIO_NET_TXQ].used_idx, 3);
	CHECK_EQ_U64(st.link, VIRTIO_NET_S_LINK_UP);

	virtio_net_init(&ga.n, ga.mac, 0xc000, 0xfe000000, &sw, (uint32_t)ga.port, &sw_lock);
	CHECK_EQ_INT(virtio_net_load(&ga.n, &st), 0);
	make_frame(f, bcast, ga.mac, 0x0800, 7, 80);
	head = queue_tx(&ga, f, 80, false);
	kick(&ga, VIRTIO_NET_TXQ);
	CHECK_EQ_INT(ga.rc, 0);
	CHECK_EQ_U64(vswitch_dequeue(&sw, (uint32_t)dom0, out, sizeof(out)), 80);
	CHECK(memcmp(out, f, 80) == 0);
	CHECK(used_pop(&ga, VIRTIO_NET_TXQ, &id, &len));
	CHECK_EQ_U64(id, head);
	CHECK_EQ_U64(ga.n.vp.vq[VIRTIO_NET_TXQ].used_idx, 4);

	before = ga.n;
	for (int i = 0; i < 6; i++) {
		bad = st;
		switch (i) {
		case 0: bad.mac[5] ^= 1; break;      /* another NIC's record */
		case 1: bad.link = 2; break;
		case 2: bad.tx_pending = 2; break;
		case 3: bad.broken = 3; break;
		case 4: bad.reserved2 = 1; break;
		case 5: bad.vp.isr = 8; break;       /* the transport's checks */
		}
		CHECK_MSG(virtio_net_load(&ga.n, &bad) == -EINVAL, "case %d accepted", i);
		CHECK(memcmp(&ga.n, &before, sizeof(before)) == 0);
	}
	teardown();
}

int main(void)
{
	test_identity();
	test_save_load();
	test_tx();
	test_rx();
	test_two_guests();
	test_malformed();
	test_interrupts();
	test_budget_and_state();
	test_random_rings();
	return harness_done("virtio_net");
}
