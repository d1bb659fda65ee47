/*
 * The kiosk script's parser: one step per line, words split at spaces
 * and tabs, the rest of the line as text for banner and run; every
 * error names its line and says how the step is written. Pure code; see
 * kiosk.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk.h"

/* Each keyword, its op, and how its line is written (for errors). */
static const struct {
	const char *word;
	enum kiosk_op op;
	const char *usage;
} kiosk_ops[] = {
	{ "banner", KIOSK_BANNER, "banner <text>" },
	{ "start", KIOSK_START, "start <preset> [key=value ...]" },
	{ "show", KIOSK_SHOW, "show starter|monitor <seconds>" },
	{ "run", KIOSK_RUN, "run <domain> <command>" },
	{ "crash", KIOSK_CRASH, "crash <domain>" },
	{ "wait", KIOSK_WAIT, "wait <seconds>" },
	{ "loop", KIOSK_LOOP, "loop (the last step)" },
};

#define KIOSK_NR_OPS (sizeof(kiosk_ops) / sizeof(kiosk_ops[0]))

/* The keyword of @op; see kiosk.h. */
const char *kiosk_op_name(enum kiosk_op op)
{
	size_t i;

	for (i = 0; i < KIOSK_NR_OPS; i++)
		if (kiosk_ops[i].op == op)
			return kiosk_ops[i].word;
	return "?";
}

/* Skip spaces and tabs. */
static const char *kiosk_skip(const char *p)
{
	return p + strspn(p, " \t");
}

/* Copy the word at *@p into @out (@len bytes), advancing *@p past it.
 * Returns its length, or -ENAMETOOLONG if it does not fit. */
static int kiosk_word(const char **p, char *out, size_t len)
{
	size_t n;

	*p = kiosk_skip(*p);
	n = strcspn(*p, " \t");
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, *p, n);
	out[n] = 0;
	*p += n;
	return (int)n;
}

/* Whether @s is a preset or domain name: letters, digits, '.', '_', '-',
 * not starting with '-'. */
static bool kiosk_name_ok(const char *s)
{
	return s[0] && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		       strlen(s);
}

/* Parse @w as seconds, 1 to KIOSK_MAX_SECONDS. 0 or -EINVAL. */
static int kiosk_seconds(const char *w, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!w[0] || w[0] < '0' || w[0] > '9')
		return -EINVAL;
	v = strtoul(w, &end, 10);
	if (*end || v < 1 || v > KIOSK_MAX_SECONDS)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* The name= word among start's key=value words @kv into @out, else
 * @preset. */
static void kiosk_start_name(const char *kv, const char *preset, char *out, size_t len)
{
	const char *p = kv;
	size_t pn = strlen(preset) < len ? strlen(preset) : len - 1;

	memmove(out, preset, pn); /* distinct fields of one step */
	out[pn] = 0;
	while (*(p = kiosk_skip(p))) {
		size_t n = strcspn(p, " \t");

		if (n > 5 && strncmp(p, "name=", 5) == 0)
			snprintf(out, len, "%.*s", (int)(n - 5), p + 5);
		p += n;
	}
}

/* Check start's key=value words @kv: each has a key and a '='. */
static bool kiosk_pairs_ok(const char *kv)
{
	const char *p = kv;

	while (*(p = kiosk_skip(p))) {
		size_t n = strcspn(p, " \t"), eq = strcspn(p, "=");

		if (eq == 0 || eq >= n)
			return false;
		p += n;
	}
	return true;
}

/* Parse the arguments @p of step @st (its op set). 0, or -EINVAL with
 * what is wrong in @why (@len bytes). */
static int kiosk_args(struct kiosk_step *st, const char *p, char *why, size_t len)
{
	char w[KIOSK_NAME_BYTES], extra[KIOSK_NAME_BYTES];

	switch (st->op) {
	case KIOSK_BANNER:
		p = kiosk_skip(p);
		if (!*p || strlen(p) >= sizeof(st->text))
			return snprintf(why, len, "%s", *p ? "the text is too long" :
					"no text"), -EINVAL;
		snprintf(st->text, sizeof(st->text), "%s", p);
		return 0;
	case KIOSK_START:
	case KIOSK_RUN:
	case KIOSK_CRASH:
		if (kiosk_word(&p, st->name, sizeof(st->name)) <= 0 || !kiosk_name_ok(st->name))
			return snprintf(why, len, "no %s name (letters, digits, '.', '_', '-')",
					st->op == KIOSK_START ? "preset" : "domain"), -EINVAL;
		p = kiosk_skip(p);
		if (strlen(p) >= sizeof(st->text))
			return snprintf(why, len, "the line is too long"), -EINVAL;
		if (st->op == KIOSK_CRASH && *p)
			return snprintf(why, len, "unexpected '%.40s'", p), -EINVAL;
		if (st->op == KIOSK_RUN && !*p)
			return snprintf(why, len, "no command"), -EINVAL;
		if (st->op == KIOSK_START && !kiosk_pairs_ok(p))
			return snprintf(why, len, "the settings must be key=value words"), -EINVAL;
		snprintf(st->text, sizeof(st->text), "%s", p);
		if (st->op == KIOSK_START) {
			kiosk_start_name(p, st->name, st->domain, sizeof(st->domain));
			if (!kiosk_name_ok(st->domain))
				return snprintf(why, len, "a bad name= value"), -EINVAL;
		}
		return 0;
	case KIOSK_SHOW:
	case KIOSK_WAIT:
		if (st->op == KIOSK_SHOW) {
			if (kiosk_word(&p, st->name, sizeof(st->name)) <= 0 ||
			    (strcmp(st->name, "starter") && strcmp(st->name, "monitor")))
				return snprintf(why, len, "show what? starter or monitor"), -EINVAL;
		}
		if (kiosk_word(&p, w, sizeof(w)) <= 0 || kiosk_seconds(w, &st->seconds))
			return snprintf(why, len, "the seconds must be a number from 1 to %u",
					KIOSK_MAX_SECONDS), -EINVAL;
		break;
	case KIOSK_LOOP:
		break;
	}
	if (kiosk_word(&p, extra, sizeof(extra)) != 0)
		return snprintf(why, len, "unexpected words at the end"), -EINVAL;
	return 0;
}

/* Parse one line @line (its number @no) into @s; see kiosk_parse. */
static int kiosk_line(struct kiosk_script *s, char *line, uint32_t no, char *err, size_t len)
{
	char word[16], why[160];
	const char *p = line;
	struct kiosk_step *st;
	size_t i;
	int n;

	line[strcspn(line, "\r")] = 0;
	p = kiosk_skip(p);
	if (!*p || *p == '#')
		return 0;
	if (s->loops)
		return snprintf(err, len, "line %u: a step after 'loop', which must be the last",
				no), -EINVAL;
	n = kiosk_word(&p, word, sizeof(word));
	for (i = 0; n > 0 && i < KIOSK_NR_OPS; i++)
		if (strcmp(word, kiosk_ops[i].word) == 0)
			break;
	if (n <= 0 || i >= KIOSK_NR_OPS)
		return snprintf(err, len, "line %u: unknown step '%.20s' (banner, start, show, run, "
				"crash, wait, loop)", no, n > 0 ? word : p), -EINVAL;
	if (s->n >= KIOSK_MAX_STEPS)
		return snprintf(err, len, "line %u: more than %u steps", no, KIOSK_MAX_STEPS),
		       -EINVAL;
	st = &s->steps[s->n];
	memset(st, 0, sizeof(*st));
	st->op = kiosk_ops[i].op;
	st->line = no;
	if (kiosk_args(st, p, why, sizeof(why)))
		return snprintf(err, len, "line %u: %s; write it as: %s", no, why,
				kiosk_ops[i].usage), -EINVAL;
	s->loops = st->op == KIOSK_LOOP;
	s->n++;
	return 0;
}

/* Parse a script; see kiosk.h. */
int kiosk_parse(const char *text, struct kiosk_script *s, char *err, size_t len)
{
	char line[KIOSK_TEXT_BYTES * 2];
	uint32_t no = 0, i;
	bool paced = false;

	s->n = 0;
	s->loops = false;
	while (*text) {
		size_t n = strcspn(text, "\n");

		no++;
		if (n >= sizeof(line))
			return snprintf(err, len, "line %u: longer than %zu characters", no,
					sizeof(line) - 1), -EINVAL;
		memcpy(line, text, n);
		line[n] = 0;
		if (kiosk_line(s, line, no, err, len))
			return -EINVAL;
		text += n + (text[n] == '\n');
	}
	for (i = 0; i < s->n; i++)
		paced |= s->steps[i].op == KIOSK_SHOW || s->steps[i].op == KIOSK_WAIT;
	if (!paced)
		return snprintf(err, len, "no 'show' or 'wait' step: the loop would run without a "
				"pause"), -EINVAL;
	return 0;
}
