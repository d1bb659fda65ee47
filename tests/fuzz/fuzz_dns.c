/*
 * libFuzzer target for the DNS logic of `keel netd` (toolstack/dns.c).
 * Each input is treated as a client's query: it goes through
 * dns_handle_query() with a small fixed set of registered hosts, and the
 * contract is checked: a reply is at most DNS_UDP_MAX_BYTES, parses back
 * as a response with the client's id and (when the query had one) the
 * same question, and only queries with a question are forwarded. The
 * input is also matched as an upstream answer against a pending query,
 * and read as resolv.conf text (at most the requested number of servers,
 * none of them netd itself). Any violation aborts. Build and run from
 * the repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_dns.c -o /tmp/fuzz_dns
 *   mkdir -p /tmp/fuzz_dns_corpus
 *   cd /tmp && ./fuzz_dns -max_total_time=60 -max_len=1024 /tmp/fuzz_dns_corpus
 */
#include "../../toolstack/netd/dns.c"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static const struct dns_host fhosts[] = {
	{ "tiny", 0x0A4D000Au },
	{ "web-eth1", 0x0A4D000Bu },
	{ "noaddr", 0 },
};

static struct dns_pending_table fpending;

/* The query path: handle, then check the reply. */
static void fuzz_query(const uint8_t *data, size_t size)
{
	uint8_t out[DNS_UDP_MAX_BYTES];
	struct dns_query q, r;
	size_t olen = 0;

	switch (dns_handle_query(data, size, fhosts, 3, &q, out, sizeof(out),
				 &olen)) {
	case DNS_REPLY:
		FUZZ_ASSERT(olen >= DNS_HEADER_BYTES && olen <= sizeof(out));
		FUZZ_ASSERT(dns_parse(out, olen, &r) == 0);
		FUZZ_ASSERT(r.flags & DNS_FLAG_QR);
		FUZZ_ASSERT(r.id == q.id);
		FUZZ_ASSERT(r.has_question == q.has_question);
		if (q.has_question)
			FUZZ_ASSERT(strcmp(r.name, q.name) == 0 &&
				    r.qtype == q.qtype && r.qclass == q.qclass);
		break;
	case DNS_FORWARD:
		FUZZ_ASSERT(q.has_question && !(q.flags & DNS_FLAG_QR));
		break;
	case DNS_DROP:
		break;
	}
}

/* The upstream path: a pending query for the same question. */
static void fuzz_upstream(const uint8_t *data, size_t size)
{
	struct dns_pending *p;
	struct dns_query q;

	dns_pending_init(&fpending);
	if (dns_parse(data, size, &q) || !q.has_question)
		return;
	p = dns_pending_new(&fpending, q.id);
	FUZZ_ASSERT(p && p->up_id == q.id);
	p->server = 0x08080808u;
	p->q = q;
	FUZZ_ASSERT(dns_pending_match(&fpending, data, size, 0x08080808u, 53) ==
		    ((q.flags & DNS_FLAG_QR) ? p : NULL));
	FUZZ_ASSERT(!dns_pending_match(&fpending, data, size, 0x08080404u, 53));
}

/* The resolv.conf parser. */
static void fuzz_resolv(const uint8_t *data, size_t size)
{
	uint32_t s[NETD_UPSTREAM_MAX], n, i;

	n = dns_parse_resolv((const char *)data, size, s, NETD_UPSTREAM_MAX);
	FUZZ_ASSERT(n <= NETD_UPSTREAM_MAX);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(!dns_is_self(s[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_query(data, size);
	fuzz_upstream(data, size);
	fuzz_resolv(data, size);
	return 0;
}
