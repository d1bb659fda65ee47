/*
 * Host unit tests of the DNS logic of `keel netd` (toolstack/dns.c):
 * message and name parsing with compression (valid chains, loops,
 * forward pointers, too many jumps, overlong names and labels, truncated
 * packets), local answers for <host>.keel, bare hostnames, dom0, the zone
 * apex and the reverse zone (A, PTR, NODATA for other types, NXDOMAIN
 * for unknown names), forwarding decisions, FORMERR/NOTIMP/SERVFAIL
 * replies, the pending table of forwarded queries (unique ids, matching
 * answers by server, port, id and question) and resolv.conf parsing. A
 * random-mutation loop checks that no input crashes the query path and
 * that every reply built parses back with the client's id.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/netd/dns.c"

#include "harness.h"

#define IP(d) (0x0A4D0000u | (d))

static const struct dns_host hosts[] = {
	{ "tiny", IP(10) },
	{ "Web-eth1", IP(11) },
	{ "noaddr", 0 },
	{ "web.prod", IP(12) },
	{ "twice", 0 },
	{ "twice", IP(13) },
};
#define NHOSTS (sizeof(hosts) / sizeof(hosts[0]))

/* Build a query for @name (dotted) of @type/@class into @buf. Length. */
static size_t make_query(uint8_t *buf, uint16_t id, uint16_t flags,
			 const char *name, uint16_t type, uint16_t cls)
{
	int n;

	memset(buf, 0, DNS_HEADER_BYTES);
	dns_put16(buf, id);
	dns_put16(buf + 2, flags);
	dns_put16(buf + 4, 1);
	n = dns_put_name(name, buf + DNS_HEADER_BYTES, 300);
	if (n < 0)
		return 0;
	dns_put16(buf + DNS_HEADER_BYTES + n, type);
	dns_put16(buf + DNS_HEADER_BYTES + n + 2, cls);
	return DNS_HEADER_BYTES + (size_t)n + 4;
}

/* The result of one query through dns_handle_query(). */
struct result {
	enum dns_action action;
	uint8_t out[DNS_UDP_MAX_BYTES];
	size_t len;
	uint16_t flags, qd, an, ns, ar;
};

/* Run the query for @name/@type through dns_handle_query(). */
static void ask(struct result *r, const char *name, uint16_t type)
{
	uint8_t q[600];
	struct dns_query pq;
	size_t n = make_query(q, 0xBEEF, DNS_FLAG_RD, name, type, DNS_CLASS_IN);

	memset(r, 0, sizeof(*r));
	r->action = dns_handle_query(q, n, hosts, NHOSTS, &pq, r->out,
				     sizeof(r->out), &r->len);
	if (r->action != DNS_REPLY || r->len < DNS_HEADER_BYTES)
		return;
	r->flags = dns_get16(r->out + 2);
	r->qd = dns_get16(r->out + 4);
	r->an = dns_get16(r->out + 6);
	r->ns = dns_get16(r->out + 8);
	r->ar = dns_get16(r->out + 10);
}

/* Offset of the answer record in @r (after header and question). */
static size_t answer_at(const struct result *r)
{
	struct dns_query q;
	size_t end = 0;

	if (dns_read_name(r->out, r->len, DNS_HEADER_BYTES, &q, &end))
		return 0;
	return end + 4;
}

/* The address of the A answer in @r, or 0. */
static uint32_t answer_a(const struct result *r)
{
	size_t at = answer_at(r);

	if (!at || r->an != 1 || at + 16 > r->len ||
	    dns_get16(r->out + at) != 0xC00C ||
	    dns_get16(r->out + at + 2) != DNS_TYPE_A ||
	    dns_get16(r->out + at + 4) != DNS_CLASS_IN ||
	    dns_get16(r->out + at + 10) != 4)
		return 0;
	return (uint32_t)dns_get16(r->out + at + 12) << 16 |
	       dns_get16(r->out + at + 14);
}

/* Names and the flags of local answers. */
static void test_local_a(void)
{
	struct result r;

	ask(&r, "tiny.keel", DNS_TYPE_A);
	CHECK_EQ_INT(r.action, DNS_REPLY);
	CHECK_EQ_U64(dns_get_id(r.out), 0xBEEF);
	CHECK_EQ_U64(r.flags, DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_RD |
			      DNS_FLAG_RA);
	CHECK_EQ_INT(r.qd, 1);
	CHECK_EQ_INT(r.an, 1);
	CHECK_EQ_INT(r.ns + r.ar, 0);
	CHECK_EQ_U64(answer_a(&r), IP(10));
	CHECK_EQ_U64(dns_get16(r.out + answer_at(&r) + 6) << 16 |
		     dns_get16(r.out + answer_at(&r) + 8), NETD_DNS_TTL_SECONDS);
	/* case-insensitive; the question keeps the client's case */
	ask(&r, "TiNy.KEEL", DNS_TYPE_A);
	CHECK_EQ_U64(answer_a(&r), IP(10));
	CHECK(memcmp(r.out + DNS_HEADER_BYTES, "\4TiNy\4KEEL", 10) == 0);
	ask(&r, "tiny", DNS_TYPE_A);
	CHECK_EQ_U64(answer_a(&r), IP(10));
	ask(&r, "web-eth1.keel", DNS_TYPE_A);
	CHECK_EQ_U64(answer_a(&r), IP(11));
	ask(&r, "WEB-ETH1", DNS_TYPE_A);
	CHECK_EQ_U64(answer_a(&r), IP(11));
	ask(&r, "web.prod.keel", DNS_TYPE_A);
	CHECK_EQ_U64(answer_a(&r), IP(12));
	ask(&r, "twice.keel", DNS_TYPE_A);
	CHECK_EQ_U64(answer_a(&r), IP(13));
	ask(&r, "tiny.keel", DNS_TYPE_ANY);
	CHECK_EQ_U64(answer_a(&r), IP(10));
	ask(&r, "dom0.keel", DNS_TYPE_A);
	CHECK_EQ_U64(answer_a(&r), NETD_ADDR);
	ask(&r, "DOM0", DNS_TYPE_A);
	CHECK_EQ_U64(answer_a(&r), NETD_ADDR);
}

/* NODATA, NXDOMAIN and forwarding. */
static void test_local_other(void)
{
	struct result r;

	ask(&r, "tiny.keel", DNS_TYPE_AAAA);
	CHECK_EQ_INT(r.action, DNS_REPLY);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NOERROR);
	CHECK(r.flags & DNS_FLAG_AA);
	CHECK_EQ_INT(r.an, 0);
	CHECK_EQ_INT(r.qd, 1);
	ask(&r, "tiny", DNS_TYPE_AAAA);
	CHECK_EQ_INT(r.action, DNS_REPLY);
	CHECK_EQ_INT(r.an, 0);
	ask(&r, "dom0.keel", 15 /* MX */);
	CHECK_EQ_INT(r.an, 0);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NOERROR);
	ask(&r, "noaddr.keel", DNS_TYPE_A); /* registered, no lease */
	CHECK_EQ_INT(r.action, DNS_REPLY);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NOERROR);
	CHECK_EQ_INT(r.an, 0);
	ask(&r, "nobody.keel", DNS_TYPE_A);
	CHECK_EQ_INT(r.action, DNS_REPLY);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	CHECK(r.flags & DNS_FLAG_AA);
	CHECK_EQ_INT(r.an, 0);
	ask(&r, "a.tiny.keel", DNS_TYPE_A);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	ask(&r, "keel", DNS_TYPE_A);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NOERROR);
	CHECK_EQ_INT(r.an, 0);
	ask(&r, "KEEL", DNS_TYPE_ANY);
	CHECK_EQ_INT(r.action, DNS_REPLY);
	/* everything else goes upstream */
	ask(&r, "example.com", DNS_TYPE_A);
	CHECK_EQ_INT(r.action, DNS_FORWARD);
	ask(&r, "nobody", DNS_TYPE_A);
	CHECK_EQ_INT(r.action, DNS_FORWARD);
	ask(&r, "tiny.example.com", DNS_TYPE_A);
	CHECK_EQ_INT(r.action, DNS_FORWARD);
	ask(&r, "xkeel", DNS_TYPE_A);
	CHECK_EQ_INT(r.action, DNS_FORWARD);
	ask(&r, "a.xkeel", DNS_TYPE_A);
	CHECK_EQ_INT(r.action, DNS_FORWARD);
	ask(&r, "keel.com", DNS_TYPE_A);
	CHECK_EQ_INT(r.action, DNS_FORWARD);
	ask(&r, "", DNS_TYPE_A); /* the root */
	CHECK_EQ_INT(r.action, DNS_FORWARD);
	ask(&r, "web.prod", DNS_TYPE_A); /* has a dot: not a bare name */
	CHECK_EQ_INT(r.action, DNS_FORWARD);
	ask(&r, "5.1.168.192.in-addr.arpa", DNS_TYPE_PTR);
	CHECK_EQ_INT(r.action, DNS_FORWARD);
}

/* The reverse zone of the subnet. */
static void test_reverse(void)
{
	static const uint8_t tiny_keel[] = "\4tiny\4keel";
	struct result r;
	size_t at;

	ask(&r, "10.0.77.10.in-addr.arpa", DNS_TYPE_PTR);
	CHECK_EQ_INT(r.action, DNS_REPLY);
	CHECK_EQ_INT(r.an, 1);
	CHECK(r.flags & DNS_FLAG_AA);
	at = answer_at(&r);
	CHECK(at && at + 12 + sizeof(tiny_keel) <= r.len);
	CHECK_EQ_U64(dns_get16(r.out + at + 2), DNS_TYPE_PTR);
	CHECK_EQ_U64(dns_get16(r.out + at + 10), sizeof(tiny_keel));
	CHECK(memcmp(r.out + at + 12, tiny_keel, sizeof(tiny_keel)) == 0);
	CHECK_EQ_INT(at + 12 + sizeof(tiny_keel), r.len);
	ask(&r, "1.0.77.10.IN-ADDR.ARPA", DNS_TYPE_ANY);
	CHECK_EQ_INT(r.an, 1);
	at = answer_at(&r);
	CHECK(memcmp(r.out + at + 12, "\4dom0\4keel", 11) == 0);
	ask(&r, "12.0.77.10.in-addr.arpa", DNS_TYPE_PTR);
	CHECK(memcmp(r.out + answer_at(&r) + 12, "\3web\4prod\4keel", 15) == 0);
	ask(&r, "10.0.77.10.in-addr.arpa", DNS_TYPE_A);
	CHECK_EQ_INT(r.an, 0);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NOERROR);
	ask(&r, "99.0.77.10.in-addr.arpa", DNS_TYPE_PTR);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	ask(&r, "010.0.77.10.in-addr.arpa", DNS_TYPE_PTR);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	ask(&r, "256.0.77.10.in-addr.arpa", DNS_TYPE_PTR);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	ask(&r, "0.0.77.10.in-addr.arpa", DNS_TYPE_PTR);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	ask(&r, "1.10.0.77.10.in-addr.arpa", DNS_TYPE_PTR);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NXDOMAIN);
	ask(&r, "0.77.10.in-addr.arpa", DNS_TYPE_PTR);
	CHECK_EQ_INT(r.action, DNS_REPLY);
	CHECK_EQ_INT(r.flags & DNS_RCODE_MASK, DNS_RCODE_NOERROR);
	CHECK_EQ_INT(r.an, 0);
}

/* Bad headers and packets: dropped, FORMERR or NOTIMP. */
static void test_bad_queries(void)
{
	uint8_t q[600], out[DNS_UDP_MAX_BYTES];
	struct dns_query pq;
	size_t n, olen, i;
	int drops = 1;

	n = make_query(q, 7, 0, "tiny.keel", DNS_TYPE_A, DNS_CLASS_IN);
	CHECK_EQ_INT(dns_handle_query(q, n, hosts, NHOSTS, &pq, out, sizeof(out),
				      &olen), DNS_REPLY);
	/* every truncation is dropped */
	for (i = 0; i < n; i++)
		drops &= dns_handle_query(q, i, hosts, NHOSTS, &pq, out,
					  sizeof(out), &olen) == DNS_DROP;
	CHECK(drops);
	/* responses are not queries */
	dns_put16(q + 2, DNS_FLAG_QR);
	CHECK_EQ_INT(dns_handle_query(q, n, hosts, NHOSTS, &pq, out, sizeof(out),
				      &olen), DNS_DROP);
	/* opcode STATUS: NOTIMP, with the question */
	dns_put16(q + 2, 2u << 11 | DNS_FLAG_RD);
	CHECK_EQ_INT(dns_handle_query(q, n, hosts, NHOSTS, &pq, out, sizeof(out),
				      &olen), DNS_REPLY);
	CHECK_EQ_INT(dns_get16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_NOTIMP);
	CHECK_EQ_INT(dns_get16(out + 2) & DNS_OPCODE_MASK, 2u << 11);
	CHECK_EQ_INT(dns_get16(out), 7);
	/* QDCOUNT 0 or 2: FORMERR without a question */
	dns_put16(q + 2, 0);
	dns_put16(q + 4, 0);
	CHECK_EQ_INT(dns_handle_query(q, n, hosts, NHOSTS, &pq, out, sizeof(out),
				      &olen), DNS_REPLY);
	CHECK_EQ_INT(dns_get16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_FORMERR);
	CHECK_EQ_INT(dns_get16(out + 4), 0);
	CHECK_EQ_INT(olen, DNS_HEADER_BYTES);
	dns_put16(q + 4, 2);
	CHECK_EQ_INT(dns_handle_query(q, n, hosts, NHOSTS, &pq, out, sizeof(out),
				      &olen), DNS_REPLY);
	CHECK_EQ_INT(dns_get16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_FORMERR);
	/* a header alone with QDCOUNT 0 is a (FORMERR) query */
	CHECK_EQ_INT(dns_handle_query(q, DNS_HEADER_BYTES, hosts, NHOSTS, &pq, out,
				      sizeof(out), &olen), DNS_REPLY);
	/* additional records (EDNS OPT) after the question are fine */
	n = make_query(q, 8, DNS_FLAG_RD, "tiny.keel", DNS_TYPE_A, DNS_CLASS_IN);
	dns_put16(q + 10, 1);
	memcpy(q + n, "\0\0\x29\x10\0\0\0\0\0\0\0", 11);
	CHECK_EQ_INT(dns_handle_query(q, n + 11, hosts, NHOSTS, &pq, out,
				      sizeof(out), &olen), DNS_REPLY);
	CHECK_EQ_INT(dns_get16(out + 10), 0);
	/* class CHAOS for our name: no records */
	n = make_query(q, 9, 0, "tiny.keel", DNS_TYPE_A, 3);
	CHECK_EQ_INT(dns_handle_query(q, n, hosts, NHOSTS, &pq, out, sizeof(out),
				      &olen), DNS_REPLY);
	CHECK_EQ_INT(dns_get16(out + 6), 0);
}

/* Name decompression: chains, loops, limits (RFC 1035 4.1.4). */
static void test_names(void)
{
	uint8_t p[1200];
	struct dns_query q;
	size_t end, i, off;

	memset(p, 0, sizeof(p));
	memcpy(p + 20, "\3foo\3BAR\0", 9);
	memcpy(p + 40, "\3www\xC0\x14", 6);           /* www + ->20 */
	memcpy(p + 50, "\1x\xC0\x28", 4);             /* x + ->40 */
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 20, &q, &end), 0);
	CHECK_EQ_STR(q.name, "foo.bar");
	CHECK_EQ_INT(end, 29);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 50, &q, &end), 0);
	CHECK_EQ_STR(q.name, "x.www.foo.bar");
	CHECK_EQ_INT(end, 54);
	CHECK_EQ_INT(q.qname_bytes, 15);
	CHECK(memcmp(q.qname, "\1x\3www\3foo\3BAR\0", 15) == 0);
	/* a pointer to itself, to its own label, forwards: rejected */
	memcpy(p + 60, "\xC0\x3C", 2);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 60, &q, &end), -EINVAL);
	memcpy(p + 70, "\1a\xC0\x46", 4);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 70, &q, &end), -EINVAL);
	memcpy(p + 80, "\xC0\x5A", 2);
	memcpy(p + 90, "\0", 1);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 80, &q, &end), -EINVAL);
	/* a loop through two pointers, each pointing backwards of itself */
	memcpy(p + 100, "\1a\xC0\x6A", 4);                  /* ->106 */
	memcpy(p + 104, "\1b", 2);
	memcpy(p + 106, "\xC0\x64", 2);                     /* ->100 */
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 106, &q, &end), -EINVAL);
	/* a pointer into the middle of the name being read */
	memcpy(p + 110, "\2ab\xC0\x6F", 5);                 /* ->111 */
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 110, &q, &end), -EINVAL);
	/* a pointer back into a label of the same name, which would read
	 * that label's bytes as a new name */
	memcpy(p + 140, "\3\1b\0\xC0\x8D", 6);          /* ->141 */
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 140, &q, &end), -EINVAL);
	/* extended label types 0x40 and 0x80 */
	memcpy(p + 120, "\x41" "a\0", 3);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 120, &q, &end), -EINVAL);
	memcpy(p + 120, "\x81" "a\0", 3);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 120, &q, &end), -EINVAL);
	/* truncated: label past the end, pointer cut, no root */
	CHECK_EQ_INT(dns_read_name(p, 23, 20, &q, &end), -EINVAL);
	CHECK_EQ_INT(dns_read_name(p, 45, 40, &q, &end), -EINVAL);
	CHECK_EQ_INT(dns_read_name(p, 28, 20, &q, &end), -EINVAL);
	CHECK_EQ_INT(dns_read_name(p, 29, 20, &q, &end), 0);
	/* 255 bytes is the limit (63+63+63+61 labels) */
	off = 200;
	for (i = 0; i < 4; i++) {
		uint8_t n = i < 3 ? 63 : 61;

		p[off] = n;
		memset(p + off + 1, 'a' + (int)i, n);
		off += 1u + n;
	}
	p[off] = 0;
	CHECK_EQ_INT(off + 1 - 200, 255);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 200, &q, &end), 0);
	CHECK_EQ_INT(q.qname_bytes, 255);
	CHECK_EQ_INT(strlen(q.name), 253);
	p[off - 62] = 62; /* last label 62 bytes: 256 in all */
	memmove(p + off - 61 + 1, p + off - 61, 62);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 200, &q, &end), -EINVAL);
	/* 128 one-byte labels: too long */
	for (i = 0; i < 128; i++)
		memcpy(p + 600 + 2 * i, "\1z", 2);
	p[856] = 0;
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 600, &q, &end), -EINVAL);
	/* a label over 63 bytes can only be a pointer or a bad type */
	/* 64 jumps are followed, 65 are not */
	memset(p, 0, sizeof(p));
	p[10] = 0;
	for (i = 0; i < 70; i++) {
		p[12 + 2 * i] = 0xC0;
		p[13 + 2 * i] = (uint8_t)(i ? 12 + 2 * (i - 1) : 10);
	}
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 12 + 2 * 63, &q, &end), 0);
	CHECK_EQ_STR(q.name, "");
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 12 + 2 * 64, &q, &end),
		     -EINVAL);
	/* odd bytes in the text form */
	memcpy(p + 300, "\3a.b\2c\x01\0", 8);
	CHECK_EQ_INT(dns_read_name(p, sizeof(p), 300, &q, &end), 0);
	CHECK_EQ_STR(q.name, "a?b.c?");
}

/* SERVFAIL and the id helpers. */
static void test_errors(void)
{
	uint8_t q[600], out[DNS_UDP_MAX_BYTES];
	struct dns_query pq;
	size_t n = make_query(q, 0x4242, DNS_FLAG_RD, "Example.com",
			      DNS_TYPE_AAAA, DNS_CLASS_IN);
	int len;

	CHECK_EQ_INT(dns_parse(q, n, &pq), 0);
	CHECK_EQ_STR(pq.name, "example.com");
	len = dns_build_error(&pq, DNS_RCODE_SERVFAIL, out, sizeof(out));
	CHECK_EQ_INT(len, (int)n);
	CHECK_EQ_U64(dns_get16(out + 2), DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA |
			      DNS_RCODE_SERVFAIL);
	CHECK(memcmp(out + 4, "\0\1\0\0\0\0\0\0", 8) == 0);
	CHECK(memcmp(out + DNS_HEADER_BYTES, q + DNS_HEADER_BYTES,
		     n - DNS_HEADER_BYTES) == 0);
	CHECK_EQ_INT(dns_build_error(&pq, DNS_RCODE_SERVFAIL, out, n - 1),
		     -ENOSPC);
	CHECK_EQ_INT(dns_build_error(&pq, DNS_RCODE_SERVFAIL, out, 4), -ENOSPC);
	dns_set_id(out, 0x1234);
	CHECK_EQ_U64(dns_get_id(out), 0x1234);
}

/* Forwarded-query table: ids, matching, deadlines. */
static void test_pending(void)
{
	static struct dns_pending_table t;
	uint8_t q[600], ans[600];
	struct dns_pending *p, *p2;
	uint32_t i, ok = 1;
	size_t n;

	dns_pending_init(&t);
	CHECK_EQ_U64(dns_pending_next_ms(&t), UINT64_MAX);
	p = dns_pending_new(&t, 100);
	p2 = dns_pending_new(&t, 100);
	CHECK(p && p2 && p != p2);
	CHECK_EQ_INT(p->up_id, 100);
	CHECK_EQ_INT(p2->up_id, 101);
	p->server = 0x08080808u;
	p->deadline_ms = 5000;
	p->retry_ms = 1500;
	p2->deadline_ms = 3000;
	CHECK_EQ_U64(dns_pending_next_ms(&t), 1500);
	n = make_query(q, 7, DNS_FLAG_RD, "Example.COM", DNS_TYPE_A, DNS_CLASS_IN);
	dns_parse(q, n, &p->q);
	/* the answer: same question (other case), QR, our id */
	n = make_query(ans, 100, DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA,
		       "example.com", DNS_TYPE_A, DNS_CLASS_IN);
	CHECK(dns_pending_match(&t, ans, n, 0x08080808u, 53) == p);
	CHECK(dns_pending_match(&t, ans, n, 0x08080404u, 53) == NULL);
	CHECK(dns_pending_match(&t, ans, n, 0x08080808u, 5353) == NULL);
	CHECK(dns_pending_match(&t, ans, n - 1, 0x08080808u, 53) == NULL);
	dns_set_id(ans, 101);
	CHECK(dns_pending_match(&t, ans, n, 0x08080808u, 53) == NULL);
	dns_set_id(ans, 100);
	dns_put16(ans + 2, DNS_FLAG_RD); /* not a response */
	CHECK(dns_pending_match(&t, ans, n, 0x08080808u, 53) == NULL);
	n = make_query(ans, 100, DNS_FLAG_QR, "example.org", DNS_TYPE_A,
		       DNS_CLASS_IN);
	CHECK(dns_pending_match(&t, ans, n, 0x08080808u, 53) == NULL);
	n = make_query(ans, 100, DNS_FLAG_QR, "example.com", DNS_TYPE_AAAA,
		       DNS_CLASS_IN);
	CHECK(dns_pending_match(&t, ans, n, 0x08080808u, 53) == NULL);
	/* fill the table: all ids distinct even with the same seed */
	for (i = 2; i < NETD_DNS_PENDING_MAX; i++)
		ok &= dns_pending_new(&t, 100) != NULL;
	CHECK(ok);
	CHECK_EQ_INT(dns_pending_count(&t), NETD_DNS_PENDING_MAX);
	CHECK(dns_pending_new(&t, 1) == NULL);
	for (i = 0; i < NETD_DNS_PENDING_MAX; i++) {
		uint32_t j;

		for (j = i + 1; j < NETD_DNS_PENDING_MAX; j++)
			ok &= t.e[i].up_id != t.e[j].up_id;
	}
	CHECK(ok);
	p->used = 0;
	p = dns_pending_new(&t, 0xFFFF);
	CHECK(p != NULL && p->up_id == 0xFFFF && p->pkt_bytes == 0);
}

/* resolv.conf nameserver lines. */
static void test_resolv(void)
{
	static const char text[] =
		"# upstream\n"
		"search example.com\n"
		"nameserver 192.168.1.1\n"
		"  nameserver\t8.8.8.8 # google\n"
		"nameserver 2001:db8::1\n"
		"nameserver 127.0.0.1\n"
		"nameserver 127.0.0.53\n"
		"nameserver 10.77.0.1\n"
		"nameserver 0.0.0.0\n"
		"nameserver 192.168.1.1\n"
		"nameservers 1.1.1.1\n"
		"nameserver\n"
		"nameserver 300.1.1.1\n"
		"nameserver 9.9.9.9\r\n"
		"nameserver 1.0.0.1\n";
	uint32_t s[NETD_UPSTREAM_MAX];

	CHECK_EQ_INT(dns_parse_resolv(text, sizeof(text) - 1, s, 3), 3);
	CHECK_EQ_U64(s[0], 0xC0A80101u);
	CHECK_EQ_U64(s[1], 0x08080808u);
	CHECK_EQ_U64(s[2], 0x09090909u);
	CHECK_EQ_INT(dns_parse_resolv(text, sizeof(text) - 1, s, 1), 1);
	CHECK_EQ_INT(dns_parse_resolv("", 0, s, 3), 0);
	CHECK_EQ_INT(dns_parse_resolv("nameserver 127.0.0.1", 20, s, 3), 0);
	CHECK_EQ_INT(dns_parse_resolv("nameserver 1.2.3.4", 18, s, 3), 1);
	CHECK_EQ_U64(s[0], 0x01020304u);
}

/* Random mutations: no crash; replies parse with the client's id. */
static void test_random(void)
{
	static const char *const names[] = { "tiny.keel", "example.com",
					     "10.0.77.10.in-addr.arpa", "dom0" };
	uint8_t q[700], out[DNS_UDP_MAX_BYTES];
	struct dns_query pq, rq;
	uint32_t i, j, ok = 1, replies = 0;
	size_t n, olen;

	for (i = 0; i < 200000; i++) {
		n = make_query(q, (uint16_t)i, DNS_FLAG_RD, names[i % 4],
			       (uint16_t)harness_rand_below(300), DNS_CLASS_IN);
		for (j = 0; j < 1 + harness_rand_below(4); j++)
			q[harness_rand_below(n + 4)] = (uint8_t)harness_rand();
		if (harness_rand_below(3) == 0)
			n = (size_t)harness_rand_below(n + 1);
		else
			n += (size_t)harness_rand_below(5);
		switch (dns_handle_query(q, n, hosts, NHOSTS, &pq, out,
					 sizeof(out), &olen)) {
		case DNS_REPLY:
			replies++;
			if (olen > sizeof(out) || dns_parse(out, olen, &rq) ||
			    rq.id != dns_get_id(q) || !(rq.flags & DNS_FLAG_QR) ||
			    (pq.has_question && strcmp(rq.name, pq.name) != 0))
				ok = 0;
			break;
		case DNS_FORWARD:
			if (!pq.has_question)
				ok = 0;
			break;
		case DNS_DROP:
			break;
		}
	}
	CHECK(ok);
	CHECK(replies > 1000);
}

int main(void)
{
	test_local_a();
	test_local_other();
	test_reverse();
	test_bad_queries();
	test_names();
	test_errors();
	test_pending();
	test_resolv();
	test_random();
	return harness_done("test_toolstack_dns");
}
