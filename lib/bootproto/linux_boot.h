/*
 * Loading a Linux bzImage by the x86 boot protocol
 * (Documentation/x86/boot.rst and zero-page.rst in the Linux tree): reading
 * the setup header, and building the zero page (struct boot_params) with
 * the command line, initrd, e820 table, ACPI RSDP and VGA text state.
 *
 * A small library shared by the hypervisor (dom0's loader) and the
 * toolstack (the guest builder), with its own unit tests
 * (tests/unit/test_linux_boot.c). It depends on nothing but <stdint.h>
 * and <stdbool.h>: no libc, no hypervisor header, so both can build it
 * as it is. Errors are the negated LINUX_BOOT_E* values, which equal
 * Linux's errno numbers.
 */
#ifndef BOOTPROTO_LINUX_BOOT_H
#define BOOTPROTO_LINUX_BOOT_H

#include <stdint.h>
#include <stdbool.h>

#define LINUX_BOOT_E2BIG 7
#define LINUX_BOOT_EINVAL 22
#define LINUX_BOOT_ENOSYS 38

/* e820 memory types (ACPI 6.4, 15 "System Address Map Interfaces"). */
#define LINUX_E820_RAM 1u
#define LINUX_E820_RESERVED 2u

/* One entry of the e820 table handed to Linux. */
struct linux_e820_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
};

#define LINUX_ZERO_PAGE_BYTES 4096u
#define LINUX_E820_MAX_ENTRIES 128u
#define LINUX_MIN_PROTOCOL 0x020c /* 2.12: xloadflags, 64-bit entry */
#define LINUX_ENTRY64_OFFSET 0x200

/* What the hypervisor needs from a bzImage's setup header. */
struct linux_image {
	uint16_t protocol;       /* boot protocol version, e.g. 0x020f */
	uint32_t setup_bytes;    /* real-mode part; protected-mode code follows */
	uint64_t payload_bytes;  /* size of the protected-mode part */
	uint64_t pref_address;   /* preferred load address */
	uint32_t kernel_alignment;
	bool relocatable;
	uint32_t init_size;      /* memory needed from the load address */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;   /* longest command line, without the NUL */
	uint16_t xloadflags;
};

/* Text console state to hand over (screen_info), so VGA output continues. */
struct linux_vga_state {
	bool present;
	uint8_t cursor_row, cursor_col;
};

/* A linear framebuffer to hand over instead of VGA text (screen_info as
 * VIDEO_TYPE_EFI), so efifb or simplefb gives Linux its console on a UEFI
 * machine, where there is no text mode. */
struct linux_fb_state {
	uint64_t base;           /* physical; 0: none */
	uint32_t pitch;          /* bytes per line */
	uint32_t width, height;  /* pixels */
	uint8_t bpp;
	uint8_t red_size, red_pos, green_size, green_pos, blue_size, blue_pos;
};

struct linux_boot_params {
	uint64_t load_addr;      /* where the protected-mode part was put */
	uint64_t cmdline_pa;
	uint64_t initrd_pa;
	uint64_t initrd_bytes;
	uint64_t acpi_rsdp_pa;   /* 0 = let Linux search */
	const struct linux_e820_entry *e820;
	uint32_t n_e820;
	struct linux_vga_state vga;
	struct linux_fb_state fb; /* wins over vga when fb.base is set */
};

/*
 * Read the setup header of the bzImage at image (size bytes) into out.
 * Return 0, or -LINUX_BOOT_EINVAL naming nothing (the caller says "not a
 * bzImage"), or -LINUX_BOOT_ENOSYS if the boot protocol is older than
 * LINUX_MIN_PROTOCOL.
 */
int linux_parse(const void *image, uint64_t size, struct linux_image *out);

/*
 * Build the zero page at zp (LINUX_ZERO_PAGE_BYTES, will be cleared) from
 * the image's setup header and the load parameters p. Return 0, or
 * -LINUX_BOOT_E2BIG if the e820 table has more than LINUX_E820_MAX_ENTRIES
 * entries, or -LINUX_BOOT_EINVAL if the setup header runs past the page.
 */
int linux_build_zero_page(void *zp, const void *image,
			  const struct linux_boot_params *p);

#endif
