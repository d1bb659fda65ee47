/*
 * Guest console of the `keel` toolstack (`keel console`): copies a domain's
 * console output (KEEL_HC_CONSOLE_IO reads, polled every 20 ms, starting
 * with what the ring still holds) to an output fd and input bytes to the
 * guest's UART (KEEL_HC_CONSOLE_IO writes) until the escape character
 * Ctrl-] is typed, the input ends, or the domain goes away. Terminal raw
 * mode, restored on exit and on fatal signals, is handled here too.
 */
#ifndef KEEL_TOOLSTACK_CONSOLE_H
#define KEEL_TOOLSTACK_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE 0x1d /* Ctrl-] detaches */
#define CONSOLE_POLL_MS 20u

/* Timing of console_run(); tests shorten it. */
struct console_opts {
	uint32_t poll_ms;      /* period of output polling */
	uint32_t eof_quiet_ms; /* after input EOF: stop after this much silence */
	uint32_t eof_max_ms;   /* ... or at the latest after this long */
};

/* The defaults: 20 ms, 1 s quiet, 10 s at most. */
extern const struct console_opts console_default_opts;

/*
 * Index of the first CONSOLE_ESCAPE byte in @buf (@n bytes), or -1.
 */
int console_find_escape(const uint8_t *buf, size_t n);

/*
 * Run the console of domain @domid: output to @out_fd (from the oldest
 * byte the ring keeps), input from @in_fd, timing from @opts.
 * Returns 0 after Ctrl-] or after input EOF and the output has drained,
 * -ENOENT (or another hypercall error) when the domain is gone, -EPIPE if
 * @out_fd cannot be written.
 */
int console_run(uint32_t domid, int in_fd, int out_fd,
		const struct console_opts *opts);

/*
 * Put terminal @fd into raw mode (no echo, no line editing, no signals
 * from keys) and arrange for it to be restored by console_tty_restore()
 * and on SIGINT/SIGTERM/SIGHUP/SIGQUIT. Returns 0, or -ENOTTY if @fd is
 * not a terminal (then nothing is changed).
 */
int console_tty_raw(int fd);

/* Restore the terminal saved by console_tty_raw(), if any. */
void console_tty_restore(void);

#endif /* KEEL_TOOLSTACK_CONSOLE_H */
