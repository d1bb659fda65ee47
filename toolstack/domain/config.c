/*
 * Parser and writer of xl-style guest configuration files (see config.h).
 * This file holds the key table and the statement loop: each
 * `key = value` statement is checked against the table (type, range,
 * duplicates) and stored in a struct config; the same value code serves
 * command-line overrides, where bare words are also allowed. It also
 * checks a config and writes one back out. The lexer that reads values
 * (lists may span lines) is config_lex.c; the decoding of `disk` items
 * into struct config_disk, in slot order with file: paths made absolute,
 * is config_disk.c; what the three share is in config_priv.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_priv.h"
#include "format.h"

#define CFG_KEY(n, t, f) { n, t, offsetof(struct config, f) }

/* All keys, in the order config_write() emits them. */
static const struct cfg_key cfg_keys[] = {
	CFG_KEY("name", CFG_T_NAME, name),
	CFG_KEY("description", CFG_T_STR, description),
	CFG_KEY("memory", CFG_T_MEMORY, memory_mib),
	CFG_KEY("vcpus", CFG_T_VCPUS, vcpus),
	CFG_KEY("maxvcpus", CFG_T_MAXVCPUS, maxvcpus),
	CFG_KEY("cpus", CFG_T_CPUS, cpus),
	CFG_KEY("cpu_weight", CFG_T_WEIGHT, cpu_weight),
	CFG_KEY("cap", CFG_T_CAP, cap),
	CFG_KEY("kernel", CFG_T_PATH, kernel),
	CFG_KEY("ramdisk", CFG_T_PATH, ramdisk),
	CFG_KEY("root", CFG_T_STR, root),
	CFG_KEY("cmdline", CFG_T_STR, cmdline),
	CFG_KEY("extra", CFG_T_STR, extra),
	CFG_KEY("on_poweroff", CFG_T_ACTION, on_poweroff),
	CFG_KEY("on_reboot", CFG_T_ACTION, on_reboot),
	CFG_KEY("on_crash", CFG_T_ACTION, on_crash),
	CFG_KEY("disk", CFG_T_DISKS, disk),
	CFG_KEY("vif", CFG_T_LIST, vif),
};

#define CFG_NR_KEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

_Static_assert(CFG_NR_KEYS <= sizeof(((struct config *)0)->set_line) /
	       sizeof(uint32_t), "struct config.set_line is too small");

#undef CFG_KEY

/* Format an error "<file>:<line>: <msg>" (or "<file>: <msg>" for line 0);
 * see config_priv.h. */
int cfg_error(const char *file, uint32_t line, char *err,
	      size_t err_len, const char *fmt, ...)
{
	char msg[CONFIG_ERR_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!err || !err_len)
		return -EINVAL;
	if (line)
		snprintf(err, err_len, "%s:%u: %s", file, line, msg);
	else
		snprintf(err, err_len, "%s: %s", file, msg);
	return -EINVAL;
}

/* Name of action @a; see config.h. */
const char *config_action_name(enum config_action a)
{
	switch (a) {
	case CONFIG_ACTION_DESTROY:
		return "destroy";
	case CONFIG_ACTION_RESTART:
		return "restart";
	case CONFIG_ACTION_PRESERVE:
		return "preserve";
	}
	return "destroy";
}

/* Fill @cfg with the defaults; see config.h. */
void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_mib = CONFIG_DEFAULT_MEMORY_MIB;
	cfg->vcpus = CONFIG_DEFAULT_VCPUS;
	cfg->cpu_weight = CONFIG_DEFAULT_WEIGHT;
	cfg->on_poweroff = CONFIG_ACTION_DESTROY;
	cfg->on_reboot = CONFIG_ACTION_RESTART;
	cfg->on_crash = CONFIG_ACTION_DESTROY;
}

/* Index of key @name (@len chars) in cfg_keys, or -1. */
static int cfg_key_index(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < CFG_NR_KEYS; i++) {
		if (strlen(cfg_keys[i].name) == len &&
		    memcmp(cfg_keys[i].name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

/* Edit distance (insert, delete, substitute) of two short strings. */
static uint32_t cfg_edit_distance(const char *a, const char *b)
{
	uint32_t row[33], la = (uint32_t)strlen(a), lb = (uint32_t)strlen(b);
	uint32_t i, j;

	if (la > 32 || lb > 32)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		uint32_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			uint32_t up = row[j];
			uint32_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Closest known key to @word; see config.h. */
const char *config_suggest_key(const char *word)
{
	const char *best = NULL;
	uint32_t best_d = 3;
	size_t i;

	for (i = 0; i < CFG_NR_KEYS; i++) {
		uint32_t d = cfg_edit_distance(word, cfg_keys[i].name);

		if (d < best_d && d < strlen(word)) {
			best_d = d;
			best = cfg_keys[i].name;
		}
	}
	return best;
}

/* What a value of @type should look like, for error messages; see
 * config_priv.h. */
const char *cfg_type_want(enum cfg_type type)
{
	switch (type) {
	case CFG_T_MEMORY:
		return "an integer (MiB)";
	case CFG_T_VCPUS:
	case CFG_T_MAXVCPUS:
	case CFG_T_WEIGHT:
	case CFG_T_CAP:
		return "an integer";
	case CFG_T_CPUS:
		return "a CPU list in quotes, such as '2' or '2-3'";
	case CFG_T_ACTION:
		return "'destroy', 'restart' or 'preserve'";
	case CFG_T_LIST:
	case CFG_T_DISKS:
		return "a list [ '...', ... ]";
	default:
		return "a string in quotes";
	}
}

/* Copy @len bytes of @s into @dst (@size bytes) with a NUL; -ENOSPC if
 * long. See config_priv.h. */
int cfg_copy(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		return -ENOSPC;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* True if @c may appear in a domain name. */
static bool cfg_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* True if @s (@len chars) is a usable domain name. */
static bool cfg_name_ok(const char *s, size_t len)
{
	bool digits_only = true;
	size_t i;

	if (len == 0 || len > CONFIG_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!cfg_name_char(s[i]))
			return false;
		if (s[i] < '0' || s[i] > '9')
			digits_only = false;
	}
	if (digits_only)
		return false;
	return !(len == 8 && strncmp(s, "Domain-0", 8) == 0);
}

/* Store path @s/@len into @dst, joined to @base_dir; see config_priv.h. */
int cfg_set_path(char *dst, const char *s, size_t len,
		 const char *base_dir)
{
	size_t blen;

	if (len == 0 || s[0] == '/' || !base_dir || !base_dir[0])
		return cfg_copy(dst, CONFIG_STR_BYTES, s, len);
	blen = strlen(base_dir);
	while (blen > 1 && base_dir[blen - 1] == '/')
		blen--;
	if (blen + 1 + len >= CONFIG_STR_BYTES)
		return -ENOSPC;
	memcpy(dst, base_dir, blen);
	dst[blen] = '/';
	memcpy(dst + blen + 1, s, len);
	dst[blen + 1 + len] = '\0';
	return 0;
}

/* Parse the decimal integer @s/@len of a bare value; false if not one. */
static bool cfg_bare_int(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 9)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* The range of an integer key of @type. */
static void cfg_int_range(enum cfg_type type, uint64_t *lo, uint64_t *hi)
{
	switch (type) {
	case CFG_T_MEMORY:
		*lo = KEEL_DOMAIN_MIN_MEM_BYTES >> 20;
		*hi = KEEL_DOMAIN_MAX_MEM_BYTES >> 20;
		return;
	case CFG_T_WEIGHT:
		*lo = 1;
		*hi = CONFIG_MAX_WEIGHT;
		return;
	case CFG_T_CAP:
		*lo = 0;
		*hi = CONFIG_MAX_CAP;
		return;
	default:
		*lo = 1;
		*hi = KEEL_DOMAIN_MAX_VCPUS;
	}
}

/* Store an integer value @v into key @k with its range check. */
static int cfg_set_int(struct config *cfg, const struct cfg_key *k,
		       const struct cfg_value *v, const struct cfg_where *w)
{
	uint64_t n = v->i, lo, hi;

	if (v->kind == CFG_V_BARE && !cfg_bare_int(v->s, v->slen, &n))
		return CFG_ERR(w, "bad value for '%s': expected %s", k->name,
			       cfg_type_want(k->type));
	if (v->kind != CFG_V_INT && v->kind != CFG_V_BARE)
		return CFG_ERR(w, "bad value for '%s': expected %s", k->name,
			       cfg_type_want(k->type));
	cfg_int_range(k->type, &lo, &hi);
	if (v->too_big)
		return CFG_ERR(w, "bad value for '%s': number too large",
			       k->name);
	if (n < lo || n > hi)
		return CFG_ERR(w, "bad value for '%s': %llu is outside "
			       "%llu..%llu%s", k->name, (unsigned long long)n,
			       (unsigned long long)lo, (unsigned long long)hi,
			       k->type == CFG_T_MEMORY ? " (MiB)" :
			       k->type == CFG_T_CAP ? " (percent of one CPU; 0: no cap)" : "");
	*(uint32_t *)(void *)((char *)cfg + k->off) = (uint32_t)n;
	return 0;
}

/* Store a CPU list (cpus = '2-3'), checked by fmt_parse_cpu_list. */
static int cfg_set_cpus(struct config *cfg, const struct cfg_key *k,
			const struct cfg_value *v, const struct cfg_where *w)
{
	char text[CONFIG_ITEM_BYTES];
	uint64_t mask;

	if ((v->kind != CFG_V_STR && v->kind != CFG_V_BARE) || v->slen >= sizeof(text))
		return CFG_ERR(w, "bad value for '%s': expected %s", k->name,
			       cfg_type_want(k->type));
	memcpy(text, v->s, v->slen);
	text[v->slen] = '\0';
	if (fmt_parse_cpu_list(text, &mask) || !mask)
		return CFG_ERR(w, "bad value for '%s': '%s' is not a CPU list "
			       "(CPU numbers 0-63 as 'keel info' shows them, "
			       "ranges like '2-3', commas between)", k->name, text);
	memcpy(cfg->cpus, text, v->slen + 1);
	return 0;
}

/* Store an on_* action value. */
static int cfg_set_action(struct config *cfg, const struct cfg_key *k,
			  const struct cfg_value *v, const struct cfg_where *w)
{
	static const enum config_action acts[] = {
		CONFIG_ACTION_DESTROY, CONFIG_ACTION_RESTART,
		CONFIG_ACTION_PRESERVE,
	};
	enum config_action *dst = (enum config_action *)((char *)cfg + k->off);
	size_t i;

	if (v->kind != CFG_V_STR && v->kind != CFG_V_BARE)
		return CFG_ERR(w, "bad value for '%s': expected %s", k->name,
			       cfg_type_want(k->type));
	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		const char *n = config_action_name(acts[i]);

		if (strlen(n) == v->slen && memcmp(n, v->s, v->slen) == 0) {
			*dst = acts[i];
			return 0;
		}
	}
	return CFG_ERR(w, "bad value for '%s': '%.*s' (use destroy, restart "
		       "or preserve)", k->name, (int)(v->slen > 64 ? 64 : v->slen),
		       v->s);
}

/* Store a string-like value (name, string, path). */
static int cfg_set_string(struct config *cfg, const struct cfg_key *k,
			  const struct cfg_value *v, const struct cfg_where *w)
{
	char *dst = (char *)cfg + k->off;
	size_t size = k->type == CFG_T_NAME ? CONFIG_NAME_MAX + 1
					    : CONFIG_STR_BYTES;
	int ret;

	if (v->kind != CFG_V_STR && v->kind != CFG_V_BARE)
		return CFG_ERR(w, "bad value for '%s': expected %s", k->name,
			       cfg_type_want(k->type));
	if (memchr(v->s, '\n', v->slen))
		return CFG_ERR(w, "bad value for '%s': must be one line",
			       k->name);
	if (memchr(v->s, '\'', v->slen) && memchr(v->s, '"', v->slen))
		return CFG_ERR(w, "bad value for '%s': cannot contain both ' "
			       "and \"", k->name);
	if (k->type == CFG_T_NAME && !cfg_name_ok(v->s, v->slen))
		return CFG_ERR(w, "bad value for 'name': '%.*s' (use 1-%u "
			       "letters, digits, '.', '_' or '-', not only "
			       "digits)", (int)(v->slen > 64 ? 64 : v->slen),
			       v->s, CONFIG_NAME_MAX);
	if (k->type == CFG_T_PATH)
		ret = cfg_set_path(dst, v->s, v->slen, w->base_dir);
	else
		ret = cfg_copy(dst, size, v->s, v->slen);
	if (ret)
		return CFG_ERR(w, "value of '%s' is too long (at most %zu "
			       "characters)", k->name, size - 1);
	return 0;
}

/* Store value @v into key @k of @cfg, checking its type and range. */
static int cfg_apply(struct config *cfg, const struct cfg_key *k,
		     const struct cfg_value *v, const struct cfg_where *w)
{
	switch (k->type) {
	case CFG_T_MEMORY:
	case CFG_T_VCPUS:
	case CFG_T_MAXVCPUS:
	case CFG_T_WEIGHT:
	case CFG_T_CAP:
		return cfg_set_int(cfg, k, v, w);
	case CFG_T_CPUS:
		return cfg_set_cpus(cfg, k, v, w);
	case CFG_T_ACTION:
		return cfg_set_action(cfg, k, v, w);
	case CFG_T_LIST:
		if (v->kind != CFG_V_LIST)
			return CFG_ERR(w, "bad value for '%s': expected %s",
				       k->name, cfg_type_want(k->type));
		memcpy((char *)cfg + k->off, v->list, sizeof(*v->list));
		return 0;
	case CFG_T_DISKS:
		return cfg_set_disks(cfg, k, v, w);
	default:
		return cfg_set_string(cfg, k, v, w);
	}
}

/* Report an unknown key @name (@len chars) with a suggestion. */
static int cfg_unknown_key(const char *file, uint32_t line, char *err,
			   size_t err_len, const char *name, size_t len)
{
	char word[64];
	const char *hint;

	if (len >= sizeof(word))
		len = sizeof(word) - 1;
	memcpy(word, name, len);
	word[len] = '\0';
	hint = config_suggest_key(word);
	if (hint)
		return cfg_error(file, line, err, err_len, "unknown key '%s' "
				 "(did you mean '%s'?)", word, hint);
	return cfg_error(file, line, err, err_len, "unknown key '%s'", word);
}

/* Parse one statement "key = value" starting at lx->p (a key start). */
static int cfg_statement(struct config *cfg, struct cfg_lexer *lx,
			 const char *base_dir)
{
	struct config_list list;
	struct cfg_value v;
	struct cfg_where w;
	const char *name = lx->p;
	const struct cfg_key *k;
	uint32_t line = lx->line;
	int idx, ret;

	while (lx->p < lx->end && lex_ident_char(*lx->p))
		lx->p++;
	idx = cfg_key_index(name, (size_t)(lx->p - name));
	if (idx < 0)
		return cfg_unknown_key(lx->file, line, lx->err, lx->err_len,
				       name, (size_t)(lx->p - name));
	k = &cfg_keys[idx];
	if (cfg->set_line[idx])
		return cfg_error(lx->file, line, lx->err, lx->err_len,
				 "duplicate key '%s' (first set on line %u)",
				 k->name, cfg->set_line[idx]);
	lex_skip_blank(lx);
	if (lx->p >= lx->end || *lx->p != '=')
		return cfg_error(lx->file, line, lx->err, lx->err_len,
				 "syntax error: expected '=' after '%s'",
				 k->name);
	lx->p++;
	lex_skip_blank(lx);
	memset(&v, 0, sizeof(v));
	ret = lex_value(lx, k, &v, &list);
	if (ret)
		return ret;
	lex_skip_blank(lx);
	if (lx->p < lx->end && *lx->p != '\n' && *lx->p != ';')
		return cfg_error(lx->file, lx->line, lx->err, lx->err_len,
				 "syntax error: unexpected text after the "
				 "value of '%s'", k->name);
	w = (struct cfg_where){ lx->file, line, lx->err, lx->err_len,
				base_dir };
	ret = cfg_apply(cfg, k, &v, &w);
	if (!ret)
		cfg->set_line[idx] = line;
	return ret;
}

/* Parse config text into @cfg; see config.h. */
int config_parse(struct config *cfg, const char *text, size_t len,
		 const char *file, const char *base_dir, char *err,
		 size_t err_len)
{
	struct cfg_lexer lx = { text, text + len, 1, file, err, err_len };
	int ret;

	for (;;) {
		lex_skip_blank(&lx);
		if (lx.p >= lx.end)
			return 0;
		if (*lx.p == '\n') {
			lx.line++;
			lx.p++;
			continue;
		}
		if (*lx.p == ';') {
			lx.p++;
			continue;
		}
		if (!lex_ident_start(*lx.p))
			return cfg_error(file, lx.line, err, err_len,
					 "syntax error: expected 'key = value'");
		ret = cfg_statement(cfg, &lx, base_dir);
		if (ret)
			return ret;
	}
}

/* Parse the value text @val of an override into @v (quoted or bare). */
static int cfg_override_value(const struct cfg_key *k, const char *val,
			      struct cfg_value *v, struct config_list *list,
			      char *err, size_t err_len)
{
	struct cfg_lexer lx = { val, val + strlen(val), 0, "command line",
				err, err_len };
	int ret;

	if (val[0] != '"' && val[0] != '\'' && val[0] != '[') {
		v->kind = CFG_V_BARE;
		v->s = val;
		v->slen = strlen(val);
		return 0;
	}
	ret = lex_value(&lx, k, v, list);
	if (ret)
		return ret;
	lex_skip_space(&lx);
	if (lx.p < lx.end)
		return cfg_error("command line", 0, err, err_len,
				 "syntax error: unexpected text after the "
				 "value of '%s'", k->name);
	return 0;
}

/* Apply a command-line override; see config.h. */
int config_override(struct config *cfg, const char *arg, const char *base_dir,
		    char *err, size_t err_len)
{
	struct cfg_where w = { "command line", 0, err, err_len, base_dir };
	const char *eq = strchr(arg, '=');
	struct config_list list;
	struct cfg_value v;
	size_t klen;
	int idx, ret;

	if (!eq || eq == arg)
		return cfg_error("command line", 0, err, err_len,
				 "'%s' is not key=value", arg);
	klen = (size_t)(eq - arg);
	while (klen && (arg[klen - 1] == ' ' || arg[klen - 1] == '\t'))
		klen--;
	idx = cfg_key_index(arg, klen);
	if (idx < 0)
		return cfg_unknown_key("command line", 0, err, err_len, arg,
				       klen);
	eq++;
	while (*eq == ' ' || *eq == '\t')
		eq++;
	memset(&v, 0, sizeof(v));
	ret = cfg_override_value(&cfg_keys[idx], eq, &v, &list, err, err_len);
	if (ret)
		return ret;
	return cfg_apply(cfg, &cfg_keys[idx], &v, &w);
}

/* Check that @cfg is complete; see config.h. */
int config_check(const struct config *cfg, const char *file, char *err,
		 size_t err_len)
{
	if (!cfg->name[0])
		return cfg_error(file, 0, err, err_len,
				 "missing required key 'name'");
	if (!cfg->kernel[0])
		return cfg_error(file, 0, err, err_len,
				 "missing required key 'kernel'");
	if (cfg->maxvcpus && cfg->maxvcpus < cfg->vcpus)
		return cfg_error(file, 0, err, err_len,
				 "maxvcpus = %u is below vcpus = %u: raise maxvcpus, or "
				 "lower vcpus (it is how many start)", cfg->maxvcpus, cfg->vcpus);
	return 0;
}

/* Append @s to @buf at *@pos; -ENOSPC if it does not fit. */
static int cfg_put(char *buf, size_t len, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n >= len)
		return -ENOSPC;
	memcpy(buf + *pos, s, n + 1);
	*pos += n;
	return 0;
}

/* Append @s quoted with ' (or " if it contains '). */
static int cfg_put_quoted(char *buf, size_t len, size_t *pos, const char *s)
{
	const char *q = strchr(s, '\'') ? "\"" : "'";
	int ret = cfg_put(buf, len, pos, q);

	if (!ret)
		ret = cfg_put(buf, len, pos, s);
	if (!ret)
		ret = cfg_put(buf, len, pos, q);
	return ret;
}

/* Format a list value [ 'a', 'b' ]. */
static int cfg_put_list(char *buf, size_t len, size_t *pos,
			const struct config_list *l)
{
	uint32_t i;
	int ret = cfg_put(buf, len, pos, "[");

	for (i = 0; !ret && i < l->n; i++) {
		ret = cfg_put(buf, len, pos, i ? ", " : " ");
		if (!ret)
			ret = cfg_put_quoted(buf, len, pos, l->items[i]);
	}
	if (!ret)
		ret = cfg_put(buf, len, pos, l->n ? " ]" : "]");
	return ret;
}

/* Format the value of key @k of @cfg at @buf + *@pos. */
static int cfg_put_value(const struct config *cfg, const struct cfg_key *k,
			 char *buf, size_t len, size_t *pos)
{
	const char *field = (const char *)cfg + k->off;
	char num[24];

	switch (k->type) {
	case CFG_T_MEMORY:
	case CFG_T_VCPUS:
	case CFG_T_MAXVCPUS:
	case CFG_T_WEIGHT:
	case CFG_T_CAP:
		snprintf(num, sizeof(num), "%u", *(const uint32_t *)(const void *)field);
		return cfg_put(buf, len, pos, num);
	case CFG_T_ACTION:
		return cfg_put_quoted(buf, len, pos, config_action_name(
				*(const enum config_action *)(const void *)field));
	case CFG_T_LIST:
	case CFG_T_DISKS:
		return cfg_put_list(buf, len, pos,
				    (const struct config_list *)(const void *)field);
	default:
		return cfg_put_quoted(buf, len, pos, field);
	}
}

/* Format one key's value; see config.h. */
int config_format_value(const struct config *cfg, const char *key, char *buf,
			size_t len)
{
	size_t pos = 0;
	int idx = cfg_key_index(key, strlen(key));

	if (idx < 0)
		return -ENOENT;
	if (len)
		buf[0] = '\0';
	return cfg_put_value(cfg, &cfg_keys[idx], buf, len, &pos);
}

/* True if key @k has a value worth writing out. */
static bool cfg_is_set(const struct config *cfg, const struct cfg_key *k)
{
	const char *field = (const char *)cfg + k->off;

	switch (k->type) {
	case CFG_T_MEMORY:
	case CFG_T_VCPUS:
	case CFG_T_ACTION:
		return true;
	case CFG_T_WEIGHT:
		return cfg->cpu_weight != CONFIG_DEFAULT_WEIGHT;
	case CFG_T_MAXVCPUS:
		return cfg->maxvcpus != 0;
	case CFG_T_CAP:
		return cfg->cap != 0;
	case CFG_T_LIST:
	case CFG_T_DISKS:
		return ((const struct config_list *)(const void *)field)->n > 0;
	default:
		return field[0] != '\0';
	}
}

/* Write the whole config; see config.h. */
int config_write(const struct config *cfg, char *buf, size_t len)
{
	size_t pos = 0, i;
	int ret = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; !ret && i < CFG_NR_KEYS; i++) {
		if (!cfg_is_set(cfg, &cfg_keys[i]))
			continue;
		ret = cfg_put(buf, len, &pos, cfg_keys[i].name);
		if (!ret)
			ret = cfg_put(buf, len, &pos, " = ");
		if (!ret)
			ret = cfg_put_value(cfg, &cfg_keys[i], buf, len, &pos);
		if (!ret)
			ret = cfg_put(buf, len, &pos, "\n");
	}
	return ret ? ret : (int)pos;
}

/* Append the value of key @k of @cfg to @b as JSON. */
static void cfg_json_value(const struct config *cfg, const struct cfg_key *k,
			   struct fmt_buf *b)
{
	const char *field = (const char *)cfg + k->off;
	const struct config_list *l;
	uint32_t i;

	switch (k->type) {
	case CFG_T_MEMORY:
	case CFG_T_VCPUS:
	case CFG_T_MAXVCPUS:
	case CFG_T_WEIGHT:
	case CFG_T_CAP:
		fmt_buf_add(b, "%u", *(const uint32_t *)(const void *)field);
		return;
	case CFG_T_ACTION:
		fmt_json_str(b, config_action_name(
				*(const enum config_action *)(const void *)field));
		return;
	case CFG_T_LIST:
	case CFG_T_DISKS:
		l = (const struct config_list *)(const void *)field;
		fmt_buf_add(b, "[");
		for (i = 0; i < l->n; i++) {
			fmt_buf_add(b, i ? ", " : "");
			fmt_json_str(b, l->items[i]);
		}
		fmt_buf_add(b, "]");
		return;
	default:
		fmt_json_str(b, field);
	}
}

/* Write the whole config as a JSON object; see config.h. */
void config_write_json(const struct config *cfg, struct fmt_buf *b)
{
	const char *sep = "";
	size_t i;

	fmt_buf_add(b, "{");
	for (i = 0; i < CFG_NR_KEYS; i++) {
		if (!cfg_is_set(cfg, &cfg_keys[i]))
			continue;
		fmt_buf_add(b, "%s", sep);
		fmt_json_str(b, cfg_keys[i].name);
		fmt_buf_add(b, ": ");
		cfg_json_value(cfg, &cfg_keys[i], b);
		sep = ", ";
	}
	fmt_buf_add(b, "}");
}

/* Drop @key=... from a comma-separated item; see config.h. */
void config_item_drop(char *item, const char *key)
{
	size_t klen = strlen(key);
	char *p = item, *end;

	while (p && *p) {
		end = strchr(p, ',');
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			if (!end) {
				*(p > item ? p - 1 : p) = '\0';
				return;
			}
			memmove(p, end + 1, strlen(end + 1) + 1);
			continue;
		}
		p = end ? end + 1 : NULL;
	}
}

/* Whether @name may name a domain; see config.h. */
bool config_name_ok(const char *name)
{
	return cfg_name_ok(name, strlen(name));
}

/* Candidate config file paths for `keel create <arg>`; see config.h. */
int config_candidate(const char *arg, uint32_t idx, char *buf, size_t len)
{
	static const char *const dirs[] = { ".", CONFIG_MEDIUM_DIR };
	size_t alen = strlen(arg);
	bool has_cfg = alen > 4 && strcmp(arg + alen - 4, ".cfg") == 0;
	uint32_t per_dir = has_cfg ? 1 : 2;
	int n;

	if (strchr(arg, '/')) {
		if (idx)
			return -ENOENT;
		n = snprintf(buf, len, "%s", arg);
	} else {
		if (idx >= 2 * per_dir)
			return -ENOENT;
		n = snprintf(buf, len, "%s/%s%s", dirs[idx / per_dir], arg,
			     idx % per_dir ? ".cfg" : "");
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
