/*
 * Unit tests for toolstack/domain/savefile.c, the `keel save` file
 * format: CRC-32 against known values, the header and each way it is
 * refused (magic, checksum, format, reserved fields, another ABI major,
 * an impossible guest), RAM chunks packed with their zero pages left out
 * and unpacked again, including every payload that contradicts itself, and
 * a live save's RAM_PAGES sections (the chosen pages, zero or not, written
 * over what is there and nothing else), with the pre-copy policy of
 * toolstack/domain/precopy.c.
 */
#include "../../toolstack/domain/precopy.c"
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

/* RAM_PAGES: only the marked pages travel, zero ones too, and unpacking
 * leaves every other page of the buffer as it was. */
static void test_pages(void)
{
	uint8_t *data = calloc(1, SAVEFILE_CHUNK_BYTES);
	uint8_t *packed = malloc(sizeof(struct savefile_ram_chunk) + SAVEFILE_CHUNK_BYTES);
	uint8_t *out = malloc(SAVEFILE_CHUNK_BYTES);
	uint8_t which[SAVEFILE_CHUNK_PAGES / 8] = { 0 }, present[SAVEFILE_CHUNK_PAGES / 8];
	uint64_t plen, gpa = 0;
	uint32_t len = 0, i, bad = 0;

	CHECK_EQ_U64(savefile_pages_pack(0, data, SAVEFILE_CHUNK_BYTES, which, packed), 0);
	memset(data + 3 * SAVEFILE_PAGE_BYTES, 0x11, SAVEFILE_PAGE_BYTES);  /* page 3 */
	memset(data + 9 * SAVEFILE_PAGE_BYTES, 0x22, SAVEFILE_PAGE_BYTES);  /* 9, unmarked */
	which[0] = 1u << 3;                      /* page 3 */
	which[1] = 1u << 0;                      /* page 8: all zero, but marked */
	plen = savefile_pages_pack(4u << 21, data, SAVEFILE_CHUNK_BYTES, which, packed);
	CHECK_EQ_U64(plen, sizeof(struct savefile_ram_chunk) + 2 * SAVEFILE_PAGE_BYTES);
	memset(out, 0x77, SAVEFILE_CHUNK_BYTES);
	CHECK_EQ_INT(savefile_pages_unpack(packed, plen, &gpa, &len, out, present), 0);
	CHECK_EQ_U64(gpa, 4u << 21);
	CHECK_EQ_U64(len, SAVEFILE_CHUNK_BYTES);
	CHECK(memcmp(present, which, sizeof(which)) == 0);
	CHECK_EQ_U64(out[3 * SAVEFILE_PAGE_BYTES + 100], 0x11);
	CHECK_EQ_U64(out[8 * SAVEFILE_PAGE_BYTES + 100], 0);    /* the zero page came */
	for (i = 0; i < SAVEFILE_CHUNK_BYTES; i++)
		if (i / SAVEFILE_PAGE_BYTES != 3 && i / SAVEFILE_PAGE_BYTES != 8 && out[i] != 0x77)
			bad++;
	CHECK_EQ_U64(bad, 0);                                   /* the rest untouched */
	CHECK_EQ_INT(savefile_pages_unpack(packed, plen - 8, &gpa, &len, out, present),
		     -EINVAL);
	CHECK_EQ_U64(savefile_section_max(SAVEFILE_SEC_RAM_PAGES),
		     savefile_section_max(SAVEFILE_SEC_RAM));
	CHECK(strcmp(savefile_section_name(SAVEFILE_SEC_RAM_PAGES), "RAM_PAGES") == 0);
	free(data);
	free(packed);
	free(out);
}

/* The pre-copy policy: stop when few pages are left, when the count stops
 * falling after a few rounds, and after the last round in any case. */
static void test_precopy(void)
{
	struct precopy p;
	uint32_t i;

	memset(&p, 0, sizeof(p));
	CHECK(precopy_should_stop(&p, PRECOPY_FEW_PAGES));     /* idle guest: at once */
	CHECK_EQ_U64(p.rounds, 0);
	memset(&p, 0, sizeof(p));
	CHECK(!precopy_should_stop(&p, 5000));
	CHECK(!precopy_should_stop(&p, 3000));
	CHECK(!precopy_should_stop(&p, 4000));                  /* early: one bad round */
	CHECK(precopy_should_stop(&p, 200));
	CHECK_EQ_U64(p.rounds, 3);
	CHECK_EQ_U64(p.dirty[1], 3000);
	/* a guest that writes as fast as the copy: stops once it stalls */
	memset(&p, 0, sizeof(p));
	for (i = 0; i < PRECOPY_STALL_ROUNDS; i++)
		CHECK(!precopy_should_stop(&p, 10000 - i));
	CHECK(precopy_should_stop(&p, 10000));
	CHECK_EQ_U64(p.rounds, PRECOPY_STALL_ROUNDS);
	/* falling slowly: stops at the last round */
	memset(&p, 0, sizeof(p));
	for (i = 0; i < PRECOPY_MAX_ROUNDS; i++)
		CHECK(!precopy_should_stop(&p, 100000 - i));
	CHECK(precopy_should_stop(&p, 90000));
	CHECK_EQ_U64(p.rounds, PRECOPY_MAX_ROUNDS);
}

int main(void)
{
	test_pages();
	test_precopy();
	test_crc();
	test_header();
	test_chunk();
	test_sections();
	return harness_done("test_toolstack_savefile");
}
