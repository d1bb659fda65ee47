/*
 * The newc cpio writer (cpio_newc.h): headers in ASCII hex, names and data
 * padded to 4 bytes. No libc.
 */
#include "cpio_newc.h"

#define CPIO_E2BIG 7 /* LINUX_BOOT_E2BIG, Linux's E2BIG */

static uint32_t pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

static void put_hex8(uint8_t *p, uint32_t v)
{
	static const char digits[] = "0123456789ABCDEF";
	int i;

	for (i = 7; i >= 0; i--, v >>= 4)
		p[i] = (uint8_t)digits[v & 15u];
}

/* Append one entry; see cpio_newc.h. */
int cpio_newc_add(uint8_t *buf, uint32_t cap, uint32_t *off, const char *name,
		  uint32_t mode, const void *data, uint32_t len)
{
	/* c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime, c_filesize,
	 * c_devmajor, c_devminor, c_rdevmajor, c_rdevminor, c_namesize,
	 * c_check, after the magic "070701" */
	uint32_t fields[13] = { 0 };
	uint32_t name_bytes = 1, at = *off, end, i;
	const uint8_t *src = data;
	uint8_t *p;

	while (name[name_bytes - 1])
		name_bytes++;
	if (at > cap || (at & 3u) || len > cap)
		return -CPIO_E2BIG;
	end = pad4(CPIO_NEWC_HEADER_BYTES + name_bytes);
	if (end > cap - at || pad4(len) > cap - at - end)
		return -CPIO_E2BIG;
	p = buf + at;
	fields[0] = at / 4u + 1u; /* distinct inode numbers, never 0 */
	fields[1] = mode;
	fields[4] = (mode & 040000u) ? 2u : 1u;
	fields[6] = len;
	fields[11] = name_bytes;
	for (i = 0; i < 6; i++)
		p[i] = (uint8_t)"070701"[i];
	for (i = 0; i < 13; i++)
		put_hex8(p + 6 + 8 * i, fields[i]);
	for (i = 0; i < name_bytes; i++)
		p[CPIO_NEWC_HEADER_BYTES + i] = (uint8_t)name[i];
	for (i = CPIO_NEWC_HEADER_BYTES + name_bytes; i < end; i++)
		p[i] = 0;
	for (i = 0; i < len; i++)
		p[end + i] = src[i];
	for (i = len; i < pad4(len); i++)
		p[end + i] = 0;
	*off = at + end + pad4(len);
	return 0;
}

/* Append the trailer; see cpio_newc.h. */
int cpio_newc_finish(uint8_t *buf, uint32_t cap, uint32_t *off)
{
	return cpio_newc_add(buf, cap, off, "TRAILER!!!", 0, (const void *)0, 0);
}
