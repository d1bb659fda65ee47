/*
 * The guests' name registry (see netnames.h): the text of a domain's
 * registry file ("<mac> <hostname>" per NIC), its parser, MAC address
 * text, and the file operations: atomic write (temporary file, rename)
 * and removal for the toolstack, reading the whole directory for
 * `keel netd`. Nothing here is fatal for the caller: errors come back as
 * -errno.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "abi.h"
#include "netnames.h"

/* Value of the hex digit @c, or -1. */
static int netnames_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse MAC text; see netnames.h. */
int netnames_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t out[6];
	int i, hi, lo;

	for (i = 0; i < 6; i++) {
		hi = netnames_hex(s[3 * i]);
		lo = hi < 0 ? -1 : netnames_hex(s[3 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		if (i < 5 && s[3 * i + 2] != ':')
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (s[17] && s[17] != ' ' && s[17] != '\t')
		return -EINVAL;
	memcpy(mac, out, sizeof(out));
	return 0;
}

/* Format MAC text; see netnames.h. */
void netnames_mac_format(const uint8_t mac[6],
			 char buf[NETNAMES_MAC_TEXT_BYTES])
{
	snprintf(buf, NETNAMES_MAC_TEXT_BYTES, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* True if @c may appear in a hostname (the domain-name characters). */
static int netnames_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Check a hostname; see netnames.h. */
int netnames_hostname_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= NETD_HOSTNAME_MAX_CHARS || !netnames_char_ok(s[i]))
			return 0;
	}
	return i > 0;
}

/* True if @name can name a registry file (a hostname, not "." or ".."). */
static int netnames_name_ok(const char *name)
{
	return strlen(name) <= NETNAMES_NAME_MAX_CHARS &&
	       netnames_hostname_ok(name) && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

/* Compose a registry file; see netnames.h. */
int netnames_format(const char *name, const uint8_t (*macs)[6], uint32_t n,
		    char *buf, size_t len)
{
	char mac[NETNAMES_MAC_TEXT_BYTES];
	size_t used = 0;
	uint32_t i;
	int w;

	if (!netnames_name_ok(name))
		return -EINVAL;
	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		netnames_mac_format(macs[i], mac);
		if (i == 0)
			w = snprintf(buf + used, len - used, "%s %s\n", mac, name);
		else
			w = snprintf(buf + used, len - used, "%s %s-eth%u\n", mac,
				     name, i);
		if (w < 0 || (size_t)w >= len - used)
			return -ENOSPC;
		used += (size_t)w;
	}
	return (int)used;
}

/* Parse one registry line @line (NUL-terminated) into @e. 0 or -EINVAL. */
static int netnames_parse_line(const char *line, struct netnames_entry *e)
{
	const char *h;
	size_t n;

	if (netnames_mac_parse(line, e->mac))
		return -EINVAL;
	h = line + 17;
	while (*h == ' ' || *h == '\t')
		h++;
	n = strcspn(h, " \t\r");
	if (n == 0 || n > NETD_HOSTNAME_MAX_CHARS)
		return -EINVAL;
	memcpy(e->hostname, h, n);
	e->hostname[n] = '\0';
	if (!netnames_hostname_ok(e->hostname))
		return -EINVAL;
	h += n;
	while (*h == ' ' || *h == '\t' || *h == '\r')
		h++;
	return *h ? -EINVAL : 0;
}

/*
 * Parse the registry line @line into @out[@n] if it is not blank or a
 * comment and there is room; count it in *@bad if it does not parse.
 * Returns 1 if an entry was stored, else 0.
 */
static uint32_t netnames_take_line(const char *line,
				   struct netnames_entry *out, uint32_t n,
				   uint32_t max, uint32_t *bad)
{
	if (line[strspn(line, " \t\r")] == '\0' || line[0] == '#' || n >= max)
		return 0;
	if (netnames_parse_line(line, &out[n]) == 0)
		return 1;
	if (bad)
		(*bad)++;
	return 0;
}

/* Parse registry text; see netnames.h. */
uint32_t netnames_parse(const char *text, size_t len,
			struct netnames_entry *out, uint32_t max,
			uint32_t *bad)
{
	char line[128];
	uint32_t n = 0;
	size_t pos = 0, end, l;

	while (pos < len) {
		for (end = pos; end < len && text[end] != '\n'; end++)
			;
		l = end - pos;
		if (l >= sizeof(line)) {
			if (bad)
				(*bad)++;
		} else {
			memcpy(line, text + pos, l);
			line[l] = '\0';
			n += netnames_take_line(line, out, n, max, bad);
		}
		pos = end + 1;
	}
	return n;
}

/* mkdir -p @dir (mode 0755). Returns 0 or -errno. */
static int netnames_mkdirs(const char *dir)
{
	char path[PATH_MAX];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		path[i] = dir[i];
	}
	return 0;
}

/* Register a domain in @dir; see netnames.h. */
int netnames_add_in(const char *dir, const char *name,
		    const uint8_t (*macs)[6], uint32_t n)
{
	char text[NETNAMES_FILE_MAX_BYTES], path[PATH_MAX];
	int len, ret;

	len = netnames_format(name, macs, n, text, sizeof(text));
	if (len < 0)
		return len;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	ret = netnames_mkdirs(dir);
	if (ret)
		return ret;
	return file_write_atomic(path, NETNAMES_TMP_SUFFIX, text, (size_t)len);
}

/* Unregister a domain from @dir; see netnames.h. */
int netnames_remove_in(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (!netnames_name_ok(name))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Register a domain; see netnames.h. */
int netnames_add(const char *name, const uint8_t (*macs)[6], uint32_t n)
{
	return netnames_add_in(NETD_NAMES_DIR, name, macs, n);
}

/* Unregister a domain; see netnames.h. */
int netnames_remove(const char *name)
{
	return netnames_remove_in(NETD_NAMES_DIR, name);
}

/* Read the registry file @dir/@file into @out (@max entries). */
static uint32_t netnames_read_file(const char *dir, const char *file,
				   struct netnames_entry *out, uint32_t max,
				   uint32_t *bad)
{
	char path[PATH_MAX], text[NETNAMES_FILE_MAX_BYTES];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n <= 0)
		return 0;
	return netnames_parse(text, (size_t)n, out, max, bad);
}

/* Rename a domain's registry file; see netnames.h. */
int netnames_rename_in(const char *dir, const char *old, const char *new_name)
{
	struct netnames_entry e[KEEL_DOMAIN_MAX_NICS];
	uint8_t macs[KEEL_DOMAIN_MAX_NICS][6];
	uint32_t n, i, bad = 0;
	int ret;

	if (!netnames_name_ok(old) || !netnames_name_ok(new_name))
		return -EINVAL;
	n = netnames_read_file(dir, old, e, KEEL_DOMAIN_MAX_NICS, &bad);
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		memcpy(macs[i], e[i].mac, 6);
	ret = netnames_add_in(dir, new_name, (const uint8_t (*)[6])macs, n);
	return ret ? ret : netnames_remove_in(dir, old);
}

/* Rename a domain in the registry; see netnames.h. */
int netnames_rename(const char *old, const char *new_name)
{
	return netnames_rename_in(NETD_NAMES_DIR, old, new_name);
}

/* Read the registry directory; see netnames.h. */
int netnames_read_dir(const char *dir, struct netnames_entry *out,
		      uint32_t max, uint32_t *bad)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint32_t n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (n < max && (de = readdir(d)) != NULL) {
		if (!netnames_name_ok(de->d_name))
			continue; /* ".", "..", temporary "<name>#tmp" files */
		n += netnames_read_file(dir, de->d_name, out + n, max - n, bad);
	}
	closedir(d);
	return (int)n;
}
