/*
 * The hypervisor's learning Ethernet switch (IEEE 802.1D-2004: 7.7 the
 * forwarding process, 7.8 the learning process, 7.9 the filtering
 * database). Every frame that enters on a port teaches the switch where
 * its unicast source address lives (a port bound to its owner's address
 * takes frames from that address only); it then goes to the one port that
 * owns its destination, or to every other port when the destination is
 * group (multicast/broadcast) or not yet known. A frame is copied once
 * into a slot of the shared pool whose memory the caller supplies; each
 * port that takes it queues the slot's number, and the slot is free again
 * when the last of them dequeues it. Dynamic thresholds keep one stalled
 * port from holding the pool and one sender from filling a queue (policy
 * in vswitch.h). The filtering database is a small set-associative
 * hash table whose entries age out after age_ns (7.9.2) and are replaced
 * oldest-first when a bucket is full. Pure code, no locking.
 */
#include <keel/vswitch.h>
#include <keel/errno.h>
#include <keel/string.h>

static const uint8_t zero_mac[VSWITCH_ETH_ALEN];

static bool mac_is_group(const uint8_t *mac)
{
	return (mac[0] & 1) != 0; /* I/G bit, IEEE 802-2014 8.2 */
}

static bool mac_is_zero(const uint8_t *mac)
{
	return memcmp(mac, zero_mac, VSWITCH_ETH_ALEN) == 0;
}

/* FNV-1a over the six address bytes, folded to a bucket index. */
static uint32_t mac_hash(const uint8_t *mac)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < VSWITCH_ETH_ALEN; i++) {
		h ^= mac[i];
		h *= 16777619u;
	}
	return (h ^ (h >> 16)) & (VSWITCH_MAC_BUCKETS - 1);
}

static bool port_ok(const struct vswitch *sw, uint32_t port)
{
	return port < VSWITCH_MAX_PORTS && sw->ports[port].in_use;
}

/* Whether entry e still holds: valid, its port present, not aged out. */
static bool mac_live(const struct vswitch *sw, const struct vswitch_mac *e,
		     uint64_t now_ns)
{
	if (!e->valid || !port_ok(sw, e->port))
		return false;
	/* a clock read on another CPU may lag seen_ns slightly */
	return now_ns <= e->seen_ns || now_ns - e->seen_ns <= sw->age_ns;
}

/*
 * Reset sw to an empty switch with no ports, whose frames live in pool
 * (bytes long, 2-byte aligned, owned by the switch from now on): it holds
 * bytes / sizeof(struct vswitch_slot) frames, at most VSWITCH_POOL_MAX;
 * VSWITCH_POOL_BYTES(n) sizes it. age_ns is how long a learnt address
 * lives without traffic from it; 0 selects 300 s (802.1D Table 7-5, the
 * recommended ageing time). Returns 0, or -EINVAL for a pool too small for
 * one frame or misaligned.
 */
int vswitch_init(struct vswitch *sw, uint64_t age_ns, void *pool, size_t bytes)
{
	size_t n = bytes / sizeof(struct vswitch_slot);
	uint32_t i;

	memset(sw, 0, sizeof(*sw));
	sw->age_ns = age_ns ? age_ns : VSWITCH_AGE_NS_DEFAULT;
	if (!pool || n == 0 || ((uintptr_t)pool & 1))
		return -EINVAL;
	sw->pool = pool;
	sw->pool_slots = n > VSWITCH_POOL_MAX ? VSWITCH_POOL_MAX : (uint32_t)n;
	for (i = 0; i < sw->pool_slots; i++) {
		sw->pool[i].refs = 0;
		sw->free_list[i] = (uint16_t)(sw->pool_slots - 1 - i);
	}
	sw->nfree = sw->pool_slots;
	return 0;
}

/*
 * Add a port that queues at most queue frames (at most VSWITCH_QUEUE_MAX;
 * the frames themselves live in the shared pool). Returns the new port
 * number (< VSWITCH_MAX_PORTS), -EINVAL for a queue of 0 or a switch
 * without a pool, or -ENOSPC when every port is taken.
 */
int vswitch_port_add(struct vswitch *sw, uint32_t queue)
{
	struct vswitch_port *p;
	uint32_t i;

	if (queue == 0 || !sw->pool)
		return -EINVAL;
	for (i = 0; i < VSWITCH_MAX_PORTS; i++) {
		p = &sw->ports[i];
		if (p->in_use)
			continue;
		memset(p, 0, sizeof(*p));
		p->in_use = true;
		p->cap = queue > VSWITCH_QUEUE_MAX ? VSWITCH_QUEUE_MAX : queue;
		return (int)i;
	}
	return -ENOSPC;
}

/*
 * Bind port to the unicast address mac: from now on the switch takes only
 * frames whose source is mac from it, and counts the others in src_drops.
 * So a guest cannot send as another guest or as dom0, receive their
 * unicast traffic by teaching the switch their address, or fill the
 * filtering database with made-up addresses. Returns 0, or -EINVAL for a
 * bad port or a group or all-zero address.
 */
int vswitch_port_bind(struct vswitch *sw, uint32_t port, const uint8_t *mac)
{
	if (!port_ok(sw, port) || mac_is_group(mac) || mac_is_zero(mac))
		return -EINVAL;
	memcpy(sw->ports[port].mac, mac, VSWITCH_ETH_ALEN);
	sw->ports[port].bound = true;
	return 0;
}

/* Forget every filtering database entry that points at port (as when the
 * port's owner resets its device or leaves). */
void vswitch_flush_port_macs(struct vswitch *sw, uint32_t port)
{
	uint32_t b, w;

	for (b = 0; b < VSWITCH_MAC_BUCKETS; b++)
		for (w = 0; w < VSWITCH_MAC_WAYS; w++)
			if (sw->macs[b][w].port == port)
				sw->macs[b][w].valid = 0;
}

/* Give back one reference to pool slot n; the last one frees it. */
static void slot_put(struct vswitch *sw, uint32_t n)
{
	if (--sw->pool[n].refs == 0)
		sw->free_list[sw->nfree++] = (uint16_t)n;
}

/* Drop the frame at the head of p's queue. */
static void queue_pop(struct vswitch *sw, struct vswitch_port *p)
{
	uint32_t n = p->ring[p->head];

	if (p->src_count[sw->pool[n].src])
		p->src_count[sw->pool[n].src]--;
	slot_put(sw, n);
	p->head = (p->head + 1) % p->cap;
	p->count--;
}

/*
 * Remove port: its queued frames are discarded and the addresses learnt
 * on it forgotten. Frames it sent that wait on other ports are still
 * delivered. Returns 0, or -EINVAL if port was not in use.
 */
int vswitch_port_remove(struct vswitch *sw, uint32_t port)
{
	struct vswitch_port *p;

	if (!port_ok(sw, port))
		return -EINVAL;
	p = &sw->ports[port];
	while (p->count)
		queue_pop(sw, p);
	vswitch_flush_port_macs(sw, port);
	memset(p, 0, sizeof(*p));
	return 0;
}

/*
 * The port that currently owns unicast address mac (a live entry), or
 * -ENOENT. now_ns is the caller's clock, as passed to vswitch_input.
 */
int vswitch_lookup(const struct vswitch *sw, const uint8_t *mac,
		   uint64_t now_ns)
{
	const struct vswitch_mac *e = sw->macs[mac_hash(mac)];
	uint32_t w;

	for (w = 0; w < VSWITCH_MAC_WAYS; w++)
		if (mac_live(sw, &e[w], now_ns) &&
		    memcmp(e[w].mac, mac, VSWITCH_ETH_ALEN) == 0)
			return e[w].port;
	return -ENOENT;
}

/* The way of bucket e to (re)use for mac: its own entry, else a dead one,
 * else the least recently seen. */
static struct vswitch_mac *mac_pick_way(struct vswitch *sw,
					struct vswitch_mac *e,
					const uint8_t *mac, uint64_t now_ns)
{
	struct vswitch_mac *dead = NULL, *oldest = &e[0];
	uint32_t w;

	for (w = 0; w < VSWITCH_MAC_WAYS; w++) {
		if (e[w].valid && memcmp(e[w].mac, mac, VSWITCH_ETH_ALEN) == 0)
			return &e[w];
		if (!dead && !mac_live(sw, &e[w], now_ns))
			dead = &e[w];
		if (e[w].seen_ns < oldest->seen_ns)
			oldest = &e[w];
	}
	if (dead)
		return dead;
	sw->stats.mac_replaced++;
	return oldest;
}

/* 802.1D 7.8: record that mac was seen on port at now_ns. */
static void mac_learn(struct vswitch *sw, const uint8_t *mac, uint32_t port,
		      uint64_t now_ns)
{
	struct vswitch_mac *e;

	if (mac_is_group(mac) || mac_is_zero(mac))
		return;
	e = mac_pick_way(sw, sw->macs[mac_hash(mac)], mac, now_ns);
	if (!e->valid || memcmp(e->mac, mac, VSWITCH_ETH_ALEN) != 0) {
		sw->stats.mac_learned++;
		memcpy(e->mac, mac, VSWITCH_ETH_ALEN);
		e->seen_ns = now_ns;
	} else if (e->port != port) {
		sw->stats.mac_moved++;
		e->seen_ns = now_ns;
	} else if (now_ns > e->seen_ns) {
		e->seen_ns = now_ns;
	}
	e->valid = 1;
	e->port = (uint8_t)port;
}

/* The frame being forwarded: its bytes, and the pool slot it was copied
 * to once the first port took it (-1 before). */
struct fwd {
	uint32_t src;
	const void *frame;
	uint32_t len;
	int slot;
	uint32_t free_before; /* free pool slots when the frame came in */
};

/* Queue frame f on port dst, unless dst holds its share of the pool or
 * f's source its share of dst's queue (vswitch.h). The first port to take
 * f copies it into a pool slot; later ones share the slot. Returns
 * whether it was queued. */
static bool port_enqueue(struct vswitch *sw, uint32_t dst, struct fwd *f)
{
	struct vswitch_port *p = &sw->ports[dst];
	struct vswitch_slot *s;
	uint32_t n;

	/* free_before == 0 (an empty pool) refuses every port */
	if (p->count >= f->free_before ||
	    p->src_count[f->src] >= p->cap - p->count) {
		p->stats.rx_drops++;
		return false;
	}
	if (f->slot < 0) {
		n = sw->free_list[--sw->nfree];
		s = &sw->pool[n];
		s->len = (uint16_t)f->len;
		s->src = (uint8_t)f->src;
		s->refs = 0;
		memcpy(s->data, f->frame, f->len);
		f->slot = (int)n;
	}
	sw->pool[f->slot].refs++;
	p->ring[(p->head + p->count) % p->cap] = (uint16_t)f->slot;
	p->src_count[f->src]++;
	p->count++;
	return true;
}

/* Queue f on every port but its source. Returns the mask of ports that
 * took it. */
static uint64_t flood(struct vswitch *sw, struct fwd *f)
{
	uint64_t mask = 0;
	uint32_t i;

	sw->stats.floods++;
	for (i = 0; i < VSWITCH_MAX_PORTS; i++)
		if (i != f->src && sw->ports[i].in_use && port_enqueue(sw, i, f))
			mask |= 1ull << i;
	return mask;
}

/*
 * A frame of len bytes (destination, source, type/length, payload; no
 * FCS) entered on port at time now_ns (any monotonic clock in ns). Learns
 * the source address, then forwards (802.1D 7.7): to the port that owns a
 * known unicast destination, never back to port itself, or floods group
 * and unknown destinations to every other port. Runts (< 14 bytes) and
 * oversize frames (> 1518) are dropped and counted. Returns a mask of the
 * ports (bit n = port n) on whose queue a copy now waits, so that the
 * caller can wake their owners; 0 if the frame went nowhere.
 */
uint64_t vswitch_input(struct vswitch *sw, uint32_t port, const void *frame,
		       uint32_t len, uint64_t now_ns)
{
	const uint8_t *f = frame;
	struct vswitch_port *in;
	struct fwd fw;
	int dst;

	if (!port_ok(sw, port))
		return 0;
	in = &sw->ports[port];
	if (len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX) {
		if (len < VSWITCH_FRAME_MIN)
			sw->stats.runts++;
		else
			sw->stats.oversize++;
		in->stats.tx_drops++;
		return 0;
	}
	if (in->bound && memcmp(f + VSWITCH_ETH_ALEN, in->mac, VSWITCH_ETH_ALEN) != 0) {
		in->stats.src_drops++;
		return 0;
	}
	in->stats.tx_packets++;
	in->stats.tx_bytes += len;
	mac_learn(sw, f + VSWITCH_ETH_ALEN, port, now_ns);
	fw = (struct fwd){ .src = port, .frame = frame, .len = len, .slot = -1,
			   .free_before = sw->nfree };
	if (mac_is_group(f))
		return flood(sw, &fw);
	dst = vswitch_lookup(sw, f, now_ns);
	if (dst < 0)
		return flood(sw, &fw);
	if ((uint32_t)dst == port)
		return 0; /* 7.7.1: not sent back where it came from */
	return port_enqueue(sw, (uint32_t)dst, &fw)
		       ? 1ull << dst
		       : 0;
}

/*
 * Write into frame (VSWITCH_RARP_BYTES of room) the announcement of a NIC
 * whose address is mac, as QEMU and Xen send for a guest that arrived on
 * this switch (restored or migrated): a broadcast Reverse ARP request
 * (RFC 903: hardware type 1, protocol IPv4, opcode 3) from mac about mac.
 * Sent in through the NIC's own port, it moves mac's entry in every
 * learning bridge on the way to that port; hosts ignore it. Returns the
 * frame's length, VSWITCH_RARP_BYTES (zero padded).
 */
uint32_t vswitch_rarp_frame(uint8_t *frame, const uint8_t *mac)
{
	static const uint8_t arp_head[8] = { 0, 1, 8, 0, 6, 4, 0, 3 };

	memset(frame, 0, VSWITCH_RARP_BYTES);
	memset(frame, 0xff, VSWITCH_ETH_ALEN);
	memcpy(frame + 6, mac, VSWITCH_ETH_ALEN);
	frame[12] = 0x80; /* EtherType 0x8035: RARP */
	frame[13] = 0x35;
	memcpy(frame + 14, arp_head, sizeof(arp_head));
	memcpy(frame + 22, mac, VSWITCH_ETH_ALEN); /* sender hardware address */
	memcpy(frame + 32, mac, VSWITCH_ETH_ALEN); /* target hardware address */
	return VSWITCH_RARP_BYTES;
}

/* Length of the frame at the head of port's queue, or 0 if none. */
uint32_t vswitch_peek_len(const struct vswitch *sw, uint32_t port)
{
	const struct vswitch_port *p;

	if (!port_ok(sw, port))
		return 0;
	p = &sw->ports[port];
	return p->count ? sw->pool[p->ring[p->head]].len : 0;
}

/* Whether port has frames waiting (its owner should be notified). */
bool vswitch_pending(const struct vswitch *sw, uint32_t port)
{
	return vswitch_peek_len(sw, port) != 0;
}

/*
 * Take the next frame for port into buf (room bytes). A frame longer than
 * room is discarded and counted as an rx drop, and the next one tried; use
 * vswitch_peek_len or room >= VSWITCH_FRAME_MAX to avoid that. Returns the
 * frame's length, or 0 when the queue is empty or port is not in use.
 */
uint32_t vswitch_dequeue(struct vswitch *sw, uint32_t port, void *buf,
			 uint32_t room)
{
	struct vswitch_port *p;
	struct vswitch_slot *s;
	uint32_t len;

	if (!port_ok(sw, port))
		return 0;
	p = &sw->ports[port];
	while (p->count) {
		s = &sw->pool[p->ring[p->head]];
		len = s->len;
		if (len <= room) {
			memcpy(buf, s->data, len);
			p->stats.rx_packets++;
			p->stats.rx_bytes += len;
		} else {
			p->stats.rx_drops++;
		}
		queue_pop(sw, p);
		if (len <= room)
			return len;
	}
	return 0;
}

/* Copy port's counters to out. Returns 0, or -EINVAL if port is not in
 * use. */
int vswitch_port_stats(const struct vswitch *sw, uint32_t port,
		       struct vswitch_port_stats *out)
{
	if (!port_ok(sw, port))
		return -EINVAL;
	*out = sw->ports[port].stats;
	return 0;
}
