/*
 * `keel rename <domain> <new-name>`, as `xl rename`: the hypervisor
 * renames the guest (KEEL_HC_DOMAIN_RENAME, ABI 1.9, which keeps names
 * unique), and the toolstack moves what it keeps under the name: the
 * monitor's saved config (with its name = line changed) and log in
 * /run/keel, and the netd name registry entry, so the guest's DNS name
 * follows. The domain's monitor notices the new name on its next poll and
 * restarts the domain under it. The new config is written before the
 * hypercall, so a monitor that sees the new name always finds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "args.h"
#include "config.h"
#include "domain.h"
#include "hcall.h"
#include "keel.h"
#include "monitor.h"
#include "netnames.h"

/* Remove MONITOR_DIR/<name><suffix>, if it is there. */
static void rename_unlink(const char *name, const char *suffix)
{
	char path[256];

	if (monitor_path(name, suffix, path, sizeof(path)) == 0)
		unlink(path);
}

/* Move MONITOR_DIR/<old><suffix> to <new_name><suffix>; warns on failure. */
static void rename_move(const char *old, const char *new_name, const char *suffix)
{
	char from[256], to[256];

	if (monitor_path(old, suffix, from, sizeof(from)) ||
	    monitor_path(new_name, suffix, to, sizeof(to)))
		return;
	if (rename(from, to) < 0 && errno != ENOENT)
		fprintf(stderr, "keel: rename: warning: cannot move %s to %s: %s\n",
			from, to, strerror(errno));
}

/*
 * Save domain @old's config under @new_name before the rename. Returns 1
 * if it was saved, 0 if the domain has no saved config (it was not made
 * by `keel create`), -1 on an error (printed).
 */
static int rename_save_config(const char *old, const char *new_name)
{
	struct config *cfg = malloc(sizeof(*cfg));
	char err[CONFIG_ERR_BYTES];
	int ret;

	if (!cfg) {
		fprintf(stderr, "keel: rename: out of memory\n");
		return -1;
	}
	ret = monitor_read_config(old, cfg, err, sizeof(err));
	if (ret == -ENOENT) {
		free(cfg);
		return 0;
	}
	if (ret == 0) {
		memcpy(cfg->name, new_name, strlen(new_name) + 1);
		ret = monitor_save_config(cfg);
		snprintf(err, sizeof(err), "cannot save " MONITOR_DIR "/%s.cfg: %s",
			 new_name, strerror(-ret));
	}
	free(cfg);
	if (ret == 0)
		return 1;
	fprintf(stderr, "keel: rename: %s; nothing was renamed\n", err);
	return -1;
}

/* Rename domain @d (now called @old) to @new_name; see keel.h. */
int cmd_rename_domain(const struct keel_dominfo *d, const char *old, const char *new_name)
{
	struct keel_dominfo *doms;
	uint32_t n;
	int ret, saved;

	ret = domain_list_get(&doms, &n);
	if (ret) {
		hcall_report("KEEL_HC_DOMAIN_LIST", ret);
		return KEEL_EXIT_FAIL;
	}
	ret = domain_find(doms, n, new_name);
	free(doms);
	if (ret >= 0) {
		fprintf(stderr, "keel: rename: a domain called '%s' exists already; "
			"choose another name\n", new_name);
		return KEEL_EXIT_FAIL;
	}
	saved = rename_save_config(old, new_name);
	if (saved < 0)
		return KEEL_EXIT_FAIL;
	ret = domain_rename(d->domid, new_name);
	if (ret) {
		if (saved)
			rename_unlink(new_name, ".cfg");
		if (ret == -KEEL_EEXIST)
			fprintf(stderr, "keel: rename: a domain called '%s' exists "
				"already; choose another name\n", new_name);
		else if (ret == -KEEL_ENOENT)
			fprintf(stderr, "keel: rename: domain %u is gone\n", d->domid);
		else
			hcall_report("KEEL_HC_DOMAIN_RENAME", ret);
		return KEEL_EXIT_FAIL;
	}
	if (saved)
		rename_unlink(old, ".cfg");
	rename_move(old, new_name, ".log");
	ret = netnames_rename(old, new_name);
	if (ret)
		fprintf(stderr, "keel: rename: warning: the DNS name of '%s' was not "
			"moved: %s\n", new_name, strerror(-ret));
	printf("Renamed domain '%s' (id %u) to '%s'\n", old, d->domid, new_name);
	return KEEL_EXIT_OK;
}

/* Entry point of `keel rename <domain> <new-name>`. */
static int cmd_rename_run(int argc, char **argv)
{
	char old[KEEL_DOMAIN_NAME_BYTES + 1];
	struct keel_dominfo d;
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_rename_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return keel_usage_error("rename", "unknown option", argv[i]);
	if (argc < 3)
		return keel_usage_error("rename", argc < 2 ? "missing domain name or id" :
					"missing new name", NULL);
	if (argc > 3)
		return keel_usage_error("rename", "unexpected argument", argv[3]);
	if (!config_name_ok(argv[2])) {
		fprintf(stderr, "keel: rename: bad new name '%s' (use 1-%u letters, "
			"digits, '.', '_' or '-', not only digits, and not "
			"Domain-0)\n", argv[2], CONFIG_NAME_MAX);
		return KEEL_EXIT_USAGE;
	}
	if (hcall_connect(NULL) || domain_resolve(argv[1], &d))
		return KEEL_EXIT_FAIL;
	if (d.domid == 0) {
		fprintf(stderr, "keel: rename: Domain-0 cannot be renamed\n");
		return KEEL_EXIT_FAIL;
	}
	domain_name(&d, old, sizeof(old));
	if (strcmp(old, argv[2]) == 0) {
		printf("Domain '%s' (id %u) already has that name\n", old, d.domid);
		return KEEL_EXIT_OK;
	}
	return cmd_rename_domain(&d, old, argv[2]);
}

/* Command-table entry of `keel rename`. */
const struct keel_cmd cmd_rename_entry = {
	.name = "rename",
	.summary = "Give a guest domain a new name",
	.usage = "Usage: keel rename <domain> <new-name>\n"
		 "\n"
		 "Rename a guest (by name or id), as 'xl rename'. The new name\n"
		 "follows the rules of a config's name = (1-31 letters, digits,\n"
		 "'.', '_' or '-', not only digits) and must be free. The saved\n"
		 "config and the monitor's log in " MONITOR_DIR " move with it,\n"
		 "on_reboot/on_crash=restart brings the guest back under the new\n"
		 "name, and its DNS name from 'keel netd' changes at once (the\n"
		 "guest learns its own host name at its next DHCP lease).\n"
		 "Domain-0 cannot be renamed.\n",
	.run = cmd_rename_run,
};
