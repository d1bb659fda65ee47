/*
 * Figures and batch text of `keel top` (see top.h). CPU% of a guest is
 * the growth of the hypervisor's cpu_time_ns (time in guest mode, all
 * vCPUs) between two samples over the growth of the hypervisor's clock;
 * dom0 owns its CPU, so the hypervisor's figure for it is wall time and
 * dom0's own /proc/stat is used instead. Everything here is computed
 * from samples handed in, without I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "top.h"

#define TOP_PROCSTAT_FIELDS 8u /* user nice system idle iowait irq softirq steal */
#define TOP_PROC_IDLE 3u
#define TOP_PROC_IOWAIT 4u
#define TOP_NA "-"

/* ---- /proc/stat ---- */

/*
 * Parse the numbers after a "cpu" label at @p into busy and total ticks.
 * Returns 0, or -EINVAL with fewer than the four classic fields.
 */
static int top_parse_cpu_fields(const char *p, uint64_t *busy, uint64_t *total)
{
	uint64_t v[TOP_PROCSTAT_FIELDS] = { 0 }, sum = 0;
	uint32_t i, n = 0;
	char *end;

	for (i = 0; i < TOP_PROCSTAT_FIELDS; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			break;
		v[i] = strtoull(p, &end, 10);
		p = end;
		sum += v[i];
		n++;
	}
	if (n <= TOP_PROC_IDLE)
		return -EINVAL;
	*total = sum;
	*busy = sum - v[TOP_PROC_IDLE] - v[TOP_PROC_IOWAIT];
	return 0;
}

/* Parse one line of /proc/stat starting at @line into @out. */
static void top_parse_proc_line(const char *line, struct top_procstat *out)
{
	uint64_t busy, total;
	char *end;
	unsigned long idx;

	if (strncmp(line, "cpu", 3) != 0)
		return;
	if (line[3] == ' ') {
		if (top_parse_cpu_fields(line + 3, &busy, &total) == 0) {
			out->busy_ticks = busy;
			out->total_ticks = total;
			out->valid = true;
		}
		return;
	}
	if (line[3] < '0' || line[3] > '9')
		return;
	idx = strtoul(line + 3, &end, 10);
	if (idx >= TOP_MAX_CPUS || idx != out->nr_cpus ||
	    top_parse_cpu_fields(end, &busy, &total))
		return;
	out->cpu_busy_ticks[idx] = busy;
	out->cpu_total_ticks[idx] = total;
	out->nr_cpus++;
}

/* Parse /proc/stat; see top.h. */
int top_parse_procstat(const char *text, struct top_procstat *out)
{
	const char *line = text;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		top_parse_proc_line(line, out);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return out->valid ? 0 : -EINVAL;
}

/* ---- percentages ---- */

/* CPU% from nanoseconds; see top.h. */
int32_t top_cpu_tenths(uint64_t cpu_delta_ns, uint64_t wall_delta_ns,
		       uint32_t vcpus)
{
	uint64_t t, cap = (uint64_t)(vcpus ? vcpus : 1) * TOP_TENTHS_PER_CPU;

	if (!wall_delta_ns)
		return TOP_PCT_NONE;
	t = (cpu_delta_ns * TOP_TENTHS_PER_CPU + wall_delta_ns / 2) /
	    wall_delta_ns;
	return (int32_t)(t > cap ? cap : t);
}

/* Busy% from /proc/stat ticks; see top.h. */
int32_t top_ticks_tenths(uint64_t busy_delta, uint64_t total_delta,
			 uint32_t nr_cpus)
{
	uint64_t t, n = nr_cpus ? nr_cpus : 1;

	if (!total_delta)
		return TOP_PCT_NONE;
	if (busy_delta > total_delta)
		busy_delta = total_delta;
	t = (busy_delta * TOP_TENTHS_PER_CPU * n + total_delta / 2) /
	    total_delta;
	return (int32_t)t;
}

/* ---- rows ---- */

/* The entry of @s for domain @d (same id and name), or NULL. */
static const struct keel_dominfo *top_find_dom(const struct top_sample *s,
					       const struct keel_dominfo *d)
{
	uint32_t i;

	for (i = 0; s && i < s->n_doms; i++) {
		if (s->doms[i].domid == d->domid &&
		    memcmp(s->doms[i].name, d->name, sizeof(d->name)) == 0)
			return &s->doms[i];
	}
	return NULL;
}

/* The statistics of domain @domid in @s, or NULL. */
static const struct keel_domstats *top_find_stats(const struct top_sample *s,
						  uint32_t domid)
{
	uint32_t i;

	for (i = 0; s->has_stats && i < s->n_stats; i++) {
		if (s->stats[i].domid == domid)
			return &s->stats[i];
	}
	return NULL;
}

/* Fill dom0's CPU time and CPU% of @r from /proc/stat. */
static void top_dom0_cpu(const struct top_sample *prev,
			 const struct top_sample *cur, struct top_row *r)
{
	const struct top_procstat *p = &cur->proc;
	uint32_t n = p->nr_cpus ? p->nr_cpus : r->vcpus;

	if (!p->valid || !cur->clk_tck)
		return;
	r->has_cpu_time = true;
	r->cpu_ns = p->busy_ticks * (TOP_NS_PER_S / cur->clk_tck);
	if (!prev || !prev->proc.valid ||
	    p->busy_ticks < prev->proc.busy_ticks ||
	    p->total_ticks < prev->proc.total_ticks)
		return;
	r->cpu_tenths = top_ticks_tenths(p->busy_ticks - prev->proc.busy_ticks,
					 p->total_ticks - prev->proc.total_ticks,
					 n);
}

/* Fill a guest's CPU% and everyone's exits/s of @r from @old (the same
 * domain in the previous sample) and @d. */
static void top_rates(const struct top_sample *prev,
		      const struct top_sample *cur,
		      const struct keel_dominfo *old,
		      const struct keel_dominfo *d, struct top_row *r)
{
	uint64_t dt;

	if (!old || cur->now_ns <= prev->now_ns)
		return;
	dt = cur->now_ns - prev->now_ns;
	if (d->domid != 0 && d->cpu_time_ns >= old->cpu_time_ns)
		r->cpu_tenths = top_cpu_tenths(d->cpu_time_ns - old->cpu_time_ns,
					       dt, d->nr_vcpus);
	if (d->exits >= old->exits)
		r->exits_per_s = (int64_t)((double)(d->exits - old->exits) *
					   (double)TOP_NS_PER_S / (double)dt +
					   0.5);
}

/* Compute the row of domain @d of @cur into @r. */
static void top_row_fill(const struct top_sample *prev,
			 const struct top_sample *cur,
			 const struct keel_dominfo *d, struct top_row *r)
{
	const struct keel_domstats *st = top_find_stats(cur, d->domid);
	uint64_t total = cur->info.mem_total_bytes;

	memset(r, 0, sizeof(*r));
	r->domid = d->domid;
	r->state = d->state;
	domain_name(d, r->name, sizeof(r->name));
	domain_state_str(d, r->state_str);
	r->vcpus = d->nr_vcpus;
	r->mem_bytes = d->mem_bytes;
	r->max_bytes = cur->ram_bytes[d - cur->doms] ? cur->ram_bytes[d - cur->doms] : d->mem_bytes;
	r->mem_tenths = total ? (uint32_t)(d->mem_bytes * TOP_TENTHS_PER_CPU /
					   total) : 0;
	r->max_tenths = total ? (uint32_t)(r->max_bytes * TOP_TENTHS_PER_CPU / total) : 0;
	r->exits = d->exits;
	r->cpu_tenths = TOP_PCT_NONE;
	r->exits_per_s = TOP_PCT_NONE;
	if (d->domid == 0) {
		top_dom0_cpu(prev, cur, r);
	} else {
		r->has_cpu_time = true;
		r->cpu_ns = d->cpu_time_ns;
	}
	if (prev)
		top_rates(prev, cur, top_find_dom(prev, d), d, r);
	if (st) {
		r->has_stats = true;
		r->st = *st;
	}
}

/* Compute the domain rows; see top.h. */
uint32_t top_compute(const struct top_sample *prev,
		     const struct top_sample *cur, struct top_row *rows,
		     uint32_t max)
{
	uint32_t i, n = cur->n_doms < max ? cur->n_doms : max;

	for (i = 0; i < n; i++)
		top_row_fill(prev, cur, &cur->doms[i], &rows[i]);
	return n;
}

/* ---- CPUs ---- */

/* The statistics of CPU @cpu in @s, or NULL. */
static const struct keel_cpustat *top_find_cpu(const struct top_sample *s,
					       uint32_t cpu)
{
	uint32_t i;

	for (i = 0; s && s->has_cpus && i < s->n_cpus; i++) {
		if (s->cpus[i].cpu == cpu)
			return &s->cpus[i];
	}
	return NULL;
}

/* Who runs on CPU @c of @cur, into @r->who. */
static void top_cpu_who(const struct top_sample *cur,
			const struct keel_cpustat *c, struct top_cpu_row *r)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	uint32_t i;

	if (c->role == KEEL_CPU_ROLE_DOM0) {
		snprintf(r->who, sizeof(r->who), "%s", DOMAIN_DOM0_NAME);
		return;
	}
	if (c->domid == KEEL_CPU_DOMID_NONE) {
		snprintf(r->who, sizeof(r->who), "idle");
		return;
	}
	for (i = 0; i < cur->n_doms; i++) {
		if (cur->doms[i].domid == c->domid) {
			domain_name(&cur->doms[i], name, sizeof(name));
			snprintf(r->who, sizeof(r->who), "%s/%u", name,
				 c->vcpu);
			return;
		}
	}
	snprintf(r->who, sizeof(r->who), "dom%u/%u", c->domid, c->vcpu);
}

/* Busy% of dom0's @k-th CPU from /proc/stat. */
static int32_t top_dom0_cpu_busy(const struct top_sample *prev,
				 const struct top_sample *cur, uint32_t k)
{
	const struct top_procstat *p = &cur->proc, *q;

	if (!prev || !p->valid || !prev->proc.valid)
		return TOP_PCT_NONE;
	q = &prev->proc;
	if (k >= p->nr_cpus || k >= q->nr_cpus ||
	    p->cpu_busy_ticks[k] < q->cpu_busy_ticks[k] ||
	    p->cpu_total_ticks[k] < q->cpu_total_ticks[k])
		return TOP_PCT_NONE;
	return top_ticks_tenths(p->cpu_busy_ticks[k] - q->cpu_busy_ticks[k],
				p->cpu_total_ticks[k] - q->cpu_total_ticks[k],
				1);
}

/* Busy% of guest-pool CPU @c from the hypervisor's busy_ns. */
static int32_t top_pool_cpu_busy(const struct top_sample *prev,
				 const struct top_sample *cur,
				 const struct keel_cpustat *c)
{
	const struct keel_cpustat *old = top_find_cpu(prev, c->cpu);

	if (!old || cur->cpus_now_ns <= prev->cpus_now_ns ||
	    c->busy_ns < old->busy_ns)
		return TOP_PCT_NONE;
	return top_cpu_tenths(c->busy_ns - old->busy_ns,
			      cur->cpus_now_ns - prev->cpus_now_ns, 1);
}

/* Compute the CPU rows; see top.h. */
uint32_t top_compute_cpus(const struct top_sample *prev,
			  const struct top_sample *cur,
			  struct top_cpu_row *rows, uint32_t max)
{
	uint32_t i, n = 0, k = 0;

	for (i = 0; cur->has_cpus && i < cur->n_cpus && n < max; i++) {
		const struct keel_cpustat *c = &cur->cpus[i];
		struct top_cpu_row *r = &rows[n++];

		memset(r, 0, sizeof(*r));
		r->cpu = c->cpu;
		r->role = c->role;
		r->nr_vcpus = c->nr_vcpus;
		r->online = c->online != 0;
		top_cpu_who(cur, c, r);
		if (c->role == KEEL_CPU_ROLE_DOM0)
			r->busy_tenths = top_dom0_cpu_busy(prev, cur, k++);
		else
			r->busy_tenths = top_pool_cpu_busy(prev, cur, c);
	}
	return n;
}

/* ---- sorting and counting ---- */

/* Compare @a and @b by @key: < 0 if @a comes first (before reversal). */
static int top_cmp(const struct top_row *a, const struct top_row *b,
		   enum top_sort key)
{
	int c = 0;

	switch (key) {
	case TOP_SORT_CPU:
		c = (a->cpu_tenths < b->cpu_tenths) - (a->cpu_tenths > b->cpu_tenths);
		break;
	case TOP_SORT_MEM:
		c = (a->mem_bytes < b->mem_bytes) - (a->mem_bytes > b->mem_bytes);
		break;
	case TOP_SORT_NAME:
		c = strcmp(a->name, b->name);
		break;
	case TOP_SORT_ID:
		c = (a->domid > b->domid) - (a->domid < b->domid);
		break;
	}
	return c;
}

/* Sort rows; see top.h. */
void top_sort(struct top_row *rows, uint32_t n, enum top_sort key,
	      bool reverse)
{
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		struct top_row tmp = rows[i];

		for (j = i; j > 0; j--) {
			int c = top_cmp(&tmp, &rows[j - 1], key);

			if (reverse)
				c = -c;
			if (c == 0)
				c = (tmp.domid > rows[j - 1].domid) -
				    (tmp.domid < rows[j - 1].domid);
			if (c >= 0)
				break;
			rows[j] = rows[j - 1];
		}
		rows[j] = tmp;
	}
}

/* Name of a sort order; see top.h. */
const char *top_sort_name(enum top_sort key)
{
	switch (key) {
	case TOP_SORT_CPU:
		return "CPU%";
	case TOP_SORT_MEM:
		return "memory";
	case TOP_SORT_NAME:
		return "name";
	default:
		return "id";
	}
}

/* Count domains by state; see top.h. */
void top_count(const struct top_row *rows, uint32_t n, struct top_counts *out)
{
	uint32_t i;

	memset(out, 0, sizeof(*out));
	out->total = n;
	for (i = 0; i < n; i++) {
		switch (rows[i].state) {
		case KEEL_DOMSTATE_RUNNING:
			out->running++;
			break;
		case KEEL_DOMSTATE_BLOCKED:
			out->blocked++;
			break;
		case KEEL_DOMSTATE_PAUSED:
			out->paused++;
			break;
		case KEEL_DOMSTATE_SHUTDOWN:
			out->shutdown++;
			break;
		case KEEL_DOMSTATE_CRASHED:
			out->crashed++;
			break;
		default:
			out->building++;
			break;
		}
	}
}

/* ---- formatting ---- */

/* Format tenths; see top.h. */
int top_fmt_tenths(int32_t tenths, const char *none, char *buf, size_t len)
{
	int n;

	if (tenths == TOP_PCT_NONE)
		n = snprintf(buf, len, "%s", none);
	else
		n = snprintf(buf, len, "%d.%d", tenths / 10, tenths % 10);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* Format a duration; see top.h. */
int top_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / TOP_NS_PER_S, d = s / 86400;
	int n;

	s %= 86400;
	if (d)
		n = snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64
			     ":%02" PRIu64, d, s / 3600, s / 60 % 60, s % 60);
	else
		n = snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
			     s / 3600, s / 60 % 60, s % 60);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* Draw a bar; see top.h. */
int top_fmt_bar(int32_t tenths, uint32_t width, char *buf, size_t len)
{
	uint32_t i, fill;

	if (width >= len)
		return -ENOSPC;
	if (tenths < 0)
		fill = 0;
	else if (tenths >= TOP_TENTHS_PER_CPU)
		fill = width;
	else
		fill = ((uint32_t)tenths * width + TOP_TENTHS_PER_CPU / 2) /
		       TOP_TENTHS_PER_CPU;
	for (i = 0; i < width; i++)
		buf[i] = tenths == TOP_PCT_NONE ? '?' : i < fill ? '|' : '.';
	buf[width] = '\0';
	return 0;
}

/* A batch column: xentop's name (or ours) and its width. */
struct top_bcol {
	const char *label;
	uint32_t width;
};

/* The columns of `keel top -b`, in order (docs/toolstack.md). */
static const struct top_bcol top_bcols[] = {
	{ "NAME", 10 },	     { "STATE", 6 },	  { "CPU(sec)", 10 },
	{ "CPU(%)", 6 },     { "MEM(k)", 10 },	  { "MEM(%)", 6 },
	{ "MAXMEM(k)", 10 }, { "MAXMEM(%)", 9 },  { "VCPUS", 5 },
	{ "NETS", 4 },	     { "NETTX(k)", 8 },	  { "NETRX(k)", 8 },
	{ "VBDS", 4 },	     { "VBD_RD", 8 },	  { "VBD_WR", 8 },
	{ "VBD_RSECT", 10 }, { "VBD_WSECT", 10 }, { "ID", 5 },
	{ "EXITS/s", 8 },    { "NETTX_PKT", 9 },  { "NETRX_PKT", 9 },
	{ "NET_SPOOF", 9 },  { "HV_MEM(k)", 9 },  { "SHARED(k)", 9 },
};

#define TOP_NR_BCOLS (sizeof(top_bcols) / sizeof(top_bcols[0]))
#define TOP_FIELD_BYTES 40u

/* Format @v into @f, or "-" if @known is false. */
static void top_field_u64(char *f, bool known, uint64_t v)
{
	if (known)
		snprintf(f, TOP_FIELD_BYTES, "%" PRIu64, v);
	else
		snprintf(f, TOP_FIELD_BYTES, TOP_NA);
}

/* The network and disk fields of @r into @f[10..16] and @f[19..21], the
 * hypervisor's memory for it into @f[22], and its RAM still shared
 * copy-on-write with a clone or its source into @f[23]. */
static void top_batch_io_fields(const struct top_row *r,
				char f[][TOP_FIELD_BYTES])
{
	const struct keel_domstats *s = &r->st;
	bool k = r->has_stats;

	top_field_u64(f[9], k, s->nr_nics);
	top_field_u64(f[10], k, s->net_tx_bytes / 1024);
	top_field_u64(f[11], k, s->net_rx_bytes / 1024);
	top_field_u64(f[12], k, s->nr_disks);
	top_field_u64(f[13], k, s->blk_reads);
	top_field_u64(f[14], k, s->blk_writes);
	top_field_u64(f[15], k, s->blk_read_bytes / TOP_BYTES_PER_SECTOR);
	top_field_u64(f[16], k, s->blk_write_bytes / TOP_BYTES_PER_SECTOR);
	top_field_u64(f[19], k, s->net_tx_packets);
	top_field_u64(f[20], k, s->net_rx_packets);
	top_field_u64(f[21], k, s->net_spoofed);
	top_field_u64(f[22], k, s->hv_bytes / 1024);
	top_field_u64(f[23], k, domain_shared_bytes(s) / 1024);
}

/* The fields of one batch line for @r into @f (TOP_NR_BCOLS entries). */
static void top_batch_fields(const struct top_row *r, char f[][TOP_FIELD_BYTES])
{
	snprintf(f[0], TOP_FIELD_BYTES, "%s", r->name);
	snprintf(f[1], TOP_FIELD_BYTES, "%s", r->state_str);
	top_field_u64(f[2], r->has_cpu_time, r->cpu_ns / TOP_NS_PER_S);
	top_fmt_tenths(r->cpu_tenths, "0.0", f[3], TOP_FIELD_BYTES);
	top_field_u64(f[4], true, r->mem_bytes / 1024);
	top_fmt_tenths((int32_t)r->mem_tenths, TOP_NA, f[5], TOP_FIELD_BYTES);
	top_field_u64(f[6], true, r->max_bytes / 1024);
	top_fmt_tenths((int32_t)r->max_tenths, TOP_NA, f[7], TOP_FIELD_BYTES);
	top_field_u64(f[8], true, r->vcpus);
	top_batch_io_fields(r, f);
	top_field_u64(f[17], true, r->domid);
	top_field_u64(f[18], r->exits_per_s >= 0, (uint64_t)r->exits_per_s);
}

/* Append one line of right-aligned columns @f (labels if NULL). */
static void top_batch_line(struct fmt_buf *b, char f[][TOP_FIELD_BYTES])
{
	uint32_t i;

	for (i = 0; i < TOP_NR_BCOLS; i++)
		fmt_buf_add(b, "%s%*s", i ? " " : "", (int)top_bcols[i].width,
			f ? f[i] : top_bcols[i].label);
	fmt_buf_add(b, "\n");
}

/* Summarize a sample; see top.h. */
void top_summarize(const struct top_sample *cur, const struct top_row *rows,
		   uint32_t n, struct top_summary *out)
{
	_Static_assert(sizeof(out->version) > sizeof(cur->info.hv_version_str),
		       "room for the version and a NUL");
	top_fmt_duration(cur->now_ns, out->uptime, sizeof(out->uptime));
	fmt_field_str(cur->info.hv_version_str, sizeof(cur->info.hv_version_str),
		      out->version, sizeof(out->version));
	top_count(rows, n, &out->counts);
}

/* Append the summary lines of a batch block. */
static void top_batch_summary(struct fmt_buf *b, const struct top_sample *cur,
			      const struct top_row *rows, uint32_t n,
			      uint32_t interval_ms)
{
	const struct keel_info *in = &cur->info;
	struct top_summary sum;
	const struct top_counts *c = &sum.counts;

	top_summarize(cur, rows, n, &sum);
	fmt_buf_add(b, "keel top - uptime %s, Keel %s, interval %u.%u s\n",
		    sum.uptime, sum.version, interval_ms / 1000,
		    interval_ms % 1000 / 100);
	fmt_buf_add(b, "%u domains: %u running, %u blocked, %u paused, %u "
		"shutdown, %u crashed, %u building\n", c->total, c->running,
		c->blocked, c->paused, c->shutdown, c->crashed, c->building);
	fmt_buf_add(b, "Mem: %" PRIu64 "k total, %" PRIu64 "k dom0, %" PRIu64
		"k hypervisor, %" PRIu64 "k pool, %" PRIu64 "k free    CPUs: %u"
		" (dom0 %u, pool %u)\n", in->mem_total_bytes / 1024,
		in->mem_dom0_bytes / 1024, in->mem_hv_bytes / 1024,
		in->mem_pool_total_bytes / 1024, in->mem_pool_free_bytes / 1024,
		in->cpus_total, in->cpus_dom0, in->cpus_pool);
}

/* Name of CPU role @role; see top.h. */
const char *top_role_name(uint32_t role)
{
	if (role == KEEL_CPU_ROLE_DOM0)
		return "dom0";
	if (role == KEEL_CPU_ROLE_IDLE)
		return "idle";
	return role == KEEL_CPU_ROLE_POOL ? "pool" : "-";
}

/* Append the per-CPU table of a batch block. */
static void top_batch_cpus(struct fmt_buf *b, const struct top_cpu_row *cpus,
			   uint32_t n)
{
	char busy[16];
	uint32_t i;

	if (!n)
		return;
	fmt_buf_add(b, "%4s %-4s %7s %5s %s\n", "CPU", "ROLE", "BUSY(%)", "VCPUS",
		"DOMAIN");
	for (i = 0; i < n; i++) {
		top_fmt_tenths(cpus[i].busy_tenths, TOP_NA, busy, sizeof(busy));
		fmt_buf_add(b, "%4u %-4s %7s %5u %s%s\n", cpus[i].cpu,
			top_role_name(cpus[i].role), busy, cpus[i].nr_vcpus,
			cpus[i].who, cpus[i].online ? "" : " (offline)");
	}
}

/* Format one batch block; see top.h. */
int top_format_batch(const struct top_sample *cur, const struct top_row *rows,
		     uint32_t n, const struct top_cpu_row *cpus,
		     uint32_t n_cpus, uint32_t interval_ms, char *buf,
		     size_t len)
{
	struct fmt_buf b;
	char f[TOP_NR_BCOLS][TOP_FIELD_BYTES];
	uint32_t i;

	fmt_buf_init(&b, buf, len);
	if (b.err)
		return b.err;
	top_batch_summary(&b, cur, rows, n, interval_ms);
	top_batch_line(&b, NULL);
	for (i = 0; i < n; i++) {
		top_batch_fields(&rows[i], f);
		top_batch_line(&b, f);
	}
	top_batch_cpus(&b, cpus, n_cpus);
	fmt_buf_add(&b, "\n");
	return b.err ? b.err : (int)b.pos;
}

/* ---- command line ---- */

/* Parse an interval; see top.h. */
int top_parse_interval(const char *text, uint32_t min_ms, uint32_t max_ms,
		       uint32_t *ms)
{
	uint64_t whole = 0, frac = 0, scale = 1000;
	const char *p = text;
	uint32_t digits = 0;

	for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		whole = whole * 10 + (uint64_t)(*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9' && scale > 1; p++, digits++) {
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	if (*p || !digits)
		return -EINVAL;
	whole = whole * 1000 + frac;
	if (whole < min_ms || whole > max_ms)
		return -EINVAL;
	*ms = (uint32_t)whole;
	return 0;
}

/* Parse a count; see top.h. */
int top_parse_count(const char *text, uint32_t *n)
{
	uint32_t v = 0, digits = 0;
	const char *p;

	for (p = text; *p; p++, digits++) {
		if (*p < '0' || *p > '9' || digits >= 9)
			return -EINVAL;
		v = v * 10 + (uint32_t)(*p - '0');
	}
	if (!digits || !v)
		return -EINVAL;
	*n = v;
	return 0;
}
