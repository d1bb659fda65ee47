/*
 * The lease table of `keel netd` (see lease.h): sticky MAC -> address
 * bindings over the fixed pool, the choice of an address for an OFFER,
 * binding on ACK, RELEASE and DECLINE (RFC 2131 section 4.3), and the
 * text form saved in NETD_LEASES_FILE. Pure: no I/O, the caller passes
 * the time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "netnames.h"

static const uint8_t lease_zero_mac[6];

/* Empty the table; see lease.h. */
void lease_init(struct lease_table *t)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < NETD_POOL_SIZE; i++)
		t->slots[i].addr = NETD_POOL_FIRST + i;
}

/* Slot of a pool address; see lease.h. */
struct lease *lease_by_addr(struct lease_table *t, uint32_t addr)
{
	if (addr < NETD_POOL_FIRST || addr > NETD_POOL_LAST)
		return NULL;
	return &t->slots[addr - NETD_POOL_FIRST];
}

/* Binding of a MAC; see lease.h. */
struct lease *lease_by_mac(struct lease_table *t, const uint8_t mac[6])
{
	uint32_t i;

	for (i = 0; i < NETD_POOL_SIZE; i++) {
		struct lease *l = &t->slots[i];

		if (l->state != LEASE_FREE && l->state != LEASE_DECLINED &&
		    memcmp(l->mac, mac, 6) == 0)
			return l;
	}
	return NULL;
}

/* True if slot @l may be taken for another MAC once the pool is full. */
static int lease_reclaimable(const struct lease *l, uint64_t now)
{
	return l->state == LEASE_RELEASED || l->state == LEASE_DECLINED ||
	       l->expires <= now;
}

/* The FREE slot to use for a new binding (@want first), or NULL. */
static struct lease *lease_pick_free(struct lease_table *t, uint32_t want)
{
	struct lease *l = lease_by_addr(t, want);
	uint32_t i;

	if (l && l->state == LEASE_FREE)
		return l;
	for (i = 0; i < NETD_POOL_SIZE; i++) {
		if (t->slots[i].state == LEASE_FREE)
			return &t->slots[i];
	}
	return NULL;
}

/* The reclaimable slot that expired first, or NULL. */
static struct lease *lease_pick_reclaim(struct lease_table *t, uint64_t now)
{
	struct lease *best = NULL;
	uint32_t i;

	for (i = 0; i < NETD_POOL_SIZE; i++) {
		struct lease *l = &t->slots[i];

		if (lease_reclaimable(l, now) &&
		    (!best || l->expires < best->expires))
			best = l;
	}
	return best;
}

/* Make @l a new binding of @mac in @state until @until. */
static void lease_set(struct lease *l, const uint8_t mac[6],
		      enum lease_state state, uint64_t until)
{
	memcpy(l->mac, mac, 6);
	l->state = state;
	l->expires = until;
}

/* Choose an address for an OFFER; see lease.h. */
struct lease *lease_offer(struct lease_table *t, const uint8_t mac[6],
			  uint32_t want, uint64_t now)
{
	struct lease *l = lease_by_mac(t, mac);

	if (l) {
		if (l->state != LEASE_ACTIVE)
			lease_set(l, mac, LEASE_OFFERED, now + NETD_OFFER_SECONDS);
		return l;
	}
	l = lease_pick_free(t, want);
	if (!l)
		l = lease_pick_reclaim(t, now);
	if (l)
		lease_set(l, mac, LEASE_OFFERED, now + NETD_OFFER_SECONDS);
	return l;
}

/* Bind an address on ACK; see lease.h. */
struct lease *lease_bind(struct lease_table *t, const uint8_t mac[6],
			 uint32_t addr, uint64_t now)
{
	struct lease *mine = lease_by_mac(t, mac);
	struct lease *l = lease_by_addr(t, addr);

	if (!l || (mine && mine != l) || (!mine && l->state != LEASE_FREE))
		return NULL;
	lease_set(l, mac, LEASE_ACTIVE, now + NETD_LEASE_SECONDS);
	return l;
}

/* RELEASE; see lease.h. */
int lease_release(struct lease_table *t, const uint8_t mac[6], uint32_t addr)
{
	struct lease *l = lease_by_mac(t, mac);

	if (!l || l->addr != addr)
		return -ENOENT;
	l->state = LEASE_RELEASED;
	return 0;
}

/* DECLINE; see lease.h. */
int lease_decline(struct lease_table *t, const uint8_t mac[6], uint32_t addr,
		  uint64_t now)
{
	struct lease *l = lease_by_mac(t, mac);

	if (!l || l->addr != addr)
		return -ENOENT;
	lease_set(l, lease_zero_mac, LEASE_DECLINED, now + NETD_LEASE_SECONDS);
	return 0;
}

/* Is a binding in use; see lease.h. */
int lease_is_live(const struct lease *l, uint64_t now)
{
	return l->state == LEASE_ACTIVE && l->expires > now;
}

/* Is a binding another MAC's; see lease.h. */
int lease_taken(const struct lease *l, const uint8_t mac[6], uint64_t now)
{
	return (l->state == LEASE_ACTIVE || l->state == LEASE_OFFERED) &&
	       l->expires > now && memcmp(l->mac, mac, 6) != 0;
}

/* Is a binding an existing guest's; see lease.h. */
int lease_held_by_guest(const struct lease *l, const uint8_t mac[6], uint64_t now,
			const uint8_t (*guests)[6], uint32_t n)
{
	uint32_t i;

	if (!lease_taken(l, mac, now))
		return 0;
	for (i = 0; i < n; i++) {
		if (memcmp(guests[i], l->mac, 6) == 0)
			return 1;
	}
	return 0;
}

/* Take over a migrated guest's address; see lease.h. */
struct lease *lease_adopt(struct lease_table *t, const uint8_t mac[6], uint32_t addr,
			  uint64_t now, const uint8_t (*guests)[6], uint32_t n)
{
	struct lease *l = lease_by_addr(t, addr);
	struct lease *mine = lease_by_mac(t, mac);

	if (!l || lease_held_by_guest(l, mac, now, guests, n))
		return NULL;
	if (mine && mine != l)
		lease_set(mine, lease_zero_mac, LEASE_FREE, 0);
	lease_set(l, mac, LEASE_ACTIVE, now + NETD_LEASE_SECONDS);
	return l;
}

/* Count bindings; see lease.h. */
uint32_t lease_count(const struct lease_table *t)
{
	uint32_t i, n = 0;

	for (i = 0; i < NETD_POOL_SIZE; i++)
		n += t->slots[i].state != LEASE_FREE;
	return n;
}

static const char *const lease_state_names[] = {
	[LEASE_FREE] = "free",
	[LEASE_OFFERED] = "offered",
	[LEASE_ACTIVE] = "active",
	[LEASE_RELEASED] = "released",
	[LEASE_DECLINED] = "declined",
};

/* State name; see lease.h. */
const char *lease_state_name(enum lease_state s)
{
	if ((unsigned int)s >= sizeof(lease_state_names) /
			       sizeof(lease_state_names[0]))
		return "?";
	return lease_state_names[s];
}

/* Format one binding as a line into @buf. Returns the length or -ENOSPC. */
static int lease_format_one(const struct lease *l, char *buf, size_t len)
{
	char mac[NETNAMES_MAC_TEXT_BYTES];
	int n;

	netnames_mac_format(l->mac, mac);
	n = snprintf(buf, len, "%s %u.%u.%u.%u %" PRIu64 " %s\n", mac,
		     l->addr >> 24, (l->addr >> 16) & 0xFF, (l->addr >> 8) & 0xFF,
		     l->addr & 0xFF, l->expires, lease_state_name(l->state));
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* Format the table; see lease.h. */
int lease_format(const struct lease_table *t, char *buf, size_t len)
{
	size_t used;
	uint32_t i;
	int n;

	n = snprintf(buf, len, "# keel netd leases: <mac> <address> "
		     "<expires, s since 1970> <state>\n");
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	used = (size_t)n;
	for (i = 0; i < NETD_POOL_SIZE; i++) {
		if (t->slots[i].state == LEASE_FREE)
			continue;
		n = lease_format_one(&t->slots[i], buf + used, len - used);
		if (n < 0)
			return n;
		used += (size_t)n;
	}
	return (int)used;
}

/* The state called @s, or -1. */
static int lease_state_parse(const char *s)
{
	uint32_t i;

	for (i = LEASE_OFFERED; i <= LEASE_DECLINED; i++) {
		if (strcmp(s, lease_state_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

/* Parse one line @line into @out. Returns 0 or -EINVAL. */
static int lease_parse_line(const char *line, struct lease *out)
{
	char mac[24], addr[24], expires[24], state[16], extra[2];
	struct in_addr in;
	char *end;
	int st;

	if (sscanf(line, "%23s %23s %23s %15s %1s", mac, addr, expires, state,
		   extra) != 4)
		return -EINVAL;
	st = lease_state_parse(state);
	if (netnames_mac_parse(mac, out->mac) || st < 0 ||
	    inet_pton(AF_INET, addr, &in) != 1 || expires[0] < '0' ||
	    expires[0] > '9')
		return -EINVAL;
	errno = 0;
	out->expires = strtoull(expires, &end, 10);
	if (*end || errno)
		return -EINVAL;
	out->addr = ntohl(in.s_addr);
	out->state = (enum lease_state)st;
	if ((st == LEASE_DECLINED) != (memcmp(out->mac, lease_zero_mac, 6) == 0))
		return -EINVAL;
	return 0;
}

/* Store the parsed binding @l in @t unless it clashes. 0 or -EINVAL. */
static int lease_load_one(struct lease_table *t, const struct lease *l)
{
	struct lease *slot = lease_by_addr(t, l->addr);

	if (!slot || slot->state != LEASE_FREE)
		return -EINVAL;
	if (l->state != LEASE_DECLINED && lease_by_mac(t, l->mac))
		return -EINVAL;
	lease_set(slot, l->mac, l->state, l->expires);
	return 0;
}

/* Load the text form; see lease.h. */
uint32_t lease_parse(struct lease_table *t, const char *text, size_t len,
		     uint32_t *bad)
{
	char line[LEASE_LINE_MAX_BYTES + 1];
	struct lease l;
	size_t pos = 0, end, n;
	uint32_t loaded = 0;

	lease_init(t);
	while (pos < len) {
		for (end = pos; end < len && text[end] != '\n'; end++)
			;
		n = end - pos;
		pos = end + 1;
		if (n < sizeof(line)) {
			memcpy(line, text + end - n, n);
			line[n] = '\0';
			if (line[strspn(line, " \t\r")] == '\0' || line[0] == '#')
				continue;
			if (lease_parse_line(line, &l) == 0 &&
			    lease_load_one(t, &l) == 0) {
				loaded++;
				continue;
			}
		}
		if (bad)
			(*bad)++;
	}
	return loaded;
}
