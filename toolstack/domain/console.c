/*
 * `keel console` engine (see console.h). One loop: drain the domain's
 * console ring to the output, pass pending input to the guest's UART (the
 * hypervisor may accept only part of it), then wait up to 20 ms for more
 * input. Input is scanned for the Ctrl-] escape. When the input ends (a
 * pipe), output keeps being drained until it has been quiet for a while,
 * so a script's last command still shows its answer.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "console.h"
#include "hcall.h"

#define CONSOLE_IN_BYTES 256u

/* Default timing; see console.h. */
const struct console_opts console_default_opts = {
	.poll_ms = CONSOLE_POLL_MS,
	.eof_quiet_ms = 1000,
	.eof_max_ms = 10000,
};

/* Position of the escape byte; see console.h. */
int console_find_escape(const uint8_t *buf, size_t n)
{
	const uint8_t *p = memchr(buf, CONSOLE_ESCAPE, n);

	return p ? (int)(p - buf) : -1;
}

/* Milliseconds of a monotonic clock. */
static uint64_t console_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Write all @n bytes of @buf to @fd; -EPIPE if that fails. */
static int console_write_all(int fd, const uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -EPIPE;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* State of one console session. */
struct console_session {
	uint32_t domid;
	uint64_t pos;                  /* next ring position to read */
	uint8_t *io;                   /* KEEL_HC_MAX_ARG hypercall buffer */
	uint8_t pending[CONSOLE_IN_BYTES]; /* input not yet accepted */
	size_t n_pending;
	uint64_t last_output_ms;
};

/* Copy everything new in the ring to @out_fd. Returns 0 or an error. */
static int console_drain(struct console_session *s, int out_fd)
{
	struct keel_console_io *io = (struct keel_console_io *)(void *)s->io;
	const uint32_t room = KEEL_HC_MAX_ARG - sizeof(*io);

	for (;;) {
		int ret;

		memset(io, 0, sizeof(*io));
		io->domid = s->domid;
		io->op = KEEL_CONSOLE_READ;
		io->pos = s->pos;
		io->len = room;
		ret = keel_hypercall(KEEL_HC_CONSOLE_IO, io, KEEL_HC_MAX_ARG);
		if (ret < 0)
			return ret;
		if (io->len == 0 || io->len > room)
			return 0;
		s->pos = io->pos;
		s->last_output_ms = console_now_ms();
		ret = console_write_all(out_fd, (uint8_t *)(io + 1), io->len);
		if (ret)
			return ret;
	}
}

/* Offer the pending input to the guest; keeps what it did not accept. */
static int console_push(struct console_session *s)
{
	struct keel_console_io *io = (struct keel_console_io *)(void *)s->io;
	int ret;

	if (!s->n_pending)
		return 0;
	memset(io, 0, sizeof(*io));
	io->domid = s->domid;
	io->op = KEEL_CONSOLE_WRITE;
	io->len = (uint32_t)s->n_pending;
	memcpy(io + 1, s->pending, s->n_pending);
	ret = keel_hypercall(KEEL_HC_CONSOLE_IO, io, sizeof(*io) + s->n_pending);
	if (ret < 0)
		return ret;
	if (io->len >= s->n_pending) {
		s->n_pending = 0;
	} else {
		memmove(s->pending, s->pending + io->len,
			s->n_pending - io->len);
		s->n_pending -= io->len;
	}
	return 0;
}

/*
 * Wait up to @ms for input on @in_fd and take it into the pending buffer.
 * Returns 1 on EOF, 2 if the escape was typed, 0 otherwise.
 */
static int console_input(struct console_session *s, int in_fd, uint32_t ms)
{
	struct pollfd pfd = { .fd = in_fd, .events = POLLIN };
	ssize_t n;
	int esc;

	if (poll(&pfd, 1, (int)ms) <= 0)
		return 0;
	n = read(in_fd, s->pending + s->n_pending,
		 sizeof(s->pending) - s->n_pending);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return 1;
	esc = console_find_escape(s->pending + s->n_pending, (size_t)n);
	if (esc >= 0) {
		s->n_pending += (size_t)esc;
		return 2;
	}
	s->n_pending += (size_t)n;
	return 0;
}

/* Push what is left of the input before detaching (bounded retries). */
static int console_flush_input(struct console_session *s, uint32_t poll_ms)
{
	int tries = 50, ret = 0;

	while (s->n_pending && tries-- && !ret) {
		ret = console_push(s);
		if (s->n_pending)
			usleep(poll_ms * 1000u);
	}
	return ret;
}

/* The session loop; see console_run(). */
static int console_loop(struct console_session *s, int in_fd, int out_fd,
			const struct console_opts *o)
{
	uint64_t eof_at = 0;
	int ret, in;

	for (;;) {
		ret = console_drain(s, out_fd);
		if (!ret)
			ret = console_push(s);
		if (ret)
			return ret;
		if (eof_at) {
			uint64_t now = console_now_ms();

			if ((now - s->last_output_ms >= o->eof_quiet_ms &&
			     !s->n_pending) || now - eof_at >= o->eof_max_ms)
				return 0;
			usleep(o->poll_ms * 1000u);
			continue;
		}
		if (s->n_pending == sizeof(s->pending)) {
			usleep(o->poll_ms * 1000u);
			continue;
		}
		in = console_input(s, in_fd, o->poll_ms);
		if (in == 2)
			return console_flush_input(s, o->poll_ms);
		if (in == 1)
			eof_at = s->last_output_ms = console_now_ms();
	}
}

/* Run a console session; see console.h. */
int console_run(uint32_t domid, int in_fd, int out_fd,
		const struct console_opts *opts)
{
	struct console_session *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->io = malloc(KEEL_HC_MAX_ARG);
	if (!s->io) {
		free(s);
		return -ENOMEM;
	}
	s->domid = domid;
	ret = console_loop(s, in_fd, out_fd, opts ? opts : &console_default_opts);
	free(s->io);
	free(s);
	return ret;
}

/* ---- terminal ---- */

static struct termios console_saved_tio;
static int console_tty_fd = -1;

/* Restore the saved terminal settings; see console.h. */
void console_tty_restore(void)
{
	if (console_tty_fd >= 0)
		tcsetattr(console_tty_fd, TCSAFLUSH, &console_saved_tio);
	console_tty_fd = -1;
}

/* Fatal-signal handler: restore the terminal, then die of the signal. */
static void console_on_signal(int sig)
{
	if (console_tty_fd >= 0)
		tcsetattr(console_tty_fd, TCSANOW, &console_saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Enter raw mode; see console.h. */
int console_tty_raw(int fd)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct termios raw;
	size_t i;

	if (!isatty(fd) || tcgetattr(fd, &console_saved_tio) < 0)
		return -ENOTTY;
	raw = console_saved_tio;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	console_tty_fd = fd;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], console_on_signal);
	if (tcsetattr(fd, TCSAFLUSH, &raw) < 0) {
		console_tty_fd = -1;
		return -errno;
	}
	return 0;
}
