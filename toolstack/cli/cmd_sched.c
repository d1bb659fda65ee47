/*
 * `keel sched-credit [-d <domain> [-w WEIGHT] [-c CAP]]`, as xl's: show
 * or set the guests' scheduling (KEEL_HC_DOMAIN_SCHED, ABI 1.10);
 * `keel vcpu-list [<domain>...]`: each vCPU with its CPU, state, time and
 * the CPUs it may use; and `keel vcpu-pin <domain> <vcpu|all> <cpus>`,
 * which chooses those CPUs for a vCPU, also while it runs (ABI 1.12);
 * and `keel vcpu-set <domain> <n>`, which plugs vCPUs in or out of a
 * running guest by ACPI CPU hotplug, up to its config's maxvcpus (ABI
 * 1.15), and waits until the guest's kernel has followed.
 * Guest vCPUs that share a pool CPU get CPU time in proportion to their
 * domains' weights (1-65535, default 256); a cap holds a domain to that
 * percentage of one CPU (0: none). The pool CPUs a guest may use start as
 * its config's cpus = (docs/config.md). Domain-0 runs on CPUs of its own
 * and is not scheduled by the pool.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi.h"
#include "args.h"
#include "domain.h"
#include "format.h"
#include "hcall.h"
#include "keel.h"

#define SCHED_NO_VALUE UINT32_MAX

/* KEEL_HC_DOMAIN_SCHED @op on @domid; 0 or -KEEL_E*. */
static int sched_call(uint32_t domid, uint32_t op, struct keel_domain_sched *sc)
{
	int ret;

	sc->domid = domid;
	sc->op = op;
	ret = keel_hypercall(KEEL_HC_DOMAIN_SCHED, sc, sizeof(*sc));
	return ret < 0 ? ret : 0;
}

/* Print one row: name, id, weight, cap and the CPUs it may use. */
static void sched_row(const struct keel_dominfo *d, const struct keel_domain_sched *sc)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1], cpus[128] = "any";

	domain_name(d, name, sizeof(name));
	if (!sc) {
		printf("%-32s %5u %6s %4s %s\n", name, d->domid, "-", "-",
		       "(its own CPUs)");
		return;
	}
	if (sc->cpumask)
		fmt_cpu_list(sc->cpumask, cpus, sizeof(cpus));
	printf("%-32s %5u %6u %4u %s\n", name, d->domid, sc->weight, sc->cap, cpus);
}

/* Show every domain, or just @d. */
static int sched_show(const struct keel_dominfo *only)
{
	struct keel_domain_sched sc;
	struct keel_dominfo *doms;
	uint32_t n, i;
	int ret;

	ret = domain_list_get(&doms, &n);
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_LIST", ret);
		return KEEL_EXIT_FAIL;
	}
	printf("%-32s %5s %6s %4s %s\n", "Name", "ID", "Weight", "Cap", "CPUs");
	for (i = 0; i < n; i++) {
		if (only && doms[i].domid != only->domid)
			continue;
		memset(&sc, 0, sizeof(sc));
		if (doms[i].domid == 0 || sched_call(doms[i].domid, KEEL_SCHED_GET, &sc))
			sched_row(&doms[i], NULL);
		else
			sched_row(&doms[i], &sc);
	}
	free(doms);
	return fflush(stdout) ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* Parse the number after option @opt into *@out (@lo..@hi). */
static int sched_number(const char *opt, const char *text, uint32_t lo, uint32_t hi,
			uint32_t *out)
{
	char *end;
	unsigned long v;

	v = strtoul(text, &end, 10);
	if (!text[0] || *end || text[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "keel: sched-credit: %s '%s': want a number from %u "
			"to %u%s\n", opt, text, lo, hi,
			strcmp(opt, "-c") == 0 ? " (percent of one CPU; 0: no cap)" : "");
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Set @d's weight and/or cap (SCHED_NO_VALUE: keep). */
static int sched_set(const struct keel_dominfo *d, uint32_t weight, uint32_t cap)
{
	struct keel_domain_sched sc;
	int ret;

	memset(&sc, 0, sizeof(sc));
	ret = sched_call(d->domid, KEEL_SCHED_GET, &sc);
	if (!ret) {
		if (weight != SCHED_NO_VALUE)
			sc.weight = weight;
		if (cap != SCHED_NO_VALUE)
			sc.cap = cap;
		ret = sched_call(d->domid, KEEL_SCHED_SET, &sc);
	}
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_SCHED", ret);
		return KEEL_EXIT_FAIL;
	}
	return sched_show(d);
}

/* Entry point of `keel sched-credit`. */
static int cmd_sched_run(int argc, char **argv)
{
	uint32_t weight = SCHED_NO_VALUE, cap = SCHED_NO_VALUE;
	const char *dom = NULL;
	struct keel_dominfo d;
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_sched_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "-d") && strcmp(opt, "-w") && strcmp(opt, "-c"))
			return keel_usage_error("sched-credit", opt[0] == '-' ?
						"unknown option" : "unexpected argument", opt);
		if (i + 1 >= argc)
			return keel_usage_error("sched-credit", "missing value after", opt);
		if (strcmp(opt, "-d") == 0)
			dom = argv[++i];
		else if (sched_number(opt, argv[++i], strcmp(opt, "-w") == 0 ? 1 : 0,
				      strcmp(opt, "-w") == 0 ? 65535 : 6400,
				      strcmp(opt, "-w") == 0 ? &weight : &cap))
			return KEEL_EXIT_USAGE;
	}
	if (!dom && (weight != SCHED_NO_VALUE || cap != SCHED_NO_VALUE))
		return keel_usage_error("sched-credit", "-w and -c need -d <domain>", NULL);
	if (hcall_connect(NULL))
		return KEEL_EXIT_FAIL;
	if (!dom)
		return sched_show(NULL);
	if (domain_resolve(dom, &d))
		return KEEL_EXIT_FAIL;
	if (d.domid == 0 && (weight != SCHED_NO_VALUE || cap != SCHED_NO_VALUE)) {
		fprintf(stderr, "keel: sched-credit: Domain-0 runs on CPUs of its own; "
			"only guests have a weight and a cap\n");
		return KEEL_EXIT_FAIL;
	}
	if (weight == SCHED_NO_VALUE && cap == SCHED_NO_VALUE)
		return sched_show(&d);
	return sched_set(&d, weight, cap);
}

/* Command-table entry of `keel sched-credit`. */
const struct keel_cmd cmd_sched_entry = {
	.name = "sched-credit",
	.summary = "Show or set the guests' CPU weights and caps",
	.usage = "Usage: keel sched-credit [-d <domain> [-w WEIGHT] [-c CAP]]\n"
		 "\n"
		 "As 'xl sched-credit'. Without -d, one line per domain:\n"
		 "  Name ID Weight Cap CPUs\n"
		 "Guest vCPUs that share a pool CPU get CPU time in proportion\n"
		 "to their domains' weights; a cap holds a domain to that\n"
		 "percentage of one CPU, all its vCPUs together. CPUs are the\n"
		 "pool CPUs its vCPUs may use, set at start by the config's\n"
		 "cpus = ('any' without).\n"
		 "\n"
		 "  -d DOMAIN   show, or with -w/-c change, this domain\n"
		 "  -w WEIGHT   1-65535 (default 256): twice the weight, twice the\n"
		 "              share when CPUs are busy\n"
		 "  -c CAP      percent of one CPU, 0-6400 (0: no cap)\n"
		 "\n"
		 "Changes apply at once. Domain-0 runs on CPUs of its own and\n"
		 "has neither.\n",
	.run = cmd_sched_run,
};

/* Print the vCPU rows of Domain-0 @d: one per dom0 CPU (@dom0_mask). */
static void vcpu_rows_dom0(const struct keel_dominfo *d, uint64_t dom0_mask)
{
	uint32_t i, cpu = 0;

	for (i = 0; i < d->nr_vcpus && i < KEEL_DOMAIN_MAX_VCPUS; i++) {
		while (cpu < 64 && !(dom0_mask & (1ull << cpu)))
			cpu++;
		printf("%-32s %5u %5u %5u %-5s %9.1f %s\n", DOMAIN_DOM0_NAME, d->domid, i,
		       cpu, "-", d->vcpu_time_ns[i] / 1e9, "its own CPU");
		cpu++;
	}
}

/* Print the vCPU rows of guest @d (@pool_mask: every pool CPU, shown as
 * "any"). 0, or -1 if its call failed. */
static int vcpu_rows_guest(const struct keel_dominfo *d, uint64_t pool_mask)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1], cpus[128] = "any", cpu[12];
	struct keel_domain_sched sc;
	uint32_t i;

	memset(&sc, 0, sizeof(sc));
	if (sched_call(d->domid, KEEL_SCHED_GET, &sc))
		return -1;
	domain_name(d, name, sizeof(name));
	for (i = 0; i < sc.nr_vcpus && i < KEEL_DOMAIN_MAX_VCPUS; i++) {
		if (sc.vcpu_cpumask[i] && sc.vcpu_cpumask[i] != pool_mask)
			fmt_cpu_list(sc.vcpu_cpumask[i], cpus, sizeof(cpus));
		else
			snprintf(cpus, sizeof(cpus), "any");
		if (sc.vcpu_cpu[i] == KEEL_VCPU_NO_CPU)
			snprintf(cpu, sizeof(cpu), "-");
		else
			snprintf(cpu, sizeof(cpu), "%u", sc.vcpu_cpu[i]);
		printf("%-32s %5u %5u %5s %-5s %9.1f %s\n", name, d->domid, i, cpu,
		       domain_vcpu_state_str(sc.vcpu_state[i],
					     d->state == KEEL_DOMSTATE_PAUSED),
		       d->vcpu_time_ns[i] / 1e9, cpus);
	}
	return 0;
}

/* Entry point of `keel vcpu-list [<domain>...]`. */
static int cmd_vcpu_list_run(int argc, char **argv)
{
	struct keel_dominfo *doms;
	struct keel_info info;
	uint32_t n, i;
	int j, ret = KEEL_EXIT_OK;

	for (j = 1; j < argc; j++) {
		if (args_is_help(argv[j])) {
			keel_print_cmd_help(&cmd_vcpu_list_entry);
			return KEEL_EXIT_OK;
		}
		if (argv[j][0] == '-')
			return keel_usage_error("vcpu-list", "unknown option", argv[j]);
	}
	if (hcall_connect(NULL))
		return KEEL_EXIT_FAIL;
	ret = keel_hypercall(KEEL_HC_INFO, &info, sizeof(info));
	if (ret >= 0)
		ret = domain_list_get(&doms, &n);
	if (ret < 0) {
		hcall_report("KEEL_HC_INFO or KEEL_HC_DOMAIN_LIST", ret);
		return KEEL_EXIT_FAIL;
	}
	ret = domain_words_missing("vcpu-list", doms, n, argv + 1, argc - 1) ?
		      KEEL_EXIT_FAIL : KEEL_EXIT_OK;
	printf("%-32s %5s %5s %5s %-5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State",
	       "Time(s)", "Affinity");
	for (i = 0; i < n; i++) {
		if (!domain_selected(&doms[i], argv + 1, argc - 1))
			continue;
		if (doms[i].domid == 0)
			vcpu_rows_dom0(&doms[i], info.cpu_mask_dom0);
		else if (vcpu_rows_guest(&doms[i], info.cpu_mask_pool))
			ret = KEEL_EXIT_FAIL; /* gone meanwhile: skipped */
	}
	free(doms);
	return fflush(stdout) ? KEEL_EXIT_FAIL : ret;
}

/* Command-table entry of `keel vcpu-list`. */
const struct keel_cmd cmd_vcpu_list_entry = {
	.name = "vcpu-list",
	.summary = "List each domain's vCPUs: CPU, state, time, affinity",
	.usage = "Usage: keel vcpu-list [<domain>...]\n"
		 "\n"
		 "One line per vCPU, as 'xl vcpu-list':\n"
		 "  Name ID VCPU CPU State Time(s) Affinity\n"
		 "CPU is the CPU it runs on (a guest's: the pool CPU it is homed\n"
		 "on; '-' before the guest starts). State: r-- running, -b-\n"
		 "blocked (halted), --p paused, --- waiting for its CPU, off not\n"
		 "started or stopped (an AP the guest has not woken). Time(s) is\n"
		 "its time in guest mode. Affinity: the pool CPUs it may use\n"
		 "(keel vcpu-pin, else the config's cpus =; 'any': all of them).\n"
		 "Domain-0's vCPUs each own a CPU. An idle pool CPU takes a ready\n"
		 "vCPU from a busy one, so CPU can change.\n",
	.run = cmd_vcpu_list_run,
};

/* Parse the vCPU word of vcpu-pin: a number below @nr or "all". */
static int pin_vcpu_word(const char *text, uint32_t nr, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (strcmp(text, "all") == 0) {
		*out = KEEL_SCHED_ALL_VCPUS;
		return 0;
	}
	v = strtoul(text, &end, 10);
	if (!text[0] || *end || text[0] == '-' || v >= nr) {
		fprintf(stderr, "keel: vcpu-pin: vCPU '%s': want 'all' or a number from 0 to %u "
			"(the guest has %u)\n", text, nr - 1, nr);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Parse the CPU list of vcpu-pin ("2", "2-3", "all") against @pool. */
static int pin_cpus_word(const char *text, uint64_t pool, uint64_t *out)
{
	char have[128];

	fmt_cpu_list(pool, have, sizeof(have));
	if (strcmp(text, "all") == 0 || strcmp(text, "any") == 0) {
		*out = pool;
		return 0;
	}
	if (fmt_parse_cpu_list(text, out)) {
		fprintf(stderr, "keel: vcpu-pin: '%s' is not a CPU list: give e.g. 2, 2-3 or "
			"all (the pool CPUs are %s)\n", text, have);
		return -1;
	}
	if (*out & ~pool) {
		fprintf(stderr, "keel: vcpu-pin: '%s' names CPUs that are not the guests' pool "
			"(%s; see keel info): Domain-0's own CPUs and missing ones cannot be used\n",
			text, have);
		return -1;
	}
	return 0;
}

/* Entry point of `keel vcpu-pin <domain> <vcpu|all> <cpus|all>`. */
static int cmd_vcpu_pin_run(int argc, char **argv)
{
	struct keel_domain_sched sc;
	struct keel_dominfo d;
	struct keel_info info;
	uint32_t vcpu;
	uint64_t mask;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_vcpu_pin_entry);
			return KEEL_EXIT_OK;
		}
		if (argv[i][0] == '-')
			return keel_usage_error("vcpu-pin", "unknown option", argv[i]);
	}
	if (argc != 4)
		return keel_usage_error("vcpu-pin", argc < 4 ? "needs <domain> <vcpu|all> <cpus|all>" :
					"unexpected argument", argc < 4 ? NULL : argv[4]);
	if (hcall_connect(NULL) || domain_resolve(argv[1], &d))
		return KEEL_EXIT_FAIL;
	if (d.domid == 0) {
		fprintf(stderr, "keel: vcpu-pin: Domain-0's vCPUs each own a CPU of their own "
			"and cannot be pinned\n");
		return KEEL_EXIT_FAIL;
	}
	ret = keel_hypercall(KEEL_HC_INFO, &info, sizeof(info));
	if (ret < 0) {
		hcall_report("KEEL_HC_INFO", ret);
		return KEEL_EXIT_FAIL;
	}
	if (pin_vcpu_word(argv[2], domain_max_vcpus(&d), &vcpu) ||
	    pin_cpus_word(argv[3], info.cpu_mask_pool, &mask))
		return KEEL_EXIT_FAIL;
	memset(&sc, 0, sizeof(sc));
	sc.vcpu = vcpu;
	sc.cpumask = mask;
	ret = sched_call(d.domid, KEEL_SCHED_PIN, &sc);
	if (ret == -KEEL_EOPNOTSUPP) {
		fprintf(stderr, "keel: vcpu-pin: this hypervisor cannot move a running "
			"vCPU, so it can only be pinned to CPUs that include its own; "
			"choose them before the start with cpus = in the config\n");
		return KEEL_EXIT_FAIL;
	}
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_SCHED", ret);
		return KEEL_EXIT_FAIL;
	}
	return KEEL_EXIT_OK;
}

/* Command-table entry of `keel vcpu-pin`. */
const struct keel_cmd cmd_vcpu_pin_entry = {
	.name = "vcpu-pin",
	.summary = "Choose the pool CPUs a guest's vCPU may run on",
	.usage = "Usage: keel vcpu-pin <domain> <vcpu|all> <cpus|all>\n"
		 "\n"
		 "As 'xl vcpu-pin' (hard affinity): vCPU number <vcpu> of the\n"
		 "guest, or each of them with 'all', may run only on <cpus>, a\n"
		 "list of pool CPUs such as 2, 2-3 or 2,4 ('all': any pool CPU;\n"
		 "keel info lists them). A running vCPU on another CPU moves at\n"
		 "once, and balancing keeps to the list. keel vcpu-list shows the\n"
		 "result.\n",
	.run = cmd_vcpu_pin_run,
};


#define VCPU_SET_POLL_NS 200000000L   /* between looks at the guest's vCPUs */
#define VCPU_SET_WAIT_S 30u           /* default -t */

/* How many of @domid's vCPUs are up (not KEEL_VCPU_DOWN); -1 if the
 * call failed. */
static int vcpus_up(uint32_t domid)
{
	struct keel_domain_sched sc;
	uint32_t i;
	int n = 0;

	memset(&sc, 0, sizeof(sc));
	if (sched_call(domid, KEEL_SCHED_GET, &sc))
		return -1;
	for (i = 0; i < sc.nr_vcpus && i < KEEL_DOMAIN_MAX_VCPUS; i++)
		n += sc.vcpu_state[i] != KEEL_VCPU_DOWN;
	return n;
}

/* Wait up to @wait_s seconds until @want vCPUs of @d are up. Returns how
 * many are at the end. */
static int vcpu_set_wait(const struct keel_dominfo *d, uint32_t want, uint32_t wait_s)
{
	struct timespec pause = { 0, VCPU_SET_POLL_NS };
	time_t end = time(NULL) + (time_t)wait_s;
	int up;

	while ((up = vcpus_up(d->domid)) >= 0 && (uint32_t)up != want && time(NULL) < end)
		nanosleep(&pause, NULL);
	return up;
}

/* Ask for @want vCPUs of guest @d and report the guest's answer. */
static int vcpu_set_do(const struct keel_dominfo *d, uint32_t want, uint32_t wait_s)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	struct keel_vcpu_set vs;
	uint32_t max = domain_max_vcpus(d);
	int ret, up;

	domain_name(d, name, sizeof(name));
	if (want < 1 || want > max) {
		fprintf(stderr, "keel: vcpu-set: %s may have 1 to %u vCPU(s); set maxvcpus = in its "
			"config to allow more (up to %u)\n", name, max, KEEL_DOMAIN_MAX_VCPUS);
		return KEEL_EXIT_FAIL;
	}
	memset(&vs, 0, sizeof(vs));
	vs.domid = d->domid;
	vs.nr_vcpus = want;
	ret = keel_hypercall(KEEL_HC_DOMAIN_VCPU_SET, &vs, sizeof(vs));
	if (ret == -KEEL_EBUSY) {
		fprintf(stderr, "keel: vcpu-set: %s is not running\n", name);
		return KEEL_EXIT_FAIL;
	}
	if (ret < 0) {
		hcall_report("KEEL_HC_DOMAIN_VCPU_SET", ret);
		return KEEL_EXIT_FAIL;
	}
	if (d->state == KEEL_DOMSTATE_PAUSED || wait_s == 0) {
		printf("%s: %u vCPU(s) plugged in; %s\n", name, want,
		       wait_s ? "it is paused and follows when unpaused" : "not waiting (-t 0)");
		return KEEL_EXIT_OK;
	}
	up = vcpu_set_wait(d, want, wait_s);
	if (up == (int)want) {
		printf("%s: %u vCPU(s) online\n", name, want);
		return KEEL_EXIT_OK;
	}
	fprintf(stderr, "keel: vcpu-set: %s has %d vCPU(s) up, not %u, after %u s: its kernel did "
		"not follow the ACPI CPU hotplug event (it needs CONFIG_ACPI_HOTPLUG_CPU, and a "
		"udev or hotplug rule that onlines a CPU that is added); see 'keel vcpu-list %s'\n",
		name, up, want, wait_s, name);
	return KEEL_EXIT_FAIL;
}

/* Entry point of `keel vcpu-set <domain> <n> [-t S]`. */
static int cmd_vcpu_set_run(int argc, char **argv)
{
	const char *word, *value;
	struct keel_dominfo d;
	uint32_t wait_s = VCPU_SET_WAIT_S;
	unsigned long want;
	char *end;
	int ret = keel_domain_value_args(&cmd_vcpu_set_entry, argc, argv, "<n>", &word, &value,
					 &wait_s);

	if (ret)
		return ret == KEEL_ARGS_HELP ? KEEL_EXIT_OK : ret;
	want = strtoul(value, &end, 10);
	if (!value[0] || *end || value[0] == '-' || want < 1 || want > KEEL_DOMAIN_MAX_VCPUS)
		return keel_usage_error("vcpu-set", "<n> must be a number of vCPUs, 1 to 8, not",
					value);
	if (hcall_connect(NULL) || domain_resolve(word, &d))
		return KEEL_EXIT_FAIL;
	if (d.domid == 0) {
		fprintf(stderr, "keel: vcpu-set: Domain-0's CPUs are chosen at boot "
			"(dom0_cpus= on the hypervisor's command line)\n");
		return KEEL_EXIT_FAIL;
	}
	return vcpu_set_do(&d, (uint32_t)want, wait_s);
}

/* Command-table entry of `keel vcpu-set`. */
const struct keel_cmd cmd_vcpu_set_entry = {
	.name = "vcpu-set",
	.summary = "Plug vCPUs into a running guest, or out of it",
	.usage = "Usage: keel vcpu-set <domain> <n> [-t SECONDS]\n"
		 "\n"
		 "As 'xl vcpu-set': the guest gets vCPUs 0..n-1, between 1 and\n"
		 "its config's maxvcpus (default: vcpus). Keel tells the guest's\n"
		 "kernel by ACPI CPU hotplug, and the kernel brings each added vCPU\n"
		 "online (Keel's guest images have the rule for it) or takes each\n"
		 "removed one offline and ejects it, by itself. keel vcpu-set waits\n"
		 "until it has, up to -t seconds (default 30; 0: not at all), and\n"
		 "says how many are online; a paused guest follows when unpaused.\n"
		 "Fails if the guest's kernel does not follow in time.\n",
	.run = cmd_vcpu_set_run,
};
