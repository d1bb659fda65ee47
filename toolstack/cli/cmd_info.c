/*
 * `keel info`: the hypervisor-wide information command, modelled on
 * `xl info`. It fetches struct keel_info with KEEL_HC_INFO and prints it
 * through info_format(). `keel info --compat` prints the compatibility
 * report the hypervisor handed dom0 in its initramfs (/etc/keel/compat),
 * and dom0's network interfaces with their drivers and addresses; it
 * works without the hypervisor too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "args.h"
#include "compat_nics.h"
#include "hcall.h"
#include "info_fmt.h"
#include "keel.h"

/* Body of `keel info` once the command line is known to be fine. */
static int cmd_info_show(void)
{
	struct keel_info info;
	int ret;

	if (hcall_connect(NULL))
		return KEEL_EXIT_FAIL;
	memset(&info, 0, sizeof(info));
	ret = keel_hypercall(KEEL_HC_INFO, &info, sizeof(info));
	if (ret < 0) {
		hcall_report("KEEL_HC_INFO", ret);
		return KEEL_EXIT_FAIL;
	}
	if (info_format(&info, stdout)) {
		fprintf(stderr, "keel: info: cannot write output: %s\n",
			strerror(errno));
		return KEEL_EXIT_FAIL;
	}
	return KEEL_EXIT_OK;
}

/* Body of `keel info --compat`. */
static int cmd_info_compat(void)
{
	char line[256];
	FILE *f = fopen(COMPAT_REPORT_PATH, "r");

	if (f) {
		while (fgets(line, sizeof(line), f))
			fputs(line, stdout);
		fclose(f);
	} else {
		printf("no compatibility report (%s): dom0 was started without the Keel "
		       "hypervisor (the 'Dom0 Linux without hypervisor' entry)\n",
		       COMPAT_REPORT_PATH);
	}
	compat_nics_print("/sys", stdout);
	return KEEL_EXIT_OK;
}

/* Entry point of `keel info [--compat] [--help]`. */
static int cmd_info_run(int argc, char **argv)
{
	struct args_global args;

	if (argc == 2 && strcmp(argv[1], "--compat") == 0)
		return cmd_info_compat();
	if (args_parse_none(argc, argv, &args)) {
		fprintf(stderr, "keel: info: unexpected %s '%s'; see "
			"'keel help info'\n",
			args.action == ARGS_BAD_OPTION ? "option" : "argument",
			args.bad);
		return KEEL_EXIT_USAGE;
	}
	if (args.action == ARGS_HELP) {
		keel_print_cmd_help(&cmd_info_entry);
		return KEEL_EXIT_OK;
	}
	return cmd_info_show();
}

/* Command-table entry of `keel info`. */
const struct keel_cmd cmd_info_entry = {
	.name = "info",
	.summary = "Show information about the hypervisor and the host",
	.usage = "Usage: keel info [--compat]\n"
		 "\n"
		 "Print hypervisor, CPU and memory information, one\n"
		 "'key : value' per line (like 'xl info'). Memory is in MiB.\n"
		 "Needs root and dom0 running on Keel (/dev/keel).\n"
		 "\n"
		 "  --compat  print the compatibility report instead: what this\n"
		 "            machine can do for Keel (CPU, virtualization,\n"
		 "            IOMMU, firmware, memory and CPUs, whether it is\n"
		 "            itself virtual, whether guests can run), as the\n"
		 "            hypervisor found it at boot, then each network\n"
		 "            card with its driver, link and address. Works\n"
		 "            without the hypervisor too.\n",
	.run = cmd_info_run,
};
