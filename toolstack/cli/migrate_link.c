/*
 * The link of `keel migrate` and `keel migrate-receive`: plain TCP with
 * send and receive timeouts (--insecure), or Dropbear's SSH client
 * (dbclient) run as a child with the stream on its standard input and
 * output and the pairing code as its password; and the protocol's text
 * lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migrate_link.h"

#define LINK_CONNECT_TIMEOUT_S 10

/* Give socket @fd a send and receive timeout of @s seconds. */
static void link_timeouts(int fd, int s)
{
	struct timeval tv = { s, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * @host and @port as an IPv4 address into @sa; "localhost" is 127.0.0.1.
 * @verb names the command in messages.
 * Only numbers: a static toolstack has no name service (and a Keel dom0's
 * names from keel netd are its guests'). 0, or -EINVAL (printed).
 */
static int link_addr(const char *verb, const char *host, const char *port,
		     struct sockaddr_in *sa)
{
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!*port || *end || p == 0 || p > 65535) {
		fprintf(stderr, "keel: %s: bad port '%s' (1-65535)\n", verb, port);
		return -EINVAL;
	}
	sa->sin_port = htons((uint16_t)p);
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "keel: migrate: '%s' is not an IPv4 address; give the target's "
			"address (its dom0 shows it on the banner and in 'ip -4 addr')\n", host);
		return -EINVAL;
	}
	return 0;
}

/* Connect to @host:@port; the socket, or -1 with the reason printed. */
static int link_connect_fd(const char *host, const char *port)
{
	struct sockaddr_in sa;
	int fd;

	if (link_addr("migrate", host, port, &sa))
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		fprintf(stderr, "keel: migrate: socket: %s\n", strerror(errno));
		return -1;
	}
	link_timeouts(fd, LINK_CONNECT_TIMEOUT_S); /* bounds connect() too */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "keel: migrate: cannot reach %s port %s: %s. Start 'keel "
			"migrate-receive --insecure' on it first; nothing was changed\n", host,
			port, strerror(errno));
		close(fd);
		return -1;
	}
	link_timeouts(fd, LINK_TIMEOUT_S);
	return fd;
}

/* Listen on @port; see migrate_link.h. */
int link_listen_tcp(const char *verb, const char *port)
{
	struct sockaddr_in sa;
	int one = 1, lfd;

	if (link_addr(verb, "0.0.0.0", port, &sa))
		return -1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd >= 0)
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		fprintf(stderr, "keel: %s: cannot listen on port %s: %s\n", verb, port,
			strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	return lfd;
}

/* Accept one peer on @lfd; see migrate_link.h. */
int link_accept_fd(const char *verb, int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		fprintf(stderr, "keel: %s: accept failed: %s\n", verb, strerror(errno));
	else
		link_timeouts(fd, LINK_TIMEOUT_S);
	return fd;
}

/* Send one line; see migrate_link.h. */
int link_say(FILE *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(w, fmt, ap);
	va_end(ap);
	fputc('\n', w);
	return fflush(w) ? -EPIPE : 0;
}

/* Read one line; see migrate_link.h. */
int link_hear(FILE *r, char *line, size_t len)
{
	size_t n;

	if (!fgets(line, (int)len, r))
		return -EPIPE;
	n = strcspn(line, "\r\n");
	line[n] = 0;
	return 0;
}

/* Whether @line is the word @word, alone or followed by a space. */
bool line_is(const char *line, const char *word)
{
	size_t n = strlen(word);

	return strncmp(line, word, n) == 0 && (line[n] == 0 || line[n] == ' ');
}

/* The text after "<word> " in @line ("" if none). */
const char *line_rest(const char *line, const char *word)
{
	size_t n = strlen(word);

	return line[n] == ' ' ? line + n + 1 : line + n;
}

/* Connect over TCP; see migrate_link.h. */
int link_connect_tcp(const char *host, const char *port, struct link *l)
{
	int fd = link_connect_fd(host, port);

	if (fd < 0)
		return -EHOSTUNREACH;
	return link_open_fd(fd, l);
}

/* A link on socket @fd; see migrate_link.h. */
int link_open_fd(int fd, struct link *l)
{
	int fd2 = dup(fd);

	memset(l, 0, sizeof(*l));
	l->r = fdopen(fd, "r");
	l->w = fd2 >= 0 ? fdopen(fd2, "w") : NULL;
	if (l->r && l->w)
		return 0;
	fprintf(stderr, "keel: migrate: out of memory\n");
	if (l->r)
		fclose(l->r);
	else
		close(fd);
	if (l->w)
		fclose(l->w);
	else if (fd2 >= 0)
		close(fd2);
	l->r = l->w = NULL;
	return -ENOMEM;
}

/* The pairing code without dashes; see migrate_link.h. */
int link_code_normal(const char *code, char *out, size_t len)
{
	size_t n = 0;

	for (; *code; code++) {
		if (*code == '-' || *code == ' ')
			continue;
		if (*code < '0' || *code > '9' || n + 1 >= len)
			return -EINVAL;
		out[n++] = *code;
	}
	out[n] = 0;
	return n == LINK_CODE_DIGITS ? 0 : -EINVAL;
}

/*
 * In dbclient's child: its stderr on an open file of its own. dbclient
 * makes its standard descriptors non-blocking, and a flag set on the
 * terminal the parent shares would make the parent's own later output
 * fail with EAGAIN while the serial line is busy, and be lost (seen: the
 * "Migrated domain" line gone). Reopening gives it a new description.
 */
static void link_own_stderr(void)
{
	int fd = open("/proc/self/fd/2", O_WRONLY | O_APPEND | O_NOCTTY);

	if (fd >= 0 && fd != 2) {
		dup2(fd, 2);
		close(fd);
	}
}

/* Run dbclient with the link on its stdin and stdout; see migrate_link.h. */
int link_connect_ssh(const char *host, const char *port, const char *code, struct link *l)
{
	int to[2] = { -1, -1 }, from[2] = { -1, -1 };
	pid_t pid;

	memset(l, 0, sizeof(*l));
	if (pipe(to) < 0 || pipe(from) < 0) {
		fprintf(stderr, "keel: migrate: pipe: %s\n", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "keel: migrate: fork: %s\n", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		link_own_stderr();
		signal(SIGINT, SIG_IGN); /* the parent decides what a Ctrl-C does */
		setenv("DROPBEAR_PASSWORD", code, 1);
		/* -y -y: a live CD's host key is new every boot, so none is
		 * known; the code proves the source to the target (see
		 * docs/save-restore.md). -I: a silent link is gone. */
		execlp("dbclient", "dbclient", "-y", "-y", "-T", "-I", "60", "-p", port,
		       "-l", LINK_SSH_USER, host, "keel-migrate-receive", (char *)NULL);
		fprintf(stderr, "keel: migrate: cannot run dbclient (Dropbear's SSH client): "
			"%s\n", strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	l->pid = pid;
	l->w = fdopen(to[1], "w");
	l->r = fdopen(from[0], "r");
	if (l->r && l->w)
		return 0;
	link_close(l);
	return -ENOMEM;
fail:
	if (to[0] >= 0) {
		close(to[0]);
		close(to[1]);
	}
	if (from[0] >= 0) {
		close(from[0]);
		close(from[1]);
	}
	return -EPIPE;
}

/* Close both ways and reap dbclient; see migrate_link.h. */
void link_close(struct link *l)
{
	if (l->w)
		fclose(l->w);
	if (l->r)
		fclose(l->r);
	if (l->pid > 0)
		waitpid(l->pid, NULL, 0);
	memset(l, 0, sizeof(*l));
}

/* A numeric address @text (IPv4, or IPv4 inside an IPv6 mapped one) into
 * @out; "" if it is not one. */
static void link_addr_copy(const char *text, size_t n, char *out, size_t len)
{
	char buf[INET6_ADDRSTRLEN];
	struct in_addr a;

	out[0] = '\0';
	if (n >= sizeof(buf))
		return;
	memcpy(buf, text, n);
	buf[n] = '\0';
	text = strncmp(buf, "::ffff:", 7) == 0 ? buf + 7 : buf;
	if (inet_pton(AF_INET, text, &a) == 1)
		snprintf(out, len, "%s", text);
}

/* The ends of a socket; see migrate_link.h. */
void link_ends_of_socket(int fd, struct link_ends *e)
{
	struct sockaddr_in6 sa;
	socklen_t sl;
	char buf[INET6_ADDRSTRLEN];
	int side;

	for (side = 0; side < 2; side++) {
		char *out = side ? e->peer : e->here;

		out[0] = '\0';
		sl = sizeof(sa);
		if ((side ? getpeername(fd, (struct sockaddr *)&sa, &sl) :
			    getsockname(fd, (struct sockaddr *)&sa, &sl)) != 0)
			continue;
		if (sa.sin6_family == AF_INET &&
		    inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, buf, sizeof(buf)))
			link_addr_copy(buf, strlen(buf), out, sizeof(e->here));
		else if (sa.sin6_family == AF_INET6 &&
			 inet_ntop(AF_INET6, &sa.sin6_addr, buf, sizeof(buf)))
			link_addr_copy(buf, strlen(buf), out, sizeof(e->here));
	}
}

/* The ends of an SSH login; see migrate_link.h. */
void link_ends_of_ssh(const char *env, struct link_ends *e)
{
	const char *p = env ? env : "";
	size_t n = strcspn(p, " ");

	link_addr_copy(p, n, e->peer, sizeof(e->peer));
	p += n;
	p += strspn(p, " ");
	p += strcspn(p, " "); /* the client's port */
	p += strspn(p, " ");
	link_addr_copy(p, strcspn(p, " "), e->here, sizeof(e->here));
}

/* The address in a READY line; see migrate_link.h. */
void link_ready_address(const char *rest, char *out, size_t len)
{
	const char *p = rest + strcspn(rest, " ");

	p += strspn(p, " ");
	link_addr_copy(p, strcspn(p, " "), out, len);
}

/* Write "<word> <text>" to @path; see migrate_link.h. */
int link_result_put(const char *path, const char *word, const char *text)
{
	char tmp[512];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s %s\n", word, text);
	if (fclose(f) || rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

/* @path's line into @line (@len bytes, its newline cut); 0 or -ENOENT. */
static int link_result_read(const char *path, char *line, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -ENOENT;
	if (!fgets(line, (int)len, f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	return 0;
}

/* Whether the receiver of a "RUN <pid>" @line may still put its result. */
static bool link_result_running(const char *line)
{
	pid_t pid = (pid_t)atoi(line_rest(line, "RUN"));

	return line_is(line, "RUN") && pid > 0 && !(kill(pid, 0) && errno == ESRCH);
}

/* Take the receiver's result from @path; see migrate_link.h. */
int link_result_take(const char *path, FILE *msg, int *ok, int linger_ms)
{
	char line[LINK_LINE_BYTES];
	int waited_ms = 0;

	*ok = 0;
	if (link_result_read(path, line, sizeof(line)))
		return 0;
	while (link_result_running(line) && waited_ms < linger_ms) {
		usleep(20 * 1000);
		waited_ms += 20;
		if (link_result_read(path, line, sizeof(line)))
			line[0] = 0;
	}
	if (line_is(line, "OK") || line_is(line, "FAIL")) {
		*ok = line_is(line, "OK");
		fprintf(msg, "%s\n", line_rest(line, *ok ? "OK" : "FAIL"));
	} else {
		fprintf(msg, "The source's SSH session ended in the middle of the move (its "
			"machine stopped, or its link was silent for %d s); nothing was kept "
			"here\n", LINK_TIMEOUT_S);
	}
	unlink(path);
	return 1;
}
