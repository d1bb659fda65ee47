/*
 * The dashboard's consoles: a table of open consoles, one `keel console
 * <domain>` child each (its stdin a pipe this process keeps, its stdout a
 * pipe the event streams read), with a reference per page streaming it.
 * Each page's stream reads the child's output as it comes and sends it
 * as one event per read, the bytes as a JSON string, which xterm.js
 * writes. Only one page reads the pipe at a time (the table's lock is
 * held while a reader copies what it read into every stream's buffer).
 * See dash_console.h.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dash_console.h"
#include "format.h"

#define DASH_CON_NAME_BYTES 64u
#define DASH_CON_CHUNK 2048u        /* bytes read from a console at once */
#define DASH_CON_QUIET_MS 15000     /* a comment after this long */
#define DASH_CON_BUF (DASH_CON_CHUNK * 6 + 64) /* one event, escaped */

/* One open console. */
struct dash_con_slot {
	char name[DASH_CON_NAME_BYTES];
	pid_t pid;
	int in_fd, out_fd;
	uint32_t users;
	uint64_t seq;      /* chunks read so far */
	char last[DASH_CON_CHUNK]; /* the last chunk, for the other pages */
	size_t last_len;
	bool ended;
	bool reading;      /* a stream is waiting for the child's output */
};

/* One page's stream. */
struct dash_con {
	struct dash_con_slot *slot;
	uint64_t seq;      /* chunks sent */
	char buf[DASH_CON_BUF];
	size_t len, off;
};

static pthread_mutex_t dash_con_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dash_con_more = PTHREAD_COND_INITIALIZER;
static struct dash_con_slot dash_cons[DASH_CONSOLES_MAX];

/* The slot of @name, or NULL. Lock held. */
static struct dash_con_slot *dash_con_find(const char *name)
{
	uint32_t i;

	for (i = 0; i < DASH_CONSOLES_MAX; i++)
		if (dash_cons[i].users && strcmp(dash_cons[i].name, name) == 0)
			return &dash_cons[i];
	return NULL;
}

/* Start `keel console @name` in @s. 0 or -errno. Lock held. */
static int dash_con_spawn(struct dash_con_slot *s, const char *name)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]), close(in[1]);
		return -errno;
	}
	s->pid = fork();
	if (s->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		execl("/proc/self/exe", "keel", "console", name, (char *)NULL);
		execlp("keel", "keel", "console", name, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (s->pid < 0) {
		close(in[1]), close(out[0]);
		return -errno;
	}
	memset(s->name, 0, sizeof(s->name));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->in_fd = in[1];
	s->out_fd = out[0];
	s->seq = 0;
	s->last_len = 0;
	s->ended = false;
	s->reading = false;
	return 0;
}

/* Open a stream; see dash_console.h. */
struct dash_con *dash_console_open(const char *name, unsigned *status, char *err, size_t len)
{
	struct dash_con *c = calloc(1, sizeof(*c));
	struct dash_con_slot *s;
	uint32_t i;

	if (!c) {
		*status = 503;
		snprintf(err, len, "out of memory");
		return NULL;
	}
	pthread_mutex_lock(&dash_con_lock);
	s = dash_con_find(name);
	for (i = 0; !s && i < DASH_CONSOLES_MAX; i++) {
		if (!dash_cons[i].users) {
			if (dash_con_spawn(&dash_cons[i], name)) {
				*status = 503;
				snprintf(err, len, "cannot run keel console");
				break;
			}
			s = &dash_cons[i];
		}
	}
	if (s) {
		s->users++;
		c->slot = s;
		c->seq = s->seq;
	} else if (i >= DASH_CONSOLES_MAX) {
		*status = 503;
		snprintf(err, len, "%u consoles are open already; close one", DASH_CONSOLES_MAX);
	}
	pthread_mutex_unlock(&dash_con_lock);
	if (!s) {
		free(c);
		return NULL;
	}
	return c;
}

/* Make @c's next event from @data (@n bytes). */
static void dash_con_event(struct dash_con *c, const char *data, size_t n)
{
	char text[DASH_CON_CHUNK + 1];
	struct fmt_buf b;

	memcpy(text, data, n);
	text[n] = 0;
	for (size_t i = 0; i < n; i++)
		if (!text[i])
			text[i] = ' '; /* a NUL would end the string */
	fmt_buf_init(&b, c->buf, sizeof(c->buf));
	fmt_buf_add(&b, "data: ");
	fmt_json_str(&b, text);
	fmt_buf_add(&b, "\n\n");
	c->len = b.pos;
	c->off = 0;
}

/* Read the console's next chunk into its slot, the lock dropped while it
 * waits; while another stream reads, wait for what it reads. Lock held. */
static void dash_con_pull(struct dash_con_slot *s)
{
	struct pollfd p = { .fd = s->out_fd, .events = POLLIN };
	char chunk[DASH_CON_CHUNK];
	ssize_t n;
	int fd = s->out_fd;

	if (s->reading) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += DASH_CON_QUIET_MS / 1000;
		pthread_cond_timedwait(&dash_con_more, &dash_con_lock, &until);
		return;
	}
	s->reading = true;
	pthread_mutex_unlock(&dash_con_lock);
	n = poll(&p, 1, DASH_CON_QUIET_MS) > 0 ? read(fd, chunk, sizeof(chunk)) : -EAGAIN;
	pthread_mutex_lock(&dash_con_lock);
	s->reading = false;
	if (n == -EAGAIN) {
		pthread_cond_broadcast(&dash_con_more);
		return;
	}
	if (n <= 0) {
		s->ended = true;
	} else {
		memcpy(s->last, chunk, (size_t)n);
		s->last_len = (size_t)n;
		s->seq++;
	}
	pthread_cond_broadcast(&dash_con_more);
}

/* Read a stream; see dash_console.h. A page behind by more than one
 * chunk (another page read them) gets the last one only. */
ssize_t dash_console_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct dash_con *c = cls;
	struct dash_con_slot *s = c->slot;
	size_t n;

	(void)pos;
	if (c->off >= c->len) {
		pthread_mutex_lock(&dash_con_lock);
		if (c->seq == s->seq && !s->ended)
			dash_con_pull(s);
		if (c->seq != s->seq) {
			dash_con_event(c, s->last, s->last_len);
			c->seq = s->seq;
		} else if (s->ended) {
			pthread_mutex_unlock(&dash_con_lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		} else {
			c->len = (size_t)snprintf(c->buf, sizeof(c->buf), ": quiet\n\n");
			c->off = 0;
		}
		pthread_mutex_unlock(&dash_con_lock);
	}
	n = c->len - c->off < max ? c->len - c->off : max;
	memcpy(buf, c->buf + c->off, n);
	c->off += n;
	return (ssize_t)n;
}

/* End slot @s's child. Lock held. */
static void dash_con_end(struct dash_con_slot *s)
{
	close(s->in_fd);
	close(s->out_fd);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	s->users = 0;
	s->name[0] = 0;
}

/* Close a stream; see dash_console.h. */
void dash_console_close(void *cls)
{
	struct dash_con *c = cls;

	pthread_mutex_lock(&dash_con_lock);
	if (c->slot->users && --c->slot->users == 0)
		dash_con_end(c->slot);
	pthread_mutex_unlock(&dash_con_lock);
	free(c);
}

/* Send input; see dash_console.h. */
int dash_console_input(const char *name, const char *data, size_t len)
{
	struct dash_con_slot *s;
	int ret = 0;

	pthread_mutex_lock(&dash_con_lock);
	s = dash_con_find(name);
	if (!s)
		ret = -ENOENT;
	else if (write(s->in_fd, data, len) != (ssize_t)len)
		ret = -EIO;
	pthread_mutex_unlock(&dash_con_lock);
	return ret;
}

/* End every console; see dash_console.h. */
void dash_console_stop_all(void)
{
	uint32_t i;

	pthread_mutex_lock(&dash_con_lock);
	for (i = 0; i < DASH_CONSOLES_MAX; i++)
		if (dash_cons[i].users)
			kill(dash_cons[i].pid, SIGTERM);
	pthread_mutex_unlock(&dash_con_lock);
}
