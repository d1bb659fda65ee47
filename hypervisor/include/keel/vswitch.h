/*
 * The virtual Ethernet switch inside the hypervisor: a learning bridge in
 * the manner of IEEE 802.1D (7.8 "The Learning Process", 7.9 "The
 * Filtering Database", 7.7 "The Forwarding Process") that joins every
 * guest's vif and dom0. It is a shared-buffer switch: frames are copied
 * once into slots of one pool, whose memory the caller hands over at
 * vswitch_init, and each port queues slot numbers, not copies (a flooded
 * frame is one slot referenced by every port that queued it). So a port
 * costs no frame memory of its own. Pure code with no locking: the
 * caller serializes all calls on one switch (see "Locking" in
 * virtio_net.h).
 *
 * Buffer policy (dynamic thresholds, as shared-buffer switches do, after
 * Choudhury and Hahne): a frame from source port s is queued on
 * destination d only while
 *  - d holds fewer frames than the pool has free slots, so one stalled
 *    receiver can take at most half of the pool and k stalled receivers
 *    1/(k+1) each, and frames keep flowing between the others; and
 *  - the frames from s already queued on d number fewer than the free
 *    places of d's queue (count_s < cap_d - count_d), so a lone sender can
 *    fill half of a queue, k senders converge on 1/(k+1) of it each, and
 *    one port flooding can never keep another port's frames from reaching
 *    a third.
 */
#ifndef KEEL_VSWITCH_H
#define KEEL_VSWITCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define VSWITCH_MAX_PORTS 64u
#define VSWITCH_ETH_ALEN 6u
#define VSWITCH_FRAME_MIN 14u           /* Ethernet header */
#define VSWITCH_FRAME_MAX (1514u + 4u)  /* header + 1500 + one 802.1Q tag */
#define VSWITCH_QUEUE_MAX 256u          /* most frames a port queues */
#define VSWITCH_QUEUE_DEFAULT 256u      /* suggested queue per port */
#define VSWITCH_POOL_MAX 2048u          /* most slots the pool uses */
#define VSWITCH_POOL_DEFAULT 512u       /* suggested pool: 760 KiB */
#define VSWITCH_MAC_BUCKETS 256u        /* hash buckets, a power of two */
#define VSWITCH_MAC_WAYS 4u             /* entries per bucket */
#define VSWITCH_AGE_NS_DEFAULT (300ull * 1000000000ull) /* 802.1D 7.9.2 */

/* One frame in the pool; an array of these is the pool's memory. */
struct vswitch_slot {
	uint16_t len;
	uint8_t src;  /* ingress port, for the fairness count */
	uint8_t refs; /* port queues holding it; 0 = free */
	uint8_t data[VSWITCH_FRAME_MAX];
};

/* Bytes of pool memory for n slots (pass to vswitch_init). */
#define VSWITCH_POOL_BYTES(n) ((size_t)(n) * sizeof(struct vswitch_slot))

/*
 * Counters of one port, from the viewpoint of whoever owns the port (the
 * guest): tx = frames the owner handed to the switch, rx = frames the
 * switch delivered to the owner.
 */
struct vswitch_port_stats {
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_drops;   /* refused on input: runt, oversize, bad port */
	uint64_t rx_packets; /* dequeued by the owner */
	uint64_t rx_bytes;
	uint64_t rx_drops;   /* meant for this port; its queue or the pool full */
	uint64_t src_drops;  /* sent with a source address not the port's own */
};

struct vswitch_port {
	bool in_use;
	bool bound;                 /* only frames from mac are taken */
	uint8_t mac[VSWITCH_ETH_ALEN];
	uint32_t cap;               /* most frames queued */
	uint32_t head;              /* oldest entry of ring */
	uint32_t count;             /* frames queued */
	uint16_t ring[VSWITCH_QUEUE_MAX]; /* pool slot numbers, FIFO */
	uint16_t src_count[VSWITCH_MAX_PORTS]; /* queued frames per source */
	struct vswitch_port_stats stats;
};

/* A filtering database entry (802.1D 7.9.2 dynamic entry). */
struct vswitch_mac {
	uint8_t mac[VSWITCH_ETH_ALEN];
	uint8_t port;
	uint8_t valid;
	uint64_t seen_ns; /* last time a frame came from mac */
};

/* Switch-wide counters. */
struct vswitch_stats {
	uint64_t runts;         /* frames shorter than VSWITCH_FRAME_MIN */
	uint64_t oversize;      /* frames longer than VSWITCH_FRAME_MAX */
	uint64_t floods;        /* frames sent to every other port */
	uint64_t mac_learned;   /* new entries */
	uint64_t mac_moved;     /* known MAC seen on another port */
	uint64_t mac_replaced;  /* live entry evicted by a full bucket */
};

struct vswitch {
	struct vswitch_port ports[VSWITCH_MAX_PORTS];
	struct vswitch_mac macs[VSWITCH_MAC_BUCKETS][VSWITCH_MAC_WAYS];
	uint64_t age_ns;
	struct vswitch_stats stats;
	struct vswitch_slot *pool;  /* memory from vswitch_init */
	uint32_t pool_slots;
	uint32_t nfree;             /* entries of free_list in use */
	uint16_t free_list[VSWITCH_POOL_MAX]; /* free slot numbers, a stack */
};

int vswitch_init(struct vswitch *sw, uint64_t age_ns, void *pool, size_t bytes);
int vswitch_port_add(struct vswitch *sw, uint32_t queue);
int vswitch_port_bind(struct vswitch *sw, uint32_t port, const uint8_t *mac);
int vswitch_port_remove(struct vswitch *sw, uint32_t port);
uint64_t vswitch_input(struct vswitch *sw, uint32_t port, const void *frame,
		       uint32_t len, uint64_t now_ns);
uint32_t vswitch_dequeue(struct vswitch *sw, uint32_t port, void *buf,
			 uint32_t room);
uint32_t vswitch_peek_len(const struct vswitch *sw, uint32_t port);
bool vswitch_pending(const struct vswitch *sw, uint32_t port);
int vswitch_port_stats(const struct vswitch *sw, uint32_t port,
		       struct vswitch_port_stats *out);
int vswitch_lookup(const struct vswitch *sw, const uint8_t *mac,
		   uint64_t now_ns);
void vswitch_flush_port_macs(struct vswitch *sw, uint32_t port);

#define VSWITCH_RARP_BYTES 60u /* a RARP frame, padded to Ethernet's least */
uint32_t vswitch_rarp_frame(uint8_t *frame, const uint8_t *mac);

#endif /* KEEL_VSWITCH_H */
