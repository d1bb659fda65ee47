/*
 * `keel top`: the live resource monitor, like xentop. Interactively it
 * takes a sample (sample.h) every interval, derives the figures (top.h)
 * and draws them full screen (top_view.h, term.h) until q; with -b it
 * prints plain-text blocks with xentop's column names, -n times, for
 * scripts and tests. Where the numbers come from is documented in
 * docs/toolstack.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "hcall.h"
#include "keel.h"
#include "sample.h"
#include "term.h"
#include "top.h"
#include "top_view.h"
#include "tui.h"

#define CMD_TOP_DEFAULT_MS 2000u
#define CMD_TOP_BATCH_BYTES (256u * 1024u)

/* Options of `keel top`. */
struct cmd_top_opts {
	bool batch;
	uint32_t iterations; /* 0: until interrupted */
	uint32_t interval_ms;
	const char *hint;
};

/* Samples and figures of one run. */
struct cmd_top_state {
	struct top_sample samples[2];
	struct top_sample *prev; /* NULL before the second sample */
	struct top_sample *cur;
	struct top_row rows[TOP_MAX_DOMS];
	uint32_t n_rows;
	struct top_cpu_row cpus[TOP_MAX_CPUS];
	uint32_t n_cpus;
	/* The x view: the selected domain's exit profile. */
	struct exitprof ex_last;  /* its last sample */
	struct exitprof ex_delta; /* the last interval, sorted */
	bool ex_have_last, ex_have_delta;
};

/* Report a usage error and return KEEL_EXIT_USAGE. */
static int cmd_top_usage(const char *what, const char *arg)
{
	fprintf(stderr, "keel: top: %s '%s'; see 'keel help top'\n", what, arg);
	return KEEL_EXIT_USAGE;
}

/*
 * Value of option @argv[*i] (attached, "-n2", or the next word).
 * Returns it, or NULL if missing.
 */
static const char *cmd_top_value(int argc, char **argv, int *i)
{
	if (argv[*i][2])
		return argv[*i] + 2;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Parse one option at @argv[*i] into @o. Returns -1 to go on, else an
 * exit code. */
static int cmd_top_option(int argc, char **argv, int *i,
			  struct cmd_top_opts *o)
{
	const char *a = argv[*i], *v;

	if (strcmp(a, "-b") == 0 || strcmp(a, "--batch") == 0) {
		o->batch = true;
		return -1;
	}
	if (strcmp(a, "--hint") == 0) {
		if (*i + 1 >= argc)
			return cmd_top_usage("missing text after", a);
		o->hint = argv[++*i];
		return -1;
	}
	if (strncmp(a, "-n", 2) != 0 && strncmp(a, "-d", 2) != 0)
		return cmd_top_usage("unknown option", a);
	v = cmd_top_value(argc, argv, i);
	if (!v)
		return cmd_top_usage("missing value after", a);
	if (a[1] == 'n' && top_parse_count(v, &o->iterations))
		return cmd_top_usage("-n needs a positive count, not", v);
	if (a[1] == 'd' && top_parse_interval(v, TOP_VIEW_MIN_INTERVAL_MS,
					      TOP_VIEW_MAX_INTERVAL_MS,
					      &o->interval_ms))
		return cmd_top_usage("-d needs seconds from 0.2 to 3600, not", v);
	return -1;
}

/* Parse the command line into @o. Returns -1 to go on, else an exit code. */
static int cmd_top_args(int argc, char **argv, struct cmd_top_opts *o)
{
	int i, ret;

	memset(o, 0, sizeof(*o));
	o->interval_ms = CMD_TOP_DEFAULT_MS;
	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_top_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-')
			return cmd_top_usage("unexpected argument", argv[i]);
		ret = cmd_top_option(argc, argv, &i, o);
		if (ret >= 0)
			return ret;
	}
	return -1;
}

/* Take a new sample into @st and compute its figures. Returns 0 or the
 * sample's error (with @why filled). */
static int cmd_top_refresh(struct cmd_top_state *st, char *why, size_t len)
{
	struct top_sample *next = st->cur == &st->samples[0] ? &st->samples[1]
							     : &st->samples[0];
	int ret = sample_take(next, why, len);

	if (ret)
		return ret;
	st->prev = st->cur;
	st->cur = next;
	st->n_rows = top_compute(st->prev, st->cur, st->rows, TOP_MAX_DOMS);
	st->n_cpus = top_compute_cpus(st->prev, st->cur, st->cpus,
				      TOP_MAX_CPUS);
	return 0;
}

/* With the x view on, sample the selected domain's exit profile and keep
 * its last interval in @v->exits (NULL until there is one). */
static void cmd_top_exits(struct cmd_top_state *st, struct top_view *v)
{
	static struct exitprof now;
	uint32_t domid;

	v->exits = NULL;
	if (!v->show_exits || !st->n_rows) {
		st->ex_have_last = st->ex_have_delta = false;
		return;
	}
	top_sort(st->rows, st->n_rows, v->sort, v->reverse);
	domid = top_view_selected(v, st->rows, st->n_rows);
	if (exitprof_get(domid, &now)) {
		st->ex_have_last = st->ex_have_delta = false;
		return;
	}
	st->ex_have_delta = st->ex_have_last && st->ex_last.domid == domid;
	if (st->ex_have_delta) {
		exitprof_diff(&st->ex_last, &now, &st->ex_delta);
		exitprof_sort(&st->ex_delta);
	}
	st->ex_last = now;
	st->ex_have_last = true;
	if (st->ex_have_delta)
		v->exits = &st->ex_delta;
}

/* `keel top -b`: print @o->iterations blocks. */
static int cmd_top_batch(const struct cmd_top_opts *o, struct cmd_top_state *st)
{
	char why[HCALL_WHY_BYTES], *text = malloc(CMD_TOP_BATCH_BYTES);
	uint32_t i;
	int n;

	if (!text || hcall_connect(NULL)) {
		free(text);
		return KEEL_EXIT_FAIL;
	}
	for (i = 0; !o->iterations || i < o->iterations; i++) {
		if (i)
			tui_sleep_ms(o->interval_ms);
		if (cmd_top_refresh(st, why, sizeof(why))) {
			fprintf(stderr, "keel: top: %s\n", why);
			free(text);
			return KEEL_EXIT_FAIL;
		}
		n = top_format_batch(st->cur, st->rows, st->n_rows, st->cpus,
				     st->n_cpus, o->interval_ms, text,
				     CMD_TOP_BATCH_BYTES);
		if (n < 0 || fwrite(text, 1, (size_t)n, stdout) != (size_t)n ||
		    fflush(stdout)) {
			free(text);
			return KEEL_EXIT_FAIL;
		}
	}
	free(text);
	return KEEL_EXIT_OK;
}

/* Draw the monitor from @st on @f. */
static void cmd_top_draw(struct term_frames *f, const struct top_view *v,
			 struct cmd_top_state *st)
{
	top_sort(st->rows, st->n_rows, v->sort, v->reverse);
	term_frame_begin(f);
	top_view_draw(&f->now, v, st->cur, st->rows, st->n_rows, st->cpus,
		      st->n_cpus);
	term_frame_show(f);
}

/*
 * Handle keys until the next sample is due at @due (ms). Returns 0 to
 * sample again, 1 to quit, -EIO when the input ended.
 */
static int cmd_top_keys(struct term_frames *f, struct keys_decoder *d,
			struct top_view *v, struct cmd_top_state *st,
			uint64_t due)
{
	int32_t keys[TUI_KEYS_MAX];
	uint64_t now;
	int n, i;

	while ((now = tui_now_ms()) < due) {
		n = term_wait_keys(d, (uint32_t)(due - now), keys, TUI_KEYS_MAX);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			enum top_view_action a = top_view_key(v, keys[i], st->rows,
							      st->n_rows);

			if (a == TOP_VIEW_QUIT)
				return 1;
			if (a == TOP_VIEW_SAMPLE)
				return 0;
			if (a == TOP_VIEW_REPAINT)
				f->shown_valid = false;
		}
		cmd_top_draw(f, v, st);
	}
	return 0;
}

/* The interactive loop. Returns an exit code. */
static int cmd_top_loop(const struct cmd_top_opts *o, struct cmd_top_state *st,
			struct term_frames *f)
{
	char why[HCALL_WHY_BYTES];
	struct keys_decoder d;
	struct top_view v;
	int ret, err = 0;

	keys_init(&d);
	top_view_init(&v, o->interval_ms, o->hint);
	for (;;) {
		ret = tui_wait_hypervisor(f, &d, o->hint, err, why);
		if (ret)
			return ret < 0 ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
		err = cmd_top_refresh(st, why, sizeof(why));
		if (err) {
			st->prev = NULL;
			continue;
		}
		cmd_top_exits(st, &v);
		cmd_top_draw(f, &v, st);
		ret = cmd_top_keys(f, &d, &v, st, tui_now_ms() + v.interval_ms);
		if (ret)
			return ret < 0 ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
	}
}

/* `keel top` without -b. */
static int cmd_top_interactive(const struct cmd_top_opts *o,
			       struct cmd_top_state *st)
{
	struct term_frames *f = calloc(1, sizeof(*f));
	int ret;

	if (!f)
		return KEEL_EXIT_FAIL;
	if (term_open()) {
		fprintf(stderr, "keel: top: stdin and stdout must be a terminal "
			"(use -b for plain text)\n");
		free(f);
		return KEEL_EXIT_FAIL;
	}
	ret = cmd_top_loop(o, st, f);
	term_close();
	free(f);
	return ret;
}

/* Entry point of `keel top`. */
static int cmd_top_run(int argc, char **argv)
{
	struct cmd_top_state *st;
	struct cmd_top_opts o;
	int ret = cmd_top_args(argc, argv, &o);

	if (ret >= 0)
		return ret;
	st = calloc(1, sizeof(*st));
	if (!st)
		return KEEL_EXIT_FAIL;
	ret = o.batch ? cmd_top_batch(&o, st) : cmd_top_interactive(&o, st);
	free(st);
	return ret;
}

/* Command-table entry of `keel top`. */
const struct keel_cmd cmd_top_entry = {
	.name = "top",
	.summary = "Live resource monitor of all domains (like xentop)",
	.usage = "Usage: keel top [-d SECONDS] [--hint TEXT]\n"
		 "       keel top -b [-n N] [-d SECONDS]\n"
		 "\n"
		 "Show every domain, Domain-0 included, with its state, CPU\n"
		 "time and CPU%, memory, vCPUs, network and disk counters and\n"
		 "VM exits per second; one bar per physical CPU with the domain\n"
		 "running there; the hypervisor's free memory and uptime.\n"
		 "CPU% is measured by the hypervisor (100% = one vCPU busy; a\n"
		 "2-vCPU domain can show 200%); Domain-0's comes from its own\n"
		 "/proc/stat.\n"
		 "\n"
		 "  -d SECONDS   refresh interval (default 2, 0.2 to 3600)\n"
		 "  -b, --batch  plain text with xentop's column names, for\n"
		 "               scripts; the first block has CPU% 0.0 (no\n"
		 "               earlier sample), the next ones the interval's\n"
		 "  -n N         with -b: print N blocks, then exit (default:\n"
		 "               until interrupted)\n"
		 "  --hint TEXT  show TEXT on the last line (the boot flow uses\n"
		 "               it for the console hint)\n"
		 "\n"
		 "Keys: q quit; c, m, n, i sort by CPU%, memory, name, id (the\n"
		 "same key again reverses); r reverse; + and - change the\n"
		 "interval; Up/Down or j/k select the domain shown in detail;\n"
		 "x shows (again: hides) that domain's exit profile over the\n"
		 "last interval, as 'keel exits -d' does;\n"
		 "space refreshes now.\n",
	.run = cmd_top_run,
};
