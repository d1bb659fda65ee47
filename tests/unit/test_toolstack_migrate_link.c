/*
 * Unit tests for toolstack/cli/migrate_link.c, the link of `keel migrate`:
 * the pairing code's forms (dashes and spaces left out, exactly 8 digits),
 * the protocol's line words, and a TCP link on 127.0.0.1 (lines both
 * ways, a closed link heard as -EPIPE, a port nobody listens on and a
 * host name refused by name), and the SSH receiver's result file: a
 * result put after the session ended is waited for, and a receiver that
 * died without one is told apart from a login that never reached it.
 */
#include "../../toolstack/cli/migrate_link.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_code(void)
{
	char out[LINK_CODE_DIGITS + 1];

	CHECK_EQ_INT(link_code_normal("1234-5678", out, sizeof(out)), 0);
	CHECK(strcmp(out, "12345678") == 0);
	CHECK_EQ_INT(link_code_normal("12345678", out, sizeof(out)), 0);
	CHECK_EQ_INT(link_code_normal(" 1234 5678 ", out, sizeof(out)), 0);
	CHECK(strcmp(out, "12345678") == 0);
	CHECK_EQ_INT(link_code_normal("1234-567", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(link_code_normal("1234-56789", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(link_code_normal("abcd-efgh", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(link_code_normal("", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(link_code_normal("1234-5678", out, 4), -EINVAL); /* no room */
}

static void test_lines(void)
{
	CHECK(line_is("READY 5", "READY"));
	CHECK(line_is("GO", "GO"));
	CHECK(!line_is("GOING", "GO"));
	CHECK(!line_is("READ", "READY"));
	CHECK(strcmp(line_rest("READY 5", "READY"), "5") == 0);
	CHECK(strcmp(line_rest("GO", "GO"), "") == 0);
	CHECK(strcmp(line_rest("FAILED no memory here", "FAILED"), "no memory here") == 0);
}

/* A free port on 127.0.0.1 with a listening socket on it, as text. */
static int listen_somewhere(char *port, size_t len)
{
	int p, lfd;

	for (p = 20000 + (int)(getpid() % 20000); p < 65000; p += 97) {
		snprintf(port, len, "%d", p);
		lfd = link_listen_tcp("test", port);
		if (lfd >= 0)
			return lfd;
	}
	return -1;
}

static void test_tcp(void)
{
	char port[16], line[LINK_LINE_BYTES];
	struct link src, dst;
	int lfd = listen_somewhere(port, sizeof(port)), fd;

	CHECK(lfd >= 0);
	if (lfd < 0)
		return;
	CHECK_EQ_INT(link_connect_tcp("localhost", port, &src), 0);
	fd = link_accept_fd("test", lfd);
	CHECK(fd >= 0);
	CHECK_EQ_INT(link_open_fd(fd, &dst), 0);
	CHECK_EQ_INT(link_say(src.w, "KEEL-MIGRATE 1 %s", "-"), 0);
	CHECK_EQ_INT(link_hear(dst.r, line, sizeof(line)), 0);
	CHECK(strcmp(line, "KEEL-MIGRATE 1 -") == 0);
	CHECK_EQ_INT(link_say(dst.w, "READY %u", 7u), 0);
	CHECK_EQ_INT(link_hear(src.r, line, sizeof(line)), 0);
	CHECK(line_is(line, "READY") && atoi(line_rest(line, "READY")) == 7);
	link_close(&dst);
	CHECK_EQ_INT(link_hear(src.r, line, sizeof(line)), -EPIPE); /* the peer is gone */
	link_close(&src);
	close(lfd);
	/* nobody listens there now */
	CHECK(link_connect_tcp("127.0.0.1", port, &src) < 0);
	CHECK_EQ_INT(link_connect_tcp("no-such-host", port, &src), -EHOSTUNREACH);
	CHECK_EQ_INT(link_connect_tcp("127.0.0.1", "0", &src), -EHOSTUNREACH);
	CHECK_EQ_INT(link_connect_tcp("127.0.0.1", "65536", &src), -EHOSTUNREACH);
}

/* The addresses of the two ends: from SSH_CONNECTION, from a READY line
 * and from a connected socket; anything not a numeric IPv4 is "". */
static void test_ends(void)
{
	struct link_ends e;
	char out[INET6_ADDRSTRLEN];
	int fds[2];

	link_ends_of_ssh("192.168.77.1 40312 192.168.77.2 22", &e);
	CHECK(strcmp(e.peer, "192.168.77.1") == 0 && strcmp(e.here, "192.168.77.2") == 0);
	link_ends_of_ssh("::ffff:10.0.0.1 1 ::ffff:10.0.0.2 22", &e);
	CHECK(strcmp(e.peer, "10.0.0.1") == 0 && strcmp(e.here, "10.0.0.2") == 0);
	link_ends_of_ssh(NULL, &e);
	CHECK(e.peer[0] == 0 && e.here[0] == 0);
	link_ends_of_ssh("fe80::1 1 fe80::2 22", &e);
	CHECK(e.peer[0] == 0 && e.here[0] == 0);
	link_ready_address("7 192.168.77.2", out, sizeof(out));
	CHECK(strcmp(out, "192.168.77.2") == 0);
	link_ready_address("7 -", out, sizeof(out));
	CHECK(out[0] == 0);
	link_ready_address("7", out, sizeof(out));
	CHECK(out[0] == 0);
	link_ready_address("7 1.2.3.4; rm -rf /", out, sizeof(out));
	CHECK(out[0] == 0);
	/* a socket pair has no IPv4 ends */
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	link_ends_of_socket(fds[0], &e);
	CHECK(e.peer[0] == 0 && e.here[0] == 0);
	close(fds[0]);
	close(fds[1]);
}

/* Take @path's result with @linger_ms; its message into @msg. */
static int take(const char *path, int *ok, int linger_ms, char *msg, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	int ret = link_result_take(path, m, ok, linger_ms);

	fclose(m);
	snprintf(msg, len, "%s", buf ? buf : "");
	free(buf);
	return ret;
}

static void test_result(void)
{
	char path[] = "/tmp/keel-result-XXXXXX", msg[256], pid[16];
	int fd = mkstemp(path), ok = -1, status;
	pid_t child;

	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	CHECK_EQ_INT(take(path, &ok, 1000, msg, sizeof(msg)), 0); /* no login got in */
	CHECK_EQ_INT(ok, 0);

	CHECK_EQ_INT(link_result_put(path, "OK", "Received domain t"), 0);
	CHECK_EQ_INT(take(path, &ok, 1000, msg, sizeof(msg)), 1);
	CHECK_EQ_INT(ok, 1);
	CHECK(strcmp(msg, "Received domain t\n") == 0);
	CHECK(access(path, F_OK) != 0); /* taken */

	CHECK_EQ_INT(link_result_put(path, "FAIL", "no memory"), 0);
	CHECK_EQ_INT(take(path, &ok, 1000, msg, sizeof(msg)), 1);
	CHECK_EQ_INT(ok, 0);
	CHECK(strcmp(msg, "no memory\n") == 0);

	/* the session ended, the receiver puts its result 200 ms later */
	child = fork();
	if (child == 0) {
		usleep(200 * 1000);
		_exit(link_result_put(path, "FAIL", "the link closed") ? 1 : 0);
	}
	snprintf(pid, sizeof(pid), "%d", (int)child);
	CHECK_EQ_INT(link_result_put(path, "RUN", pid), 0);
	CHECK_EQ_INT(take(path, &ok, 5000, msg, sizeof(msg)), 1);
	CHECK_EQ_INT(ok, 0);
	CHECK(strcmp(msg, "the link closed\n") == 0);
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);

	/* the receiver died without a result (killed with its session) */
	CHECK_EQ_INT(link_result_put(path, "RUN", pid), 0); /* reaped: gone */
	CHECK_EQ_INT(take(path, &ok, 5000, msg, sizeof(msg)), 1);
	CHECK_EQ_INT(ok, 0);
	CHECK(strstr(msg, "ended in the middle of the move") != NULL);

	/* one that hangs on is given up after its linger */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(pid, sizeof(pid), "%d", (int)child);
	CHECK_EQ_INT(link_result_put(path, "RUN", pid), 0);
	CHECK_EQ_INT(take(path, &ok, 100, msg, sizeof(msg)), 1);
	CHECK(strstr(msg, "ended in the middle of the move") != NULL);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	CHECK(access(path, F_OK) != 0);
	CHECK_EQ_INT(link_result_put("/nonexistent-dir/x", "OK", "t"), -ENOENT);
}

int main(void)
{
	test_code();
	test_ends();
	test_lines();
	test_tcp();
	test_result();
	return harness_done("test_toolstack_migrate_link");
}
