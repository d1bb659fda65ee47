/*
 * `keel info`: the hypervisor-wide information command, modelled on
 * `xl info`. It fetches struct keel_info with KEEL_HC_INFO and prints it
 * through info_format(). Later host-level commands (e.g. `keel top`) belong
 * in this file's group.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "args.h"
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

/* Entry point of `keel info [--help]`. */
static int cmd_info_run(int argc, char **argv)
{
	struct args_global args;

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
	.usage = "Usage: keel info\n"
		 "\n"
		 "Print hypervisor, CPU and memory information, one\n"
		 "'key : value' per line (like 'xl info'). Memory is in MiB.\n"
		 "Needs root and dom0 running on Keel (/dev/keel).\n",
	.run = cmd_info_run,
};
