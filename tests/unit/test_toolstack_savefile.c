/*
 * Unit tests for toolstack/domain/savefile.c, the `keel save` file
 * format: CRC-32 against known values, the header and each way it is
 * refused (magic, checksum, format, reserved fields, another ABI major,
 * an impossible guest), and RAM chunks packed with their zero pages left
 * out and unpacked again, including every payload that contradicts itself.
 */
#include "../../toolstack/domain/savefile.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define ABI_1_11 ((1u << 16) | 11u)

static void test_crc(void)
{
	CHECK_EQ_U64(savefile_crc32(0, "", 0), 0);
	CHECK_EQ_U64(savefile_crc32(0, "123456789", 9), 0xCBF43926u); /* the check value */
	CHECK_EQ_U64(savefile_crc32(savefile_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static void test_header(void)
{
	struct savefile_header h, bad;
	char err[256];

	savefile_header_init(&h, ABI_1_11, 1700000000, 128u << 20, 2);
	CHECK_EQ_INT(savefile_header_check(&h, ABI_1_11, err, sizeof(err)), 0);
	CHECK_EQ_INT(savefile_header_check(&h, (1u << 16) | 40u, err, sizeof(err)), 0);
	CHECK_EQ_INT(savefile_header_check(&h, 2u << 16, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "ABI 1.11") && strstr(err, "2.0"));
	bad = h;
	bad.magic[0] = 'X';
	CHECK_EQ_INT(savefile_header_check(&bad, ABI_1_11, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not a Keel save file"));
	bad = h;
	bad.ram_bytes += 4096;                 /* without a new CRC */
	CHECK_EQ_INT(savefile_header_check(&bad, ABI_1_11, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "damaged"));
	bad = h;
	bad.format = 2;
	bad.crc = header_crc(&bad);
	CHECK_EQ_INT(savefile_header_check(&bad, ABI_1_11, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "format 2"));
	bad = h;
	bad.reserved[5] = 1;
	bad.crc = header_crc(&bad);
	CHECK_EQ_INT(savefile_header_check(&bad, ABI_1_11, err, sizeof(err)), -EINVAL);
	bad = h;
	bad.ram_bytes = 3u << 20;              /* not whole 2 MiB */
	bad.crc = header_crc(&bad);
	CHECK_EQ_INT(savefile_header_check(&bad, ABI_1_11, err, sizeof(err)), -EINVAL);
	bad = h;
	bad.nr_vcpus = 0;
	bad.crc = header_crc(&bad);
	CHECK_EQ_INT(savefile_header_check(&bad, ABI_1_11, err, sizeof(err)), -EINVAL);
}

static void test_chunk(void)
{
	uint8_t *data = calloc(1, SAVEFILE_CHUNK_BYTES);
	uint8_t *packed = malloc(sizeof(struct savefile_ram_chunk) + SAVEFILE_CHUNK_BYTES);
	uint8_t *out = malloc(SAVEFILE_CHUNK_BYTES);
	struct savefile_ram_chunk head;
	uint64_t plen, gpa = 0;
	uint32_t len = 0;

	CHECK_EQ_U64(savefile_chunk_pack(1u << 21, data, SAVEFILE_CHUNK_BYTES, packed), 0);
	data[5 * SAVEFILE_PAGE_BYTES + 17] = 0xAB;        /* page 5 */
	data[SAVEFILE_CHUNK_BYTES - 1] = 0xCD;            /* page 511 */
	plen = savefile_chunk_pack(1u << 21, data, SAVEFILE_CHUNK_BYTES, packed);
	CHECK_EQ_U64(plen, sizeof(head) + 2 * SAVEFILE_PAGE_BYTES);
	memset(out, 0x55, SAVEFILE_CHUNK_BYTES);
	CHECK_EQ_INT(savefile_chunk_unpack(packed, plen, &gpa, &len, out), 0);
	CHECK_EQ_U64(gpa, 1u << 21);
	CHECK_EQ_U64(len, SAVEFILE_CHUNK_BYTES);
	CHECK(memcmp(out, data, SAVEFILE_CHUNK_BYTES) == 0); /* zero pages zeroed */
	/* a short chunk, as the 636 KiB below the BIOS area */
	plen = savefile_chunk_pack(0, data, 159 * SAVEFILE_PAGE_BYTES, packed);
	CHECK_EQ_U64(plen, sizeof(head) + SAVEFILE_PAGE_BYTES);
	CHECK_EQ_INT(savefile_chunk_unpack(packed, plen, &gpa, &len, out), 0);
	CHECK_EQ_U64(len, 159 * SAVEFILE_PAGE_BYTES);
	/* contradictions */
	CHECK_EQ_INT(savefile_chunk_unpack(packed, plen - 1, &gpa, &len, out), -EINVAL);
	CHECK_EQ_INT(savefile_chunk_unpack(packed, plen + 8, &gpa, &len, out), -EINVAL);
	CHECK_EQ_INT(savefile_chunk_unpack(packed, sizeof(head) - 1, &gpa, &len, out), -EINVAL);
	memcpy(&head, packed, sizeof(head));
	head.present[159 / 8] |= 1u << (159 % 8);          /* a page past its end */
	memcpy(packed, &head, sizeof(head));
	CHECK_EQ_INT(savefile_chunk_unpack(packed, plen, &gpa, &len, out), -EINVAL);
	head.present[159 / 8] &= (uint8_t)~(1u << (159 % 8));
	head.pages = SAVEFILE_CHUNK_PAGES + 1;
	memcpy(packed, &head, sizeof(head));
	CHECK_EQ_INT(savefile_chunk_unpack(packed, plen, &gpa, &len, out), -EINVAL);
	head.pages = 159;
	head.gpa = 100;                                    /* not page-aligned */
	memcpy(packed, &head, sizeof(head));
	CHECK_EQ_INT(savefile_chunk_unpack(packed, plen, &gpa, &len, out), -EINVAL);
	head.gpa = 0;
	head.reserved = 1;
	memcpy(packed, &head, sizeof(head));
	CHECK_EQ_INT(savefile_chunk_unpack(packed, plen, &gpa, &len, out), -EINVAL);
	free(data);
	free(packed);
	free(out);
}

static void test_sections(void)
{
	CHECK_EQ_U64(savefile_pad(0), 0);
	CHECK_EQ_U64(savefile_pad(1), 7);
	CHECK_EQ_U64(savefile_pad(8), 0);
	CHECK_EQ_STR(savefile_section_name(SAVEFILE_SEC_RAM), "RAM");
	CHECK_EQ_STR(savefile_section_name(77), "unknown");
	CHECK_EQ_U64(savefile_section_max(77), 0);
	CHECK_EQ_U64(savefile_section_max(SAVEFILE_SEC_END), 8);
}

int main(void)
{
	test_crc();
	test_header();
	test_chunk();
	test_sections();
	return harness_done("test_toolstack_savefile");
}
