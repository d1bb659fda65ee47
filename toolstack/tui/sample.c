/*
 * Sampling for `keel top` and `keel starter` (see sample.h). The
 * hypervisor's clock for a sample is keel_info.uptime_ns, read just
 * before the domain list, so the two are microseconds apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain.h"
#include "hcall.h"
#include "sample.h"

/* Fetch the domain statistics into @s (has_stats false if missing). */
static void sample_stats(struct top_sample *s)
{
	struct keel_domstats *st;
	uint32_t n;

	s->has_stats = false;
	if (domain_stats_get(&st, &n) < 0)
		return;
	s->n_stats = n < TOP_MAX_DOMS ? n : TOP_MAX_DOMS;
	memcpy(s->stats, st, s->n_stats * sizeof(s->stats[0]));
	s->has_stats = true;
	free(st);
}

/* Fetch the CPU statistics into @s (has_cpus false if missing). */
static void sample_cpus(struct top_sample *s)
{
	size_t size = sizeof(struct keel_cpu_stats) +
		      TOP_MAX_CPUS * sizeof(struct keel_cpustat);
	struct keel_cpu_stats *hdr = calloc(1, size);

	s->has_cpus = false;
	if (!hdr)
		return;
	hdr->max = TOP_MAX_CPUS;
	if (keel_hypercall(KEEL_HC_CPU_STATS, hdr, size) >= 0) {
		s->n_cpus = hdr->count < TOP_MAX_CPUS ? hdr->count : TOP_MAX_CPUS;
		s->cpus_now_ns = hdr->now_ns;
		memcpy(s->cpus, hdr + 1, s->n_cpus * sizeof(s->cpus[0]));
		s->has_cpus = true;
	}
	free(hdr);
}

/* Fetch KEEL_HC_INFO and the domain list into @s. */
static int sample_domains(struct top_sample *s, char *why, size_t len)
{
	struct keel_dominfo *doms;
	uint32_t n, i;
	int ret;

	ret = keel_hypercall(KEEL_HC_INFO, &s->info, sizeof(s->info));
	if (ret < 0) {
		snprintf(why, len, "KEEL_HC_INFO failed: %s", hcall_strerror(ret));
		return ret;
	}
	s->now_ns = s->info.uptime_ns;
	ret = domain_list_get(&doms, &n);
	if (ret < 0) {
		snprintf(why, len, "KEEL_HC_DOMAIN_LIST failed: %s",
			 hcall_strerror(ret));
		return ret;
	}
	s->n_doms = n < TOP_MAX_DOMS ? n : TOP_MAX_DOMS;
	for (i = 0; i < s->n_doms; i++)
		s->ram_bytes[i] = doms[i].mem_bytes;
	domain_list_memory_now(doms, n);
	memcpy(s->doms, doms, s->n_doms * sizeof(s->doms[0]));
	free(doms);
	return 0;
}

/* Take a sample; see sample.h. */
int sample_take(struct top_sample *s, char *why, size_t len)
{
	long tck = sysconf(_SC_CLK_TCK);
	int ret;

	memset(s, 0, sizeof(*s));
	ret = sample_domains(s, why, len);
	if (ret)
		return ret;
	sample_stats(s);
	sample_cpus(s);
	sample_read_procstat(&s->proc);
	s->clk_tck = tck > 0 ? (uint32_t)tck : 100;
	return 0;
}

/* Read /proc/stat; see sample.h. */
int sample_read_procstat(struct top_procstat *p)
{
	char *text = malloc(SAMPLE_PROCSTAT_BYTES);
	size_t got = 0;
	int fd, ret;

	memset(p, 0, sizeof(*p));
	if (!text)
		return -ENOMEM;
	fd = open(SAMPLE_PROCSTAT, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		free(text);
		return ret;
	}
	while (got < SAMPLE_PROCSTAT_BYTES - 1) {
		ssize_t r = read(fd, text + got, SAMPLE_PROCSTAT_BYTES - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	text[got] = '\0';
	ret = top_parse_procstat(text, p);
	free(text);
	return ret;
}
