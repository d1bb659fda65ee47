/*
 * Host unit tests of the kiosk script's parser (toolstack/tui/kiosk.c):
 * the CD's configs/demo.keel parses, every step's fields, comments and
 * blank lines, start's name= and settings, and each kind of bad line
 * refused with its line number and the step's form.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../toolstack/tui/kiosk.c"

#include "harness.h"

static struct kiosk_script s;

/* Parse @text; the error (or "") into a static buffer. */
static const char *parse(const char *text)
{
	static char err[256];

	err[0] = 0;
	if (kiosk_parse(text, &s, err, sizeof(err)) && !err[0])
		snprintf(err, sizeof(err), "(no message)");
	return err;
}

static void test_demo(void)
{
	FILE *f = fopen("../../configs/demo.keel", "r");
	static char text[65536];
	size_t n;

	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	CHECK_EQ_STR(parse(text), "");
	CHECK(s.loops && s.n > 5);
}

static void test_steps(void)
{
	CHECK_EQ_STR(parse("# a comment\n\n  banner  Hello, world  \n"
			   "start tiny name=counter on_crash=restart\r\n"
			   "start web\n"
			   "show monitor 20\nshow starter 5\n"
			   "run counter echo $((1+1)) >/dev/null &\n"
			   "crash hog\nwait 3\nloop\n"), "");
	CHECK_EQ_INT((int)s.n, 9);
	CHECK(s.steps[0].op == KIOSK_BANNER && strcmp(s.steps[0].text, "Hello, world  ") == 0);
	CHECK(s.steps[0].line == 3);
	CHECK(s.steps[1].op == KIOSK_START && strcmp(s.steps[1].name, "tiny") == 0);
	CHECK_EQ_STR(s.steps[1].domain, "counter");
	CHECK_EQ_STR(s.steps[1].text, "name=counter on_crash=restart");
	CHECK_EQ_STR(s.steps[2].domain, "web");
	CHECK(s.steps[3].op == KIOSK_SHOW && s.steps[3].seconds == 20);
	CHECK_EQ_STR(s.steps[3].name, "monitor");
	CHECK(s.steps[5].op == KIOSK_RUN);
	CHECK_EQ_STR(s.steps[5].name, "counter");
	CHECK_EQ_STR(s.steps[5].text, "echo $((1+1)) >/dev/null &");
	CHECK(s.steps[6].op == KIOSK_CRASH && strcmp(s.steps[6].name, "hog") == 0);
	CHECK(s.steps[7].op == KIOSK_WAIT && s.steps[7].seconds == 3);
	CHECK(s.steps[8].op == KIOSK_LOOP && s.loops);
	CHECK_EQ_STR(kiosk_op_name(KIOSK_CRASH), "crash");
	/* without loop it runs once */
	CHECK_EQ_STR(parse("wait 1\n"), "");
	CHECK(!s.loops && s.n == 1);
}

static void test_errors(void)
{
	CHECK_EQ_STR(parse("wait 1\nstrat tiny\n"), "line 2: unknown step 'strat' (banner, "
		     "start, show, run, crash, wait, loop)");
	CHECK_EQ_STR(parse("show tv 5\n"), "line 1: show what? starter or monitor; write it as: "
		     "show starter|monitor <seconds>");
	CHECK_EQ_STR(parse("wait soon\n"), "line 1: the seconds must be a number from 1 to 86400; "
		     "write it as: wait <seconds>");
	CHECK(strncmp(parse("wait 0\n"), "line 1: the seconds", 19) == 0);
	CHECK(strncmp(parse("wait 86401\n"), "line 1: the seconds", 19) == 0);
	CHECK(strncmp(parse("wait 5 more\n"), "line 1: unexpected words", 24) == 0);
	CHECK(strncmp(parse("banner\n"), "line 1: no text", 15) == 0);
	CHECK(strncmp(parse("run counter\n"), "line 1: no command", 18) == 0);
	CHECK(strncmp(parse("run -x ls\n"), "line 1: no domain name", 22) == 0);
	CHECK(strncmp(parse("crash a b\n"), "line 1: unexpected 'b'", 22) == 0);
	CHECK(strncmp(parse("start tiny memory\n"), "line 1: the settings must be key=value",
		      38) == 0);
	CHECK(strncmp(parse("start tiny name=a/b\n"), "line 1: a bad name= value", 25) == 0);
	CHECK(strncmp(parse("wait 1\nloop\nwait 2\n"), "line 3: a step after 'loop'", 27) == 0);
	CHECK(strncmp(parse("start tiny\nloop\n"), "no 'show' or 'wait' step", 24) == 0);
	CHECK(strncmp(parse(""), "no 'show' or 'wait' step", 24) == 0);
	{
		static char big[2048];

		memset(big, 'x', sizeof(big) - 1);
		memcpy(big, "banner ", 7);
		CHECK(strncmp(parse(big), "line 1: longer than", 19) == 0);
	}
}

int main(void)
{
	test_demo();
	test_steps();
	test_errors();
	return harness_done("test_toolstack_kiosk");
}
