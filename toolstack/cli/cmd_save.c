/*
 * `keel save` and `keel restore`, as xl's: save writes a guest's config,
 * RAM and vCPU and device state to a file (savefile.h) and, unless -c,
 * destroys the guest; restore checks the whole file before it makes
 * anything, then builds the guest again from the saved config (with
 * key=value overrides), fills its RAM, loads its state and lets it go on
 * where it stopped. A save that fails leaves the guest running and no
 * file; a restore that fails leaves no domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
#include "savefile.h"
#include "restore_stream.h"
#include "save_ram.h"
#include "save_stream.h"
#include "guest_state.h"

/* Save guest j->d to @path through "<path>.part"; prints errors. */
static int save_to_file(struct save_job *j, const char *path)
{
	char part[PATH_MAX];
	struct save_out o = { 0 };
	int ret;

	if (snprintf(part, sizeof(part), "%s.part", path) >= (int)sizeof(part)) {
		fprintf(stderr, "keel: save: file name too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	o.f = fopen(part, "wbx");
	if (!o.f) {
		ret = -errno;
		fprintf(stderr, "keel: save: cannot create '%s': %s\n", part, strerror(errno));
		return ret;
	}
	save_write_head(&o, j);
	ret = save_write_body(&o, j);
	if (!ret && (fflush(o.f) || fsync(fileno(o.f))))
		ret = -errno;
	if (fclose(o.f) && !ret)
		ret = -errno;
	if (!ret && rename(part, path))
		ret = -errno;
	if (ret) {
		unlink(part);
		if (j->reported)
			return ret;
		if (ret == -KEEL_EBUSY || ret == -KEEL_EFAULT)
			hcall_report(j->live ? "KEEL_HC_DOMAIN_MEMREAD or _DIRTY" :
				     "KEEL_HC_DOMAIN_MEMREAD", ret);
		else
			fprintf(stderr, "keel: save: cannot write '%s': %s\n", path,
				strerror(-ret));
	}
	return ret;
}

/* Body of `keel save`: pause (or, @live, copy it running first), capture,
 * write, then destroy (or, with @keep, let it run again). */
static int save_do(const char *word, const char *path, bool keep, bool live)
{
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	char *cfg_text = malloc(SAVE_CFG_TEXT_BYTES);
	struct save_job j = { 0 };
	struct keel_dominfo d;
	struct stat sb;
	uint64_t paused_us = 0;
	bool was_paused, we_paused;
	int ret = -EINVAL;

	j.state = malloc(KEEL_HC_MAX_ARG);
	if (!cfg_text || !j.state)
		goto out;
	if (stat(path, &sb) == 0) {
		fprintf(stderr, "keel: save: '%s' exists; give a new file name (nothing "
			"is overwritten)\n", path);
		goto out;
	}
	j.verb = "save";
	if (save_pick_guest(&j, word, &d, name, cfg_text))
		goto out;
	was_paused = d.state == KEEL_DOMSTATE_PAUSED;
	j.live = live && !was_paused; /* a paused guest has nothing to copy live */
	if (j.live)
		ret = save_live_start(d.domid, "save", name);
	else if (!was_paused && (ret = domain_ctl(d.domid, KEEL_DOMCTL_PAUSE)))
		hcall_report("KEEL_HC_DOMAIN_CTL", ret);
	if (ret)
		goto out;
	ret = save_to_file(&j, path);
	we_paused = j.live ? j.rep.paused : !was_paused;
	if (j.live) {
		save_live_stop(d.domid);
		if (j.rep.paused)
			paused_us = save_now_us() - j.rep.pause_us;
	}
	if (ret || keep) {
		if (we_paused)
			domain_ctl(d.domid, KEEL_DOMCTL_UNPAUSE);
		if (ret)
			goto out;
	} else {
		ret = save_drop_source(d.domid, name);
	}
	if (!ret) {
		printf("Saved domain %s to %s (%llu MiB of RAM)%s\n", name, path,
		       (unsigned long long)(d.mem_bytes >> 20),
		       keep ? "; it goes on running" : "");
		if (j.live)
			save_live_print(&j, paused_us);
	}
out:
	free(cfg_text);
	free(j.state);
	return ret ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* Entry point of `keel save [-c] [--live] <domain> <file>`. */
static int save_run(int argc, char **argv)
{
	bool keep = false, live = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_save_entry);
			return KEEL_EXIT_OK;
		}
	}
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "-c") == 0)
			keep = true;
		else if (strcmp(argv[i], "--live") == 0 || strcmp(argv[i], "-l") == 0)
			live = true;
		else
			return keel_usage_error("save", "unknown option", argv[i]);
	}
	if (argc - i < 2)
		return keel_usage_error("save", argc - i < 1 ? "missing domain name or id" :
					"missing file name", NULL);
	if (argc - i > 2)
		return keel_usage_error("save", "unexpected argument", argv[i + 2]);
	return save_do(argv[i], argv[i + 1], keep, live);
}

/* Command-table entry of `keel save`. */
const struct keel_cmd cmd_save_entry = {
	.name = "save",
	.summary = "Save a running guest to a file (and stop it)",
	.usage = "Usage: keel save [-c] [--live] <domain> <file>\n"
		 "\n"
		 "Pause the guest, write its config, RAM (all-zero pages left out)\n"
		 "and vCPU and device state to <file>, then destroy it, as xl save.\n"
		 "<file> must not exist; it appears only when complete, so a\n"
		 "failed save leaves the guest running and no file. Restore it\n"
		 "with 'keel restore <file>'.\n"
		 "\n"
		 "  -c         keep the guest running after the save (a checkpoint)\n"
		 "  -l, --live copy the RAM while the guest runs, then in rounds the\n"
		 "             pages it wrote meanwhile, and pause it only for the\n"
		 "             last few (the pre-copy of live migration); prints the\n"
		 "             rounds and how long the guest was paused. Refused for\n"
		 "             a guest that shares memory with a clone or has given\n"
		 "             memory back through its balloon.\n"
		 "\n"
		 "Works on AMD-V and Intel VT-x. Not yet: guests with a writable RAM\n"
		 "disk (ram:), and restoring after the hypervisor rebooted\n"
		 "(docs/save-restore.md).\n",
	.run = save_run,
};

/* ---- reading ---- */

/* ---- reading ---- */

/* Pass 1: read the whole file, checking every section, and keep its
 * CONFIG and STATE. 0, or -EINVAL with the message in @err. */
static int restore_check(struct restore_file *r, char *err, size_t err_len)
{
	struct savefile_section sec;
	uint64_t end_at = 0;
	bool have_end = false;
	int ret;

	while ((ret = restore_next(r, &sec, err, err_len)) == 1) {
		uint64_t at = r->pos - sizeof(sec) - sec.length - savefile_pad(sec.length);

		if (have_end) {
			snprintf(err, err_len, "it is damaged: data follows its END section");
			return -EINVAL;
		}
		if (sec.type == SAVEFILE_SEC_CONFIG && !r->cfg_text) {
			if (!(r->cfg_text = (char *)restore_keep(r->payload, sec.length)))
				return -ENOMEM;
		} else if (sec.type == SAVEFILE_SEC_STATE && !r->state) {
			if (!(r->state = restore_keep(r->payload, sec.length)))
				return -ENOMEM;
			r->state_len = sec.length;
		} else if (sec.type == SAVEFILE_SEC_CONSOLE && !r->console) {
			if (!(r->console = restore_keep(r->payload, sec.length)))
				return -ENOMEM;
			r->console_len = sec.length;
		} else if (sec.type == SAVEFILE_SEC_END) {
			memcpy(&end_at, r->payload, sizeof(end_at));
			if (end_at != at) {
				snprintf(err, err_len, "it is damaged: its END section says %llu "
					 "bytes come before it, and %llu do",
					 (unsigned long long)end_at, (unsigned long long)at);
				return -EINVAL;
			}
			have_end = true;
		} else if (sec.type != SAVEFILE_SEC_RAM && sec.type != SAVEFILE_SEC_RAM_PAGES) {
			snprintf(err, err_len, "it is damaged: a second %s section at byte %llu",
				 savefile_section_name(sec.type), (unsigned long long)at);
			return -EINVAL;
		}
	}
	if (ret < 0)
		return ret;
	if (!have_end) {
		snprintf(err, err_len, "it is truncated: it ends at byte %llu without its END "
			 "section", (unsigned long long)r->pos);
		return -EINVAL;
	}
	if (!r->cfg_text || !r->state) {
		snprintf(err, err_len, "it is damaged: it has no %s section",
			 r->cfg_text ? "STATE" : "CONFIG");
		return -EINVAL;
	}
	return 0;
}

/* Open @path and run pass 1 against this hypervisor's @abi. Prints. */
static int restore_open(struct restore_file *r, const char *path, uint32_t abi)
{
	char err[BUILD_ERR_BYTES];
	int ret;

	memset(r, 0, sizeof(*r));
	r->path = path;
	r->verb = "restore";
	r->payload = malloc(savefile_section_max(SAVEFILE_SEC_RAM));
	if (!r->payload)
		return -ENOMEM;
	r->f = fopen(path, "rb");
	if (!r->f) {
		ret = -errno;
		fprintf(stderr, "keel: restore: cannot read '%s': %s\n", path, strerror(errno));
		return ret;
	}
	if (fread(&r->h, 1, sizeof(r->h), r->f) != sizeof(r->h)) {
		fprintf(stderr, "keel: restore: '%s' is too short to be a Keel save file\n",
			path);
		return -EINVAL;
	}
	r->pos = sizeof(r->h);
	ret = savefile_header_check(&r->h, abi, err, sizeof(err));
	if (!ret)
		ret = restore_check(r, err, sizeof(err));
	if (ret)
		fprintf(stderr, "keel: restore: '%s': %s; nothing was started\n", path, err);
	return ret;
}

/* Pass 2, the loader of build_domain_loaded: RAM sections, then the
 * state, then the start. */
static int restore_load(uint32_t domid, void *ctx, char *err, size_t err_len)
{
	struct restore_file *r = ctx;
	struct savefile_section sec;
	uint8_t *chunk = malloc(SAVEFILE_CHUNK_BYTES);
	struct keel_domain_state *st = malloc(KEEL_HC_MAX_ARG);
	char rerr[BUILD_ERR_BYTES] = "";
	bool tty = isatty(STDERR_FILENO);
	uint64_t done = 0;
	int ret, last = -1;

	if (!chunk || !st) {
		free(chunk);
		free(st);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = restore_macs_free(r->cfg, domid, NULL, err, err_len);
	if (ret) {
		free(chunk);
		free(st);
		return ret;
	}
	if (fseek(r->f, sizeof(r->h), SEEK_SET) == 0)
		r->pos = sizeof(r->h);
	while ((ret = restore_next(r, &sec, rerr, sizeof(rerr))) == 1) {
		ret = 0;
		if (sec.type != SAVEFILE_SEC_RAM && sec.type != SAVEFILE_SEC_RAM_PAGES)
			continue;
		ret = restore_section(r, domid, &sec, chunk, &done, err, err_len);
		if (ret)
			break;
		build_progress(stderr, tty, "restoring", r->path, done, r->h.ram_bytes, &last);
	}
	if (ret == -EINVAL && rerr[0])  /* pass 1 read it whole */
		snprintf(err, err_len, "'%s' changed while it was read: %s", r->path, rerr);
	if (ret == 0)
		ret = gstate_start(domid, r->state, r->state_len, r->console, r->console_len,
				   (uint8_t *)st, r->path, err, err_len);
	free(chunk);
	free(st);
	return ret;
}

/* Body of `keel restore`. */
static int restore_do(const char *path, char **ov, int n)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct restore_file r;
	struct build_loader ld = { restore_load, &r, false, 0 };
	char err[BUILD_ERR_BYTES] = "";
	uint32_t abi = 0, domid;
	int ret = -ENOMEM;

	memset(&r, 0, sizeof(r));
	if (!cfg || hcall_connect(&abi))
		goto out;
	ret = restore_open(&r, path, abi);
	if (!ret)
		ret = restore_config(&r, ov, n, cfg);
	if (ret)
		goto out;
	r.cfg = cfg;
	ret = build_domain_loaded(cfg, &ld, &domid, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "keel: restore: %s\n", err);
		goto out;
	}
	cmd_domain_adopt(cfg, domid, "restore");
	printf("Restored domain %s (id=%u) from %s\n", cfg->name, domid, path);
out:
	restore_close(&r);
	free(cfg);
	return ret ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* Entry point of `keel restore <file> [key=value ...]`. */
static int restore_run(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_restore_entry);
			return KEEL_EXIT_OK;
		}
	}
	if (argc < 2)
		return keel_usage_error("restore", "missing file name", NULL);
	if (argv[1][0] == '-' && argv[1][1])
		return keel_usage_error("restore", "unknown option", argv[1]);
	for (i = 2; i < argc; i++)
		if (!strchr(argv[i], '='))
			return keel_usage_error("restore", "expected key=value, got", argv[i]);
	return restore_do(argv[1], argv + 2, argc - 2);
}

/* Command-table entry of `keel restore`. */
const struct keel_cmd cmd_restore_entry = {
	.name = "restore",
	.summary = "Start a guest again from a file 'keel save' wrote",
	.usage = "Usage: keel restore <file> [key=value ...]\n"
		 "\n"
		 "Check the whole file (every section's checksum, its end) before\n"
		 "anything is made, then build the guest from its saved config,\n"
		 "fill its RAM, load its vCPU and device state and let it run on\n"
		 "where it stopped: its programs, files in RAM and clock go on.\n"
		 "key=value overrides the saved config, e.g. name=copy to run it\n"
		 "beside another guest of the same name (its MAC stays the saved\n"
		 "one); memory and vcpus cannot change.\n"
		 "A file saved before the hypervisor last rebooted, or on another\n"
		 "machine, goes on with the guest's clock where it was saved.\n"
		 "Refused, with nothing made: a truncated or damaged file, one from\n"
		 "another hypervisor ABI, too little free memory, and a guest whose\n"
		 "TSC ran more than 0.1 % faster or slower than this machine's.\n",
	.run = restore_run,
};