// SPDX-License-Identifier: GPL-2.0-only
/*
 * keel0: dom0's Ethernet interface on the Keel hypervisor's virtual switch,
 * which joins every guest's virtio-net NIC. Frames go out with
 * KEEL_HC_NET_XMIT, one hypercall per frame. Reception: the hypervisor
 * sets a word in dom0 memory when frames wait and, when it goes from 0 to
 * 1, sends a physical IPI to one of dom0's CPUs with a vector this driver
 * took from Linux's x86 vector domain (KEEL_HC_NET_NOTIFY), the way
 * Jailhouse's ivshmem interrupts a cell. The interrupt schedules NAPI,
 * whose poll clears the word and fetches batches with KEEL_HC_NET_RECV.
 * If no vector can be had (an older hypervisor), an hrtimer looks at the
 * word every KEEL_NET_POLL_US instead. The hypercall ABI is in
 * keel_abi.h; the design is described in docs/network.md.
 */

#define pr_fmt(fmt) "keel: " fmt

#include <linux/etherdevice.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <asm/io.h>
#include <asm/hw_irq.h>
#include <asm/irqdomain.h>

#include "keel_abi.h"
#include "keel_drv.h"

#define KEEL_NET_POLL_US 1000
#define KEEL_NET_RX_BUF_BYTES (32u * 1024u) /* one receive batch */
#define KEEL_NET_FRAME_MAX 1514u            /* no VLAN tags from dom0 */
#define KEEL_NET_NAPI_WEIGHT 64

/* dom0's MAC address: locally administered, outside the guests' range
 * (02:4b:45 followed by a hash that never is 00:00:01). */
static const u8 keel_net_mac[ETH_ALEN] = { 0x02, 0x4b, 0x45, 0x00, 0x00, 0x01 };

struct keel_net {
	struct net_device *dev;
	struct napi_struct napi;
	struct hrtimer poll_timer;
	u32 *notify;                 /* set to 1 by the hypervisor */
	int irq;                     /* the hypervisor's interrupt, or 0: poll */
	spinlock_t tx_lock;
	struct keel_net_frames *tx;  /* header + one frame */
	struct keel_net_frames *rx;  /* header + a batch */
	u32 rx_off, rx_end, rx_more; /* unread part of the last batch */
	bool attached;
};

static struct net_device *keel_net_dev;

/* Send one frame; returns the hypercall's result (frames taken, or -err). */
static s64 keel_net_send(struct keel_net *kn, const struct sk_buff *skb)
{
	u8 *p = (u8 *)(kn->tx + 1);
	unsigned long flags;
	s64 ret;

	spin_lock_irqsave(&kn->tx_lock, flags);
	kn->tx->count = 1;
	kn->tx->bytes = 2 + ALIGN(skb->len, 2);
	p[0] = skb->len & 0xff;
	p[1] = skb->len >> 8;
	skb_copy_bits(skb, 0, p + 2, skb->len);
	ret = keel_hc_call(KEEL_HC_NET_XMIT, virt_to_phys(kn->tx),
			   sizeof(*kn->tx) + kn->tx->bytes);
	if (ret == 0)
		ret = kn->tx->count;
	spin_unlock_irqrestore(&kn->tx_lock, flags);
	return ret;
}

/* ndo_start_xmit: frames leave at once; a frame the switch refuses (bad
 * size) is counted as dropped. */
static netdev_tx_t keel_net_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct keel_net *kn = netdev_priv(dev);

	if (skb->len < ETH_HLEN || skb->len > KEEL_NET_FRAME_MAX ||
	    keel_net_send(kn, skb) != 1) {
		dev->stats.tx_dropped++;
	} else {
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += skb->len;
	}
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* Fetch the next batch of frames into kn->rx. Returns false if none. */
static bool keel_net_fetch(struct keel_net *kn)
{
	s64 ret;

	kn->rx->count = 0;
	kn->rx->bytes = 0;
	ret = keel_hc_call(KEEL_HC_NET_RECV, virt_to_phys(kn->rx),
			   KEEL_NET_RX_BUF_BYTES);
	kn->rx_off = 0;
	kn->rx_end = ret == 0 ? min_t(u32, kn->rx->bytes,
				      KEEL_NET_RX_BUF_BYTES - sizeof(*kn->rx)) : 0;
	kn->rx_more = ret == 0 && kn->rx->more;
	return kn->rx_end != 0;
}

/* Hand the frame at kn->rx_off to the stack and step past it. Returns
 * false if the batch is malformed (the rest of it is dropped). */
static bool keel_net_rx_one(struct keel_net *kn)
{
	struct net_device *dev = kn->dev;
	const u8 *p = (const u8 *)(kn->rx + 1) + kn->rx_off;
	struct sk_buff *skb;
	u32 len = p[0] | (u32)p[1] << 8;

	if (len < ETH_HLEN || 2 + ALIGN(len, 2) > kn->rx_end - kn->rx_off) {
		kn->rx_off = kn->rx_end;
		dev->stats.rx_errors++;
		return false;
	}
	kn->rx_off += 2 + ALIGN(len, 2);
	skb = napi_alloc_skb(&kn->napi, len);
	if (!skb) {
		dev->stats.rx_dropped++;
		return true;
	}
	skb_put_data(skb, p + 2, len);
	skb->protocol = eth_type_trans(skb, dev);
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += len;
	napi_gro_receive(&kn->napi, skb);
	return true;
}

/* NAPI poll: deliver up to budget frames. */
static int keel_net_poll(struct napi_struct *napi, int budget)
{
	struct keel_net *kn = container_of(napi, struct keel_net, napi);
	int done = 0;

	WRITE_ONCE(*kn->notify, 0);
	while (done < budget) {
		if (kn->rx_off >= kn->rx_end && !keel_net_fetch(kn))
			break;
		if (keel_net_rx_one(kn))
			done++;
	}
	if (done < budget && napi_complete_done(napi, done) &&
	    (READ_ONCE(*kn->notify) || kn->rx_more))
		napi_schedule(napi);
	return done;
}

/* The hypervisor's interrupt: frames wait. */
static irqreturn_t keel_net_interrupt(int irq, void *data)
{
	struct keel_net *kn = data;

	napi_schedule(&kn->napi);
	return IRQ_HANDLED;
}

/* Tell the hypervisor to send vector to the CPU with apic_id (0: stop). */
static s64 keel_net_notify_call(u32 vector, u32 apic_id)
{
	struct keel_net_notify *n = kzalloc(sizeof(*n), GFP_KERNEL);
	s64 ret;

	if (!n)
		return -ENOMEM;
	n->vector = vector;
	n->apic_id = apic_id;
	ret = keel_hc_call(KEEL_HC_NET_NOTIFY, virt_to_phys(n), sizeof(*n));
	kfree(n);
	return ret;
}

/* Give the interrupt back (the hypervisor is told first). */
static void keel_net_irq_free(struct keel_net *kn)
{
	if (!kn->irq)
		return;
	keel_net_notify_call(0, 0);
	free_irq(kn->irq, kn);
	irq_dispose_mapping(kn->irq);
	kn->irq = 0;
}

/*
 * Take an interrupt from Linux's x86 vector domain, bound to the first
 * online CPU, and have the hypervisor send it when frames wait. A vector
 * of its own: it is no device's, so nothing else raises it. Returns 0, or
 * -errno (then keel0 polls).
 */
static int keel_net_irq_setup(struct keel_net *kn)
{
	struct irq_alloc_info info;
	struct irq_cfg *cfg;
	int irq, err;
	s64 ret;

	memset(&info, 0, sizeof(info));
	info.mask = cpumask_of(cpumask_first(cpu_online_mask));
	irq = __irq_domain_alloc_irqs(x86_vector_domain, -1, 1, NUMA_NO_NODE, &info,
				      false, NULL);
	if (irq <= 0)
		return irq < 0 ? irq : -ENOSPC;
	irq_set_handler(irq, handle_edge_irq);
	err = request_irq(irq, keel_net_interrupt, IRQF_NOBALANCING, "keel0", kn);
	if (err) {
		irq_dispose_mapping(irq);
		return err;
	}
	kn->irq = irq;
	cfg = irqd_cfg(irq_get_irq_data(irq));
	ret = cfg ? keel_net_notify_call(cfg->vector, cfg->dest_apicid) : -EINVAL;
	if (ret) {
		keel_net_irq_free(kn);
		return ret == -KEEL_ENOSYS ? -ENOSYS : -EIO;
	}
	netdev_info(kn->dev, "frames arrive by interrupt (vector %#x, APIC %u)\n",
		    cfg->vector, cfg->dest_apicid);
	return 0;
}

/* The poll timer: schedule NAPI if the hypervisor flagged frames. */
static enum hrtimer_restart keel_net_timer(struct hrtimer *t)
{
	struct keel_net *kn = container_of(t, struct keel_net, poll_timer);

	if (READ_ONCE(*kn->notify))
		napi_schedule(&kn->napi);
	hrtimer_forward_now(t, ns_to_ktime(KEEL_NET_POLL_US * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/* ndo_open: take a port on the switch (once), start polling. */
static int keel_net_open(struct net_device *dev)
{
	struct keel_net *kn = netdev_priv(dev);
	struct keel_net_attach *a;
	s64 ret;

	if (!kn->attached) {
		a = kzalloc(sizeof(*a), GFP_KERNEL);
		if (!a)
			return -ENOMEM;
		memcpy(a->mac, dev->dev_addr, ETH_ALEN);
		a->notify_pa = virt_to_phys(kn->notify);
		ret = keel_hc_call(KEEL_HC_NET_ATTACH, virt_to_phys(a), sizeof(*a));
		kfree(a);
		if (ret && ret != -KEEL_EEXIST) {
			netdev_err(dev, "the hypervisor refused a switch port (%lld)\n", ret);
			return -EIO;
		}
		kn->attached = true;
	}
	napi_enable(&kn->napi);
	netif_carrier_on(dev);
	netif_start_queue(dev);
	if (!kn->irq && keel_net_irq_setup(kn))
		netdev_info(dev, "no interrupt from the hypervisor: polling every %u us\n",
			    KEEL_NET_POLL_US);
	if (!kn->irq)
		hrtimer_start(&kn->poll_timer,
			      ns_to_ktime(KEEL_NET_POLL_US * NSEC_PER_USEC), HRTIMER_MODE_REL);
	napi_schedule(&kn->napi); /* frames that waited while we were down */
	return 0;
}

/* ndo_stop: stop polling. The port stays; frames for it are dropped by
 * the switch when its queue is full. */
static int keel_net_stop(struct net_device *dev)
{
	struct keel_net *kn = netdev_priv(dev);

	netif_stop_queue(dev);
	netif_carrier_off(dev);
	hrtimer_cancel(&kn->poll_timer);
	napi_disable(&kn->napi);
	return 0;
}

static const struct net_device_ops keel_net_ops = {
	.ndo_open = keel_net_open,
	.ndo_stop = keel_net_stop,
	.ndo_start_xmit = keel_net_xmit,
	.ndo_validate_addr = eth_validate_addr,
};

/* Free what keel_net_alloc_bufs allocated. */
static void keel_net_free_bufs(struct keel_net *kn)
{
	kfree(kn->rx);
	kfree(kn->tx);
	kfree(kn->notify);
}

/* kmalloc memory is physically contiguous, as hypercall buffers must be. */
static int keel_net_alloc_bufs(struct keel_net *kn)
{
	kn->notify = kzalloc(sizeof(*kn->notify), GFP_KERNEL);
	kn->tx = kzalloc(sizeof(*kn->tx) + 2 + KEEL_NET_FRAME_MAX + 1, GFP_KERNEL);
	kn->rx = kzalloc(KEEL_NET_RX_BUF_BYTES, GFP_KERNEL);
	if (kn->notify && kn->tx && kn->rx)
		return 0;
	keel_net_free_bufs(kn);
	return -ENOMEM;
}

/* Create and register keel0; see keel_drv.h. */
int keel_net_init(void)
{
	struct net_device *dev;
	struct keel_net *kn;
	int err;

	dev = alloc_etherdev(sizeof(*kn));
	if (!dev)
		return -ENOMEM;
	strscpy(dev->name, "keel0", sizeof(dev->name));
	kn = netdev_priv(dev);
	kn->dev = dev;
	spin_lock_init(&kn->tx_lock);
	err = keel_net_alloc_bufs(kn);
	if (err)
		goto err_free_dev;
	eth_hw_addr_set(dev, keel_net_mac);
	dev->netdev_ops = &keel_net_ops;
	dev->max_mtu = ETH_DATA_LEN;
	netif_napi_add_weight(dev, &kn->napi, keel_net_poll, KEEL_NET_NAPI_WEIGHT);
	hrtimer_init(&kn->poll_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	kn->poll_timer.function = keel_net_timer;
	netif_carrier_off(dev);
	err = register_netdev(dev);
	if (err)
		goto err_napi;
	keel_net_dev = dev;
	return 0;

err_napi:
	netif_napi_del(&kn->napi);
	keel_net_free_bufs(kn);
err_free_dev:
	free_netdev(dev);
	return err;
}

/* Remove keel0; see keel_drv.h. The hypervisor keeps dom0's port (and
 * may still write the notify word), so that memory is not given back. */
void keel_net_exit(void)
{
	struct keel_net *kn;

	if (!keel_net_dev)
		return;
	kn = netdev_priv(keel_net_dev);
	unregister_netdev(keel_net_dev);
	keel_net_irq_free(kn);
	netif_napi_del(&kn->napi);
	kfree(kn->rx);
	kfree(kn->tx);
	if (!kn->attached)
		kfree(kn->notify);
	free_netdev(keel_net_dev);
	keel_net_dev = NULL;
}
