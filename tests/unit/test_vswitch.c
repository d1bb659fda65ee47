/*
 * Unit tests for hypervisor/common/vswitch.c: port add/remove limits,
 * learning and forwarding of known unicast, flooding of group and unknown
 * destinations, never reflecting a frame to its ingress port, ageing,
 * replacement in a full hash bucket, queue-full drops, the per-source
 * fairness threshold, the shared frame pool (one slot per flooded frame,
 * a stalled port held to half of the pool, slots back when the last
 * holder lets go), runt and oversize drops, port removal, dequeue of
 * frames larger than the caller's room, and a random run checking the
 * queue and pool accounting invariants.
 */
#include "../../hypervisor/common/vswitch.c"

#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define NS 1000000000ull

static struct vswitch sw;
static void *pool_mem;

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Locally administered unicast address 02:00:00:00:00:n. */
static void mac_n(uint8_t *m, uint32_t n)
{
	m[0] = 0x02;
	m[1] = 0;
	m[2] = (uint8_t)(n >> 24);
	m[3] = (uint8_t)(n >> 16);
	m[4] = (uint8_t)(n >> 8);
	m[5] = (uint8_t)n;
}

/* Build a frame dst <- src with a payload byte tag; returns its length. */
static uint32_t frame(uint8_t *f, const uint8_t *dst, const uint8_t *src,
		      uint8_t tag, uint32_t len)
{
	memset(f, tag, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	return len;
}

static uint64_t send(uint32_t port, uint32_t dst_n, uint32_t src_n,
		     uint8_t tag, uint64_t now)
{
	uint8_t f[64], d[6], s[6];

	mac_n(d, dst_n);
	mac_n(s, src_n);
	return vswitch_input(&sw, port, f, frame(f, d, s, tag, 60), now);
}

static uint64_t send_bcast(uint32_t port, uint32_t src_n, uint8_t tag,
			   uint64_t now)
{
	uint8_t f[64], s[6];

	mac_n(s, src_n);
	return vswitch_input(&sw, port, f, frame(f, bcast, s, tag, 60), now);
}

static int add_port(uint32_t slots)
{
	return vswitch_port_add(&sw, slots);
}

/* A fresh switch whose pool holds pool_slots frames, with nports ports of
 * queues of slots frames each. */
static void reset_pool(uint32_t nports, uint32_t slots, uint32_t pool_slots)
{
	uint32_t i;

	free(pool_mem);
	pool_mem = malloc(VSWITCH_POOL_BYTES(pool_slots));
	CHECK_EQ_INT(vswitch_init(&sw, 0, pool_mem, VSWITCH_POOL_BYTES(pool_slots)), 0);
	for (i = 0; i < nports; i++)
		CHECK_EQ_INT(add_port(slots), i);
}

/* As reset_pool, with a pool too large to limit anything. */
static void reset(uint32_t nports, uint32_t slots)
{
	reset_pool(nports, slots, VSWITCH_POOL_MAX);
}

static uint32_t drain(uint32_t port)
{
	uint8_t buf[VSWITCH_FRAME_MAX];
	uint32_t n = 0;

	while (vswitch_dequeue(&sw, port, buf, sizeof(buf)))
		n++;
	return n;
}

/* Tag byte (payload) of the next frame on port, or -1 if none. */
static int next_tag(uint32_t port)
{
	uint8_t buf[VSWITCH_FRAME_MAX];

	if (!vswitch_dequeue(&sw, port, buf, sizeof(buf)))
		return -1;
	return buf[20];
}

static void test_ports(void)
{
	uint8_t odd[VSWITCH_POOL_BYTES(2) + 1];
	uint32_t i;

	/* the pool: none, too small for a frame, misaligned */
	CHECK_EQ_INT(vswitch_init(&sw, 0, NULL, 4096), -EINVAL);
	CHECK_EQ_INT(add_port(4), -EINVAL); /* no pool, no ports */
	CHECK_EQ_INT(vswitch_init(&sw, 0, odd, 10), -EINVAL);
	CHECK_EQ_INT(vswitch_init(&sw, 0, odd + 1, VSWITCH_POOL_BYTES(2)), -EINVAL);
	CHECK_EQ_INT(vswitch_init(&sw, 0, odd, VSWITCH_POOL_BYTES(2)), 0);
	CHECK_EQ_U64(sw.pool_slots, 2);
	CHECK_EQ_U64(sw.nfree, 2);
	reset(0, 4);
	CHECK_EQ_U64(sw.pool_slots, VSWITCH_POOL_MAX); /* capped */
	CHECK_EQ_INT(add_port(0), -EINVAL);
	for (i = 0; i < VSWITCH_MAX_PORTS; i++)
		CHECK_EQ_INT(add_port(2), i);
	CHECK_EQ_INT(add_port(2), -ENOSPC);
	CHECK_EQ_INT(vswitch_port_remove(&sw, 17), 0);
	CHECK_EQ_INT(vswitch_port_remove(&sw, 17), -EINVAL);
	CHECK_EQ_INT(vswitch_port_remove(&sw, VSWITCH_MAX_PORTS), -EINVAL);
	CHECK_EQ_INT(add_port(2), 17);
	/* queue capped at VSWITCH_QUEUE_MAX frames */
	reset(0, 4);
	CHECK_EQ_INT(add_port(VSWITCH_QUEUE_MAX + 5), 0);
	CHECK_EQ_U64(sw.ports[0].cap, VSWITCH_QUEUE_MAX);
	/* input/dequeue on a port not in use */
	CHECK_EQ_U64(send_bcast(3, 1, 0, 0), 0);
	CHECK_EQ_U64(vswitch_peek_len(&sw, 3), 0);
}

static void test_learn_forward(void)
{
	struct vswitch_port_stats st;
	uint8_t m[6];

	reset(3, 16);
	/* a (port 0) -> b unknown: flooded to 1 and 2 */
	CHECK_EQ_U64(send(0, 0xb, 0xa, 1, 1), 0x6);
	CHECK_EQ_U64(sw.stats.floods, 1);
	mac_n(m, 0xa);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 1), 0);
	CHECK(vswitch_pending(&sw, 1));
	CHECK(vswitch_pending(&sw, 2));
	CHECK(!vswitch_pending(&sw, 0));
	CHECK_EQ_U64(vswitch_peek_len(&sw, 1), 60);
	/* b (port 1) answers a: known, only port 0 */
	CHECK_EQ_U64(send(1, 0xa, 0xb, 2, 2), 0x1);
	CHECK_EQ_U64(sw.stats.floods, 1);
	/* now a -> b goes to port 1 only */
	CHECK_EQ_U64(send(0, 0xb, 0xa, 3, 3), 0x2);
	CHECK_EQ_INT(next_tag(1), 1);
	CHECK_EQ_INT(next_tag(1), 3);
	CHECK_EQ_INT(next_tag(1), -1);
	CHECK_EQ_INT(next_tag(2), 1);
	CHECK_EQ_INT(next_tag(2), -1);
	CHECK_EQ_INT(next_tag(0), 2);
	/* frame contents intact */
	{
		uint8_t f[200], d[6], s[6], out[VSWITCH_FRAME_MAX];
		uint32_t i;

		mac_n(d, 0xa);
		mac_n(s, 0xb);
		frame(f, d, s, 0, sizeof(f));
		for (i = 14; i < sizeof(f); i++)
			f[i] = (uint8_t)(i * 7);
		CHECK_EQ_U64(vswitch_input(&sw, 1, f, sizeof(f), 4), 0x1);
		CHECK_EQ_U64(vswitch_dequeue(&sw, 0, out, sizeof(out)),
			     sizeof(f));
		CHECK(memcmp(out, f, sizeof(f)) == 0);
	}
	/* a station moves from port 1 to port 2 */
	CHECK_EQ_U64(send(2, 0xa, 0xb, 5, 5), 0x1);
	CHECK_EQ_U64(sw.stats.mac_moved, 1);
	CHECK_EQ_U64(send(0, 0xb, 0xa, 6, 6), 0x4);
	drain(0);
	drain(2);
	CHECK_EQ_INT(vswitch_port_stats(&sw, 0, &st), 0);
	CHECK_EQ_U64(st.tx_packets, 3);
	CHECK_EQ_U64(st.tx_bytes, 180);
	CHECK_EQ_U64(st.rx_packets, 3); /* tags 2 and 5, the 200-byte one */
	CHECK_EQ_U64(st.rx_bytes, 60 * 2 + 200);
	CHECK_EQ_INT(vswitch_port_stats(&sw, 9, &st), -EINVAL);
}

static void test_flood_reflect(void)
{
	uint8_t f[64], s[6], mc[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

	reset(4, 16);
	send(1, 0xa, 0xb, 0, 0); /* learn b on 1 */
	drain(0);
	drain(2);
	drain(3);
	/* broadcast from a known station still floods, not back to 1 */
	CHECK_EQ_U64(send_bcast(1, 0xb, 1, 1), 0xd);
	/* multicast destination floods */
	mac_n(s, 0xc);
	CHECK_EQ_U64(vswitch_input(&sw, 2, f, frame(f, mc, s, 2, 60), 2),
		     0xb);
	/* a multicast source is never learnt */
	CHECK_EQ_U64(vswitch_input(&sw, 3, f, frame(f, bcast, mc, 3, 60), 3),
		     0x7);
	CHECK_EQ_INT(vswitch_lookup(&sw, mc, 3), -ENOENT);
	/* nor the zero address */
	memset(s, 0, 6);
	vswitch_input(&sw, 3, f, frame(f, bcast, s, 3, 60), 3);
	CHECK_EQ_INT(vswitch_lookup(&sw, s, 3), -ENOENT);
	drain(0);
	drain(1);
	drain(2);
	drain(3);
	/* c (port 2) -> b (port 1) but arriving on port 1: filtered */
	CHECK_EQ_U64(send(1, 0xb, 0xd, 4, 4), 0);
	CHECK(!vswitch_pending(&sw, 0));
	CHECK(!vswitch_pending(&sw, 1));
	CHECK(!vswitch_pending(&sw, 2));
	CHECK(!vswitch_pending(&sw, 3));
}

static void test_aging(void)
{
	uint8_t m[6];

	reset(3, 16);
	mac_n(m, 0xa);
	send(0, 0xb, 0xa, 0, 10 * NS);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 10 * NS + 300 * NS), 0);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 10 * NS + 300 * NS + 1), -ENOENT);
	/* refreshed by traffic at 200 s: lives to 500 s */
	send(0, 0xb, 0xa, 0, 200 * NS);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 450 * NS), 0);
	/* a clock slightly behind does not age an entry */
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 199 * NS), 0);
	/* after ageing, frames to a flood again */
	CHECK_EQ_U64(send(1, 0xa, 0xb, 0, 501 * NS), 0x5);
	/* a custom ageing time */
	reset(0, 4);
	sw.age_ns = 5 * NS; /* as vswitch_init(&sw, 5 * NS, ...) */
	CHECK_EQ_INT(add_port(4), 0);
	send_bcast(0, 0xa, 0, 0);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 5 * NS), 0);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 6 * NS), -ENOENT);
	CHECK_EQ_INT(vswitch_init(&sw, 7, pool_mem, VSWITCH_POOL_BYTES(4)), 0);
	CHECK_EQ_U64(sw.age_ns, 7);
	CHECK_EQ_INT(vswitch_init(&sw, 0, pool_mem, VSWITCH_POOL_BYTES(4)), 0);
	CHECK_EQ_U64(sw.age_ns, 300 * NS);
}

/* Find count addresses that hash to the same bucket. */
static void same_bucket(uint32_t *ns, uint32_t count)
{
	uint32_t n, found = 0, b0 = 0;
	uint8_t m[6];

	for (n = 1; found < count; n++) {
		mac_n(m, n);
		if (found == 0)
			b0 = mac_hash(m);
		if (mac_hash(m) == b0)
			ns[found++] = n;
	}
}

static void test_table_full(void)
{
	uint32_t ns[VSWITCH_MAC_WAYS + 2], i, q;
	uint8_t m[6];

	reset(2, 4);
	same_bucket(ns, VSWITCH_MAC_WAYS + 2);
	for (i = 0; i < VSWITCH_MAC_WAYS; i++)
		send_bcast(0, ns[i], 0, (i + 1) * NS);
	for (i = 0; i < VSWITCH_MAC_WAYS; i++) {
		mac_n(m, ns[i]);
		CHECK_EQ_INT(vswitch_lookup(&sw, m, 10 * NS), 0);
	}
	/* refresh the first so the second is the oldest */
	send_bcast(0, ns[0], 0, 20 * NS);
	send_bcast(1, ns[VSWITCH_MAC_WAYS], 0, 21 * NS);
	CHECK_EQ_U64(sw.stats.mac_replaced, 1);
	mac_n(m, ns[1]);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 22 * NS), -ENOENT);
	mac_n(m, ns[0]);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 22 * NS), 0);
	mac_n(m, ns[VSWITCH_MAC_WAYS]);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 22 * NS), 1);
	/* once entries have aged they are reused without a replacement */
	send_bcast(1, ns[VSWITCH_MAC_WAYS + 1], 0, 400 * NS);
	CHECK_EQ_U64(sw.stats.mac_replaced, 1);
	mac_n(m, ns[VSWITCH_MAC_WAYS + 1]);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 400 * NS), 1);
	/* many more stations than entries: the latest are all known */
	reset(2, 4);
	for (i = 0; i < 4 * VSWITCH_MAC_BUCKETS * VSWITCH_MAC_WAYS; i++)
		send_bcast(0, 1000 + i, 0, i);
	for (q = 0, i = 0; i < 4 * VSWITCH_MAC_BUCKETS * VSWITCH_MAC_WAYS; i++) {
		mac_n(m, 1000 + i);
		if (vswitch_lookup(&sw, m, i) == 0)
			q++;
	}
	/* the table stays full and never holds more than it has room for */
	CHECK_EQ_U64(q, VSWITCH_MAC_BUCKETS * VSWITCH_MAC_WAYS);
	mac_n(m, 1000 + 4 * VSWITCH_MAC_BUCKETS * VSWITCH_MAC_WAYS - 1);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 1 * NS), 0);
}

static void test_queue_full(void)
{
	struct vswitch_port_stats st;
	uint32_t i, q = 0;

	/* one sender gets at most half of an 8-slot queue */
	reset(2, 8);
	for (i = 0; i < 20; i++)
		if (send_bcast(0, 0xa, (uint8_t)i, 0))
			q++;
	CHECK_EQ_U64(q, 4);
	CHECK_EQ_U64(sw.ports[1].count, 4);
	vswitch_port_stats(&sw, 1, &st);
	CHECK_EQ_U64(st.rx_drops, 16);
	vswitch_port_stats(&sw, 0, &st);
	CHECK_EQ_U64(st.tx_packets, 20); /* accepted by the switch */
	CHECK_EQ_U64(st.tx_drops, 0);
	/* FIFO order, and the oldest survive */
	for (i = 0; i < 4; i++)
		CHECK_EQ_INT(next_tag(1), i);
	CHECK_EQ_INT(next_tag(1), -1);
	/* many senders fill the queue completely, then everything drops */
	reset(9, 8);
	for (i = 0; i < 8 * 4; i++)
		send_bcast(1 + i % 8, 0x10 + i % 8, 0, 0);
	CHECK_EQ_U64(sw.ports[0].count, 8);
	CHECK_EQ_U64(send_bcast(1, 0x10, 0, 0) & 1, 0);
	CHECK_EQ_U64(drain(0), 8);
	CHECK_EQ_U64(send_bcast(1, 0x10, 0, 0) & 1, 1);
}

static void test_fairness(void)
{
	uint32_t i, got = 0;
	int t;

	/* port 0 floods broadcasts, nobody drains; port 1 -> port 2 */
	reset(3, VSWITCH_QUEUE_DEFAULT);
	send(2, 0xb, 0xc, 0, 0); /* learn c on port 2 */
	drain(0);
	drain(1);
	for (i = 0; i < 5000; i++)
		send_bcast(0, 0xa, 0xAA, 0);
	for (i = 0; i < 10; i++)
		if (send(1, 0xc, 0xb, 0xBB, 0) == 0x4)
			got++;
	CHECK_EQ_U64(got, 10);
	/* a second flooder too: port 1's broadcasts still get in */
	for (i = 0; i < 5000; i++)
		CHECK((send_bcast(1, 0xb, 0xCC, 0) & 4) || i > 0);
	CHECK(sw.ports[2].src_count[0] <= VSWITCH_QUEUE_DEFAULT / 2);
	CHECK(sw.ports[2].src_count[1] >= 10);
	CHECK(sw.ports[2].count < VSWITCH_QUEUE_DEFAULT);
	/* port 2 sees port 1's frames */
	got = 0;
	while ((t = next_tag(2)) >= 0)
		if (t == 0xBB)
			got++;
	CHECK_EQ_U64(got, 10);
	/* source counts are back to zero after draining */
	for (i = 0; i < VSWITCH_MAX_PORTS; i++)
		CHECK_EQ_U64(sw.ports[2].src_count[i], 0);
}

/* The pool is shared: a flooded frame takes one slot whatever the number
 * of ports that queue it, a port that stops reading is held to half of
 * the pool so that the others keep talking, and every slot comes back
 * when the last port holding it lets go. */
static void test_shared_pool(void)
{
	struct vswitch_port_stats st;
	uint32_t i, q = 0;

	reset_pool(5, VSWITCH_QUEUE_MAX, 16);
	/* one broadcast to 4 ports: one slot, 4 references */
	CHECK_EQ_U64(send_bcast(0, 0xa, 1, 0), 0x1e);
	CHECK_EQ_U64(sw.nfree, 15);
	CHECK_EQ_U64(sw.pool[sw.ports[1].ring[sw.ports[1].head]].refs, 4);
	for (i = 1; i < 5; i++) {
		CHECK_EQ_INT(next_tag(i), 1);
		CHECK_EQ_U64(sw.nfree, i < 4 ? 15 : 16);
	}
	/* learn b on port 1, c on port 2; port 0 sends to b, who never reads */
	send(1, 0xa, 0xb, 0, 0);
	send(2, 0xa, 0xc, 0, 0);
	drain(0);
	for (i = 0; i < 40; i++)
		if (send(0, 0xb, 0xa, (uint8_t)i, 0))
			q++;
	CHECK_EQ_U64(q, 8); /* half of the pool, then dropped */
	CHECK_EQ_U64(sw.ports[1].count, 8);
	CHECK_EQ_U64(sw.nfree, 8);
	vswitch_port_stats(&sw, 1, &st);
	CHECK_EQ_U64(st.rx_drops, 32);
	/* port 3 still reaches c, and c reads */
	for (i = 0; i < 20; i++) {
		CHECK_EQ_U64(send(3, 0xc, 0xd, (uint8_t)i, 0), 0x4);
		CHECK_EQ_INT(next_tag(2), (int)i);
	}
	/* c stops reading too: it gets a share of what is left */
	q = 0;
	for (i = 0; i < 20; i++)
		if (send(3, 0xc, 0xd, (uint8_t)i, 0))
			q++;
	CHECK_EQ_U64(q, 4);
	CHECK_EQ_U64(sw.nfree, 4);
	/* b's port goes: its frames come back to the pool */
	CHECK_EQ_INT(vswitch_port_remove(&sw, 1), 0);
	CHECK_EQ_U64(sw.nfree, 12);
	CHECK_EQ_U64(drain(2), 4);
	CHECK_EQ_U64(sw.nfree, 16);
	/* a port holding as many as the pool has free is refused; an empty
	 * pool refuses every port */
	reset_pool(3, VSWITCH_QUEUE_MAX, 2);
	CHECK_EQ_U64(send(1, 0xa, 0xb, 0, 0), 0x5); /* one slot, 2 ports */
	CHECK_EQ_U64(sw.nfree, 1);
	CHECK_EQ_U64(send(2, 0xa, 0xc, 0, 0), 0x2); /* port 0: 1 >= 1 free */
	CHECK_EQ_U64(sw.nfree, 0);
	CHECK_EQ_U64(send(0, 0xb, 0xa, 0, 0), 0);
	vswitch_port_stats(&sw, 1, &st);
	CHECK_EQ_U64(st.rx_drops, 1);
	CHECK_EQ_U64(drain(1), 1);
	CHECK_EQ_U64(sw.nfree, 1);
	CHECK_EQ_U64(send(0, 0xb, 0xa, 7, 0), 0x2);
	CHECK_EQ_INT(next_tag(1), 7);
}

static void test_runt_oversize(void)
{
	uint8_t f[VSWITCH_FRAME_MAX + 8], s[6];
	struct vswitch_port_stats st;

	reset(2, 8);
	mac_n(s, 0xa);
	frame(f, bcast, s, 0, sizeof(f));
	CHECK_EQ_U64(vswitch_input(&sw, 0, f, 13, 0), 0);
	CHECK_EQ_U64(vswitch_input(&sw, 0, f, 0, 0), 0);
	CHECK_EQ_U64(vswitch_input(&sw, 0, f, VSWITCH_FRAME_MAX + 1, 0), 0);
	CHECK_EQ_U64(vswitch_input(&sw, 0, f, 65535, 0), 0);
	CHECK_EQ_U64(sw.stats.runts, 2);
	CHECK_EQ_U64(sw.stats.oversize, 2);
	vswitch_port_stats(&sw, 0, &st);
	CHECK_EQ_U64(st.tx_drops, 4);
	CHECK_EQ_U64(st.tx_packets, 0);
	CHECK_EQ_INT(vswitch_lookup(&sw, s, 0), -ENOENT); /* nothing learnt */
	CHECK(!vswitch_pending(&sw, 1));
	CHECK_EQ_U64(vswitch_input(&sw, 0, f, VSWITCH_FRAME_MAX, 0), 0x2);
	CHECK_EQ_U64(vswitch_input(&sw, 0, f, 14, 0), 0x2);
	CHECK_EQ_U64(vswitch_peek_len(&sw, 1), VSWITCH_FRAME_MAX);
	/* room too small: discarded, counted, next frame returned */
	CHECK_EQ_U64(vswitch_dequeue(&sw, 1, f, 100), 14);
	CHECK_EQ_U64(vswitch_dequeue(&sw, 1, f, 100), 0);
	vswitch_port_stats(&sw, 1, &st);
	CHECK_EQ_U64(st.rx_drops, 1);
	CHECK_EQ_U64(st.rx_packets, 1);
}

static void test_remove(void)
{
	uint8_t mb[6];

	reset(3, 8);
	mac_n(mb, 0xb);
	send(1, 0xa, 0xb, 0, 0);
	send(0, 0xb, 0xa, 1, 0);
	send(2, 0xb, 0xc, 2, 0);
	CHECK_EQ_U64(sw.ports[1].count, 2);
	CHECK_EQ_INT(vswitch_lookup(&sw, mb, 0), 1);
	CHECK_EQ_U64(sw.nfree, VSWITCH_POOL_MAX - 3);
	CHECK_EQ_INT(vswitch_port_remove(&sw, 1), 0);
	CHECK_EQ_U64(sw.nfree, VSWITCH_POOL_MAX - 1); /* its two frames freed */
	CHECK_EQ_INT(vswitch_lookup(&sw, mb, 0), -ENOENT);
	CHECK(!vswitch_pending(&sw, 1));
	/* b's frame to a (queued on port 0) is still delivered */
	CHECK_EQ_INT(next_tag(0), 0);
	/* frames to b now flood to the remaining ports */
	CHECK_EQ_U64(send(0, 0xb, 0xa, 3, 0), 0x4);
	/* the id comes back empty, and no stale entry points at it */
	CHECK_EQ_INT(add_port(8), 1);
	CHECK(!vswitch_pending(&sw, 1));
	CHECK_EQ_U64(send(0, 0xb, 0xa, 4, 0), 0x6);
	CHECK_EQ_U64(sw.ports[1].count, 1);
}

/* Random traffic: accounting invariants hold and nothing overflows. */
/* A port bound to its owner's address takes frames from that address
 * only: another guest's or dom0's address, or made-up ones, are dropped
 * and counted, teach the switch nothing and reach no one. */
static void test_bound_ports(void)
{
	struct vswitch_port_stats st;
	uint8_t m1[6], m2[6], grp[6] = { 0x01, 0, 0x5e, 0, 0, 1 }, zero[6] = { 0 };
	uint64_t replaced;
	uint32_t i;

	reset(3, 8);
	mac_n(m1, 1);
	mac_n(m2, 2);
	CHECK_EQ_INT(vswitch_port_bind(&sw, 0, m1), 0);
	CHECK_EQ_INT(vswitch_port_bind(&sw, 1, m2), 0);
	CHECK_EQ_INT(vswitch_port_bind(&sw, 2, grp), -EINVAL);
	CHECK_EQ_INT(vswitch_port_bind(&sw, 2, zero), -EINVAL);
	CHECK_EQ_INT(vswitch_port_bind(&sw, 3, m1), -EINVAL); /* no such port */
	CHECK_EQ_INT(vswitch_port_bind(&sw, VSWITCH_MAX_PORTS, m1), -EINVAL);
	/* own address: taken, learnt and forwarded */
	CHECK_EQ_U64(send(1, 1, 2, 0x21, NS), (1ull << 0) | (1ull << 2));
	CHECK_EQ_INT(vswitch_lookup(&sw, m2, NS), 1);
	CHECK_EQ_U64(send(0, 2, 1, 0x22, NS), 1ull << 1);
	CHECK_EQ_INT(next_tag(1), 0x22);
	/* port 0 sends as port 1's address: dropped, nothing learnt */
	CHECK_EQ_U64(send(0, 9, 2, 0x23, NS), 0);
	CHECK_EQ_U64(send_bcast(0, 2, 0x24, NS), 0);
	CHECK_EQ_INT(vswitch_lookup(&sw, m2, NS), 1);
	CHECK_EQ_U64(send(2, 2, 7, 0x25, NS), 1ull << 1); /* still to port 1 */
	CHECK_EQ_INT(vswitch_port_stats(&sw, 0, &st), 0);
	CHECK_EQ_U64(st.src_drops, 2);
	CHECK_EQ_U64(st.tx_packets, 1);
	/* made-up addresses cannot fill the filtering database */
	replaced = sw.stats.mac_replaced;
	for (i = 100; i < 100 + 4 * VSWITCH_MAC_BUCKETS * VSWITCH_MAC_WAYS; i++)
		CHECK_EQ_U64(send(0, 2, i, 0x26, 2 * NS), 0);
	CHECK_EQ_U64(sw.stats.mac_replaced, replaced);
	CHECK_EQ_INT(vswitch_lookup(&sw, m2, 2 * NS), 1);
	CHECK_EQ_INT(vswitch_port_stats(&sw, 0, &st), 0);
	CHECK_EQ_U64(st.src_drops, 2 + 4 * VSWITCH_MAC_BUCKETS * VSWITCH_MAC_WAYS);
	/* an unbound port (2) still learns whatever it sends from */
	CHECK_EQ_INT(vswitch_lookup(&sw, (const uint8_t[6]){ 2, 0, 0, 0, 0, 7 }, NS), 2);
	drain(0);
	drain(1);
	drain(2);
}

/* Sum of references held in the pool, and whether every free-list entry
 * names a slot with none. */
static bool pool_consistent(void)
{
	uint32_t i, refs = 0, queued = 0;

	for (i = 0; i < sw.pool_slots; i++)
		refs += sw.pool[i].refs;
	for (i = 0; i < sw.nfree; i++)
		if (sw.pool[sw.free_list[i]].refs)
			return false;
	for (i = 0; i < VSWITCH_MAX_PORTS; i++)
		queued += sw.ports[i].count;
	return refs == queued && sw.nfree <= sw.pool_slots;
}

static void test_random(void)
{
	uint8_t f[VSWITCH_FRAME_MAX + 4], buf[VSWITCH_FRAME_MAX];
	uint32_t i, p, len, sum, s, bad = 0, badpool = 0;
	uint64_t now = 0;

	reset_pool(6, 16, 40);
	for (i = 0; i < 200000; i++) {
		p = (uint32_t)harness_rand_below(7); /* 6 = not a port */
		now += harness_rand_below(NS);
		if (harness_rand_below(3) == 0) {
			vswitch_dequeue(&sw, p, buf,
					(uint32_t)harness_rand_below(1600));
			continue;
		}
		len = (uint32_t)harness_rand_below(sizeof(f));
		for (s = 0; s < len; s++)
			f[s] = (uint8_t)harness_rand();
		if (len >= 12 && harness_rand_below(2))
			f[0] = 0x02, f[1] = f[2] = f[3] = f[4] = 0,
			f[5] = (uint8_t)harness_rand_below(8),
			f[6] = 0x02, f[7] = f[8] = f[9] = f[10] = 0,
			f[11] = (uint8_t)harness_rand_below(8);
		vswitch_input(&sw, p, f, len, now);
		for (p = 0; p < 6; p++) {
			sum = 0;
			for (s = 0; s < VSWITCH_MAX_PORTS; s++)
				sum += sw.ports[p].src_count[s];
			if (sum != sw.ports[p].count ||
			    sw.ports[p].count > sw.ports[p].cap)
				bad++;
		}
		if ((i & 255) == 0 && !pool_consistent())
			badpool++;
	}
	CHECK_EQ_U64(bad, 0);
	CHECK_EQ_U64(badpool, 0);
	for (p = 0; p < 6; p++)
		drain(p);
	CHECK_EQ_U64(sw.nfree, 40);
}

/* A guest that arrives on a new port (restored, or migrated beside its
 * old copy) announces itself with vswitch_rarp_frame: the frame is a
 * RARP request from and about its MAC, it floods, and the MAC's entry
 * moves to the new port at once, so frames for it stop going to the old
 * port before the guest sends anything. */
static void test_rarp_announce(void)
{
	uint8_t f[VSWITCH_RARP_BYTES + 8], m[6];
	static const uint8_t head[22] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0xa,
		0x80, 0x35, 0, 1, 8, 0, 6, 4, 0, 3 };

	reset(3, 16);
	mac_n(m, 0xa);
	memset(f, 0x5c, sizeof(f));
	CHECK_EQ_U64(vswitch_rarp_frame(f, m), 60);
	CHECK(memcmp(f, head, sizeof(head)) == 0);
	CHECK(memcmp(f + 22, m, 6) == 0 && memcmp(f + 32, m, 6) == 0);
	CHECK(f[28] == 0 && f[31] == 0 && f[38] == 0 && f[41] == 0 && f[59] == 0);
	CHECK(f[60] == 0x5c); /* nothing written past the frame */
	/* the guest was on port 1; its copy now on port 2 announces */
	CHECK_EQ_U64(send(1, 0xb, 0xa, 1, 1), 0x5);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 1), 1);
	CHECK_EQ_INT(vswitch_port_bind(&sw, 2, m), 0);
	CHECK_EQ_U64(vswitch_input(&sw, 2, f, vswitch_rarp_frame(f, m), 2), 0x3);
	CHECK_EQ_INT(vswitch_lookup(&sw, m, 2), 2);
	CHECK_EQ_U64(send(0, 0xa, 0xb, 3, 3), 0x4);
	drain(0);
	drain(1);
	drain(2);
}

int main(void)
{
	test_ports();
	test_learn_forward();
	test_flood_reflect();
	test_aging();
	test_table_full();
	test_queue_full();
	test_fairness();
	test_shared_pool();
	test_runt_oversize();
	test_remove();
	test_bound_ports();
	test_rarp_announce();
	test_random();
	free(pool_mem);
	return harness_done("vswitch");
}
