/*
 * Host unit tests of `keel top`'s pure parts and the terminal pieces it
 * shares with `keel starter`: CPU% and exits/s from pairs of fake samples
 * (busy, idle and 2-vCPU guests, dom0 from /proc/stat, domains recreated
 * with another id, zero intervals, counters going backwards), per-CPU
 * busy%, /proc/stat parsing, sorting, the batch text against the golden
 * file data/top/batch.txt, the interactive view (column choice at 80
 * columns, keys, scaled numbers, a drawn frame), argument parsing, the
 * key decoder (sequences split over reads, lone Esc, CR LF) and the
 * screen renderer (changed lines only, never the last cell).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/core/format.c"
#include "../../toolstack/core/domain.c"
#include "../../toolstack/core/exitprof.c"
#include "../../toolstack/tui/keys.c"
#include "../../toolstack/tui/screen.c"
#include "../../toolstack/tui/top.c"
#include "../../toolstack/tui/top_view.c"

#include "harness.h"

#define NS UINT64_C(1000000000)
#define MIB (UINT64_C(1) << 20)
#define GOLDEN "data/top/batch.txt"

/* ---- stubs for domain.c (no hypervisor in these tests) ---- */

#include "stub_hcall.h"

/* ---- fake samples ---- */

/* Add domain @id called @name to @s. */
static struct keel_dominfo *add_dom(struct top_sample *s, uint32_t id,
				    const char *name, uint32_t state,
				    uint32_t vcpus, uint64_t mem_mib,
				    uint64_t cpu_ns, uint64_t exits)
{
	struct keel_dominfo *d = &s->doms[s->n_doms++];

	memset(d, 0, sizeof(*d));
	d->domid = id;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->state = state;
	d->nr_vcpus = vcpus;
	d->mem_bytes = mem_mib * MIB;
	d->cpu_time_ns = cpu_ns;
	d->exits = exits;
	return d;
}

/* Fill the keel_info part of @s at hypervisor time @now_ns. */
static void base_sample(struct top_sample *s, uint64_t now_ns)
{
	memset(s, 0, sizeof(*s));
	s->now_ns = now_ns;
	s->info.uptime_ns = now_ns;
	snprintf(s->info.hv_version_str, sizeof(s->info.hv_version_str),
		 "0.1.0");
	s->info.mem_total_bytes = 2048 * MIB;
	s->info.mem_dom0_bytes = 1024 * MIB;
	s->info.mem_hv_bytes = 64 * MIB;
	s->info.mem_pool_total_bytes = 960 * MIB;
	s->info.mem_pool_free_bytes = 576 * MIB;
	s->info.cpus_total = 4;
	s->info.cpus_dom0 = 1;
	s->info.cpus_pool = 3;
	s->clk_tck = 100;
}

/* Set dom0's /proc/stat figures of @s. */
static void set_proc(struct top_sample *s, uint64_t busy, uint64_t total)
{
	s->proc.valid = true;
	s->proc.busy_ticks = busy;
	s->proc.total_ticks = total;
	s->proc.nr_cpus = 1;
	s->proc.cpu_busy_ticks[0] = busy;
	s->proc.cpu_total_ticks[0] = total;
}

/* Add statistics for @id to @s. */
static void add_stats(struct top_sample *s, uint32_t id, uint64_t tx,
		      uint64_t rx, uint64_t rd, uint64_t wr)
{
	struct keel_domstats *st = &s->stats[s->n_stats++];

	s->has_stats = true;
	memset(st, 0, sizeof(*st));
	st->domid = id;
	st->nr_nics = 1;
	st->nr_disks = rd || wr ? 2 : 0;
	st->net_tx_bytes = tx * 1024;
	st->net_rx_bytes = rx * 1024;
	st->net_tx_packets = tx;
	st->net_rx_packets = rx * 2;
	st->blk_reads = rd;
	st->blk_writes = wr;
	st->blk_read_bytes = rd * 4096;
	st->blk_write_bytes = wr * 512;
	st->hv_bytes = (id ? 40 : 8) * 1024 + id * 4096; /* HV_MEM(k): 8, 44, ... */
	if (id == 1) { /* a clone: 3 chunks shared, 2 pages of them copied */
		st->shared_chunks = 3;
		st->cow_page_bytes = 8192; /* SHARED(k): 6136 */
	}
}

/* Add CPU @cpu to @s. */
static void add_cpu(struct top_sample *s, uint32_t cpu, uint32_t role,
		    uint32_t domid, uint32_t vcpu, uint64_t busy_ns)
{
	struct keel_cpustat *c = &s->cpus[s->n_cpus++];

	s->has_cpus = true;
	memset(c, 0, sizeof(*c));
	c->cpu = cpu;
	c->role = role;
	c->domid = domid;
	c->vcpu = vcpu;
	c->nr_vcpus = domid == KEEL_CPU_DOMID_NONE ? 0 : 1;
	c->online = 1;
	c->busy_ns = busy_ns;
}

/* Two samples one second apart: dom0 50 % busy, "busy" spinning on its
 * vCPU, "idle", "smp" with two busy vCPUs; "gone" only in the first. */
static void two_samples(struct top_sample *a, struct top_sample *b)
{
	base_sample(a, 100 * NS);
	set_proc(a, 1000, 10000);
	add_dom(a, 0, "Domain-0", KEEL_DOMSTATE_RUNNING, 1, 1024, 100 * NS, 5000);
	add_dom(a, 1, "busy", KEEL_DOMSTATE_RUNNING, 1, 128, 20 * NS, 1000);
	add_dom(a, 2, "idle", KEEL_DOMSTATE_BLOCKED, 1, 128, 2 * NS, 300);
	add_dom(a, 3, "smp", KEEL_DOMSTATE_RUNNING, 2, 256, 40 * NS, 0);
	add_dom(a, 4, "gone", KEEL_DOMSTATE_RUNNING, 1, 64, 9 * NS, 0);
	add_cpu(a, 0, KEEL_CPU_ROLE_DOM0, 0, 0, 0);
	add_cpu(a, 1, KEEL_CPU_ROLE_POOL, 1, 0, 50 * NS);
	add_cpu(a, 2, KEEL_CPU_ROLE_POOL, KEEL_CPU_DOMID_NONE, 0, 7 * NS);
	a->cpus_now_ns = 100 * NS;

	base_sample(b, 101 * NS);
	set_proc(b, 1050, 10100);
	add_dom(b, 0, "Domain-0", KEEL_DOMSTATE_RUNNING, 1, 1024, 101 * NS, 5100);
	add_dom(b, 1, "busy", KEEL_DOMSTATE_RUNNING, 1, 128,
		20 * NS + 990000000ull, 1250);
	add_dom(b, 2, "idle", KEEL_DOMSTATE_BLOCKED, 1, 128, 2 * NS + 1000000,
		310);
	add_dom(b, 3, "smp", KEEL_DOMSTATE_PAUSED, 2, 256, 42 * NS, 0);
	add_dom(b, 5, "busy2", KEEL_DOMSTATE_RUNNING, 1, 128, 1 * NS, 10);
	add_cpu(b, 0, KEEL_CPU_ROLE_DOM0, 0, 0, 0);
	add_cpu(b, 1, KEEL_CPU_ROLE_POOL, 1, 0, 50 * NS + 995000000ull);
	add_cpu(b, 2, KEEL_CPU_ROLE_POOL, 5, 0, 7 * NS + 250000000ull);
	b->cpus_now_ns = 101 * NS;
	add_stats(b, 0, 3, 4, 0, 0);
	add_stats(b, 1, 12, 34, 56, 7);
}

/* Row of @id in @rows (@n), or NULL. */
static const struct top_row *row_of(const struct top_row *rows, uint32_t n,
				    uint32_t id)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (rows[i].domid == id)
			return &rows[i];
	return NULL;
}

static struct top_sample sa, sb, sc;
static struct top_row rows[TOP_MAX_DOMS];
static struct top_cpu_row cpus[TOP_MAX_CPUS];

static void test_role_names(void)
{
	CHECK(strcmp(top_role_name(KEEL_CPU_ROLE_DOM0), "dom0") == 0);
	CHECK(strcmp(top_role_name(KEEL_CPU_ROLE_POOL), "pool") == 0);
	CHECK(strcmp(top_role_name(KEEL_CPU_ROLE_IDLE), "idle") == 0);
	CHECK(strcmp(top_role_name(0), "-") == 0);
	CHECK(strcmp(top_role_name(77), "-") == 0);
}

static void test_cpu_percent(void)
{
	CHECK_EQ_INT(top_cpu_tenths(NS, NS, 1), 1000);
	CHECK_EQ_INT(top_cpu_tenths(NS / 2, NS, 1), 500);
	CHECK_EQ_INT(top_cpu_tenths(0, NS, 1), 0);
	CHECK_EQ_INT(top_cpu_tenths(2 * NS, NS, 1), 1000);   /* capped */
	CHECK_EQ_INT(top_cpu_tenths(2 * NS, NS, 2), 2000);   /* xentop: 200 % */
	CHECK_EQ_INT(top_cpu_tenths(3 * NS, NS, 2), 2000);
	CHECK_EQ_INT(top_cpu_tenths(NS, 0, 1), TOP_PCT_NONE); /* zero interval */
	CHECK_EQ_INT(top_cpu_tenths(1234567, 10 * NS, 1), 0);
	CHECK_EQ_INT(top_cpu_tenths(99950000, NS, 1), 100); /* rounds */
	CHECK_EQ_INT(top_ticks_tenths(50, 100, 1), 500);
	CHECK_EQ_INT(top_ticks_tenths(50, 200, 2), 500);
	CHECK_EQ_INT(top_ticks_tenths(0, 0, 1), TOP_PCT_NONE);
	CHECK_EQ_INT(top_ticks_tenths(300, 100, 1), 1000);
}

static void test_compute(void)
{
	const struct top_row *r;
	uint32_t n;

	two_samples(&sa, &sb);
	n = top_compute(&sa, &sb, rows, TOP_MAX_DOMS);
	CHECK_EQ_INT(n, 5);
	r = row_of(rows, n, 1);
	CHECK(r && r->cpu_tenths == 990);          /* spinning: ~100 % */
	CHECK(r && r->exits_per_s == 250);
	CHECK(r && r->cpu_ns == 20 * NS + 990000000ull);
	CHECK(r && r->has_stats && r->st.blk_reads == 56);
	CHECK(r && r->mem_tenths == 62);            /* 128 of 2048 MiB */
	r = row_of(rows, n, 2);
	CHECK(r && r->cpu_tenths == 1);             /* idle: ~0 % */
	CHECK(r && !r->has_stats);
	r = row_of(rows, n, 3);
	CHECK(r && r->cpu_tenths == 2000);          /* 2 vCPUs busy */
	CHECK(r && strcmp(r->state_str, "--p---") == 0);
	r = row_of(rows, n, 5);                     /* new: no figure yet */
	CHECK(r && r->cpu_tenths == TOP_PCT_NONE && r->exits_per_s == TOP_PCT_NONE);
	r = row_of(rows, n, 0);                     /* dom0 from /proc/stat */
	CHECK(r && r->cpu_tenths == 500);
	CHECK(r && r->has_cpu_time && r->cpu_ns == 1050 * (NS / 100));
	CHECK(r && r->exits_per_s == 100);
	CHECK(r && strcmp(r->name, "Domain-0") == 0);
	CHECK(row_of(rows, n, 4) == NULL);

	/* no previous sample: no rates */
	n = top_compute(NULL, &sb, rows, TOP_MAX_DOMS);
	r = row_of(rows, n, 1);
	CHECK(r && r->cpu_tenths == TOP_PCT_NONE);
	r = row_of(rows, n, 0);
	CHECK(r && r->cpu_tenths == TOP_PCT_NONE && r->has_cpu_time);

	/* the domain was recreated: same name, new id; and an id reused by
	 * another name; and counters that went backwards */
	sc = sb;
	sc.now_ns += NS;
	sc.doms[1].domid = 9;
	snprintf(sc.doms[2].name, sizeof(sc.doms[2].name), "other");
	sc.doms[3].cpu_time_ns = NS;
	n = top_compute(&sb, &sc, rows, TOP_MAX_DOMS);
	CHECK(row_of(rows, n, 9)->cpu_tenths == TOP_PCT_NONE);
	CHECK(row_of(rows, n, 2)->cpu_tenths == TOP_PCT_NONE);
	CHECK(row_of(rows, n, 3)->cpu_tenths == TOP_PCT_NONE);

	/* zero interval */
	sc = sb;
	n = top_compute(&sb, &sc, rows, TOP_MAX_DOMS);
	CHECK(row_of(rows, n, 1)->cpu_tenths == TOP_PCT_NONE);

	/* dom0 without /proc/stat */
	sc = sb;
	sc.proc.valid = false;
	n = top_compute(&sb, &sc, rows, TOP_MAX_DOMS);
	CHECK(!row_of(rows, n, 0)->has_cpu_time);
	CHECK(row_of(rows, n, 0)->cpu_tenths == TOP_PCT_NONE);

	/* room for fewer rows than domains */
	CHECK_EQ_INT(top_compute(&sa, &sb, rows, 2), 2);
}

static void test_cpus(void)
{
	uint32_t n;

	two_samples(&sa, &sb);
	n = top_compute_cpus(&sa, &sb, cpus, TOP_MAX_CPUS);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(cpus[0].busy_tenths, 500);     /* dom0: /proc/stat cpu0 */
	CHECK_EQ_STR(cpus[0].who, "Domain-0");
	CHECK_EQ_INT(cpus[1].busy_tenths, 995);
	CHECK_EQ_STR(cpus[1].who, "busy/0");
	CHECK_EQ_INT(cpus[2].busy_tenths, 250);
	CHECK_EQ_STR(cpus[2].who, "busy2/0");
	n = top_compute_cpus(NULL, &sb, cpus, TOP_MAX_CPUS);
	CHECK(n == 3 && cpus[1].busy_tenths == TOP_PCT_NONE);
	CHECK_EQ_INT(top_compute_cpus(&sb, &sa, cpus, TOP_MAX_CPUS), 3);
	CHECK_EQ_STR(cpus[2].who, "idle");
	CHECK_EQ_INT(cpus[1].busy_tenths, TOP_PCT_NONE); /* clock went back */
	sc = sb;
	sc.has_cpus = false;
	CHECK_EQ_INT(top_compute_cpus(&sa, &sc, cpus, TOP_MAX_CPUS), 0);
	sc = sb;
	sc.cpus[1].domid = 77;
	top_compute_cpus(&sa, &sc, cpus, TOP_MAX_CPUS);
	CHECK_EQ_STR(cpus[1].who, "dom77/0");
}

static void test_procstat(void)
{
	static const char text[] =
		"cpu  100 5 50 1000 20 3 2 1 40 0\n"
		"cpu0 60 5 30 500 10 3 2 1 40 0\n"
		"cpu1 40 0 20 500 10 0 0 0 0 0\n"
		"intr 12345 0 1\n"
		"ctxt 999\n"
		"cpu9 1 1 1 1\n";
	struct top_procstat p;

	CHECK_EQ_INT(top_parse_procstat(text, &p), 0);
	CHECK(p.valid);
	CHECK_EQ_U64(p.total_ticks, 100 + 5 + 50 + 1000 + 20 + 3 + 2 + 1);
	CHECK_EQ_U64(p.busy_ticks, 100 + 5 + 50 + 3 + 2 + 1);
	CHECK_EQ_INT(p.nr_cpus, 2);   /* cpu9 out of order: ignored */
	CHECK_EQ_U64(p.cpu_busy_ticks[0], 60 + 5 + 30 + 3 + 2 + 1);
	CHECK_EQ_U64(p.cpu_total_ticks[1], 40 + 20 + 500 + 10);
	/* an old kernel with four fields */
	CHECK_EQ_INT(top_parse_procstat("cpu 10 0 10 80\n", &p), 0);
	CHECK_EQ_U64(p.busy_ticks, 20);
	CHECK_EQ_U64(p.total_ticks, 100);
	CHECK_EQ_INT(top_parse_procstat("cpu 10 0 10\n", &p), -EINVAL);
	CHECK_EQ_INT(top_parse_procstat("intr 1 2 3\n", &p), -EINVAL);
	CHECK_EQ_INT(top_parse_procstat("", &p), -EINVAL);
	CHECK_EQ_INT(top_parse_procstat("cpux 1 2 3 4\ncpu 1 2 3 4", &p), 0);
	CHECK_EQ_U64(p.total_ticks, 10);
}

/* The ids of @n rows as a string "0 1 2". */
static const char *ids(const struct top_row *r, uint32_t n)
{
	static char buf[128];
	size_t pos = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s%u",
					i ? " " : "", r[i].domid);
	return buf;
}

static void test_sort(void)
{
	uint32_t n;

	two_samples(&sa, &sb);
	n = top_compute(&sa, &sb, rows, TOP_MAX_DOMS);
	top_sort(rows, n, TOP_SORT_CPU, false);
	CHECK_EQ_STR(ids(rows, n), "3 1 0 2 5");  /* busy5 has no figure */
	top_sort(rows, n, TOP_SORT_CPU, true);
	CHECK_EQ_STR(ids(rows, n), "5 2 0 1 3");
	top_sort(rows, n, TOP_SORT_NAME, false);
	CHECK_EQ_STR(ids(rows, n), "0 1 5 2 3");  /* Domain-0 busy busy2 ... */
	top_sort(rows, n, TOP_SORT_MEM, false);
	CHECK_EQ_STR(ids(rows, n), "0 3 1 2 5");  /* ties by id */
	top_sort(rows, n, TOP_SORT_ID, true);
	CHECK_EQ_STR(ids(rows, n), "5 3 2 1 0");
	top_sort(rows, n, TOP_SORT_ID, false);
	CHECK_EQ_STR(ids(rows, n), "0 1 2 3 5");
	CHECK_EQ_STR(top_sort_name(TOP_SORT_MEM), "memory");
}

/* Read the golden file into a malloc'd string. */
static char *read_golden(void)
{
	FILE *f = fopen(GOLDEN, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_batch(void)
{
	static char out[65536];
	char *golden = read_golden();
	uint32_t n, nc;
	int len, pos;

	two_samples(&sa, &sb);
	n = top_compute(NULL, &sa, rows, TOP_MAX_DOMS);
	nc = top_compute_cpus(NULL, &sa, cpus, TOP_MAX_CPUS);
	sa.has_cpus = false; /* first block: no CPU table */
	nc = top_compute_cpus(NULL, &sa, cpus, TOP_MAX_CPUS);
	pos = top_format_batch(&sa, rows, n, cpus, nc, 1000, out, sizeof(out));
	CHECK(pos > 0);
	sa.has_cpus = true;
	n = top_compute(&sa, &sb, rows, TOP_MAX_DOMS);
	nc = top_compute_cpus(&sa, &sb, cpus, TOP_MAX_CPUS);
	len = top_format_batch(&sb, rows, n, cpus, nc, 1000, out + pos,
			       sizeof(out) - (size_t)pos);
	CHECK(len > 0);
	CHECK_MSG(golden && strcmp(out, golden) == 0,
		  "batch output differs from " GOLDEN ":\n%s", out);
	CHECK_EQ_INT(top_format_batch(&sb, rows, n, cpus, nc, 1000, out, 100),
		     -ENOSPC);
	free(golden);
}

/* A ballooned guest: MEM is what it has now, MAXMEM its RAM. */
static void test_ballooned(void)
{
	static char out[65536];
	uint32_t n;

	base_sample(&sa, 5000000000ull);
	add_dom(&sa, 0, "", KEEL_DOMSTATE_RUNNING, 1, 1024, 0, 0);
	add_dom(&sa, 3, "small", KEEL_DOMSTATE_BLOCKED, 1, 64, 0, 0);
	sa.ram_bytes[0] = 1024 * MIB;
	sa.ram_bytes[1] = 128 * MIB;
	n = top_compute(NULL, &sa, rows, TOP_MAX_DOMS);
	CHECK_EQ_INT(n, 2);
	CHECK(rows[1].mem_bytes == 64 * MIB && rows[1].max_bytes == 128 * MIB);
	CHECK(top_format_batch(&sa, rows, n, cpus, 0, 1000, out, sizeof(out)) > 0);
	CHECK_MSG(strstr(out, " 65536 ") && strstr(out, " 131072 "),
		  "MEM(k) 65536 and MAXMEM(k) 131072 not in:\n%s", out);
	sa.ram_bytes[1] = 0; /* no RAM size known: the maximum is what it has */
	n = top_compute(NULL, &sa, rows, TOP_MAX_DOMS);
	CHECK(rows[1].max_bytes == 64 * MIB);
}

static void test_format(void)
{
	char buf[64];

	CHECK_EQ_INT(top_fmt_tenths(1234, "-", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "123.4");
	top_fmt_tenths(TOP_PCT_NONE, "-", buf, sizeof(buf));
	CHECK_EQ_STR(buf, "-");
	top_fmt_duration(3723 * NS, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "1:02:03");
	top_fmt_duration((86400 * 2 + 61) * NS, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "2d 00:01:01");
	top_fmt_bar(500, 10, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "|||||.....");
	top_fmt_bar(1000, 4, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "||||");
	top_fmt_bar(0, 4, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "....");
	top_fmt_bar(TOP_PCT_NONE, 3, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "???");
	CHECK_EQ_INT(top_fmt_bar(10, 10, buf, 10), -ENOSPC);
	top_view_fmt_scaled(123456, 1024, "MGT", 6, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "123456");
	top_view_fmt_scaled(1234567, 1024, "MGT", 6, buf, sizeof(buf));
	CHECK_EQ_STR(buf, " 1206M");
	top_view_fmt_scaled(5, 1000, "kMG", 5, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "    5");
	CHECK_EQ_INT(top_view_fmt_scaled(UINT64_MAX, 1000, "k", 3, buf,
					 sizeof(buf)), -ENOSPC);
}

static void test_args(void)
{
	uint32_t v = 0;

	CHECK(top_parse_interval("2", 200, 3600000, &v) == 0 && v == 2000);
	CHECK(top_parse_interval("0.5", 200, 3600000, &v) == 0 && v == 500);
	CHECK(top_parse_interval("1.25", 200, 3600000, &v) == 0 && v == 1250);
	CHECK(top_parse_interval(".3", 200, 3600000, &v) == 0 && v == 300);
	CHECK_EQ_INT(top_parse_interval("0.1", 200, 3600000, &v), -EINVAL);
	CHECK_EQ_INT(top_parse_interval("1.2345", 200, 3600000, &v), -EINVAL);
	CHECK_EQ_INT(top_parse_interval("x", 200, 3600000, &v), -EINVAL);
	CHECK_EQ_INT(top_parse_interval("", 200, 3600000, &v), -EINVAL);
	CHECK_EQ_INT(top_parse_interval("1s", 200, 3600000, &v), -EINVAL);
	CHECK_EQ_INT(top_parse_interval("3601", 200, 3600000, &v), -EINVAL);
	CHECK(top_parse_count("12", &v) == 0 && v == 12);
	CHECK_EQ_INT(top_parse_count("0", &v), -EINVAL);
	CHECK_EQ_INT(top_parse_count("-1", &v), -EINVAL);
	CHECK_EQ_INT(top_parse_count("1234567890", &v), -EINVAL);
}

/* ---- keys ---- */

/* Decode @bytes in pieces of @step bytes, then flush; keys into @out. */
static size_t decode(const char *bytes, size_t step, int32_t *out, size_t max)
{
	struct keys_decoder d;
	size_t i, n = 0, len = strlen(bytes);

	keys_init(&d);
	for (i = 0; i < len; i += step) {
		size_t k = len - i < step ? len - i : step;

		n += keys_feed(&d, (const uint8_t *)bytes + i, k, out + n, max - n);
	}
	if (n < max)
		n += keys_flush(&d, out + n);
	return n;
}

static void test_keys(void)
{
	static const char all[] = "\x1b[A\x1b[B\x1bOC\x1b[D\x1b[1~\x1b[4~"
				  "\x1b[H\x1bOF\x1b[5~\x1b[6~\x1b[Z\x1b[[A"
				  "\x1b[15~\x1bOP\x1b[1;5A\x1b[3~q";
	static const int32_t want[] = {
		KEYS_UP, KEYS_DOWN, KEYS_RIGHT, KEYS_LEFT, KEYS_HOME, KEYS_END,
		KEYS_HOME, KEYS_END, KEYS_PGUP, KEYS_PGDN, KEYS_BACKTAB, KEYS_F1,
		KEYS_F1 + 4, KEYS_F1, KEYS_UP, KEYS_DELETE, 'q',
	};
	int32_t k[64];
	size_t n, step, i;
	struct keys_decoder d;

	for (step = 1; step <= 5; step++) {
		n = decode(all, step, k, 64);
		CHECK_EQ_INT(n, sizeof(want) / sizeof(want[0]));
		for (i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++)
			CHECK_MSG(k[i] == want[i], "step %zu key %zu: %#x != %#x",
				  step, i, (unsigned)k[i], (unsigned)want[i]);
	}
	/* a lone Esc is known only once the input goes quiet */
	keys_init(&d);
	CHECK_EQ_INT(keys_feed(&d, (const uint8_t *)"\x1b", 1, k, 8), 0);
	CHECK(keys_pending(&d));
	CHECK_EQ_INT(keys_flush(&d, k), 1);
	CHECK_EQ_INT(k[0], KEYS_ESC);
	CHECK(!keys_pending(&d));
	CHECK_EQ_INT(keys_flush(&d, k), 0);
	/* an arrow split across two reads */
	keys_init(&d);
	CHECK_EQ_INT(keys_feed(&d, (const uint8_t *)"j\x1b[", 3, k, 8), 1);
	CHECK(k[0] == 'j' && keys_pending(&d));
	CHECK_EQ_INT(keys_feed(&d, (const uint8_t *)"B", 1, k, 8), 1);
	CHECK_EQ_INT(k[0], KEYS_DOWN);
	/* Esc Esc [A: Esc, then Up; Alt-x: Esc then x */
	n = decode("\x1b\x1b[A\x1bx", 1, k, 8);
	CHECK(n == 4 && k[0] == KEYS_ESC && k[1] == KEYS_UP && k[2] == KEYS_ESC &&
	      k[3] == 'x');
	/* CR LF is one Enter, LF alone too, CR CR two */
	n = decode("\r\n\n\r\r", 1, k, 8);
	CHECK(n == 4 && k[0] == KEYS_ENTER && k[3] == KEYS_ENTER);
	/* an unknown sequence is swallowed whole; a broken one too */
	n = decode("\x1b[99~a\x1b[12\x01" "b", 1, k, 8);
	CHECK(n == 5 && k[0] == KEYS_UNKNOWN && k[1] == 'a' &&
	      k[2] == KEYS_UNKNOWN && k[3] == 0x01 && k[4] == 'b');
	/* an unfinished sequence at the end */
	n = decode("\x1b[1;", 2, k, 8);
	CHECK(n == 1 && k[0] == KEYS_UNKNOWN);
	n = decode("\x7f\x08\t", 1, k, 8);
	CHECK(n == 3 && k[0] == KEYS_BACKSPACE && k[1] == KEYS_BACKSPACE &&
	      k[2] == KEYS_TAB);
	/* a sequence too long to be real */
	n = decode("\x1b[1;1;1;1;1;1;1;1;1;1;1A", 3, k, 8);
	CHECK(n >= 1 && k[0] == KEYS_UNKNOWN);
	/* more keys than room */
	CHECK_EQ_INT(decode("abcdef", 6, k, 3), 3);
}

/* ---- screen ---- */

static struct screen s1, s2;
static char rbuf[SCREEN_RENDER_BYTES];

static void test_screen(void)
{
	int n;

	screen_init(&s1, 3, 10);
	CHECK(s1.rows == 3 && s1.cols == 10);
	CHECK_EQ_INT(screen_put(&s1, 0, 0, SCREEN_ATTR_NORMAL, "hello"), 5);
	screen_put(&s1, 1, 8, SCREEN_ATTR_REVERSE, "xyz");  /* clipped */
	screen_put(&s1, 2, 0, SCREEN_ATTR_NORMAL, "0123456789");
	screen_put(&s1, 5, 0, SCREEN_ATTR_NORMAL, "off screen");
	n = screen_render(&s1, NULL, rbuf, sizeof(rbuf));
	CHECK(n > 0);
	rbuf[n > 0 ? n : 0] = '\0';
	CHECK_EQ_STR(rbuf, "\x1b[0m\x1b[1;1Hhello\x1b[K"
		     "\x1b[2;1H        \x1b[0;7mxy\x1b[0m"
		     "\x1b[3;1H012345678\x1b[K\x1b[3;1H");
	/* nothing changed: nothing sent */
	s2 = s1;
	CHECK_EQ_INT(screen_render(&s1, &s2, rbuf, sizeof(rbuf)), 0);
	/* one line changed: only it */
	screen_put(&s1, 0, 0, SCREEN_ATTR_BOLD, "HE");
	screen_put(&s1, 0, 2, SCREEN_ATTR_NORMAL, "\x01");
	n = screen_render(&s1, &s2, rbuf, sizeof(rbuf));
	rbuf[n > 0 ? n : 0] = '\0';
	CHECK_EQ_STR(rbuf, "\x1b[1;1H\x1b[0;1mHE\x1b[0m?lo\x1b[K\x1b[3;1H");
	CHECK_EQ_INT(screen_render(&s1, NULL, rbuf, 20), -ENOSPC);
	/* another size means a full repaint */
	screen_init(&s2, 4, 10);
	CHECK(screen_render(&s1, &s2, rbuf, sizeof(rbuf)) > 40);
	screen_init(&s2, 0, 1000);
	CHECK(s2.rows == SCREEN_DEFAULT_ROWS && s2.cols == SCREEN_MAX_COLS);
	screen_init(&s2, 3, 20);
	CHECK_EQ_INT(screen_footer(&s2, "keys", "hint"), 1);
	CHECK(memcmp(s2.text[2], "hint", 4) == 0 &&
	      s2.attr[2][19] == SCREEN_ATTR_REVERSE);
	CHECK(memcmp(s2.text[1], "keys", 4) == 0);
}

/* ---- the interactive view ---- */

static struct screen big;

/* Line @row of @s as a string without trailing blanks. */
static const char *line_of(const struct screen *s, uint32_t row)
{
	static char buf[SCREEN_MAX_COLS + 1];
	uint32_t n = s->cols;

	memcpy(buf, s->text[row], n);
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

/* True if some line of @s contains @text. */
static int screen_has(const struct screen *s, const char *text)
{
	uint32_t r;

	for (r = 0; r < s->rows; r++)
		if (strstr(line_of(s, r), text))
			return 1;
	return 0;
}

static void test_view(void)
{
	struct top_view v;
	bool use[TOP_VIEW_NR_COLS];
	uint32_t n, nc, i, width = 0;

	top_view_pick_cols(80, use);
	for (i = 0; i < TOP_VIEW_NR_COLS; i++)
		if (use[i])
			width += top_view_cols[i].width + (width ? 1 : 0);
	CHECK(width <= 80);
	CHECK(!use[TV_MEMP] && !use[TV_MAX] && use[TV_EXITS] && use[TV_RD]);
	top_view_pick_cols(120, use);
	CHECK(use[TV_MEMP] && use[TV_MAX]);
	top_view_pick_cols(86, use);
	CHECK(use[TV_MEMP] && !use[TV_MAX]);

	two_samples(&sa, &sb);
	n = top_compute(&sa, &sb, rows, TOP_MAX_DOMS);
	nc = top_compute_cpus(&sa, &sb, cpus, TOP_MAX_CPUS);
	top_view_init(&v, 1000, "Alt-F1 starter  Alt-F2 monitor  Alt-F3 shell");
	top_sort(rows, n, v.sort, v.reverse);
	CHECK_EQ_INT(top_view_key(&v, 'm', rows, n), TOP_VIEW_NONE);
	CHECK(v.sort == TOP_SORT_MEM && !v.reverse);
	top_view_key(&v, 'm', rows, n);
	CHECK(v.sort == TOP_SORT_MEM && v.reverse);
	top_view_key(&v, 'c', rows, n);
	CHECK(v.sort == TOP_SORT_CPU && !v.reverse);
	CHECK_EQ_INT(top_view_key(&v, '+', rows, n), TOP_VIEW_SAMPLE);
	CHECK_EQ_INT(v.interval_ms, 2000);
	top_view_key(&v, '-', rows, n);
	top_view_key(&v, '-', rows, n);
	CHECK_EQ_INT(v.interval_ms, 500);
	CHECK_EQ_INT(top_view_key(&v, 'q', rows, n), TOP_VIEW_QUIT);
	CHECK_EQ_INT(top_view_key(&v, KEYS_CTRL_L, rows, n), TOP_VIEW_REPAINT);
	top_view_key(&v, KEYS_DOWN, rows, n);
	CHECK(v.has_sel && v.sel_domid == rows[1].domid);
	top_view_key(&v, KEYS_END, rows, n);
	CHECK(v.sel_domid == rows[n - 1].domid);
	top_view_key(&v, 'k', rows, n);
	CHECK(v.sel_domid == rows[n - 2].domid);
	top_view_key(&v, KEYS_HOME, rows, n);
	CHECK(v.sel_domid == rows[0].domid);
	top_view_key(&v, 'j', rows, n);

	screen_init(&big, 25, 80);
	top_view_draw(&big, &v, &sb, rows, n, cpus, nc);
	CHECK(strncmp(line_of(&big, 0), "keel top - Keel 0.1.0  up 0:01:41", 33) == 0);
	CHECK(screen_has(&big, "576 free"));
	CHECK(screen_has(&big, "Domains: 5 (3 running, 1 blocked, 1 paused"));
	CHECK(screen_has(&big, "CPU1   pool [") && screen_has(&big, " 99.5% busy/0"));
	CHECK(screen_has(&big, " ID NAME       STATE   CPU(s)  CPU% MEM(M) VCPU  TX(k)  RX(k)    RD    WR EXIT/s"));
	CHECK(screen_has(&big, "  3 smp        --p---    42.0 200.0    256    2      -      -     -     -      0"));
	CHECK(screen_has(&big, "  1 busy       r-----    20.9  99.0    128    1     12     34    56     7    250"));
	CHECK(screen_has(&big, "busy (id 1)") &&
	      screen_has(&big, "max 128 MiB") &&
	      screen_has(&big, "rd 56 224k wr 7 3k"));
	CHECK(strcmp(line_of(&big, 24), "Alt-F1 starter  Alt-F2 monitor  Alt-F3 shell") == 0);
	CHECK(strncmp(line_of(&big, 23), "q quit", 6) == 0);
	/* the selected row is in reverse video */
	for (i = 0; i < 25; i++)
		if (strstr(line_of(&big, i), "  1 busy "))
			CHECK(big.attr[i][0] == SCREEN_ATTR_REVERSE);
	if (harness_failed)
		for (i = 0; i < 25; i++)
			printf("|%s\n", line_of(&big, i));
	/* x: the selected domain's exit profile under its details */
	CHECK_EQ_INT(top_view_key(&v, 'x', rows, n), TOP_VIEW_SAMPLE);
	CHECK(v.show_exits);
	screen_init(&big, 25, 80);
	top_view_draw(&big, &v, &sb, rows, n, cpus, nc);
	CHECK(screen_has(&big, "Exits of busy: measuring"));
	{
		static struct exitprof ex = {
			.domid = 1, .count = 2, .total = 600, .now_ns = 2000000000ull,
			.e = { { KEEL_EXIT_MSR_WRITE, 0x6e0, 400, 2000000 },
			       { KEEL_EXIT_HLT, 0, 200, 2000000 } },
		};

		CHECK_EQ_INT(top_view_selected(&v, rows, n), 1);
		v.exits = &ex;
		top_view_draw(&big, &v, &sb, rows, n, cpus, nc);
		CHECK(screen_has(&big, "Exits of busy: 300 per second, handling them takes 0.20% of one CPU"));
		CHECK(screen_has(&big, "  wrmsr       0x6e0 TSC_DEADLINE              200.0      5.00  50.0%"));
		CHECK(screen_has(&big, "  hlt         -                               100.0     10.00  50.0%"));
		CHECK(screen_has(&big, "busy (id 1)"));
		if (harness_failed)
			for (i = 0; i < 25; i++)
				printf("|%s\n", line_of(&big, i));
		v.exits = NULL;
	}
	top_view_key(&v, 'x', rows, n);
	CHECK(!v.show_exits);
	/* tiny terminal: no crash, title still there */
	screen_init(&big, 6, 30);
	top_view_draw(&big, &v, &sb, rows, n, cpus, nc);
	CHECK(strncmp(line_of(&big, 0), "keel top", 8) == 0);
	/* no CPU statistics: one line says so */
	screen_init(&big, 24, 80);
	top_view_draw(&big, &v, &sb, rows, n, cpus, 0);
	CHECK(screen_has(&big, "Per-CPU figures: not available"));
	/* notice */
	top_view_notice(&big, "Title", "one two three\nfour", "q quit", NULL);
	CHECK_EQ_STR(line_of(&big, 0), "Title");
	CHECK_EQ_STR(line_of(&big, 2), "  one two three");
	CHECK_EQ_STR(line_of(&big, 3), "  four");
	CHECK_EQ_STR(line_of(&big, 23), "q quit");
}

int main(void)
{
	test_role_names();
	test_cpu_percent();
	test_compute();
	test_cpus();
	test_procstat();
	test_sort();
	test_batch();
	test_ballooned();
	test_format();
	test_args();
	test_keys();
	test_screen();
	test_view();
	return harness_done("test_toolstack_top");
}
