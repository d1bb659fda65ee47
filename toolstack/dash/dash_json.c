/*
 * The dashboard's figures: each domain's history (CPU% points, and byte
 * rates from the change of its counters between two samples), and the
 * state document, one line of JSON with the summary `keel top -b` prints,
 * a row per domain with the same figures as its table, a row per
 * physical CPU, the compatibility report and the presets. Pure code; see
 * dash.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "format.h"

/* Whether history slot @d is domain @r's (the same id and name). */
static bool dash_hist_is(const struct dash_hist_dom *d, const struct top_row *r)
{
	return d->domid == r->domid && strcmp(d->name, r->name) == 0;
}

/* Bytes per second from counter @was to @now over @dt_ns; -1 if the
 * counter went back or no time passed. */
static int64_t dash_rate(uint64_t was, uint64_t now, uint64_t dt_ns)
{
	if (now < was || !dt_ns)
		return -1;
	return (int64_t)((double)(now - was) * 1e9 / (double)dt_ns);
}

/* Move @r's new figures into its history slot @d (at @now_ns). */
static void dash_hist_add(struct dash_hist_dom *d, const struct top_row *r, uint64_t now_ns)
{
	const struct keel_domstats *s = &r->st;
	uint64_t secs = 1;

	if (d->has_pts) {
		secs = now_ns > d->pts_ns ? (now_ns - d->pts_ns) / TOP_NS_PER_S : 0;
		d->pts_ns += secs * TOP_NS_PER_S; /* the rest of a second carries over */
	} else {
		d->has_pts = true;
		d->pts_ns = now_ns;
	}
	for (secs = secs < DASH_HIST_POINTS ? secs : DASH_HIST_POINTS; secs; secs--) {
		d->cpu_tenths[d->head] = r->cpu_tenths;
		d->head = (d->head + 1) % DASH_HIST_POINTS;
		if (d->n < DASH_HIST_POINTS)
			d->n++;
	}
	d->net_rx_bps = d->net_tx_bps = d->blk_rd_bps = d->blk_wr_bps = -1;
	if (!r->has_stats) {
		d->has_last = false;
		return;
	}
	if (d->has_last && now_ns > d->last_ns) {
		uint64_t dt = now_ns - d->last_ns;

		d->net_rx_bps = dash_rate(d->last_net_rx, s->net_rx_bytes, dt);
		d->net_tx_bps = dash_rate(d->last_net_tx, s->net_tx_bytes, dt);
		d->blk_rd_bps = dash_rate(d->last_blk_rd, s->blk_read_bytes, dt);
		d->blk_wr_bps = dash_rate(d->last_blk_wr, s->blk_write_bytes, dt);
	}
	d->has_last = true;
	d->last_ns = now_ns;
	d->last_net_rx = s->net_rx_bytes;
	d->last_net_tx = s->net_tx_bytes;
	d->last_blk_rd = s->blk_read_bytes;
	d->last_blk_wr = s->blk_write_bytes;
}

/* Add a sample to the history; see dash.h. In place: row i's slot is
 * swapped to index i, a new domain's slot goes there (what was there
 * moves to the end while there is room), and slots past the rows go. */
void dash_hist_push(struct dash_hist *h, const struct top_row *rows, uint32_t n,
		    uint64_t now_ns)
{
	struct dash_hist_dom tmp;
	uint32_t i, j;

	if (n > TOP_MAX_DOMS)
		n = TOP_MAX_DOMS;
	for (i = 0; i < n; i++) {
		struct dash_hist_dom *d = &h->doms[i];

		for (j = i; j < h->n && !dash_hist_is(&h->doms[j], &rows[i]); j++)
			;
		if (j < h->n && j != i) {
			tmp = *d;
			*d = h->doms[j];
			h->doms[j] = tmp;
		} else if (j >= h->n) {
			if (i < h->n && h->n < TOP_MAX_DOMS)
				h->doms[h->n++] = *d;
			memset(d, 0, sizeof(*d));
			d->domid = rows[i].domid;
			snprintf(d->name, sizeof(d->name), "%s", rows[i].name);
			if (i >= h->n)
				h->n = i + 1;
		}
		dash_hist_add(d, &rows[i], now_ns);
	}
	h->n = n;
}

/* The history of @domid; see dash.h. */
const struct dash_hist_dom *dash_hist_find(const struct dash_hist *h, uint32_t domid)
{
	uint32_t i;

	for (i = 0; i < h->n; i++)
		if (h->doms[i].domid == domid)
			return &h->doms[i];
	return NULL;
}

/* Append @tenths as a JSON number with one decimal, or null. */
static void dash_json_tenths(struct fmt_buf *b, int32_t tenths)
{
	if (tenths == TOP_PCT_NONE)
		fmt_buf_add(b, "null");
	else
		fmt_buf_add(b, "%d.%d", tenths / 10, tenths % 10);
}

/* Append @v, or null if it is negative (not known). */
static void dash_json_i64(struct fmt_buf *b, int64_t v)
{
	if (v < 0)
		fmt_buf_add(b, "null");
	else
		fmt_buf_add(b, "%" PRId64, v);
}

/* Append the CPU% history of @d, oldest first. */
static void dash_json_hist(struct fmt_buf *b, const struct dash_hist_dom *d)
{
	uint32_t i, start;

	fmt_buf_add(b, "[");
	if (d) {
		start = (d->head + DASH_HIST_POINTS - d->n) % DASH_HIST_POINTS;
		for (i = 0; i < d->n; i++) {
			fmt_buf_add(b, i ? "," : "");
			dash_json_tenths(b, d->cpu_tenths[(start + i) % DASH_HIST_POINTS]);
		}
	}
	fmt_buf_add(b, "]");
}

/* Append one domain row. */
static void dash_json_dom(struct fmt_buf *b, const struct top_row *r,
			  const struct dash_hist_dom *d)
{
	fmt_buf_add(b, "{\"id\":%u,\"name\":", r->domid);
	fmt_json_str(b, r->name);
	fmt_buf_add(b, ",\"state\":");
	fmt_json_str(b, r->state_str);
	fmt_buf_add(b, ",\"vcpus\":%u,\"cpu\":", r->vcpus);
	dash_json_tenths(b, r->cpu_tenths);
	fmt_buf_add(b, ",\"cpu_s\":");
	dash_json_i64(b, r->has_cpu_time ? (int64_t)(r->cpu_ns / TOP_NS_PER_S) : -1);
	fmt_buf_add(b, ",\"mem_k\":%" PRIu64 ",\"max_k\":%" PRIu64 ",\"exits_per_s\":",
		    r->mem_bytes / 1024, r->max_bytes / 1024);
	dash_json_i64(b, r->exits_per_s);
	fmt_buf_add(b, ",\"nics\":");
	dash_json_i64(b, r->has_stats ? (int64_t)r->st.nr_nics : -1);
	fmt_buf_add(b, ",\"disks\":");
	dash_json_i64(b, r->has_stats ? (int64_t)r->st.nr_disks : -1);
	fmt_buf_add(b, ",\"net_rx_Bps\":");
	dash_json_i64(b, d ? d->net_rx_bps : -1);
	fmt_buf_add(b, ",\"net_tx_Bps\":");
	dash_json_i64(b, d ? d->net_tx_bps : -1);
	fmt_buf_add(b, ",\"disk_rd_Bps\":");
	dash_json_i64(b, d ? d->blk_rd_bps : -1);
	fmt_buf_add(b, ",\"disk_wr_Bps\":");
	dash_json_i64(b, d ? d->blk_wr_bps : -1);
	fmt_buf_add(b, ",\"cpu_hist\":");
	dash_json_hist(b, d);
	fmt_buf_add(b, "}");
}

/* Append the summary: what the first lines of `keel top -b` say. */
static void dash_json_summary(struct fmt_buf *b, const struct top_sample *cur,
			      const struct top_row *rows, uint32_t n)
{
	const struct keel_info *in = &cur->info;
	struct top_summary sum;
	const struct top_counts *c = &sum.counts;

	top_summarize(cur, rows, n, &sum);
	fmt_buf_add(b, "\"version\":");
	fmt_json_str(b, sum.version);
	fmt_buf_add(b, ",\"uptime\":");
	fmt_json_str(b, sum.uptime);
	fmt_buf_add(b, ",\"counts\":{\"total\":%u,\"running\":%u,\"blocked\":%u,\"paused\":%u,"
		    "\"shutdown\":%u,\"crashed\":%u,\"building\":%u}", c->total, c->running,
		    c->blocked, c->paused, c->shutdown, c->crashed, c->building);
	fmt_buf_add(b, ",\"mem_k\":{\"total\":%" PRIu64 ",\"dom0\":%" PRIu64 ",\"hypervisor\":%"
		    PRIu64 ",\"pool\":%" PRIu64 ",\"free\":%" PRIu64 "}", in->mem_total_bytes / 1024,
		    in->mem_dom0_bytes / 1024, in->mem_hv_bytes / 1024,
		    in->mem_pool_total_bytes / 1024, in->mem_pool_free_bytes / 1024);
	fmt_buf_add(b, ",\"cpus_total\":%u,\"cpus_dom0\":%u,\"cpus_pool\":%u", in->cpus_total,
		    in->cpus_dom0, in->cpus_pool);
}

/* Append the per-CPU rows. */
static void dash_json_cpus(struct fmt_buf *b, const struct top_cpu_row *cpus, uint32_t n)
{
	uint32_t i;

	fmt_buf_add(b, "[");
	for (i = 0; i < n; i++) {
		fmt_buf_add(b, "%s{\"cpu\":%u,\"role\":", i ? "," : "", cpus[i].cpu);
		fmt_json_str(b, top_role_name(cpus[i].role));
		fmt_buf_add(b, ",\"online\":%s,\"vcpus\":%u,\"busy\":",
			    cpus[i].online ? "true" : "false", cpus[i].nr_vcpus);
		dash_json_tenths(b, cpus[i].busy_tenths);
		fmt_buf_add(b, ",\"who\":");
		fmt_json_str(b, cpus[i].who);
		fmt_buf_add(b, "}");
	}
	fmt_buf_add(b, "]");
}

/* Write the state document; see dash.h. */
int dash_json_state(const struct top_sample *cur, const struct top_row *rows, uint32_t n,
		    const struct top_cpu_row *cpus, uint32_t n_cpus, const struct dash_hist *h,
		    const struct dash_extra *x, char *buf, size_t len)
{
	struct fmt_buf b;
	uint32_t i;

	fmt_buf_init(&b, buf, len);
	fmt_buf_add(&b, "{");
	dash_json_summary(&b, cur, rows, n);
	fmt_buf_add(&b, ",\"domains\":[");
	for (i = 0; i < n; i++) {
		fmt_buf_add(&b, i ? "," : "");
		dash_json_dom(&b, &rows[i], dash_hist_find(h, rows[i].domid));
	}
	fmt_buf_add(&b, "],\"cpus\":");
	dash_json_cpus(&b, cpus, n_cpus);
	fmt_buf_add(&b, ",\"presets\":[");
	for (i = 0; i < x->n_presets; i++) {
		fmt_buf_add(&b, i ? "," : "");
		fmt_json_str(&b, x->presets[i]);
	}
	fmt_buf_add(&b, "],\"compat\":");
	fmt_json_str(&b, x->compat ? x->compat : "");
	fmt_buf_add(&b, ",\"last_action\":");
	if (x->last_action)
		fmt_json_str(&b, x->last_action);
	else
		fmt_buf_add(&b, "null");
	fmt_buf_add(&b, ",\"control\":%s}", x->control ? "true" : "false");
	return b.err ? b.err : (int)b.pos;
}
