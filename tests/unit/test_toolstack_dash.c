/*
 * Host unit tests of `keel dashboard`'s pure part (toolstack/dash/): the
 * history (CPU% points kept per domain, byte rates from two samples, a
 * new id or a new name starting over, a gone domain dropped), the state
 * document (the figures `keel top -b` shows, names escaped, -ENOSPC when
 * it does not fit), the actions' checks (every verb's command line, bad
 * verbs and names, dom0 refused), the token's forms and the static
 * files' names (no path, no other type).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/domain/config.c"
#include "../../toolstack/domain/config_lex.c"
#include "../../toolstack/domain/config_disk.c"
#include "../../toolstack/core/format.c"
#include "../../toolstack/core/domain.c"
#include "../../toolstack/tui/keys.c"
#include "../../toolstack/tui/screen.c"
#include "../../toolstack/tui/top.c"
#include "../../toolstack/tui/starter.c"
#include "../../toolstack/dash/dash_json.c"
#include "../../toolstack/dash/dash_req.c"

#include "harness.h"

/* ---- stubs for domain.c (no hypervisor in these tests) ---- */

#include "stub_hcall.h"

/* A row for domain @id @name at @cpu_tenths, with @rx bytes received. */
static struct top_row row(uint32_t id, const char *name, int32_t cpu_tenths, uint64_t rx)
{
	struct top_row r;

	memset(&r, 0, sizeof(r));
	r.domid = id;
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.state_str, sizeof(r.state_str), "-b----");
	r.vcpus = 1;
	r.cpu_tenths = cpu_tenths;
	r.mem_bytes = UINT64_C(128) << 20;
	r.max_bytes = UINT64_C(128) << 20;
	r.exits_per_s = 42;
	r.has_stats = true;
	r.st.domid = id;
	r.st.nr_nics = 1;
	r.st.net_rx_bytes = rx;
	return r;
}

static struct dash_hist hist;
static const uint64_t S = UINT64_C(1000000000);

static void test_hist(void)
{
	struct top_row rows[2] = { row(0, "Domain-0", 100, 0), row(1, "tiny", 50, 1000) };
	const struct dash_hist_dom *d;

	memset(&hist, 0, sizeof(hist));
	dash_hist_push(&hist, rows, 2, 1 * S);
	d = dash_hist_find(&hist, 1);
	CHECK(d && d->n == 1 && d->net_rx_bps == -1); /* no rate from one sample */
	rows[1].st.net_rx_bytes = 3000;
	rows[1].cpu_tenths = 70;
	dash_hist_push(&hist, rows, 2, 3 * S);
	d = dash_hist_find(&hist, 1);
	/* a sample 2 s after the last is two points of the chart */
	CHECK(d && d->n == 3 && d->cpu_tenths[0] == 50 && d->cpu_tenths[1] == 70 &&
	      d->cpu_tenths[2] == 70);
	CHECK_EQ_INT((int)d->net_rx_bps, 1000); /* 2000 bytes in 2 s */
	CHECK_EQ_INT((int)d->blk_rd_bps, 0);
	rows[1].st.net_rx_bytes = 10; /* a counter that went back: no rate */
	dash_hist_push(&hist, rows, 2, 4 * S);
	CHECK_EQ_INT((int)dash_hist_find(&hist, 1)->net_rx_bps, -1);

	/* the same id with another name is another domain */
	rows[1] = row(1, "other", 10, 0);
	dash_hist_push(&hist, rows, 2, 5 * S);
	d = dash_hist_find(&hist, 1);
	CHECK(d && d->n == 1 && strcmp(d->name, "other") == 0);
	CHECK(dash_hist_find(&hist, 0)->n == 5);

	/* a new domain before a known one keeps the known one's history */
	{
		struct top_row three[3] = { row(0, "Domain-0", 1, 0), row(7, "new", 1, 0),
					    row(1, "other", 1, 0) };

		dash_hist_push(&hist, three, 3, 6 * S);
		CHECK(hist.n == 3 && dash_hist_find(&hist, 7)->n == 1);
		CHECK(dash_hist_find(&hist, 1)->n == 2 && dash_hist_find(&hist, 0)->n == 6);
	}
	/* a gone domain is dropped */
	dash_hist_push(&hist, rows, 1, 7 * S);
	CHECK(hist.n == 1 && !dash_hist_find(&hist, 1) && !dash_hist_find(&hist, 7));

	/* samples less than a second apart: a point once a whole second has
	 * gone by; an idle dashboard's sample 10 s after the last: 10 points */
	{
		uint32_t was = dash_hist_find(&hist, 0)->n;

		dash_hist_push(&hist, rows, 1, 7 * S + S / 2);
		CHECK(dash_hist_find(&hist, 0)->n == was);
		dash_hist_push(&hist, rows, 1, 8 * S + S / 10);
		CHECK(dash_hist_find(&hist, 0)->n == was + 1);
		dash_hist_push(&hist, rows, 1, 18 * S);
		CHECK(dash_hist_find(&hist, 0)->n == was + 11);
	}

	/* the ring keeps the last DASH_HIST_POINTS */
	{
		uint32_t i;

		for (i = 0; i < DASH_HIST_POINTS + 5; i++) {
			rows[0].cpu_tenths = (int32_t)i;
			dash_hist_push(&hist, rows, 1, (19 + i) * S);
		}
		d = dash_hist_find(&hist, 0);
		CHECK(d->n == DASH_HIST_POINTS);
		CHECK(d->cpu_tenths[(d->head + DASH_HIST_POINTS - 1) % DASH_HIST_POINTS] ==
		      (int32_t)(DASH_HIST_POINTS + 4));
	}
}

static struct top_sample sample;
static char doc[65536];

static void test_json(void)
{
	struct top_row rows[2] = { row(0, "Domain-0", TOP_PCT_NONE, 0), row(3, "we\"ird", 123, 0) };
	struct top_cpu_row cpus[1];
	const char *presets[] = { "tiny", "web" };
	struct dash_extra x = { "CPU: AMD\nline \\two", presets, 2, NULL, true };
	int n;

	memset(&sample, 0, sizeof(sample));
	snprintf(sample.info.hv_version_str, sizeof(sample.info.hv_version_str), "0.1.0");
	sample.now_ns = 3723 * S;
	sample.info.mem_pool_free_bytes = UINT64_C(512) << 20;
	sample.info.mem_total_bytes = UINT64_C(2048) << 20;
	memset(cpus, 0, sizeof(cpus));
	cpus[0].cpu = 1;
	cpus[0].role = KEEL_CPU_ROLE_POOL;
	cpus[0].online = true;
	cpus[0].busy_tenths = 505;
	snprintf(cpus[0].who, sizeof(cpus[0].who), "we\"ird/0");
	memset(&hist, 0, sizeof(hist));
	dash_hist_push(&hist, rows, 2, 1 * S);
	n = dash_json_state(&sample, rows, 2, cpus, 1, &hist, &x, doc, sizeof(doc));
	CHECK(n > 0 && (size_t)n == strlen(doc));
	CHECK(strstr(doc, "\"version\":\"0.1.0\"") != NULL);
	CHECK(strstr(doc, "\"uptime\":\"1:02:03\"") != NULL);
	CHECK(strstr(doc, "\"free\":524288") != NULL);
	CHECK(strstr(doc, "\"name\":\"Domain-0\",\"state\":\"-b----\",\"vcpus\":1,\"cpu\":null") !=
	      NULL);
	CHECK(strstr(doc, "\"name\":\"we\\\"ird\"") != NULL);
	CHECK(strstr(doc, "\"cpu\":12.3") != NULL);
	CHECK(strstr(doc, "\"mem_k\":131072,\"max_k\":131072,\"exits_per_s\":42") != NULL);
	CHECK(strstr(doc, "\"cpu_hist\":[12.3]") != NULL);
	CHECK(strstr(doc, "\"net_rx_Bps\":null") != NULL);
	CHECK(strstr(doc, "{\"cpu\":1,\"role\":\"pool\",\"online\":true,\"vcpus\":0,\"busy\":50.5,"
			  "\"who\":\"we\\\"ird/0\"}") != NULL);
	CHECK(strstr(doc, "\"presets\":[\"tiny\",\"web\"]") != NULL);
	CHECK(strstr(doc, "\"compat\":\"CPU: AMD\\nline \\\\two\"") != NULL);
	CHECK(strstr(doc, "\"last_action\":null,\"control\":true}") != NULL);
	CHECK(!strchr(doc, '\n')); /* one line: an SSE data field */
	CHECK_EQ_INT(dash_json_state(&sample, rows, 2, cpus, 1, &hist, &x, doc, 100), -ENOSPC);
}

/* dash_action_parse's argv as one string. */
static const char *argv_of(const char *verb, const char *target)
{
	static char out[256];
	char err[200];
	struct dash_action a;
	struct fmt_buf b;
	uint32_t i;

	if (dash_action_parse(verb, target, &a, err, sizeof(err))) {
		snprintf(out, sizeof(out), "ERR %s", err);
		return out;
	}
	fmt_buf_init(&b, out, sizeof(out));
	for (i = 0; a.argv[i]; i++)
		fmt_buf_add(&b, "%s%s", i ? " " : "", a.argv[i]);
	return out;
}

static void test_actions(void)
{
	CHECK_EQ_STR(argv_of("start", "tiny"), "keel starter --start tiny");
	CHECK_EQ_STR(argv_of("pause", "web2"), "keel pause web2");
	CHECK_EQ_STR(argv_of("unpause", "web2"), "keel unpause web2");
	CHECK_EQ_STR(argv_of("shutdown", "a.b_c-d"), "keel shutdown a.b_c-d");
	CHECK_EQ_STR(argv_of("destroy", "x"), "keel destroy x");
	CHECK_EQ_STR(argv_of("clone", "x"), "keel clone x");
	CHECK_EQ_STR(argv_of("save", "x"), "keel save x " STARTER_SAVES_DIR "/x.sav");
	CHECK(strncmp(argv_of("reboot", "x"), "ERR unknown action 'reboot'", 27) == 0);
	CHECK(strncmp(argv_of(NULL, "x"), "ERR unknown action:", 19) == 0);
	CHECK(strncmp(argv_of("pause", NULL), "ERR pause needs a domain name", 29) == 0);
	CHECK(strncmp(argv_of("start", ""), "ERR start needs a preset name", 29) == 0);
	CHECK(strncmp(argv_of("pause", "-h"), "ERR", 3) == 0);      /* not an option */
	CHECK(strncmp(argv_of("pause", ".x"), "ERR", 3) == 0);
	CHECK(strncmp(argv_of("start", "../etc"), "ERR", 3) == 0);
	CHECK(strncmp(argv_of("pause", "a b"), "ERR", 3) == 0);
	CHECK(strncmp(argv_of("pause", "a;b"), "ERR", 3) == 0);
	CHECK_EQ_STR(argv_of("destroy", "Domain-0"), "ERR dom0 cannot be destroy from the dashboard");
	{
		char longname[DASH_NAME_MAX + 2];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = 0;
		CHECK(strncmp(argv_of("pause", longname), "ERR", 3) == 0);
		longname[DASH_NAME_MAX] = 0;
		CHECK(strncmp(argv_of("pause", longname), "keel pause aaa", 14) == 0);
	}
}

static void test_token(void)
{
	CHECK(dash_token_ok("1234-5678", "12345678"));
	CHECK(dash_token_ok("12345678", "12345678"));
	CHECK(dash_token_ok(" 1234 5678 ", "12345678"));
	CHECK(!dash_token_ok("1234-5679", "12345678"));
	CHECK(!dash_token_ok("1234-567", "12345678"));
	CHECK(!dash_token_ok("123456789", "12345678"));
	CHECK(!dash_token_ok("", "12345678"));
	CHECK(!dash_token_ok(NULL, "12345678"));
	CHECK(!dash_token_ok("12345678", "")); /* no token made: nothing is accepted */
}

static void test_static(void)
{
	char name[DASH_FILE_MAX + 1];
	const char *type = NULL;

	CHECK_EQ_INT(dash_static_name("/", name, sizeof(name), &type), 0);
	CHECK_EQ_STR(name, "index.html");
	CHECK(strncmp(type, "text/html", 9) == 0);
	CHECK_EQ_INT(dash_static_name("/app.js", name, sizeof(name), &type), 0);
	CHECK(strncmp(type, "text/javascript", 15) == 0);
	CHECK_EQ_INT(dash_static_name("/uplot.css", name, sizeof(name), &type), 0);
	CHECK_EQ_INT(dash_static_name("/../etc/passwd", name, sizeof(name), &type), -ENOENT);
	CHECK_EQ_INT(dash_static_name("/a/b.js", name, sizeof(name), &type), -ENOENT);
	CHECK_EQ_INT(dash_static_name("/x.exe", name, sizeof(name), &type), -ENOENT);
	CHECK_EQ_INT(dash_static_name("/.js", name, sizeof(name), &type), -ENOENT);
	CHECK_EQ_INT(dash_static_name("/a.b.js", name, sizeof(name), &type), -ENOENT);
	CHECK_EQ_INT(dash_static_name("/index", name, sizeof(name), &type), -ENOENT);
	CHECK_EQ_INT(dash_static_name("app.js", name, sizeof(name), &type), -ENOENT);
	CHECK_EQ_INT(dash_static_name("/app.js", name, 4, &type), -ENOENT);
}

int main(void)
{
	test_hist();
	test_json();
	test_actions();
	test_token();
	test_static();
	return harness_done("test_toolstack_dash");
}
