/*
 * Pure command-line parsing helpers of the `keel` toolstack (see args.h).
 * The grammar is `keel [global options] <command> [command arguments]`,
 * like xl: global options are -h/--help and -V/--version, everything from
 * the first non-option word on belongs to the subcommand.
 */
#include <errno.h>
#include <string.h>

#include "args.h"

/* True if @arg is -h or --help. */
bool args_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* True if @arg is -V or --version. */
static bool args_is_version(const char *arg)
{
	return strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0;
}

/* Set @out to @action/@bad and return 0 or -EINVAL to match. */
static int args_set(struct args_global *out, enum args_action action,
		    const char *bad)
{
	out->action = action;
	out->bad = bad;
	if (action == ARGS_BAD_OPTION || action == ARGS_EXTRA ||
	    action == ARGS_NO_COMMAND)
		return -EINVAL;
	return 0;
}

/* Parse the global options; see args.h. */
int args_parse_global(int argc, char **argv, struct args_global *out)
{
	int i;

	out->cmd_index = 0;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (args_is_help(arg))
			return args_set(out, ARGS_HELP, NULL);
		if (args_is_version(arg))
			return args_set(out, ARGS_VERSION, NULL);
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] == '-' && arg[1] != '\0')
			return args_set(out, ARGS_BAD_OPTION, arg);
		break;
	}
	if (i >= argc)
		return args_set(out, ARGS_NO_COMMAND, NULL);
	out->cmd_index = i;
	return args_set(out, ARGS_RUN, NULL);
}

/* Parse the arguments of an argument-less subcommand; see args.h. */
int args_parse_none(int argc, char **argv, struct args_global *out)
{
	int i;

	out->cmd_index = 0;
	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i]))
			return args_set(out, ARGS_HELP, NULL);
	}
	if (argc < 2)
		return args_set(out, ARGS_RUN, NULL);
	if (argv[1][0] == '-' && argv[1][1] != '\0')
		return args_set(out, ARGS_BAD_OPTION, argv[1]);
	return args_set(out, ARGS_EXTRA, argv[1]);
}

/* Look @name up in the command table; see args.h. */
const struct keel_cmd *args_find_cmd(const struct keel_cmd *const *table,
				     size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	}
	return NULL;
}
