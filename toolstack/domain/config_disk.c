/*
 * Disk specs of the config parser (see config.h and config_priv.h):
 * decodes one `disk` item, "<target>,<vdev>,<mode>" (file:<path> or
 * ram:<size>; xvdX, vdX, hdX or sdX; r or w), into a struct config_disk
 * (config_disk_parse), and stores a whole `disk` list in a struct config
 * (cfg_set_disks): every item decoded, the slots checked for duplicates
 * and gaps and sorted, file: paths made absolute against the config's
 * directory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_priv.h"

/* A field of a disk spec: @len chars at @s, blanks trimmed. */
struct cfg_field {
	const char *s;
	size_t len;
};

/* Field @s..@e without leading and trailing blanks. */
static struct cfg_field cfg_trim(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return (struct cfg_field){ s, (size_t)(e - s) };
}

/* True if field @f starts with @prefix. */
static bool cfg_field_has_prefix(struct cfg_field f, const char *prefix)
{
	size_t n = strlen(prefix);

	return f.len >= n && memcmp(f.s, prefix, n) == 0;
}

/* printf the reason for a bad disk into @err; returns -EINVAL. */
static int cfg_disk_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Split @spec at its last two commas into target, vdev and mode (so a
 * file: path may itself contain commas). Returns 0 or -EINVAL. */
static int cfg_disk_split(const char *spec, struct cfg_field f[3])
{
	const char *end = spec + strlen(spec), *c2, *c1;

	c2 = strrchr(spec, ',');
	if (!c2)
		return -EINVAL;
	for (c1 = c2; c1 > spec && c1[-1] != ','; c1--)
		;
	if (c1 == spec)
		return -EINVAL;
	f[0] = cfg_trim(spec, c1 - 1);
	f[1] = cfg_trim(c1, c2);
	f[2] = cfg_trim(c2 + 1, end);
	return 0;
}

/* Decode mode field @f ("r", "ro", "w", "rw") into @writable. */
static int cfg_disk_mode(struct cfg_field f, bool *writable, char *err,
			 size_t err_len)
{
	if ((f.len == 1 && f.s[0] == 'r') || (f.len == 2 && !memcmp(f.s, "ro", 2)))
		*writable = false;
	else if ((f.len == 1 && f.s[0] == 'w') ||
		 (f.len == 2 && !memcmp(f.s, "rw", 2)))
		*writable = true;
	else
		return cfg_disk_err(err, err_len, "bad mode '%.*s' (use r or w)",
				    (int)(f.len > 16 ? 16 : f.len), f.s);
	return 0;
}

/* Decode device field @f (xvdX, vdX, hdX, sdX) into @slot. */
static int cfg_disk_vdev(struct cfg_field f, uint32_t *slot, char *err,
			 size_t err_len)
{
	static const char *const prefixes[] = { "xvd", "vd", "hd", "sd" };
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (f.len == n + 1 && cfg_field_has_prefix(f, prefixes[i]) &&
		    f.s[n] >= 'a' && f.s[n] < 'a' + KEEL_DOMAIN_MAX_DISKS) {
			*slot = (uint32_t)(f.s[n] - 'a');
			return 0;
		}
	}
	return cfg_disk_err(err, err_len, "bad device '%.*s' (use xvda..xvd%c; "
			    "vdX, hdX and sdX work too)",
			    (int)(f.len > 16 ? 16 : f.len), f.s,
			    'a' + KEEL_DOMAIN_MAX_DISKS - 1);
}

/* Decode a ram: size field @f ("256M", "1G", "512K") into @bytes,
 * rounded up to CONFIG_DISK_ALIGN_BYTES. */
static int cfg_disk_size(struct cfg_field f, uint64_t *bytes, char *err,
			 size_t err_len)
{
	uint64_t v = 0, shift;
	size_t i;

	for (i = 0; i < f.len && f.s[i] >= '0' && f.s[i] <= '9'; i++) {
		if (v > CONFIG_DISK_MAX_RAM_BYTES)
			break;
		v = v * 10 + (uint64_t)(f.s[i] - '0');
	}
	shift = 0;
	if (i + 1 == f.len && (f.s[i] == 'K' || f.s[i] == 'k'))
		shift = 10;
	else if (i + 1 == f.len && (f.s[i] == 'M' || f.s[i] == 'm'))
		shift = 20;
	else if (i + 1 == f.len && (f.s[i] == 'G' || f.s[i] == 'g'))
		shift = 30;
	if (i == 0 || !shift || v == 0)
		return cfg_disk_err(err, err_len, "bad size '%.*s' (use a "
				    "number with a K, M or G suffix, e.g. 256M)",
				    (int)(f.len > 24 ? 24 : f.len), f.s);
	if (v > (CONFIG_DISK_MAX_RAM_BYTES >> shift))
		return cfg_disk_err(err, err_len, "size '%.*s' is too large "
				    "(at most %lluG)", (int)f.len, f.s,
				    CONFIG_DISK_MAX_RAM_BYTES >> 30);
	v <<= shift;
	*bytes = (v + CONFIG_DISK_ALIGN_BYTES - 1) &
		 ~(CONFIG_DISK_ALIGN_BYTES - 1);
	return 0;
}

/* Decode target field @f (file:<path> or ram:<size>) with mode @writable
 * into @out. */
static int cfg_disk_target(struct cfg_field f, const char *base_dir,
			   struct config_disk *out, char *err, size_t err_len)
{
	struct cfg_field rest;

	if (cfg_field_has_prefix(f, "file:")) {
		rest = cfg_trim(f.s + 5, f.s + f.len);
		if (!rest.len)
			return cfg_disk_err(err, err_len, "missing path after "
					    "'file:'");
		if (out->writable)
			return cfg_disk_err(err, err_len, "images are read-only; "
					    "use a ram: disk for writable space");
		out->kind = CONFIG_DISK_FILE;
		if (cfg_set_path(out->path, rest.s, rest.len, base_dir))
			return cfg_disk_err(err, err_len, "path too long");
		return 0;
	}
	if (cfg_field_has_prefix(f, "ram:")) {
		out->kind = CONFIG_DISK_RAM;
		if (!out->writable)
			return cfg_disk_err(err, err_len, "a ram: disk must be "
					    "writable (mode w)");
		return cfg_disk_size(cfg_trim(f.s + 4, f.s + f.len),
				     &out->ram_bytes, err, err_len);
	}
	return cfg_disk_err(err, err_len, "unknown target '%.*s' (use "
			    "file:<path> or ram:<size>)",
			    (int)(f.len > 40 ? 40 : f.len), f.s);
}

/* Decode one disk spec; see config.h. */
int config_disk_parse(const char *spec, const char *base_dir,
		      struct config_disk *out, char *err, size_t err_len)
{
	struct cfg_field f[3];
	int ret;

	memset(out, 0, sizeof(*out));
	if (cfg_disk_split(spec, f))
		return cfg_disk_err(err, err_len, "expected '<target>,<vdev>,"
				    "<mode>', e.g. 'file:root.squashfs,xvda,r' "
				    "or 'ram:256M,xvdb,w'");
	ret = cfg_disk_mode(f[2], &out->writable, err, err_len);
	if (!ret)
		ret = cfg_disk_vdev(f[1], &out->slot, err, err_len);
	if (!ret)
		ret = cfg_disk_target(f[0], base_dir, out, err, err_len);
	return ret;
}

/* Rewrite disk spec @spec, decoded as @d, with its file: path absolute,
 * into @dst (CONFIG_ITEM_BYTES). Returns 0 or -ENOSPC. */
static int cfg_disk_canonical(const char *spec, const struct config_disk *d,
			      char *dst)
{
	struct cfg_field f[3];
	int n;

	if (d->kind != CONFIG_DISK_FILE || cfg_disk_split(spec, f))
		return cfg_copy(dst, CONFIG_ITEM_BYTES, spec, strlen(spec));
	n = snprintf(dst, CONFIG_ITEM_BYTES, "file:%s,%.*s,%.*s", d->path,
		     (int)f[1].len, f[1].s, (int)f[2].len, f[2].s);
	return n < 0 || (size_t)n >= CONFIG_ITEM_BYTES ? -ENOSPC : 0;
}

/* Report bad disk item @i of @v, at its own line when known. */
static int cfg_bad_disk(const struct cfg_value *v, uint32_t i,
			const struct cfg_where *w, const char *why)
{
	uint32_t line = v->item_line[i] ? v->item_line[i] : w->line;

	if (!w->line)
		line = 0; /* command line */
	return cfg_error(w->file, line, w->err, w->err_len, "bad disk '%.60s'"
			 ": %s", v->list->items[i], why);
}

/* Check the decoded disks @d (@n, in list order) for duplicate and
 * missing slots; on error returns -EINVAL with @why filled and @bad the
 * offending item. Sorts them into @sorted by slot. */
static int cfg_disk_slots(const struct config_disk *d, uint32_t n,
			  struct config_disk *sorted, uint32_t *bad,
			  char *why, size_t why_len)
{
	int32_t at[KEEL_DOMAIN_MAX_DISKS];
	uint32_t i, j;

	for (i = 0; i < KEEL_DOMAIN_MAX_DISKS; i++)
		at[i] = -1;
	for (i = 0; i < n; i++) {
		if (at[d[i].slot] >= 0) {
			*bad = i;
			return cfg_disk_err(why, why_len, "disk xvd%c is given "
					    "twice", 'a' + d[i].slot);
		}
		at[d[i].slot] = (int32_t)i;
	}
	for (i = 0; i < n; i++) {
		if (at[i] < 0) {
			/* blame the disk with the lowest slot above the gap */
			*bad = 0;
			for (j = 0; j < n; j++)
				if (d[j].slot > i && (d[*bad].slot < i ||
						      d[j].slot < d[*bad].slot))
					*bad = j;
			return cfg_disk_err(why, why_len, "there is no disk xvd%c"
					    " (disks are numbered from xvda "
					    "without gaps)", 'a' + i);
		}
		memcpy(&sorted[i], &d[at[i]], sizeof(sorted[i]));
	}
	return 0;
}

/* Store the `disk` list @v: decode every item, check the slots, keep the
 * items with absolute paths. @cfg changes only on success. See
 * config_priv.h. */
int cfg_set_disks(struct config *cfg, const struct cfg_key *k,
		  const struct cfg_value *v, const struct cfg_where *w)
{
	struct config_disk d[KEEL_DOMAIN_MAX_DISKS], sorted[KEEL_DOMAIN_MAX_DISKS];
	struct config_list items;
	char why[CONFIG_ERR_BYTES];
	uint32_t i, bad = 0;

	if (v->kind != CFG_V_LIST)
		return CFG_ERR(w, "bad value for '%s': expected %s", k->name,
			       cfg_type_want(k->type));
	if (v->list->n > KEEL_DOMAIN_MAX_DISKS)
		return CFG_ERR(w, "too many disks (at most %u)",
			       KEEL_DOMAIN_MAX_DISKS);
	memset(&items, 0, sizeof(items));
	memset(sorted, 0, sizeof(sorted));
	for (i = 0; i < v->list->n; i++) {
		if (config_disk_parse(v->list->items[i], w->base_dir, &d[i],
				      why, sizeof(why)))
			return cfg_bad_disk(v, i, w, why);
		if (cfg_disk_canonical(v->list->items[i], &d[i],
				       items.items[i]))
			return cfg_bad_disk(v, i, w, "too long once its path "
					    "is made absolute");
	}
	items.n = v->list->n;
	if (cfg_disk_slots(d, items.n, sorted, &bad, why, sizeof(why)))
		return cfg_bad_disk(v, bad, w, why);
	memcpy(&cfg->disk, &items, sizeof(items));
	memcpy(cfg->disks, sorted, sizeof(sorted));
	cfg->nr_disks = items.n;
	return 0;
}
