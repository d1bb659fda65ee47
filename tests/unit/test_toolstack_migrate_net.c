/*
 * Unit tests for toolstack/cli/migrate_net.c, the addresses that go with
 * a migrating guest: the ADDRESSES line's text both ways (and bad text
 * refused), the lookup of a guest's MACs in a netd lease file (only live
 * leases), the target's check that no other guest holds an address, and
 * the files left for the target's netd to adopt.
 */
#define _GNU_SOURCE
#include "../../toolstack/cli/migrate_net.c"
#include "../../toolstack/netd/lease.c"
#include "../../toolstack/netd/netnames.c"
#include "../../toolstack/core/fileio.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define IP(d) (0x0A4D0000u | (d))

static char dir[] = "/tmp/keel-mnet-XXXXXX";
static char leases[256];

static const uint8_t mac_a[6] = { 0x02, 0x4b, 0x45, 0x3e, 0x91, 0x07 };
static const uint8_t mac_b[6] = { 0x02, 0x4b, 0x45, 0xc2, 0x10, 0x5d };
static const uint8_t mac_c[6] = { 0x02, 0x4b, 0x45, 0x00, 0x00, 0x0c };

static void write_leases(const char *text)
{
	FILE *f = fopen(leases, "w");

	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* Register guest @name's NICs (registry text @text) in the test's netd
 * directory, as keel create does; NULL text removes it. */
static void write_names(const char *name, const char *text)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/names", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/names/%s", dir, name);
	if (!text) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_text(void)
{
	struct mnet m = { 0 }, back;
	char buf[MNET_TEXT_BYTES];

	mnet_format(&m, buf, sizeof(buf));
	CHECK(strcmp(buf, "-") == 0);
	CHECK_EQ_INT(mnet_parse("-", &back), 0);
	CHECK_EQ_U64(back.n, 0);
	m.n = 2;
	memcpy(m.mac[0], mac_a, 6);
	memcpy(m.mac[1], mac_b, 6);
	m.addr[0] = IP(10);
	m.addr[1] = IP(250);
	mnet_format(&m, buf, sizeof(buf));
	CHECK(strcmp(buf, "02:4b:45:3e:91:07=10.77.0.10 02:4b:45:c2:10:5d=10.77.0.250") == 0);
	CHECK_EQ_INT(mnet_parse(buf, &back), 0);
	CHECK(back.n == 2 && memcmp(&back, &m, sizeof(m)) == 0);
	CHECK_EQ_INT(mnet_parse("", &back), 0);
	CHECK_EQ_U64(back.n, 0);
	CHECK_EQ_INT(mnet_parse("02:4b:45:3e:91:07", &back), -EINVAL);
	CHECK_EQ_INT(mnet_parse("02:4b:45:3e:91:07=", &back), -EINVAL);
	CHECK_EQ_INT(mnet_parse("02:4b:45:3e:91:07=10.77.0", &back), -EINVAL);
	CHECK_EQ_INT(mnet_parse("02:4b:45:3e:91:07=10.77.0.10x", &back), -EINVAL);
	CHECK_EQ_INT(mnet_parse("02:4b:45:3e:91:07=10.77.0.10,", &back), -EINVAL);
	CHECK_EQ_INT(mnet_parse("zz:4b:45:3e:91:07=10.77.0.10", &back), -EINVAL);
	CHECK_EQ_INT(mnet_parse("02:4b:45:3e:91:07=10.77.0.10 ", &back), -EINVAL);
	CHECK_EQ_INT(mnet_parse("02:4b:45:3e:91:07=1.2.3.4 02:4b:45:3e:91:07=1.2.3.4 "
				"02:4b:45:3e:91:07=1.2.3.4 02:4b:45:3e:91:07=1.2.3.4 "
				"02:4b:45:3e:91:07=1.2.3.4 02:4b:45:3e:91:07=1.2.3.4 "
				"02:4b:45:3e:91:07=1.2.3.4 02:4b:45:3e:91:07=1.2.3.4 "
				"02:4b:45:3e:91:07=1.2.3.4", &back),
		     KEEL_DOMAIN_MAX_NICS >= 9 ? 0 : -EINVAL);
}

static void test_lookup_check(void)
{
	const uint8_t macs[3][6] = { { 0x02, 0x4b, 0x45, 0x3e, 0x91, 0x07 },
				     { 0x02, 0x4b, 0x45, 0xc2, 0x10, 0x5d },
				     { 0x02, 0x4b, 0x45, 0x00, 0x00, 0x0c } };
	char text[512], err[256];
	uint64_t later = (uint64_t)time(NULL) + 3600;
	struct mnet m;

	/* no lease file: no addresses, nothing held */
	unlink(leases);
	CHECK_EQ_INT(mnet_lookup(macs, 3, dir, &m), 0);
	CHECK_EQ_U64(m.n, 0);
	snprintf(text, sizeof(text),
		 "02:4b:45:3e:91:07 10.77.0.10 %llu active\n"
		 "02:4b:45:c2:10:5d 10.77.0.11 %llu active\n"
		 "02:4b:45:00:00:0c 10.77.0.12 %llu offered\n",
		 (unsigned long long)later, 1000ull, (unsigned long long)later);
	write_leases(text);
	/* the guests that exist: a and b (c's lease is an offer) */
	write_names("a", "02:4b:45:3e:91:07 a\n02:4b:45:c2:10:5d a-eth1\n"
		    "02:4b:45:00:00:0c a-eth2\n");
	/* only the live, active one */
	CHECK_EQ_INT(mnet_lookup(macs, 3, dir, &m), 0);
	CHECK_EQ_U64(m.n, 1);
	CHECK(memcmp(m.mac[0], mac_a, 6) == 0 && m.addr[0] == IP(10));
	/* on a target with the same table: a's own address is no clash */
	CHECK_EQ_INT(mnet_check(&m, dir, err, sizeof(err)), 0);
	/* c coming with 10.77.0.10 clashes with a, named by its MAC */
	memcpy(m.mac[0], mac_c, 6);
	CHECK_EQ_INT(mnet_check(&m, dir, err, sizeof(err)), -EADDRINUSE);
	CHECK(strstr(err, "10.77.0.10") && strstr(err, "02:4b:45:3e:91:07"));
	/* an expired lease (b's 10.77.0.11) is no clash; an offer is */
	m.addr[0] = IP(11);
	CHECK_EQ_INT(mnet_check(&m, dir, err, sizeof(err)), 0);
	m.addr[0] = IP(12);
	memcpy(m.mac[0], mac_b, 6);
	CHECK_EQ_INT(mnet_check(&m, dir, err, sizeof(err)), -EADDRINUSE);
	/* a destroyed guest's lease is no clash: c's offer, once c is gone */
	write_names("a", "02:4b:45:3e:91:07 a\n");
	CHECK_EQ_INT(mnet_check(&m, dir, err, sizeof(err)), 0);
	m.addr[0] = IP(10);
	CHECK_EQ_INT(mnet_check(&m, dir, err, sizeof(err)), -EADDRINUSE); /* a is here */
}

static void test_arrived(void)
{
	char adopt[300], path[400], buf[64];
	struct mnet m = { 0 };
	FILE *f;

	snprintf(adopt, sizeof(adopt), "%s/adopt", dir);
	m.n = 1;
	memcpy(m.mac[0], mac_b, 6);
	m.addr[0] = IP(42);
	mnet_arrived(&m, dir, stdout);
	snprintf(path, sizeof(path), "%s/024b45c2105d", adopt);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(buf, sizeof(buf), f) != NULL);
		CHECK(strcmp(buf, "02:4b:45:c2:10:5d 10.77.0.42\n") == 0);
		fclose(f);
	}
	/* before netd takes it, the address is b's already: b leaves with it,
	 * and a guest arriving with it is refused */
	{
		const uint8_t macs[1][6] = { { 0x02, 0x4b, 0x45, 0xc2, 0x10, 0x5d } };
		struct mnet got, other = m;
		char err[256];

		write_names("b", "02:4b:45:c2:10:5d b\n");
		unlink(leases);
		CHECK_EQ_INT(mnet_lookup(macs, 1, dir, &got), 0);
		CHECK(got.n == 1 && got.addr[0] == IP(42));
		memcpy(other.mac[0], mac_a, 6);
		CHECK_EQ_INT(mnet_check(&other, dir, err, sizeof(err)), -EADDRINUSE);
		write_names("b", NULL);
	}
	unlink(path);
	rmdir(adopt);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	snprintf(leases, sizeof(leases), "%s/leases", dir);
	test_text();
	test_lookup_check();
	test_arrived();
	unlink(leases);
	{
		char names[400];

		write_names("a", NULL);
		snprintf(names, sizeof(names), "%s/names", dir);
		rmdir(names);
	}
	rmdir(dir);
	return harness_done("migrate_net");
}
