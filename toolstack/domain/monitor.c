/*
 * The per-domain monitor (see monitor.h): a detached process started by
 * `keel create` that watches one domain through KEEL_HC_DOMAIN_LIST and
 * carries out its on_poweroff / on_reboot / on_crash actions. A restart
 * destroys the domain, waits until it has left the list and builds it
 * again from the saved <name>.cfg with the same name; the monitor then
 * follows the new domain id. If a destroy finds the domain already gone
 * or `keel destroy` has marked it, the monitor does not restart it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "domain.h"
#include "fileio.h"
#include "hcall.h"
#include "monitor.h"
#include "netnames.h"

#define MONITOR_GONE_WAIT_POLLS 100u /* 20 s for a destroy to finish */
#define MONITOR_MAX_ERRORS 50u       /* consecutive list failures */
#define MONITOR_CFG_MAX_BYTES (1u << 20)

/* Map a config action to a verdict. */
static enum monitor_verdict monitor_of_action(enum config_action a)
{
	switch (a) {
	case CONFIG_ACTION_RESTART:
		return MONITOR_RESTART;
	case CONFIG_ACTION_PRESERVE:
		return MONITOR_PRESERVE;
	default:
		return MONITOR_DESTROY;
	}
}

/* Decide about a domain's state; see monitor.h. */
enum monitor_verdict monitor_decide(const struct keel_dominfo *d,
				    const struct config *cfg)
{
	if (!d)
		return MONITOR_GONE;
	if (d->state == KEEL_DOMSTATE_CRASHED)
		return monitor_of_action(cfg->on_crash);
	if (d->state != KEEL_DOMSTATE_SHUTDOWN)
		return MONITOR_WAIT;
	if (d->shutdown_reason == KEEL_SHUTDOWN_REBOOT)
		return monitor_of_action(cfg->on_reboot);
	if (d->shutdown_reason == KEEL_SHUTDOWN_CRASH)
		return monitor_of_action(cfg->on_crash);
	return monitor_of_action(cfg->on_poweroff);
}

/* Path of a monitor file; see monitor.h. */
int monitor_path(const char *name, const char *suffix, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s%s", MONITOR_DIR, name, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Write @len bytes of @data to the file "<name><suffix>", replacing it. */
static int monitor_write_file(const char *name, const char *suffix,
			      const char *data, size_t len)
{
	char path[256];

	if (mkdir(MONITOR_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (monitor_path(name, suffix, path, sizeof(path)))
		return -ENAMETOOLONG;
	return file_write_atomic(path, ".tmp", data, len);
}

/* Save the effective config; see monitor.h. */
int monitor_save_config(const struct config *cfg)
{
	char *buf = malloc(MONITOR_CFG_MAX_BYTES);
	int n, ret;

	if (!buf)
		return -ENOMEM;
	n = snprintf(buf, MONITOR_CFG_MAX_BYTES, "# effective configuration "
		     "of domain '%s', saved by 'keel create'\n", cfg->name);
	ret = config_write(cfg, buf + n, MONITOR_CFG_MAX_BYTES - (size_t)n);
	if (ret >= 0)
		ret = monitor_write_file(cfg->name, ".cfg", buf,
					 (size_t)n + (size_t)ret);
	free(buf);
	return ret;
}

/* Mark a domain as being destroyed; see monitor.h. */
int monitor_mark_destroying(const char *name, uint32_t domid)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%u\n", domid);

	return monitor_write_file(name, ".destroying", text, (size_t)n);
}

/* True if `keel destroy` marked domain @domid of @name. */
static int monitor_is_marked(const char *name, uint32_t domid)
{
	char path[256], text[16] = "";
	FILE *f;

	if (monitor_path(name, ".destroying", path, sizeof(path)))
		return 0;
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	return strtoul(text, NULL, 10) == domid;
}

/* Log one line with a timestamp to stderr (the log file). */
static void monitor_log(const char *fmt, ...)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/*
 * Look domain @domid up (ids are never reused; its name may have changed
 * by `keel rename`): 1 with *@out filled if it is listed, 0 if gone,
 * negative on a hypercall error.
 */
static int monitor_lookup(uint32_t domid, struct keel_dominfo *out)
{
	struct keel_dominfo *doms;
	uint32_t n, i;
	int ret, found = 0;

	ret = domain_list_get(&doms, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (doms[i].domid == domid) {
			*out = doms[i];
			found = 1;
		}
	}
	free(doms);
	return found;
}

/* Read the saved config of a domain; see monitor.h. */
int monitor_read_config(const char *name, struct config *cfg, char *err,
			size_t err_len)
{
	char path[256];
	char *buf = malloc(MONITOR_CFG_MAX_BYTES);
	size_t n;
	FILE *f;
	int ret;

	if (!buf || monitor_path(name, ".cfg", path, sizeof(path))) {
		free(buf);
		snprintf(err, err_len, "no memory, or name too long");
		return -ENOMEM;
	}
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		free(buf);
		snprintf(err, err_len, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	n = fread(buf, 1, MONITOR_CFG_MAX_BYTES, f);
	fclose(f);
	config_init(cfg);
	ret = config_parse(cfg, buf, n, path, NULL, err, err_len);
	if (!ret)
		ret = config_check(cfg, path, err, err_len);
	free(buf);
	return ret;
}

/* Load the saved config of @name into @cfg, logging why not. */
static int monitor_load_config(const char *name, struct config *cfg)
{
	char err[CONFIG_ERR_BYTES];
	int ret = monitor_read_config(name, cfg, err, sizeof(err));

	if (ret)
		monitor_log("%s", err);
	return ret;
}

/* Destroy @domid and wait until it has left the list. 0 if it is gone. */
static int monitor_destroy(uint32_t domid)
{
	struct keel_dominfo d;
	uint32_t i;
	int ret = domain_ctl(domid, KEEL_DOMCTL_DESTROY);

	if (ret == -KEEL_ENOENT)
		return -ENOENT;
	if (ret) {
		monitor_log("destroy of id %u failed: %s", domid, strerror(-ret));
		return ret;
	}
	for (i = 0; i < MONITOR_GONE_WAIT_POLLS; i++) {
		if (monitor_lookup(domid, &d) == 0)
			return 0;
		usleep(MONITOR_POLL_MS * 1000u);
	}
	return -EBUSY;
}

/* Restart: destroy @*domid, build again from the saved config. 0 or error. */
static int monitor_restart(struct config *cfg, uint32_t *domid)
{
	char err[BUILD_ERR_BYTES];
	uint32_t id;
	int ret;

	if (monitor_is_marked(cfg->name, *domid)) {
		monitor_log("id %u is being destroyed by 'keel destroy': no "
			    "restart", *domid);
		return -ECANCELED;
	}
	ret = monitor_destroy(*domid);
	if (ret == -ENOENT)
		monitor_log("id %u was destroyed by someone else: no restart",
			    *domid);
	if (ret)
		return ret;
	ret = monitor_load_config(cfg->name, cfg);
	if (ret) {
		netnames_remove(cfg->name); /* not restarted: no netd names */
		return ret;
	}
	ret = build_domain(cfg, &id, err, sizeof(err));
	if (ret) {
		monitor_log("restart failed: %s", err);
		netnames_remove(cfg->name); /* not restarted: no netd names */
		return ret;
	}
	monitor_log("restarted '%s' as id %u", cfg->name, id);
	*domid = id;
	return 0;
}

/* Act on verdict @v for @d. Returns 1 to keep watching, 0 to exit. */
static int monitor_act(enum monitor_verdict v, struct config *cfg,
		       uint32_t *domid, int *preserved)
{
	const char *why = "stopped";

	switch (v) {
	case MONITOR_WAIT:
		*preserved = 0;
		return 1;
	case MONITOR_GONE:
		monitor_log("id %u is gone: monitor exits", *domid);
		return 0;
	case MONITOR_PRESERVE:
		if (!*preserved)
			monitor_log("id %u %s: preserved (destroy it with 'keel "
				    "destroy %s')", *domid, why, cfg->name);
		*preserved = 1;
		return 1;
	case MONITOR_DESTROY:
		monitor_log("id %u %s: destroying it", *domid, why);
		if (monitor_destroy(*domid) == 0)
			netnames_remove(cfg->name); /* no netd names any more */
		return 1; /* exits at the next poll, when it is gone */
	case MONITOR_RESTART:
		monitor_log("id %u %s: restarting it", *domid, why);
		return monitor_restart(cfg, domid) == 0;
	}
	return 0;
}

/* Take on the name @d has now if `keel rename` changed it: the saved
 * config and the log were moved by the rename, and a restart builds the
 * domain again under the new name. */
static void monitor_follow_rename(struct config *cfg,
				  const struct keel_dominfo *d)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];

	memcpy(name, d->name, sizeof(d->name)); /* a guest's: not Domain-0 */
	name[sizeof(d->name)] = '\0';
	if (strcmp(name, cfg->name) == 0 || !config_name_ok(name))
		return;
	monitor_log("id %u renamed from '%s' to '%s'", d->domid, cfg->name, name);
	memcpy(cfg->name, name, strlen(name) + 1); /* config_name_ok: it fits */
}

/* The monitor's main loop; returns the process exit status. */
static int monitor_loop(struct config *cfg, uint32_t domid)
{
	struct keel_dominfo d;
	uint32_t errors = 0;
	int preserved = 0, ret;

	monitor_log("watching '%s' (id %u): on_poweroff=%s on_reboot=%s "
		    "on_crash=%s", cfg->name, domid,
		    config_action_name(cfg->on_poweroff),
		    config_action_name(cfg->on_reboot),
		    config_action_name(cfg->on_crash));
	for (;;) {
		ret = monitor_lookup(domid, &d);
		if (ret > 0)
			monitor_follow_rename(cfg, &d);
		if (ret < 0) {
			if (++errors >= MONITOR_MAX_ERRORS) {
				monitor_log("domain list failed %u times: %s; "
					    "monitor exits", errors,
					    strerror(-ret));
				return 1;
			}
		} else {
			errors = 0;
			if (d.state == KEEL_DOMSTATE_SHUTDOWN ||
			    d.state == KEEL_DOMSTATE_CRASHED)
				monitor_log("id %u: state %u, reason %s", domid,
					    d.state, domain_reason_name(
					    d.shutdown_reason));
			if (!monitor_act(monitor_decide(ret ? &d : NULL, cfg),
					 cfg, &domid, &preserved))
				return 0;
		}
		usleep(MONITOR_POLL_MS * 1000u);
	}
}

/* Detach the grandchild: new fds 0-2, log file, no controlling tty. */
static void monitor_detach(const char *name)
{
	char path[256];
	int fd, i;

	hcall_close();
	for (i = 0; i < 1024; i++)
		close(i);
	/* not the handlers of the command that started it (keel migrate-receive) */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	fd = open("/dev/null", O_RDWR);
	if (fd != 0 && fd >= 0)
		dup2(fd, 0);
	fd = -1;
	if (!monitor_path(name, ".log", path, sizeof(path)))
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	if (chdir("/") < 0)
		_exit(1);
}

/* Start the detached monitor; see monitor.h. */
int monitor_start(const struct config *cfg, uint32_t domid)
{
	static struct config child_cfg; /* the monitor's copy */
	int status;
	pid_t pid;

	if (mkdir(MONITOR_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		if (waitpid(pid, &status, 0) < 0)
			return -errno;
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0
								      : -ECHILD;
	}
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid != 0)
		_exit(pid < 0 ? 1 : 0);
	child_cfg = *cfg;
	monitor_detach(cfg->name);
	_exit(monitor_loop(&child_cfg, domid));
}
