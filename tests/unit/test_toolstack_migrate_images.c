/*
 * Unit tests for toolstack/cli/migrate_images.c, the IMAGES line of
 * `keel migrate`: a guest's read-only images by slot, written by the
 * source, and the target's check that its own files have the same names
 * (refused by disk and name when one differs, or is not there).
 */
#include "../../toolstack/cli/migrate_images.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(void)
{
	char src[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES] = { { 0 } };
	char here[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES] = { { 0 } };
	char text[MIMG_TEXT_BYTES], err[512];

	mimg_format(src, text, sizeof(text));
	CHECK(strcmp(text, "-") == 0);
	CHECK_EQ_INT(mimg_compare(text, here, err, sizeof(err)), 0);
	snprintf(src[0], sizeof(src[0]), "tiny-root.squashfs-0123456789abcdef");
	snprintf(src[2], sizeof(src[2]), "data.img-fedcba9876543210");
	mimg_format(src, text, sizeof(text));
	CHECK(strcmp(text, "0=tiny-root.squashfs-0123456789abcdef 2=data.img-fedcba9876543210") == 0);
	memcpy(here, src, sizeof(here));
	CHECK_EQ_INT(mimg_compare(text, here, err, sizeof(err)), 0);
	/* another build of the CD: the same file, another time */
	snprintf(here[0], sizeof(here[0]), "tiny-root.squashfs-1111111111111111");
	CHECK_EQ_INT(mimg_compare(text, here, err, sizeof(err)), -ESTALE);
	CHECK(strstr(err, "disk 0") && strstr(err, "tiny-root.squashfs-0123456789abcdef") &&
	      strstr(err, "tiny-root.squashfs-1111111111111111"));
	/* a RAM disk here where the source had an image */
	memcpy(here, src, sizeof(here));
	here[2][0] = '\0';
	CHECK_EQ_INT(mimg_compare(text, here, err, sizeof(err)), -ESTALE);
	CHECK(strstr(err, "disk 2") && strstr(err, "not an image"));
	/* a name that is a prefix of ours is another name */
	memcpy(here, src, sizeof(here));
	CHECK_EQ_INT(mimg_compare("0=tiny-root.squashfs-0123456789abcde", here, err,
				  sizeof(err)), -ESTALE);
	/* bad text */
	CHECK_EQ_INT(mimg_compare("x=y", here, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(mimg_compare("0=", here, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(mimg_compare("9=a", here, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(mimg_compare("0", here, err, sizeof(err)), -EINVAL);
	return harness_done("migrate_images");
}
