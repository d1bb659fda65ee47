/*
 * The x86 Linux boot protocol, as the hypervisor uses it to start dom0 and
 * the toolstack to build guests: parse the bzImage setup header and fill a
 * zero page. Pure code with no hardware access and no library calls, so
 * both build it as it is and it is unit-tested on the host. Offsets
 * are from Documentation/x86/boot.rst ("The real-mode kernel header") and
 * Documentation/x86/zero-page.rst of Linux 6.1.
 */
#include "linux_boot.h"

#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260

#define BP_SCREEN_INFO 0x000
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_ENTRY_BYTES 20

#define SI_ORIG_X 0x00
#define SI_ORIG_Y 0x01
#define SI_VIDEO_MODE 0x06
#define SI_VIDEO_COLS 0x07
#define SI_VIDEO_EGA_BX 0x0a
#define SI_VIDEO_LINES 0x0e
#define SI_VIDEO_ISVGA 0x0f
#define SI_VIDEO_POINTS 0x10
#define VIDEO_TYPE_VGAC 0x22 /* VGA+ in colour mode (uapi screen_info.h) */
#define VIDEO_TYPE_EFI 0x70  /* EFI graphic mode */
#define SI_LFB_WIDTH 0x12
#define SI_LFB_HEIGHT 0x14
#define SI_LFB_DEPTH 0x16
#define SI_LFB_BASE 0x18
#define SI_LFB_SIZE 0x1c
#define SI_LFB_LINELENGTH 0x24
#define SI_RED_SIZE 0x26     /* then red_pos, green size/pos, blue size/pos */
#define SI_CAPABILITIES 0x36
#define SI_EXT_LFB_BASE 0x3a
#define VIDEO_CAPABILITY_64BIT_BASE (1u << 1)

#define SECTOR_BYTES 512u
#define BOOT_FLAG_VALUE 0xAA55
#define HDRS_MAGIC 0x53726448u /* "HdrS" */
#define LOADER_TYPE_UNDEFINED 0xff
#define LOADFLAG_LOADED_HIGH 0x01

/* Little-endian fields at any alignment, whatever the host's order. */
static uint64_t le_get(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void le_put(uint8_t *p, uint64_t v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t rd8(const uint8_t *p, uint32_t off) { return p[off]; }
static uint16_t rd16(const uint8_t *p, uint32_t off) { return (uint16_t)le_get(p + off, 2); }
static uint32_t rd32(const uint8_t *p, uint32_t off) { return (uint32_t)le_get(p + off, 4); }
static uint64_t rd64(const uint8_t *p, uint32_t off) { return le_get(p + off, 8); }
static void wr8(uint8_t *p, uint32_t off, uint8_t v) { p[off] = v; }
static void wr16(uint8_t *p, uint32_t off, uint16_t v) { le_put(p + off, v, 2); }
static void wr32(uint8_t *p, uint32_t off, uint32_t v) { le_put(p + off, v, 4); }
static void wr64(uint8_t *p, uint32_t off, uint64_t v) { le_put(p + off, v, 8); }

/* Parse the bzImage setup header; see linux_boot.h. */
int linux_parse(const void *image, uint64_t size, struct linux_image *out)
{
	const uint8_t *p = image;
	uint32_t sects;

	if (size < 0x270 || rd16(p, HDR_BOOT_FLAG) != BOOT_FLAG_VALUE ||
	    rd32(p, HDR_MAGIC) != HDRS_MAGIC)
		return -LINUX_BOOT_EINVAL;
	out->protocol = rd16(p, HDR_VERSION);
	if (out->protocol < LINUX_MIN_PROTOCOL)
		return -LINUX_BOOT_ENOSYS;
	sects = rd8(p, HDR_SETUP_SECTS);
	if (sects == 0)
		sects = 4;
	out->setup_bytes = (sects + 1) * SECTOR_BYTES;
	if (out->setup_bytes >= size)
		return -LINUX_BOOT_EINVAL;
	out->payload_bytes = size - out->setup_bytes;
	out->pref_address = rd64(p, HDR_PREF_ADDRESS);
	out->kernel_alignment = rd32(p, HDR_KERNEL_ALIGNMENT);
	out->relocatable = rd8(p, HDR_RELOCATABLE) != 0;
	out->init_size = rd32(p, HDR_INIT_SIZE);
	out->initrd_addr_max = rd32(p, HDR_INITRD_ADDR_MAX);
	out->cmdline_size = rd32(p, HDR_CMDLINE_SIZE);
	out->xloadflags = rd16(p, HDR_XLOADFLAGS);
	if (out->init_size < out->payload_bytes || out->kernel_alignment == 0 ||
	    (out->kernel_alignment & (out->kernel_alignment - 1)))
		return -LINUX_BOOT_EINVAL;
	return 0;
}

/* screen_info for a linear framebuffer, as Linux's EFI stub fills it
 * (uapi screen_info.h; lfb_size in bytes for VIDEO_TYPE_EFI). */
static void zp_fill_fb_info(uint8_t *zp, const struct linux_fb_state *f)
{
	uint32_t si = BP_SCREEN_INFO;

	wr8(zp, si + SI_VIDEO_ISVGA, VIDEO_TYPE_EFI);
	wr16(zp, si + SI_LFB_WIDTH, (uint16_t)f->width);
	wr16(zp, si + SI_LFB_HEIGHT, (uint16_t)f->height);
	wr16(zp, si + SI_LFB_DEPTH, f->bpp);
	wr32(zp, si + SI_LFB_BASE, (uint32_t)f->base);
	wr32(zp, si + SI_EXT_LFB_BASE, (uint32_t)(f->base >> 32));
	if (f->base >> 32)
		wr32(zp, si + SI_CAPABILITIES, VIDEO_CAPABILITY_64BIT_BASE);
	wr32(zp, si + SI_LFB_SIZE, f->pitch * f->height);
	wr16(zp, si + SI_LFB_LINELENGTH, (uint16_t)f->pitch);
	wr8(zp, si + SI_RED_SIZE, f->red_size);
	wr8(zp, si + SI_RED_SIZE + 1, f->red_pos);
	wr8(zp, si + SI_RED_SIZE + 2, f->green_size);
	wr8(zp, si + SI_RED_SIZE + 3, f->green_pos);
	wr8(zp, si + SI_RED_SIZE + 4, f->blue_size);
	wr8(zp, si + SI_RED_SIZE + 5, f->blue_pos);
}

static void zp_fill_screen_info(uint8_t *zp, const struct linux_vga_state *v)
{
	if (!v->present)
		return;
	wr8(zp, BP_SCREEN_INFO + SI_ORIG_X, v->cursor_col);
	wr8(zp, BP_SCREEN_INFO + SI_ORIG_Y, v->cursor_row);
	wr8(zp, BP_SCREEN_INFO + SI_VIDEO_MODE, 3);
	wr8(zp, BP_SCREEN_INFO + SI_VIDEO_COLS, 80);
	wr16(zp, BP_SCREEN_INFO + SI_VIDEO_EGA_BX, 0x0003);
	wr8(zp, BP_SCREEN_INFO + SI_VIDEO_LINES, 25);
	wr8(zp, BP_SCREEN_INFO + SI_VIDEO_ISVGA, VIDEO_TYPE_VGAC);
	wr16(zp, BP_SCREEN_INFO + SI_VIDEO_POINTS, 16);
}

static void zp_fill_e820(uint8_t *zp, const struct linux_e820_entry *e, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint32_t off = BP_E820_TABLE + i * BP_E820_ENTRY_BYTES;

		wr64(zp, off, e[i].base);
		wr64(zp, off + 8, e[i].len);
		wr32(zp, off + 16, e[i].type);
	}
	wr8(zp, BP_E820_ENTRIES, (uint8_t)n);
}

/* Build the zero page; see linux_boot.h. */
int linux_build_zero_page(void *zp_out, const void *image,
			  const struct linux_boot_params *p)
{
	const uint8_t *img = image;
	uint8_t *zp = zp_out;
	uint32_t hdr_end = HDR_MAGIC + rd8(img, HDR_JUMP + 1), i;

	if (p->n_e820 > LINUX_E820_MAX_ENTRIES)
		return -LINUX_BOOT_E2BIG;
	if (hdr_end > LINUX_ZERO_PAGE_BYTES)
		return -LINUX_BOOT_EINVAL;
	for (i = 0; i < LINUX_ZERO_PAGE_BYTES; i++)
		zp[i] = 0;
	for (i = HDR_SETUP_SECTS; i < hdr_end; i++)
		zp[i] = img[i];
	wr8(zp, HDR_TYPE_OF_LOADER, LOADER_TYPE_UNDEFINED);
	wr8(zp, HDR_LOADFLAGS, rd8(zp, HDR_LOADFLAGS) | LOADFLAG_LOADED_HIGH);
	wr32(zp, HDR_CODE32_START, (uint32_t)p->load_addr);
	wr32(zp, HDR_CMD_LINE_PTR, (uint32_t)p->cmdline_pa);
	wr32(zp, BP_EXT_CMD_LINE_PTR, (uint32_t)(p->cmdline_pa >> 32));
	wr32(zp, HDR_RAMDISK_IMAGE, (uint32_t)p->initrd_pa);
	wr32(zp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(p->initrd_pa >> 32));
	wr32(zp, HDR_RAMDISK_SIZE, (uint32_t)p->initrd_bytes);
	wr32(zp, BP_EXT_RAMDISK_SIZE, (uint32_t)(p->initrd_bytes >> 32));
	wr64(zp, BP_ACPI_RSDP, p->acpi_rsdp_pa);
	if (p->fb.base)
		zp_fill_fb_info(zp, &p->fb);
	else
		zp_fill_screen_info(zp, &p->vga);
	zp_fill_e820(zp, p->e820, p->n_e820);
	return 0;
}
