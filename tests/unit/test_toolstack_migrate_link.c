/*
 * Unit tests for toolstack/cli/migrate_link.c, the link of `keel migrate`:
 * the pairing code's forms (dashes and spaces left out, exactly 8 digits),
 * the protocol's line words, and a TCP link on 127.0.0.1 (lines both
 * ways, a closed link heard as -EPIPE, a port nobody listens on and a
 * host name refused by name).
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

int main(void)
{
	test_code();
	test_ends();
	test_lines();
	test_tcp();
	return harness_done("test_toolstack_migrate_link");
}
