/*
 * `keel starter`: the full-screen guest starter. It reads the presets
 * (the *.cfg files of the configs directory) with the config parser,
 * shows them with how many more instances fit and the running guests,
 * starts an instance with an automatic name by running `keel create
 * <cfg> name=<name>` as a child (its output read without blocking, so the
 * screen stays live), and pauses, unpauses, shuts down and destroys
 * guests with the same calls as the commands of those names. c hands the
 * terminal to `keel console <guest>` and takes it back when the user
 * detaches. n clones a guest with `keel clone`. v saves a guest with
 * `keel save` to /run/keel/saves, where
 * it shows among the presets as "<name> [saved]" until Enter restores it
 * with `keel restore` (the file goes once the guest runs again). --list
 * and --start are the non-interactive forms. The logic and the drawing
 * are in starter.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "config.h"
#include "domain.h"
#include "hcall.h"
#include "compat_nics.h"
#include "keel.h"
#include "monitor.h"
#include "sample.h"
#include "savefile.h"
#include "starter.h"
#include "term.h"
#include "top_view.h"
#include "tui.h"

#define CMD_STARTER_SELF "/proc/self/exe"
#define CMD_STARTER_CFG_BYTES 65536u
#define CMD_STARTER_OUT_BYTES 4096u
#define CMD_STARTER_REFRESH_MS 1000u
#define CMD_STARTER_BUSY_MS 250u     /* refresh while a start runs */
#define CMD_STARTER_RESCAN_MS 5000u  /* re-read the presets */

/* Options of `keel starter`. */
struct cmd_starter_opts {
	const char *dir;
	const char *hint;
	bool list;
	const char *start; /* --start PRESET */
};

/* What a child runs. */
enum cmd_starter_job { JOB_CREATE, JOB_SAVE, JOB_RESTORE, JOB_CLONE };

/* A `keel create`, `save` or `restore` running in the background. */
struct cmd_starter_child {
	pid_t pid;                    /* 0: none */
	int fd;                       /* its stdout and stderr */
	enum cmd_starter_job job;
	char path[STARTER_PATH_BYTES]; /* the save file (save, restore) */
	char name[CONFIG_NAME_MAX + 1];
	char out[CMD_STARTER_OUT_BYTES];
	size_t len;
	uint64_t started_ms;
};

/* Everything the starter shows. */
struct cmd_starter {
	const struct cmd_starter_opts *o;
	struct starter_preset presets[STARTER_MAX_PRESETS];
	uint32_t n_presets;
	uint64_t scanned_ms;
	struct top_sample sample;
	struct keel_dominfo guests[STARTER_MAX_GUESTS];
	uint32_t n_guests;
	struct starter_ui ui;
	struct cmd_starter_child child;
	struct config cfg;            /* scratch for parsing */
};

/* ---- presets ---- */

/* Read @path into @buf (@len bytes). Returns the length or -errno. */
static ssize_t cmd_starter_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len);
	if (n < 0)
		n = -errno;
	else if ((size_t)n == len)
		n = -EFBIG;
	close(fd);
	return n;
}

/* Load the preset @path into @p (broken with a message on errors). */
static void cmd_starter_load(struct cmd_starter *st, const char *path,
			     struct starter_preset *p, char *text)
{
	char err[CONFIG_ERR_BYTES];
	ssize_t n = cmd_starter_read(path, text, CMD_STARTER_CFG_BYTES);

	if (n < 0) {
		snprintf(err, sizeof(err), "cannot read the file: %s",
			 strerror((int)-n));
		starter_preset_broken(p, path, err);
		return;
	}
	config_init(&st->cfg);
	if (config_parse(&st->cfg, text, (size_t)n, path, st->o->dir, err,
			 sizeof(err)) ||
	    config_check(&st->cfg, path, err, sizeof(err)))
		starter_preset_broken(p, path, err);
	else
		starter_preset_fill(p, path, &st->cfg);
}

/* True if directory entry @name is a preset file (*.cfg). */
static bool cmd_starter_is_cfg(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".cfg") == 0;
}

/* Load saved guest @path (file name @file) into @p from its header. */
static void cmd_starter_load_saved(const char *path, const char *file, struct starter_preset *p)
{
	char name[CONFIG_NAME_MAX + 1], when[16] = "?", err[STARTER_TEXT_BYTES];
	struct savefile_header h;
	size_t n = strlen(file) - 4;
	time_t t;
	struct tm tm;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got = fd < 0 ? -1 : read(fd, &h, sizeof(h));

	if (fd >= 0)
		close(fd);
	snprintf(name, sizeof(name), "%.*s", (int)(n < CONFIG_NAME_MAX ? n : CONFIG_NAME_MAX), file);
	if (got != (ssize_t)sizeof(h) ||
	    savefile_header_check(&h, KEEL_ABI_VERSION, err, sizeof(err))) {
		if (got != (ssize_t)sizeof(h))
			snprintf(err, sizeof(err), "not a complete save file");
		starter_preset_broken(p, path, err);
		snprintf(p->label, sizeof(p->label), "%s%s", name, STARTER_SAVED_SUFFIX);
		return;
	}
	t = (time_t)h.saved_utc_s;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%H:%M", &tm);
	starter_preset_saved(p, path, name, h.ram_bytes, h.nr_vcpus, when);
}

/* Add the guests saved in STARTER_SAVES_DIR (*.sav) to the presets. */
static void cmd_starter_scan_saved(struct cmd_starter *st)
{
	char path[STARTER_PATH_BYTES];
	DIR *dir = opendir(STARTER_SAVES_DIR);
	struct dirent *e;
	size_t n;

	while (dir && (e = readdir(dir)) && st->n_presets < STARTER_MAX_PRESETS) {
		n = strlen(e->d_name);
		if (n <= 4 || e->d_name[0] == '.' || strcmp(e->d_name + n - 4, ".sav") ||
		    snprintf(path, sizeof(path), "%s/%s", STARTER_SAVES_DIR, e->d_name) >=
			    (int)sizeof(path))
			continue;
		cmd_starter_load_saved(path, e->d_name, &st->presets[st->n_presets++]);
	}
	if (dir)
		closedir(dir);
}

/* (Re-)read the presets of the configs directory and the saved guests. */
static void cmd_starter_scan(struct cmd_starter *st)
{
	char path[STARTER_PATH_BYTES], *text = malloc(CMD_STARTER_CFG_BYTES);
	DIR *dir = opendir(st->o->dir);
	struct dirent *e;

	st->n_presets = 0;
	st->scanned_ms = tui_now_ms();
	while (text && dir && (e = readdir(dir)) &&
	       st->n_presets < STARTER_MAX_PRESETS) {
		if (!cmd_starter_is_cfg(e->d_name) ||
		    snprintf(path, sizeof(path), "%s/%s", st->o->dir,
			     e->d_name) >= (int)sizeof(path))
			continue;
		cmd_starter_load(st, path, &st->presets[st->n_presets++], text);
	}
	if (dir)
		closedir(dir);
	free(text);
	cmd_starter_scan_saved(st);
	starter_sort_presets(st->presets, st->n_presets);
	if (st->ui.preset_sel >= st->n_presets)
		st->ui.preset_sel = st->n_presets ? st->n_presets - 1 : 0;
}

/* ---- the hypervisor's state ---- */

/* Sample the hypervisor and list the guests (all domains but dom0).
 * Returns 0 or the sample's error (@why filled). */
static int cmd_starter_refresh(struct cmd_starter *st, char *why, size_t len)
{
	uint32_t i;
	int ret = sample_take(&st->sample, why, len);

	st->n_guests = 0;
	if (ret)
		return ret;
	for (i = 0; i < st->sample.n_doms && st->n_guests < STARTER_MAX_GUESTS;
	     i++) {
		if (st->sample.doms[i].domid != 0)
			st->guests[st->n_guests++] = st->sample.doms[i];
	}
	starter_guest_index(&st->ui, st->guests, st->n_guests);
	return 0;
}

/* ---- starting a guest ---- */

/* In a child: run `keel <args>` (this binary). Does not return. */
static void cmd_starter_exec(char **args)
{
	execv(CMD_STARTER_SELF, args);
	execvp("keel", args);
	_exit(127);
}

/* Start `keel create <path> name=<name>` (JOB_CREATE), `keel save <name>
 * <path>`, `keel restore <path>` or `keel clone <name>` with its output on
 * a pipe. */
static int cmd_starter_spawn(struct cmd_starter_child *c, enum cmd_starter_job job,
			     const char *path, const char *name)
{
	char arg[CONFIG_NAME_MAX + 8], *args[5] = { "keel", NULL, NULL, NULL, NULL };
	int fds[2], null_fd;

	snprintf(arg, sizeof(arg), "name=%s", name);
	if (job == JOB_CREATE) {
		args[1] = "create", args[2] = (char *)path, args[3] = arg;
	} else if (job == JOB_SAVE) {
		args[1] = "save", args[2] = (char *)name, args[3] = (char *)path;
	} else if (job == JOB_CLONE) {
		args[1] = "clone", args[2] = (char *)name;
	} else {
		args[1] = "restore", args[2] = (char *)path;
	}
	if (pipe(fds) < 0)
		return -errno;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	c->pid = fork();
	if (c->pid == 0) {
		null_fd = open("/dev/null", O_RDONLY);
		dup2(null_fd, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		cmd_starter_exec(args);
	}
	close(fds[1]);
	if (c->pid < 0) {
		c->pid = 0;
		close(fds[0]);
		return -errno;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	c->fd = fds[0];
	c->len = 0;
	c->out[0] = '\0';
	c->started_ms = tui_now_ms();
	c->job = job;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->name, sizeof(c->name), "%s", name);
	return 0;
}

/* Start an instance of the selected preset. */
static void cmd_starter_start(struct cmd_starter *st)
{
	const struct starter_preset *p = &st->presets[st->ui.preset_sel];
	char name[CONFIG_NAME_MAX + 1], msg[STARTER_TEXT_BYTES];
	int ret;

	if (st->child.pid) {
		snprintf(msg, sizeof(msg), "Still starting %s; one at a time",
			 st->child.name);
		starter_status(&st->ui, true, msg);
		return;
	}
	if (starter_check(p, &st->sample.info, msg, sizeof(msg))) {
		starter_status(&st->ui, true, msg);
		return;
	}
	if (p->saved)
		ret = snprintf(name, sizeof(name), "%s", p->name) < 0 ? -ENOSPC : 0;
	else
		ret = starter_auto_name(p->name, st->sample.doms, st->sample.n_doms,
					name, sizeof(name));
	if (!ret)
		ret = cmd_starter_spawn(&st->child, p->saved ? JOB_RESTORE : JOB_CREATE,
					p->path, name);
	if (ret) {
		snprintf(msg, sizeof(msg), "Could not start %s: %s", p->label,
			 ret == -EEXIST ? "no free name left" : strerror(-ret));
		starter_status(&st->ui, true, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "%s %s...", p->saved ? "Restoring" : "Starting", name);
	starter_status(&st->ui, false, msg);
}

/* Save guest @name with `keel save` into STARTER_SAVES_DIR. */
static void cmd_starter_save(struct cmd_starter *st, const char *name)
{
	char path[STARTER_PATH_BYTES], msg[STARTER_TEXT_BYTES];
	int ret = 0;

	if (st->child.pid) {
		snprintf(msg, sizeof(msg), "Still busy with %s; one at a time", st->child.name);
		starter_status(&st->ui, true, msg);
		return;
	}
	if (mkdir(STARTER_SAVES_DIR, 0700) && errno != EEXIST)
		ret = -errno;
	if (!ret)
		ret = starter_save_path(name, path, sizeof(path));
	if (!ret)
		ret = cmd_starter_spawn(&st->child, JOB_SAVE, path, name);
	if (ret) {
		snprintf(msg, sizeof(msg), "Could not save %s: %s", name, strerror(-ret));
		starter_status(&st->ui, true, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "Saving %s to " STARTER_SAVES_DIR "...", name);
	starter_status(&st->ui, false, msg);
}

/* Clone guest @name with `keel clone`. */
static void cmd_starter_clone(struct cmd_starter *st, const char *name)
{
	char msg[STARTER_TEXT_BYTES];
	int ret;

	if (st->child.pid) {
		snprintf(msg, sizeof(msg), "Still busy with %s; one at a time", st->child.name);
		starter_status(&st->ui, true, msg);
		return;
	}
	ret = cmd_starter_spawn(&st->child, JOB_CLONE, "", name);
	if (ret) {
		snprintf(msg, sizeof(msg), "Could not clone %s: %s", name, strerror(-ret));
		starter_status(&st->ui, true, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "Cloning %s...", name);
	starter_status(&st->ui, false, msg);
}

/* Read what child @c printed so far (without blocking). */
static void cmd_starter_drain(struct cmd_starter_child *c)
{
	ssize_t n;

	while (c->len < sizeof(c->out) - 1 &&
	       (n = read(c->fd, c->out + c->len, sizeof(c->out) - 1 - c->len)) > 0)
		c->len += (size_t)n;
	c->out[c->len] = '\0';
}

/* Read what the running create printed; reap it when it has ended. */
static void cmd_starter_poll_child(struct cmd_starter *st)
{
	struct cmd_starter_child *c = &st->child;
	char msg[STARTER_TEXT_BYTES];
	int status;

	if (!c->pid)
		return;
	cmd_starter_drain(c);
	if (waitpid(c->pid, &status, WNOHANG) != c->pid) {
		snprintf(msg, sizeof(msg), "%s %s... %u s", c->job == JOB_CREATE ? "Starting" :
			 c->job == JOB_SAVE ? "Saving" : c->job == JOB_CLONE ? "Cloning" :
			 "Restoring", c->name,
			 (uint32_t)((tui_now_ms() - c->started_ms) / 1000));
		starter_status(&st->ui, false, msg);
		return;
	}
	cmd_starter_drain(c);
	close(c->fd);
	c->pid = 0;
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (c->job == JOB_CREATE)
		starter_create_result(c->name, status, c->out, msg, sizeof(msg));
	else if (c->job == JOB_CLONE)
		starter_clone_result(c->name, status, c->out, msg, sizeof(msg));
	else
		starter_save_result(c->name, c->job == JOB_RESTORE, status, c->out, msg,
				    sizeof(msg));
	if (status == 0 && c->job == JOB_RESTORE)
		unlink(c->path); /* running again: the entry goes */
	if (c->job == JOB_SAVE || c->job == JOB_RESTORE)
		cmd_starter_scan(st);
	starter_status(&st->ui, status != 0, msg);
}

/* Wait for a running create to end (before quitting). */
static void cmd_starter_finish_child(struct cmd_starter *st)
{
	while (st->child.pid) {
		cmd_starter_poll_child(st);
		if (st->child.pid)
			usleep(100 * 1000);
	}
}

/* ---- guest actions ---- */

/* The selected guest, or NULL (then the status says so). */
static const struct keel_dominfo *cmd_starter_guest(struct cmd_starter *st)
{
	int i = starter_guest_index(&st->ui, st->guests, st->n_guests);

	return i < 0 ? NULL : &st->guests[i];
}

/* Hand the terminal to `keel console <name>` until the user detaches. */
static void cmd_starter_console(struct cmd_starter *st, struct term_frames *f,
				const char *name)
{
	char *args[] = { "keel", "console", (char *)name, NULL };
	int status;
	pid_t pid;

	term_suspend();
	printf("Console of %s. Ctrl-] returns to the starter.\n", name);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		cmd_starter_exec(args);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	term_resume();
	f->shown_valid = false;
	if (pid < 0)
		starter_status(&st->ui, true, "Could not run keel console");
	else
		starter_status(&st->ui, false, "Back from the console");
}

/* Past tense of a domain control for the status line. */
static const char *cmd_starter_done(enum starter_action a)
{
	switch (a) {
	case STARTER_PAUSE:
		return "Paused %s";
	case STARTER_UNPAUSE:
		return "Unpaused %s";
	case STARTER_SHUTDOWN:
		return "Asked %s to shut down (ACPI power button)";
	default:
		return "Destroyed %s";
	}
}

/* Pause, unpause, shut down or destroy the selected guest. */
static void cmd_starter_domctl(struct cmd_starter *st, enum starter_action a,
			       const struct keel_dominfo *g, const char *name)
{
	static const uint32_t ops[] = {
		[STARTER_PAUSE] = KEEL_DOMCTL_PAUSE,
		[STARTER_UNPAUSE] = KEEL_DOMCTL_UNPAUSE,
		[STARTER_SHUTDOWN] = KEEL_DOMCTL_SHUTDOWN,
		[STARTER_DESTROY] = KEEL_DOMCTL_DESTROY,
	};
	char msg[STARTER_TEXT_BYTES];
	int ret;

	if (a == STARTER_DESTROY)
		monitor_mark_destroying(name, g->domid);
	ret = domain_ctl(g->domid, ops[a]);
	if (ret == -KEEL_ENOENT) {
		snprintf(msg, sizeof(msg), "%s is gone already", name);
	} else if (ret) {
		snprintf(msg, sizeof(msg), "Could not %s %s: %s",
			 a == STARTER_PAUSE ? "pause" : a == STARTER_UNPAUSE
			 ? "unpause" : a == STARTER_SHUTDOWN ? "shut down"
			 : "destroy", name, hcall_strerror(ret));
	} else {
		snprintf(msg, sizeof(msg), cmd_starter_done(a), name);
	}
	starter_status(&st->ui, ret != 0, msg);
}

/* Carry out action @a. Returns true to quit. */
static bool cmd_starter_act(struct cmd_starter *st, struct term_frames *f,
			    enum starter_action a)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	const struct keel_dominfo *g;

	switch (a) {
	case STARTER_QUIT:
		return true;
	case STARTER_START:
		cmd_starter_start(st);
		return false;
	case STARTER_REPAINT:
		f->shown_valid = false;
		return false;
	case STARTER_NONE:
		return false;
	default:
		break;
	}
	g = cmd_starter_guest(st);
	if (!g)
		return false;
	domain_name(g, name, sizeof(name));
	if (a == STARTER_CONSOLE)
		cmd_starter_console(st, f, name);
	else if (a == STARTER_SAVE)
		cmd_starter_save(st, name);
	else if (a == STARTER_CLONE)
		cmd_starter_clone(st, name);
	else
		cmd_starter_domctl(st, a, g, name);
	return false;
}

/* ---- the screen ---- */

/* Draw the starter on @f. */
static void cmd_starter_draw(struct cmd_starter *st, struct term_frames *f)
{
	term_frame_begin(f);
	starter_draw(&f->now, &st->ui, st->presets, st->n_presets,
		     &st->sample.info, st->guests, st->n_guests);
	term_frame_show(f);
}

/* Handle keys for up to @ms. Returns 1 to quit, -EIO if input ended,
 * 0 to refresh. */
static int cmd_starter_keys(struct cmd_starter *st, struct term_frames *f,
			    struct keys_decoder *d, uint32_t ms)
{
	int32_t keys[TUI_KEYS_MAX];
	int n, i;

	n = term_wait_keys(d, ms, keys, TUI_KEYS_MAX);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		enum starter_action a = starter_key(&st->ui, keys[i],
						    st->n_presets, st->guests,
						    st->n_guests);

		if (cmd_starter_act(st, f, a))
			return 1;
		cmd_starter_draw(st, f);
	}
	return 0;
}

/* The interactive loop. Returns an exit code. */
static int cmd_starter_loop(struct cmd_starter *st, struct term_frames *f)
{
	char why[HCALL_WHY_BYTES];
	struct keys_decoder d;
	int ret, err = 0;

	keys_init(&d);
	for (;;) {
		ret = tui_wait_hypervisor(f, &d, st->o->hint, err, why);
		if (ret)
			return ret < 0 ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
		if (tui_now_ms() - st->scanned_ms >= CMD_STARTER_RESCAN_MS)
			cmd_starter_scan(st);
		cmd_starter_poll_child(st);
		err = cmd_starter_refresh(st, why, sizeof(why));
		if (err)
			continue;
		cmd_starter_draw(st, f);
		ret = cmd_starter_keys(st, f, &d, st->child.pid
				       ? CMD_STARTER_BUSY_MS
				       : CMD_STARTER_REFRESH_MS);
		if (ret)
			return ret < 0 ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
	}
}

/* Put the compatibility report's summary (/etc/keel/compat, which the
 * hypervisor adds to dom0's initramfs) in the starter's second row. */
static void cmd_starter_machine(struct starter_ui *ui)
{
	char report[2048];
	FILE *f = fopen(COMPAT_REPORT_PATH, "r");
	size_t n;

	if (!f)
		return;
	n = fread(report, 1, sizeof(report) - 1, f);
	report[n] = 0;
	fclose(f);
	starter_machine_line(report, ui->machine, sizeof(ui->machine));
}

/* The first status line names the dashboard, when it runs: its first
 * address and the control token. */
static void cmd_starter_dashboard(struct starter_ui *ui)
{
	char urls[512], token[16], msg[STARTER_TEXT_BYTES];

	if (cmd_dashboard_where(urls, sizeof(urls), token, sizeof(token)))
		return;
	urls[strcspn(urls, " ")] = 0;
	snprintf(msg, sizeof(msg), "Enter starts a guest.  In a browser: %.100s  token %s",
		 urls, token);
	starter_status(ui, false, msg);
}

/* `keel starter` on a terminal. */
static int cmd_starter_interactive(struct cmd_starter *st)
{
	struct term_frames *f = calloc(1, sizeof(*f));
	int ret;

	if (!f)
		return KEEL_EXIT_FAIL;
	if (term_open()) {
		fprintf(stderr, "keel: starter: stdin and stdout must be a "
			"terminal (see --list and --start)\n");
		free(f);
		return KEEL_EXIT_FAIL;
	}
	starter_ui_init(&st->ui, st->o->dir, st->o->hint);
	cmd_starter_machine(&st->ui);
	starter_status(&st->ui, false, "Pick a preset and press Enter to "
		       "start a guest");
	cmd_starter_dashboard(&st->ui);
	cmd_starter_scan(st);
	ret = cmd_starter_loop(st, f);
	cmd_starter_finish_child(st);
	term_close();
	free(f);
	return ret;
}

/* ---- non-interactive forms ---- */

/* `keel starter --list`: the presets as a table. */
static int cmd_starter_list(struct cmd_starter *st)
{
	char why[HCALL_WHY_BYTES], fits[16];
	const struct starter_preset *p;
	bool hv;
	uint32_t i;

	cmd_starter_scan(st);
	hv = hcall_probe(NULL, why, sizeof(why)) == 0 &&
	     cmd_starter_refresh(st, why, sizeof(why)) == 0;
	printf("%-16s %-16s %6s %5s %4s  %s\n", "PRESET", "NAME", "MEMORY",
	       "VCPUS", "FITS", "DESCRIPTION");
	for (i = 0; i < st->n_presets; i++) {
		p = &st->presets[i];
		snprintf(fits, sizeof(fits), hv ? "%u" : "-",
			 starter_fits(p, &st->sample.info));
		if (!p->ok)
			printf("%-16s %-16s %6s %5s %4s  error: %s\n", p->label,
			       "-", "-", "-", "-", p->error);
		else
			printf("%-16s %-16s %6u %5u %4s  %s\n", p->label, p->name,
			       p->memory_mib, p->vcpus, fits, p->description);
	}
	if (!hv)
		fprintf(stderr, "keel: starter: %s\n", why);
	else
		printf("free memory: %llu MiB\n", (unsigned long long)
		       (st->sample.info.mem_pool_free_bytes >> 20));
	return fflush(stdout) ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* `keel starter --start PRESET`: start an instance like Enter does. */
static int cmd_starter_start_one(struct cmd_starter *st, const char *label)
{
	char why[HCALL_WHY_BYTES], name[CONFIG_NAME_MAX + 1], arg[48];
	char *args[] = { "keel", "create", NULL, arg, NULL };
	struct starter_preset *p = NULL;
	uint32_t i;

	cmd_starter_scan(st);
	for (i = 0; i < st->n_presets; i++)
		if (strcmp(st->presets[i].label, label) == 0)
			p = &st->presets[i];
	if (!p) {
		fprintf(stderr, "keel: starter: no preset '%s' in %s (see "
			"'keel starter --list')\n", label, st->o->dir);
		return KEEL_EXIT_FAIL;
	}
	if (hcall_connect(NULL))
		return KEEL_EXIT_FAIL;
	if (cmd_starter_refresh(st, why, sizeof(why)) ||
	    starter_check(p, &st->sample.info, why, sizeof(why))) {
		fprintf(stderr, "keel: starter: %s\n", why);
		return KEEL_EXIT_FAIL;
	}
	if (p->saved) { /* a saved guest: restore it (the file stays) */
		char *rargs[] = { "keel", "restore", p->path, NULL };

		fflush(stdout);
		cmd_starter_exec(rargs);
		return KEEL_EXIT_FAIL;
	}
	if (starter_auto_name(p->name, st->sample.doms, st->sample.n_doms, name,
			      sizeof(name))) {
		fprintf(stderr, "keel: starter: no free name left for %s\n",
			p->name);
		return KEEL_EXIT_FAIL;
	}
	snprintf(arg, sizeof(arg), "name=%s", name);
	args[2] = p->path;
	fflush(stdout);
	cmd_starter_exec(args);
	return KEEL_EXIT_FAIL;
}

/* ---- command line ---- */

/* Report a usage error and return KEEL_EXIT_USAGE. */
static int cmd_starter_usage(const char *what, const char *arg)
{
	fprintf(stderr, "keel: starter: %s%s%s%s; see 'keel help starter'\n",
		what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	return KEEL_EXIT_USAGE;
}

/* Parse the command line into @o. Returns -1 to go on, else an exit code. */
static int cmd_starter_args(int argc, char **argv, struct cmd_starter_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->dir = CONFIG_MEDIUM_DIR;
	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_starter_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool takes = strcmp(a, "-C") == 0 || strcmp(a, "--hint") == 0 ||
			     strcmp(a, "--start") == 0;

		if (strcmp(a, "--list") == 0) {
			o->list = true;
			continue;
		}
		if (!takes)
			return cmd_starter_usage(a[0] == '-' ? "unknown option"
					       : "unexpected argument", a);
		if (i + 1 >= argc)
			return cmd_starter_usage("missing value after", a);
		if (a[1] == 'C')
			o->dir = argv[++i];
		else if (a[2] == 'h')
			o->hint = argv[++i];
		else
			o->start = argv[++i];
	}
	return -1;
}

/* Entry point of `keel starter`. */
static int cmd_starter_run(int argc, char **argv)
{
	struct cmd_starter_opts o;
	struct cmd_starter *st;
	int ret = cmd_starter_args(argc, argv, &o);

	if (ret >= 0)
		return ret;
	st = calloc(1, sizeof(*st));
	if (!st)
		return KEEL_EXIT_FAIL;
	st->o = &o;
	signal(SIGPIPE, SIG_IGN);
	if (o.list)
		ret = cmd_starter_list(st);
	else if (o.start)
		ret = cmd_starter_start_one(st, o.start);
	else
		ret = cmd_starter_interactive(st);
	free(st);
	return ret;
}

/* Command-table entry of `keel starter`. */
const struct keel_cmd cmd_starter_entry = {
	.name = "starter",
	.summary = "Full-screen guest starter: start and manage guests",
	.usage = "Usage: keel starter [-C DIR] [--hint TEXT]\n"
		 "       keel starter [-C DIR] --list\n"
		 "       keel starter [-C DIR] --start PRESET\n"
		 "\n"
		 "List the presets (the *.cfg files of DIR, default\n"
		 CONFIG_MEDIUM_DIR ") with their description, memory,\n"
		 "vCPUs and how many more instances fit in the free memory,\n"
		 "and the running guests. Enter starts the selected preset\n"
		 "with a free name (tiny, then tiny2, tiny3, ...) as\n"
		 "'keel create <cfg> name=<name>' would. In the guest list\n"
		 "(Tab): Enter or c attaches the console (Ctrl-] comes back),\n"
		 "p pauses or unpauses, s shuts down, d destroys (after y),\n"
		 "v saves it to /run/keel/saves (it stops; it then shows as\n"
		 "'<name> [saved]' among the presets, and Enter there resumes\n"
		 "it), n clones it ('keel clone': a copy in an instant, its RAM\n"
		 "shared copy-on-write). Up/Down or j/k move, 1-9 pick a preset, q quits.\n"
		 "\n"
		 "  -C DIR          read the presets from DIR\n"
		 "  --hint TEXT     show TEXT on the last line\n"
		 "  --list          print the presets and how many fit, and exit\n"
		 "  --start PRESET  start one instance of PRESET (its file name\n"
		 "                  without .cfg) with an automatic name, print\n"
		 "                  'Started domain <name> (id=N)', and exit\n",
	.run = cmd_starter_run,
};
