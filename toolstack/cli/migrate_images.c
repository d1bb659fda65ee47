/*
 * The IMAGES line of `keel migrate` (migrate_images.h): a guest's
 * read-only images by name, written by the source and checked by the
 * target against its own files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate_images.h"

/* mimg_format; see migrate_images.h. */
void mimg_format(char names[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES], char *buf,
		 size_t len)
{
	size_t used = 0;
	uint32_t i;

	snprintf(buf, len, "-");
	for (i = 0; i < KEEL_DOMAIN_MAX_DISKS && used < len; i++) {
		if (names[i][0])
			used += (size_t)snprintf(buf + used, len - used, "%s%u=%s",
						 used ? " " : "", i, names[i]);
	}
}

/* mimg_compare; see migrate_images.h. */
int mimg_compare(const char *theirs, char names[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES],
		 char *err, size_t err_len)
{
	const char *p = theirs;

	if (strcmp(theirs, "-") == 0)
		return 0;
	while (*p) {
		char *end;
		unsigned long slot = strtoul(p, &end, 10);
		size_t n;

		if (end == p || *end != '=' || slot >= KEEL_DOMAIN_MAX_DISKS) {
			snprintf(err, err_len, "the source named the guest's images wrongly");
			return -EINVAL;
		}
		p = end + 1;
		n = strcspn(p, " ");
		if (n == 0 || n >= KEEL_IMAGE_NAME_BYTES) {
			snprintf(err, err_len, "the source named the guest's images wrongly");
			return -EINVAL;
		}
		if (strlen(names[slot]) != n || strncmp(names[slot], p, n) != 0) {
			snprintf(err, err_len, "the guest's disk %lu is the image %.*s on the "
				 "source, but this machine's file for it is %s%s: another build "
				 "of the CD or another file, which the guest's file system would "
				 "not match. Boot both machines from the same Keel CD", slot,
				 (int)n, p, names[slot][0] ? "the image " : "",
				 names[slot][0] ? names[slot] : "not an image");
			return -ESTALE;
		}
		p += n;
		if (*p == ' ')
			p++;
	}
	return 0;
}
