/*
 * The DHCP lease table of `keel netd`: which MAC address holds which
 * address of the pool NETD_POOL_FIRST..NETD_POOL_LAST. Bindings are
 * sticky: a MAC keeps its address for as long as the table exists (it is
 * saved to a text file and loaded again when netd starts), even after a
 * RELEASE; only when the pool has no free address left is the address of
 * a released, declined or expired binding given to someone else. Pure
 * code (no I/O; times are passed in, seconds since 1970) so that
 * tests/unit can test it on the host.
 *
 * Text format (one binding per line; '#' lines are comments):
 *   <mac aa:bb:cc:dd:ee:ff> <address a.b.c.d> <expires, seconds> <state>
 * with state offered, active, released or declined (a declined address
 * has the MAC 00:00:00:00:00:00).
 */
#ifndef KEEL_TOOLSTACK_LEASE_H
#define KEEL_TOOLSTACK_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "netd.h"

#define LEASE_LINE_MAX_BYTES 80u /* one formatted binding */
#define LEASE_TEXT_MAX_BYTES (64u + NETD_POOL_SIZE * LEASE_LINE_MAX_BYTES)

/* State of one pool address. */
enum lease_state {
	LEASE_FREE,     /* never given out (or reclaimed) */
	LEASE_OFFERED,  /* OFFERed, not yet REQUESTed */
	LEASE_ACTIVE,   /* ACKed */
	LEASE_RELEASED, /* the client RELEASEd it; still reserved for it */
	LEASE_DECLINED, /* a client found it in use (DECLINE): not given out */
};

/* One pool address and its binding. */
struct lease {
	uint32_t addr;          /* the address (host byte order) */
	uint8_t mac[6];         /* holder; zero for FREE and DECLINED */
	enum lease_state state;
	uint64_t expires;       /* seconds since 1970 */
};

/* The whole pool: slot i is address NETD_POOL_FIRST + i. */
struct lease_table {
	struct lease slots[NETD_POOL_SIZE];
};

/* Empty the table: every address FREE. */
void lease_init(struct lease_table *t);

/* The slot of pool address @addr, or NULL if @addr is not in the pool. */
struct lease *lease_by_addr(struct lease_table *t, uint32_t addr);

/*
 * The binding of @mac (OFFERED, ACTIVE or RELEASED), or NULL if it has
 * none.
 */
struct lease *lease_by_mac(struct lease_table *t, const uint8_t mac[6]);

/*
 * Find or make a binding for @mac, for an OFFER at time @now (RFC 2131
 * section 4.3.1): its existing binding if it has one (an ACTIVE one stays
 * as it is, any other becomes OFFERED again); else the address @want (the client's requested
 * address, 0 for none) if it is a FREE pool address; else the lowest FREE
 * address; else, when the pool is full, the released, declined or
 * expired binding that expired first. New bindings are OFFERED until
 * @now + NETD_OFFER_SECONDS. Returns the binding, or NULL if the pool is
 * exhausted.
 */
struct lease *lease_offer(struct lease_table *t, const uint8_t mac[6],
			  uint32_t want, uint64_t now);

/*
 * Bind @addr to @mac as ACTIVE until @now + NETD_LEASE_SECONDS (a
 * REQUEST being ACKed). Allowed if @addr is @mac's binding, or if @mac has
 * none and @addr is a FREE pool address. Returns the binding, or NULL if
 * the address may not be given to @mac (the caller NAKs).
 */
struct lease *lease_bind(struct lease_table *t, const uint8_t mac[6],
			 uint32_t addr, uint64_t now);

/*
 * @mac RELEASEs @addr (RFC 2131 section 4.3.4): its binding becomes
 * RELEASED (kept for it). Returns 0, or -ENOENT if @addr is not @mac's.
 */
int lease_release(struct lease_table *t, const uint8_t mac[6], uint32_t addr);

/*
 * @mac DECLINEs @addr because another host uses it (RFC 2131 section
 * 4.3.3): the address is marked DECLINED (not given out until @now +
 * NETD_LEASE_SECONDS, and then only if the pool is full) and @mac loses
 * it. Returns 0, or -ENOENT if @addr is not @mac's.
 */
int lease_decline(struct lease_table *t, const uint8_t mac[6], uint32_t addr,
		  uint64_t now);

/*
 * True if @l is an ACTIVE binding that has not expired at @now, i.e. its
 * holder may be using the address.
 */
int lease_is_live(const struct lease *l, uint64_t now);

/*
 * True if @l is held by a MAC other than @mac at @now: an ACTIVE or
 * OFFERED binding that has not expired. A guest that migrates here with
 * that address would clash with its holder.
 */
int lease_taken(const struct lease *l, const uint8_t mac[6], uint64_t now);

/*
 * True if @l is held by another MAC (lease_taken) that one of the @n
 * guests that exist here has (@guests: their MACs, from the name
 * registry). A lease left by a guest destroyed since is no clash.
 */
int lease_held_by_guest(const struct lease *l, const uint8_t mac[6], uint64_t now,
			const uint8_t (*guests)[6], uint32_t n);

/*
 * Bind pool address @addr to @mac, ACTIVE for a lease time from @now, for
 * a guest that arrived here holding it (keel migrate-receive): unless one
 * of the @n existing guests (@guests, their MACs) holds it
 * (lease_held_by_guest). A binding @mac had of another address is freed.
 * Returns the binding, or NULL (not a pool address, or held).
 */
struct lease *lease_adopt(struct lease_table *t, const uint8_t mac[6], uint32_t addr,
			  uint64_t now, const uint8_t (*guests)[6], uint32_t n);

/* Number of slots that are not FREE. */
uint32_t lease_count(const struct lease_table *t);

/* The text name of @s ("free", "offered", ...). */
const char *lease_state_name(enum lease_state s);

/*
 * Write the table in the text format to @buf (@len bytes, NUL-terminated;
 * LEASE_TEXT_MAX_BYTES always suffice). Returns the length or -ENOSPC.
 */
int lease_format(const struct lease_table *t, char *buf, size_t len);

/*
 * Load the text @text (@len bytes) into @t, which is emptied first. Lines
 * that do not parse, name an address outside the pool, or repeat an
 * address or a MAC already loaded are skipped and counted in *@bad (if
 * not NULL). Returns the number of bindings loaded.
 */
uint32_t lease_parse(struct lease_table *t, const char *text, size_t len,
		     uint32_t *bad);

#endif /* KEEL_TOOLSTACK_LEASE_H */
