/*
 * Domain lifecycle commands of `keel`, modelled on xl: create,
 * pause, unpause, destroy, and shutdown/reboot (the guest's ACPI power
 * and sleep buttons, with -w waiting for the effect). `keel create` finds and parses the config, applies
 * key=value overrides, builds the domain, saves the effective config and
 * starts the domain's monitor; `-c` then attaches its console.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "args.h"
#include "build.h"
#include "config.h"
#include "domain.h"
#include "hcall.h"
#include "keel.h"
#include "monitor.h"
#include "netnames.h"

#define CMD_CFG_MAX_BYTES (1u << 20)
#define REQUEST_TIMEOUT_S 120u /* keel shutdown/reboot -w: default limit */
#define REQUEST_REPRESS_S 10u  /* ... and how often the button is pressed */

/* Find the config file for @arg into @path; prints the error itself. */
static int cmd_find_config(const char *arg, char *path, size_t len)
{
	uint32_t i;

	for (i = 0; config_candidate(arg, i, path, len) == 0; i++) {
		if (access(path, F_OK) == 0)
			return 0;
	}
	if (strchr(arg, '/'))
		fprintf(stderr, "keel: create: cannot read config '%s': %s\n",
			arg, strerror(ENOENT));
	else
		fprintf(stderr, "keel: create: no config '%s' (looked for "
			"%s[.cfg] here and in " CONFIG_MEDIUM_DIR "/)\n", arg,
			arg);
	return -ENOENT;
}

/* Read the file @path into a malloc'd buffer; prints errors. */
static char *cmd_read_config(const char *path, size_t *len)
{
	char *buf = malloc(CMD_CFG_MAX_BYTES);
	FILE *f = fopen(path, "r");

	if (!f || !buf) {
		fprintf(stderr, "keel: create: cannot read config '%s': %s\n",
			path, strerror(errno ? errno : ENOMEM));
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	*len = fread(buf, 1, CMD_CFG_MAX_BYTES, f);
	if (ferror(f) || *len == CMD_CFG_MAX_BYTES) {
		fprintf(stderr, "keel: create: cannot read config '%s': %s\n",
			path, ferror(f) ? strerror(errno) : "file too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/*
 * Load the config named by @arg, apply the @n overrides in @ov and check
 * it. Prints errors. Returns 0 or -EINVAL/-ENOENT.
 */
static int cmd_load_config(const char *arg, char **ov, int n,
			   struct config *cfg)
{
	char path[PATH_MAX], abs[PATH_MAX], cwd[PATH_MAX];
	char err[CONFIG_ERR_BYTES];
	size_t len;
	char *text;
	int i, ret;

	if (cmd_find_config(arg, path, sizeof(path)))
		return -ENOENT;
	text = cmd_read_config(path, &len);
	if (!text)
		return -ENOENT;
	if (!realpath(path, abs))
		snprintf(abs, sizeof(abs), "%s", path);
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	config_init(cfg);
	ret = config_parse(cfg, text, len, path, dirname(abs), err,
			   sizeof(err));
	free(text);
	for (i = 0; !ret && i < n; i++)
		ret = config_override(cfg, ov[i], cwd, err, sizeof(err));
	if (!ret)
		ret = config_check(cfg, path, err, sizeof(err));
	if (ret)
		fprintf(stderr, "keel: create: %s\n", err);
	return ret;
}

/*
 * Register the NICs of the new domain @cfg in the name registry for
 * `keel netd` (DHCP hostnames, DNS). Failures only warn.
 */
static void cmd_register_names(const struct config *cfg)
{
	uint8_t macs[KEEL_DOMAIN_MAX_NICS][6];
	char err[BUILD_ERR_BYTES];
	uint32_t i, n = cfg->vif.n;
	int ret = 0;

	if (n > KEEL_DOMAIN_MAX_NICS)
		n = KEEL_DOMAIN_MAX_NICS;
	for (i = 0; i < n && !ret; i++)
		ret = build_vif_mac(cfg->name, i, cfg->vif.items[i], macs[i], err,
				    sizeof(err));
	if (!ret)
		ret = netnames_add(cfg->name, (const uint8_t (*)[6])macs, n);
	if (ret)
		fprintf(stderr, "keel: warning: '%s' is not in the name "
			"registry (%s): no DHCP hostname or DNS name\n",
			cfg->name, strerror(-ret));
}

/* Take a new running domain into the toolstack's care; see keel.h. */
void cmd_domain_adopt(const struct config *cfg, uint32_t domid, const char *cmd)
{
	int ret;

	cmd_register_names(cfg); /* for keel netd; kept across restarts */
	ret = monitor_save_config(cfg);
	if (!ret)
		ret = monitor_start(cfg, domid);
	if (ret)
		fprintf(stderr, "keel: %s: warning: no monitor for '%s' "
			"(%s): on_poweroff/on_reboot/on_crash will not be "
			"applied\n", cmd, cfg->name, strerror(-ret));
}

/* Body of `keel create` once the arguments are known. */
static int cmd_create_do(const char *arg, char **ov, int n, bool console)
{
	char err[BUILD_ERR_BYTES];
	struct config *cfg = calloc(1, sizeof(*cfg));
	uint32_t domid;
	int ret;

	if (!cfg || cmd_load_config(arg, ov, n, cfg)) {
		free(cfg);
		return KEEL_EXIT_FAIL;
	}
	if (hcall_connect(NULL)) {
		free(cfg);
		return KEEL_EXIT_FAIL;
	}
	ret = build_domain(cfg, &domid, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "keel: create: %s\n", err);
		free(cfg);
		return KEEL_EXIT_FAIL;
	}
	cmd_domain_adopt(cfg, domid, "create");
	printf("Started domain %s (id=%u)\n", cfg->name, domid);
	fflush(stdout);
	ret = console ? cmd_console_attach(domid, cfg->name) : KEEL_EXIT_OK;
	free(cfg);
	return ret;
}

/* Entry point of `keel create [-c] <cfg> [key=value ...]`. */
static int cmd_create_run(int argc, char **argv)
{
	bool console = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_create_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-c") != 0)
			return keel_usage_error("create", "unknown option",
					       argv[i]);
		console = true;
	}
	if (i >= argc)
		return keel_usage_error("create", "missing config file", NULL);
	for (int j = i + 1; j < argc; j++) {
		if (!strchr(argv[j], '='))
			return keel_usage_error("create", "expected key=value, "
					       "got", argv[j]);
	}
	return cmd_create_do(argv[i], argv + i + 1, argc - i - 1, console);
}

/* Command-table entry of `keel create`. */
const struct keel_cmd cmd_create_entry = {
	.name = "create",
	.summary = "Create and start a guest domain from a config file",
	.usage = "Usage: keel create [-c] <config> [key=value ...]\n"
		 "\n"
		 "Build a guest from <config> (xl-style, see docs/config.md),\n"
		 "start it and print 'Started domain <name> (id=N)'.\n"
		 "<config> is a path, or a bare name looked up as <name> and\n"
		 "<name>.cfg in the current directory, then in\n"
		 CONFIG_MEDIUM_DIR "/ (so 'keel create tiny' works).\n"
		 "key=value arguments override the file, e.g.\n"
		 "  keel create tiny name=tiny2 memory=256\n"
		 "A monitor process applies on_poweroff/on_reboot/on_crash;\n"
		 "it logs to " MONITOR_DIR "/<name>.log.\n"
		 "\n"
		 "  -c   attach the console right after starting (Ctrl-] detaches)\n",
	.run = cmd_create_run,
};

/*
 * Parse `keel <cmd> <domain>`: exactly one non-option argument.
 * Returns -1 to go on with *@word set, else the exit code to return.
 */
static int cmd_one_domain_args(const struct keel_cmd *cmd, int argc,
			       char **argv, const char **word)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(cmd);
			return KEEL_EXIT_OK;
		}
	}
	if (argc < 2)
		return keel_usage_error(cmd->name, "missing domain name or id",
				       NULL);
	if (argv[1][0] == '-' && argv[1][1])
		return keel_usage_error(cmd->name, "unknown option", argv[1]);
	if (argc > 2)
		return keel_usage_error(cmd->name, "unexpected argument",
				       argv[2]);
	*word = argv[1];
	return -1;
}

static int cmd_domctl_run(int argc, char **argv);

/* Run KEEL_DOMCTL_@op on the domain named in argv (pause, unpause,
 * destroy, shutdown, reboot). */
static int cmd_domctl(const struct keel_cmd *cmd, int argc, char **argv,
		      uint32_t op)
{
	struct keel_dominfo d;
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	const char *word = NULL;
	int ret = cmd_one_domain_args(cmd, argc, argv, &word);

	if (ret >= 0)
		return ret;
	if (hcall_connect(NULL) || domain_resolve(word, &d))
		return KEEL_EXIT_FAIL;
	if (d.domid == 0) {
		fprintf(stderr, "keel: %s: refusing to %s Domain-0\n",
			cmd->name, cmd->name);
		return KEEL_EXIT_FAIL;
	}
	domain_name(&d, name, sizeof(name));
	if (op == KEEL_DOMCTL_DESTROY)
		monitor_mark_destroying(name, d.domid);
	ret = domain_ctl(d.domid, op);
	if (ret == -KEEL_ENOENT) {
		fprintf(stderr, "keel: no domain named '%s' (see 'keel "
			"list')\n", word);
		return KEEL_EXIT_FAIL;
	}
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_CTL", ret);
		return KEEL_EXIT_FAIL;
	}
	if (op == KEEL_DOMCTL_DESTROY)
		netnames_remove(name); /* keel netd forgets its names */
	return KEEL_EXIT_OK;
}

/* Command-table entry of `keel pause`. */
const struct keel_cmd cmd_pause_entry = {
	.name = "pause",
	.summary = "Pause a domain (its vCPUs stop running)",
	.usage = "Usage: keel pause <domain>\n"
		 "\n"
		 "Stop scheduling the domain's vCPUs; 'keel unpause' resumes\n"
		 "them. <domain> is a name or a numeric id.\n",
	.run = cmd_domctl_run,
};

/* Command-table entry of `keel unpause`. */
const struct keel_cmd cmd_unpause_entry = {
	.name = "unpause",
	.summary = "Resume a paused domain",
	.usage = "Usage: keel unpause <domain>\n"
		 "\n"
		 "Resume a domain paused with 'keel pause'. <domain> is a name\n"
		 "or a numeric id.\n",
	.run = cmd_domctl_run,
};

/* Command-table entry of `keel destroy`. */
const struct keel_cmd cmd_destroy_entry = {
	.name = "destroy",
	.summary = "Stop a domain at once and free its resources",
	.usage = "Usage: keel destroy <domain>\n"
		 "\n"
		 "Kill the domain immediately (like pulling the plug) and give\n"
		 "its memory and CPUs back to the pool. Its monitor exits\n"
		 "without restarting it. <domain> is a name or a numeric id.\n",
	.run = cmd_domctl_run,
};

/* Options of `keel shutdown` and `keel reboot`. */
struct request_opts {
	bool wait;
	uint32_t timeout_s;
	const char *word;
};

/* Parse [-w] [-t SECONDS] <domain>; returns -1 to go on, else the exit
 * code to return. */
static int request_args(const struct keel_cmd *cmd, int argc, char **argv,
			struct request_opts *o)
{
	int i;

	o->wait = false;
	o->timeout_s = REQUEST_TIMEOUT_S;
	o->word = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		unsigned long t;

		if (args_is_help(a)) {
			keel_print_cmd_help(cmd);
			return KEEL_EXIT_OK;
		} else if (!strcmp(a, "-w") || !strcmp(a, "--wait")) {
			o->wait = true;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--timeout")) {
			if (++i == argc)
				return keel_usage_error(cmd->name, "-t needs a number of seconds", NULL);
			errno = 0;
			t = strtoul(argv[i], &end, 10);
			if (errno || *end || end == argv[i] || t == 0 || t > 86400)
				return keel_usage_error(cmd->name, "-t takes seconds from 1 to 86400, not",
						       argv[i]);
			o->timeout_s = (uint32_t)t;
			o->wait = true;
		} else if (a[0] == '-' && a[1]) {
			return keel_usage_error(cmd->name, "unknown option", a);
		} else if (o->word) {
			return keel_usage_error(cmd->name, "unexpected argument", a);
		} else {
			o->word = a;
		}
	}
	if (!o->word)
		return keel_usage_error(cmd->name, "missing domain name or id", NULL);
	return -1;
}

/* The verdict on a request to domain @domid as the list shows it now;
 * KEEL_EXIT_FAIL from the list itself comes back as a negative error. */
static int request_poll(uint32_t domid, enum domain_request_verdict *v)
{
	struct keel_dominfo *doms = NULL;
	uint32_t n, i;
	int ret = domain_list_get(&doms, &n);

	if (ret)
		return ret;
	for (i = 0; i < n && doms[i].domid != domid; i++)
		;
	*v = domain_request_verdict(i < n ? &doms[i] : NULL);
	free(doms);
	return 0;
}

/* Wait until domain @domid (@name) has done what @op asked, pressing the
 * button again every REQUEST_REPRESS_S seconds while it has not: a press
 * its OS missed (one made while it was still booting) must not be lost. */
static int request_wait(const char *name, uint32_t domid, uint32_t op,
			uint32_t timeout_s)
{
	bool reboot = op == KEEL_DOMCTL_REBOOT;
	const char *what = reboot ? "reboot" : "power off";
	enum domain_request_verdict v = DOMAIN_REQUEST_PENDING;
	uint32_t t;
	int ret;

	printf("Waiting up to %u s for %s to %s\n", timeout_s, name, what);
	fflush(stdout);
	for (t = 1; t <= timeout_s; t++) {
		sleep(1);
		ret = request_poll(domid, &v);
		if (ret) {
			hcall_report("KEEL_HC_DOMAIN_LIST", ret);
			return KEEL_EXIT_FAIL;
		}
		if (v != DOMAIN_REQUEST_PENDING)
			break;
		if (t % REQUEST_REPRESS_S == 0 && t < timeout_s) {
			printf("%s has not %s after %u s; pressing its button again\n", name,
			       reboot ? "rebooted" : "powered off", t);
			fflush(stdout);
			domain_ctl(domid, op);
		}
	}
	if (v == DOMAIN_REQUEST_DONE) {
		printf("%s %s after %u s\n", name, reboot ? "rebooted" : "powered off", t);
		return KEEL_EXIT_OK;
	}
	if (v == DOMAIN_REQUEST_CRASHED)
		fprintf(stderr, "keel: %s crashed instead of the %s (see 'keel list')\n",
			name, reboot ? "reboot" : "power-off");
	else
		fprintf(stderr, "keel: %s did not %s within %u s: its OS may not handle "
			"ACPI buttons, or it hangs. Force it off with 'keel destroy %s'.\n",
			name, what, timeout_s, name);
	return KEEL_EXIT_FAIL;
}

/* `keel shutdown` and `keel reboot`: press the button (KEEL_DOMCTL_@op),
 * with -w wait for the effect. */
static int cmd_request(const struct keel_cmd *cmd, int argc, char **argv, uint32_t op)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	struct request_opts o;
	struct keel_dominfo d;
	int ret = request_args(cmd, argc, argv, &o);

	if (ret >= 0)
		return ret;
	if (hcall_connect(NULL) || domain_resolve(o.word, &d))
		return KEEL_EXIT_FAIL;
	domain_name(&d, name, sizeof(name));
	if (d.domid == 0) {
		fprintf(stderr, "keel: %s: refusing to %s Domain-0\n", cmd->name, cmd->name);
		return KEEL_EXIT_FAIL;
	}
	ret = domain_ctl(d.domid, op);
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_CTL", ret);
		return KEEL_EXIT_FAIL;
	}
	if (o.wait)
		return request_wait(name, d.domid, op, o.timeout_s);
	printf("Pressed the ACPI %s button of %s; 'keel %s -w %s' waits until it has %s\n",
	       op == KEEL_DOMCTL_REBOOT ? "sleep" : "power", name, cmd->name, name,
	       op == KEEL_DOMCTL_REBOOT ? "rebooted" : "powered off");
	return KEEL_EXIT_OK;
}

/* Command-table entry of `keel shutdown`. */
const struct keel_cmd cmd_shutdown_entry = {
	.name = "shutdown",
	.summary = "Ask a domain to power off",
	.usage = "Usage: keel shutdown [-w] [-t SECONDS] <domain>\n"
		 "\n"
		 "Press the guest's ACPI power button. A guest that handles it\n"
		 "(Keel's guest images do, from their ready line on: acpid or\n"
		 "systemd-logind) shuts down cleanly and powers off; its\n"
		 "on_poweroff action applies. <domain> is a name or a numeric id.\n"
		 "\n"
		 "  -w, --wait          wait until the domain has powered off,\n"
		 "                      pressing the button again every 10 s while it\n"
		 "                      has not (a guest still booting may miss a press)\n"
		 "  -t, --timeout S     with -w (implied): give up after S seconds\n"
		 "                      (default 120), say so and exit 1; then\n"
		 "                      'keel destroy <domain>' forces it off\n",
	.run = cmd_domctl_run,
};

/* Command-table entry of `keel reboot`. */
const struct keel_cmd cmd_reboot_entry = {
	.name = "reboot",
	.summary = "Ask a domain to reboot",
	.usage = "Usage: keel reboot [-w] [-t SECONDS] <domain>\n"
		 "\n"
		 "Press the guest's ACPI sleep button, which Keel's guest images\n"
		 "map to a clean reboot (PC firmware has no reboot button); the\n"
		 "guest then restarts according to its on_reboot action (under a\n"
		 "new id). Other guests may treat it as suspend or ignore it.\n"
		 "<domain> is a name or a numeric id.\n"
		 "\n"
		 "  -w, --wait          wait until the domain has rebooted (its id\n"
		 "                      is gone), pressing the button again every 10 s\n"
		 "                      while it has not\n"
		 "  -t, --timeout S     with -w (implied): give up after S seconds\n"
		 "                      (default 120), say so and exit 1\n",
	.run = cmd_domctl_run,
};

/* The commands that act on one domain with a KEEL_DOMCTL_* operation:
 * at once (pause, unpause, destroy: cmd_domctl) or by asking the guest
 * through a button, with -w/-t (shutdown, reboot: cmd_request). */
static const struct {
	const struct keel_cmd *entry;
	uint32_t op;
	bool ask_guest;
} domctl_cmds[] = {
	{ &cmd_pause_entry, KEEL_DOMCTL_PAUSE, false },
	{ &cmd_unpause_entry, KEEL_DOMCTL_UNPAUSE, false },
	{ &cmd_destroy_entry, KEEL_DOMCTL_DESTROY, false },
	{ &cmd_shutdown_entry, KEEL_DOMCTL_SHUTDOWN, true },
	{ &cmd_reboot_entry, KEEL_DOMCTL_REBOOT, true },
};

/* Entry point of `keel pause|unpause|destroy|shutdown|reboot <domain>`:
 * argv[0], the command's name, picks the row of domctl_cmds. */
static int cmd_domctl_run(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(domctl_cmds) / sizeof(domctl_cmds[0]); i++) {
		if (strcmp(argv[0], domctl_cmds[i].entry->name))
			continue;
		if (domctl_cmds[i].ask_guest)
			return cmd_request(domctl_cmds[i].entry, argc, argv, domctl_cmds[i].op);
		return cmd_domctl(domctl_cmds[i].entry, argc, argv, domctl_cmds[i].op);
	}
	fprintf(stderr, "keel: %s: not a domain control command\n", argv[0]);
	return KEEL_EXIT_FAIL;
}
