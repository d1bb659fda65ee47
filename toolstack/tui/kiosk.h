/*
 * Pure part of `keel kiosk`, the unattended demonstration loop for trade
 * shows: its script, a plain-text file an exhibitor writes
 * (configs/demo.keel), one step per line, parsed and checked here with
 * errors by line. No I/O; cli/cmd_kiosk.c runs the steps, tests/unit and
 * tests/fuzz check the parser. The steps (docs/dashboard.md, "Kiosk
 * mode"):
 *
 *   banner <text>                 a line on the screen until the next banner
 *   start <preset> [key=value...] keel create <preset> [key=value...],
 *                                 unless a guest of that name runs already
 *   show starter|monitor <s>      the guest starter or the monitor, s seconds
 *   run <domain> <command>        type <command> on the guest's console,
 *                                 once in each boot of the guest
 *   crash <domain>                crash that guest on purpose (its kernel
 *                                 panics; on_crash decides what follows)
 *   wait <s>                      s seconds of the kiosk's own screen
 *   loop                          start again from the first step (last)
 *
 * '#' starts a comment line; blank lines are skipped.
 */
#ifndef KEEL_TOOLSTACK_KIOSK_H
#define KEEL_TOOLSTACK_KIOSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KIOSK_MAX_STEPS 256u
#define KIOSK_TEXT_BYTES 256u     /* a banner, a command, a start's keys */
#define KIOSK_NAME_BYTES 64u      /* a preset or domain name */
#define KIOSK_MAX_SECONDS 86400u  /* a show or a wait at most */

/* What a step does. */
enum kiosk_op {
	KIOSK_BANNER,
	KIOSK_START,
	KIOSK_SHOW,
	KIOSK_RUN,
	KIOSK_CRASH,
	KIOSK_WAIT,
	KIOSK_LOOP,
};

/* One step of a script. */
struct kiosk_step {
	enum kiosk_op op;
	uint32_t line;                 /* in the file, from 1 */
	uint32_t seconds;              /* show, wait */
	char name[KIOSK_NAME_BYTES];   /* start: the preset; run, crash: the
					* domain; show: "starter" or "monitor" */
	char domain[KIOSK_NAME_BYTES]; /* start: the guest's name (name= or
					* the preset's) */
	char text[KIOSK_TEXT_BYTES];   /* banner: its text; run: the command;
					* start: the key=value words */
};

/* A parsed script. */
struct kiosk_script {
	uint32_t n;
	bool loops; /* ends with loop */
	struct kiosk_step steps[KIOSK_MAX_STEPS];
};

/*
 * Parse script @text (NUL-terminated) into @s. On a bad line, returns
 * -EINVAL with "line N: <what is wrong and how to write it>" in @err
 * (@len bytes); a script without any step that shows or waits is
 * refused too (it would spin). Returns 0 on success.
 */
int kiosk_parse(const char *text, struct kiosk_script *s, char *err, size_t len);

/* The step's keyword: "banner", "start", ... */
const char *kiosk_op_name(enum kiosk_op op);

#endif /* KEEL_TOOLSTACK_KIOSK_H */
