/*
 * Writing a "newc" cpio archive (the format of Linux's initramfs,
 * Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte
 * ASCII header per entry, the name, the data, each padded to 4 bytes, and
 * a "TRAILER!!!" entry at the end. Linux unpacks such an archive when it
 * follows the initrd in the same buffer, so a loader can add files to an
 * initrd it did not build (the hypervisor hands dom0 its compatibility
 * report this way). Like linux_boot.h, it needs only <stdint.h>.
 */
#ifndef BOOTPROTO_CPIO_NEWC_H
#define BOOTPROTO_CPIO_NEWC_H

#include <stdint.h>

#define CPIO_NEWC_HEADER_BYTES 110u
#define CPIO_NEWC_MODE_FILE 0100644u
#define CPIO_NEWC_MODE_DIR 040755u

/*
 * Append one entry to the archive in buf (cap bytes), at *off (a multiple
 * of 4, 0 for the first entry): name (a path without a leading '/'),
 * mode (CPIO_NEWC_MODE_*), and len bytes of data (NULL and 0 for a
 * directory). Moves *off past the padded entry. Returns 0, or
 * -LINUX_BOOT_E2BIG (-7) if the entry does not fit (buf beyond *off is
 * then unspecified, *off unchanged).
 */
int cpio_newc_add(uint8_t *buf, uint32_t cap, uint32_t *off, const char *name,
		  uint32_t mode, const void *data, uint32_t len);

/* Append the closing "TRAILER!!!" entry; as cpio_newc_add. */
int cpio_newc_finish(uint8_t *buf, uint32_t cap, uint32_t *off);

#endif
