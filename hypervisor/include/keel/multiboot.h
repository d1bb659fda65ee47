/*
 * Multiboot (version 1) boot information as handed over by GRUB or
 * another loader, and struct boot_info, the hypervisor's own copy of what
 * it needs from it (command line, memory map, modules). Everything is
 * copied so the loader's memory can be reused afterwards.
 */
#ifndef KEEL_MULTIBOOT_H
#define KEEL_MULTIBOOT_H

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

/* What the hypervisor keeps of the boot information. */
struct boot_info {
	char cmdline[BOOT_INFO_CMDLINE_BYTES];
	uint32_t nr_ranges;
	struct mem_range ranges[BOOT_INFO_MAX_RANGES]; /* raw firmware map */
	uint32_t nr_modules;
	struct boot_module modules[BOOT_INFO_MAX_MODULES];
};

int mb_parse(uint32_t magic, uint64_t info_pa,
	     void *(*p2v)(uint64_t pa, void *ctx), void *ctx,
	     struct boot_info *out);

#endif /* KEEL_MULTIBOOT_H */
