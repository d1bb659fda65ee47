/*
 * The file `keel save` writes and `keel restore` reads (docs/save-restore.md):
 * a 64-byte header (no padding in it), then sections, each a 16-byte section header (type,
 * CRC-32 of the payload, payload length), the payload and zero padding to
 * 8 bytes. Sections: the config the guest was built from (CONFIG), its
 * RAM in chunks of up to 2 MiB with all-zero pages left out (RAM, one per
 * chunk that is not all zero), after them, in a live save (keel save
 * --live), the pages the guest wrote while its RAM was being copied
 * (RAM_PAGES, as RAM but pages not listed stay as they are, and a listed
 * page may be all zero; a later one wins), the hypervisor's state records (STATE), the
 * console's history (CONSOLE, up to 64 KiB, as the hypervisor's ring), and
 * END, whose payload is the file's length before it, so a file cut short
 * is told from a damaged one. Little-endian, as the machine that reads
 * it. Pure functions: unit-tested on the host.
 */
#ifndef KEEL_TOOLSTACK_SAVEFILE_H
#define KEEL_TOOLSTACK_SAVEFILE_H

#include <stddef.h>
#include <stdint.h>

#define SAVEFILE_MAGIC "KEELSAV\n"
#define SAVEFILE_FORMAT 1u
#define SAVEFILE_ALIGN 8u
#define SAVEFILE_PAGE_BYTES 4096u
#define SAVEFILE_CHUNK_BYTES (2u << 20)
#define SAVEFILE_CHUNK_PAGES (SAVEFILE_CHUNK_BYTES / SAVEFILE_PAGE_BYTES)
#define SAVEFILE_CONFIG_MAX_BYTES (1u << 20)
#define SAVEFILE_STATE_MAX_BYTES (64u << 10)

#define SAVEFILE_SEC_CONFIG 1u
#define SAVEFILE_SEC_RAM 2u
#define SAVEFILE_SEC_STATE 3u
#define SAVEFILE_SEC_END 4u
#define SAVEFILE_SEC_CONSOLE 5u   /* the console's history; optional */
#define SAVEFILE_SEC_RAM_PAGES 6u /* pages written during a live save */
#define SAVEFILE_CONSOLE_MAX_BYTES (64u << 10)

struct savefile_header {
	char magic[8];          /* SAVEFILE_MAGIC */
	uint32_t format;        /* SAVEFILE_FORMAT */
	uint32_t abi_version;   /* the saving hypervisor's KEEL_ABI_VERSION */
	uint64_t saved_utc_s;   /* dom0's clock at the save */
	uint64_t ram_bytes;     /* the guest's RAM */
	uint32_t nr_vcpus;
	uint32_t reserved[6];   /* 0 */
	uint32_t crc;           /* CRC-32 of the 60 bytes before it */
};

struct savefile_section {
	uint32_t type;          /* SAVEFILE_SEC_* */
	uint32_t crc;           /* CRC-32 of the payload */
	uint64_t length;        /* payload bytes, without padding */
};

/* The head of a RAM section's payload; then a bit per page (set: the page
 * follows), then the pages whose bit is set, in order. */
struct savefile_ram_chunk {
	uint64_t gpa;           /* guest-physical, page-aligned */
	uint32_t pages;         /* 1..SAVEFILE_CHUNK_PAGES */
	uint32_t reserved;      /* 0 */
	uint8_t present[SAVEFILE_CHUNK_PAGES / 8];
};

/* CRC-32 (IEEE 802.3, as zlib's crc32) of @len bytes at @p, continuing
 * from @crc (0 to start). */
uint32_t savefile_crc32(uint32_t crc, const void *p, size_t len);

/* Fill @h for a guest of @ram_bytes and @nr_vcpus saved at @utc_s by a
 * hypervisor of ABI @abi_version, with its CRC. */
void savefile_header_init(struct savefile_header *h, uint32_t abi_version, uint64_t utc_s,
			  uint64_t ram_bytes, uint32_t nr_vcpus);

/*
 * Check header @h against this hypervisor's ABI @abi_version: the magic,
 * format, CRC, reserved fields and ABI major version. Returns 0, or
 * -EINVAL with what is wrong and what to do in @err.
 */
int savefile_header_check(const struct savefile_header *h, uint32_t abi_version, char *err,
			  size_t err_len);

/* Bytes of padding after a payload of @length. */
uint64_t savefile_pad(uint64_t length);

/*
 * Pack the @len bytes (a multiple of the page size, at most a chunk) of
 * guest RAM at @gpa in @data into a RAM section payload at @out (room for
 * sizeof(struct savefile_ram_chunk) + @len). Returns the payload's
 * length, or 0 when every page is zero (nothing to save).
 */
uint64_t savefile_chunk_pack(uint64_t gpa, const uint8_t *data, uint32_t len, uint8_t *out);

/*
 * Unpack a RAM section payload (@plen bytes at @p) into @out (room for a
 * chunk): *@gpa and *@len get its place and size; pages not present read
 * as zero. Returns 0, or -EINVAL when the payload contradicts itself
 * (size, reserved field, alignment, more or fewer pages than marked).
 */
int savefile_chunk_unpack(const uint8_t *p, uint64_t plen, uint64_t *gpa, uint32_t *len,
			  uint8_t *out);

/*
 * As savefile_chunk_pack, for a RAM_PAGES section: the pages whose bit is
 * set in @which (bit i % 8 of byte i / 8 for page i), zero or not.
 * Returns the payload's length, or 0 when no bit is set.
 */
uint64_t savefile_pages_pack(uint64_t gpa, const uint8_t *data, uint32_t len,
			     const uint8_t *which, uint8_t *out);

/*
 * As savefile_chunk_unpack, for a RAM_PAGES section: only the pages it
 * holds are written to @out (at their offsets), and their bits set in
 * @present (SAVEFILE_CHUNK_PAGES / 8 bytes); the rest of @out is left
 * alone.
 */
int savefile_pages_unpack(const uint8_t *p, uint64_t plen, uint64_t *gpa, uint32_t *len,
			  uint8_t *out, uint8_t *present);

/* Name of section type @type ("CONFIG", "RAM", ...; "unknown"). */
const char *savefile_section_name(uint32_t type);

/* Largest payload a section of @type may have (0: an unknown type). */
uint64_t savefile_section_max(uint32_t type);

#endif /* KEEL_TOOLSTACK_SAVEFILE_H */
