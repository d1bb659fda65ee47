/*
 * Unit tests for hypervisor/common/multiboot2.c: Multiboot2 information as
 * GRUB builds it on a BIOS machine (basic sizes, an e820-style map,
 * modules) and on a UEFI one (the EFI memory map, the EFI system table
 * with its ACPI configuration entries, a framebuffer) is copied into
 * struct boot_info; malformed tag lists fail with the right error, and
 * random bytes never make the parser read outside the information.
 */
#include "../../hypervisor/common/multiboot.c"
#include "../../hypervisor/common/multiboot2.c"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define FAKE_MEM_BYTES 0x20000
#define INFO_PA 0x1000
#define SYSTAB_PA 0x8000
#define CONFIG_PA 0x9000

static unsigned char *mem;
static uint32_t limit = FAKE_MEM_BYTES; /* p2v fails at and above this */
static uint32_t end_off;                /* next free byte of the info */

static void *fake_p2v(uint64_t pa, void *ctx)
{
	(void)ctx;
	return pa < limit ? mem + pa : NULL;
}

static void put32(uint32_t pa, uint32_t v) { memcpy(mem + pa, &v, 4); }
static void put64(uint32_t pa, uint64_t v) { memcpy(mem + pa, &v, 8); }

static void start_info(void)
{
	memset(mem, 0, FAKE_MEM_BYTES);
	limit = FAKE_MEM_BYTES;
	end_off = 8;
}

/* Append a tag of `size` bytes (payload after the 8-byte header) */
static uint32_t tag(uint32_t type, uint32_t size, const void *payload)
{
	uint32_t at = INFO_PA + end_off;

	put32(at, type);
	put32(at + 4, size);
	if (payload)
		memcpy(mem + at + 8, payload, size - 8);
	end_off += (size + 7) & ~7u;
	return at;
}

static void end_info(void)
{
	tag(0, 8, NULL);
	put32(INFO_PA, end_off);
}

static void cmdline_tag(const char *s)
{
	tag(1, 8 + (uint32_t)strlen(s) + 1, s);
}

static void module_tag(uint32_t start, uint32_t end, const char *s)
{
	uint8_t buf[128] = { 0 };

	memcpy(buf, &start, 4);
	memcpy(buf + 4, &end, 4);
	strcpy((char *)buf + 8, s);
	tag(3, 16 + (uint32_t)strlen(s) + 1, buf);
}

static void basic_tag(uint32_t lower_kib, uint32_t upper_kib)
{
	uint32_t v[2] = { lower_kib, upper_kib };

	tag(4, 16, v);
}

struct e820e { uint64_t base, len; uint32_t type, zero; };

static void mmap_tag(const struct e820e *e, uint32_t n)
{
	uint8_t buf[1024] = { 0 };
	uint32_t hdr[2] = { 24, 0 };

	memcpy(buf, hdr, 8);
	memcpy(buf + 8, e, n * 24);
	tag(6, 16 + n * 24, buf);
}

struct efi_md { uint32_t type, pad; uint64_t phys, virt, pages, attr, extra; };

static void efi_mmap_tag(const struct efi_md *d, uint32_t n)
{
	uint8_t buf[2048] = { 0 };
	uint32_t hdr[2] = { 48, 1 };    /* descriptor size 48, as OVMF's */

	memcpy(buf, hdr, 8);
	memcpy(buf + 8, d, n * 48);
	tag(17, 16 + n * 48, buf);
}

static const uint8_t guid20[16] = { 0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
				    0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
static const uint8_t guid10[16] = { 0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
				    0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };
static const uint8_t guid_other[16] = { 1, 2, 3 };

/* An EFI system table at SYSTAB_PA whose configuration table holds the
 * given entries (GUID, pointer). */
static void systab(const uint8_t (*guids[])[16], const uint64_t *ptrs, uint32_t n)
{
	put64(SYSTAB_PA, 0x5453595320494249ull);
	put64(SYSTAB_PA + 104, n);
	put64(SYSTAB_PA + 112, CONFIG_PA);
	for (uint32_t i = 0; i < n; i++) {
		memcpy(mem + CONFIG_PA + i * 24, guids[i], 16);
		put64(CONFIG_PA + i * 24 + 16, ptrs[i]);
	}
}

static void efi64_tag(uint64_t pa)
{
	tag(12, 16, &pa);
}

static int parse(struct boot_info *bi)
{
	return mb2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PA, fake_p2v, NULL, bi);
}

/* GRUB on SeaBIOS: basic sizes, then the e820 map, which wins. */
static void test_bios(void)
{
	static struct boot_info bi;
	struct e820e e[] = {
		{ 0, 0x9fc00, 1, 0 }, { 0x9fc00, 0x400, 2, 0 }, { 0x100000, 0x7fee0000, 1, 0 },
	};

	start_info();
	tag(2, 8 + 5, "GRUB");          /* loader name: ignored */
	cmdline_tag("/keel.gz console=com1 loglvl=debug");
	basic_tag(639, 2096000);
	mmap_tag(e, 3);
	module_tag(0x200000, 0x900000, "/vmlinuz console=ttyS0");
	module_tag(0x900000, 0x1900000, "/initrd.img");
	end_info();
	CHECK_EQ_INT(parse(&bi), 0);
	CHECK_EQ_STR(bi.cmdline, "/keel.gz console=com1 loglvl=debug");
	CHECK_EQ_U64(bi.nr_ranges, 3);
	CHECK_EQ_U64(bi.ranges[2].base, 0x100000);
	CHECK_EQ_U64(bi.ranges[2].len, 0x7fee0000);
	CHECK_EQ_U64(bi.ranges[1].type, 2);
	CHECK_EQ_U64(bi.nr_modules, 2);
	CHECK_EQ_U64(bi.modules[0].start, 0x200000);
	CHECK_EQ_U64(bi.modules[1].end, 0x1900000);
	CHECK_EQ_STR(bi.modules[0].string, "/vmlinuz console=ttyS0");
	CHECK_EQ_STR(bi.modules[1].string, "/initrd.img");
	CHECK_EQ_U64(bi.firmware, BOOT_FW_BIOS);
	CHECK_EQ_U64(bi.rsdp_pa, 0);
	CHECK_EQ_U64(bi.fb.addr, 0);

	/* only the basic sizes */
	start_info();
	basic_tag(639, 1024);
	end_info();
	CHECK_EQ_INT(parse(&bi), 0);
	CHECK_EQ_U64(bi.nr_ranges, 2);
	CHECK_EQ_U64(bi.ranges[1].len, 1024 * 1024);
	/* boot_info_parse dispatches on the magic */
	CHECK_EQ_INT(boot_info_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PA, fake_p2v, NULL, &bi), 0);
	CHECK_EQ_INT(boot_info_parse(0x12345678, INFO_PA, fake_p2v, NULL, &bi), -EINVAL);
}

/* GRUB on OVMF: an e820 map, then the EFI map, which wins (types
 * converted, neighbours of one kind merged); the RSDP comes from the
 * system table's ACPI 2.0 entry; the GOP framebuffer. */
static void test_uefi(void)
{
	static struct boot_info bi;
	struct e820e e[] = { { 0, 0x1000, 1, 0 } };
	struct efi_md d[] = {
		{ 3, 0, 0x0, 0, 0x9f, 0, 0 },          /* boot services code: RAM */
		{ 7, 0, 0x9f000, 0, 0x1, 0, 0 },       /* conventional: merges */
		{ 6, 0, 0xa0000, 0, 0x60, 0, 0 },      /* runtime data: reserved */
		{ 2, 0, 0x100000, 0, 0x700, 0, 0 },    /* loader data: RAM */
		{ 4, 0, 0x800000, 0, 0x7000, 0, 0 },   /* boot services data: merges */
		{ 9, 0, 0x7800000, 0, 0x10, 0, 0 },    /* ACPI reclaim */
		{ 10, 0, 0x7810000, 0, 0x10, 0, 0 },   /* ACPI NVS */
		{ 11, 0, 0xffc00000, 0, 0x400, 0, 0 }, /* MMIO: reserved */
		{ 7, 0, 0x100000000ull, 0, 0x40000, 0, 0 },
	};
	const uint8_t (*guids[3])[16] = { &guid_other, &guid10, &guid20 };
	uint64_t ptrs[3] = { 0x1111, 0x7811000, 0x7812000 };
	uint8_t fb[30] = { 0 };
	uint64_t fb_addr = 0x80000000ull;
	uint32_t pitch = 4096, w = 1024, h = 768;

	start_info();
	cmdline_tag("/keel.gz");
	mmap_tag(e, 1);
	efi_mmap_tag(d, 9);
	memcpy(fb, &fb_addr, 8);
	memcpy(fb + 8, &pitch, 4);
	memcpy(fb + 12, &w, 4);
	memcpy(fb + 16, &h, 4);
	fb[20] = 32;
	fb[21] = 1;                     /* RGB */
	fb[24] = 16; fb[25] = 8; fb[26] = 8; fb[27] = 8; fb[28] = 0; fb[29] = 8;
	tag(8, 38, fb);
	systab(guids, ptrs, 3);
	efi64_tag(SYSTAB_PA);
	end_info();
	CHECK_EQ_INT(parse(&bi), 0);
	CHECK_EQ_U64(bi.firmware, BOOT_FW_UEFI);
	CHECK_EQ_U64(bi.efi_systab_pa, SYSTAB_PA);
	CHECK_EQ_U64(bi.rsdp_pa, 0x7812000);
	CHECK_EQ_U64(bi.nr_ranges, 7);
	CHECK_EQ_U64(bi.ranges[0].base, 0);
	CHECK_EQ_U64(bi.ranges[0].len, 0xa0000);
	CHECK_EQ_U64(bi.ranges[0].type, E820_RAM);
	CHECK_EQ_U64(bi.ranges[1].type, E820_RESERVED);
	CHECK_EQ_U64(bi.ranges[2].base, 0x100000);
	CHECK_EQ_U64(bi.ranges[2].len, 0x7700000);
	CHECK_EQ_U64(bi.ranges[3].type, E820_ACPI);
	CHECK_EQ_U64(bi.ranges[4].type, E820_NVS);
	CHECK_EQ_U64(bi.ranges[5].type, E820_RESERVED);
	CHECK_EQ_U64(bi.ranges[6].len, 0x40000000ull);
	CHECK_EQ_U64(bi.fb.addr, 0x80000000ull);
	CHECK_EQ_U64(bi.fb.width, 1024);
	CHECK_EQ_U64(bi.fb.height, 768);
	CHECK_EQ_U64(bi.fb.pitch, 4096);
	CHECK_EQ_U64(bi.fb.bpp, 32);
	CHECK_EQ_U64(bi.fb.red_pos, 16);
	CHECK_EQ_U64(bi.fb.blue_size, 8);

	/* only an ACPI 1.0 entry; then a system table with a bad signature */
	guids[2] = &guid_other;
	systab(guids, ptrs, 3);
	CHECK_EQ_INT(parse(&bi), 0);
	CHECK_EQ_U64(bi.rsdp_pa, 0x7811000);
	put64(SYSTAB_PA, 0);
	CHECK_EQ_INT(parse(&bi), 0);
	CHECK_EQ_U64(bi.rsdp_pa, 0);
	CHECK_EQ_U64(bi.firmware, BOOT_FW_UEFI);
}

static void test_errors(void)
{
	static struct boot_info bi;
	uint32_t i;

	start_info();
	basic_tag(639, 1024);
	end_info();
	CHECK_EQ_INT(mb2_parse(0x2BADB002, INFO_PA, fake_p2v, NULL, &bi), -EINVAL);
	CHECK_EQ_INT(mb2_parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO_PA + 4, fake_p2v, NULL, &bi),
		     -EINVAL);                              /* misaligned */
	limit = INFO_PA + 16;
	CHECK_EQ_INT(parse(&bi), -EFAULT);                  /* info not all there */
	limit = FAKE_MEM_BYTES;
	put32(INFO_PA, 12);
	CHECK_EQ_INT(parse(&bi), -EINVAL);                  /* total too small */
	put32(INFO_PA, end_off - 8);
	CHECK_EQ_INT(parse(&bi), -EINVAL);                  /* end tag cut off */
	put32(INFO_PA, end_off);
	put32(INFO_PA + 8 + 4, 0x10000);
	CHECK_EQ_INT(parse(&bi), -EINVAL);                  /* tag beyond the end */
	put32(INFO_PA + 8 + 4, 4);
	CHECK_EQ_INT(parse(&bi), -EINVAL);                  /* tag shorter than its header */

	start_info();                                       /* no memory information */
	cmdline_tag("x");
	end_info();
	CHECK_EQ_INT(parse(&bi), -EINVAL);

	start_info();
	basic_tag(639, 1024);
	for (i = 0; i <= BOOT_INFO_MAX_MODULES; i++)
		module_tag(0x100000, 0x200000, "m");
	end_info();
	CHECK_EQ_INT(parse(&bi), -E2BIG);

	start_info();
	basic_tag(639, 1024);
	module_tag(0x200000, 0x100000, "backwards");
	end_info();
	CHECK_EQ_INT(parse(&bi), -EINVAL);

	/* an entry size that wraps the offset (found by fuzz_multiboot2) */
	start_info();
	{
		uint32_t hdr[2] = { 0xfffffff8u, 0 };

		tag(6, 16, hdr);
		tag(17, 16, hdr);
	}
	end_info();
	CHECK_EQ_INT(parse(&bi), -EINVAL);                  /* no range in either map */

	start_info();                                       /* too many EFI ranges */
	{
		static struct efi_md d[BOOT_INFO_MAX_RANGES + 1];

		for (i = 0; i <= BOOT_INFO_MAX_RANGES; i++)
			d[i] = (struct efi_md){ i % 2 ? 7 : 11, 0, i * 0x2000ull, 0, 1, 0, 0 };
		efi_mmap_tag(d, 20);                        /* fits */
	}
	end_info();
	CHECK_EQ_INT(parse(&bi), 0);
	CHECK_EQ_U64(bi.nr_ranges, 20);
}

/* Random information: any result, but no read outside it (ASan) and no
 * range or module beyond the limits. */
static void test_random(void)
{
	static struct boot_info bi;
	uint32_t seed = 12345, round, i;

	for (round = 0; round < 20000; round++) {
		uint32_t len = 16 + (seed % 512);

		start_info();
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			mem[INFO_PA + i] = (uint8_t)(seed >> 16);
		}
		if (round % 2) {                            /* plausible tag sizes */
			put32(INFO_PA, len);
			put32(INFO_PA + 12, len - 8 - (seed % 16));
		}
		limit = INFO_PA + len;
		if (parse(&bi) == 0) {
			CHECK(bi.nr_ranges > 0 && bi.nr_ranges <= BOOT_INFO_MAX_RANGES);
			CHECK(bi.nr_modules <= BOOT_INFO_MAX_MODULES);
		}
	}
}

int main(void)
{
	mem = calloc(1, FAKE_MEM_BYTES);
	test_bios();
	test_uefi();
	test_errors();
	test_random();
	free(mem);
	return harness_done("multiboot2");
}
