/*
 * libFuzzer target for the DHCP logic of `keel netd` (toolstack/dhcp.c
 * and the lease table of lease.c). Each input is a script of client
 * messages, each preceded by a 16-bit big-endian length, run against a
 * lease table that starts with all but four pool addresses bound (so
 * bindings, releases, declines and an exhausted pool all happen within
 * one input). For every message dhcp_parse() accepts, dhcp_decide() runs
 * and the contract is checked: the table stays
 * consistent (no MAC holds two addresses, every non-free slot of a MAC
 * is in the pool, declined slots have no MAC), an ACK or OFFER names a
 * pool address bound to the client's MAC (INFORM: none), a NAK none, and
 * the reply built is a BOOTREPLY of DHCP_MIN_REPLY_BYTES to
 * DHCP_MAX_REPLY_BYTES with well-formed options ending in END. The input
 * is also loaded as a lease file, which must format and load back to the
 * same table. Any violation aborts. Build and run from the repository
 * root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_dhcp.c -o /tmp/fuzz_dhcp
 *   mkdir -p /tmp/fuzz_dhcp_corpus
 *   cd /tmp && ./fuzz_dhcp -max_total_time=60 -max_len=600 /tmp/fuzz_dhcp_corpus
 */
#include "../../toolstack/core/fileio.c"
#include "../../toolstack/netd/netnames.c"
#include "../../toolstack/netd/lease.c"
#include "../../toolstack/netd/dhcp.c"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_FREE_SLOTS 4u

static struct lease_table ftable, fstart, fload, fagain;
static char ftext[LEASE_TEXT_MAX_BYTES];
static uint64_t fnow;
static int fstart_ready;

/* A table with all but FUZZ_FREE_SLOTS addresses bound to other MACs. */
static void fill_table(void)
{
	uint8_t mac[6] = { 0x02, 0xff, 0, 0, 0, 0 };
	uint32_t i;

	fnow = 1700000000ull;
	if (!fstart_ready) {
		lease_init(&fstart);
		for (i = 0; i + FUZZ_FREE_SLOTS < NETD_POOL_SIZE; i++) {
			mac[5] = (uint8_t)i;
			lease_bind(&fstart, mac, NETD_POOL_FIRST + i, fnow + i);
		}
		fstart_ready = 1;
	}
	ftable = fstart;
}

/* No MAC holds two slots; declined slots have no MAC. */
static void check_table(void)
{
	static const uint8_t zero[6];
	uint32_t i, j;

	for (i = 0; i < NETD_POOL_SIZE; i++) {
		const struct lease *a = &ftable.slots[i];

		FUZZ_ASSERT(a->addr == NETD_POOL_FIRST + i);
		if (a->state == LEASE_DECLINED || a->state == LEASE_FREE)
			continue;
		FUZZ_ASSERT(memcmp(a->mac, zero, 6) != 0);
		for (j = i + 1; j < NETD_POOL_SIZE; j++) {
			const struct lease *b = &ftable.slots[j];

			FUZZ_ASSERT(b->state == LEASE_FREE ||
				    b->state == LEASE_DECLINED ||
				    memcmp(a->mac, b->mac, 6) != 0);
		}
	}
}

/* The reply's options are well-formed and end with END. */
static void check_reply(const uint8_t *p, int len, uint8_t type)
{
	int off = DHCP_OPTIONS_OFFSET, seen_type = 0;

	FUZZ_ASSERT(len >= (int)DHCP_MIN_REPLY_BYTES &&
		    len <= (int)DHCP_MAX_REPLY_BYTES);
	FUZZ_ASSERT(p[0] == DHCP_BOOTREPLY);
	while (off < len && p[off] != DHCP_OPT_END) {
		FUZZ_ASSERT(p[off] != DHCP_OPT_PAD);
		FUZZ_ASSERT(off + 2 <= len && off + 2 + p[off + 1] <= len);
		if (p[off] == DHCP_OPT_MSG_TYPE)
			seen_type = p[off + 1] == 1 && p[off + 2] == type;
		off += 2 + p[off + 1];
	}
	FUZZ_ASSERT(off < len && seen_type);
}

/* One client message against the persistent table. */
static void fuzz_message(const uint8_t *data, size_t size)
{
	uint8_t out[DHCP_MAX_REPLY_BYTES];
	struct dhcp_decision d;
	struct dhcp_request req;
	struct lease *l;
	int len;

	if (dhcp_parse(data, size, &req))
		return;
	fnow += size % 97 * 60;
	dhcp_decide(&req, &ftable, fnow, &d);
	check_table();
	l = lease_by_mac(&ftable, req.chaddr);
	if (d.reply == DHCP_OFFER || (d.reply == DHCP_ACK &&
				      req.type != DHCP_INFORM))
		FUZZ_ASSERT(l && l->addr == d.yiaddr);
	if (d.reply == DHCP_NAK || req.type == DHCP_INFORM)
		FUZZ_ASSERT(d.yiaddr == 0);
	len = dhcp_build_reply(&req, &d, "guest", out, sizeof(out));
	if (d.reply)
		check_reply(out, len, d.reply);
	else
		FUZZ_ASSERT(len == -EINVAL);
}

/* The input as a lease file: load, save, load again. */
static void fuzz_lease_file(const uint8_t *data, size_t size)
{
	int len;

	lease_parse(&fload, (const char *)data, size, NULL);
	len = lease_format(&fload, ftext, sizeof(ftext));
	FUZZ_ASSERT(len >= 0);
	FUZZ_ASSERT(lease_parse(&fagain, ftext, (size_t)len, NULL) ==
		    lease_count(&fload));
	FUZZ_ASSERT(memcmp(&fload, &fagain, sizeof(fload)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, n;

	fill_table();
	while (off + 2 <= size) {
		n = (size_t)(data[off] << 8 | data[off + 1]);
		off += 2;
		if (n > size - off)
			n = size - off;
		fuzz_message(data + off, n);
		off += n;
	}
	fuzz_lease_file(data, size);
	return 0;
}
