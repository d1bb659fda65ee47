/*
 * libFuzzer target for hypervisor/common/vswitch.c. Each input is a
 * script of operations on one switch - frame input on a port (addresses
 * drawn from a small set so that learning, moves and bucket collisions
 * happen), dequeue with a chosen room, port add with a chosen queue size,
 * port remove, clock steps - and after every operation the switch's
 * contract is checked: the mask vswitch_input returns names only ports in
 * use and never the ingress port, dequeue returns at most room and a
 * legal frame size, each queue's count stays within its capacity and
 * equals the sum of its per-source counts, every queued frame has a legal
 * length and a pool slot that is not free, the pool's references add up
 * to the frames queued, and no live filtering entry points at a removed
 * port. Any
 * violation aborts. Build and run from the repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_vswitch.c -o /tmp/fuzz_vswitch
 *   mkdir -p /tmp/fuzz_vswitch_corpus
 *   cd /tmp && ./fuzz_vswitch -max_total_time=60 /tmp/fuzz_vswitch_corpus
 */
#include "../../hypervisor/common/vswitch.c"
#include "fuzz.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_PORTS 8u

#define FUZZ_POOL 48u /* frames in the switch's pool: runs out often */

static struct vswitch fsw;
static void *fpool;

/* A reader over the input that yields zeros once it runs out. */
struct script {
	const uint8_t *p;
	size_t left;
};

static uint8_t next8(struct script *s)
{
	if (!s->left)
		return 0;
	s->left--;
	return *s->p++;
}

static uint32_t next16(struct script *s)
{
	uint32_t v = next8(s);

	return v << 8 | next8(s);
}

/* One of a few unicast addresses, a multicast one or broadcast. */
static void pick_mac(struct script *s, uint8_t *m)
{
	uint8_t k = next8(s);

	memset(m, 0, 6);
	if (k >= 0xF0) {
		memset(m, 0xFF, 6);
	} else if (k >= 0xE0) {
		m[0] = 0x01;
		m[5] = k;
	} else {
		m[0] = 0x02;
		m[5] = k % 24;
	}
}

static void check_port(const struct vswitch_port *p)
{
	uint32_t sum = 0, i, len;

	FUZZ_ASSERT(p->cap >= 1 && p->cap <= VSWITCH_QUEUE_MAX);
	FUZZ_ASSERT(p->count <= p->cap && p->head < p->cap);
	for (i = 0; i < VSWITCH_MAX_PORTS; i++)
		sum += p->src_count[i];
	FUZZ_ASSERT(sum == p->count);
	for (i = 0; i < p->count; i++) {
		const struct vswitch_slot *sl;

		FUZZ_ASSERT(p->ring[(p->head + i) % p->cap] < fsw.pool_slots);
		sl = &fsw.pool[p->ring[(p->head + i) % p->cap]];
		len = sl->len;
		FUZZ_ASSERT(len >= VSWITCH_FRAME_MIN && len <= VSWITCH_FRAME_MAX);
		FUZZ_ASSERT(sl->refs > 0);
	}
}

static void check_switch(void)
{
	uint32_t i, w, refs = 0, queued = 0;

	for (i = 0; i < VSWITCH_MAX_PORTS; i++)
		if (fsw.ports[i].in_use) {
			check_port(&fsw.ports[i]);
			queued += fsw.ports[i].count;
		}
	FUZZ_ASSERT(fsw.nfree <= fsw.pool_slots);
	for (i = 0; i < fsw.pool_slots; i++)
		refs += fsw.pool[i].refs;
	for (i = 0; i < fsw.nfree; i++)
		FUZZ_ASSERT(fsw.pool[fsw.free_list[i]].refs == 0);
	FUZZ_ASSERT(refs == queued);
	for (i = 0; i < VSWITCH_MAC_BUCKETS; i++)
		for (w = 0; w < VSWITCH_MAC_WAYS; w++)
			FUZZ_ASSERT(!fsw.macs[i][w].valid ||
				    fsw.ports[fsw.macs[i][w].port].in_use);
}

static void op_input(struct script *s, uint64_t now)
{
	uint8_t f[VSWITCH_FRAME_MAX + 64];
	uint32_t port = next8(s) % FUZZ_PORTS, len, i;
	uint64_t mask;

	len = next16(s) % sizeof(f);
	memset(f, 0, sizeof(f));
	pick_mac(s, f);
	pick_mac(s, f + 6);
	for (i = 12; i < len && i < 20; i++)
		f[i] = next8(s);
	mask = vswitch_input(&fsw, port, f, len, now);
	FUZZ_ASSERT(!(mask & (1ull << port)));
	if (fsw.ports[port].in_use && fsw.ports[port].bound &&
	    memcmp(f + 6, fsw.ports[port].mac, 6) != 0)
		FUZZ_ASSERT(mask == 0); /* a bound port never sends as another */
	for (i = 0; i < VSWITCH_MAX_PORTS; i++)
		FUZZ_ASSERT(!(mask & (1ull << i)) || fsw.ports[i].in_use);
	if (len < VSWITCH_FRAME_MIN || len > VSWITCH_FRAME_MAX)
		FUZZ_ASSERT(mask == 0);
}

static void op_dequeue(struct script *s)
{
	uint8_t buf[VSWITCH_FRAME_MAX];
	uint32_t port = next8(s) % FUZZ_PORTS;
	uint32_t room = next16(s) % (sizeof(buf) + 1);
	uint32_t peek = vswitch_peek_len(&fsw, port);
	uint32_t got = vswitch_dequeue(&fsw, port, buf, room);

	FUZZ_ASSERT(got <= room && got <= VSWITCH_FRAME_MAX);
	FUZZ_ASSERT(got == 0 || got >= VSWITCH_FRAME_MIN);
	FUZZ_ASSERT(peek > room || got == peek);
	FUZZ_ASSERT(vswitch_pending(&fsw, port) ==
		    (vswitch_peek_len(&fsw, port) != 0));
}

static void op_add(struct script *s)
{
	uint32_t slots = next8(s) % 40 + 1;
	int p;

	p = vswitch_port_add(&fsw, slots);
	FUZZ_ASSERT(p < (int)VSWITCH_MAX_PORTS);
	if (p < 0)
		return;
	if (next8(s) & 1) { /* bind it, as Keel does for every NIC */
		uint8_t mac[6];

		pick_mac(s, mac);
		FUZZ_ASSERT(vswitch_port_bind(&fsw, (uint32_t)p, mac) ==
			    ((mac[0] & 1) ? -EINVAL : 0));
	}
}

static void op_remove(struct script *s)
{
	uint32_t port = next8(s) % FUZZ_PORTS;
	bool used = fsw.ports[port].in_use;

	FUZZ_ASSERT(vswitch_port_remove(&fsw, port) == (used ? 0 : -EINVAL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script s = { data, size };
	uint64_t now = 0;
	uint32_t i;

	if (!fpool)
		fpool = malloc(VSWITCH_POOL_BYTES(FUZZ_POOL));
	FUZZ_ASSERT(vswitch_init(&fsw, 1000, fpool, VSWITCH_POOL_BYTES(FUZZ_POOL)) == 0);
	for (i = 0; i < 4; i++)
		op_add(&s);
	while (s.left) {
		switch (next8(&s) % 8) {
		case 0: case 1: case 2:
			op_input(&s, now);
			break;
		case 3: case 4:
			op_dequeue(&s);
			break;
		case 5:
			op_add(&s);
			break;
		case 6:
			op_remove(&s);
			break;
		default:
			now += (uint64_t)next16(&s) * 8;
			break;
		}
		check_switch();
	}
	return 0;
}
