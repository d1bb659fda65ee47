/*
 * Guest configuration files of the `keel` toolstack, in the style of Xen's
 * xl: `key = value` lines, `#` comments, values that are "strings",
 * 'strings', decimal integers or lists [ 'a', 'b' ] (which may span lines).
 * This module parses such text into a struct config, applies `key=value`
 * overrides from the command line, checks the result and writes a config
 * back out (the monitor saves the effective one). The `disk` list is also
 * checked item by item and decoded into struct config_disk entries for the
 * builder. It is pure: no file or hypercall I/O, so tests/unit drives it
 * with golden files. Errors come as text in a caller buffer,
 * "<file>:<line>: <what>", and -EINVAL.
 */
#ifndef KEEL_TOOLSTACK_CONFIG_H
#define KEEL_TOOLSTACK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

#define CONFIG_NAME_MAX (KEEL_DOMAIN_NAME_BYTES - 1) /* chars in a name */
#define CONFIG_STR_BYTES 1024u   /* longest string value, with the NUL */
#define CONFIG_LIST_MAX 16u      /* items in a list */
#define CONFIG_ITEM_BYTES 256u   /* longest list item, with the NUL */
#define CONFIG_ERR_BYTES 512u    /* room for one error message */
#define CONFIG_DEFAULT_MEMORY_MIB 128u
#define CONFIG_DEFAULT_VCPUS 1u
#define CONFIG_DEFAULT_WEIGHT 256u /* KEEL_SCHED_WEIGHT_DEFAULT */
#define CONFIG_MAX_WEIGHT 65535u
#define CONFIG_MAX_CAP 6400u

/* on_poweroff / on_reboot / on_crash values. */
enum config_action {
	CONFIG_ACTION_DESTROY,  /* remove the domain */
	CONFIG_ACTION_RESTART,  /* remove it and build it again */
	CONFIG_ACTION_PRESERVE, /* leave it as it is (for inspection) */
};

#define CONFIG_DISK_ALIGN_BYTES (2ull << 20) /* ram: sizes round up to this */
#define CONFIG_DISK_MAX_RAM_BYTES (64ull << 30) /* largest ram: disk */

/* Kind of a guest disk (the target of a disk spec). */
enum config_disk_kind {
	CONFIG_DISK_FILE = 1, /* file:<path>: a read-only image, uploaded */
	CONFIG_DISK_RAM = 2,  /* ram:<size>: a private, zeroed, writable disk */
};

/* One decoded `disk` item, e.g. 'file:/a.squashfs,xvda,r'. */
struct config_disk {
	enum config_disk_kind kind;
	uint32_t slot;                /* 0 for xvda/vda/hda/sda, 1 for ..b */
	bool writable;                /* mode w (ram: disks only) */
	uint64_t ram_bytes;           /* CONFIG_DISK_RAM: multiple of 2 MiB */
	char path[CONFIG_STR_BYTES];  /* CONFIG_DISK_FILE: absolute if the
				       * config gave a base directory */
};

/* A list value such as disk = [ '...', '...' ]. */
struct config_list {
	uint32_t n;
	char items[CONFIG_LIST_MAX][CONFIG_ITEM_BYTES];
};

/* One guest configuration. Empty strings mean "not set". */
struct config {
	char name[CONFIG_NAME_MAX + 1];
	char description[CONFIG_STR_BYTES];
	char kernel[CONFIG_STR_BYTES];  /* absolute once parsed from a file */
	char ramdisk[CONFIG_STR_BYTES];
	char cmdline[CONFIG_STR_BYTES];
	char extra[CONFIG_STR_BYTES];
	char root[CONFIG_STR_BYTES];
	uint32_t memory_mib;
	uint32_t vcpus;
	uint32_t maxvcpus;       /* vCPUs it may have (keel vcpu-set), 0 = vcpus */
	uint32_t cpu_weight;     /* the credit scheduler's weight, 256 unless set */
	uint32_t cap;            /* percent of one CPU, 0 = none */
	char cpus[CONFIG_ITEM_BYTES]; /* pool CPUs allowed, a CPU list; "" = any */
	enum config_action on_poweroff;
	enum config_action on_reboot;
	enum config_action on_crash;
	struct config_list disk; /* items as written, file: paths absolute */
	struct config_list vif;
	uint32_t nr_disks;       /* decoded `disk`, in slot order (xvda first) */
	struct config_disk disks[KEEL_DOMAIN_MAX_DISKS];
	uint32_t set_line[24]; /* per key (config.c's table): line set, 0 = not */
};

/* Fill @cfg with the defaults (memory 128, vcpus 1, destroy/restart/destroy). */
void config_init(struct config *cfg);

/*
 * Parse config text @text (@len bytes, need not be NUL-terminated) into
 * @cfg, which should have been config_init()ed. @file names the file in
 * error messages; relative kernel, ramdisk and disk file: paths are made
 * relative to @base_dir (NULL: left as they are). On error writes
 * "<file>:<line>: <what>" to @err (@err_len bytes).
 * Returns 0 or -EINVAL.
 */
int config_parse(struct config *cfg, const char *text, size_t len,
		 const char *file, const char *base_dir, char *err,
		 size_t err_len);

/*
 * Apply one command-line override @arg, "key=value", to @cfg. The value may
 * be written as in a file ("x", 'x', 12, [ ... ]) or bare (name=tiny2,
 * memory=256). A relative kernel, ramdisk or disk file: path is made
 * relative to @base_dir (NULL: left as is). Errors are "command line: <what>".
 * Returns 0 or -EINVAL.
 */
int config_override(struct config *cfg, const char *arg, const char *base_dir,
		    char *err, size_t err_len);

/*
 * Check that @cfg is complete (name and kernel set) and consistent.
 * @file names the config in messages ("<file>: missing 'kernel'").
 * Returns 0 or -EINVAL with @err filled.
 */
int config_check(const struct config *cfg, const char *file, char *err,
		 size_t err_len);

/*
 * Write the value of key @key of @cfg as config syntax ('text', 128,
 * [ 'a', 'b' ], destroy as 'destroy') into @buf. Unset strings give ''.
 * Returns 0, -ENOENT for an unknown key, -ENOSPC if @buf is too small.
 */
int config_format_value(const struct config *cfg, const char *key, char *buf,
			size_t len);

/*
 * Write all of @cfg as a config file (one `key = value` line per set key)
 * into @buf (@len bytes). config_parse() of the result gives back @cfg.
 * Returns the length written, or -ENOSPC.
 */
int config_write(const struct config *cfg, char *buf, size_t len);

struct fmt_buf;

/*
 * Append @cfg to @b as one JSON object with the keys config_write would
 * write: memory and vcpus as numbers, lists (disk, vif) as arrays of
 * strings, everything else as strings. For `keel list -l`.
 */
void config_write_json(const struct config *cfg, struct fmt_buf *b);

/*
 * Remove every "@key=value" from the comma-separated list item @item (a
 * vif item, say), in place: "bridge=x,mac=02:..." without "mac" is
 * "bridge=x". `keel clone` drops a vif's mac so that the clone's NIC gets
 * the MAC of its own name.
 */
void config_item_drop(char *item, const char *key);

/*
 * Whether @name may name a domain: 1 to CONFIG_NAME_MAX letters, digits,
 * '.', '_' or '-', not digits only and not "Domain-0" (docs/config.md).
 */
bool config_name_ok(const char *name);

/*
 * Decode one `disk` item @spec, "<target>,<vdev>,<mode>" (see
 * docs/config.md), into @out; a relative file: path is joined to
 * @base_dir (NULL: left as is). On error writes the reason, without file
 * or line ("images are read-only; ..."), to @err.
 * Returns 0 or -EINVAL.
 */
int config_disk_parse(const char *spec, const char *base_dir,
		      struct config_disk *out, char *err, size_t err_len);

/* Directory searched for configs named without a path (the boot medium). */
#define CONFIG_MEDIUM_DIR "/run/keel/medium/configs"

/*
 * Candidate file @idx (0, 1, ...) for the config argument @arg of
 * `keel create`, into @buf: an argument with a '/' is only itself; a bare
 * name is tried as ./<arg>, ./<arg>.cfg, CONFIG_MEDIUM_DIR/<arg> and
 * CONFIG_MEDIUM_DIR/<arg>.cfg (".cfg" forms skipped if @arg has it).
 * Returns 0, or -ENOENT when there is no candidate @idx.
 */
int config_candidate(const char *arg, uint32_t idx, char *buf, size_t len);

/* Name of action @a: "destroy", "restart" or "preserve". */
const char *config_action_name(enum config_action a);

/*
 * The known key closest to @word by edit distance (at most 2), for "did
 * you mean" hints, or NULL if none is close.
 */
const char *config_suggest_key(const char *word);

#endif /* KEEL_TOOLSTACK_CONFIG_H */
