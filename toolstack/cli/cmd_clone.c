/*
 * `keel clone <domain> [key=value ...]`: a running guest copied in an
 * instant. The guest is paused for as long as it takes to read its vCPU
 * and device state; the clone is made with KEEL_HC_DOMAIN_CLONE, which
 * shares every chunk of the guest's RAM copy-on-write instead of copying
 * it, gets that state and starts where the guest was; then both run. The
 * clone is built from the guest's saved config under a new name, with
 * the MAC that name gives its NICs, and its links go down and up once it
 * runs: the guest inside still has the MAC it booted with, which the
 * switch refuses from the clone's port, and Keel's guest images take the
 * new one on that flap (probing the NIC again) and with it their own
 * DHCP address and host name (docs/save-restore.md).
 */
#include <errno.h>
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
#include "guest_state.h"
#include "hcall.h"
#include "keel.h"
#include "monitor.h"

#define CLONE_CONSOLE_BYTES 65536u
#define CLONE_MAX_SUFFIX 99u
#define CLONE_LINK_DOWN_US 1000000u /* long enough for the guest to see it */

/* What the clone loader needs: the source's state and console history. */
struct clone_job {
	const struct config *cfg; /* the clone's */
	uint8_t *state;           /* STATE GET of the source: header, then records */
	uint8_t *console;
	uint32_t console_len;
	char src_name[KEEL_DOMAIN_NAME_BYTES + 1];
};

/* The first free name of "<src>-clone", "<src>-clone2", ... into @out. */
static int clone_default_name(const char *src, char *out, size_t len)
{
	struct keel_dominfo *doms = NULL;
	uint32_t n = 0, i;

	if (domain_list_get(&doms, &n))
		return -EIO;
	for (i = 1; i <= CLONE_MAX_SUFFIX; i++) {
		int w = i == 1 ? snprintf(out, len, "%s-clone", src) :
				 snprintf(out, len, "%s-clone%u", src, i);

		if (w < 0 || (size_t)w >= len || w >= KEEL_DOMAIN_NAME_BYTES) {
			free(doms);
			fprintf(stderr, "keel: clone: '%s' is too long to add '-clone'; give the "
				"clone a name with name=<name>\n", src);
			return -ENAMETOOLONG;
		}
		if (domain_find(doms, n, out) < 0) {
			free(doms);
			return 0;
		}
	}
	free(doms);
	fprintf(stderr, "keel: clone: '%s' has %u clones already; give the clone a name with "
		"name=<name>\n", src, CLONE_MAX_SUFFIX);
	return -EEXIST;
}

/* The clone's config: the source's saved one with the overrides @ov, a
 * new name (given, or the default) and no fixed MACs. Prints errors. */
static int clone_config(const char *src, char **ov, int n, struct config *cfg)
{
	char err[BUILD_ERR_BYTES], cwd[PATH_MAX];
	uint32_t mem, vcpus, maxv, i;
	int k, ret;

	ret = monitor_read_config(src, cfg, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "keel: clone: no saved config for '%s' (%s); only guests "
			"started with 'keel create' can be cloned\n", src, err);
		return ret;
	}
	mem = cfg->memory_mib;
	vcpus = cfg->vcpus;
	maxv = cfg->maxvcpus;
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	ret = clone_default_name(src, cfg->name, sizeof(cfg->name));
	for (k = 0; !ret && k < n; k++)
		ret = config_override(cfg, ov[k], cwd, err, sizeof(err));
	if (!ret)
		ret = config_check(cfg, "clone", err, sizeof(err));
	if (ret) {
		if (ret != -ENAMETOOLONG && ret != -EEXIST && ret != -EIO)
			fprintf(stderr, "keel: clone: %s\n", err);
		return ret;
	}
	if (cfg->memory_mib != mem || cfg->vcpus != vcpus || cfg->maxvcpus != maxv) {
		fprintf(stderr, "keel: clone: a clone has the memory and vCPUs of '%s' (%u MiB, "
			"%u vCPU(s)); drop memory=, vcpus= and maxvcpus=\n", src, mem, vcpus);
		return -EINVAL;
	}
	if (strcmp(cfg->name, src) == 0) {
		fprintf(stderr, "keel: clone: the clone needs a name of its own, not '%s'\n", src);
		return -EEXIST;
	}
	for (i = 0; i < cfg->vif.n; i++)
		config_item_drop(cfg->vif.items[i], "mac");
	return 0;
}

/* Put the clone's own MACs into the NIC records of @st (the source's
 * state), since its devices have them. */
static int clone_set_macs(const struct config *cfg, struct keel_domain_state *st, char *err,
			  size_t err_len)
{
	uint8_t *recs = (uint8_t *)(st + 1);
	uint64_t pos = 0;

	while (pos + sizeof(struct keel_state_rec) <= st->len) {
		struct keel_state_rec *h = (struct keel_state_rec *)(void *)(recs + pos);
		uint64_t padded = (h->length + KEEL_STATE_REC_ALIGN - 1) &
				  ~(uint64_t)(KEEL_STATE_REC_ALIGN - 1);

		if (h->type == KEEL_STATE_VIRTIO_NET &&
		    h->length >= sizeof(struct keel_state_virtio_net) &&
		    h->instance < cfg->vif.n) {
			struct keel_state_virtio_net *net = (void *)(h + 1);
			int ret = build_vif_mac(cfg->name, h->instance, cfg->vif.items[h->instance],
						net->mac, err, err_len);

			if (ret)
				return ret;
		}
		pos += sizeof(*h) + padded;
	}
	return 0;
}

/* The loader of build_domain_loaded: the source's state, with the
 * clone's MACs, then the start. */
static int clone_load(uint32_t domid, void *ctx, char *err, size_t err_len)
{
	struct clone_job *job = ctx;
	struct keel_domain_state *st = (struct keel_domain_state *)(void *)job->state;
	uint8_t *buf = malloc(KEEL_HC_MAX_ARG);
	int ret;

	if (!buf) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = clone_set_macs(job->cfg, st, err, err_len);
	if (!ret)
		ret = gstate_start(domid, (const uint8_t *)(st + 1), st->len, job->console,
				   job->console_len, buf, job->src_name, err, err_len);
	free(buf);
	return ret;
}

static int clone_nic_link(uint32_t domid, uint32_t slot, bool up)
{
	struct keel_nic_link l;

	memset(&l, 0, sizeof(l));
	l.domid = domid;
	l.slot = slot;
	l.up = up;
	return keel_hypercall(KEEL_HC_DOMAIN_NIC_LINK, &l, sizeof(l));
}

/* Take the running clone @domid's @n links down and up again, so that its
 * guest notices it has new MACs (a clone starts with the source's view of
 * its NICs). Prints why it failed; the clone runs either way. */
static void clone_flap_links(uint32_t domid, uint32_t n)
{
	uint32_t i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = clone_nic_link(domid, i, false);
	if (!ret)
		usleep(CLONE_LINK_DOWN_US);
	for (i = 0; i < n; i++)
		if (clone_nic_link(domid, i, true) < 0 && !ret)
			ret = -EIO;
	if (ret)
		fprintf(stderr, "keel: clone: could not flap the clone's links (%s); it keeps "
			"the MAC of its source until its NIC is probed again\n", strerror(-ret));
}

/* Read the paused source's state and console into @job. */
static int clone_capture(const struct keel_dominfo *d, struct clone_job *job)
{
	uint8_t *buf = malloc(KEEL_HC_MAX_ARG);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = gstate_get(d->domid, job->src_name, "clone", job->state);
	if (!ret) {
		ret = gstate_console_read(d->domid, job->console, CLONE_CONSOLE_BYTES,
					  &job->console_len, buf);
		if (ret)
			hcall_report("KEEL_HC_CONSOLE_IO", ret);
	}
	free(buf);
	return ret;
}

/* Pause @d (unless it is), capture it, build the clone, let @d go on. */
static int clone_make(const struct keel_dominfo *d, struct config *cfg, struct clone_job *job,
		      uint32_t *domid)
{
	struct build_loader ld = { clone_load, job, true, d->domid };
	bool was_paused = d->state == KEEL_DOMSTATE_PAUSED;
	char err[BUILD_ERR_BYTES] = "";
	int ret = 0;

	if (!was_paused && (ret = domain_ctl(d->domid, KEEL_DOMCTL_PAUSE))) {
		hcall_report("KEEL_HC_DOMAIN_CTL", ret);
		return ret;
	}
	ret = clone_capture(d, job);
	if (!ret) {
		ret = build_domain_loaded(cfg, &ld, domid, err, sizeof(err));
		if (ret)
			fprintf(stderr, "keel: clone: %s\n", err);
	}
	if (!was_paused)
		domain_ctl(d->domid, KEEL_DOMCTL_UNPAUSE);
	return ret;
}

/* Body of `keel clone`. */
static int clone_do(const char *word, char **ov, int n)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct clone_job job = { 0 };
	struct keel_dominfo d;
	uint32_t abi = 0, domid = 0;
	int ret = -ENOMEM;

	job.state = malloc(KEEL_HC_MAX_ARG);
	job.console = malloc(CLONE_CONSOLE_BYTES);
	if (!cfg || !job.state || !job.console || hcall_connect(&abi) ||
	    domain_resolve(word, &d))
		goto out;
	domain_name(&d, job.src_name, sizeof(job.src_name));
	ret = -EINVAL;
	if (d.domid == 0) {
		fprintf(stderr, "keel: clone: Domain-0 cannot be cloned\n");
		goto out;
	}
	if (d.state != KEEL_DOMSTATE_RUNNING && d.state != KEEL_DOMSTATE_BLOCKED &&
	    d.state != KEEL_DOMSTATE_PAUSED) {
		fprintf(stderr, "keel: clone: '%s' is not running (see 'keel list'); only a "
			"running or paused guest can be cloned\n", job.src_name);
		goto out;
	}
	ret = clone_config(job.src_name, ov, n, cfg);
	if (ret)
		goto out;
	job.cfg = cfg;
	ret = clone_make(&d, cfg, &job, &domid);
	if (ret)
		goto out;
	cmd_domain_adopt(cfg, domid, "clone");
	clone_flap_links(domid, cfg->vif.n);
	printf("Cloned domain %s as %s (id=%u); its RAM is shared copy-on-write\n",
	       job.src_name, cfg->name, domid);
	if (cfg->vif.n)
		printf("Note: %s takes the MAC, address and host name of its new name when it "
		       "probes its NIC again, as Keel's guest images do on the link flap it just "
		       "had; until then the switch refuses its frames (docs/save-restore.md)\n",
		       cfg->name);
out:
	free(job.state);
	free(job.console);
	free(cfg);
	return ret ? KEEL_EXIT_FAIL : KEEL_EXIT_OK;
}

/* Entry point of `keel clone <domain> [key=value ...]`. */
static int clone_run(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (args_is_help(argv[i])) {
			keel_print_cmd_help(&cmd_clone_entry);
			return KEEL_EXIT_OK;
		}
	}
	if (argc < 2)
		return keel_usage_error("clone", "missing domain name or id", NULL);
	if (argv[1][0] == '-' && argv[1][1])
		return keel_usage_error("clone", "unknown option", argv[1]);
	for (i = 2; i < argc; i++)
		if (!strchr(argv[i], '='))
			return keel_usage_error("clone", "expected key=value, got", argv[i]);
	return clone_do(argv[1], argv + 2, argc - 2);
}

/* Command-table entry of `keel clone`. */
const struct keel_cmd cmd_clone_entry = {
	.name = "clone",
	.summary = "Copy a running guest in an instant, its RAM shared copy-on-write",
	.usage = "Usage: keel clone <domain> [key=value ...]\n"
		 "\n"
		 "Pause the guest for a moment, make a new guest from its saved\n"
		 "config that shares all of its RAM copy-on-write (a 2 MiB piece\n"
		 "is copied for whichever of the two writes it first), give it the\n"
		 "guest's vCPU and device state and let both run on from there.\n"
		 "The clone is called <domain>-clone (then -clone2, ...) unless\n"
		 "name=<name> is given; other key=value pairs override the config\n"
		 "as in 'keel create', but memory and vcpus stay the guest's.\n"
		 "'keel list' shows each guest's shared memory.\n"
		 "\n"
		 "The clone's NICs get the MACs of its new name, and their links go\n"
		 "down and up once it runs: Keel's guest images then probe the NIC\n"
		 "again and take the new MAC, a DHCP address and the new host name.\n"
		 "Another guest keeps the MAC of its source, which the switch\n"
		 "refuses from the clone's port (docs/save-restore.md).\n"
		 "Refused, with nothing made: Domain-0, a guest that is not running,\n"
		 "a guest with a writable RAM disk (ram:), a name in use.\n",
	.run = clone_run,
};
