/*
 * Host unit tests of `keel console`'s engine (toolstack/console.c) and the
 * monitor's decisions (toolstack/monitor.c) against a fake hypervisor
 * defined here: keel_hypercall() serves KEEL_HC_CONSOLE_IO from a fake
 * console ring (with a lost prefix), records the guest's input, can accept
 * input a byte at a time, echo it back as output, or report the domain
 * gone. Input comes through a pipe, as the boot tests drive it; output
 * goes to a temporary file. Also checks the monitor's on_* verdicts and
 * the saved-config path.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../toolstack/domain/config.c"
#include "../../toolstack/core/format.c"
#include "../../toolstack/domain/config_lex.c"
#include "../../toolstack/domain/config_disk.c"
#include "../../toolstack/domain/console.c"
#include "../../toolstack/domain/monitor.c"
#include "../../toolstack/core/fileio.c"
#include "../../toolstack/netd/netnames.c" /* monitor.c unregisters names */

#include "harness.h"

/* ---- fake hypervisor ---- */

static struct {
	char ring[4096];
	uint64_t ring_start; /* position of ring[0] (bytes before were lost) */
	uint64_t ring_end;
	char input[4096];
	size_t n_input;
	int accept_one;  /* accept one input byte per write */
	int echo;        /* input bytes are echoed as output */
	int gone_after;  /* reads after which the domain is gone, 0 never */
	int reads;
	uint32_t domid;
} fk;

/* Append @s to the fake console output. */
static void fk_out(const char *s)
{
	size_t n = strlen(s);

	memcpy(fk.ring + (fk.ring_end - fk.ring_start), s, n);
	fk.ring_end += n;
}

/* Fake KEEL_HC_CONSOLE_IO; the other calls are not used here. */
int keel_hypercall(uint64_t op, void *buf, size_t size)
{
	struct keel_console_io *io = buf;

	if (op != KEEL_HC_CONSOLE_IO || size < sizeof(*io) ||
	    io->domid != fk.domid)
		return -KEEL_EINVAL;
	if (io->op == KEEL_CONSOLE_READ) {
		uint64_t pos = io->pos < fk.ring_start ? fk.ring_start : io->pos;
		uint64_t avail = fk.ring_end - pos;

		if (fk.gone_after && ++fk.reads > fk.gone_after)
			return -KEEL_ENOENT;
		CHECK(size >= sizeof(*io) + io->len);
		io->lost = (uint32_t)(pos - io->pos);
		if (avail > io->len)
			avail = io->len;
		memcpy(io + 1, fk.ring + (pos - fk.ring_start), avail);
		io->len = (uint32_t)avail;
		io->pos = pos + avail;
		return 0;
	}
	if (io->op == KEEL_CONSOLE_WRITE) {
		uint32_t n = fk.accept_one && io->len > 1 ? 1 : io->len;
		char tmp[2] = { 0, 0 };
		uint32_t i;

		CHECK(size == sizeof(*io) + io->len);
		memcpy(fk.input + fk.n_input, io + 1, n);
		fk.n_input += n;
		for (i = 0; fk.echo && i < n; i++) {
			tmp[0] = ((char *)(io + 1))[i];
			fk_out(tmp);
		}
		io->len = n;
		return 0;
	}
	return -KEEL_EINVAL;
}

/* Stand-in for the hypercall library's other entry points. */
void hcall_close(void)
{
}

/* Domain list (monitor.c needs it; not exercised here). */
int domain_list_get(struct keel_dominfo **out, uint32_t *n)
{
	*out = NULL;
	*n = 0;
	return -ENOSYS;
}

/* Domain control (monitor.c needs it; not exercised here). */
int domain_ctl(uint32_t domid, uint32_t op)
{
	(void)domid;
	(void)op;
	return -ENOSYS;
}

/* Shutdown reason name (monitor.c logs it). */
const char *domain_reason_name(uint32_t r)
{
	return r ? "some" : "none";
}

/* Builder (monitor.c restarts with it; not exercised here). */
int build_domain(const struct config *cfg, uint32_t *domid, char *err,
		 size_t err_len)
{
	(void)cfg;
	(void)domid;
	snprintf(err, err_len, "fake");
	return -ENOSYS;
}

static const struct console_opts fast = { 5, 100, 2000 };

/*
 * Run console_run() with @input on a pipe (closed after it unless
 * @keep_open); returns its result and the output in @out.
 */
static int run_console(const char *input, size_t in_len, char *out,
		       size_t out_len)
{
	char path[] = "/tmp/keel-test-console-XXXXXX";
	int p[2], ofd, ret;
	ssize_t n;

	CHECK(pipe(p) == 0);
	CHECK((size_t)write(p[1], input, in_len) == in_len);
	close(p[1]);
	ofd = mkstemp(path);
	ret = console_run(fk.domid, p[0], ofd, &fast);
	close(p[0]);
	lseek(ofd, 0, SEEK_SET);
	n = read(ofd, out, out_len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(ofd);
	unlink(path);
	return ret;
}

/* Reset the fake with domain 4 and some old output, part of it lost. */
static void fk_reset(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.domid = 4;
	fk.ring_start = 100; /* 100 bytes were overwritten */
	fk.ring_end = 100;
	fk_out("boot log\r\ntiny# ");
}

/* Output from the oldest kept byte, input forwarded, EOF ends it. */
static void test_console_pipe(void)
{
	char out[8192];

	fk_reset();
	CHECK_EQ_INT(run_console("uname\n", 6, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "boot log\r\ntiny# ");
	CHECK_EQ_INT(fk.n_input, 6);
	CHECK(memcmp(fk.input, "uname\n", 6) == 0);

	/* echoed input shows up: output is drained after EOF */
	fk_reset();
	fk.echo = 1;
	CHECK_EQ_INT(run_console("ls\n", 3, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "boot log\r\ntiny# ls\n");

	/* the UART takes one byte at a time: nothing is lost */
	fk_reset();
	fk.accept_one = 1;
	CHECK_EQ_INT(run_console("poweroff\n", 9, out, sizeof(out)), 0);
	CHECK_EQ_INT(fk.n_input, 9);
	CHECK(memcmp(fk.input, "poweroff\n", 9) == 0);
}

/* Ctrl-] detaches: bytes before it are sent, none after. */
static void test_console_escape(void)
{
	char out[8192];

	CHECK_EQ_INT(console_find_escape((const uint8_t *)"ab\x1d" "c", 4), 2);
	CHECK_EQ_INT(console_find_escape((const uint8_t *)"abc", 3), -1);
	fk_reset();
	fk.accept_one = 1;
	CHECK_EQ_INT(run_console("ab\x1d" "cd", 5, out, sizeof(out)), 0);
	CHECK_EQ_INT(fk.n_input, 2);
	CHECK(memcmp(fk.input, "ab", 2) == 0);
}

/* The domain goes away while attached. */
static void test_console_gone(void)
{
	int p[2], ret;

	fk_reset();
	fk.gone_after = 3;
	CHECK(pipe(p) == 0);
	ret = console_run(fk.domid, p[0], open("/dev/null", O_WRONLY), &fast);
	CHECK_EQ_INT(ret, -KEEL_ENOENT);
	close(p[0]);
	close(p[1]);
	/* a domain the hypervisor does not know */
	fk_reset();
	CHECK(pipe(p) == 0);
	ret = console_run(9, p[0], open("/dev/null", O_WRONLY), &fast);
	CHECK_EQ_INT(ret, -KEEL_EINVAL);
	close(p[0]);
	close(p[1]);
}

/* monitor_decide(): every state and reason under the three actions. */
static void test_monitor_decide(void)
{
	struct keel_dominfo d;
	struct config cfg;

	config_init(&cfg);
	memset(&d, 0, sizeof(d));
	CHECK_EQ_INT(monitor_decide(NULL, &cfg), MONITOR_GONE);
	d.state = KEEL_DOMSTATE_RUNNING;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_WAIT);
	d.state = KEEL_DOMSTATE_PAUSED;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_WAIT);
	d.state = KEEL_DOMSTATE_BUILDING;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_WAIT);
	d.state = KEEL_DOMSTATE_SHUTDOWN;
	d.shutdown_reason = KEEL_SHUTDOWN_POWEROFF;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_DESTROY);
	d.shutdown_reason = KEEL_SHUTDOWN_REBOOT;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_RESTART);
	d.shutdown_reason = KEEL_SHUTDOWN_CRASH;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_DESTROY);
	d.state = KEEL_DOMSTATE_CRASHED;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_DESTROY);
	cfg.on_crash = CONFIG_ACTION_PRESERVE;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_PRESERVE);
	cfg.on_poweroff = CONFIG_ACTION_RESTART;
	d.state = KEEL_DOMSTATE_SHUTDOWN;
	d.shutdown_reason = KEEL_SHUTDOWN_NONE;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_RESTART);
	cfg.on_reboot = CONFIG_ACTION_DESTROY;
	d.shutdown_reason = KEEL_SHUTDOWN_REBOOT;
	CHECK_EQ_INT(monitor_decide(&d, &cfg), MONITOR_DESTROY);
}

/* Monitor file paths and config candidates for `keel create`. */
static void test_paths(void)
{
	char buf[300];

	CHECK_EQ_INT(monitor_path("tiny", ".cfg", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "/run/keel/tiny.cfg");
	CHECK_EQ_INT(monitor_path("tiny", ".log", buf, 8), -ENAMETOOLONG);
	CHECK_EQ_INT(config_candidate("tiny", 0, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "./tiny");
	CHECK_EQ_INT(config_candidate("tiny", 1, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "./tiny.cfg");
	CHECK_EQ_INT(config_candidate("tiny", 2, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "/run/keel/medium/configs/tiny");
	CHECK_EQ_INT(config_candidate("tiny", 3, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "/run/keel/medium/configs/tiny.cfg");
	CHECK_EQ_INT(config_candidate("tiny", 4, buf, sizeof(buf)), -ENOENT);
	CHECK_EQ_INT(config_candidate("tiny.cfg", 1, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "/run/keel/medium/configs/tiny.cfg");
	CHECK_EQ_INT(config_candidate("tiny.cfg", 2, buf, sizeof(buf)),
		     -ENOENT);
	CHECK_EQ_INT(config_candidate("a/b.cfg", 0, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "a/b.cfg");
	CHECK_EQ_INT(config_candidate("a/b.cfg", 1, buf, sizeof(buf)), -ENOENT);
}

int main(void)
{
	test_console_pipe();
	test_console_escape();
	test_console_gone();
	test_monitor_decide();
	test_paths();
	return harness_done("test_toolstack_console");
}
