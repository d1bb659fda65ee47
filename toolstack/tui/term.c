/*
 * Terminal layer of the `keel` full-screen programs (see term.h). The
 * escapes: ESC [ ? 1049 h/l switches to and from xterm's alternate screen
 * (the Linux console ignores it), ESC [ ? 25 l/h hides and shows the
 * cursor, ESC [ H ESC [ 2 J clears. Restoring on a fatal signal uses
 * only write() and tcsetattr(), which are async-signal-safe.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "term.h"

#define TERM_ENTER "\x1b[?1049h\x1b[?25l\x1b[0m\x1b[H\x1b[2J"
#define TERM_LEAVE "\x1b[0m\x1b[H\x1b[2J\x1b[?25h\x1b[?1049l"
#define TERM_READ_BYTES 64u

static struct termios term_saved;
static volatile sig_atomic_t term_active; /* raw mode is on */
static volatile sig_atomic_t term_resized;
static bool term_atexit_done;
static char *term_out;                    /* SCREEN_RENDER_BYTES */

/* Write all of @buf (@n bytes) to stdout. Returns 0 or -errno. */
static int term_write(const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, buf, n);

		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Leave raw mode and the alternate screen (signal-safe). */
static void term_leave(void)
{
	if (!term_active)
		return;
	term_active = 0;
	if (write(STDOUT_FILENO, TERM_LEAVE, sizeof(TERM_LEAVE) - 1) < 0) {
		/* nothing more can be done */
	}
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &term_saved);
}

/* Fatal-signal handler: restore the terminal, then die of the signal. */
static void term_on_signal(int sig)
{
	term_leave();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* SIGWINCH handler: note the resize. */
static void term_on_winch(int sig)
{
	(void)sig;
	term_resized = 1;
}

/* Install the signal handlers (without SA_RESTART, so poll() wakes). */
static void term_signals(void)
{
	static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = term_on_signal;
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	sa.sa_handler = term_on_winch;
	sigaction(SIGWINCH, &sa, NULL);
}

/* Switch to raw mode and the alternate screen. Returns 0 or -errno. */
static int term_enter(void)
{
	struct termios raw = term_saved;

	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
		return -errno;
	term_active = 1;
	return term_write(TERM_ENTER, sizeof(TERM_ENTER) - 1);
}

/* Take over the terminal; see term.h. */
int term_open(void)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) ||
	    tcgetattr(STDIN_FILENO, &term_saved) < 0)
		return -ENOTTY;
	if (!term_out) {
		term_out = malloc(SCREEN_RENDER_BYTES);
		if (!term_out)
			return -ENOMEM;
	}
	if (!term_atexit_done) {
		atexit(term_close);
		term_atexit_done = true;
	}
	term_signals();
	return term_enter();
}

/* Restore the terminal; see term.h. */
void term_close(void)
{
	term_leave();
}

/* Hand the terminal over for a while; see term.h. */
int term_suspend(void)
{
	term_leave();
	return 0;
}

/* Take the terminal back; see term.h. */
int term_resume(void)
{
	if (term_active)
		return 0;
	if (tcgetattr(STDIN_FILENO, &term_saved) < 0)
		return -errno;
	return term_enter();
}

/* The terminal's size; see term.h. */
void term_size(uint32_t *rows, uint32_t *cols)
{
	struct winsize ws;

	memset(&ws, 0, sizeof(ws));
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		memset(&ws, 0, sizeof(ws));
	*rows = ws.ws_row ? ws.ws_row : SCREEN_DEFAULT_ROWS;
	*cols = ws.ws_col ? ws.ws_col : SCREEN_DEFAULT_COLS;
}

/* Consume the resize flag; see term.h. */
bool term_take_resize(void)
{
	bool r = term_resized != 0;

	term_resized = 0;
	return r;
}

/* Wait for keys; see term.h. */
int term_wait_keys(struct keys_decoder *d, uint32_t timeout_ms,
		   int32_t *keys, size_t max)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	uint8_t buf[TERM_READ_BYTES];
	size_t n = 0;

	for (;;) {
		int wait = (int)(keys_pending(d) ? KEYS_ESC_TIMEOUT_MS
						 : timeout_ms);
		ssize_t got;
		int r = poll(&pfd, 1, wait);

		if (r < 0)
			return errno == EINTR ? (int)n : -errno;
		if (r == 0) {
			if (keys_pending(d) && n < max)
				n += keys_flush(d, keys + n);
			return (int)n;
		}
		got = read(STDIN_FILENO, buf, sizeof(buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			return (int)n;
		if (got <= 0)
			return -EIO;
		n += keys_feed(d, buf, (size_t)got, keys + n, max - n);
		if (!keys_pending(d) || n >= max)
			return (int)n;
	}
}

/* Start a frame; see term.h. */
void term_frame_begin(struct term_frames *f)
{
	uint32_t rows, cols;

	term_size(&rows, &cols);
	rows = rows > SCREEN_MAX_ROWS ? SCREEN_MAX_ROWS : rows;
	cols = cols > SCREEN_MAX_COLS ? SCREEN_MAX_COLS : cols;
	if (term_take_resize() || !f->shown_valid ||
	    rows != f->now.rows || cols != f->now.cols) {
		if (f->shown_valid)
			term_write("\x1b[0m\x1b[H\x1b[2J", 10);
		f->shown_valid = false;
		screen_init(&f->now, rows, cols);
		return;
	}
	screen_clear(&f->now);
}

/* Show a frame; see term.h. */
int term_frame_show(struct term_frames *f)
{
	int n = screen_render(&f->now, f->shown_valid ? &f->shown : NULL,
			      term_out, SCREEN_RENDER_BYTES);

	if (n < 0)
		return n;
	if (n > 0 && term_write(term_out, (size_t)n))
		return -EIO;
	f->shown = f->now;
	f->shown_valid = true;
	return 0;
}
