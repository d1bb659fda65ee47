/*
 * Private interface between the three files of the config parser, not for
 * the rest of the toolstack (which uses config.h): config.c (key table,
 * statements, overrides, checks, writer), config_lex.c (the lexer of
 * values) and config_disk.c (the `disk` specs). It holds the key table's
 * entry type, the parsed-value and lexer types, the error location of a
 * statement, and the few helpers that more than one of the files calls.
 * Errors are reported as text in a caller buffer,
 * "<file>:<line>: <what>", and -EINVAL, as config.h describes.
 */
#ifndef KEEL_TOOLSTACK_CONFIG_PRIV_H
#define KEEL_TOOLSTACK_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* How a key's value is checked and stored. */
enum cfg_type {
	CFG_T_NAME,   /* domain name */
	CFG_T_STR,    /* one-line string */
	CFG_T_PATH,   /* file path, made absolute against the config's dir */
	CFG_T_MEMORY, /* integer, MiB */
	CFG_T_VCPUS,  /* integer */
	CFG_T_MAXVCPUS, /* integer, 0 = not set (then vcpus) */
	CFG_T_WEIGHT, /* integer 1..65535, the credit scheduler's weight */
	CFG_T_CAP,    /* integer 0..6400, percent of one CPU */
	CFG_T_CPUS,   /* a CPU list, "2" or "2-3,5" */
	CFG_T_ACTION, /* destroy | restart | preserve */
	CFG_T_LIST,   /* list of strings */
	CFG_T_DISKS,  /* list of disk specs, decoded into cfg->disks */
};

/* One known key: name, type, where it lives in struct config (an entry of
 * config.c's key table, cfg_keys). */
struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
};

/* Kind of a parsed value before it is matched to its key's type. */
enum cfg_kind {
	CFG_V_STR,  /* quoted string */
	CFG_V_INT,  /* decimal integer */
	CFG_V_LIST, /* [ ... ] */
	CFG_V_BARE, /* unquoted word (command line only) */
};

/* A parsed value; strings point into the source text (not terminated). */
struct cfg_value {
	enum cfg_kind kind;
	const char *s;
	size_t slen;
	uint64_t i;
	bool too_big; /* integer overflowed */
	struct config_list *list;
	uint32_t item_line[CONFIG_LIST_MAX]; /* line of each list item */
};

/*
 * Lexer state over the text of one file (or one override): the next
 * character @p, the end of the text @end, the current @line (0 for an
 * override: its errors name no line), the @file named in errors and the
 * error buffer @err (@err_len bytes). Set up by config.c, advanced by the
 * lex_* functions of config_lex.c.
 */
struct cfg_lexer {
	const char *p, *end;
	uint32_t line;
	const char *file;
	char *err;
	size_t err_len;
};

/*
 * Where a statement's errors are reported (file, line, 0 for the command
 * line, and the message buffer) and the directory its relative paths are
 * joined to (@base_dir, NULL or "": left as they are).
 */
struct cfg_where {
	const char *file;
	uint32_t line;
	char *err;
	size_t err_len;
	const char *base_dir;
};

/* cfg_error() at the place @w (a const struct cfg_where *); -EINVAL. */
#define CFG_ERR(w, ...) cfg_error((w)->file, (w)->line, (w)->err, \
				  (w)->err_len, __VA_ARGS__)

/* ---- config.c ---- */

/*
 * Format the printf-style message @fmt into @err (@err_len bytes) as
 * "<file>:<line>: <msg>", or "<file>: <msg>" when @line is 0; the message
 * itself is cut to CONFIG_ERR_BYTES. @err may be NULL (or @err_len 0):
 * nothing is written.
 * Returns -EINVAL, always, so callers can "return cfg_error(...)".
 */
int cfg_error(const char *file, uint32_t line, char *err, size_t err_len,
	      const char *fmt, ...);

/*
 * What a value of key type @type should look like, for error messages
 * ("an integer (MiB)", "a list [ '...', ... ]", ...).
 * Returns a static string, never NULL.
 */
const char *cfg_type_want(enum cfg_type type);

/*
 * Copy @len bytes of @s into @dst (@size bytes) and add a NUL.
 * Returns 0, or -ENOSPC (and @dst untouched) if @len >= @size.
 */
int cfg_copy(char *dst, size_t size, const char *s, size_t len);

/*
 * Store the path @s (@len bytes, not terminated) into @dst, which has
 * CONFIG_STR_BYTES: a relative, non-empty path is joined to @base_dir
 * (trailing '/'s dropped) unless @base_dir is NULL or ""; others are
 * copied as they are.
 * Returns 0, or -ENOSPC (and @dst untouched) if the result does not fit.
 */
int cfg_set_path(char *dst, const char *s, size_t len, const char *base_dir);

/* ---- config_lex.c ---- */

/*
 * Move @lx past blanks (space, tab, CR) and a '#' comment, stopping at a
 * newline (not consumed), another character or the end of the text.
 * lx->line does not change.
 */
void lex_skip_blank(struct cfg_lexer *lx);

/*
 * Move @lx past blanks, comments and newlines (as inside a list),
 * counting the newlines in lx->line.
 */
void lex_skip_space(struct cfg_lexer *lx);

/* Returns true if @c can start a key: a letter or '_'. */
bool lex_ident_start(char c);

/* Returns true if @c can continue a key: a letter, a digit or '_'. */
bool lex_ident_char(char c);

/*
 * Read the value of key @k (its name and type are used in errors) at
 * lx->p, which is past any blanks, into @v (cleared by the caller): a
 * quoted string ('...' or "...", one line; v->s points into the text), a
 * decimal integer (v->i, v->too_big if it overflowed) or a list
 * [ item, ... ] whose items are copied into @list (v->list = @list) with
 * their lines in v->item_line. Leaves lx->p just after the value. The
 * value is not checked against @k's type; cfg_apply() in config.c does
 * that.
 * Returns 0, or -EINVAL with the error in lx->err at lx->file and line.
 */
int lex_value(struct cfg_lexer *lx, const struct cfg_key *k,
	      struct cfg_value *v, struct config_list *list);

/* ---- config_disk.c ---- */

/*
 * Store the value @v of the `disk` key @k into @cfg. It must be a list of
 * at most KEEL_DOMAIN_MAX_DISKS items: decode every item
 * (config_disk_parse(), relative file: paths joined to w->base_dir),
 * check that the slots are neither given twice nor leave a gap after
 * xvda, and set cfg->disk (the items, file: paths made absolute),
 * cfg->disks (sorted by slot) and cfg->nr_disks. @cfg changes only on
 * success.
 * Returns 0, or -EINVAL with the error at @w (at the bad item's own line
 * when it is known).
 */
int cfg_set_disks(struct config *cfg, const struct cfg_key *k,
		  const struct cfg_value *v, const struct cfg_where *w);

#endif /* KEEL_TOOLSTACK_CONFIG_PRIV_H */
