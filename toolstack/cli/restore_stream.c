/*
 * Reading a save stream (savefile.h) into a new domain, for `keel restore`
 * from a file and `keel migrate-receive` from a link: its sections one by
 * one with their checks, the saved config, the MACs a copy must not share
 * with a running guest, and the RAM sections written as they come.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "build.h"
#include "config.h"
#include "domain.h"
#include "hcall.h"
#include "monitor.h"
#include "netnames.h"
#include "restore_stream.h"
#include "savefile.h"

/* The next section into r->payload; see restore_stream.h. */
int restore_next(struct restore_file *r, struct savefile_section *sec, char *err,
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

/* A NUL-terminated copy; see restore_stream.h. */
uint8_t *restore_keep(const uint8_t *p, uint64_t len)
{
	uint8_t *copy = malloc(len + 1);

	if (copy) {
		memcpy(copy, p, len);
		copy[len] = 0;
	}
	return copy;
}

/* Free what @r holds and close its file; see restore_stream.h. */
void restore_close(struct restore_file *r)
{
	if (r->f)
		fclose(r->f);
	free(r->cfg_text);
	free(r->state);
	free(r->console);
	free(r->payload);
}

/* The saved config with overrides; see restore_stream.h. */
int restore_config(const struct restore_file *r, char **ov, int n, struct config *cfg)
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
		fprintf(stderr, "keel: %s: %s\n", r->verb, err);
		return ret;
	}
	if (build_mem_bytes(cfg->memory_mib) != r->h.ram_bytes ||
	    (cfg->maxvcpus > cfg->vcpus ? cfg->maxvcpus : cfg->vcpus) != r->h.nr_vcpus) {
		fprintf(stderr, "keel: %s: the guest was saved with %llu MiB and %u vCPU(s); "
			"a restored guest keeps them (drop memory=, vcpus= and maxvcpus=)\n",
			r->verb, (unsigned long long)(r->h.ram_bytes >> 20), r->h.nr_vcpus);
		return -EINVAL;
	}
	return 0;
}

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

/* Refuse a MAC of @cfg that a running guest has; see restore_stream.h. */
int restore_macs_free(const struct config *cfg, uint32_t domid, const char *skip,
		      char *err, size_t err_len)
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
			if (skip && strcmp(name, skip) == 0)
				continue;
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

/* Write a RAM or RAM_PAGES section; see restore_stream.h. */
int restore_section(struct restore_file *r, uint32_t domid,
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
