/*
 * Multiboot (version 1, and version 2 in multiboot2.c) boot information as
 * handed over by GRUB, isolinux's mboot.c32 or another loader, and struct
 * boot_info, the hypervisor's own copy of what
 * it needs from it (command line, memory map, modules). Everything is
 * copied so the loader's memory can be reused afterwards.
 */
#ifndef KEEL_MULTIBOOT_H
#define KEEL_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include <keel/memmap.h>

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u     /* in the image header */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u /* in EAX at entry */

/* struct multiboot_info.flags bits */
#define MULTIBOOT_INFO_MEMORY (1u << 0)  /* mem_lower/mem_upper valid */
#define MULTIBOOT_INFO_CMDLINE (1u << 2) /* cmdline valid */
#define MULTIBOOT_INFO_MODS (1u << 3)    /* mods_count/mods_addr valid */
#define MULTIBOOT_INFO_MMAP (1u << 6)    /* mmap_length/mmap_addr valid */

#define BOOT_INFO_CMDLINE_BYTES 1024
#define BOOT_INFO_MAX_RANGES 128
#define BOOT_INFO_MAX_MODULES 8
#define BOOT_INFO_MODULE_STRING_BYTES 512

/* The Multiboot information structure (only the fields Keel uses). */
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB of RAM from 0 */
	uint32_t mem_upper; /* KiB of RAM from 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline; /* physical address of a NUL-terminated string */
	uint32_t mods_count;
	uint32_t mods_addr; /* physical address of struct multiboot_module[] */
	uint32_t syms[4];
	uint32_t mmap_length; /* bytes of memory map */
	uint32_t mmap_addr;   /* physical address of the first entry */
} __attribute__((packed));

/* One memory map entry; size does not count the size field itself. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));

/* One boot module (e.g. the dom0 kernel or initrd). */
struct multiboot_module {
	uint32_t mod_start; /* physical, inclusive */
	uint32_t mod_end;   /* physical, exclusive */
	uint32_t string;    /* physical address of its command line */
	uint32_t reserved;
} __attribute__((packed));

struct boot_module {
	uint64_t start; /* physical, inclusive */
	uint64_t end;   /* physical, exclusive */
	char string[BOOT_INFO_MODULE_STRING_BYTES];
};

/* The firmware that started the loader. */
#define BOOT_FW_BIOS 0
#define BOOT_FW_UEFI 1

/* A linear framebuffer the loader set up (Multiboot2 tag 8). */
#define BOOT_FB_TYPE_RGB 1
#define BOOT_FB_TYPE_EGA_TEXT 2
struct boot_fb {
	uint64_t addr;          /* physical; 0: there is none */
	uint32_t pitch;         /* bytes per line */
	uint32_t width, height; /* pixels */
	uint8_t bpp;            /* bits per pixel */
	uint8_t type;           /* BOOT_FB_TYPE_RGB, or another Multiboot2 type */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

/* What the hypervisor keeps of the boot information. */
struct boot_info {
	char cmdline[BOOT_INFO_CMDLINE_BYTES];
	uint32_t nr_ranges;
	struct mem_range ranges[BOOT_INFO_MAX_RANGES]; /* raw firmware map */
	uint32_t nr_modules;
	struct boot_module modules[BOOT_INFO_MAX_MODULES];
	uint32_t firmware;       /* BOOT_FW_BIOS or BOOT_FW_UEFI */
	uint64_t efi_systab_pa;  /* the EFI system table (UEFI), else 0 */
	uint64_t rsdp_pa;        /* the ACPI RSDP if the loader said, else 0 */
	struct boot_fb fb;
};

int mb_parse(uint32_t magic, uint64_t info_pa,
	     void *(*p2v)(uint64_t pa, void *ctx), void *ctx,
	     struct boot_info *out);

/* Helpers both parsers share (multiboot.c). */
void boot_info_reset(struct boot_info *out);
int boot_info_add_range(struct boot_info *out, uint64_t base, uint64_t len,
			uint32_t type);

#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36D76289u /* in EAX at entry */

/*
 * Copies Multiboot2 information (multiboot2.c) into out: the command line,
 * the memory map (converted from the EFI memory map when the loader gave
 * one, else its e820-style map, else the basic lower/upper sizes), the
 * modules, the EFI system table and the ACPI RSDP found through it, and
 * the framebuffer. magic: EAX at entry; info_pa: EBX; p2v and ctx as for
 * mb_parse. Returns 0, -EINVAL on a wrong magic, a malformed tag list or
 * no memory information, -E2BIG on too many map ranges or modules,
 * -EFAULT if p2v fails.
 */
int mb2_parse(uint32_t magic, uint64_t info_pa,
	      void *(*p2v)(uint64_t pa, void *ctx), void *ctx,
	      struct boot_info *out);

/* mb_parse or mb2_parse, whichever magic says (multiboot2.c); -EINVAL for
 * neither. */
int boot_info_parse(uint32_t magic, uint64_t info_pa,
		    void *(*p2v)(uint64_t pa, void *ctx), void *ctx,
		    struct boot_info *out);

#endif /* KEEL_MULTIBOOT_H */
