/*
 * Unit tests for lib/bootproto/linux_boot.c: parsing a bzImage setup
 * header (a synthetic one, plus Debian's real vmlinuz when build.sh has
 * fetched it) and building the zero page: header copy, loader fields,
 * command line and initrd pointers above and below 4 GiB, the e820 table,
 * screen_info, and the error cases.
 */
#include "../../lib/bootproto/linux_boot.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define IMG_BYTES (64 * 1024)

static void put16(uint8_t *p, uint32_t off, uint16_t v) { wr16(p, off, v); }
static void put32(uint8_t *p, uint32_t off, uint32_t v) { wr32(p, off, v); }
static void put64(uint8_t *p, uint32_t off, uint64_t v) { wr64(p, off, v); }

static uint8_t *make_image(void)
{
	uint8_t *p = calloc(1, IMG_BYTES);

	p[HDR_SETUP_SECTS] = 27;
	put16(p, HDR_BOOT_FLAG, 0xAA55);
	p[HDR_JUMP] = 0xEB;
	p[HDR_JUMP + 1] = 0x6a; /* header ends at 0x202 + 0x6a = 0x26c */
	put32(p, HDR_MAGIC, 0x53726448);
	put16(p, HDR_VERSION, 0x020f);
	p[HDR_LOADFLAGS] = 0x01;
	put32(p, HDR_INITRD_ADDR_MAX, 0x7fffffff);
	put32(p, HDR_KERNEL_ALIGNMENT, 0x200000);
	p[HDR_RELOCATABLE] = 1;
	put16(p, HDR_XLOADFLAGS, 0x7f);
	put32(p, HDR_CMDLINE_SIZE, 2047);
	put64(p, HDR_PREF_ADDRESS, 0x1000000);
	put32(p, HDR_INIT_SIZE, 0x4000000);
	return p;
}

static void test_parse_ok(void)
{
	uint8_t *img = make_image();
	struct linux_image li;

	CHECK_EQ_INT(linux_parse(img, IMG_BYTES, &li), 0);
	CHECK_EQ_U64(li.protocol, 0x020f);
	CHECK_EQ_U64(li.setup_bytes, 28 * 512);
	CHECK_EQ_U64(li.payload_bytes, IMG_BYTES - 28 * 512);
	CHECK_EQ_U64(li.pref_address, 0x1000000);
	CHECK_EQ_U64(li.kernel_alignment, 0x200000);
	CHECK(li.relocatable);
	CHECK_EQ_U64(li.init_size, 0x4000000);
	CHECK_EQ_U64(li.initrd_addr_max, 0x7fffffff);
	CHECK_EQ_U64(li.cmdline_size, 2047);
	CHECK_EQ_U64(li.xloadflags, 0x7f);
	/* setup_sects == 0 means 4 */
	img[HDR_SETUP_SECTS] = 0;
	CHECK_EQ_INT(linux_parse(img, IMG_BYTES, &li), 0);
	CHECK_EQ_U64(li.setup_bytes, 5 * 512);
	free(img);
}

static void test_parse_errors(void)
{
	uint8_t *img = make_image();
	struct linux_image li;

	CHECK_EQ_INT(linux_parse(img, 0x100, &li), -LINUX_BOOT_EINVAL);   /* too small */
	put32(img, HDR_MAGIC, 0x12345678);
	CHECK_EQ_INT(linux_parse(img, IMG_BYTES, &li), -LINUX_BOOT_EINVAL); /* no HdrS */
	free(img);
	img = make_image();
	put16(img, HDR_BOOT_FLAG, 0);
	CHECK_EQ_INT(linux_parse(img, IMG_BYTES, &li), -LINUX_BOOT_EINVAL);
	free(img);
	img = make_image();
	put16(img, HDR_VERSION, 0x0205);
	CHECK_EQ_INT(linux_parse(img, IMG_BYTES, &li), -LINUX_BOOT_ENOSYS); /* too old */
	free(img);
	img = make_image();
	put32(img, HDR_KERNEL_ALIGNMENT, 0x300000); /* not a power of two */
	CHECK_EQ_INT(linux_parse(img, IMG_BYTES, &li), -LINUX_BOOT_EINVAL);
	free(img);
	img = make_image();
	img[HDR_SETUP_SECTS] = 200; /* setup larger than the file */
	CHECK_EQ_INT(linux_parse(img, 200 * 512, &li), -LINUX_BOOT_EINVAL);
	free(img);
}

static void test_zero_page(void)
{
	uint8_t *img = make_image(), zp[LINUX_ZERO_PAGE_BYTES];
	struct linux_e820_entry e820[3] = {
		{ 0, 0x9f000, 1 }, { 0xf0000, 0x10000, 2 }, { 0x100000, 0x3ff00000, 1 },
	};
	struct linux_boot_params p = {
		.load_addr = 0x1000000, .cmdline_pa = 0x21000,
		.initrd_pa = 0x123456000ull, .initrd_bytes = 0x1800000,
		.acpi_rsdp_pa = 0xf59d0, .e820 = e820, .n_e820 = 3,
		.vga = { .present = true, .cursor_row = 12, .cursor_col = 3 },
	};

	memset(zp, 0xAB, sizeof(zp));
	CHECK_EQ_INT(linux_build_zero_page(zp, img, &p), 0);
	CHECK_EQ_U64(rd32(zp, HDR_MAGIC), 0x53726448);       /* header copied */
	CHECK_EQ_U64(rd32(zp, HDR_INIT_SIZE), 0x4000000);
	CHECK_EQ_U64(zp[0x26c], 0);                          /* not past the end */
	CHECK_EQ_U64(zp[0x1ef], 0);                          /* sentinel */
	CHECK_EQ_U64(zp[HDR_TYPE_OF_LOADER], 0xff);
	CHECK_EQ_U64(zp[HDR_LOADFLAGS] & 1, 1);
	CHECK_EQ_U64(rd32(zp, HDR_CODE32_START), 0x1000000);
	CHECK_EQ_U64(rd32(zp, HDR_CMD_LINE_PTR), 0x21000);
	CHECK_EQ_U64(rd32(zp, BP_EXT_CMD_LINE_PTR), 0);
	CHECK_EQ_U64(rd32(zp, HDR_RAMDISK_IMAGE), 0x23456000);
	CHECK_EQ_U64(rd32(zp, BP_EXT_RAMDISK_IMAGE), 1);
	CHECK_EQ_U64(rd32(zp, HDR_RAMDISK_SIZE), 0x1800000);
	CHECK_EQ_U64(rd64(zp, BP_ACPI_RSDP), 0xf59d0);
	CHECK_EQ_U64(zp[BP_E820_ENTRIES], 3);
	CHECK_EQ_U64(rd64(zp, BP_E820_TABLE + 2 * 20), 0x100000);
	CHECK_EQ_U64(rd64(zp, BP_E820_TABLE + 2 * 20 + 8), 0x3ff00000);
	CHECK_EQ_U64(rd32(zp, BP_E820_TABLE + 1 * 20 + 16), 2);
	CHECK_EQ_U64(zp[SI_ORIG_Y], 12);
	CHECK_EQ_U64(zp[SI_ORIG_X], 3);
	CHECK_EQ_U64(zp[SI_VIDEO_COLS], 80);
	CHECK_EQ_U64(zp[SI_VIDEO_LINES], 25);
	CHECK_EQ_U64(zp[SI_VIDEO_ISVGA], VIDEO_TYPE_VGAC);
	p.vga.present = false;
	CHECK_EQ_INT(linux_build_zero_page(zp, img, &p), 0);
	CHECK_EQ_U64(zp[SI_VIDEO_COLS], 0);
	/* a UEFI framebuffer (OVMF's 1280x800 BGRX above 4 GiB) wins over VGA */
	p.vga.present = true;
	p.fb = (struct linux_fb_state){ .base = 0x100000000ull, .pitch = 5120, .width = 1280,
					.height = 800, .bpp = 32, .red_size = 8, .red_pos = 16,
					.green_size = 8, .green_pos = 8, .blue_size = 8,
					.blue_pos = 0 };
	CHECK_EQ_INT(linux_build_zero_page(zp, img, &p), 0);
	CHECK_EQ_U64(zp[SI_VIDEO_ISVGA], VIDEO_TYPE_EFI);
	CHECK_EQ_U64(zp[SI_VIDEO_COLS], 0);
	CHECK_EQ_U64(rd16(zp, SI_LFB_WIDTH), 1280);
	CHECK_EQ_U64(rd16(zp, SI_LFB_HEIGHT), 800);
	CHECK_EQ_U64(rd16(zp, SI_LFB_DEPTH), 32);
	CHECK_EQ_U64(rd32(zp, SI_LFB_BASE), 0);
	CHECK_EQ_U64(rd32(zp, SI_EXT_LFB_BASE), 1);
	CHECK_EQ_U64(rd32(zp, SI_CAPABILITIES), VIDEO_CAPABILITY_64BIT_BASE);
	CHECK_EQ_U64(rd32(zp, SI_LFB_SIZE), 5120 * 800);
	CHECK_EQ_U64(rd16(zp, SI_LFB_LINELENGTH), 5120);
	CHECK_EQ_U64(zp[SI_RED_SIZE + 1], 16);       /* red_pos */
	CHECK_EQ_U64(zp[SI_RED_SIZE + 5], 0);        /* blue_pos */
	p.fb.base = 0;
	p.n_e820 = LINUX_E820_MAX_ENTRIES + 1;
	CHECK_EQ_INT(linux_build_zero_page(zp, img, &p), -LINUX_BOOT_E2BIG);
	free(img);
}

/* Debian's real kernel, when build.sh has downloaded it. */
static void test_real_kernel(void)
{
	const char *path = getenv("KEEL_TEST_VMLINUZ");
	struct linux_image li;
	static uint8_t buf[16 << 20];
	FILE *f;
	size_t n;

	if (!path || !(f = fopen(path, "rb"))) {
		printf("  (no KEEL_TEST_VMLINUZ: real-kernel check skipped)\n");
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK_EQ_INT(linux_parse(buf, n, &li), 0);
	CHECK(li.protocol >= 0x020f);
	CHECK_EQ_U64(li.pref_address, 0x1000000);
	CHECK_EQ_U64(li.kernel_alignment, 0x200000);
	CHECK(li.relocatable);
	CHECK(li.init_size >= li.payload_bytes);
	CHECK_EQ_U64(li.xloadflags & 1, 1); /* XLF_KERNEL_64 */
}

int main(void)
{
	test_parse_ok();
	test_parse_errors();
	test_zero_page();
	test_real_kernel();
	return harness_done("linux_boot");
}
