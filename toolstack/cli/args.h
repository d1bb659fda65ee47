/*
 * Pure command-line parsing helpers of the `keel` toolstack: the global
 * options before the subcommand, the "--help anywhere" check subcommands
 * use, and command-table lookup. No I/O, so tests/unit can test them on the
 * host.
 */
#ifndef KEEL_TOOLSTACK_ARGS_H
#define KEEL_TOOLSTACK_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "keel.h"

/* What the global part of the command line asks for. */
enum args_action {
	ARGS_RUN,        /* run the subcommand at args_global.cmd_index */
	ARGS_HELP,       /* keel --help */
	ARGS_VERSION,    /* keel --version */
	ARGS_NO_COMMAND, /* keel (nothing) */
	ARGS_BAD_OPTION, /* unknown global option, in args_global.bad */
	ARGS_EXTRA,      /* unexpected argument, in args_global.bad */
};

/* Result of args_parse_global() and args_parse_none(). */
struct args_global {
	enum args_action action;
	int cmd_index;   /* for ARGS_RUN: index of the subcommand in argv */
	const char *bad; /* for ARGS_BAD_OPTION/ARGS_EXTRA: offending word */
};

/* True if @arg is -h or --help. */
bool args_is_help(const char *arg);

/*
 * Parse the global options (argv[1..] up to the first non-option).
 * @argc, @argv: as given to main(). @out: filled with the result.
 * Returns 0 if the command line is usable, -EINVAL otherwise (out->action
 * then says why).
 */
int args_parse_global(int argc, char **argv, struct args_global *out);

/*
 * Parse the arguments of a subcommand that takes no arguments: only
 * -h/--help is allowed. @argc, @argv: argv[0] is the subcommand name.
 * Returns 0 with out->action ARGS_RUN or ARGS_HELP, or -EINVAL with
 * ARGS_BAD_OPTION/ARGS_EXTRA and out->bad set.
 */
int args_parse_none(int argc, char **argv, struct args_global *out);

/*
 * Find the command called @name in @table (@n entries).
 * Returns the entry, or NULL if there is none.
 */
const struct keel_cmd *args_find_cmd(const struct keel_cmd *const *table,
				     size_t n, const char *name);

#endif /* KEEL_TOOLSTACK_ARGS_H */
