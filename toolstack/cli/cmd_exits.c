/*
 * `keel exits <domain> [-d SECONDS] [-n LINES]`: a domain's VM exits by
 * kind and target, with how often each happens and how long the
 * hypervisor takes to handle it, like `perf kvm stat` or xenalyze's
 * summary. Without -d it shows everything since the domain was created;
 * with -d it samples twice and shows the interval. The batch form of
 * `keel top`'s exit view, for scripts and bench/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "domain.h"
#include "exitprof.h"
#include "hcall.h"
#include "keel.h"
#include "top.h"
#include "tui.h"

#define EXITS_MAX_INTERVAL_MS 3600000u
#define EXITS_DEFAULT_LINES 20u

struct exits_opts {
	const char *word;     /* the domain */
	uint32_t interval_ms; /* 0: totals since creation */
	uint32_t lines;
};

static int exits_usage(const char *what, const char *arg)
{
	fprintf(stderr, "keel: exits: %s '%s'; see 'keel help exits'\n", what, arg);
	return KEEL_EXIT_USAGE;
}

/* Parse the command line into @o. Returns -1 to go on, else an exit code. */
static int exits_args(int argc, char **argv, struct exits_opts *o)
{
	int i;

	o->lines = EXITS_DEFAULT_LINES;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (args_is_help(a)) {
			keel_print_cmd_help(&cmd_exits_entry);
			return KEEL_EXIT_OK;
		}
		if (a[0] != '-') {
			if (o->word)
				return exits_usage("unexpected argument", a);
			o->word = a;
			continue;
		}
		if (strcmp(a, "-d") && strcmp(a, "-n"))
			return exits_usage("unknown option", a);
		if (i + 1 >= argc)
			return exits_usage("missing value after", a);
		if (a[1] == 'd' && top_parse_interval(argv[++i], 100, EXITS_MAX_INTERVAL_MS,
						      &o->interval_ms))
			return exits_usage("-d needs seconds from 0.1 to 3600, not", argv[i]);
		if (a[1] == 'n' && top_parse_count(argv[++i], &o->lines))
			return exits_usage("-n needs a positive count, not", argv[i]);
	}
	if (!o->word) {
		fprintf(stderr, "keel: exits: which domain? Usage: keel exits <domain> "
				"[-d SECONDS] [-n LINES]\n");
		return KEEL_EXIT_USAGE;
	}
	return -1;
}

/* Print @p (sorted) for domain @name: a summary line, then a table. */
static void exits_print(const struct exitprof *p, const char *name, bool guest,
			bool interval, uint32_t lines)
{
	double secs = (double)p->now_ns / 1e9, busy = (double)exitprof_time_ns(p);
	uint32_t i;

	printf("%s (id %u): %llu exits %s %.2f s, %.1f per second; handling them took "
	       "%.2f%% of one CPU\n", name, p->domid, (unsigned long long)p->total,
	       interval ? "in" : "since creation,", secs,
	       secs > 0 ? (double)p->total / secs : 0.0,
	       p->now_ns ? 100.0 * busy / (double)p->now_ns : 0.0);
	printf("%-11s %-26s %12s %10s %9s %6s\n", "KIND", "TARGET", "EXITS", "PER_S",
	       "AVG_US", "TIME%");
	for (i = 0; i < p->count && i < lines; i++) {
		const struct keel_exitstat *e = &p->e[i];
		char target[48];

		exitprof_target(e, guest, target, sizeof(target));
		printf("%-11s %-26s %12llu %10.1f %9.2f %5.1f%%\n", exitprof_kind_name(e->kind),
		       target, (unsigned long long)e->count,
		       secs > 0 ? (double)e->count / secs : 0.0,
		       (double)e->time_ns / 1e3 / (double)e->count,
		       busy > 0 ? 100.0 * (double)e->time_ns / busy : 0.0);
	}
	if (p->count > lines)
		printf("(%u more; -n %u shows all)\n", p->count - lines, p->count);
}

static int cmd_exits_run(int argc, char **argv)
{
	static struct exitprof a, b;
	struct exits_opts o = { 0 };
	struct keel_dominfo d;
	char name[KEEL_DOMAIN_NAME_BYTES + 16];
	int ret = exits_args(argc, argv, &o);

	if (ret >= 0)
		return ret;
	if (hcall_connect(NULL) || domain_resolve(o.word, &d))
		return KEEL_EXIT_FAIL;
	domain_name(&d, name, sizeof(name));
	ret = exitprof_get(d.domid, &a);
	if (!ret && o.interval_ms) {
		tui_sleep_ms(o.interval_ms);
		ret = exitprof_get(d.domid, &b);
		if (!ret)
			exitprof_diff(&a, &b, &a);
	}
	if (ret) {
		hcall_report(ret == -KEEL_ENOENT ? "exits (the domain went away)" : "exits", ret);
		return KEEL_EXIT_FAIL;
	}
	exitprof_sort(&a);
	exits_print(&a, name, d.domid != 0, o.interval_ms != 0, o.lines);
	return KEEL_EXIT_OK;
}

/* Command-table entry of `keel exits`. */
const struct keel_cmd cmd_exits_entry = {
	.name = "exits",
	.summary = "A domain's VM exits by kind and target (the exit profile)",
	.usage = "Usage: keel exits <domain> [-d SECONDS] [-n LINES]\n"
		 "\n"
		 "Show the VM exits of a domain (a name, an id, or Domain-0),\n"
		 "grouped by kind and target, most frequent first: how many,\n"
		 "how many per second, the hypervisor's average time to handle\n"
		 "one (AVG_US, from the exit to the end of its handler; a\n"
		 "halted vCPU's sleep is not counted) and each row's share of\n"
		 "that time (TIME%). Targets are the port, MSR, MMIO page\n"
		 "(guest-physical address >> 12) or hypercall, named where\n"
		 "Keel knows them (\"0x6e0 TSC_DEADLINE\", \"0xfee00 lapic\").\n"
		 "The first line sums it up: exits, exits per second, and the\n"
		 "share of one CPU spent handling them.\n"
		 "\n"
		 "  -d SECONDS  sample twice, SECONDS apart (0.1 to 3600), and\n"
		 "              show that interval; default: everything since\n"
		 "              the domain was created\n"
		 "  -n LINES    show the LINES most frequent rows (default 20)\n"
		 "\n"
		 "In 'keel top', the x key shows the same for the selected\n"
		 "domain, refreshed live.\n",
	.run = cmd_exits_run,
};
