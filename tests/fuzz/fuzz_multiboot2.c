/*
 * libFuzzer target for the Multiboot2 parser (hypervisor/common/
 * multiboot2.c). Each input is the boot information itself, placed at a
 * fake physical address; the rest of the fake memory is reachable through
 * p2v only up to the end of the input, so a read past it is a NULL the
 * parser must handle, and ASan catches any read past the buffer. An
 * accepted input must give at least one and at most BOOT_INFO_MAX_RANGES
 * ranges, at most BOOT_INFO_MAX_MODULES modules with start <= end, and
 * NUL-terminated strings. Build and run from the repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=all -Ihypervisor/include \
 *       tests/fuzz/fuzz_multiboot2.c -o /tmp/fuzz_multiboot2
 *   ./tests/fuzz/run.sh --seconds 60 fuzz_multiboot2
 */
#include "../../hypervisor/common/multiboot.c"
#include "../../hypervisor/common/multiboot2.c"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#define INFO_PA 0x1000u

static const uint8_t *fdata;
static size_t fsize;

/* Physical INFO_PA.. maps onto the input; everything else is absent. */
static void *fuzz_p2v(uint64_t pa, void *ctx)
{
	(void)ctx;
	if (pa < INFO_PA || pa - INFO_PA >= fsize)
		return NULL;
	return (void *)(fdata + (pa - INFO_PA));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	uint8_t *copy;
	uint32_t i;

	if (size < 8)
		return 0;
	copy = malloc(size);            /* an exact-size heap block for ASan */
	memcpy(copy, data, size);
	fdata = copy;
	fsize = size;
	if (mb2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PA, fuzz_p2v, NULL, &bi) == 0) {
		FUZZ_ASSERT(bi.nr_ranges >= 1 && bi.nr_ranges <= BOOT_INFO_MAX_RANGES);
		FUZZ_ASSERT(bi.nr_modules <= BOOT_INFO_MAX_MODULES);
		FUZZ_ASSERT(memchr(bi.cmdline, 0, sizeof(bi.cmdline)) != NULL);
		for (i = 0; i < bi.nr_modules; i++) {
			FUZZ_ASSERT(bi.modules[i].start <= bi.modules[i].end);
			FUZZ_ASSERT(memchr(bi.modules[i].string, 0,
					  sizeof(bi.modules[i].string)) != NULL);
		}
	}
	free(copy);
	return 0;
}
