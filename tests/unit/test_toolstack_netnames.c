/*
 * Host unit tests of the guests' name registry (toolstack/netnames.c):
 * MAC address text, the file text `keel create` writes (NIC 0 named
 * after the domain, NIC n "<name>-eth<n>"), its parser (comments, blank
 * lines, CRLF, bad lines counted, the entry limit), and the file
 * operations in a temporary directory: registering creates missing
 * directories and replaces files atomically, removing is idempotent, and
 * reading the directory skips temporary and odd files.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/core/fileio.c"
#include "../../toolstack/netd/netnames.c"

#include "harness.h"

static const uint8_t macs[3][6] = {
	{ 0x02, 0x4b, 0x45, 0x12, 0x34, 0x56 },
	{ 0x02, 0x4b, 0x45, 0xab, 0xcd, 0xef },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
};

/* MAC address text both ways. */
static void test_mac(void)
{
	char text[NETNAMES_MAC_TEXT_BYTES];
	uint8_t m[6];

	netnames_mac_format(macs[1], text);
	CHECK_EQ_STR(text, "02:4b:45:ab:cd:ef");
	CHECK_EQ_INT(netnames_mac_parse("02:4B:45:AB:cd:EF", m), 0);
	CHECK(memcmp(m, macs[1], 6) == 0);
	CHECK_EQ_INT(netnames_mac_parse("02:4b:45:ab:cd:ef tiny", m), 0);
	CHECK_EQ_INT(netnames_mac_parse("02:4b:45:ab:cd:e", m), -EINVAL);
	CHECK_EQ_INT(netnames_mac_parse("02:4b:45:ab:cd:efx", m), -EINVAL);
	CHECK_EQ_INT(netnames_mac_parse("02-4b-45-ab-cd-ef", m), -EINVAL);
	CHECK_EQ_INT(netnames_mac_parse("02:4b:45:ab:cd:eg", m), -EINVAL);
	CHECK_EQ_INT(netnames_mac_parse("2:4b:45:ab:cd:ef0", m), -EINVAL);
	CHECK_EQ_INT(netnames_mac_parse("", m), -EINVAL);
	CHECK(memcmp(m, macs[1], 6) == 0); /* untouched on failure */
}

/* The registry file text. */
static void test_format(void)
{
	char buf[256];

	CHECK_EQ_INT(netnames_format("tiny", macs, 3, buf, sizeof(buf)), 79);
	CHECK_EQ_STR(buf, "02:4b:45:12:34:56 tiny\n"
			  "02:4b:45:ab:cd:ef tiny-eth1\n"
			  "02:00:00:00:00:01 tiny-eth2\n");
	CHECK_EQ_INT(netnames_format("tiny", macs, 0, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "");
	CHECK_EQ_INT(netnames_format("tiny", macs, 2, buf, 30), -ENOSPC);
	CHECK_EQ_INT(netnames_format("", macs, 1, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(netnames_format(".", macs, 1, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(netnames_format("..", macs, 1, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(netnames_format("a/b", macs, 1, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(netnames_format("a b", macs, 1, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(netnames_format("0123456789012345678901234567890123",
				     macs, 1, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ_INT(netnames_format("web.prod_2-x", macs, 1, buf, sizeof(buf)),
		     31);
	CHECK(netnames_hostname_ok("a"));
	CHECK(!netnames_hostname_ok("a#tmp"));
}

/* The parser. */
static void test_parse(void)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"02:4b:45:12:34:56 tiny\r\n"
		"02:4b:45:ab:cd:ef   tiny-eth1  \n"
		"02:4b:45:ab:cd:ef\n"                /* no hostname */
		"02:4b:45:ab:cd:ef a b\n"            /* two words */
		"02:4b:45:ab:cd:ef bad!name\n"
		"zz:4b:45:ab:cd:ef x\n"
		"02:4b:45:ab:cd:ef "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		"02:00:00:00:00:01\tlast";
	struct netnames_entry e[8];
	uint32_t bad = 0;

	CHECK_EQ_INT(netnames_parse(text, sizeof(text) - 1, e, 8, &bad), 3);
	CHECK_EQ_INT(bad, 5);
	CHECK_EQ_STR(e[0].hostname, "tiny");
	CHECK(memcmp(e[0].mac, macs[0], 6) == 0);
	CHECK_EQ_STR(e[1].hostname, "tiny-eth1");
	CHECK_EQ_STR(e[2].hostname, "last");
	CHECK(memcmp(e[2].mac, macs[2], 6) == 0);
	CHECK_EQ_INT(netnames_parse(text, sizeof(text) - 1, e, 1, NULL), 1);
	CHECK_EQ_INT(netnames_parse(text, 0, e, 8, NULL), 0);
}

/* Read the file @dir/@name into @buf; its length or -1. */
static int slurp(const char *dir, const char *name, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

/* Register, read back, remove, in a temporary directory. */
static void test_files(void)
{
	char base[] = "/tmp/keel-netnames-XXXXXX", dir[256], text[256], path[300];
	struct netnames_entry e[8];
	FILE *f;

	if (!mkdtemp(base)) {
		CHECK(0);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/net/names", base);
	CHECK_EQ_INT(netnames_read_dir(dir, e, 8, NULL), 0); /* missing: empty */
	CHECK_EQ_INT(netnames_add_in(dir, "tiny", macs, 2), 0);
	CHECK_EQ_INT(slurp(dir, "tiny", text, sizeof(text)), 51);
	CHECK_EQ_STR(text, "02:4b:45:12:34:56 tiny\n02:4b:45:ab:cd:ef tiny-eth1\n");
	CHECK_EQ_INT(netnames_add_in(dir, "web", macs + 2, 1), 0);
	/* a leftover temporary file and a dot file are not read */
	snprintf(path, sizeof(path), "%s/tiny" NETNAMES_TMP_SUFFIX, dir);
	f = fopen(path, "w");
	if (f) {
		fputs("02:00:00:00:00:09 ghost\n", f);
		fclose(f);
	}
	CHECK_EQ_INT(netnames_read_dir(dir, e, 8, NULL), 3);
	CHECK_EQ_INT(netnames_read_dir(dir, e, 2, NULL), 2);
	/* re-registering replaces the file */
	CHECK_EQ_INT(netnames_add_in(dir, "tiny", macs, 1), 0);
	CHECK_EQ_INT(netnames_read_dir(dir, e, 8, NULL), 2);
	CHECK_EQ_INT(netnames_add_in(dir, "..", macs, 1), -EINVAL);
	CHECK_EQ_INT(netnames_remove_in(dir, "tiny"), 0);
	CHECK_EQ_INT(netnames_remove_in(dir, "tiny"), 0); /* idempotent */
	CHECK_EQ_INT(slurp(dir, "tiny", text, sizeof(text)), -1);
	CHECK_EQ_INT(netnames_read_dir(dir, e, 8, NULL), 1);
	CHECK_EQ_STR(e[0].hostname, "web");
	CHECK_EQ_INT(netnames_remove_in(dir, "../x"), -EINVAL);
	/* keel rename: the file moves and its hostnames follow */
	CHECK_EQ_INT(netnames_add_in(dir, "tiny", macs, 2), 0);
	CHECK_EQ_INT(netnames_rename_in(dir, "tiny", "tiny.old"), 0);
	CHECK_EQ_INT(slurp(dir, "tiny", text, sizeof(text)), -1);
	CHECK_EQ_INT(slurp(dir, "tiny.old", text, sizeof(text)), 59);
	CHECK_EQ_STR(text, "02:4b:45:12:34:56 tiny.old\n02:4b:45:ab:cd:ef tiny.old-eth1\n");
	CHECK_EQ_INT(netnames_rename_in(dir, "nonic", "x"), 0); /* no file: nothing */
	CHECK_EQ_INT(slurp(dir, "x", text, sizeof(text)), -1);
	CHECK_EQ_INT(netnames_rename_in(dir, "tiny.old", "../x"), -EINVAL);
	CHECK_EQ_INT(netnames_remove_in(dir, "tiny.old"), 0);
	CHECK_EQ_INT(netnames_remove_in(dir, "web"), 0);
	CHECK_EQ_INT(netnames_read_dir(dir, e, 8, NULL), 0);
	/* a file where the directory should be */
	snprintf(path, sizeof(path), "%s/file", base);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	snprintf(dir, sizeof(dir), "%s/file/names", base);
	CHECK(netnames_add_in(dir, "tiny", macs, 1) < 0);
	CHECK_EQ_INT(netnames_read_dir(dir, e, 8, NULL), -ENOTDIR);
	/* clean up */
	unlink(path);
	snprintf(path, sizeof(path), "%s/net/names/tiny" NETNAMES_TMP_SUFFIX,
		 base);
	unlink(path);
	snprintf(path, sizeof(path), "%s/net/names", base);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/net", base);
	rmdir(path);
	CHECK_EQ_INT(rmdir(base), 0);
}

int main(void)
{
	test_mac();
	test_format();
	test_parse();
	test_files();
	return harness_done("test_toolstack_netnames");
}
