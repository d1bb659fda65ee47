/*
 * DNS server logic of `keel netd` (see dns.h): message parsing with safe
 * name decompression (RFC 1035 section 4.1.4), local answers for the
 * zone "keel" and the subnet's reverse zone, reply building (sections
 * 4.1.1 - 4.1.3), the table of queries forwarded upstream, and reading
 * upstream servers from resolv.conf text. Pure: no I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

/* Big-endian 16-bit value at @p. */
static uint16_t dns_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Store @v big-endian at @p. */
static void dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Store @v big-endian at @p. */
static void dns_put32(uint8_t *p, uint32_t v)
{
	dns_put16(p, (uint16_t)(v >> 16));
	dns_put16(p + 2, (uint16_t)v);
}

/* Message id; see dns.h. */
uint16_t dns_get_id(const uint8_t *pkt)
{
	return dns_get16(pkt);
}

/* Set the message id; see dns.h. */
void dns_set_id(uint8_t *pkt, uint16_t id)
{
	dns_put16(pkt, id);
}

/* ASCII lower case of @c. */
static char dns_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Append the label @p (@n bytes) to the text form @q->name at *@pos. */
static void dns_text_label(struct dns_query *q, size_t *pos, const uint8_t *p,
			   uint8_t n)
{
	uint8_t i;

	if (*pos)
		q->name[(*pos)++] = '.';
	for (i = 0; i < n; i++) {
		char c = (char)p[i];

		q->name[(*pos)++] = p[i] > 0x20 && p[i] < 0x7f && c != '.'
					    ? dns_lower(c) : '?';
	}
	q->name[*pos] = '\0';
}

/*
 * Read the name at @pkt[@off] (RFC 1035 sections 3.1, 4.1.4) into q->qname
 * (wire form, no pointers) and q->name (text). *@end receives the offset
 * after the name in the message. A pointer must point before the place
 * where the labels being read began (the name's start, or the target of
 * the previous pointer), so each jump lands lower than the one before
 * and no loop is possible; DNS_MAX_POINTERS bounds the jumps as well.
 * Returns 0 or -EINVAL.
 */
static int dns_read_name(const uint8_t *pkt, size_t len, size_t off,
			 struct dns_query *q, size_t *end)
{
	size_t out = 0, text = 0, after = 0, limit = off;
	uint32_t jumps = 0;

	q->name[0] = '\0';
	for (;;) {
		uint8_t c;

		if (off >= len)
			return -EINVAL;
		c = pkt[off];
		if ((c & 0xC0) == 0xC0) {
			size_t to;

			if (off + 1 >= len || ++jumps > DNS_MAX_POINTERS)
				return -EINVAL;
			to = (size_t)(c & 0x3F) << 8 | pkt[off + 1];
			if (to >= limit)
				return -EINVAL;
			if (!after)
				after = off + 2;
			off = limit = to;
			continue;
		}
		if (c & 0xC0) /* 0x40, 0x80: extended label types */
			return -EINVAL;
		/* the label, and the root label still to come after it */
		if (off + 1 + c > len ||
		    out + 1 + c + (c ? 1u : 0u) > DNS_NAME_MAX_BYTES)
			return -EINVAL;
		memcpy(q->qname + out, pkt + off, 1u + c);
		out += 1u + c;
		if (c == 0)
			break;
		dns_text_label(q, &text, pkt + off + 1, c);
		off += 1u + c;
	}
	q->qname_bytes = (uint32_t)out;
	*end = after ? after : off + 1;
	return 0;
}

/* Parse a message; see dns.h. */
int dns_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	size_t end;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER_BYTES)
		return -EINVAL;
	q->id = dns_get16(pkt);
	q->flags = dns_get16(pkt + 2);
	if (dns_get16(pkt + 4) != 1)
		return 0;
	if (dns_read_name(pkt, len, DNS_HEADER_BYTES, q, &end) ||
	    end + 4 > len)
		return -EINVAL;
	q->qtype = dns_get16(pkt + end);
	q->qclass = dns_get16(pkt + end + 2);
	q->has_question = 1;
	return 0;
}

/* ASCII case-insensitive equality of @a and @b. */
static int dns_name_eq(const char *a, const char *b)
{
	while (*a && dns_lower(*a) == dns_lower(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/*
 * If @name is @zone or ends with ".@zone", copy the part before into
 * @host (@len bytes; "" for the zone itself) and return 1, else 0.
 */
static int dns_in_zone(const char *name, const char *zone, char *host,
		       size_t len)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z && strcmp(name, zone) == 0) {
		host[0] = '\0';
		return 1;
	}
	if (n <= z + 1 || name[n - z - 1] != '.' ||
	    strcmp(name + n - z, zone) != 0 || n - z - 1 >= len)
		return 0;
	memcpy(host, name, n - z - 1);
	host[n - z - 1] = '\0';
	return 1;
}

/* True if @q asks for class IN (or ANY) and type @type (or ANY). */
static int dns_wants(const struct dns_query *q, uint16_t type)
{
	return (q->qclass == DNS_CLASS_IN || q->qclass == DNS_CLASS_ANY) &&
	       (q->qtype == type || q->qtype == DNS_TYPE_ANY);
}

/* Set @a to an authoritative answer with @rcode and no record. */
static void dns_answer_empty(struct dns_answer *a, uint16_t rcode)
{
	memset(a, 0, sizeof(*a));
	a->rcode = rcode;
	a->authoritative = 1;
}

/*
 * Look @host up: 1 with *@addr (0 if no live lease) if it is dom0 or in
 * @hosts, else 0. A registered name with a live address wins over one
 * without.
 */
static int dns_lookup_host(const char *host, const struct dns_host *hosts,
			   size_t n, uint32_t *addr)
{
	size_t i;
	int found = 0;

	*addr = 0;
	if (dns_name_eq(host, NETD_DOM0_NAME)) {
		*addr = NETD_ADDR;
		return 1;
	}
	for (i = 0; i < n && !*addr; i++) {
		if (dns_name_eq(host, hosts[i].name)) {
			found = 1;
			*addr = hosts[i].addr;
		}
	}
	return found;
}

/* Answer for the name @host in the zone "keel" (or bare). Returns 1. */
static int dns_answer_host(const struct dns_query *q, const char *host,
			   const struct dns_host *hosts, size_t n,
			   struct dns_answer *a)
{
	uint32_t addr;

	if (host[0] && !dns_lookup_host(host, hosts, n, &addr)) {
		dns_answer_empty(a, DNS_RCODE_NXDOMAIN);
		return 1;
	}
	dns_answer_empty(a, DNS_RCODE_NOERROR);
	if (host[0] && addr && dns_wants(q, DNS_TYPE_A)) {
		a->type = DNS_TYPE_A;
		a->addr = addr;
	}
	return 1;
}

/* The last address byte named by the reverse-zone label @s, or -1. */
static int dns_reverse_octet(const char *s)
{
	int v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 255 ? v : -1;
}

/* The hostname holding @addr into @out ("dom0" for NETD_ADDR). 1 or 0. */
static int dns_name_of(uint32_t addr, const struct dns_host *hosts, size_t n,
		       char *out, size_t len)
{
	const char *name = addr == NETD_ADDR ? NETD_DOM0_NAME : NULL;
	size_t i;

	for (i = 0; i < n && !name; i++) {
		if (hosts[i].addr == addr)
			name = hosts[i].name;
	}
	if (!name || strlen(name) + sizeof(NETD_DOMAIN) + 1 > len)
		return 0;
	memcpy(out, name, strlen(name));
	out[strlen(name)] = '.';
	memcpy(out + strlen(name) + 1, NETD_DOMAIN, sizeof(NETD_DOMAIN));
	return 1;
}

/* Answer for @label in the reverse zone (RFC 1035 3.5). Returns 1. */
static int dns_answer_reverse(const struct dns_query *q, const char *label,
			      const struct dns_host *hosts, size_t n,
			      struct dns_answer *a)
{
	int octet = dns_reverse_octet(label);
	char target[DNS_NAME_TEXT_BYTES];

	dns_answer_empty(a, DNS_RCODE_NOERROR);
	if (!label[0])
		return 1;
	if (octet < 0 || !dns_name_of(NETD_SUBNET | (uint32_t)octet, hosts, n,
				      target, sizeof(target))) {
		a->rcode = DNS_RCODE_NXDOMAIN;
		return 1;
	}
	if (dns_wants(q, DNS_TYPE_PTR)) {
		a->type = DNS_TYPE_PTR;
		memcpy(a->target, target, sizeof(target));
	}
	return 1;
}

/* Answer locally or not; see dns.h. */
int dns_resolve(const struct dns_query *q, const struct dns_host *hosts,
		size_t n, struct dns_answer *a)
{
	char host[DNS_NAME_TEXT_BYTES];
	uint32_t addr;

	if (!q->has_question)
		return 0;
	if (dns_in_zone(q->name, NETD_DOMAIN, host, sizeof(host)))
		return dns_answer_host(q, host, hosts, n, a);
	if (dns_in_zone(q->name, NETD_REVERSE_ZONE, host, sizeof(host)))
		return dns_answer_reverse(q, host, hosts, n, a);
	if (q->name[0] && !strchr(q->name, '.') &&
	    dns_lookup_host(q->name, hosts, n, &addr))
		return dns_answer_host(q, q->name, hosts, n, a);
	return 0;
}

/* Write the dotted name @text in wire form to @buf. Length or -ENOSPC. */
static int dns_put_name(const char *text, uint8_t *buf, size_t len)
{
	size_t pos = 0;

	while (*text) {
		size_t n = strcspn(text, ".");

		if (n == 0 || n > DNS_LABEL_MAX_BYTES || pos + 1 + n + 1 > len)
			return -ENOSPC;
		buf[pos] = (uint8_t)n;
		memcpy(buf + pos + 1, text, n);
		pos += 1 + n;
		text += n;
		if (*text == '.')
			text++;
	}
	if (pos + 1 > len)
		return -ENOSPC;
	buf[pos++] = 0;
	return (int)pos;
}

/* Append the record of @a (name: pointer to the question, RFC 1035 4.1.3). */
static int dns_put_record(const struct dns_answer *a, uint8_t *buf,
			  size_t len, size_t off)
{
	uint8_t rdata[DNS_NAME_MAX_BYTES];
	int rdlen = 4;

	if (a->type == DNS_TYPE_A)
		dns_put32(rdata, a->addr);
	else
		rdlen = dns_put_name(a->target, rdata, sizeof(rdata));
	if (rdlen < 0 || off + 12 + (size_t)rdlen > len)
		return -ENOSPC;
	dns_put16(buf + off, 0xC000u | DNS_HEADER_BYTES);
	dns_put16(buf + off + 2, a->type);
	dns_put16(buf + off + 4, DNS_CLASS_IN);
	dns_put32(buf + off + 6, NETD_DNS_TTL_SECONDS);
	dns_put16(buf + off + 10, (uint16_t)rdlen);
	memcpy(buf + off + 12, rdata, (size_t)rdlen);
	return (int)(off + 12 + (size_t)rdlen);
}

/* Build a reply; see dns.h. */
int dns_build_reply(const struct dns_query *q, const struct dns_answer *a,
		    uint8_t *buf, size_t len)
{
	uint16_t flags = DNS_FLAG_QR | DNS_FLAG_RA |
			 (q->flags & (DNS_OPCODE_MASK | DNS_FLAG_RD)) |
			 (a->rcode & DNS_RCODE_MASK);
	size_t off = DNS_HEADER_BYTES;

	if (a->authoritative)
		flags |= DNS_FLAG_AA;
	if (len < DNS_HEADER_BYTES)
		return -ENOSPC;
	memset(buf, 0, DNS_HEADER_BYTES);
	dns_put16(buf, q->id);
	dns_put16(buf + 2, flags);
	if (q->has_question) {
		if (off + q->qname_bytes + 4 > len)
			return -ENOSPC;
		dns_put16(buf + 4, 1);
		memcpy(buf + off, q->qname, q->qname_bytes);
		off += q->qname_bytes;
		dns_put16(buf + off, q->qtype);
		dns_put16(buf + off + 2, q->qclass);
		off += 4;
	}
	if (!q->has_question || !a->type)
		return (int)off;
	dns_put16(buf + 6, 1);
	return dns_put_record(a, buf, len, off);
}

/* Build an error reply; see dns.h. */
int dns_build_error(const struct dns_query *q, uint16_t rcode, uint8_t *buf,
		    size_t len)
{
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	a.rcode = rcode;
	return dns_build_reply(q, &a, buf, len);
}

/* Handle a client's query; see dns.h. */
enum dns_action dns_handle_query(const uint8_t *pkt, size_t len,
				 const struct dns_host *hosts, size_t n,
				 struct dns_query *q, uint8_t *out,
				 size_t out_len, size_t *out_bytes)
{
	struct dns_answer a;
	int ret;

	if (dns_parse(pkt, len, q) || (q->flags & DNS_FLAG_QR))
		return DNS_DROP;
	if (q->flags & DNS_OPCODE_MASK)
		ret = dns_build_error(q, DNS_RCODE_NOTIMP, out, out_len);
	else if (!q->has_question)
		ret = dns_build_error(q, DNS_RCODE_FORMERR, out, out_len);
	else if (dns_resolve(q, hosts, n, &a))
		ret = dns_build_reply(q, &a, out, out_len);
	else
		return DNS_FORWARD;
	if (ret < 0)
		return DNS_DROP;
	*out_bytes = (size_t)ret;
	return DNS_REPLY;
}

/* Empty the pending table; see dns.h. */
void dns_pending_init(struct dns_pending_table *t)
{
	memset(t, 0, sizeof(*t));
}

/* True if an entry of @t uses upstream id @id. */
static int dns_pending_id_used(const struct dns_pending_table *t, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < NETD_DNS_PENDING_MAX; i++) {
		if (t->e[i].used && t->e[i].up_id == id)
			return 1;
	}
	return 0;
}

/* Take a pending entry; see dns.h. */
struct dns_pending *dns_pending_new(struct dns_pending_table *t,
				    uint16_t seed)
{
	struct dns_pending *p = NULL;
	uint32_t i;

	for (i = 0; i < NETD_DNS_PENDING_MAX && !p; i++) {
		if (!t->e[i].used)
			p = &t->e[i];
	}
	if (!p)
		return NULL;
	while (dns_pending_id_used(t, seed)) /* at most MAX - 1 are used */
		seed++;
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->up_id = seed;
	return p;
}

/* True if the questions of @a and @b are the same. */
static int dns_same_question(const struct dns_query *a,
			     const struct dns_query *b)
{
	return a->has_question && b->has_question &&
	       a->qtype == b->qtype && a->qclass == b->qclass &&
	       a->qname_bytes == b->qname_bytes && strcmp(a->name, b->name) == 0;
}

/* Match an upstream answer; see dns.h. */
struct dns_pending *dns_pending_match(struct dns_pending_table *t,
				      const uint8_t *pkt, size_t len,
				      uint32_t from_addr, uint16_t from_port)
{
	struct dns_query r;
	uint32_t i;

	if (from_port != NETD_DNS_PORT || dns_parse(pkt, len, &r) ||
	    !(r.flags & DNS_FLAG_QR))
		return NULL;
	for (i = 0; i < NETD_DNS_PENDING_MAX; i++) {
		struct dns_pending *p = &t->e[i];

		if (p->used && p->up_id == r.id && p->server == from_addr &&
		    dns_same_question(&p->q, &r))
			return p;
	}
	return NULL;
}

/* Next pending event; see dns.h. */
uint64_t dns_pending_next_ms(const struct dns_pending_table *t)
{
	uint64_t next = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < NETD_DNS_PENDING_MAX; i++) {
		const struct dns_pending *p = &t->e[i];

		if (!p->used)
			continue;
		if (p->deadline_ms < next)
			next = p->deadline_ms;
		if (p->retry_ms && p->retry_ms < next)
			next = p->retry_ms;
	}
	return next;
}

/* Count pending entries; see dns.h. */
uint32_t dns_pending_count(const struct dns_pending_table *t)
{
	uint32_t i, n = 0;

	for (i = 0; i < NETD_DNS_PENDING_MAX; i++)
		n += t->e[i].used != 0;
	return n;
}

/* True if @addr (host order) would be netd itself or is no server. */
static int dns_is_self(uint32_t addr)
{
	return addr == 0 || (addr >> 24) == 127 || addr == NETD_ADDR;
}

/* Parse one resolv.conf line; the server's address or 0. */
static uint32_t dns_resolv_line(const char *line)
{
	static const char key[] = "nameserver";
	char addr[INET_ADDRSTRLEN];
	struct in_addr in;
	size_t n;

	line += strspn(line, " \t");
	if (strncmp(line, key, sizeof(key) - 1) != 0 ||
	    (line[sizeof(key) - 1] != ' ' && line[sizeof(key) - 1] != '\t'))
		return 0;
	line += sizeof(key) - 1;
	line += strspn(line, " \t");
	n = strcspn(line, " \t\r#;");
	if (n == 0 || n >= sizeof(addr))
		return 0;
	memcpy(addr, line, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1)
		return 0;
	return ntohl(in.s_addr);
}

/* Read upstream servers; see dns.h. */
uint32_t dns_parse_resolv(const char *text, size_t len, uint32_t *servers,
			  uint32_t max)
{
	char line[256];
	uint32_t n = 0, i, addr;
	size_t pos = 0, end, l;

	while (pos < len && n < max) {
		for (end = pos; end < len && text[end] != '\n'; end++)
			;
		l = end - pos < sizeof(line) ? end - pos : sizeof(line) - 1;
		memcpy(line, text + pos, l);
		line[l] = '\0';
		pos = end + 1;
		addr = dns_resolv_line(line);
		if (dns_is_self(addr))
			continue;
		for (i = 0; i < n && servers[i] != addr; i++)
			;
		if (i == n)
			servers[n++] = addr;
	}
	return n;
}
