/*
 * Rendering of struct keel_info as the text of `keel info` (see info_fmt.h).
 * Keys and their order follow docs/toolstack.md; numeric values come first
 * after the colon so scripts can parse `^(\w+)\s*:\s*(\S+)`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "format.h"
#include "info_fmt.h"

/* Width of the key column, as in xl info. */
#define INFO_KEY_WIDTH 23

/* Print one `key : value` line. */
static void info_line(FILE *out, const char *key, const char *value)
{
	fprintf(out, "%-*s: %s\n", INFO_KEY_WIDTH, key, value);
}

/* Print one line whose value is an unsigned integer. */
static void info_line_u64(FILE *out, const char *key, uint64_t value)
{
	fprintf(out, "%-*s: %" PRIu64 "\n", INFO_KEY_WIDTH, key, value);
}

/* Print one line whose value is a hex address, "0x...". */
static void info_line_hex(FILE *out, const char *key, uint64_t value)
{
	fprintf(out, "%-*s: 0x%" PRIx64 "\n", INFO_KEY_WIDTH, key, value);
}

/* Print a CPU line: "count (list)". */
static void info_line_cpus(FILE *out, const char *key, uint32_t count,
			   uint64_t mask)
{
	char list[256];

	fmt_cpu_list(mask, list, sizeof(list));
	fprintf(out, "%-*s: %" PRIu32 " (%s)\n", INFO_KEY_WIDTH, key, count,
		list[0] ? list : "none");
}

/* Print the identity lines: hypervisor, abi_version, backend, vendor. */
static void info_identity(const struct keel_info *info, FILE *out)
{
	char ver[sizeof(info->hv_version_str) + 8];
	char text[64];

	if (info->hv_version_str[0])
		fmt_field_str(info->hv_version_str, sizeof(info->hv_version_str),
			      ver, sizeof(ver));
	else
		snprintf(ver, sizeof(ver), "%" PRIu32 ".%" PRIu32 ".%" PRIu32,
			 info->hv_version >> 16, (info->hv_version >> 8) & 0xff,
			 info->hv_version & 0xff);
	snprintf(text, sizeof(text), "Keel %s", ver);
	info_line(out, "hypervisor", text);
	fmt_abi_version(info->abi_version, text, sizeof(text));
	info_line(out, "abi_version", text);
	info_line(out, "backend", fmt_backend(info->backend));
	fmt_field_str(info->cpu_vendor, sizeof(info->cpu_vendor), text,
		      sizeof(text));
	info_line(out, "cpu_vendor", text);
}

/* Print the CPU lines: features, nr_cpus, dom0_cpus, pool_cpus and,
 * when some CPU runs no domain, idle_cpus. */
static void info_cpus(const struct keel_info *info, FILE *out)
{
	uint64_t all = info->cpus_total >= 64 ? ~0ull : (1ull << info->cpus_total) - 1;
	uint64_t idle = all & ~(info->cpu_mask_dom0 | info->cpu_mask_pool);
	char text[256];

	fmt_features(info->features, text, sizeof(text));
	info_line(out, "features", text);
	info_line_u64(out, "nr_cpus", info->cpus_total);
	info_line_cpus(out, "dom0_cpus", info->cpus_dom0, info->cpu_mask_dom0);
	info_line_cpus(out, "pool_cpus", info->cpus_pool, info->cpu_mask_pool);
	if (idle)
		info_line_cpus(out, "idle_cpus", (uint32_t)__builtin_popcountll(idle), idle);
}

/* Print the memory lines, all in whole MiB. */
static void info_memory(const struct keel_info *info, FILE *out)
{
	info_line_u64(out, "total_memory", fmt_bytes_to_mib(info->mem_total_bytes));
	info_line_u64(out, "dom0_memory", fmt_bytes_to_mib(info->mem_dom0_bytes));
	info_line_u64(out, "hypervisor_memory",
		      fmt_bytes_to_mib(info->mem_hv_bytes));
	info_line_u64(out, "pool_memory",
		      fmt_bytes_to_mib(info->mem_pool_total_bytes));
	info_line_u64(out, "free_memory",
		      fmt_bytes_to_mib(info->mem_pool_free_bytes));
}

/* Print the time and address lines. */
static void info_misc(const struct keel_info *info, FILE *out)
{
	char text[64];

	info_line_u64(out, "tsc_khz", info->tsc_khz);
	fmt_uptime(info->uptime_ns, text, sizeof(text));
	info_line(out, "uptime", text);
	info_line_hex(out, "hv_base", info->hv_base_pa);
	info_line_hex(out, "hidden_marker_pa", info->marker_pa);
}

/* Write the `keel info` text; see info_fmt.h. */
int info_format(const struct keel_info *info, FILE *out)
{
	info_identity(info, out);
	info_cpus(info, out);
	info_memory(info, out);
	info_misc(info, out);
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
