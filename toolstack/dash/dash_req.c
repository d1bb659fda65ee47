/*
 * What a browser may ask the dashboard for, checked before anything runs:
 * an action and its target (a closed list of verbs, names of a closed
 * set of characters, never dom0), the control token (compared in
 * constant time), and a static file's name (one flat folder, no path).
 * Pure code; see dash.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "starter.h"

/* The verbs, their words and the keel command each runs. */
static const struct {
	const char *word;
	const char *cmd; /* keel <cmd> <target> */
} dash_verbs[DASH_NR_VERBS] = {
	[DASH_START] = { "start", "starter" },
	[DASH_PAUSE] = { "pause", "pause" },
	[DASH_UNPAUSE] = { "unpause", "unpause" },
	[DASH_SHUTDOWN] = { "shutdown", "shutdown" },
	[DASH_DESTROY] = { "destroy", "destroy" },
	[DASH_CLONE] = { "clone", "clone" },
	[DASH_SAVE] = { "save", "save" },
};

/* Whether @s is a name an action may take (see dash.h). */
static bool dash_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > DASH_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Check an action; see dash.h. */
int dash_action_parse(const char *verb, const char *target, struct dash_action *a,
		      char *err, size_t len)
{
	uint32_t v;

	memset(a, 0, sizeof(*a));
	for (v = 0; verb && v < DASH_NR_VERBS; v++)
		if (strcmp(verb, dash_verbs[v].word) == 0)
			break;
	if (!verb || v >= DASH_NR_VERBS) {
		snprintf(err, len, "unknown action%s%.32s%s: use start, pause, unpause, shutdown, "
			 "destroy, clone or save", verb ? " '" : "", verb ? verb : "",
			 verb ? "'" : "");
		return -EINVAL;
	}
	if (!target || !dash_name_ok(target)) {
		snprintf(err, len, "%s needs a %s name (letters, digits, '.', '_' and '-', at "
			 "most %u)", verb, v == DASH_START ? "preset" : "domain", DASH_NAME_MAX);
		return -EINVAL;
	}
	if (strcmp(target, "Domain-0") == 0) {
		snprintf(err, len, "dom0 cannot be %s from the dashboard", verb);
		return -EINVAL;
	}
	a->verb = (enum dash_verb)v;
	snprintf(a->target, sizeof(a->target), "%s", target);
	a->argv[0] = "keel";
	a->argv[1] = dash_verbs[v].cmd;
	if (v == DASH_START) {
		a->argv[2] = "--start";
		a->argv[3] = a->target;
	} else {
		a->argv[2] = a->target;
	}
	if (v == DASH_SAVE) {
		if (starter_save_path(a->target, a->save_path, sizeof(a->save_path))) {
			snprintf(err, len, "save: the name is too long");
			return -EINVAL;
		}
		a->argv[3] = a->save_path;
	}
	return 0;
}

/* Compare the token; see dash.h. */
bool dash_token_ok(const char *given, const char *token)
{
	char digits[DASH_TOKEN_DIGITS];
	size_t n = 0, i;
	unsigned diff = 0;

	if (!given || strlen(token) != DASH_TOKEN_DIGITS)
		return false;
	for (; *given && n <= DASH_TOKEN_DIGITS; given++) {
		if (*given == '-' || *given == ' ')
			continue;
		if (n == DASH_TOKEN_DIGITS)
			return false;
		digits[n++] = *given;
	}
	if (n != DASH_TOKEN_DIGITS || *given)
		return false;
	for (i = 0; i < DASH_TOKEN_DIGITS; i++)
		diff |= (unsigned)(digits[i] ^ token[i]);
	return diff == 0;
}

/* The static files' types, by extension. */
static const struct {
	const char *ext;
	const char *type;
} dash_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
};

/* Name a static file; see dash.h. */
int dash_static_name(const char *path, char *name, size_t len, const char **type)
{
	const char *dot;
	size_t i, n;

	if (!path || path[0] != '/')
		return -ENOENT;
	path++;
	if (!*path)
		path = "index.html";
	n = strlen(path);
	dot = strchr(path, '.');
	if (n > DASH_FILE_MAX || n + 1 > len || !dot || strchr(dot + 1, '.') || dot == path)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		char c = path[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return -ENOENT;
	}
	for (i = 0; i < sizeof(dash_types) / sizeof(dash_types[0]); i++) {
		if (strcmp(dot, dash_types[i].ext) == 0) {
			memcpy(name, path, n + 1);
			*type = dash_types[i].type;
			return 0;
		}
	}
	return -ENOENT;
}
