/*
 * The read-only disk images of a migrating guest (docs/save-restore.md,
 * "Migration"): the source names each by its image name (build_image_
 * names: path, size and time of the file), and the target refuses the
 * guest unless its own files have the same names, since a guest whose
 * disk changed under it would read a file system it does not know.
 */
#ifndef KEEL_MIGRATE_IMAGES_H
#define KEEL_MIGRATE_IMAGES_H

#include <stddef.h>

#include "abi.h"

#define MIMG_TEXT_BYTES (KEEL_DOMAIN_MAX_DISKS * (KEEL_IMAGE_NAME_BYTES + 4) + 2)

/* Write @names (by slot, "" for none) as the IMAGES line's text into
 * @buf (MIMG_TEXT_BYTES): "<slot>=<name> ...", or "-". */
void mimg_format(char names[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES], char *buf,
		 size_t len);

/*
 * Compare the source's text @theirs with this machine's @names for the
 * same config: 0 if every image the source named has the same name
 * here, -EINVAL for text that does not parse, -ESTALE when one differs,
 * with the reason in @err (naming the disk and its name on each side).
 */
int mimg_compare(const char *theirs, char names[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES],
		 char *err, size_t err_len);

#endif /* KEEL_MIGRATE_IMAGES_H */
