/*
 * Unit tests for hypervisor/common/multiboot.c: a fake physical memory
 * holds Multiboot information, memory maps (with padded entries, 64-bit
 * addresses, too many entries, corrupt sizes), command lines (including
 * over-long ones) and modules; mb_parse must copy all of it or fail with
 * the right error.
 */
#include "../../hypervisor/common/multiboot.c"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define FAKE_MEM_BYTES 0x20000
#define INFO_PA 0x1000
#define CMDLINE_PA 0x2000
#define MMAP_PA 0x4000
#define MODS_PA 0x8000
#define STRINGS_PA 0x9000

static unsigned char *mem;

static void *fake_p2v(uint64_t pa, void *ctx)
{
	(void)ctx;
	return pa < FAKE_MEM_BYTES ? mem + pa : NULL;
}

static struct multiboot_info *info(void)
{
	return (struct multiboot_info *)(mem + INFO_PA);
}

static void reset(void)
{
	memset(mem, 0, FAKE_MEM_BYTES);
}

/* Appends an mmap entry with the given size field; returns next offset. */
static uint32_t put_mmap(uint32_t off, uint32_t size, uint64_t base,
			 uint64_t len, uint32_t type)
{
	struct multiboot_mmap_entry e = { size, base, len, type };

	memcpy(mem + MMAP_PA + off, &e, sizeof(e));
	info()->mmap_length = off + size + 4;
	return off + size + 4;
}

static void put_module(uint32_t i, uint32_t start, uint32_t end,
		       const char *s)
{
	struct multiboot_module m = { start, end, 0, 0 };

	if (s) {
		m.string = STRINGS_PA + i * 0x100;
		strcpy((char *)mem + m.string, s);
	}
	memcpy(mem + MODS_PA + i * sizeof(m), &m, sizeof(m));
}

static void setup_qemu_like(void)
{
	uint32_t off = 0;

	reset();
	info()->flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE |
			MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_MODS;
	info()->mem_lower = 639;
	info()->mem_upper = 2096000;
	info()->cmdline = CMDLINE_PA;
	strcpy((char *)mem + CMDLINE_PA, "/keel.gz console=com1 loglvl=debug");
	info()->mmap_addr = MMAP_PA;
	off = put_mmap(off, 20, 0, 0x9fc00, E820_RAM);
	off = put_mmap(off, 20, 0x9fc00, 0x400, E820_RESERVED);
	off = put_mmap(off, 24, 0xf0000, 0x10000, E820_RESERVED); /* padded */
	off = put_mmap(off, 20, 0x100000, 0x7fee0000, E820_RAM);
	off = put_mmap(off, 20, 0x7ffe0000, 0x20000, E820_RESERVED);
	off = put_mmap(off, 20, 0xfffc0000, 0x40000, E820_RESERVED);
	off = put_mmap(off, 20, 0x100000000ull, 0x180000000ull, E820_RAM);
	(void)off;
	info()->mods_count = 2;
	info()->mods_addr = MODS_PA;
	put_module(0, 0x1000000, 0x1800000, "/vmlinuz root=/dev/ram0");
	put_module(1, 0x1800000, 0x2000123, "/initrd.img");
}

static void test_normal(void)
{
	struct boot_info *bi = malloc(sizeof(*bi));

	setup_qemu_like();
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_STR(bi->cmdline, "/keel.gz console=com1 loglvl=debug");
	CHECK_EQ_U64(bi->nr_ranges, 7);
	CHECK_EQ_U64(bi->ranges[0].base, 0);
	CHECK_EQ_U64(bi->ranges[0].len, 0x9fc00);
	CHECK_EQ_U64(bi->ranges[0].type, E820_RAM);
	CHECK_EQ_U64(bi->ranges[2].base, 0xf0000);
	CHECK_EQ_U64(bi->ranges[2].type, E820_RESERVED);
	CHECK_EQ_U64(bi->ranges[3].base, 0x100000);
	CHECK_EQ_U64(bi->ranges[3].len, 0x7fee0000);
	CHECK_EQ_U64(bi->ranges[6].base, 0x100000000ull);
	CHECK_EQ_U64(bi->ranges[6].len, 0x180000000ull);
	CHECK_EQ_U64(bi->ranges[6].type, E820_RAM);
	CHECK_EQ_U64(bi->nr_modules, 2);
	CHECK_EQ_U64(bi->modules[0].start, 0x1000000);
	CHECK_EQ_U64(bi->modules[0].end, 0x1800000);
	CHECK_EQ_STR(bi->modules[0].string, "/vmlinuz root=/dev/ram0");
	CHECK_EQ_U64(bi->modules[1].end, 0x2000123);
	CHECK_EQ_STR(bi->modules[1].string, "/initrd.img");

	/* Copies are independent of the loader's memory. */
	mem[CMDLINE_PA] = 'X';
	CHECK(bi->cmdline[0] == '/');

	/* Without the MODS flag, modules are ignored. */
	setup_qemu_like();
	info()->flags &= ~MULTIBOOT_INFO_MODS;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_U64(bi->nr_modules, 0);
	/* Without the CMDLINE flag, the command line is empty. */
	info()->flags &= ~MULTIBOOT_INFO_CMDLINE;
	memset(bi->cmdline, 'q', sizeof(bi->cmdline));
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_STR(bi->cmdline, "");
	/* A module without a string gets an empty one. */
	setup_qemu_like();
	put_module(1, 0x1800000, 0x1900000, NULL);
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_STR(bi->modules[1].string, "");
	free(bi);
}

static void test_truncation(void)
{
	struct boot_info *bi = malloc(sizeof(*bi));

	setup_qemu_like();
	memset(mem + CMDLINE_PA, 'c', 3000);
	mem[CMDLINE_PA + 3000] = 0;
	memset(mem + STRINGS_PA, 'm', 0xff);
	mem[STRINGS_PA + 0xff] = 0; /* module 0's string: 255 chars, fits */
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_U64(strlen(bi->cmdline), BOOT_INFO_CMDLINE_BYTES - 1);
	CHECK_EQ_U64(strlen(bi->modules[0].string), 0xff);
	/* Module string longer than the buffer (runs into module 1's). */
	memset(mem + STRINGS_PA, 'm', 0x300);
	mem[STRINGS_PA + 0x300] = 0;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_U64(strlen(bi->modules[0].string),
		     BOOT_INFO_MODULE_STRING_BYTES - 1);
	free(bi);
}

static void test_fallback_mem(void)
{
	struct boot_info *bi = malloc(sizeof(*bi));

	setup_qemu_like();
	info()->flags &= ~MULTIBOOT_INFO_MMAP;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_U64(bi->nr_ranges, 2);
	CHECK_EQ_U64(bi->ranges[0].base, 0);
	CHECK_EQ_U64(bi->ranges[0].len, 639 * 1024);
	CHECK_EQ_U64(bi->ranges[0].type, E820_RAM);
	CHECK_EQ_U64(bi->ranges[1].base, 0x100000);
	CHECK_EQ_U64(bi->ranges[1].len, 2096000ull * 1024);
	/* An empty mmap with the MEMORY flag also falls back. */
	setup_qemu_like();
	info()->mmap_length = 0;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_U64(bi->nr_ranges, 2);
	/* Neither map nor basic memory information. */
	setup_qemu_like();
	info()->flags &= ~(MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_MEMORY);
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -EINVAL);
	setup_qemu_like();
	info()->flags &= ~MULTIBOOT_INFO_MEMORY;
	info()->mmap_length = 0;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -EINVAL);
	free(bi);
}

static void test_errors(void)
{
	struct boot_info *bi = malloc(sizeof(*bi));
	uint32_t off = 0;

	setup_qemu_like();
	CHECK_EQ_INT(mb_parse(0x36d76289, INFO_PA, fake_p2v, NULL, bi),
		     -EINVAL); /* Multiboot2 magic */
	CHECK_EQ_U64(bi->nr_ranges, 0);
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, FAKE_MEM_BYTES,
			      fake_p2v, NULL, bi), -EFAULT);
	/* Too many map entries. */
	reset();
	info()->flags = MULTIBOOT_INFO_MMAP;
	info()->mmap_addr = MMAP_PA;
	for (int i = 0; i < BOOT_INFO_MAX_RANGES; i++)
		off = put_mmap(off, 20, (uint64_t)i << 20, 0x1000, E820_RAM);
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_U64(bi->nr_ranges, BOOT_INFO_MAX_RANGES);
	put_mmap(off, 20, 0x7fff0000, 0x1000, E820_RAM);
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -E2BIG);
	/* A corrupt entry size (0 would loop forever). */
	setup_qemu_like();
	put_mmap(20 + 4, 0, 0x9fc00, 0x400, E820_RESERVED);
	info()->mmap_length = 200;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -EINVAL);
	/* A trailing partial entry is ignored. */
	setup_qemu_like();
	info()->mmap_length += 10;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_U64(bi->nr_ranges, 7);
	/* Map out of reach. */
	setup_qemu_like();
	info()->mmap_addr = FAKE_MEM_BYTES;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -EFAULT);
	/* Command line out of reach. */
	setup_qemu_like();
	info()->cmdline = FAKE_MEM_BYTES + 5;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -EFAULT);
	/* Too many modules, and exactly the maximum. */
	setup_qemu_like();
	for (uint32_t i = 0; i < BOOT_INFO_MAX_MODULES; i++)
		put_module(i, 0x100000 * (i + 16), 0x100000 * (i + 17), "m");
	info()->mods_count = BOOT_INFO_MAX_MODULES;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), 0);
	CHECK_EQ_U64(bi->nr_modules, BOOT_INFO_MAX_MODULES);
	info()->mods_count = BOOT_INFO_MAX_MODULES + 1;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -E2BIG);
	/* A module ending before it starts. */
	setup_qemu_like();
	put_module(1, 0x2000000, 0x1000000, "bad");
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -EINVAL);
	/* Module table out of reach. */
	setup_qemu_like();
	info()->mods_addr = FAKE_MEM_BYTES;
	CHECK_EQ_INT(mb_parse(MULTIBOOT_BOOTLOADER_MAGIC, INFO_PA, fake_p2v,
			      NULL, bi), -EFAULT);
	free(bi);
}

int main(void)
{
	mem = malloc(FAKE_MEM_BYTES + 64);
	test_normal();
	test_truncation();
	test_fallback_mem();
	test_errors();
	free(mem);
	return harness_done("test_multiboot");
}
