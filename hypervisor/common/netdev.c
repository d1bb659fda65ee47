/*
 * Guest network interfaces. Every NIC is a legacy virtio-net PCI device
 * (devices/virtio_net.c) with a port on one virtual switch
 * (common/vswitch.c) that joins all guests. A guest's transmit kick is
 * served on its own vCPU under its domain's lock; frames the switch queues
 * for another domain's port set a bit in that domain's net_pending mask and
 * kick its vCPUs, and that domain's own CPU moves them into its receive
 * ring (netdev_poll). No code ever holds two domains' locks; the switch
 * lock is taken inside a domain's lock, never the other way round. A
 * domain found through the switch's port owners is used only while the
 * switch lock is held (see wake_ports).
 */
#include <keel/netdev.h>
#include <keel/watchdog.h>
#include <keel/domain.h>
#include <keel/vpc.h>
#include <keel/vswitch.h>
#include <keel/virtio_net.h>
#include <keel/irq_route.h>
#include <keel/vpci.h>
#include <keel/sched.h>
#include <keel/arch.h>
#include <keel/cpu.h>
#include <keel/mm.h>
#include <keel/log.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <keel/le.h>
#include <public/keel_abi.h>

#define NETDEV_QUEUE_FRAMES VSWITCH_QUEUE_DEFAULT
#define NETDEV_POOL_FRAMES VSWITCH_POOL_DEFAULT

struct port_owner {
	struct domain *d;
	uint32_t nic;
};

static struct vswitch sw;
static struct spinlock sw_lock;
static struct port_owner owners[VSWITCH_MAX_PORTS];

/* Dom0's port (KEEL_HC_NET_ATTACH): a flag word in dom0's memory, set
 * when frames wait, and, once dom0 gave one (KEEL_HC_NET_NOTIFY), an
 * interrupt vector sent to one of its CPUs when the word goes from 0 to 1.
 * Only dom0's hypercalls change these. */
static struct {
	struct domain *d;
	uint32_t port;
	uint64_t notify_pa;
	uint32_t irq;      /* vector << 8 | 1 while set; 0: dom0 polls */
	uint32_t irq_apic; /* the dom0 CPU it goes to */
} dom0_net;

static uint64_t pages_of(uint64_t bytes)
{
	return ALIGN_UP(bytes, PAGE_SIZE_4K) / PAGE_SIZE_4K;
}

/* Set up the switch and its frame pool, shared by every port (once, at
 * boot). Without the pool's memory no NIC can be attached, and
 * netdev_attach says so. */
void netdev_init(void)
{
	uint64_t bytes = VSWITCH_POOL_BYTES(NETDEV_POOL_FRAMES);
	uint64_t pa = mm_alloc_pages(pages_of(bytes), 1);

	watchdog_track_lock(&sw_lock, "virtual switch");
	if (!pa || vswitch_init(&sw, 0, phys_to_virt(pa), bytes)) {
		log_err("virtual switch: no memory for its %u-frame pool: guests get no network\n",
			  NETDEV_POOL_FRAMES);
		return;
	}
	log_info("virtual switch: a pool of %u frames (%llu KiB) for all ports\n",
		 NETDEV_POOL_FRAMES, (unsigned long long)(pages_of(bytes) * PAGE_SIZE_4K >> 10));
}

/* A switch port for NIC nic of d, bound to its address mac (only frames
 * from mac are taken from it). Returns the port, or -ENOMEM without a
 * frame pool, -ENOSPC or -EINVAL. */
static int port_create(struct domain *d, uint32_t nic, const uint8_t mac[6])
{
	int port;

	spin_lock(&sw_lock);
	port = sw.pool ? vswitch_port_add(&sw, NETDEV_QUEUE_FRAMES) : -ENOMEM;
	if (port >= 0 && vswitch_port_bind(&sw, (uint32_t)port, mac)) {
		vswitch_port_remove(&sw, (uint32_t)port);
		port = -EINVAL;
	}
	if (port >= 0) {
		owners[port].d = d;
		owners[port].nic = nic;
	}
	spin_unlock(&sw_lock);
	return port;
}

static void netdev_port_free(uint32_t port)
{
	spin_lock(&sw_lock);
	vswitch_port_remove(&sw, port);
	owners[port].d = 0;
	spin_unlock(&sw_lock);
}

static void nic_notified(struct domain *d, uint32_t index, uint32_t *kick);

/*
 * Give domain d (not started yet) a NIC with MAC address mac on the
 * switch. *slot is its index (eth0 = 0). 0, -EBUSY, -ENOSPC or -ENOMEM.
 */
int netdev_attach(struct domain *d, const uint8_t mac[6], uint32_t *slot)
{
	uint32_t n = d->pc->nr_nics;
	struct virtio_net *vn;
	uint64_t pa;
	int port, rc;

	if (d->state != DOM_BUILDING)
		return -EBUSY;
	if (n >= KEEL_DOMAIN_MAX_NICS || (mac[0] & 1))
		return n >= KEEL_DOMAIN_MAX_NICS ? -ENOSPC : -EINVAL;
	pa = mm_alloc_pages(pages_of(sizeof(*vn)), 1);
	if (!pa)
		return -ENOMEM;
	port = port_create(d, n, mac);
	if (port < 0) {
		mm_free_pages(pa, pages_of(sizeof(*vn)));
		return port;
	}
	vn = phys_to_virt(pa);
	virtio_net_init(vn, mac, (uint16_t)(NETDEV_IO_BASE + NETDEV_IO_STRIDE * n),
			NETDEV_MEM_BASE + NETDEV_MEM_STRIDE * n, &sw, (uint32_t)port, &sw_lock);
	rc = vpci_add(d, (uint8_t)(NETDEV_PCI_DEV_FIRST + n), &vn->vp, nic_notified, n);
	if (rc) {
		netdev_port_free((uint32_t)port);
		mm_free_pages(pa, pages_of(sizeof(*vn)));
		return rc;
	}
	d->hv_bytes += pages_of(sizeof(*vn)) * PAGE_SIZE_4K;
	d->hv_net_bytes += pages_of(sizeof(*vn)) * PAGE_SIZE_4K;
	d->pc->nics[n] = vn;
	d->pc->nic_ports[n] = (uint32_t)port;
	d->pc->nr_nics = n + 1;
	*slot = n;
	return 0;
}

/*
 * Set the link of NIC slot of running guest d up or down and interrupt
 * the guest (virtio_net_set_link). 0, -ENOENT (no such NIC) or -EBUSY
 * (d not running).
 */
int netdev_set_link(struct domain *d, uint32_t slot, bool up)
{
	struct msi_msg msg;
	uint32_t kick = 0;
	int rc = 0;

	spin_lock(&d->lock);
	if (d->state != DOM_ACTIVE)
		rc = -EBUSY;
	else if (slot >= d->pc->nr_nics)
		rc = -ENOENT;
	else if (virtio_net_set_link(d->pc->nics[slot], up, &msg))
		irq_route_msi(d, msg.address, msg.data, &kick);
	spin_unlock(&d->lock);
	irq_kick(d, kick);
	if (rc == 0)
		log_info("domain %u (%s): eth%u link %s\n", d->id, d->name, slot,
			 up ? "up" : "down");
	return rc;
}

/* Remove d's NICs (its vCPUs are stopped): ports leave the switch first,
 * so no frame is queued for them any more. */
void netdev_detach_all(struct domain *d)
{
	uint32_t i;

	for (i = 0; i < d->pc->nr_nics; i++) {
		netdev_port_free(d->pc->nic_ports[i]);
		mm_free_pages(virt_to_phys(d->pc->nics[i]), pages_of(sizeof(struct virtio_net)));
		d->pc->nics[i] = 0;
	}
	d->pc->nr_nics = 0;
}

/* Tell the owner of port p that frames wait for it. sw_lock held: that
 * keeps the owner alive (see wake_ports). */
static void wake_owner(struct domain *self, uint32_t p)
{
	struct domain *o = owners[p].d;
	uint32_t i;

	if (!o)
		return;
	__atomic_fetch_or(&o->pc->net_pending, 1u << owners[p].nic, __ATOMIC_RELEASE);
	if (o == self)
		return;
	if (o->is_dom0) {
		netdev_dom0_notify();
		return;
	}
	for (i = 0; i < o->nr_vcpus; i++)
		sched_kick(&o->vcpus[i]);
}

/*
 * Tell the owners of the ports in woke that frames wait for them. Called
 * after the caller's domain lock is released. Lifetime rule: a domain is
 * freed only after netdev_detach_all() has taken its ports off the switch
 * under sw_lock, so an owner found in owners[] under sw_lock stays valid
 * until sw_lock is dropped; everything done with it happens before that
 * (setting a bit, sending IPIs: nothing that takes another lock).
 */
static void wake_ports(struct domain *self, uint64_t woke)
{
	uint32_t p;

	for (p = 0; woke && p < VSWITCH_MAX_PORTS; p++) {
		if (!(woke & (1ull << p)))
			continue;
		woke &= ~(1ull << p);
		spin_lock(&sw_lock);
		wake_owner(self, p);
		spin_unlock(&sw_lock);
	}
}

/*
 * Announce every NIC of guest d on the switch, once it runs where it was
 * restored or migrated to: a RARP broadcast from each NIC's address
 * through its own port (vswitch_rarp_frame), so that the switch sends
 * the address's frames to this port at once (not to the port of the copy
 * it came from, until the guest happens to send) and dom0 sees it too.
 * Called without d->lock held.
 */
void netdev_announce(struct domain *d)
{
	uint8_t frame[VSWITCH_RARP_BYTES];
	uint64_t woke = 0;
	uint32_t i;

	for (i = 0; i < d->pc->nr_nics; i++) {
		uint32_t port = d->pc->nic_ports[i];

		spin_lock(&sw_lock);
		woke |= vswitch_input(&sw, port, frame,
				      vswitch_rarp_frame(frame, sw.ports[port].mac),
				      time_now_ns());
		spin_unlock(&sw_lock);
	}
	wake_ports(d, woke);
}

/* Run NIC n of d (both queues, bounded) and deliver its interrupts.
 * d->lock held; returns the ports that received frames. */
static uint64_t nic_service(struct domain *d, uint32_t n, uint32_t *kick)
{
	struct guest_mem_ops mem = { .map = domain_map_ram, .ctx = d };
	struct msi_msg msgs[VIRTIO_NET_MAX_MSGS];
	uint64_t woke = 0, w;
	uint32_t cnt, i, round;
	int rc;

	for (round = 0; round < 4; round++) {
		cnt = 0;
		w = 0;
		rc = virtio_net_process(d->pc->nics[n], &mem, time_now_ns(), msgs, &cnt, &w);
		woke |= w;
		for (i = 0; i < cnt; i++)
			irq_route_msi(d, msgs[i].address, msgs[i].data, kick);
		if (rc != 1)
			break;
	}
	return woke;
}

/* The guest wrote NIC index's I/O BAR (vpci_notified_fn): serve its
 * queues; the ports that got frames are woken after d->lock is dropped
 * (netdev_flush_wakeups). */
static void nic_notified(struct domain *d, uint32_t index, uint32_t *kick)
{
	__atomic_fetch_or(&d->pc->net_woke, nic_service(d, index, kick), __ATOMIC_RELAXED);
}

/* Move frames waiting for d's NICs into its receive rings. Called by one
 * of d's own CPUs with d->lock held; wake-ups for other domains are sent
 * after the lock is dropped by the caller's next exit handling. */
void netdev_poll(struct domain *d, uint32_t *kick)
{
	uint32_t pend = __atomic_exchange_n(&d->pc->net_pending, 0, __ATOMIC_ACQUIRE);
	uint32_t n;

	for (n = 0; pend && n < d->pc->nr_nics; n++)
		if (pend & (1u << n))
			__atomic_fetch_or(&d->pc->net_woke, nic_service(d, n, kick), __ATOMIC_RELAXED);
}

/* After d->lock is released: tell the owners of ports that got frames. */
void netdev_flush_wakeups(struct domain *d)
{
	uint64_t woke = __atomic_exchange_n(&d->pc->net_woke, 0, __ATOMIC_ACQ_REL);

	if (woke)
		wake_ports(d, woke);
}

/* Set dom0's notify word, if it gave one, and interrupt it if it asked
 * for that and the word was 0 (dom0 clears it before fetching frames, so
 * a word still at 1 means a fetch is due anyway). Two CPUs may both see 0
 * and both send: one interrupt too many is harmless, one too few is not. */
void netdev_dom0_notify(void)
{
	static const uint32_t one = 1;
	uint64_t pa = __atomic_load_n(&dom0_net.notify_pa, __ATOMIC_ACQUIRE);
	uint32_t irq = __atomic_load_n(&dom0_net.irq, __ATOMIC_ACQUIRE), word = 0;

	if (!pa)
		return;
	if (irq && domain_copy_from_guest(dom0_net.d, &word, pa, sizeof(word)))
		return;
	domain_copy_to_guest(dom0_net.d, pa, &one, sizeof(one));
	if (irq && !word)
		arch_send_vector(__atomic_load_n(&dom0_net.irq_apic, __ATOMIC_RELAXED),
				 (uint8_t)(irq >> 8));
}

/* Whether apic_id is the local APIC of one of dom0's CPUs. */
static bool dom0_has_apic(const struct domain *d, uint32_t apic_id)
{
	uint32_t k;

	for (k = 0; k < d->nr_vcpus; k++)
		if (d->vcpus[k].cpu && d->vcpus[k].cpu->apic_id == apic_id)
			return true;
	return false;
}

/*
 * Interrupt dom0 with vector on the CPU with apic_id when frames wait for
 * it (KEEL_HC_NET_NOTIFY); vector 0 stops that. Returns 0, -ENODEV before
 * dom0 attached with a notify word, -EINVAL for a vector below 32 or above
 * 255 or an APIC id that is not dom0's.
 */
int netdev_dom0_set_irq(uint32_t vector, uint32_t apic_id)
{
	struct domain *d = dom0_net.d;

	if (!d || !dom0_net.notify_pa)
		return -ENODEV;
	if (vector == 0) {
		__atomic_store_n(&dom0_net.irq, 0, __ATOMIC_RELEASE);
		return 0;
	}
	if (vector < 32 || vector > 255 || !dom0_has_apic(d, apic_id))
		return -EINVAL;
	__atomic_store_n(&dom0_net.irq_apic, apic_id, __ATOMIC_RELAXED);
	__atomic_store_n(&dom0_net.irq, vector << 8 | 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Put dom0 (d) on the switch with MAC address mac; notify_pa is a dom0
 * word set to 1 when frames wait (0: none). Returns 0, -EEXIST if dom0
 * already has a port, -EINVAL for a group address or a notify word that
 * is misaligned or outside dom0's RAM, -ENOSPC or -ENOMEM.
 */
int netdev_dom0_attach(struct domain *d, const uint8_t mac[6], uint64_t notify_pa)
{
	uint32_t zero = 0;
	int port;

	if (dom0_net.d)
		return -EEXIST;
	if ((mac[0] & 1) || (notify_pa & 3) ||
	    (notify_pa && domain_copy_to_guest(d, notify_pa, &zero, sizeof(zero))))
		return -EINVAL;
	port = port_create(d, 0, mac);
	if (port < 0)
		return port;
	dom0_net.port = (uint32_t)port;
	__atomic_store_n(&dom0_net.notify_pa, notify_pa, __ATOMIC_RELEASE);
	__atomic_store_n(&dom0_net.d, d, __ATOMIC_RELEASE);
	return 0;
}

/* Frames in a KEEL_HC_NET_* batch: a 16-bit little-endian length, the
 * frame, padding to an even size. */
static uint32_t batch_slot_bytes(uint32_t len)
{
	return 2 + ALIGN_UP(len, 2);
}

/*
 * Send count frames from dom0 (the batch format of KEEL_HC_NET_XMIT, bytes
 * long) into the switch. Returns how many frames were taken (a malformed
 * length ends the batch there), or -ENODEV if dom0 has no port.
 */
int netdev_dom0_xmit(const uint8_t *batch, uint32_t bytes, uint32_t count)
{
	uint64_t woke = 0;
	uint32_t off = 0, n;

	if (!dom0_net.d)
		return -ENODEV;
	for (n = 0; n < count; n++) {
		uint32_t len;

		if (off + 2 > bytes)
			break;
		len = (uint32_t)le_get(batch + off, 2);
		if (len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX ||
		    batch_slot_bytes(len) > bytes - off)
			break;
		spin_lock(&sw_lock);
		woke |= vswitch_input(&sw, dom0_net.port, batch + off + 2, len,
				      time_now_ns());
		spin_unlock(&sw_lock);
		off += batch_slot_bytes(len);
	}
	if (woke)
		wake_ports(dom0_net.d, woke);
	return (int)n;
}

/*
 * Move frames waiting for dom0 into buf (room bytes) in the batch format.
 * *count and *bytes say what was written, *more whether frames still
 * wait. Returns 0 or -ENODEV.
 */
int netdev_dom0_recv(uint8_t *buf, uint32_t room, uint32_t *count,
		     uint32_t *bytes, uint32_t *more)
{
	uint32_t off = 0, len;

	*count = 0;
	if (!dom0_net.d)
		return -ENODEV;
	spin_lock(&sw_lock);
	while ((len = vswitch_peek_len(&sw, dom0_net.port)) != 0 &&
	       batch_slot_bytes(len) <= room - off) {
		len = vswitch_dequeue(&sw, dom0_net.port, buf + off + 2, len);
		le_put(buf + off, len, 2);
		if (len & 1)
			buf[off + 2 + len] = 0;
		off += batch_slot_bytes(len);
		(*count)++;
	}
	*more = vswitch_pending(&sw, dom0_net.port);
	spin_unlock(&sw_lock);
	*bytes = off;
	return 0;
}

/* Add the network counters of d's NICs (for dom0, its switch port) to s. */
void netdev_stats(struct domain *d, struct keel_domstats *s)
{
	struct vswitch_port_stats ps;
	struct virtio_net_stats ns;
	uint32_t i;

	if (d->is_dom0) {
		if (!dom0_net.d)
			return;
		spin_lock(&sw_lock);
		vswitch_port_stats(&sw, dom0_net.port, &ps);
		spin_unlock(&sw_lock);
		s->nr_nics = 1;
		s->net_tx_packets = ps.tx_packets;
		s->net_tx_bytes = ps.tx_bytes;
		s->net_rx_packets = ps.rx_packets;
		s->net_rx_bytes = ps.rx_bytes;
		s->net_drops = ps.tx_drops + ps.rx_drops + ps.src_drops;
		s->net_spoofed = ps.src_drops;
		return;
	}
	s->nr_nics = d->pc->nr_nics;
	for (i = 0; i < d->pc->nr_nics; i++) {
		spin_lock(&sw_lock);
		vswitch_port_stats(&sw, d->pc->nic_ports[i], &ps);
		spin_unlock(&sw_lock);
		s->net_spoofed += ps.src_drops;
		s->net_drops += ps.src_drops;
		virtio_net_get_stats(d->pc->nics[i], &ns);
		s->net_tx_packets += ns.tx_packets;
		s->net_tx_bytes += ns.tx_bytes;
		s->net_rx_packets += ns.rx_packets;
		s->net_rx_bytes += ns.rx_bytes;
		s->net_drops += ns.tx_drops + ns.rx_drops + ns.rx_queue_drops;
	}
}
