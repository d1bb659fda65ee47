/*
 * The DNS server logic of `keel netd` (RFC 1035), without I/O: parse a
 * query, answer it from the guests' names or decide to forward it, build
 * replies (answers, NODATA, NXDOMAIN, SERVFAIL), keep the table of
 * queries forwarded upstream (id rewriting, matching answers, timeouts),
 * and read the upstream resolvers from resolv.conf text. netd answers
 * for the zone "keel" (<hostname>.keel, dom0.keel), for bare registered
 * hostnames, and for the reverse zone of its subnet (0.77.10.in-addr.arpa);
 * everything else is forwarded.
 */
#ifndef KEEL_TOOLSTACK_DNS_H
#define KEEL_TOOLSTACK_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "netd.h"

/* Message format (RFC 1035 section 4.1). */
#define DNS_HEADER_BYTES 12u
#define DNS_NAME_MAX_BYTES 255u   /* wire form with the root label (2.3.4) */
#define DNS_LABEL_MAX_BYTES 63u
#define DNS_NAME_TEXT_BYTES 256u  /* dotted text form and NUL */
#define DNS_MAX_POINTERS 64u      /* compression pointers followed per name */
#define DNS_UDP_MAX_BYTES 512u    /* our own replies (section 4.2.1) */
#define DNS_FORWARD_MAX_BYTES 1232u /* forwarded queries kept for retries */

/* Header flags (section 4.1.1). */
#define DNS_FLAG_QR 0x8000u
#define DNS_OPCODE_MASK 0x7800u
#define DNS_FLAG_AA 0x0400u
#define DNS_FLAG_TC 0x0200u
#define DNS_FLAG_RD 0x0100u
#define DNS_FLAG_RA 0x0080u
#define DNS_RCODE_MASK 0x000Fu

/* Response codes (section 4.1.1). */
#define DNS_RCODE_NOERROR 0u
#define DNS_RCODE_FORMERR 1u
#define DNS_RCODE_SERVFAIL 2u
#define DNS_RCODE_NXDOMAIN 3u
#define DNS_RCODE_NOTIMP 4u

/* Types and classes (sections 3.2.2 - 3.2.5; AAAA: RFC 3596). */
#define DNS_TYPE_A 1u
#define DNS_TYPE_PTR 12u
#define DNS_TYPE_AAAA 28u
#define DNS_TYPE_ANY 255u
#define DNS_CLASS_IN 1u
#define DNS_CLASS_ANY 255u

/* A parsed message header and its question. */
struct dns_query {
	uint16_t id;
	uint16_t flags;
	int has_question;                  /* exactly one question parsed */
	uint8_t qname[DNS_NAME_MAX_BYTES]; /* uncompressed wire form */
	uint32_t qname_bytes;
	char name[DNS_NAME_TEXT_BYTES];    /* lower case, dotted, "" = root;
					      odd bytes shown as '?' */
	uint16_t qtype;
	uint16_t qclass;
};

/* A host netd knows: a registered hostname and its live address. */
struct dns_host {
	const char *name;
	uint32_t addr;                     /* 0 if it has no live lease */
};

/* A local answer. */
struct dns_answer {
	uint16_t rcode;
	int authoritative;
	uint16_t type;                     /* DNS_TYPE_A, _PTR, or 0: none */
	uint32_t addr;                     /* for A */
	char target[DNS_NAME_TEXT_BYTES];  /* for PTR, dotted */
};

/* What to do with a query. */
enum dns_action {
	DNS_DROP,    /* malformed or not a query: drop it (and count it) */
	DNS_REPLY,   /* send the reply built */
	DNS_FORWARD, /* forward it upstream */
};

/* A query forwarded upstream, waiting for its answer. */
struct dns_pending {
	int used;
	uint16_t up_id;          /* id of the forwarded copy */
	uint16_t client_id;      /* id the client used */
	uint32_t client_addr;    /* client's address and port */
	uint16_t client_port;
	uint32_t listener;       /* which of netd's sockets it came in on */
	uint32_t server;         /* upstream server asked last */
	uint32_t tries;          /* servers asked so far */
	uint64_t retry_ms;       /* ask the next server at this time */
	uint64_t deadline_ms;    /* SERVFAIL at this time */
	struct dns_query q;
	uint8_t pkt[DNS_FORWARD_MAX_BYTES]; /* forwarded copy, for retries */
	uint32_t pkt_bytes;      /* 0 if it was too large to keep */
};

/* All queries waiting for upstream. */
struct dns_pending_table {
	struct dns_pending e[NETD_DNS_PENDING_MAX];
};

/*
 * Parse the DNS message @pkt (@len bytes): the header (RFC 1035 section
 * 4.1.1) and, when QDCOUNT is 1, the question (section 4.1.2) with its
 * name, following compression pointers (section 4.1.4) only to places
 * before all labels read so far and at most DNS_MAX_POINTERS times, so
 * loops are impossible; labels of at
 * most 63 bytes, names of at most 255. Returns 0 with @q filled
 * (q->has_question says whether there was exactly one question), or
 * -EINVAL if the message is truncated or the name malformed.
 */
int dns_parse(const uint8_t *pkt, size_t len, struct dns_query *q);

/*
 * Answer @q locally if it is netd's: "<host>.keel" or a bare "<host>"
 * registered in @hosts (@n of them; names compare case-insensitively,
 * "dom0" is NETD_ADDR), the zone "keel" itself, and the reverse zone
 * NETD_REVERSE_ZONE. A known name with a live address answers A (type A
 * or ANY) or PTR (type PTR or ANY, reverse zone), other types NOERROR
 * without answers; unknown names in the zones NXDOMAIN. Returns 1 with
 * @a filled, or 0 if the query is to be forwarded.
 */
int dns_resolve(const struct dns_query *q, const struct dns_host *hosts,
		size_t n, struct dns_answer *a);

/*
 * Build the reply to @q described by @a into @buf (@len bytes): header
 * with QR, RA, RD copied, AA if authoritative, rcode; the question if
 * @q has one; the A or PTR record if any (TTL NETD_DNS_TTL_SECONDS).
 * Returns the length or -ENOSPC.
 */
int dns_build_reply(const struct dns_query *q, const struct dns_answer *a,
		    uint8_t *buf, size_t len);

/*
 * Build an error reply with @rcode (e.g. SERVFAIL) to @q into @buf.
 * Returns the length or -ENOSPC.
 */
int dns_build_error(const struct dns_query *q, uint16_t rcode, uint8_t *buf,
		    size_t len);

/*
 * Handle the query @pkt (@len bytes) from a client: parse it into @q,
 * then drop it (malformed, or a response), reply FORMERR (QDCOUNT not 1)
 * or NOTIMP (opcode not QUERY), answer it locally (dns_resolve() with
 * @hosts) or forward it. A reply is built into @out (@out_len bytes, at
 * least DNS_UDP_MAX_BYTES) with its length in *@out_bytes.
 * Returns the action.
 */
enum dns_action dns_handle_query(const uint8_t *pkt, size_t len,
				 const struct dns_host *hosts, size_t n,
				 struct dns_query *q, uint8_t *out,
				 size_t out_len, size_t *out_bytes);

/* The id of the message @pkt (at least DNS_HEADER_BYTES long). */
uint16_t dns_get_id(const uint8_t *pkt);

/* Set the id of the message @pkt (at least DNS_HEADER_BYTES) to @id. */
void dns_set_id(uint8_t *pkt, uint16_t id);

/* Empty the table of forwarded queries. */
void dns_pending_init(struct dns_pending_table *t);

/*
 * Take a free entry of @t for a new forwarded query and give it an
 * upstream id no other entry uses, starting from @seed (a random value).
 * Returns the entry (used, up_id set, the rest zero) or NULL if the table
 * is full.
 */
struct dns_pending *dns_pending_new(struct dns_pending_table *t,
				    uint16_t seed);

/*
 * Find the forwarded query that the upstream answer @pkt (@len bytes)
 * from @from_addr:@from_port answers: a response (QR) from port 53 of the
 * server last asked, with that entry's upstream id and the same question
 * (name case-insensitively, type, class). Returns it or NULL.
 */
struct dns_pending *dns_pending_match(struct dns_pending_table *t,
				      const uint8_t *pkt, size_t len,
				      uint32_t from_addr, uint16_t from_port);

/*
 * The earliest retry or deadline time among @t's entries, in ms, or
 * UINT64_MAX if there are none.
 */
uint64_t dns_pending_next_ms(const struct dns_pending_table *t);

/* Number of entries in use in @t. */
uint32_t dns_pending_count(const struct dns_pending_table *t);

/*
 * Read the "nameserver <IPv4 address>" lines of the resolv.conf text
 * @text (@len bytes) into @servers (at most @max), skipping IPv6
 * addresses, duplicates, and addresses that would be netd itself
 * (127.0.0.0/8, 0.0.0.0, NETD_ADDR). Returns the number stored.
 */
uint32_t dns_parse_resolv(const char *text, size_t len, uint32_t *servers,
			  uint32_t max);

#endif /* KEEL_TOOLSTACK_DNS_H */
