/*
 * DHCP server logic of `keel netd` (see dhcp.h): parsing of client
 * messages (RFC 2131 section 2, RFC 2132), the server's decisions of RFC
 * 2131 section 4.3 over the sticky lease table, and building replies with
 * the options guests need (RFC 2132 sections 3 and 9). Pure: no I/O.
 */
#include <errno.h>
#include <string.h>

#include "dhcp.h"

#define DHCP_BROADCAST_ADDR 0xFFFFFFFFu

/* Big-endian 32-bit value at @p. */
static uint32_t dhcp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Store @v big-endian at @p. */
static void dhcp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Take option @code with @n bytes of data @v into @req. 0 or -EINVAL. */
static int dhcp_take_option(uint8_t code, const uint8_t *v, uint8_t n,
			    struct dhcp_request *req)
{
	switch (code) {
	case DHCP_OPT_MSG_TYPE:
		if (n != 1 || v[0] < DHCP_DISCOVER || v[0] > DHCP_INFORM)
			return -EINVAL;
		req->type = v[0];
		return 0;
	case DHCP_OPT_REQUESTED:
		if (n != 4)
			return -EINVAL;
		req->requested = dhcp_get32(v);
		return 0;
	case DHCP_OPT_SERVER_ID:
		if (n != 4)
			return -EINVAL;
		req->server_id = dhcp_get32(v);
		return 0;
	default:
		return 0;
	}
}

/* Walk the options (RFC 2132 section 2) from @pkt[@off]. 0 or -EINVAL. */
static int dhcp_parse_options(const uint8_t *pkt, size_t len, size_t off,
			      struct dhcp_request *req)
{
	while (off < len) {
		uint8_t code = pkt[off++], n;

		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return 0;
		if (off >= len)
			return -EINVAL;
		n = pkt[off++];
		if (n > len - off)
			return -EINVAL;
		if (dhcp_take_option(code, pkt + off, n, req))
			return -EINVAL;
		off += n;
	}
	return 0;
}

/* Parse a client's message; see dhcp.h. */
int dhcp_parse(const uint8_t *pkt, size_t len, struct dhcp_request *req)
{
	static const uint8_t zero[6];

	memset(req, 0, sizeof(*req));
	if (len < DHCP_OPTIONS_OFFSET || pkt[0] != DHCP_BOOTREQUEST ||
	    pkt[1] != 1 || pkt[2] != 6 ||
	    dhcp_get32(pkt + DHCP_FIXED_BYTES) != DHCP_MAGIC_COOKIE)
		return -EINVAL;
	req->xid = dhcp_get32(pkt + 4);
	req->flags = (uint16_t)(pkt[10] << 8 | pkt[11]);
	req->ciaddr = dhcp_get32(pkt + 12);
	req->giaddr = dhcp_get32(pkt + 24);
	memcpy(req->chaddr, pkt + 28, sizeof(req->chaddr));
	if ((req->chaddr[0] & 1) || memcmp(req->chaddr, zero, 6) == 0)
		return -EINVAL;
	if (dhcp_parse_options(pkt, len, DHCP_OPTIONS_OFFSET, req) ||
	    req->type == 0)
		return -EINVAL;
	return 0;
}

/* True if @addr is a host address of our subnet. */
static int dhcp_in_subnet(uint32_t addr)
{
	return (addr & NETD_NETMASK) == NETD_SUBNET &&
	       (addr & ~NETD_NETMASK) != 0 &&
	       (addr & ~NETD_NETMASK) != ~NETD_NETMASK;
}

/* Set @d to "no reply" because of @why. */
static void dhcp_silent(struct dhcp_decision *d, const char *why)
{
	d->reply = 0;
	d->why = why;
}

/* Set @d to a NAK because of @why (RFC 2131 section 4.3.2). */
static void dhcp_nak(struct dhcp_decision *d, const char *why)
{
	d->reply = DHCP_NAK;
	d->yiaddr = 0;
	d->dest = DHCP_BROADCAST_ADDR;
	d->why = why;
}

/* Where a reply to @req goes (RFC 2131 section 4.1, no relays). */
static uint32_t dhcp_dest(const struct dhcp_request *req)
{
	return req->ciaddr ? req->ciaddr : DHCP_BROADCAST_ADDR;
}

/* DISCOVER (RFC 2131 section 4.3.1). */
static void dhcp_on_discover(const struct dhcp_request *req,
			     struct lease_table *t, uint64_t now,
			     struct dhcp_decision *d)
{
	struct lease *l = lease_offer(t, req->chaddr, req->requested, now);

	if (!l) {
		dhcp_silent(d, "address pool exhausted");
		return;
	}
	d->reply = DHCP_OFFER;
	d->yiaddr = l->addr;
	d->dest = DHCP_BROADCAST_ADDR;
	d->with_lease = 1;
	d->changed = l->state == LEASE_OFFERED;
}

/* REQUEST (RFC 2131 section 4.3.2). */
static void dhcp_on_request(const struct dhcp_request *req,
			    struct lease_table *t, uint64_t now,
			    struct dhcp_decision *d)
{
	uint32_t addr = req->requested ? req->requested : req->ciaddr;
	struct lease *l = lease_by_mac(t, req->chaddr);
	int was_live = l && l->addr == addr && l->state == LEASE_ACTIVE;

	if (req->server_id && req->server_id != NETD_ADDR) {
		dhcp_silent(d, "client chose another server");
		return;
	}
	if (!addr) {
		dhcp_silent(d, "REQUEST names no address");
		return;
	}
	if (!dhcp_in_subnet(addr)) {
		dhcp_nak(d, "address not in our subnet");
		return;
	}
	l = lease_bind(t, req->chaddr, addr, now);
	if (!l) {
		dhcp_nak(d, "address not leased to this client");
		return;
	}
	d->reply = DHCP_ACK;
	d->yiaddr = addr;
	d->dest = dhcp_dest(req);
	d->with_lease = 1;
	d->changed = 1;
	d->bound = !was_live;
}

/* DECLINE (4.3.3) and RELEASE (4.3.4): no reply. */
static void dhcp_on_give_back(const struct dhcp_request *req,
			      struct lease_table *t, uint64_t now,
			      struct dhcp_decision *d)
{
	int ret;

	if (req->type == DHCP_DECLINE)
		ret = lease_decline(t, req->chaddr, req->requested, now);
	else
		ret = lease_release(t, req->chaddr, req->ciaddr);
	d->changed = ret == 0;
	dhcp_silent(d, ret == 0 ? NULL : "address not leased to this client");
}

/* INFORM (RFC 2131 section 4.3.5): options only. */
static void dhcp_on_inform(const struct dhcp_request *req,
			   struct dhcp_decision *d)
{
	d->reply = DHCP_ACK;
	d->yiaddr = 0;
	d->dest = dhcp_dest(req);
}

/* Decide the answer; see dhcp.h. */
int dhcp_decide(const struct dhcp_request *req, struct lease_table *t,
		uint64_t now, struct dhcp_decision *d)
{
	memset(d, 0, sizeof(*d));
	if (req->giaddr) {
		dhcp_silent(d, "relayed messages are not supported");
		return 0;
	}
	switch (req->type) {
	case DHCP_DISCOVER:
		dhcp_on_discover(req, t, now, d);
		break;
	case DHCP_REQUEST:
		dhcp_on_request(req, t, now, d);
		break;
	case DHCP_DECLINE:
	case DHCP_RELEASE:
		if (req->server_id && req->server_id != NETD_ADDR)
			dhcp_silent(d, "message for another server");
		else
			dhcp_on_give_back(req, t, now, d);
		break;
	case DHCP_INFORM:
		dhcp_on_inform(req, d);
		break;
	default:
		dhcp_silent(d, "not a client message");
		break;
	}
	return 0;
}

/* Append option @code with @n bytes @v at @buf[*@off]; -ENOSPC if full. */
static int dhcp_put_option(uint8_t *buf, size_t len, size_t *off,
			   uint8_t code, const void *v, size_t n)
{
	if (n > 255 || *off + 2 + n + 1 > len) /* keep room for END */
		return -ENOSPC;
	buf[*off] = code;
	buf[*off + 1] = (uint8_t)n;
	memcpy(buf + *off + 2, v, n);
	*off += 2 + n;
	return 0;
}

/* Append a 4-byte option (address or seconds) @v. */
static int dhcp_put_option32(uint8_t *buf, size_t len, size_t *off,
			     uint8_t code, uint32_t v)
{
	uint8_t b[4];

	dhcp_put32(b, v);
	return dhcp_put_option(buf, len, off, code, b, sizeof(b));
}

/* The configuration options of an OFFER or ACK (RFC 2132 3, 9.2). */
static int dhcp_put_config(const struct dhcp_decision *d,
			   const char *hostname, uint8_t *buf, size_t len,
			   size_t *off)
{
	int ret = 0;

	if (d->with_lease)
		ret = dhcp_put_option32(buf, len, off, DHCP_OPT_LEASE,
					NETD_LEASE_SECONDS);
	if (!ret)
		ret = dhcp_put_option32(buf, len, off, DHCP_OPT_NETMASK,
					NETD_NETMASK);
	if (!ret)
		ret = dhcp_put_option32(buf, len, off, DHCP_OPT_ROUTER, NETD_ADDR);
	if (!ret)
		ret = dhcp_put_option32(buf, len, off, DHCP_OPT_DNS, NETD_ADDR);
	if (!ret)
		ret = dhcp_put_option(buf, len, off, DHCP_OPT_DOMAIN, NETD_DOMAIN,
				      strlen(NETD_DOMAIN));
	if (!ret && hostname && hostname[0])
		ret = dhcp_put_option(buf, len, off, DHCP_OPT_HOSTNAME, hostname,
				      strlen(hostname));
	return ret;
}

/* The fixed part of a reply (RFC 2131 section 4.3.1, table 3). */
static void dhcp_put_header(const struct dhcp_request *req,
			    const struct dhcp_decision *d, uint8_t *buf)
{
	memset(buf, 0, DHCP_OPTIONS_OFFSET);
	buf[0] = DHCP_BOOTREPLY;
	buf[1] = 1;
	buf[2] = 6;
	dhcp_put32(buf + 4, req->xid);
	buf[10] = (uint8_t)(req->flags >> 8);
	buf[11] = (uint8_t)req->flags;
	if (d->reply == DHCP_ACK)
		dhcp_put32(buf + 12, req->ciaddr);
	dhcp_put32(buf + 16, d->yiaddr);
	dhcp_put32(buf + 24, req->giaddr);
	memcpy(buf + 28, req->chaddr, sizeof(req->chaddr));
	dhcp_put32(buf + DHCP_FIXED_BYTES, DHCP_MAGIC_COOKIE);
}

/* Build the reply; see dhcp.h. */
int dhcp_build_reply(const struct dhcp_request *req,
		     const struct dhcp_decision *d, const char *hostname,
		     uint8_t *buf, size_t len)
{
	size_t off = DHCP_OPTIONS_OFFSET;
	uint8_t type = d->reply;
	int ret;

	if (type != DHCP_OFFER && type != DHCP_ACK && type != DHCP_NAK)
		return -EINVAL;
	if (len < DHCP_MAX_REPLY_BYTES)
		return -ENOSPC;
	dhcp_put_header(req, d, buf);
	ret = dhcp_put_option(buf, len, &off, DHCP_OPT_MSG_TYPE, &type, 1);
	if (!ret)
		ret = dhcp_put_option32(buf, len, &off, DHCP_OPT_SERVER_ID,
					NETD_ADDR);
	if (!ret && type != DHCP_NAK)
		ret = dhcp_put_config(d, hostname, buf, len, &off);
	if (!ret && type == DHCP_NAK && d->why)
		ret = dhcp_put_option(buf, len, &off, DHCP_OPT_MESSAGE, d->why,
				      strlen(d->why));
	if (ret)
		return ret;
	buf[off++] = DHCP_OPT_END;
	while (off < DHCP_MIN_REPLY_BYTES)
		buf[off++] = DHCP_OPT_PAD;
	return (int)off;
}

/* Message type name; see dhcp.h. */
const char *dhcp_type_name(uint8_t type)
{
	static const char *const names[] = {
		"?", "DISCOVER", "OFFER", "REQUEST", "DECLINE",
		"ACK", "NAK", "RELEASE", "INFORM",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}
