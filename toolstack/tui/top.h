/*
 * Pure part of `keel top`, the resource monitor: the sample it takes of
 * the hypervisor (domain list, domain and CPU statistics, dom0's
 * /proc/stat), the figures derived from two samples (CPU% from the
 * hypervisor's cpu_time_ns over the hypervisor's clock, VM exits per
 * second, per-CPU busy%), sorting, and the plain-text batch output with
 * xentop's column names. No I/O: sample.c fills samples, cmd_top.c shows
 * them, tests/unit checks all of this against fake samples.
 */
#ifndef KEEL_TOOLSTACK_TOP_H
#define KEEL_TOOLSTACK_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "domain.h"

#define TOP_MAX_DOMS 64u          /* domains one sample keeps */
#define TOP_MAX_CPUS KEEL_MAX_CPUS
#define TOP_PCT_NONE (-1)         /* no figure (first sample, no data) */
#define TOP_TENTHS_PER_CPU 1000   /* 100.0 % of one CPU, in tenths */
#define TOP_NS_PER_S UINT64_C(1000000000)
#define TOP_BYTES_PER_SECTOR 512u /* VBD_RSECT/VBD_WSECT unit */

/* Dom0's own CPU accounting, from /proc/stat (USER_HZ ticks). */
struct top_procstat {
	bool valid;
	uint64_t busy_ticks;  /* "cpu" line: total - idle - iowait */
	uint64_t total_ticks; /* "cpu" line: user .. steal */
	uint32_t nr_cpus;     /* "cpuN" lines */
	uint64_t cpu_busy_ticks[TOP_MAX_CPUS];
	uint64_t cpu_total_ticks[TOP_MAX_CPUS];
};

/* One sample of everything `keel top` shows. */
struct top_sample {
	uint64_t now_ns;       /* hypervisor clock: keel_info.uptime_ns */
	struct keel_info info;
	uint32_t n_doms;
	struct keel_dominfo doms[TOP_MAX_DOMS]; /* dom0 first; mem_bytes: memory
						 * now (less the balloon) */
	uint64_t ram_bytes[TOP_MAX_DOMS];       /* each one's RAM, its maximum */
	bool has_stats;        /* KEEL_HC_DOMAIN_STATS answered */
	uint32_t n_stats;
	struct keel_domstats stats[TOP_MAX_DOMS]; /* matched by domid */
	bool has_cpus;         /* KEEL_HC_CPU_STATS answered */
	uint64_t cpus_now_ns;  /* keel_cpu_stats.now_ns */
	uint32_t n_cpus;
	struct keel_cpustat cpus[TOP_MAX_CPUS];
	struct top_procstat proc;
	uint32_t clk_tck;      /* USER_HZ of /proc/stat, e.g. 100 */
};

/* Figures of one domain, from the current and the previous sample. */
struct top_row {
	uint32_t domid;
	uint32_t state;                      /* KEEL_DOMSTATE_* */
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	char state_str[DOMAIN_STATE_CHARS + 1]; /* as `keel list` */
	uint32_t vcpus;
	bool has_cpu_time;    /* false: dom0 without /proc/stat */
	uint64_t cpu_ns;      /* CPU time so far */
	int32_t cpu_tenths;   /* CPU% x 10, or TOP_PCT_NONE */
	uint64_t mem_bytes;   /* memory now: RAM less what its balloon holds */
	uint64_t max_bytes;   /* its RAM, the most it can have */
	uint32_t mem_tenths;  /* of the machine's RAM, x 10 */
	uint32_t max_tenths;  /* max_bytes likewise */
	uint64_t exits;       /* VM exits so far */
	int64_t exits_per_s;  /* or TOP_PCT_NONE */
	bool has_stats;       /* @st is valid */
	struct keel_domstats st;
};

/* One physical CPU, from the current and the previous sample. */
struct top_cpu_row {
	uint32_t cpu;        /* hypervisor numbering */
	uint32_t role;       /* KEEL_CPU_ROLE_* */
	uint32_t nr_vcpus;   /* vCPUs homed there */
	bool online;
	int32_t busy_tenths; /* busy% x 10, or TOP_PCT_NONE */
	char who[KEEL_DOMAIN_NAME_BYTES + 16]; /* "tiny/0", "Domain-0", "idle" */
};

/* Sort orders of the domain table. */
enum top_sort {
	TOP_SORT_CPU,  /* CPU% descending */
	TOP_SORT_MEM,  /* memory descending */
	TOP_SORT_NAME, /* name ascending */
	TOP_SORT_ID,   /* domain id ascending */
};

/* Domain counts by state for the summary line. */
struct top_counts {
	uint32_t total, running, blocked, paused, shutdown, crashed, building;
};

/*
 * Parse the text of /proc/stat (@text, NUL-terminated) into @out: the
 * "cpu" line and the "cpuN" lines. busy = user + nice + system + irq +
 * softirq + steal (total minus idle and iowait); guest time is already
 * inside user and nice. Returns 0, or -EINVAL without a usable "cpu" line.
 */
int top_parse_procstat(const char *text, struct top_procstat *out);

/*
 * CPU% x 10 for @cpu_delta_ns of CPU time over @wall_delta_ns of wall
 * time, capped at @vcpus x 100 %. Returns TOP_PCT_NONE if the interval is
 * 0. (xentop's convention: a 2-vCPU domain may show 200 %.)
 */
int32_t top_cpu_tenths(uint64_t cpu_delta_ns, uint64_t wall_delta_ns,
		       uint32_t vcpus);

/*
 * Busy% x 10 of a CPU set from /proc/stat ticks: @busy_delta over
 * @total_delta, times @nr_cpus (each CPU counts 100 %). TOP_PCT_NONE if
 * no ticks passed.
 */
int32_t top_ticks_tenths(uint64_t busy_delta, uint64_t total_delta,
			 uint32_t nr_cpus);

/*
 * Compute the rows of @cur (one per domain, in list order) into @rows
 * (room for @max). @prev is the previous sample or NULL: a domain's CPU%
 * and exits/s need it to list the same domain (same id and name) with
 * counters that did not go backwards, else they are TOP_PCT_NONE. Dom0's
 * CPU time and CPU% come from /proc/stat (the hypervisor reports wall
 * time for it). Returns the number of rows.
 */
uint32_t top_compute(const struct top_sample *prev,
		     const struct top_sample *cur, struct top_row *rows,
		     uint32_t max);

/*
 * Compute one row per physical CPU of @cur into @rows (room for @max):
 * busy% from busy_ns over the hypervisor's clock for guest-pool CPUs,
 * from /proc/stat for dom0's CPUs (the i-th dom0 CPU is Linux's cpu<i>).
 * Returns the number of rows, 0 if @cur has no CPU statistics.
 */
uint32_t top_compute_cpus(const struct top_sample *prev,
			  const struct top_sample *cur,
			  struct top_cpu_row *rows, uint32_t max);

/* Sort @n @rows by @key (ties by domain id), descending if @reverse is
 * set for name/id, ascending if set for CPU/memory. */
void top_sort(struct top_row *rows, uint32_t n, enum top_sort key,
	      bool reverse);

/* Name of sort order @key: "CPU%", "memory", "name", "id". */
const char *top_sort_name(enum top_sort key);

/* Count the domains of @rows by state into @out. */
void top_count(const struct top_row *rows, uint32_t n, struct top_counts *out);

/* What the summary of `top` (screen and batch) shows of a sample. */
struct top_summary {
	char uptime[32];  /* the hypervisor's, as "1d 02:03:04" */
	char version[33]; /* the hypervisor's version string */
	struct top_counts counts;
};

/* Fill @out from sample @cur and its @n domain @rows. */
void top_summarize(const struct top_sample *cur, const struct top_row *rows,
		   uint32_t n, struct top_summary *out);

/*
 * Format @tenths (x 10) as "12.3" into @buf, or @none if it is
 * TOP_PCT_NONE. Returns 0 or -ENOSPC.
 */
int top_fmt_tenths(int32_t tenths, const char *none, char *buf, size_t len);

/* Format a duration of @ns as "H:MM:SS", or "Dd HH:MM:SS" from a day on. */
int top_fmt_duration(uint64_t ns, char *buf, size_t len);

/*
 * Draw a bar of @width characters for @tenths (0..1000) into @buf:
 * '|' for the busy part, '.' for the rest, e.g. "|||||....." for 50 %.
 * TOP_PCT_NONE gives a bar of '?'. Returns 0 or -ENOSPC.
 */
int top_fmt_bar(int32_t tenths, uint32_t width, char *buf, size_t len);

/*
 * Write one block of `keel top -b` for @cur and its @n @rows and @n_cpus
 * @cpus into @buf: two summary lines, the column header, one line per
 * domain, then the per-CPU table (if any), and an empty line. Numbers
 * that are not known print as "-"; CPU% without a previous sample as
 * 0.0 (as xentop does). @interval_ms is shown in the summary.
 * Returns the length, or -ENOSPC.
 */
int top_format_batch(const struct top_sample *cur, const struct top_row *rows,
		     uint32_t n, const struct top_cpu_row *cpus,
		     uint32_t n_cpus, uint32_t interval_ms, char *buf,
		     size_t len);

/* The short name of a KEEL_CPU_ROLE_* value: "dom0", "pool", "idle", or
 * "-" for an unknown role. */
const char *top_role_name(uint32_t role);

/*
 * Parse a refresh interval in seconds, "2", "0.5" or "1.25" (at most
 * three decimals), into @ms. Returns 0, or -EINVAL if @text is not such a
 * number or lies outside [@min_ms, @max_ms].
 */
int top_parse_interval(const char *text, uint32_t min_ms, uint32_t max_ms,
		       uint32_t *ms);

/*
 * Parse a positive decimal count (at most 9 digits) into @n.
 * Returns 0 or -EINVAL.
 */
int top_parse_count(const char *text, uint32_t *n);

#endif /* KEEL_TOOLSTACK_TOP_H */
