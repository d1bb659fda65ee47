/*
 * Parser for the hypervisor's Xen-style command line. The line is split
 * into blank-separated tokens of the form name or name=value; each known
 * name has a small handler that validates the value and stores it in
 * struct hv_options. Anything unknown or malformed is reported through a
 * caller-supplied warning callback and otherwise ignored, keeping the
 * default, so that a typo never prevents booting.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/cmdline.h>
#include <keel/errno.h>
#include <keel/printf.h>

#define CMDLINE_ECHO_MAX_CHARS 64 /* longest token quoted in a warning */
#define CMDLINE_MAX_BAUD 115200
#define CMDLINE_DOM0_MEM_MIN_BYTES (64ull << 20)

/* Parser state shared by the option handlers. */
struct cmdline_state {
	struct hv_options *o;
	void (*warn)(void *ctx, const char *msg);
	void *ctx;
	int warnings;
};

/* One token split at its first '='. */
struct cmdline_tok {
	const char *tok; /* whole token */
	size_t tok_len;
	const char *val; /* after '=' (empty if there is none) */
	size_t val_len;
	bool has_val;
};

struct cmdline_option {
	const char *name;
	void (*handle)(struct cmdline_state *st, const struct cmdline_tok *t);
};

static void cmdline_warn(struct cmdline_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cmdline_warn(struct cmdline_state *st, const char *fmt, ...)
{
	char msg[CMDLINE_WARN_MSG_BYTES];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->warnings++;
	if (st->warn)
		st->warn(st->ctx, msg);
}

/* Length of a token or value as an int for "%.*s", capped for messages. */
static int cmdline_echo_len(size_t len)
{
	return len > CMDLINE_ECHO_MAX_CHARS ? CMDLINE_ECHO_MAX_CHARS : (int)len;
}

static char cmdline_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether s[0..len) equals the literal lit, ignoring ASCII case. */
static bool cmdline_eq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (lit[i] == '\0' || cmdline_lower(s[i]) != lit[i])
			return false;
	}
	return lit[i] == '\0';
}

static bool cmdline_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Offset of the first c in s[0..len), or len if there is none. */
static size_t cmdline_find(const char *s, size_t len, char c)
{
	size_t i = 0;

	while (i < len && s[i] != c)
		i++;
	return i;
}

/* Parses a non-empty decimal number without sign; false on overflow. */
static bool cmdline_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * Parses a size such as "512M": a decimal number with an optional suffix
 * K, M, G or T (binary multiples, either case); no suffix means bytes.
 * s need not be NUL-terminated; len is its length.
 * Returns 0 and stores the size in *out, or -EINVAL if s is malformed or
 * the size does not fit in 64 bits (*out is then left alone).
 */
int parse_size(const char *s, size_t len, uint64_t *out)
{
	uint32_t shift = 0;
	uint64_t v;

	if (s == NULL || len == 0)
		return -EINVAL;
	switch (cmdline_lower(s[len - 1])) {
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	case 't': shift = 40; break;
	default: break;
	}
	if (shift != 0)
		len--;
	if (!cmdline_parse_u64(s, len, &v) || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static void cmdline_opt_console(struct cmdline_state *st,
				const struct cmdline_tok *t)
{
	uint32_t console = 0;
	size_t pos = 0;

	while (t->has_val && pos < t->val_len) {
		const char *item = t->val + pos;
		size_t n = cmdline_find(item, t->val_len - pos, ',');

		if (cmdline_eq(item, n, "com1")) {
			console |= HV_CONSOLE_COM1;
		} else if (cmdline_eq(item, n, "vga")) {
			console |= HV_CONSOLE_VGA;
		} else if (!cmdline_eq(item, n, "none")) {
			cmdline_warn(st, "console: unknown device '%.*s' (use "
				     "com1, vga or none, comma-separated); "
				     "using the default",
				     cmdline_echo_len(n), item);
			return;
		}
		pos += n + 1;
	}
	if (!t->has_val || t->val_len == 0) {
		cmdline_warn(st, "console: needs a value (use e.g. "
			     "console=com1,vga); using the default");
		return;
	}
	st->o->console = console;
}

static void cmdline_opt_com1(struct cmdline_state *st,
			     const struct cmdline_tok *t)
{
	size_t n = cmdline_find(t->val, t->val_len, ',');
	uint64_t baud;

	/* Only the baud rate is used; a ",8n1"-style suffix is accepted. */
	if (!cmdline_parse_u64(t->val, n, &baud) || baud == 0 ||
	    baud > CMDLINE_MAX_BAUD || CMDLINE_UART_CLOCK_BAUD % baud != 0) {
		cmdline_warn(st, "com1: bad baud rate '%.*s' (use e.g. 115200 "
			     "or 9600, optionally followed by ,8n1); using "
			     "the default", cmdline_echo_len(t->val_len),
			     t->val);
		return;
	}
	st->o->com1_baud = (uint32_t)baud;
}

/*
 * Parses a dom0_mem value: a comma list of "<size>" and "max:<size>"
 * items (Xen syntax). The result is the plain size, capped by max if both
 * are given. Returns false if any item is malformed.
 */
static bool cmdline_dom0_mem_value(const char *s, size_t len, uint64_t *out)
{
	uint64_t amount = 0, max = UINT64_MAX;
	bool have_amount = false, have_max = false;
	size_t pos = 0;

	while (pos < len) {
		const char *item = s + pos;
		size_t n = cmdline_find(item, len - pos, ',');
		uint64_t v;

		if (n > 4 && cmdline_eq(item, 4, "max:")) {
			if (parse_size(item + 4, n - 4, &v) != 0)
				return false;
			max = v;
			have_max = true;
		} else {
			if (parse_size(item, n, &v) != 0)
				return false;
			amount = v;
			have_amount = true;
		}
		pos += n + 1;
	}
	if (!have_amount && !have_max)
		return false;
	if (!have_amount || amount > max)
		amount = max;
	*out = amount;
	return true;
}

static void cmdline_opt_dom0_mem(struct cmdline_state *st,
				 const struct cmdline_tok *t)
{
	uint64_t bytes;

	if (!cmdline_dom0_mem_value(t->val, t->val_len, &bytes) ||
	    bytes == 0) {
		cmdline_warn(st, "dom0_mem: bad size '%.*s' (use e.g. 512M or "
			     "1G); using the default",
			     cmdline_echo_len(t->val_len), t->val);
		return;
	}
	if (bytes < CMDLINE_DOM0_MEM_MIN_BYTES) {
		cmdline_warn(st, "dom0_mem: '%.*s' is below the minimum of "
			     "64M; using the default",
			     cmdline_echo_len(t->val_len), t->val);
		return;
	}
	st->o->dom0_mem_bytes = bytes;
}

static void cmdline_opt_dom0_cpus(struct cmdline_state *st,
				  const struct cmdline_tok *t)
{
	uint64_t n;

	if (!cmdline_parse_u64(t->val, t->val_len, &n) || n < 1 ||
	    n > CMDLINE_MAX_CPUS) {
		cmdline_warn(st, "dom0_cpus: bad value '%.*s' (use 1 to %u); "
			     "using the default",
			     cmdline_echo_len(t->val_len), t->val,
			     (unsigned int)CMDLINE_MAX_CPUS);
		return;
	}
	st->o->dom0_cpus = (uint32_t)n;
}

static void cmdline_opt_max_guest_cpus(struct cmdline_state *st,
				       const struct cmdline_tok *t)
{
	uint64_t n;

	if (!cmdline_parse_u64(t->val, t->val_len, &n) ||
	    n > CMDLINE_MAX_CPUS) {
		cmdline_warn(st, "max_guest_cpus: bad value '%.*s' (use 1 to "
			     "%u, or 0 for no limit); using the default",
			     cmdline_echo_len(t->val_len), t->val,
			     (unsigned int)CMDLINE_MAX_CPUS);
		return;
	}
	st->o->max_guest_cpus = (uint32_t)n;
}

static void cmdline_opt_bsp(struct cmdline_state *st,
			    const struct cmdline_tok *t)
{
	if (cmdline_eq(t->val, t->val_len, "auto")) {
		st->o->bsp = HV_BSP_AUTO;
	} else if (cmdline_eq(t->val, t->val_len, "dom0")) {
		st->o->bsp = HV_BSP_DOM0;
	} else if (cmdline_eq(t->val, t->val_len, "idle")) {
		st->o->bsp = HV_BSP_IDLE;
	} else {
		cmdline_warn(st, "bsp: bad value '%.*s' (use auto, dom0 or "
			     "idle); ignored",
			     cmdline_echo_len(t->val_len), t->val);
	}
}

static void cmdline_opt_loglvl(struct cmdline_state *st,
			       const struct cmdline_tok *t)
{
	/* Xen allows "level/rate-limited-level"; only the first is used. */
	size_t n = cmdline_find(t->val, t->val_len, '/');

	if (cmdline_eq(t->val, n, "err") || cmdline_eq(t->val, n, "error")) {
		st->o->loglvl = LOG_ERR;
	} else if (cmdline_eq(t->val, n, "warning") ||
		   cmdline_eq(t->val, n, "warn")) {
		st->o->loglvl = LOG_WARN;
	} else if (cmdline_eq(t->val, n, "info")) {
		st->o->loglvl = LOG_INFO;
	} else if (cmdline_eq(t->val, n, "debug") ||
		   cmdline_eq(t->val, n, "all")) {
		st->o->loglvl = LOG_DEBUG;
	} else {
		cmdline_warn(st, "loglvl: unknown level '%.*s' (use err, "
			     "warning, info, debug or all); using the default",
			     cmdline_echo_len(t->val_len), t->val);
	}
}

static void cmdline_opt_novirt(struct cmdline_state *st,
			       const struct cmdline_tok *t)
{
	const char *v = t->val;
	size_t n = t->val_len;

	if (!t->has_val || cmdline_eq(v, n, "1") || cmdline_eq(v, n, "yes") ||
	    cmdline_eq(v, n, "on") || cmdline_eq(v, n, "true")) {
		st->o->novirt = true;
	} else if (cmdline_eq(v, n, "0") || cmdline_eq(v, n, "no") ||
		   cmdline_eq(v, n, "off") || cmdline_eq(v, n, "false")) {
		st->o->novirt = false;
	} else {
		cmdline_warn(st, "novirt: bad value '%.*s' (use novirt, "
			     "novirt=1 or novirt=0); ignored",
			     cmdline_echo_len(n), v);
	}
}

static const struct cmdline_option cmdline_options[] = {
	{ "console", cmdline_opt_console },
	{ "com1", cmdline_opt_com1 },
	{ "dom0_mem", cmdline_opt_dom0_mem },
	{ "dom0_cpus", cmdline_opt_dom0_cpus },
	{ "max_guest_cpus", cmdline_opt_max_guest_cpus },
	{ "bsp", cmdline_opt_bsp },
	{ "loglvl", cmdline_opt_loglvl },
	{ "novirt", cmdline_opt_novirt },
};

/* Looks the token's name up and runs its handler, or warns. */
static void cmdline_handle_token(struct cmdline_state *st, const char *tok,
				 size_t len)
{
	size_t name_len = cmdline_find(tok, len, '=');
	struct cmdline_tok t = {
		.tok = tok,
		.tok_len = len,
		.has_val = name_len < len,
		.val = name_len < len ? tok + name_len + 1 : tok + len,
		.val_len = name_len < len ? len - name_len - 1 : 0,
	};

	for (size_t i = 0; i < sizeof(cmdline_options) /
			       sizeof(cmdline_options[0]); i++) {
		if (cmdline_eq(tok, name_len, cmdline_options[i].name)) {
			cmdline_options[i].handle(st, &t);
			return;
		}
	}
	cmdline_warn(st, "unknown option '%.*s' ignored",
		     cmdline_echo_len(len), tok);
}

/* Whether a first token is the boot image's file name ("/keel.gz"). */
static bool cmdline_is_image_name(const char *tok, size_t len)
{
	return cmdline_find(tok, len, '=') == len &&
	       (cmdline_find(tok, len, '/') < len ||
		cmdline_find(tok, len, '.') < len);
}

/*
 * Sets every option to its default: console on COM1 and VGA at 115200
 * baud, default dom0 memory and CPUs, no guest CPU limit, bsp=auto,
 * LOG_INFO, virtualization on. o: the options to fill. No return value.
 */
void cmdline_defaults(struct hv_options *o)
{
	o->console = HV_CONSOLE_COM1 | HV_CONSOLE_VGA;
	o->com1_baud = CMDLINE_DEFAULT_BAUD;
	o->dom0_mem_bytes = 0;
	o->dom0_cpus = 0; /* the default: see cpu_plan.c */
	o->max_guest_cpus = 0;
	o->bsp = HV_BSP_AUTO;
	o->loglvl = LOG_INFO;
	o->novirt = false;
}

/*
 * Parses the NUL-terminated command line (NULL counts as empty) into o,
 * which the caller has filled with defaults (cmdline_defaults) first. A
 * leading boot-image file name is skipped. For each unknown option or bad
 * value, warn(ctx, message) is called (if warn is not NULL) and that
 * option keeps its previous value. Returns the number of warnings.
 */
int cmdline_parse(const char *cmdline, struct hv_options *o,
		  void (*warn)(void *ctx, const char *msg), void *ctx)
{
	struct cmdline_state st = { .o = o, .warn = warn, .ctx = ctx };
	const char *p = cmdline ? cmdline : "";
	bool first = true;

	for (;;) {
		size_t len = 0;

		while (cmdline_is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		while (p[len] != '\0' && !cmdline_is_blank(p[len]))
			len++;
		if (!(first && cmdline_is_image_name(p, len)))
			cmdline_handle_token(&st, p, len);
		first = false;
		p += len;
	}
	return st.warnings;
}
