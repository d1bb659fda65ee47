/*
 * The guests' name registry (docs/network.md): one file per guest domain
 * in NETD_NAMES_DIR, named after the domain, with one line per NIC,
 * "<mac aa:bb:cc:dd:ee:ff> <hostname>". NIC 0's hostname is the domain
 * name, NIC n's "<name>-eth<n>". `keel create` writes the file once the
 * domain runs, `keel destroy` and the monitor remove it, and `keel netd`
 * reads the whole directory whenever it needs a name (DHCP option 12,
 * DNS answers). This module has the text format (pure: format, parse,
 * MAC text) and the few file operations on it; files are replaced
 * atomically (temporary file "<name>#tmp", then rename) and netd skips
 * file names that are not domain names, such as those.
 */
#ifndef KEEL_TOOLSTACK_NETNAMES_H
#define KEEL_TOOLSTACK_NETNAMES_H

#include <stddef.h>
#include <stdint.h>

#include "netd.h"

#define NETNAMES_MAC_TEXT_BYTES 18u   /* "aa:bb:cc:dd:ee:ff" and NUL */
#define NETNAMES_NAME_MAX_CHARS 31u   /* a domain name (KEEL_DOMAIN_NAME_BYTES - 1) */
#define NETNAMES_FILE_MAX_BYTES 4096u /* larger registry files are cut */
#define NETNAMES_TMP_SUFFIX "#tmp"

/* One registry line: a NIC's MAC address and the hostname it gets. */
struct netnames_entry {
	uint8_t mac[6];
	char hostname[NETD_HOSTNAME_MAX_CHARS + 1];
};

/*
 * Parse the MAC address text "aa:bb:cc:dd:ee:ff" (hex digits of either
 * case, exactly 17 characters; @s must end there or at a blank) into
 * @mac. Returns 0 or -EINVAL.
 */
int netnames_mac_parse(const char *s, uint8_t mac[6]);

/* Write @mac as "aa:bb:cc:dd:ee:ff" (lower case) to @buf. */
void netnames_mac_format(const uint8_t mac[6],
			 char buf[NETNAMES_MAC_TEXT_BYTES]);

/*
 * True if @s is a usable hostname: 1 to NETD_HOSTNAME_MAX_CHARS
 * characters out of [A-Za-z0-9._-] (the characters of domain names).
 */
int netnames_hostname_ok(const char *s);

/*
 * Compose the registry file of domain @name with the @n NICs whose MAC
 * addresses are @macs into @buf (@len bytes, NUL-terminated). Returns the
 * length, -EINVAL if @name is not a usable name, or -ENOSPC.
 */
int netnames_format(const char *name, const uint8_t (*macs)[6], uint32_t n,
		    char *buf, size_t len);

/*
 * Parse the registry text @text (@len bytes, one "<mac> <hostname>" line
 * each; blank lines and '#' comments are skipped) into @out, at most
 * @max entries. Lines that do not parse are skipped and counted in *@bad
 * (if @bad is not NULL). Returns the number of entries stored.
 */
uint32_t netnames_parse(const char *text, size_t len,
			struct netnames_entry *out, uint32_t max,
			uint32_t *bad);

/*
 * Register domain @name in the directory @dir (created with its parents
 * if missing): write its file for the @n NICs in @macs atomically.
 * Returns 0 or -errno (-EINVAL for an unusable name).
 */
int netnames_add_in(const char *dir, const char *name,
		    const uint8_t (*macs)[6], uint32_t n);

/*
 * Remove domain @name's file from @dir. A file that does not exist is
 * not an error. Returns 0 or -errno.
 */
int netnames_remove_in(const char *dir, const char *name);

/* netnames_add_in() on NETD_NAMES_DIR; called by `keel create`. */
int netnames_add(const char *name, const uint8_t (*macs)[6], uint32_t n);

/*
 * netnames_remove_in() on NETD_NAMES_DIR; called by `keel destroy` and by
 * the monitor when it destroys a domain without restarting it.
 */
int netnames_remove(const char *name);

/*
 * Move domain @old's registry file in @dir to @new_name, with its
 * hostnames renamed (NIC 0 is @new_name, NIC n "<new_name>-eth<n>"). A
 * domain without a file (no NIC) has nothing to move. Returns 0 or
 * -errno; on failure the old file stays.
 */
int netnames_rename_in(const char *dir, const char *old, const char *new_name);

/* netnames_rename_in() on NETD_NAMES_DIR; called by `keel rename`. */
int netnames_rename(const char *old, const char *new_name);

/*
 * Read every registry file in @dir (only files named like a domain:
 * ".", ".." and temporary "<name>#tmp" files are skipped) into @out, at most @max entries in all. A missing
 * directory holds no entries. Unparsable lines are counted in *@bad (if
 * not NULL). Returns the number of entries, or -errno if @dir cannot be
 * read for another reason.
 */
int netnames_read_dir(const char *dir, struct netnames_entry *out,
		      uint32_t max, uint32_t *bad);

#endif /* KEEL_TOOLSTACK_NETNAMES_H */
