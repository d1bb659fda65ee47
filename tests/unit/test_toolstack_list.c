/*
 * Host unit tests of `keel list -l`'s JSON (toolstack/core/domain.c's
 * domain_format_json and toolstack/domain/config.c's config_write_json)
 * and of the new-name rule `keel rename` checks (config_name_ok) and
 * `keel vcpu-list`'s state column (domain_vcpu_state_str). The
 * expected text is written out in full, so any change to the format shows
 * here; docs/toolstack.md describes the same fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/core/format.c"
#include "../../toolstack/core/domain.c"
#include "../../toolstack/domain/config.c"
#include "../../toolstack/domain/config_lex.c"
#include "../../toolstack/domain/config_disk.c"

#include "harness.h"

/* ---- stubs for domain.c (no hypervisor in these tests) ---- */

int keel_hypercall(uint64_t op, void *buf, size_t size)
{
	(void)op, (void)buf, (void)size;
	return -KEEL_ENOSYS;
}

void hcall_report(const char *what, int err)
{
	(void)what, (void)err;
}

#define NS UINT64_C(1000000000)

static const char tiny_cfg[] =
	"name = 'tiny'\n"
	"description = 'say \"hi\"'\n"
	"memory = 64\n"
	"kernel = '/boot/vmlinuz'\n"
	"extra = 'console=ttyS0'\n"
	"on_crash = 'restart'\n"
	"vif = [ 'mac=02:4b:45:00:00:01' ]\n";

/* A config as JSON: every set key, numbers bare, lists as arrays. */
static void test_config_json(void)
{
	char err[CONFIG_ERR_BYTES], out[1024];
	struct config cfg;
	struct fmt_buf b;

	config_init(&cfg);
	CHECK_EQ_INT(config_parse(&cfg, tiny_cfg, sizeof(tiny_cfg) - 1, "t.cfg",
				  NULL, err, sizeof(err)), 0);
	fmt_buf_init(&b, out, sizeof(out));
	config_write_json(&cfg, &b);
	CHECK_EQ_INT(b.err, 0);
	CHECK_EQ_STR(out, "{\"name\": \"tiny\", \"description\": \"say \\\"hi\\\"\", "
		     "\"memory\": 64, \"vcpus\": 1, \"kernel\": \"/boot/vmlinuz\", "
		     "\"extra\": \"console=ttyS0\", \"on_poweroff\": \"destroy\", "
		     "\"on_reboot\": \"restart\", \"on_crash\": \"restart\", "
		     "\"vif\": [\"mac=02:4b:45:00:00:01\"]}");
	fmt_buf_init(&b, out, 40); /* too small: reported, still terminated */
	config_write_json(&cfg, &b);
	CHECK_EQ_INT(b.err, -ENOSPC);
	CHECK(strlen(out) < 40);
}

/* A domain as JSON, with and without statistics and config. */
static void test_domain_json(void)
{
	struct keel_dominfo d = {
		.domid = 3, .state = KEEL_DOMSTATE_BLOCKED, .nr_vcpus = 2,
		.name = "tiny", .mem_bytes = 64ull << 20, .cpu_time_ns = 1500000000,
		.exits = 77, .console_bytes = 1234, .vcpu_time_ns = { 1000000000, 500000000 },
	};
	struct keel_domstats st = {
		.domid = 3, .nr_nics = 1, .net_tx_packets = 5, .net_tx_bytes = 500,
		.net_rx_packets = 6, .net_rx_bytes = 600, .hv_bytes = 491520, .shared_chunks = 2, .cow_page_bytes = 98304,
		.start_ns = 10 * NS,
	};
	char out[2048];
	struct fmt_buf b;

	fmt_buf_init(&b, out, sizeof(out));
	domain_format_json(&d, &st, 75 * NS, "{\"name\": \"tiny\"}", &b);
	CHECK_EQ_INT(b.err, 0);
	CHECK_EQ_STR(out, "{\"domid\": 3, \"name\": \"tiny\", \"state\": \"-b----\", "
		     "\"status\": \"blocked\", \"shutdown_reason\": \"none\", "
		     "\"memory_mib\": 64, \"vcpus\": 2, \"cpu_time_ns\": 1500000000, "
		     "\"vcpu_time_ns\": [1000000000, 500000000], \"exits\": 77, "
		     "\"console_bytes\": 1234, \"uptime_ns\": 65000000000, "
		     "\"disks\": 0, \"nics\": 1, \"blk\": {\"reads\": 0, \"writes\": 0, "
		     "\"read_bytes\": 0, \"write_bytes\": 0, \"errors\": 0}, "
		     "\"net\": {\"tx_packets\": 5, \"tx_bytes\": 500, \"rx_packets\": 6, "
		     "\"rx_bytes\": 600, \"drops\": 0, \"spoofed\": 0}, "
		     "\"hv_bytes\": 491520, \"shared_bytes\": 4096000, \"cow_copied_bytes\": 98304, \"config\": {\"name\": \"tiny\"}}");
	/* not started yet, no statistics, no config */
	st.start_ns = 0;
	d.state = KEEL_DOMSTATE_BUILDING;
	d.nr_vcpus = 1;
	fmt_buf_init(&b, out, sizeof(out));
	domain_format_json(&d, &st, 75 * NS, NULL, &b);
	CHECK(strstr(out, "\"status\": \"building\"") != NULL);
	CHECK(strstr(out, "\"uptime_ns\": null") != NULL);
	CHECK(strstr(out, "\"vcpu_time_ns\": [1000000000], ") != NULL);
	CHECK(strstr(out, "\"config\": null}") != NULL);
	fmt_buf_init(&b, out, sizeof(out));
	domain_format_json(&d, NULL, 75 * NS, NULL, &b);
	CHECK(strstr(out, "\"net\"") == NULL && strstr(out, "\"hv_bytes\"") == NULL);
	/* dom0 is called Domain-0; an unknown state word is "unknown" */
	d.domid = 0;
	d.state = 99;
	fmt_buf_init(&b, out, sizeof(out));
	domain_format_json(&d, NULL, 0, NULL, &b);
	CHECK(strstr(out, "\"name\": \"Domain-0\"") != NULL);
	CHECK(strstr(out, "\"status\": \"unknown\"") != NULL);
}

/* The lookup of a domain's statistics by id. */
static void test_stats_find(void)
{
	struct keel_domstats st[3] = { { .domid = 0 }, { .domid = 4 }, { .domid = 9 } };

	CHECK(domain_stats_find(st, 3, 4) == &st[1]);
	CHECK(domain_stats_find(st, 3, 5) == NULL);
	CHECK(domain_stats_find(NULL, 0, 0) == NULL);
}

/* The domain lists of keel uptime and keel vcpu-list. */
static void test_selected(void)
{
	struct keel_dominfo d[2] = { { .domid = 0 }, { .domid = 4, .name = "tiny" } };
	char *words[] = { "4", "nosuch", "Domain-0" };

	CHECK(domain_selected(&d[1], words, 0));
	CHECK(domain_selected(&d[1], words, 1));
	CHECK(!domain_selected(&d[1], words + 1, 2));
	CHECK(domain_selected(&d[0], words + 1, 2));
	CHECK_EQ_INT(domain_words_missing("t", d, 2, words, 3), 1);
	CHECK_EQ_INT(domain_words_missing("t", d, 2, words, 1), 0);
}

/* keel vcpu-list's State column, as xl's. */
static void test_vcpu_state(void)
{
	CHECK_EQ_STR(domain_vcpu_state_str(KEEL_VCPU_RUNNING, false), "r--");
	CHECK_EQ_STR(domain_vcpu_state_str(KEEL_VCPU_BLOCKED, false), "-b-");
	CHECK_EQ_STR(domain_vcpu_state_str(KEEL_VCPU_RUNNABLE, false), "---");
	CHECK_EQ_STR(domain_vcpu_state_str(KEEL_VCPU_BLOCKED, true), "--p");
	CHECK_EQ_STR(domain_vcpu_state_str(KEEL_VCPU_DOWN, true), "off");
	CHECK_EQ_STR(domain_vcpu_state_str(KEEL_VCPU_DOWN, false), "off");
}

/* `keel rename`'s new-name rule is the config's name rule. */
static void test_name_ok(void)
{
	CHECK(config_name_ok("tiny2"));
	CHECK(config_name_ok("web.old_1-x"));
	CHECK(config_name_ok("0123456789012345678901234567890x") == false); /* 32 */
	CHECK(config_name_ok("012345678901234567890123456789x"));           /* 31 */
	CHECK(!config_name_ok(""));
	CHECK(!config_name_ok("123"));
	CHECK(!config_name_ok("Domain-0"));
	CHECK(!config_name_ok("a b"));
	CHECK(!config_name_ok("../x"));
}

int main(void)
{
	test_config_json();
	test_domain_json();
	test_stats_find();
	test_name_ok();
	test_vcpu_state();
	test_selected();
	return harness_done("test_toolstack_list");
}
