/*
 * The `keel save` file format: header, section checks and the packing of
 * guest RAM with its all-zero pages left out (see savefile.h). Pure code.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "savefile.h"

#define CRC32_POLY 0xEDB88320u /* IEEE 802.3, reflected */
#define ABI_MAJOR(v) ((v) >> 16)

_Static_assert(sizeof(struct savefile_header) == 64 &&
	       offsetof(struct savefile_header, crc) == 60, "the header has no padding");
#define ABI_MINOR(v) ((v) & 0xFFFFu)

/* See savefile.h. */
uint32_t savefile_crc32(uint32_t crc, const void *p, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const uint8_t *b = p;
	size_t i;

	if (!ready) {
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = (c & 1) ? CRC32_POLY ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
		ready = true;
	}
	crc = ~crc;
	for (i = 0; i < len; i++)
		crc = table[(crc ^ b[i]) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

static uint32_t header_crc(const struct savefile_header *h)
{
	return savefile_crc32(0, h, offsetof(struct savefile_header, crc));
}

/* See savefile.h. */
void savefile_header_init(struct savefile_header *h, uint32_t abi_version, uint64_t utc_s,
			  uint64_t ram_bytes, uint32_t nr_vcpus)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, SAVEFILE_MAGIC, sizeof(h->magic));
	h->format = SAVEFILE_FORMAT;
	h->abi_version = abi_version;
	h->saved_utc_s = utc_s;
	h->ram_bytes = ram_bytes;
	h->nr_vcpus = nr_vcpus;
	h->crc = header_crc(h);
}

/* See savefile.h. */
int savefile_header_check(const struct savefile_header *h, uint32_t abi_version, char *err,
			  size_t err_len)
{
	uint32_t i;

	if (memcmp(h->magic, SAVEFILE_MAGIC, sizeof(h->magic))) {
		snprintf(err, err_len, "not a Keel save file (it does not begin with "
			 "'KEELSAV'); give a file written by 'keel save'");
		return -EINVAL;
	}
	if (h->crc != header_crc(h)) {
		snprintf(err, err_len, "its header is damaged (checksum mismatch); "
			 "the file cannot be restored");
		return -EINVAL;
	}
	if (h->format != SAVEFILE_FORMAT) {
		snprintf(err, err_len, "it is in save-file format %u, and this keel reads "
			 "format %u only; restore it with the Keel that saved it", h->format,
			 SAVEFILE_FORMAT);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(h->reserved) / sizeof(h->reserved[0]); i++) {
		if (h->reserved[i]) {
			snprintf(err, err_len, "its header has reserved fields set; "
				 "it was not written by this keel");
			return -EINVAL;
		}
	}
	if (ABI_MAJOR(h->abi_version) != ABI_MAJOR(abi_version)) {
		snprintf(err, err_len, "it was saved by a hypervisor of ABI %u.%u, and this "
			 "one is %u.%u; restore it with the Keel that saved it",
			 ABI_MAJOR(h->abi_version), ABI_MINOR(h->abi_version),
			 ABI_MAJOR(abi_version), ABI_MINOR(abi_version));
		return -EINVAL;
	}
	if (h->nr_vcpus == 0 || h->ram_bytes == 0 || h->ram_bytes % SAVEFILE_CHUNK_BYTES) {
		snprintf(err, err_len, "its header gives %u vCPUs and %llu bytes of RAM, which "
			 "no guest has", h->nr_vcpus, (unsigned long long)h->ram_bytes);
		return -EINVAL;
	}
	return 0;
}

/* See savefile.h. */
uint64_t savefile_pad(uint64_t length)
{
	return (SAVEFILE_ALIGN - length % SAVEFILE_ALIGN) % SAVEFILE_ALIGN;
}

static bool page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;

	for (uint32_t i = 0; i < SAVEFILE_PAGE_BYTES / 8; i++)
		if (w[i])
			return false;
	return true;
}

static bool bit_set(const uint8_t *map, uint32_t i)
{
	return (map[i / 8] >> (i % 8)) & 1;
}

/* Pack the pages of @data whose bit is set in @which, or (@which NULL)
 * those that are not all zero; see savefile_chunk_pack. */
static uint64_t pack_pages(uint64_t gpa, const uint8_t *data, uint32_t len,
			   const uint8_t *which, uint8_t *out)
{
	struct savefile_ram_chunk head;
	uint64_t pos = sizeof(head);
	uint32_t i, n = len / SAVEFILE_PAGE_BYTES;

	memset(&head, 0, sizeof(head));
	head.gpa = gpa;
	head.pages = n;
	for (i = 0; i < n; i++) {
		const uint8_t *pg = data + (uint64_t)i * SAVEFILE_PAGE_BYTES;

		if (which ? !bit_set(which, i) : page_zero(pg))
			continue;
		head.present[i / 8] |= (uint8_t)(1u << (i % 8));
		memcpy(out + pos, pg, SAVEFILE_PAGE_BYTES);
		pos += SAVEFILE_PAGE_BYTES;
	}
	if (pos == sizeof(head))
		return 0;
	memcpy(out, &head, sizeof(head));
	return pos;
}

/* See savefile.h. */
uint64_t savefile_chunk_pack(uint64_t gpa, const uint8_t *data, uint32_t len, uint8_t *out)
{
	return pack_pages(gpa, data, len, NULL, out);
}

/* See savefile.h. */
uint64_t savefile_pages_pack(uint64_t gpa, const uint8_t *data, uint32_t len,
			     const uint8_t *which, uint8_t *out)
{
	return pack_pages(gpa, data, len, which, out);
}

/* Unpack a RAM or RAM_PAGES payload: pages not present are zeroed in @out,
 * or (@present given) left alone there and their bits clear in @present. */
static int unpack_pages(const uint8_t *p, uint64_t plen, uint64_t *gpa, uint32_t *len,
			uint8_t *out, uint8_t *present)
{
	struct savefile_ram_chunk head;
	uint64_t pos = sizeof(head);
	uint32_t i;

	if (plen < sizeof(head))
		return -EINVAL;
	memcpy(&head, p, sizeof(head));
	if (head.pages == 0 || head.pages > SAVEFILE_CHUNK_PAGES || head.reserved ||
	    head.gpa % SAVEFILE_PAGE_BYTES)
		return -EINVAL;
	for (i = head.pages; i < SAVEFILE_CHUNK_PAGES; i++)
		if (head.present[i / 8] & (1u << (i % 8)))
			return -EINVAL;
	for (i = 0; i < head.pages; i++) {
		uint8_t *pg = out + (uint64_t)i * SAVEFILE_PAGE_BYTES;

		if (!(head.present[i / 8] & (1u << (i % 8)))) {
			if (!present)
				memset(pg, 0, SAVEFILE_PAGE_BYTES);
			continue;
		}
		if (plen - pos < SAVEFILE_PAGE_BYTES)
			return -EINVAL;
		memcpy(pg, p + pos, SAVEFILE_PAGE_BYTES);
		pos += SAVEFILE_PAGE_BYTES;
	}
	if (pos != plen)
		return -EINVAL;
	*gpa = head.gpa;
	*len = head.pages * SAVEFILE_PAGE_BYTES;
	if (present)
		memcpy(present, head.present, sizeof(head.present));
	return 0;
}

/* See savefile.h. */
int savefile_chunk_unpack(const uint8_t *p, uint64_t plen, uint64_t *gpa, uint32_t *len,
			  uint8_t *out)
{
	return unpack_pages(p, plen, gpa, len, out, NULL);
}

/* See savefile.h. */
int savefile_pages_unpack(const uint8_t *p, uint64_t plen, uint64_t *gpa, uint32_t *len,
			  uint8_t *out, uint8_t *present)
{
	return unpack_pages(p, plen, gpa, len, out, present);
}

/* See savefile.h. */
const char *savefile_section_name(uint32_t type)
{
	switch (type) {
	case SAVEFILE_SEC_CONFIG: return "CONFIG";
	case SAVEFILE_SEC_RAM: return "RAM";
	case SAVEFILE_SEC_STATE: return "STATE";
	case SAVEFILE_SEC_END: return "END";
	case SAVEFILE_SEC_CONSOLE: return "CONSOLE";
	case SAVEFILE_SEC_RAM_PAGES: return "RAM_PAGES";
	default: return "unknown";
	}
}

/* See savefile.h. */
uint64_t savefile_section_max(uint32_t type)
{
	switch (type) {
	case SAVEFILE_SEC_CONFIG: return SAVEFILE_CONFIG_MAX_BYTES;
	case SAVEFILE_SEC_RAM:
	case SAVEFILE_SEC_RAM_PAGES: return sizeof(struct savefile_ram_chunk) + SAVEFILE_CHUNK_BYTES;
	case SAVEFILE_SEC_STATE: return SAVEFILE_STATE_MAX_BYTES;
	case SAVEFILE_SEC_END: return sizeof(uint64_t);
	case SAVEFILE_SEC_CONSOLE: return SAVEFILE_CONSOLE_MAX_BYTES;
	default: return 0;
	}
}
