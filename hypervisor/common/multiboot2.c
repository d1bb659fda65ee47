/*
 * Reads the Multiboot2 information GRUB's `multiboot2` command leaves in
 * memory, on BIOS and on UEFI machines, into the same struct boot_info as
 * Multiboot v1 (multiboot.c): the command line, the memory map (converted
 * from the EFI memory map when there is one, since that is the firmware's
 * own; else the loader's e820-style map; else the basic lower/upper sizes),
 * the modules, and what a UEFI machine adds: the EFI system table, the
 * ACPI RSDP found through its configuration table (there is no RSDP in the
 * BIOS area to scan for), and the linear framebuffer (there is no VGA text
 * mode). Layouts: the Multiboot2 specification, 3.6 "Boot information";
 * the UEFI specification, 4.3 "System Table", 4.6 "EFI Configuration
 * Table" and 7.2 "GetMemoryMap()". Pure: physical memory is reached
 * through the caller's p2v, so this runs in host unit tests and fuzzers.
 */
#include <stddef.h>
#include <stdint.h>

#include <keel/errno.h>
#include <keel/memmap.h>
#include <keel/multiboot.h>
#include <keel/string.h>

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_EFI64 12
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18       /* boot services not terminated */
#define MB2_TAG_EFI64_IH 20
#define MB2_TAG_ALIGN_BYTES 8u
#define MB2_TAG_HEADER_BYTES 8u
#define MB2_INFO_HEADER_BYTES 8u   /* total_size, reserved */
#define MB2_INFO_MAX_BYTES (1u << 20)
#define MB2_MMAP_ENTRY_MIN_BYTES 24u /* base, length, type, reserved */
#define MB2_FB_FIXED_BYTES 31u     /* through framebuffer_type + reserved */
#define MB2_FB_RGB_BYTES 6u

#define EFI_SYSTAB_SIGNATURE 0x5453595320494249ull /* "IBI SYST" */
#define EFI_SYSTAB_NR_TABLES_OFF 104u
#define EFI_SYSTAB_TABLES_OFF 112u
#define EFI_SYSTAB_BYTES 120u
#define EFI_CONFIG_TABLE_BYTES 24u /* GUID, pointer */
#define EFI_CONFIG_TABLES_MAX 1024u
#define EFI_MD_MIN_BYTES 40u       /* type, pad, phys, virt, pages, attr */
#define EFI_PAGE_BYTES 4096ull

/* EFI memory types (UEFI spec, 7.2, EFI_MEMORY_TYPE). */
#define EFI_LOADER_CODE 1
#define EFI_LOADER_DATA 2
#define EFI_BOOT_SERVICES_CODE 3
#define EFI_BOOT_SERVICES_DATA 4
#define EFI_CONVENTIONAL 7
#define EFI_UNUSABLE 8
#define EFI_ACPI_RECLAIM 9
#define EFI_ACPI_NVS 10
#define EFI_PERSISTENT 14
#define E820_PMEM 7

/* ACPI_20_TABLE_GUID and ACPI_TABLE_GUID as they lie in memory. */
static const uint8_t acpi20_guid[16] = { 0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
					 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
static const uint8_t acpi10_guid[16] = { 0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11,
					 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d };

typedef void *(*mb2_p2v_fn)(uint64_t pa, void *ctx);

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A pointer to len bytes at pa, or NULL unless both ends are mapped. */
static const uint8_t *mb2_bytes(uint64_t pa, uint64_t len, mb2_p2v_fn p2v, void *ctx)
{
	const uint8_t *p = p2v(pa, ctx);

	if (!p || (len > 1 && !p2v(pa + len - 1, ctx)))
		return NULL;
	return p;
}

/* What an EFI memory type is to an operating system after boot services
 * (UEFI spec 7.2, table "Memory Type Usage after ExitBootServices()"). */
static uint32_t efi_type_to_e820(uint32_t type)
{
	switch (type) {
	case EFI_LOADER_CODE: case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE: case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL:
		return E820_RAM;
	case EFI_UNUSABLE:
		return E820_UNUSABLE;
	case EFI_ACPI_RECLAIM:
		return E820_ACPI;
	case EFI_ACPI_NVS:
		return E820_NVS;
	case EFI_PERSISTENT:
		return E820_PMEM;
	default:            /* runtime services, MMIO, reserved, PAL code */
		return E820_RESERVED;
	}
}

/* One EFI memory descriptor (UEFI 7.2): type, pad, physical start,
 * virtual start, pages, attributes. */
static int mb2_efi_entry(const uint8_t *d, struct boot_info *out)
{
	uint64_t pages = rd64(d + 24);

	if (pages > (UINT64_MAX >> 12))
		return -EINVAL;
	return boot_info_add_range(out, rd64(d + 8), pages * EFI_PAGE_BYTES,
				   efi_type_to_e820(rd32(d)));
}

/* One e820-style entry (Multiboot2 3.6.8): base, length, type. */
static int mb2_e820_entry(const uint8_t *e, struct boot_info *out)
{
	return boot_info_add_range(out, rd64(e), rd64(e + 8), rd32(e + 16));
}

/* A memory map tag (e820-style or EFI): entry size at +8, entries from
 * +16; each entry goes through add. The map replaces any earlier one. */
static int mb2_map(const uint8_t *t, uint32_t size, uint32_t min_entry,
		   int (*add)(const uint8_t *entry, struct boot_info *out), struct boot_info *out)
{
	uint32_t entry_size, off;
	int err;

	if (size < 16)
		return -EINVAL;
	entry_size = rd32(t + 8);
	if (entry_size < min_entry || entry_size % 8)
		return -EINVAL;
	out->nr_ranges = 0;
	for (off = 16; entry_size <= size - off; off += entry_size) { /* no u32 wrap */
		err = add(t + off, out);
		if (err)
			return err;
	}
	return 0;
}

static int mb2_basic_mem(const uint8_t *t, uint32_t size, struct boot_info *out)
{
	int err = 0;

	if (size < 16)
		return -EINVAL;
	out->nr_ranges = 0;
	if (rd32(t + 8))
		err = boot_info_add_range(out, 0, rd32(t + 8) * 1024ull, E820_RAM);
	if (!err && rd32(t + 12))
		err = boot_info_add_range(out, 0x100000ull, rd32(t + 12) * 1024ull, E820_RAM);
	return err;
}

static int mb2_module(const uint8_t *t, uint32_t size, struct boot_info *out)
{
	struct boot_module *bm;
	uint32_t len, i;

	if (size < 17)                  /* start, end, a NUL at least */
		return -EINVAL;
	if (out->nr_modules >= BOOT_INFO_MAX_MODULES)
		return -E2BIG;
	if (rd32(t + 12) < rd32(t + 8))
		return -EINVAL;
	bm = &out->modules[out->nr_modules++];
	bm->start = rd32(t + 8);
	bm->end = rd32(t + 12);
	len = size - 16;
	for (i = 0; i < len && i < sizeof(bm->string) - 1 && t[16 + i]; i++)
		bm->string[i] = (char)t[16 + i];
	bm->string[i] = '\0';
	return 0;
}

static void mb2_cmdline(const uint8_t *t, uint32_t size, struct boot_info *out)
{
	uint32_t i;

	for (i = 0; i + 8 < size && i < sizeof(out->cmdline) - 1 && t[8 + i]; i++)
		out->cmdline[i] = (char)t[8 + i];
	out->cmdline[i] = '\0';
}

static int mb2_framebuffer(const uint8_t *t, uint32_t size, struct boot_info *out)
{
	struct boot_fb *fb = &out->fb;

	if (size < MB2_FB_FIXED_BYTES)
		return -EINVAL;
	fb->addr = rd64(t + 8);
	fb->pitch = rd32(t + 16);
	fb->width = rd32(t + 20);
	fb->height = rd32(t + 24);
	fb->bpp = t[28];
	fb->type = t[29];
	if (fb->type == BOOT_FB_TYPE_RGB) {
		if (size < 32 + MB2_FB_RGB_BYTES)
			return -EINVAL;
		fb->red_pos = t[32];
		fb->red_size = t[33];
		fb->green_pos = t[34];
		fb->green_size = t[35];
		fb->blue_pos = t[36];
		fb->blue_size = t[37];
	}
	return 0;
}

/*
 * The ACPI RSDP's physical address from the EFI system table's
 * configuration table (ACPI 2.0 entry first, else ACPI 1.0), or 0.
 */
static uint64_t efi_find_rsdp(uint64_t systab_pa, mb2_p2v_fn p2v, void *ctx)
{
	const uint8_t *st = mb2_bytes(systab_pa, EFI_SYSTAB_BYTES, p2v, ctx);
	const uint8_t *tab;
	uint64_t n, i, v1 = 0;

	if (!st || rd64(st) != EFI_SYSTAB_SIGNATURE)
		return 0;
	n = rd64(st + EFI_SYSTAB_NR_TABLES_OFF);
	if (n > EFI_CONFIG_TABLES_MAX)
		return 0;
	tab = mb2_bytes(rd64(st + EFI_SYSTAB_TABLES_OFF), n * EFI_CONFIG_TABLE_BYTES, p2v, ctx);
	if (!tab)
		return 0;
	for (i = 0; i < n; i++) {
		const uint8_t *e = tab + i * EFI_CONFIG_TABLE_BYTES;

		if (!memcmp(e, acpi20_guid, 16))
			return rd64(e + 16);
		if (!memcmp(e, acpi10_guid, 16) && !v1)
			v1 = rd64(e + 16);
	}
	return v1;
}

/* Which memory map tags were seen; the EFI one wins, then the e820 one. */
enum mb2_map_rank { MAP_NONE, MAP_BASIC, MAP_E820, MAP_EFI };

static int mb2_tag(const uint8_t *t, uint32_t type, uint32_t size, struct boot_info *out,
		   enum mb2_map_rank *rank)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
		mb2_cmdline(t, size, out);
		return 0;
	case MB2_TAG_MODULE:
		return mb2_module(t, size, out);
	case MB2_TAG_BASIC_MEMINFO:
		if (*rank >= MAP_BASIC)
			return 0;
		*rank = MAP_BASIC;
		return mb2_basic_mem(t, size, out);
	case MB2_TAG_MMAP:
		if (*rank >= MAP_E820)
			return 0;
		*rank = MAP_E820;
		return mb2_map(t, size, MB2_MMAP_ENTRY_MIN_BYTES, mb2_e820_entry, out);
	case MB2_TAG_EFI_MMAP:
		*rank = MAP_EFI;
		return mb2_map(t, size, EFI_MD_MIN_BYTES, mb2_efi_entry, out);
	case MB2_TAG_FRAMEBUFFER:
		return mb2_framebuffer(t, size, out);
	case MB2_TAG_EFI64:
		if (size < 16)
			return -EINVAL;
		out->firmware = BOOT_FW_UEFI;
		out->efi_systab_pa = rd64(t + 8);
		return 0;
	case MB2_TAG_EFI64_IH: case MB2_TAG_EFI_BS:
		out->firmware = BOOT_FW_UEFI;
		return 0;
	default:                /* loader name, ELF sections, APM, SMBIOS, ... */
		return 0;
	}
}

/* Parse Multiboot2 information into out; see multiboot.h. */
int mb2_parse(uint32_t magic, uint64_t info_pa, mb2_p2v_fn p2v, void *ctx,
	      struct boot_info *out)
{
	enum mb2_map_rank rank = MAP_NONE;
	const uint8_t *info;
	uint32_t total, off;
	int err;

	boot_info_reset(out);
	if (magic != MULTIBOOT2_BOOTLOADER_MAGIC || info_pa % MB2_TAG_ALIGN_BYTES)
		return -EINVAL;
	info = mb2_bytes(info_pa, MB2_INFO_HEADER_BYTES, p2v, ctx);
	if (!info)
		return -EFAULT;
	total = rd32(info);
	if (total < MB2_INFO_HEADER_BYTES + MB2_TAG_HEADER_BYTES || total > MB2_INFO_MAX_BYTES)
		return -EINVAL;
	info = mb2_bytes(info_pa, total, p2v, ctx);
	if (!info)
		return -EFAULT;
	for (off = MB2_INFO_HEADER_BYTES;; ) {
		uint32_t type, size;

		if (off + MB2_TAG_HEADER_BYTES > total)
			return -EINVAL;             /* no end tag */
		type = rd32(info + off);
		size = rd32(info + off + 4);
		if (size < MB2_TAG_HEADER_BYTES || size > total - off)
			return -EINVAL;
		if (type == MB2_TAG_END)
			break;
		err = mb2_tag(info + off, type, size, out, &rank);
		if (err)
			return err;
		off += (size + MB2_TAG_ALIGN_BYTES - 1) & ~(MB2_TAG_ALIGN_BYTES - 1);
	}
	if (out->nr_ranges == 0)
		return -EINVAL;
	if (out->efi_systab_pa)
		out->rsdp_pa = efi_find_rsdp(out->efi_systab_pa, p2v, ctx);
	return 0;
}

/* Parse with whichever Multiboot version magic names; see multiboot.h. */
int boot_info_parse(uint32_t magic, uint64_t info_pa,
		    void *(*p2v)(uint64_t pa, void *ctx), void *ctx,
		    struct boot_info *out)
{
	if (magic == MULTIBOOT2_BOOTLOADER_MAGIC)
		return mb2_parse(magic, info_pa, p2v, ctx, out);
	return mb_parse(magic, info_pa, p2v, ctx, out);
}
