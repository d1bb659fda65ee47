/*
 * virtio network device (virtio 1.x, 5.1 "Network Device", legacy
 * interface) on the legacy virtio-pci transport (keel/virtio_pci.h), one
 * per guest vif, plugged into a port of the hypervisor's switch
 * (keel/vswitch.h). Queue 0 receives, queue 1 transmits; there is no
 * control queue, no multiqueue and no offload. It offers VIRTIO_NET_F_MAC
 * and VIRTIO_NET_F_STATUS (plus the transport's VIRTIO_F_ANY_LAYOUT, as
 * buffers are treated as byte streams, 2.6.4), and not MRG_RXBUF, so each
 * buffer starts with the 10-byte legacy struct virtio_net_hdr (5.1.6),
 * written as zeros on receive and skipped on transmit. The transport's
 * notify callback only records the kick; virtio_net_process then moves a
 * bounded number of frames and hands back the MSI messages to deliver.
 *
 * Locking. Two kinds of lock, always taken in this order:
 *   1. the device lock (one per struct virtio_net, the caller's): held
 *      around every call on the device - virtio_pci_cfg_read/write,
 *      virtio_pci_io_read/write, virtio_pci_mmio_read/write and
 *      virtio_pci_take_msg on n->vp, and every virtio_net_* call. A
 *      guest's vCPUs may touch the device concurrently, and
 *      virtio_net_process may run on a CPU other than the guest's.
 *   2. the switch lock (struct spinlock, one per switch): given to
 *      virtio_net_init; this code takes it itself around each vswitch_*
 *      call, for one frame at a time, never while touching guest memory.
 *      The caller holds it around its own vswitch_* calls (dom0's port,
 *      vswitch_port_add/remove) and never calls into a device while
 *      holding it.
 * Frames for a guest may be queued by another CPU (another guest's
 * transmit, dom0). virtio_net_process reports in *woke the switch ports
 * that just received frames; the caller must make sure each of their
 * devices gets a virtio_net_process call soon (e.g. mark it pending and
 * kick the vCPU that owns it, which then processes under its own device
 * lock). A port is dequeued only by its own device, so the port must not
 * be removed from the switch while its device can still be processed.
 */
#ifndef KEEL_VIRTIO_NET_H
#define KEEL_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <keel/spinlock.h>
#include <keel/virtio_pci.h>
#include <keel/virtq.h>
#include <keel/vswitch.h>

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

/* Configuration (5.1.4, legacy layout: little-endian, no padding). */
#define VIRTIO_NET_CFG_MAC 0u
#define VIRTIO_NET_CFG_STATUS 6u
#define VIRTIO_NET_CONFIG_BYTES 8u
#define VIRTIO_NET_S_LINK_UP 1u

#define VIRTIO_NET_RXQ 0u
#define VIRTIO_NET_TXQ 1u
#define VIRTIO_NET_HDR_BYTES 10u    /* legacy virtio_net_hdr (5.1.6) */
#define VIRTIO_NET_QUEUE_SIZE 256u
#define VIRTIO_NET_BUDGET 128u      /* chains per queue per process call */
#define VIRTIO_NET_MAX_MSGS 3u      /* receive, transmit, config change */

/* Per-device counters, from the guest's point of view. */
struct virtio_net_stats {
	uint64_t tx_packets, tx_bytes; /* frames handed to the switch */
	uint64_t tx_drops;       /* bad transmit chains: size, layout */
	uint64_t rx_packets, rx_bytes; /* frames written to the guest */
	uint64_t rx_drops;       /* too big for the buffer, or link down */
	uint64_t rx_queue_drops; /* the switch's queue for us was full */
	uint64_t broken;         /* times the device gave up on its rings */
};

struct virtio_net {
	struct virtio_pci vp;        /* transport; the caller routes I/O here */
	uint8_t mac[VSWITCH_ETH_ALEN];
	uint16_t link;               /* VIRTIO_NET_S_LINK_UP or 0 */
	struct vswitch *sw;
	uint32_t port;               /* our port on sw */
	struct spinlock *sw_lock;    /* sw's lock; NULL if the caller holds it */
	bool tx_pending;             /* transmit kicked or budget left work */
	bool broken;                 /* needs reset (2.1.2); rings ignored */
	struct virtio_net_stats stats;
	struct virtq_chain chain;    /* scratch, kept off the stack */
	uint8_t buf[VIRTIO_NET_HDR_BYTES + VSWITCH_FRAME_MAX]; /* hdr + frame */
};

void virtio_net_init(struct virtio_net *n, const uint8_t *mac,
		     uint16_t io_bar, uint32_t mem_bar, struct vswitch *sw,
		     uint32_t port, struct spinlock *sw_lock);
int virtio_net_process(struct virtio_net *n, const struct guest_mem_ops *mem,
		       uint64_t now_ns, struct msi_msg out[VIRTIO_NET_MAX_MSGS],
		       uint32_t *n_out, uint64_t *woke);
bool virtio_net_set_link(struct virtio_net *n, bool up, struct msi_msg *msg);
void virtio_net_get_stats(const struct virtio_net *n,
			  struct virtio_net_stats *out);

/* Copy n's state (transport, link, pending work) into its save record. */
void virtio_net_save(const struct virtio_net *n, struct keel_state_virtio_net *st);

/*
 * Replace n's state with the record st, which may come from a file: the
 * transport as virtio_pci_load checks it, the same MAC as n's, a link up
 * or down, and 0/1 flags. Returns 0, or -EINVAL with n unchanged.
 */
int virtio_net_load(struct virtio_net *n, const struct keel_state_virtio_net *st);

#endif /* KEEL_VIRTIO_NET_H */
