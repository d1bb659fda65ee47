/*
 * Unit tests for hypervisor/common/cmdline.c: every option with good and
 * bad values, unknown options, blanks, the leading image file name, the
 * warning messages and counts, and parse_size.
 */
#include "../../hypervisor/common/vsnprintf.c"
#include "../../hypervisor/common/cmdline.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

#define MAX_WARNINGS 16

struct warnings {
	int count;
	char msg[MAX_WARNINGS][CMDLINE_WARN_MSG_BYTES];
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;

	if (w->count < MAX_WARNINGS)
		snprintf(w->msg[w->count], sizeof(w->msg[0]), "%s", msg);
	w->count++;
}

/* Parses line from defaults; returns cmdline_parse's result. */
static int parse(const char *line, struct hv_options *o, struct warnings *w)
{
	memset(w, 0, sizeof(*w));
	cmdline_defaults(o);
	return cmdline_parse(line, o, collect, w);
}

static bool is_default(const struct hv_options *o)
{
	struct hv_options d;

	cmdline_defaults(&d);
	return o->console == d.console && o->com1_baud == d.com1_baud &&
	       o->dom0_mem_bytes == d.dom0_mem_bytes &&
	       o->dom0_cpus == d.dom0_cpus &&
	       o->max_guest_cpus == d.max_guest_cpus && o->bsp == d.bsp &&
	       o->loglvl == d.loglvl && o->novirt == d.novirt;
}

static void test_defaults(void)
{
	struct hv_options o;
	struct warnings w;

	memset(&o, 0xAB, sizeof(o));
	cmdline_defaults(&o);
	CHECK_EQ_U64(o.console, HV_CONSOLE_COM1 | HV_CONSOLE_VGA);
	CHECK_EQ_U64(o.com1_baud, 115200);
	CHECK_EQ_U64(o.dom0_mem_bytes, 0);
	CHECK_EQ_U64(o.dom0_cpus, 0);
	CHECK_EQ_U64(o.max_guest_cpus, 0);
	CHECK_EQ_U64(o.bsp, HV_BSP_AUTO);
	CHECK_EQ_INT(o.loglvl, LOG_INFO);
	CHECK(!o.novirt);
	CHECK_EQ_INT(parse("", &o, &w), 0);
	CHECK(is_default(&o));
	CHECK_EQ_INT(parse("   \t  ", &o, &w), 0);
	CHECK(is_default(&o));
	cmdline_defaults(&o);
	CHECK_EQ_INT(cmdline_parse(NULL, &o, collect, &w), 0);
	CHECK(is_default(&o));
	/* A NULL callback is allowed; warnings are still counted. */
	cmdline_defaults(&o);
	CHECK_EQ_INT(cmdline_parse("bogus x=1", &o, NULL, NULL), 2);
}

static void test_all_options(void)
{
	struct hv_options o;
	struct warnings w;

	CHECK_EQ_INT(parse("console=com1 com1=9600,8n1 dom0_mem=512M "
			   "dom0_cpus=4 max_guest_cpus=8 loglvl=debug novirt",
			   &o, &w), 0);
	CHECK_EQ_U64(o.console, HV_CONSOLE_COM1);
	CHECK_EQ_U64(o.com1_baud, 9600);
	CHECK_EQ_U64(o.dom0_mem_bytes, 512ull << 20);
	CHECK_EQ_U64(o.dom0_cpus, 4);
	CHECK_EQ_U64(o.max_guest_cpus, 8);
	CHECK_EQ_INT(o.loglvl, LOG_DEBUG);
	CHECK(o.novirt);
	CHECK_EQ_INT(w.count, 0);

	/* Tabs, repeated blanks, trailing newline; later options win. */
	CHECK_EQ_INT(parse("\tloglvl=err  loglvl=warning\t\tconsole=vga\n",
			   &o, &w), 0);
	CHECK_EQ_INT(o.loglvl, LOG_WARN);
	CHECK_EQ_U64(o.console, HV_CONSOLE_VGA);
}

static void test_console(void)
{
	struct hv_options o;
	struct warnings w;

	CHECK_EQ_INT(parse("console=vga,com1", &o, &w), 0);
	CHECK_EQ_U64(o.console, HV_CONSOLE_COM1 | HV_CONSOLE_VGA);
	CHECK_EQ_INT(parse("console=none", &o, &w), 0);
	CHECK_EQ_U64(o.console, 0);
	CHECK_EQ_INT(parse("console=COM1", &o, &w), 0);
	CHECK_EQ_U64(o.console, HV_CONSOLE_COM1);
	CHECK_EQ_INT(parse("console=com1,serial", &o, &w), 1);
	CHECK_EQ_U64(o.console, HV_CONSOLE_COM1 | HV_CONSOLE_VGA);
	CHECK(strstr(w.msg[0], "console") != NULL);
	CHECK(strstr(w.msg[0], "'serial'") != NULL);
	CHECK(strstr(w.msg[0], "com1, vga or none") != NULL);
	CHECK_EQ_INT(parse("console=", &o, &w), 1);
	CHECK(is_default(&o));
	CHECK_EQ_INT(parse("console", &o, &w), 1);
	CHECK(is_default(&o));
	CHECK_EQ_INT(parse("console=com1,,vga", &o, &w), 1);
	CHECK(is_default(&o));
}

static void test_com1(void)
{
	struct hv_options o;
	struct warnings w;

	CHECK_EQ_INT(parse("com1=115200", &o, &w), 0);
	CHECK_EQ_U64(o.com1_baud, 115200);
	CHECK_EQ_INT(parse("com1=57600,8n1", &o, &w), 0);
	CHECK_EQ_U64(o.com1_baud, 57600);
	CHECK_EQ_INT(parse("com1=38400", &o, &w), 0);
	CHECK_EQ_U64(o.com1_baud, 38400);
	static const char *const bad[] = { "com1=fast", "com1=", "com1",
					   "com1=0", "com1=230400",
					   "com1=12345", "com1=-9600",
					   "com1=99999999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(parse(bad[i], &o, &w), 1);
		CHECK_EQ_U64(o.com1_baud, 115200);
		CHECK_MSG(strncmp(w.msg[0], "com1: bad baud rate", 19) == 0,
			  "%s -> %s", bad[i], w.msg[0]);
	}
}

static void test_dom0_mem(void)
{
	struct hv_options o;
	struct warnings w;

	CHECK_EQ_INT(parse("dom0_mem=1G", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_mem_bytes, 1ull << 30);
	CHECK_EQ_INT(parse("dom0_mem=2048m", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_mem_bytes, 2ull << 30);
	CHECK_EQ_INT(parse("dom0_mem=131072K", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_mem_bytes, 128ull << 20);
	CHECK_EQ_INT(parse("dom0_mem=1T", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_mem_bytes, 1ull << 40);
	CHECK_EQ_INT(parse("dom0_mem=max:768M", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_mem_bytes, 768ull << 20);
	CHECK_EQ_INT(parse("dom0_mem=1G,max:768M", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_mem_bytes, 768ull << 20);
	CHECK_EQ_INT(parse("dom0_mem=512M,max:1G", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_mem_bytes, 512ull << 20);
	CHECK_EQ_INT(parse("dom0_mem=67108864", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_mem_bytes, 64ull << 20);

	CHECK_EQ_INT(parse("dom0_mem=xyz", &o, &w), 1);
	CHECK_EQ_U64(o.dom0_mem_bytes, 0);
	CHECK_EQ_STR(w.msg[0], "dom0_mem: bad size 'xyz' (use e.g. 512M or "
			       "1G); using the default");
	static const char *const bad[] = {
		"dom0_mem=", "dom0_mem", "dom0_mem=1X", "dom0_mem=G",
		"dom0_mem=-512M", "dom0_mem=1.5G", "dom0_mem=max:",
		"dom0_mem=max:abc", "dom0_mem=0", "dom0_mem=16777216T",
		"dom0_mem=1G,,max:2G", "dom0_mem=min:1G",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_MSG(parse(bad[i], &o, &w) == 1, "%s", bad[i]);
		CHECK_EQ_U64(o.dom0_mem_bytes, 0);
		CHECK_MSG(strncmp(w.msg[0], "dom0_mem: bad size", 18) == 0,
			  "%s -> %s", bad[i], w.msg[0]);
	}
	CHECK_EQ_INT(parse("dom0_mem=32M", &o, &w), 1);
	CHECK_EQ_U64(o.dom0_mem_bytes, 0);
	CHECK(strstr(w.msg[0], "below the minimum") != NULL);
}

static void test_cpus(void)
{
	struct hv_options o;
	struct warnings w;

	CHECK_EQ_INT(parse("dom0_cpus=1", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_cpus, 1);
	CHECK_EQ_INT(parse("dom0_cpus=64", &o, &w), 0);
	CHECK_EQ_U64(o.dom0_cpus, 64);
	static const char *const bad_dom0[] = { "dom0_cpus=0", "dom0_cpus=65",
						"dom0_cpus=two", "dom0_cpus=",
						"dom0_cpus=4x", "dom0_cpus" };
	for (size_t i = 0; i < sizeof(bad_dom0) / sizeof(bad_dom0[0]); i++) {
		CHECK_EQ_INT(parse(bad_dom0[i], &o, &w), 1);
		CHECK_EQ_U64(o.dom0_cpus, 0);
		CHECK(strstr(w.msg[0], "dom0_cpus: bad value") == w.msg[0]);
		CHECK(strstr(w.msg[0], "1 to 64") != NULL);
	}
	CHECK_EQ_INT(parse("max_guest_cpus=0", &o, &w), 0);
	CHECK_EQ_U64(o.max_guest_cpus, 0);
	CHECK_EQ_INT(parse("max_guest_cpus=64", &o, &w), 0);
	CHECK_EQ_U64(o.max_guest_cpus, 64);
	CHECK_EQ_INT(parse("max_guest_cpus=65", &o, &w), 1);
	CHECK_EQ_U64(o.max_guest_cpus, 0);
	CHECK_EQ_INT(parse("max_guest_cpus=-1", &o, &w), 1);
	CHECK(strstr(w.msg[0], "max_guest_cpus") == w.msg[0]);
}

static void test_bsp(void)
{
	struct hv_options o;
	struct warnings w;

	CHECK_EQ_INT(parse("bsp=idle", &o, &w), 0);
	CHECK_EQ_U64(o.bsp, HV_BSP_IDLE);
	CHECK_EQ_INT(parse("bsp=dom0", &o, &w), 0);
	CHECK_EQ_U64(o.bsp, HV_BSP_DOM0);
	CHECK_EQ_INT(parse("bsp=idle bsp=auto", &o, &w), 0);
	CHECK_EQ_U64(o.bsp, HV_BSP_AUTO);
	CHECK_EQ_INT(parse("bsp=dom0 bsp=sleep", &o, &w), 1);
	CHECK_EQ_U64(o.bsp, HV_BSP_DOM0); /* a bad value keeps the last good one */
	CHECK(strstr(w.msg[0], "bsp: bad value 'sleep'") == w.msg[0]);
	CHECK(strstr(w.msg[0], "auto, dom0 or idle") != NULL);
	CHECK_EQ_INT(parse("bsp", &o, &w), 1);
	CHECK_EQ_U64(o.bsp, HV_BSP_AUTO);
}

static void test_loglvl(void)
{
	static const struct {
		const char *line;
		int level;
	} good[] = {
		{ "loglvl=err", LOG_ERR },	 { "loglvl=warning", LOG_WARN },
		{ "loglvl=info", LOG_INFO },	 { "loglvl=debug", LOG_DEBUG },
		{ "loglvl=all", LOG_DEBUG },	 { "loglvl=warn", LOG_WARN },
		{ "loglvl=all/warning", LOG_DEBUG },
	};
	struct hv_options o;
	struct warnings w;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_EQ_INT(parse(good[i].line, &o, &w), 0);
		CHECK_EQ_INT(o.loglvl, good[i].level);
	}
	CHECK_EQ_INT(parse("loglvl=verbose", &o, &w), 1);
	CHECK_EQ_INT(o.loglvl, LOG_INFO);
	CHECK(strstr(w.msg[0], "'verbose'") != NULL);
	CHECK(strstr(w.msg[0], "err, warning, info, debug or all") != NULL);
	CHECK_EQ_INT(parse("loglvl", &o, &w), 1);
}

static void test_novirt(void)
{
	struct hv_options o;
	struct warnings w;

	CHECK_EQ_INT(parse("novirt", &o, &w), 0);
	CHECK(o.novirt);
	CHECK_EQ_INT(parse("novirt=1", &o, &w), 0);
	CHECK(o.novirt);
	CHECK_EQ_INT(parse("novirt novirt=0", &o, &w), 0);
	CHECK(!o.novirt);
	CHECK_EQ_INT(parse("novirt=maybe", &o, &w), 1);
	CHECK(!o.novirt);
	CHECK(strstr(w.msg[0], "novirt") == w.msg[0]);
	/* "novirt" as first token has no '.' or '/': not an image name. */
	CHECK_EQ_INT(parse("novirt console=vga", &o, &w), 0);
	CHECK(o.novirt);
}

static void test_unknown_and_image(void)
{
	struct hv_options o;
	struct warnings w;

	CHECK_EQ_INT(parse("foo=1", &o, &w), 1);
	CHECK_EQ_STR(w.msg[0], "unknown option 'foo=1' ignored");
	CHECK(is_default(&o));
	CHECK_EQ_INT(parse("/keel.gz console=com1", &o, &w), 0);
	CHECK_EQ_U64(o.console, HV_CONSOLE_COM1);
	CHECK_EQ_INT(parse("keel.gz", &o, &w), 0);
	CHECK(is_default(&o));
	CHECK_EQ_INT(parse("/boot/keel", &o, &w), 0);
	/* Only the first token may be an image name. */
	CHECK_EQ_INT(parse("keel.gz other.gz", &o, &w), 1);
	CHECK_EQ_STR(w.msg[0], "unknown option 'other.gz' ignored");
	/* A first token with '=' is an option even with '.' in it. */
	CHECK_EQ_INT(parse("a.b=1", &o, &w), 1);
	/* A first bare word without '.' or '/' is an option. */
	CHECK_EQ_INT(parse("keel console=vga", &o, &w), 1);
	CHECK_EQ_STR(w.msg[0], "unknown option 'keel' ignored");
	CHECK_EQ_U64(o.console, HV_CONSOLE_VGA);
	/* Several problems: each warns, good options still apply. */
	CHECK_EQ_INT(parse("/keel.gz x y=2 dom0_cpus=2 loglvl=loud "
			   "dom0_mem=1G com1=fast", &o, &w), 4);
	CHECK_EQ_INT(w.count, 4);
	CHECK_EQ_U64(o.dom0_cpus, 2);
	CHECK_EQ_U64(o.dom0_mem_bytes, 1ull << 30);
	CHECK_EQ_INT(o.loglvl, LOG_INFO);
	/* Option names must match exactly. */
	CHECK_EQ_INT(parse("console_x=vga consol=vga dom0_mem2=1G", &o, &w), 3);
	/* A very long token is quoted shortened, without overflow. */
	char longtok[600];
	memset(longtok, 'z', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	CHECK_EQ_INT(parse(longtok, &o, &w), 1);
	CHECK(strlen(w.msg[0]) < CMDLINE_WARN_MSG_BYTES);
	CHECK(strstr(w.msg[0], "unknown option 'zzzz") == w.msg[0]);
}

static void test_parse_size(void)
{
	uint64_t v = 99;

	CHECK_EQ_INT(parse_size("0", 1, &v), 0);
	CHECK_EQ_U64(v, 0);
	CHECK_EQ_INT(parse_size("4096", 4, &v), 0);
	CHECK_EQ_U64(v, 4096);
	CHECK_EQ_INT(parse_size("4k", 2, &v), 0);
	CHECK_EQ_U64(v, 4096);
	CHECK_EQ_INT(parse_size("3M", 2, &v), 0);
	CHECK_EQ_U64(v, 3ull << 20);
	CHECK_EQ_INT(parse_size("2g", 2, &v), 0);
	CHECK_EQ_U64(v, 2ull << 30);
	CHECK_EQ_INT(parse_size("16T", 3, &v), 0);
	CHECK_EQ_U64(v, 16ull << 40);
	/* len bounds the string: "12M" read as "12". */
	CHECK_EQ_INT(parse_size("12M", 2, &v), 0);
	CHECK_EQ_U64(v, 12);
	CHECK_EQ_INT(parse_size("18446744073709551615", 20, &v), 0);
	CHECK_EQ_U64(v, UINT64_MAX);
	CHECK_EQ_INT(parse_size("16777215T", 9, &v), 0);
	CHECK_EQ_U64(v, 16777215ull << 40);
	v = 7;
	CHECK_EQ_INT(parse_size("18446744073709551616", 20, &v), -EINVAL);
	CHECK_EQ_INT(parse_size("16777216T", 9, &v), -EINVAL);
	CHECK_EQ_INT(parse_size("", 0, &v), -EINVAL);
	CHECK_EQ_INT(parse_size(NULL, 3, &v), -EINVAL);
	CHECK_EQ_INT(parse_size("M", 1, &v), -EINVAL);
	CHECK_EQ_INT(parse_size("1MB", 3, &v), -EINVAL);
	CHECK_EQ_INT(parse_size("1 M", 3, &v), -EINVAL);
	CHECK_EQ_INT(parse_size("+1", 2, &v), -EINVAL);
	CHECK_EQ_INT(parse_size("0x10", 4, &v), -EINVAL);
	CHECK_EQ_U64(v, 7); /* untouched on error */
}

int main(void)
{
	test_defaults();
	test_all_options();
	test_console();
	test_com1();
	test_dom0_mem();
	test_cpus();
	test_bsp();
	test_loglvl();
	test_novirt();
	test_unknown_and_image();
	test_parse_size();
	return harness_done("test_cmdline");
}
