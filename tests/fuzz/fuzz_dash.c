/*
 * libFuzzer target for what a browser sends `keel dashboard`
 * (toolstack/dash/dash_req.c): the action and its target from the URL,
 * the control token header, and the path of a static file. The input is
 * split at NUL bytes into those four strings. The contract: an action is
 * accepted (0) or refused (-EINVAL with a reason), and an accepted one
 * runs keel with words that are never options but for "--start", never
 * dom0, and only of the allowed characters; a token is accepted only
 * when its digits are the token's; a static file is one flat name with
 * one dot and a type. Any violation aborts. Run with tests/fuzz/run.sh.
 */
#include "../../toolstack/domain/config.c"
#include "../../toolstack/domain/config_lex.c"
#include "../../toolstack/domain/config_disk.c"
#include "../../toolstack/core/format.c"
#include "../../toolstack/core/domain.c"
#include "../../toolstack/tui/keys.c"
#include "../../toolstack/tui/screen.c"
#include "../../toolstack/tui/top.c"
#include "../../toolstack/tui/starter.c"
#include "../../toolstack/dash/dash_req.c"
#include "fuzz.h"

#include <string.h>

int keel_hypercall(uint64_t op, void *buf, size_t size);
void hcall_report(const char *what, int err);

/* domain.c's hypercalls: none here. */
int keel_hypercall(uint64_t op, void *buf, size_t size)
{
	(void)op, (void)buf, (void)size;
	return -KEEL_ENOSYS;
}

/* domain.c's reports: none here. */
void hcall_report(const char *what, int err)
{
	(void)what, (void)err;
}

/* Whether @s is of a name's characters only. */
static bool fuzz_name_chars(const char *s)
{
	return s[0] && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789._-") == strlen(s);
}

static void fuzz_action(const char *verb, const char *target)
{
	struct dash_action a;
	char err[256] = "";
	uint32_t i;
	int ret = dash_action_parse(verb[0] == '!' ? NULL : verb, target[0] == '!' ? NULL : target,
				    &a, err, sizeof(err));

	FUZZ_ASSERT(ret == 0 || ret == -EINVAL);
	if (ret) {
		FUZZ_ASSERT(err[0]);
		return;
	}
	FUZZ_ASSERT(strcmp(a.argv[0], "keel") == 0 && a.argv[1] && a.argv[2]);
	FUZZ_ASSERT(strcmp(a.target, "Domain-0") != 0 && fuzz_name_chars(a.target));
	for (i = 1; a.argv[i]; i++)
		FUZZ_ASSERT(a.argv[i][0] != '-' || strcmp(a.argv[i], "--start") == 0);
	FUZZ_ASSERT(i <= DASH_ARGS_MAX);
}

static void fuzz_token(const char *given)
{
	char digits[16];
	size_t n = 0;
	const char *p;

	if (!dash_token_ok(given, "31415926"))
		return;
	for (p = given; *p && n < sizeof(digits) - 1; p++)
		if (*p != '-' && *p != ' ')
			digits[n++] = *p;
	digits[n] = 0;
	FUZZ_ASSERT(strcmp(digits, "31415926") == 0);
}

static void fuzz_static(const char *path)
{
	char name[DASH_FILE_MAX + 1];
	const char *type = NULL;

	if (dash_static_name(path, name, sizeof(name), &type))
		return;
	FUZZ_ASSERT(type && fuzz_name_chars(name) && !strchr(name, '/'));
	FUZZ_ASSERT(strchr(name, '.') && strchr(name, '.') == strrchr(name, '.') &&
		    name[0] != '.');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[4096 + 4];
	const char *part[4];
	size_t i, at = 0;

	if (size > 4096)
		return 0;
	memcpy(text, data, size);
	memset(text + size, 0, 4);
	for (i = 0; i < 4; i++) {
		part[i] = text + at;
		at += strlen(text + at) + 1;
		if (at > size)
			at = size;
	}
	fuzz_action(part[0], part[1]);
	fuzz_token(part[2]);
	fuzz_static(part[3]);
	return 0;
}
