/*
 * Full-screen view of `keel top` (see top_view.h). Layout from the top:
 * a title bar, memory and domain totals, one bar per physical CPU (two
 * per line when there are more than eight), the domain table with the
 * selected row in reverse video, two detail lines for the selected
 * domain, the keys, and the optional hint line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "keys.h"
#include "top_view.h"

#define TOP_VIEW_FIELD_BYTES 32u
#define TOP_VIEW_CPUS_ONE_COLUMN 8u /* more CPUs: two per line */
#define TOP_VIEW_MIN_TABLE_ROWS 3u
#define TOP_VIEW_DETAIL_ROWS 2u
#define TOP_VIEW_EXIT_ROWS 5u /* exit profile rows under the x key */
#define TOP_VIEW_WHO_CHARS 20u

/* Intervals that + and - step through, in ms. */
static const uint32_t top_view_steps[] = { 200, 500, 1000, 2000, 3000, 5000,
					   10000, 30000, 60000 };

/* Columns of the interactive table. */
enum top_view_field {
	TV_ID, TV_NAME, TV_STATE, TV_CPUS, TV_CPUP, TV_MEM, TV_MEMP, TV_MAX,
	TV_VCPU, TV_TX, TV_RX, TV_RD, TV_WR, TV_EXITS, TV_SHR,
};

/* One column: label, width, and drop order (higher goes first). */
struct top_view_col {
	enum top_view_field id;
	const char *label;
	uint32_t width;
	uint32_t drop;
};

static const struct top_view_col top_view_cols[] = {
	{ TV_ID, "ID", 3, 0 },	      { TV_NAME, "NAME", 10, 0 },
	{ TV_STATE, "STATE", 6, 0 },  { TV_CPUS, "CPU(s)", 7, 0 },
	{ TV_CPUP, "CPU%", 5, 0 },    { TV_MEM, "MEM(M)", 6, 0 },
	{ TV_MEMP, "MEM%", 5, 2 },    { TV_MAX, "MAX(M)", 6, 3 },
	{ TV_VCPU, "VCPU", 4, 0 },    { TV_TX, "TX(k)", 6, 0 },
	{ TV_RX, "RX(k)", 6, 0 },     { TV_RD, "RD", 5, 0 },
	{ TV_WR, "WR", 5, 0 },	      { TV_EXITS, "EXIT/s", 6, 1 },
	{ TV_SHR, "SHR(M)", 6, 4 },
};

#define TOP_VIEW_NR_COLS (sizeof(top_view_cols) / sizeof(top_view_cols[0]))

/* Set up a view; see top_view.h. */
void top_view_init(struct top_view *v, uint32_t interval_ms, const char *hint)
{
	memset(v, 0, sizeof(*v));
	v->sort = TOP_SORT_CPU;
	v->interval_ms = interval_ms;
	v->hint = hint;
}

/* Index of the selected domain in @rows (0 if none is selected). */
static uint32_t top_view_sel_index(const struct top_view *v,
				   const struct top_row *rows, uint32_t n)
{
	uint32_t i;

	for (i = 0; v->has_sel && i < n; i++) {
		if (rows[i].domid == v->sel_domid)
			return i;
	}
	return 0;
}

/* The selected domain; see top_view.h. */
uint32_t top_view_selected(const struct top_view *v, const struct top_row *rows, uint32_t n)
{
	return rows[top_view_sel_index(v, rows, n)].domid;
}

/* Move the selection by @delta rows (clamped). */
static void top_view_move(struct top_view *v, const struct top_row *rows,
			  uint32_t n, int32_t delta)
{
	int64_t i = (int64_t)top_view_sel_index(v, rows, n) + delta;

	if (!n)
		return;
	if (i < 0)
		i = 0;
	if (i >= (int64_t)n)
		i = (int64_t)n - 1;
	v->has_sel = true;
	v->sel_domid = rows[i].domid;
}

/* Step the refresh interval up (@up) or down through top_view_steps. */
static void top_view_step_interval(struct top_view *v, bool up)
{
	uint32_t i, n = sizeof(top_view_steps) / sizeof(top_view_steps[0]);

	if (up) {
		for (i = 0; i < n; i++) {
			if (top_view_steps[i] > v->interval_ms) {
				v->interval_ms = top_view_steps[i];
				return;
			}
		}
		return;
	}
	for (i = n; i-- > 0;) {
		if (top_view_steps[i] < v->interval_ms) {
			v->interval_ms = top_view_steps[i];
			return;
		}
	}
}

/* Select sort order @key (again: reverse it). */
static void top_view_sort_by(struct top_view *v, enum top_sort key)
{
	if (v->sort == key)
		v->reverse = !v->reverse;
	else
		v->reverse = false;
	v->sort = key;
}

/* Apply a key; see top_view.h. */
enum top_view_action top_view_key(struct top_view *v, int32_t key,
				  const struct top_row *rows, uint32_t n)
{
	switch (key) {
	case 'q': case 'Q': case KEYS_CTRL_C:
		return TOP_VIEW_QUIT;
	case 'c': case 'C': case 'P':
		top_view_sort_by(v, TOP_SORT_CPU);
		break;
	case 'm': case 'M':
		top_view_sort_by(v, TOP_SORT_MEM);
		break;
	case 'n': case 'N':
		top_view_sort_by(v, TOP_SORT_NAME);
		break;
	case 'i': case 'I':
		top_view_sort_by(v, TOP_SORT_ID);
		break;
	case 'r': case 'R':
		v->reverse = !v->reverse;
		break;
	case '+': case '=':
		top_view_step_interval(v, true);
		return TOP_VIEW_SAMPLE;
	case '-': case '_':
		top_view_step_interval(v, false);
		return TOP_VIEW_SAMPLE;
	case KEYS_UP: case 'k':
		top_view_move(v, rows, n, -1);
		break;
	case KEYS_DOWN: case 'j':
		top_view_move(v, rows, n, 1);
		break;
	case KEYS_HOME:
		top_view_move(v, rows, n, -(int32_t)TOP_MAX_DOMS);
		break;
	case KEYS_END:
		top_view_move(v, rows, n, (int32_t)TOP_MAX_DOMS);
		break;
	case 'x': case 'X':
		v->show_exits = !v->show_exits;
		return TOP_VIEW_SAMPLE;
	case ' ': case KEYS_ENTER:
		return TOP_VIEW_SAMPLE;
	case KEYS_CTRL_L:
		return TOP_VIEW_REPAINT;
	default:
		break;
	}
	return TOP_VIEW_NONE;
}

/* Scale a value; see top_view.h. */
int top_view_fmt_scaled(uint64_t v, uint32_t div, const char *suffixes,
			uint32_t width, char *buf, size_t len)
{
	char suffix[2] = "";
	int n;

	for (;;) {
		n = snprintf(buf, len, "%*" PRIu64 "%s",
			     (int)(width - (suffix[0] ? 1 : 0)), v, suffix);
		if (n >= 0 && (uint32_t)n <= width && (size_t)n < len)
			return 0;
		if (!*suffixes || !div)
			return -ENOSPC;
		v = v / div + (v % div >= div / 2 ? 1 : 0);
		suffix[0] = *suffixes++;
	}
}

/* ---- the domain table ---- */

/* Which columns fit @cols characters: sets @use[i]. */
static void top_view_pick_cols(uint32_t cols, bool *use)
{
	uint32_t i, total = 0, drop;

	for (i = 0; i < TOP_VIEW_NR_COLS; i++) {
		use[i] = true;
		total += top_view_cols[i].width + (i ? 1 : 0);
	}
	for (drop = 4; drop > 0 && total > cols; drop--) {
		for (i = 0; i < TOP_VIEW_NR_COLS; i++) {
			if (top_view_cols[i].drop == drop && use[i]) {
				use[i] = false;
				total -= top_view_cols[i].width + 1;
			}
		}
	}
}

/* Format an I/O counter of @r (or "-" without statistics). */
static void top_view_io(const struct top_row *r, uint64_t v, uint32_t div,
			const char *suffixes, uint32_t width, char *f)
{
	if (!r->has_stats)
		snprintf(f, TOP_VIEW_FIELD_BYTES, "%*s", (int)width, "-");
	else
		top_view_fmt_scaled(v, div, suffixes, width, f,
				    TOP_VIEW_FIELD_BYTES);
}

/* Format the numeric field @id of @r into @f (@width characters). */
static void top_view_number(const struct top_row *r, enum top_view_field id,
			    uint32_t width, char *f)
{
	char t[TOP_VIEW_FIELD_BYTES];
	uint64_t mib = fmt_bytes_to_mib(r->mem_bytes);

	switch (id) {
	case TV_CPUS:
		if (!r->has_cpu_time) {
			snprintf(f, TOP_VIEW_FIELD_BYTES, "%*s", (int)width, "-");
			break;
		}
		snprintf(t, sizeof(t), "%" PRIu64 ".%" PRIu64,
			 r->cpu_ns / TOP_NS_PER_S,
			 r->cpu_ns % TOP_NS_PER_S / (TOP_NS_PER_S / 10));
		if (strlen(t) > width)
			snprintf(t, sizeof(t), "%" PRIu64, r->cpu_ns / TOP_NS_PER_S);
		snprintf(f, TOP_VIEW_FIELD_BYTES, "%*s", (int)width, t);
		break;
	case TV_CPUP:
		top_fmt_tenths(r->cpu_tenths, "-", t, sizeof(t));
		snprintf(f, TOP_VIEW_FIELD_BYTES, "%*s", (int)width, t);
		break;
	case TV_MEM:
		top_view_fmt_scaled(mib, 1024, "GT", width, f, TOP_VIEW_FIELD_BYTES);
		break;
	case TV_MAX:
		top_view_fmt_scaled(fmt_bytes_to_mib(r->max_bytes), 1024, "GT", width, f,
				    TOP_VIEW_FIELD_BYTES);
		break;
	case TV_MEMP:
		top_fmt_tenths((int32_t)r->mem_tenths, "-", t, sizeof(t));
		snprintf(f, TOP_VIEW_FIELD_BYTES, "%*s", (int)width, t);
		break;
	case TV_VCPU:
		snprintf(f, TOP_VIEW_FIELD_BYTES, "%*u", (int)width, r->vcpus);
		break;
	case TV_TX:
		top_view_io(r, r->st.net_tx_bytes / 1024, 1024, "MGT", width, f);
		break;
	case TV_RX:
		top_view_io(r, r->st.net_rx_bytes / 1024, 1024, "MGT", width, f);
		break;
	case TV_RD:
		top_view_io(r, r->st.blk_reads, 1000, "kMG", width, f);
		break;
	case TV_WR:
		top_view_io(r, r->st.blk_writes, 1000, "kMG", width, f);
		break;
	case TV_SHR:
		top_view_io(r, fmt_bytes_to_mib(domain_shared_bytes(&r->st)), 1024, "GT", width, f);
		break;
	default:
		if (r->exits_per_s < 0)
			snprintf(f, TOP_VIEW_FIELD_BYTES, "%*s", (int)width, "-");
		else
			top_view_fmt_scaled((uint64_t)r->exits_per_s, 1000, "kMG",
					    width, f, TOP_VIEW_FIELD_BYTES);
		break;
	}
}

/* Format field @id of @r into @f, @width characters. */
static void top_view_field(const struct top_row *r, enum top_view_field id,
			   uint32_t width, char *f)
{
	switch (id) {
	case TV_ID:
		snprintf(f, TOP_VIEW_FIELD_BYTES, "%*u", (int)width, r->domid);
		break;
	case TV_NAME:
		snprintf(f, TOP_VIEW_FIELD_BYTES, "%-*.*s", (int)width,
			 (int)width, r->name);
		break;
	case TV_STATE:
		snprintf(f, TOP_VIEW_FIELD_BYTES, "%-*s", (int)width,
			 r->state_str);
		break;
	default:
		top_view_number(r, id, width, f);
		break;
	}
}

/* Draw one table line at @row: labels if @r is NULL, else @r's fields. */
static void top_view_table_line(struct screen *s, uint32_t row,
				const struct top_row *r, const bool *use,
				uint8_t attr)
{
	char f[TOP_VIEW_FIELD_BYTES];
	uint32_t i, col = 0;

	screen_line_attr(s, row, attr);
	for (i = 0; i < TOP_VIEW_NR_COLS; i++) {
		const struct top_view_col *c = &top_view_cols[i];

		if (!use[i])
			continue;
		if (r)
			top_view_field(r, c->id, c->width, f);
		else
			snprintf(f, sizeof(f), c->id == TV_NAME ||
				 c->id == TV_STATE ? "%-*s" : "%*s",
				 (int)c->width, c->label);
		col = screen_put(s, row, col, attr, f) + 1;
	}
}

/* Draw the table of @n @rows on lines [@top, @bottom). */
static void top_view_table(struct screen *s, const struct top_view *v,
			   const struct top_row *rows, uint32_t n,
			   uint32_t top, uint32_t bottom)
{
	uint32_t i, sel = top_view_sel_index(v, rows, n), room, first = 0;
	bool use[TOP_VIEW_NR_COLS];

	top_view_pick_cols(s->cols, use);
	top_view_table_line(s, top, NULL, use, SCREEN_ATTR_REVERSE);
	room = bottom - top - 1;
	if (sel >= room)
		first = sel - room + 1;
	for (i = first; i < n && i - first < room; i++)
		top_view_table_line(s, top + 1 + i - first, &rows[i], use,
				    i == sel ? SCREEN_ATTR_REVERSE
					     : SCREEN_ATTR_NORMAL);
}

/* ---- details of the selected domain ---- */

/* Format @tenths as "12.3%", or "-" if it is TOP_PCT_NONE. */
static void top_view_pct(int32_t tenths, char *buf, size_t len)
{
	if (top_fmt_tenths(tenths, "-", buf, len) == 0 &&
	    tenths != TOP_PCT_NONE && strlen(buf) + 1 < len)
		strcat(buf, "%");
}

/* Draw the two detail lines of @r at @row. */
static void top_view_details(struct screen *s, uint32_t row,
			     const struct top_row *r)
{
	const struct keel_domstats *st = &r->st;
	char cpu[16], mem[16];
	uint32_t col;

	top_view_pct(r->cpu_tenths, cpu, sizeof(cpu));
	top_view_pct((int32_t)r->mem_tenths, mem, sizeof(mem));
	col = screen_printf(s, row, 0, SCREEN_ATTR_BOLD, "%s (id %u)", r->name,
			    r->domid);
	screen_printf(s, row, col + 2, SCREEN_ATTR_NORMAL,
		      "mem %" PRIu64 " MiB (%s) max %" PRIu64 " MiB, %u vCPU, "
		      "CPU %s, exits %" PRIu64, fmt_bytes_to_mib(r->mem_bytes),
		      mem, fmt_bytes_to_mib(r->max_bytes), r->vcpus, cpu,
		      r->exits);
	if (!r->has_stats) {
		screen_put(s, row + 1, 2, SCREEN_ATTR_NORMAL,
			   "net/disk: - (no KEEL_HC_DOMAIN_STATS from this "
			   "hypervisor)");
		return;
	}
	screen_printf(s, row + 1, 2, SCREEN_ATTR_NORMAL,
		      "net %u: tx %" PRIu64 " pkt %" PRIu64 "k rx %" PRIu64
		      " pkt %" PRIu64 "k drop %" PRIu64 " spoof %" PRIu64 "  disk %u: rd %" PRIu64
		      " %" PRIu64 "k wr %" PRIu64 " %" PRIu64 "k err %" PRIu64,
		      st->nr_nics, st->net_tx_packets, st->net_tx_bytes / 1024,
		      st->net_rx_packets, st->net_rx_bytes / 1024,
		      st->net_drops, st->net_spoofed, st->nr_disks, st->blk_reads,
		      st->blk_read_bytes / 1024, st->blk_writes,
		      st->blk_write_bytes / 1024, st->blk_errors);
}

/* Draw the exit profile of @r (v->exits, or a wait note) from @row on:
 * a title with the totals, a header and TOP_VIEW_EXIT_ROWS rows. */
static void top_view_exits(struct screen *s, uint32_t row, const struct top_view *v,
			   const struct top_row *r)
{
	const struct exitprof *p = v->exits;
	double secs, busy;
	uint32_t i;

	if (!p || p->domid != r->domid) {
		screen_printf(s, row, 0, SCREEN_ATTR_BOLD, "Exits of %s: measuring "
			      "(the next refresh shows them)", r->name);
		return;
	}
	secs = (double)p->now_ns / 1e9;
	busy = (double)exitprof_time_ns(p);
	screen_printf(s, row, 0, SCREEN_ATTR_BOLD, "Exits of %s: %.0f per second, "
		      "handling them takes %.2f%% of one CPU", r->name,
		      secs > 0 ? (double)p->total / secs : 0.0,
		      p->now_ns ? 100.0 * busy / (double)p->now_ns : 0.0);
	screen_printf(s, row + 1, 2, SCREEN_ATTR_REVERSE, "%-11s %-26s %10s %9s %6s",
		      "KIND", "TARGET", "PER_S", "AVG_US", "TIME%");
	for (i = 0; i < p->count && i < TOP_VIEW_EXIT_ROWS; i++) {
		const struct keel_exitstat *e = &p->e[i];
		char target[48];

		exitprof_target(e, r->domid != 0, target, sizeof(target));
		screen_printf(s, row + 2 + i, 2, SCREEN_ATTR_NORMAL,
			      "%-11s %-26s %10.1f %9.2f %5.1f%%", exitprof_kind_name(e->kind),
			      target, secs > 0 ? (double)e->count / secs : 0.0,
			      (double)e->time_ns / 1e3 / (double)e->count,
			      busy > 0 ? 100.0 * (double)e->time_ns / busy : 0.0);
	}
	if (!p->count)
		screen_put(s, row + 2, 2, SCREEN_ATTR_NORMAL, "(no exits in the interval)");
}

/* ---- header and CPUs ---- */

/* Draw the title and the two totals lines (rows 0-2). */
static void top_view_header(struct screen *s, const struct top_view *v,
			    const struct top_sample *cur,
			    const struct top_row *rows, uint32_t n)
{
	const struct keel_info *in = &cur->info;
	struct top_summary sum;
	const struct top_counts *c = &sum.counts;

	top_summarize(cur, rows, n, &sum);
	screen_line_attr(s, 0, SCREEN_ATTR_REVERSE);
	screen_printf(s, 0, 0, SCREEN_ATTR_REVERSE,
		      "keel top - Keel %s  up %s  every %u.%u s  sort %s%s",
		      sum.version, sum.uptime, v->interval_ms / 1000, v->interval_ms % 1000 / 100,
		      top_sort_name(v->sort), v->reverse ? " (reversed)" : "");
	screen_printf(s, 1, 0, SCREEN_ATTR_NORMAL,
		      "Memory MiB: %" PRIu64 " total, %" PRIu64 " dom0, %" PRIu64
		      " hypervisor, %" PRIu64 " pool, %" PRIu64 " free",
		      fmt_bytes_to_mib(in->mem_total_bytes),
		      fmt_bytes_to_mib(in->mem_dom0_bytes),
		      fmt_bytes_to_mib(in->mem_hv_bytes),
		      fmt_bytes_to_mib(in->mem_pool_total_bytes),
		      fmt_bytes_to_mib(in->mem_pool_free_bytes));
	screen_printf(s, 2, 0, SCREEN_ATTR_NORMAL,
		      "Domains: %u (%u running, %u blocked, %u paused, %u "
		      "shutdown, %u crashed)", c->total, c->running, c->blocked,
		      c->paused, c->shutdown, c->crashed);
}

/* Draw CPU @c in a cell of @width characters at @row, @col. */
static void top_view_cpu_cell(struct screen *s, uint32_t row, uint32_t col,
			      uint32_t width, const struct top_cpu_row *c)
{
	char bar[SCREEN_MAX_COLS], pct[16];
	uint32_t fixed = 13 + 9 + TOP_VIEW_WHO_CHARS, bw;

	bw = width > fixed + 4 ? width - fixed : 4;
	top_fmt_bar(c->busy_tenths, bw, bar, sizeof(bar));
	top_view_pct(c->busy_tenths, pct, sizeof(pct));
	screen_printf(s, row, col, SCREEN_ATTR_NORMAL,
		      "CPU%-3u %-4s [%s] %6s %-*.*s", c->cpu,
		      top_role_name(c->role), bar, pct,
		      (int)TOP_VIEW_WHO_CHARS, (int)TOP_VIEW_WHO_CHARS,
		      c->online ? c->who : "offline");
}

/* Lines the CPU section takes for @n_cpus CPUs. */
static uint32_t top_view_cpu_lines(uint32_t n_cpus)
{
	if (!n_cpus)
		return 1;
	return n_cpus <= TOP_VIEW_CPUS_ONE_COLUMN ? n_cpus : (n_cpus + 1) / 2;
}

/* Draw the CPU section on @lines lines from @row. */
static void top_view_cpus(struct screen *s, uint32_t row, uint32_t lines,
			  const struct top_cpu_row *cpus, uint32_t n_cpus)
{
	uint32_t i, per_line = n_cpus > TOP_VIEW_CPUS_ONE_COLUMN ? 2 : 1;
	uint32_t width = per_line == 2 ? s->cols / 2 - 1 : s->cols;

	if (!n_cpus) {
		if (lines)
			screen_put(s, row, 0, SCREEN_ATTR_NORMAL,
				   "Per-CPU figures: not available (no "
				   "KEEL_HC_CPU_STATS from this hypervisor)");
		return;
	}
	for (i = 0; i < n_cpus && i / per_line < lines; i++)
		top_view_cpu_cell(s, row + i / per_line,
				  i % per_line ? width + 2 : 0, width, &cpus[i]);
}

/* Draw the monitor; see top_view.h. */
void top_view_draw(struct screen *s, const struct top_view *v,
		   const struct top_sample *cur, const struct top_row *rows,
		   uint32_t n, const struct top_cpu_row *cpus, uint32_t n_cpus)
{
	uint32_t bottom, lines, avail, table, extra = v->show_exits ? TOP_VIEW_EXIT_ROWS + 2 : 0;

	screen_clear(s);
	top_view_header(s, v, cur, rows, n);
	bottom = screen_footer(s, TOP_VIEW_KEYS, v->hint);
	if (bottom < 3 + TOP_VIEW_DETAIL_ROWS + extra + 2)
		extra = 0;
	if (bottom < 3 + TOP_VIEW_DETAIL_ROWS + 2)
		return;
	bottom -= TOP_VIEW_DETAIL_ROWS + extra;
	if (n)
		top_view_details(s, bottom, &rows[top_view_sel_index(v, rows, n)]);
	if (n && extra)
		top_view_exits(s, bottom + TOP_VIEW_DETAIL_ROWS, v,
			       &rows[top_view_sel_index(v, rows, n)]);
	lines = top_view_cpu_lines(n_cpus);
	avail = bottom - 3; /* CPU lines, a blank, header, table rows */
	if (lines + 2 + TOP_VIEW_MIN_TABLE_ROWS > avail)
		lines = avail > 2 + TOP_VIEW_MIN_TABLE_ROWS
			? avail - 2 - TOP_VIEW_MIN_TABLE_ROWS : 0;
	top_view_cpus(s, 3, lines, cpus, n_cpus);
	table = 3 + lines + 1;
	if (table + 1 < bottom)
		top_view_table(s, v, rows, n, table, bottom);
}

/* Draw a notice; see top_view.h. */
void top_view_notice(struct screen *s, const char *title, const char *msg,
		     const char *keys, const char *hint)
{
	uint32_t row = 2, bottom, width = s->cols > 4 ? s->cols - 4 : s->cols;
	const char *p = msg;

	screen_clear(s);
	screen_line_attr(s, 0, SCREEN_ATTR_REVERSE);
	screen_put(s, 0, 0, SCREEN_ATTR_REVERSE, title);
	bottom = screen_footer(s, keys, hint);
	while (*p && row < bottom) {
		char line[SCREEN_MAX_COLS + 1];
		const char *nl = strchr(p, '\n');
		uint32_t take = nl ? (uint32_t)(nl - p) : (uint32_t)strlen(p);
		uint32_t cut;

		if (take > width) {
			for (cut = width; cut > 0 && p[cut] != ' '; cut--)
				;
			take = cut ? cut : width;
		}
		snprintf(line, sizeof(line), "%.*s", (int)take, p);
		screen_put(s, row++, 2, SCREEN_ATTR_NORMAL, line);
		p += take;
		if (*p == '\n') {
			p++;
			continue;
		}
		while (*p == ' ')
			p++;
	}
}
