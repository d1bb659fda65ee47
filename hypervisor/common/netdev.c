/*
 * Guest network interfaces. Every NIC is a legacy virtio-net PCI device
 * (devices/virtio_net.c) with a port on one virtual switch
 * (common/vswitch.c) that joins all guests. A guest's transmit kick is
 * served on its own vCPU under its domain's lock; frames the switch queues
 * for another domain's port set a bit in that domain's net_pending mask and
 * kick its vCPUs, and that domain's own CPU moves them into its receive
 * ring (netdev_poll). No code ever holds two domains' locks; the switch
 * lock is taken inside a domain's lock, never the other way round.
 */
#include <keel/netdev.h>
#include <keel/domain.h>
#include <keel/vswitch.h>
#include <keel/virtio_net.h>
#include <keel/guest.h>
#include <keel/sched.h>
#include <keel/arch.h>
#include <keel/mm.h>
#include <keel/errno.h>
#include <keel/string.h>
#include <public/keel_abi.h>

#define NETDEV_QUEUE_SLOTS VSWITCH_QUEUE_DEFAULT

struct port_owner {
	struct domain *d;
	uint32_t nic;
};

static struct vswitch sw;
static struct spinlock sw_lock;
static struct port_owner owners[VSWITCH_MAX_PORTS];

/* Set up the switch (once, at boot). */
void netdev_init(void)
{
	vswitch_init(&sw, 0);
}

static uint64_t pages_of(uint64_t bytes)
{
	return ALIGN_UP(bytes, PAGE_SIZE_4K) / PAGE_SIZE_4K;
}

static int port_create(struct domain *d, uint32_t nic, uint64_t *qpa)
{
	uint64_t bytes = VSWITCH_QUEUE_BYTES(NETDEV_QUEUE_SLOTS);
	int port;

	*qpa = mm_alloc_pages(pages_of(bytes), 1);
	if (!*qpa)
		return -ENOMEM;
	spin_lock(&sw_lock);
	port = vswitch_port_add(&sw, phys_to_virt(*qpa), bytes);
	if (port >= 0) {
		owners[port].d = d;
		owners[port].nic = nic;
	}
	spin_unlock(&sw_lock);
	if (port < 0)
		mm_free_pages(*qpa, pages_of(bytes));
	return port;
}

static void netdev_port_free(struct domain *d, uint32_t port, uint64_t qpa)
{
	(void)d;
	spin_lock(&sw_lock);
	vswitch_port_remove(&sw, port);
	owners[port].d = 0;
	spin_unlock(&sw_lock);
	mm_free_pages(qpa, pages_of(VSWITCH_QUEUE_BYTES(NETDEV_QUEUE_SLOTS)));
}

/*
 * Give domain d (not started yet) a NIC with MAC address mac on the
 * switch. *slot is its index (eth0 = 0). 0, -EBUSY, -ENOSPC or -ENOMEM.
 */
int netdev_attach(struct domain *d, const uint8_t mac[6], uint32_t *slot)
{
	uint32_t n = d->nr_nics;
	struct virtio_net *vn;
	struct pci_func fn;
	uint64_t pa, qpa;
	int port, rc;

	if (d->state != DOM_BUILDING)
		return -EBUSY;
	if (n >= KEEL_DOMAIN_MAX_NICS || (mac[0] & 1))
		return n >= KEEL_DOMAIN_MAX_NICS ? -ENOSPC : -EINVAL;
	pa = mm_alloc_pages(pages_of(sizeof(*vn)), 1);
	if (!pa)
		return -ENOMEM;
	port = port_create(d, n, &qpa);
	if (port < 0) {
		mm_free_pages(pa, pages_of(sizeof(*vn)));
		return port;
	}
	vn = phys_to_virt(pa);
	virtio_net_init(vn, mac, (uint16_t)(NETDEV_IO_BASE + NETDEV_IO_STRIDE * n),
			NETDEV_MEM_BASE + NETDEV_MEM_STRIDE * n, &sw, (uint32_t)port, &sw_lock);
	memset(&fn, 0, sizeof(fn));
	fn.dev = (uint8_t)(NETDEV_PCI_DEV_FIRST + n);
	fn.cfg_read = virtio_pci_cfg_read;
	fn.cfg_write = virtio_pci_cfg_write;
	fn.ctx = &vn->vp;
	rc = pci_host_add(&d->pci, &fn);
	if (rc) {
		netdev_port_free(d, (uint32_t)port, qpa);
		mm_free_pages(pa, pages_of(sizeof(*vn)));
		return rc;
	}
	d->nics[n] = vn;
	d->nic_ports[n] = (uint32_t)port;
	d->nic_queue_pa[n] = qpa;
	d->nr_nics = n + 1;
	*slot = n;
	return 0;
}

/* Remove d's NICs (its vCPUs are stopped): ports leave the switch first,
 * so no frame is queued for them any more. */
void netdev_detach_all(struct domain *d)
{
	uint32_t i;

	for (i = 0; i < d->nr_nics; i++) {
		netdev_port_free(d, d->nic_ports[i], d->nic_queue_pa[i]);
		mm_free_pages(virt_to_phys(d->nics[i]), pages_of(sizeof(struct virtio_net)));
		d->nics[i] = 0;
	}
	d->nr_nics = 0;
}

/* Tell the owners of the ports in woke that frames wait for them. Called
 * after the caller's domain lock is released. */
static void wake_ports(struct domain *self, uint64_t woke)
{
	uint32_t p, i;

	for (p = 0; woke && p < VSWITCH_MAX_PORTS; p++) {
		struct domain *o;

		if (!(woke & (1ull << p)))
			continue;
		woke &= ~(1ull << p);
		spin_lock(&sw_lock);
		o = owners[p].d;
		if (o)
			__atomic_fetch_or(&o->net_pending, 1u << owners[p].nic, __ATOMIC_RELEASE);
		spin_unlock(&sw_lock);
		if (!o || o == self)
			continue;
		for (i = 0; i < o->nr_vcpus; i++)
			sched_kick(&o->vcpus[i]);
	}
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
		rc = virtio_net_process(d->nics[n], &mem, time_now_ns(), msgs, &cnt, &w);
		woke |= w;
		for (i = 0; i < cnt; i++)
			guest_deliver_msi(d, msgs[i].address, msgs[i].data, kick);
		if (rc != 1)
			break;
	}
	return woke;
}

/* Move frames waiting for d's NICs into its receive rings. Called by one
 * of d's own CPUs with d->lock held; wake-ups for other domains are sent
 * after the lock is dropped by the caller's next exit handling. */
void netdev_poll(struct domain *d, uint32_t *kick)
{
	uint32_t pend = __atomic_exchange_n(&d->net_pending, 0, __ATOMIC_ACQUIRE);
	uint32_t n;

	for (n = 0; pend && n < d->nr_nics; n++)
		if (pend & (1u << n))
			__atomic_fetch_or(&d->net_woke, nic_service(d, n, kick), __ATOMIC_RELAXED);
}

/* Deliver MSI-X messages a NIC released (unmasking, enabling). */
void netdev_drain(struct domain *d, uint32_t *kick)
{
	struct msi_msg m;
	uint32_t i;

	for (i = 0; i < d->nr_nics; i++)
		while (virtio_pci_take_msg(&d->nics[i]->vp, &m))
			guest_deliver_msi(d, m.address, m.data, kick);
}

/* A port access: handled (true) if it hits a NIC's I/O BAR. d->lock held. */
bool netdev_io(struct domain *d, uint16_t port, uint8_t size, bool in,
	       uint32_t *val, uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < d->nr_nics; i++) {
		struct virtio_net *vn = d->nics[i];

		if (!virtio_pci_io_hit(&vn->vp, port))
			continue;
		if (in) {
			*val = virtio_pci_io_read(&vn->vp, port, size);
		} else {
			virtio_pci_io_write(&vn->vp, port, size, *val);
			__atomic_fetch_or(&d->net_woke, nic_service(d, i, kick), __ATOMIC_RELAXED);
		}
		return true;
	}
	return false;
}

/* An MMIO access (the MSI-X table): handled if it hits a NIC's memory BAR.
 * d->lock held. */
bool netdev_mmio(struct domain *d, uint64_t gpa, uint8_t size, bool write,
		 uint64_t *val, uint32_t *kick)
{
	uint32_t i;

	for (i = 0; i < d->nr_nics; i++) {
		struct virtio_net *vn = d->nics[i];

		if (!virtio_pci_mmio_hit(&vn->vp, gpa))
			continue;
		if (write) {
			virtio_pci_mmio_write(&vn->vp, gpa, size, (uint32_t)*val);
			netdev_drain(d, kick);
		} else {
			*val = virtio_pci_mmio_read(&vn->vp, gpa, size);
		}
		return true;
	}
	return false;
}

/* After d->lock is released: tell the owners of ports that got frames. */
void netdev_flush_wakeups(struct domain *d)
{
	uint64_t woke = __atomic_exchange_n(&d->net_woke, 0, __ATOMIC_ACQ_REL);

	if (woke)
		wake_ports(d, woke);
}
