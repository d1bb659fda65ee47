/*
 * Domain builder of the `keel` toolstack: turns a struct config into a
 * running guest. It reads the kernel (bzImage) and ramdisk, lays them out
 * in the guest's fixed physical memory map (keel_abi.h) by the Linux boot
 * protocol, using the loader it shares with the hypervisor
 * (lib/bootproto/linux_boot.c) for the zero page, and then makes the calls
 * KEEL_HC_DOMAIN_CREATE, _MEMWRITE and _START. Guest disks are added
 * before the start: file: images are uploaded once (KEEL_HC_IMAGE_OPEN,
 * _WRITE, _DONE; shared by name with other guests) and attached with
 * KEEL_HC_DOMAIN_DISK_ADD, as are ram: disks. Anything that fails after
 * the domain exists destroys it again. The placement, e820, command-line,
 * image-name and pre-create checks are pure functions, unit-tested on the
 * host.
 */
#ifndef KEEL_TOOLSTACK_BUILD_H
#define KEEL_TOOLSTACK_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "abi.h"
#include "config.h"
#include <bootproto/linux_boot.h>

#define BUILD_ZERO_PAGE_PA 0x7000ull /* struct boot_params */
#define BUILD_CMDLINE_PA 0x8000ull   /* kernel command line */
#define BUILD_E820_ENTRIES 3u
#define BUILD_MEM_ALIGN_BYTES (2ull << 20) /* guest RAM granularity */
#define BUILD_PAGE_BYTES 4096ull
#define BUILD_DEFAULT_LOAD_PA (16ull << 20) /* if pref_address is unusable */
#define BUILD_MAX_FILE_BYTES (1ull << 30)   /* kernel or ramdisk */
#define BUILD_ERR_BYTES 512u
#define BUILD_IMAGE_BASE_CHARS 40u /* basename part of an image name */
#define BUILD_PROGRESS_MIN_BYTES (16ull << 20) /* bigger uploads report */


/* Where everything goes in the guest's physical memory. */
struct build_layout {
	uint64_t mem_bytes;    /* guest RAM, a multiple of 2 MiB */
	uint64_t kernel_pa;    /* protected-mode part, also the entry point */
	uint64_t kernel_end;   /* kernel_pa + init_size */
	uint64_t initrd_pa;    /* 0 without a ramdisk */
	uint64_t initrd_bytes;
	uint64_t zero_page_pa;
	uint64_t cmdline_pa;
};

/* Memory a new domain takes from the guest pool, by purpose. */
struct build_mem_need {
	uint64_t guest_bytes; /* guest RAM */
	uint64_t disk_bytes;  /* ram: disks */
	uint64_t image_bytes; /* images to upload, each rounded up to 2 MiB */
	uint32_t nr_images;   /* how many images image_bytes counts */
	bool ram_shared;      /* a clone: its RAM is its source's until written */
};

/* Guest RAM in bytes for @memory_mib MiB, rounded up to 2 MiB. */
uint64_t build_mem_bytes(uint32_t memory_mib);

/*
 * Place the kernel described by @img and an initrd of @initrd_bytes in
 * @mem_bytes of guest RAM: kernel at its pref_address (aligned to
 * kernel_alignment), initrd page-aligned at the top of RAM below
 * initrd_addr_max, zero page and command line at their fixed addresses.
 * Returns 0 with @out filled, or -ENOMEM with a message in @err ("memory
 * 64 MiB is too small ...: need at least 96 MiB").
 */
int build_layout(const struct linux_image *img, uint64_t mem_bytes,
		 uint64_t initrd_bytes, struct build_layout *out, char *err,
		 size_t err_len);

/*
 * Fill @out (BUILD_E820_ENTRIES entries) with the guest's e820 map for
 * @mem_bytes of RAM: RAM below KEEL_GUEST_BIOS_START, reserved up to 1 MiB,
 * RAM from 1 MiB to the end. Returns the number of entries.
 */
uint32_t build_e820(uint64_t mem_bytes, struct linux_e820_entry *out);

/*
 * Compose the guest's kernel command line into @buf: "console=ttyS0",
 * "tsc_early_khz=<tsc_khz> tsc=reliable" (if known), "pci=noearly",
 * "hostname=<name>", then
 * "root=<root>", cmdline and extra from @cfg when set.
 * Returns the length, or -ENOSPC if @len is too small.
 */
int build_cmdline(const struct config *cfg, uint64_t tsc_khz, char *buf,
		  size_t len);

/*
 * Name of the shared image for the file @path: its basename (characters
 * other than [A-Za-z0-9._+-] and a leading '.' become '_', at most
 * BUILD_IMAGE_BASE_CHARS kept), '-', and 16 hex digits of the 64-bit
 * FNV-1a hash of "<@real>|<@size>|<@mtime_sec>.<@mtime_nsec as 9
 * digits>", where @real is the file's real path. Same file, same name;
 * changed file, new name. Writes it to @buf (@len bytes, at least
 * KEEL_IMAGE_NAME_BYTES). Returns 0 or -ENOSPC.
 */
int build_image_name(const char *path, const char *real, uint64_t size,
		     int64_t mtime_sec, uint32_t mtime_nsec, char *buf,
		     size_t len);

/*
 * The image name (build_image_name) of each file: disk of @cfg, by slot,
 * into @names (KEEL_DOMAIN_MAX_DISKS names of KEEL_IMAGE_NAME_BYTES; ""
 * for a RAM disk or none): what tells two copies of a file apart, e.g.
 * the same image on two machines booted from one CD. Returns 0, or an
 * error with the reason in @err (a file missing or unfit).
 */
int build_image_names(const struct config *cfg,
		      char names[KEEL_DOMAIN_MAX_DISKS][KEEL_IMAGE_NAME_BYTES],
		      char *err, size_t err_len);

/*
 * Write the "not enough free memory" message for @need against
 * @free_bytes to @err: "not enough free memory: need N MiB, M MiB free",
 * with "(guest G + disks D + image I)" after N when disks or images are
 * counted. Returns -ENOMEM.
 */
int build_mem_message(const struct build_mem_need *need, uint64_t free_bytes,
		      char *err, size_t err_len);

/*
 * Checks made before KEEL_HC_DOMAIN_CREATE against the hypervisor's state:
 * @info (KEEL_HC_INFO) and the @n domains in @doms. Fails with a message
 * in @err if the name is taken, more vCPUs are asked for than the pool or
 * the ABI allows, or there is not enough free memory for @need. Images
 * count only when no guest domain exists (then none can be loaded yet);
 * otherwise they may be shared already and KEEL_HC_IMAGE_OPEN decides.
 * Returns 0, -EEXIST, -ENOMEM or -EINVAL.
 */
int build_precheck(const struct config *cfg, const struct build_mem_need *need,
		   const struct keel_info *info,
		   const struct keel_dominfo *doms, uint32_t n, char *err,
		   size_t err_len);

/*
 * Build and start the domain described by @cfg (config_check()ed): read
 * the kernel and ramdisk, check the disk images, check, create, add the
 * disks (uploading images the hypervisor lacks, with progress on stderr
 * for those over BUILD_PROGRESS_MIN_BYTES), load and start it. @domid
 * receives the new domain's id. Nothing remains of the domain on failure
 * (an image whose upload failed stays incomplete in the hypervisor until
 * it is opened again; see keel_abi.h).
 * Returns 0, or a negative errno / -KEEL_E* value with a message in @err.
 */
int build_domain(const struct config *cfg, uint32_t *domid, char *err,
		 size_t err_len);

int build_vif_mac(const char *name, uint32_t index, const char *item,
		  uint8_t mac[6], char *err, size_t err_len);

/* What fills a new domain's RAM and state and starts it instead of
 * booting its kernel (`keel restore`): @load gets the domain's id and
 * @ctx, returns 0 or a negative error with a message in @err. */
struct build_loader {
	int (*load)(uint32_t domid, void *ctx, char *err, size_t err_len);
	void *ctx;
	bool clone;         /* make it with KEEL_HC_DOMAIN_CLONE of clone_src */
	uint32_t clone_src; /* (`keel clone`): its RAM is shared, not new */
};

/*
 * build_domain with the kernel boot replaced by @ld (NULL: boot the
 * kernel): the same checks, create, disks, NICs and scheduling, then
 * @ld->load; anything that fails destroys the domain again.
 */
int build_domain_loaded(const struct config *cfg, const struct build_loader *ld,
			uint32_t *domid, char *err, size_t err_len);

/* Copy @len bytes at @data to guest-physical @gpa of @domid, which has
 * not started (KEEL_HC_DOMAIN_MEMWRITE in chunks). 0 or -errno. */
int build_memwrite_to(uint32_t domid, uint64_t gpa, const void *data, uint64_t len);

/* Report the progress of a long step on @base (@done of @total bytes) to
 * @f: on a terminal "\r<verb> <base>: N%" when N changes (a newline at
 * the end), otherwise one "<verb> <base> (N MiB)" line at the start.
 * Steps up to BUILD_PROGRESS_MIN_BYTES are silent. @last keeps the last
 * percentage shown (start with -1). */
void build_progress(FILE *f, bool tty, const char *verb, const char *base, uint64_t done,
		    uint64_t total, int *last);

#endif /* KEEL_TOOLSTACK_BUILD_H */
