/*
 * Sampling for `keel top` and `keel starter`: one struct top_sample
 * (top.h) from the hypervisor (KEEL_HC_INFO, KEEL_HC_DOMAIN_LIST, and
 * the ABI 1.5 monitoring calls KEEL_HC_DOMAIN_STATS and KEEL_HC_CPU_STATS
 * when the hypervisor has them) and from dom0's /proc/stat. The
 * monitoring calls are optional: a hypervisor without them answers
 * -KEEL_ENOSYS and the sample says so (has_stats, has_cpus false).
 */
#ifndef KEEL_TOOLSTACK_SAMPLE_H
#define KEEL_TOOLSTACK_SAMPLE_H

#include <stddef.h>

#include "top.h"

#define SAMPLE_PROCSTAT "/proc/stat"
#define SAMPLE_PROCSTAT_BYTES 65536u /* read at most this much of it */

/*
 * Take a sample into @s. KEEL_HC_INFO and KEEL_HC_DOMAIN_LIST must work;
 * if one fails, @why (@len bytes) says which and why. Call hcall_probe()
 * first. Returns 0 or the failing call's negative error.
 */
int sample_take(struct top_sample *s, char *why, size_t len);

/*
 * Read and parse /proc/stat into @p (top_parse_procstat()).
 * Returns 0 or -errno (-EINVAL if it has no "cpu" line).
 */
int sample_read_procstat(struct top_procstat *p);

#endif /* KEEL_TOOLSTACK_SAMPLE_H */
