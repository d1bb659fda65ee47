/*
 * `keel kiosk`: the unattended demonstration loop of the "Keel kiosk"
 * boot entry. It runs the steps of a plain-text script (tui/kiosk.c
 * parses it; configs/demo.keel is the CD's) on dom0's screen: starts
 * presets, types workloads into guests' consoles, crashes a guest on
 * purpose under a banner saying so, and shows the guest starter and the
 * monitor in turn, each for its seconds, on a pseudo-terminal whose
 * output it copies to the screen with the banner on the last line, so
 * that every key press reaches the kiosk: any key ends the loop (the
 * boot flow then runs the starter). Steps that fail are shown and
 * skipped; the loop goes on.
 */
#define _GNU_SOURCE /* posix_openpt, ptsname */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "child.h"
#include "domain.h"
#include "hcall.h"
#include "keel.h"
#include "kiosk.h"
#include "term.h"

#define KIOSK_SCRIPT_BYTES 65536u
#define KIOSK_HINT "Kiosk: press any key for the guest starter"
#define KIOSK_CMD_TIMEOUT_S 120 /* a start or a console write at most */
#define KIOSK_CRASH_CMD "echo c >/proc/sysrq-trigger"
#define KIOSK_READY_S 90        /* a started guest's shell, at most */

/* The kiosk's state while it runs. */
struct kiosk_run {
	char banner[KIOSK_TEXT_BYTES];
	char status[KIOSK_TEXT_BYTES]; /* what the last step did */
	uint32_t rows, cols;
	bool key;                      /* a key was pressed: leave */
	uint32_t ran[KIOSK_MAX_STEPS]; /* run: the domain id it ran in (once a boot) */
	struct keys_decoder kd;
};

/* Monotonic seconds. */
static double kiosk_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Write @s to the screen. */
static void kiosk_out(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, s, n);

		if (w <= 0 && errno != EINTR)
			return;
		if (w > 0)
			s += w, n -= (size_t)w;
	}
}

/* Draw the banner, in reverse video, on the screen's last row. */
static void kiosk_draw_banner(const struct kiosk_run *k)
{
	char buf[KIOSK_TEXT_BYTES + 64];
	int n = snprintf(buf, sizeof(buf), "\0337\033[%u;1H\033[7m %-*.*s\033[0m\0338", k->rows,
			 (int)k->cols - 1, (int)k->cols - 1,
			 k->banner[0] ? k->banner : KIOSK_HINT);

	kiosk_out(buf, (size_t)n);
}

/* The id of domain @name, or 0 if there is none. */
static uint32_t kiosk_domain_id(const char *name)
{
	struct keel_dominfo *list = NULL;
	uint32_t n = 0, i, id = 0;

	if (domain_list_get(&list, &n))
		return 0;
	for (i = 0; i < n && !id; i++) {
		char have[KEEL_DOMAIN_NAME_BYTES + 1];

		domain_name(&list[i], have, sizeof(have));
		if (strcmp(have, name) == 0)
			id = list[i].domid;
	}
	free(list);
	return id;
}

/* Whether domain @name exists. */
static bool kiosk_domain_exists(const char *name)
{
	return kiosk_domain_id(name) != 0;
}

/* Draw the kiosk's own screen: the banner, the guests, the last status. */
static void kiosk_draw(struct kiosk_run *k)
{
	struct keel_dominfo *list = NULL;
	char state[DOMAIN_STATE_CHARS + 1], name[KEEL_DOMAIN_NAME_BYTES + 1], line[256];
	uint32_t n = 0, i;
	int len;

	term_size(&k->rows, &k->cols);
	kiosk_out("\033[H\033[2J", 7);
	len = snprintf(line, sizeof(line), "\033[1m Keel kiosk\033[0m  (%s)\r\n\r\n", KIOSK_HINT);
	kiosk_out(line, (size_t)len);
	if (!domain_list_get(&list, &n)) {
		len = snprintf(line, sizeof(line), " %-24s %5s %7s %9s\r\n", "Domain", "ID", "State",
			       "Memory");
		kiosk_out(line, (size_t)len);
		for (i = 0; i < n && i + 8 < k->rows; i++) {
			domain_state_str(&list[i], state);
			domain_name(&list[i], name, sizeof(name));
			len = snprintf(line, sizeof(line), " %-24.24s %5u %7s %5llu MiB\r\n",
				       name, list[i].domid, state,
				       (unsigned long long)(list[i].mem_bytes >> 20));
			kiosk_out(line, (size_t)len);
		}
		free(list);
	}
	len = snprintf(line, sizeof(line), "\r\n %.*s\r\n", (int)k->cols - 2, k->status);
	kiosk_out(line, (size_t)len);
	kiosk_draw_banner(k);
}

/* Wait up to @seconds for a key (sets k->key). */
static void kiosk_wait_key(struct kiosk_run *k, double seconds)
{
	int32_t keys[8];
	double end = kiosk_now() + seconds;

	while (!k->key && kiosk_now() < end) {
		double left = end - kiosk_now();
		int n = term_wait_keys(&k->kd, left > 1 ? 1000 : (uint32_t)(left * 1000) + 1, keys, 8);

		if (n != 0)
			k->key = true; /* a key, or the terminal went away */
	}
}

/* The last line of @text, for a status line. */
static const char *kiosk_last_line(char *text)
{
	char *p;

	while ((p = strrchr(text, '\n')) && !p[1])
		*p = 0;
	p = strrchr(text, '\n');
	return p ? p + 1 : text;
}

/* Wait until guest @name's console says it is ready (Keel's images print
 * "Keel <kind> guest <name> ready" once their shell runs), for at most
 * KIOSK_READY_S, so that what `run` types next is not lost. */
static void kiosk_wait_ready(struct kiosk_run *k, const char *name)
{
	const char *argv[] = { "keel", "console", name, NULL };
	static char out[16384];
	char want[KIOSK_NAME_BYTES + 16];
	double end = kiosk_now() + KIOSK_READY_S;

	snprintf(want, sizeof(want), " guest %s ready", name);
	while (!k->key && kiosk_now() < end) {
		if (child_run_keel(argv, "", out, sizeof(out), KIOSK_CMD_TIMEOUT_S) == 0 && strstr(out, want))
			return;
		kiosk_wait_key(k, 2);
	}
}

/* start: keel create <preset> [key=value ...], unless it runs already. */
static void kiosk_start(struct kiosk_run *k, const struct kiosk_step *st)
{
	const char *argv[40] = { "keel", "create", st->name };
	char words[KIOSK_TEXT_BYTES], out[1024], *w, *save = NULL;
	uint32_t n = 3;
	int rc;

	if (kiosk_domain_exists(st->domain)) {
		snprintf(k->status, sizeof(k->status), "%s runs already", st->domain);
		return;
	}
	snprintf(words, sizeof(words), "%s", st->text);
	for (w = strtok_r(words, " \t", &save); w && n < 39; w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n] = NULL;
	rc = child_run_keel(argv, NULL, out, sizeof(out), KIOSK_CMD_TIMEOUT_S);
	snprintf(k->status, sizeof(k->status), "start %.60s: %.180s", st->name,
		 out[0] ? kiosk_last_line(out) : rc == 0 ? "done" : "failed");
	if (rc == 0)
		kiosk_wait_ready(k, st->domain);
}

/* Type @command on guest @name's console. */
static void kiosk_type(struct kiosk_run *k, const char *name, const char *command)
{
	const char *argv[] = { "keel", "console", name, NULL };
	char line[KIOSK_TEXT_BYTES + 2], out[512];
	int rc;

	snprintf(line, sizeof(line), "%s\n", command);
	rc = child_run_keel(argv, line, out, sizeof(out), KIOSK_CMD_TIMEOUT_S);
	if (rc)
		snprintf(k->status, sizeof(k->status), "%.60s: %.180s", name, kiosk_last_line(out));
	else
		snprintf(k->status, sizeof(k->status), "%s runs: %.100s", name, command);
}

/* Open a pseudo-terminal of @rows x @cols; its master, or -errno; the
 * slave's path into @slave. */
static int kiosk_pty(uint32_t rows, uint32_t cols, char *slave, size_t len)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (grantpt(fd) || unlockpt(fd) || !ptsname(fd)) {
		close(fd);
		return -EIO;
	}
	snprintf(slave, len, "%s", ptsname(fd));
	ioctl(fd, TIOCSWINSZ, &ws);
	return fd;
}

/* In the child: make @slave the controlling terminal and run keel @what. */
static void kiosk_child(const char *slave, const char *what)
{
	int fd;

	setsid();
	fd = open(slave, O_RDWR);
	if (fd < 0)
		_exit(127);
	ioctl(fd, TIOCSCTTY, 0);
	dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
	if (fd > 2)
		close(fd);
	setenv("TERM", "linux", 0);
	if (strcmp(what, "starter") == 0) {
		execl("/proc/self/exe", "keel", "starter", "--hint", KIOSK_HINT, (char *)NULL);
		execlp("keel", "keel", "starter", "--hint", KIOSK_HINT, (char *)NULL);
	} else {
		execl("/proc/self/exe", "keel", "top", "--hint", KIOSK_HINT, (char *)NULL);
		execlp("keel", "keel", "top", "--hint", KIOSK_HINT, (char *)NULL);
	}
	_exit(127);
}

/* show: the starter or the monitor for its seconds, on a pseudo-terminal
 * one row shorter than the screen, the banner below it. */
static void kiosk_show(struct kiosk_run *k, const struct kiosk_step *st)
{
	char slave[64], buf[4096];
	double end = kiosk_now() + st->seconds;
	int m;
	pid_t pid;

	term_size(&k->rows, &k->cols);
	m = kiosk_pty(k->rows > 2 ? k->rows - 1 : k->rows, k->cols, slave, sizeof(slave));
	if (m < 0) {
		snprintf(k->status, sizeof(k->status), "show %s: no pseudo-terminal", st->name);
		return;
	}
	kiosk_out("\033[H\033[2J", 7);
	pid = fork();
	if (pid == 0)
		kiosk_child(slave, st->name);
	while (pid > 0 && !k->key && kiosk_now() < end) {
		struct pollfd p[2] = { { .fd = m, .events = POLLIN },
				       { .fd = STDIN_FILENO, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, 500) <= 0)
			continue;
		if (p[1].revents) {
			k->key = true;
			break;
		}
		n = read(m, buf, sizeof(buf));
		if (n <= 0)
			break;
		kiosk_out(buf, (size_t)n);
		kiosk_draw_banner(k);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		while (read(m, buf, sizeof(buf)) > 0 && waitpid(pid, NULL, WNOHANG) == 0)
			;
		waitpid(pid, NULL, 0);
	}
	close(m);
	snprintf(k->status, sizeof(k->status), "showed the %s", st->name);
}

/* run: type the command once in each boot of the guest (a restarted
 * guest is a new domain). */
static void kiosk_run_step(struct kiosk_run *k, const struct kiosk_step *st, uint32_t idx)
{
	uint32_t id = kiosk_domain_id(st->name);

	if (!id) {
		snprintf(k->status, sizeof(k->status), "run: no guest %.60s", st->name);
		return;
	}
	if (k->ran[idx] == id)
		return;
	k->ran[idx] = id;
	kiosk_type(k, st->name, st->text);
}

/* Run step @idx, @st. */
static void kiosk_step(struct kiosk_run *k, const struct kiosk_step *st, uint32_t idx)
{
	switch (st->op) {
	case KIOSK_BANNER:
		snprintf(k->banner, sizeof(k->banner), "%s", st->text);
		kiosk_draw(k);
		break;
	case KIOSK_START:
		snprintf(k->status, sizeof(k->status), "Starting %s ...", st->domain);
		kiosk_draw(k);
		kiosk_start(k, st);
		kiosk_draw(k);
		break;
	case KIOSK_SHOW:
		kiosk_show(k, st);
		kiosk_draw(k);
		break;
	case KIOSK_RUN:
		kiosk_run_step(k, st, idx);
		kiosk_draw(k);
		break;
	case KIOSK_CRASH:
		snprintf(k->banner, sizeof(k->banner), "Crashing %s on purpose: the other guests "
			 "keep running, and %s starts again", st->name, st->name);
		kiosk_type(k, st->name, KIOSK_CRASH_CMD);
		snprintf(k->status, sizeof(k->status), "crashed %s on purpose", st->name);
		kiosk_draw(k);
		break;
	case KIOSK_WAIT:
		kiosk_draw(k);
		kiosk_wait_key(k, st->seconds);
		break;
	case KIOSK_LOOP:
		break;
	}
}

/* Run the script until a key is pressed. */
static int kiosk_loop(const struct kiosk_script *s)
{
	static struct kiosk_run k;
	uint32_t i = 0;

	memset(&k, 0, sizeof(k));
	if (hcall_connect(NULL))
		return KEEL_EXIT_FAIL;
	if (term_open()) {
		fprintf(stderr, "keel: kiosk: needs a terminal (run it on a console)\n");
		return KEEL_EXIT_FAIL;
	}
	keys_init(&k.kd);
	term_size(&k.rows, &k.cols);
	while (!k.key) {
		kiosk_step(&k, &s->steps[i], i);
		kiosk_wait_key(&k, 0.2);
		if (++i >= s->n) {
			if (!s->loops)
				break;
			i = 0;
		}
	}
	term_close();
	return KEEL_EXIT_OK;
}

/* Read and parse @path into @s; errors printed. 0 or -errno. */
static int kiosk_load(const char *path, struct kiosk_script *s)
{
	char err[256];
	char *text = malloc(KIOSK_SCRIPT_BYTES + 1);
	FILE *f = fopen(path, "r");
	size_t n;

	if (!text || !f) {
		int e = f ? ENOMEM : errno;

		fprintf(stderr, "keel: kiosk: cannot read %s: %s\n", path, strerror(e));
		free(text);
		if (f)
			fclose(f);
		return -e;
	}
	n = fread(text, 1, KIOSK_SCRIPT_BYTES, f);
	fclose(f);
	text[n] = 0;
	if (kiosk_parse(text, s, err, sizeof(err))) {
		fprintf(stderr, "keel: kiosk: %s %s\n", path, err);
		free(text);
		return -EINVAL;
	}
	free(text);
	return 0;
}

/* Entry point of `keel kiosk [--check] FILE`. */
static int cmd_kiosk_run(int argc, char **argv)
{
	static struct kiosk_script s;
	const char *path = NULL;
	bool check = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_kiosk_entry);
			return KEEL_EXIT_OK;
		}
		if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if (argv[i][0] == '-' || path)
			return keel_usage_error("kiosk", argv[i][0] == '-' ? "unknown option" :
						"unexpected argument", argv[i]);
		else
			path = argv[i];
	}
	if (!path)
		return keel_usage_error("kiosk", "missing the script file", NULL);
	if (kiosk_load(path, &s))
		return KEEL_EXIT_FAIL;
	if (check) {
		printf("%s: %u steps%s\n", path, s.n, s.loops ? ", then again from the first" : "");
		return KEEL_EXIT_OK;
	}
	return kiosk_loop(&s);
}

/* Command-table entry of `keel kiosk`. */
const struct keel_cmd cmd_kiosk_entry = {
	.name = "kiosk",
	.summary = "Run a demonstration loop on this screen until a key is pressed",
	.usage = "Usage: keel kiosk [--check] FILE\n"
		 "\n"
		 "Run the steps of the kiosk script FILE on this terminal, again and\n"
		 "again if it ends with 'loop', until a key is pressed; the boot\n"
		 "entry \"Keel kiosk\" runs configs/demo.keel from the CD this way\n"
		 "on the screen, then the guest starter. One step per line ('#'\n"
		 "starts a comment):\n"
		 "\n"
		 "  banner <text>                  a line at the bottom of the screen\n"
		 "  start <preset> [key=value ...] keel create, unless a guest of that\n"
		 "                                 name (name=, else the preset's) runs\n"
		 "  show starter|monitor <seconds> the guest starter or the monitor\n"
		 "  run <domain> <command>         type the command on its console,\n"
		 "                                 once in each boot of the guest\n"
		 "  crash <domain>                 crash it on purpose (its kernel\n"
		 "                                 panics), under a banner saying so\n"
		 "  wait <seconds>                 the kiosk's own screen: the guests\n"
		 "  loop                           again from the first step (last)\n"
		 "\n"
		 "A step that fails is shown and skipped. --check only reads FILE and\n"
		 "reports the first error with its line.\n",
	.run = cmd_kiosk_run,
};
