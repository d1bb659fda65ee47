/*
 * `keel list [-l|-v]` and `keel uptime`, xl's read-only views of the
 * domains. `keel list` prints one line per domain; -v adds exits, console
 * bytes and the shutdown reason; -l prints a JSON array, one object per
 * domain with its live state, counters and the config it was built from
 * (the monitor's saved <name>.cfg), as `xl list -l` does. `keel uptime`
 * prints how long each domain has run, from the hypervisor's clock and
 * the time it started the domain (keel_domstats.start_ns, ABI 1.9).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "args.h"
#include "config.h"
#include "domain.h"
#include "format.h"
#include "hcall.h"
#include "keel.h"
#include "monitor.h"

#define LIST_JSON_BYTES (64u * 1024u) /* one domain's object at most */

/* What the hypervisor says about every domain, fetched together. */
struct list_view {
	struct keel_dominfo *doms;
	uint32_t n;
	struct keel_domstats *stats; /* NULL if the call failed */
	uint32_t n_stats;
	uint64_t now_ns;             /* the hypervisor's clock */
};

/* Fetch the list, the statistics and the clock; reports errors. */
static int list_view_get(struct list_view *v)
{
	struct keel_info info;
	int ret;

	memset(v, 0, sizeof(*v));
	if (hcall_connect(NULL))
		return -1;
	ret = keel_hypercall(KEEL_HC_INFO, &info, sizeof(info));
	if (ret < 0) {
		hcall_report("KEEL_HC_INFO", ret);
		return ret;
	}
	v->now_ns = info.uptime_ns;
	ret = domain_list_get(&v->doms, &v->n);
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_LIST", ret);
		return ret;
	}
	domain_list_memory_now(v->doms, v->n);
	if (domain_stats_get(&v->stats, &v->n_stats))
		v->stats = NULL;
	return 0;
}

static void list_view_free(struct list_view *v)
{
	free(v->doms);
	free(v->stats);
}

/* Print domain @d of @v as JSON, with its saved config if there is one. */
static int list_print_json(const struct list_view *v,
			   const struct keel_dominfo *d, char *text, char *cfg_text)
{
	const struct keel_domstats *st = domain_stats_find(v->stats, v->n_stats, d->domid);
	char name[KEEL_DOMAIN_NAME_BYTES + 1], err[CONFIG_ERR_BYTES];
	struct config *cfg = malloc(sizeof(*cfg));
	struct fmt_buf b, cb;
	bool have_cfg = false;

	if (!cfg)
		return -1;
	domain_name(d, name, sizeof(name));
	if (d->domid != 0 && monitor_read_config(name, cfg, err, sizeof(err)) == 0) {
		fmt_buf_init(&cb, cfg_text, LIST_JSON_BYTES);
		config_write_json(cfg, &cb);
		have_cfg = cb.err == 0;
	}
	free(cfg);
	fmt_buf_init(&b, text, LIST_JSON_BYTES);
	domain_format_json(d, st, v->now_ns, have_cfg ? cfg_text : NULL, &b);
	if (b.err)
		return -1;
	printf("%s", text);
	return 0;
}

/* `keel list -l`: a JSON array of every domain. */
static int list_json(const struct list_view *v)
{
	char *text = malloc(LIST_JSON_BYTES), *cfg_text = malloc(LIST_JSON_BYTES);
	uint32_t i;
	int ret = 0;

	if (!text || !cfg_text) {
		free(text);
		free(cfg_text);
		fprintf(stderr, "keel: list: out of memory\n");
		return KEEL_EXIT_FAIL;
	}
	printf("[\n");
	for (i = 0; i < v->n && !ret; i++) {
		printf("  ");
		ret = list_print_json(v, &v->doms[i], text, cfg_text);
		printf("%s\n", i + 1 < v->n ? "," : "");
	}
	printf("]\n");
	free(text);
	free(cfg_text);
	if (ret)
		fprintf(stderr, "keel: list: a domain's JSON did not fit in %u bytes\n",
			LIST_JSON_BYTES);
	return ret ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* `keel list [-v]`: the table. */
static int list_table(const struct list_view *v, bool verbose)
{
	char line[256];
	uint32_t i;

	domain_format_header(verbose, line, sizeof(line));
	printf("%s\n", line);
	for (i = 0; i < v->n; i++) {
		domain_format_row(&v->doms[i], verbose, line, sizeof(line));
		printf("%s\n", line);
	}
	return KEEL_EXIT_OK;
}

/* Entry point of `keel list [-l|-v]`. */
static int cmd_list_run(int argc, char **argv)
{
	bool json = false, verbose = false;
	struct list_view v;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_list_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "--long") == 0)
			json = true;
		else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			verbose = true;
		else
			return keel_usage_error("list", argv[i][0] == '-' ?
						"unknown option" : "unexpected argument",
						argv[i]);
	}
	if (json && verbose)
		return keel_usage_error("list", "-l and -v do not go together", NULL);
	if (list_view_get(&v)) {
		list_view_free(&v);
		return KEEL_EXIT_FAIL;
	}
	ret = json ? list_json(&v) : list_table(&v, verbose);
	list_view_free(&v);
	if (fflush(stdout))
		return KEEL_EXIT_FAIL;
	return ret;
}

/* Command-table entry of `keel list`. */
const struct keel_cmd cmd_list_entry = {
	.name = "list",
	.summary = "List domains (-l: as JSON, with their configs)",
	.usage = "Usage: keel list [-l | -v]\n"
		 "\n"
		 "One line per domain, Domain-0 first, as 'xl list':\n"
		 "  Name ID Mem VCPUs State Time(s)\n"
		 "Mem is in MiB; State has one position per flag of 'rbpscd'\n"
		 "(running, blocked, paused, shutdown, crashed, dying), '-' if\n"
		 "unset; Time(s) is CPU time in seconds.\n"
		 "\n"
		 "  -v, --verbose  also show VM exits, console bytes written and\n"
		 "                 the shutdown reason\n"
		 "  -l, --long     print a JSON array instead, one object per\n"
		 "                 domain: domid, name, state, status, memory_mib,\n"
		 "                 vcpus, cpu_time_ns, uptime_ns, exits, the disk,\n"
		 "                 network and hypervisor-memory counters, and\n"
		 "                 \"config\": the config it was built from (null\n"
		 "                 for Domain-0)\n",
	.run = cmd_list_run,
};

/* Entry point of `keel uptime [<domain>...]`. */
static int cmd_uptime_run(int argc, char **argv)
{
	const struct keel_domstats *st;
	char name[KEEL_DOMAIN_NAME_BYTES + 1], up[48];
	struct list_view v;
	uint32_t i;
	int j, ret = KEEL_EXIT_OK;

	for (j = 1; j < argc; j++) {
		if (args_is_help(argv[j])) {
			keel_print_cmd_help(&cmd_uptime_entry);
			return KEEL_EXIT_OK;
		}
		if (argv[j][0] == '-')
			return keel_usage_error("uptime", "unknown option", argv[j]);
	}
	if (list_view_get(&v)) {
		list_view_free(&v);
		return KEEL_EXIT_FAIL;
	}
	if (!v.stats) {
		fprintf(stderr, "keel: uptime: the hypervisor gave no domain "
			"statistics (KEEL_HC_DOMAIN_STATS)\n");
		list_view_free(&v);
		return KEEL_EXIT_FAIL;
	}
	if (domain_words_missing("uptime", v.doms, v.n, argv + 1, argc - 1))
		ret = KEEL_EXIT_FAIL;
	printf("%-32s %5s %s\n", "Name", "ID", "Uptime");
	for (i = 0; i < v.n; i++) {
		if (!domain_selected(&v.doms[i], argv + 1, argc - 1))
			continue;
		domain_name(&v.doms[i], name, sizeof(name));
		st = domain_stats_find(v.stats, v.n_stats, v.doms[i].domid);
		if (st && st->start_ns && v.now_ns >= st->start_ns)
			fmt_duration(v.now_ns - st->start_ns, up, sizeof(up));
		else
			snprintf(up, sizeof(up), "-");
		printf("%-32s %5u %s\n", name, v.doms[i].domid, up);
	}
	list_view_free(&v);
	return fflush(stdout) ? KEEL_EXIT_FAIL : ret;
}

/* Command-table entry of `keel uptime`. */
const struct keel_cmd cmd_uptime_entry = {
	.name = "uptime",
	.summary = "Show how long each domain has been running",
	.usage = "Usage: keel uptime [<domain>...]\n"
		 "\n"
		 "One line per domain (or per domain named, by name or id), as\n"
		 "'xl uptime':\n"
		 "  Name ID Uptime\n"
		 "Uptime is H:MM:SS since the domain started (\"N days, \" in\n"
		 "front from one day on); Domain-0's is the time since the\n"
		 "hypervisor started it. A domain still being built shows '-'.\n"
		 "A restarted domain (on_reboot/on_crash=restart) counts from\n"
		 "its restart.\n",
	.run = cmd_uptime_run,
};
