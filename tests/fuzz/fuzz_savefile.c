/*
 * libFuzzer target for what `keel restore` takes from a save file before
 * it trusts anything in it (toolstack/domain/savefile.c): the header
 * check and the unpacking of RAM and RAM_PAGES sections, and for the hypervisor's check
 * of a saved FPU area and XCR0 (hypervisor/arch/x86/fpu_check.c), which
 * stands between that file and XRSTOR/XSETBV. The contract: nothing is
 * read beyond the input (ASan); a RAM payload that unpacks packs back to
 * to a payload that unpacks to the same memory (nothing is silently
 * changed) and never writes beyond one chunk; an accepted header has
 * whole 2 MiB of RAM and at least one vCPU; an accepted XCR0 has x87 on
 * and nothing beyond the host's components. Run with tests/fuzz/run.sh.
 */
#include "../../toolstack/domain/savefile.c"
#include "../../hypervisor/arch/x86/fpu_check.c"
#include "fuzz.h"

#define HOST_XCR0 0x2E7ull

static uint8_t chunk[SAVEFILE_CHUNK_BYTES], again[SAVEFILE_CHUNK_BYTES];
static uint8_t packed[sizeof(struct savefile_ram_chunk) + SAVEFILE_CHUNK_BYTES];

static void fuzz_header(const uint8_t *data, size_t size)
{
	struct savefile_header h;
	char err[256];

	if (size < sizeof(h))
		return;
	memcpy(&h, data, sizeof(h));
	if (savefile_header_check(&h, (1u << 16) | 11u, err, sizeof(err)) == 0)
		FUZZ_ASSERT(h.nr_vcpus && h.ram_bytes && h.ram_bytes % SAVEFILE_CHUNK_BYTES == 0);
	else
		FUZZ_ASSERT(memchr(err, 0, sizeof(err)) && err[0]);
}

static void fuzz_chunk(const uint8_t *data, size_t size)
{
	uint64_t gpa, gpa2, plen;
	uint32_t len, len2;

	if (savefile_chunk_unpack(data, size, &gpa, &len, chunk))
		return;
	FUZZ_ASSERT(len && len <= SAVEFILE_CHUNK_BYTES && gpa % SAVEFILE_PAGE_BYTES == 0);
	plen = savefile_chunk_pack(gpa, chunk, len, packed);
	if (!plen)  /* every page zero */
		return;
	FUZZ_ASSERT(savefile_chunk_unpack(packed, plen, &gpa2, &len2, again) == 0);
	FUZZ_ASSERT(gpa2 == gpa && len2 == len && memcmp(again, chunk, len) == 0);
}

/* A live save's RAM_PAGES payload: what unpacks packs back to the same
 * payload's pages, and the pages not listed are left as they were. */
static void fuzz_pages(const uint8_t *data, size_t size)
{
	uint8_t present[SAVEFILE_CHUNK_PAGES / 8], present2[SAVEFILE_CHUNK_PAGES / 8];
	uint64_t gpa, gpa2, plen;
	uint32_t len, len2, i;

	memset(chunk, 0x5A, SAVEFILE_CHUNK_BYTES);
	if (savefile_pages_unpack(data, size, &gpa, &len, chunk, present))
		return;
	FUZZ_ASSERT(len && len <= SAVEFILE_CHUNK_BYTES && gpa % SAVEFILE_PAGE_BYTES == 0);
	for (i = len / SAVEFILE_PAGE_BYTES; i < SAVEFILE_CHUNK_PAGES; i++)
		FUZZ_ASSERT(!((present[i / 8] >> (i % 8)) & 1));
	plen = savefile_pages_pack(gpa, chunk, len, present, packed);
	if (!plen)  /* no page listed */
		return;
	memset(again, 0x5A, SAVEFILE_CHUNK_BYTES);
	FUZZ_ASSERT(savefile_pages_unpack(packed, plen, &gpa2, &len2, again, present2) == 0);
	FUZZ_ASSERT(gpa2 == gpa && len2 == len && memcmp(present, present2, sizeof(present)) == 0);
	FUZZ_ASSERT(memcmp(again, chunk, len) == 0);
}

static void fuzz_fpu(const uint8_t *data, size_t size)
{
	uint64_t xcr0;

	if (size < 8)
		return;
	memcpy(&xcr0, data, 8);
	if (fpu_xcr0_ok(xcr0, HOST_XCR0))
		FUZZ_ASSERT((xcr0 & 1) && !(xcr0 & ~HOST_XCR0));
	(void)fpu_area_ok(data, (uint32_t)size, true, HOST_XCR0, 0xFFFF);
	(void)fpu_area_ok(data, (uint32_t)size, false, 0, 0xFFBF);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_header(data + 1, size - 1);
		break;
	case 1:
		fuzz_chunk(data + 1, size - 1);
		break;
	case 2:
		fuzz_pages(data + 1, size - 1);
		break;
	default:
		fuzz_fpu(data + 1, size - 1);
		break;
	}
	return 0;
}
