/*
 * Host unit tests of the pure helpers of the `keel` toolstack: CPU-list
 * compression, feature names, MiB conversion, version/uptime/string
 * formatting, the `keel info` renderer (fed a filled struct keel_info) and
 * command-line parsing. The toolstack sources are #included so their
 * static helpers are compiled into this test. Prints one line per failure
 * and a last line "N passed, N failed"; exits 1 if anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/cli/args.c"
#include "../../toolstack/core/format.c"
#include "../../toolstack/core/info_fmt.c"

static int test_passed;
static int test_failed;

/* Count one check; report it if it failed. */
#define CHECK(cond)                                                        \
	do {                                                               \
		if (cond) {                                                \
			test_passed++;                                     \
		} else {                                                   \
			test_failed++;                                     \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__,     \
			       #cond);                                     \
		}                                                          \
	} while (0)

/* Check that two strings are equal, printing both when they are not. */
#define CHECK_STR(got, want)                                               \
	do {                                                               \
		const char *g_ = (got), *w_ = (want);                      \
		CHECK(strcmp(g_, w_) == 0);                                \
		if (strcmp(g_, w_) != 0)                                   \
			printf("  got  \"%s\"\n  want \"%s\"\n", g_, w_);  \
	} while (0)

/* fmt_cpu_list(): ranges, singletons, edges, truncation. */
static void test_cpu_list(void)
{
	char buf[256];

	CHECK(fmt_cpu_list(0, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "");
	fmt_cpu_list(0x1, buf, sizeof(buf));
	CHECK_STR(buf, "0");
	fmt_cpu_list(0x3d, buf, sizeof(buf)); /* 0,2,3,4,5 */
	CHECK_STR(buf, "0,2-5");
	fmt_cpu_list(0xe, buf, sizeof(buf));
	CHECK_STR(buf, "1-3");
	fmt_cpu_list(0x5, buf, sizeof(buf));
	CHECK_STR(buf, "0,2");
	fmt_cpu_list(0x3, buf, sizeof(buf));
	CHECK_STR(buf, "0-1");
	fmt_cpu_list(~0ull, buf, sizeof(buf));
	CHECK_STR(buf, "0-63");
	fmt_cpu_list(1ull << 63 | 1ull << 62 | 1, buf, sizeof(buf));
	CHECK_STR(buf, "0,62-63");
	fmt_cpu_list(0x5555555555555555ull, buf, sizeof(buf));
	CHECK(strncmp(buf, "0,2,4,", 6) == 0);
	CHECK(strcmp(buf + strlen(buf) - 3, ",62") == 0);
	CHECK(fmt_cpu_list(0x3d, buf, 4) == -ENOSPC);
	CHECK(strlen(buf) == 3);
	CHECK(fmt_cpu_list(0x1, buf, 0) == -ENOSPC);
}

/* fmt_features(): names in bit order, unknown bits, no bits. */
static void test_features(void)
{
	char buf[256];

	fmt_features(0, buf, sizeof(buf));
	CHECK_STR(buf, "none");
	fmt_features(KEEL_FEAT_NPT, buf, sizeof(buf));
	CHECK_STR(buf, "npt");
	fmt_features(KEEL_FEAT_TSC_INVARIANT | KEEL_FEAT_NPT | KEEL_FEAT_AVIC,
		     buf, sizeof(buf));
	CHECK_STR(buf, "npt avic tsc_invariant");
	fmt_features(0x1ff, buf, sizeof(buf));
	CHECK_STR(buf, "npt nrips decode_assists vmcb_clean flush_by_asid "
		       "avic vgif x2apic tsc_invariant");
	fmt_features(KEEL_FEAT_NPT | KEEL_FEAT_VPID | KEEL_FEAT_UNRESTRICTED_GUEST, buf, sizeof(buf));
	CHECK_STR(buf, "npt vpid unrestricted_guest");
	fmt_features(KEEL_FEAT_VGIF | 1u << 11 | 1u << 31, buf, sizeof(buf));
	CHECK_STR(buf, "vgif bit11 bit31");
	CHECK(fmt_features(0x1ff, buf, 8) == -ENOSPC);
	CHECK_STR(buf, "npt nri");
}

/* fmt_bytes_to_mib(), fmt_abi_version(), fmt_uptime(), fmt_backend(). */
static void test_numbers(void)
{
	char buf[64];

	CHECK(fmt_bytes_to_mib(0) == 0);
	CHECK(fmt_bytes_to_mib((1u << 20) - 1) == 0);
	CHECK(fmt_bytes_to_mib(1u << 20) == 1);
	CHECK(fmt_bytes_to_mib(8ull << 30) == 8192);
	CHECK(fmt_bytes_to_mib((6ull << 20) + (512u << 10)) == 6);
	fmt_abi_version(0x10000, buf, sizeof(buf));
	CHECK_STR(buf, "1.0");
	fmt_abi_version(0x10001, buf, sizeof(buf));
	CHECK_STR(buf, "1.1");
	fmt_abi_version(0x2000b, buf, sizeof(buf));
	CHECK_STR(buf, "2.11");
	fmt_uptime(12345678901ull, buf, sizeof(buf));
	CHECK_STR(buf, "12.3 s");
	fmt_uptime(0, buf, sizeof(buf));
	CHECK_STR(buf, "0.0 s");
	fmt_uptime(99999999ull, buf, sizeof(buf));
	CHECK_STR(buf, "0.0 s");
	fmt_uptime(3600000000000ull, buf, sizeof(buf));
	CHECK_STR(buf, "3600.0 s");
	CHECK_STR(fmt_backend(KEEL_BACKEND_SVM), "svm");
	CHECK_STR(fmt_backend(KEEL_BACKEND_VMX), "vmx");
	CHECK_STR(fmt_backend(KEEL_BACKEND_NONE), "none");
	CHECK_STR(fmt_backend(7), "unknown");
}

/* fmt_field_str(): unterminated fields, control bytes, empty fields. */
static void test_field_str(void)
{
	char field[4] = { 'A', 'B', 'C', 'D' };
	char buf[16];

	fmt_field_str(field, sizeof(field), buf, sizeof(buf));
	CHECK_STR(buf, "ABCD");
	field[1] = '\n';
	field[2] = '\0';
	fmt_field_str(field, sizeof(field), buf, sizeof(buf));
	CHECK_STR(buf, "A?");
	field[0] = '\0';
	fmt_field_str(field, sizeof(field), buf, sizeof(buf));
	CHECK_STR(buf, "unknown");
}

/* A struct keel_info as a 4-CPU AMD host might report it. */
static void test_fill_info(struct keel_info *info)
{
	memset(info, 0, sizeof(*info));
	info->abi_version = 0x10000; /* 1.0, as in test_info_text */
	info->hv_version = 0x000100;
	strcpy(info->hv_version_str, "0.1.0");
	strcpy(info->cpu_vendor, "AuthenticAMD");
	info->backend = KEEL_BACKEND_SVM;
	info->features = KEEL_FEAT_NPT | KEEL_FEAT_NRIPS |
			 KEEL_FEAT_DECODE_ASSISTS | KEEL_FEAT_VMCB_CLEAN |
			 KEEL_FEAT_FLUSH_BY_ASID | KEEL_FEAT_X2APIC |
			 KEEL_FEAT_TSC_INVARIANT;
	info->cpus_total = 4;
	info->cpus_dom0 = 1;
	info->cpus_pool = 3;
	info->cpu_mask_dom0 = 0x1;
	info->cpu_mask_pool = 0xe;
	info->mem_total_bytes = 8ull << 30;
	info->mem_dom0_bytes = 2ull << 30;
	info->mem_hv_bytes = 64ull << 20;
	info->mem_pool_total_bytes = (8ull << 30) - (2ull << 30) - (64ull << 20);
	info->mem_pool_free_bytes = info->mem_pool_total_bytes - (512ull << 20);
	info->tsc_khz = 2994372;
	info->uptime_ns = 12345678901ull;
	info->hv_base_pa = 0x1f000000;
	info->hv_size_bytes = 4ull << 20;
	info->marker_pa = 0x1f3ff000;
}

/* Expected `keel info` text for test_fill_info(). */
static const char test_info_text[] =
	"hypervisor             : Keel 0.1.0\n"
	"abi_version            : 1.0\n"
	"backend                : svm\n"
	"cpu_vendor             : AuthenticAMD\n"
	"features               : npt nrips decode_assists vmcb_clean "
	"flush_by_asid x2apic tsc_invariant\n"
	"nr_cpus                : 4\n"
	"dom0_cpus              : 1 (0)\n"
	"pool_cpus              : 3 (1-3)\n"
	"total_memory           : 8192\n"
	"dom0_memory            : 2048\n"
	"hypervisor_memory      : 64\n"
	"pool_memory            : 6080\n"
	"free_memory            : 5568\n"
	"tsc_khz                : 2994372\n"
	"uptime                 : 12.3 s\n"
	"hv_base                : 0x1f000000\n"
	"hidden_marker_pa       : 0x1f3ff000\n";

/* Render @info with info_format() into a malloc'd string (caller frees). */
static char *test_render(const struct keel_info *info)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return NULL;
	CHECK(info_format(info, out) == 0);
	fclose(out);
	return text;
}

/* True if the value of numeric key @key in @text starts with a digit. */
static int test_value_is_int(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%-23s: ", key);
	p = strstr(text, pat);
	if (!p)
		return 0;
	p += strlen(pat);
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '\n' || *p == ' ';
}

/* info_format(): full golden text, parseable numbers, odd inputs. */
static void test_info(void)
{
	static const char *const numeric[] = {
		"nr_cpus",     "dom0_cpus",	    "pool_cpus",
		"total_memory", "dom0_memory", "hypervisor_memory",
		"pool_memory", "free_memory", "tsc_khz",
	};
	struct keel_info info;
	char *text;
	size_t i;

	test_fill_info(&info);
	text = test_render(&info);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_STR(text, test_info_text);
	for (i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		CHECK(test_value_is_int(text, numeric[i]));
		if (!test_value_is_int(text, numeric[i]))
			printf("  key %s\n", numeric[i]);
	}
	if (getenv("TEST_TOOLSTACK_SHOW"))
		fputs(text, stdout);
	free(text);

	/* No version string, no dom0 CPUs, garbage vendor, VMX. */
	info.hv_version_str[0] = '\0';
	info.hv_version = 0x020304;
	memset(info.cpu_vendor, 'X', sizeof(info.cpu_vendor));
	info.cpus_dom0 = 0;
	info.cpu_mask_dom0 = 0;
	info.backend = KEEL_BACKEND_VMX;
	text = test_render(&info);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(strstr(text, "hypervisor             : Keel 2.3.4\n") != NULL);
	CHECK(strstr(text, ": XXXXXXXXXXXXXXXX\n") != NULL);
	CHECK(strstr(text, "dom0_cpus              : 0 (none)\n") != NULL);
	CHECK(strstr(text, "backend                : vmx\n") != NULL);
	CHECK(strstr(text, "idle_cpus              : 1 (0)\n") != NULL);
	free(text);

	/* QEMU TCG's layout: CPU 0 idle, dom0 on CPU 1, CPUs 2-3 for guests. */
	test_fill_info(&info);
	info.cpu_mask_dom0 = 0x2;
	info.cpus_pool = 2;
	info.cpu_mask_pool = 0xc;
	text = test_render(&info);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(strstr(text, "dom0_cpus              : 1 (1)\n"
			   "pool_cpus              : 2 (2-3)\n"
			   "idle_cpus              : 1 (0)\n") != NULL);
	free(text);
	/* 64 CPUs, all in use: no idle line, and no shift by 64. */
	test_fill_info(&info);
	info.cpus_total = 64;
	info.cpus_pool = 63;
	info.cpu_mask_pool = ~1ull;
	text = test_render(&info);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(strstr(text, "idle_cpus") == NULL);
	free(text);
}

/* Parse a space-separated command line with args_parse_global(). */
static int test_parse(const char *line, struct args_global *out)
{
	static char copy[256];
	char *argv[16];
	int argc = 0;
	char *tok;

	snprintf(copy, sizeof(copy), "%s", line);
	for (tok = strtok(copy, " "); tok && argc < 15; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return args_parse_global(argc, argv, out);
}

/* args_parse_global(): help, version, commands, bad options. */
static void test_args_global(void)
{
	struct args_global a;

	CHECK(test_parse("keel", &a) == -EINVAL && a.action == ARGS_NO_COMMAND);
	CHECK(test_parse("keel --help", &a) == 0 && a.action == ARGS_HELP);
	CHECK(test_parse("keel -h info", &a) == 0 && a.action == ARGS_HELP);
	CHECK(test_parse("keel --version", &a) == 0 && a.action == ARGS_VERSION);
	CHECK(test_parse("keel -V", &a) == 0 && a.action == ARGS_VERSION);
	CHECK(test_parse("keel info", &a) == 0 && a.action == ARGS_RUN &&
	      a.cmd_index == 1);
	CHECK(test_parse("keel info --help", &a) == 0 &&
	      a.action == ARGS_RUN && a.cmd_index == 1);
	CHECK(test_parse("keel -- info", &a) == 0 && a.cmd_index == 2);
	CHECK(test_parse("keel --", &a) == -EINVAL &&
	      a.action == ARGS_NO_COMMAND);
	CHECK(test_parse("keel --frob info", &a) == -EINVAL &&
	      a.action == ARGS_BAD_OPTION && strcmp(a.bad, "--frob") == 0);
}

/* args_parse_none(), args_is_help() and args_find_cmd(). */
static void test_args_cmd(void)
{
	static const struct keel_cmd c1 = { .name = "info" };
	static const struct keel_cmd c2 = { .name = "list" };
	static const struct keel_cmd *const table[] = { &c1, &c2 };
	char a0[] = "info", a1[] = "--help", a2[] = "-q", a3[] = "x";
	char *argv[4] = { a0, NULL, NULL, NULL };
	struct args_global a;

	CHECK(args_parse_none(1, argv, &a) == 0 && a.action == ARGS_RUN);
	argv[1] = a1;
	CHECK(args_parse_none(2, argv, &a) == 0 && a.action == ARGS_HELP);
	argv[1] = a2;
	CHECK(args_parse_none(2, argv, &a) == -EINVAL &&
	      a.action == ARGS_BAD_OPTION && a.bad == a2);
	argv[1] = a3;
	CHECK(args_parse_none(2, argv, &a) == -EINVAL &&
	      a.action == ARGS_EXTRA && a.bad == a3);
	argv[2] = a1;
	CHECK(args_parse_none(3, argv, &a) == 0 && a.action == ARGS_HELP);
	CHECK(args_is_help("-h") && args_is_help("--help"));
	CHECK(!args_is_help("-help") && !args_is_help("help"));
	CHECK(args_find_cmd(table, 2, "list") == &c2);
	CHECK(args_find_cmd(table, 2, "info") == &c1);
	CHECK(args_find_cmd(table, 2, "inf") == NULL);
	CHECK(args_find_cmd(table, 0, "info") == NULL);
}

/* JSON strings (keel list -l) and xl uptime's durations. */
static void test_json_duration(void)
{
	char buf[64];
	struct fmt_buf b;

	fmt_buf_init(&b, buf, sizeof(buf));
	fmt_json_str(&b, "a\"b\\c\n\t\x01\x7fÃ©");
	CHECK((b.err) == 0);
	CHECK_STR(buf, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007fÃ©\"");
	fmt_buf_init(&b, buf, 6);
	fmt_json_str(&b, "abcdefgh");
	CHECK((b.err) == -ENOSPC);
	CHECK((fmt_duration(0, buf, sizeof(buf))) == 0);
	CHECK_STR(buf, "0:00:00");
	CHECK((fmt_duration(3723ull * 1000000000ull + 999999999ull, buf, sizeof(buf))) == 0);
	CHECK_STR(buf, "1:02:03");
	CHECK((fmt_duration(86405ull * 1000000000ull, buf, sizeof(buf))) == 0);
	CHECK_STR(buf, "1 day, 0:00:05");
	CHECK((fmt_duration((3 * 86400ull + 36000ull) * 1000000000ull, buf, sizeof(buf))) == 0);
	CHECK_STR(buf, "3 days, 10:00:00");
	CHECK((fmt_duration(86405ull * 1000000000ull, buf, 8)) == -ENOSPC);
}

/* CPU lists in configs (cpus = '2-3'): the inverse of fmt_cpu_list. */
static void test_parse_cpu_list(void)
{
	static const char *const bad[] = { "", "a", "1-", "-1", "3-2", "64", "1,,2",
					   "1;2", "1 ", "0x1", "1000", "2,", " 1" };
	uint64_t mask;
	size_t i;

	CHECK(fmt_parse_cpu_list("2", &mask) == 0 && mask == 4);
	CHECK(fmt_parse_cpu_list("0,2-5", &mask) == 0 && mask == 0x3d);
	CHECK(fmt_parse_cpu_list("2-3, 5", &mask) == 0 && mask == 0x2c);
	CHECK(fmt_parse_cpu_list("63", &mask) == 0 && mask == 1ull << 63);
	CHECK(fmt_parse_cpu_list("0-63", &mask) == 0 && mask == UINT64_MAX);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(fmt_parse_cpu_list(bad[i], &mask) == -EINVAL);
}

int main(void)
{
	test_json_duration();
	test_parse_cpu_list();
	test_cpu_list();
	test_features();
	test_numbers();
	test_field_str();
	test_info();
	test_args_global();
	test_args_cmd();
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}
