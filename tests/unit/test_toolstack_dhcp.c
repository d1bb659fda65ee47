/*
 * Host unit tests of the DHCP logic of `keel netd` (toolstack/dhcp.c with
 * the lease table of lease.c): parsing of client messages including
 * malformed ones (truncated, bad op/htype/hlen/cookie, option lengths
 * that overrun the packet or are wrong for options 50/53/54, multicast or
 * zero MACs), the decisions of RFC 2131 section 4.3 (DISCOVER/OFFER,
 * REQUEST in SELECTING, INIT-REBOOT and RENEWING, NAKs, RELEASE, DECLINE,
 * INFORM, pool exhaustion, relays) and the replies' fields and options.
 * A random-mutation loop checks that no input crashes parse, decide or
 * build (ASan/UBSan). Sources are #included.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/core/fileio.c"
#include "../../toolstack/netd/netnames.c"
#include "../../toolstack/netd/lease.c"
#include "../../toolstack/netd/dhcp.c"

#include "harness.h"

#define NOW 1700000000ull
#define IP(d) (0x0A4D0000u | (d))
#define BCAST 0xFFFFFFFFu

static const uint8_t mac_a[6] = { 0x02, 0x4b, 0x45, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0x4b, 0x45, 0x00, 0x00, 0x0b };

/* A client message being built. */
struct msg {
	uint8_t b[600];
	size_t len;
};

/* Start a BOOTREQUEST of @type from @mac with @ciaddr; options follow. */
static void msg_start(struct msg *m, uint8_t type, const uint8_t *mac,
		      uint32_t ciaddr)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = DHCP_BOOTREQUEST;
	m->b[1] = 1;
	m->b[2] = 6;
	dhcp_put32(m->b + 4, 0x12345678u);
	dhcp_put32(m->b + 12, ciaddr);
	memcpy(m->b + 28, mac, 6);
	dhcp_put32(m->b + DHCP_FIXED_BYTES, DHCP_MAGIC_COOKIE);
	m->len = DHCP_OPTIONS_OFFSET;
	m->b[m->len++] = DHCP_OPT_MSG_TYPE;
	m->b[m->len++] = 1;
	m->b[m->len++] = type;
}

/* Append option @code with @n bytes @v. */
static void msg_opt(struct msg *m, uint8_t code, const void *v, uint8_t n)
{
	m->b[m->len++] = code;
	m->b[m->len++] = n;
	memcpy(m->b + m->len, v, n);
	m->len += n;
}

/* Append a 4-byte address option. */
static void msg_addr(struct msg *m, uint8_t code, uint32_t addr)
{
	uint8_t v[4];

	dhcp_put32(v, addr);
	msg_opt(m, code, v, 4);
}

/* Append END. */
static void msg_end(struct msg *m)
{
	m->b[m->len++] = DHCP_OPT_END;
}

/* Parse @m into @req; 0 or -EINVAL. */
static int msg_parse(const struct msg *m, struct dhcp_request *req)
{
	return dhcp_parse(m->b, m->len, req);
}

/*
 * Find option @code in the reply @p (@len bytes): its data length, with
 * *@v pointing at it, or -1.
 */
static int reply_opt(const uint8_t *p, int len, uint8_t code,
		     const uint8_t **v)
{
	int off = DHCP_OPTIONS_OFFSET;

	while (off < len && p[off] != DHCP_OPT_END) {
		if (p[off] == DHCP_OPT_PAD) {
			off++;
			continue;
		}
		if (off + 2 > len || off + 2 + p[off + 1] > len)
			return -1;
		if (p[off] == code) {
			*v = p + off + 2;
			return p[off + 1];
		}
		off += 2 + p[off + 1];
	}
	return -1;
}

/* The 4-byte option @code of a reply, or 0xDEADBEEF if absent. */
static uint32_t reply_opt32(const uint8_t *p, int len, uint8_t code)
{
	const uint8_t *v;

	return reply_opt(p, len, code, &v) == 4 ? dhcp_get32(v) : 0xDEADBEEFu;
}

/* Send one message through parse and decide. Returns the reply type. */
static uint8_t exchange(struct lease_table *t, const struct msg *m,
			uint64_t now, struct dhcp_decision *d)
{
	struct dhcp_request req;

	memset(d, 0, sizeof(*d));
	if (msg_parse(m, &req))
		return 0xFF;
	dhcp_decide(&req, t, now, d);
	return d->reply;
}

/* A well-formed DISCOVER parses into the right fields. */
static void test_parse_good(void)
{
	struct dhcp_request req;
	struct msg m;

	msg_start(&m, DHCP_REQUEST, mac_a, IP(33));
	m.b[10] = 0x80;
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(44));
	msg_addr(&m, DHCP_OPT_SERVER_ID, NETD_ADDR);
	msg_opt(&m, 55, "\x01\x03\x06", 3);
	msg_end(&m);
	CHECK_EQ_INT(msg_parse(&m, &req), 0);
	CHECK_EQ_INT(req.type, DHCP_REQUEST);
	CHECK_EQ_U64(req.xid, 0x12345678u);
	CHECK_EQ_U64(req.flags, DHCP_FLAG_BROADCAST);
	CHECK_EQ_U64(req.ciaddr, IP(33));
	CHECK_EQ_U64(req.requested, IP(44));
	CHECK_EQ_U64(req.server_id, NETD_ADDR);
	CHECK(memcmp(req.chaddr, mac_a, 6) == 0);
	/* pads, no END, and data after END are all fine */
	msg_start(&m, DHCP_DISCOVER, mac_a, 0);
	m.b[m.len++] = DHCP_OPT_PAD;
	m.b[m.len++] = DHCP_OPT_PAD;
	CHECK_EQ_INT(msg_parse(&m, &req), 0);
	msg_end(&m);
	m.b[m.len++] = 77;
	CHECK_EQ_INT(msg_parse(&m, &req), 0);
	CHECK_EQ_INT(req.type, DHCP_DISCOVER);
}

/* Malformed messages are rejected. */
static void test_parse_bad(void)
{
	struct dhcp_request req;
	struct msg m, good;
	size_t n;

	msg_start(&good, DHCP_DISCOVER, mac_a, 0);
	msg_end(&good);
	CHECK_EQ_INT(msg_parse(&good, &req), 0);
	/* every truncation before the type option is complete fails */
	for (n = 0; n < DHCP_OPTIONS_OFFSET + 3; n++)
		CHECK_EQ_INT(dhcp_parse(good.b, n, &req), -EINVAL);
	m = good;
	m.b[0] = DHCP_BOOTREPLY;
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	m.b[1] = 6; /* IEEE 802 */
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	m.b[2] = 16;
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	m.b[DHCP_FIXED_BYTES + 3] ^= 1; /* cookie */
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	m.b[28] |= 1; /* multicast MAC */
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	memset(m.b + 28, 0, 6);
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	/* no option 53: plain BOOTP */
	m = good;
	m.len = DHCP_OPTIONS_OFFSET;
	msg_end(&m);
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	/* option 53 with a bad length or value */
	m = good;
	m.b[DHCP_OPTIONS_OFFSET + 1] = 2;
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	m.b[DHCP_OPTIONS_OFFSET + 2] = 0;
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	m.b[DHCP_OPTIONS_OFFSET + 2] = 9;
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	/* option 50 and 54 must have 4 bytes */
	m = good;
	m.len--;
	msg_opt(&m, DHCP_OPT_REQUESTED, "\x0a\x4d\x00", 3);
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	m.len--;
	msg_opt(&m, DHCP_OPT_SERVER_ID, "\x0a\x4d\x00\x01\x00", 5);
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	/* an option that runs past the end, and a code without length */
	m = good;
	m.len--;
	m.b[m.len++] = 12;
	m.b[m.len++] = 10;
	m.b[m.len++] = 'x';
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	m = good;
	m.len--;
	m.b[m.len++] = 12;
	CHECK_EQ_INT(msg_parse(&m, &req), -EINVAL);
	/* the type option itself cut short */
	CHECK_EQ_INT(dhcp_parse(good.b, DHCP_OPTIONS_OFFSET + 2, &req), -EINVAL);
}

/* DISCOVER, OFFER, REQUEST, ACK, then renewals; reply contents. */
static void test_dora(void)
{
	static struct lease_table t;
	struct dhcp_decision d;
	struct dhcp_request req;
	uint8_t out[DHCP_MAX_REPLY_BYTES];
	const uint8_t *v;
	struct msg m;
	int len;

	lease_init(&t);
	msg_start(&m, DHCP_DISCOVER, mac_a, 0);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_OFFER);
	CHECK_EQ_U64(d.yiaddr, IP(10));
	CHECK_EQ_U64(d.dest, BCAST);
	CHECK(d.changed && !d.bound);
	msg_parse(&m, &req);
	len = dhcp_build_reply(&req, &d, "tiny", out, sizeof(out));
	CHECK(len >= (int)DHCP_MIN_REPLY_BYTES && len <= (int)sizeof(out));
	CHECK_EQ_INT(out[0], DHCP_BOOTREPLY);
	CHECK_EQ_INT(out[1], 1);
	CHECK_EQ_INT(out[2], 6);
	CHECK_EQ_U64(dhcp_get32(out + 4), 0x12345678u);
	CHECK_EQ_U64(dhcp_get32(out + 12), 0);
	CHECK_EQ_U64(dhcp_get32(out + 16), IP(10));
	CHECK(memcmp(out + 28, mac_a, 6) == 0);
	CHECK_EQ_U64(dhcp_get32(out + DHCP_FIXED_BYTES), DHCP_MAGIC_COOKIE);
	CHECK_EQ_INT(reply_opt(out, len, DHCP_OPT_MSG_TYPE, &v), 1);
	CHECK_EQ_INT(v[0], DHCP_OFFER);
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_SERVER_ID), NETD_ADDR);
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_NETMASK), 0xFFFFFF00u);
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_ROUTER), NETD_ADDR);
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_DNS), NETD_ADDR);
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_LEASE), 3600);
	CHECK_EQ_INT(reply_opt(out, len, DHCP_OPT_DOMAIN, &v), 4);
	CHECK(memcmp(v, "keel", 4) == 0);
	CHECK_EQ_INT(reply_opt(out, len, DHCP_OPT_HOSTNAME, &v), 4);
	CHECK(memcmp(v, "tiny", 4) == 0);
	/* without a registered name, no option 12 */
	len = dhcp_build_reply(&req, &d, NULL, out, sizeof(out));
	CHECK_EQ_INT(reply_opt(out, len, DHCP_OPT_HOSTNAME, &v), -1);

	/* SELECTING: REQUEST with our server id and the offered address */
	msg_start(&m, DHCP_REQUEST, mac_a, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(10));
	msg_addr(&m, DHCP_OPT_SERVER_ID, NETD_ADDR);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_ACK);
	CHECK_EQ_U64(d.yiaddr, IP(10));
	CHECK_EQ_U64(d.dest, BCAST);
	CHECK(d.bound && d.changed);
	CHECK(lease_is_live(lease_by_addr(&t, IP(10)), NOW));
	msg_parse(&m, &req);
	len = dhcp_build_reply(&req, &d, NULL, out, sizeof(out));
	CHECK_EQ_INT(reply_opt(out, len, DHCP_OPT_MSG_TYPE, &v), 1);
	CHECK_EQ_INT(v[0], DHCP_ACK);
	CHECK_EQ_U64(dhcp_get32(out + 16), IP(10));
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_LEASE), 3600);

	/* RENEWING: unicast from ciaddr, answered to ciaddr; not a new lease */
	msg_start(&m, DHCP_REQUEST, mac_a, IP(10));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW + 1800, &d), DHCP_ACK);
	CHECK_EQ_U64(d.dest, IP(10));
	CHECK(!d.bound);
	CHECK_EQ_U64(lease_by_addr(&t, IP(10))->expires, NOW + 1800 + 3600);
	msg_parse(&m, &req);
	len = dhcp_build_reply(&req, &d, NULL, out, sizeof(out));
	CHECK_EQ_U64(dhcp_get32(out + 12), IP(10));

	/* INIT-REBOOT with the right address */
	msg_start(&m, DHCP_REQUEST, mac_a, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(10));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW + 1900, &d), DHCP_ACK);

	/* a second DISCOVER from the bound client offers the same address */
	msg_start(&m, DHCP_DISCOVER, mac_a, 0);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW + 2000, &d), DHCP_OFFER);
	CHECK_EQ_U64(d.yiaddr, IP(10));
	CHECK(!d.changed);
	CHECK_EQ_INT(lease_by_addr(&t, IP(10))->state, LEASE_ACTIVE);
}

/* REQUESTs that must be NAKed or ignored. */
static void test_nak(void)
{
	static struct lease_table t;
	uint8_t out[DHCP_MAX_REPLY_BYTES];
	struct dhcp_decision d;
	struct dhcp_request req;
	const uint8_t *v;
	struct msg m;
	int len;

	lease_init(&t);
	msg_start(&m, DHCP_DISCOVER, mac_a, 0);
	msg_end(&m);
	exchange(&t, &m, NOW, &d); /* mac_a: .10 offered */
	msg_start(&m, DHCP_DISCOVER, mac_b, 0);
	msg_end(&m);
	exchange(&t, &m, NOW, &d); /* mac_b: .11 offered */

	/* SELECTING with someone else's address */
	msg_start(&m, DHCP_REQUEST, mac_a, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(11));
	msg_addr(&m, DHCP_OPT_SERVER_ID, NETD_ADDR);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_NAK);
	CHECK_EQ_U64(d.dest, BCAST);
	CHECK_EQ_U64(d.yiaddr, 0);
	CHECK(!d.changed);
	msg_parse(&m, &req);
	len = dhcp_build_reply(&req, &d, "tiny", out, sizeof(out));
	CHECK(len >= (int)DHCP_MIN_REPLY_BYTES);
	CHECK_EQ_INT(reply_opt(out, len, DHCP_OPT_MSG_TYPE, &v), 1);
	CHECK_EQ_INT(v[0], DHCP_NAK);
	CHECK_EQ_U64(dhcp_get32(out + 16), 0);
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_SERVER_ID), NETD_ADDR);
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_LEASE), 0xDEADBEEFu);
	CHECK_EQ_INT(reply_opt(out, len, DHCP_OPT_HOSTNAME, &v), -1);
	CHECK(reply_opt(out, len, DHCP_OPT_MESSAGE, &v) > 0);

	/* INIT-REBOOT with an address of another network */
	msg_start(&m, DHCP_REQUEST, mac_a, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, 0xC0A80105u);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_NAK);
	CHECK_EQ_STR(d.why, "address not in our subnet");
	/* our subnet's network and broadcast addresses, our own address */
	msg_start(&m, DHCP_REQUEST, mac_a, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(255));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_NAK);
	msg_start(&m, DHCP_REQUEST, mac_b, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, NETD_ADDR);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_NAK);
	/* RENEWING from the wrong address */
	msg_start(&m, DHCP_REQUEST, mac_a, IP(12));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_NAK);
	CHECK_EQ_U64(d.dest, BCAST);
	/* a client without a binding asking for a free address gets it ... */
	msg_start(&m, DHCP_REQUEST, (const uint8_t *)"\x02\x00\x00\x00\x00\x01",
		  0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(60));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_ACK);
	CHECK(d.bound);
	/* ... but not a taken one, nor one outside the pool */
	msg_start(&m, DHCP_REQUEST, (const uint8_t *)"\x02\x00\x00\x00\x00\x02",
		  0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(60));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_NAK);
	msg_start(&m, DHCP_REQUEST, (const uint8_t *)"\x02\x00\x00\x00\x00\x02",
		  0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(5));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_NAK);
	CHECK_EQ_STR(d.why, "address not leased to this client");

	/* for another server: silence, and the offer stays */
	msg_start(&m, DHCP_REQUEST, mac_b, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(11));
	msg_addr(&m, DHCP_OPT_SERVER_ID, IP(2));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), 0);
	CHECK_EQ_INT(lease_by_addr(&t, IP(11))->state, LEASE_OFFERED);
	/* no address at all: silence */
	msg_start(&m, DHCP_REQUEST, mac_b, 0);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), 0);
	/* relayed: silence */
	msg_start(&m, DHCP_DISCOVER, mac_b, 0);
	msg_end(&m);
	dhcp_put32(m.b + 24, 0xC0A80001u);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), 0);
	/* client-to-client message types are ignored */
	msg_start(&m, DHCP_OFFER, mac_b, 0);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), 0);
	CHECK_EQ_INT(dhcp_build_reply(&req, &d, NULL, out, sizeof(out)),
		     -EINVAL);
}

/* RELEASE keeps the address for the client; DECLINE removes it. */
static void test_release_decline_inform(void)
{
	static struct lease_table t;
	uint8_t out[DHCP_MAX_REPLY_BYTES];
	struct dhcp_decision d;
	struct dhcp_request req;
	const uint8_t *v;
	struct msg m;
	int len;

	lease_init(&t);
	msg_start(&m, DHCP_REQUEST, mac_a, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(20));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_ACK);
	/* RELEASE of an address not its own: nothing */
	msg_start(&m, DHCP_RELEASE, mac_a, IP(21));
	msg_addr(&m, DHCP_OPT_SERVER_ID, NETD_ADDR);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), 0);
	CHECK(!d.changed);
	msg_start(&m, DHCP_RELEASE, mac_a, IP(20));
	msg_addr(&m, DHCP_OPT_SERVER_ID, NETD_ADDR);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), 0);
	CHECK(d.changed);
	CHECK_EQ_INT(lease_by_addr(&t, IP(20))->state, LEASE_RELEASED);
	msg_start(&m, DHCP_DISCOVER, mac_a, 0);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_OFFER);
	CHECK_EQ_U64(d.yiaddr, IP(20));
	/* DECLINE: the address is out, the next DISCOVER gets another */
	msg_start(&m, DHCP_DECLINE, mac_a, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(20));
	msg_addr(&m, DHCP_OPT_SERVER_ID, NETD_ADDR);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), 0);
	CHECK(d.changed);
	CHECK_EQ_INT(lease_by_addr(&t, IP(20))->state, LEASE_DECLINED);
	msg_start(&m, DHCP_DISCOVER, mac_a, 0);
	msg_addr(&m, DHCP_OPT_REQUESTED, IP(20));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_OFFER);
	CHECK_EQ_U64(d.yiaddr, IP(10));
	/* INFORM: options only, to ciaddr, no lease time, table untouched */
	msg_start(&m, DHCP_INFORM, mac_b, IP(200));
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), DHCP_ACK);
	CHECK_EQ_U64(d.dest, IP(200));
	CHECK_EQ_U64(d.yiaddr, 0);
	CHECK(!d.changed);
	CHECK(lease_by_mac(&t, mac_b) == NULL);
	msg_parse(&m, &req);
	len = dhcp_build_reply(&req, &d, "web", out, sizeof(out));
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_LEASE), 0xDEADBEEFu);
	CHECK_EQ_U64(reply_opt32(out, len, DHCP_OPT_ROUTER), NETD_ADDR);
	CHECK_EQ_INT(reply_opt(out, len, DHCP_OPT_HOSTNAME, &v), 3);
	CHECK_EQ_U64(dhcp_get32(out + 12), IP(200));
	CHECK_EQ_U64(dhcp_get32(out + 16), 0);
	CHECK_EQ_INT(dhcp_build_reply(&req, &d, NULL, out, 300), -ENOSPC);
}

/* 241 clients fill the pool; the 242nd gets no OFFER. */
static void test_pool_exhaustion(void)
{
	static struct lease_table t;
	struct dhcp_decision d;
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0 };
	uint32_t i, ok = 1;
	struct msg m;

	lease_init(&t);
	for (i = 0; i < NETD_POOL_SIZE; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		msg_start(&m, DHCP_DISCOVER, mac, 0);
		msg_end(&m);
		ok &= exchange(&t, &m, NOW, &d) == DHCP_OFFER &&
		      d.yiaddr == IP(10 + i);
	}
	CHECK(ok);
	mac[3] = 1;
	msg_start(&m, DHCP_DISCOVER, mac, 0);
	msg_end(&m);
	CHECK_EQ_INT(exchange(&t, &m, NOW, &d), 0);
	CHECK_EQ_STR(d.why, "address pool exhausted");
	/* offers that were never taken up expire and are reused */
	CHECK_EQ_INT(exchange(&t, &m, NOW + NETD_OFFER_SECONDS, &d), DHCP_OFFER);
	CHECK_EQ_U64(d.yiaddr, IP(10));
}

/* Random mutations of valid messages never crash anything. */
static void test_random(void)
{
	static struct lease_table t;
	uint8_t out[DHCP_MAX_REPLY_BYTES];
	struct dhcp_decision d;
	struct dhcp_request req;
	uint32_t i, j, ok = 1, parsed = 0;
	struct msg base[3], m;
	int len;

	lease_init(&t);
	msg_start(&base[0], DHCP_DISCOVER, mac_a, 0);
	msg_addr(&base[0], DHCP_OPT_REQUESTED, IP(30));
	msg_end(&base[0]);
	msg_start(&base[1], DHCP_REQUEST, mac_b, 0);
	msg_addr(&base[1], DHCP_OPT_REQUESTED, IP(11));
	msg_addr(&base[1], DHCP_OPT_SERVER_ID, NETD_ADDR);
	msg_end(&base[1]);
	msg_start(&base[2], DHCP_INFORM, mac_a, IP(40));
	msg_opt(&base[2], 55, "\x01\x03\x06\x0c\x0f", 5);
	msg_end(&base[2]);
	for (i = 0; i < 200000; i++) {
		m = base[i % 3];
		for (j = 0; j < 1 + harness_rand_below(6); j++) {
			size_t at = (size_t)harness_rand_below(m.len + 8);

			if (at < sizeof(m.b))
				m.b[at] = (uint8_t)harness_rand();
		}
		if (harness_rand_below(4) == 0)
			m.len = (size_t)harness_rand_below(m.len + 1);
		else
			m.len += (size_t)harness_rand_below(8);
		if (dhcp_parse(m.b, m.len, &req))
			continue;
		parsed++;
		dhcp_decide(&req, &t, NOW + i, &d);
		len = dhcp_build_reply(&req, &d, "r", out, sizeof(out));
		if (d.reply ? len < (int)DHCP_MIN_REPLY_BYTES ||
			      len > (int)sizeof(out) : len != -EINVAL)
			ok = 0;
	}
	CHECK(ok);
	CHECK(parsed > 1000);
	CHECK_EQ_STR(dhcp_type_name(DHCP_INFORM), "INFORM");
	CHECK_EQ_STR(dhcp_type_name(0), "?");
	CHECK_EQ_STR(dhcp_type_name(200), "?");
}

int main(void)
{
	test_parse_good();
	test_parse_bad();
	test_dora();
	test_nak();
	test_release_decline_inform();
	test_pool_exhaustion();
	test_random();
	return harness_done("test_toolstack_dhcp");
}
