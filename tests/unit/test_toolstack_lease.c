/*
 * Host unit tests of the lease table of `keel netd` (toolstack/lease.c):
 * sticky addresses (the same MAC always gets the same address, also after
 * RELEASE), the requested address being honoured when free, binding
 * rules, DECLINE, pool exhaustion and reclaiming released / expired
 * bindings, and the text format: save/load round trip and rejection of
 * bad lines (bad MAC or address, outside the pool, duplicates, bad
 * state). The sources are #included so static helpers are visible.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/core/fileio.c"
#include "../../toolstack/netd/netnames.c"
#include "../../toolstack/netd/lease.c"

#include "harness.h"

#define NOW 1700000000ull
#define IP(d) (0x0A4D0000u | (d))

/* A MAC address made from @n (locally administered, unicast). */
static void mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x4b;
	mac[2] = 0x45;
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

/* Offer, then bind, the address for MAC number @n; returns the address. */
static uint32_t take(struct lease_table *t, uint32_t n, uint64_t now)
{
	uint8_t mac[6];
	struct lease *l;

	mac_of(n, mac);
	l = lease_offer(t, mac, 0, now);
	if (!l)
		return 0;
	l = lease_bind(t, mac, l->addr, now);
	return l ? l->addr : 0;
}

/* A new table is empty; the first offers go from the bottom of the pool. */
static void test_offer_basic(void)
{
	static struct lease_table t;
	uint8_t a[6], b[6];
	struct lease *l;

	lease_init(&t);
	CHECK_EQ_INT(lease_count(&t), 0);
	CHECK_EQ_U64(NETD_POOL_SIZE, 241);
	mac_of(1, a);
	mac_of(2, b);
	CHECK(lease_by_mac(&t, a) == NULL);
	l = lease_offer(&t, a, 0, NOW);
	CHECK(l != NULL);
	CHECK_EQ_U64(l->addr, IP(10));
	CHECK_EQ_INT(l->state, LEASE_OFFERED);
	CHECK_EQ_U64(l->expires, NOW + NETD_OFFER_SECONDS);
	CHECK(lease_offer(&t, a, 0, NOW + 5) == l);
	CHECK_EQ_U64(l->expires, NOW + 5 + NETD_OFFER_SECONDS);
	l = lease_offer(&t, b, 0, NOW);
	CHECK_EQ_U64(l->addr, IP(11));
	CHECK_EQ_INT(lease_count(&t), 2);
	CHECK(lease_by_addr(&t, IP(9)) == NULL);
	CHECK(lease_by_addr(&t, IP(251)) == NULL);
	CHECK(lease_by_addr(&t, IP(250)) != NULL);
	CHECK(lease_by_addr(&t, IP(10)) == lease_by_mac(&t, a));
}

/* The client's requested address is used when it is free. */
static void test_offer_requested(void)
{
	static struct lease_table t;
	uint8_t a[6], b[6], c[6];

	lease_init(&t);
	mac_of(1, a);
	mac_of(2, b);
	mac_of(3, c);
	CHECK_EQ_U64(lease_offer(&t, a, IP(100), NOW)->addr, IP(100));
	/* taken: lowest free instead */
	CHECK_EQ_U64(lease_offer(&t, b, IP(100), NOW)->addr, IP(10));
	/* outside the pool: ignored */
	CHECK_EQ_U64(lease_offer(&t, c, IP(5), NOW)->addr, IP(11));
	/* a MAC with a binding keeps it whatever it asks for */
	CHECK_EQ_U64(lease_offer(&t, a, IP(200), NOW)->addr, IP(100));
}

/* Binding rules of lease_bind(). */
static void test_bind(void)
{
	static struct lease_table t;
	uint8_t a[6], b[6];
	struct lease *l;

	lease_init(&t);
	mac_of(1, a);
	mac_of(2, b);
	l = lease_offer(&t, a, 0, NOW);
	CHECK(lease_bind(&t, a, IP(11), NOW) == NULL); /* not its address */
	CHECK(lease_bind(&t, a, IP(10), NOW) == l);
	CHECK_EQ_INT(l->state, LEASE_ACTIVE);
	CHECK_EQ_U64(l->expires, NOW + NETD_LEASE_SECONDS);
	CHECK(lease_is_live(l, NOW));
	CHECK(lease_is_live(l, NOW + NETD_LEASE_SECONDS - 1));
	CHECK(!lease_is_live(l, NOW + NETD_LEASE_SECONDS));
	CHECK(lease_bind(&t, b, IP(10), NOW) == NULL); /* someone else's */
	CHECK(lease_bind(&t, b, IP(9), NOW) == NULL);  /* outside the pool */
	l = lease_bind(&t, b, IP(50), NOW);            /* free: taken */
	CHECK(l != NULL && l->addr == IP(50));
	CHECK(lease_by_mac(&t, b) == l);
	/* an offered binding is not live */
	mac_of(3, a);
	CHECK(!lease_is_live(lease_offer(&t, a, 0, NOW), NOW));
}

/* A guest that migrated here keeps its address (lease_adopt) unless
 * another guest that exists here holds it; its old binding here, if any,
 * is freed, and a lease left by a guest destroyed since is taken over. */
static void test_adopt(void)
{
	static struct lease_table t;
	uint8_t a[6], b[6], c[6], guests[3][6];
	struct lease *l;

	lease_init(&t);
	mac_of(1, a);
	mac_of(2, b);
	mac_of(3, c);
	memcpy(guests[0], a, 6);
	memcpy(guests[1], b, 6);
	memcpy(guests[2], c, 6);
	l = lease_adopt(&t, a, IP(20), NOW, guests, 3);
	CHECK(l != NULL && l->addr == IP(20) && lease_is_live(l, NOW));
	CHECK(lease_by_mac(&t, a) == l);
	CHECK(lease_adopt(&t, b, IP(20), NOW, guests, 3) == NULL);   /* a holds it */
	CHECK(lease_taken(l, b, NOW));
	CHECK(lease_held_by_guest(l, b, NOW, guests, 3));
	CHECK(!lease_taken(l, a, NOW));                    /* its own */
	CHECK(!lease_held_by_guest(l, a, NOW, guests, 3));
	CHECK(!lease_taken(l, b, NOW + NETD_LEASE_SECONDS)); /* expired */
	CHECK(lease_adopt(&t, b, IP(9), NOW, guests, 3) == NULL);    /* not in the pool */
	/* an offer is held too, until it runs out */
	l = lease_offer(&t, b, IP(30), NOW);
	CHECK(l && l->addr == IP(30));
	CHECK(lease_adopt(&t, c, IP(30), NOW, guests, 3) == NULL);
	CHECK(lease_adopt(&t, c, IP(30), NOW + NETD_OFFER_SECONDS, guests, 3) != NULL);
	CHECK(lease_by_mac(&t, b) == NULL || lease_by_mac(&t, b)->addr != IP(30));
	/* a moves: its binding of 20 is freed, 21 is its own now */
	l = lease_adopt(&t, a, IP(21), NOW, guests, 3);
	CHECK(l && lease_by_mac(&t, a) == l);
	CHECK_EQ_INT(lease_by_addr(&t, IP(20))->state, LEASE_FREE);
	/* a released address may be taken */
	CHECK_EQ_INT(lease_release(&t, a, IP(21)), 0);
	CHECK(lease_adopt(&t, b, IP(21), NOW, guests, 3) != NULL);
	/* c's live lease of 30, once c is destroyed (not among the guests),
	 * goes to a guest that arrives with 30 */
	CHECK(lease_held_by_guest(lease_by_addr(&t, IP(30)), a, NOW, guests, 3));
	CHECK(!lease_held_by_guest(lease_by_addr(&t, IP(30)), a, NOW, guests, 2));
	l = lease_adopt(&t, a, IP(30), NOW, guests, 2);
	CHECK(l && l->addr == IP(30) && lease_by_mac(&t, a) == l);
	CHECK(lease_by_mac(&t, c) == NULL);
}

/* RELEASE keeps the address for the MAC; DECLINE takes it out. */
static void test_release_decline(void)
{
	static struct lease_table t;
	uint8_t a[6], b[6], zero[6] = { 0 };
	struct lease *l;

	lease_init(&t);
	mac_of(1, a);
	mac_of(2, b);
	CHECK_EQ_U64(take(&t, 1, NOW), IP(10));
	CHECK_EQ_U64(take(&t, 2, NOW), IP(11));
	CHECK_EQ_INT(lease_release(&t, a, IP(11)), -ENOENT);
	CHECK_EQ_INT(lease_release(&t, a, IP(10)), 0);
	l = lease_by_addr(&t, IP(10));
	CHECK_EQ_INT(l->state, LEASE_RELEASED);
	CHECK(!lease_is_live(l, NOW));
	/* another client does not get it while free addresses remain */
	CHECK_EQ_U64(take(&t, 3, NOW), IP(12));
	/* the releaser gets it back */
	CHECK_EQ_U64(lease_offer(&t, a, 0, NOW)->addr, IP(10));
	CHECK_EQ_INT(lease_by_addr(&t, IP(10))->state, LEASE_OFFERED);

	CHECK_EQ_INT(lease_decline(&t, b, IP(10), NOW), -ENOENT);
	CHECK_EQ_INT(lease_decline(&t, b, IP(11), NOW), 0);
	l = lease_by_addr(&t, IP(11));
	CHECK_EQ_INT(l->state, LEASE_DECLINED);
	CHECK(memcmp(l->mac, zero, 6) == 0);
	CHECK(lease_by_mac(&t, b) == NULL);
	l = lease_offer(&t, b, IP(11), NOW);
	CHECK(l && l->addr == IP(13));
	/* a zero MAC never finds the declined slot */
	CHECK(lease_by_mac(&t, zero) == NULL);
}

/* The same MACs always get the same addresses, in any order. */
static void test_sticky(void)
{
	static struct lease_table t;
	uint32_t first[50], i, ok = 1;
	uint8_t mac[6];

	lease_init(&t);
	for (i = 0; i < 50; i++)
		first[i] = take(&t, 1000 + i, NOW);
	for (i = 0; i < 50; i++) {
		uint32_t k = (i * 17) % 50;

		mac_of(1000 + k, mac);
		lease_release(&t, mac, first[k]);
	}
	for (i = 0; i < 500; i++) {
		uint32_t k = (uint32_t)harness_rand_below(50);
		struct lease *l;

		mac_of(1000 + k, mac);
		l = lease_offer(&t, mac, IP(10 + (uint32_t)harness_rand_below(241)),
				NOW + i);
		if (!l || l->addr != first[k] ||
		    lease_bind(&t, mac, first[k], NOW + i) != l)
			ok = 0;
	}
	CHECK(ok);
	CHECK_EQ_INT(lease_count(&t), 50);
}

/* A full pool: no address, until one is released or expires. */
static void test_exhaustion(void)
{
	static struct lease_table t;
	uint8_t mac[6], late[6];
	uint32_t i, ok = 1;
	struct lease *l;

	lease_init(&t);
	for (i = 0; i < NETD_POOL_SIZE; i++)
		ok &= take(&t, i, NOW + i) == IP(10 + i);
	CHECK(ok);
	CHECK_EQ_INT(lease_count(&t), NETD_POOL_SIZE);
	mac_of(5000, late);
	CHECK(lease_offer(&t, late, 0, NOW + 300) == NULL);
	CHECK(lease_bind(&t, late, IP(100), NOW + 300) == NULL);
	/* a release makes room for the newcomer */
	mac_of(7, mac);
	CHECK_EQ_INT(lease_release(&t, mac, IP(17)), 0);
	l = lease_offer(&t, late, 0, NOW + 300);
	CHECK(l && l->addr == IP(17));
	CHECK(lease_bind(&t, late, IP(17), NOW + 300) == l);
	CHECK(lease_by_mac(&t, mac) == NULL);
	/* the old holder now finds nothing */
	CHECK(lease_offer(&t, mac, 0, NOW + 301) == NULL);
	/* once leases expire, the one that expired first goes */
	l = lease_offer(&t, mac, 0, NOW + NETD_LEASE_SECONDS + 5);
	CHECK(l && l->addr == IP(10));
	mac_of(0, late);
	CHECK(lease_by_mac(&t, late) == NULL);
}

/* Fill @t with one binding of each state. */
static void fill_states(struct lease_table *t)
{
	uint8_t mac[6];

	lease_init(t);
	take(t, 1, NOW);                       /* .10 active */
	mac_of(2, mac);
	lease_offer(t, mac, IP(250), NOW);     /* .250 offered */
	take(t, 3, NOW);                       /* .11 released */
	mac_of(3, mac);
	lease_release(t, mac, IP(11));
	take(t, 4, NOW);                       /* .12 declined */
	mac_of(4, mac);
	lease_decline(t, mac, IP(12), NOW);
}

/* Save and load give the same table and the same text. */
static void test_round_trip(void)
{
	static struct lease_table t, u;
	static char text[LEASE_TEXT_MAX_BYTES], again[LEASE_TEXT_MAX_BYTES];
	uint32_t bad = 0, i;
	int len;

	fill_states(&t);
	len = lease_format(&t, text, sizeof(text));
	CHECK(len > 0);
	CHECK(strstr(text, "02:4b:45:00:00:01 10.77.0.10 1700003600 active\n"));
	CHECK(strstr(text, "02:4b:45:00:00:02 10.77.0.250 1700000060 offered\n"));
	CHECK(strstr(text, "02:4b:45:00:00:03 10.77.0.11 1700003600 released\n"));
	CHECK(strstr(text, "00:00:00:00:00:00 10.77.0.12 1700003600 declined\n"));
	CHECK_EQ_INT(lease_parse(&u, text, (size_t)len, &bad), 4);
	CHECK_EQ_INT(bad, 0);
	CHECK(memcmp(&t, &u, sizeof(t)) == 0);
	CHECK_EQ_INT(lease_format(&u, again, sizeof(again)), len);
	CHECK_EQ_STR(again, text);
	/* a full table fits the documented size */
	lease_init(&t);
	for (i = 0; i < NETD_POOL_SIZE; i++)
		take(&t, 0xFFFF00 + i, 9999999999999990000ull);
	len = lease_format(&t, text, sizeof(text));
	CHECK(len > 0);
	CHECK_EQ_INT(lease_parse(&u, text, (size_t)len, &bad), NETD_POOL_SIZE);
	CHECK(memcmp(&t, &u, sizeof(t)) == 0);
	/* too small a buffer */
	CHECK_EQ_INT(lease_format(&t, text, 100), -ENOSPC);
	CHECK_EQ_INT(lease_format(&t, text, 10), -ENOSPC);
}

/* Bad lines are skipped and counted; good ones around them load. */
static void test_parse_bad(void)
{
	static struct lease_table t;
	static const char *const bad_lines[] = {
		"02:4b:45:00:00:01 10.77.0.20 100 bogus",      /* state */
		"02:4b:45:00:00:0g 10.77.0.21 100 active",     /* MAC */
		"02:4b:45:00:00:01: 10.77.0.22 100 active",    /* MAC */
		"02:4b:45:00:00 10.77.0.23 100 active",        /* MAC */
		"02:4b:45:00:00:02 10.77.0.300 100 active",    /* address */
		"02:4b:45:00:00:02 10.77.0.9 100 active",      /* outside pool */
		"02:4b:45:00:00:02 192.168.0.20 100 active",   /* outside pool */
		"02:4b:45:00:00:02 10.77.0.24 -1 active",      /* expires */
		"02:4b:45:00:00:02 10.77.0.24 1x active",      /* expires */
		"02:4b:45:00:00:02 10.77.0.24 99999999999999999999999 active",
		"02:4b:45:00:00:02 10.77.0.24 100",            /* missing */
		"02:4b:45:00:00:02 10.77.0.24 100 active extra",
		"02:4b:45:00:00:02 10.77.0.10 100 active",     /* dup address */
		"02:4b:45:00:00:01 10.77.0.25 100 active",     /* dup MAC */
		"00:00:00:00:00:00 10.77.0.26 100 active",     /* zero, not declined */
		"02:4b:45:00:00:03 10.77.0.27 100 declined",   /* declined, a MAC */
		"garbage",
	};
	char text[4096], big[300];
	uint32_t bad = 0, i;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "# comment\n\n  \n"
			     "02:4B:45:00:00:01 10.77.0.10 100 active\r\n");
	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n",
				      bad_lines[i]);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n", big);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "00:00:00:00:00:00 10.77.0.30 100 declined\n"
			      "02:4b:45:00:00:05 10.77.0.31 100 released");
	CHECK_EQ_INT(lease_parse(&t, text, n, &bad), 3);
	CHECK_EQ_INT(bad, sizeof(bad_lines) / sizeof(bad_lines[0]) + 1);
	CHECK_EQ_INT(lease_by_addr(&t, IP(10))->state, LEASE_ACTIVE);
	CHECK_EQ_INT(lease_by_addr(&t, IP(30))->state, LEASE_DECLINED);
	CHECK_EQ_INT(lease_by_addr(&t, IP(31))->state, LEASE_RELEASED);
	CHECK_EQ_INT(lease_by_addr(&t, IP(20))->state, LEASE_FREE);
	/* loading empties the table first; no count pointer is fine */
	CHECK_EQ_INT(lease_parse(&t, "", 0, NULL), 0);
	CHECK_EQ_INT(lease_count(&t), 0);
	/* NUL bytes and no final newline */
	CHECK_EQ_INT(lease_parse(&t, "02:4b:45:00:00:01 10.77.0.10\0 1 active",
				 38, &bad), 0);
}

/* Random text never crashes the parser and what loads formats back. */
static void test_parse_random(void)
{
	static struct lease_table t, u;
	static char text[LEASE_TEXT_MAX_BYTES];
	char junk[512];
	uint32_t i, j, ok = 1;
	int len;

	for (i = 0; i < 20000; i++) {
		size_t n = (size_t)harness_rand_below(sizeof(junk));

		for (j = 0; j < n; j++) {
			static const char alpha[] = "0123456789abcdef:. \nactivedlr";

			junk[j] = harness_rand_below(4) ? alpha[harness_rand_below(
				sizeof(alpha) - 1)] : (char)harness_rand();
		}
		lease_parse(&t, junk, n, NULL);
		len = lease_format(&t, text, sizeof(text));
		if (len < 0 || lease_parse(&u, text, (size_t)len, NULL) !=
		    lease_count(&t) || memcmp(&t, &u, sizeof(t)) != 0)
			ok = 0;
	}
	CHECK(ok);
}

int main(void)
{
	test_offer_basic();
	test_offer_requested();
	test_bind();
	test_adopt();
	test_release_decline();
	test_sticky();
	test_exhaustion();
	test_round_trip();
	test_parse_bad();
	test_parse_random();
	return harness_done("test_toolstack_lease");
}
