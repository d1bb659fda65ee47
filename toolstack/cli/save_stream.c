/*
 * Writing a guest as a save stream (savefile.h), for `keel save` into a
 * file and `keel migrate` over a link: its config with the MACs pinned,
 * the header and CONFIG section, then its RAM (save_ram.h), vCPU and
 * device state, console history and the END section; and dropping the
 * source guest once its copy is safe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi.h"
#include "build.h"
#include "config.h"
#include "domain.h"
#include "guest_state.h"
#include "hcall.h"
#include "monitor.h"
#include "netnames.h"
#include "savefile.h"
#include "save_stream.h"

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

/* The config text of guest @name; see save_stream.h. */
int save_config_text(const char *verb, const char *name, char *text, size_t len)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	char err[BUILD_ERR_BYTES];
	int ret;

	if (!cfg)
		return -ENOMEM;
	ret = monitor_read_config(name, cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "keel: %s: no saved config for '%s' (%s); only guests "
			"started with 'keel create' can be %s\n", verb, name, err,
			strcmp(verb, "save") ? "migrated" : "saved");
		free(cfg);
		return ret;
	}
	ret = save_pin_macs(cfg, err, sizeof(err));
	if (ret)
		fprintf(stderr, "keel: %s: %s\n", verb, err);
	else if ((ret = config_write(cfg, text, len)) < 0)
		fprintf(stderr, "keel: %s: the config of '%s' is too large\n", verb, name);
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

/* The header and the CONFIG section; see save_stream.h. */
void save_write_head(struct save_out *o, const struct save_job *j)
{
	const struct keel_dominfo *d = j->d;
	struct savefile_header h;

	/* all its vCPUs, also those not plugged in (keel vcpu-set) */
	savefile_header_init(&h, j->abi, (uint64_t)time(NULL), d->mem_bytes,
			     d->max_vcpus > d->nr_vcpus ? d->max_vcpus : d->nr_vcpus);
	out_bytes(o, &h, sizeof(h));
	out_section(o, SAVEFILE_SEC_CONFIG, j->cfg_text, strlen(j->cfg_text));
}

/* The RAM, the state and the end; see save_stream.h. */
int save_write_body(struct save_out *o, struct save_job *j)
{
	const struct keel_dominfo *d = j->d;
	const struct keel_domain_state *st = (const void *)j->state;
	uint64_t before_end;
	int ret;

	if (j->live)
		ret = save_ram_live(o, d->domid, j->verb, j->name, d->mem_bytes, &j->rep);
	else
		ret = save_ram(o, d->domid, j->verb, j->name, d->mem_bytes);
	if (ret)
		return ret;
	ret = gstate_get(d->domid, j->name, j->verb, j->state);
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

/* The line that says what a live copy did; see save_stream.h. */
void save_live_print(const struct save_job *j, uint64_t paused_us)
{
	const struct precopy *pc = &j->rep.pc;

	printf("Live: %u round(s) after the first full copy, %llu page(s) copied again "
	       "while it ran; paused for %llu ms to copy the last %llu page(s) and its state\n",
	       pc->rounds, (unsigned long long)pc->sent_pages - j->rep.final_pages,
	       (unsigned long long)(paused_us / 1000), (unsigned long long)j->rep.final_pages);
}

/* The guest @word names, checked, into @j; see save_stream.h. */
int save_pick_guest(struct save_job *j, const char *word, struct keel_dominfo *d, char *name,
		    char *cfg_text)
{
	const char *done = strcmp(j->verb, "save") ? "migrated" : "saved";

	if (hcall_connect(&j->abi) || domain_resolve(word, d))
		return -ENOENT;
	domain_name(d, name, KEEL_DOMAIN_NAME_BYTES + 1);
	if (d->domid == 0) {
		fprintf(stderr, "keel: %s: Domain-0 cannot be %s\n", j->verb, done);
		return -EINVAL;
	}
	if (d->state != KEEL_DOMSTATE_RUNNING && d->state != KEEL_DOMSTATE_BLOCKED &&
	    d->state != KEEL_DOMSTATE_PAUSED) {
		fprintf(stderr, "keel: %s: '%s' is not running (see 'keel list'); only a "
			"running or paused guest can be %s\n", j->verb, name, done);
		return -EINVAL;
	}
	j->d = d;
	j->name = name;
	j->cfg_text = cfg_text;
	return save_config_text(j->verb, name, cfg_text, SAVE_CFG_TEXT_BYTES);
}

/* Destroy the guest a save or migration copied; see save_stream.h. */
int save_drop_source(uint32_t domid, const char *name)
{
	int ret;

	monitor_mark_destroying(name, domid);
	ret = domain_ctl(domid, KEEL_DOMCTL_DESTROY);
	if (ret)
		hcall_report("KEEL_HC_DOMAIN_CTL", ret);
	netnames_remove(name);
	return ret;
}
