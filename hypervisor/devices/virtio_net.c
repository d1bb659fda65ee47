/*
 * virtio network device (virtio 1.x, 5.1 "Network Device", legacy
 * interface) joining a guest to the hypervisor's switch. Transmit (queue
 * 1, 5.1.6.2): each chain is the 10-byte legacy header (5.1.6, 5.1.6.1;
 * ignored, as no offload was offered) followed by one Ethernet frame,
 * which is copied out of guest memory once and handed to vswitch_input;
 * chains with a runt or oversize frame or with device-writable buffers
 * are dropped, counted and returned. Receive (queue 0, 5.1.6.3, 5.1.6.4):
 * while the switch holds frames for our port and the guest has posted
 * buffers, one frame goes into each buffer after a zeroed header; frames
 * that do not fit are dropped, counted and the buffer returned empty. A
 * chain the ring code rejects marks the device broken until reset
 * (2.1.2). Work per call is bounded, guest memory is reached only through
 * virtq.c's checked maps, and the switch lock is held only around single
 * switch calls (locking rules in virtio_net.h).
 */
#include <keel/virtio_net.h>
#include <keel/errno.h>
#include <keel/string.h>

#define HDR VIRTIO_NET_HDR_BYTES

static void net_sw_lock(const struct virtio_net *n)
{
	if (n->sw_lock)
		spin_lock(n->sw_lock);
}

static void net_sw_unlock(const struct virtio_net *n)
{
	if (n->sw_lock)
		spin_unlock(n->sw_lock);
}

/* Byte i of the device configuration (5.1.4): MAC, then status (le16). */
static uint8_t net_cfg_byte(const struct virtio_net *n, uint32_t i)
{
	if (i < VIRTIO_NET_CFG_STATUS)
		return n->mac[i];
	if (i == VIRTIO_NET_CFG_STATUS)
		return (uint8_t)n->link;
	return 0;
}

static uint32_t net_cfg_read(void *dev, uint32_t offset, uint32_t size)
{
	const struct virtio_net *n = dev;
	uint32_t v = 0, i;

	for (i = 0; i < size && i < 4; i++)
		if (offset + i < VIRTIO_NET_CONFIG_BYTES)
			v |= (uint32_t)net_cfg_byte(n, offset + i) << (8 * i);
	return v;
}

/* The MAC is the toolstack's: a legacy driver's write to it is ignored,
 * and the switch port is bound to it (frames from any other source
 * address are dropped, common/netdev.c). */
static void net_cfg_write(void *dev, uint32_t offset, uint32_t size,
			  uint32_t value)
{
	(void)dev;
	(void)offset;
	(void)size;
	(void)value;
}

static void net_notify(void *dev, uint16_t queue)
{
	struct virtio_net *n = dev;

	/* A receive kick needs no flag: receive work is always looked for. */
	if (queue == VIRTIO_NET_TXQ)
		n->tx_pending = true;
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	n->tx_pending = false;
	n->broken = false;
}

static const struct virtio_pci_dev_ops net_ops = {
	.cfg_read = net_cfg_read,
	.cfg_write = net_cfg_write,
	.notify = net_notify,
	.reset = net_reset,
};

/*
 * Set n up as a virtio-net PCI function (BAR0 at I/O port io_bar, MSI-X
 * BAR at mem_bar) with address mac (6 bytes, chosen by the toolstack) and
 * the link up, attached to port of sw. The caller has already added port
 * with vswitch_port_add. sw_lock is the switch's lock, taken around each
 * switch call (NULL when the caller serialises everything itself).
 */
void virtio_net_init(struct virtio_net *n, const uint8_t *mac,
		     uint16_t io_bar, uint32_t mem_bar, struct vswitch *sw,
		     uint32_t port, struct spinlock *sw_lock)
{
	uint32_t features = (1u << VIRTIO_NET_F_MAC) |
			    (1u << VIRTIO_NET_F_STATUS) |
			    (1u << VIRTIO_F_ANY_LAYOUT);

	memset(n, 0, sizeof(*n));
	memcpy(n->mac, mac, VSWITCH_ETH_ALEN);
	n->link = VIRTIO_NET_S_LINK_UP;
	n->sw = sw;
	n->port = port;
	n->sw_lock = sw_lock;
	virtio_pci_init(&n->vp, VIRTIO_PCI_DEVICE_NET, VIRTIO_PCI_SUBSYS_NET,
			VIRTIO_PCI_CLASS_NET, features, 2, io_bar, mem_bar,
			&net_ops, n);
	n->vp.queue_size_max = VIRTIO_NET_QUEUE_SIZE;
}

/* Whether the driver is up and may have its rings used (DRIVER_OK and
 * bus mastering, not failed or broken). */
static bool net_driver_ok(const struct virtio_net *n)
{
	return virtio_pci_rings_usable(&n->vp) && !n->broken;
}

/*
 * Transmit the chain in n->chain: header, then a frame of 14..1518 bytes,
 * all device-readable. Returns the switch ports that received it.
 */
static uint64_t net_tx_one(struct virtio_net *n,
			   const struct guest_mem_ops *mem, uint64_t now_ns)
{
	const struct virtq_chain *c = &n->chain;
	uint32_t len = c->read_bytes - HDR;
	uint64_t woke;

	if (c->read_bytes < HDR + VSWITCH_FRAME_MIN ||
	    c->read_bytes > HDR + VSWITCH_FRAME_MAX || c->write_bytes ||
	    !(n->link & VIRTIO_NET_S_LINK_UP) ||
	    virtq_chain_read(c, mem, HDR, n->buf + HDR, len) != (int32_t)len) {
		n->stats.tx_drops++;
		return 0;
	}
	net_sw_lock(n);
	woke = vswitch_input(n->sw, n->port, n->buf + HDR, len, now_ns);
	net_sw_unlock(n);
	n->stats.tx_packets++;
	n->stats.tx_bytes += len;
	return woke;
}

/*
 * Transmit up to VIRTIO_NET_BUDGET chains. Sets *used if any chain was
 * returned and ORs the woken ports into *woke. Returns 0 when the queue
 * is empty, 1 if the budget ran out, -EIO on a malformed ring.
 */
static int net_tx(struct virtio_net *n, const struct guest_mem_ops *mem,
		  uint64_t now_ns, bool *used, uint64_t *woke)
{
	struct virtq *q = &n->vp.vq[VIRTIO_NET_TXQ];
	uint32_t budget;
	int got;

	for (budget = 0; budget < VIRTIO_NET_BUDGET; budget++) {
		got = virtq_pop(q, mem, &n->chain);
		if (got == 0)
			return 0;
		if (got < 0) {
			if (n->chain.head != VIRTQ_NO_HEAD &&
			    !virtq_push(q, mem, n->chain.head, 0))
				*used = true;
			return -EIO;
		}
		*woke |= net_tx_one(n, mem, now_ns);
		if (virtq_push(q, mem, n->chain.head, 0))
			return -EIO;
		*used = true;
	}
	return 1;
}

/* Length of the next frame waiting on our port, 0 if none. */
static uint32_t net_rx_peek(const struct virtio_net *n)
{
	uint32_t len;

	net_sw_lock(n);
	len = vswitch_peek_len(n->sw, n->port);
	net_sw_unlock(n);
	return len;
}

/* Take the next frame for our port into n->buf after the header. */
static uint32_t net_rx_take(struct virtio_net *n)
{
	uint32_t len;

	net_sw_lock(n);
	len = vswitch_dequeue(n->sw, n->port, n->buf + HDR, VSWITCH_FRAME_MAX);
	net_sw_unlock(n);
	return len;
}

/* Discard every frame waiting for us (the link is down). */
static void net_rx_discard(struct virtio_net *n)
{
	while (net_rx_take(n))
		n->stats.rx_drops++;
}

/*
 * Put the next frame into the chain in n->chain (popped, device-writable
 * part at least as large as a header plus the frame, else the frame is
 * dropped). Returns the bytes written, for the used ring.
 */
static uint32_t net_rx_fill(struct virtio_net *n,
			    const struct guest_mem_ops *mem)
{
	const struct virtq_chain *c = &n->chain;
	uint32_t len = net_rx_take(n);

	if (len == 0)
		return 0; /* cannot happen: only we dequeue our port */
	if (c->write_bytes < HDR + len) {
		n->stats.rx_drops++;
		return 0;
	}
	memset(n->buf, 0, HDR); /* flags 0, GSO_NONE (5.1.6.4) */
	if (virtq_chain_write(c, mem, 0, n->buf, HDR + len) !=
	    (int32_t)(HDR + len)) {
		n->stats.rx_drops++;
		return 0;
	}
	n->stats.rx_packets++;
	n->stats.rx_bytes += len;
	return HDR + len;
}

/*
 * Deliver up to VIRTIO_NET_BUDGET frames into posted receive buffers.
 * Sets *used if any chain was returned. Returns 0 when out of frames or
 * buffers, 1 if the budget ran out with frames left, -EIO on a malformed
 * ring.
 */
static int net_rx(struct virtio_net *n, const struct guest_mem_ops *mem,
		  bool *used)
{
	struct virtq *q = &n->vp.vq[VIRTIO_NET_RXQ];
	uint32_t budget;
	int got;

	for (budget = 0; budget < VIRTIO_NET_BUDGET; budget++) {
		if (!net_rx_peek(n))
			return 0;
		got = virtq_pop(q, mem, &n->chain);
		if (got == 0)
			return 0;
		if (got < 0) {
			if (n->chain.head != VIRTQ_NO_HEAD &&
			    !virtq_push(q, mem, n->chain.head, 0))
				*used = true;
			return -EIO;
		}
		if (virtq_push(q, mem, n->chain.head, net_rx_fill(n, mem)))
			return -EIO;
		*used = true;
	}
	return net_rx_peek(n) != 0;
}

/* Append queue q's interrupt to out if the guest wants one. */
static void net_signal(struct virtio_net *n, const struct guest_mem_ops *mem,
		       uint16_t q, struct msi_msg *out, uint32_t *n_out)
{
	if (virtq_should_notify(&n->vp.vq[q], mem) &&
	    virtio_pci_raise(&n->vp, q, &out[*n_out]))
		(*n_out)++;
}

/* Stop using the rings until the driver resets the device (2.1.2) and
 * tell it through the configuration-change interrupt. */
static void net_break(struct virtio_net *n, struct msi_msg *out,
		      uint32_t *n_out)
{
	n->broken = true;
	n->tx_pending = false;
	n->stats.broken++;
	if (virtio_pci_raise(&n->vp, VIRTIO_PCI_CONFIG_IRQ, &out[*n_out]))
		(*n_out)++;
}

/* The combined result of the two queues' passes: -EIO wins, then 1. */
static int net_merge(int a, int b)
{
	if (a < 0 || b < 0)
		return -EIO;
	return a || b;
}

/*
 * Move frames: transmit what the guest queued (after a kick, or left over
 * from the last call), then receive what the switch holds for our port
 * into posted buffers, at most VIRTIO_NET_BUDGET chains per queue. Call
 * it after every guest write to the device's I/O BAR, whenever another
 * device's call (or the caller's own vswitch_input) reports our port in
 * its woke mask, and, while it returns 1, again later. now_ns is the
 * clock for the switch's address ageing. Until the driver sets DRIVER_OK
 * the rings are left alone; with the link down frames are dropped.
 * out receives up to VIRTIO_NET_MAX_MSGS MSI messages for the caller to
 * deliver (*n_out of them); *woke gets the mask of switch ports (bit n =
 * port n) that received frames. Returns 0 when idle, 1 if a budget ran
 * out with work left, or -EIO if the device is (now) broken.
 */
int virtio_net_process(struct virtio_net *n, const struct guest_mem_ops *mem,
		       uint64_t now_ns, struct msi_msg out[VIRTIO_NET_MAX_MSGS],
		       uint32_t *n_out, uint64_t *woke)
{
	bool tx_used = false, rx_used = false;
	int tx = 0, rx = 0;

	*n_out = 0;
	*woke = 0;
	if (n->broken)
		return -EIO;
	if (!net_driver_ok(n))
		return 0;
	if (n->tx_pending)
		tx = net_tx(n, mem, now_ns, &tx_used, woke);
	n->tx_pending = tx == 1;
	if (!(n->link & VIRTIO_NET_S_LINK_UP))
		net_rx_discard(n);
	else if (tx >= 0)
		rx = net_rx(n, mem, &rx_used);
	if (tx_used)
		net_signal(n, mem, VIRTIO_NET_TXQ, out, n_out);
	if (rx_used)
		net_signal(n, mem, VIRTIO_NET_RXQ, out, n_out);
	tx = net_merge(tx, rx);
	if (tx < 0)
		net_break(n, out, n_out);
	return tx;
}

/*
 * Set the link state the guest sees in the status field (5.1.4) and raise
 * the configuration-change interrupt. While the link is down transmitted
 * frames and frames for the port are dropped. Returns true with *msg
 * filled if there is an MSI message to deliver.
 */
bool virtio_net_set_link(struct virtio_net *n, bool up, struct msi_msg *msg)
{
	uint16_t link = up ? VIRTIO_NET_S_LINK_UP : 0;

	if (n->link == link)
		return false;
	n->link = link;
	return virtio_pci_raise(&n->vp, VIRTIO_PCI_CONFIG_IRQ, msg);
}

/* Copy n's counters to out, with the switch's count of frames dropped
 * because our port's queue was full (takes the switch lock). */
void virtio_net_get_stats(const struct virtio_net *n,
			  struct virtio_net_stats *out)
{
	struct vswitch_port_stats ps;

	*out = n->stats;
	net_sw_lock(n);
	if (vswitch_port_stats(n->sw, n->port, &ps) == 0)
		out->rx_queue_drops = ps.rx_drops;
	net_sw_unlock(n);
}

/* Save n's state; see virtio_net.h. */
void virtio_net_save(const struct virtio_net *n, struct keel_state_virtio_net *st)
{
	memset(st, 0, sizeof(*st));
	virtio_pci_save(&n->vp, &st->vp);
	memcpy(st->mac, n->mac, sizeof(st->mac));
	st->link = n->link;
	st->tx_pending = n->tx_pending;
	st->broken = n->broken;
}

/* Load n's state; see virtio_net.h. The model's fields are checked before
 * the transport is loaded, which itself loads all or nothing. */
int virtio_net_load(struct virtio_net *n, const struct keel_state_virtio_net *st)
{
	if (memcmp(st->mac, n->mac, sizeof(st->mac)) || st->reserved[0] || st->reserved[1] ||
	    st->link > VIRTIO_NET_S_LINK_UP || st->tx_pending > 1 || st->broken > 1 ||
	    st->reserved2)
		return -EINVAL;
	if (virtio_pci_load(&n->vp, &st->vp))
		return -EINVAL;
	n->link = (uint16_t)st->link;
	n->tx_pending = st->tx_pending;
	n->broken = st->broken;
	return 0;
}
