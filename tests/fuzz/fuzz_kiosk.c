/*
 * libFuzzer target for the kiosk script's parser (toolstack/tui/kiosk.c),
 * which reads the plain-text demonstration loops exhibitors write. The
 * contract: 0 or -EINVAL only; an error names its line (or says the
 * script never pauses); a parsed script has steps in line order, names
 * that are not options, seconds in range, a pause somewhere, and loop
 * only last. Any violation aborts. Run with tests/fuzz/run.sh.
 */
#include "../../toolstack/tui/kiosk.c"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kiosk_script s;
	static char text[4096 + 1];
	char err[256] = "";
	uint32_t i, last = 0;
	bool paced = false;
	int ret;

	if (size > 4096)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	ret = kiosk_parse(text, &s, err, sizeof(err));
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL);
	if (ret) {
		FUZZ_ASSERT(strncmp(err, "line ", 5) == 0 || strncmp(err, "no 'show'", 9) == 0);
		return 0;
	}
	FUZZ_ASSERT(s.n >= 1 && s.n <= KIOSK_MAX_STEPS);
	for (i = 0; i < s.n; i++) {
		const struct kiosk_step *st = &s.steps[i];

		FUZZ_ASSERT(st->line > last);
		last = st->line;
		FUZZ_ASSERT(st->op != KIOSK_LOOP || i == s.n - 1);
		paced |= st->op == KIOSK_SHOW || st->op == KIOSK_WAIT;
		if (st->op == KIOSK_SHOW || st->op == KIOSK_WAIT)
			FUZZ_ASSERT(st->seconds >= 1 && st->seconds <= KIOSK_MAX_SECONDS);
		if (st->op == KIOSK_START || st->op == KIOSK_RUN || st->op == KIOSK_CRASH)
			FUZZ_ASSERT(st->name[0] && st->name[0] != '-');
		if (st->op == KIOSK_START)
			FUZZ_ASSERT(st->domain[0] && st->domain[0] != '-');
		if (st->op == KIOSK_BANNER || st->op == KIOSK_RUN)
			FUZZ_ASSERT(st->text[0]);
	}
	FUZZ_ASSERT(paced);
	return 0;
}
