/*
 * Terminal layer of the `keel` full-screen programs (`keel top`, `keel
 * starter`), without curses (dom0 has no terminfo): termios raw mode,
 * plain VT100/ANSI escapes that the Linux VGA console and serial
 * terminals both understand, the size from TIOCGWINSZ (80x24 when the
 * terminal does not know it, as serial consoles often report 0x0),
 * SIGWINCH, keys through keys.h with a timeout, and frames drawn through
 * screen.h. The terminal is restored on exit and on SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT; term_suspend()/term_resume() hand it to a child
 * (e.g. `keel console`) and take it back.
 */
#ifndef KEEL_TOOLSTACK_TERM_H
#define KEEL_TOOLSTACK_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "screen.h"

/* The frame on the terminal and the one being drawn. */
struct term_frames {
	struct screen now;    /* drawn by the program */
	struct screen shown;  /* what the terminal shows */
	bool shown_valid;     /* false: repaint everything */
};

/*
 * Take over the terminal on stdin/stdout: raw mode, alternate screen,
 * hidden cursor, cleared screen, signal handlers, restore at exit.
 * Returns 0, or -ENOTTY if stdin or stdout is not a terminal.
 */
int term_open(void);

/* Give the terminal back as it was (idempotent). */
void term_close(void);

/* Give the terminal back for a while (cooked mode, normal screen,
 * cursor shown, screen cleared). Returns 0 or -errno. */
int term_suspend(void);

/* Take the terminal again after term_suspend(); the caller repaints.
 * Returns 0 or -errno. */
int term_resume(void);

/* The terminal's size in @rows and @cols (80x24 if it reports 0x0). */
void term_size(uint32_t *rows, uint32_t *cols);

/* True once after each SIGWINCH (the terminal was resized). */
bool term_take_resize(void);

/*
 * Wait up to @timeout_ms for keys and decode them with @d into @keys
 * (room for @max). A lone Esc is reported once KEYS_ESC_TIMEOUT_MS pass
 * without more bytes. Returns the number of keys (0: timeout or a signal
 * such as SIGWINCH), or -EIO when the input has ended (hang-up).
 */
int term_wait_keys(struct keys_decoder *d, uint32_t timeout_ms,
		   int32_t *keys, size_t max);

/*
 * Size @f->now to the terminal (repainting in full when the size
 * changed) and clear it for the next frame.
 */
void term_frame_begin(struct term_frames *f);

/*
 * Send what changed from @f->shown to @f->now to the terminal and
 * remember it as shown. Returns 0 or -errno.
 */
int term_frame_show(struct term_frames *f);

#endif /* KEEL_TOOLSTACK_TERM_H */
