/*
 * Entry point of `keel`, the Keel toolstack command (modelled on Xen's
 * `xl`). It parses the global options, looks the subcommand up in the
 * command table below and runs it; help and version live here because they
 * need the table. Adding a subcommand means writing its struct keel_cmd in
 * a cmd_*.c file, declaring it in keel.h and listing it in keel_cmds[].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "args.h"
#include "keel.h"

static int keel_help_run(int argc, char **argv);

/* Command-table entry of `keel help`. */
static const struct keel_cmd keel_help_entry = {
	.name = "help",
	.summary = "Show help for keel or for one command",
	.usage = "Usage: keel help [<command>]\n"
		 "\n"
		 "Without a command, list all commands; with one, show its\n"
		 "help (same as 'keel <command> --help').\n",
	.run = keel_help_run,
};

/* All subcommands, in the order `keel --help` lists them. */
static const struct keel_cmd *const keel_cmds[] = {
	&cmd_create_entry,
	&cmd_list_entry,
	&cmd_console_entry,
	&cmd_pause_entry,
	&cmd_unpause_entry,
	&cmd_destroy_entry,
	&cmd_shutdown_entry,
	&cmd_reboot_entry,
	&cmd_rename_entry,
	&cmd_save_entry,
	&cmd_restore_entry,
	&cmd_migrate_entry,
	&cmd_migrate_receive_entry,
	&cmd_clone_entry,
	&cmd_uptime_entry,
	&cmd_mem_set_entry,
	&cmd_mem_max_entry,
	&cmd_sched_entry,
	&cmd_vcpu_list_entry,
	&cmd_vcpu_pin_entry,
	&cmd_vcpu_set_entry,
	&cmd_starter_entry,
	&cmd_top_entry,
	&cmd_dashboard_entry,
	&cmd_kiosk_entry,
	&cmd_exits_entry,
	&cmd_dmesg_entry,
	&cmd_info_entry,
	&cmd_netd_entry,
	&keel_help_entry,
};

#define KEEL_NR_CMDS (sizeof(keel_cmds) / sizeof(keel_cmds[0]))

/* Print the global usage and command list to @out. */
static void keel_print_usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: keel [-h|--help] [-V|--version] <command> [args]\n"
		     "\n"
		     "Toolstack of the Keel hypervisor. Commands:\n");
	for (i = 0; i < KEEL_NR_CMDS; i++)
		fprintf(out, "  %-12s %s\n", keel_cmds[i]->name,
			keel_cmds[i]->summary);
	fprintf(out, "\nRun 'keel help <command>' for help on one command.\n");
}

/* Print the full help of one command; see keel.h. */
void keel_print_cmd_help(const struct keel_cmd *cmd)
{
	fputs(cmd->usage, stdout);
}

/* Report a usage error of a command; see keel.h. */
int keel_usage_error(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "keel: %s: %s%s%s%s; see 'keel help %s'\n", cmd, what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "", cmd);
	return KEEL_EXIT_USAGE;
}

/* Parse a command line <domain> <value> [-t SECONDS]; see keel.h. */
int keel_domain_value_args(const struct keel_cmd *entry, int argc, char **argv,
			   const char *value_word, const char **dom, const char **value,
			   uint32_t *wait_s)
{
	const char *pos[2];
	int i, npos = 0;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(entry);
			return KEEL_ARGS_HELP;
		}
	}
	for (i = 1; i < argc; i++) {
		if (wait_s && strcmp(argv[i], "-t") == 0) {
			char *end;
			unsigned long v;

			if (i + 1 >= argc)
				return keel_usage_error(entry->name, "missing seconds after", "-t");
			v = strtoul(argv[++i], &end, 10);
			if (!argv[i][0] || *end || argv[i][0] == '-' || v > 3600)
				return keel_usage_error(entry->name, "-t wants 0 to 3600 seconds, not",
							argv[i]);
			*wait_s = (uint32_t)v;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return keel_usage_error(entry->name, "unknown option", argv[i]);
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			return keel_usage_error(entry->name, "unexpected argument", argv[i]);
		}
	}
	if (npos < 2) {
		char what[64];

		snprintf(what, sizeof(what), "needs <domain> %s", value_word);
		return keel_usage_error(entry->name, what, NULL);
	}
	*dom = pos[0];
	*value = pos[1];
	return KEEL_EXIT_OK;
}


/* Report an unknown command name and return the usage exit code. */
static int keel_unknown_cmd(const char *name)
{
	fprintf(stderr, "keel: unknown command '%s'; see 'keel --help'\n", name);
	return KEEL_EXIT_USAGE;
}

/* Entry point of `keel help [<command>]`. */
static int keel_help_run(int argc, char **argv)
{
	const struct keel_cmd *cmd;

	if (argc < 2 || args_is_help(argv[1])) {
		if (argc >= 2)
			keel_print_cmd_help(&keel_help_entry);
		else
			keel_print_usage(stdout);
		return KEEL_EXIT_OK;
	}
	if (argc > 2) {
		fprintf(stderr, "keel: help: too many arguments; see "
			"'keel help help'\n");
		return KEEL_EXIT_USAGE;
	}
	cmd = args_find_cmd(keel_cmds, KEEL_NR_CMDS, argv[1]);
	if (!cmd)
		return keel_unknown_cmd(argv[1]);
	keel_print_cmd_help(cmd);
	return KEEL_EXIT_OK;
}

/* Print `keel --version`. */
static void keel_print_version(void)
{
	printf("keel %s (hypercall ABI %d.%d)\n", KEEL_TOOLSTACK_VERSION,
	       KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
}

/* Run `keel`; returns the process exit code (KEEL_EXIT_*). */
int main(int argc, char **argv)
{
	const struct keel_cmd *cmd;
	struct args_global args;

	if (args_parse_global(argc, argv, &args)) {
		if (args.action == ARGS_BAD_OPTION)
			fprintf(stderr, "keel: unknown option '%s'; see "
				"'keel --help'\n", args.bad);
		else
			keel_print_usage(stderr);
		return KEEL_EXIT_USAGE;
	}
	if (args.action == ARGS_HELP) {
		keel_print_usage(stdout);
		return KEEL_EXIT_OK;
	}
	if (args.action == ARGS_VERSION) {
		keel_print_version();
		return KEEL_EXIT_OK;
	}
	cmd = args_find_cmd(keel_cmds, KEEL_NR_CMDS, argv[args.cmd_index]);
	if (!cmd)
		return keel_unknown_cmd(argv[args.cmd_index]);
	return cmd->run(argc - args.cmd_index, argv + args.cmd_index);
}
