/*
 * Lexer of the config parser (see config.h and config_priv.h): reads the
 * value of a `key = value` statement, from the text of a file or of one
 * command-line override, into a struct cfg_value: a quoted string, a
 * decimal integer or a list [ ... ] (which may span lines), and skips the
 * blanks, comments and newlines between statements for config.c's loop.
 * Strings point into the source text; list items are copied into a
 * struct config_list along with the line of each. Errors go through
 * cfg_error() at the lexer's file and line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "config_priv.h"

/* Skip blanks and a comment, stopping at a newline or the end; see
 * config_priv.h. */
void lex_skip_blank(struct cfg_lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else {
			break;
		}
	}
}

/* Skip blanks, comments and newlines (inside a list); see config_priv.h. */
void lex_skip_space(struct cfg_lexer *lx)
{
	for (;;) {
		lex_skip_blank(lx);
		if (lx->p < lx->end && *lx->p == '\n') {
			lx->p++;
			lx->line++;
			continue;
		}
		return;
	}
}

/* True if @c can start a key; see config_priv.h. */
bool lex_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* True if @c can continue a key; see config_priv.h. */
bool lex_ident_char(char c)
{
	return lex_ident_start(c) || (c >= '0' && c <= '9');
}

/* Read a quoted string at lx->p into @v. */
static int lex_string(struct cfg_lexer *lx, struct cfg_value *v)
{
	char q = *lx->p++;
	const char *start = lx->p;

	while (lx->p < lx->end && *lx->p != q && *lx->p != '\n')
		lx->p++;
	if (lx->p >= lx->end || *lx->p != q)
		return cfg_error(lx->file, lx->line, lx->err, lx->err_len,
				 "unterminated string");
	v->kind = CFG_V_STR;
	v->s = start;
	v->slen = (size_t)(lx->p - start);
	lx->p++;
	return 0;
}

/* Read a decimal integer at lx->p into @v; @key names it in errors. */
static int lex_int(struct cfg_lexer *lx, struct cfg_value *v, const char *key)
{
	const char *start = lx->p;

	v->kind = CFG_V_INT;
	v->i = 0;
	v->too_big = false;
	while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9') {
		if (v->i > 100000000000ull)
			v->too_big = true; /* keeps the value found so far */
		else
			v->i = v->i * 10 + (uint64_t)(*lx->p - '0');
		lx->p++;
	}
	if (lx->p < lx->end && (lex_ident_char(*lx->p) || *lx->p == '.'))
		return cfg_error(lx->file, lx->line, lx->err, lx->err_len,
				 "bad value for '%s': '%.*s...' is not a "
				 "decimal integer", key,
				 (int)(lx->p - start + 1), start);
	v->s = start;
	v->slen = (size_t)(lx->p - start);
	return 0;
}

/* Read one list item (string or integer) into @list; its line goes to
 * @lines[index]. */
static int lex_list_item(struct cfg_lexer *lx, struct config_list *list,
			 uint32_t *lines, const char *key)
{
	struct cfg_value item;
	int ret;

	if (*lx->p == '"' || *lx->p == '\'')
		ret = lex_string(lx, &item);
	else if (*lx->p >= '0' && *lx->p <= '9')
		ret = lex_int(lx, &item, key);
	else
		return cfg_error(lx->file, lx->line, lx->err, lx->err_len,
				 "syntax error in the list of '%s': expected "
				 "a string", key);
	if (ret)
		return ret;
	if (list->n >= CONFIG_LIST_MAX)
		return cfg_error(lx->file, lx->line, lx->err, lx->err_len,
				 "too many items in '%s' (at most %u)", key,
				 CONFIG_LIST_MAX);
	if (cfg_copy(list->items[list->n], CONFIG_ITEM_BYTES, item.s,
		     item.slen))
		return cfg_error(lx->file, lx->line, lx->err, lx->err_len,
				 "item of '%s' is too long (at most %u "
				 "characters)", key, CONFIG_ITEM_BYTES - 1);
	lines[list->n] = lx->line;
	list->n++;
	return 0;
}

/* Read a list "[ item, item, ]" at lx->p into @list, the items' lines
 * into @lines. */
static int lex_list(struct cfg_lexer *lx, struct config_list *list,
		    uint32_t *lines, const char *key)
{
	uint32_t open_line = lx->line;
	int ret;

	lx->p++;
	memset(list, 0, sizeof(*list));
	for (;;) {
		lex_skip_space(lx);
		if (lx->p >= lx->end)
			return cfg_error(lx->file, open_line, lx->err,
					 lx->err_len, "unterminated list "
					 "(missing ']')");
		if (*lx->p == ']') {
			lx->p++;
			return 0;
		}
		ret = lex_list_item(lx, list, lines, key);
		if (ret)
			return ret;
		lex_skip_space(lx);
		if (lx->p < lx->end && *lx->p == ',') {
			lx->p++;
		} else if (lx->p < lx->end && *lx->p != ']') {
			return cfg_error(lx->file, lx->line, lx->err,
					 lx->err_len, "syntax error in the list "
					 "of '%s': expected ',' or ']'", key);
		}
	}
}

/* Read the value of key @k at lx->p into @v (@list holds list items); see
 * config_priv.h. */
int lex_value(struct cfg_lexer *lx, const struct cfg_key *k,
	      struct cfg_value *v, struct config_list *list)
{
	char c;

	if (lx->p >= lx->end || *lx->p == '\n' || *lx->p == ';')
		return cfg_error(lx->file, lx->line, lx->err, lx->err_len,
				 "missing value for '%s'", k->name);
	c = *lx->p;
	if (c == '"' || c == '\'')
		return lex_string(lx, v);
	if (c >= '0' && c <= '9')
		return lex_int(lx, v, k->name);
	if (c == '[') {
		v->kind = CFG_V_LIST;
		v->list = list;
		return lex_list(lx, list, v->item_line, k->name);
	}
	return cfg_error(lx->file, lx->line, lx->err, lx->err_len,
			 "bad value for '%s': expected %s", k->name,
			 cfg_type_want(k->type));
}
