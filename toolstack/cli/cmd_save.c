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
#include "save_ram.h"
#include "guest_state.h"

#define SAVE_CFG_TEXT_BYTES (64u << 10)

/* Give every vif of @cfg the MAC it has now, so the restored guest keeps
 * it even under another name. */
static int save_pin_macs(struct config *cfg, char *err, size_t err_len)
{
	uint32_t i;

	for (i = 0; i < cfg->vif.n; i++) {
		char *item = cfg->vif.items[i];
		char fixed[CONFIG_ITEM_BYTES];
		uint8_t mac[6];
		int ret, n;

		if (strstr(item, "mac="))
			continue;
		ret = build_vif_mac(cfg->name, i, item, mac, err, err_len);
		if (ret)
			return ret;
		n = snprintf(fixed, sizeof(fixed), "mac=%02x:%02x:%02x:%02x:%02x:%02x%s%s",
			     mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], item[0] ? "," : "",
			     item);
		if (n < 0 || (size_t)n >= sizeof(fixed)) {
			snprintf(err, err_len, "vif %u: '%s' is too long to add its MAC", i, item);
			return -ENOSPC;
		}
		memcpy(item, fixed, (size_t)n + 1);
	}
	return 0;
}

/* The config text of guest @name (its saved config, MACs pinned). */
static int save_config_text(const char *name, char *text, size_t len)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	char err[BUILD_ERR_BYTES];
	int ret;

	if (!cfg)
		return -ENOMEM;
	ret = monitor_read_config(name, cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "keel: save: no saved config for '%s' (%s); only guests "
			"started with 'keel create' can be saved\n", name, err);
		free(cfg);
		return ret;
	}
	ret = save_pin_macs(cfg, err, sizeof(err));
	if (ret)
		fprintf(stderr, "keel: save: %s\n", err);
	else if ((ret = config_write(cfg, text, len)) < 0)
		fprintf(stderr, "keel: save: the config of '%s' is too large\n", name);
	free(cfg);
	return ret < 0 ? ret : 0;
}

/* The CONSOLE section, if the console printed anything. */
static int save_console_section(struct save_out *o, uint32_t domid)
{
	uint8_t *text = malloc(SAVEFILE_CONSOLE_MAX_BYTES), *buf = malloc(KEEL_HC_MAX_ARG);
	uint32_t len = 0;
	int ret = text && buf ? gstate_console_read(domid, text, SAVEFILE_CONSOLE_MAX_BYTES, &len, buf) : -ENOMEM;

	if (!ret && len)
		out_section(o, SAVEFILE_SEC_CONSOLE, text, len);
	free(text);
	free(buf);
	return ret;
}

/* One `keel save`: the guest, what to write and how it went. */
struct save_job {
	const struct keel_dominfo *d;
	const char *name;
	uint32_t abi;
	const char *cfg_text;
	uint8_t *state;                 /* KEEL_HC_MAX_ARG bytes */
	bool live;                      /* copy it while it runs (--live) */
	bool reported;                  /* an error was printed already */
	struct save_live_report rep;
};

/* Write the whole save file to @o: the RAM (live: in rounds, and the guest
 * paused at the end), then the state of the paused guest. */
static int save_write(struct save_out *o, struct save_job *j)
{
	const struct keel_dominfo *d = j->d;
	const struct keel_domain_state *st = (const void *)j->state;
	struct savefile_header h;
	uint64_t before_end;
	int ret;

	/* all its vCPUs, also those not plugged in (keel vcpu-set) */
	savefile_header_init(&h, j->abi, (uint64_t)time(NULL), d->mem_bytes,
			     d->max_vcpus > d->nr_vcpus ? d->max_vcpus : d->nr_vcpus);
	out_bytes(o, &h, sizeof(h));
	out_section(o, SAVEFILE_SEC_CONFIG, j->cfg_text, strlen(j->cfg_text));
	if (j->live)
		ret = save_ram_live(o, d->domid, j->name, d->mem_bytes, &j->rep);
	else
		ret = save_ram(o, d->domid, j->name, d->mem_bytes);
	if (ret)
		return ret;
	ret = gstate_get(d->domid, j->name, "save", j->state);
	if (ret) {
		j->reported = true;
		return ret;
	}
	out_section(o, SAVEFILE_SEC_STATE, st + 1, st->len);
	ret = save_console_section(o, d->domid);
	if (ret)
		return ret;
	before_end = o->pos;
	out_section(o, SAVEFILE_SEC_END, &before_end, sizeof(before_end));
	return o->err;
}

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
	ret = save_write(&o, j);
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

/* The line that says what a live save did. */
static void save_live_print(const struct save_job *j, uint64_t paused_us)
{
	const struct precopy *pc = &j->rep.pc;

	printf("Live: %u round(s) after the first full copy, %llu page(s) copied again "
	       "while it ran; paused for %llu ms to copy the last %llu page(s) and its state\n",
	       pc->rounds, (unsigned long long)pc->sent_pages - j->rep.final_pages,
	       (unsigned long long)(paused_us / 1000), (unsigned long long)j->rep.final_pages);
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
	if (hcall_connect(&j.abi) || domain_resolve(word, &d))
		goto out;
	domain_name(&d, name, sizeof(name));
	if (d.domid == 0) {
		fprintf(stderr, "keel: save: Domain-0 cannot be saved\n");
		goto out;
	}
	if (d.state != KEEL_DOMSTATE_RUNNING && d.state != KEEL_DOMSTATE_BLOCKED &&
	    d.state != KEEL_DOMSTATE_PAUSED) {
		fprintf(stderr, "keel: save: '%s' is not running (see 'keel list'); only a "
			"running or paused guest can be saved\n", name);
		goto out;
	}
	if (save_config_text(name, cfg_text, SAVE_CFG_TEXT_BYTES))
		goto out;
	j.d = &d;
	j.name = name;
	j.cfg_text = cfg_text;
	was_paused = d.state == KEEL_DOMSTATE_PAUSED;
	j.live = live && !was_paused; /* a paused guest has nothing to copy live */
	if (j.live)
		ret = save_live_start(d.domid, name);
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
		monitor_mark_destroying(name, d.domid);
		ret = domain_ctl(d.domid, KEEL_DOMCTL_DESTROY);
		if (ret)
			hcall_report("KEEL_HC_DOMAIN_CTL", ret);
		netnames_remove(name);
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

/* A save file being read: where it is and what pass 1 found. */
struct restore_file {
	const char *path;
	FILE *f;
	uint64_t pos;
	struct savefile_header h;
	char *cfg_text;          /* CONFIG, NUL-terminated */
	uint8_t *state;          /* STATE */
	uint64_t state_len;
	uint8_t *console;        /* CONSOLE, or NULL */
	uint64_t console_len;
	uint8_t *payload;        /* room for the largest section */
	const struct config *cfg; /* the guest being restored */
};

/* Read the next section into r->payload; *@sec its header. 1 read, 0 at
 * the end of the file, or -EINVAL with the message in @err. */
static int restore_next(struct restore_file *r, struct savefile_section *sec, char *err,
			size_t err_len)
{
	uint64_t at = r->pos, pad;
	uint8_t padding[SAVEFILE_ALIGN];
	size_t got = fread(sec, 1, sizeof(*sec), r->f);

	if (got == 0 && feof(r->f))
		return 0;
	if (got != sizeof(*sec)) {
		snprintf(err, err_len, "it is truncated: it ends at byte %llu, inside a "
			 "section header", (unsigned long long)(at + got));
		return -EINVAL;
	}
	if (sec->length > savefile_section_max(sec->type)) {
		snprintf(err, err_len, "it is damaged: at byte %llu a section of type %u "
			 "(%s) claims %llu bytes", (unsigned long long)at, sec->type,
			 savefile_section_name(sec->type), (unsigned long long)sec->length);
		return -EINVAL;
	}
	pad = savefile_pad(sec->length);
	got = fread(r->payload, 1, sec->length, r->f);
	if (got == sec->length && pad)
		got += fread(padding, 1, pad, r->f);
	if (got != sec->length + pad) {
		snprintf(err, err_len, "it is truncated: it ends at byte %llu, inside its %s "
			 "section that begins at byte %llu",
			 (unsigned long long)(at + sizeof(*sec) + got),
			 savefile_section_name(sec->type), (unsigned long long)at);
		return -EINVAL;
	}
	if (savefile_crc32(0, r->payload, sec->length) != sec->crc) {
		snprintf(err, err_len, "it is damaged: its %s section at byte %llu fails "
			 "its checksum", savefile_section_name(sec->type), (unsigned long long)at);
		return -EINVAL;
	}
	r->pos += sizeof(*sec) + sec->length + pad;
	return 1;
}

/* A copy of the @len bytes at @p with a NUL after them (so a text
 * section reads as a string), or NULL without memory. */
static uint8_t *restore_keep(const uint8_t *p, uint64_t len)
{
	uint8_t *copy = malloc(len + 1);

	if (copy) {
		memcpy(copy, p, len);
		copy[len] = 0;
	}
	return copy;
}

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

static void restore_close(struct restore_file *r)
{
	if (r->f)
		fclose(r->f);
	free(r->cfg_text);
	free(r->state);
	free(r->console);
	free(r->payload);
}

/* The saved config with the @n overrides in @ov; it must keep the saved
 * guest's RAM and vCPUs. Prints errors. */
static int restore_config(const struct restore_file *r, char **ov, int n, struct config *cfg)
{
	char err[CONFIG_ERR_BYTES], cwd[PATH_MAX];
	int i, ret;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	config_init(cfg);
	ret = config_parse(cfg, r->cfg_text, strlen(r->cfg_text), r->path, NULL, err,
			   sizeof(err));
	for (i = 0; !ret && i < n; i++)
		ret = config_override(cfg, ov[i], cwd, err, sizeof(err));
	if (!ret)
		ret = config_check(cfg, r->path, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "keel: restore: %s\n", err);
		return ret;
	}
	if (build_mem_bytes(cfg->memory_mib) != r->h.ram_bytes ||
	    (cfg->maxvcpus > cfg->vcpus ? cfg->maxvcpus : cfg->vcpus) != r->h.nr_vcpus) {
		fprintf(stderr, "keel: restore: the guest was saved with %llu MiB and %u vCPU(s); "
			"a restored guest keeps them (drop memory=, vcpus= and maxvcpus=)\n",
			(unsigned long long)(r->h.ram_bytes >> 20), r->h.nr_vcpus);
		return -EINVAL;
	}
	return 0;
}

/* Pass 2, the loader of build_domain_loaded: RAM sections, then the
 * state, then the start. */
/* Whether running guest @name (its saved config read into @other) has a
 * NIC with MAC @mac; its name into @err if so. */
static bool restore_mac_taken(const char *name, const uint8_t mac[6], struct config *other,
			      uint32_t nic, char *err, size_t err_len)
{
	char cerr[CONFIG_ERR_BYTES], text[NETNAMES_MAC_TEXT_BYTES];
	uint8_t theirs[6];
	uint32_t j;

	if (monitor_read_config(name, other, cerr, sizeof(cerr)))
		return false;
	for (j = 0; j < other->vif.n; j++) {
		if (build_vif_mac(other->name, j, other->vif.items[j], theirs, cerr, sizeof(cerr)) ||
		    memcmp(theirs, mac, 6))
			continue;
		netnames_mac_format(mac, text);
		snprintf(err, err_len, "its NIC %u has MAC %s, and so has running guest '%s': two "
			 "guests with one MAC cut each other off the network. Save or destroy "
			 "'%s' first (a restored copy cannot take another MAC yet: the guest "
			 "keeps the one it booted with)", nic, text, name, name);
		return true;
	}
	return false;
}

/* Refuse to restore @cfg as new domain @domid while a running guest has
 * one of its MACs. 0, -EEXIST with the message in @err, or -ENOMEM. */
static int restore_macs_free(const struct config *cfg, uint32_t domid, char *err,
			     size_t err_len)
{
	struct config *other = malloc(sizeof(*other));
	char name[KEEL_DOMAIN_NAME_BYTES + 1];
	struct keel_dominfo *doms = NULL;
	uint32_t n = 0, i, k;
	uint8_t mac[6];
	int ret = other && domain_list_get(&doms, &n) == 0 ? 0 : -ENOMEM;

	for (k = 0; !ret && k < cfg->vif.n; k++) {
		if (build_vif_mac(cfg->name, k, cfg->vif.items[k], mac, err, err_len))
			break; /* the builder reports it */
		for (i = 0; i < n && !ret; i++) {
			if (doms[i].domid == 0 || doms[i].domid == domid)
				continue;
			domain_name(&doms[i], name, sizeof(name));
			if (restore_mac_taken(name, mac, other, k, err, err_len))
				ret = -EEXIST;
		}
	}
	if (ret == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	free(doms);
	free(other);
	return ret;
}

/* Write the pages of @chunk (@len bytes at @gpa) whose bit is set in
 * @present (a RAM_PAGES section), a run of them at a time. */
static int restore_pages(uint32_t domid, uint64_t gpa, const uint8_t *chunk, uint32_t len,
			 const uint8_t *present)
{
	uint32_t i = 0, n = len / SAVEFILE_PAGE_BYTES, run;
	int ret = 0;

	while (!ret && i < n) {
		for (run = 0; i + run < n && (present[(i + run) / 8] >> ((i + run) % 8)) & 1; run++)
			;
		if (run)
			ret = build_memwrite_to(domid, gpa + (uint64_t)i * SAVEFILE_PAGE_BYTES,
						chunk + (uint64_t)i * SAVEFILE_PAGE_BYTES,
						(uint64_t)run * SAVEFILE_PAGE_BYTES);
		i += run ? run : 1;
	}
	return ret;
}

/* Unpack RAM or RAM_PAGES section @sec (in r->payload) and write it. */
static int restore_section(struct restore_file *r, uint32_t domid,
			   const struct savefile_section *sec, uint8_t *chunk, uint64_t *done,
			   char *err, size_t err_len)
{
	uint8_t present[SAVEFILE_CHUNK_PAGES / 8];
	bool pages = sec->type == SAVEFILE_SEC_RAM_PAGES;
	uint64_t gpa;
	uint32_t len;
	int ret;

	ret = pages ? savefile_pages_unpack(r->payload, sec->length, &gpa, &len, chunk, present) :
		      savefile_chunk_unpack(r->payload, sec->length, &gpa, &len, chunk);
	if (ret || gpa + len > r->h.ram_bytes) {
		snprintf(err, err_len, "'%s' is damaged: a %s section at byte %llu does "
			 "not fit the guest", r->path, savefile_section_name(sec->type),
			 (unsigned long long)r->pos);
		return -EINVAL;
	}
	ret = pages ? restore_pages(domid, gpa, chunk, len, present) :
		      build_memwrite_to(domid, gpa, chunk, len);
	if (ret)
		snprintf(err, err_len, "KEEL_HC_DOMAIN_MEMWRITE at %#llx failed: %s",
			 (unsigned long long)gpa, strerror(-ret));
	else if (!pages)
		*done += len;
	return ret;
}

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
	ret = restore_macs_free(r->cfg, domid, err, err_len);
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
		 "Refused, with nothing made: a truncated or damaged file, one from\n"
		 "another hypervisor ABI, too little free memory, and a file saved\n"
		 "before the hypervisor last rebooted (not supported yet).\n",
	.run = restore_run,
};
