/*
 * Glue shared by `keel top` and `keel starter` (see tui.h): the clock and
 * the "hypervisor not reachable" screen with its retry loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hcall.h"
#include "top_view.h"
#include "tui.h"

#define TUI_MSG_BYTES 1024u

/* Monotonic milliseconds; see tui.h. */
uint64_t tui_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleep; see tui.h. */
void tui_sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The unreachable message; see tui.h. */
void tui_unreachable_text(int err, const char *why, char *title,
			  size_t title_len, char *buf, size_t len)
{
	if (hcall_no_keel(err)) {
		snprintf(title, title_len, "Keel hypervisor not running");
		snprintf(buf, len, "Keel hypervisor not running: %s.\n\n"
			 "Guests cannot be started or monitored in this mode. "
			 "To use the hypervisor, reboot and pick \"Keel\" in "
			 "the boot menu.\n\nChecking again every %u s.", why,
			 TUI_RETRY_MS / 1000);
		return;
	}
	snprintf(title, title_len, "Cannot reach the Keel hypervisor");
	snprintf(buf, len, "Cannot reach the Keel hypervisor: %s.\n\n"
		 "Checking again every %u s.", why, TUI_RETRY_MS / 1000);
}

/* Show the notice for @err/@why and wait up to TUI_RETRY_MS for keys.
 * Returns 1 if the user quit, -EIO if input ended, else 0. */
static int tui_notice_wait(struct term_frames *f, struct keys_decoder *d,
			   const char *hint, int err, const char *why)
{
	char title[96], msg[TUI_MSG_BYTES];
	int32_t keys[TUI_KEYS_MAX];
	uint64_t until = tui_now_ms() + TUI_RETRY_MS;
	int n, i;

	tui_unreachable_text(err, why, title, sizeof(title), msg, sizeof(msg));
	for (;;) {
		uint64_t now = tui_now_ms();

		term_frame_begin(f);
		top_view_notice(&f->now, title, msg, "q quit", hint);
		term_frame_show(f);
		if (now >= until)
			return 0;
		n = term_wait_keys(d, (uint32_t)(until - now), keys, TUI_KEYS_MAX);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			if (keys[i] == 'q' || keys[i] == 'Q' ||
			    keys[i] == KEYS_CTRL_C)
				return 1;
			if (keys[i] == KEYS_CTRL_L)
				f->shown_valid = false;
		}
	}
}

/* Wait until the hypervisor answers; see tui.h. */
int tui_wait_hypervisor(struct term_frames *f, struct keys_decoder *d,
			const char *hint, int first_err,
			const char *first_why)
{
	char why[HCALL_WHY_BYTES];
	int err = first_err, ret;

	if (err)
		snprintf(why, sizeof(why), "%s", first_why);
	for (;;) {
		if (!err) {
			err = hcall_probe(NULL, why, sizeof(why));
			if (!err)
				return 0;
			hcall_close();
		}
		ret = tui_notice_wait(f, d, hint, err, why);
		if (ret)
			return ret;
		err = 0;
	}
}
