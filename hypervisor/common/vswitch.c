/*
 * The hypervisor's learning Ethernet switch (IEEE 802.1D-2004: 7.7 the
 * forwarding process, 7.8 the learning process, 7.9 the filtering
 * database). Every frame that enters on a port teaches the switch where
 * its unicast source address lives (a port bound to its owner's address
 * takes frames from that address only); it then goes to the one port that
 * owns its destination, or to every other port when the destination is
 * group (multicast/broadcast) or not yet known. Frames are copied into
 * bounded per-port queues whose memory the caller supplies, with a
 * dynamic per-source threshold so that one sender cannot fill a queue
 * (policy in vswitch.h). The filtering database is a small set-associative
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

/* Reset sw to an empty switch with no ports. age_ns is how long a learnt
 * address lives without traffic from it; 0 selects 300 s (802.1D
 * Table 7-5, the recommended ageing time). */
void vswitch_init(struct vswitch *sw, uint64_t age_ns)
{
	memset(sw, 0, sizeof(*sw));
	sw->age_ns = age_ns ? age_ns : VSWITCH_AGE_NS_DEFAULT;
}

/*
 * Add a port whose receive queue lives in mem (bytes long, 2-byte aligned,
 * owned by the switch until vswitch_port_remove hands it back). The queue
 * holds bytes / sizeof(struct vswitch_slot) frames, at most
 * VSWITCH_QUEUE_MAX; VSWITCH_QUEUE_BYTES(n) sizes it. Returns the new
 * port number (< VSWITCH_MAX_PORTS), -EINVAL for memory too small for one
 * slot or misaligned, or -ENOSPC when every port is taken.
 */
int vswitch_port_add(struct vswitch *sw, void *mem, size_t bytes)
{
	size_t n = bytes / sizeof(struct vswitch_slot);
	struct vswitch_port *p;
	uint32_t i;

	if (!mem || n == 0 || ((uintptr_t)mem & 1))
		return -EINVAL;
	for (i = 0; i < VSWITCH_MAX_PORTS; i++) {
		p = &sw->ports[i];
		if (p->in_use)
			continue;
		memset(p, 0, sizeof(*p));
		p->in_use = true;
		p->slots = mem;
		p->cap = n > VSWITCH_QUEUE_MAX ? VSWITCH_QUEUE_MAX : (uint32_t)n;
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

/* Drop the frame at the head of p's queue. */
static void queue_pop(struct vswitch_port *p)
{
	struct vswitch_slot *s = &p->slots[p->head];

	if (p->src_count[s->src])
		p->src_count[s->src]--;
	p->head = (p->head + 1) % p->cap;
	p->count--;
}

/*
 * Remove port: its queued frames are discarded and the addresses learnt
 * on it forgotten. Frames it sent that wait on other ports are still
 * delivered. Returns the queue memory given to vswitch_port_add, for the
 * caller to free, or NULL if port was not in use.
 */
void *vswitch_port_remove(struct vswitch *sw, uint32_t port)
{
	struct vswitch_port *p;
	void *mem;

	if (!port_ok(sw, port))
		return NULL;
	p = &sw->ports[port];
	while (p->count)
		queue_pop(p);
	vswitch_flush_port_macs(sw, port);
	mem = p->slots;
	memset(p, 0, sizeof(*p));
	return mem;
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

/* Queue a copy of frame on port dst, unless src already holds its fair
 * share there (vswitch.h). Returns whether it was queued. */
static bool port_enqueue(struct vswitch *sw, uint32_t dst, uint32_t src,
			 const void *frame, uint32_t len)
{
	struct vswitch_port *p = &sw->ports[dst];
	struct vswitch_slot *s;

	if (p->src_count[src] >= p->cap - p->count) {
		p->stats.rx_drops++;
		return false;
	}
	s = &p->slots[(p->head + p->count) % p->cap];
	s->len = (uint16_t)len;
	s->src = (uint8_t)src;
	memcpy(s->data, frame, len);
	p->src_count[src]++;
	p->count++;
	return true;
}

/* Copy frame to every port but src. Returns the mask of ports queued. */
static uint64_t flood(struct vswitch *sw, uint32_t src, const void *frame,
		      uint32_t len)
{
	uint64_t mask = 0;
	uint32_t i;

	sw->stats.floods++;
	for (i = 0; i < VSWITCH_MAX_PORTS; i++)
		if (i != src && sw->ports[i].in_use &&
		    port_enqueue(sw, i, src, frame, len))
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
	if (mac_is_group(f))
		return flood(sw, port, frame, len);
	dst = vswitch_lookup(sw, f, now_ns);
	if (dst < 0)
		return flood(sw, port, frame, len);
	if ((uint32_t)dst == port)
		return 0; /* 7.7.1: not sent back where it came from */
	return port_enqueue(sw, (uint32_t)dst, port, frame, len)
		       ? 1ull << dst
		       : 0;
}

/* Length of the frame at the head of port's queue, or 0 if none. */
uint32_t vswitch_peek_len(const struct vswitch *sw, uint32_t port)
{
	const struct vswitch_port *p;

	if (!port_ok(sw, port))
		return 0;
	p = &sw->ports[port];
	return p->count ? p->slots[p->head].len : 0;
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
		s = &p->slots[p->head];
		len = s->len;
		if (len <= room) {
			memcpy(buf, s->data, len);
			p->stats.rx_packets++;
			p->stats.rx_bytes += len;
		} else {
			p->stats.rx_drops++;
		}
		queue_pop(p);
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
