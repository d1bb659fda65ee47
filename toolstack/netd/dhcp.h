/*
 * The DHCP server logic of `keel netd` (RFC 2131, options from RFC 2132),
 * without I/O: parse a client's message, decide the answer against the
 * lease table, and build the reply packet. The server's parameters are
 * the fixed ones of netd.h (server and router 10.77.0.1, /24, domain
 * "keel", NETD_LEASE_SECONDS). Relay agents are not supported (there are
 * none on the guests' switch): a message with giaddr set is ignored.
 */
#ifndef KEEL_TOOLSTACK_DHCP_H
#define KEEL_TOOLSTACK_DHCP_H

#include <stddef.h>
#include <stdint.h>

#include "lease.h"

/* Message layout (RFC 2131 section 2, figure 1). */
#define DHCP_FIXED_BYTES 236u     /* op .. file, before the options */
#define DHCP_MAGIC_COOKIE 0x63825363u /* RFC 2131 section 3, 99.130.83.99 */
#define DHCP_OPTIONS_OFFSET (DHCP_FIXED_BYTES + 4u)
#define DHCP_MIN_REPLY_BYTES 300u /* BOOTP minimum; some clients need it */
#define DHCP_MAX_REPLY_BYTES 576u /* every client takes this (RFC 2131 2) */
#define DHCP_FLAG_BROADCAST 0x8000u

/* BOOTP op codes. */
#define DHCP_BOOTREQUEST 1u
#define DHCP_BOOTREPLY 2u

/* DHCP message types, option 53 (RFC 2132 section 9.6). */
#define DHCP_DISCOVER 1u
#define DHCP_OFFER 2u
#define DHCP_REQUEST 3u
#define DHCP_DECLINE 4u
#define DHCP_ACK 5u
#define DHCP_NAK 6u
#define DHCP_RELEASE 7u
#define DHCP_INFORM 8u

/* Option codes (RFC 2132). */
#define DHCP_OPT_PAD 0u
#define DHCP_OPT_NETMASK 1u      /* section 3.3 */
#define DHCP_OPT_ROUTER 3u       /* section 3.5 */
#define DHCP_OPT_DNS 6u          /* section 3.8 */
#define DHCP_OPT_HOSTNAME 12u    /* section 3.14 */
#define DHCP_OPT_DOMAIN 15u      /* section 3.17 */
#define DHCP_OPT_REQUESTED 50u   /* section 9.1 */
#define DHCP_OPT_LEASE 51u       /* section 9.2 */
#define DHCP_OPT_MSG_TYPE 53u    /* section 9.6 */
#define DHCP_OPT_SERVER_ID 54u   /* section 9.7 */
#define DHCP_OPT_MESSAGE 56u     /* section 9.9 */
#define DHCP_OPT_END 255u

/* What a client's message says, in host byte order. */
struct dhcp_request {
	uint8_t type;          /* DHCP_DISCOVER .. DHCP_INFORM */
	uint32_t xid;
	uint16_t flags;
	uint32_t ciaddr;
	uint32_t giaddr;
	uint8_t chaddr[16];    /* as sent; the MAC is chaddr[0..5] */
	uint32_t requested;    /* option 50, 0 if absent */
	uint32_t server_id;    /* option 54, 0 if absent */
};

/* The answer to a message. */
struct dhcp_decision {
	uint8_t reply;         /* DHCP_OFFER, DHCP_ACK, DHCP_NAK, or 0: none */
	uint32_t yiaddr;       /* address offered / acked, 0 for NAK, INFORM */
	uint32_t dest;         /* send the reply to this address, port 68 */
	int with_lease;        /* reply carries the lease time (not INFORM) */
	int changed;           /* the lease table changed: save it */
	int bound;             /* a new or changed ACTIVE binding (log it) */
	const char *why;       /* for the log: why NAK / no reply, or NULL */
};

/*
 * Parse the DHCP message @pkt (@len bytes) sent by a client (RFC 2131
 * section 2, options per RFC 2132 section 2): a BOOTREQUEST for Ethernet
 * (htype 1, hlen 6, non-zero unicast MAC) with the magic cookie and a
 * valid option 53. Every option must fit in the packet and options 50,
 * 53 and 54 must have their fixed lengths; the options end at option 255
 * or at the end of the packet. Returns 0 with @req filled, or -EINVAL for
 * anything malformed or not a client's DHCP message.
 */
int dhcp_parse(const uint8_t *pkt, size_t len, struct dhcp_request *req);

/*
 * Decide the answer to @req at time @now (seconds since 1970) and update
 * the lease table @t (RFC 2131 section 4.3):
 * - DISCOVER: OFFER the MAC's sticky address (lease_offer()); none if
 *   the pool is exhausted.
 * - REQUEST: ignored if it names another server (option 54); otherwise
 *   the address asked for (option 50, else ciaddr) is ACKed if it is the
 *   MAC's binding, or a free pool address when the MAC has none, and
 *   NAKed if not (including addresses outside our subnet).
 * - DECLINE: the address is marked unusable; RELEASE: the binding is
 *   released (kept for the MAC); neither gets a reply.
 * - INFORM: ACK with the options and no address or lease time.
 * Replies go to ciaddr when the client has an address (renewal, INFORM)
 * and to 255.255.255.255 otherwise, and always for NAK (section 4.1).
 * Returns 0 with @d filled (d->reply 0 when nothing is sent).
 */
int dhcp_decide(const struct dhcp_request *req, struct lease_table *t,
		uint64_t now, struct dhcp_decision *d);

/*
 * Build the reply to @req described by @d into @buf (@len bytes, at
 * least DHCP_MAX_REPLY_BYTES): a BOOTREPLY with options 53 and 54 and,
 * for OFFER and ACK, 1 (netmask), 3 (router), 6 (DNS), 15 (domain
 * "keel"), 51 (lease time, unless INFORM) and 12 (@hostname, if not
 * NULL); a NAK carries d->why as option 56 (message). Padded to DHCP_MIN_REPLY_BYTES. Returns the length, or -EINVAL
 * if @d has no reply, or -ENOSPC.
 */
int dhcp_build_reply(const struct dhcp_request *req,
		     const struct dhcp_decision *d, const char *hostname,
		     uint8_t *buf, size_t len);

/* The name of message type @type ("DISCOVER", ...), "?" if unknown. */
const char *dhcp_type_name(uint8_t type);

#endif /* KEEL_TOOLSTACK_DHCP_H */
