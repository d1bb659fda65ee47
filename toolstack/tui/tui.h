/*
 * Glue shared by the full-screen programs `keel top` and `keel starter`:
 * a monotonic clock, and the screen they show while the hypervisor
 * cannot be reached ("Keel hypervisor not running: ..." when dom0 was
 * booted without it), which retries every TUI_RETRY_MS until it can be
 * reached or the user quits.
 */
#ifndef KEEL_TOOLSTACK_TUI_H
#define KEEL_TOOLSTACK_TUI_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "term.h"

#define TUI_RETRY_MS 5000u
#define TUI_KEYS_MAX 32u /* keys handled per wake-up */

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t tui_now_ms(void);

/* Sleep @ms milliseconds, going on after signals. */
void tui_sleep_ms(uint32_t ms);

/*
 * Write the message for hcall_probe() failing with @err (@why its text)
 * into @buf (@len bytes), and a title into @title (@title_len bytes).
 */
void tui_unreachable_text(int err, const char *why, char *title,
			  size_t title_len, char *buf, size_t len);

/*
 * Make sure the hypervisor can be reached: hcall_probe(), and while it
 * fails show the notice on @f with @hint and retry every TUI_RETRY_MS.
 * @first_err/@first_why, if @first_err is not 0, is a failure the caller
 * already saw (shown at once). Keys come through @d; q or Ctrl-C quits.
 * Returns 0 once reachable, 1 if the user quit, -EIO if input ended.
 */
int tui_wait_hypervisor(struct term_frames *f, struct keys_decoder *d,
			const char *hint, int first_err,
			const char *first_why);

#endif /* KEEL_TOOLSTACK_TUI_H */
